/**
 * float16 packing for uploads and readbacks (Node 20 has no Float16Array), and the f16 numeric
 * policy of the package: the one place where the f32 → f16 conversion rule lives, for the CPU
 * (`f32ToF16Bits`, `packF16`) and for the GPU cast kernel (`wgslSaturateF16`).
 *
 * Policy (see "f16 numeric policy" in the package README):
 * - A value crossing into f16 storage is rounded to the nearest f16 (ties to even), then
 *   saturated: a finite result beyond ±65 504 — and ±Inf — becomes ±65 504 (`F16_MAX`), never
 *   Inf. NaN stays NaN. A value is counted as saturated when its magnitude exceeds 65 504.
 * - Where it applies: f16 uploads of CPU data (`ctx.upload`, `packF16`, so every CPU input of an
 *   f16 call), the f32 → f16 cast kernel (`computeDtype` inputs, f32 outputs converted back to f16
 *   for f16 GPU inputs, the dense matmul's f16 copy of x), and, clamped in their own WGSL (NaN
 *   there as the driver's `clamp` gives it), the matrix-unit path's f16 copies of the states and
 *   chunk products and the dense matrix-unit matmul's in-kernel conversion of x.
 * - Where it does not: accumulators, gates, m and n are f32 by design; values an f16 kernel
 *   computes and writes itself (h, dq, dk, dv, the gated scores staged as matrix operands) are
 *   converted by WGSL's `f16()` without a clamp (the WGSL spec leaves out of range to the driver),
 *   the same on both paths, so that the verified matrix-unit WGSL stays as it is.
 * - bfloat16 requests are stored as f32 (bfloat16 has float32's range), never as f16.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Largest finite f16 value; values beyond it saturate to ±F16_MAX when stored as f16. */
export const F16_MAX = 65504;
/** f16 bits of +F16_MAX (sign bit 0x8000 for the negative). */
const F16_MAX_BITS = 0x7bff;

/**
 * IEEE binary16 bits of `x`: round to nearest even, then saturate (a result beyond ±65 504, and
 * ±Inf, gives ±65 504); NaN stays NaN. See {@link f32ToF16BitsIeee} for the plain IEEE conversion.
 */
export function f32ToF16Bits(x: number): number {
  const h = f32ToF16BitsIeee(x);
  return (h & 0x7fff) === 0x7c00 ? (h & 0x8000) | F16_MAX_BITS : h;
}

/** IEEE binary16 bits of `x` without saturation (round to nearest even; overflow → ±Inf; NaN kept). */
export function f32ToF16BitsIeee(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++;
  return sign | r;
}

/** Whether storing `x` as f16 saturates it (|x| > 65 504 after f32 rounding, ±Inf included; NaN is not). */
export function f16Saturates(x: number): boolean {
  f32[0] = x;
  return Math.abs(f32[0]) > F16_MAX;
}

/**
 * WGSL expression converting the f32 expression `v` (evaluated once per use: pass a plain name)
 * to f16 under the policy above: round, saturate to ±65 504, NaN kept (tested on its bits, which
 * fast-math compilers cannot fold away; `clamp` alone may turn a NaN into a bound).
 */
export function wgslSaturateF16(v: string): string {
  // the NaN is built from v's bits (sign kept, quiet): WGSL refuses a NaN constant
  return `select(f16(clamp(${v}, -${F16_MAX}.0, ${F16_MAX}.0)), bitcast<vec2<f16>>((bitcast<u32>(${v}) >> 16u) | 0x7e00u).x, (bitcast<u32>(${v}) & 0x7fffffffu) > 0x7f800000u)`;
}

/** WGSL boolean expression: storing the f32 name `v` as f16 saturates it (|v| > 65 504; NaN not). */
export function wgslF16Saturates(v: string): string {
  return `abs(${v}) > ${F16_MAX}.0`;
}

/**
 * Packs numbers into f16 bits (saturating, see {@link f32ToF16Bits}); the result length is padded
 * to an even count (4-byte multiple). With `stats`, adds the number of saturated values to
 * `stats.saturated`.
 */
export function packF16(values: ArrayLike<number>, stats?: { saturated: number }): Uint16Array {
  const out = new Uint16Array(values.length + (values.length & 1));
  for (let x = 0; x < values.length; x++) out[x] = f32ToF16Bits(values[x]);
  if (stats) {
    let n = 0;
    for (let x = 0; x < values.length; x++) if (f16Saturates(values[x])) n++;
    stats.saturated += n;
  }
  return out;
}

/** Unpacks `count` f16 values into a Float32Array. */
export function unpackF16(bits: Uint16Array, count = bits.length): Float32Array {
  const out = new Float32Array(count);
  for (let x = 0; x < count; x++) out[x] = f16BitsToF32(bits[x]);
  return out;
}

/** Value of IEEE binary16 bits. */
export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Rounds every value to the nearest f16 (what an f16 upload does, saturation included), as a Float32Array. */
export function roundToF16(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let x = 0; x < values.length; x++) out[x] = f16BitsToF32(f32ToF16Bits(values[x]));
  return out;
}
