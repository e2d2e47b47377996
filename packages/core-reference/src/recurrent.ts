/**
 * The recurrent form (spec §1, §3, §6.1–6.2): one token at a time, the definition of the mLSTM.
 */
import { type GateKind, logInputGate, logsigmoid, qkScale, DEFAULT_EPS } from './math.js';
import type { Tensor } from './tensor.js';
import type { MlstmInitialStates, MlstmSequenceInputs, MlstmStates } from './types.js';
import {
  expectRank,
  expectShape,
  validateEps,
  validateFlag,
  validateSequenceInputs,
  validateStates,
} from './validate.js';

/**
 * One head's recurrent state, updated in place: `c` is `DHQK × DHHV` row-major, `n` has `DHQK`
 * entries, `m` is the stabiliser (always 0 for the sigmoid gate).
 */
export interface HeadState {
  c: Float64Array;
  n: Float64Array;
  m: number;
}

/**
 * One recurrent step of one head (spec §1 / §3), updating `st` in place and writing
 * `h` (DHHV entries) at `h[hOff..]`.
 *
 * ```
 * λ = logsigmoid(f̃);  ι = ĩ (exp) or logsigmoid(ĩ) (sig)
 * m' = max(λ + m, ι)  (exp)   |   m' = 0 (sig: no stabiliser)
 * C' = e^{λ+m−m'} C + e^{ι−m'} k vᵀ ;  n' = e^{λ+m−m'} n + e^{ι−m'} k
 * h  = C'ᵀ q̂ / (max(|n'ᵀ q̂|, e^{−m'}) + eps)   with q̂ = κ q   (normalize = false: h = C'ᵀ q̂)
 * ```
 */
export function recurrentStepHead(
  kind: GateKind,
  normalize: boolean,
  st: HeadState,
  q: ArrayLike<number>,
  qOff: number,
  k: ArrayLike<number>,
  kOff: number,
  v: ArrayLike<number>,
  vOff: number,
  iPre: number,
  fPre: number,
  DHQK: number,
  DHHV: number,
  eps: number,
  h: Float64Array,
  hOff: number,
): void {
  const kappa = qkScale(DHQK);
  const lambda = logsigmoid(fPre);
  const logI = logInputGate(kind, iPre);
  const mNew = kind === 'exp' ? Math.max(lambda + st.m, logI) : 0;
  const fGate = Math.exp(lambda + st.m - mNew);
  const iGate = Math.exp(logI - mNew);
  const { c, n } = st;
  for (let a = 0; a < DHQK; a++) {
    const ka = iGate * k[kOff + a];
    n[a] = fGate * n[a] + ka;
    const row = a * DHHV;
    for (let b = 0; b < DHHV; b++) c[row + b] = fGate * c[row + b] + ka * v[vOff + b];
  }
  st.m = mNew;
  // read-out: num = C'ᵀ q̂, nq = n'ᵀ q̂
  let nq = 0;
  for (let b = 0; b < DHHV; b++) h[hOff + b] = 0;
  for (let a = 0; a < DHQK; a++) {
    const qa = kappa * q[qOff + a];
    nq += n[a] * qa;
    const row = a * DHHV;
    for (let b = 0; b < DHHV; b++) h[hOff + b] += c[row + b] * qa;
  }
  if (!normalize) return;
  const den = Math.max(Math.abs(nq), Math.exp(-mNew)) + eps;
  for (let b = 0; b < DHHV; b++) h[hOff + b] /= den;
}

/** Arguments of {@link mlstmRecurrentStep}. */
export interface MlstmRecurrentStepArgs {
  /** query `(B, NH, DHQK)` */
  q: Tensor;
  /** key `(B, NH, DHQK)` */
  k: Tensor;
  /** value `(B, NH, DHHV)` */
  v: Tensor;
  /** input-gate pre-activation `(B, NH, 1)` */
  i: Tensor;
  /** forget-gate pre-activation `(B, NH, 1)` */
  f: Tensor;
  /** matrix memory `(B, NH, DHQK, DHHV)` */
  c: Tensor;
  /** normaliser `(B, NH, DHQK)` */
  n: Tensor;
  /** stabiliser `(B, NH, 1)` */
  m: Tensor;
  /** added to the denominator after the max (default 1e-6) */
  eps?: number;
}

/** Result of {@link mlstmRecurrentStep}: `h (B, NH, DHHV)` and the new states (float64). */
export interface MlstmRecurrentStepResult {
  h: Tensor;
  c: Tensor;
  n: Tensor;
  m: Tensor;
}

/**
 * One mLSTMexp token (upstream step kernel `native`, spec §1): returns `h` and the new `(c, n, m)`.
 * The inputs are not modified.
 */
export function mlstmRecurrentStep(args: MlstmRecurrentStepArgs): MlstmRecurrentStepResult {
  const ctx = 'mlstmRecurrentStep';
  const { q, k, v, i, f, c, n, m } = args;
  const [B, NH, DHQK] = expectRank('q', q, ['B', 'NH', 'DHQK'], ctx);
  expectShape('k', k, [B, NH, DHQK], ['B', 'NH', 'DHQK'], ctx);
  const DHHV = expectRank('v', v, ['B', 'NH', 'DHHV'], ctx)[2];
  expectShape('v', v, [B, NH, DHHV], ['B', 'NH', 'DHHV'], ctx);
  expectShape('i', i, [B, NH, 1], ['B', 'NH', '1'], ctx);
  expectShape('f', f, [B, NH, 1], ['B', 'NH', '1'], ctx);
  expectShape('c', c, [B, NH, DHQK, DHHV], ['B', 'NH', 'DHQK', 'DHHV'], ctx);
  expectShape('n', n, [B, NH, DHQK], ['B', 'NH', 'DHQK'], ctx);
  expectShape('m', m, [B, NH, 1], ['B', 'NH', '1'], ctx);
  const eps = validateEps(args.eps, ctx, DEFAULT_EPS);

  const h = new Float64Array(B * NH * DHHV);
  const cOut = Float64Array.from(c.data);
  const nOut = Float64Array.from(n.data);
  const mOut = new Float64Array(B * NH);
  const CS = DHQK * DHHV;
  for (let bh = 0; bh < B * NH; bh++) {
    const st: HeadState = {
      c: cOut.subarray(bh * CS, (bh + 1) * CS),
      n: nOut.subarray(bh * DHQK, (bh + 1) * DHQK),
      m: m.data[bh],
    };
    recurrentStepHead(
      'exp',
      true,
      st,
      q.data,
      bh * DHQK,
      k.data,
      bh * DHQK,
      v.data,
      bh * DHHV,
      i.data[bh],
      f.data[bh],
      DHQK,
      DHHV,
      eps,
      h,
      bh * DHHV,
    );
    mOut[bh] = st.m;
  }
  return {
    h: { shape: [B, NH, DHHV], data: h },
    c: { shape: [B, NH, DHQK, DHHV], data: cOut },
    n: { shape: [B, NH, DHQK], data: nOut },
    m: { shape: [B, NH, 1], data: mOut },
  };
}

/**
 * The recurrent loop over a whole sequence for either gate variant (shared by
 * {@link mlstmRecurrentSequence} and `mlstmSigRecurrentSequence`). Inputs must be validated.
 * States default to zeros (`m₀ = 0`). Returns `h` and the last `(c, n, m)` as flat float64 arrays.
 */
export function recurrentSequenceCore(
  kind: GateKind,
  normalize: boolean,
  x: MlstmSequenceInputs,
  d: { B: number; NH: number; S: number; DHQK: number; DHHV: number },
  init: { c: ArrayLike<number>; n: ArrayLike<number>; m?: ArrayLike<number> } | undefined,
  eps: number,
): { h: Float64Array; c: Float64Array; n: Float64Array; m: Float64Array } {
  const { B, NH, S, DHQK, DHHV } = d;
  const CS = DHQK * DHHV;
  const h = new Float64Array(B * NH * S * DHHV);
  const c = init ? Float64Array.from(init.c) : new Float64Array(B * NH * CS);
  const n = init ? Float64Array.from(init.n) : new Float64Array(B * NH * DHQK);
  const m = new Float64Array(B * NH);
  for (let bh = 0; bh < B * NH; bh++) {
    const st: HeadState = {
      c: c.subarray(bh * CS, (bh + 1) * CS),
      n: n.subarray(bh * DHQK, (bh + 1) * DHQK),
      m: kind === 'exp' && init?.m ? init.m[bh] : 0,
    };
    for (let t = 0; t < S; t++) {
      const row = bh * S + t;
      recurrentStepHead(
        kind,
        normalize,
        st,
        x.q.data,
        row * DHQK,
        x.k.data,
        row * DHQK,
        x.v.data,
        row * DHHV,
        x.i.data[row],
        x.f.data[row],
        DHQK,
        DHHV,
        eps,
        h,
        row * DHHV,
      );
    }
    m[bh] = st.m;
  }
  return { h, c, n, m };
}

/** Arguments of {@link mlstmRecurrentSequence}. */
export interface MlstmRecurrentSequenceArgs extends MlstmSequenceInputs, MlstmInitialStates {
  /** default 1e-6 */
  eps?: number;
  /** also return the states after the last token (default false) */
  returnLastStates?: boolean;
}

/** `h (B, NH, S, DHHV)` and, when asked for, the last states. */
export interface MlstmSequenceResult {
  h: Tensor;
  lastStates?: MlstmStates;
}

/**
 * The mLSTMexp recurrent loop (upstream sequence kernel `native_sequence__native`, spec §6.2):
 * the step of §1 token by token, from the given initial states (all or none; zeros otherwise,
 * including `m₀ = 0`).
 */
export function mlstmRecurrentSequence(args: MlstmRecurrentSequenceArgs): MlstmSequenceResult {
  const ctx = 'mlstmRecurrentSequence';
  const d = validateSequenceInputs(args, ctx);
  const hasStates = validateStates(
    { c: args.cInitial, n: args.nInitial, m: args.mInitial },
    { c: 'cInitial', n: 'nInitial', m: 'mInitial' },
    d,
    ctx,
  );
  const eps = validateEps(args.eps, ctx, DEFAULT_EPS);
  const returnLast = validateFlag('returnLastStates', args.returnLastStates, ctx, false);
  const init = hasStates
    ? { c: args.cInitial!.data, n: args.nInitial!.data, m: args.mInitial!.data }
    : undefined;
  const r = recurrentSequenceCore('exp', true, args, d, init, eps);
  const { B, NH, S, DHQK, DHHV } = d;
  const h: Tensor = { shape: [B, NH, S, DHHV], data: r.h };
  if (!returnLast) return { h };
  return {
    h,
    lastStates: {
      c: { shape: [B, NH, DHQK, DHHV], data: r.c },
      n: { shape: [B, NH, DHQK], data: r.n },
      m: { shape: [B, NH, 1], data: r.m },
    },
  };
}
