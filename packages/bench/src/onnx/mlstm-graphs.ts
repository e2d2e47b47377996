/**
 * ONNX graphs of the mLSTMexp forward, built in code (what `torch.onnx.export` of the upstream
 * PyTorch kernels produces, op for op where it matters):
 *
 * - {@link buildParallelStablefGraph}: the stabilised parallel form (`parallel--native_stablef`,
 *   spec §2) — materialises S×S matrices: log-forget matrix by `CumSum` down each column, the
 *   row maxima, `exp`, `Q Kᵀ`, the normaliser `max(|Σ C|, e^{−m})`, `(C / n) V`. Opset 18.
 * - {@link buildRecurrentLoopGraph}: a per-token `Loop` over S carrying `(C, n, m)` (what an
 *   exporter produces for the recurrent sequence kernel `native_sequence__native`).
 *
 * Shapes are static (one graph per B, NH, S, DHQK, DHHV). Inputs `q, k, v` are `float32` or
 * `float16` (then the S×S part is computed in float32, as the upstream export does), `i, f`
 * float32; output `h (B, NH, S, DHHV)` in the dtype of `q`.
 */
import { GraphBuilder } from './graph.js';

export interface MlstmGraphDims {
  B: number;
  NH: number;
  S: number;
  DHQK: number;
  DHHV: number;
}

export interface MlstmGraphOptions {
  dtype?: 'float32' | 'float16';
  eps?: number;
}

/** `logsigmoid(x) = min(x, 0) − log(1 + exp(−|x|))` from elementary ops. */
function logsigmoid(g: GraphBuilder, x: string): string {
  const zero = g.constF(0);
  const one = g.constF(1);
  const mn = g.o('Min', [x, zero]);
  const e = g.o('Exp', [g.o('Neg', [g.o('Abs', [x])])]);
  return g.o('Sub', [mn, g.o('Log', [g.o('Add', [one, e])])]);
}

/** The stabilised parallel forward (upstream `mlstm_parallel__native_stablef`). */
export function buildParallelStablefGraph(d: MlstmGraphDims, opts: MlstmGraphOptions = {}): Uint8Array {
  const { B, NH, S, DHQK, DHHV } = d;
  const dtype = opts.dtype ?? 'float32';
  const eps = opts.eps ?? 1e-6;
  const g = new GraphBuilder('mlstm_parallel_stablef');
  const q = g.input('q', dtype, [B, NH, S, DHQK]);
  const k = g.input('k', dtype, [B, NH, S, DHQK]);
  const v = g.input('v', dtype, [B, NH, S, DHHV]);
  const i = g.input('i', 'float32', [B, NH, S]);
  const f = g.input('f', 'float32', [B, NH, S]);
  g.output('h', dtype, [B, NH, S, DHHV]);

  // masks: ltr (t >= s) and strictly lower (t > s)
  const ltr = new Uint8Array(S * S);
  const ltrStrict = new Uint8Array(S * S);
  for (let t = 0; t < S; t++)
    for (let s = 0; s <= t; s++) {
      ltr[t * S + s] = 1;
      if (s < t) ltrStrict[t * S + s] = 1;
    }
  const mask = g.constB(ltr, [S, S]);
  const maskStrict = g.constB(ltrStrict, [S, S]);

  const logf = logsigmoid(g, f); // (B,NH,S)
  // repeat logf[t] along columns: (B,NH,S,1) expanded to (B,NH,S,S)
  const logfCol = g.o('Unsqueeze', [logf, g.constI([3])]);
  const rep = g.o('Expand', [logfCol, g.constI([B, NH, S, S])]);
  const zero = g.constF(0);
  const repMasked = g.o('Where', [maskStrict, rep, zero]);
  const logFg = g.o('CumSum', [repMasked, g.constI(2)]); // sum over t (axis -2)
  const negInf = g.constF(Number.NEGATIVE_INFINITY);
  const logFgMasked = g.o('Where', [mask, logFg, negInf]);
  const iRow = g.o('Unsqueeze', [i, g.constI([2])]); // (B,NH,1,S): i[s] along columns
  const logD = g.o('Add', [logFgMasked, iRow]);
  const maxLogD = g.o('ReduceMax', [logD, g.constI([3])], { keepdims: 1 }); // (B,NH,S,1)
  const dMat = g.o('Exp', [g.o('Sub', [logD, maxLogD])]);

  const qf = dtype === 'float16' ? g.o('Cast', [q], { to: 1 }) : q;
  const kf = dtype === 'float16' ? g.o('Cast', [k], { to: 1 }) : k;
  const kT = g.o('Transpose', [kf], { perm: [0, 1, 3, 2] });
  const qk = g.o('Mul', [g.o('MatMul', [qf, kT]), g.constF(1 / Math.sqrt(DHQK))]);
  const c = g.o('Mul', [qk, dMat]);
  const sumC = g.o('ReduceSum', [c, g.constI([3])], { keepdims: 1 });
  const norm = g.o('Max', [g.o('Abs', [sumC]), g.o('Exp', [g.o('Neg', [maxLogD])])]);
  const cNorm = g.o('Div', [c, g.o('Add', [norm, g.constF(eps)])]);
  if (dtype === 'float16') {
    const c16 = g.o('Cast', [cNorm], { to: 10 });
    g.o('MatMul', [c16, v], {}, 'h');
  } else {
    g.o('MatMul', [cNorm, v], {}, 'h');
  }
  return g.encode(18);
}

/**
 * A per-token recurrent `Loop` over the sequence (upstream `native_sequence__native` exported):
 * carries `C (B,NH,DHQK,DHHV)`, `n (B,NH,DHQK,1)`, `m (B,NH,1,1)`, scan output `h_t`. float32 only
 * (a float16 export casts at the boundary; the loop dominates either way).
 */
export function buildRecurrentLoopGraph(d: MlstmGraphDims, opts: { eps?: number } = {}): Uint8Array {
  const { B, NH, S, DHQK, DHHV } = d;
  const eps = opts.eps ?? 1e-6;
  const g = new GraphBuilder('mlstm_recurrent_loop');
  const q = g.input('q', 'float32', [B, NH, S, DHQK]);
  const k = g.input('k', 'float32', [B, NH, S, DHQK]);
  const v = g.input('v', 'float32', [B, NH, S, DHHV]);
  const i = g.input('i', 'float32', [B, NH, S]);
  const f = g.input('f', 'float32', [B, NH, S]);
  g.output('h', 'float32', [B, NH, S, DHHV]);

  // body: (iter, cond, C, n, m) -> (cond, C', n', m', h_t)
  const b = new GraphBuilder('step', 'b_');
  const t = b.input('iter', 'int64', []);
  const condIn = b.input('cond_in', 'bool', []);
  const cPrev = b.input('c_prev', 'float32', [B, NH, DHQK, DHHV]);
  const nPrev = b.input('n_prev', 'float32', [B, NH, DHQK, 1]);
  const mPrev = b.input('m_prev', 'float32', [B, NH, 1, 1]);
  b.o('Identity', [condIn], {}, 'cond_out');
  b.output('cond_out', 'bool', []);
  b.output('c_next', 'float32', [B, NH, DHQK, DHHV]);
  b.output('n_next', 'float32', [B, NH, DHQK, 1]);
  b.output('m_next', 'float32', [B, NH, 1, 1]);
  b.output('h_t', 'float32', [B, NH, DHHV]);
  const tt = b.o('Unsqueeze', [t, b.constI([0])]); // (1,)
  const qt = b.o('Gather', [q, tt], { axis: 2 }); // (B,NH,1,DHQK)
  const kt = b.o('Gather', [k, tt], { axis: 2 });
  const vt = b.o('Gather', [v, tt], { axis: 2 }); // (B,NH,1,DHHV)
  const it = b.o('Unsqueeze', [b.o('Gather', [i, tt], { axis: 2 }), b.constI([3])]); // (B,NH,1,1)
  const ft = b.o('Unsqueeze', [b.o('Gather', [f, tt], { axis: 2 }), b.constI([3])]);
  const lam = logsigmoid(b, ft);
  const lm = b.o('Add', [lam, mPrev]);
  const mNew = b.o('Max', [lm, it], {}, 'm_next');
  const fg = b.o('Exp', [b.o('Sub', [lm, mNew])]);
  const ig = b.o('Exp', [b.o('Sub', [it, mNew])]);
  const kCol = b.o('Transpose', [kt], { perm: [0, 1, 3, 2] }); // (B,NH,DHQK,1)
  const kv = b.o('MatMul', [kCol, vt]); // (B,NH,DHQK,DHHV)
  b.o('Add', [b.o('Mul', [fg, cPrev]), b.o('Mul', [ig, kv])], {}, 'c_next');
  b.o('Add', [b.o('Mul', [fg, nPrev]), b.o('Mul', [ig, kCol])], {}, 'n_next');
  const qs = b.o('Mul', [qt, b.constF(1 / Math.sqrt(DHQK))]); // (B,NH,1,DHQK)
  const num = b.o('MatMul', [qs, 'c_next']); // (B,NH,1,DHHV)
  const nq = b.o('MatMul', [qs, 'n_next']); // (B,NH,1,1)
  const den = b.o('Add', [b.o('Max', [b.o('Abs', [nq]), b.o('Exp', [b.o('Neg', [mNew])])]), b.constF(eps)]);
  b.o('Squeeze', [b.o('Div', [num, den]), b.constI([2])], {}, 'h_t');

  const tripCount = g.constI(S, []);
  const cond = g.constB(new Uint8Array([1]), []);
  const c0 = g.constF(new Array(1).fill(0), []);
  const cInit = g.o('Expand', [c0, g.constI([B, NH, DHQK, DHHV])]);
  const nInit = g.o('Expand', [c0, g.constI([B, NH, DHQK, 1])]);
  const mInit = g.o('Expand', [c0, g.constI([B, NH, 1, 1])]);
  const [, , , hs] = g.op('Loop', [tripCount, cond, cInit, nInit, mInit], { body: { graph: b } }, [
    'c_last',
    'n_last',
    'm_last',
    'h_seq',
  ]);
  g.o('Transpose', [hs], { perm: [1, 2, 0, 3] }, 'h'); // (S,B,NH,DHHV) -> (B,NH,S,DHHV)
  return g.encode(18);
}
