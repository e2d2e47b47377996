/**
 * Upstream's inference wrapper for any sequence length (spec §6.3,
 * `wrap_chunkwise__arbitrary_sequence_length`), built from the reference kernels.
 */
import { DEFAULT_CHUNK_SIZE, type MlstmChunkwiseArgs, mlstmChunkwise } from './chunkwise.js';
import { DEFAULT_EPS } from './math.js';
import { mlstmRecurrentSequence, mlstmRecurrentStep } from './recurrent.js';
import { type Tensor, concatAxis, reshape, sliceAxis } from './tensor.js';
import type { MlstmStates } from './types.js';
import { expectChunkSize, validateEps, validateSequenceInputs, validateStates } from './validate.js';

/**
 * Candidate chunk sizes of the wrapper: `chunkSize, ⌊chunkSize/2⌋, …` while `≥ 16`
 * (e.g. 64 → [64, 32, 16]; a chunk size below 16 gives none: everything runs recurrently).
 */
export function arbitraryLengthChunkSizes(chunkSize: number): number[] {
  const sizes: number[] = [];
  for (let c = chunkSize; c >= 16; c = Math.floor(c / 2)) sizes.push(c);
  return sizes;
}

/**
 * The mLSTMexp forward for any `S ≥ 1` with states carried through (spec §6.3):
 * 1. `S == 1`: one recurrent step;
 * 2. otherwise for each candidate chunk size `c` (see {@link arbitraryLengthChunkSizes}) with at least
 *    `c` tokens left, run {@link mlstmChunkwise} on the next `⌊r/c⌋·c` tokens, stopping once `r % c == 0`;
 * 3. the remainder (< 16 tokens, or all tokens when chunkSize < 16) through {@link mlstmRecurrentSequence}.
 * `chunkSize` (default 64) need not divide S. Always returns the last states (zeros-initialised
 * when no initial states are given, `m₀ = 0`).
 */
export function mlstmChunkwiseArbitraryLength(args: MlstmChunkwiseArgs): {
  h: Tensor;
  lastStates: MlstmStates;
} {
  const ctx = 'mlstmChunkwiseArbitraryLength';
  const d = validateSequenceInputs(args, ctx);
  const has = validateStates(
    { c: args.cInitial, n: args.nInitial, m: args.mInitial },
    { c: 'cInitial', n: 'nInitial', m: 'mInitial' },
    d,
    ctx,
  );
  const chunkSize = expectChunkSize(args.chunkSize ?? DEFAULT_CHUNK_SIZE, ctx);
  const eps = validateEps(args.eps, ctx, DEFAULT_EPS);
  const { B, NH, S, DHQK, DHHV } = d;
  let states: MlstmStates = has
    ? { c: args.cInitial!, n: args.nInitial!, m: args.mInitial! }
    : {
        c: { shape: [B, NH, DHQK, DHHV], data: new Float64Array(B * NH * DHQK * DHHV) },
        n: { shape: [B, NH, DHQK], data: new Float64Array(B * NH * DHQK) },
        m: { shape: [B, NH, 1], data: new Float64Array(B * NH) },
      };

  if (S === 1) {
    const squeeze = (t: Tensor) => reshape(t, [B, NH, t.shape[3]]);
    const r = mlstmRecurrentStep({
      q: squeeze(args.q),
      k: squeeze(args.k),
      v: squeeze(args.v),
      i: reshape(args.i, [B, NH, 1]),
      f: reshape(args.f, [B, NH, 1]),
      ...states,
      eps,
    });
    return { h: reshape(r.h, [B, NH, 1, DHHV]), lastStates: { c: r.c, n: r.n, m: r.m } };
  }

  const piece = (start: number, end: number) => ({
    q: sliceAxis(args.q, 2, start, end),
    k: sliceAxis(args.k, 2, start, end),
    v: sliceAxis(args.v, 2, start, end),
    i: sliceAxis(args.i, 2, start, end),
    f: sliceAxis(args.f, 2, start, end),
    cInitial: states.c,
    nInitial: states.n,
    mInitial: states.m,
    eps,
    returnLastStates: true,
  });
  const hs: Tensor[] = [];
  let start = 0;
  for (const c of arbitraryLengthChunkSizes(chunkSize)) {
    const remaining = S - start;
    if (remaining < c) continue;
    const end = start + Math.floor(remaining / c) * c;
    const r = mlstmChunkwise({ ...piece(start, end), chunkSize: c });
    hs.push(r.h);
    states = r.lastStates!;
    start = end;
    if (remaining % c === 0) break;
  }
  if (start < S) {
    const r = mlstmRecurrentSequence(piece(start, S));
    hs.push(r.h);
    states = r.lastStates!;
  }
  return { h: hs.length === 1 ? hs[0] : concatAxis(hs, 2), lastStates: states };
}
