/**
 * Quantisation on the GPU: f32 values `[rows, cols]` (e.g. random weights filled in place by
 * ./random-init.ts) into a q8 / q4 matrix in the layout of ../quant/formats.ts, bit for bit what
 * the reference `quantize` writes for the same values — so `fromRandom` of the 7B shape in q8 / q4
 * needs neither CPU random numbers nor CPU quantisation.
 *
 * The reference computes the scale and `w / s` in f64; one f32 division can land on the other
 * side of a rounding boundary. So the kernel decides every rounding exactly, by comparisons in
 * f32 that involve no rounding:
 * - the scale `|m| / D` (D = 127 for q8, 8 for q4; `m` the value of largest magnitude, the first
 *   one on ties, as in the reference) rounded to f16, nearest even: a candidate from the f32
 *   quotient, then moved while `|m|` is above (or on, for an odd candidate) `D · midpoint` of the
 *   candidate and the next f16 value — a midpoint has at most 12 significant bits, so `D · midpoint`
 *   (≤ 19 bits) is exact in f32. Scales over 65 504 are clamped to 65 504 as in the reference.
 * - `q = round(w / s)` half away from zero: `n ≈ |w| / |s| + 0.5`, corrected while
 *   `(n − ½)·|s| > |w|` or `(n + ½)·|s| ≤ |w|` (at most 9 + 11 significant bits: exact).
 *
 * One invocation writes two groups (one u32 word of scales, so that no two invocations share a
 * word). Inputs must be finite and not f32-subnormal (GPUs may flush those; the reference does not).
 */
import { type DispatchBatch, defineParams, type GpuContext, type GpuTensor } from '@mlstm/kernels-webgpu';
import { ModelArgumentError } from '../errors.js';
import { groupsPerRow, type QuantFormat, WORDS_PER_GROUP } from '../quant/formats.js';
import type { QuantGpuMatrix } from './qmatmul.js';

const quantizeParams = defineParams({ cols: 'u32', G: 'u32', groups: 'u32', group0: 'u32' });
const WG = 64;

function quantizeWgsl(format: QuantFormat): string {
  const q4 = format === 'q4';
  const wpg = WORDS_PER_GROUP[format];
  const per = q4 ? 8 : 4;
  const bits = q4 ? 4 : 8;
  return `${quantizeParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> wq: array<u32>;
@group(0) @binding(3) var<storage, read_write> scales: array<u32>;

// the value of f16 bits (no sign) as f32: exact
fn f16val(b: u32) -> f32 {
  let e = b >> 10u;
  let m = b & 1023u;
  if (e == 0u) { return f32(m) * 5.9604644775390625e-8; }
  return f32(1024u + m) * exp2(f32(i32(e) - 25));
}
// f16 bits of a / D (a ≥ 0, D = ${q4 ? 8 : 127}), round to nearest even, clamped to 65504
fn scaleBits(a: f32) -> u32 {
  let D = ${q4 ? '8.0' : '127.0'};
  if (a > D * 65504.0) { return 0x7bffu; }
  let t = a / D;
  // candidate: the f16 bits of t truncated, one step down
  let fb = bitcast<u32>(t);
  let e = i32((fb >> 23u) & 255u) - 127 + 15;
  var c = 0u;
  if (e >= 1) {
    c = (u32(e) << 10u) | ((fb >> 13u) & 1023u);
  } else if (e > -11) {
    c = ((fb & 0x7fffffu) | 0x800000u) >> u32(14 - e);
  }
  if (c > 0u) { c = c - 1u; }
  for (var it = 0u; it < 4u; it++) {
    if (c >= 0x7bffu) { break; }
    let mid = 0.5 * (f16val(c) + f16val(c + 1u));
    let lim = D * mid;
    if (a > lim || (a == lim && (c & 1u) == 1u)) { c = c + 1u; } else { break; }
  }
  return c;
}
// one group: its f16 scale bits, its words written
fn group(gi: u32) -> u32 {
  let row = gi / P.G;
  let g = gi % P.G;
  let base = (row - P.group0 / P.G) * P.cols + g * 32u; // src holds rows from group0 / G on
  let n = min(32u, P.cols - g * 32u);
  var m = 0.0;
  var am = 0.0;
  for (var j = 0u; j < n; j++) {
    let v = src[base + j];
    if (abs(v) > am) { am = abs(v); m = v; }
  }
  var sb = 0u;
  if (am > 0.0) {
    sb = scaleBits(am);
    ${q4 ? 'if (m > 0.0) { sb = sb | 0x8000u; }' : ''}
  }
  let s = f16val(sb & 0x7fffu);
  let neg = (sb & 0x8000u) != 0u;
  let wo = gi * ${wpg}u;
  for (var w = 0u; w < ${wpg}u; w++) {
    var word = 0u;
    for (var j = 0u; j < ${per}u; j++) {
      let k = w * ${per}u + j;
      var q = 0i;
      if (k < n && s > 0.0) {
        let v = src[base + k];
        let a = abs(v);
        var r = min(floor(a / s + 0.5), 200.0);
        if ((r - 0.5) * s > a) { r = r - 1.0; }
        if ((r + 0.5) * s <= a) { r = r + 1.0; }
        q = i32(r);
        if ((v < 0.0) != neg) { q = -q; }
        q = clamp(q, ${q4 ? '-8i, 7i' : '-127i, 127i'});
      }
      word = word | ((bitcast<u32>(q + ${q4 ? 8 : 0}i) & ${q4 ? 15 : 255}u) << (${bits}u * j));
    }
    wq[wo + w] = word;
  }
  return sb;
}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  let g0 = P.group0 + 2u * i;
  if (2u * i >= P.groups) { return; }
  let lo = group(g0);
  var hi = 0u;
  if (2u * i + 1u < P.groups) { hi = group(g0 + 1u); }
  scales[g0 / 2u] = lo | (hi << 16u);
}`;
}

/**
 * Quantises `src` (f32, rows `[row0, row0 + rows)` of `out`, row-major `[rows, out.cols]`) into
 * those rows of `out` (words and scales). `row0 · groupsPerRow(cols)` must be even (a scale word
 * belongs to one call); `rows` defaults to the rows `src` holds.
 */
export function encodeQuantize(
  ctx: GpuContext,
  batch: DispatchBatch,
  src: GpuTensor,
  out: QuantGpuMatrix,
  row0 = 0,
  rows = Math.floor(src.numel / out.cols),
): void {
  const G = groupsPerRow(out.cols);
  if (src.dtype !== 'f32') throw new ModelArgumentError('src', `f32 values, got ${src.dtype}`);
  if (rows < 1 || src.numel < rows * out.cols || row0 + rows > out.rows) {
    throw new ModelArgumentError(
      'src',
      `rows [${row0}, ${row0 + rows}) of a [${out.rows}, ${out.cols}] matrix, got ${src.numel} values`,
    );
  }
  if ((row0 * G) % 2 !== 0) {
    throw new ModelArgumentError('row0', `row0 · groups per row even, got ${row0} · ${G}`);
  }
  const p = ctx.pipeline(`hf.quantize:${out.format}`, () => quantizeWgsl(out.format), [
    'uniform',
    'read',
    'rw',
    'rw',
  ]);
  const groups = rows * G;
  const wgs = Math.ceil(groups / 2 / WG);
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const y = Math.ceil(wgs / max);
  batch.dispatch(
    p,
    [src, out.data, out.scales],
    quantizeParams.pack({ cols: out.cols, G, groups, group0: row0 * G }),
    [Math.ceil(wgs / y), y],
    `quantize ${out.format}`,
  );
}
