/**
 * float16 packing for uploads and readbacks (Node 20 has no Float16Array). The one place
 * where f32 ↔ f16 bit conversion lives. Rounding is to nearest, ties to even, like the GPU.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of `x` (round to nearest even; overflow → ±Inf; NaN kept). */
export function f32ToF16Bits(x: number): number {
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

/** Value of IEEE binary16 bits. */
export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Packs numbers into f16 bits; the result length is padded to an even count (4-byte multiple). */
export function packF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length + (values.length & 1));
  for (let x = 0; x < values.length; x++) out[x] = f32ToF16Bits(values[x]);
  return out;
}

/** Unpacks `count` f16 values into a Float32Array. */
export function unpackF16(bits: Uint16Array, count = bits.length): Float32Array {
  const out = new Float32Array(count);
  for (let x = 0; x < count; x++) out[x] = f16BitsToF32(bits[x]);
  return out;
}

/** Rounds every value to the nearest f16 (what an f16 upload does), as a Float32Array. */
export function roundToF16(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let x = 0; x < values.length; x++) out[x] = f16BitsToF32(f32ToF16Bits(values[x]));
  return out;
}
