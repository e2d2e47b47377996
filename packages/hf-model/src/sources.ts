/**
 * Where checkpoint files come from: a local folder (Node), a URL or Hugging Face repo id
 * (browser and Node, through `fetch`, with progress and a cache), or files the caller already
 * holds (`ArrayBuffer`, `Uint8Array`, `Blob`/`File`).
 */
import { ModelSourceError } from './errors.js';

/** Progress of the weight download / read: bytes done and total across every file. */
export interface LoadProgress {
  file: string;
  loaded: number;
  /** null while some file's size is unknown (no content-length) */
  total: number | null;
}

/** A key/value store for downloaded files (keyed by URL). */
export interface FileCache {
  get(key: string): Promise<Uint8Array | null>;
  put(key: string, data: Uint8Array): Promise<void>;
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
  /** several (large) files, with progress over all of them */
  binaries(names: readonly string[]): Promise<Uint8Array[]>;
}

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
    const out: Uint8Array[] = [];
    const sizes = names.map((n) => {
      const f = this.files[n];
      if (f === undefined) throw new ModelSourceError(n, 'not among the files given');
      return typeof f === 'string' ? f.length : f instanceof Blob ? f.size : f.byteLength;
    });
    const total = sizes.reduce((a, b) => a + b, 0);
    let loaded = 0;
    for (const [x, n] of names.entries()) {
      out.push(await toBytes(this.files[n]));
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
    const { join } = await import('node:path');
    return join(this.dir, name);
  }
  async text(name: string) {
    const fs = await import('node:fs/promises');
    try {
      return await fs.readFile(await this.path(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new ModelSourceError(name, (e as Error).message);
    }
  }
  async binaries(names: readonly string[]) {
    const fs = await import('node:fs/promises');
    const paths = await Promise.all(names.map((n) => this.path(n)));
    const sizes: number[] = [];
    for (const [x, p] of paths.entries()) {
      try {
        sizes.push((await fs.stat(p)).size);
      } catch (e) {
        throw new ModelSourceError(names[x], `cannot read ${p} (${(e as Error).message})`);
      }
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    let loaded = 0;
    const out: Uint8Array[] = [];
    for (const [x, p] of paths.entries()) {
      this.opts.signal?.throwIfAborted();
      out.push(new Uint8Array(await fs.readFile(p)));
      loaded += sizes[x];
      this.opts.onProgress?.({ file: names[x], loaded, total });
    }
    return out;
  }
}

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
    const { join } = await import('node:path');
    const base =
      key
        .split('/')
        .pop()
        ?.replace(/[^\w.-]/g, '_') ?? 'file';
    return join(dir, `${hashKey(key)}-${base}`);
  };
  return {
    async get(key) {
      const fs = await import('node:fs/promises');
      try {
        return new Uint8Array(await fs.readFile(await file(key)));
      } catch {
        return null;
      }
    },
    async put(key, data) {
      const fs = await import('node:fs/promises');
      await fs.mkdir(dir, { recursive: true });
      const f = await file(key);
      const tmp = `${f}.${process.pid}.tmp`;
      await fs.writeFile(tmp, data);
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
    async put(key, data) {
      await (await open()).put(key, new Response(data as Uint8Array<ArrayBuffer>));
    },
  };
}

async function resolveCache(c: SourceOptions['cache']): Promise<FileCache | null> {
  if (c === false) return null;
  if (typeof c === 'object' && c !== null) return c;
  if (typeof c === 'string') return folderCache(c);
  if (isNode()) {
    const { join } = await import('node:path');
    const { homedir } = await import('node:os');
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
    if (hit) return new TextDecoder().decode(hit);
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
    await cache?.put(url, bytes);
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
    const out: Uint8Array[] = [];
    for (const [x, n] of names.entries()) {
      if (cached[x]) {
        loaded += cached[x]!.byteLength;
        report(n);
        out.push(cached[x]!);
        continue;
      }
      const r = responses[x]!;
      const expected = sizes[x];
      let bytes: Uint8Array;
      if (r.body) {
        const chunks: Uint8Array[] = [];
        let got = 0;
        const reader = r.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          got += value.byteLength;
          loaded += value.byteLength;
          report(n);
        }
        if (chunks.length === 1) bytes = chunks[0];
        else {
          bytes = new Uint8Array(got);
          let o = 0;
          for (const c of chunks) {
            bytes.set(c, o);
            o += c.byteLength;
          }
        }
      } else {
        bytes = new Uint8Array(await r.arrayBuffer());
        loaded += bytes.byteLength;
        report(n);
      }
      if (expected !== null && bytes.byteLength !== expected) {
        throw new ModelSourceError(n, `download truncated: ${bytes.byteLength} of ${expected} bytes`);
      }
      await cache?.put(this.url(n), bytes);
      out.push(bytes);
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
    const fs = await import('node:fs/promises');
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
