/**
 * The dense WGSL kernels on their own, against plain CPU loops on odd sizes: both matmul kernels
 * (GEMV-shaped and tiled) with bias, soft cap and residual accumulation, f32 and f16 weights; the
 * prefill branch's SiLU-gated epilogue against the unfused product + SwiGLU kernel; the f16 outputs
 * of the RMSNorm and the cell post-processing (and its f16 h) against their f32 ones rounded by the
 * f16 policy, bit for bit.
 */
import { type GpuContext, getGpuContext, roundToF16 } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeCellPost, encodeMatmul, encodeRmsNorm, encodeSwiglu } from '../src/gpu/kernels.js';
import { maxAbsDiff } from './helpers.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await getGpuContext();
});
afterAll(() => ctx?.destroy());

let seed = 7;
const rnd = (n: number) =>
  Float32Array.from(
    { length: n },
    () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2,
  );

function reference(
  x: Float32Array,
  w: ArrayLike<number>,
  b: Float32Array | null,
  y0: Float32Array | null,
  M: number,
  N: number,
  K: number,
  cap: number,
) {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k];
      if (b) acc += b[n];
      if (cap > 0) acc = cap * Math.tanh(acc / cap);
      if (y0) acc += y0[m * N + n];
      y[m * N + n] = acc;
    }
  }
  return y;
}

describe('matmul kernels', () => {
  for (const tiled of [false, true]) {
    for (const dtype of ['f32', 'f16'] as const) {
      test(`${tiled ? 'tiled' : 'gemv'} ${dtype}: odd sizes, bias, soft cap, accumulate`, async (c) => {
        if (dtype === 'f16' && !ctx.features.shaderF16) {
          c.skip('no shader-f16');
          return;
        }
        for (const [M, N, K] of [
          [1, 7, 5],
          [9, 33, 45],
          [70, 65, 130],
          [3, 40, 132], // K % 4 == 0: the 4-wide GEMV kernel
        ]) {
          const x = rnd(M * K);
          const w = rnd(N * K);
          const wq = dtype === 'f16' ? roundToF16(w) : w;
          const b = rnd(N);
          const y0 = rnd(M * N);
          const X = ctx.upload(x, [M, K]);
          const W = ctx.upload(w, [N, K], dtype);
          const Bt = ctx.upload(b, [N]);
          const Y = ctx.upload(y0, [M, N]);
          const Y2 = ctx.empty([M, N]);
          const batch = ctx.batch();
          encodeMatmul(ctx, batch, X, W, Bt, Y, { M, N, K, accumulate: true, softcap: 2, tiled });
          encodeMatmul(ctx, batch, X, W, null, Y2, { M, N, K, tiled });
          batch.submit();
          const got = await ctx.read(Y);
          const got2 = await ctx.read(Y2);
          expect(maxAbsDiff(got, reference(x, wq, b, y0, M, N, K, 2)), `${M}x${N}x${K}`).toBeLessThan(1e-4);
          expect(maxAbsDiff(got2, reference(x, wq, null, null, M, N, K, 0)), `${M}x${N}x${K}`).toBeLessThan(
            1e-4,
          );
          for (const t of [X, W, Bt, Y, Y2]) t.release();
        }
      });
    }
  }
});

describe('prefill matmul with the SiLU-gated epilogue', () => {
  for (const dtype of ['f32', 'f16'] as const) {
    test(`${dtype}: equals the [M, 2F] product followed by the SwiGLU kernel (odd sizes)`, async (c) => {
      if (dtype === 'f16' && !ctx.features.shaderF16) {
        c.skip('no shader-f16');
        return;
      }
      const [M, F, K] = [37, 29, 24];
      const X = ctx.upload(rnd(M * K), [M, K]);
      const W = ctx.upload(rnd(2 * F * K), [2 * F, K], dtype);
      const U = ctx.empty([M, 2 * F]);
      const G = ctx.empty([M, F]);
      const G2 = ctx.empty([M, F]);
      const batch = ctx.batch();
      encodeMatmul(ctx, batch, X, W, null, U, { M, N: 2 * F, K });
      encodeSwiglu(ctx, batch, U, G, M, F);
      encodeMatmul(ctx, batch, X, W, null, G2, { M, N: F, K, gate: 'silu' });
      batch.submit();
      // the same f32 sums either way: only exp's rounding and the order of summation differ
      expect(maxAbsDiff(await ctx.read(G2), await ctx.read(G))).toBeLessThan(1e-5);
      expect(() => encodeMatmul(ctx, ctx.batch(), X, W, null, G2, { M: 4, N: F, K, gate: 'silu' })).toThrow(
        /prefill/,
      );
      for (const t of [X, W, U, G, G2]) t.release();
    });
  }
});

describe('f16 activations (prefill on the matrix units)', () => {
  test('RMSNorm and the cell post-processing write f16 as the f16 policy rounds their f32 output; the post-processing reads f16 h', async (t) => {
    if (!ctx.features.shaderF16) return t.skip();
    // RMSNorm: 5 rows of 40, some outputs beyond ±65 504 (saturated, not Inf)
    const rows = 5;
    const H = 40;
    const x = ctx.upload(rnd(rows * H), [rows, H]);
    const w = ctx.upload(
      rnd(H).map((v, i) => (i % 7 === 0 ? 3e5 + v : v * 4)),
      [H],
    );
    const b = ctx.upload(rnd(H), [H]);
    const y32 = ctx.empty([rows, H]);
    const y16 = ctx.empty([rows, H], 'f16');
    const batch = ctx.batch();
    encodeRmsNorm(ctx, batch, x, w, b, y32, { rows, H, eps: 1e-6 });
    encodeRmsNorm(ctx, batch, x, w, b, y16, { rows, H, eps: 1e-6 });
    // the cell's post-processing: B 1, S 3, NH 2, dqk 4, dv 8 (proj rows: q, k, v, o-gate)
    const [S, NH, dqk, dv] = [3, 2, 4, 8];
    const Dv = NH * dv;
    const stride = 2 * NH * dqk + 2 * Dv;
    const hs = rnd(NH * S * dv).map((v) => v * 50);
    const h32 = ctx.upload(hs, [1, NH, S, dv]);
    const h16 = ctx.upload(hs, [1, NH, S, dv], 'f16');
    const h16as32 = ctx.upload(roundToF16(hs), [1, NH, S, dv]);
    const proj = ctx.upload(rnd(S * stride), [S, stride]);
    const nw = ctx.upload(
      rnd(Dv).map((v) => v * 3e5),
      [Dv],
    ); // outputs beyond ±65 504 too
    const nb = ctx.upload(rnd(Dv), [Dv]);
    const o = { B: 1, S, Sp: S, t0: 0, NH, dqk, dv, eps: 1e-6 };
    const outs = [ctx.empty([S, Dv]), ctx.empty([S, Dv], 'f16'), ctx.empty([S, Dv]), ctx.empty([S, Dv])];
    encodeCellPost(ctx, batch, h32, proj, nw, nb, outs[0], o);
    encodeCellPost(ctx, batch, h32, proj, nw, nb, outs[1], o);
    encodeCellPost(ctx, batch, h16, proj, nw, nb, outs[2], o);
    encodeCellPost(ctx, batch, h16as32, proj, nw, nb, outs[3], o);
    batch.submit();
    const [n32, n16] = [await ctx.read(y32), await ctx.read(y16)];
    expect(n32.some((v) => Math.abs(v) > 65504)).toBe(true);
    expect(Array.from(n16)).toEqual(Array.from(roundToF16(n32)));
    const [p32, p16, fromH16, fromRounded] = await Promise.all(outs.map((t) => ctx.read(t)));
    expect(p32.some((v) => Math.abs(v) > 65504)).toBe(true);
    expect(Array.from(p16)).toEqual(Array.from(roundToF16(p32)));
    expect(Array.from(fromH16)).toEqual(Array.from(fromRounded));
    for (const t of [x, w, b, y32, y16, h32, h16, h16as32, proj, nw, nb, ...outs]) t.release();
  });
});
