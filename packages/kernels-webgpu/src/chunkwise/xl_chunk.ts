/**
 * `chunkwise--webgpu_xl_chunk`: the TFLA mLSTMexp kernels (upstream `triton_xl_chunk`).
 * Chunk size free (default 128, any divisor of S); the sequence and head dimensions are tiled
 * inside each chunk, so large chunks fit on chip.
 */
import { XL_CHUNK_DEFAULT_CHUNK_SIZE } from '../heuristics.js';
import { familyFunctions, type KernelFamily } from './run.js';

export const XL_CHUNK: KernelFamily = {
  name: 'chunkwise--webgpu_xl_chunk',
  variant: 'exp',
  chunked: true,
  defaultChunkSize: XL_CHUNK_DEFAULT_CHUNK_SIZE,
};

const fns = familyFunctions(XL_CHUNK);

/**
 * Forward of the TFLA mLSTMexp kernel: `h` and, with `returnLastStates`, `{ c, n, m }`.
 *
 * ```ts
 * const ctx = await getGpuContext();
 * const { h, lastStates } = await mlstmChunkwiseXlChunk(ctx, { q, k, v, i, f, returnLastStates: true });
 * ```
 */
export const mlstmChunkwiseXlChunk = fns.forward;

/**
 * The same forward encoded into the caller's batch (nothing submitted or awaited; GPU tensors,
 * inference only, one head group): a model puts a whole layer into one submission with it.
 *
 * ```ts
 * const batch = ctx.batch();
 * // … the projections that write q, k, v, i, f …
 * const { h, lastStates } = encodeMlstmChunkwiseXlChunk(ctx, batch, { q, k, v, i, f, returnLastStates: true });
 * // … the post-processing that reads h …
 * batch.submit();
 * ```
 */
export const encodeMlstmChunkwiseXlChunk = fns.encodeForward;

/** Backward: `{ dq, dk, dv, di, df }` (+ `dcInitial` and zero `dnInitial`, `dmInitial` with initial states). */
export const mlstmChunkwiseXlChunkBackward = fns.backward;
