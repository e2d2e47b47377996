import type { Tensor } from './tensor.js';

/** The inputs of every sequence kernel, head-first: q,k `(B,NH,S,DHQK)`, v `(B,NH,S,DHHV)`, i,f `(B,NH,S)`. */
export interface MlstmSequenceInputs {
  /** queries `(B, NH, S, DHQK)`; scaled by `κ = DHQK^(−1/2)` inside every kernel */
  q: Tensor;
  /** keys `(B, NH, S, DHQK)` (never scaled) */
  k: Tensor;
  /** values `(B, NH, S, DHHV)` */
  v: Tensor;
  /** input-gate pre-activations `(B, NH, S)` */
  i: Tensor;
  /** forget-gate pre-activations `(B, NH, S)`; `logsigmoid` is applied inside */
  f: Tensor;
}

/** Optional initial states (all or none; default zeros, including `m₀ = 0`). */
export interface MlstmInitialStates {
  /** matrix memory `(B, NH, DHQK, DHHV)` */
  cInitial?: Tensor;
  /** normaliser state `(B, NH, DHQK)` */
  nInitial?: Tensor;
  /** stabiliser (max) state `(B, NH, 1)` */
  mInitial?: Tensor;
}

/** Recurrent states `(c, n, m)`: `(B,NH,DHQK,DHHV)`, `(B,NH,DHQK)`, `(B,NH,1)`, float64. */
export interface MlstmStates {
  c: Tensor;
  n: Tensor;
  m: Tensor;
}

/** States of the sigmoid-input-gate variant (no stabiliser): `(c, n)`. */
export interface MlstmSigStates {
  c: Tensor;
  /** zeros when `normalize = false` (upstream leaves it unwritten) */
  n: Tensor;
}

/** Gradients of the five sequence inputs (same shapes as the inputs), float64. */
export interface MlstmGradients {
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  di: Tensor;
  df: Tensor;
}
