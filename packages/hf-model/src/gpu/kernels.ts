/**
 * WGSL kernels of the dense parts of the xLSTM model (spec §3): embedding gather, RMSNorm,
 * matmul `y (+)= x·Wᵀ + b` with optional logit soft cap, the split of the q/k/v/o/gate
 * projections into the cell's head-first inputs, the multi-head LayerNorm + output gate, and
 * the SwiGLU product. Activations are f32; weight matrices are `elem` (f32, or f16 with
 * `shader-f16`); every sum and statistic is f32. Pipelines go through the kernels package's
 * context (`ctx.pipeline`, binding 0 = uniform params, storage buffers at 1..n).
 */
import {
  type DispatchBatch,
  defineParams,
  encodeDenseMatmul,
  type GpuContext,
  type GpuDtype,
  type GpuTensor,
  wgslSaturateF16,
} from '@mlstm/kernels-webgpu';
import { ModelArgumentError } from '../errors.js';
import type { QuantFormat } from '../quant/formats.js';
import { encodeGemv, qgemvActsElements, storeActsWgsl } from './gemv.js';

const header = (dtype: GpuDtype) =>
  [dtype === 'f16' ? 'enable f16;' : '', `alias elem = ${dtype};`].join('\n');

/** Splits a flat workgroup count over (x, y); shaders use `wid.x + wid.y * nwg.x`. */
function grid(count: number, max: number): [number, number] {
  if (count <= max) return [Math.max(1, count), 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

const WG = 256;

// ------------------------------------------------------------------------------------------------
const embedParams = defineParams({ total: 'u32', H: 'u32', row0: 'u32', rows: 'u32' });

/**
 * `out[r, :] = table[ids[r], :]` for the ids in `[row0, row0 + rows)` (a table split into row
 * parts that each fit one storage binding is gathered by one dispatch per part).
 */
export function encodeEmbedding(
  ctx: GpuContext,
  batch: DispatchBatch,
  ids: GpuTensor,
  table: GpuTensor,
  out: GpuTensor,
  T: number,
  H: number,
  row0 = 0,
  rows = table.shape[0],
): void {
  const p = ctx.pipeline(
    `hf.embed:${table.dtype}`,
    () => `${header(table.dtype)}
${embedParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<elem>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (idx >= P.total) { return; }
  let r = idx / P.H;
  let h = idx % P.H;
  let id = ids[r];
  if (id < P.row0 || id >= P.row0 + P.rows) { return; }
  out[idx] = f32(table[(id - P.row0) * P.H + h]);
}`,
    ['uniform', 'read', 'read', 'rw'],
  );
  const total = T * H;
  batch.dispatch(
    p,
    [ids, table, out],
    embedParams.pack({ total, H, row0, rows }),
    grid(Math.ceil(total / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    'embedding',
  );
}

// ------------------------------------------------------------------------------------------------
const normParams = defineParams({
  rows: 'u32',
  H: 'u32',
  inStride: 'u32',
  inOffset: 'u32',
  hasBias: 'u32',
  eps: 'f32',
});
const NORM_WG = 256;

/**
 * RMSNorm of `rows` rows, `y = x / sqrt(mean(x²) + eps) · w (+ b)`. Input row `r` is row
 * `r·inStride + inOffset` of `x` (last-position logits of equal rows), or row `rowsAt[r]` (u32 row
 * indices: the last token of each packed sequence).
 */
export function encodeRmsNorm(
  ctx: GpuContext,
  batch: DispatchBatch,
  x: GpuTensor,
  w: GpuTensor,
  b: GpuTensor | null,
  y: GpuTensor,
  o: { rows: number; H: number; eps: number; inStride?: number; inOffset?: number; rowsAt?: GpuTensor },
): void {
  const at = !!o.rowsAt;
  // y in f32, or in f16 (the f16 policy's rounding, as the matmul's conversion pass would do) for a
  // matmul that multiplies f16 x
  const yd = y.dtype;
  const p = ctx.pipeline(
    `${at ? 'hf.rmsnorm.at' : 'hf.rmsnorm'}:${yd}`,
    () => `${yd === 'f16' ? 'enable f16;\n' : ''}${normParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<${yd}>;
${at ? '@group(0) @binding(5) var<storage, read> rowsAt: array<u32>;\n' : ''}var<workgroup> red: array<f32, ${NORM_WG}>;
@compute @workgroup_size(${NORM_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= P.rows) { return; }
  let src = ${at ? 'rowsAt[r]' : '(r * P.inStride + P.inOffset)'} * P.H;
  var s = 0.0;
  // four independent loads per iteration (a single row is latency-bound otherwise)
  for (var h0 = lid; h0 < P.H; h0 += ${4 * NORM_WG}u) {
    for (var j = 0u; j < 4u; j++) {
      let h = h0 + j * ${NORM_WG}u;
      if (h < P.H) { let v = x[src + h]; s += v * v; }
    }
  }
  red[lid] = s;
  workgroupBarrier();
  for (var st = ${NORM_WG / 2}u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] += red[lid + st]; }
    workgroupBarrier();
  }
  let rs = inverseSqrt(red[0] / f32(P.H) + P.eps);
  for (var h0 = lid; h0 < P.H; h0 += ${4 * NORM_WG}u) {
    for (var j = 0u; j < 4u; j++) {
      let h = h0 + j * ${NORM_WG}u;
      if (h < P.H) {
        var v = x[src + h] * rs * w[h];
        if (P.hasBias != 0u) { v += bias[h]; }
        y[r * P.H + h] = ${yd === 'f16' ? wgslSaturateF16('v') : 'v'};
      }
    }
  }
}`,
    at ? ['uniform', 'read', 'read', 'read', 'rw', 'read'] : ['uniform', 'read', 'read', 'read', 'rw'],
  );
  batch.dispatch(
    p,
    at ? [x, w, b ?? w, y, o.rowsAt!] : [x, w, b ?? w, y],
    normParams.pack({
      rows: o.rows,
      H: o.H,
      inStride: o.inStride ?? 1,
      inOffset: o.inOffset ?? 0,
      hasBias: b ? 1 : 0,
      eps: o.eps,
    }),
    grid(o.rows, ctx.limits.maxComputeWorkgroupsPerDimension),
    'rmsnorm',
  );
}

// ------------------------------------------------------------------------------------------------
/** Rows at or above which {@link encodeMatmul} uses the dense matmul (prefill) instead of the GEMV. */
export const MM_TILED_MIN_ROWS = 32;

/**
 * `y[M, N] = x[M, K]·W[N, K]ᵀ (+ b)`, then `cap·tanh(y/cap)` when `softcap > 0`, added to `y`
 * when `accumulate` (residual connections). Below {@link MM_TILED_MIN_ROWS} rows (decoding, small
 * batches) the GEMV kernel of ./gemv.ts streams every weight once per group of rows; from there
 * on (prefill) the kernels package's dense matmul (`encodeDenseMatmul`: the matrix units for f16
 * weights where the adapter has them, else register-tiled). `tiled` forces the latter branch;
 * `gate: 'silu'` (that branch only) takes a `[2N, K]` gate/up weight and writes `silu(gate)·up`.
 */
export function encodeMatmul(
  ctx: GpuContext,
  batch: DispatchBatch,
  x: GpuTensor,
  w: GpuTensor,
  b: GpuTensor | null,
  y: GpuTensor,
  o: {
    M: number;
    N: number;
    K: number;
    accumulate?: boolean;
    softcap?: number | null;
    tiled?: boolean;
    /** `w` holds output columns `[nOff, nOff + N)` of a `y` with `ldy` columns (row-split weights) */
    nOff?: number;
    ldy?: number;
    /** prefill branch only: SwiGLU epilogue of a fused `[2N, K]` gate/up weight */
    gate?: 'silu' | null;
    /** prefill branch only: f16 buffer (≥ M·K) for the matrix units' copy of x (`castInto`) */
    x16?: GpuTensor | null;
  },
): void {
  const tiled = o.tiled ?? o.M >= MM_TILED_MIN_ROWS;
  if (tiled) {
    encodeDenseMatmul(ctx, batch, {
      x,
      w,
      y,
      bias: b,
      M: o.M,
      N: o.N,
      K: o.K,
      accumulate: o.accumulate,
      softcap: o.softcap,
      nOff: o.nOff,
      ldy: o.ldy,
      gate: o.gate,
      castInto: o.x16,
    });
    return;
  }
  if (o.gate) throw new Error('encodeMatmul: the SiLU-gated epilogue needs the prefill (tiled) branch');
  encodeGemv(ctx, batch, x, w, b, y, o);
}

// ------------------------------------------------------------------------------------------------
const prepParams = defineParams({
  B: 'u32',
  S: 'u32',
  Sp: 'u32',
  t0: 'u32',
  NH: 'u32',
  dqk: 'u32',
  dv: 'u32',
  P: 'u32',
  total: 'u32',
  cap: 'f32',
  gStride: 'u32',
  gOff: 'u32',
});

/**
 * Cell inputs for tokens `[t0, t0 + Sp)` of every row: q, k `(B, NH, Sp, dqk)`, v `(B, NH, Sp, dv)`
 * from the fused projection `proj [B·S, stride]` (columns q, k, v, o-gate, …), and soft-capped gates
 * i, f `(B, NH, Sp)` from `gates` (row `r` at `r·gStride + gOff`: a `[B·S, 2NH]` tensor, or the
 * last columns of `proj` when the gate projection is fused into it).
 */
export function encodeCellPrep(
  ctx: GpuContext,
  batch: DispatchBatch,
  proj: GpuTensor,
  gates: GpuTensor,
  out: { q: GpuTensor; k: GpuTensor; v: GpuTensor; i: GpuTensor; f: GpuTensor },
  o: {
    B: number;
    S: number;
    Sp: number;
    t0: number;
    NH: number;
    dqk: number;
    dv: number;
    cap: number;
    stride?: number;
    gStride?: number;
    gOff?: number;
  },
): void {
  // q, k, v in f32, or in f16 for an f16 cell (rounded by the f16 policy of the kernels package, as
  // its conversion pass would: the cell then takes them without one)
  const qkv = out.q.dtype;
  if (out.k.dtype !== qkv || out.v.dtype !== qkv)
    throw new ModelArgumentError(
      'cell prep',
      `q, k and v of one dtype, got ${qkv}, ${out.k.dtype}, ${out.v.dtype}`,
    );
  const put = (x: string) => (qkv === 'f16' ? wgslSaturateF16(x) : x);
  const p = ctx.pipeline(
    `hf.cellprep:${qkv}`,
    () => `${qkv === 'f16' ? 'enable f16;\n' : ''}${prepParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> proj: array<f32>;
@group(0) @binding(2) var<storage, read> gates: array<f32>;
@group(0) @binding(3) var<storage, read_write> q: array<${qkv}>;
@group(0) @binding(4) var<storage, read_write> k: array<${qkv}>;
@group(0) @binding(5) var<storage, read_write> v: array<${qkv}>;
@group(0) @binding(6) var<storage, read_write> ig: array<f32>;
@group(0) @binding(7) var<storage, read_write> fg: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (idx >= P.total) { return; }
  let Dqk = P.NH * P.dqk;
  let Dv = P.NH * P.dv;
  let cols = 2u * Dqk + Dv + 2u * P.NH;
  let c = idx % cols;
  let rs = idx / cols;          // b * Sp + s
  let b = rs / P.Sp;
  let s = rs % P.Sp;
  let row = b * P.S + P.t0 + s; // source row
  if (c < 2u * Dqk) {
    let cc = c % Dqk;
    let h = cc / P.dqk;
    let d = cc % P.dqk;
    let dst = ((b * P.NH + h) * P.Sp + s) * P.dqk + d;
    let val = proj[row * P.P + c];
    if (c < Dqk) { q[dst] = ${put('val')}; } else { k[dst] = ${put('val')}; }
  } else if (c < 2u * Dqk + Dv) {
    let cc = c - 2u * Dqk;
    let h = cc / P.dv;
    let d = cc % P.dv;
    let val = proj[row * P.P + c];
    v[((b * P.NH + h) * P.Sp + s) * P.dv + d] = ${put('val')};
  } else {
    let g = c - 2u * Dqk - Dv;
    let h = g % P.NH;
    let pre = gates[row * P.gStride + P.gOff + g];
    let capped = P.cap * tanh(clamp(pre / P.cap, -20.0, 20.0));
    let dst = (b * P.NH + h) * P.Sp + s;
    if (g < P.NH) { ig[dst] = capped; } else { fg[dst] = capped; }
  }
}`,
    ['uniform', 'read', 'read', 'rw', 'rw', 'rw', 'rw', 'rw'],
  );
  const Dqk = o.NH * o.dqk;
  const Dv = o.NH * o.dv;
  const total = o.B * o.Sp * (2 * Dqk + Dv + 2 * o.NH);
  batch.dispatch(
    p,
    [proj, gates, out.q, out.k, out.v, out.i, out.f],
    prepParams.pack({
      B: o.B,
      S: o.S,
      Sp: o.Sp,
      t0: o.t0,
      NH: o.NH,
      dqk: o.dqk,
      dv: o.dv,
      cap: o.cap,
      P: o.stride ?? 2 * Dqk + 2 * Dv,
      total,
      gStride: o.gStride ?? 2 * o.NH,
      gOff: o.gOff ?? 0,
    }),
    grid(Math.ceil(total / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    'cell prep',
  );
}

// ------------------------------------------------------------------------------------------------
const postParams = defineParams({
  B: 'u32',
  S: 'u32',
  Sp: 'u32',
  t0: 'u32',
  NH: 'u32',
  dv: 'u32',
  P: 'u32',
  oOff: 'u32',
  hasBias: 'u32',
  eps: 'f32',
});
const POST_WG = 256;
/** Largest head width whose output the int8 variant of the cell output kernel stages in workgroup memory. */
export const CELL_POST_ACTS_MAX_DV = 2048;

/**
 * The int8 activations of the output projection written by the cell output kernel itself (decode
 * with quantised weights, see ./gemv.ts `encodeQGemv`): the records of ./gemv.ts `storeActsWgsl` in
 * `t` instead of f32 values in `out`. Needs dv a multiple of 32 (a group never straddles two heads)
 * and at most {@link CELL_POST_ACTS_MAX_DV}.
 */
export interface CellPostActs {
  t: GpuTensor;
  format: QuantFormat;
}

/**
 * For tokens `[t0, t0 + Sp)`: per-head LayerNorm of the cell output `h (B, NH, Sp, dv)`
 * (biased variance, f32 statistics), the flat multi-head norm affine, times `sigmoid(o)` with
 * the output-gate pre-activation from `proj` → `out [B·S, Dv]`.
 */
export function encodeCellPost(
  ctx: GpuContext,
  batch: DispatchBatch,
  h: GpuTensor,
  proj: GpuTensor,
  w: GpuTensor,
  b: GpuTensor | null,
  out: GpuTensor,
  o: {
    B: number;
    S: number;
    Sp: number;
    t0: number;
    NH: number;
    dqk: number;
    dv: number;
    eps: number;
    /** row stride of `proj` (default 2Dqk + 2Dv) */
    stride?: number;
    /** offset of the output-gate pre-activations in a `proj` row (default 2Dqk + Dv) */
    oOff?: number;
    /** write int8 activations instead of `out` (see {@link CellPostActs}) */
    acts?: CellPostActs | null;
  },
): void {
  const acts = o.acts ?? null;
  if (acts) {
    if (o.dv % 32 || o.dv > CELL_POST_ACTS_MAX_DV)
      throw new ModelArgumentError(
        'cell post acts',
        `needs a head width dv that is a multiple of 32 and at most ${CELL_POST_ACTS_MAX_DV}, got ${o.dv}`,
      );
    const need = qgemvActsElements(o.B * o.S, o.NH * o.dv);
    if (acts.t.dtype !== 'f32' || acts.t.numel < need)
      throw new ModelArgumentError(
        'cell post acts',
        `an f32 scratch of at least ${need} elements, got ${acts.t.numel}`,
      );
  }
  // h in f32, or in f16 as an f16 cell returns it; out in f32, or in f16 (the f16 policy's
  // rounding) for a matmul that multiplies f16 x
  const hd = h.dtype;
  const od = acts ? 'f32' : out.dtype;
  const p = ctx.pipeline(
    `${acts ? `hf.cellpost.acts:${acts.format}` : `hf.cellpost:${od}`}:h${hd}`,
    () => `${hd === 'f16' || od === 'f16' ? 'enable f16;\n' : ''}${postParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> hin: array<${hd}>;
fn hAt(i: u32) -> f32 { return f32(hin[i]); }
@group(0) @binding(2) var<storage, read> proj: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
${
  acts
    ? `@group(0) @binding(5) var<storage, read_write> acts: array<vec4<u32>>;
var<workgroup> yv: array<f32, ${CELL_POST_ACTS_MAX_DV}>;
${storeActsWgsl(acts.format)}`
    : `@group(0) @binding(5) var<storage, read_write> out: array<${od}>;`
}
var<workgroup> red: array<f32, ${POST_WG}>;
fn reduce(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var st = ${POST_WG / 2}u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] += red[lid + st]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn sigm(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
@compute @workgroup_size(${POST_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;   // ((b * Sp + s) * NH + h)
  if (g >= P.B * P.Sp * P.NH) { return; }
  let h = g % P.NH;
  let rs = g / P.NH;
  let b = rs / P.Sp;
  let s = rs % P.Sp;
  let src = ((b * P.NH + h) * P.Sp + s) * P.dv;
  var sum = 0.0;
  for (var d = lid; d < P.dv; d += ${POST_WG}u) { sum += hAt(src + d); }
  let mean = reduce(lid, sum) / f32(P.dv);
  var sq = 0.0;
  for (var d = lid; d < P.dv; d += ${POST_WG}u) { let c = hAt(src + d) - mean; sq += c * c; }
  let rstd = inverseSqrt(reduce(lid, sq) / f32(P.dv) + P.eps);
  let row = b * P.S + P.t0 + s;
  let Dv = P.NH * P.dv;
  for (var d = lid; d < P.dv; d += ${POST_WG}u) {
    let c = h * P.dv + d;
    var y = (hAt(src + d) - mean) * rstd * w[c];
    if (P.hasBias != 0u) { y += bias[c]; }
${
  acts
    ? `    yv[d] = y * sigm(proj[row * P.P + P.oOff + c]);
  }
  // the head's groups of 32 as int8 records of the row (G = Dv / 32 per row)
  workgroupBarrier();
  for (var gi = lid; gi < P.dv / 32u; gi += ${POST_WG}u) {
    var v: array<f32, 32>;
    for (var j = 0u; j < 32u; j++) { v[j] = yv[gi * 32u + j]; }
    storeActs(row * (Dv / 32u) + h * (P.dv / 32u) + gi, v, 0.0);
  }
}`
    : `    let yo = y * sigm(proj[row * P.P + P.oOff + c]);
    out[row * Dv + c] = ${od === 'f16' ? wgslSaturateF16('yo') : 'yo'};
  }
}`
}`,
    ['uniform', 'read', 'read', 'read', 'read', 'rw'],
  );
  const Dqk = o.NH * o.dqk;
  const Dv = o.NH * o.dv;
  batch.dispatch(
    p,
    [h, proj, w, b ?? w, acts ? acts.t : out],
    postParams.pack({
      B: o.B,
      S: o.S,
      Sp: o.Sp,
      t0: o.t0,
      NH: o.NH,
      dv: o.dv,
      P: o.stride ?? 2 * Dqk + 2 * Dv,
      oOff: o.oOff ?? 2 * Dqk + Dv,
      hasBias: b ? 1 : 0,
      eps: o.eps,
    }),
    grid(o.B * o.Sp * o.NH, ctx.limits.maxComputeWorkgroupsPerDimension),
    acts ? `cell post (${acts.format} activations)` : 'cell post',
  );
}

// ------------------------------------------------------------------------------------------------
const swigluParams = defineParams({ total: 'u32', F: 'u32' });

/** `g[r, c] = silu(u[r, c]) · u[r, F + c]` for `u [T, 2F]`. */
export function encodeSwiglu(
  ctx: GpuContext,
  batch: DispatchBatch,
  u: GpuTensor,
  g: GpuTensor,
  T: number,
  F: number,
): void {
  const p = ctx.pipeline(
    'hf.swiglu',
    () => `${swigluParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read_write> g: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (idx >= P.total) { return; }
  let r = idx / P.F;
  let c = idx % P.F;
  let z = u[r * 2u * P.F + c];
  let e = exp(-abs(z));
  let sg = select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
  g[idx] = z * sg * u[r * 2u * P.F + P.F + c];
}`,
    ['uniform', 'read', 'rw'],
  );
  const total = T * F;
  batch.dispatch(
    p,
    [u, g],
    swigluParams.pack({ total, F }),
    grid(Math.ceil(total / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    'swiglu',
  );
}
