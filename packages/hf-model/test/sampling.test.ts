/**
 * The sampler's definition on the CPU (sampling.ts): integer weights against exp, the draw grid,
 * the draw order, the top-k / top-p kept sets, and that generation draws exactly one uniform per
 * row and step (the contract that lets the GPU sampler give the same tokens for a seed).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import {
  drawUniforms,
  MAX_WEIGHT,
  makeRng,
  type SamplingOptions,
  samplerConstants,
  sampleToken,
  scaleByDraw,
  tokenWeight,
  topPThreshold,
} from '../src/sampling.js';
import { XlstmForCausalLM } from '../src/index.js';
import { modelDir } from './helpers.js';

const bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];
const none = () => false;

describe('definition', () => {
  test('integer weights follow exp((z - zmax) / T) within 4.2e-5 relatively + 1', () => {
    for (const T of [0.3, 1, 2.5]) {
      const c = samplerConstants({ temperature: T }).c;
      for (let x = 0; x < 2000; x++) {
        const z = Math.fround(-x * 0.01);
        const w = tokenWeight(bits(z), bits(0), c);
        const want = MAX_WEIGHT * Math.exp(z / T);
        // table rounding (≤ 1.5e-5 each), the 2^-16 grid of y (≤ ln 2 · 2^-16 = 1.1e-5): ≤ 4.2e-5
        // relatively, plus 1 for the integer shift
        expect(Math.abs(w - want), `T ${T} z ${z}`).toBeLessThanOrEqual(want * 4.2e-5 + 1);
      }
    }
    expect(tokenWeight(bits(-1), bits(-1), 1)).toBe(MAX_WEIGHT);
    expect(tokenWeight(bits(-40), bits(0), samplerConstants({ temperature: 1 }).c)).toBe(0);
  });

  test('draw scaling and top-p threshold are exact integers', () => {
    const S = 2 ** 47 + 12345;
    for (const r of [0, 1, 2 ** 23, 2 ** 24 - 1]) {
      expect(scaleByDraw(r, S)).toBe(Number((BigInt(r) * BigInt(S)) >> 24n));
      const up = (BigInt(r) * BigInt(S) + 2n ** 24n - 1n) >> 24n;
      expect(topPThreshold(r, S)).toBe(Math.max(1, Number(up)));
    }
  });

  test('makeRng draws lie on the 2^-24 grid (exact in f32), drawUniforms takes one per row', () => {
    const rng = makeRng(3);
    for (let x = 0; x < 1000; x++) {
      const u = rng();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      expect(Math.fround(u)).toBe(u);
      expect(Number.isInteger(u * 2 ** 24)).toBe(true);
    }
    const [a, b] = [makeRng(9), makeRng(9)];
    expect(Array.from(drawUniforms(a, 3))).toEqual([b(), b(), b()]);
  });

  test('the draw walks the kept tokens in id order; top-k / top-p keep a prefix of the order', () => {
    // equal logits: uniform weights, so u picks the token of index floor(u · n) in id order
    const flat = new Float32Array(8).fill(1);
    const o = { temperature: 1 };
    expect([0, 0.13, 0.5, 0.99].map((u) => sampleToken(flat, 0, 8, o, none, u))).toEqual([0, 1, 4, 7]);
    // top-k 3 of equal logits keeps the lowest ids 0, 1, 2
    expect([0, 0.4, 0.99].map((u) => sampleToken(flat, 0, 8, { ...o, topK: 3 }, none, u))).toEqual([0, 1, 2]);
    // top-p 0.5 of 8 equal tokens: the first 4 ids
    expect([0, 0.99].map((u) => sampleToken(flat, 0, 8, { ...o, topP: 0.5 }, none, u))).toEqual([0, 3]);
    // order by logit: top-k 2 keeps ids 5 and 2 (the largest); the draw still goes in id order (2, then 5)
    const l = Float32Array.from([0, 1, 3, 0, 2, 3, 1, 0]);
    expect([0, 0.49, 0.51, 0.99].map((u) => sampleToken(l, 0, 8, { ...o, topK: 2 }, none, u))).toEqual([
      2, 2, 5, 5,
    ]);
    // ties at the top-k boundary: ids 2 and 5 tie at 3, top-k 1 keeps the lower id
    expect(sampleToken(l, 0, 8, { ...o, topK: 1 }, none, 0.99)).toBe(2);
  });

  test('greedy: first maximum of the penalised logits; NaN counts as -inf', () => {
    const l = Float32Array.from([Number.NaN, 2, 5, 5, -1]);
    const g: SamplingOptions = {};
    expect(sampleToken(l, 0, 5, g, none, 0.3)).toBe(2);
    expect(sampleToken(l, 0, 5, { repetitionPenalty: 3 }, (j) => j === 2, 0.3)).toBe(3);
    expect(sampleToken(Float32Array.from([Number.NaN, Number.NaN]), 0, 2, g, none, 0)).toBe(0);
  });
});

describe('generation draws one uniform per row and step', () => {
  let model: XlstmForCausalLM;
  beforeAll(async () => {
    model = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device: 'cpu' });
  });

  test('a batch of 2 with a row that stops early = sampleToken fed by B draws per step', async () => {
    const prompts = [
      [0, 5, 9, 14],
      [0, 7, 3, 21],
    ];
    const o = { temperature: 1.3, topK: 50, topP: 0.95, repetitionPenalty: 1.2 };
    const free = await model.generate(prompts, { ...o, seed: 11, maxNewTokens: 6, stopTokens: [] });
    const stop = free.tokens[0][1];
    const r = await model.generate(prompts, { ...o, seed: 11, maxNewTokens: 6, stopTokens: [stop] });
    // replay: the same forwards, B uniforms drawn every step (stopped rows included)
    const V = model.config.vocabSize;
    const rng = makeRng(11);
    const seen = prompts.map((p) => new Set(p));
    const cache = model.newCache(2);
    let { logits } = await model.forward(prompts, { cache, lastOnly: true });
    const want: number[][] = [[], []];
    const done = [false, false];
    const last = prompts.map((p) => p[p.length - 1]);
    for (let step = 0; step < 6; step++) {
      const u = drawUniforms(rng, 2);
      for (let b = 0; b < 2; b++) {
        if (done[b]) continue;
        const t = sampleToken(logits, b * V, V, o, (j) => seen[b].has(j), u[b]);
        want[b].push(t);
        seen[b].add(t);
        last[b] = t;
        if (t === stop) done[b] = true;
      }
      ({ logits } = await model.forward(
        last.map((t) => [t]),
        { cache, lastOnly: true },
      ));
    }
    expect(r.tokens).toEqual(want);
    expect(r.tokens[0].length).toBeLessThan(6);
    cache.release();
  });
});
