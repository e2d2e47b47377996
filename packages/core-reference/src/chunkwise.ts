/**
 * The chunkwise form (spec §5.1–5.3): an inter-chunk recurrence over the chunk-boundary states
 * plus an intra-chunk parallel part. This is the algorithm of the TFLA kernels; the reference
 * materialises every boundary state. One core serves both gate variants.
 */
import {
  DEFAULT_EPS,
  type GateKind,
  dot,
  headSlice,
  logInputGate,
  logsigmoid,
  qkScale,
  setHeadSlice,
} from './math.js';
import type { Tensor } from './tensor.js';
import type { MlstmInitialStates, MlstmSequenceInputs, MlstmStates } from './types.js';
import {
  expectChunkSize,
  type SequenceDims,
  validateEps,
  validateFlag,
  validateGate,
  validateSequenceInputs,
  validateStates,
} from './validate.js';

/** Default chunk size of the chunkwise functions (upstream `native` chunkwise: 64). */
export const DEFAULT_CHUNK_SIZE = 64;

/** Options of the chunkwise core shared by the exp and sig variants. */
export interface ChunkwiseOptions {
  kind: GateKind;
  /** divide by the normaliser (always true for exp) */
  normalize: boolean;
  eps: number;
  /** chunk size `L` (divides S) */
  chunkSize: number;
}

/** Per-head arrays: q,k `S×DHQK`, v `S×DHHV`, i,f `S`. */
export interface ChunkHeadInputs {
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  i: Float64Array;
  f: Float64Array;
}

/** Initial states of one head (`m` is ignored by the sig variant). */
export interface ChunkHeadStates {
  c: Float64Array;
  n: Float64Array;
  m: number;
}

/**
 * Gate vectors of one chunk (spec §5.1), for the `L` tokens starting at `start`:
 * ```
 * b_j = Σ_{r ≤ j} λ_r        (inclusive in-chunk cumsum of logsigmoid(f̃))
 * g   = b_L                   (total log forget gate of the chunk)
 * a_j = Σ_{r > j} λ_r + ι_j   (stable form: suffix sum, no subtraction; ι = ĩ or logsigmoid(ĩ))
 * ```
 */
export interface ChunkGates {
  b: Float64Array;
  a: Float64Array;
  /** the log input gate `ι_j` of each token */
  logI: Float64Array;
  g: number;
}

/** Computes {@link ChunkGates} of the chunk that starts at token `start`. */
export function chunkGates(
  kind: GateKind,
  iPre: Float64Array,
  fPre: Float64Array,
  start: number,
  L: number,
): ChunkGates {
  const lambda = new Float64Array(L);
  const logI = new Float64Array(L);
  for (let j = 0; j < L; j++) {
    lambda[j] = logsigmoid(fPre[start + j]);
    logI[j] = logInputGate(kind, iPre[start + j]);
  }
  const b = new Float64Array(L);
  let acc = 0;
  for (let j = 0; j < L; j++) b[j] = acc += lambda[j];
  const a = new Float64Array(L);
  let suffix = 0;
  for (let j = L - 1; j >= 0; j--) {
    a[j] = suffix + logI[j];
    suffix += lambda[j];
  }
  return { b, a, logI, g: b[L - 1] };
}

/** Everything the chunkwise forward of one head produces (states stacked, `NC + 1` entries). */
export interface ChunkwiseHeadForward {
  /** `S × DHHV` */
  h: Float64Array;
  /** per-token normaliser without eps, `max(|den|, e^{−m^comb})` (ones when not normalising) */
  nOut: Float64Array;
  /** per-token combined stabiliser `m^comb` (zeros for sig) */
  mComb: Float64Array;
  /** `C_0 … C_NC`, `(NC+1) × DHQK × DHHV` */
  cStates: Float64Array;
  /** `n_0 … n_NC`, `(NC+1) × DHQK` */
  nStates: Float64Array;
  /** `m_0 … m_NC` (zeros for sig) */
  mStates: Float64Array;
}

/**
 * Inter-chunk recurrence (spec §5.2) for one head:
 * ```
 * m_k = max(g_k + m_{k−1}, max_j a_j)          (sig: m ≡ 0)
 * C_k = e^{g_k + m_{k−1} − m_k} C_{k−1} + Σ_j e^{a_j − m_k} k_j v_jᵀ
 * n_k = e^{g_k + m_{k−1} − m_k} n_{k−1} + Σ_j e^{a_j − m_k} k_j
 * ```
 */
function chunkStatesHead(
  x: ChunkHeadInputs,
  S: number,
  DHQK: number,
  DHHV: number,
  init: ChunkHeadStates | undefined,
  o: ChunkwiseOptions,
): { cStates: Float64Array; nStates: Float64Array; mStates: Float64Array } {
  const L = o.chunkSize;
  const NC = S / L;
  const CS = DHQK * DHHV;
  const cStates = new Float64Array((NC + 1) * CS);
  const nStates = new Float64Array((NC + 1) * DHQK);
  const mStates = new Float64Array(NC + 1);
  if (init) {
    cStates.set(init.c, 0);
    nStates.set(init.n, 0);
    mStates[0] = o.kind === 'exp' ? init.m : 0;
  }
  for (let k = 0; k < NC; k++) {
    const gates = chunkGates(o.kind, x.i, x.f, k * L, L);
    const mPrev = mStates[k];
    let mk = 0;
    if (o.kind === 'exp') {
      mk = gates.g + mPrev;
      for (let j = 0; j < L; j++) mk = Math.max(mk, gates.a[j]);
    }
    mStates[k + 1] = mk;
    const decay = Math.exp(gates.g + mPrev - mk);
    const cPrev = k * CS;
    const cNext = (k + 1) * CS;
    for (let e = 0; e < CS; e++) cStates[cNext + e] = decay * cStates[cPrev + e];
    for (let e = 0; e < DHQK; e++) nStates[(k + 1) * DHQK + e] = decay * nStates[k * DHQK + e];
    for (let j = 0; j < L; j++) {
      const w = Math.exp(gates.a[j] - mk);
      const t = k * L + j;
      for (let r = 0; r < DHQK; r++) {
        const kr = w * x.k[t * DHQK + r];
        nStates[(k + 1) * DHQK + r] += kr;
        for (let c = 0; c < DHHV; c++) cStates[cNext + r * DHHV + c] += kr * x.v[t * DHHV + c];
      }
    }
  }
  return { cStates, nStates, mStates };
}

/**
 * Intra-chunk gate matrix of one chunk and the per-token combined stabiliser (spec §5.3):
 * ```
 * logD_{jl} = b_j − b_l + ι_l   (l ≤ j)
 * m^comb_j  = max(b_j + m_{k−1}, max_l logD_{jl})     (sig: 0)
 * D'_{jl}   = exp(logD_{jl} − m^comb_j)               (zero for l > j)
 * b̄_j       = exp(b_j + m_{k−1} − m^comb_j)           (weight of the state before the chunk)
 * ```
 */
export function intraChunkGates(
  kind: GateKind,
  gates: ChunkGates,
  mPrev: number,
  L: number,
): { gate: Float64Array; mComb: Float64Array; bBar: Float64Array } {
  const { b, logI } = gates;
  const gate = new Float64Array(L * L);
  const mComb = new Float64Array(L);
  const bBar = new Float64Array(L);
  for (let j = 0; j < L; j++) {
    let mj = 0;
    if (kind === 'exp') {
      mj = b[j] + mPrev;
      for (let l = 0; l <= j; l++) mj = Math.max(mj, b[j] - b[l] + logI[l]);
    }
    mComb[j] = mj;
    bBar[j] = Math.exp(b[j] + mPrev - mj);
    for (let l = 0; l <= j; l++) gate[j * L + l] = Math.exp(b[j] - b[l] + logI[l] - mj);
  }
  return { gate, mComb, bBar };
}

/**
 * Chunkwise forward of one head: states (§5.2), then per chunk the outputs (§5.3):
 * ```
 * q̄_j   = κ q_j b̄_j
 * num_j = q̄_jᵀ C_{k−1} + Σ_{l≤j} (κ q_jᵀ k_l) D'_{jl} v_l
 * den_j = q̄_jᵀ n_{k−1} + Σ_{l≤j} (κ q_jᵀ k_l) D'_{jl}
 * n^out_j = max(|den_j|, e^{−m^comb_j});   h_j = num_j / (n^out_j + eps)
 * ```
 */
export function chunkwiseForwardHead(
  x: ChunkHeadInputs,
  S: number,
  DHQK: number,
  DHHV: number,
  init: ChunkHeadStates | undefined,
  o: ChunkwiseOptions,
): ChunkwiseHeadForward {
  const L = o.chunkSize;
  const NC = S / L;
  const CS = DHQK * DHHV;
  const kappa = qkScale(DHQK);
  const states = chunkStatesHead(x, S, DHQK, DHHV, init, o);
  const h = new Float64Array(S * DHHV);
  const nOut = new Float64Array(S);
  const mComb = new Float64Array(S);
  for (let k = 0; k < NC; k++) {
    const gates = chunkGates(o.kind, x.i, x.f, k * L, L);
    const intra = intraChunkGates(o.kind, gates, states.mStates[k], L);
    const cPrev = k * CS;
    for (let j = 0; j < L; j++) {
      const t = k * L + j;
      const hRow = t * DHHV;
      // inter part: q̄_jᵀ C_{k−1} and q̄_jᵀ n_{k−1}
      let den = 0;
      for (let r = 0; r < DHQK; r++) {
        const qb = kappa * x.q[t * DHQK + r] * intra.bBar[j];
        den += qb * states.nStates[k * DHQK + r];
        for (let c = 0; c < DHHV; c++) h[hRow + c] += qb * states.cStates[cPrev + r * DHHV + c];
      }
      // intra part
      for (let l = 0; l <= j; l++) {
        const u = k * L + l;
        const w = kappa * dot(x.q, t * DHQK, x.k, u * DHQK, DHQK) * intra.gate[j * L + l];
        den += w;
        for (let c = 0; c < DHHV; c++) h[hRow + c] += w * x.v[u * DHHV + c];
      }
      mComb[t] = intra.mComb[j];
      if (o.normalize) {
        nOut[t] = Math.max(Math.abs(den), Math.exp(-intra.mComb[j]));
        const d = nOut[t] + o.eps;
        for (let c = 0; c < DHHV; c++) h[hRow + c] /= d;
      } else {
        nOut[t] = 1;
      }
    }
  }
  return { h, nOut, mComb, ...states };
}

/** Copies one head's inputs out of the batched tensors. */
export function chunkHeadInputs(x: MlstmSequenceInputs, d: SequenceDims, bh: number): ChunkHeadInputs {
  return {
    q: headSlice(x.q.data, bh, d.S * d.DHQK),
    k: headSlice(x.k.data, bh, d.S * d.DHQK),
    v: headSlice(x.v.data, bh, d.S * d.DHHV),
    i: headSlice(x.i.data, bh, d.S),
    f: headSlice(x.f.data, bh, d.S),
  };
}

/** Copies one head's initial states out of the batched tensors (undefined when none were given). */
export function chunkHeadStates(
  s: { c: Tensor; n: Tensor; m?: Tensor } | undefined,
  d: SequenceDims,
  bh: number,
): ChunkHeadStates | undefined {
  if (!s) return undefined;
  return {
    c: headSlice(s.c.data, bh, d.DHQK * d.DHHV),
    n: headSlice(s.n.data, bh, d.DHQK),
    m: s.m ? s.m.data[bh] : 0,
  };
}

/**
 * Internals of the chunkwise forward (for testing GPU sub-kernels piece by piece), float64:
 * `h (B,NH,S,DHHV)`, `nOut`, `mComb` `(B,NH,S)`, and the stacked boundary states
 * `cStates (B,NH,(NC+1)·DHQK,DHHV)`, `nStates (B,NH,(NC+1)·DHQK)`, `mStates (B,NH,NC+1)`
 * (entry 0 = initial state, entry NC = last state).
 */
export interface MlstmChunkwiseInternals {
  h: Tensor;
  nOut: Tensor;
  mComb: Tensor;
  cStates: Tensor;
  nStates: Tensor;
  mStates: Tensor;
}

/** The chunkwise forward for validated inputs (shared by exp/sig and by the backward). */
export function chunkwiseForwardCore(
  x: MlstmSequenceInputs,
  d: SequenceDims,
  init: { c: Tensor; n: Tensor; m?: Tensor } | undefined,
  o: ChunkwiseOptions,
): MlstmChunkwiseInternals {
  const { B, NH, S, DHQK, DHHV } = d;
  const NC = S / o.chunkSize;
  const h = new Float64Array(B * NH * S * DHHV);
  const nOut = new Float64Array(B * NH * S);
  const mComb = new Float64Array(B * NH * S);
  const cStates = new Float64Array(B * NH * (NC + 1) * DHQK * DHHV);
  const nStates = new Float64Array(B * NH * (NC + 1) * DHQK);
  const mStates = new Float64Array(B * NH * (NC + 1));
  for (let bh = 0; bh < B * NH; bh++) {
    const r = chunkwiseForwardHead(chunkHeadInputs(x, d, bh), S, DHQK, DHHV, chunkHeadStates(init, d, bh), o);
    setHeadSlice(h, bh, r.h);
    setHeadSlice(nOut, bh, r.nOut);
    setHeadSlice(mComb, bh, r.mComb);
    setHeadSlice(cStates, bh, r.cStates);
    setHeadSlice(nStates, bh, r.nStates);
    setHeadSlice(mStates, bh, r.mStates);
  }
  return {
    h: { shape: [B, NH, S, DHHV], data: h },
    nOut: { shape: [B, NH, S], data: nOut },
    mComb: { shape: [B, NH, S], data: mComb },
    cStates: { shape: [B, NH, (NC + 1) * DHQK, DHHV], data: cStates },
    nStates: { shape: [B, NH, (NC + 1) * DHQK], data: nStates },
    mStates: { shape: [B, NH, NC + 1], data: mStates },
  };
}

/** The last entry of the stacked states of {@link MlstmChunkwiseInternals}, as `(c, n, m)`. */
export function lastStatesOf(r: MlstmChunkwiseInternals, d: SequenceDims): MlstmStates {
  const { B, NH, DHQK, DHHV } = d;
  const NC1 = r.mStates.shape[2];
  const CS = DHQK * DHHV;
  const c = new Float64Array(B * NH * CS);
  const n = new Float64Array(B * NH * DHQK);
  const m = new Float64Array(B * NH);
  for (let bh = 0; bh < B * NH; bh++) {
    c.set(r.cStates.data.subarray((bh * NC1 + NC1 - 1) * CS, (bh * NC1 + NC1) * CS), bh * CS);
    n.set(r.nStates.data.subarray((bh * NC1 + NC1 - 1) * DHQK, (bh * NC1 + NC1) * DHQK), bh * DHQK);
    m[bh] = r.mStates.data[bh * NC1 + NC1 - 1];
  }
  return {
    c: { shape: [B, NH, DHQK, DHHV], data: c },
    n: { shape: [B, NH, DHQK], data: n },
    m: { shape: [B, NH, 1], data: m },
  };
}

/** Arguments of {@link mlstmChunkwise}. */
export interface MlstmChunkwiseArgs extends MlstmSequenceInputs, MlstmInitialStates {
  /** chunk size `L`, a divisor of S (default 64) */
  chunkSize?: number;
  /** default 1e-6 */
  eps?: number;
  /** also return the states after the last token (default false) */
  returnLastStates?: boolean;
}

/** Validates the common chunkwise arguments; returns dims, initial states (or undefined), eps, chunk size. */
export function validateChunkwiseArgs(
  args: MlstmChunkwiseArgs,
  ctx: string,
  requireM = true,
): {
  d: SequenceDims;
  init: { c: Tensor; n: Tensor; m?: Tensor } | undefined;
  eps: number;
  chunkSize: number;
} {
  const d = validateSequenceInputs(args, ctx);
  const has = validateStates(
    { c: args.cInitial, n: args.nInitial, m: args.mInitial },
    { c: 'cInitial', n: 'nInitial', m: 'mInitial' },
    d,
    ctx,
    requireM,
  );
  const chunkSize = expectChunkSize(args.chunkSize ?? DEFAULT_CHUNK_SIZE, ctx, d.S);
  const eps = validateEps(args.eps, ctx, DEFAULT_EPS);
  const init = has
    ? { c: args.cInitial!, n: args.nInitial!, m: requireM ? args.mInitial : undefined }
    : undefined;
  return { d, init, eps, chunkSize };
}

/**
 * The mLSTMexp chunkwise form (upstream `chunkwise--native_custbw` forward, spec §5.1–5.3).
 * Agrees with {@link mlstmRecurrentSequence} to rounding (same stabiliser, including `m₀ = 0`).
 */
export function mlstmChunkwise(args: MlstmChunkwiseArgs): { h: Tensor; lastStates?: MlstmStates } {
  const ctx = 'mlstmChunkwise';
  const { d, init, eps, chunkSize } = validateChunkwiseArgs(args, ctx);
  const returnLast = validateFlag('returnLastStates', args.returnLastStates, ctx, false);
  const r = chunkwiseForwardCore(args, d, init, { kind: 'exp', normalize: true, eps, chunkSize });
  return returnLast ? { h: r.h, lastStates: lastStatesOf(r, d) } : { h: r.h };
}

/** Arguments of {@link mlstmChunkwiseForwardInternals}: as {@link mlstmChunkwise}, plus the gate variant. */
export interface MlstmChunkwiseInternalsArgs extends MlstmChunkwiseArgs {
  /** `'exp'` (default) or `'sig'` (sigmoid input gate; `mInitial` ignored) */
  gate?: GateKind;
  /** sig only: divide by the normaliser (default true) */
  normalize?: boolean;
}

/**
 * The chunkwise forward with all its intermediate results (see {@link MlstmChunkwiseInternals}),
 * so that GPU sub-kernels (states, outputs) can be tested piece by piece.
 */
export function mlstmChunkwiseForwardInternals(args: MlstmChunkwiseInternalsArgs): MlstmChunkwiseInternals {
  const ctx = 'mlstmChunkwiseForwardInternals';
  const kind = validateGate(args.gate, ctx);
  const { d, init, eps, chunkSize } = validateChunkwiseArgs(args, ctx, kind === 'exp');
  const normalize = kind === 'exp' ? true : validateFlag('normalize', args.normalize, ctx, true);
  return chunkwiseForwardCore(args, d, init, { kind, normalize, eps, chunkSize });
}
