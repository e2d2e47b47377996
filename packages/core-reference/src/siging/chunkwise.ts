/**
 * mLSTMsig chunkwise form and backward (spec §3, §5 with `ι = logsigmoid(ĩ)` and no stabiliser;
 * the math of upstream `chunkwise--triton_xl_chunk_siging`). States are `(c, n)`; `mInitial` is
 * accepted and ignored; with `normalize: false` the returned `n` is zeros.
 */
import {
  type MlstmChunkwiseArgs,
  chunkwiseForwardCore,
  lastStatesOf,
  validateChunkwiseArgs,
} from '../chunkwise.js';
import {
  type MlstmChunkwiseBackwardArgs,
  type MlstmChunkwiseGradients,
  chunkwiseBackwardCore,
  validateChunkwiseBackwardArgs,
} from '../chunkwise-backward.js';
import type { Tensor } from '../tensor.js';
import type { MlstmSigStates } from '../types.js';
import { validateFlag } from '../validate.js';

/** Arguments of {@link mlstmSigChunkwise}. */
export interface MlstmSigChunkwiseArgs extends MlstmChunkwiseArgs {
  /** divide by `max(|n·q̂|, 1) + eps` (default true) */
  normalize?: boolean;
}

/** Arguments of {@link mlstmSigChunkwiseBackward}. */
export interface MlstmSigChunkwiseBackwardArgs extends MlstmChunkwiseBackwardArgs {
  /** default true */
  normalize?: boolean;
}

/** The mLSTMsig chunkwise forward: `h` and, when asked for, the last states `(c, n)`. */
export function mlstmSigChunkwise(args: MlstmSigChunkwiseArgs): { h: Tensor; lastStates?: MlstmSigStates } {
  const ctx = 'mlstmSigChunkwise';
  const { d, init, eps, chunkSize } = validateChunkwiseArgs(args, ctx, false);
  const normalize = validateFlag('normalize', args.normalize, ctx, true);
  const returnLast = validateFlag('returnLastStates', args.returnLastStates, ctx, false);
  const r = chunkwiseForwardCore(args, d, init, { kind: 'sig', normalize, eps, chunkSize });
  if (!returnLast) return { h: r.h };
  const { c, n } = lastStatesOf(r, d);
  if (!normalize) n.data.fill(0);
  return { h: r.h, lastStates: { c, n } };
}

/**
 * Hand-written backward of {@link mlstmSigChunkwise} (spec §4.3–4.4): `dq, dk, dv, di, df` and,
 * with initial states, `dcInitial` and zero `dnInitial`.
 */
export function mlstmSigChunkwiseBackward(args: MlstmSigChunkwiseBackwardArgs): MlstmChunkwiseGradients {
  const ctx = 'mlstmSigChunkwiseBackward';
  const { d, init, eps, chunkSize, dcLast, correct } = validateChunkwiseBackwardArgs(args, ctx, false);
  const normalize = validateFlag('normalize', args.normalize, ctx, true);
  const { dcStates: _, ...grads } = chunkwiseBackwardCore(args, args.dh, dcLast, d, init, {
    kind: 'sig',
    normalize,
    eps,
    chunkSize,
    correctDfForDcLast: correct,
  });
  return grads;
}
