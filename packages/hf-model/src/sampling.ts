/**
 * Next-token choice: greedy (argmax, first maximum as torch) or sampling with temperature,
 * top-k, top-p and a repetition penalty (transformers' rule: positive logits divided,
 * negative multiplied), from a seeded generator.
 */

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

/** Chooses the next token from `logits[off .. off + V)`. `history` = ids seen so far (prompt + generated). */
export function chooseToken(
  logits: Float32Array,
  off: number,
  V: number,
  o: SamplingOptions,
  history: readonly number[],
  rng: () => number,
): number {
  let l: Float32Array | Float64Array = logits.subarray(off, off + V);
  const pen = o.repetitionPenalty ?? 1;
  if (pen !== 1) {
    l = Float64Array.from(l);
    for (const id of new Set(history)) {
      if (id >= 0 && id < V) l[id] = l[id] > 0 ? l[id] / pen : l[id] * pen;
    }
  }
  const temp = o.temperature ?? 0;
  if (!(temp > 0)) return argmax(l);
  let idx = Array.from({ length: V }, (_, j) => j);
  idx.sort((a, b) => l[b] - l[a] || a - b);
  const k = o.topK ?? 0;
  if (k > 0 && k < V) idx = idx.slice(0, k);
  const mx = l[idx[0]];
  let probs = idx.map((j) => Math.exp((l[j] - mx) / temp));
  let sum = probs.reduce((a, b) => a + b, 0);
  const p = o.topP ?? 1;
  if (p < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < probs.length) {
      acc += probs[keep] / sum;
      keep++;
      if (acc >= p) break;
    }
    idx = idx.slice(0, keep);
    probs = probs.slice(0, keep);
    sum = probs.reduce((a, b) => a + b, 0);
  }
  let u = rng() * sum;
  for (let j = 0; j < idx.length; j++) {
    u -= probs[j];
    if (u < 0) return idx[j];
  }
  return idx[idx.length - 1];
}
