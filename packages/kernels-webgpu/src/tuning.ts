/**
 * Kernel variants as immutable options. A variant that changes what a call generates or launches
 * is a field of {@link KernelTuning}, passed in a call's options (`tuning`) or in the context's
 * (`getGpuContext({ tuning })`); the call merges the defaults, the context's and its own into a
 * frozen {@link ResolvedTuning}, and every pipeline's cache key is derived from the configuration
 * that tuning produces (never from module state). A/B comparisons loop over tunings in
 * scripts or benchmarks (scripts/device-check.ts `--scan`), each run passing its own.
 */
import type { DenseSgmatTiles } from './dense/kernels/matmul_sgmat.js';
import { KernelArgumentError } from './errors.js';

/** Variants of the matrix-unit (subgroup-matrix) kernels; every field optional. */
export interface KernelTuning {
  /**
   * The matrix-unit state scan: `'carrying'`, one kernel whose workgroups walk the chunks of
   * their head carrying the states; `'products'`, every chunk's products in parallel then the
   * element-wise carry; `'auto'` (default), carrying when the heads (or their segments) give at
   * least `minScanWorkgroups` workgroups.
   */
  scan?: 'auto' | 'carrying' | 'products';
  /** state columns per workgroup of the carrying scan: 64, 128, 192 or 256 (default 256); used where it divides DHHV */
  scanTileX?: number;
  /** workgroups the carrying scan needs to fill the GPU (default 128, the H100's 132 SMs) */
  minScanWorkgroups?: number;
  /** at most this many segments per head (0: never segment; default 8) */
  maxScanSegments?: number;
  /** at least this many chunks per segment (default 16) */
  minSegmentChunks?: number;
  /** force this many segments per head (tests, tuning); 0 (default): choose */
  scanSegments?: number;
  /**
   * Tiles of the dense matmul on the matrix units (`dense--webgpu_matmul`) for every call that
   * does not pass its own `tiles`; `null` (default): the heuristics' choice. Tiles that a call
   * cannot use (workgroup memory, a gated epilogue's column blocks) send it to the register tiles,
   * as a call's own would. A model's prefill takes them from its context: this is how a benchmark
   * compares tile variants inside the model (`mlstm-bench --dense-tiles`).
   */
  denseTiles?: DenseSgmatTiles | null;
}

export type ResolvedTuning = Readonly<Required<KernelTuning>>;

/**
 * Measured on the H100 (docs/benchmarks/h100-kernels/tuning-carrying.log): 128 carrying
 * workgroups ran as fast per chunk as 256; 2 segments at S 32 768 and 4 at S 65 536 beat the
 * products plus the carry.
 */
export const DEFAULT_KERNEL_TUNING: ResolvedTuning = Object.freeze({
  scan: 'auto',
  scanTileX: 256,
  minScanWorkgroups: 128,
  maxScanSegments: 8,
  minSegmentChunks: 16,
  scanSegments: 0,
  denseTiles: null,
});

const nonNegInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Validates a tuning (typed errors naming the field) and merges it over `base`. */
export function resolveTuning(
  base: ResolvedTuning,
  t: KernelTuning | undefined,
  context: string,
  name = 'tuning',
): ResolvedTuning {
  if (t == null) return base;
  if (typeof t !== 'object') throw new KernelArgumentError(name, 'a KernelTuning object', String(t), context);
  const known = Object.keys(DEFAULT_KERNEL_TUNING);
  for (const k of Object.keys(t)) {
    if (!known.includes(k))
      throw new KernelArgumentError(
        `${name}.${k}`,
        `one of the fields ${known.join(', ')}`,
        'an unknown field',
        context,
      );
  }
  if (t.scan !== undefined && !['auto', 'carrying', 'products'].includes(t.scan))
    throw new KernelArgumentError(
      `${name}.scan`,
      "'auto', 'carrying' or 'products'",
      JSON.stringify(t.scan),
      context,
    );
  if (t.scanTileX !== undefined && ![64, 128, 192, 256].includes(t.scanTileX))
    throw new KernelArgumentError(`${name}.scanTileX`, '64, 128, 192 or 256', String(t.scanTileX), context);
  for (const k of ['minScanWorkgroups', 'maxScanSegments', 'minSegmentChunks', 'scanSegments'] as const) {
    if (t[k] !== undefined && !nonNegInt(t[k]))
      throw new KernelArgumentError(`${name}.${k}`, 'a non-negative integer', String(t[k]), context);
  }
  if (t.denseTiles != null) {
    const d = t.denseTiles as unknown as Record<string, unknown>;
    const ok =
      typeof d === 'object' &&
      ['bm', 'bn', 'bk', 'wm', 'stages'].every((k) => Number.isInteger(d[k]) && (d[k] as number) > 0) &&
      [undefined, 4, 8].includes(d.subgroups as number) &&
      [undefined, true, false].includes(d.prefetch as boolean) &&
      [undefined, true, false].includes(d.rotateStores as boolean);
    if (!ok)
      throw new KernelArgumentError(
        `${name}.denseTiles`,
        'null or { bm, bn, bk, wm, stages } (positive integers) with optional subgroups (4 | 8), prefetch and rotateStores (booleans)',
        JSON.stringify(t.denseTiles),
        context,
      );
  }
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(t)) if (v !== undefined) out[k] = v;
  return Object.freeze(out) as ResolvedTuning;
}
