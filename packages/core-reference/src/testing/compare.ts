import type { FloatArray, Tensor } from '../tensor.js';

/** Result of comparing an actual tensor with an expected one. */
export interface Comparison {
  /** max |actual − expected| */
  maxAbs: number;
  /** max |actual − expected| / (|expected| + tiny) — over all elements */
  maxRel: number;
  /** ‖actual − expected‖₂ / ‖expected‖₂ */
  relNorm: number;
  /** flat index of the element that violates the tolerance the most (or of max |Δ|) */
  worstIndex: number;
  /** multi-index of `worstIndex` */
  worstAt: number[];
  actualAtWorst: number;
  expectedAtWorst: number;
  /** number of NaN / ±Inf in `actual` where `expected` is finite */
  nonFinite: number;
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = index % shape[d];
    index = Math.floor(index / shape[d]);
  }
  return out;
}

/**
 * Compares element-wise. With `atol`/`rtol` the "worst" element is the one with the
 * largest excess `|Δ| − (atol + rtol·|expected|)` (the one `assertClose` reports).
 */
export function compare(
  actual: Tensor | FloatArray,
  expected: Tensor | FloatArray,
  tol: { atol?: number; rtol?: number } = {},
): Comparison {
  const a = 'data' in actual ? actual.data : actual;
  const e = 'data' in expected ? expected.data : expected;
  const shape = 'shape' in expected ? expected.shape : [e.length];
  if (a.length !== e.length) throw new RangeError(`compare: ${a.length} elements vs ${e.length} expected`);
  const { atol = 0, rtol = 0 } = tol;
  let maxAbs = 0;
  let maxRel = 0;
  let num = 0;
  let den = 0;
  let worst = 0;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let nonFinite = 0;
  for (let x = 0; x < e.length; x++) {
    const diff = Math.abs(a[x] - e[x]);
    if (!Number.isFinite(a[x]) && Number.isFinite(e[x])) {
      nonFinite++;
      if (worstExcess !== Number.POSITIVE_INFINITY) {
        worstExcess = Number.POSITIVE_INFINITY;
        worst = x;
      }
      continue;
    }
    if (diff > maxAbs) maxAbs = diff;
    const rel = diff / (Math.abs(e[x]) + 1e-30);
    if (rel > maxRel) maxRel = rel;
    num += diff * diff;
    den += e[x] * e[x];
    const excess = diff - (atol + rtol * Math.abs(e[x]));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = x;
    }
  }
  return {
    maxAbs,
    maxRel,
    relNorm: den > 0 ? Math.sqrt(num / den) : Math.sqrt(num),
    worstIndex: worst,
    worstAt: unravel(worst, shape),
    actualAtWorst: a[worst],
    expectedAtWorst: e[worst],
    nonFinite,
  };
}

/**
 * Throws unless every element satisfies `|a − e| ≤ atol + rtol·|e|` (numpy's allclose rule),
 * with a message giving max abs/rel error and the worst element.
 */
export function assertClose(
  actual: Tensor | FloatArray,
  expected: Tensor | FloatArray,
  tol: { atol: number; rtol?: number; name?: string },
): Comparison {
  const c = compare(actual, expected, tol);
  const { atol, rtol = 0 } = tol;
  const bad =
    c.nonFinite > 0 ||
    Math.abs(c.actualAtWorst - c.expectedAtWorst) > atol + rtol * Math.abs(c.expectedAtWorst);
  if (bad) {
    throw new Error(
      `${tol.name ?? 'tensor'} not close (atol ${atol}, rtol ${rtol}): max abs ${c.maxAbs.toExponential(3)}, ` +
        `max rel ${c.maxRel.toExponential(3)}, rel norm ${c.relNorm.toExponential(3)}, ` +
        `worst at [${c.worstAt.join(', ')}]: actual ${c.actualAtWorst} vs expected ${c.expectedAtWorst}` +
        (c.nonFinite ? `, ${c.nonFinite} non-finite values` : ''),
    );
  }
  return c;
}
