/**
 * The recurrent mLSTMexp step on the GPU (upstream `triton` step kernel, spec §1 and §6.1):
 * one token, states in GPU buffers, optionally updated in place.
 *
 * Grid as upstream: one workgroup per (batch, head) × DHHV tile of `blockV` columns; each
 * invocation owns one column of the tile and a strided subset (`splitK`) of the DHQK rows.
 *
 * - `fused` kernel (one dispatch per token, like upstream's fused Triton program): every
 *   workgroup computes the gates `m' = max(logsigmoid(f̃) + m, ĩ)`, `f' = exp(logsigmoid(f̃) + m − m')`,
 *   `i' = exp(ĩ − m')` and the denominator `max(|n'ᵀq̂|, exp(−m')) + eps` with
 *   `n' = f' n + i' k` (cheap: DHQK terms, reduced over the whole workgroup), then updates its
 *   `C` tile `C' = f' C + i' k vᵀ`, accumulates `C'ᵀq̂` in f32, reduces the `splitK` partial sums
 *   in workgroup memory and writes `h = C'ᵀq̂ / den` in the q/k/v dtype. The tile-0 workgroup
 *   writes `n'` and `m'`. It needs 11 storage bindings (12 when C is not updated in place), and
 *   the old `n`, `m` must stay readable while other workgroups run: `n`/`m` outputs must be other
 *   buffers than their inputs.
 * - `split` kernels (two dispatches per token, ordered within the compute pass): `prep` (one
 *   workgroup per head) computes the gates, writes `n'` and leaves `f'`, `i'`, `den`, `m'` in a
 *   small per-head scratch; `update` does the C tile and h as above and writes `m'`. Each needs
 *   at most 8 storage bindings — the WebGPU default `maxStorageBuffersPerShaderStage`, which many
 *   browser adapters do not exceed — and `n`/`m` may be updated in place (prep consumes the old
 *   values before any dispatch overwrites them).
 *
 * {@link encodeRecurrentStep} takes the fused kernel when the adapter allows the bindings and the
 * `n`/`m` outputs are separate buffers, the split kernels otherwise. Both use the same reduction
 * trees and operation order (bit-identical results on lavapipe; the tests require agreement to
 * f32 rounding only).
 *
 * Dtypes: q, k, v (and h) are `elem` = f32 or f16; f16 values are widened on load, every
 * operation and both states are f32, and h is rounded once on store. (Upstream's torch `native`
 * step rounds C', n' to the q/k/v dtype before the read-out, spec §1.2; its Triton step, like
 * this one, reads out in f32.)
 *
 * In-place `C` (and `n` in `prep`): each element is read and written by the same invocation;
 * kernel variants with one read_write binding are used (WebGPU forbids binding one buffer
 * read-only and writable in one dispatch).
 */
import type { DispatchBatch, GpuContext } from '../device/context.js';
import { defineParams } from '../device/params.js';
import { BYTES_PER_ELEMENT, type GpuDtype, GpuTensor } from '../device/tensor.js';
import { KernelArgumentError } from '../errors.js';
import { CallScope } from '../io.js';
import {
  type CpuTensor,
  checkSizes,
  expectTensor,
  expectTensorLike,
  resolveDtype,
  type TensorLike,
  validateEps,
} from '../validate.js';
import { cdiv, nextPow2, splitWorkgroups, wgslHeader } from '../wgsl/common.js';

/** Default `eps` (upstream: 1e-6). */
export const DEFAULT_EPS = 1e-6;

/** Floats per head in the scratch buffer the split kernels share: f', i', den, m'. */
export const STEP_SCRATCH_PER_HEAD = 4;

/** Uniform parameters of every step kernel. */
export const STEP_PARAMS = defineParams({
  BH: 'u32',
  S: 'u32',
  t: 'u32',
  DHQK: 'u32',
  DHHV: 'u32',
  has_state: 'u32',
  kappa: 'f32',
  eps: 'f32',
});

/** Tile parameters of the step kernels. */
export interface RecurrentStepTiles {
  /** DHHV columns per workgroup (power of two) */
  blockV: number;
  /** invocations splitting the DHQK rows of one column (power of two); workgroup = blockV × splitK */
  splitK: number;
}

/**
 * Tile heuristic, from a sweep on an H100 (Vulkan, fused kernel, f32, GPU time per step with
 * DHQK = 256, DHHV = 512): `blockV = 32` columns × `splitK = 8` row groups (256 invocations)
 * streams C at ~2.4 TB/s once there are a few hundred workgroups (B·NH = 64: 27 µs per step vs
 * 34–39 µs with upstream's 64-column tiles). With fewer than 256 workgroups the GPU is starved
 * and narrower, deeper tiles win: `blockV = 16` with up to 512 invocations (B·NH = 8: 6.7 µs vs
 * 10.5 µs with 32 × 8 and 17 µs with 64 × 4). `maxInvocations` caps `blockV · splitK` (pass
 * the smaller of the adapter's `maxComputeInvocationsPerWorkgroup` and `maxComputeWorkgroupSizeX`:
 * the split `prep` kernel is one-dimensional), `maxSizeY` caps `splitK`.
 */
export function recurrentStepTiles(
  BH: number,
  DHQK: number,
  DHHV: number,
  maxInvocations = 256,
  maxSizeY = maxInvocations,
): RecurrentStepTiles {
  const pow2Floor = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));
  const wide = Math.min(32, nextPow2(DHHV));
  const starved = BH * cdiv(DHHV, wide) < 256;
  const blockV = Math.min(starved ? 16 : 32, nextPow2(DHHV), pow2Floor(maxInvocations));
  const threads = pow2Floor(Math.min(maxInvocations, starved ? 512 : 256));
  const splitK = Math.max(1, Math.min(nextPow2(DHQK), Math.floor(threads / blockV), pow2Floor(maxSizeY)));
  return { blockV, splitK };
}

/** Storage bindings of the fused kernel (C in place / C in a separate output). */
export const RECURRENT_STEP_FUSED_BINDINGS = { inPlace: 11, separate: 12 } as const;

interface Binding {
  name: string;
  type: 'elem' | 'f32';
  access: 'read' | 'read_write';
}

/** WGSL header + params + the storage bindings at 1, 2, … in the given order. */
function declare(dtype: GpuDtype, bindings: readonly Binding[]): string {
  return [
    wgslHeader(dtype),
    STEP_PARAMS.wgsl(),
    '@group(0) @binding(0) var<uniform> p: Params;',
    ...bindings.map(
      (b, x) =>
        `@group(0) @binding(${x + 1}) var<storage, ${b.access}> ${b.name}: array<${b.type === 'elem' ? 'elem' : 'f32'}>;`,
    ),
  ].join('\n');
}

const r = (name: string, type: Binding['type'] = 'f32'): Binding => ({ name, type, access: 'read' });
const w = (name: string, type: Binding['type'] = 'f32'): Binding => ({ name, type, access: 'read_write' });

/** Gates of head `bh` at token `row` (every invocation computes them; they are a few flops). */
const GATES = /* wgsl */ `
  var m_old = 0.0;
  if (p.has_state != 0u) { m_old = m_in[bh]; }
  let lam = logsigmoid(fg[row]);
  let ipre = ig[row];
  let m_new = max(lam + m_old, ipre);
  let fgate = exp(lam + m_old - m_new);
  let igate = exp(ipre - m_new);`;

/**
 * `n' = f' n + i' k` (written by invocations where `write_n`) and the denominator, reduced over
 * all `WG` invocations of the workgroup (tree in `red`). Leaves `den`.
 */
const normaliser = (nRead: string, writeN: string) => /* wgsl */ `
  var part = 0.0;
  for (var a = tid; a < p.DHQK; a += WG) {
    let s = bh * p.DHQK + a;
    var n_old = 0.0;
    if (p.has_state != 0u) { n_old = ${nRead}[s]; }
    let nn = fgate * n_old + igate * f32(k[row * p.DHQK + a]);
    if (${writeN}) { n_st[s] = nn; }
    part += nn * f32(q[row * p.DHQK + a]);
  }
  red[tid] = part;
  workgroupBarrier();
  for (var wd = WG / 2u; wd > 0u; wd = wd / 2u) {
    if (tid < wd) { red[tid] += red[tid + wd]; }
    workgroupBarrier();
  }
  let den = max(abs(red[0] * p.kappa), exp(-m_new)) + p.eps;
  workgroupBarrier();`;

/** The C tile update and read-out of column `col`; writes h (needs fgate, igate, den). */
const update = (cRead: string) => /* wgsl */ `
  let col = wid.x * BV + lid.x;
  var acc = 0.0;
  if (col < p.DHHV) {
    let iv = igate * f32(v[row * p.DHHV + col]);
    for (var a = lid.y; a < p.DHQK; a += KS) {
      let s = (bh * p.DHQK + a) * p.DHHV + col;
      var c_old = 0.0;
      if (p.has_state != 0u) { c_old = ${cRead}[s]; }
      let cn = fgate * c_old + f32(k[row * p.DHQK + a]) * iv;
      c_st[s] = cn;
      acc += cn * f32(q[row * p.DHQK + a]);
    }
  }
  red[lid.y * BV + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0u && col < p.DHHV) {
    var num = 0.0;
    for (var j = 0u; j < KS; j++) { num += red[j * BV + lid.x]; }
    h[row * p.DHHV + col] = elem(num * p.kappa / den);
  }`;

const entry = (blockV: number, splitK: number, twoD: boolean) => `
const BV: u32 = ${blockV}u;
const KS: u32 = ${splitK}u;
const WG: u32 = ${blockV * splitK}u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(${twoD ? 'BV, KS' : 'WG'})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {`;

const cBindings = (cInPlace: boolean) => (cInPlace ? [w('c_st')] : [r('c_in'), w('c_st')]);

/** WGSL of the fused step kernel: one workgroup per head × DHHV tile, one dispatch per token. */
export function recurrentStepFusedWgsl(
  dtype: GpuDtype,
  tiles: RecurrentStepTiles,
  cInPlace: boolean,
): string {
  const bindings = [
    r('q', 'elem'),
    r('k', 'elem'),
    r('v', 'elem'),
    r('ig'),
    r('fg'),
    r('n_in'),
    r('m_in'),
    ...cBindings(cInPlace),
    w('h', 'elem'),
    w('n_st'),
    w('m_out'),
  ];
  return /* wgsl */ `${declare(dtype, bindings)}
${entry(tiles.blockV, tiles.splitK, true)}
  let bh = wid.y + wid.z * nwg.y;
  if (bh >= p.BH) { return; }
  let row = bh * p.S + p.t;
${GATES}
${normaliser('n_in', 'wid.x == 0u')}
${update(cInPlace ? 'c_st' : 'c_in')}
  if (wid.x == 0u && tid == 0u) { m_out[bh] = m_new; }
}
`;
}

/** WGSL of the split `prep` kernel (gates, n', denominator → scratch); one workgroup per head. */
export function recurrentStepPrepWgsl(dtype: GpuDtype, tiles: RecurrentStepTiles, nInPlace: boolean): string {
  const bindings = [
    r('q', 'elem'),
    r('k', 'elem'),
    r('ig'),
    r('fg'),
    r('m_in'),
    ...(nInPlace ? [w('n_st')] : [r('n_in'), w('n_st')]),
    w('sc'),
  ];
  return /* wgsl */ `${declare(dtype, bindings)}
${entry(tiles.blockV, tiles.splitK, false)}
  let bh = wid.x + wid.y * nwg.x;
  if (bh >= p.BH) { return; }
  let row = bh * p.S + p.t;
${GATES}
${normaliser(nInPlace ? 'n_st' : 'n_in', 'true')}
  if (tid == 0u) {
    let o = bh * ${STEP_SCRATCH_PER_HEAD}u;
    sc[o] = fgate;
    sc[o + 1u] = igate;
    sc[o + 2u] = den;
    sc[o + 3u] = m_new;
  }
}
`;
}

/** WGSL of the split `update` kernel (C tile and h from the scratch); one workgroup per head × DHHV tile. */
export function recurrentStepUpdateWgsl(
  dtype: GpuDtype,
  tiles: RecurrentStepTiles,
  cInPlace: boolean,
): string {
  const bindings = [
    r('q', 'elem'),
    r('k', 'elem'),
    r('v', 'elem'),
    ...cBindings(cInPlace),
    r('sc'),
    w('h', 'elem'),
    w('m_out'),
  ];
  return /* wgsl */ `${declare(dtype, bindings)}
${entry(tiles.blockV, tiles.splitK, true)}
  let bh = wid.y + wid.z * nwg.y;
  if (bh >= p.BH) { return; }
  let row = bh * p.S + p.t;
  let o = bh * ${STEP_SCRATCH_PER_HEAD}u;
  let fgate = sc[o];
  let igate = sc[o + 1u];
  let den = sc[o + 2u];
${update(cInPlace ? 'c_st' : 'c_in')}
  if (wid.x == 0u && tid == 0u) { m_out[bh] = sc[o + 3u]; }
}
`;
}

/** Shape of one step encoded into a batch. */
export interface StepDims {
  /** B · NH */
  BH: number;
  /** sequence length of the q/k/v/i/f/h tensors (1 for a single step) */
  S: number;
  DHQK: number;
  DHHV: number;
}

/** Arguments of {@link encodeRecurrentStep}: everything is already validated GPU tensors. */
export interface EncodeRecurrentStepArgs {
  dims: StepDims;
  /** token index in the `S` axis of q, k, v, i, f and h */
  t: number;
  dtype: GpuDtype;
  eps: number;
  /** (BH, S, DHQK) in `dtype` (any shape with that layout) */
  q: GpuTensor;
  k: GpuTensor;
  /** (BH, S, DHHV) in `dtype` */
  v: GpuTensor;
  /** (BH, S) f32 */
  i: GpuTensor;
  f: GpuTensor;
  /** old states (f32); `null` means zeros with `m = 0` (nothing is read) */
  state: { c: GpuTensor; n: GpuTensor; m: GpuTensor } | null;
  /**
   * h (BH, S, DHHV) in `dtype`, written at `t`; new states (f32). `out.c` / `out.n` / `out.m` may
   * be the same buffers as `state.c` / `state.n` / `state.m` (in-place update; in-place `n`/`m`
   * take the split kernels).
   */
  out: { h: GpuTensor; c: GpuTensor; n: GpuTensor; m: GpuTensor };
  /** f32 scratch of at least `BH · 4` elements (may be shared by every step of a batch) */
  scratch: GpuTensor;
  tiles?: RecurrentStepTiles;
}

/** Which kernels {@link encodeRecurrentStep} uses for a step with these buffers on this adapter. */
export function recurrentStepKernel(
  ctx: GpuContext,
  state: EncodeRecurrentStepArgs['state'],
  out: EncodeRecurrentStepArgs['out'],
): 'fused' | 'split' {
  const cInPlace = !state || state.c.buffer === out.c.buffer;
  const need = cInPlace ? RECURRENT_STEP_FUSED_BINDINGS.inPlace : RECURRENT_STEP_FUSED_BINDINGS.separate;
  if (ctx.limits.maxStorageBuffersPerShaderStage < need) return 'split';
  if (state && (state.n.buffer === out.n.buffer || state.m.buffer === out.m.buffer)) return 'split';
  return 'fused';
}

/**
 * Encodes one recurrent step into `batch` (one dispatch, or two for the split kernels).
 * Pipelines are compiled once per (kernel, tiles, dtype, in-place variant) through
 * `ctx.pipeline`. No validation: callers validate their arguments (see
 * {@link mlstmRecurrentStepWebgpu}).
 */
export function encodeRecurrentStep(ctx: GpuContext, batch: DispatchBatch, a: EncodeRecurrentStepArgs): void {
  const { dims, dtype, state, out } = a;
  const lim = ctx.limits;
  const tiles =
    a.tiles ??
    recurrentStepTiles(
      dims.BH,
      dims.DHQK,
      dims.DHHV,
      Math.min(lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX),
      lim.maxComputeWorkgroupSizeY,
    );
  const tileKey = `bv${tiles.blockV}:ks${tiles.splitK}`;
  const cInPlace = !state || state.c.buffer === out.c.buffer;
  const cBufs = cInPlace ? [out.c] : [state!.c, out.c];
  const params = STEP_PARAMS.pack({
    BH: dims.BH,
    S: dims.S,
    t: a.t,
    DHQK: dims.DHQK,
    DHHV: dims.DHHV,
    has_state: state ? 1 : 0,
    kappa: 1 / Math.sqrt(dims.DHQK),
    eps: a.eps,
  });
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  const [hy, hz] = splitWorkgroups(dims.BH, maxWg);
  const tileGrid: [number, number, number] = [cdiv(dims.DHHV, tiles.blockV), hy, hz];
  const cVariant = cInPlace ? 'inplace' : 'copy';
  if (recurrentStepKernel(ctx, state, out) === 'fused') {
    const fused = ctx.pipeline(`recurrent.step.fused:${dtype}:${tileKey}:${cVariant}`, () =>
      recurrentStepFusedWgsl(dtype, tiles, cInPlace),
    );
    // without old states nothing is read from n_in / m_in: bind the (otherwise unused) scratch
    const nIn = state ? state.n : a.scratch;
    const mIn = state ? state.m : a.scratch;
    batch.dispatch(
      fused,
      [a.q, a.k, a.v, a.i, a.f, nIn, mIn, ...cBufs, out.h, out.n, out.m],
      params,
      tileGrid,
      'recurrent step (fused)',
    );
    return;
  }
  const nInPlace = !state || state.n.buffer === out.n.buffer;
  const prep = ctx.pipeline(`recurrent.step.prep:${dtype}:${tileKey}:${nInPlace ? 'inplace' : 'copy'}`, () =>
    recurrentStepPrepWgsl(dtype, tiles, nInPlace),
  );
  const update = ctx.pipeline(`recurrent.step.update:${dtype}:${tileKey}:${cVariant}`, () =>
    recurrentStepUpdateWgsl(dtype, tiles, cInPlace),
  );
  const mIn = state ? state.m : out.m;
  const nBufs = nInPlace ? [out.n] : [state!.n, out.n];
  const [px, py] = splitWorkgroups(dims.BH, maxWg);
  batch.dispatch(
    prep,
    [a.q, a.k, a.i, a.f, mIn, ...nBufs, a.scratch],
    params,
    [px, py],
    'recurrent step (prep)',
  );
  batch.dispatch(
    update,
    [a.q, a.k, a.v, ...cBufs, a.scratch, out.h, out.m],
    params,
    tileGrid,
    'recurrent step (update)',
  );
}

// ------------------------------------------------------------------------------------------------
// Public API

/** Caller-provided output buffers of a step (GPU inputs only). */
export interface RecurrentStepOut {
  /** `(B, NH, DHHV)` in the q/k/v dtype */
  h?: GpuTensor;
  /** `(B, NH, DHQK, DHHV)` f32; may be the input `c` itself (in-place update) */
  c?: GpuTensor;
  /** `(B, NH, DHQK)` f32; may be the input `n` itself */
  n?: GpuTensor;
  /** `(B, NH, 1)` f32; may be the input `m` itself */
  m?: GpuTensor;
}

/** Arguments of {@link mlstmRecurrentStepWebgpu}; `T` is the kind of `q` (it decides the result kind). */
export interface RecurrentStepWebgpuArgs<T extends TensorLike = TensorLike> {
  /** query `(B, NH, DHQK)` */
  q: T;
  /** key `(B, NH, DHQK)` */
  k: TensorLike;
  /** value `(B, NH, DHHV)` */
  v: TensorLike;
  /** input-gate pre-activation `(B, NH, 1)`, f32 */
  i: TensorLike;
  /** forget-gate pre-activation `(B, NH, 1)`, f32 */
  f: TensorLike;
  /** matrix memory `(B, NH, DHQK, DHHV)`, f32 */
  c: TensorLike;
  /** normaliser `(B, NH, DHQK)`, f32 */
  n: TensorLike;
  /** stabiliser `(B, NH, 1)`, f32 */
  m: TensorLike;
  /** added to the denominator after the max (default 1e-6) */
  eps?: number;
  /** q/k/v/h dtype for CPU inputs (default 'f32'); GPU inputs keep their own */
  dtype?: GpuDtype;
  /** where to write the outputs (GPU inputs only); states may alias the inputs (in-place update) */
  out?: RecurrentStepOut;
}

/** `h (B, NH, DHHV)` and the new states `c, n, m` (f32). */
export interface RecurrentStepWebgpuResult<T = GpuTensor> {
  h: T;
  c: T;
  n: T;
  m: T;
}

type ResultKind<T> = T extends GpuTensor ? GpuTensor : CpuTensor;

const fmt = (s: readonly number[]) => `(${s.join(', ')})`;

/**
 * One recurrent mLSTMexp step on the GPU (step kernel `webgpu`, upstream `triton`; spec §1):
 * `h = C'ᵀq̂ / (max(|n'ᵀq̂|, exp(−m')) + eps)` with `q̂ = DHQK^(−1/2) q` and the new states
 * `(C', n', m')`. GPU tensors in → GPU tensors out (new ones, or the `out` buffers, which may be
 * the input states for an in-place update); CPU tensors in → CPU tensors out. Gates and states
 * are f32; q/k/v/h are f32 or f16 (f16 needs `shader-f16`); all arithmetic is f32.
 */
export async function mlstmRecurrentStepWebgpu<T extends TensorLike>(
  ctx: GpuContext,
  args: RecurrentStepWebgpuArgs<T>,
): Promise<RecurrentStepWebgpuResult<ResultKind<T>>> {
  const context = 'mlstmRecurrentStepWebgpu';
  const { q, k, v, i, f, c, n, m } = args;
  expectTensorLike('q', q, context);
  if (q.shape.length !== 3 || q.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new KernelArgumentError(
      'q',
      'a tensor of shape (B, NH, DHQK) with all dims >= 1',
      describe(q),
      context,
    );
  }
  const [B, NH, DHQK] = q.shape;
  expectTensor('q', q, [B, NH, DHQK], ['B', 'NH', 'DHQK'], context); // also checks a CPU tensor's data length
  expectTensor('k', k, [B, NH, DHQK], ['B', 'NH', 'DHQK'], context);
  expectTensorLike('v', v, context);
  if (v.shape.length !== 3 || !Number.isInteger(v.shape[2]) || v.shape[2] < 1) {
    throw new KernelArgumentError(
      'v',
      `a tensor of shape (B, NH, DHHV) = (${B}, ${NH}, DHHV)`,
      describe(v),
      context,
    );
  }
  const DHHV = v.shape[2];
  expectTensor('v', v, [B, NH, DHHV], ['B', 'NH', 'DHHV'], context);
  expectTensor('i', i, [B, NH, 1], ['B', 'NH', '1'], context, ['f32']);
  expectTensor('f', f, [B, NH, 1], ['B', 'NH', '1'], context, ['f32']);
  expectTensor('c', c, [B, NH, DHQK, DHHV], ['B', 'NH', 'DHQK', 'DHHV'], context, ['f32']);
  expectTensor('n', n, [B, NH, DHQK], ['B', 'NH', 'DHQK'], context, ['f32']);
  expectTensor('m', m, [B, NH, 1], ['B', 'NH', '1'], context, ['f32']);
  const eps = validateEps(args.eps ?? DEFAULT_EPS, context);
  const dtype = resolveDtype(ctx, q, args.dtype, context);
  for (const [name, t] of [
    ['k', k],
    ['v', v],
  ] as const) {
    if (t instanceof GpuTensor && t.dtype !== dtype) {
      throw new KernelArgumentError(name, `dtype '${dtype}' (the dtype of q)`, `'${t.dtype}'`, context);
    }
  }
  const out = args.out ?? {};
  const dims: StepDims = { BH: B * NH, S: 1, DHQK, DHHV };
  validateOut(out, { q, k, v, i, f, c, n, m }, { B, NH, DHQK, DHHV }, dtype, context);
  const E = BYTES_PER_ELEMENT[dtype];
  checkSizes(
    ctx,
    {
      q: B * NH * DHQK * E,
      k: B * NH * DHQK * E,
      v: B * NH * DHHV * E,
      c: B * NH * DHQK * DHHV * 4,
      n: B * NH * DHQK * 4,
    },
    context,
  );

  const scope = new CallScope(ctx, q);
  const created: GpuTensor[] = [];
  const fresh = (shape: number[], dt: GpuDtype) => {
    const t = ctx.empty(shape, dt);
    created.push(t);
    return t;
  };
  try {
    const g = {
      q: scope.gpu(q, dtype),
      k: scope.gpu(k, dtype),
      v: scope.gpu(v, dtype),
      i: scope.gpu(i),
      f: scope.gpu(f),
      c: scope.gpu(c),
      n: scope.gpu(n),
      m: scope.gpu(m),
    };
    const o = {
      h: out.h ?? fresh([B, NH, DHHV], dtype),
      c: out.c ?? fresh([B, NH, DHQK, DHHV], 'f32'),
      n: out.n ?? fresh([B, NH, DHQK], 'f32'),
      m: out.m ?? fresh([B, NH, 1], 'f32'),
    };
    const batch = ctx.batch();
    const scratch = batch.scratch([dims.BH * STEP_SCRATCH_PER_HEAD]);
    encodeRecurrentStep(ctx, batch, {
      dims,
      t: 0,
      dtype,
      eps,
      q: g.q,
      k: g.k,
      v: g.v,
      i: g.i,
      f: g.f,
      state: { c: g.c, n: g.n, m: g.m },
      out: o,
      scratch,
    });
    batch.submit();
    return (await scope.finish(o)) as unknown as RecurrentStepWebgpuResult<ResultKind<T>>;
  } catch (e) {
    scope.abort();
    for (const t of created) t.release();
    throw e;
  }
}

function isLive(t: unknown): t is TensorLike {
  if (t instanceof GpuTensor) return !t.released;
  return typeof t === 'object' && t !== null && Array.isArray((t as CpuTensor).shape) && 'data' in t;
}

function describe(t: unknown): string {
  if (t === undefined || t === null) return String(t);
  if (isLive(t)) return `shape ${fmt(t.shape)}`;
  return 'something that is not a tensor';
}

/**
 * Output buffers: GPU tensors of the right shape and dtype, only with GPU inputs, and never
 * aliasing another input or output — except a state output that is its own input (in place).
 */
function validateOut(
  out: RecurrentStepOut,
  inputs: Record<'q' | 'k' | 'v' | 'i' | 'f' | 'c' | 'n' | 'm', TensorLike>,
  d: { B: number; NH: number; DHQK: number; DHHV: number },
  dtype: GpuDtype,
  context: string,
): void {
  const given = (Object.keys(out) as (keyof RecurrentStepOut)[]).filter((key) => out[key] != null);
  if (given.length === 0) return;
  if (!(inputs.q instanceof GpuTensor)) {
    throw new KernelArgumentError(
      `out.${given[0]}`,
      'no out buffers when the inputs are CPU tensors',
      'a tensor',
      context,
    );
  }
  const specs: Record<keyof RecurrentStepOut, [number[], string[], GpuDtype]> = {
    h: [[d.B, d.NH, d.DHHV], ['B', 'NH', 'DHHV'], dtype],
    c: [[d.B, d.NH, d.DHQK, d.DHHV], ['B', 'NH', 'DHQK', 'DHHV'], 'f32'],
    n: [[d.B, d.NH, d.DHQK], ['B', 'NH', 'DHQK'], 'f32'],
    m: [[d.B, d.NH, 1], ['B', 'NH', '1'], 'f32'],
  };
  const seen = new Map<GPUBuffer, string>();
  for (const key of given) {
    const t = out[key];
    if (!(t instanceof GpuTensor)) {
      throw new KernelArgumentError(`out.${key}`, 'a GpuTensor', describe(t), context);
    }
    const [shape, names, dt] = specs[key];
    expectTensor(`out.${key}`, t, shape, names, context, [dt]);
    const other = seen.get(t.buffer);
    if (other)
      throw new KernelArgumentError(
        `out.${key}`,
        `a buffer distinct from out.${other}`,
        'the same buffer',
        context,
      );
    seen.set(t.buffer, key);
    for (const [name, x] of Object.entries(inputs)) {
      if (x instanceof GpuTensor && x.buffer === t.buffer && name !== key) {
        throw new KernelArgumentError(
          `out.${key}`,
          `a buffer that is not the input ${name} (only a state may be updated in place)`,
          `the buffer of ${name}`,
          context,
        );
      }
    }
  }
}
