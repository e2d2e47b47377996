/**
 * mLSTMsig (sigmoid input gate) parallel form and backward (spec §3, §4.3; upstream
 * `parallel--native_siging_custbw`): `logD_{t,s} = F_t − F_s + logsigmoid(ĩ_s)`, no stabiliser,
 * normaliser `max(|Σ_s C̃_{t,s}|, 1)` (or none with `normalize: false`).
 */
import { DEFAULT_EPS } from '../math.js';
import { parallelBackwardCore, parallelForwardCore, validateDh } from '../parallel.js';
import type { Tensor } from '../tensor.js';
import type { MlstmGradients, MlstmSequenceInputs } from '../types.js';
import { rejectStates, validateEps, validateFlag, validateSequenceInputs } from '../validate.js';

/** Arguments of {@link mlstmSigParallel}. */
export interface MlstmSigParallelArgs extends MlstmSequenceInputs {
  /** default 1e-6 */
  eps?: number;
  /** stable forget-gate matrix (upstream `stable_fgate`, default true) */
  stableF?: boolean;
  /** divide by `max(|n·q̂|, 1) + eps` (default true) */
  normalize?: boolean;
}

/** Arguments of {@link mlstmSigParallelBackward}. */
export interface MlstmSigParallelBackwardArgs extends MlstmSigParallelArgs {
  /** upstream gradient `(B, NH, S, DHHV)` */
  dh: Tensor;
}

function options(args: MlstmSigParallelArgs, ctx: string) {
  return {
    kind: 'sig' as const,
    eps: validateEps(args.eps, ctx, DEFAULT_EPS),
    stableF: validateFlag('stableF', args.stableF, ctx, true),
    normalize: validateFlag('normalize', args.normalize, ctx, true),
  };
}

/**
 * The mLSTMsig parallel forward. Returns `h (B,NH,S,DHHV)` and the per-token normaliser
 * `n (B,NH,S)` without eps (ones when `normalize` is false).
 */
export function mlstmSigParallel(args: MlstmSigParallelArgs): { h: Tensor; n: Tensor } {
  const ctx = 'mlstmSigParallel';
  const d = validateSequenceInputs(args, ctx);
  rejectStates(args as object, ctx);
  const { h, n } = parallelForwardCore(args, d, options(args, ctx));
  return { h, n };
}

/** Hand-written backward of {@link mlstmSigParallel} (spec §4.3; the normaliser is a constant). */
export function mlstmSigParallelBackward(args: MlstmSigParallelBackwardArgs): MlstmGradients {
  const ctx = 'mlstmSigParallelBackward';
  const d = validateSequenceInputs(args, ctx);
  rejectStates(args as object, ctx);
  validateDh(args.dh, d, ctx);
  return parallelBackwardCore(args, args.dh, d, options(args, ctx));
}
