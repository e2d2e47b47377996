/**
 * Which path a chunkwise or parallel call takes, and why: the one-time probe of the matrix-unit
 * (subgroup-matrix) path and {@link explainPlan}.
 *
 * The matrix path is chosen from the adapter's features (subgroup matrices with an f16→f32
 * 16×16×16 configuration, 32-lane subgroups, `shader-f16`, the device's `subgroups`), then the
 * first f16 call compiles representative matrix pipelines in an error scope
 * (`createComputePipelineAsync`): if this Dawn, browser or driver rejects them, the context
 * records why (`ctx.matrixPath`) and every call runs the register-tiled kernels instead of failing.
 */
import type { GpuContext, MatrixPathStatus } from '../device/context.js';
import type { GpuDtype } from '../device/tensor.js';
import { chooseScanTile, isSoftwareAdapter } from '../heuristics.js';
import { type KernelTuning, resolveTuning } from '../tuning.js';
import type { SequenceDims } from '../validate.js';
import { carryingScan, chunkProductWgsl } from './kernels/chunk_products.js';
import type { IntraRole, IntraTiles } from './kernels/intra.js';
import { sgmatUnsupportedReason, sgmatWgsl } from './kernels/intra_sgmat.js';
import type { ChunkwiseArgs, KernelFamily } from './run.js';
import { intraPlan, matrixPathDecision, matrixTileX, type TflaOptions } from './tfla.js';

/** The WGSL the probe compiles: an intra kernel with row dots (shuffles) and the carrying scan (scalar multiply). */
function probeSources(): { label: string; code: string }[] {
  return [
    {
      label: 'matrix probe: intra dq',
      code: sgmatWgsl({ role: 'dq', variant: 'exp', normalize: true, inter: true, bX: 64, rowDots: true }),
    },
    {
      label: 'matrix probe: intra fw',
      code: sgmatWgsl({ role: 'fw', variant: 'exp', normalize: true, inter: true, bX: 256, walkRows: true }),
    },
    {
      label: 'matrix probe: carrying scan',
      code: chunkProductWgsl({ direction: 'fw', variant: 'exp', normalize: true, bX: 256, carry: true }),
    },
  ];
}

/**
 * The context's matrix-path status, probing once (per device and features) when the adapter has
 * what the path needs: compiles the probe pipelines in an error scope and records `ready`, or
 * `failed` with the compiler's message.
 */
export async function ensureMatrixProbe(ctx: GpuContext): Promise<MatrixPathStatus> {
  const of = ctx.matrixPathOf;
  if (of && of.device === ctx.device && of.features === ctx.features && ctx.matrixPath.state !== 'unprobed')
    return ctx.matrixPath;
  const unsupported = sgmatUnsupportedReason(ctx.features);
  let status: MatrixPathStatus;
  if (unsupported) status = { state: 'unsupported', reason: unsupported };
  else {
    const rewrite = ctx.createdWith.matrixProbeWgsl ?? ((c: string) => c);
    const failure = await ctx.tryCompile(probeSources().map((s) => ({ ...s, code: rewrite(s.code) })));
    status = failure
      ? { state: 'failed', reason: failure }
      : { state: 'ready', reason: 'the matrix pipelines compiled on this device' };
  }
  // assignments on the context itself (a context seen through `Object.create`, as tests do, keeps its own)
  ctx.matrixPath = status;
  ctx.matrixPathOf = { device: ctx.device, features: ctx.features };
  return status;
}

/** Shape of a call, as `explainPlan` takes it. */
export interface PlanShape {
  B: number;
  NH: number;
  S: number;
  DHQK: number;
  DHHV: number;
}

/** The options of a call that decide its plan (those of {@link ChunkwiseArgs}). */
export type PlanOptions = Pick<
  ChunkwiseArgs,
  'chunkSize' | 'dtype' | 'computeDtype' | 'tiles' | 'subgroupMatrix' | 'tuning' | 'normalize'
>;

/** What a call runs: the path, why, the intra tiles per role, and the state scan. */
export interface ExecutionPlan {
  family: string;
  dtype: GpuDtype;
  chunkSize: number;
  path: 'matrix-units' | 'register-tiles';
  /** why this path (the first rule that ruled the matrix units out, or why they run) */
  reason: string;
  /** the context's matrix-path probe status */
  matrixPath: MatrixPathStatus;
  intra: { role: IntraRole; tiles: IntraTiles; walkRows: boolean }[];
  scan:
    | { kind: 'none' }
    | { kind: 'register-tiled'; tile: number }
    | { kind: 'carrying'; tileX: number; segments: number }
    | { kind: 'products+carry'; tileX: number };
  /** dQ and dK also leave the row dots of the gate gradients (matrix units, tile spanning DHQK) */
  rowDots: boolean;
}

/** The resolved kernel options of a call (as run.ts derives them, without validating tensors). */
export function planOptions(ctx: GpuContext, fam: KernelFamily, d: PlanShape, o: PlanOptions): TflaOptions {
  const chunkSize = fam.chunked ? (o.chunkSize ?? Math.min(fam.defaultChunkSize, d.S)) : d.S;
  const dtype = o.computeDtype ?? o.dtype ?? 'f32';
  return {
    variant: fam.variant,
    normalize: fam.variant === 'exp' ? true : (o.normalize ?? true),
    chunkSize,
    eps: 1e-6,
    dtype,
    inter: fam.chunked,
    wholeChunkTiles: fam.wholeChunkTiles,
    tiles: o.tiles,
    subgroupMatrix: o.subgroupMatrix,
    tuning: resolveTuning(ctx.tuning, o.tuning as KernelTuning | undefined, fam.name),
  };
}

/** The plan of resolved options (what run.ts reports through `onPlan`). */
export function planOf(ctx: GpuContext, fam: KernelFamily, d: SequenceDims, o: TflaOptions): ExecutionPlan {
  const decision = matrixPathDecision(ctx, d, o);
  const matrix = decision.use;
  const NC = d.S / o.chunkSize;
  const BNH = d.B * d.NH;
  let scan: ExecutionPlan['scan'] = { kind: 'none' };
  if (o.inter) {
    if (matrix) {
      const layout = carryingScan(BNH, d.DHQK, d.DHHV, NC, o.tuning);
      scan = layout
        ? { kind: 'carrying', tileX: layout.bX, segments: layout.segs }
        : { kind: 'products+carry', tileX: matrixTileX(d.DHHV, o) };
    } else {
      scan = {
        kind: 'register-tiled',
        tile: o.tiles?.scan ?? chooseScanTile(d.DHQK, d.DHHV, ctx.limits, isSoftwareAdapter(ctx.adapterInfo)),
      };
    }
  }
  let reason = decision.reason;
  if (matrix && o.tiles?.matrixX && matrixTileX(d.DHHV, o) !== o.tiles.matrixX)
    reason += `; tiles.matrixX ${o.tiles.matrixX} does not divide the head dimension, the default column tile is used`;
  return {
    family: fam.name,
    dtype: o.dtype,
    chunkSize: o.chunkSize,
    path: matrix ? 'matrix-units' : 'register-tiles',
    reason,
    matrixPath: ctx.matrixPath,
    intra: (['fw', 'dq', 'dk', 'dv'] as IntraRole[]).map((role) => ({
      role,
      ...intraPlan(ctx, role, d, o, matrix),
    })),
    scan,
    rowDots: matrix && matrixTileX(d.DHQK, o) === d.DHQK,
  };
}

/**
 * Which path, tiles and scan a call of `family` with this shape and these options takes on this
 * context, and why. Before the first f16 call the matrix-path probe has not run: the plan then
 * says so (`matrixPath.state: 'unprobed'`); `await explainPlanAfterProbe(…)` probes first.
 *
 * ```ts
 * const plan = explainPlan(ctx, XL_CHUNK, { B: 1, NH: 8, S: 4096, DHQK: 128, DHHV: 256 }, { dtype: 'f16' });
 * console.log(plan.path, plan.reason, plan.scan);
 * ```
 */
export function explainPlan(
  ctx: GpuContext,
  family: KernelFamily,
  shape: PlanShape,
  options: PlanOptions = {},
): ExecutionPlan {
  const o = planOptions(ctx, family, shape, options);
  return planOf(ctx, family, shape, o);
}

/** {@link explainPlan} after the context's one-time matrix-path probe (the plan a call would follow). */
export async function explainPlanAfterProbe(
  ctx: GpuContext,
  family: KernelFamily,
  shape: PlanShape,
  options: PlanOptions = {},
): Promise<ExecutionPlan> {
  await ensureMatrixProbe(ctx);
  return explainPlan(ctx, family, shape, options);
}
