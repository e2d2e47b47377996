/**
 * mLSTMsig recurrent loop (spec §3): `C_t = σ(f̃_t) C_{t−1} + σ(ĩ_t) k_t v_tᵀ`,
 * `h_t = C_tᵀ q̂_t / (max(|n_tᵀ q̂_t|, 1) + eps)` (or `C_tᵀ q̂_t` without normalisation).
 * Upstream has no kernel for it; it is the definition the sig chunkwise/parallel forms implement.
 */
import { DEFAULT_EPS } from '../math.js';
import { recurrentSequenceCore } from '../recurrent.js';
import type { Tensor } from '../tensor.js';
import type { MlstmInitialStates, MlstmSequenceInputs, MlstmSigStates } from '../types.js';
import { validateEps, validateFlag, validateSequenceInputs, validateStates } from '../validate.js';

/** Arguments of {@link mlstmSigRecurrentSequence}. */
export interface MlstmSigRecurrentSequenceArgs extends MlstmSequenceInputs, MlstmInitialStates {
  /** default 1e-6 */
  eps?: number;
  /** default true */
  normalize?: boolean;
  /** also return the last `(c, n)` (default false) */
  returnLastStates?: boolean;
}

/** The mLSTMsig recurrent loop; `mInitial` is accepted and ignored. */
export function mlstmSigRecurrentSequence(args: MlstmSigRecurrentSequenceArgs): {
  h: Tensor;
  lastStates?: MlstmSigStates;
} {
  const ctx = 'mlstmSigRecurrentSequence';
  const d = validateSequenceInputs(args, ctx);
  const has = validateStates(
    { c: args.cInitial, n: args.nInitial, m: args.mInitial },
    { c: 'cInitial', n: 'nInitial', m: 'mInitial' },
    d,
    ctx,
    false,
  );
  const eps = validateEps(args.eps, ctx, DEFAULT_EPS);
  const normalize = validateFlag('normalize', args.normalize, ctx, true);
  const returnLast = validateFlag('returnLastStates', args.returnLastStates, ctx, false);
  const init = has ? { c: args.cInitial!.data, n: args.nInitial!.data } : undefined;
  const r = recurrentSequenceCore('sig', normalize, args, d, init, eps);
  const { B, NH, S, DHQK, DHHV } = d;
  const h: Tensor = { shape: [B, NH, S, DHHV], data: r.h };
  if (!returnLast) return { h };
  if (!normalize) r.n.fill(0);
  return {
    h,
    lastStates: { c: { shape: [B, NH, DHQK, DHHV], data: r.c }, n: { shape: [B, NH, DHQK], data: r.n } },
  };
}
