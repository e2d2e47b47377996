/**
 * The WebGPU path (dense WGSL kernels + the kernels package's mLSTM kernels) against the same
 * transformers fixtures as the CPU path: logits of every case, final states, split prefill,
 * token-by-token logits, greedy generations (batch 1 and 2); fused weights, biases (against the
 * CPU path), f16 weights, buffer leaks. f32 tolerance 2e-4 on logits (observed ≤ 3e-5; float32
 * accumulation order differs from torch), states 2e-4 relative.
 */
import { type GpuContext, getGpuContext } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ModelArgumentError,
  ModelTooLargeError,
  parseXlstmConfig,
  writeSafetensorsF32,
  XlstmForCausalLM,
} from '../src/index.js';
import {
  biasNames,
  CASES,
  checkpointTensors,
  configJson,
  GEN_PROMPTS,
  idsOf,
  loadFixture,
  maxAbsDiff,
  modelDir,
  relDiff,
} from './helpers.js';

const TOL = 2e-4;
const fx = loadFixture('single');
let ctx: GpuContext;
let model: XlstmForCausalLM;

beforeAll(async () => {
  ctx = await getGpuContext();
  model = await XlstmForCausalLM.fromPretrained(modelDir('single'), {
    device: 'webgpu',
    gpu: ctx,
    weightDtype: 'f32',
  });
});
afterAll(() => {
  model?.dispose();
  ctx?.destroy();
});

describe('WebGPU forward, single weights (f32)', () => {
  test('device and dtype', () => {
    expect(model.device).toBe('webgpu');
    expect(model.weightDtype).toBe('f32');
  });

  test.each(CASES)('logits and final states: %s', async (c) => {
    const ids = idsOf(fx.tensors[`input_ids.${c}`]);
    const r = await model.forward(ids);
    expect(maxAbsDiff(r.logits, fx.tensors[`logits.${c}`].data)).toBeLessThan(TOL);
    const states = await r.cache.readStates();
    for (const [i, s] of states.entries()) {
      expect(relDiff(s.c, fx.tensors[`state.${c}.block${i}.C`].data)).toBeLessThan(TOL);
      expect(relDiff(s.n, fx.tensors[`state.${c}.block${i}.n`].data)).toBeLessThan(TOL);
      expect(maxAbsDiff(s.m, fx.tensors[`state.${c}.block${i}.m`].data)).toBeLessThan(TOL);
    }
    r.cache.release();
  });

  test('split prefill and token-by-token logits through the GPU cache', async () => {
    const ids = idsOf(fx.tensors['input_ids.len37'])[0];
    const cache = model.newCache(1);
    await model.forward(ids.slice(0, 20), { cache });
    const second = await model.forward(ids.slice(20), { cache });
    expect(maxAbsDiff(second.logits, fx.tensors['logits_split.len37'].data)).toBeLessThan(TOL);
    cache.reset();
    const all = new Float32Array(37 * 512);
    for (const [t, id] of ids.entries()) all.set((await model.forward([id], { cache })).logits, t * 512);
    expect(maxAbsDiff(all, fx.tensors['logits_stepwise.len37'].data)).toBeLessThan(TOL);
    cache.release();
  });

  test.each(GEN_PROMPTS)('greedy generation: %s', async (p) => {
    const r = await model.generate(idsOf(fx.tensors[`gen.${p}.prompt`])[0], {
      maxNewTokens: 16,
      stopTokens: [],
    });
    expect(r.tokens[0]).toEqual(idsOf(fx.tensors[`gen.${p}.tokens`])[0]);
    r.cache.release();
  });

  test('batch of 2 generation equals the rows alone; text streaming', async () => {
    const p1 = idsOf(fx.tensors['gen.len7.prompt'])[0];
    const p2 = idsOf(fx.tensors['gen.len37.prompt'])[0].slice(0, 7);
    const both = await model.generate([p1, p2], { maxNewTokens: 6, stopTokens: [] });
    const a = await model.generate(p1, { maxNewTokens: 6, stopTokens: [] });
    const b = await model.generate(p2, { maxNewTokens: 6, stopTokens: [] });
    expect(both.tokens).toEqual([a.tokens[0], b.tokens[0]]);
    let text = '';
    const r = await model.generate('The matrix memory', {
      maxNewTokens: 8,
      onToken: (e) => (text += e.text![0]),
    });
    expect(text).toBe(r.text![0]);
    for (const c of [both.cache, a.cache, b.cache, r.cache]) c.release();
  });

  test('no GPU buffer leaks across forwards (the cache owns the only live states)', async () => {
    const ids = idsOf(fx.tensors['input_ids.len37']);
    (await model.forward(ids)).cache.release();
    const before = ctx.pool.stats.liveBytes;
    for (let x = 0; x < 3; x++) {
      const cache = model.newCache(1);
      await model.forward(ids, { cache });
      await model.forward([[3]], { cache });
      cache.release();
    }
    expect(ctx.pool.stats.liveBytes).toBe(before);
  });

  test('a prefill is one submission per block: the chunkwise cell is encoded into the block batch', async () => {
    const ids = idsOf(fx.tensors['input_ids.len64']);
    const blocks = model.config.dims.blocks;
    const q = ctx.device.queue as unknown as { submit: (b: unknown) => void };
    const orig = q.submit;
    let submits = 0;
    q.submit = (b: unknown) => {
      submits++;
      orig.call(ctx.device.queue, b);
    };
    let r: Awaited<ReturnType<typeof model.forward>>;
    try {
      r = await model.forward(ids, { lastOnly: true });
    } finally {
      q.submit = orig;
    }
    // the zero states of a fresh cache (all blocks at once); per block one batch: the previous
    // block's tail, norm, projection, cell inputs, the chunkwise cell (conversions included); then
    // the last block's tail with the head; the logits' read-back (before: 3 submissions per block
    // for the zero states, the cell's own and one per conversion)
    expect(submits).toBe(blocks + 3);
    expect(maxAbsDiff(r.logits, fx.tensors['logits.len64'].data.subarray(63 * 512))).toBeLessThan(TOL);
    r.cache.release();
  });

  test('activations are CPU-only', async () => {
    await expect(model.forward([0, 1], { activations: () => {} })).rejects.toThrow(ModelArgumentError);
  });
});

describe('WebGPU: other weight layouts and dtypes', () => {
  test('fused checkpoint', async () => {
    const m = await XlstmForCausalLM.fromPretrained(modelDir('fused'), {
      device: 'webgpu',
      gpu: ctx,
      weightDtype: 'f32',
    });
    const r = await m.forward(idsOf(fx.tensors['input_ids.len37']));
    expect(maxAbsDiff(r.logits, fx.tensors['logits.len37'].data)).toBeLessThan(TOL);
    r.cache.release();
    m.dispose();
  });

  test('use_bias = true with random biases: WebGPU equals the CPU path', async () => {
    const t = await checkpointTensors('single');
    const cfg = { ...configJson('single'), use_bias: true };
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.2;
    for (const [n, len] of biasNames(2, parseXlstmConfig(cfg).dims)) {
      t[n] = { shape: [len], data: Float32Array.from({ length: len }, rnd) };
    }
    const files = { 'config.json': JSON.stringify(cfg), 'model.safetensors': writeSafetensorsF32(t) };
    const cpu = await XlstmForCausalLM.fromPretrained({ files }, { device: 'cpu' });
    const gpu = await XlstmForCausalLM.fromPretrained(
      { files },
      { device: 'webgpu', gpu: ctx, weightDtype: 'f32' },
    );
    const ids = idsOf(fx.tensors['input_ids.batch2_len21']);
    const a = await cpu.forward(ids);
    const b = await gpu.forward(ids);
    expect(maxAbsDiff(a.logits, fx.tensors['logits.batch2_len21'].data)).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(b.logits, a.logits)).toBeLessThan(TOL);
    b.cache.release();
    gpu.dispose();
  });

  test('f16 weights (shader-f16): logits within f16 weight rounding', async (c) => {
    if (!ctx.features.shaderF16) {
      c.skip('this adapter has no shader-f16');
      return;
    }
    const m = await XlstmForCausalLM.fromPretrained(modelDir('single'), {
      device: 'webgpu',
      gpu: ctx,
      weightDtype: 'f16',
    });
    expect(m.weightDtype).toBe('f16');
    const r = await m.forward(idsOf(fx.tensors['input_ids.len37']));
    const err = maxAbsDiff(r.logits, fx.tensors['logits.len37'].data);
    // f16 weights: relative rounding 2^-11 per weight; observed ~1e-2 on these random weights
    expect(err).toBeLessThan(5e-2);
    expect(err).toBeGreaterThan(0);
    r.cache.release();
    m.dispose();
  });

  test('random model of other shapes (NH 4, chunk 32, tied embeddings, batch 2 × 70 tokens): WebGPU = CPU', async () => {
    const cfg = {
      hidden_size: 256,
      num_heads: 4,
      num_blocks: 2,
      num_hidden_layers: 2,
      vocab_size: 300,
      chunk_size: 32,
      tie_word_embeddings: true,
    };
    const cpu = await XlstmForCausalLM.fromRandom(cfg, { device: 'cpu', seed: 5 });
    // init 'cpu': the CPU generator's weights uploaded (the GPU generator has other values)
    const gpu = await XlstmForCausalLM.fromRandom(cfg, {
      device: 'webgpu',
      gpu: ctx,
      weightDtype: 'f32',
      seed: 5,
      init: 'cpu',
    });
    const ids = [0, 1].map((b) => Array.from({ length: 70 }, (_, t) => (t * 37 + b * 11 + 5) % 300));
    const a = await cpu.forward(ids);
    const g = await gpu.forward(ids);
    expect(a.logits.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(g.logits, a.logits)).toBeLessThan(TOL);
    const [sa, sg] = [await a.cache.readStates(), await g.cache.readStates()];
    for (const [i, s] of sa.entries()) expect(relDiff(sg[i].c, s.c)).toBeLessThan(TOL);
    // decode a few tokens on both
    const ra = await cpu.generate(ids, { maxNewTokens: 4, stopTokens: [], addBos: false });
    const rg = await gpu.generate(ids, { maxNewTokens: 4, stopTokens: [], addBos: false });
    expect(rg.tokens).toEqual(ra.tokens);
    for (const c of [g.cache, rg.cache]) c.release();
    gpu.dispose();
  });

  test('small storage-binding limit: weights split into row parts, prompts into segments; same logits', async () => {
    // maxStorageBufferBindingSize 64 KiB: embedding / lm_head in 4 parts, the FFN up projection in 6,
    // at most 32 tokens per call with full logits (len37, len64, batch2_len21 are segmented)
    const limits: Record<string, number> = {};
    for (const key in ctx.limits) limits[key] = (ctx.limits as unknown as Record<string, number>)[key];
    const small = Object.create(ctx, {
      limits: { value: { ...limits, maxStorageBufferBindingSize: 65536 } },
    }) as GpuContext;
    const m = await XlstmForCausalLM.fromPretrained(modelDir('single'), {
      device: 'webgpu',
      gpu: small,
      weightDtype: 'f32',
    });
    for (const c of ['len37', 'len64', 'batch2_len21'] as const) {
      const r = await m.forward(idsOf(fx.tensors[`input_ids.${c}`]));
      expect(maxAbsDiff(r.logits, fx.tensors[`logits.${c}`].data), c).toBeLessThan(TOL);
      r.cache.release();
    }
    const g = await m.generate(idsOf(fx.tensors['gen.len37.prompt'])[0], {
      maxNewTokens: 16,
      stopTokens: [],
    });
    expect(g.tokens[0]).toEqual(idsOf(fx.tensors['gen.len37.tokens'])[0]);
    g.cache.release();
    m.dispose();
  });

  test('a binding limit below one weight row is a ModelTooLargeError naming the tensor', async () => {
    const limits: Record<string, number> = {};
    for (const key in ctx.limits) limits[key] = (ctx.limits as unknown as Record<string, number>)[key];
    const tiny = Object.create(ctx, {
      limits: { value: { ...limits, maxStorageBufferBindingSize: 256 } },
    }) as GpuContext;
    const before = ctx.pool.stats.liveBytes;
    const e = await XlstmForCausalLM.fromPretrained(modelDir('single'), {
      device: 'webgpu',
      gpu: tiny,
      weightDtype: 'f32',
    }).catch((x) => x);
    expect(e).toBeInstanceOf(ModelTooLargeError);
    expect(e.tensor).toBe('embedding (one row)');
    expect(e.limit).toBe(256);
    expect(ctx.pool.stats.liveBytes).toBe(before); // nothing left uploaded
    // between the widest embedding row (H = 128 floats) and the FFN down projection's (F = 384 floats):
    // fails after other tensors were uploaded, which are released again
    const mid = Object.create(ctx, {
      limits: { value: { ...limits, maxStorageBufferBindingSize: 1024 } },
    }) as GpuContext;
    const e2 = await XlstmForCausalLM.fromPretrained(modelDir('single'), {
      device: 'webgpu',
      gpu: mid,
      weightDtype: 'f32',
    }).catch((x) => x);
    expect(e2).toBeInstanceOf(ModelTooLargeError);
    expect(e2.tensor).toBe('backbone.blocks.0.ffn.proj_down (one row)');
    expect(ctx.pool.stats.liveBytes).toBe(before);
  });

  test("weightDtype 'auto' keeps f32 for small models", async () => {
    const m = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device: 'auto', gpu: ctx });
    expect(m.device).toBe('webgpu');
    expect(m.weightDtype).toBe('f32');
    m.dispose();
  });
});
