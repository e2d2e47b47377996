/**
 * Hand-written backward of the chunkwise form (spec §4.4, §4.5): the recurrence of the state
 * gradients `dC_k` from the last chunk to the first, then per chunk the intra/inter parts of
 * `dq, dk, dv`, and the gate gradients from the full `dq, dk`. The normaliser `n^out` and the
 * stabilisers are constants (spec §4.1).
 */
import { type GateKind, dot, gateGradientsHead, headSlice, qkScale, setHeadSlice } from './math.js';
import {
  type ChunkHeadInputs,
  type ChunkHeadStates,
  type ChunkwiseOptions,
  type MlstmChunkwiseArgs,
  chunkGates,
  chunkHeadInputs,
  chunkHeadStates,
  chunkwiseForwardHead,
  intraChunkGates,
  validateChunkwiseArgs,
} from './chunkwise.js';
import { validateDh } from './parallel.js';
import type { Tensor } from './tensor.js';
import type { MlstmGradients, MlstmSequenceInputs } from './types.js';
import { expectShape, type SequenceDims, validateFlag, validateGate } from './validate.js';

/** Options of the chunkwise backward core. */
export interface ChunkwiseBackwardOptions extends ChunkwiseOptions {
  /** add `⟨dC_last, C_last⟩` to every `dλ_r` (spec §4.5); false = upstream parity */
  correctDfForDcLast: boolean;
}

/** Gradients of one head plus the stacked state gradients `dC_0 … dC_NC`. */
interface ChunkwiseHeadGradients {
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
  di: Float64Array;
  df: Float64Array;
  /** `(NC+1) × DHQK × DHHV`; entry 0 is the gradient of the initial state */
  dcStates: Float64Array;
}

/**
 * Backward of one head.
 * ```
 * dĥ_j     = dh_j / (n^out_j + eps)
 * dC_NC    = dC_last (or 0)
 * dC_{k−1} = e^{g_k + m_{k−1} − m_k} dC_k + Σ_{j∈k} q̄_j dĥ_jᵀ,   q̄_j = κ q_j b̄_j
 * ā_l      = e^{a_l − m_k},   P_{jl} = (dĥ_jᵀ v_l) D'_{jl}
 * dq_j = κ Σ_{l≤j} P_{jl} k_l + κ b̄_j C_{k−1} dĥ_j
 * dk_l = κ Σ_{j≥l} P_{jl} q_j + ā_l dC_k v_l
 * dv_l = Σ_{j≥l} (κ q_jᵀ k_l) D'_{jl} dĥ_j + ā_l dC_kᵀ k_l
 * ```
 */
function chunkwiseBackwardHead(
  x: ChunkHeadInputs,
  dh: Float64Array,
  dcLast: Float64Array | undefined,
  S: number,
  DHQK: number,
  DHHV: number,
  init: ChunkHeadStates | undefined,
  o: ChunkwiseBackwardOptions,
): ChunkwiseHeadGradients {
  const L = o.chunkSize;
  const NC = S / L;
  const CS = DHQK * DHHV;
  const kappa = qkScale(DHQK);
  const fw = chunkwiseForwardHead(x, S, DHQK, DHHV, init, o);
  const { cStates, mStates } = fw;

  const dhTilde = new Float64Array(S * DHHV);
  for (let t = 0; t < S; t++) {
    const den = o.normalize ? fw.nOut[t] + o.eps : 1;
    for (let c = 0; c < DHHV; c++) dhTilde[t * DHHV + c] = dh[t * DHHV + c] / den;
  }

  const gates = Array.from({ length: NC }, (_, k) => chunkGates(o.kind, x.i, x.f, k * L, L));
  const intra = gates.map((g, k) => intraChunkGates(o.kind, g, mStates[k], L));

  // 1. state-gradient recurrence, last chunk to first
  const dcStates = new Float64Array((NC + 1) * CS);
  if (dcLast) dcStates.set(dcLast, NC * CS);
  for (let k = NC - 1; k >= 0; k--) {
    const decay = Math.exp(gates[k].g + mStates[k] - mStates[k + 1]);
    for (let e = 0; e < CS; e++) dcStates[k * CS + e] = decay * dcStates[(k + 1) * CS + e];
    for (let j = 0; j < L; j++) {
      const t = k * L + j;
      for (let r = 0; r < DHQK; r++) {
        const qb = kappa * x.q[t * DHQK + r] * intra[k].bBar[j];
        for (let c = 0; c < DHHV; c++) dcStates[k * CS + r * DHHV + c] += qb * dhTilde[t * DHHV + c];
      }
    }
  }

  // 2. dq, dk, dv per chunk
  const dq = new Float64Array(S * DHQK);
  const dk = new Float64Array(S * DHQK);
  const dv = new Float64Array(S * DHHV);
  for (let k = 0; k < NC; k++) {
    const { gate, bBar } = intra[k];
    const cPrev = k * CS;
    const dcNext = (k + 1) * CS;
    for (let j = 0; j < L; j++) {
      const t = k * L + j;
      // inter: dq_j += κ b̄_j C_{k−1} dĥ_j
      for (let r = 0; r < DHQK; r++) {
        dq[t * DHQK + r] += kappa * bBar[j] * dot(cStates, cPrev + r * DHHV, dhTilde, t * DHHV, DHHV);
      }
      // intra: pairs (j, l ≤ j)
      for (let l = 0; l <= j; l++) {
        const u = k * L + l;
        const d = gate[j * L + l];
        const p = dot(dhTilde, t * DHHV, x.v, u * DHHV, DHHV) * d;
        const ct = kappa * dot(x.q, t * DHQK, x.k, u * DHQK, DHQK) * d;
        for (let r = 0; r < DHQK; r++) {
          dq[t * DHQK + r] += kappa * p * x.k[u * DHQK + r];
          dk[u * DHQK + r] += kappa * p * x.q[t * DHQK + r];
        }
        for (let c = 0; c < DHHV; c++) dv[u * DHHV + c] += ct * dhTilde[t * DHHV + c];
      }
    }
    // inter: dk_l += ā_l dC_k v_l,  dv_l += ā_l dC_kᵀ k_l
    for (let l = 0; l < L; l++) {
      const u = k * L + l;
      const aBar = Math.exp(gates[k].a[l] - mStates[k + 1]);
      for (let r = 0; r < DHQK; r++) {
        dk[u * DHQK + r] += aBar * dot(dcStates, dcNext + r * DHHV, x.v, u * DHHV, DHHV);
        const kr = aBar * x.k[u * DHQK + r];
        for (let c = 0; c < DHHV; c++) dv[u * DHHV + c] += kr * dcStates[dcNext + r * DHHV + c];
      }
    }
  }

  // 3. gate gradients from the full dq, dk (global reverse cumsum)
  const shift = o.correctDfForDcLast && dcLast ? dot(dcLast, 0, cStates, NC * CS, CS) : 0;
  const di = new Float64Array(S);
  const df = new Float64Array(S);
  gateGradientsHead(o.kind, x.q, x.k, dq, dk, x.i, x.f, S, DHQK, shift, di, df, 0);
  return { dq, dk, dv, di, df, dcStates };
}

/** Gradients of the chunkwise forward (`dcInitial` etc. only when initial states were given). */
export interface MlstmChunkwiseGradients extends MlstmGradients {
  /** gradient of `cInitial` (`(B,NH,DHQK,DHHV)`) */
  dcInitial?: Tensor;
  /** zeros, as upstream (the normaliser is a constant) */
  dnInitial?: Tensor;
  /** zeros, as upstream (the stabiliser is a constant); absent for the sig variant */
  dmInitial?: Tensor;
  /** (internals only) `dC_0 … dC_NC`, `(B, NH, (NC+1)·DHQK, DHHV)` */
  dcStates?: Tensor;
}

/** The chunkwise backward for validated inputs (shared by exp and sig). */
export function chunkwiseBackwardCore(
  x: MlstmSequenceInputs,
  dh: Tensor,
  dcLast: Tensor | undefined,
  d: SequenceDims,
  init: { c: Tensor; n: Tensor; m?: Tensor } | undefined,
  o: ChunkwiseBackwardOptions,
): MlstmChunkwiseGradients & { dcStates: Tensor } {
  const { B, NH, S, DHQK, DHHV } = d;
  const NC = S / o.chunkSize;
  const CS = DHQK * DHHV;
  const dq = new Float64Array(B * NH * S * DHQK);
  const dk = new Float64Array(B * NH * S * DHQK);
  const dv = new Float64Array(B * NH * S * DHHV);
  const di = new Float64Array(B * NH * S);
  const df = new Float64Array(B * NH * S);
  const dcStates = new Float64Array(B * NH * (NC + 1) * CS);
  for (let bh = 0; bh < B * NH; bh++) {
    const g = chunkwiseBackwardHead(
      chunkHeadInputs(x, d, bh),
      headSlice(dh.data, bh, S * DHHV),
      dcLast ? headSlice(dcLast.data, bh, CS) : undefined,
      S,
      DHQK,
      DHHV,
      chunkHeadStates(init, d, bh),
      o,
    );
    setHeadSlice(dq, bh, g.dq);
    setHeadSlice(dk, bh, g.dk);
    setHeadSlice(dv, bh, g.dv);
    setHeadSlice(di, bh, g.di);
    setHeadSlice(df, bh, g.df);
    setHeadSlice(dcStates, bh, g.dcStates);
  }
  const out: MlstmChunkwiseGradients & { dcStates: Tensor } = {
    dq: { shape: [B, NH, S, DHQK], data: dq },
    dk: { shape: [B, NH, S, DHQK], data: dk },
    dv: { shape: [B, NH, S, DHHV], data: dv },
    di: { shape: [B, NH, S], data: di },
    df: { shape: [B, NH, S], data: df },
    dcStates: { shape: [B, NH, (NC + 1) * DHQK, DHHV], data: dcStates },
  };
  if (init) {
    const dc0 = new Float64Array(B * NH * CS);
    for (let bh = 0; bh < B * NH; bh++)
      dc0.set(dcStates.subarray(bh * (NC + 1) * CS, (bh * (NC + 1) + 1) * CS), bh * CS);
    out.dcInitial = { shape: [B, NH, DHQK, DHHV], data: dc0 };
    out.dnInitial = { shape: [B, NH, DHQK], data: new Float64Array(B * NH * DHQK) };
    if (o.kind === 'exp') out.dmInitial = { shape: [B, NH, 1], data: new Float64Array(B * NH) };
  }
  return out;
}

/** Arguments of {@link mlstmChunkwiseBackward}. */
export interface MlstmChunkwiseBackwardArgs extends Omit<MlstmChunkwiseArgs, 'returnLastStates'> {
  /** upstream gradient of `h`, `(B, NH, S, DHHV)` */
  dh: Tensor;
  /** gradient of the returned last state `c` (`(B,NH,DHQK,DHHV)`); seeds the `dC` recurrence */
  dcLast?: Tensor;
  /**
   * Add `⟨dC_last, C_last⟩` to every `dλ_r` so that `df` is exact when a loss depends on the
   * returned `c` (spec §4.5). Default false: upstream parity (biased `df`).
   */
  correctDfForDcLast?: boolean;
}

/** Validates the chunkwise backward arguments. */
export function validateChunkwiseBackwardArgs(
  args: MlstmChunkwiseBackwardArgs,
  ctx: string,
  requireM = true,
) {
  const v = validateChunkwiseArgs(args, ctx, requireM);
  validateDh(args.dh, v.d, ctx);
  if (args.dcLast != null) {
    expectShape('dcLast', args.dcLast, [v.d.B, v.d.NH, v.d.DHQK, v.d.DHHV], ['B', 'NH', 'DHQK', 'DHHV'], ctx);
  }
  const correct = validateFlag('correctDfForDcLast', args.correctDfForDcLast, ctx, false);
  return { ...v, dcLast: args.dcLast ?? undefined, correct };
}

/**
 * Hand-written backward of {@link mlstmChunkwise} (upstream `chunkwise--native_custbw`, the gradient
 * semantics of the TFLA kernels; spec §4.4). Returns `dq, dk, dv, di, df`, and when initial states
 * were given `dcInitial` plus zero `dnInitial`, `dmInitial` (as upstream).
 */
export function mlstmChunkwiseBackward(args: MlstmChunkwiseBackwardArgs): MlstmChunkwiseGradients {
  const ctx = 'mlstmChunkwiseBackward';
  const { d, init, eps, chunkSize, dcLast, correct } = validateChunkwiseBackwardArgs(args, ctx);
  const { dcStates: _, ...grads } = chunkwiseBackwardCore(args, args.dh, dcLast, d, init, {
    kind: 'exp',
    normalize: true,
    eps,
    chunkSize,
    correctDfForDcLast: correct,
  });
  return grads;
}

/** Arguments of {@link mlstmChunkwiseBackwardInternals}: the backward's, plus the gate variant. */
export interface MlstmChunkwiseBackwardInternalsArgs extends MlstmChunkwiseBackwardArgs {
  /** `'exp'` (default) or `'sig'` */
  gate?: GateKind;
  /** sig only (default true) */
  normalize?: boolean;
}

/**
 * The chunkwise backward with the stacked state gradients `dcStates (B,NH,(NC+1)·DHQK,DHHV)`
 * (entry 0 = gradient of the initial state), for testing the GPU `dC` kernel on its own.
 */
export function mlstmChunkwiseBackwardInternals(
  args: MlstmChunkwiseBackwardInternalsArgs,
): MlstmChunkwiseGradients & { dcStates: Tensor } {
  const ctx = 'mlstmChunkwiseBackwardInternals';
  const kind = validateGate(args.gate, ctx);
  const { d, init, eps, chunkSize, dcLast, correct } = validateChunkwiseBackwardArgs(
    args,
    ctx,
    kind === 'exp',
  );
  const normalize = kind === 'exp' ? true : validateFlag('normalize', args.normalize, ctx, true);
  return chunkwiseBackwardCore(args, args.dh, dcLast, d, init, {
    kind,
    normalize,
    eps,
    chunkSize,
    correctDfForDcLast: correct,
  });
}
