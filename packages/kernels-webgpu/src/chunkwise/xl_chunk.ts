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

/** Backward: `{ dq, dk, dv, di, df }` (+ `dcInitial` and zero `dnInitial`, `dmInitial` with initial states). */
export const mlstmChunkwiseXlChunkBackward = fns.backward;
