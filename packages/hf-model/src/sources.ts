/**
 * Where checkpoint files come from: a local folder (Node), a URL or Hugging Face repo id
 * (browser and Node, through `fetch`, with progress and a cache), or files the caller already
 * holds (`ArrayBuffer`, `Uint8Array`, `Blob`/`File`).
 */
import { ModelSourceError } from './errors.js';
import { type ByteSource, chunkedSource, memorySource } from './safetensors.js';

/** Progress of the weight download / read: bytes done and total across every file. */
export interface LoadProgress {
  file: string;
  loaded: number;
  /** null while some file's size is unknown (no content-length) */
  total: number | null;
}

/** A key/value store for downloaded files (keyed by URL). */
export interface FileCache {
  get(key: string): Promise<Uint8Array | ByteSource | null>;
  /** stores a file given as its chunks (in order) */
  put(key: string, chunks: readonly Uint8Array[]): Promise<void>;
}

/** Files handed over directly, by file name (`config.json`, `model.safetensors`, ...). */
export interface InMemoryFiles {
  /** file contents; text files may be given as strings */
  files: Record<string, ArrayBuffer | Uint8Array | Blob | string>;
}

/** A folder path (Node), an http(s) URL of a folder, a Hugging Face repo id, or in-memory files. */
export type ModelSource = string | URL | InMemoryFiles;

export interface SourceOptions {
  /** injected fetch (default `globalThis.fetch`) */
  fetch?: typeof fetch;
  /** Hugging Face revision (default `main`) */
  revision?: string;
  /** Hub endpoint (default `https://huggingface.co`) */
  hubUrl?: string;
  /**
   * Cache of downloaded files: `true` (default) = the Cache API in browsers, a folder in Node
   * (`$XDG_CACHE_HOME/mlstm-hf-model` or `~/.cache/mlstm-hf-model`); a string = that folder;
   * a {@link FileCache}; `false` = none.
   */
  cache?: boolean | string | FileCache;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
}

/** Reads named files of one model. */
export interface FileReader {
  readonly description: string;
  /** the text of a small file, or null if it does not exist */
  text(name: string): Promise<string | null>;
  /** several (large) files, with progress over all of them (read lazily where the source allows) */
  binaries(names: readonly string[]): Promise<ByteSource[]>;
}

// Node built-ins are imported by a computed name, so browser bundlers leave them alone (they are
// only reached on the Node paths: folders, the cache folder).
const nodeImport = <T>(name: string): Promise<T> => import(/* @vite-ignore */ name) as Promise<T>;
const nodePath = () => nodeImport<typeof import('node:path')>('node:path');
const nodeFs = () => nodeImport<typeof import('node:fs')>('node:fs');
const nodeFsPromises = () => nodeImport<typeof import('node:fs/promises')>('node:fs/promises');
const nodeOs = () => nodeImport<typeof import('node:os')>('node:os');

const isNode = () => typeof process !== 'undefined' && !!process.versions?.node;

async function toBytes(x: ArrayBuffer | Uint8Array | Blob | string): Promise<Uint8Array> {
  if (typeof x === 'string') return new TextEncoder().encode(x);
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  return new Uint8Array(await x.arrayBuffer());
}

class MemoryReader implements FileReader {
  readonly description = 'in-memory files';
  constructor(
    private readonly files: InMemoryFiles['files'],
    private readonly opts: SourceOptions,
  ) {}
  async text(name: string) {
    const f = this.files[name];
    return f === undefined ? null : new TextDecoder().decode(await toBytes(f));
  }
  async binaries(names: readonly string[]) {
    const out: ByteSource[] = [];
    const sizes = names.map((n) => {
      const f = this.files[n];
      if (f === undefined) throw new ModelSourceError(n, 'not among the files given');
      return typeof f === 'string' ? f.length : f instanceof Blob ? f.size : f.byteLength;
    });
    const total = sizes.reduce((a, b) => a + b, 0);
    let loaded = 0;
    for (const [x, n] of names.entries()) {
      out.push(memorySource(await toBytes(this.files[n])));
      loaded += sizes[x];
      this.opts.onProgress?.({ file: n, loaded, total });
    }
    return out;
  }
}

class FolderReader implements FileReader {
  readonly description: string;
  constructor(
    private readonly dir: string,
    private readonly opts: SourceOptions,
  ) {
    this.description = `folder ${dir}`;
  }
  private async path(name: string) {
    const { join } = await nodePath();
    return join(this.dir, name);
  }
  async text(name: string) {
    const fs = await nodeFsPromises();
    try {
      return await fs.readFile(await this.path(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new ModelSourceError(name, (e as Error).message);
    }
  }
  async binaries(names: readonly string[]) {
    const paths = await Promise.all(names.map((n) => this.path(n)));
    const out: ByteSource[] = [];
    try {
      for (const [x, p] of paths.entries()) out.push(await fileSource(p, names[x]));
    } catch (e) {
      for (const s of out) s.close?.();
      throw e;
    }
    // the bytes are read on demand while the weights are decoded / uploaded: progress counts the
    // bytes read; closing a file counts what was never read (headers, unused tensors), so the last
    // event says loaded = total
    const total = out.reduce((a, s) => a + s.byteLength, 0);
    let loaded = 0;
    const onProgress = this.opts.onProgress;
    if (!onProgress) return out;
    onProgress({ file: names[0], loaded, total });
    return out.map((src, x): ByteSource => {
      let counted = 0;
      const add = (n: number) => {
        counted += n;
        loaded += n;
        onProgress({ file: names[x], loaded, total });
      };
      return {
        byteLength: src.byteLength,
        read(offset, length) {
          const r = src.read(offset, length);
          if (counted + length <= src.byteLength) add(length);
          return r;
        },
        close() {
          src.close?.();
          if (counted < src.byteLength) add(src.byteLength - counted);
        },
      };
    });
  }
}

/**
 * A file on disk read on demand with positioned reads (Node): no whole-file buffer, so shards of
 * any size load (fs.readFile stops at 2 GiB) and only one tensor is in memory at a time.
 */
export async function fileSource(path: string, name = path): Promise<ByteSource> {
  const fs = await nodeFs();
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new ModelSourceError(name, `cannot read ${path} (${(e as Error).message})`);
  }
  const size = fs.fstatSync(fd).size;
  let open = true;
  return {
    byteLength: size,
    read(offset, length) {
      if (!open) throw new ModelSourceError(name, 'read after the file was closed');
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, out, done, length - done, offset + done);
        if (n <= 0) throw new ModelSourceError(name, `unexpected end of file at byte ${offset + done}`);
        done += n;
      }
      return out;
    },
    close() {
      if (open) {
        open = false;
        fs.closeSync(fd);
      }
    },
  };
}

const bytesOf = (x: Uint8Array | ByteSource) => (x instanceof Uint8Array ? x : x.read(0, x.byteLength));

function hashKey(s: string): string {
  // FNV-1a, two 32-bit lanes (collision-safe enough for cache file names)
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let x = 0; x < s.length; x++) {
    const c = s.charCodeAt(x);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** A cache folder (Node): one file per URL, written atomically. */
export function folderCache(dir: string): FileCache {
  const file = async (key: string) => {
    const { join } = await nodePath();
    const base =
      key
        .split('/')
        .pop()
        ?.replace(/[^\w.-]/g, '_') ?? 'file';
    return join(dir, `${hashKey(key)}-${base}`);
  };
  return {
    async get(key) {
      const fs = await nodeFsPromises();
      const f = await file(key);
      if (!(await fs.stat(f).catch(() => null))) return null;
      return fileSource(f, key);
    },
    async put(key, chunks) {
      const fs = await nodeFsPromises();
      await fs.mkdir(dir, { recursive: true });
      const f = await file(key);
      const tmp = `${f}.${process.pid}.tmp`;
      const h = await fs.open(tmp, 'w');
      try {
        for (const c of chunks) await h.write(c);
      } finally {
        await h.close();
      }
      await fs.rename(tmp, f);
    },
  };
}

/** The browser Cache API (`caches.open(name)`). */
export function cacheApiCache(name = 'mlstm-hf-model'): FileCache {
  const open = () => (globalThis as unknown as { caches: CacheStorage }).caches.open(name);
  return {
    async get(key) {
      const r = await (await open()).match(key);
      return r ? new Uint8Array(await r.arrayBuffer()) : null;
    },
    async put(key, chunks) {
      await (await open()).put(key, new Response(new Blob(chunks as Uint8Array<ArrayBuffer>[])));
    },
  };
}

async function resolveCache(c: SourceOptions['cache']): Promise<FileCache | null> {
  if (c === false) return null;
  if (typeof c === 'object' && c !== null) return c;
  if (typeof c === 'string') return folderCache(c);
  if (isNode()) {
    const { join } = await nodePath();
    const { homedir } = await nodeOs();
    const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    return folderCache(join(base, 'mlstm-hf-model'));
  }
  if ('caches' in globalThis) return cacheApiCache();
  return null;
}

class UrlReader implements FileReader {
  readonly description: string;
  private cachePromise: Promise<FileCache | null>;
  constructor(
    private readonly base: string,
    private readonly opts: SourceOptions,
  ) {
    this.description = base;
    this.cachePromise = resolveCache(opts.cache);
  }
  private url(name: string) {
    return this.base.endsWith('/') ? this.base + name : `${this.base}/${name}`;
  }
  private fetch(url: string) {
    const f = this.opts.fetch ?? globalThis.fetch;
    if (!f) throw new ModelSourceError(url, 'no fetch() available: pass options.fetch');
    return f(url, { signal: this.opts.signal });
  }
  async text(name: string) {
    const url = this.url(name);
    const cache = await this.cachePromise;
    const hit = await cache?.get(url);
    if (hit) {
      const text = new TextDecoder().decode(bytesOf(hit));
      if (!(hit instanceof Uint8Array)) hit.close?.();
      return text;
    }
    let r: Response;
    try {
      r = await this.fetch(url);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new ModelSourceError(name, `fetch ${url} failed (${(e as Error).message})`);
    }
    if (r.status === 404) return null;
    if (!r.ok) throw new ModelSourceError(name, `GET ${url}: HTTP ${r.status}`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    await cache?.put(url, [bytes]);
    return new TextDecoder().decode(bytes);
  }
  async binaries(names: readonly string[]) {
    const cache = await this.cachePromise;
    const cached = await Promise.all(names.map((n) => cache?.get(this.url(n)) ?? null));
    // open every missing file first: their content-lengths give the total before any body is read
    const responses = await Promise.all(
      names.map(async (n, x) => {
        if (cached[x]) return null;
        const url = this.url(n);
        let r: Response;
        try {
          r = await this.fetch(url);
        } catch (e) {
          if ((e as Error).name === 'AbortError') throw e;
          throw new ModelSourceError(n, `fetch ${url} failed (${(e as Error).message})`);
        }
        if (!r.ok) throw new ModelSourceError(n, `GET ${url}: HTTP ${r.status}`);
        return r;
      }),
    );
    const sizes = names.map((_, x) => {
      if (cached[x]) return cached[x]!.byteLength;
      const len = responses[x]!.headers.get('content-length');
      return len === null ? null : Number(len);
    });
    const total = sizes.every((s) => s !== null) ? (sizes as number[]).reduce((a, b) => a + b, 0) : null;
    let loaded = 0;
    const report = (file: string) => this.opts.onProgress?.({ file, loaded, total });
    const out: ByteSource[] = [];
    for (const [x, n] of names.entries()) {
      const hit = cached[x];
      if (hit) {
        loaded += hit.byteLength;
        report(n);
        out.push(hit instanceof Uint8Array ? memorySource(hit) : hit);
        continue;
      }
      const r = responses[x]!;
      const expected = sizes[x];
      const chunks: Uint8Array[] = [];
      let got = 0;
      if (r.body) {
        const reader = r.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          got += value.byteLength;
          loaded += value.byteLength;
          report(n);
        }
      } else {
        const bytes = new Uint8Array(await r.arrayBuffer());
        chunks.push(bytes);
        got = bytes.byteLength;
        loaded += got;
        report(n);
      }
      if (expected !== null && got !== expected) {
        throw new ModelSourceError(n, `download truncated: ${got} of ${expected} bytes`);
      }
      await cache?.put(this.url(n), chunks);
      // the chunks stay as they are (no concatenation into one multi-GB buffer)
      out.push(chunkedSource(chunks));
    }
    return out;
  }
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** Picks the reader for a source: in-memory files, URL, existing local folder, or HF repo id. */
export async function openSource(source: ModelSource, opts: SourceOptions = {}): Promise<FileReader> {
  if (typeof source === 'object' && !(source instanceof URL)) {
    if (!source || typeof source.files !== 'object') {
      throw new ModelSourceError('(source)', 'expected { files: { name: ArrayBuffer | Uint8Array | Blob } }');
    }
    return new MemoryReader(source.files, opts);
  }
  const s = String(source);
  if (/^https?:\/\//.test(s)) return new UrlReader(s, opts);
  if (isNode()) {
    const fs = await nodeFsPromises();
    const st = await fs.stat(s).catch(() => null);
    if (st?.isDirectory()) return new FolderReader(s, opts);
    if (st) throw new ModelSourceError(s, 'is not a folder (give the folder that holds config.json)');
  }
  if (REPO_ID.test(s)) {
    const hub = (opts.hubUrl ?? 'https://huggingface.co').replace(/\/$/, '');
    const rev = encodeURIComponent(opts.revision ?? 'main');
    return new UrlReader(`${hub}/${s}/resolve/${rev}`, opts);
  }
  throw new ModelSourceError(
    s,
    'no such folder, and not an http(s) URL or a Hugging Face repo id (owner/name)',
  );
}
