/**
 * `parallel--webgpu_limit_headdim`: the fused quadratic (attention-like) mLSTMexp kernel
 * (upstream `triton_limit_headdim`, spec §2, §5.10): the whole sequence is one chunk, tiled
 * flash-attention style, with the stabiliser of the parallel form (the pure row maximum).
 * No states. Unlike upstream, DHQK may differ from DHHV and any head dimension works; cost and
 * the (B, NH, S) gate vectors grow with S, so prefer the chunkwise kernels for long sequences.
 */
import { familyFunctions, type KernelFamily } from '../chunkwise/run.js';

export const LIMIT_HEADDIM: KernelFamily = {
  name: 'parallel--webgpu_limit_headdim',
  variant: 'exp',
  chunked: false,
  defaultChunkSize: 0,
};

const fns = familyFunctions(LIMIT_HEADDIM);

/** Forward: `h` of the stabilised parallel form (what `mlstmParallel` of core-reference computes). */
export const mlstmParallelLimitHeaddim = fns.forward;

/** Backward: `{ dq, dk, dv, di, df }` with the normaliser treated as a constant (spec §4.2). */
export const mlstmParallelLimitHeaddimBackward = fns.backward;
