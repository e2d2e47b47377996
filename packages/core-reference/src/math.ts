/**
 * Shared scalar math and small helpers of the reference implementation, kept in one place so that
 * every form (recurrent, parallel, chunkwise, their backward passes and the sigmoid-gate variant)
 * uses exactly the same definitions.
 */

/**
 * Numerically stable `log σ(x) = −log(1 + e^{−x})`, computed as `min(x, 0) − log1p(e^{−|x|})`
 * (never overflows, exact for large |x|). Always ≤ 0.
 */
export function logsigmoid(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}

/** Logistic sigmoid `σ(x) = 1 / (1 + e^{−x})`, evaluated without overflow for either sign of x. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** The query scale `κ = DHQK^(−1/2)`; it multiplies `q` only (k is never scaled). */
export function qkScale(DHQK: number): number {
  return 1 / Math.sqrt(DHQK);
}

/** Default `eps` of every public function (upstream: `1e-6`). */
export const DEFAULT_EPS = 1e-6;

/** Dot product of `a[aOff .. aOff+n)` and `b[bOff .. bOff+n)`. */
export function dot(
  a: ArrayLike<number>,
  aOff: number,
  b: ArrayLike<number>,
  bOff: number,
  n: number,
): number {
  let s = 0;
  for (let x = 0; x < n; x++) s += a[aOff + x] * b[bOff + x];
  return s;
}

/**
 * The log-space input gate of each variant:
 * - `exp` (mLSTMexp): the raw pre-activation `ĩ`, used as `exp(ĩ − m)` with a max stabiliser `m`;
 * - `sig` (mLSTMsig): `logsigmoid(ĩ)`, i.e. the gate `σ(ĩ)`; no stabiliser is needed (`m ≡ 0`).
 */
export type GateKind = 'exp' | 'sig';

/** `log` of the input gate for a pre-activation `x` (see {@link GateKind}). */
export function logInputGate(kind: GateKind, x: number): number {
  return kind === 'exp' ? x : logsigmoid(x);
}

/**
 * Derivative of {@link logInputGate} with respect to the pre-activation:
 * 1 for `exp`, `σ(−x)` for `sig` (since `d logsigmoid(x)/dx = σ(−x)`).
 */
export function logInputGateGrad(kind: GateKind, x: number): number {
  return kind === 'exp' ? 1 : sigmoid(-x);
}

// ---------------------------------------------------------------------------------------------
// Per-(batch, head) views. All kernels are independent over B·NH; they copy the slice of one head
// into a float64 array, work on it, and write the result back into the float64 output.
// ---------------------------------------------------------------------------------------------

/** Copies the `len` elements of head `bh` (flat index over B·NH) out of a head-first array. */
export function headSlice(data: ArrayLike<number>, bh: number, len: number): Float64Array {
  const out = new Float64Array(len);
  const off = bh * len;
  for (let x = 0; x < len; x++) out[x] = data[off + x];
  return out;
}

/** Writes `src` as the slice of head `bh` (flat index over B·NH) of `dst`. */
export function setHeadSlice(dst: Float64Array, bh: number, src: ArrayLike<number>): void {
  const off = bh * src.length;
  for (let x = 0; x < src.length; x++) dst[off + x] = src[x];
}

// ---------------------------------------------------------------------------------------------
// Layer norm over the last axis (no affine), its backward, and the two losses the gradient tests use.
// ---------------------------------------------------------------------------------------------

/**
 * Layer norm of each row of a `(rows, D)` array over its `D` entries: mean subtraction, biased
 * variance, `eps` inside the square root, no affine parameters (PyTorch `F.layer_norm(h, (D,))`).
 * Returns the normalised rows and the per-row `1/√(var+eps)`.
 */
export function layerNormRows(
  x: ArrayLike<number>,
  D: number,
  eps = 1e-5,
): { y: Float64Array; invStd: Float64Array } {
  const rows = x.length / D;
  const y = new Float64Array(x.length);
  const invStd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let d = 0; d < D; d++) mean += x[r * D + d];
    mean /= D;
    let v = 0;
    for (let d = 0; d < D; d++) v += (x[r * D + d] - mean) ** 2;
    v /= D;
    const s = 1 / Math.sqrt(v + eps);
    invStd[r] = s;
    for (let d = 0; d < D; d++) y[r * D + d] = (x[r * D + d] - mean) * s;
  }
  return { y, invStd };
}

/**
 * Backward of {@link layerNormRows}: given `y = LN(x)`, its `invStd` and `dy = ∂L/∂y`, returns
 * `∂L/∂x = invStd · (dy − mean(dy) − y · mean(dy ⊙ y))` row by row.
 */
export function layerNormRowsBackward(
  y: ArrayLike<number>,
  invStd: ArrayLike<number>,
  dy: ArrayLike<number>,
  D: number,
): Float64Array {
  const rows = y.length / D;
  const dx = new Float64Array(y.length);
  for (let r = 0; r < rows; r++) {
    let mdy = 0;
    let mdyy = 0;
    for (let d = 0; d < D; d++) {
      mdy += dy[r * D + d];
      mdyy += dy[r * D + d] * y[r * D + d];
    }
    mdy /= D;
    mdyy /= D;
    for (let d = 0; d < D; d++) {
      dx[r * D + d] = invStd[r] * (dy[r * D + d] - mdy - y[r * D + d] * mdyy);
    }
  }
  return dx;
}

/**
 * The loss of the upstream fixtures' `d*_lnloss_autograd` tensors: `L = Σ LN(h) ⊙ w`
 * (LN over the last axis of size `D`, eps `lnEps`). Returns `L` and `∂L/∂h`.
 */
export function layerNormDotLoss(
  h: ArrayLike<number>,
  w: ArrayLike<number>,
  D: number,
  lnEps = 1e-5,
): { loss: number; dh: Float64Array } {
  const { y, invStd } = layerNormRows(h, D, lnEps);
  let loss = 0;
  for (let x = 0; x < y.length; x++) loss += y[x] * w[x];
  return { loss, dh: layerNormRowsBackward(y, invStd, w, D) };
}

/**
 * The gradient-test loss of upstream (spec §12.3): `L = Σ (LN(h) + o)²` with a fixed offset
 * tensor `o`. It is invariant to a positive scale of each row of `h`, so the hand-written backward
 * passes (which hold the normaliser constant) are exact for it when `lnEps = 0`.
 * Returns `L` and `∂L/∂h`.
 */
export function layerNormSquaredLoss(
  h: ArrayLike<number>,
  o: ArrayLike<number>,
  D: number,
  lnEps = 1e-5,
): { loss: number; dh: Float64Array } {
  const { y, invStd } = layerNormRows(h, D, lnEps);
  let loss = 0;
  const dy = new Float64Array(y.length);
  for (let x = 0; x < y.length; x++) {
    const z = y[x] + o[x];
    loss += z * z;
    dy[x] = 2 * z;
  }
  return { loss, dh: layerNormRowsBackward(y, invStd, dy, D) };
}

/**
 * Gate gradients of one head from the full `dq`, `dk` (spec §4.2–4.4, upstream
 * `compute_gate_grads_vecDeltaI_vecDeltaF`):
 * ```
 * dĩ_s = (k_s · dk_s) · ∂ι/∂ĩ_s                          (1 for exp, σ(−ĩ_s) for sig)
 * dλ_r = Σ_{t ≥ r} (q_t · dq_t − k_t · dk_t) + dλShift      (reverse cumulative sum)
 * df̃_r = dλ_r · σ(−f̃_r)
 * ```
 * `dλShift` is 0 for upstream parity; `⟨dC_last, C_last⟩` corrects the bias of spec §4.5.
 * Writes `S` entries into `di` and `df` at `off`.
 */
export function gateGradientsHead(
  kind: GateKind,
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  dq: ArrayLike<number>,
  dk: ArrayLike<number>,
  iPre: ArrayLike<number>,
  fPre: ArrayLike<number>,
  S: number,
  DHQK: number,
  dLambdaShift: number,
  di: Float64Array,
  df: Float64Array,
  off: number,
): void {
  let suffix = dLambdaShift;
  for (let t = S - 1; t >= 0; t--) {
    const kdk = dot(k, t * DHQK, dk, t * DHQK, DHQK);
    const qdq = dot(q, t * DHQK, dq, t * DHQK, DHQK);
    di[off + t] = kdk * logInputGateGrad(kind, iPre[t]);
    suffix += qdq - kdk;
    df[off + t] = suffix * sigmoid(-fPre[t]);
  }
}
