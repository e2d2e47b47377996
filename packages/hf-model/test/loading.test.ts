/**
 * Loading: sources (folder, in-memory buffers, URL / Hugging Face repo id over a local HTTP
 * server, injected fetch), progress, the download cache, shards, weight-layout variants (fused,
 * biases, embedding name, [NH, dv] multi-head norm, f16/bf16 storage) and the typed errors.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CheckpointFormatError,
  cacheApiCache,
  checkGpuLimits,
  chunkedSource,
  countParameters,
  estimateMemory,
  fileSource,
  type LoadProgress,
  MissingTensorError,
  ModelSourceError,
  ModelTooLargeError,
  parseSafetensorsFile,
  parseXlstmConfig,
  TensorShapeError,
  writeSafetensorsF32,
  XlstmConfigError,
  XlstmForCausalLM,
} from '../src/index.js';
import {
  biasNames,
  checkpointTensors,
  configJson,
  idsOf,
  loadFixture,
  maxAbsDiff,
  modelDir,
} from './helpers.js';

const fx = loadFixture('single');
const ids37 = idsOf(fx.tensors['input_ids.len37']);
const ref37 = fx.tensors['logits.len37'].data;
const TOL = 1e-4;

type Tensors = Awaited<ReturnType<typeof checkpointTensors>>;

async function load(cfg: Record<string, unknown>, tensors: Tensors | Uint8Array) {
  const st = tensors instanceof Uint8Array ? tensors : writeSafetensorsF32(tensors);
  return XlstmForCausalLM.fromPretrained(
    { files: { 'config.json': JSON.stringify(cfg), 'model.safetensors': st } },
    { device: 'cpu' },
  );
}

async function logits37(m: XlstmForCausalLM) {
  return (await m.forward(ids37)).logits;
}

describe('sources', () => {
  test('local folder: config, weights, tokenizer, generation config; progress while tensors are read', async () => {
    const events: LoadProgress[] = [];
    const m = await XlstmForCausalLM.fromPretrained(modelDir('single'), {
      device: 'cpu',
      onProgress: (p) => events.push(p),
    });
    const size = readFileSync(join(modelDir('single'), 'model.safetensors')).byteLength;
    expect(events.length).toBeGreaterThan(10); // one per tensor read
    for (let x = 1; x < events.length; x++)
      expect(events[x].loaded).toBeGreaterThanOrEqual(events[x - 1].loaded);
    expect(events.at(-1)).toEqual({ file: 'model.safetensors', loaded: size, total: size });
    expect(m.config.dims.H).toBe(128);
    expect(m.tokenizer).not.toBeNull();
    expect(m.eosTokenIds).toEqual([2]);
    expect(maxAbsDiff(await logits37(m), ref37)).toBeLessThan(TOL);
  });

  test('in-memory ArrayBuffers / Blobs, with progress', async () => {
    const dir = modelDir('single');
    const st = readFileSync(join(dir, 'model.safetensors'));
    const ab = st.buffer.slice(st.byteOffset, st.byteOffset + st.byteLength) as ArrayBuffer;
    const events: LoadProgress[] = [];
    const m = await XlstmForCausalLM.fromPretrained(
      {
        files: {
          'config.json': new Blob([readFileSync(join(dir, 'config.json'))]),
          'model.safetensors': ab,
          'tokenizer.json': readFileSync(join(dir, 'tokenizer.json'), 'utf8'),
        },
      },
      { device: 'cpu', onProgress: (p) => events.push(p) },
    );
    expect(m.tokenizer).not.toBeNull();
    expect(events.at(-1)).toEqual({ file: 'model.safetensors', loaded: st.byteLength, total: st.byteLength });
    expect(maxAbsDiff(await logits37(m), ref37)).toBeLessThan(TOL);
  });

  test('an aborted signal stops loading', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(
      XlstmForCausalLM.fromPretrained(modelDir('single'), { device: 'cpu', signal: ac.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    // aborted during the weight download (progress callback): the fetch body read fails
    const bytes = readFileSync(join(modelDir('single'), 'model.safetensors'));
    const ac2 = new AbortController();
    const fakeFetch: typeof fetch = async (url, init) => {
      const name = String(url).split('/').pop()!;
      if (name === 'config.json') return new Response(JSON.stringify(configJson('single')));
      if (name !== 'model.safetensors') return new Response('', { status: 404 });
      const signal = init?.signal;
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(ctrl) {
          if (signal?.aborted) return ctrl.error(signal.reason);
          const n = Math.min(65536, bytes.byteLength - sent);
          if (n <= 0) return ctrl.close();
          ctrl.enqueue(new Uint8Array(bytes.subarray(sent, sent + n)));
          sent += n;
        },
      });
      return new Response(body, { headers: { 'content-length': String(bytes.byteLength) } });
    };
    await expect(
      XlstmForCausalLM.fromPretrained('https://example.invalid/m', {
        device: 'cpu',
        cache: false,
        fetch: fakeFetch,
        signal: ac2.signal,
        onProgress: (p) => {
          if (p.loaded > 100_000) ac2.abort();
        },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  test('browser Cache API cache (with an in-memory CacheStorage)', async () => {
    const store = new Map<string, Response>();
    const fakeCaches = {
      open: async () => ({
        match: async (k: string) => store.get(k)?.clone(),
        put: async (k: string, r: Response) => {
          store.set(k, new Response(await r.arrayBuffer()));
        },
      }),
    };
    (globalThis as { caches?: unknown }).caches = fakeCaches;
    try {
      const dir = modelDir('single');
      let fetches = 0;
      const serve: typeof fetch = async (url) => {
        fetches++;
        try {
          return new Response(readFileSync(join(dir, String(url).split('/').pop()!)));
        } catch {
          return new Response('', { status: 404 });
        }
      };
      const opts = { device: 'cpu' as const, cache: cacheApiCache('test'), fetch: serve };
      const m = await XlstmForCausalLM.fromPretrained('https://example.invalid/tiny', opts);
      expect([...store.keys()]).toContain('https://example.invalid/tiny/model.safetensors');
      const first = fetches;
      const m2 = await XlstmForCausalLM.fromPretrained('https://example.invalid/tiny', opts);
      // only files that were missing (404, not cached) are fetched again
      expect(fetches - first).toBeLessThan(first);
      expect(maxAbsDiff(await logits37(m2), await logits37(m))).toBe(0);
    } finally {
      delete (globalThis as { caches?: unknown }).caches;
    }
  });

  test('loadConfig reads only config.json (memory estimate before loading)', async () => {
    const seen: string[] = [];
    const cfg = await XlstmForCausalLM.loadConfig('https://example.invalid/m', {
      cache: false,
      fetch: async (url) => {
        seen.push(String(url));
        return new Response(JSON.stringify(configJson('single')));
      },
    });
    expect(seen).toEqual(['https://example.invalid/m/config.json']);
    const m = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device: 'cpu' });
    expect(estimateMemory(cfg).parameters).toBe(countParameters(m.weights!));
  });

  test('a missing folder / file is a ModelSourceError', async () => {
    await expect(
      XlstmForCausalLM.fromPretrained('/nonexistent/xlstm-folder', { device: 'cpu' }),
    ).rejects.toThrow(ModelSourceError);
    await expect(
      XlstmForCausalLM.fromPretrained(
        { files: { 'config.json': JSON.stringify(configJson('single')) } },
        { device: 'cpu' },
      ),
    ).rejects.toThrow(/model\.safetensors/);
  });

  describe('URL and Hugging Face repo id over HTTP (local server)', () => {
    let server: Server;
    let base: string;
    const requests: string[] = [];
    let cacheDir: string;
    beforeAll(async () => {
      cacheDir = mkdtempSync(join(tmpdir(), 'hf-model-cache-'));
      const dir = modelDir('single');
      server = createServer((req, res) => {
        requests.push(req.url ?? '');
        // serves /<anything>/<file> and /owner/name/resolve/main/<file> from the fixture folder
        const file = (req.url ?? '').split('/').pop() ?? '';
        let body: Buffer;
        try {
          body = readFileSync(join(dir, file));
        } catch {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
        res.setHeader('content-length', String(body.byteLength));
        res.end(body);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const addr = server.address() as { port: number };
      base = `http://127.0.0.1:${addr.port}`;
    });
    afterAll(() => {
      server.close();
      rmSync(cacheDir, { recursive: true, force: true });
    });

    test('URL of a folder: progress over the weight files, cache folder, second load from the cache', async () => {
      const events: LoadProgress[] = [];
      const size = readFileSync(join(modelDir('single'), 'model.safetensors')).byteLength;
      const m = await XlstmForCausalLM.fromPretrained(`${base}/models/tiny`, {
        device: 'cpu',
        cache: cacheDir,
        onProgress: (p) => events.push(p),
      });
      expect(maxAbsDiff(await logits37(m), ref37)).toBeLessThan(TOL);
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.total === size)).toBe(true);
      for (let x = 1; x < events.length; x++)
        expect(events[x].loaded).toBeGreaterThanOrEqual(events[x - 1].loaded);
      expect(events.at(-1)!.loaded).toBe(size);
      expect(requests.some((r) => r.endsWith('/models/tiny/model.safetensors'))).toBe(true);
      expect(readdirSync(cacheDir).some((f) => f.endsWith('model.safetensors'))).toBe(true);

      // again: nothing but misses (404s) go to the server
      const before = requests.length;
      const m2 = await XlstmForCausalLM.fromPretrained(`${base}/models/tiny`, {
        device: 'cpu',
        cache: cacheDir,
      });
      const again = requests.slice(before);
      expect(again.filter((r) => r.endsWith('.safetensors') || r.endsWith('config.json'))).toEqual([]);
      expect(maxAbsDiff(await logits37(m2), ref37)).toBeLessThan(TOL);
    });

    test('Hugging Face repo id with an injected fetch and hub URL', async () => {
      const seen: string[] = [];
      const m = await XlstmForCausalLM.fromPretrained('NX-AI/xLSTM-tiny-test', {
        device: 'cpu',
        cache: false,
        hubUrl: base,
        revision: 'main',
        fetch: (url, init) => {
          seen.push(String(url));
          return fetch(url, init);
        },
      });
      expect(seen).toContain(`${base}/NX-AI/xLSTM-tiny-test/resolve/main/model.safetensors`);
      expect(m.tokenizer).not.toBeNull();
      expect(maxAbsDiff(await logits37(m), ref37)).toBeLessThan(TOL);
    });

    test('HTTP errors name the file', async () => {
      const fail: typeof fetch = async () => new Response('boom', { status: 500 });
      await expect(
        XlstmForCausalLM.fromPretrained(`${base}/x`, { device: 'cpu', cache: false, fetch: fail }),
      ).rejects.toThrow(/config\.json: GET .* HTTP 500/);
    });
  });
});

describe('byte sources', () => {
  test('a checkpoint split into odd-sized chunks (downloads) parses and loads the same', async () => {
    const bytes = new Uint8Array(readFileSync(join(modelDir('single'), 'model.safetensors')));
    const chunks: Uint8Array[] = [];
    const sizes = [3, 5, 1000, 7, 65536, 12345];
    for (let off = 0, x = 0; off < bytes.byteLength; x++) {
      const n = Math.min(sizes[x % sizes.length], bytes.byteLength - off);
      chunks.push(bytes.subarray(off, off + n));
      off += n;
    }
    const src = chunkedSource(chunks);
    expect(src.byteLength).toBe(bytes.byteLength);
    expect(src.read(1, 20)).toEqual(bytes.subarray(1, 21));
    expect(src.read(1008, 70000)).toEqual(bytes.subarray(1008, 71008));
    const store = parseSafetensorsFile(src);
    const m = await XlstmForCausalLM.fromStore(configJson('single'), store, { device: 'cpu' });
    expect(maxAbsDiff(await logits37(m), ref37)).toBeLessThan(TOL);
  });

  test('fileSource reads ranges of a file on disk', async () => {
    const path = join(modelDir('single'), 'model.safetensors');
    const bytes = new Uint8Array(readFileSync(path));
    const src = await fileSource(path);
    expect(src.byteLength).toBe(bytes.byteLength);
    expect(src.read(100, 5000)).toEqual(bytes.subarray(100, 5100));
    src.close!();
    expect(() => src.read(0, 1)).toThrow(ModelSourceError);
  });
});

describe('weight layouts', () => {
  test('sharded checkpoint with model.safetensors.index.json', async () => {
    const t = await checkpointTensors('single');
    const names = Object.keys(t);
    const half = Math.floor(names.length / 2);
    const shard = (ns: string[]) => writeSafetensorsF32(Object.fromEntries(ns.map((n) => [n, t[n]])));
    const weightMap = Object.fromEntries(
      names.map((n, x) => [
        n,
        x < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors',
      ]),
    );
    const events: LoadProgress[] = [];
    const m = await XlstmForCausalLM.fromPretrained(
      {
        files: {
          'config.json': JSON.stringify(configJson('single')),
          'model.safetensors.index.json': JSON.stringify({ metadata: {}, weight_map: weightMap }),
          'model-00001-of-00002.safetensors': shard(names.slice(0, half)),
          'model-00002-of-00002.safetensors': shard(names.slice(half)),
        },
      },
      { device: 'cpu', onProgress: (p) => events.push(p) },
    );
    expect(events.map((e) => e.file)).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    expect(events[1].loaded).toBe(events[1].total);
    expect(maxAbsDiff(await logits37(m), ref37)).toBeLessThan(TOL);
  });

  test('fused checkpoint loads to the same logits as single', async () => {
    const m = await XlstmForCausalLM.fromPretrained(modelDir('fused'), { device: 'cpu' });
    expect(maxAbsDiff(await logits37(m), ref37)).toBeLessThan(TOL);
  });

  test('use_bias = true: zero biases reproduce the bias-free logits; biases change them', async () => {
    const t = await checkpointTensors('single');
    const cfg = { ...configJson('single'), use_bias: true };
    const dims = parseXlstmConfig(cfg).dims;
    for (const [n, len] of biasNames(2, dims)) t[n] = { shape: [len], data: new Float32Array(len) };
    expect(maxAbsDiff(await logits37(await load(cfg, t)), ref37)).toBeLessThan(TOL);
    t['backbone.blocks.1.ffn.proj_down.bias'].data.fill(0.5);
    expect(maxAbsDiff(await logits37(await load(cfg, t)), ref37)).toBeGreaterThan(1e-3);
  });

  test('NX-AI names: embedding.weight, [NH, dv] multi-head norm weight, query/key/value', async () => {
    const t = await checkpointTensors('single');
    t['embedding.weight'] = t['backbone.embeddings.weight'];
    delete t['backbone.embeddings.weight'];
    for (const i of [0, 1]) {
      const mh = t[`backbone.blocks.${i}.mlstm_layer.multihead_norm.weight`];
      mh.shape = [2, 64];
      for (const [a, b] of [
        ['q', 'query'],
        ['k', 'key'],
        ['v', 'value'],
      ]) {
        t[`backbone.blocks.${i}.mlstm_layer.${b}.weight`] = t[`backbone.blocks.${i}.mlstm_layer.${a}.weight`];
        delete t[`backbone.blocks.${i}.mlstm_layer.${a}.weight`];
      }
    }
    expect(maxAbsDiff(await logits37(await load(configJson('single'), t)), ref37)).toBeLessThan(TOL);
  });

  test('tied embeddings: lm_head may be absent', async () => {
    const t = await checkpointTensors('single');
    delete t['lm_head.weight'];
    const cfg = { ...configJson('single'), tie_word_embeddings: true };
    const m = await load(cfg, t);
    expect(m.weights!.lmHead).toBe(m.weights!.embedding);
    expect(maxAbsDiff(await logits37(m), ref37)).toBeGreaterThan(0); // runs with the tied head
  });

  test('f16 / bf16 storage decodes (logits within the rounding of the weights)', async () => {
    const t = await checkpointTensors('single');
    const { packF16 } = await import('@mlstm/kernels-webgpu');
    // rewrite the header of an F32 file as F16 / BF16 with the converted payload
    const encode = (dtype: 'F16' | 'BF16') => {
      const header: Record<string, unknown> = {};
      const parts: Uint8Array[] = [];
      let off = 0;
      for (const [n, v] of Object.entries(t)) {
        let bytes: Uint8Array;
        if (dtype === 'F16') bytes = new Uint8Array(packF16(v.data).buffer).subarray(0, v.data.length * 2);
        else {
          const u32 = new Uint32Array(v.data.buffer, v.data.byteOffset, v.data.length);
          const u16 = new Uint16Array(v.data.length);
          for (let x = 0; x < u16.length; x++) u16[x] = (u32[x] + 0x7fff + ((u32[x] >>> 16) & 1)) >>> 16;
          bytes = new Uint8Array(u16.buffer);
        }
        header[n] = { dtype, shape: v.shape, data_offsets: [off, off + bytes.byteLength] };
        parts.push(bytes);
        off += bytes.byteLength;
      }
      const h = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + h.length + off);
      new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
      out.set(h, 8);
      let pos = 8 + h.length;
      for (const p of parts) {
        out.set(p, pos);
        pos += p.byteLength;
      }
      return out;
    };
    const f16 = maxAbsDiff(await logits37(await load(configJson('single'), encode('F16'))), ref37);
    const bf16 = maxAbsDiff(await logits37(await load(configJson('single'), encode('BF16'))), ref37);
    expect(f16).toBeLessThan(0.05);
    expect(f16).toBeGreaterThan(0);
    expect(bf16).toBeLessThan(0.5);
  });
});

describe('typed errors', () => {
  test('missing tensor names the tensor', async () => {
    const t = await checkpointTensors('single');
    delete t['backbone.blocks.1.mlstm_layer.k.weight'];
    const e = await load(configJson('single'), t).catch((x) => x);
    expect(e).toBeInstanceOf(MissingTensorError);
    expect(e.tensor).toBe('backbone.blocks.1.mlstm_layer.k.weight');
    expect(e.message).toContain('backbone.blocks.1.mlstm_layer.k.weight');
  });

  test('missing bias with use_bias = true names the bias', async () => {
    const t = await checkpointTensors('single');
    const e = await load({ ...configJson('single'), use_bias: true }, t).catch((x) => x);
    expect(e).toBeInstanceOf(MissingTensorError);
    expect(e.tensor).toMatch(/\.bias$/);
  });

  test('wrong shape names the tensor and both shapes', async () => {
    const t = await checkpointTensors('single');
    const w = t['backbone.blocks.0.ffn.proj_down.weight'];
    t['backbone.blocks.0.ffn.proj_down.weight'] = { shape: [384, 128], data: w.data };
    const e = await load(configJson('single'), t).catch((x) => x);
    expect(e).toBeInstanceOf(TensorShapeError);
    expect(e.tensor).toBe('backbone.blocks.0.ffn.proj_down.weight');
    expect(e.expected).toEqual([128, 384]);
    expect(e.received).toEqual([384, 128]);
  });

  test('bad config value names the key', async () => {
    const t = await checkpointTensors('single');
    const e = await load({ ...configJson('single'), num_heads: 2.5 }, t).catch((x) => x);
    expect(e).toBeInstanceOf(XlstmConfigError);
    expect(e.key).toBe('num_heads');
    // a config that disagrees with the weights: the shape error names the first tensor that differs
    const e2 = await load({ ...configJson('single'), vocab_size: 1000 }, t).catch((x) => x);
    expect(e2).toBeInstanceOf(TensorShapeError);
    expect(e2.tensor).toBe('backbone.embeddings.weight');
  });

  test('malformed safetensors / index files', async () => {
    const cfg = configJson('single');
    await expect(load(cfg, new Uint8Array([1, 2, 3]))).rejects.toThrow(CheckpointFormatError);
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setBigUint64(0, 1000n, true);
    await expect(load(cfg, bad)).rejects.toThrow(/header length/);
    await expect(
      XlstmForCausalLM.fromPretrained(
        {
          files: {
            'config.json': JSON.stringify(cfg),
            'model.safetensors.index.json': '{"weight_map": {"a": "../x"}}',
          },
        },
        { device: 'cpu' },
      ),
    ).rejects.toThrow(CheckpointFormatError);
  });

  test('memory estimate and the GPU limit check', () => {
    const c = parseXlstmConfig({});
    const est = estimateMemory(c, { weightDtype: 'f16', batch: 8, seqLen: 1 });
    expect(est.largestTensor).toEqual({ name: 'embedding', bytes: 50304 * 4096 * 2 });
    expect(est.totalBytes).toBeGreaterThan(est.weightBytes + 8 * est.stateBytesPerSequence);
    const e = (() => {
      try {
        checkGpuLimits(est, { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27 });
      } catch (x) {
        return x as ModelTooLargeError;
      }
    })();
    expect(e).toBeInstanceOf(ModelTooLargeError);
    expect(e!.tensor).toBe('embedding');
    expect(() =>
      checkGpuLimits(est, { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 }),
    ).not.toThrow();
  });
});
