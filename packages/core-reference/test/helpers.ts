/** Shared helpers of the core-reference tests. */
import { expect } from 'vitest';
import type { Tensor } from '../src/index.js';
import { assertClose } from '../src/testing/index.js';

/** max |x| of a tensor. */
export function maxAbs(t: Tensor): number {
  let m = 0;
  for (const x of t.data) m = Math.max(m, Math.abs(x));
  return m;
}

/**
 * Elementwise `|a − e| ≤ scaleTol · max|e| + rtol · |e|`: an absolute tolerance relative to the
 * tensor's magnitude (errors that come from cancellations, e.g. in `h = num/den` or in the reverse
 * cumulative sum of `df`, scale with the largest terms, not with the element itself).
 * Set `SHOW_TOL=1` to print the observed error of every comparison next to its tolerance.
 */
export function expectClose(
  actual: Tensor,
  expected: Tensor,
  scaleTol: number,
  name: string,
  rtol = 0,
): void {
  expect(actual.shape, `${name}: shape`).toEqual(expected.shape);
  const c = assertClose(actual, expected, { atol: scaleTol * maxAbs(expected), rtol, name });
  if (process.env.SHOW_TOL)
    console.log(`TOL ${name} ${(c.maxAbs / maxAbs(expected)).toExponential(2)} / ${scaleTol}`);
}

/** A tensor of `value` everywhere (float64). */
export function filled(shape: readonly number[], value: number): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  return { shape: [...shape], data: new Float64Array(n).fill(value) };
}
