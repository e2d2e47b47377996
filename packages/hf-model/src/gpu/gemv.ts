/**
 * The decode matmul: `y[M, N] (+)= x[M, K]·W[N, K]ᵀ (+ b)` for few rows of x (M ≤ 32: one token
 * per sequence of a batch), shaped to stream W once at memory bandwidth.
 *
 * - Wide loads: each invocation reads `vec` weights at once (f16: 8 as a `vec4<u32>` unpacked
 *   with `unpack2x16float`, 4 / 2 as `vec2<u32>` / `u32`; f32: 4 / 2 as vectors), the widest that
 *   divides K (row starts stay aligned), so any K works.
 * - A workgroup of {@link GEMV_WG} invocations holds `rg` row groups; the `tpr = WG / rg`
 *   invocations of one group split K (the in-workgroup split-K) and each of them keeps `nr` rows
 *   of W × `mt` rows of x of partial sums: each weight load serves `mt` rows of x, each x load
 *   `nr` rows of W. Out-of-range rows are clamped for the loads (no branch in the loop) and
 *   dropped in the epilogue.
 * - The partial sums of a group are reduced with subgroup operations where the adapter has
 *   `subgroups` (`subgroupAdd` when a subgroup lies inside one group, `subgroupShuffleXor`
 *   within segments otherwise), then across subgroups in workgroup memory; without subgroups
 *   entirely in workgroup memory.
 * - Epilogue as the tiled kernel: bias, logit soft cap, residual accumulation, output columns
 *   `[nOff, nOff + N)` of a `y` with `ldy` columns (weights split into row parts). Optionally the
 *   soft cap on the last columns only (`softcapFrom`) and the columns written as separate blocks
 *   (`outBlocks`: the decode step's projection writes q, k, v, o and the gates as head-first
 *   tensors that the recurrent step reads in place, the gates soft-capped on the way).
 * - Optional SwiGLU input (`swiglu`): x is `u [M, 2K]` and the kernel reads
 *   `silu(u[:, :K]) · u[:, K:]` (the FFN's down projection without a separate dispatch).
 * - Optional RMSNorm input (`norm`): x is the residual stream and the kernel multiplies
 *   `RMSNorm(x)·Wᵀ = r·((x ⊙ w_norm)·Wᵀ)` with `r = 1/sqrt(mean(x²) + eps)`: every group of a
 *   workgroup reads its whole x rows anyway, so it adds up their squares on the way and applies `r`
 *   in the epilogue (a block's two RMSNorm dispatches fold into the projections that follow them).
 *
 * - Quantised weights (q8, q4; layout in ../quant/formats.ts) with int8 activations
 *   ({@link encodeQGemv}): a first dispatch quantises each group of 32 values of a row of x to
 *   int8 with one f32 scale (symmetric, max|x| / 127; the SwiGLU input applied on the way), laid
 *   out in the byte order of the weight words; then each load step of the GEMV is one group of
 *   32 weights (q4: one `vec4<u32>`, q8: two) and its dot product with the group of x is 8 (q4,
 *   after splitting the nibbles into bytes) or 8 (q8) `dot4I8Packed`, scaled once by the two
 *   scales. Needs WGSL's packed 4×8-bit integer dot product.
 *
 * Accumulation is f32 in a fixed order per (config, shape), so results are deterministic.
 */
import {
  type DispatchBatch,
  defineParams,
  type GpuContext,
  type GpuDtype,
  type GpuTensor,
} from '@mlstm/kernels-webgpu';
import { ModelArgumentError } from '../errors.js';
import { groupsPerRow, isQuantFormat, type QuantFormat } from '../quant/formats.js';
import type { QuantGpuMatrix } from './qmatmul.js';

/** Invocations per workgroup of the GEMV kernel. */
export const GEMV_WG = 256;
/** The most rows of x one dispatch handles per workgroup row tile (`mt`); larger M tiles over z. */
export const GEMV_MAX_MT = 8;

/** The weight formats of the GEMV: dense f32 / f16, or quantised (int8 activations). */
export type GemvFormat = GpuDtype | QuantFormat;

/** Code parameters of one GEMV pipeline (every field is part of the pipeline key). */
export interface GemvConfig {
  /** weights per load: 8 / 4 / 2 / 1 for f16, 4 / 2 / 1 for f32 (must divide K); 32 (a group) for q8 / q4 */
  vec: number;
  /** row groups per workgroup (power of two dividing {@link GEMV_WG}) */
  rg: number;
  /** rows of W per invocation */
  nr: number;
  /** rows of x per workgroup */
  mt: number;
  /** reduce with subgroup operations (adapter feature `subgroups`) */
  subgroups: boolean;
}

export interface GemvOptions {
  M: number;
  N: number;
  K: number;
  accumulate?: boolean;
  softcap?: number | null;
  /** `w` holds output columns `[nOff, nOff + N)` of a `y` with `ldy` columns */
  nOff?: number;
  ldy?: number;
  /** x is `u [M, 2K]`; the kernel multiplies `silu(u[:, :K]) · u[:, K:]` */
  swiglu?: boolean;
  /**
   * RMSNorm of x on the way in (no norm bias): the kernel multiplies `x / sqrt(mean(x²) + eps) ⊙ w`
   * with `w` f32 `[K]`; not with `swiglu`
   */
  norm?: GemvNorm | null;
  /** code parameters (default {@link gemvConfig}) */
  config?: Partial<GemvConfig>;
  /** the soft cap applies to the output columns from this one on (of all `ldy`; default 0: all) */
  softcapFrom?: number;
  /** the output columns as separate `[M, width]` blocks of `y` (see {@link GemvOutBlocks}) */
  outBlocks?: GemvOutBlocks | null;
}

/** Most column blocks of {@link GemvOutBlocks}. */
export const GEMV_MAX_OUT_BLOCKS = 6;

/**
 * The output columns `[0, ldy)` cut into consecutive blocks of `widths` (they add up to `ldy`),
 * block j stored as an `[M, widths[j]]` matrix starting at element `starts[j]` of y (a block's
 * rows are contiguous, so for M rows each block is a ready tensor; starts are the caller's to
 * align for sub-views).
 */
export interface GemvOutBlocks {
  widths: readonly number[];
  starts: readonly number[];
}

/** The RMSNorm folded into a GEMV's input (see {@link GemvOptions.norm}). */
export interface GemvNorm {
  /** f32 `[K]` norm weight */
  w: GpuTensor;
  eps: number;
}

const params = defineParams({
  M: 'u32',
  N: 'u32',
  KC: 'u32',
  hasBias: 'u32',
  accumulate: 'u32',
  softcap: 'f32',
  nOff: 'u32',
  ldy: 'u32',
  xRow: 'u32',
  xUp: 'u32',
  normK: 'u32',
  normEps: 'f32',
  capFrom: 'u32',
  // column bounds of the output blocks (cb1…cb5; unused ones = ldy) and their starts in y
  cb1: 'u32',
  cb2: 'u32',
  cb3: 'u32',
  cb4: 'u32',
  cb5: 'u32',
  st0: 'u32',
  st1: 'u32',
  st2: 'u32',
  st3: 'u32',
  st4: 'u32',
  st5: 'u32',
  blocked: 'u32',
  inRow: 'u32',
});

/** The epilogue parameters of the output layout (plain `ldy` rows, or blocks) and the soft-cap start. */
function outParams(o: GemvOptions, ldy: number) {
  const cb = Array(5).fill(ldy);
  const st = Array(6).fill(0);
  const b = o.outBlocks;
  if (b) {
    let c = 0;
    b.widths.forEach((w, j) => {
      if (j > 0) cb[j - 1] = c;
      st[j] = b.starts[j];
      c += w;
    });
  }
  return {
    capFrom: o.softcapFrom ?? 0,
    cb1: cb[0],
    cb2: cb[1],
    cb3: cb[2],
    cb4: cb[3],
    cb5: cb[4],
    st0: st[0],
    st1: st[1],
    st2: st[2],
    st3: st[3],
    st4: st[4],
    st5: st[5],
    blocked: b ? 1 : 0,
  };
}

const pow2Floor = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));

/** The widest load (in weights) that divides K; quantised formats: one group of 32. */
export function gemvVec(dtype: GemvFormat, K: number): number {
  if (isQuantFormat(dtype)) return 32;
  for (const v of dtype === 'f16' ? [8, 4, 2] : [4, 2]) if (K % v === 0) return v;
  return 1;
}

/** Load steps per row of W: K / vec, or the groups of a quantised row. */
const loadsPerRow = (dtype: GemvFormat, vec: number, K: number) =>
  isQuantFormat(dtype) ? groupsPerRow(K) : K / vec;

/**
 * Default code parameters: `mt` balances the row tiles of x, `nr` keeps `mt·nr ≤ 16` partial
 * sums per invocation, and the group width `tpr` is the smallest that still gives about 512
 * workgroups (enough bytes in flight on a large GPU) without idle invocations in K. From the
 * H100 sweep of docs/benchmarks/h100-decode: with one x row, matrices of up to 2^26 weights
 * (without the SwiGLU input) stream fastest with 2 rows per invocation and groups of 128; with
 * several x rows, groups of at least 64. Quantised rows have 4× fewer load steps (a group of 32
 * per step), so their groups start at one subgroup.
 */
export function gemvConfig(
  ctx: Pick<GpuContext, 'features' | 'limits'>,
  dtype: GemvFormat,
  M: number,
  N: number,
  K: number,
  swiglu = false,
): GemvConfig {
  const tiles = Math.ceil(M / GEMV_MAX_MT);
  const mt = Math.ceil(M / tiles);
  const small = mt === 1 && !swiglu && N * K <= 2 ** 26;
  const nr = small ? 2 : Math.max(1, Math.min(4, pow2Floor(16 / mt)));
  const vec = gemvVec(dtype, K);
  const KC = loadsPerRow(dtype, vec, K);
  const want = Math.ceil((512 * GEMV_WG * nr) / Math.max(1, N));
  const sgMin = ctx.features.subgroups ? Math.max(8, ctx.features.subgroupMaxSize) : 8;
  const pref = isQuantFormat(dtype) ? sgMin : small ? 128 : mt > 1 ? 64 : sgMin;
  // at least mt·nr lanes per group: one invocation per (group, value) adds up the partial sums
  const minTpr = Math.max(
    sgMin,
    2 ** Math.ceil(Math.log2(mt * nr)),
    Math.min(pref, 2 ** Math.ceil(Math.log2(KC))),
  );
  let tpr = Math.min(GEMV_WG, 2 ** Math.ceil(Math.log2(Math.max(minTpr, want))));
  while (tpr > minTpr && tpr / 2 >= KC) tpr /= 2;
  return { vec, rg: GEMV_WG / tpr, nr, mt, subgroups: ctx.features.subgroups };
}

/** Floats of the reduction buffer in workgroup memory. */
function redFloats(c: GemvConfig, minSubgroup: number, norm: boolean): number {
  const tpr = GEMV_WG / c.rg;
  const seg = c.subgroups ? Math.min(tpr, Math.max(1, minSubgroup)) : 1;
  return c.mt * (c.nr + (norm ? 1 : 0)) * (GEMV_WG / seg);
}

function checkConfig(
  c: GemvConfig,
  dtype: GemvFormat,
  K: number,
  ctx: Pick<GpuContext, 'features' | 'limits'>,
  norm: boolean,
) {
  const bad = (k: string, want: string, got: unknown) =>
    new ModelArgumentError(`gemv config.${k}`, `expected ${want}, got ${got}`);
  if (isQuantFormat(dtype)) {
    if (c.vec !== 32) throw bad('vec', '32 (one group) for quantised weights', c.vec);
  } else {
    const vecs = dtype === 'f16' ? [8, 4, 2, 1] : [4, 2, 1];
    if (!vecs.includes(c.vec) || K % c.vec !== 0) throw bad('vec', `one of ${vecs} dividing K = ${K}`, c.vec);
  }
  if (!(c.rg >= 1 && c.rg <= GEMV_WG && GEMV_WG % c.rg === 0 && pow2Floor(c.rg) === c.rg))
    throw bad('rg', `a power of two dividing ${GEMV_WG}`, c.rg);
  if (!(Number.isInteger(c.nr) && c.nr >= 1 && c.nr <= 8)) throw bad('nr', 'an integer in [1, 8]', c.nr);
  if (!(Number.isInteger(c.mt) && c.mt >= 1 && c.mt <= 32)) throw bad('mt', 'an integer in [1, 32]', c.mt);
  if (c.rg * c.mt * c.nr > GEMV_WG)
    throw bad(
      'rg·mt·nr',
      `at most ${GEMV_WG} (one invocation per row group and partial sum)`,
      c.rg * c.mt * c.nr,
    );
  if (c.subgroups && !ctx.features.subgroups) throw bad('subgroups', 'false (no subgroups feature)', true);
  const bytes = 4 * redFloats(c, ctx.features.subgroupMinSize, norm);
  if (bytes > ctx.limits.maxComputeWorkgroupStorageSize)
    throw bad('mt·nr', `a reduction of at most ${ctx.limits.maxComputeWorkgroupStorageSize} bytes`, bytes);
}

/** WGSL of the weight storage type and the expression that unpacks load `q` into f32 pieces. */
function weightAccess(dtype: GpuDtype, vec: number): { type: string; pieces: (q: string) => string[] } {
  if (dtype === 'f32') {
    return { type: vec === 1 ? 'f32' : `vec${vec}<f32>`, pieces: (q) => [q] };
  }
  const u = (q: string) => `unpack2x16float(${q})`;
  switch (vec) {
    case 8:
      return {
        type: 'vec4<u32>',
        pieces: (q) => [
          `vec4<f32>(${u(`${q}.x`)}, ${u(`${q}.y`)})`,
          `vec4<f32>(${u(`${q}.z`)}, ${u(`${q}.w`)})`,
        ],
      };
    case 4:
      return { type: 'vec2<u32>', pieces: (q) => [`vec4<f32>(${u(`${q}.x`)}, ${u(`${q}.y`)})`] };
    case 2:
      return { type: 'u32', pieces: (q) => [u(q)] };
    default:
      return { type: 'f16', pieces: (q) => [`f32(${q})`] };
  }
}

/** WGSL: `scale(i)`, the f16 scale `i` of the `scales` binding (two per u32 word) as f32. */
export const SCALE_WGSL = `
fn scale(i: u32) -> f32 { return unpack2x16float(scales[i >> 1u])[i & 1u]; }`;

/**
 * u32 words of one quantised group of activations: 8 words of int8 values, then (scale, scale·Σq,
 * Σx² of the raw values — read by a GEMV with the folded RMSNorm — and padding).
 */
const ACT_WORDS = 12;

/** The main loop body of the quantised GEMV: one group of 32 weights per W row, int8 dot products. */
function quantBody(
  fmt: QuantFormat,
  nr: number,
  mt: number,
  R: (m: number, r: number) => string,
  norm: boolean,
): string[] {
  const body: string[] = [];
  const c4 = ['x', 'y', 'z', 'w'];
  for (let r = 0; r < nr; r++) {
    body.push(`    let s${r} = scale(sr${r} + ck);`);
    if (fmt === 'q4') {
      body.push(`    let q${r} = w[wr${r} + ck];`);
      // nibbles 0, 2, 4, 6 and 1, 3, 5, 7 of each word as bytes (stored as q + 8)
      for (let j = 0; j < 4; j++) {
        body.push(`    let l${r}_${j} = q${r}.${c4[j]} & 0x0F0F0F0Fu;`);
        body.push(`    let h${r}_${j} = (q${r}.${c4[j]} >> 4u) & 0x0F0F0F0Fu;`);
      }
    } else {
      body.push(`    let q${r}_0 = w[wr${r} + 2u * ck];`, `    let q${r}_1 = w[wr${r} + 2u * ck + 1u];`);
    }
  }
  for (let m = 0; m < mt; m++) {
    body.push('    {');
    body.push(`      let xa = x[xr${m} + 3u * ck];`, `      let xb = x[xr${m} + 3u * ck + 1u];`);
    body.push(`      let xs = bitcast<vec3<f32>>(x[xr${m} + 3u * ck + 2u].xyz);`);
    // (the record's third word: the group's Σx² of the raw x, for the folded RMSNorm)
    if (norm) body.push(`      ss${m} += xs.z;`);
    for (let r = 0; r < nr; r++) {
      const terms: string[] = [];
      for (let j = 0; j < 8; j++) {
        const xw = `${j < 4 ? 'xa' : 'xb'}.${c4[j % 4]}`;
        const ww = fmt === 'q4' ? `${j % 2 === 0 ? 'l' : 'h'}${r}_${j >> 1}` : `q${r}_${j >> 2}.${c4[j % 4]}`;
        terms.push(`dot4I8Packed(${ww}, ${xw})`);
      }
      body.push(`      let d${r} = ${terms.join(' + ')};`);
      body.push(
        fmt === 'q4'
          ? `      ${R(m, r)} += s${r} * (xs.x * f32(d${r}) - 8.0 * xs.y);`
          : `      ${R(m, r)} += s${r} * xs.x * f32(d${r});`,
      );
    }
    body.push('    }');
  }
  return body;
}

/**
 * WGSL `quantGroup(i, r, k0)`: the group of 32 values of row r of the input starting at column k0
 * (0 past `K`; `silu(z₁)·z₂` with the SwiGLU input; x ⊙ w_norm with the folded RMSNorm, the
 * group's Σx² of the raw values going into the record) quantised by {@link storeActsWgsl} as record
 * `i` of `target`. One definition of what the int8 activations hold, shared by the quantiser
 * dispatch and the GEMV that quantises in its workgroups. `src`, `K`, `row` (row stride) and `up`
 * (offset of the SwiGLU's up half) are WGSL expressions; the norm weight is the binding `nw`.
 */
function quantGroupWgsl(
  fmt: QuantFormat,
  target: string,
  o: { src: string; K: string; row: string; up: string; swiglu: boolean; norm: boolean },
): string {
  const { src, K } = o;
  return `${storeActsWgsl(fmt, target)}
fn inAt(r: u32, k: u32) -> f32 {
  if (k >= ${K}) { return 0.0; }
  let at = r * ${o.row} + k;
${
  o.swiglu
    ? `  let z = ${src}[at];
  let e = exp(-abs(z));
  return z * select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0) * ${src}[at + ${o.up}];`
    : `  return ${src}[at];`
}
}
fn quantGroup(i: u32, r: u32, k0: u32) {
  var v: array<f32, 32>;
  var ss = 0.0;
  for (var j = 0u; j < 32u; j++) {
    let u = inAt(r, k0 + j);
${
  o.norm
    ? `    ss += u * u;
    v[j] = u * select(0.0, nw[min(k0 + j, ${K} - 1u)], k0 + j < ${K});`
    : '    v[j] = u;'
}
  }
  storeActs(i, v, ${o.norm ? 'ss' : '0.0'});
}`;
}

/**
 * Declarations of the in-workgroup activation quantiser (see {@link QGemvOptions.inlineActs}): the
 * records of the tile's rows in workgroup memory under the name the main loop reads (`x`), the raw
 * input `xin` (row stride `P.inRow`; SwiGLU: the up half `P.xUp` further), the norm weight at
 * binding 6, and {@link quantGroupWgsl} writing into `x`.
 */
function inlineDecls(
  fmt: QuantFormat,
  inline: { M: number; G: number },
  swiglu: boolean,
  norm: boolean,
): string {
  return `
${norm ? '@group(0) @binding(6) var<storage, read> nw: array<f32>;' : ''}
var<workgroup> x: array<vec4<u32>, ${3 * inline.M * inline.G}>;
${quantGroupWgsl(fmt, 'x', { src: 'xin', K: 'P.normK', row: 'P.inRow', up: 'P.xUp', swiglu, norm })}`;
}

/** The WGSL source of one configuration. */
export function gemvWgsl(
  dtype: GemvFormat,
  c: GemvConfig,
  swiglu: boolean,
  minSubgroup: number,
  norm = false,
  /** quantised weights: each workgroup quantises its tile's M rows of x (G groups each) itself */
  inline: { M: number; G: number } | null = null,
): string {
  const { vec, rg, nr, mt } = c;
  const tpr = GEMV_WG / rg;
  const quant = isQuantFormat(dtype);
  const xw = Math.min(vec, 4); // x loads are vectors of xw floats
  const P = vec / xw; // pieces (x loads) per weight load
  const xt = quant ? 'vec4<u32>' : xw === 1 ? 'f32' : `vec${xw}<f32>`;
  const V = mt * nr;
  const minSeg = c.subgroups ? Math.min(tpr, Math.max(1, minSubgroup)) : 1;
  const stride = GEMV_WG / minSeg; // slots per value in `red`
  const R = (m: number, r: number) => `a${m}_${r}`;

  // the main loop body: nr weight loads, then per x row one x load used by every weight row
  let body: string[] = [];
  let wType = 'vec4<u32>';
  if (quant) body = quantBody(dtype, nr, mt, R, norm);
  else {
    const wa = weightAccess(dtype, vec);
    wType = wa.type;
    const dot = (a: string, b: string) => (xw === 1 ? `${a} * ${b}` : `dot(${a}, ${b})`);
    for (let r = 0; r < nr; r++) {
      body.push(`    let q${r} = w[wr${r} + ck];`);
      for (const [p, e] of wa.pieces(`q${r}`).entries()) body.push(`    let w${r}_${p} = ${e};`);
    }
    for (let m = 0; m < mt; m++) {
      body.push('    {');
      for (let p = 0; p < P; p++) {
        const at = `xr${m} + ck * ${P}u + ${p}u`;
        if (norm) {
          // the raw value's square into the row's sum, the product with the norm weight into the dot
          body.push(`      let xv${p} = x[${at}];`);
          body.push(`      ss${m} += ${xw === 1 ? `xv${p} * xv${p}` : `dot(xv${p}, xv${p})`};`);
          body.push(`      let x${p} = xv${p} * nw[ck * ${P}u + ${p}u];`);
        } else
          body.push(
            swiglu ? `      let x${p} = silu_v(x[${at}]) * x[${at} + P.xUp];` : `      let x${p} = x[${at}];`,
          );
      }
      for (let r = 0; r < nr; r++) {
        const terms = Array.from({ length: P }, (_, p) => dot(`w${r}_${p}`, `x${p}`)).join(' + ');
        body.push(`      ${R(m, r)} += ${terms};`);
      }
      body.push('    }');
    }
  }
  // row starts: W in loads (quantised: vec4 words, 1 or 2 per group), scales, x
  const wpl = quant ? (dtype === 'q8' ? 2 : 1) : 1;
  const rowStarts = Array.from(
    { length: nr },
    (_, r) =>
      `  let wr${r} = min(n0 + ${r}u, P.N - 1u) * P.KC${wpl > 1 ? ` * ${wpl}u` : ''};` +
      (quant ? `\n  let sr${r} = min(n0 + ${r}u, P.N - 1u) * P.KC;` : ''),
  ).join('\n');

  const reduceOne = (v: string, slot: number) =>
    c.subgroups
      ? `  {
    var s = ${v};
    if (sg <= TPR) { s = subgroupAdd(s); } else {
      for (var o = TPR / 2u; o > 0u; o = o / 2u) { s += subgroupShuffleXor(s, o); }
    }
    if (tid % seg == 0u) { red[${slot}u * STRIDE + tid / seg] = s; }
  }`
      : `  red[${slot}u * STRIDE + tid] = ${v};`;

  return /* wgsl */ `${dtype === 'f16' && vec === 1 ? 'enable f16;' : ''}
${c.subgroups ? 'enable subgroups;\ndiagnostic(off, subgroup_uniformity);' : ''}
${params.wgsl()}
const TPR: u32 = ${tpr}u;
const RG: u32 = ${rg}u;
const NR: u32 = ${nr}u;
const MT: u32 = ${mt}u;
const STRIDE: u32 = ${stride}u;
@group(0) @binding(0) var<uniform> P: Params;
${inline ? '@group(0) @binding(1) var<storage, read> xin: array<f32>;' : `@group(0) @binding(1) var<storage, read> x: array<${xt}>;`}
@group(0) @binding(2) var<storage, read> w: array<${wType}>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
${quant ? `@group(0) @binding(5) var<storage, read> scales: array<u32>;${SCALE_WGSL}` : ''}${norm && !quant ? `@group(0) @binding(5) var<storage, read> nw: array<${xt}>;` : ''}${inline ? inlineDecls(dtype as QuantFormat, inline, swiglu, norm) : ''}
var<workgroup> red: array<f32, ${(V + (norm ? mt : 0)) * stride}>;
${
  quant
    ? ''
    : `
fn silu_v(z: ${xt}) -> ${xt} {
  let e = exp(-abs(z));
  return z * select(e / (1.0 + e), 1.0 / (1.0 + e), z >= ${xt}(0.0));
}`
}

// where output (m, column c) lives: row m of y, or row m of c's column block
fn outAt(m: u32, c: u32) -> u32 {
  if (P.blocked == 0u) { return m * P.ldy + c; }
  var lo = 0u; var hi = P.cb1; var st = P.st0;
  if (c >= P.cb1) { lo = P.cb1; hi = P.cb2; st = P.st1; }
  if (c >= P.cb2) { lo = P.cb2; hi = P.cb3; st = P.st2; }
  if (c >= P.cb3) { lo = P.cb3; hi = P.cb4; st = P.st3; }
  if (c >= P.cb4) { lo = P.cb4; hi = P.cb5; st = P.st4; }
  if (c >= P.cb5) { lo = P.cb5; hi = P.ldy; st = P.st5; }
  return st + m * (hi - lo) + (c - lo);
}

fn epilogue(m: u32, n: u32, acc: f32) {
  var v = acc;
  if (P.hasBias != 0u) { v += bias[P.nOff + n]; }
  if (P.softcap > 0.0 && P.nOff + n >= P.capFrom) { v = P.softcap * tanh(clamp(v / P.softcap, -20.0, 20.0)); }
  let o = outAt(m, P.nOff + n);
  if (P.accumulate != 0u) { v += y[o]; }
  y[o] = v;
}

@compute @workgroup_size(${GEMV_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) tid: u32${c.subgroups ? ', @builtin(subgroup_size) sg: u32' : ''}) {
  let group = tid / TPR;
  let lane = tid % TPR;
  let n0 = ((wid.x + wid.y * nwg.x) * RG + group) * NR; // first row of W of this group
  let m0 = wid.z * MT;
${rowStarts}
${Array.from({ length: mt }, (_, m) => (inline ? `  let xr${m} = ${m}u * P.xRow;` : `  let xr${m} = min(m0 + ${m}u, P.M - 1u) * P.xRow;`)).join('\n')}
${Array.from({ length: mt }, (_, m) => Array.from({ length: nr }, (_, r) => `  var ${R(m, r)} = 0.0;`).join('\n')).join('\n')}
${norm ? Array.from({ length: mt }, (_, m) => `  var ss${m} = 0.0;`).join('\n') : ''}
${
  inline
    ? `  // this workgroup's int8 activations: every group of 32 of the x rows, into workgroup memory
  for (var i = tid; i < ${inline.M * inline.G}u; i += ${GEMV_WG}u) {
    quantGroup(i, min(m0 + i / ${inline.G}u, P.M - 1u), (i % ${inline.G}u) * 32u);
  }
  workgroupBarrier();`
    : ''
}
  for (var ck = lane; ck < P.KC; ck += TPR) {
${body.join('\n')}
  }
${c.subgroups ? '  let seg = min(TPR, sg);' : ''}
${Array.from({ length: mt }, (_, m) => Array.from({ length: nr }, (_, r) => reduceOne(R(m, r), m * nr + r)).join('\n')).join('\n')}
${norm ? Array.from({ length: mt }, (_, m) => reduceOne(`ss${m}`, V + m)).join('\n') : ''}
  workgroupBarrier();
  // one invocation per (group, x row, W row) adds the group's partial sums
  if (tid < RG * ${V}u) {
    let g = tid / ${V}u;
    let v = tid % ${V}u;
    let m = m0 + v / NR;
    let n = (((wid.x + wid.y * nwg.x) * RG + g) * NR) + v % NR;
    ${c.subgroups ? 'let parts = TPR / seg;' : 'let parts = TPR;'}
    var s = 0.0;
    for (var j = 0u; j < parts; j++) { s += red[v * STRIDE + g * parts + j]; }
${
  norm
    ? `    // the folded RMSNorm: the group's sum of squares of x row m (in the same order for every n)
    var ss = 0.0;
    for (var j = 0u; j < parts; j++) { ss += red[(${V}u + v / NR) * STRIDE + g * parts + j]; }
    s *= inverseSqrt(ss / f32(P.normK) + P.normEps);`
    : ''
}
    if (m < P.M && n < P.N) { epilogue(m, n, s); }
  }
}`;
}

/** Splits a flat workgroup count over (x, y), each at most `max`. */
export function splitWorkgroups(count: number, max: number): [number, number] {
  const y = Math.ceil(Math.max(1, count) / max);
  return [Math.ceil(Math.max(1, count) / y), y];
}

/**
 * The shape checks of both GEMVs, raised before any GPU work (`name` prefixes the argument):
 * M, N, K integers ≥ 1, then `weights()` (the weight's own checks), x holding `M` rows of K (2K
 * with SwiGLU), y holding the output columns `[nOff, nOff + N)` of `M` rows of `ldy`.
 */
function checkShapes(
  name: string,
  x: GpuTensor,
  y: GpuTensor,
  o: GemvOptions,
  weights: () => void,
): { xCols: number; ldy: number; nOff: number } {
  const { M, N, K } = o;
  for (const [k, v] of [
    ['M', M],
    ['N', N],
    ['K', K],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new ModelArgumentError(`${name} ${k}`, `expected an integer >= 1, got ${v}`);
  }
  weights();
  if (o.norm) {
    if (o.swiglu) throw new ModelArgumentError(`${name} norm`, 'expected no norm with the SwiGLU input');
    const nw = o.norm.w;
    if (nw.dtype !== 'f32' || nw.numel < K)
      throw new ModelArgumentError(
        `${name} norm.w`,
        `expected an f32 tensor of at least K = ${K} elements, got ${nw.dtype} ${nw.numel}`,
      );
    if (!(Number.isFinite(o.norm.eps) && o.norm.eps >= 0))
      throw new ModelArgumentError(`${name} norm.eps`, `expected a finite number >= 0, got ${o.norm.eps}`);
  }
  const xCols = o.swiglu ? 2 * K : K;
  if (x.numel < M * xCols)
    throw new ModelArgumentError(`${name} x`, `expected at least ${M}·${xCols} elements, got ${x.numel}`);
  const ldy = o.ldy ?? N;
  const nOff = o.nOff ?? 0;
  const b = o.outBlocks;
  if (b) {
    const { widths: w, starts: st } = b;
    const ok =
      w.length >= 1 &&
      w.length <= GEMV_MAX_OUT_BLOCKS &&
      st.length === w.length &&
      w.every((v) => Number.isInteger(v) && v >= 1) &&
      st.every((v) => Number.isInteger(v) && v >= 0);
    if (!ok || w.reduce((a, v) => a + v, 0) !== ldy)
      throw new ModelArgumentError(
        `${name} outBlocks`,
        `expected 1…${GEMV_MAX_OUT_BLOCKS} integer widths adding up to ldy = ${ldy} and as many starts, got widths [${w}] starts [${st}]`,
      );
    const end = Math.max(...w.map((v, j) => st[j] + M * v));
    if (y.numel < end)
      throw new ModelArgumentError(
        `${name} y`,
        `expected at least ${end} elements (outBlocks), got ${y.numel}`,
      );
  } else if (y.numel < (M - 1) * ldy + nOff + N)
    throw new ModelArgumentError(
      `${name} y`,
      `expected at least ${(M - 1) * ldy + nOff + N} elements, got ${y.numel}`,
    );
  return { xCols, ldy, nOff };
}

/**
 * Encodes `y (+)= x·Wᵀ (+ b)` (see the file comment). x f32 `[M, K]` (`[M, 2K]` with `swiglu`),
 * W `[N, K]` f32 or f16, b f32 `[N]` or null, y f32 `[M, ldy]`.
 */
export function encodeGemv(
  ctx: GpuContext,
  batch: DispatchBatch,
  x: GpuTensor,
  w: GpuTensor,
  b: GpuTensor | null,
  y: GpuTensor,
  o: GemvOptions,
): void {
  const { M, N, K } = o;
  const { xCols, ldy, nOff } = checkShapes('gemv', x, y, o, () => {
    if (w.numel < N * K)
      throw new ModelArgumentError('gemv w', `expected at least ${N}·${K} elements, got ${w.numel}`);
  });
  const norm = o.norm ?? null;
  const c = { ...gemvConfig(ctx, w.dtype, M, N, K, !!o.swiglu), ...o.config };
  checkConfig(c, w.dtype, K, ctx, !!norm);
  const minSg = ctx.features.subgroupMinSize;
  const key = `hf.gemv:${w.dtype}:v${c.vec}:rg${c.rg}:nr${c.nr}:mt${c.mt}:${c.subgroups ? `sg${minSg}` : 'wg'}${o.swiglu ? ':swiglu' : ''}${norm ? ':norm' : ''}`;
  const p = ctx.pipeline(
    key,
    () => gemvWgsl(w.dtype, c, !!o.swiglu, minSg, !!norm),
    norm ? ['uniform', 'read', 'read', 'read', 'rw', 'read'] : ['uniform', 'read', 'read', 'read', 'rw'],
  );
  const xw = Math.min(c.vec, 4);
  const KC = K / c.vec;
  const xRow = xCols / xw; // x row stride in x loads
  const [gx, gy] = splitWorkgroups(Math.ceil(N / (c.rg * c.nr)), ctx.limits.maxComputeWorkgroupsPerDimension);
  batch.dispatch(
    p,
    norm ? [x, w, b ?? x, y, norm.w] : [x, w, b ?? x, y],
    params.pack({
      M,
      N,
      KC,
      hasBias: b ? 1 : 0,
      accumulate: o.accumulate ? 1 : 0,
      softcap: o.softcap ?? 0,
      nOff,
      ldy,
      xRow,
      xUp: K / xw,
      normK: K,
      normEps: norm?.eps ?? 0,
      ...outParams(o, ldy),
      inRow: 0,
    }),
    [gx, gy, Math.ceil(M / c.mt)],
    o.swiglu ? 'gemv (swiglu)' : norm ? 'gemv (rmsnorm)' : 'gemv',
  );
}

const actParams = defineParams({ M: 'u32', K: 'u32', G: 'u32', xRow: 'u32', xUp: 'u32' });
const ACT_WG = 64;

/**
 * WGSL `storeActs(i, v, ss)`: group `i` of 32 values `v` quantised to int8 (symmetric, scale
 * max|v| / 127, rounded half away from zero) and written as record `i` of `acts`
 * (`array<vec4<u32>>`, 3 per group) in the byte order of the weight words: q8 word j = values
 * 4j…4j+3; q4 words 2j and 2j+1 = values 8j + (0, 2, 4, 6) and 8j + (1, 3, 5, 7) (the low and high
 * nibbles of weight word j); then (scale, scale·Σq, `ss`). Shared by the quantiser below and the
 * kernels that write int8 activations themselves (the cell's output, ./kernels.ts).
 */
export function storeActsWgsl(fmt: QuantFormat, target = 'acts'): string {
  const amax = Array.from({ length: 32 }, (_, j) => `abs(v[${j}])`).reduce((a, b) => `max(${a}, ${b})`);
  const q = Array.from({ length: 32 }, (_, j) => `  let q${j} = qz(v[${j}] * inv);`).join('\n');
  const order =
    fmt === 'q8'
      ? Array.from({ length: 8 }, (_, j) => [4 * j, 4 * j + 1, 4 * j + 2, 4 * j + 3])
      : Array.from({ length: 8 }, (_, w) => {
          const b = 8 * (w >> 1) + (w & 1);
          return [b, b + 2, b + 4, b + 6];
        });
  const words = order.map((ix) => `pack4xI8(vec4<i32>(${ix.map((i) => `q${i}`).join(', ')}))`);
  const sum = Array.from({ length: 32 }, (_, j) => `q${j}`).join(' + ');
  return /* wgsl */ `
fn qz(t: f32) -> i32 { return i32(clamp(sign(t) * floor(abs(t) + 0.5), -127.0, 127.0)); }

fn storeActs(i: u32, v: array<f32, 32>, ss: f32) {
  let amax = ${amax};
  let inv = select(0.0, 127.0 / amax, amax > 0.0);
  let sx = amax / 127.0;
${q}
  ${target}[3u * i] = vec4<u32>(${words.slice(0, 4).join(', ')});
  ${target}[3u * i + 1u] = vec4<u32>(${words.slice(4).join(', ')});
  let sum = ${sum};
  ${target}[3u * i + 2u] = vec4<u32>(bitcast<u32>(sx), bitcast<u32>(sx * f32(sum)), bitcast<u32>(ss), 0u);
}`;
}

/**
 * WGSL of the activation quantiser: one invocation per group of 32 values of a row of x (values
 * past K are 0), quantised by {@link storeActsWgsl}; with the SwiGLU input, `silu(u₁)·u₂`; with the
 * folded RMSNorm, x ⊙ w_norm (r, common to the row, is applied by the GEMV) and the group's Σx²
 * of the raw x in the record.
 */
function actQuantWgsl(fmt: QuantFormat, swiglu: boolean, norm: boolean): string {
  return /* wgsl */ `${actParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> acts: array<vec4<u32>>;
${norm ? '@group(0) @binding(3) var<storage, read> nw: array<f32>;' : ''}
${quantGroupWgsl(fmt, 'acts', { src: 'x', K: 'P.K', row: 'P.xRow', up: 'P.xUp', swiglu, norm })}

@compute @workgroup_size(${ACT_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${ACT_WG}u + lid;
  if (i >= P.M * P.G) { return; }
  quantGroup(i, i / P.G, (i % P.G) * 32u);
}`;
}

/** f32 elements of the activation scratch that {@link encodeQGemv} needs for `M` rows of `K` values. */
export const qgemvActsElements = (M: number, K: number): number => M * groupsPerRow(K) * ACT_WORDS;

/** Options of {@link encodeQGemv}: those of the GEMV plus the activation scratch. */
export interface QGemvOptions extends GemvOptions {
  /** scratch for the int8 activations, at least {@link qgemvActsElements}`(M, K)` elements */
  acts?: GpuTensor | null;
  /**
   * `acts` already hold this x quantised for this format (an earlier row part of the same
   * matrix): skip the activation quantiser
   */
  actsReady?: boolean;
  /**
   * Each workgroup quantises x itself into workgroup memory instead of a quantiser dispatch before
   * the GEMV (no `acts` needed): for few rows ({@link qgemvInlineFits}), where reading x once per
   * workgroup from the cache costs less than a dispatch of its own. Same values and rounding.
   */
  inlineActs?: boolean;
}

/** Bytes of workgroup memory of the int8 records of M rows of K values (12 words per group of 32). */
const inlineBytes = (M: number, K: number) => 48 * M * groupsPerRow(K);

/**
 * Whether {@link QGemvOptions.inlineActs} can run M rows of K values: at most 2 rows (every
 * workgroup re-reads them), held in workgroup memory next to the reduction buffer.
 */
export function qgemvInlineFits(
  ctx: Pick<GpuContext, 'features' | 'limits'>,
  M: number,
  K: number,
  config?: GemvConfig,
): boolean {
  if (M > 2) return false;
  // the reduction buffer of the configuration (default: the largest of the default configurations,
  // 4 rows per invocation)
  const c = config ?? { ...gemvConfig(ctx, 'q4', M, 1 << 12, K), nr: 4 };
  const red = 4 * redFloats(c, ctx.features.subgroupMinSize, true);
  return inlineBytes(Math.min(M, c.mt), K) + red <= ctx.limits.maxComputeWorkgroupStorageSize;
}

/**
 * Encodes `y (+)= x·Wᵀ (+ b)` with W quantised (q8 / q4) and x quantised to int8 on the way (see
 * the file comment): the activation quantiser, then the GEMV. x f32 `[M, K]` (`[M, 2K]` with
 * `swiglu`), b f32 `[N]` or null, y f32 `[M, ldy]`. Needs `ctx.features.packedIntegerDot`.
 */
export function encodeQGemv(
  ctx: GpuContext,
  batch: DispatchBatch,
  x: GpuTensor,
  w: QuantGpuMatrix,
  b: GpuTensor | null,
  y: GpuTensor,
  o: QGemvOptions,
): void {
  const { M, N, K } = o;
  const { xCols, ldy, nOff } = checkShapes('qgemv', x, y, o, () => {
    if (!ctx.features.packedIntegerDot) {
      throw new ModelArgumentError(
        'qgemv',
        "needs WGSL's packed 4×8-bit integer dot product (language feature packed_4x8_integer_dot_product)",
      );
    }
    if (w.rows !== N || w.cols !== K)
      throw new ModelArgumentError('qgemv w', `a quantised [${N}, ${K}] matrix, got [${w.rows}, ${w.cols}]`);
  });
  const G = groupsPerRow(K);
  const c = { ...gemvConfig(ctx, w.format, M, N, K), ...o.config };
  // (the records of one tile of x rows: the workgroups of a tile quantise its rows)
  const inline = o.inlineActs ? { M: Math.min(M, c.mt), G } : null;
  const acts = o.acts ?? null;
  if (inline) {
    if (!qgemvInlineFits(ctx, M, K, c))
      throw new ModelArgumentError(
        'qgemv inlineActs',
        `at most 2 rows of x held in workgroup memory (${inlineBytes(M, K)} bytes for M = ${M}, K = ${K}; limit ${ctx.limits.maxComputeWorkgroupStorageSize} with the reduction)`,
      );
  } else {
    const need = qgemvActsElements(M, K);
    if (!acts || acts.numel < need || acts.dtype !== 'f32')
      throw new ModelArgumentError(
        'qgemv acts',
        `an f32 scratch of at least ${need} elements, got ${acts ? `${acts.numel} ${acts.dtype}` : 'none'}`,
      );
  }
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const norm = o.norm ?? null;
  if (acts && !inline && !o.actsReady) {
    const pa = ctx.pipeline(
      `hf.qgemv.acts:${w.format}${o.swiglu ? ':swiglu' : ''}${norm ? ':norm' : ''}`,
      () => actQuantWgsl(w.format, !!o.swiglu, !!norm),
      norm ? ['uniform', 'read', 'rw', 'read'] : ['uniform', 'read', 'rw'],
    );
    batch.dispatch(
      pa,
      norm ? [x, acts, norm.w] : [x, acts],
      actParams.pack({ M, K, G, xRow: xCols, xUp: K }),
      splitWorkgroups(Math.ceil((M * G) / ACT_WG), max),
      `qgemv ${w.format} activations`,
    );
  }
  checkConfig(c, w.format, K, ctx, !!norm);
  const minSg = ctx.features.subgroupMinSize;
  const inl = inline ? `:inline${M}x${G}${o.swiglu ? ':swiglu' : ''}` : '';
  const key = `hf.gemv:${w.format}:rg${c.rg}:nr${c.nr}:mt${c.mt}:${c.subgroups ? `sg${minSg}` : 'wg'}${norm ? ':norm' : ''}${inl}`;
  const layout: ('uniform' | 'read' | 'rw')[] = ['uniform', 'read', 'read', 'read', 'rw', 'read'];
  if (inline && norm) layout.push('read');
  const p = ctx.pipeline(key, () => gemvWgsl(w.format, c, !!o.swiglu, minSg, !!norm, inline), layout);
  const [gx, gy] = splitWorkgroups(Math.ceil(N / (c.rg * c.nr)), max);
  const xb = inline ? x : acts!;
  batch.dispatch(
    p,
    inline && norm ? [x, w.data, b ?? x, y, w.scales, norm.w] : [xb, w.data, b ?? xb, y, w.scales],
    params.pack({
      M,
      N,
      KC: G,
      hasBias: b ? 1 : 0,
      accumulate: o.accumulate ? 1 : 0,
      softcap: o.softcap ?? 0,
      nOff,
      ldy,
      xRow: 3 * G,
      xUp: inline ? K : 0,
      normK: K,
      normEps: norm?.eps ?? 0,
      ...outParams(o, ldy),
      inRow: xCols,
    }),
    [gx, gy, Math.ceil(M / c.mt)],
    inline ? `qgemv ${w.format} (inline activations)` : `qgemv ${w.format}`,
  );
}
