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
 *   `[nOff, nOff + N)` of a `y` with `ldy` columns (weights split into row parts).
 * - Optional SwiGLU input (`swiglu`): x is `u [M, 2K]` and the kernel reads
 *   `silu(u[:, :K]) · u[:, K:]` (the FFN's down projection without a separate dispatch).
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

/** Invocations per workgroup of the GEMV kernel. */
export const GEMV_WG = 256;
/** The most rows of x one dispatch handles per workgroup row tile (`mt`); larger M tiles over z. */
export const GEMV_MAX_MT = 8;

/** Code parameters of one GEMV pipeline (every field is part of the pipeline key). */
export interface GemvConfig {
  /** weights per load: 8 / 4 / 2 / 1 for f16, 4 / 2 / 1 for f32; must divide K */
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
  /** code parameters (default {@link gemvConfig}) */
  config?: Partial<GemvConfig>;
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
});

const pow2Floor = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));

/** The widest load (in weights) that divides K. */
export function gemvVec(dtype: GpuDtype, K: number): number {
  for (const v of dtype === 'f16' ? [8, 4, 2] : [4, 2]) if (K % v === 0) return v;
  return 1;
}

/**
 * Default code parameters: `mt` balances the row tiles of x, `nr` keeps `mt·nr ≤ 16` partial
 * sums per invocation, and the group width `tpr` is the smallest that still gives about 512
 * workgroups (enough bytes in flight on a large GPU) without idle invocations in K. From the
 * H100 sweep of docs/benchmarks/h100-decode: with one x row, matrices of up to 2^26 weights
 * (without the SwiGLU input) stream fastest with 2 rows per invocation and groups of 128; with
 * several x rows, groups of at least 64.
 */
export function gemvConfig(
  ctx: Pick<GpuContext, 'features' | 'limits'>,
  dtype: GpuDtype,
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
  const KC = K / vec;
  const want = Math.ceil((512 * GEMV_WG * nr) / Math.max(1, N));
  const sgMin = ctx.features.subgroups ? Math.max(8, ctx.features.subgroupMaxSize) : 8;
  const pref = small ? 128 : mt > 1 ? 64 : sgMin;
  const minTpr = Math.max(sgMin, Math.min(pref, 2 ** Math.ceil(Math.log2(KC))));
  let tpr = Math.min(GEMV_WG, 2 ** Math.ceil(Math.log2(Math.max(minTpr, want))));
  while (tpr > minTpr && tpr / 2 >= KC) tpr /= 2;
  return { vec, rg: GEMV_WG / tpr, nr, mt, subgroups: ctx.features.subgroups };
}

/** Floats of the reduction buffer in workgroup memory. */
function redFloats(c: GemvConfig, minSubgroup: number): number {
  const tpr = GEMV_WG / c.rg;
  const seg = c.subgroups ? Math.min(tpr, Math.max(1, minSubgroup)) : 1;
  return c.mt * c.nr * (GEMV_WG / seg);
}

function checkConfig(
  c: GemvConfig,
  dtype: GpuDtype,
  K: number,
  ctx: Pick<GpuContext, 'features' | 'limits'>,
) {
  const vecs = dtype === 'f16' ? [8, 4, 2, 1] : [4, 2, 1];
  const bad = (k: string, want: string, got: unknown) =>
    new ModelArgumentError(`gemv config.${k}`, `expected ${want}, got ${got}`);
  if (!vecs.includes(c.vec) || K % c.vec !== 0) throw bad('vec', `one of ${vecs} dividing K = ${K}`, c.vec);
  if (!(c.rg >= 1 && c.rg <= GEMV_WG && GEMV_WG % c.rg === 0 && pow2Floor(c.rg) === c.rg))
    throw bad('rg', `a power of two dividing ${GEMV_WG}`, c.rg);
  if (!(Number.isInteger(c.nr) && c.nr >= 1 && c.nr <= 8)) throw bad('nr', 'an integer in [1, 8]', c.nr);
  if (!(Number.isInteger(c.mt) && c.mt >= 1 && c.mt <= 32)) throw bad('mt', 'an integer in [1, 32]', c.mt);
  if (c.subgroups && !ctx.features.subgroups) throw bad('subgroups', 'false (no subgroups feature)', true);
  const bytes = 4 * redFloats(c, ctx.features.subgroupMinSize);
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

/** The WGSL source of one configuration. */
export function gemvWgsl(dtype: GpuDtype, c: GemvConfig, swiglu: boolean, minSubgroup: number): string {
  const { vec, rg, nr, mt } = c;
  const tpr = GEMV_WG / rg;
  const xw = Math.min(vec, 4); // x loads are vectors of xw floats
  const P = vec / xw; // pieces (x loads) per weight load
  const xt = xw === 1 ? 'f32' : `vec${xw}<f32>`;
  const wa = weightAccess(dtype, vec);
  const dot = (a: string, b: string) => (xw === 1 ? `${a} * ${b}` : `dot(${a}, ${b})`);
  const V = mt * nr;
  const minSeg = c.subgroups ? Math.min(tpr, Math.max(1, minSubgroup)) : 1;
  const stride = GEMV_WG / minSeg; // slots per value in `red`
  const R = (m: number, r: number) => `a${m}_${r}`;

  // the main loop body: nr weight loads, then per x row one x load used by every weight row
  const body: string[] = [];
  for (let r = 0; r < nr; r++) {
    body.push(`    let q${r} = w[wr${r} + ck];`);
    for (const [p, e] of wa.pieces(`q${r}`).entries()) body.push(`    let w${r}_${p} = ${e};`);
  }
  for (let m = 0; m < mt; m++) {
    body.push('    {');
    for (let p = 0; p < P; p++) {
      const at = `xr${m} + ck * ${P}u + ${p}u`;
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
@group(0) @binding(1) var<storage, read> x: array<${xt}>;
@group(0) @binding(2) var<storage, read> w: array<${wa.type}>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
var<workgroup> red: array<f32, ${V * stride}>;

fn silu_v(z: ${xt}) -> ${xt} {
  let e = exp(-abs(z));
  return z * select(e / (1.0 + e), 1.0 / (1.0 + e), z >= ${xt}(0.0));
}

fn epilogue(m: u32, n: u32, acc: f32) {
  var v = acc;
  if (P.hasBias != 0u) { v += bias[P.nOff + n]; }
  if (P.softcap > 0.0) { v = P.softcap * tanh(clamp(v / P.softcap, -20.0, 20.0)); }
  let o = m * P.ldy + P.nOff + n;
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
${Array.from({ length: nr }, (_, r) => `  let wr${r} = min(n0 + ${r}u, P.N - 1u) * P.KC;`).join('\n')}
${Array.from({ length: mt }, (_, m) => `  let xr${m} = min(m0 + ${m}u, P.M - 1u) * P.xRow;`).join('\n')}
${Array.from({ length: mt }, (_, m) => Array.from({ length: nr }, (_, r) => `  var ${R(m, r)} = 0.0;`).join('\n')).join('\n')}
  for (var ck = lane; ck < P.KC; ck += TPR) {
${body.join('\n')}
  }
${c.subgroups ? '  let seg = min(TPR, sg);' : ''}
${Array.from({ length: mt }, (_, m) => Array.from({ length: nr }, (_, r) => reduceOne(R(m, r), m * nr + r)).join('\n')).join('\n')}
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
    if (m < P.M && n < P.N) { epilogue(m, n, s); }
  }
}`;
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
  for (const [k, v] of [
    ['M', M],
    ['N', N],
    ['K', K],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new ModelArgumentError(`gemv ${k}`, `expected an integer >= 1, got ${v}`);
  }
  if (w.numel < N * K)
    throw new ModelArgumentError('gemv w', `expected at least ${N}·${K} elements, got ${w.numel}`);
  const xCols = o.swiglu ? 2 * K : K;
  if (x.numel < M * xCols)
    throw new ModelArgumentError('gemv x', `expected at least ${M}·${xCols} elements, got ${x.numel}`);
  const ldy = o.ldy ?? N;
  const nOff = o.nOff ?? 0;
  if (y.numel < (M - 1) * ldy + nOff + N)
    throw new ModelArgumentError(
      'gemv y',
      `expected at least ${(M - 1) * ldy + nOff + N} elements, got ${y.numel}`,
    );
  const c = { ...gemvConfig(ctx, w.dtype, M, N, K, !!o.swiglu), ...o.config };
  checkConfig(c, w.dtype, K, ctx);
  const minSg = ctx.features.subgroupMinSize;
  const key = `hf.gemv:${w.dtype}:v${c.vec}:rg${c.rg}:nr${c.nr}:mt${c.mt}:${c.subgroups ? `sg${minSg}` : 'wg'}${o.swiglu ? ':swiglu' : ''}`;
  const p = ctx.pipeline(key, () => gemvWgsl(w.dtype, c, !!o.swiglu, minSg), [
    'uniform',
    'read',
    'read',
    'read',
    'rw',
  ]);
  const xw = Math.min(c.vec, 4);
  const KC = K / c.vec;
  const xRow = xCols / xw; // x row stride in x loads
  const blocks = Math.ceil(N / (c.rg * c.nr));
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const gy = Math.ceil(blocks / max);
  const gx = Math.ceil(blocks / gy);
  batch.dispatch(
    p,
    [x, w, b ?? x, y],
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
    }),
    [gx, gy, Math.ceil(M / c.mt)],
    o.swiglu ? 'gemv (swiglu)' : 'gemv',
  );
}
