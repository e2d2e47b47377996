/**
 * Next-token choice: greedy (argmax, first maximum as torch) or sampling with temperature,
 * top-k, top-p and a repetition penalty (transformers' rule: positive logits divided,
 * negative multiplied), from a seeded generator.
 *
 * The sampler's arithmetic is defined once, here, so that the WebGPU sampler (`gpu/sample.ts`)
 * gives the same token for the same logits and the same uniform draw, with no tolerance:
 *
 * 1. Logits are read as f32 bit patterns and made canonical: NaN → −∞, subnormals and −0 → +0
 *    (GPUs may flush subnormals; both sides flush them by their bits).
 * 2. Repetition penalty (tokens seen so far, `pen ≠ 1`): `z > 0 ? z · f32(1/pen) : z · f32(pen)`,
 *    one correctly rounded f32 product, made canonical again. (A reciprocal product instead of a
 *    division: WGSL's f32 division is not correctly rounded.)
 * 3. Order: tokens by their penalised logit, descending, ties by the lower id (the order in which
 *    top-k and top-p keep tokens). Greedy (`temperature` 0) = the first token of this order.
 * 4. Weights, instead of float probabilities: with `d = f32(zmax − z)` and `y = f32(d · c)`,
 *    `c = f32(log2(e) / temperature)`, the token weighs `w ≈ 2³¹ · 2^−y`, computed in
 *    integers: `Y = floor(y · 2¹⁶)`, `w = (A[Y>>8 & 255] · B[Y & 255]) >> (Y >> 16)` with two
 *    256-entry tables of 2^−x ({@link SAMPLER_TABLES}); `y ≥ 32` weighs 0 and the maximum weighs
 *    2³¹ exactly. So `w` is `2³¹ · exp((z − zmax) / temperature)` within 4.2·10⁻⁵ relatively plus
 *    1, and tokens below 2⁻³¹ of the most likely one are never drawn. Every sum of weights is an exact integer
 *    (< 2⁵³, and < 2⁴⁸ for V ≤ 2¹⁷), so any summation order gives the same sums.
 * 5. Top-k: the first `topK` tokens of the order (0 or ≥ V: all).
 * 6. Top-p: with `S` the kept weight, `q = floor(f32(topP) · 2²⁴)` and
 *    `θ = max(1, ceil(q · S / 2²⁴))`, the shortest prefix of the order whose weight reaches θ.
 * 7. Draw: the uniform `u ∈ [0, 1)` becomes `r = floor(f32(u) · 2²⁴)`; with `S` the weight of the
 *    kept tokens, `t = floor(r · S / 2²⁴)`; the token is the first kept one **in id order** whose
 *    inclusive running weight exceeds `t`.
 *
 * Every step draws exactly one uniform per row (greedy rows too, and rows that have stopped), so a
 * seed gives the same tokens whatever the options and whichever device samples.
 */

/**
 * mulberry32: a small seeded PRNG, uniform in [0, 1) on a grid of 2⁻²⁴ (the top 24 bits of each
 * output), so that a draw is exactly representable as f32 (the GPU sampler receives f32 draws).
 */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 8) / 16777216;
  };
}

/** The `B` uniforms of one decoding step (one per row, in row order), as the GPU sampler takes them. */
export function drawUniforms(rng: () => number, B: number): Float32Array {
  return Float32Array.from({ length: B }, () => rng());
}

export interface SamplingOptions {
  /** 0 (default) = greedy; > 0 samples from softmax(logits / temperature) */
  temperature?: number;
  /** keep the k most likely tokens (0 / undefined = all) */
  topK?: number;
  /** keep the smallest set of tokens whose probability reaches p (1 / undefined = all) */
  topP?: number;
  /** > 1 discourages tokens already in the sequence (1 / undefined = off) */
  repetitionPenalty?: number;
}

export function argmax(x: ArrayLike<number>, off = 0, n = x.length): number {
  let best = 0;
  let bv = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    const v = x[off + j];
    if (v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

/** 2²⁴: the grid of the uniform draws and of topP. */
export const DRAW_ONE = 16777216;
/** The weight of the most likely token (step 4). */
export const MAX_WEIGHT = 2 ** 31;
/** Largest vocabulary the sampler takes (kept weights must sum below 2⁴⁸: the GPU's two-limb sums). */
export const SAMPLER_MAX_VOCAB = 2 ** 17;

/**
 * The two tables of step 4: `A[i] = round(2¹⁶ · 2^(−i/256))`, `B[i] = round(2¹⁵ · 2^(−i/65536))`
 * (their product is at most 2³¹). The GPU kernels embed these very values.
 */
export const SAMPLER_TABLES: { readonly a: Uint32Array; readonly b: Uint32Array } = {
  a: Uint32Array.from({ length: 256 }, (_, i) => Math.round(65536 * 2 ** (-i / 256))),
  b: Uint32Array.from({ length: 256 }, (_, i) => Math.round(32768 * 2 ** (-i / 65536))),
};

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Canonical f32 bits of a logit (step 1): NaN → −∞, subnormals and −0 → +0. */
export function canonicalLogitBits(b: number): number {
  if ((b & 0x7fffffff) >>> 0 > 0x7f800000) return 0xff800000;
  if ((b & 0x7f800000) === 0) return 0;
  return b >>> 0;
}

/** Canonical bits of an intermediate (`d`, `y`): NaN → +∞ (weight 0), subnormals and −0 → +0. */
function canonicalWeightBits(b: number): number {
  if ((b & 0x7fffffff) >>> 0 > 0x7f800000) return 0x7f800000;
  if ((b & 0x7f800000) === 0) return 0;
  return b >>> 0;
}

const bitsOf = (x: number): number => {
  f32[0] = x;
  return u32[0];
};
const f32Of = (b: number): number => {
  u32[0] = b;
  return f32[0];
};

/** Order key of canonical f32 bits: a larger key is a larger value (unsigned comparison). */
export function orderKey(bits: number): number {
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}

/** The f32 bits of an order key (inverse of {@link orderKey}). */
export function keyBits(key: number): number {
  return (key & 0x80000000 ? key & 0x7fffffff : ~key) >>> 0;
}

/** The f32 constants of a sampling configuration (the GPU kernels receive the same values). */
export function samplerConstants(o: SamplingOptions): {
  /** f32(log2(e) / temperature) (0 for greedy) */
  c: number;
  /** f32(1 / pen), f32(pen) */
  invPen: number;
  pen: number;
  penalize: boolean;
  /** top-k count (0 = all) */
  topK: number;
  /** floor(f32(topP) · 2²⁴) */
  q: number;
} {
  const temp = o.temperature ?? 0;
  const pen = o.repetitionPenalty ?? 1;
  // subnormal constants are flushed here, once, since a GPU may flush them in its products
  const flush = (x: number) => (Math.abs(x) < 2 ** -126 ? 0 : x);
  return {
    c: temp > 0 ? flush(Math.fround(Math.LOG2E / temp)) : 0,
    invPen: flush(Math.fround(1 / pen)),
    pen: flush(Math.fround(pen)),
    penalize: pen !== 1,
    topK: o.topK ?? 0,
    q: Math.floor(Math.fround(o.topP ?? 1) * DRAW_ONE),
  };
}

/** `floor(u · 2²⁴)` of an f32 draw in [0, 1) (step 7). */
export function drawInteger(u: number): number {
  return Math.min(DRAW_ONE - 1, Math.max(0, Math.floor(Math.fround(u) * DRAW_ONE)));
}

/** Penalised canonical logit bits of token `j` (steps 1-2). */
function penalisedBits(x: number, seen: boolean, k: ReturnType<typeof samplerConstants>): number {
  let b = canonicalLogitBits(bitsOf(x));
  if (seen && k.penalize) {
    const z = f32Of(b);
    b = canonicalLogitBits(bitsOf(Math.fround(z > 0 ? z * k.invPen : z * k.pen)));
  }
  return b;
}

/** The integer weight (step 4) of a token of canonical bits `b` when the maximum has bits `maxBits`. */
export function tokenWeight(b: number, maxBits: number, c: number): number {
  if (b === maxBits) return MAX_WEIGHT;
  const d = f32Of(canonicalWeightBits(bitsOf(Math.fround(f32Of(maxBits) - f32Of(b)))));
  const y = f32Of(canonicalWeightBits(bitsOf(Math.fround(d * c))));
  if (!(y < 32)) return 0;
  const Y = Math.floor(y * 65536);
  const p = SAMPLER_TABLES.a[(Y >>> 8) & 255] * SAMPLER_TABLES.b[Y & 255];
  return Math.floor(p / 2 ** (Y >>> 16));
}

/** `floor(r · S / 2²⁴)` (exact for S < 2⁴⁸, the way the GPU computes it in two limbs). */
export function scaleByDraw(r: number, S: number): number {
  const hi = Math.floor(S / DRAW_ONE);
  const lo = S - hi * DRAW_ONE;
  return r * hi + Math.floor((r * lo) / DRAW_ONE);
}

/** `max(1, ceil(q · S / 2²⁴))`: the top-p threshold (step 6). */
export function topPThreshold(q: number, S: number): number {
  const hi = Math.floor(S / DRAW_ONE);
  const lo = S - hi * DRAW_ONE;
  return Math.max(1, q * hi + Math.floor((q * lo + DRAW_ONE - 1) / DRAW_ONE));
}

/**
 * Chooses the next token from `logits[off .. off + V)` with the uniform draw `u ∈ [0, 1)`
 * (ignored by greedy); `seen(j)`: token j is in the sequence so far (repetition penalty).
 * The definition of every step is in this module's header.
 */
export function sampleToken(
  logits: Float32Array,
  off: number,
  V: number,
  o: SamplingOptions,
  seen: (id: number) => boolean,
  u: number,
): number {
  const k = samplerConstants(o);
  const bits = new Uint32Array(V);
  const keys = new Uint32Array(V);
  let best = 0;
  for (let j = 0; j < V; j++) {
    bits[j] = penalisedBits(logits[off + j], k.penalize && seen(j), k);
    keys[j] = orderKey(bits[j]);
    if (keys[j] > keys[best]) best = j;
  }
  if (!((o.temperature ?? 0) > 0)) return best;
  let n = k.topK > 0 && k.topK < V ? k.topK : V;
  // the order matters only to top-k / top-p (the draw goes in id order)
  const order = Array.from({ length: V }, (_, j) => j);
  if (n < V || k.q < DRAW_ONE) order.sort((a, b) => keys[b] - keys[a] || a - b);
  const maxBits = bits[best];
  const w = new Float64Array(V);
  let S = 0;
  for (let x = 0; x < n; x++) {
    const j = order[x];
    w[j] = tokenWeight(bits[j], maxBits, k.c);
    S += w[j];
  }
  if (k.q < DRAW_ONE) {
    const theta = topPThreshold(k.q, S);
    let acc = 0;
    let L = 0;
    while (L < n) {
      acc += w[order[L++]];
      if (acc >= theta) break;
    }
    n = L;
    S = acc;
  }
  const kept = new Uint8Array(V);
  for (let x = 0; x < n; x++) kept[order[x]] = 1;
  const t = scaleByDraw(drawInteger(u), S);
  let acc = 0;
  for (let j = 0; j < V; j++) {
    if (!kept[j]) continue;
    acc += w[j];
    if (acc > t) return j;
  }
  throw new Error('sampleToken: the draw fell past the kept weight (unreachable)');
}

/**
 * Chooses the next token from `logits[off .. off + V)`. `history` = ids seen so far (prompt +
 * generated). Draws exactly one value from `rng` (also for greedy).
 */
export function chooseToken(
  logits: Float32Array,
  off: number,
  V: number,
  o: SamplingOptions,
  history: readonly number[],
  rng: () => number,
): number {
  const u = rng();
  const seen = new Set(history);
  return sampleToken(logits, off, V, o, (j) => seen.has(j), u);
}
