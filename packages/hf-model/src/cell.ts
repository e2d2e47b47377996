/**
 * The mLSTM cell call, in one place (spec §3.4–§3.5). Prefill: the chunkwise form for whole
 * chunks, the recurrent step for the rest; one token: one recurrent step.
 *
 * - CPU: `@mlstm/backend`'s `MlstmBackend` in `inference` mode with the native (core-reference)
 *   kernels — the upstream `mLSTMBackend` configuration of transformers' native path — or, with
 *   `cpuCell: 'reference'`, `@mlstm/core-reference`'s arbitrary-length wrapper directly (float64
 *   states).
 * - WebGPU: the kernels package's TFLA `xl_chunk` and recurrent step kernels, encoded by
 *   `gpu/engine.ts` into the model's own dispatch batches (one submission per decoded token).
 */
import { MlstmBackend } from '@mlstm/backend';
import {
  type MlstmStates,
  mlstmChunkwiseArbitraryLength,
  mlstmChunkwisePacked,
  type Tensor,
} from '@mlstm/core-reference';

/** Cell inputs, head-first: q, k `(B, NH, S, dqk)`, v `(B, NH, S, dv)`, i, f `(B, NH, S)` (soft-capped). */
export interface CellInputs<T> {
  q: T;
  k: T;
  v: T;
  i: T;
  f: T;
}

/** Which CPU implementation runs the cell. */
export type CpuCellKind = 'backend' | 'reference';

/**
 * A CPU cell: inputs and the states to start from (null = zeros, `m₀ = 0`) → `h` and the new
 * states. With `seqStarts`, the inputs are N packed sequences (`B = 1`, N + 1 offsets on the token
 * axis) and the states are per sequence, `(N, NH, …)`.
 */
export type CpuCell = (
  x: CellInputs<Tensor>,
  state: MlstmStates | null,
  seqStarts?: Int32Array,
) => Promise<{ h: Tensor; state: MlstmStates }>;

/** The CPU cell for a model's chunk size and eps. */
export function makeCpuCell(kind: CpuCellKind, opts: { chunkSize: number; eps: number }): CpuCell {
  if (kind === 'reference') {
    return async (x, state, seqStarts) => {
      if (seqStarts) {
        const p = mlstmChunkwisePacked({
          ...x,
          ...(state ? { cInitial: state.c, nInitial: state.n, mInitial: state.m } : {}),
          seqStarts,
          chunkSize: opts.chunkSize,
          eps: opts.eps,
          returnLastStates: true,
        });
        return { h: p.h, state: p.lastStates as MlstmStates };
      }
      const r = mlstmChunkwiseArbitraryLength({
        ...x,
        ...(state ? { cInitial: state.c, nInitial: state.n, mInitial: state.m } : {}),
        chunkSize: opts.chunkSize,
        eps: opts.eps,
      });
      return { h: r.h, state: r.lastStates };
    };
  }
  const backend = new MlstmBackend({
    mode: 'inference',
    chunkwiseKernel: 'chunkwise--native_custbw',
    sequenceKernel: 'native_sequence__native',
    stepKernel: 'native',
    chunkSize: opts.chunkSize,
    eps: opts.eps,
    autocastKernelDtype: 'float32',
    inferenceStateDtype: 'float32',
  });
  return async (x, state, seqStarts) => {
    const r = await backend.inference({
      ...x,
      ...(state ? { cInitial: state.c, nInitial: state.n, mInitial: state.m } : {}),
      ...(seqStarts ? { seqStarts } : {}),
    });
    return { h: r.h, state: { c: r.lastStates.c, n: r.lastStates.n, m: r.lastStates.m! } };
  };
}
