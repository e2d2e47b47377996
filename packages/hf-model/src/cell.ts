/**
 * The mLSTM cell call, in one place for each device (spec §3.4–§3.5). Prefill: the chunkwise
 * form for the largest multiple of the chunk size, the recurrent step for the rest; one token:
 * one recurrent step. Every block of the model goes through these two functions, so switching
 * to `@mlstm/backend` (when it lands) is a change here only.
 */
import { type MlstmStates, mlstmChunkwiseArbitraryLength, type Tensor } from '@mlstm/core-reference';

/** Cell inputs, head-first: q, k `(B, NH, S, dqk)`, v `(B, NH, S, dv)`, i, f `(B, NH, S)` (soft-capped). */
export interface CellInputs<T> {
  q: T;
  k: T;
  v: T;
  i: T;
  f: T;
}

/**
 * CPU cell (float64, `@mlstm/core-reference`): the arbitrary-length inference wrapper —
 * chunkwise over whole chunks, recurrent steps for the remainder, one step for S = 1.
 * `state` null = zeros (`m₀ = 0`).
 */
export function mlstmCellCpu(
  x: CellInputs<Tensor>,
  state: MlstmStates | null,
  opts: { chunkSize: number; eps: number },
): { h: Tensor; state: MlstmStates } {
  const r = mlstmChunkwiseArbitraryLength({
    ...x,
    ...(state ? { cInitial: state.c, nInitial: state.n, mInitial: state.m } : {}),
    chunkSize: opts.chunkSize,
    eps: opts.eps,
  });
  return { h: r.h, state: r.lastStates };
}
