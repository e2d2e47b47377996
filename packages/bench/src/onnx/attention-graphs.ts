/**
 * Causal softmax attention as an ONNX graph, built in code: the attention a transformer would run
 * on onnxruntime-web, the peer of the mLSTM kernels in the const-token suite (issue 21).
 *
 * Layout: `q, k (B, S, NH·DHQK)`, `v (B, S, NH·DHHV)` → `o (B, S, NH·DHHV)` (the usual
 * transformer layout, heads packed in the last dimension), `o[t] = Σ_{s≤t} softmax_s(q_t·k_s / √DHQK) v_s`
 * per head. Two implementations:
 *
 * - `'mha'`: one `com.microsoft.MultiHeadAttention` node with `unidirectional = 1` (the causal
 *   mask inside the op; ORT's WebGPU EP has a flash-attention path for it). Contrib op, opset
 *   `com.microsoft` 1.
 * - `'matmul'`: plain opset-18 ops — `MatMul(Q, Kᵀ)·scale`, a constant causal mask applied with
 *   `Where(mask, ·, −∞)`, `Softmax(axis −1)`, `MatMul(·, V)` — for an EP that lacks the contrib op.
 *   It materialises the (B, NH, S, S) scores.
 *
 * Shapes are static (one graph per B, NH, S, DHQK, DHHV). In float16 the whole graph computes in
 * float16 (what ORT's kernels do with f16 inputs; the softmax accumulates in f32 inside the ops).
 */
import { GraphBuilder } from './graph.js';

export interface AttentionGraphDims {
  B: number;
  NH: number;
  S: number;
  DHQK: number;
  DHHV: number;
}

export type AttentionImpl = 'mha' | 'matmul';

export interface AttentionGraphOptions {
  dtype?: 'float32' | 'float16';
  impl?: AttentionImpl;
}

/** The causal attention graph (inputs `q, k, v`, output `o`). */
export function buildCausalAttentionGraph(
  d: AttentionGraphDims,
  opts: AttentionGraphOptions = {},
): Uint8Array {
  const { B, NH, S, DHQK, DHHV } = d;
  for (const [name, v] of Object.entries(d))
    if (!Number.isInteger(v) || v <= 0)
      throw new RangeError(`buildCausalAttentionGraph: ${name} must be a positive integer, got ${v}`);
  const dtype = opts.dtype ?? 'float32';
  const impl = opts.impl ?? 'mha';
  const g = new GraphBuilder(`causal_attention_${impl}`);
  const q = g.input('q', dtype, [B, S, NH * DHQK]);
  const k = g.input('k', dtype, [B, S, NH * DHQK]);
  const v = g.input('v', dtype, [B, S, NH * DHHV]);
  g.output('o', dtype, [B, S, NH * DHHV]);
  const scale = 1 / Math.sqrt(DHQK);
  if (impl === 'mha') {
    g.op(
      'MultiHeadAttention',
      [q, k, v],
      { num_heads: NH, unidirectional: 1, scale: { float: scale } },
      ['o'],
      'com.microsoft',
    );
    return g.encode(18);
  }
  // (B, S, NH·D) → (B, NH, S, D)
  const heads = (x: string, D: number, perm: number[]) =>
    g.o('Transpose', [g.o('Reshape', [x, g.constI([B, S, NH, D])])], { perm });
  const qh = heads(q, DHQK, [0, 2, 1, 3]);
  const kT = heads(k, DHQK, [0, 2, 3, 1]); // (B, NH, DHQK, S)
  const vh = heads(v, DHHV, [0, 2, 1, 3]);
  const tri = new Uint8Array(S * S);
  for (let t = 0; t < S; t++) for (let s = 0; s <= t; s++) tri[t * S + s] = 1;
  const mask = g.constB(tri, [S, S]);
  const cast = (x: string) => (dtype === 'float16' ? g.o('Cast', [x], { to: 10 }) : x);
  const scores = g.o('Mul', [g.o('MatMul', [qh, kT]), cast(g.constF(scale))]);
  const masked = g.o('Where', [mask, scores, cast(g.constF(Number.NEGATIVE_INFINITY))]);
  const p = g.o('Softmax', [masked], { axis: -1 });
  const oh = g.o('MatMul', [p, vh]); // (B, NH, S, DHHV)
  g.o('Reshape', [g.o('Transpose', [oh], { perm: [0, 2, 1, 3] }), g.constI([B, S, NH * DHHV])], {}, 'o');
  return g.encode(18);
}

/**
 * The CPU reference (float64 accumulation): causal softmax attention in the graph's layout,
 * `q, k (B, S, NH·DHQK)`, `v (B, S, NH·DHHV)` → `(B, S, NH·DHHV)`.
 */
export function causalAttentionReference(
  d: AttentionGraphDims,
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
): Float32Array {
  const { B, NH, S, DHQK, DHHV } = d;
  const nq = B * S * NH * DHQK;
  const nv = B * S * NH * DHHV;
  if (q.length !== nq || k.length !== nq)
    throw new RangeError(`causalAttentionReference: q and k must hold B·S·NH·DHQK = ${nq} values`);
  if (v.length !== nv)
    throw new RangeError(`causalAttentionReference: v must hold B·S·NH·DHHV = ${nv} values, got ${v.length}`);
  const out = new Float32Array(nv);
  const scale = 1 / Math.sqrt(DHQK);
  const w = new Float64Array(S);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < NH; h++)
      for (let t = 0; t < S; t++) {
        const qo = (b * S + t) * NH * DHQK + h * DHQK;
        let m = Number.NEGATIVE_INFINITY;
        for (let s = 0; s <= t; s++) {
          const ko = (b * S + s) * NH * DHQK + h * DHQK;
          let dot = 0;
          for (let j = 0; j < DHQK; j++) dot += q[qo + j] * k[ko + j];
          w[s] = dot * scale;
          m = Math.max(m, w[s]);
        }
        let sum = 0;
        for (let s = 0; s <= t; s++) {
          w[s] = Math.exp(w[s] - m);
          sum += w[s];
        }
        const oo = (b * S + t) * NH * DHHV + h * DHHV;
        for (let j = 0; j < DHHV; j++) {
          let acc = 0;
          for (let s = 0; s <= t; s++) acc += w[s] * v[(b * S + s) * NH * DHHV + h * DHHV + j];
          out[oo + j] = acc / sum;
        }
      }
  return out;
}
