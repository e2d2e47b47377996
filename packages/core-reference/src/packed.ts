/**
 * Packed variable-length sequences for the chunkwise forms: N sequences of any lengths lie one
 * after the other on the token axis of `(1, NH, T, D)` tensors, with `seqStarts` (N + 1 offsets,
 * `seqStarts[0] = 0`, strictly increasing, `seqStarts[N] = T`) marking where each begins. Per
 * sequence initial states are `(N, NH, …)`, and so are the returned last states and `dcInitial`.
 *
 * The layout is *defined* as separate calls concatenated: sequence `s` is the chunkwise form of
 * its tokens `[seqStarts[s], seqStarts[s+1])` from its own initial state; no state crosses a
 * boundary. The chunkwise results do not depend on the chunk size (to rounding; the stabiliser
 * `m` at a chunk boundary equals the recurrent `m` there), so each sequence runs with the largest
 * chunk size that divides both its length and `chunkSize`.
 */
import {
  type ChunkwiseOptions,
  chunkwiseForwardCore,
  DEFAULT_CHUNK_SIZE,
  lastStatesOf,
} from './chunkwise.js';
import { chunkwiseBackwardCore, type MlstmChunkwiseGradients } from './chunkwise-backward.js';
import { MlstmArgumentError } from './errors.js';
import { DEFAULT_EPS, type GateKind } from './math.js';
import { concatAxis, sliceAxis, type Tensor } from './tensor.js';
import type { MlstmInitialStates, MlstmSequenceInputs, MlstmStates } from './types.js';
import {
  expectChunkSize,
  expectShape,
  type SequenceDims,
  validateEps,
  validateFlag,
  validateGate,
  validateSequenceInputs,
  validateStates,
} from './validate.js';
import { checkSeqStarts, type SeqStarts } from './checks.js';

export type { SeqStarts };

/**
 * Checks `seqStarts` against the packed token count `T` (and, when given, the number of initial
 * states `N`): typed errors naming `seqStarts`. Returns the number of sequences.
 */
export function validateSeqStarts(seqStarts: unknown, T: number, context: string, states?: number): number {
  return checkSeqStarts(seqStarts, T, context, states).length - 1;
}

/** Arguments of {@link mlstmChunkwisePacked}: q,k `(1,NH,T,DHQK)`, v `(1,NH,T,DHHV)`, i,f `(1,NH,T)`. */
export interface MlstmChunkwisePackedArgs extends MlstmSequenceInputs, MlstmInitialStates {
  /** N + 1 offsets into the token axis (see the module doc) */
  seqStarts: SeqStarts;
  /** largest chunk size (default 64); any sequence length is allowed */
  chunkSize?: number;
  /** default 1e-6 */
  eps?: number;
  /** also return the per-sequence last states `(N, NH, …)` (default false) */
  returnLastStates?: boolean;
  /** `'exp'` (default) or `'sig'` (sigmoid input gate; `mInitial` ignored, states `(c, n)`) */
  gate?: GateKind;
  /** sig only: divide by the normaliser (default true) */
  normalize?: boolean;
}

/** Arguments of {@link mlstmChunkwisePackedBackward}. */
export interface MlstmChunkwisePackedBackwardArgs extends Omit<MlstmChunkwisePackedArgs, 'returnLastStates'> {
  /** upstream gradient of `h`, `(1, NH, T, DHHV)` */
  dh: Tensor;
  /** gradients of the returned last `c` states, `(N, NH, DHQK, DHHV)` */
  dcLast?: Tensor;
  /** see `mlstmChunkwiseBackward` (spec §4.5); applied per sequence */
  correctDfForDcLast?: boolean;
}

interface PackedPlan {
  d: SequenceDims;
  N: number;
  starts: number[];
  init: { c: Tensor; n: Tensor; m?: Tensor } | undefined;
  o: ChunkwiseOptions;
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

function validatePacked(args: MlstmChunkwisePackedArgs, ctx: string): PackedPlan {
  const kind = validateGate(args.gate, ctx);
  const requireM = kind === 'exp';
  const d = validateSequenceInputs(args, ctx);
  if (d.B !== 1) {
    throw new MlstmArgumentError(
      'q',
      'batch B = 1 with seqStarts (the sequences are packed along the token axis)',
      `B = ${d.B}`,
      ctx,
    );
  }
  const c = args.cInitial as Tensor | undefined;
  const Nstates = c && Array.isArray(c.shape) && c.shape.length === 4 ? c.shape[0] : undefined;
  const N = validateSeqStarts(args.seqStarts, d.S, ctx, args.cInitial != null ? Nstates : undefined);
  const has = validateStates(
    { c: args.cInitial, n: args.nInitial, m: args.mInitial },
    { c: 'cInitial', n: 'nInitial', m: 'mInitial' },
    { ...d, B: N },
    ctx,
    requireM,
  );
  const chunkSize = expectChunkSize(args.chunkSize ?? DEFAULT_CHUNK_SIZE, ctx);
  const eps = validateEps(args.eps, ctx, DEFAULT_EPS);
  const normalize = kind === 'exp' ? true : validateFlag('normalize', args.normalize, ctx, true);
  return {
    d,
    N,
    starts: Array.from(args.seqStarts),
    init: has ? { c: args.cInitial!, n: args.nInitial!, m: requireM ? args.mInitial : undefined } : undefined,
    o: { kind, normalize, eps, chunkSize },
  };
}

/** Sequence `s`'s inputs `(1, NH, len, …)`, initial states `(1, NH, …)` and options. */
function sequence(x: MlstmSequenceInputs, p: PackedPlan, s: number) {
  const [a, b] = [p.starts[s], p.starts[s + 1]];
  const take = (t: Tensor) => sliceAxis(t, 2, a, b);
  const one = (t: Tensor | undefined) => (t ? sliceAxis(t, 0, s, s + 1) : undefined);
  const xs = { q: take(x.q), k: take(x.k), v: take(x.v), i: take(x.i), f: take(x.f) };
  const init = p.init ? { c: one(p.init.c)!, n: one(p.init.n)!, m: one(p.init.m) } : undefined;
  const len = b - a;
  return {
    xs,
    init,
    d: { ...p.d, S: len },
    o: { ...p.o, chunkSize: gcd(len, p.o.chunkSize) },
    take,
    one,
  };
}

/**
 * The chunkwise forward of N packed sequences (see the module doc): `h (1, NH, T, DHHV)` and,
 * with `returnLastStates`, the last states of every sequence `c (N,NH,DHQK,DHHV)`,
 * `n (N,NH,DHQK)`, `m (N,NH,1)` (sig: `{ c, n }`, n zeros without `normalize`).
 */
export function mlstmChunkwisePacked(args: MlstmChunkwisePackedArgs): {
  h: Tensor;
  lastStates?: MlstmStates | { c: Tensor; n: Tensor };
} {
  const ctx = 'mlstmChunkwisePacked';
  const p = validatePacked(args, ctx);
  const returnLast = validateFlag('returnLastStates', args.returnLastStates, ctx, false);
  const hs: Tensor[] = [];
  const lasts: MlstmStates[] = [];
  for (let s = 0; s < p.N; s++) {
    const q = sequence(args, p, s);
    const r = chunkwiseForwardCore(q.xs, q.d, q.init, q.o);
    hs.push(r.h);
    if (returnLast) lasts.push(lastStatesOf(r, { ...q.d, B: 1 }));
  }
  const h = concatAxis(hs, 2);
  if (!returnLast) return { h };
  const c = concatAxis(
    lasts.map((l) => l.c),
    0,
  );
  const n = concatAxis(
    lasts.map((l) => l.n),
    0,
  );
  if (p.o.kind === 'sig') {
    if (!p.o.normalize) n.data.fill(0);
    return { h, lastStates: { c, n } };
  }
  const m = concatAxis(
    lasts.map((l) => l.m),
    0,
  );
  return { h, lastStates: { c, n, m } };
}

/**
 * The hand-written chunkwise backward of N packed sequences: `dq, dk, dv, di, df` on the packed
 * token axis and, with initial states, `dcInitial (N,NH,DHQK,DHHV)` plus zero `dnInitial`
 * (and `dmInitial` for exp), as separate `mlstmChunkwiseBackward` calls concatenated.
 */
export function mlstmChunkwisePackedBackward(
  args: MlstmChunkwisePackedBackwardArgs,
): MlstmChunkwiseGradients {
  const ctx = 'mlstmChunkwisePackedBackward';
  const p = validatePacked(args, ctx);
  const { N, d } = p;
  expectShape('dh', args.dh, [1, d.NH, d.S, d.DHHV], ['1', 'NH', 'T', 'DHHV'], ctx);
  if (args.dcLast != null) {
    expectShape('dcLast', args.dcLast, [N, d.NH, d.DHQK, d.DHHV], ['N', 'NH', 'DHQK', 'DHHV'], ctx);
  }
  const correct = validateFlag('correctDfForDcLast', args.correctDfForDcLast, ctx, false);
  const parts: MlstmChunkwiseGradients[] = [];
  for (let s = 0; s < N; s++) {
    const q = sequence(args, p, s);
    const g = chunkwiseBackwardCore(q.xs, q.take(args.dh), q.one(args.dcLast ?? undefined), q.d, q.init, {
      ...q.o,
      correctDfForDcLast: correct,
    });
    parts.push(g);
  }
  const cat = (key: keyof MlstmChunkwiseGradients, axis: number) =>
    concatAxis(
      parts.map((g) => g[key] as Tensor),
      axis,
    );
  const out: MlstmChunkwiseGradients = {
    dq: cat('dq', 2),
    dk: cat('dk', 2),
    dv: cat('dv', 2),
    di: cat('di', 2),
    df: cat('df', 2),
  };
  if (p.init) {
    out.dcInitial = cat('dcInitial', 0);
    out.dnInitial = cat('dnInitial', 0);
    if (p.o.kind === 'exp') out.dmInitial = cat('dmInitial', 0);
  }
  return out;
}
