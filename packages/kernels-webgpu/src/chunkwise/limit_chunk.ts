/**
 * `chunkwise--webgpu_limit_chunk`: the single-level chunkwise mLSTMexp kernels (upstream
 * `triton_limit_chunk`): chunk size ≤ 64 (default 64) and one tile covering a whole chunk, every
 * chunk state materialised. Same math and passes as xl_chunk, without the tiling inside chunks.
 */
import { LIMIT_CHUNK_DEFAULT_CHUNK_SIZE, LIMIT_CHUNK_MAX_CHUNK_SIZE } from '../heuristics.js';
import { familyFunctions, type KernelFamily } from './run.js';

export const LIMIT_CHUNK: KernelFamily = {
  name: 'chunkwise--webgpu_limit_chunk',
  variant: 'exp',
  chunked: true,
  defaultChunkSize: LIMIT_CHUNK_DEFAULT_CHUNK_SIZE,
  maxChunkSize: LIMIT_CHUNK_MAX_CHUNK_SIZE,
  wholeChunkTiles: true,
};

const fns = familyFunctions(LIMIT_CHUNK);

/** Forward of the limit_chunk kernel. */
export const mlstmChunkwiseLimitChunk = fns.forward;

/** Backward of the limit_chunk kernel. */
export const mlstmChunkwiseLimitChunkBackward = fns.backward;
