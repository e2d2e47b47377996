/**
 * The dense WGSL kernels on their own, against plain CPU loops on odd sizes: both matmul kernels
 * (GEMV-shaped and tiled) with bias, soft cap and residual accumulation, f32 and f16 weights; the
 * prefill branch's SiLU-gated epilogue against the unfused product + SwiGLU kernel.
 */
import { type GpuContext, getGpuContext, roundToF16 } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeMatmul, encodeSwiglu } from '../src/gpu/kernels.js';
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
