/**
 * The GPU quantiser (src/gpu/quantize.ts) against the reference `quantize`: words and scales
 * bit-identical on the same f32 values — odd rows and columns (padded last group), values that
 * sit on the rounding boundaries of `w / s` (k + ½ steps of the scale) and scales near f16
 * midpoints, tiny and large magnitudes, zero groups, several calls into one matrix (row0), and
 * random weights filled on the GPU (the `fromRandom` path).
 */
import { f16BitsToF32, type GpuContext, getGpuContext } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readQuant } from '../src/gpu/qmatmul.js';
import { encodeQuantize } from '../src/gpu/quantize.js';
import { randomFill, randomValues } from '../src/gpu/random-init.js';
import { groupsPerRow, type QuantFormat, quantize, wordsPerRow } from '../src/quant/formats.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await getGpuContext();
});
afterAll(() => ctx?.destroy());

let seed = 11;
const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

/** Values of one kind: plain uniform, on rounding boundaries, or of extreme magnitudes. */
function values(kind: string, n: number, cols: number): Float32Array {
  const v = new Float32Array(n);
  for (let x = 0; x < n; x++) {
    const u = next() * 2 - 1;
    if (kind === 'uniform') v[x] = u;
    else if (kind === 'ties') {
      // multiples of ½ of a scale-like step (f16-exact), so w / s often lands on k + ½
      const s = f16BitsToF32(0x2000 + Math.floor(next() * 64));
      v[x] = (Math.round(u * 254) / 2) * s;
      if (x % cols === 0) v[x] = 127 * s * (next() < 0.5 ? -1 : 1);
    } else if (kind === 'magnitudes') {
      const e = [-20, -14, -3, 0, 6, 12, 17][x % 7];
      v[x] = u * 2 ** e;
    } else if (kind === 'midpoints') {
      // |max| = D · (f16 midpoint) and its f32 neighbours: the scale's round-to-even decision
      const mid = (f16BitsToF32(0x3c00 + (x & 1023)) + f16BitsToF32(0x3c01 + (x & 1023))) / 2;
      const d = [127, 8][x % 2];
      v[x] = x % 32 === 0 ? Math.fround(d * mid * (1 + ((x % 3) - 1) * 2 ** -23)) : u;
    } else v[x] = x % 3 === 0 ? 0 : u * 1e-3; // 'zeros': zero groups and small ones
  }
  if (kind === 'zeros') v.fill(0, 0, Math.min(n, 64));
  return v;
}

async function quantizeOnGpu(
  format: QuantFormat,
  f32: Float32Array,
  rows: number,
  cols: number,
  split: number,
) {
  const G = groupsPerRow(cols);
  const data = ctx.empty([Math.max(1, rows * wordsPerRow(format, cols))], 'f32');
  const scales = ctx.empty([Math.max(1, Math.ceil((rows * G) / 2))], 'f32');
  const out = { format, rows, cols, data, scales };
  const batch = ctx.batch();
  const src: ReturnType<GpuContext['upload']>[] = [];
  // split rows into calls (each starting at an even number of groups)
  for (let r0 = 0; r0 < rows; r0 += split) {
    const n = Math.min(split, rows - r0);
    const t = ctx.upload(f32.subarray(r0 * cols, (r0 + n) * cols), [n, cols]);
    src.push(t);
    encodeQuantize(ctx, batch, t, out, r0, n);
  }
  batch.submit();
  const q = await readQuant(ctx, out);
  for (const t of [...src, data, scales]) t.release();
  return q;
}

// [rows, cols, rows per call]
const SHAPES: [number, number, number][] = [
  [1, 5, 1],
  [3, 32, 3],
  [7, 33, 2],
  [5, 100, 5],
  [13, 65, 4],
  [9, 97, 9],
];

describe('GPU quantiser = reference quantize, bit for bit', () => {
  for (const format of ['q8', 'q4'] as const) {
    for (const kind of ['uniform', 'ties', 'magnitudes', 'midpoints', 'zeros']) {
      test.each(SHAPES)(`${format} ${kind} [%i, %i] (%i rows per call)`, async (rows, cols, split) => {
        const G = groupsPerRow(cols);
        const step = (split * G) % 2 === 0 ? split : split + 1;
        const f32 = values(kind, rows * cols, cols);
        const ref = quantize(format, f32, rows, cols);
        const got = await quantizeOnGpu(format, f32, rows, cols, step);
        expect(got.scales).toEqual(ref.scales);
        expect(got.data).toEqual(ref.data);
      });
    }
  }

  test.each([['q8'], ['q4']] as const)('%s of random weights filled on the GPU', async (format) => {
    const rows = 37;
    const cols = 70;
    const fill = randomFill(rows * cols, 0.05, 'gpu-quantize.test', 5);
    const t = ctx.empty([rows, cols]);
    const batch = ctx.batch();
    fill.encode(ctx, batch, t, 0);
    batch.submit();
    const got = await quantizeOnGpu(format, await ctx.read(t), rows, cols, rows);
    t.release();
    const ref = quantize(format, randomValues(rows * cols, 0.05, 'gpu-quantize.test', 5), rows, cols);
    expect(got.scales).toEqual(ref.scales);
    expect(got.data).toEqual(ref.data);
  });

  test('typed errors before any GPU work', () => {
    const out = { format: 'q8' as const, rows: 3, cols: 20, data: ctx.empty([1]), scales: ctx.empty([1]) };
    const src = ctx.empty([3 * 20]);
    expect(() => encodeQuantize(ctx, ctx.batch(), src, out, 1, 1)).toThrow(/row0/);
    expect(() => encodeQuantize(ctx, ctx.batch(), src, out, 2, 2)).toThrow(/src/);
    for (const t of [src, out.data, out.scales]) t.release();
  });
});
