/**
 * The public call path shared by the chunkwise families and the parallel kernel: validate
 * (typed errors before any GPU work), upload CPU inputs, encode the TFLA passes in one
 * submission, hand back GPU tensors or read them back for CPU callers.
 */
import type { DispatchBatch, GpuContext } from '../device/context.js';
import { type GpuDtype, GpuTensor } from '../device/tensor.js';
import { KernelArgumentError } from '../errors.js';
import { CallScope } from '../io.js';
import { encodeCast } from '../util/cast.js';
import { sgmatUnsupportedReason } from './kernels/sgmat_common.js';
import {
  checkSizes,
  type CpuTensor,
  expectTensor,
  resolveDtype,
  type SequenceDims,
  type TensorLike,
  validateEps,
  validateSequence,
  validateStates,
} from '../validate.js';
import {
  encodeLastStates,
  encodeTflaBackward,
  encodeTflaForward,
  groupSavedTensors,
  releaseGroupSaved,
  type TflaBackwardInputs,
  type TflaForwardInputs,
  type TflaGradients,
  type TflaGroupSaved,
  type TflaOptions,
  type TflaSaved,
} from './tfla.js';
import { intraWorkgroupBytes, type Variant } from './kernels/intra.js';
import { type KernelTuning, resolveTuning } from '../tuning.js';
import { ensureMatrixProbe, planOf } from './plan.js';

/** How a kernel family configures the TFLA passes. */
export interface KernelFamily {
  /** specifier, e.g. `chunkwise--webgpu_xl_chunk` (used in error messages) */
  name: string;
  variant: Variant;
  /** false for the fused parallel kernel (one chunk, no states) */
  chunked: boolean;
  defaultChunkSize: number;
  maxChunkSize?: number;
  wholeChunkTiles?: boolean;
}

export interface ChunkwiseArgs<T extends TensorLike = TensorLike> {
  q: T;
  k: T;
  v: T;
  i: T;
  f: T;
  cInitial?: T | null;
  nInitial?: T | null;
  /** mLSTMsig kernels accept and ignore it */
  mInitial?: T | null;
  chunkSize?: number;
  eps?: number;
  returnLastStates?: boolean;
  /** mLSTMsig only: normalise by max(|n·q|, 1) (default true) */
  normalize?: boolean;
  /** storage type of q, k, v, h for CPU inputs (GPU inputs keep theirs); default 'f32' */
  dtype?: GpuDtype;
  /**
   * Storage type the kernels run in (default: that of the inputs). `'f16'` with f32 inputs: q, k,
   * v (and dh) are converted to f16 on the GPU (saturated to ±65504, README: f16 numeric policy), the f16 kernels run — on the
   * adapter's matrix units where it has them — and h (and dq, dk, dv) come back as f32. The same
   * trade as upstream's Triton kernels with fp32 inputs (TF32 matrix products): f16 accuracy (f16
   * operands and state copies, f32 accumulation), several times faster on GPUs with matrix units.
   * Needs shader-f16. The forward's `saved` tensors only serve a backward with the same setting.
   */
  computeDtype?: GpuDtype;
  /**
   * GPU inputs only: also return the tensors the backward needs (`saved`), so that
   * `…Backward({ …, saved })` skips recomputing the forward. Release them with `releaseSaved`.
   */
  keepSaved?: boolean;
  /**
   * Advanced: tile sizes instead of the heuristics' choice (benchmarks, tests). Intra tiles: bR,
   * bT multiples of 16 up to 64, bX up to 256, bY 16; the scan tile is 16, 32 or 64 (giving
   * either selects the register-tiled kernel for it). `matrixX`: output columns per workgroup of
   * the matrix-unit kernels, 64…256, used where it divides the head dimension.
   */
  tiles?: TflaOptions['tiles'];
  /**
   * f16 only: run the intra-chunk kernels and the state scans on the adapter's matrix units
   * (subgroup matrices, f16 operands, f32 accumulation) where the adapter has them (f16→f32
   * 16×16×16, 32-lane subgroups) and the shape fits (chunk a multiple of 64, head dims multiples
   * of 64). Default: on. `false` forces the register-tiled kernels. {@link explainPlan} says which
   * path a call takes and why.
   */
  subgroupMatrix?: boolean;
  /** Kernel variants for this call, over the context's (`getGpuContext({ tuning })`); see {@link KernelTuning}. */
  tuning?: KernelTuning;
}

export interface LastStates<T> {
  c: T;
  n: T;
  /** absent for mLSTMsig */
  m?: T;
}

export interface ChunkwiseResult<T> {
  h: T;
  lastStates?: LastStates<T>;
  saved?: TflaSaved;
}

export interface ChunkwiseBackwardArgs<T extends TensorLike = TensorLike> extends ChunkwiseArgs<T> {
  dh: T;
  /** gradient flowing into the returned last c state */
  dcLast?: T | null;
  /** add ⟨dC_last, C_last⟩ to every forget-gate gradient (spec §4.5); default false = upstream parity */
  correctDfForDcLast?: boolean;
  /** from a forward call with `keepSaved: true` (not released by the backward) */
  saved?: TflaSaved;
}

export interface ChunkwiseGradients<T> {
  dq: T;
  dk: T;
  dv: T;
  di: T;
  df: T;
  /** when initial states were given */
  dcInitial?: T;
  /** zeros (the normaliser and stabiliser are constants of the backward, as upstream) */
  dnInitial?: T;
  dmInitial?: T;
}

interface Prepared {
  d: SequenceDims;
  /** the callers' storage type of q, k, v, h, dh and the gradients (opts.dtype: the kernels') */
  ioDtype: GpuDtype;
  hasStates: boolean;
  opts: TflaOptions;
  groups: HeadGroup[];
}

/** A range of the flattened B·NH heads processed together. */
interface HeadGroup {
  start: number;
  count: number;
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

/**
 * Splits the B·NH heads into groups whose tensors fit one storage binding
 * (`maxStorageBufferBindingSize`, e.g. 2 GiB on an H100 under Vulkan). Every group starts at a
 * head index whose byte offset is 256-aligned in every tensor. Throws a typed error naming the
 * tensor when even one head does not fit.
 */
function planHeadGroups(
  ctx: GpuContext,
  d: SequenceDims,
  chunkSize: number,
  dtype: GpuDtype,
  chunked: boolean,
  context: string,
): HeadGroup[] {
  const eb = dtype === 'f16' ? 2 : 4;
  const NC = d.S / chunkSize;
  // per-head bytes of what one group binds; `viewed`: the caller's tensors, bound as subviews
  // when their offset is 256-byte aligned (else copied: see GroupSlices)
  const perHead: Record<string, { bytes: number; viewed: boolean }> = {
    q: { bytes: d.S * d.DHQK * eb, viewed: true },
    v: { bytes: d.S * d.DHHV * eb, viewed: true },
    i: { bytes: d.S * 4, viewed: true },
    'gate vectors (3·S·4 bytes per head)': { bytes: 3 * d.S * 4, viewed: false },
    ...(chunked
      ? {
          'chunk states ((S/chunkSize+1)·DHQK·(DHHV+1)·4 bytes per head)': {
            bytes: (NC + 1) * d.DHQK * (d.DHHV + 1) * 4,
            viewed: false,
          },
          cInitial: { bytes: d.DHQK * d.DHHV * 4, viewed: true },
          nInitial: { bytes: d.DHQK * 4, viewed: true },
          mInitial: { bytes: 4, viewed: true },
        }
      : {}),
  };
  const limit = ctx.limits.maxStorageBufferBindingSize;
  let largest = 0;
  let align = 1;
  for (const [name, { bytes, viewed }] of Object.entries(perHead)) {
    if (bytes > limit) {
      throw new KernelArgumentError(
        name,
        `at most maxStorageBufferBindingSize = ${limit} bytes per head on this adapter`,
        `${bytes} bytes`,
        context,
      );
    }
    largest = Math.max(largest, bytes);
    // groups start where the large tensors stay 256-byte aligned (subviews, no copies); the
    // small ones (n, m: a few bytes per head) are copied when they are not
    if (viewed && bytes >= 4096) {
      const need = 256 / gcd(256, bytes);
      align = (align * need) / gcd(align, need);
    }
  }
  const BNH = d.B * d.NH;
  if (largest * BNH <= limit) return [{ start: 0, count: BNH }];
  const fit = Math.floor(limit / largest);
  // when not even `align` heads fit, groups of `fit` heads copy their unaligned slices
  const G = fit >= align ? Math.floor(fit / align) * align : fit;
  if (G < 1) {
    throw new KernelArgumentError(
      'q',
      `shapes whose one head fits maxStorageBufferBindingSize = ${limit} bytes`,
      `${largest} bytes per head`,
      context,
    );
  }
  const groups: HeadGroup[] = [];
  for (let start = 0; start < BNH; start += G) groups.push({ start, count: Math.min(G, BNH - start) });
  return groups;
}

/**
 * A head group's (1, count, …) slices of (B, NH, …) tensors: subviews where the byte offset is
 * 256-aligned (WebGPU's binding offset alignment), else copies — inputs copied in before the
 * group's batch, outputs copied back after it. Only small per-head tensors (n, m, …) and shapes
 * without an aligned group size take copies (see planHeadGroups).
 */
class GroupSlices {
  private readonly back: { tmp: GpuTensor; dst: GpuTensor; at: number; size: number }[] = [];
  private readonly temps: GpuTensor[] = [];

  constructor(
    private readonly ctx: GpuContext,
    private readonly g: HeadGroup,
    private readonly whole: boolean,
    private readonly context: string,
  ) {}

  private slice(t: GpuTensor, output: boolean): GpuTensor {
    if (this.whole) return t;
    const rest = t.shape.slice(2);
    const perHead = rest.reduce((a, b) => a * b, 1);
    const eb = t.dtype === 'f16' ? 2 : 4;
    const at = t.byteOffset + this.g.start * perHead * eb;
    if (at % 256 === 0) return t.subview(this.g.start * perHead, [1, this.g.count, ...rest]);
    const size = this.g.count * perHead * eb;
    if (at % 4 !== 0 || size % 4 !== 0) {
      throw new KernelArgumentError(
        'q',
        'head groups whose slices start at 4-byte offsets (an even number of f16 elements per head)',
        `${perHead} elements per head`,
        this.context,
      );
    }
    const tmp = this.ctx.empty([1, this.g.count, ...rest], t.dtype);
    this.temps.push(tmp);
    if (output) this.back.push({ tmp, dst: t, at, size });
    else {
      const enc = this.ctx.device.createCommandEncoder();
      enc.copyBufferToBuffer(t.buffer, at, tmp.buffer, tmp.byteOffset, size);
      this.ctx.device.queue.submit([enc.finish()]);
    }
    return tmp;
  }

  /** An input's slice (copied now, ahead of the group's batch, when it cannot be a view). */
  readonly input = (t: GpuTensor | undefined) => (t ? this.slice(t, false) : undefined);
  /** An output's slice (copied back by {@link finish} when it cannot be a view). */
  readonly output = (t: GpuTensor | undefined) => (t ? this.slice(t, true) : undefined);

  /** After the group's batch is submitted: copies outputs back and releases the copies. */
  finish(): void {
    if (this.back.length) {
      const enc = this.ctx.device.createCommandEncoder();
      for (const b of this.back)
        enc.copyBufferToBuffer(b.tmp.buffer, b.tmp.byteOffset, b.dst.buffer, b.at, b.size);
      this.ctx.device.queue.submit([enc.finish()]);
    }
    for (const t of this.temps) t.release();
  }
}

function prepare(ctx: GpuContext, fam: KernelFamily, a: ChunkwiseArgs, withDh: boolean): Prepared {
  const context = fam.name;
  if (typeof a !== 'object' || a === null)
    throw new KernelArgumentError('args', 'an object', String(a), context);
  const d = validateSequence(a, context);
  const ioDtype = resolveDtype(ctx, a.q, a.dtype, context);
  const dtype = resolveComputeDtype(ctx, a, ioDtype, d, withDh, context);
  const eps = validateEps(a.eps ?? 1e-6, context);
  let hasStates = false;
  if (fam.chunked) {
    hasStates = validateStates(a, d, context, fam.variant === 'exp');
    if (fam.variant === 'sig' && a.mInitial != null) {
      expectTensor('mInitial', a.mInitial, [d.B, d.NH, 1], ['B', 'NH', '1'], context, ['f32']);
    }
  } else {
    for (const n of ['cInitial', 'nInitial', 'mInitial'] as const) {
      if (a[n] != null)
        throw new KernelArgumentError(
          n,
          'no initial states (parallel kernels have none)',
          'a tensor',
          context,
        );
    }
    if (a.returnLastStates) {
      throw new KernelArgumentError(
        'returnLastStates',
        'false (parallel kernels return no states)',
        'true',
        context,
      );
    }
  }
  let chunkSize = d.S;
  if (fam.chunked) {
    chunkSize = a.chunkSize ?? Math.min(fam.defaultChunkSize, d.S);
    const max = fam.maxChunkSize;
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || (max !== undefined && chunkSize > max)) {
      throw new KernelArgumentError(
        'chunkSize',
        `a positive integer${max !== undefined ? ` <= ${max}` : ''}`,
        String(a.chunkSize),
        context,
      );
    }
    if (d.S % chunkSize !== 0) {
      throw new KernelArgumentError(
        'chunkSize',
        `a divisor of the sequence length S = ${d.S} (pad the sequence, or use the backend's train_with_padding / inference modes)`,
        String(chunkSize),
        context,
      );
    }
  }
  if (fam.variant === 'exp' && a.normalize === false) {
    throw new KernelArgumentError(
      'normalize',
      'true or undefined (only mLSTMsig kernels can skip the normaliser)',
      'false',
      context,
    );
  }
  const groups = planHeadGroups(ctx, d, chunkSize, dtype, fam.chunked, context);
  if (withDh) {
    const b = a as ChunkwiseBackwardArgs;
    expectTensor('dh', b.dh, [d.B, d.NH, d.S, d.DHHV], ['B', 'NH', 'S', 'DHHV'], context, [ioDtype]);
    if (b.dcLast != null) {
      if (!fam.chunked)
        throw new KernelArgumentError(
          'dcLast',
          'undefined (parallel kernels return no states)',
          'a tensor',
          context,
        );
      expectTensor('dcLast', b.dcLast, [d.B, d.NH, d.DHQK, d.DHHV], ['B', 'NH', 'DHQK', 'DHHV'], context, [
        'f32',
      ]);
    }
  }
  return {
    d,
    ioDtype,
    hasStates,
    groups,
    opts: {
      variant: fam.variant,
      normalize: fam.variant === 'exp' ? true : (a.normalize ?? true),
      chunkSize,
      eps,
      dtype,
      inter: fam.chunked,
      wholeChunkTiles: fam.wholeChunkTiles,
      tiles: validateTiles(ctx, a.tiles, context),
      subgroupMatrix: a.subgroupMatrix,
      tuning: resolveTuning(ctx.tuning, a.tuning, context),
    },
  };
}

/** The kernels' storage type: `computeDtype` (validated) or the inputs' own. */
function resolveComputeDtype(
  ctx: GpuContext,
  a: ChunkwiseArgs,
  ioDtype: GpuDtype,
  d: SequenceDims,
  withDh: boolean,
  context: string,
): GpuDtype {
  const c = a.computeDtype;
  if (c === undefined || c === ioDtype) return ioDtype;
  if (c !== 'f16') {
    throw new KernelArgumentError(
      'computeDtype',
      ioDtype === 'f16' ? "'f16' or undefined (f16 inputs run in f16)" : "'f32', 'f16' or undefined",
      JSON.stringify(c),
      context,
    );
  }
  if (!ctx.features.shaderF16)
    throw new KernelArgumentError('computeDtype', "'f32' — this adapter has no shader-f16", "'f16'", context);
  if (a.q instanceof GpuTensor) {
    // the conversions bind whole tensors
    const big = d.B * d.NH * d.S * 4;
    checkSizes(
      ctx,
      {
        q: big * d.DHQK,
        k: big * d.DHQK,
        v: big * d.DHHV,
        h: big * d.DHHV,
        ...(withDh ? { dh: big * d.DHHV } : {}),
      },
      `${context} (computeDtype 'f16' converts each of these tensors in one pass)`,
    );
  }
  return c;
}

function validateTiles(ctx: GpuContext, t: ChunkwiseArgs['tiles'], context: string): TflaOptions['tiles'] {
  if (t == null) return undefined;
  const ok = (v: unknown, max: number) =>
    typeof v === 'number' && Number.isInteger(v) && v % 16 === 0 && v >= 16 && v <= max;
  if (t.intra) {
    const { bR, bT, bX, bY } = t.intra;
    if (!ok(bR, 64) || !ok(bT, 64) || !ok(bX, 256) || bY !== 16 || bR % bT !== 0) {
      throw new KernelArgumentError(
        'tiles.intra',
        'bR, bT multiples of 16 up to 64 (bR a multiple of bT), bX a multiple of 16 up to 256, bY = 16',
        JSON.stringify(t.intra),
        context,
      );
    }
    const bytes = intraWorkgroupBytes(t.intra);
    if (bytes > ctx.limits.maxComputeWorkgroupStorageSize) {
      throw new KernelArgumentError(
        'tiles.intra',
        `tiles needing at most maxComputeWorkgroupStorageSize = ${ctx.limits.maxComputeWorkgroupStorageSize} bytes`,
        `${bytes} bytes`,
        context,
      );
    }
  }
  if (t.scan !== undefined && ![16, 32, 64].includes(t.scan)) {
    throw new KernelArgumentError('tiles.scan', '16, 32 or 64', String(t.scan), context);
  }
  if (t.matrixX !== undefined && ![64, 128, 192, 256].includes(t.matrixX)) {
    throw new KernelArgumentError('tiles.matrixX', '64, 128, 192 or 256', String(t.matrixX), context);
  }
  return t;
}

/** After validation: the one-time matrix-path probe (f16 calls), and the plan to `onPlan` when set. */
async function beforeRun(
  ctx: GpuContext,
  fam: KernelFamily,
  d: SequenceDims,
  opts: TflaOptions,
): Promise<void> {
  if (opts.dtype === 'f16' && opts.subgroupMatrix !== false) await ensureMatrixProbe(ctx);
  ctx.createdWith.onPlan?.(planOf(ctx, fam, d, opts));
}

export async function runForward(
  ctx: GpuContext,
  fam: KernelFamily,
  a: ChunkwiseArgs,
): Promise<ChunkwiseResult<GpuTensor | CpuTensor>> {
  const { d, ioDtype, hasStates, opts, groups } = prepare(ctx, fam, a, false);
  const scope = new CallScope(ctx, a.q);
  if (a.keepSaved && scope.cpu) {
    throw new KernelArgumentError(
      'keepSaved',
      'GPU tensor inputs (saved tensors stay on the GPU)',
      'CPU tensors',
      fam.name,
    );
  }
  await beforeRun(ctx, fam, d, opts);
  try {
    const inputs = gpuInputs(scope, a, opts.dtype, hasStates, fam);
    const whole = groups.length === 1;
    const h = ctx.empty([d.B, d.NH, d.S, d.DHHV], opts.dtype);
    const wantStates = !!a.returnLastStates && fam.chunked;
    const last = wantStates ? emptyLastStates(ctx, d) : undefined;
    const saved: TflaSaved = { groups: [], dtype: opts.dtype };
    for (const g of groups) {
      const slices = new GroupSlices(ctx, g, whole, fam.name);
      const batch = ctx.batch();
      const dg = whole ? d : { ...d, B: 1, NH: g.count };
      const fw = encodeTflaForward(ctx, batch, dg, mapInputs(inputs, slices.input), opts, {
        h: slices.output(h),
        needLast: wantStates || !!a.keepSaved,
      });
      if (last) {
        const out = { c: slices.output(last.c), n: slices.output(last.n), m: slices.output(last.m) };
        encodeLastStates(ctx, batch, dg, fw.saved, opts, out);
      }
      batch.submit();
      slices.finish();
      if (a.keepSaved) saved.groups.push({ start: g.start, count: g.count, data: fw.saved });
      else releaseGroupSaved(fw.saved);
    }
    const lastStates = last ? familyLastStates(ctx, fam, d, opts, last) : undefined;
    return await scope.finish({
      h: scope.output(h, ioDtype),
      lastStates,
      saved: a.keepSaved ? saved : undefined,
    });
  } catch (e) {
    scope.abort();
    throw e;
  }
}

/** Tensors for the last states `c [B, NH, DHQK, DHHV]`, `n [B, NH, DHQK]`, `m [B, NH, 1]` (f32). */
function emptyLastStates(ctx: GpuContext, d: SequenceDims) {
  return {
    c: ctx.empty([d.B, d.NH, d.DHQK, d.DHHV]),
    n: ctx.empty([d.B, d.NH, d.DHQK]),
    m: ctx.empty([d.B, d.NH, 1]),
  };
}

/** The last states a family returns: mLSTMsig has no m, and without the normaliser no n (zeros, as core-reference). */
function familyLastStates(
  ctx: GpuContext,
  fam: KernelFamily,
  d: SequenceDims,
  opts: TflaOptions,
  last: { c: GpuTensor; n: GpuTensor; m: GpuTensor },
): LastStates<GpuTensor> {
  if (fam.variant !== 'sig') return last;
  last.m.release();
  if (!opts.normalize) {
    last.n.release();
    return { c: last.c, n: ctx.zeros([d.B, d.NH, d.DHQK]) };
  }
  return { c: last.c, n: last.n };
}

/**
 * The forward of a chunked family encoded into the caller's `batch`: nothing is submitted or
 * awaited, so a model can put its whole layer — projections, cell, post-processing — into one
 * submission. GPU tensors in (`KernelArgumentError` for CPU ones); `h` comes back in the inputs'
 * dtype and the last states in f32, owned by the caller; the conversions to and from
 * `computeDtype` and the call's intermediates are dispatches of the same batch, released after
 * its submit. Inference only (`keepSaved` is refused), and only calls whose tensors fit one
 * storage binding (larger ones: the async call, which splits them into head groups). With f16 on
 * an adapter with matrix units, the matrix-path probe must have run (`ensureMatrixProbe`, or any
 * earlier async f16 call), since the encode form cannot wait for it.
 */
export function encodeForward(
  ctx: GpuContext,
  fam: KernelFamily,
  batch: DispatchBatch,
  a: ChunkwiseArgs<GpuTensor>,
): ChunkwiseResult<GpuTensor> {
  const context = `${fam.name} (encoded)`;
  for (const n of ['q', 'k', 'v', 'i', 'f', 'cInitial', 'nInitial', 'mInitial'] as const) {
    const t = (a as unknown as Record<string, unknown>)?.[n];
    if (t != null && !(t instanceof GpuTensor))
      throw new KernelArgumentError(
        n,
        'a GpuTensor (the encoded call takes tensors on the GPU)',
        'a CPU tensor',
        context,
      );
  }
  if (a.keepSaved)
    throw new KernelArgumentError('keepSaved', 'false (the encoded call is inference only)', 'true', context);
  const { d, ioDtype, hasStates, opts, groups } = prepare(ctx, fam, a, false);
  if (groups.length !== 1)
    throw new KernelArgumentError(
      'q',
      `tensors whose per-call buffers fit one storage binding of ${ctx.limits.maxStorageBufferBindingSize} bytes (the async call splits larger ones into head groups)`,
      `${groups.length} head groups`,
      context,
    );
  const probed =
    ctx.matrixPathOf?.device === ctx.device &&
    ctx.matrixPathOf.features === ctx.features &&
    ctx.matrixPath.state !== 'unprobed';
  if (
    opts.dtype === 'f16' &&
    opts.subgroupMatrix !== false &&
    !sgmatUnsupportedReason(ctx.features) &&
    !probed
  )
    throw new KernelArgumentError(
      'ctx',
      'a context whose matrix-path probe has run (await ensureMatrixProbe(ctx) first, or make one async f16 call)',
      `matrix path '${ctx.matrixPath.state}'`,
      context,
    );
  ctx.createdWith.onPlan?.(planOf(ctx, fam, d, opts));
  const inCompute = (t: GpuTensor): GpuTensor => {
    if (t.dtype === opts.dtype) return t;
    const c = batch.scratch(t.shape, opts.dtype);
    encodeCast(ctx, batch, t, c);
    return c;
  };
  const inputs: TflaForwardInputs = {
    q: inCompute(a.q),
    k: inCompute(a.k),
    v: inCompute(a.v),
    i: a.i,
    f: a.f,
    cInitial: hasStates ? (a.cInitial ?? undefined) : undefined,
    nInitial: hasStates ? (a.nInitial ?? undefined) : undefined,
    mInitial: hasStates && fam.variant === 'exp' ? (a.mInitial ?? undefined) : undefined,
  };
  const hShape = [d.B, d.NH, d.S, d.DHHV];
  const h = opts.dtype === ioDtype ? ctx.empty(hShape, ioDtype) : batch.scratch(hShape, opts.dtype);
  const wantStates = !!a.returnLastStates;
  const last = wantStates ? emptyLastStates(ctx, d) : undefined;
  const fw = encodeTflaForward(ctx, batch, d, inputs, opts, { h, needLast: wantStates });
  if (last) encodeLastStates(ctx, batch, d, fw.saved, opts, last);
  batch.releaseAfterSubmit(...groupSavedTensors(fw.saved));
  let hOut = h;
  if (opts.dtype !== ioDtype) {
    hOut = ctx.empty(hShape, ioDtype);
    encodeCast(ctx, batch, h, hOut);
  }
  return { h: hOut, lastStates: last ? familyLastStates(ctx, fam, d, opts, last) : undefined };
}

/** The call's tensors on the GPU: the forward's inputs, plus dh and dC_last in the backward. */
type GpuInputs = TflaForwardInputs & Partial<Pick<TflaBackwardInputs, 'dh' | 'dcLast'>>;

function gpuInputs(
  scope: CallScope,
  a: ChunkwiseBackwardArgs | ChunkwiseArgs,
  dtype: GpuDtype,
  hasStates: boolean,
  fam: KernelFamily,
): GpuInputs {
  const b = a as ChunkwiseBackwardArgs;
  return {
    q: scope.gpu(a.q, dtype),
    k: scope.gpu(a.k, dtype),
    v: scope.gpu(a.v, dtype),
    i: scope.gpu(a.i),
    f: scope.gpu(a.f),
    cInitial: hasStates ? scope.gpu(a.cInitial) : undefined,
    nInitial: hasStates ? scope.gpu(a.nInitial) : undefined,
    mInitial: hasStates && fam.variant === 'exp' ? scope.gpu(a.mInitial) : undefined,
    dh: b.dh ? scope.gpu(b.dh, dtype) : undefined,
    dcLast: scope.gpu(b.dcLast ?? undefined),
  };
}

function mapInputs(
  x: GpuInputs,
  v: (t: GpuTensor | undefined) => GpuTensor | undefined,
): GpuInputs & { dh: GpuTensor } {
  const out: Record<string, GpuTensor | undefined> = {};
  for (const [key, t] of Object.entries(x)) out[key] = v(t);
  return out as unknown as GpuInputs & { dh: GpuTensor };
}

export async function runBackward(
  ctx: GpuContext,
  fam: KernelFamily,
  a: ChunkwiseBackwardArgs,
): Promise<ChunkwiseGradients<GpuTensor | CpuTensor>> {
  const { d, ioDtype, hasStates, opts, groups } = prepare(ctx, fam, a, true);
  if (a.saved && a.saved.dtype !== opts.dtype) {
    throw new KernelArgumentError(
      'saved',
      `the saved tensors of a forward that ran in ${opts.dtype} (same dtype / computeDtype)`,
      `saved tensors of a forward that ran in ${a.saved.dtype}`,
      fam.name,
    );
  }
  if (a.saved) {
    const same =
      a.saved.groups.length === groups.length &&
      a.saved.groups.every((g, x) => g.start === groups[x].start && g.count === groups[x].count);
    if (!same) {
      throw new KernelArgumentError(
        'saved',
        'the saved tensors of a forward call with the same shapes and options',
        'saved tensors of another call',
        fam.name,
      );
    }
  }
  await beforeRun(ctx, fam, d, opts);
  const scope = new CallScope(ctx, a.q);
  try {
    const inputs = gpuInputs(scope, a, opts.dtype, hasStates, fam);
    const whole = groups.length === 1;
    const out: TflaGradients = {
      dq: ctx.empty([d.B, d.NH, d.S, d.DHQK], opts.dtype),
      dk: ctx.empty([d.B, d.NH, d.S, d.DHQK], opts.dtype),
      dv: ctx.empty([d.B, d.NH, d.S, d.DHHV], opts.dtype),
      di: ctx.empty([d.B, d.NH, d.S]),
      df: ctx.empty([d.B, d.NH, d.S]),
      dcInitial: hasStates && fam.chunked ? ctx.empty([d.B, d.NH, d.DHQK, d.DHHV]) : undefined,
    };
    for (const [x, g] of groups.entries()) {
      const slices = new GroupSlices(ctx, g, whole, fam.name);
      const batch = ctx.batch();
      const v = slices.output;
      const dg = whole ? d : { ...d, B: 1, NH: g.count };
      const inp = mapInputs(inputs, slices.input);
      let saved = a.saved?.groups[x].data;
      let recomputed: { h: GpuTensor; saved: TflaGroupSaved } | undefined;
      if (!saved) {
        recomputed = encodeTflaForward(ctx, batch, dg, inp, opts, { needLast: !!inp.dcLast });
        saved = recomputed.saved;
      }
      const gOut = {
        dq: v(out.dq),
        dk: v(out.dk),
        dv: v(out.dv),
        di: v(out.di),
        df: v(out.df),
        dcInitial: v(out.dcInitial),
      } as Partial<TflaGradients>;
      encodeTflaBackward(ctx, batch, dg, inp, saved, { ...opts, correctDf: a.correctDfForDcLast }, gOut);
      batch.submit();
      slices.finish();
      if (recomputed) {
        recomputed.h.release();
        releaseGroupSaved(recomputed.saved);
      }
    }
    const res: ChunkwiseGradients<GpuTensor> = {
      ...out,
      dq: scope.output(out.dq, ioDtype),
      dk: scope.output(out.dk, ioDtype),
      dv: scope.output(out.dv, ioDtype),
    };
    if (!out.dcInitial) delete res.dcInitial;
    if (hasStates) {
      res.dnInitial = ctx.zeros([d.B, d.NH, d.DHQK]);
      if (fam.variant === 'exp') res.dmInitial = ctx.zeros([d.B, d.NH, 1]);
    }
    return (await scope.finish(res)) as ChunkwiseGradients<GpuTensor | CpuTensor>;
  } catch (e) {
    scope.abort();
    throw e;
  }
}

/** A forward function overloaded on the tensor kind: GPU in → GPU out, CPU in → CPU out. */
export interface ForwardFn {
  (ctx: GpuContext, args: ChunkwiseArgs<GpuTensor>): Promise<ChunkwiseResult<GpuTensor>>;
  (ctx: GpuContext, args: ChunkwiseArgs<CpuTensor>): Promise<ChunkwiseResult<CpuTensor>>;
}

/** A backward function overloaded on the tensor kind. */
export interface BackwardFn {
  (ctx: GpuContext, args: ChunkwiseBackwardArgs<GpuTensor>): Promise<ChunkwiseGradients<GpuTensor>>;
  (ctx: GpuContext, args: ChunkwiseBackwardArgs<CpuTensor>): Promise<ChunkwiseGradients<CpuTensor>>;
}

/** The public forward and backward of a family. */
/** The forward encoded into a caller's batch ({@link encodeForward}). */
export type EncodeForwardFn = (
  ctx: GpuContext,
  batch: DispatchBatch,
  args: ChunkwiseArgs<GpuTensor>,
) => ChunkwiseResult<GpuTensor>;

export function familyFunctions(fam: KernelFamily): {
  forward: ForwardFn;
  backward: BackwardFn;
  encodeForward: EncodeForwardFn;
} {
  return {
    forward: ((ctx: GpuContext, args: ChunkwiseArgs) => runForward(ctx, fam, args)) as ForwardFn,
    backward: ((ctx: GpuContext, args: ChunkwiseBackwardArgs) => runBackward(ctx, fam, args)) as BackwardFn,
    encodeForward: (ctx, batch, args) => encodeForward(ctx, fam, batch, args),
  };
}
