/**
 * GPU sampling (`gpu/sample.ts`) against the CPU sampler (`sampleToken`): the same ids, exactly,
 * for random logits (ties, −∞, NaN, −0, subnormals), every option combination, several steps per
 * combination (the seen mask evolves on both sides), odd vocabularies up to ~50 k. No tolerance:
 * both sides share one integer definition of the weights (sampling.ts).
 */
import { type GpuContext, getGpuContext, type GpuTensor } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ModelArgumentError } from '../src/errors.js';
import { createSeenMask, encodeSampleTokens, seenMaskBits, seenWords } from '../src/gpu/sample.js';
import {
  makeRng,
  orderKey,
  type SamplingOptions,
  samplerConstants,
  sampleToken,
  scaleByDraw,
  tokenWeight,
} from '../src/sampling.js';

const bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await getGpuContext();
});
afterAll(() => ctx?.destroy());

const asU32 = (f: Float32Array) => new Uint32Array(f.buffer, f.byteOffset, f.length);

/**
 * Random logits `[B, V]`: row b % 3 = 0 smooth (normal-ish × 3), 1 coarse (multiples of 0.5: many
 * ties, also at the top-k / top-p boundaries), 2 smooth with specials (−∞, NaN, ±0, subnormals).
 */
function makeLogits(B: number, V: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  const out = new Float32Array(B * V);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < V; j++) {
      const g = (rng() + rng() + rng() - 1.5) * 3;
      out[b * V + j] = b % 3 === 1 ? Math.round(g * 2) / 2 : g;
    }
    if (b % 3 === 2) {
      const specials = [Number.NEGATIVE_INFINITY, Number.NaN, -0, 0, 1e-40, -1e-41, Number.NEGATIVE_INFINITY];
      specials.forEach((v, x) => {
        out[b * V + ((x * 7919 + 3) % V)] = v;
      });
    }
  }
  return out;
}

/** Prompt ids per row (the initial seen mask). */
const prompts = (B: number, V: number, seed: number) => {
  const rng = makeRng(seed + 99);
  return Array.from({ length: B }, () => Array.from({ length: 12 }, () => Math.floor(rng() * V)));
};

type Opts = Required<SamplingOptions>;

/** Runs `steps` samples on the GPU (one batch, the seen mask evolving) and on the CPU; returns both id lists. */
async function runBoth(logits: Float32Array, B: number, V: number, o: Opts, steps: number, seed: number) {
  const rows = prompts(B, V, seed);
  const L = ctx.upload(logits, [B, V]);
  const seen = createSeenMask(ctx, V, rows);
  const rng = makeRng(seed);
  const outs: GpuTensor[] = [];
  const draws: Float32Array[] = [];
  const batch = ctx.batch();
  for (let s = 0; s < steps; s++) {
    const u = Float32Array.from({ length: B }, () => rng());
    draws.push(u);
    const out = ctx.empty([B]);
    outs.push(out);
    encodeSampleTokens(ctx, batch, { logits: L, B, V, out, seen, params: { ...o, uniforms: u } });
  }
  batch.submit();
  const gpu: number[][] = [];
  for (const t of outs) gpu.push(Array.from(asU32(await ctx.read(t))));
  const seenGpu = asU32(await ctx.read(seen)).slice();
  for (const t of [L, seen, ...outs]) t.release();
  const sets = rows.map((r) => new Set(r));
  const cpu: number[][] = [];
  for (let s = 0; s < steps; s++) {
    const ids = rows.map((_, b) => sampleToken(logits, b * V, V, o, (j) => sets[b].has(j), draws[s][b]));
    for (const [b, id] of ids.entries()) sets[b].add(id);
    cpu.push(ids);
  }
  return {
    gpu,
    cpu,
    seenGpu,
    seenCpu: seenMaskBits(
      V,
      [...sets].map((s) => [...s]),
    ),
  };
}

const combos = (V: number): Opts[] => {
  const out: Opts[] = [];
  for (const repetitionPenalty of [1, 1.5, 0.7]) {
    out.push({ temperature: 0, topK: 0, topP: 1, repetitionPenalty });
    for (const temperature of [0.6, 1.7])
      for (const topK of [0, 1, 7, V + 3])
        for (const topP of [1, 0.92, 0.35]) out.push({ temperature, topK, topP, repetitionPenalty });
  }
  return out;
};

describe('GPU sampling = CPU sampling (same ids for the same draws)', () => {
  // small odd vocabularies: every option combination; 4 099 crosses the greedy kernel's 4 096-token slices
  for (const [B, V] of [
    [1, 1],
    [2, 37],
    [3, 1001],
    [2, 4099],
  ]) {
    const steps = V > 4096 ? 2 : 3;
    test(`B ${B}, V ${V}: ${combos(V).length} option combinations × ${steps} steps`, async () => {
      const logits = makeLogits(B, V, V);
      for (const [x, o] of combos(V).entries()) {
        const r = await runBoth(logits, B, V, o, steps, 1000 * V + x);
        expect(r.gpu, JSON.stringify(o)).toEqual(r.cpu);
        expect(r.seenGpu, `seen bits ${JSON.stringify(o)}`).toEqual(r.seenCpu);
      }
    }, 120_000);
  }

  test('extreme temperatures and penalties (overflowing, underflowing and subnormal constants)', async () => {
    const [B, V] = [3, 1001];
    const logits = makeLogits(B, V, 77);
    let x = 0;
    for (const temperature of [1e-30, 1e-3, 1e40, 1e300])
      for (const repetitionPenalty of [1e-3, 1e3, 1e-40])
        for (const topP of [1, 0.5]) {
          const o = { temperature, topK: 0, topP, repetitionPenalty };
          const r = await runBoth(logits, B, V, o, 2, 555 + x++);
          expect(r.gpu, JSON.stringify(o)).toEqual(r.cpu);
        }
  }, 60_000);

  // ~50 k tokens (the xLSTM-7B vocabulary and an odd one): the combinations that matter
  const big: Opts[] = [
    { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.3 },
    { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 },
    { temperature: 0.8, topK: 40, topP: 0.9, repetitionPenalty: 1.3 },
    { temperature: 1.2, topK: 0, topP: 0.5, repetitionPenalty: 1 },
    { temperature: 0.7, topK: 2000, topP: 1, repetitionPenalty: 0.9 },
  ];
  for (const [B, V] of [
    [4, 50303],
    [1, 50304],
  ]) {
    test(`B ${B}, V ${V}: ${big.length} option combinations × 2 steps`, async () => {
      const logits = makeLogits(B, V, V);
      for (const [x, o] of big.entries()) {
        const r = await runBoth(logits, B, V, o, 2, 7 * V + x);
        expect(r.gpu, JSON.stringify(o)).toEqual(r.cpu);
        expect(r.seenGpu).toEqual(r.seenCpu);
      }
    }, 180_000);
  }
});

describe('semantics', () => {
  async function sample(logits: Float32Array, B: number, V: number, o: Opts, rows: number[][], u?: number[]) {
    const L = ctx.upload(logits, [B, V]);
    const seen = createSeenMask(ctx, V, rows);
    const out = ctx.empty([B]);
    const batch = ctx.batch();
    const uniforms = Float32Array.from(u ?? Array(B).fill(0.5));
    encodeSampleTokens(ctx, batch, { logits: L, B, V, out, seen, params: { ...o, uniforms } });
    batch.submit();
    const ids = Array.from(asU32(await ctx.read(out)));
    for (const t of [L, seen, out]) t.release();
    return ids;
  }
  const greedy = (repetitionPenalty = 1): Opts => ({ temperature: 0, topK: 0, topP: 1, repetitionPenalty });

  test('greedy is the argmax with the lowest id on ties (also across slices and rows)', async () => {
    const V = 9001;
    const logits = new Float32Array(3 * V).fill(-1);
    for (const j of [8999, 5000, 4095]) logits[j] = 2; // row 0: ties in three slices → 4095
    for (const j of [4096, 7]) logits[V + j] = Number.POSITIVE_INFINITY; // row 1: +∞ ties → 7
    logits[2 * V + 9000] = 0.5; // row 2: the last id
    expect(await sample(logits, 3, V, greedy(), [[], [], []])).toEqual([4095, 7, 9000]);
    // a sampler with top-k 1 (temperature > 0) picks the same
    const k1 = { temperature: 1, topK: 1, topP: 1, repetitionPenalty: 1 };
    expect(await sample(logits, 3, V, k1, [[], [], []], [0.99, 0.5, 0])).toEqual([4095, 7, 9000]);
  });

  test('the repetition penalty applies to seen tokens only (positive divided, negative multiplied)', async () => {
    const V = 6000;
    const logits = new Float32Array(2 * V).fill(-5);
    logits[10] = 3;
    logits[5000] = 2.9;
    logits[V + 10] = -0.6;
    logits[V + 5000] = -1;
    // seen: row 0 the top token 10 (3 / 2 < 2.9), row 1 the top token 10 (-0.6 · 2 < -1)
    expect(await sample(logits, 2, V, greedy(2), [[10], [10]])).toEqual([5000, 5000]);
    // the same ids seen in the other row only: nothing changes in this row
    expect(await sample(logits, 2, V, greedy(2), [[5000], [5000]])).toEqual([10, 10]);
    // penalty off: the seen mask is ignored
    expect(await sample(logits, 2, V, greedy(1), [[10], [10]])).toEqual([10, 10]);
  });

  test('draws at the boundaries of the cumulative weights pick the same side on both', async () => {
    // for token j: the smallest draw r whose threshold t = floor(r·S/2^24) reaches C_j (the weight up
    // to j, inclusive) picks a later token, r − 1 picks j or earlier; off-by-one comparisons show here
    const V = 1001;
    const B = 1;
    const logits = makeLogits(B, V, 5);
    const o: Opts = { temperature: 0.9, topK: 0, topP: 1, repetitionPenalty: 1 };
    const k = samplerConstants(o);
    const b = Array.from(logits, bits);
    const maxBits = b.reduce((m, x) => (orderKey(x) > orderKey(m) ? x : m), b[0]);
    const w = b.map((x) => tokenWeight(x, maxBits, k.c));
    const S = w.reduce((a, x) => a + x, 0);
    const us: number[] = [];
    let C = 0;
    for (let j = 0; j < V; j++) {
      C += w[j];
      if (j % 50 !== 7 || C >= S) continue;
      let r = Math.ceil((C / S) * 2 ** 24);
      while (r > 0 && scaleByDraw(r - 1, S) >= C) r--;
      while (scaleByDraw(r, S) < C) r++;
      us.push(r / 2 ** 24, (r - 1) / 2 ** 24);
    }
    const want = us.map((u) => sampleToken(logits, 0, V, o, () => false, u));
    const got: number[] = [];
    for (const u of us) got.push(...(await sample(logits, B, V, o, [[]], [u])));
    expect(got).toEqual(want);
    // the pairs straddle: r picks a later token than r − 1
    for (let x = 0; x < us.length; x += 2) expect(want[x]).toBeGreaterThan(want[x + 1]);
    // equal logits: every weight 2^31, so u = m/n puts t exactly on C_(m−1) (the draw picks token m)
    const flat = new Float32Array(1024).fill(0.25);
    for (const [topK, n] of [
      [0, 1024],
      [8, 8],
    ]) {
      const of = { ...o, topK };
      const ms = [1, 2, 3, n / 2, n - 1];
      const ids: number[] = [];
      for (const m of ms) ids.push(...(await sample(flat, 1, 1024, of, [[]], [m / n])));
      expect(ids, `top-k ${topK}`).toEqual(ms);
      expect(ids).toEqual(ms.map((m) => sampleToken(flat, 0, 1024, of, () => false, m / n)));
    }
  });

  test('bad arguments: typed errors naming the argument, before any GPU work', () => {
    const B = 2;
    const V = 50;
    const logits = ctx.zeros([B, V]);
    const out = ctx.empty([B]);
    const seen = createSeenMask(ctx, V, [[], []]);
    const ok = { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, uniforms: new Float32Array(B) };
    const cases: [string, Record<string, unknown>][] = [
      ['topP', { params: { ...ok, topP: 0 } }],
      ['topP', { params: { ...ok, topP: -0.1 } }],
      ['topP', { params: { ...ok, topP: 1.01 } }],
      ['topK', { params: { ...ok, topK: -1 } }],
      ['topK', { params: { ...ok, topK: 1.5 } }],
      ['temperature', { params: { ...ok, temperature: -0.1 } }],
      ['temperature', { params: { ...ok, temperature: Number.NaN } }],
      ['repetitionPenalty', { params: { ...ok, repetitionPenalty: 0 } }],
      ['uniforms', { params: { ...ok, uniforms: new Float32Array(B + 1) } }],
      ['uniforms', { params: { ...ok, uniforms: new Float32Array(B - 1) } }],
      ['uniforms', { params: { ...ok, uniforms: Float32Array.from([0, 1]) } }],
      ['B', { B: 0 }],
      ['V', { V: 2 ** 17 + 1 }],
      ['logits', { logits: ctx.zeros([B, V + 1]) }],
      ['out', { out: ctx.empty([B + 1]) }],
      ['seen', { seen: ctx.empty([B, seenWords(V) + 1]) }],
    ];
    const compiled = ctx.pipelinesCompiled;
    for (const [arg, patch] of cases) {
      const batch = ctx.batch();
      const call = () =>
        encodeSampleTokens(ctx, batch, { logits, B, V, out, seen, params: ok, ...patch } as never);
      expect(call, arg).toThrow(ModelArgumentError);
      try {
        call();
      } catch (e) {
        expect((e as ModelArgumentError).argument).toBe(arg);
      }
      expect(batch.size).toBe(0);
    }
    expect(ctx.pipelinesCompiled).toBe(compiled);
    for (const t of [logits, out, seen]) t.release();
  });

  test('seen masks: bits of the prompt ids; ids outside the vocabulary are errors', () => {
    const bits = seenMaskBits(70, [[0, 31, 32, 69], []]);
    expect(Array.from(bits)).toEqual([0x80000001, 1, 0x20, 0, 0, 0]);
    expect(() => seenMaskBits(70, [[70]])).toThrow(ModelArgumentError);
    expect(() => createSeenMask(ctx, 70, [[-1]])).toThrow(/rows/);
  });
});
