/**
 * The f16 numeric policy (device/f16.ts, README "f16 numeric policy"): the CPU packing and the
 * GPU f32 → f16 cast round to nearest even, saturate to ±65 504 (±Inf too), keep NaN, and agree
 * bit for bit; the opt-in saturation counter counts |x| > 65 504 on both sides, and a default
 * context never allocates it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castTensor } from '../src/util/cast.js';
import {
  F16_MAX,
  f16BitsToF32,
  f16Saturates,
  f32ToF16Bits,
  f32ToF16BitsIeee,
  type GpuContext,
  getGpuContext,
  KernelArgumentError,
  packF16,
} from '../src/index.js';

const MIN_SUB = 2 ** -24;
// [input, expected f16 value (NaN: NaN), saturated?]
const CASES: [number, number, boolean][] = [
  [0, 0, false],
  [1.5, 1.5, false],
  [-2.75, -2.75, false],
  [65504, 65504, false],
  [-65504, -65504, false],
  [65519, 65504, true], // rounds down to 65504 (below the halfway point to 65536), still counted: |x| > 65504
  [65520, 65504, true], // IEEE rounding gives Inf here; saturated
  [1e6, 65504, true],
  [-3.4e38, -65504, true],
  [Number.POSITIVE_INFINITY, 65504, true],
  [Number.NEGATIVE_INFINITY, -65504, true],
  [Number.NaN, Number.NaN, false],
  [1 + 2 ** -11, 1, false], // tie: to even (1.0)
  [1 + 3 * 2 ** -11, 1 + 2 ** -9, false], // tie: to even (odd mantissa rounds up)
  [MIN_SUB, MIN_SUB, false],
  [MIN_SUB / 2, 0, false], // tie to even: 0
  [-1e-9, -0, false],
];

const same = (a: number, b: number) => (Number.isNaN(b) ? Number.isNaN(a) : Object.is(a, b));

describe('f16 policy on the CPU', () => {
  it.each(CASES)('%s → %s (saturated: %s)', (x, want, sat) => {
    expect(same(f16BitsToF32(f32ToF16Bits(x)), want)).toBe(true);
    expect(f16Saturates(x)).toBe(sat);
    const stats = { saturated: 0 };
    packF16([x, 1], stats);
    expect(stats.saturated).toBe(sat ? 1 : 0);
  });

  it('differs from the plain IEEE conversion only where that gives ±Inf for a number', () => {
    expect(f16BitsToF32(f32ToF16BitsIeee(65520))).toBe(Number.POSITIVE_INFINITY);
    expect(f16BitsToF32(f32ToF16BitsIeee(-1e6))).toBe(Number.NEGATIVE_INFINITY);
    for (let x = -70000; x <= 70000; x += 37.3) {
      const ieee = f32ToF16BitsIeee(x);
      if ((ieee & 0x7fff) !== 0x7c00) expect(f32ToF16Bits(x)).toBe(ieee);
      else expect(f16BitsToF32(f32ToF16Bits(x))).toBe(Math.sign(x) * F16_MAX);
    }
  });
});

describe('f16 policy on the GPU', () => {
  let plain: GpuContext;
  let counting: GpuContext;
  beforeAll(async () => {
    plain = await getGpuContext();
    counting = await getGpuContext({ countF16Saturation: true });
  });
  afterAll(() => {
    plain?.destroy();
    counting?.destroy();
  });

  it('the cast kernel gives the bits of the CPU packing (random values, odd size, the cases above)', async (t) => {
    if (!plain.features.shaderF16) return t.skip();
    let s = 12345;
    const u = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    // a mix of ranges: normal, subnormal, beyond the f16 range
    const values = [
      ...CASES.map((c) => c[0]),
      ...Array.from({ length: 1001 }, (_, x) => u() * [1, 1e-6, 1e5, 3e38][x % 4]),
    ];
    const src = plain.upload(values, [values.length], 'f32');
    const dst = castTensor(plain, src, 'f16');
    const got = await plain.read(dst);
    src.release();
    dst.release();
    const f32 = Float32Array.from(values);
    for (let x = 0; x < values.length; x++) {
      const want = f16BitsToF32(f32ToF16Bits(f32[x]));
      if (!same(got[x], want)) expect([x, f32[x], got[x]]).toEqual([x, f32[x], want]);
    }
    expect(plain.hasF16SaturationCounter).toBe(false);
  });

  it('a default context does not count and never allocates the counter', async (t) => {
    if (!plain.features.shaderF16) return t.skip();
    const a = plain.upload([1e6, 2], [2], 'f16');
    const b = plain.upload([1e6, 2], [2], 'f32');
    const c = castTensor(plain, b, 'f16');
    await plain.read(c);
    for (const x of [a, b, c]) x.release();
    expect(plain.countsF16Saturations).toBe(false);
    expect(plain.hasF16SaturationCounter).toBe(false);
    await expect(plain.f16Saturations()).rejects.toThrow(KernelArgumentError);
  });

  // [what, f16 uploads, f32 tensors cast to f16 on the GPU, expected count]
  const COUNT: [string, number[][], number[][], number][] = [
    ['nothing beyond the range', [[1, -65504, 65504]], [[0.5, 65504]], 0],
    ['uploads only', [[70000, -1e9, 3, Number.POSITIVE_INFINITY, Number.NaN]], [], 3],
    [
      'casts only (odd size, one in every workgroup)',
      [],
      [Array.from({ length: 1037 }, (_, x) => (x % 256 === 7 ? -1e5 : x))],
      5,
    ],
    ['both', [[65520, 1]], [[65505, 65504, -70000, Number.NaN]], 3],
  ];
  it.for(COUNT)('counts saturations: %s', async ([, ups, casts, want], t) => {
    if (!counting.features.shaderF16) return t.skip();
    counting.resetF16Saturations();
    const owned = ups.map((v) => counting.upload(v, [v.length], 'f16'));
    for (const v of casts) {
      const src = counting.upload(v, [v.length], 'f32');
      owned.push(src, castTensor(counting, src, 'f16'));
    }
    expect(await counting.f16Saturations()).toBe(want);
    for (const o of owned) o.release();
  });

  it('the counting cast stores the same bits as the default one', async (t) => {
    if (!counting.features.shaderF16) return t.skip();
    const v = [1e6, -1e6, 1.25, Number.NaN, 65519, -0];
    const src = counting.upload(v, [v.length], 'f32');
    const dst = castTensor(counting, src, 'f16');
    const got = Array.from(await counting.read(dst));
    src.release();
    dst.release();
    expect(got.map((g, x) => same(g, f16BitsToF32(packF16(v)[x])))).toEqual(v.map(() => true));
  });
});
