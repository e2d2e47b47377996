/**
 * The quantised matmul and embedding kernels against their CPU twin (the reference dequantiser,
 * then a plain float64 matmul) on odd shapes: both kernels (decode GEMV-shaped and tiled
 * prefill), K not a multiple of 32 (padded last group), bias, soft cap, residual accumulation,
 * row parts (nOff / ldy). Uploads read back bit-identical.
 */
import { type GpuContext, getGpuContext, roundToF16 } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  encodeDequantize,
  encodeQEmbedding,
  encodeQMatmul,
  readQuant,
  uploadQuant,
} from '../src/gpu/qmatmul.js';
import { dequantize, quantize, sliceRows } from '../src/quant/formats.js';
import { maxAbsDiff } from './helpers.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await getGpuContext();
});
afterAll(() => ctx?.destroy());

let seed = 3;
const rnd = (n: number) =>
  Float32Array.from(
    { length: n },
    () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2,
  );

/** `y = x·Wᵀ (+ b)`, soft cap, `+ y0` in float64 from the dequantised weights. */
function reference(
  x: Float32Array,
  w: Float32Array,
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

// [M, N, K]: decode sizes (M < 32) and prefill sizes, K a multiple of 32 or not
const SHAPES: [number, number, number][] = [
  [1, 7, 5],
  [1, 37, 100],
  [3, 64, 64],
  [5, 33, 96],
  [31, 19, 45],
  [32, 65, 96],
  [67, 130, 100],
  [40, 9, 31],
];

describe.each(['q8', 'q4'] as const)('%s matmul', (format) => {
  test.each(SHAPES)('M %i, N %i, K %i: both kernels = dequantise + matmul', async (M, N, K) => {
    const w = quantize(format, rnd(N * K), N, K);
    const wd = dequantize(w);
    const x = rnd(M * K);
    const b = rnd(N);
    const y0 = rnd(M * N);
    const wg = uploadQuant(ctx, w);
    const xg = ctx.upload(x, [M, K]);
    const bg = ctx.upload(b, [N]);
    // the tiled kernel, the decode kernel with workgroup sums, and with subgroup sums where available
    const kernels = [
      { tiled: true, subgroups: false },
      { tiled: false, subgroups: false },
      ...(ctx.features.subgroups ? [{ tiled: false, subgroups: true }] : []),
    ];
    for (const { tiled, subgroups } of kernels) {
      for (const [bias, cap, acc] of [
        [false, 0, false],
        [true, 3, true],
      ] as const) {
        const yg = ctx.upload(y0, [M, N]);
        const batch = ctx.batch();
        const o = { M, N, K, tiled, subgroups, softcap: cap, accumulate: acc };
        encodeQMatmul(ctx, batch, xg, wg, bias ? bg : null, yg, o);
        batch.submit();
        const got = await ctx.read(yg);
        const want = reference(x, wd, bias ? b : null, acc ? y0 : null, M, N, K, cap);
        // f32 sums of K products in another order: |Δ| ≲ K·2⁻²⁴·Σ|x·w| ≈ 1e-5 here
        expect(maxAbsDiff(got, want), `tiled ${tiled}, subgroups ${subgroups}, bias ${bias}`).toBeLessThan(
          2e-4,
        );
        yg.release();
      }
    }
    for (const t of [xg, bg, wg.data, wg.scales]) t.release();
  });

  test('row parts: a weight split in two writes its columns of y (nOff, ldy)', async () => {
    const [M, N, K] = [3, 50, 70];
    const w = quantize(format, rnd(N * K), N, K);
    const x = rnd(M * K);
    const top = uploadQuant(ctx, sliceRows(w, 0, 20));
    const bottom = uploadQuant(ctx, sliceRows(w, 20, N));
    const xg = ctx.upload(x, [M, K]);
    for (const tiled of [false, true]) {
      const yg = ctx.zeros([M, N]);
      const batch = ctx.batch();
      encodeQMatmul(ctx, batch, xg, top, null, yg, { M, N: 20, K, tiled, nOff: 0, ldy: N });
      encodeQMatmul(ctx, batch, xg, bottom, null, yg, { M, N: 30, K, tiled, nOff: 20, ldy: N });
      batch.submit();
      expect(
        maxAbsDiff(await ctx.read(yg), reference(x, dequantize(w), null, null, M, N, K, 0)),
      ).toBeLessThan(2e-4);
      yg.release();
    }
    for (const t of [xg, top.data, top.scales, bottom.data, bottom.scales]) t.release();
  });

  test('embedding gather equals the reference dequantiser exactly; uploads read back bit-identical', async () => {
    const [V, H] = [23, 45];
    const w = quantize(format, rnd(V * H), V, H);
    const ids = [0, 22, 5, 5, 17];
    const table = uploadQuant(ctx, w);
    const back = await readQuant(ctx, table);
    expect([...back.data]).toEqual([...w.data]);
    expect([...back.scales]).toEqual([...w.scales]);
    const idsT = ctx.empty([ids.length]);
    ctx.device.queue.writeBuffer(idsT.buffer, 0, new Uint32Array(ids));
    const out = ctx.zeros([ids.length, H]);
    const batch = ctx.batch();
    // as two row parts [0, 10) and [10, 23)
    const part = (r0: number, r1: number) => uploadQuant(ctx, sliceRows(w, r0, r1));
    const p0 = part(0, 10);
    const p1 = part(10, V);
    encodeQEmbedding(ctx, batch, idsT, p0, out, ids.length, H, 0);
    encodeQEmbedding(ctx, batch, idsT, p1, out, ids.length, H, 10);
    batch.submit();
    const got = await ctx.read(out);
    const d = dequantize(w);
    const want = new Float32Array(ids.length * H);
    for (const [r, id] of ids.entries()) want.set(d.subarray(id * H, (id + 1) * H), r * H);
    expect(maxAbsDiff(got, want)).toBe(0);
    for (const t of [idsT, out, table.data, table.scales, p0.data, p0.scales, p1.data, p1.scales])
      t.release();
  });
  test('dequantise into a dense matrix: f32 exactly the reference, f16 its f16 rounding', async () => {
    const [N, K] = [9, 70];
    const w = quantize(format, rnd(N * K), N, K);
    const wg = uploadQuant(ctx, w);
    const d = dequantize(w);
    const dtypes = ctx.features.shaderF16 ? (['f32', 'f16'] as const) : (['f32'] as const);
    for (const dtype of dtypes) {
      const out = ctx.zeros([N * K + 64], dtype);
      const batch = ctx.batch();
      encodeDequantize(ctx, batch, wg, out);
      batch.submit();
      const got = (await ctx.read(out)).subarray(0, N * K);
      expect(maxAbsDiff(got, dtype === 'f32' ? d : roundToF16(d)), dtype).toBe(0);
      out.release();
    }
    wg.data.release();
    wg.scales.release();
  });
});
