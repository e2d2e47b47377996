/**
 * Helpers for the TFLA (chunkwise / parallel) kernel tests: random problems and a tolerance
 * check relative to the largest expected magnitude.
 */
import type { Tensor } from '@mlstm/core-reference';
import { compare, type Rng, randn, randomMlstmInputs } from '@mlstm/core-reference/testing';
import { roundToF16 } from '../src/index.js';

export interface Problem {
  d: { B: number; NH: number; S: number; DHQK: number; DHHV: number };
  x: { q: Tensor; k: Tensor; v: Tensor; i: Tensor; f: Tensor };
  dh: Tensor;
  states?: { cInitial: Tensor; nInitial: Tensor; mInitial: Tensor };
  dcLast?: Tensor;
}

export function randomProblem(
  rng: Rng,
  d: Problem['d'],
  opts: { states?: boolean; dcLast?: boolean; iOffset?: number; fOffset?: number } = {},
): Problem {
  const x = randomMlstmInputs(rng, d, {
    kind: 'f32',
    iOffset: opts.iOffset ?? 0,
    fOffset: opts.fOffset ?? 3,
  });
  const dh = randn(rng, [d.B, d.NH, d.S, d.DHHV], { kind: 'f32' });
  const p: Problem = { d, x, dh };
  if (opts.states) {
    p.states = {
      cInitial: randn(rng, [d.B, d.NH, d.DHQK, d.DHHV], { kind: 'f32', scale: 0.5 }),
      nInitial: randn(rng, [d.B, d.NH, d.DHQK], { kind: 'f32', scale: 0.5 }),
      mInitial: randn(rng, [d.B, d.NH, 1], { kind: 'f32' }),
    };
  }
  if (opts.dcLast) p.dcLast = randn(rng, [d.B, d.NH, d.DHQK, d.DHHV], { kind: 'f32', scale: 0.1 });
  return p;
}

/** The problem's q, k, v, dh rounded to f16 (what an f16 upload stores), for f16 references. */
export function roundedToF16(p: Problem): Problem {
  const r = (t: Tensor): Tensor => ({ shape: [...t.shape], data: roundToF16(t.data) });
  return { ...p, x: { ...p.x, q: r(p.x.q), k: r(p.x.k), v: r(p.x.v) }, dh: r(p.dh) };
}

/**
 * Asserts `|actual − expected| ≤ tol · max|expected|` element-wise (errors of f32/f16
 * accumulation scale with the magnitude of the tensor, not of each element: a small element
 * of a sum of large terms carries the large terms' rounding).
 */
export function expectNear(
  actual: Tensor | { shape: readonly number[]; data: Float32Array },
  expected: Tensor,
  tol: number,
  name: string,
  /** a larger magnitude the error scales with, if any */
  scale = 0,
) {
  let maxE = scale;
  for (const v of expected.data) maxE = Math.max(maxE, Math.abs(v));
  const c = compare(actual as Tensor, expected);
  const allowed = tol * Math.max(maxE, 1e-30);
  if (!(c.maxAbs <= allowed) || c.nonFinite > 0) {
    throw new Error(
      `${name}: max |Δ| ${c.maxAbs.toExponential(3)} > ${tol} · max|expected| (${maxE.toExponential(3)}) at [${c.worstAt.join(', ')}]: ` +
        `${c.actualAtWorst} vs ${c.expectedAtWorst}; rel norm ${c.relNorm.toExponential(3)}${c.nonFinite ? `, ${c.nonFinite} non-finite` : ''}`,
    );
  }
  return c.maxAbs / Math.max(maxE, 1e-30);
}
