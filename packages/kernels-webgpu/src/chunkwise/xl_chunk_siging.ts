/**
 * `chunkwise--webgpu_xl_chunk_siging`: the TFLA mLSTMsig kernels (upstream
 * `triton_xl_chunk_siging`): sigmoid input gate, no stabiliser, `normalize` on (default) or off.
 * `mInitial` is accepted and ignored; last states are `{ c, n }` (n is zeros without `normalize`).
 */
import { XL_CHUNK_DEFAULT_CHUNK_SIZE } from '../heuristics.js';
import { familyFunctions, type KernelFamily } from './run.js';

export const XL_CHUNK_SIGING: KernelFamily = {
  name: 'chunkwise--webgpu_xl_chunk_siging',
  variant: 'sig',
  chunked: true,
  defaultChunkSize: XL_CHUNK_DEFAULT_CHUNK_SIZE,
};

const fns = familyFunctions(XL_CHUNK_SIGING);

/** Forward of the TFLA mLSTMsig kernel. */
export const mlstmSigChunkwiseXlChunk = fns.forward;

/** Backward of the TFLA mLSTMsig kernel (dĩ includes the σ(−ĩ) factor of the sigmoid gate). */
export const mlstmSigChunkwiseXlChunkBackward = fns.backward;
