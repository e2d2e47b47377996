/**
 * Weight formats and the reference (de)quantiser: the one place that defines what a q8 or q4
 * matrix is, byte for byte. The GPU kernels (gpu/qmatmul.ts), the checkpoint writer and reader
 * (quant/checkpoint.ts) and the CPU path all go through these functions.
 *
 * A matrix `W [rows, cols]` (a linear layer's `[out, in]`) is quantised in groups of
 * {@link GROUP_SIZE} consecutive values of one row (along the input dimension). Each row has
 * `G = ceil(cols / 32)` groups; when `cols` is not a multiple of 32 the last group is padded with
 * zeros (which quantise to 0 and add nothing to a dot product). Every group has one f16 scale `s`;
 * there is no zero point (symmetric): a weight is `q · s` with a small signed integer `q`.
 *
 * - **q8**: `s = max|w| / 127` (rounded to f16), `q = clamp(round(w / s), −127, 127)`. One group
 *   is 8 u32 words; the value `k` of a group is byte `k % 4` (bits `8·(k%4)…`) of word `k / 4`,
 *   as a two's-complement int8. 8.5 bits per weight with the scale.
 * - **q4**: `s = −m / 8` where `m` is the group's value of largest magnitude (rounded to f16; `s`
 *   may be negative), `q = clamp(round(w / s), −8, 7)`: `m` itself lands on −8, so all 16 levels
 *   are used (on Gaussian weights the mean squared error is about 21 % below that of a ±7 grid
 *   with scale max|w| / 7). One group is
 *   4 u32 words; the value `k` of a group is nibble `k % 8` (bits `4·(k%8)…`) of word `k / 8`,
 *   stored as `q + 8` (0…15). 4.5 bits per weight with the scale.
 *
 * `data` holds the words row after row (`rows · G · wordsPerGroup` u32, little-endian in files);
 * `scales` holds the f16 bit patterns row after row (`rows · G` u16) in a separate array, so that
 * a row range of a matrix is a contiguous range of both. Rounding is half away from zero; a scale
 * that would overflow f16 is clamped to 65 504, and a group whose scale underflows to 0
 * dequantises to zeros.
 */
import { f16BitsToF32, f32ToF16Bits } from '@mlstm/kernels-webgpu';
import { QuantFormatError } from '../errors.js';

/** Values per quantisation group (along a row). */
export const GROUP_SIZE = 32;

/** The formats of a quantised matrix. */
export type QuantFormat = 'q8' | 'q4';
/** Every weight format: dense f32 / f16, or quantised. */
export type WeightFormat = 'f32' | 'f16' | QuantFormat;
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['f32', 'f16', 'q8', 'q4'];

export const isQuantFormat = (f: string): f is QuantFormat => f === 'q8' || f === 'q4';

/** u32 words per group of 32 values. */
export const WORDS_PER_GROUP: Record<QuantFormat, number> = { q8: 8, q4: 4 };
/** Largest |q| of the grid (q4 also reaches −8). */
const QMAX: Record<QuantFormat, number> = { q8: 127, q4: 7 };

/** A quantised matrix (see the module comment for the layout). */
export interface QuantMatrix {
  format: QuantFormat;
  rows: number;
  cols: number;
  /** `rows · groupsPerRow(cols) · WORDS_PER_GROUP[format]` packed words */
  data: Uint32Array;
  /** `rows · groupsPerRow(cols)` f16 bit patterns */
  scales: Uint16Array;
}

export const groupsPerRow = (cols: number): number => Math.ceil(cols / GROUP_SIZE);

/** u32 words per row of a quantised matrix. */
export const wordsPerRow = (format: QuantFormat, cols: number): number =>
  groupsPerRow(cols) * WORDS_PER_GROUP[format];

/** Bytes of a matrix in a format (quantised: words + scales; f16 padded to 4 bytes like an upload). */
export function matrixBytes(format: WeightFormat, rows: number, cols: number): number {
  if (format === 'f32') return 4 * rows * cols;
  if (format === 'f16') return 2 * rows * cols;
  return rows * (4 * wordsPerRow(format, cols) + 2 * groupsPerRow(cols));
}

const F16_MAX = 65504;

/**
 * Quantises `w [rows, cols]` (row-major) into `format`. Every group is independent, so rows
 * `[r0, r1)` of the result equal the quantisation of those rows alone.
 */
export function quantize(
  format: QuantFormat,
  w: Float32Array,
  rows: number,
  cols: number,
  name = 'matrix',
): QuantMatrix {
  if (!isQuantFormat(format))
    throw new QuantFormatError(name, `unknown quantised format ${JSON.stringify(format)}`);
  if (w.length !== rows * cols) {
    throw new QuantFormatError(name, `has ${w.length} values, expected rows × cols = ${rows} × ${cols}`);
  }
  const G = groupsPerRow(cols);
  const wpg = WORDS_PER_GROUP[format];
  const data = new Uint32Array(rows * G * wpg);
  const scales = new Uint16Array(rows * G);
  const q4 = format === 'q4';
  const qmax = QMAX[format];
  const qmin = q4 ? -8 : -127;
  const per = q4 ? 8 : 4; // values per word
  const bits = q4 ? 4 : 8;
  const mask = q4 ? 15 : 255;
  const bias = q4 ? 8 : 0; // q4 stores q + 8; q8 stores the two's-complement byte
  for (let r = 0; r < rows; r++) {
    const ro = r * cols;
    for (let g = 0; g < G; g++) {
      const k0 = ro + g * GROUP_SIZE;
      const k1 = ro + Math.min(cols, (g + 1) * GROUP_SIZE);
      // the value of largest magnitude (and a NaN / ±Inf check: v·0 is NaN for both)
      let m = 0;
      let am = 0;
      let chk = 0;
      for (let k = k0; k < k1; k++) {
        const v = w[k];
        chk += v * 0;
        const a = v < 0 ? -v : v;
        if (a > am) {
          am = a;
          m = v;
        }
      }
      if (chk !== 0) throw new QuantFormatError(name, `row ${r} has a value that is not finite`);
      let s = m === 0 ? 0 : q4 ? -m / 8 : am / 127;
      s = Math.min(F16_MAX, Math.max(-F16_MAX, s));
      const sb = f32ToF16Bits(s);
      const sv = f16BitsToF32(sb);
      scales[r * G + g] = sb;
      const wo = (r * G + g) * wpg;
      for (let j0 = 0; j0 < GROUP_SIZE; j0 += per) {
        let word = 0;
        for (let j = 0; j < per; j++) {
          const k = k0 + j0 + j;
          let q = 0;
          if (k < k1 && sv !== 0) {
            // round half away from zero, then clamp to the grid
            q = Math.min(qmax, Math.max(qmin, roundHalfAway(w[k] / sv)));
          }
          word |= ((q + bias) & mask) << (bits * j);
        }
        data[wo + j0 / per] = word >>> 0;
      }
    }
  }
  return { format, rows, cols, data, scales };
}

/** Rounds half away from zero (the rounding of both quantisers; the WGSL twins do the same). */
const roundHalfAway = (t: number): number => (t < 0 ? -Math.floor(0.5 - t) : Math.floor(t + 0.5));

/** The integer `q` of value `k` (0 ≤ k < 32) of the group whose words start at `wo`. */
export function quantAt(format: QuantFormat, data: Uint32Array, wo: number, k: number): number {
  if (format === 'q4') return ((data[wo + (k >> 3)] >>> (4 * (k & 7))) & 15) - 8;
  return ((data[wo + (k >> 2)] << (24 - 8 * (k & 3))) >> 24) | 0;
}

/**
 * The reference dequantiser: `q · s` in f32 for every value of rows `[r0, r1)` (default all),
 * written into `out` (or a new array). The GPU kernels compute exactly these products.
 */
export function dequantize(m: QuantMatrix, out?: Float32Array, r0 = 0, r1 = m.rows): Float32Array {
  const { format, cols } = m;
  const G = groupsPerRow(cols);
  const wpg = WORDS_PER_GROUP[format];
  const dst = out ?? new Float32Array((r1 - r0) * cols);
  for (let r = r0; r < r1; r++) {
    const o = (r - r0) * cols;
    for (let g = 0; g < G; g++) {
      const s = f16BitsToF32(m.scales[r * G + g]);
      const wo = (r * G + g) * wpg;
      const n = Math.min(GROUP_SIZE, cols - g * GROUP_SIZE);
      // an f32 product of a small integer and an f16 value is exact in f64 and in f32
      for (let j = 0; j < n; j++) dst[o + g * GROUP_SIZE + j] = quantAt(format, m.data, wo, j) * s;
    }
  }
  return dst;
}

/** Rows `[r0, r1)` of a quantised matrix (views of its arrays, no copy). */
export function sliceRows(m: QuantMatrix, r0: number, r1: number): QuantMatrix {
  const G = groupsPerRow(m.cols);
  const wpr = wordsPerRow(m.format, m.cols);
  return {
    format: m.format,
    rows: r1 - r0,
    cols: m.cols,
    data: m.data.subarray(r0 * wpr, r1 * wpr),
    scales: m.scales.subarray(r0 * G, r1 * G),
  };
}

/** Stacks the rows of quantised matrices of one format and width. */
export function concatRows(parts: readonly QuantMatrix[], name = 'matrix'): QuantMatrix {
  const { format, cols } = parts[0];
  for (const p of parts) {
    if (p.format !== format || p.cols !== cols) {
      throw new QuantFormatError(
        name,
        `cannot stack ${p.format} [${p.rows}, ${p.cols}] onto ${format} rows of ${cols}`,
      );
    }
  }
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const data = new Uint32Array(rows * wordsPerRow(format, cols));
  const scales = new Uint16Array(rows * groupsPerRow(cols));
  let d = 0;
  let s = 0;
  for (const p of parts) {
    data.set(p.data, d);
    scales.set(p.scales, s);
    d += p.data.length;
    s += p.scales.length;
  }
  return { format, rows, cols, data, scales };
}

/** Int8 activations (see {@link quantizeActivations}): values `q [M, G·32]` and one scale per group `[M, G]`. */
export interface Int8Activations {
  q: Int8Array;
  scales: Float32Array;
}

/**
 * The reference of the int8 activations that the quantised decode GEMV multiplies (gpu/gemv.ts):
 * each group of 32 values of a row of `x [M, K]` (values past K are 0) gets the scale
 * `s = max|x| / 127` and `q = round(x · (127 / max|x|))`, rounded half away from zero, in f32
 * arithmetic as on the GPU. A group of zeros has scale 0 and q 0.
 */
export function quantizeActivations(x: Float32Array, M: number, K: number): Int8Activations {
  const G = groupsPerRow(K);
  const q = new Int8Array(M * G * GROUP_SIZE);
  const scales = new Float32Array(M * G);
  for (let m = 0; m < M; m++) {
    for (let g = 0; g < G; g++) {
      const k0 = g * GROUP_SIZE;
      const n = Math.min(GROUP_SIZE, K - k0);
      let amax = 0;
      for (let j = 0; j < n; j++) amax = Math.max(amax, Math.abs(x[m * K + k0 + j]));
      const inv = amax > 0 ? Math.fround(127 / amax) : 0;
      scales[m * G + g] = Math.fround(amax / 127);
      for (let j = 0; j < n; j++) {
        const t = Math.fround(x[m * K + k0 + j] * inv);
        q[(m * G + g) * GROUP_SIZE + j] = Math.max(-127, Math.min(127, roundHalfAway(t)));
      }
    }
  }
  return { q, scales };
}
