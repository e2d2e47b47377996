/**
 * The int8-activation GEMV of quantised weights (gpu/gemv.ts, encodeQGemv) against its CPU twin:
 * the reference activation quantiser (quantizeActivations) and the reference dequantiser, summed
 * in float64 — on odd shapes (K not a multiple of 32, N not a multiple of a workgroup's rows,
 * M over several row tiles), bias, soft cap, accumulation, row parts, the SwiGLU input, the
 * folded RMSNorm (`norm`), and every reduction (workgroup memory, subgroups). Also: how far the int8 activations move the result
 * from the f32-activation product (bounded by the rounding of x), and the typed errors.
 */
import { type GpuContext, getGpuContext } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeQGemv, type GemvConfig, qgemvActsElements, qgemvInlineFits } from '../src/gpu/gemv.js';
import { encodeCellPost } from '../src/gpu/kernels.js';
import { encodeQMatmul, uploadQuant } from '../src/gpu/qmatmul.js';
import { dequantize, quantizeActivations, quantize, sliceRows } from '../src/quant/formats.js';
import { cellPostActsPair, inputRows, normInput, references } from './qgemv-reference.js';
import { ModelArgumentError } from '../src/errors.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await getGpuContext();
});
afterAll(() => ctx?.destroy());

let seed = 11;
const rnd = (n: number, scale = 1) =>
  Float32Array.from(
    { length: n },
    () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2 * scale,
  );

const SHAPES: [number, number, number][] = [
  [1, 7, 5],
  [1, 37, 100],
  [1, 300, 256],
  [2, 64, 64],
  [5, 33, 96],
  [8, 70, 200],
  [9, 19, 45],
  [13, 41, 33],
];

describe.runIf(() => true)('int8-activation GEMV', () => {
  describe.each(['q8', 'q4'] as const)('%s', (format) => {
    test.each(SHAPES)(
      'M %i, N %i, K %i: = the int8 reference; within the x-rounding bound of f32 activations',
      async (M, N, K) => {
        if (!ctx.features.packedIntegerDot) return;
        const w = quantize(format, rnd(N * K), N, K);
        const wd = dequantize(w);
        const wg = uploadQuant(ctx, w);
        const b = rnd(N);
        const y0 = rnd(M * N);
        const bg = ctx.upload(b, [N]);
        const configs: Partial<GemvConfig>[] = [
          {},
          { subgroups: false },
          { subgroups: false, rg: 32, nr: 1, mt: 1 },
        ];
        if (ctx.features.subgroups) configs.push({ subgroups: true, rg: 2, nr: 4, mt: 4 });
        const nw = rnd(K, 2);
        const nwg = ctx.upload(nw, [K]);
        for (const [swiglu, norm] of [
          [false, false],
          [true, false],
          [false, true],
        ] as const) {
          const x = rnd(M * K * (swiglu ? 2 : 1), 3);
          const eps = 1e-5;
          const normed = norm ? normInput(x, nw, M, K, eps) : null;
          const xin = normed ? normed.xin : inputRows(x, M, K, swiglu);
          const xg = ctx.upload(x, [M, K * (swiglu ? 2 : 1)]);
          const acts = ctx.empty([qgemvActsElements(M, K)]);
          for (const [bias, cap, acc] of [
            [false, 0, false],
            [true, 3, true],
          ] as const) {
            const c = { M, N, K, bias, cap, acc, rowScale: normed?.rowScale };
            const ref = references(xin, wd, bias ? b : null, y0, c);
            // each config with the quantiser dispatch, and (up to 2 rows) quantising in the workgroup
            const runs = configs.flatMap((config) =>
              qgemvInlineFits(ctx, M, K)
                ? [
                    { config, inline: false },
                    { config, inline: true },
                  ]
                : [{ config, inline: false }],
            );
            for (const { config, inline } of runs) {
              const yg = ctx.upload(y0, [M, N]);
              const batch = ctx.batch();
              encodeQGemv(ctx, batch, xg, wg, bias ? bg : null, yg, {
                M,
                N,
                K,
                softcap: cap,
                accumulate: acc,
                swiglu,
                acts,
                config,
                norm: norm ? { w: nwg, eps } : null,
                inlineActs: inline,
              });
              expect(batch.size).toBe(inline ? 1 : 2);
              batch.submit();
              const got = await ctx.read(yg);
              const label = `${JSON.stringify(config)} swiglu ${swiglu} norm ${norm} bias ${bias} inline ${inline}`;
              for (let i = 0; i < M * N; i++) {
                // exact integer dots; f32 sums of ⌈K/32⌉ scaled group terms in another order, and a
                // rare x value on the other side of a rounding tie (one step of one x): 1e-4 + 1e-5·|y|
                expect(Math.abs(got[i] - ref.int8[i]), `${label} [${i}] int8`).toBeLessThan(
                  1e-4 + 1e-5 * Math.abs(ref.int8[i]),
                );
                // the whole effect of quantising x: at most half a step per value (bound), plus f32 sums
                expect(Math.abs(got[i] - ref.exact[i]), `${label} [${i}] exact`).toBeLessThanOrEqual(
                  ref.bound[i] * 1.001 + 1e-4,
                );
              }
              yg.release();
            }
          }
          xg.release();
          acts.release();
        }
        for (const t of [bg, nwg, wg.data, wg.scales]) t.release();
      },
    );

    test('row parts and encodeQMatmul routing: acts given → the int8 GEMV writes its columns of y', async () => {
      if (!ctx.features.packedIntegerDot) return;
      const [M, N, K] = [3, 50, 70];
      const w = quantize(format, rnd(N * K), N, K);
      const x = rnd(M * K);
      const top = uploadQuant(ctx, sliceRows(w, 0, 20));
      const bottom = uploadQuant(ctx, sliceRows(w, 20, N));
      const xg = ctx.upload(x, [M, K]);
      const acts = ctx.empty([qgemvActsElements(M, K)]);
      const ref = references(x, dequantize(w), null, new Float32Array(M * N), {
        M,
        N,
        K,
        bias: false,
        cap: 0,
        acc: false,
      });
      // the second part quantising x again, or reusing the first part's int8 activations
      for (const actsReady of [false, true]) {
        const yg = ctx.zeros([M, N]);
        const batch = ctx.batch();
        encodeQMatmul(ctx, batch, xg, top, null, yg, { M, N: 20, K, nOff: 0, ldy: N, acts });
        encodeQMatmul(ctx, batch, xg, bottom, null, yg, { M, N: 30, K, nOff: 20, ldy: N, acts, actsReady });
        expect(batch.size).toBe(actsReady ? 3 : 4);
        batch.submit();
        const got = await ctx.read(yg);
        for (let i = 0; i < M * N; i++)
          expect(Math.abs(got[i] - ref.int8[i])).toBeLessThan(1e-4 + 1e-5 * Math.abs(ref.int8[i]));
        yg.release();
      }
      for (const t of [xg, acts, top.data, top.scales, bottom.data, bottom.scales]) t.release();
    });
  });

  test.each([
    ['q4', 2, 3, 64],
    ['q8', 3, 2, 96],
  ] as const)(
    '%s: the cell output kernel writing int8 activations = cell output, then the quantiser (B %i, NH %i, dv %i)',
    async (format, B, NH, dv) => {
      if (!ctx.features.packedIntegerDot) return;
      const { ys, dispatches } = await cellPostActsPair(ctx, format, { B, NH, dqk: 16, dv, N: 37 }, rnd);
      expect(dispatches).toEqual([3, 2]);
      // the same f32 values quantised by the same WGSL: bit for bit
      expect(ys[1]).toEqual(ys[0]);
      expect(ys[0].some((v) => v !== 0)).toBe(true);
      // a head width that is not a multiple of 32: a typed error
      const h = ctx.zeros([B * NH, 1, 40]);
      const proj = ctx.zeros([B, 4 * NH * 40]);
      const nw = ctx.zeros([NH * 40]);
      const gated = ctx.empty([B, NH * 40]);
      const acts = ctx.empty([qgemvActsElements(B, NH * 40)]);
      expect(() =>
        encodeCellPost(ctx, ctx.batch(), h, proj, nw, null, gated, {
          B,
          S: 1,
          Sp: 1,
          t0: 0,
          NH,
          dqk: 40,
          dv: 40,
          eps: 1e-5,
          acts: { t: acts, format },
        }),
      ).toThrow(/cell post acts/);
      for (const t of [h, proj, nw, gated, acts]) t.release();
    },
  );

  test('the activation quantiser: zeros give scale 0, max|x| lands on ±127, ties round away from zero', () => {
    const x = new Float32Array(64);
    x[32] = 2;
    x[33] = -2;
    x[34] = 1; // 63.5 → 64
    x[35] = -1; // −63.5 → −64
    const a = quantizeActivations(x, 1, 64);
    expect(a.scales[0]).toBe(0);
    expect([...a.q.subarray(0, 32)].every((v) => v === 0)).toBe(true);
    expect([...a.q.subarray(32, 36)]).toEqual([127, -127, 64, -64]);
    expect(a.scales[1]).toBeCloseTo(2 / 127, 9);
  });

  test('typed errors before any GPU work: no packed dot product, scratch too small, wrong matrix', () => {
    const w = uploadQuant(ctx, quantize('q4', rnd(8 * 40), 8, 40));
    const x = ctx.zeros([2, 40]);
    const y = ctx.zeros([2, 8]);
    const small = ctx.empty([qgemvActsElements(2, 40) - 1]);
    const acts = ctx.empty([qgemvActsElements(2, 40)]);
    const batch = ctx.batch();
    const o = { M: 2, N: 8, K: 40, acts };
    const noDot = { ...ctx, features: { ...ctx.features, packedIntegerDot: false } } as GpuContext;
    expect(() => encodeQGemv(noDot, batch, x, w, null, y, o)).toThrow(/packed_4x8_integer_dot_product/);
    expect(() => encodeQGemv(ctx, batch, x, w, null, y, { ...o, acts: small })).toThrow(ModelArgumentError);
    expect(() => encodeQGemv(ctx, batch, x, w, null, y, { ...o, acts: small })).toThrow(/qgemv acts/);
    expect(() => encodeQGemv(ctx, batch, x, w, null, y, { ...o, N: 9 })).toThrow(/qgemv w/);
    expect(() => encodeQGemv(ctx, batch, x, w, null, y, { ...o, config: { vec: 8 } })).toThrow(/config.vec/);
    const x3 = ctx.zeros([3, 40]);
    const y3 = ctx.zeros([3, 8]);
    expect(() => encodeQGemv(ctx, batch, x3, w, null, y3, { M: 3, N: 8, K: 40, inlineActs: true })).toThrow(
      /qgemv inlineActs/,
    );
    expect(() => encodeQGemv(ctx, batch, x, w, null, y, { M: 2, N: 8, K: 40 })).toThrow(/qgemv acts/);
    // a configuration whose reduction buffer leaves no room for two rows of records: a typed error
    // (not a pipeline that fails to compile)
    const config = { vec: 32, subgroups: false, nr: 8, mt: 2, rg: 1 };
    let K = 1024;
    while (qgemvInlineFits(ctx, 2, K, config)) K += 1024;
    const wk = uploadQuant(ctx, quantize('q4', rnd(8 * K), 8, K));
    const xk = ctx.zeros([2, K]);
    expect(() =>
      encodeQGemv(ctx, batch, xk, wk, null, y, { M: 2, N: 8, K, inlineActs: true, config }),
    ).toThrow(/qgemv inlineActs/);
    for (const t of [wk.data, wk.scales, xk]) t.release();
    for (const t of [x3, y3]) t.release();
    batch.submit();
    for (const t of [w.data, w.scales, x, y, small, acts]) t.release();
  });
});
