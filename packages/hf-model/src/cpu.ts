/**
 * The CPU forward pass (spec §3): float32 weights, float64 activations and states, the mLSTM
 * cell from `@mlstm/core-reference`. Exact enough to be the oracle of the WebGPU path.
 */
import type { MlstmStates } from '@mlstm/core-reference';
import type { CpuCell } from './cell.js';
import type { XlstmConfig } from './config.js';
import type { Linear, NormParams, XlstmWeights } from './weights.js';

/** Receives intermediate activations (names as in the fixtures, e.g. `block0.mlstm_layer.q`). */
export type ActivationSink = (name: string, data: Float64Array | Float32Array, shape: number[]) => void;

/** `y[T, out] = x[T, in]·Wᵀ + b` (float64 accumulation). */
export function linear(x: Float64Array, T: number, l: Linear): Float64Array {
  const { w, b, out: N, in: K } = l;
  const y = new Float64Array(T * N);
  for (let t = 0; t < T; t++) {
    const xo = t * K;
    const yo = t * N;
    for (let n = 0; n < N; n++) {
      const wo = n * K;
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[xo + k] * w[wo + k];
      y[yo + n] = acc + (b ? b[n] : 0);
    }
  }
  return y;
}

/** RMSNorm over rows of width `H`: `x / sqrt(mean(x²) + eps) · w (+ b)`. */
export function rmsNorm(x: Float64Array, T: number, H: number, p: NormParams, eps: number): Float64Array {
  const y = new Float64Array(T * H);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let h = 0; h < H; h++) ss += x[t * H + h] * x[t * H + h];
    const r = 1 / Math.sqrt(ss / H + eps);
    for (let h = 0; h < H; h++) y[t * H + h] = x[t * H + h] * r * p.w[h] + (p.b ? p.b[h] : 0);
  }
  return y;
}

export const softcap = (x: number, cap: number | null): number => (cap ? cap * Math.tanh(x / cap) : x);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Per-block CPU states (float64, `(B, NH, dqk, dv)`, `(B, NH, dqk)`, `(B, NH, 1)`). */
export type CpuStates = MlstmStates[];

export interface CpuForwardResult {
  /** `[B, S, V]` soft-capped logits (or `[B, 1, V]` with `lastOnly`) */
  logits: Float32Array;
  states: CpuStates;
}

/**
 * One forward call over `ids` (B rows of S tokens, row-major) starting from `states` (null =
 * zeros). Returns the logits and the new per-block states (inputs are not modified).
 */
export async function forwardCpu(
  cfg: XlstmConfig,
  W: XlstmWeights,
  cell: CpuCell,
  ids: Int32Array,
  B: number,
  S: number,
  states: CpuStates | null,
  opts: { lastOnly?: boolean; sink?: ActivationSink; seqStarts?: Int32Array } = {},
): Promise<CpuForwardResult> {
  const { H, NH, Dqk, Dv, dqk, dv, F, V } = cfg.dims;
  const T = B * S;
  // activations are handed out as copies (x is updated in place)
  const sink: ActivationSink | undefined = opts.sink
    ? (name, data, shape) => opts.sink!(name, Float64Array.from(data), shape)
    : undefined;
  const cap = cfg.gateSoftCap;
  const x = new Float64Array(T * H);
  for (let r = 0; r < T; r++) {
    const id = ids[r];
    x.set(W.embedding.subarray(id * H, (id + 1) * H), r * H);
  }
  sink?.('embeddings', x, [B, S, H]);
  const newStates: CpuStates = [];
  for (const [bi, blk] of W.blocks.entries()) {
    const pre = `block${bi}.`;
    const s = bi === 0 ? sink : undefined;
    const a = rmsNorm(x, T, H, blk.normMlstm, cfg.normEps);
    s?.(`${pre}norm_mlstm`, a, [B, S, H]);
    const proj = linear(a, T, blk.qkvo);
    const gates = linear(a, T, blk.ifGate);
    const P = 2 * Dqk + 2 * Dv;
    if (s) {
      s(`${pre}mlstm_layer.qkv_opreact`, proj, [B, S, P]);
      s(`${pre}mlstm_layer.ifgate_preact`, gates, [B, S, 2 * NH]);
      const cols = (off: number, n: number) => {
        const o = new Float64Array(T * n);
        for (let r = 0; r < T; r++) for (let c = 0; c < n; c++) o[r * n + c] = proj[r * P + off + c];
        return o;
      };
      s(`${pre}mlstm_layer.q`, cols(0, Dqk), [B, S, Dqk]);
      s(`${pre}mlstm_layer.k`, cols(Dqk, Dqk), [B, S, Dqk]);
      s(`${pre}mlstm_layer.v`, cols(2 * Dqk, Dv), [B, S, Dv]);
      s(`${pre}mlstm_layer.ogate_preact`, cols(2 * Dqk + Dv, Dv), [B, S, Dv]);
      const g = (off: number) => {
        const o = new Float64Array(T * NH);
        for (let r = 0; r < T; r++) for (let h = 0; h < NH; h++) o[r * NH + h] = gates[r * 2 * NH + off + h];
        return o;
      };
      s(`${pre}mlstm_layer.igate_preact`, g(0), [B, S, NH]);
      s(`${pre}mlstm_layer.fgate_preact`, g(NH), [B, S, NH]);
    }
    // head-first cell inputs
    const q = new Float64Array(B * NH * S * dqk);
    const k = new Float64Array(B * NH * S * dqk);
    const v = new Float64Array(B * NH * S * dv);
    const ig = new Float64Array(B * NH * S);
    const fg = new Float64Array(B * NH * S);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < S; t++) {
        const r = b * S + t;
        for (let h = 0; h < NH; h++) {
          const hs = (b * NH + h) * S + t;
          for (let d = 0; d < dqk; d++) {
            q[hs * dqk + d] = proj[r * P + h * dqk + d];
            k[hs * dqk + d] = proj[r * P + Dqk + h * dqk + d];
          }
          for (let d = 0; d < dv; d++) v[hs * dv + d] = proj[r * P + 2 * Dqk + h * dv + d];
          ig[hs] = softcap(gates[r * 2 * NH + h], cap);
          fg[hs] = softcap(gates[r * 2 * NH + NH + h], cap);
        }
      }
    }
    const out = await cell(
      {
        q: { shape: [B, NH, S, dqk], data: q },
        k: { shape: [B, NH, S, dqk], data: k },
        v: { shape: [B, NH, S, dv], data: v },
        i: { shape: [B, NH, S], data: ig },
        f: { shape: [B, NH, S], data: fg },
      },
      states ? states[bi] : null,
      opts.seqStarts,
    );
    newStates.push(out.state);
    const hd = out.h.data;
    s?.(`${pre}mlstm_layer.mlstm_backend`, hd, [B, NH, S, dv]);
    // multi-head LayerNorm (per head over dv, biased variance), affine, output gate
    const normed = new Float64Array(T * Dv);
    const hIn = s ? new Float64Array(T * Dv) : null;
    const og = s ? new Float64Array(T * Dv) : null;
    const gated = new Float64Array(T * Dv);
    const mh = blk.multiheadNorm;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < S; t++) {
        const r = b * S + t;
        for (let h = 0; h < NH; h++) {
          const src = ((b * NH + h) * S + t) * dv;
          let mean = 0;
          for (let d = 0; d < dv; d++) mean += hd[src + d];
          mean /= dv;
          let vr = 0;
          for (let d = 0; d < dv; d++) vr += (hd[src + d] - mean) ** 2;
          vr /= dv;
          const rs = 1 / Math.sqrt(vr + cfg.normEps);
          for (let d = 0; d < dv; d++) {
            const c = h * dv + d;
            if (hIn) hIn[r * Dv + c] = hd[src + d];
            const y = (hd[src + d] - mean) * rs * mh.w[c] + (mh.b ? mh.b[c] : 0);
            normed[r * Dv + c] = y;
            const o = sigmoid(proj[r * P + 2 * Dqk + Dv + c]);
            if (og) og[r * Dv + c] = o;
            gated[r * Dv + c] = o * y;
          }
        }
      }
    }
    if (s) {
      s(`${pre}mlstm_layer.multihead_norm.input`, hIn!, [B, S, NH, dv]);
      s(`${pre}mlstm_layer.multihead_norm`, normed, [B, S, Dv]);
      s(`${pre}mlstm_layer.ogate_act_fn`, og!, [B, S, Dv]);
    }
    const y = linear(gated, T, blk.outProj);
    s?.(`${pre}mlstm_layer.out_proj`, y, [B, S, H]);
    s?.(`${pre}mlstm_layer`, y, [B, S, H]);
    for (let e = 0; e < T * H; e++) x[e] += y[e];
    const fIn = rmsNorm(x, T, H, blk.normFfn, cfg.normEps);
    s?.(`${pre}norm_ffn`, fIn, [B, S, H]);
    const u = linear(fIn, T, blk.upGateZ);
    const g = new Float64Array(T * F);
    const act = s ? new Float64Array(T * F) : null;
    for (let r = 0; r < T; r++) {
      for (let c = 0; c < F; c++) {
        const z = u[r * 2 * F + c];
        const si = z * sigmoid(z);
        if (act) act[r * F + c] = si;
        g[r * F + c] = si * u[r * 2 * F + F + c];
      }
    }
    if (s) {
      s(`${pre}ffn.proj_up_gate_z`, u, [B, S, 2 * F]);
      const half = (off: number) => {
        const o = new Float64Array(T * F);
        for (let r = 0; r < T; r++) for (let c = 0; c < F; c++) o[r * F + c] = u[r * 2 * F + off + c];
        return o;
      };
      s(`${pre}ffn.proj_up_gate`, half(0), [B, S, F]);
      s(`${pre}ffn.proj_up`, half(F), [B, S, F]);
      s(`${pre}ffn.act_fn`, act!, [B, S, F]);
    }
    const d = linear(g, T, blk.down);
    s?.(`${pre}ffn.proj_down`, d, [B, S, H]);
    s?.(`${pre}ffn`, d, [B, S, H]);
    for (let e = 0; e < T * H; e++) x[e] += d[e];
    sink?.(`${pre}out`, x, [B, S, H]);
  }
  // head: only the rows asked for (packed: the last token of each sequence)
  const ends = opts.seqStarts
    ? Array.from(opts.seqStarts.subarray(1), (e) => e - 1)
    : Array.from({ length: B }, (_, b) => b * S + S - 1);
  const rows = opts.lastOnly ? ends.length : T;
  let z = x;
  if (opts.lastOnly) {
    z = new Float64Array(rows * H);
    for (const [r, e] of ends.entries()) z.set(x.subarray(e * H, (e + 1) * H), r * H);
  }
  const zn = rmsNorm(z, rows, H, { w: W.outNorm, b: null }, cfg.normEps);
  if (!opts.lastOnly) sink?.('final_norm', zn, [B, S, H]);
  const raw = linear(zn, rows, { w: W.lmHead, b: null, out: V, in: H });
  const logits = new Float32Array(rows * V);
  for (let e = 0; e < rows * V; e++) logits[e] = softcap(raw[e], cfg.outputLogitSoftCap);
  return { logits, states: newStates };
}
