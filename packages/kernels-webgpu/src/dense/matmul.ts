/**
 * `dense--webgpu_matmul`: `y[M, N] (+)= x[M, K]·W[N, K]ᵀ` with the epilogues a transformer-style
 * model needs (bias, residual accumulate, soft cap `cap·tanh(y/cap)`, SiLU gate of a fused
 * gate/up projection), f32 (or f16) output and f32 accumulation. Two kernels, one rule:
 * - on the adapter's matrix units (subgroup matrices, f16 operands) where the adapter has them
 *   (the rule of the TFLA kernels, `sgmatSupported`), W is f16 and K a multiple of 8;
 * - register-tiled otherwise (any M, N, K; f32 or f16 x and W).
 */
import type { DispatchBatch, GpuContext } from '../device/context.js';
import type { GpuTensor } from '../device/tensor.js';
import { KernelArgumentError } from '../errors.js';
import { chooseDenseTiles } from '../heuristics.js';
import { sgmatSupported } from '../chunkwise/kernels/sgmat_common.js';
import { type DenseSgmatTiles, denseSgmatTilesProblem, encodeDenseSgmat } from './kernels/matmul_sgmat.js';
import { encodeDenseTiled } from './kernels/matmul_tiled.js';
import { encodeCast } from '../util/cast.js';

export { type DenseSgmatTiles, formatDenseTiles, parseDenseTiles } from './kernels/matmul_sgmat.js';

/** Which kernel runs a dense matmul. */
export type DenseMatmulPath = 'matrix' | 'tiled';

export interface DenseMatmulArgs {
  /** `[M, K]` (row-major; more rows are allowed, the first M are used), f32 or f16 */
  x: GpuTensor;
  /** `[N, K]`, or `[2N, K]` with `gate: 'silu'` (gate rows, then up rows), f32 or f16 */
  w: GpuTensor;
  /**
   * output, row stride `ldy`: f32, or f16 (rounded by the f16 policy: the x of a next matmul on the
   * matrix units without a conversion pass; needs shader-f16); allocated as `[M, N]` f32 by
   * {@link denseMatmul} when absent
   */
  y?: GpuTensor;
  /** rows of the output (default: x's rows) */
  M?: number;
  /** output columns (default: W's rows, halved with the gate) */
  N?: number;
  /** depth (default: W's second dimension) */
  K?: number;
  /** f32 bias per W row (`[N]`, gated `[2N]`), indexed from `nOff` */
  bias?: GpuTensor | null;
  /** add the result to `y` (residual connections) */
  accumulate?: boolean;
  /** `cap·tanh(v/cap)` after the bias (and gate), before accumulating; off when absent or 0 */
  softcap?: number | null;
  /** `'silu'`: output column n = `silu(z_n + b_n)·(z_{N+n} + b_{N+n})` of the 2N-row product z (SwiGLU) */
  gate?: 'silu' | null;
  /** the output columns start at `nOff` of a `y` with `ldy` columns (W a row part of a larger matrix) */
  nOff?: number;
  ldy?: number;
  /** `'auto'` (default): the matrix units where {@link denseMatmulPath} allows; a forced path that cannot run throws */
  path?: 'auto' | DenseMatmulPath;
  /** matrix-unit tiles instead of the context's `tuning.denseTiles` or the heuristics' choice (benchmarks) */
  tiles?: DenseSgmatTiles;
  /**
   * Matrix units, f32 x: convert x to f16 in a pass of its own before the matmul (default true)
   * instead of converting each staged slice. Same values either way (round to nearest, clamped
   * to ±65504); the matmul itself runs 15–20 % faster on f16 x (H100, 7B shapes), which the extra
   * pass (M·K·6 bytes of traffic) more than pays for at prefill sizes.
   */
  castX?: boolean;
  /**
   * The f16 tensor (at least M·K elements) that `castX` converts x into, instead of a scratch
   * tensor per call: an engine that records many matmuls into one batch can reuse one buffer for
   * all of them (dispatches of a batch run in order).
   */
  castInto?: GpuTensor | null;
}

const CONTEXT = 'dense--webgpu_matmul';

interface Resolved {
  M: number;
  N: number;
  K: number;
  ldy: number;
  nOff: number;
  gated: boolean;
  path: DenseMatmulPath;
  tiles: DenseSgmatTiles;
}

const posInt = (name: string, v: number) => {
  if (!Number.isInteger(v) || v < 1)
    throw new KernelArgumentError(name, 'a positive integer', String(v), CONTEXT);
};

/**
 * The kernel a call would use: `'matrix'` where the adapter has subgroup matrices (f16→f32
 * 16×16×16, 32-lane subgroups), W is f16, K a multiple of 8 and the tiles fit; else `'tiled'`.
 */
export function denseMatmulPath(
  ctx: GpuContext,
  o: {
    wDtype: GpuTensor['dtype'];
    M: number;
    N: number;
    K: number;
    gated?: boolean;
    tiles?: DenseSgmatTiles;
  },
): DenseMatmulPath {
  return matrixProblem(ctx, o) ? 'tiled' : 'matrix';
}

function matrixProblem(
  ctx: GpuContext,
  o: {
    wDtype: GpuTensor['dtype'];
    M: number;
    N: number;
    K: number;
    gated?: boolean;
    tiles?: DenseSgmatTiles;
  },
): string {
  if (!sgmatSupported(ctx.features))
    return 'the adapter has no f16→f32 16×16×16 subgroup matrices with 32-lane subgroups';
  // the TFLA kernels' one-time probe (ensureMatrixProbe) failed on this device: the way back
  if (ctx.matrixPath?.state === 'failed') return `the matrix-path probe failed: ${ctx.matrixPath.reason}`;
  if (o.wDtype !== 'f16') return 'W is not f16';
  if (o.K % 8) return `K = ${o.K} is not a multiple of 8`;
  const tiles = o.tiles ?? ctx.tuning.denseTiles ?? chooseDenseTiles(o.M, o.N, ctx.limits, !!o.gated);
  return denseSgmatTilesProblem(tiles, !!o.gated, ctx.limits.maxComputeWorkgroupStorageSize);
}

function resolve(ctx: GpuContext, a: DenseMatmulArgs, y: GpuTensor | undefined): Resolved {
  const { x, w } = a;
  for (const [name, t] of [
    ['x', x],
    ['w', w],
  ] as const) {
    if (!t || t.released) throw new KernelArgumentError(name, 'a live GpuTensor', String(t), CONTEXT);
    if (t.shape.length !== 2)
      throw new KernelArgumentError(name, 'a 2-D tensor', `shape (${t.shape.join(', ')})`, CONTEXT);
  }
  const gated = a.gate === 'silu';
  if (a.gate != null && !gated)
    throw new KernelArgumentError('gate', "'silu' or null", String(a.gate), CONTEXT);
  const K = a.K ?? w.shape[1];
  const N = a.N ?? (gated ? w.shape[0] / 2 : w.shape[0]);
  const M = a.M ?? x.shape[0];
  posInt('M', M);
  posInt('N', N);
  posInt('K', K);
  const wRows = gated ? 2 * N : N;
  if (w.shape[0] < wRows || w.shape[1] !== K)
    throw new KernelArgumentError('w', `shape (${wRows}, ${K})`, `(${w.shape.join(', ')})`, CONTEXT);
  if (x.shape[0] < M || x.shape[1] !== K)
    throw new KernelArgumentError('x', `at least ${M} rows of ${K}`, `(${x.shape.join(', ')})`, CONTEXT);
  const nOff = a.nOff ?? 0;
  const ldy = a.ldy ?? N;
  if (!Number.isInteger(nOff) || nOff < 0)
    throw new KernelArgumentError('nOff', 'a non-negative integer', String(nOff), CONTEXT);
  if (gated && nOff !== 0) throw new KernelArgumentError('nOff', "0 with gate 'silu'", String(nOff), CONTEXT);
  if (!Number.isInteger(ldy) || ldy < nOff + N)
    throw new KernelArgumentError('ldy', `an integer >= nOff + N = ${nOff + N}`, String(ldy), CONTEXT);
  if (y) {
    if (y.released) throw new KernelArgumentError('y', 'a live GpuTensor', 'a released one', CONTEXT);
    if (y.dtype !== 'f32' && !(y.dtype === 'f16' && ctx.features.shaderF16))
      throw new KernelArgumentError(
        'y',
        ctx.features.shaderF16 ? "dtype 'f32' or 'f16'" : "dtype 'f32' (no shader-f16 for an f16 y)",
        `'${y.dtype}'`,
        CONTEXT,
      );
    if (y.numel < M * ldy)
      throw new KernelArgumentError('y', `at least M·ldy = ${M * ldy} elements`, String(y.numel), CONTEXT);
  } else if (a.accumulate) {
    throw new KernelArgumentError('y', 'a tensor to accumulate into (accumulate: true)', 'none', CONTEXT);
  }
  if (a.bias) {
    if (a.bias.dtype !== 'f32')
      throw new KernelArgumentError('bias', "dtype 'f32'", `'${a.bias.dtype}'`, CONTEXT);
    if (a.bias.numel < nOff + wRows)
      throw new KernelArgumentError(
        'bias',
        `at least nOff + ${wRows} elements`,
        String(a.bias.numel),
        CONTEXT,
      );
  }
  const softcap = a.softcap ?? 0;
  if (!Number.isFinite(softcap) || softcap < 0)
    throw new KernelArgumentError(
      'softcap',
      'a finite number >= 0 (0 or null: off)',
      String(softcap),
      CONTEXT,
    );
  for (const [name, t] of [
    ['x', x],
    ['w', w],
    ['y', y],
    ['bias', a.bias],
  ] as const)
    if (t) ctx.checkBindingSize(name, t.byteLength, CONTEXT);
  if (a.castInto) {
    const c = a.castInto;
    if (c.released || c.dtype !== 'f16' || c.numel < M * K)
      throw new KernelArgumentError(
        'castInto',
        `a live f16 tensor of at least M·K = ${M * K} elements`,
        c.released ? 'a released one' : `${c.dtype}, ${c.numel} elements`,
        CONTEXT,
      );
  }
  const want = a.path ?? 'auto';
  if (want !== 'auto' && want !== 'matrix' && want !== 'tiled')
    throw new KernelArgumentError('path', "'auto', 'matrix' or 'tiled'", String(want), CONTEXT);
  const tiles = a.tiles ?? ctx.tuning.denseTiles ?? chooseDenseTiles(M, N, ctx.limits, gated);
  const problem = want === 'tiled' ? '' : matrixProblem(ctx, { wDtype: w.dtype, M, N, K, gated, tiles });
  if (want === 'matrix' && problem)
    throw new KernelArgumentError('path', 'a path this call can take', `'matrix' (${problem})`, CONTEXT);
  const path: DenseMatmulPath = want === 'tiled' || problem ? 'tiled' : 'matrix';
  return { M, N, K, ldy, nOff, gated, path, tiles };
}

/**
 * Encodes `y (+)= epilogue(x·Wᵀ)` into `batch` (arguments validated first, typed errors naming
 * the argument); returns the path it took.
 *
 * ```ts
 * // SwiGLU of a fused [2F, H] gate/up weight, straight into g [T, F]
 * encodeDenseMatmul(ctx, batch, { x: a, w: upGate, y: g, gate: 'silu' });
 * // residual: x += g·Wdownᵀ
 * encodeDenseMatmul(ctx, batch, { x: g, w: down, y: x, accumulate: true });
 * ```
 */
export function encodeDenseMatmul(
  ctx: GpuContext,
  batch: DispatchBatch,
  a: DenseMatmulArgs & { y: GpuTensor },
): DenseMatmulPath {
  const r = resolve(ctx, a, a.y);
  const t = { x: a.x, w: a.w, bias: a.bias ?? null, y: a.y };
  const o = {
    M: r.M,
    N: r.N,
    K: r.K,
    ldy: r.ldy,
    nOff: r.nOff,
    accumulate: !!a.accumulate,
    softcap: a.softcap ?? 0,
    gated: r.gated,
  };
  if (r.path === 'matrix' && t.x.dtype === 'f32' && a.castX !== false) {
    // the first M rows of x as f16: into castInto, or a scratch tensor released after the batch's submit
    const x16 = a.castInto
      ? a.castInto.numel === r.M * r.K
        ? a.castInto
        : a.castInto.subview(0, [r.M, r.K])
      : batch.scratch([r.M, r.K], 'f16');
    encodeCast(ctx, batch, t.x.numel === r.M * r.K ? t.x : t.x.subview(0, [r.M, r.K]), x16);
    t.x = x16;
  }
  if (r.path === 'matrix') encodeDenseSgmat(ctx, batch, t, o, r.tiles);
  else encodeDenseTiled(ctx, batch, t, o);
  return r.path;
}

/**
 * One dense matmul, submitted at once; returns `y` (allocated `[M, N]` f32 when not given; the
 * caller releases it).
 *
 * ```ts
 * const y = await denseMatmul(ctx, { x, w, bias, softcap: 30 });
 * ```
 */
export async function denseMatmul(ctx: GpuContext, a: DenseMatmulArgs): Promise<GpuTensor> {
  resolve(ctx, a, a.y); // every argument checked before anything is allocated
  const M = a.M ?? a.x.shape[0];
  const N = a.N ?? (a.gate === 'silu' ? a.w.shape[0] / 2 : a.w.shape[0]);
  const y = a.y ?? ctx.empty([M, N]);
  const batch = ctx.batch();
  try {
    encodeDenseMatmul(ctx, batch, { ...a, y });
    batch.submit();
  } catch (e) {
    if (!a.y) y.release();
    throw e;
  }
  return y;
}
