/**
 * The parallel (quadratic, attention-like) form (spec §2, §3) and its hand-written backward
 * (spec §4.2, §4.3), for both gate variants.
 */
import {
  DEFAULT_EPS,
  type GateKind,
  dot,
  gateGradientsHead,
  headSlice,
  logInputGate,
  logsigmoid,
  qkScale,
  setHeadSlice,
} from './math.js';
import type { Tensor } from './tensor.js';
import type { MlstmGradients, MlstmSequenceInputs } from './types.js';
import {
  expectShape,
  rejectStates,
  type SequenceDims,
  validateEps,
  validateFlag,
  validateSequenceInputs,
} from './validate.js';

/** Options of the parallel core shared by the exp and sig variants. */
export interface ParallelOptions {
  kind: GateKind;
  /** build `F_t − F_s` as a running sum down each column (true) or by subtraction of prefix sums */
  stableF: boolean;
  /** divide by the normaliser (always true for exp) */
  normalize: boolean;
  eps: number;
}

/** Per-head arrays: q,k `S×DHQK`, v `S×DHHV`, i,f `S`. */
interface HeadInputs {
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  i: Float64Array;
  f: Float64Array;
}

/** Everything the backward needs from the forward of one head. */
interface ParallelHeadForward {
  /** `S × DHHV` */
  h: Float64Array;
  /** normaliser per row, without eps (`max(|Σ_s C̃|, e^{−m})`); ones when not normalising */
  n: Float64Array;
  /** row maxima of `logD` (zeros for sig) */
  m: Float64Array;
  /** stabilised gate matrix `D'` (`S × S`, zero above the diagonal) */
  gate: Float64Array;
  /** scores `A = κ Q Kᵀ` (`S × S`, zero above the diagonal) */
  scores: Float64Array;
}

/**
 * The log forget-gate matrix `L_{t,s} = Σ_{r=s+1..t} λ_r` for `s ≤ t` (spec §2).
 * `stableF`: running sum down each column (upstream `native_stablef`, no cancellation);
 * otherwise `F_t − F_s` of the inclusive prefix sums (upstream `native`).
 */
function logForgetMatrix(fPre: Float64Array, S: number, stableF: boolean): Float64Array {
  const L = new Float64Array(S * S);
  const lambda = Float64Array.from(fPre, logsigmoid);
  if (stableF) {
    for (let s = 0; s < S; s++) {
      let acc = 0;
      for (let t = s + 1; t < S; t++) {
        acc += lambda[t];
        L[t * S + s] = acc;
      }
    }
  } else {
    const F = new Float64Array(S);
    let acc = 0;
    for (let t = 0; t < S; t++) F[t] = acc += lambda[t];
    for (let t = 0; t < S; t++) for (let s = 0; s < t; s++) L[t * S + s] = F[t] - F[s];
  }
  return L;
}

/** Forward of one head (spec §2 / §3). */
function parallelForwardHead(
  x: HeadInputs,
  S: number,
  DHQK: number,
  DHHV: number,
  o: ParallelOptions,
): ParallelHeadForward {
  const kappa = qkScale(DHQK);
  const L = logForgetMatrix(x.f, S, o.stableF);
  const logI = Float64Array.from(x.i, (ii) => logInputGate(o.kind, ii));
  const gate = new Float64Array(S * S);
  const scores = new Float64Array(S * S);
  const h = new Float64Array(S * DHHV);
  const n = new Float64Array(S);
  const m = new Float64Array(S);
  for (let t = 0; t < S; t++) {
    // row maximum of logD_{t,s} = L_{t,s} + ι_s over s ≤ t (exp only; the sig gates are ≤ 1 already)
    let mt = 0;
    if (o.kind === 'exp') {
      mt = Number.NEGATIVE_INFINITY;
      for (let s = 0; s <= t; s++) mt = Math.max(mt, L[t * S + s] + logI[s]);
    }
    m[t] = mt;
    let rowSum = 0;
    for (let s = 0; s <= t; s++) {
      const d = Math.exp(L[t * S + s] + logI[s] - mt);
      const a = kappa * dot(x.q, t * DHQK, x.k, s * DHQK, DHQK);
      gate[t * S + s] = d;
      scores[t * S + s] = a;
      const ct = a * d;
      rowSum += ct;
      for (let b = 0; b < DHHV; b++) h[t * DHHV + b] += ct * x.v[s * DHHV + b];
    }
    if (o.normalize) {
      n[t] = Math.max(Math.abs(rowSum), Math.exp(-mt));
      const den = n[t] + o.eps;
      for (let b = 0; b < DHHV; b++) h[t * DHHV + b] /= den;
    } else {
      n[t] = 1;
    }
  }
  return { h, n, m, gate, scores };
}

/** Backward of one head (spec §4.2 / §4.3): the normaliser `n` and `m` are held constant. */
function parallelBackwardHead(
  x: HeadInputs,
  dh: Float64Array,
  S: number,
  DHQK: number,
  DHHV: number,
  o: ParallelOptions,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array; di: Float64Array; df: Float64Array } {
  const kappa = qkScale(DHQK);
  const fw = parallelForwardHead(x, S, DHQK, DHHV, o);
  // dĥ_t = dh_t / (n_t + eps)
  const dhTilde = new Float64Array(S * DHHV);
  for (let t = 0; t < S; t++) {
    const den = o.normalize ? fw.n[t] + o.eps : 1;
    for (let b = 0; b < DHHV; b++) dhTilde[t * DHHV + b] = dh[t * DHHV + b] / den;
  }
  const dq = new Float64Array(S * DHQK);
  const dk = new Float64Array(S * DHQK);
  const dv = new Float64Array(S * DHHV);
  for (let t = 0; t < S; t++) {
    for (let s = 0; s <= t; s++) {
      const d = fw.gate[t * S + s];
      const p = dot(dhTilde, t * DHHV, x.v, s * DHHV, DHHV) * d; // P = (dĥ Vᵀ) ⊙ D'
      const ct = fw.scores[t * S + s] * d; // C̃ = A ⊙ D'
      for (let a = 0; a < DHQK; a++) {
        dq[t * DHQK + a] += kappa * p * x.k[s * DHQK + a];
        dk[s * DHQK + a] += kappa * p * x.q[t * DHQK + a];
      }
      for (let b = 0; b < DHHV; b++) dv[s * DHHV + b] += ct * dhTilde[t * DHHV + b];
    }
  }
  const di = new Float64Array(S);
  const df = new Float64Array(S);
  gateGradientsHead(o.kind, x.q, x.k, dq, dk, x.i, x.f, S, DHQK, 0, di, df, 0);
  return { dq, dk, dv, di, df };
}

function headInputs(x: MlstmSequenceInputs, d: SequenceDims, bh: number): HeadInputs {
  return {
    q: headSlice(x.q.data, bh, d.S * d.DHQK),
    k: headSlice(x.k.data, bh, d.S * d.DHQK),
    v: headSlice(x.v.data, bh, d.S * d.DHHV),
    i: headSlice(x.i.data, bh, d.S),
    f: headSlice(x.f.data, bh, d.S),
  };
}

/** Result of the parallel forward: `h (B,NH,S,DHHV)`, the normaliser `n` and row max `m`, both `(B,NH,S)`. */
export interface MlstmParallelResult {
  h: Tensor;
  /** `max(|Σ_s C̃_{t,s}|, e^{−m_t})` per token, stored without eps (ones for sig without normalisation) */
  n: Tensor;
  /** row maximum of `logD` per token (zeros for the sig variant) */
  m: Tensor;
}

/** The parallel forward for validated inputs (shared by the exp and sig public functions). */
export function parallelForwardCore(
  x: MlstmSequenceInputs,
  d: SequenceDims,
  o: ParallelOptions,
): MlstmParallelResult {
  const { B, NH, S, DHHV } = d;
  const h = new Float64Array(B * NH * S * DHHV);
  const n = new Float64Array(B * NH * S);
  const m = new Float64Array(B * NH * S);
  for (let bh = 0; bh < B * NH; bh++) {
    const r = parallelForwardHead(headInputs(x, d, bh), S, d.DHQK, DHHV, o);
    setHeadSlice(h, bh, r.h);
    setHeadSlice(n, bh, r.n);
    setHeadSlice(m, bh, r.m);
  }
  return {
    h: { shape: [B, NH, S, DHHV], data: h },
    n: { shape: [B, NH, S], data: n },
    m: { shape: [B, NH, S], data: m },
  };
}

/** The parallel backward for validated inputs (shared by the exp and sig public functions). */
export function parallelBackwardCore(
  x: MlstmSequenceInputs,
  dh: Tensor,
  d: SequenceDims,
  o: ParallelOptions,
): MlstmGradients {
  const { B, NH, S, DHQK, DHHV } = d;
  const out = {
    dq: new Float64Array(B * NH * S * DHQK),
    dk: new Float64Array(B * NH * S * DHQK),
    dv: new Float64Array(B * NH * S * DHHV),
    di: new Float64Array(B * NH * S),
    df: new Float64Array(B * NH * S),
  };
  for (let bh = 0; bh < B * NH; bh++) {
    const g = parallelBackwardHead(headInputs(x, d, bh), headSlice(dh.data, bh, S * DHHV), S, DHQK, DHHV, o);
    setHeadSlice(out.dq, bh, g.dq);
    setHeadSlice(out.dk, bh, g.dk);
    setHeadSlice(out.dv, bh, g.dv);
    setHeadSlice(out.di, bh, g.di);
    setHeadSlice(out.df, bh, g.df);
  }
  return {
    dq: { shape: [B, NH, S, DHQK], data: out.dq },
    dk: { shape: [B, NH, S, DHQK], data: out.dk },
    dv: { shape: [B, NH, S, DHHV], data: out.dv },
    di: { shape: [B, NH, S], data: out.di },
    df: { shape: [B, NH, S], data: out.df },
  };
}

/** Arguments of {@link mlstmParallel}. */
export interface MlstmParallelArgs extends MlstmSequenceInputs {
  /** default 1e-6 */
  eps?: number;
  /** true (default): upstream `native_stablef`; false: upstream `native` (subtraction `F_t − F_s`) */
  stableF?: boolean;
}

/** Arguments of {@link mlstmParallelBackward}: the forward's plus the upstream gradient `dh (B,NH,S,DHHV)`. */
export interface MlstmParallelBackwardArgs extends MlstmParallelArgs {
  dh: Tensor;
}

/** Validates `dh` against the dims of a sequence problem. */
export function validateDh(dh: unknown, d: SequenceDims, ctx: string): asserts dh is Tensor {
  expectShape('dh', dh, [d.B, d.NH, d.S, d.DHHV], ['B', 'NH', 'S', 'DHHV'], ctx);
}

/**
 * The mLSTMexp parallel form (spec §2; upstream `parallel--native_stablef_custbw` forward, or
 * `parallel--native_custbw` with `stableF: false`). Returns `h` and the per-token normaliser `n`
 * and row max `m` that the backward uses. No states (initial states are rejected).
 */
export function mlstmParallel(args: MlstmParallelArgs): MlstmParallelResult {
  const ctx = 'mlstmParallel';
  const d = validateSequenceInputs(args, ctx);
  rejectStates(args as object, ctx);
  const eps = validateEps(args.eps, ctx, DEFAULT_EPS);
  const stableF = validateFlag('stableF', args.stableF, ctx, true);
  return parallelForwardCore(args, d, { kind: 'exp', stableF, normalize: true, eps });
}

/**
 * Hand-written backward of {@link mlstmParallel} (spec §4.2): the normaliser and the stabiliser are
 * constants (exact for losses invariant to a positive scale of each row of `h`, such as a layer norm).
 */
export function mlstmParallelBackward(args: MlstmParallelBackwardArgs): MlstmGradients {
  const ctx = 'mlstmParallelBackward';
  const d = validateSequenceInputs(args, ctx);
  rejectStates(args as object, ctx);
  validateDh(args.dh, d, ctx);
  const eps = validateEps(args.eps, ctx, DEFAULT_EPS);
  const stableF = validateFlag('stableF', args.stableF, ctx, true);
  return parallelBackwardCore(args, args.dh, d, { kind: 'exp', stableF, normalize: true, eps });
}
