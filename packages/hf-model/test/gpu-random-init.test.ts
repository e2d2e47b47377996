/**
 * Random weights built on the GPU (`gpu/random-init.ts`): the fill kernel against its CPU twin
 * (f32 bit for bit, f16 to f16 rounding), two-piece (fused) fills and row-part offsets; per-tensor
 * statistics of a model's pieces; determinism per seed; a tiny model built on the GPU generates
 * finite logits, also with its weights split into row parts; q8 / q4 weights filled and quantised
 * on the GPU equal the host values quantised by the reference (same logits, bit for bit).
 */
import { type GpuContext, getGpuContext } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  concatWeights,
  GpuRandomWeights,
  type GpuFill,
  placeWeight,
  randomFill,
  randomValues,
} from '../src/gpu/random-init.js';
import { GpuEngine } from '../src/gpu/engine.js';
import { parseXlstmConfig, type XlstmConfig, XlstmForCausalLM } from '../src/index.js';
import type { WeightFormat } from '../src/quant/formats.js';
import { fillPieces, packPieces } from '../src/quant/pieces.js';
import { RandomPieces } from '../src/weights.js';
import { maxAbsDiff } from './helpers.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await getGpuContext();
});
afterAll(() => ctx?.destroy());

const cfgJson = {
  hidden_size: 64,
  num_heads: 2,
  num_blocks: 2,
  num_hidden_layers: 2,
  vocab_size: 301,
  chunk_size: 16,
};
const cfg = parseXlstmConfig(cfgJson);

async function readFill(fill: GpuFill, dtype: 'f32' | 'f16', start = 0, n = fill.length - start) {
  const t = placeWeight(ctx, fill, [n], dtype, start);
  const v = await ctx.read(t);
  t.release();
  return v;
}

describe('fill kernel = CPU twin', () => {
  // odd sizes, offsets (row parts start anywhere), both dtypes; f16: pack2x16float rounding ≤ 1 f16 ulp
  const cases = [
    { n: 1, start: 0 },
    { n: 1001, start: 0 },
    { n: 777, start: 333 },
    { n: 70_001, start: 12_345 },
  ];
  for (const dtype of ['f32', 'f16'] as const) {
    test(`${dtype}: ${cases.length} sizes / offsets, one and two pieces`, async (c) => {
      if (dtype === 'f16' && !ctx.features.shaderF16) return c.skip();
      const tol = dtype === 'f32' ? 0 : 2 ** -10;
      for (const { n, start } of cases) {
        const total = start + n;
        const f = randomFill(total, 0.5, `t${n}`, 3);
        const want = randomValues(total, 0.5, `t${n}`, 3).subarray(start);
        expect(maxAbsDiff(await readFill(f, dtype, start, n), want), `${n}@${start}`).toBeLessThanOrEqual(
          tol,
        );
        // two pieces: rows of a then rows of b (the fused projections)
        const g = randomFill(99, 2, `u${n}`, 3);
        const both = concatWeights(f, g) as GpuFill;
        const want2 = new Float32Array(total + 99);
        want2.set(randomValues(total, 0.5, `t${n}`, 3));
        want2.set(randomValues(99, 2, `u${n}`, 3), total);
        expect(maxAbsDiff(await readFill(both, dtype), want2), `${n} + 99`).toBeLessThanOrEqual(tol * 4);
      }
    });
  }
});

describe('GpuRandomWeights', () => {
  test('per-tensor statistics: uniform in ±scale (mean 0, std scale/√3), as the CPU generator', async () => {
    const w = new GpuRandomWeights(cfg, 1);
    const { H, Dv, F } = cfg.dims;
    const b = w.block(1);
    const tensors: [string, GpuFill, number][] = [
      ['embedding', w.embedding(), 1],
      ['lm_head', w.head(null).lmHead as GpuFill, 1 / Math.sqrt(H)],
      ['qkvo', b.qkvo.w, 1 / Math.sqrt(H)],
      ['ifGate', b.ifGate.w, 1 / Math.sqrt(H)],
      ['outProj', b.outProj.w, 1 / Math.sqrt(Dv)],
      ['upGateZ', b.upGateZ.w, 1 / Math.sqrt(H)],
      ['down', b.down.w, 1 / Math.sqrt(F)],
    ];
    for (const [name, fill, scale] of tensors) {
      const v = await readFill(fill, 'f32');
      const n = v.length;
      let s = 0;
      let s2 = 0;
      let mx = 0;
      for (const x of v) {
        s += x;
        s2 += x * x;
        mx = Math.max(mx, Math.abs(x));
      }
      const mean = s / n;
      const std = Math.sqrt(s2 / n - mean * mean);
      // mean: 5 standard errors (scale/√(3n)); std: 5 standard errors of a uniform's std (≈ 0.45·σ/√n) + 1 %
      expect(Math.abs(mean), name).toBeLessThan((5 * scale) / Math.sqrt(3 * n));
      expect(Math.abs(std / (scale / Math.sqrt(3)) - 1), name).toBeLessThan(2.5 / Math.sqrt(n) + 0.01);
      expect(mx, name).toBeLessThanOrEqual(scale);
      expect(mx, name).toBeGreaterThan(0.9 * scale);
    }
    // the gate biases and norms are the CPU generator's (not random)
    expect(Array.from(b.ifGate.b!.subarray(0, 2))).toEqual([-10, -10]);
    expect(b.normMlstm.w.every((x) => x === 1)).toBe(true);
  });

  test('deterministic for a seed; seeds and tensors differ', async () => {
    const a = await readFill(new GpuRandomWeights(cfg, 7).block(0).down.w, 'f32');
    const a2 = await readFill(new GpuRandomWeights(cfg, 7).block(0).down.w, 'f32');
    const b = await readFill(new GpuRandomWeights(cfg, 8).block(0).down.w, 'f32');
    const c = await readFill(new GpuRandomWeights(cfg, 7).block(1).down.w, 'f32');
    expect(a).toEqual(a2);
    let same = 0;
    for (let x = 0; x < a.length; x++) same += (a[x] === b[x] ? 1 : 0) + (a[x] === c[x] ? 1 : 0);
    expect(same).toBeLessThan(4);
  });
});

describe('fromRandom on WebGPU builds its weights on the GPU', () => {
  const ids = [[0, 5, 17, 42, 99, 7, 300, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]];
  test('a tiny model generates finite logits and tokens; same seed same logits; init cpu differs', async () => {
    const make = (o: { seed: number; init?: 'gpu' | 'cpu'; gpu?: GpuContext }) =>
      XlstmForCausalLM.fromRandom(cfg, { device: 'webgpu', gpu: ctx, weightDtype: 'f32', ...o });
    const m1 = await make({ seed: 4 });
    const m2 = await make({ seed: 4 });
    const mc = await make({ seed: 4, init: 'cpu' });
    const [r1, r2, rc] = [await m1.forward(ids), await m2.forward(ids), await mc.forward(ids)];
    expect(r1.logits.every(Number.isFinite)).toBe(true);
    expect(r1.logits).toEqual(r2.logits);
    expect(maxAbsDiff(r1.logits, rc.logits)).toBeGreaterThan(1e-3);
    const g = await m1.generate(ids, { maxNewTokens: 6, stopTokens: [], addBos: false });
    expect(g.tokens[0]).toHaveLength(6);
    expect(g.tokens[0].every((t) => Number.isInteger(t) && t >= 0 && t < cfg.vocabSize)).toBe(true);
    // weights split into row parts (a 4 KiB storage-binding limit): every part filled from its offset
    const limits: Record<string, number> = {};
    for (const key in ctx.limits) limits[key] = (ctx.limits as unknown as Record<string, number>)[key];
    const small = Object.create(ctx, {
      limits: { value: { ...limits, maxStorageBufferBindingSize: 16384 } },
    }) as GpuContext;
    const ms = await make({ seed: 4, gpu: small });
    expect(ms.gpuLayout()!.weightParts.embedding).toBeGreaterThan(1);
    const rs = await ms.forward(ids);
    // same weights, other matmul splits: f32 accumulation order only
    expect(maxAbsDiff(rs.logits, r1.logits)).toBeLessThan(2e-4);
    for (const r of [r1, r2, rc, rs, g]) r.cache.release();
    for (const m of [m1, m2, mc, ms]) m.dispose();
  });

  test("init 'cpu' on WebGPU = the CPU path's fromRandom (a tensor's values do not depend on load order)", async () => {
    const cpu = await XlstmForCausalLM.fromRandom(cfg, { device: 'cpu', dtype: 'f32', seed: 9 });
    const gpu = await XlstmForCausalLM.fromRandom(cfg, {
      device: 'webgpu',
      gpu: ctx,
      dtype: 'f32',
      seed: 9,
      init: 'cpu',
    });
    const [a, b] = [await cpu.forward(ids), await gpu.forward(ids)];
    // same weights: the CPU path (float64 cell) and the GPU (f32) differ by rounding only
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-4);
    a.cache.release();
    b.cache.release();
    cpu.dispose();
    gpu.dispose();
  });

  test('init must be gpu or cpu', async () => {
    await expect(XlstmForCausalLM.fromRandom(cfg, { gpu: ctx, init: 'disk' as never })).rejects.toMatchObject(
      {
        name: 'ModelArgumentError',
        argument: 'init',
      },
    );
  });

  test('f16 weights generated on the GPU', async (c) => {
    if (!ctx.features.shaderF16) return c.skip();
    const m = await XlstmForCausalLM.fromRandom(cfg, {
      device: 'webgpu',
      gpu: ctx,
      weightDtype: 'f16',
      seed: 2,
    });
    expect(m.weightDtype).toBe('f16');
    const r = await m.forward(ids);
    expect(r.logits.every(Number.isFinite)).toBe(true);
    r.cache.release();
    m.dispose();
  });
});

/** The host twin of {@link GpuRandomWeights}: the same values, on the CPU (randomValues). */
class HostTwin extends RandomPieces<Float32Array> {
  constructor(
    config: XlstmConfig,
    private readonly seed: number,
  ) {
    super(config);
  }
  protected matrix(n: number, scale: number, name: string): Float32Array {
    return randomValues(n, scale, name, this.seed);
  }
  protected vector(n: number, scale: number, name: string): Float32Array {
    return randomValues(n, scale, name, this.seed);
  }
}

describe('q8 / q4 random weights filled and quantised on the GPU', () => {
  const tied = parseXlstmConfig({ ...cfgJson, tie_word_embeddings: true });
  // [config, dtype, embedding, lm_head, storage-binding limit (row parts), scratch values per pass]
  const cases: [string, WeightFormat, WeightFormat, WeightFormat, number, number, XlstmConfig][] = [
    ['untied', 'q8', 'f16', 'f16', 0, 1 << 24, cfg],
    ['untied', 'q4', 'q8', 'q8', 0, 1 << 24, cfg],
    ['untied, row parts, small passes', 'q4', 'q8', 'q8', 16384, 1000, cfg],
    ['tied, other formats, small passes', 'q8', 'f32', 'q4', 0, 777, tied],
  ];
  test.each(cases)(
    '%s: linear %s, embedding %s, lm_head %s = the host values quantised by quantize (same logits, bit for bit); no leak',
    async (_, dtype, embeddingDtype, lmHeadDtype, limit, scratch, config) => {
      if (!ctx.features.shaderF16 && [embeddingDtype, lmHeadDtype].includes('f16')) return;
      let c = ctx;
      if (limit) {
        const limits: Record<string, number> = {};
        for (const key in ctx.limits) limits[key] = (ctx.limits as unknown as Record<string, number>)[key];
        c = Object.create(ctx, {
          limits: { value: { ...limits, maxStorageBufferBindingSize: limit } },
        }) as GpuContext;
      }
      const before = ctx.pool.stats.liveBytes;
      const o = { ctx: c, dtype, embeddingDtype, lmHeadDtype, quantizeScratchElems: scratch };
      const onGpu = await GpuEngine.create(config, {
        ...o,
        pieces: (f) => fillPieces(config, new GpuRandomWeights(config, 6), f),
      });
      const onHost = await GpuEngine.create(config, {
        ...o,
        pieces: (f) => packPieces(config, new HostTwin(config, 6), f),
      });
      if (limit) expect(onGpu.weightParts().lmHead).toBeGreaterThan(1);
      const ids = Int32Array.from({ length: 40 }, (_, t) => (t * 53 + 1) % config.vocabSize);
      for (const [S, lastOnly] of [
        [40, false],
        [1, true],
      ] as const) {
        const a = await onGpu.forward(ids.subarray(0, S), 1, S, null, { lastOnly });
        const b = await onHost.forward(ids.subarray(0, S), 1, S, null, { lastOnly });
        expect(a.logits.every(Number.isFinite)).toBe(true);
        expect(a.logits).toEqual(b.logits);
        onGpu.releaseStates(a.states);
        onHost.releaseStates(b.states);
      }
      onGpu.dispose();
      onHost.dispose();
      // every weight buffer (uploaded or filled and quantised, and the fill scratch) released
      expect(ctx.pool.stats.liveBytes).toBe(before);
    },
  );

  test('fromRandom q4 on WebGPU: weights on the GPU, the formats asked for', async () => {
    const m = await XlstmForCausalLM.fromRandom(cfg, { device: 'webgpu', gpu: ctx, dtype: 'q4', seed: 2 });
    expect(m.formats).toEqual({ linear: 'q4', embedding: 'q8', lmHead: 'q8' });
    const g = await m.generate([[1, 2, 3]], { maxNewTokens: 4, stopTokens: [], addBos: false });
    expect(g.tokens[0]).toHaveLength(4);
    g.cache.release();
    m.dispose();
  });
});
