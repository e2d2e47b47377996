/**
 * Property tests over random shapes (odd head dims, B·NH > 1), chunk sizes, gates and initial
 * states: the forms agree with each other.
 *
 * Tolerances (|Δ| ≤ tol · max|expected|):
 * - SAME_MATH = 1e-12: recurrent vs chunkwise (same stabiliser definition, §5.3: m^comb equals the
 *   recurrent m exactly), split vs whole sequence, stable vs subtraction F, arbitrary-length vs
 *   recurrent: only float64 summation order differs (observed ~1e-15).
 * - parallel vs recurrent/chunkwise for mLSTMexp is compared with eps = 0: the parallel row max m
 *   differs from the recurrent one (no path from m₀ = 0), which only changes the eps·e^m term of
 *   the denominator (§1.1); with eps = 0 the forms are the same function (SAME_MATH again).
 */
import { describe, expect, it } from 'vitest';
import {
  mlstmChunkwise,
  mlstmChunkwiseArbitraryLength,
  mlstmChunkwiseBackward,
  mlstmChunkwiseBackwardInternals,
  mlstmChunkwiseForwardInternals,
  mlstmParallel,
  mlstmParallelBackward,
  mlstmRecurrentSequence,
  mlstmRecurrentStep,
  mlstmSigChunkwise,
  mlstmSigChunkwiseBackward,
  mlstmSigParallel,
  mlstmSigParallelBackward,
  mlstmSigRecurrentSequence,
  sliceAxis,
  type Tensor,
  toFloat32,
  toFloat64,
} from '../src/index.js';
import { Rng, randn, randomMlstmInputs } from '../src/testing/index.js';
import { expectClose } from './helpers.js';

const SAME_MATH = 1e-12;
const GRADS = ['dq', 'dk', 'dv', 'di', 'df'] as const;

interface Problem {
  d: { B: number; NH: number; S: number; DHQK: number; DHHV: number };
  L: number;
  x: { q: Tensor; k: Tensor; v: Tensor; i: Tensor; f: Tensor };
  states?: { cInitial: Tensor; nInitial: Tensor; mInitial: Tensor };
  label: string;
}

/** A random problem: odd/even head dims, 1–4 chunks of 1–16 tokens, moderate or strong gates. */
function randomProblem(seed: number, withStates: boolean): Problem {
  const rng = new Rng(seed);
  const L = rng.pick([1, 2, 4, 5, 8, 16]);
  const d = {
    B: rng.int(1, 2),
    NH: rng.int(1, 3),
    S: L * rng.int(1, 4),
    DHQK: rng.int(1, 9),
    DHHV: rng.int(1, 7),
  };
  if (d.B * d.NH === 1) d.NH = 2;
  const x = randomMlstmInputs(rng, d, { fOffset: rng.pick([-1, 1, 3]), iOffset: rng.pick([-2, 0, 2]) });
  const states = withStates
    ? {
        cInitial: randn(rng, [d.B, d.NH, d.DHQK, d.DHHV]),
        nInitial: randn(rng, [d.B, d.NH, d.DHQK]),
        mInitial: randn(rng, [d.B, d.NH, 1]),
      }
    : undefined;
  return {
    d,
    L,
    x,
    states,
    label: `seed ${seed}: ${JSON.stringify(d)} L=${L}${withStates ? ' +states' : ''}`,
  };
}

const seeds = Array.from({ length: 12 }, (_, n) => n + 1);
const problems = seeds.flatMap((s) => [randomProblem(s, false), randomProblem(100 + s, true)]);

describe.each(problems.map((p) => [p.label, p]))('mLSTMexp %s', (_, p) => {
  const { x, L, states } = p as Problem;
  it('recurrent = chunkwise (h and last states)', () => {
    const rec = mlstmRecurrentSequence({ ...x, ...states, returnLastStates: true });
    const cw = mlstmChunkwise({ ...x, ...states, chunkSize: L, returnLastStates: true });
    expectClose(cw.h, rec.h, SAME_MATH, 'h');
    for (const s of ['c', 'n', 'm'] as const)
      expectClose(cw.lastStates![s], rec.lastStates![s], SAME_MATH, s);
  });

  it('chunkwise internals: boundary states and the last token stabiliser', () => {
    const r = mlstmChunkwiseForwardInternals({ ...x, ...states, chunkSize: L });
    const { B, NH, S, DHQK, DHHV } = (p as Problem).d;
    const NC = S / L;
    expect(r.cStates.shape).toEqual([B, NH, (NC + 1) * DHQK, DHHV]);
    expect(r.nStates.shape).toEqual([B, NH, (NC + 1) * DHQK]);
    expect(r.mStates.shape).toEqual([B, NH, NC + 1]);
    // state k equals the recurrent state after k·L tokens; m^comb of token t equals the recurrent m_t
    for (let k = 1; k <= NC; k += Math.max(1, NC - 2)) {
      const rec = mlstmRecurrentSequence({ ...sliceAll(x, 0, k * L), ...states, returnLastStates: true });
      for (let bh = 0; bh < B * NH; bh++) {
        expect(r.mStates.data[bh * (NC + 1) + k]).toBeCloseTo(rec.lastStates!.m.data[bh], 12);
        expect(r.mComb.data[bh * S + k * L - 1]).toBeCloseTo(rec.lastStates!.m.data[bh], 12);
        const cs = DHQK * DHHV;
        const c = r.cStates.data.subarray((bh * (NC + 1) + k) * cs, (bh * (NC + 1) + k + 1) * cs);
        expectClose(
          { shape: [cs], data: c },
          { shape: [cs], data: rec.lastStates!.c.data.subarray(bh * cs, (bh + 1) * cs) },
          SAME_MATH,
          `C_${k}`,
        );
      }
    }
  });

  if (!states)
    it('parallel = recurrent with eps = 0; stableF true = false', () => {
      const rec = mlstmRecurrentSequence({ ...x, eps: 0 });
      const par = mlstmParallel({ ...x, eps: 0 });
      expectClose(par.h, rec.h, SAME_MATH, 'h (parallel vs recurrent)');
      expectClose(mlstmParallel({ ...x, stableF: false }).h, mlstmParallel(x).h, SAME_MATH, 'h (stableF)');
    });

  if (!states)
    it('chunkwise backward = parallel backward with eps = 0; every chunk size agrees', () => {
      const rng = new Rng(7);
      const dh = randn(rng, [...x.v.shape]);
      const par = mlstmParallelBackward({ ...x, dh, eps: 0 });
      const cw = mlstmChunkwiseBackward({ ...x, dh, eps: 0, chunkSize: L });
      const one = mlstmChunkwiseBackward({ ...x, dh, eps: 0, chunkSize: x.q.shape[2] });
      for (const g of GRADS) {
        expectClose(cw[g], par[g], SAME_MATH, `${g} chunkwise vs parallel`);
        expectClose(one[g], cw[g], SAME_MATH, `${g} one chunk vs L`);
      }
      const sf = mlstmParallelBackward({ ...x, dh, stableF: false });
      const st = mlstmParallelBackward({ ...x, dh });
      for (const g of GRADS) expectClose(sf[g], st[g], SAME_MATH, `${g} stableF`);
    });

  it('float32 inputs give the float64 result of the same values', () => {
    const x32 = Object.fromEntries(Object.entries(x).map(([k, t]) => [k, toFloat32(t)])) as typeof x;
    const x64 = Object.fromEntries(Object.entries(x32).map(([k, t]) => [k, toFloat64(t)])) as typeof x;
    const a = mlstmChunkwise({ ...x32, chunkSize: L }).h;
    expect(a.data).toBeInstanceOf(Float64Array);
    expect(Array.from(a.data)).toEqual(Array.from(mlstmChunkwise({ ...x64, chunkSize: L }).h.data));
  });
});

describe.each(problems.map((p) => [p.label, p]))('mLSTMsig %s', (_, p) => {
  const { x, L, states } = p as Problem;
  for (const normalize of [true, false]) {
    it(`recurrent = chunkwise${states ? '' : ' = parallel'} (normalize = ${normalize})`, () => {
      const st = states ? { cInitial: states.cInitial, nInitial: states.nInitial } : {};
      const rec = mlstmSigRecurrentSequence({ ...x, ...st, normalize, returnLastStates: true });
      const cw = mlstmSigChunkwise({ ...x, ...st, normalize, chunkSize: L, returnLastStates: true });
      expectClose(cw.h, rec.h, SAME_MATH, 'h chunkwise');
      expectClose(cw.lastStates!.c, rec.lastStates!.c, SAME_MATH, 'c');
      expectClose(cw.lastStates!.n, rec.lastStates!.n, SAME_MATH, 'n');
      if (!normalize) expect(cw.lastStates!.n.data.every((v) => v === 0)).toBe(true);
      // mInitial is accepted and ignored
      const withM = mlstmSigChunkwise({ ...x, ...st, mInitial: states?.mInitial, normalize, chunkSize: L });
      expectClose(withM.h, cw.h, 0, 'h with mInitial');
      if (!states) {
        expectClose(mlstmSigParallel({ ...x, normalize }).h, rec.h, SAME_MATH, 'h parallel');
        const dh = randn(new Rng(9), [...x.v.shape]);
        const par = mlstmSigParallelBackward({ ...x, dh, normalize });
        const cwb = mlstmSigChunkwiseBackward({ ...x, dh, normalize, chunkSize: L });
        for (const g of GRADS) expectClose(cwb[g], par[g], SAME_MATH, `${g} chunkwise vs parallel`);
      }
    });
  }
});

function sliceAll<T extends Record<string, Tensor>>(x: T, start: number, end: number): T {
  return Object.fromEntries(Object.entries(x).map(([k, t]) => [k, sliceAxis(t, 2, start, end)])) as T;
}

describe('state hand-over: two calls = one', () => {
  for (const seed of [21, 22, 23]) {
    it(`seed ${seed}: recurrent, chunkwise, sig chunkwise, sig recurrent`, () => {
      const p = randomProblem(seed, true);
      const { x, L, states } = p;
      const S = x.q.shape[2];
      const cut = L * Math.max(1, Math.floor(S / L / 2));
      if (cut === S) return;
      const a = sliceAll(x, 0, cut);
      const b = sliceAll(x, cut, S);
      const whole = mlstmChunkwise({ ...x, ...states, chunkSize: L, returnLastStates: true });
      const first = mlstmChunkwise({ ...a, ...states, chunkSize: L, returnLastStates: true });
      const { c, n, m } = first.lastStates!;
      const second = mlstmChunkwise({
        ...b,
        cInitial: c,
        nInitial: n,
        mInitial: m,
        chunkSize: L,
        returnLastStates: true,
      });
      expectClose(sliceAxis(whole.h, 2, cut, S), second.h, SAME_MATH, 'h chunkwise');
      for (const s of ['c', 'n', 'm'] as const)
        expectClose(second.lastStates![s], whole.lastStates![s], SAME_MATH, s);

      const recWhole = mlstmRecurrentSequence({ ...x, ...states, returnLastStates: true });
      const rec1 = mlstmRecurrentSequence({ ...a, ...states, returnLastStates: true });
      const r1 = rec1.lastStates!;
      const rec2 = mlstmRecurrentSequence({
        ...b,
        cInitial: r1.c,
        nInitial: r1.n,
        mInitial: r1.m,
        returnLastStates: true,
      });
      expectClose(sliceAxis(recWhole.h, 2, cut, S), rec2.h, SAME_MATH, 'h recurrent');

      const sigWhole = mlstmSigChunkwise({
        ...x,
        cInitial: states!.cInitial,
        nInitial: states!.nInitial,
        chunkSize: L,
        returnLastStates: true,
      });
      const sig1 = mlstmSigChunkwise({
        ...a,
        cInitial: states!.cInitial,
        nInitial: states!.nInitial,
        chunkSize: L,
        returnLastStates: true,
      });
      const sig2 = mlstmSigRecurrentSequence({
        ...b,
        cInitial: sig1.lastStates!.c,
        nInitial: sig1.lastStates!.n,
        returnLastStates: true,
      });
      expectClose(sliceAxis(sigWhole.h, 2, cut, S), sig2.h, SAME_MATH, 'h sig');
      expectClose(sig2.lastStates!.c, sigWhole.lastStates!.c, SAME_MATH, 'c sig');
    });
  }
});

describe('arbitrary length = recurrent', () => {
  const combos: [number, number][] = [
    [1, 64],
    [2, 16],
    [7, 16],
    [15, 16],
    [16, 16],
    [17, 16],
    [33, 32],
    [65, 32],
    [93, 64],
    [100, 48],
    [75, 8],
    [130, 64],
  ];
  for (const [S, chunkSize] of combos) {
    for (const withStates of [false, true]) {
      it(`S = ${S}, chunkSize = ${chunkSize}${withStates ? ', with initial states' : ''}`, () => {
        const rng = new Rng(S * 1000 + chunkSize);
        const d = { B: 1, NH: 2, S, DHQK: 5, DHHV: 3 };
        const x = randomMlstmInputs(rng, d, { fOffset: 3 });
        const st = withStates
          ? {
              cInitial: randn(rng, [1, 2, 5, 3]),
              nInitial: randn(rng, [1, 2, 5]),
              mInitial: randn(rng, [1, 2, 1]),
            }
          : {};
        const rec = mlstmRecurrentSequence({ ...x, ...st, returnLastStates: true });
        const arb = mlstmChunkwiseArbitraryLength({ ...x, ...st, chunkSize });
        expectClose(arb.h, rec.h, SAME_MATH, 'h');
        for (const s of ['c', 'n', 'm'] as const)
          expectClose(arb.lastStates[s], rec.lastStates![s], SAME_MATH, s);
        if (S === 1) {
          const zeros = {
            c: { shape: [1, 2, 5, 3], data: new Float64Array(30) },
            n: { shape: [1, 2, 5], data: new Float64Array(10) },
            m: { shape: [1, 2, 1], data: new Float64Array(2) },
          };
          const s0 = withStates ? { c: st.cInitial!, n: st.nInitial!, m: st.mInitial! } : zeros;
          const step = mlstmRecurrentStep({
            q: reshape3(x.q),
            k: reshape3(x.k),
            v: reshape3(x.v),
            i: x.i,
            f: x.f,
            ...s0,
          });
          expectClose({ shape: [1, 2, 1, 3], data: step.h.data }, arb.h, 0, 'h (S = 1 is one step)');
        }
      });
    }
  }
});

function reshape3(t: Tensor): Tensor {
  return { shape: [t.shape[0], t.shape[1], t.shape[3]], data: t.data };
}

describe('extreme gates stay finite and the forms agree', () => {
  const settings: [number, number, number][] = [
    // iOffset, fOffset, scale of both gates
    [30, 3, 1],
    [-30, 3, 1],
    [0, -12, 4],
    [0, 15, 1],
    [20, -8, 10],
  ];
  for (const [iOffset, fOffset, scale] of settings) {
    it(`i ≈ ${iOffset}, f ≈ ${fOffset}, spread ${scale}`, () => {
      const rng = new Rng(iOffset * 7 + fOffset * 13 + scale);
      const d = { B: 1, NH: 2, S: 24, DHQK: 5, DHHV: 3 };
      const x = randomMlstmInputs(rng, d);
      x.i = randn(rng, [1, 2, 24], { offset: iOffset, scale });
      x.f = randn(rng, [1, 2, 24], { offset: fOffset, scale });
      const st = {
        cInitial: randn(rng, [1, 2, 5, 3]),
        nInitial: randn(rng, [1, 2, 5]),
        mInitial: randn(rng, [1, 2, 1]),
      };
      const rec = mlstmRecurrentSequence({ ...x, ...st, returnLastStates: true });
      const cw = mlstmChunkwise({ ...x, ...st, chunkSize: 8, returnLastStates: true });
      const arb = mlstmChunkwiseArbitraryLength({ ...x, ...st, chunkSize: 16 });
      for (const t of [rec.h, cw.h, arb.h, rec.lastStates!.c, rec.lastStates!.n, rec.lastStates!.m]) {
        expect(t.data.every(Number.isFinite)).toBe(true);
      }
      expectClose(cw.h, rec.h, SAME_MATH, 'h chunkwise');
      expectClose(arb.h, rec.h, SAME_MATH, 'h arbitrary');
      for (const s of ['c', 'n', 'm'] as const)
        expectClose(cw.lastStates![s], rec.lastStates![s], SAME_MATH, s);
      const rec0 = mlstmRecurrentSequence({ ...x, eps: 0 });
      const par0 = mlstmParallel({ ...x, eps: 0 });
      expectClose(par0.h, rec0.h, 1e-10, 'h parallel vs recurrent (eps 0)');
      const dh = randn(rng, [1, 2, 24, 3]);
      const g = mlstmChunkwiseBackward({ ...x, ...st, dh, chunkSize: 8 });
      for (const k of GRADS) expect(g[k].data.every(Number.isFinite), k).toBe(true);
      const sig = mlstmSigChunkwise({ ...x, chunkSize: 8 });
      expectClose(sig.h, mlstmSigParallel(x).h, SAME_MATH, 'sig h');
    });
  }
});

describe('internals for sub-kernel tests', () => {
  it('backward internals: dcStates[0] = dcInitial, dcStates[NC] = dcLast; sig forward internals = sig chunkwise', () => {
    const rng = new Rng(77);
    const d = { B: 2, NH: 1, S: 12, DHQK: 3, DHHV: 4 };
    const x = randomMlstmInputs(rng, d, { fOffset: 1 });
    const st = {
      cInitial: randn(rng, [2, 1, 3, 4]),
      nInitial: randn(rng, [2, 1, 3]),
      mInitial: randn(rng, [2, 1, 1]),
    };
    const dh = randn(rng, [2, 1, 12, 4]);
    const dcLast = randn(rng, [2, 1, 3, 4]);
    const r = mlstmChunkwiseBackwardInternals({ ...x, ...st, dh, dcLast, chunkSize: 4 });
    const g = mlstmChunkwiseBackward({ ...x, ...st, dh, dcLast, chunkSize: 4 });
    expect(r.dcStates.shape).toEqual([2, 1, 4 * 3, 4]);
    const CS = 12;
    for (let b = 0; b < 2; b++) {
      const base = b * 4 * CS;
      expect(Array.from(r.dcStates.data.subarray(base, base + CS))).toEqual(
        Array.from(g.dcInitial!.data.subarray(b * CS, (b + 1) * CS)),
      );
      expect(Array.from(r.dcStates.data.subarray(base + 3 * CS, base + 4 * CS))).toEqual(
        Array.from(dcLast.data.subarray(b * CS, (b + 1) * CS)),
      );
    }
    const sigInt = mlstmChunkwiseForwardInternals({ ...x, ...st, chunkSize: 4, gate: 'sig' });
    const sig = mlstmSigChunkwise({ ...x, ...st, chunkSize: 4, returnLastStates: true });
    expectClose(sigInt.h, sig.h, 0, 'sig h');
    expect(sigInt.mStates.data.every((m) => m === 0)).toBe(true);
    expect(Array.from(sigInt.cStates.data.subarray(3 * CS, 4 * CS))).toEqual(
      Array.from(sig.lastStates!.c.data.subarray(0, CS)),
    );
  });
});
