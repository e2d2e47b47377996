/**
 * Central finite differences (float64) of every hand-written backward, with the per-row
 * scale-invariant loss of spec §12.3: `L = Σ (LN(h) + o)²`, LN over DHHV without affine.
 *
 * The layer norm's eps is 0 here, which makes the loss *exactly* invariant to a positive scale of
 * each row of h; the hand-written backward passes hold the per-row denominator and the stabiliser
 * `m` constant (spec §4.1), which is then exact — so any difference beyond the finite-difference
 * error is a bug. (With eps = 1e-5 the fixtures show the expected ~1e-5 relative deviation.)
 *
 * Tolerance FD_TOL = 1e-6 of max|gradient| per element: with step 1e-5 the truncation error is
 * ~h²·L''' ≈ 1e-10 and the rounding error ~1e-16·|L|/h ≈ 1e-11·|L| (|L| ≲ 200 here); observed ≤ 5e-8.
 */
import { describe, expect, it } from 'vitest';
import {
  layerNormSquaredLoss,
  mlstmChunkwise,
  mlstmChunkwiseBackward,
  mlstmParallel,
  mlstmParallelBackward,
  mlstmSigChunkwise,
  mlstmSigChunkwiseBackward,
  mlstmSigParallel,
  mlstmSigParallelBackward,
  sigmoid,
  type Tensor,
} from '../src/index.js';
import { Rng, randn, randomMlstmInputs } from '../src/testing/index.js';
import { expectClose } from './helpers.js';

const FD_TOL = 1e-6;
const FD_STEP = 1e-5;

type Params = Record<string, Tensor>;

/** ∂loss/∂(every element of the named params) by central differences. */
function numericGrad(params: Params, names: readonly string[], loss: (p: Params) => number): Params {
  const p: Params = {};
  for (const [k, t] of Object.entries(params)) p[k] = { shape: t.shape, data: Float64Array.from(t.data) };
  const out: Params = {};
  for (const name of names) {
    const x = p[name].data;
    const g = new Float64Array(x.length);
    for (let e = 0; e < x.length; e++) {
      const x0 = x[e];
      x[e] = x0 + FD_STEP;
      const lp = loss(p);
      x[e] = x0 - FD_STEP;
      const lm = loss(p);
      x[e] = x0;
      g[e] = (lp - lm) / (2 * FD_STEP);
    }
    out[name] = { shape: p[name].shape, data: g };
  }
  return out;
}

const dims = { B: 1, NH: 2, S: 8, DHQK: 3, DHHV: 5 };
const L = 4;

function setup(seed: number) {
  const rng = new Rng(seed);
  const x = randomMlstmInputs(rng, dims, { fOffset: 1, iOffset: 0 });
  const offset = randn(rng, [dims.B, dims.NH, dims.S, dims.DHHV]);
  const c0 = randn(rng, [dims.B, dims.NH, dims.DHQK, dims.DHHV], { scale: 0.5 });
  const n0 = randn(rng, [dims.B, dims.NH, dims.DHQK], { scale: 0.5 });
  const m0 = randn(rng, [dims.B, dims.NH, 1], { scale: 0.5 });
  const w = randn(rng, [dims.B, dims.NH, dims.DHQK, dims.DHHV]);
  return { x, offset, c0, n0, m0, w };
}

/** The §12.3 loss with LN eps 0 and its gradient w.r.t. h. */
function lnLoss(h: Tensor, o: Tensor): { loss: number; dh: Tensor } {
  const r = layerNormSquaredLoss(h.data, o.data, dims.DHHV, 0);
  return { loss: r.loss, dh: { shape: h.shape, data: r.dh } };
}

const SEQ = ['q', 'k', 'v', 'i', 'f'] as const;

describe('finite differences: parallel backward', () => {
  for (const stableF of [true, false]) {
    it(`mLSTMexp, stableF = ${stableF}`, () => {
      const { x, offset } = setup(1);
      const fwd = (p: Params) => mlstmParallel({ q: p.q, k: p.k, v: p.v, i: p.i, f: p.f, stableF }).h;
      const { dh } = lnLoss(fwd(x), offset);
      const g = mlstmParallelBackward({ ...x, dh, stableF });
      const num = numericGrad(x, SEQ, (p) => lnLoss(fwd(p), offset).loss);
      for (const k of SEQ) expectClose(g[`d${k}`], num[k], FD_TOL, `d${k}`);
    });
  }
  for (const normalize of [true, false]) {
    it(`mLSTMsig, normalize = ${normalize}`, () => {
      const { x, offset } = setup(2);
      const fwd = (p: Params) => mlstmSigParallel({ q: p.q, k: p.k, v: p.v, i: p.i, f: p.f, normalize }).h;
      const { dh } = lnLoss(fwd(x), offset);
      const g = mlstmSigParallelBackward({ ...x, dh, normalize });
      const num = numericGrad(x, SEQ, (p) => lnLoss(fwd(p), offset).loss);
      for (const k of SEQ) expectClose(g[`d${k}`], num[k], FD_TOL, `d${k}`);
    });
  }
});

describe('finite differences: chunkwise backward', () => {
  it('mLSTMexp without states (2 chunks)', () => {
    const { x, offset } = setup(3);
    const fwd = (p: Params) => mlstmChunkwise({ q: p.q, k: p.k, v: p.v, i: p.i, f: p.f, chunkSize: L }).h;
    const { dh } = lnLoss(fwd(x), offset);
    const g = mlstmChunkwiseBackward({ ...x, dh, chunkSize: L });
    const num = numericGrad(x, SEQ, (p) => lnLoss(fwd(p), offset).loss);
    for (const k of SEQ) expectClose(g[`d${k}`], num[k], FD_TOL, `d${k}`);
    expect(g.dcInitial).toBeUndefined();
  });

  /**
   * Loss `Σ (LN(h) + o)² + ⟨W, C_last⟩`, with initial states and `dcLast = W`. The returned
   * `c` is stabilised by `m_S`, which the backward holds constant like every `m` (§4.1); the loss
   * therefore reads it as `C_last · e^{m_S − m̄}` (m̄ = m_S at the unperturbed point), i.e. the
   * state in fixed units. For the sig variant `m ≡ 0` and this is just `⟨W, C_last⟩`.
   */
  for (const gate of ['exp', 'sig'] as const) {
    for (const normalize of gate === 'exp' ? [true] : [true, false]) {
      for (const correct of [true, false]) {
        it(`${gate}${gate === 'sig' ? `, normalize = ${normalize}` : ''}: initial states + dcLast, correctDfForDcLast = ${correct}`, () => {
          const { x, offset, c0, n0, m0, w } = setup(gate === 'exp' ? 4 : 5);
          const params: Params = { ...x, c0, n0, m0 };
          const fwd = (p: Params) => {
            const args = {
              q: p.q,
              k: p.k,
              v: p.v,
              i: p.i,
              f: p.f,
              cInitial: p.c0,
              nInitial: p.n0,
              mInitial: p.m0,
            };
            const r =
              gate === 'exp'
                ? mlstmChunkwise({ ...args, chunkSize: L, returnLastStates: true })
                : mlstmSigChunkwise({ ...args, chunkSize: L, normalize, returnLastStates: true });
            const last = r.lastStates as { c: Tensor; m?: Tensor };
            const m = last.m ? Float64Array.from(last.m.data) : new Float64Array(dims.B * dims.NH);
            return { h: r.h, c: r.lastStates!.c, m };
          };
          const base = fwd(params);
          const CS = dims.DHQK * dims.DHHV;
          const cTerm = (c: Tensor, m: Float64Array) => {
            let s = 0;
            for (let e = 0; e < c.data.length; e++)
              s += w.data[e] * c.data[e] * Math.exp(m[Math.floor(e / CS)] - base.m[Math.floor(e / CS)]);
            return s;
          };
          const loss = (p: Params) => {
            const r = fwd(p);
            return lnLoss(r.h, offset).loss + cTerm(r.c, r.m);
          };
          const { dh } = lnLoss(base.h, offset);
          const bwArgs = {
            ...x,
            cInitial: c0,
            nInitial: n0,
            mInitial: m0,
            dh,
            dcLast: w,
            chunkSize: L,
            correctDfForDcLast: correct,
          };
          const g =
            gate === 'exp'
              ? mlstmChunkwiseBackward(bwArgs)
              : mlstmSigChunkwiseBackward({ ...bwArgs, normalize });
          const num = numericGrad(params, [...SEQ, 'c0'], loss);
          for (const k of ['q', 'k', 'v', 'i'] as const) expectClose(g[`d${k}`], num[k], FD_TOL, `d${k}`);
          expectClose(g.dcInitial!, num.c0, FD_TOL, 'dcInitial');
          expect(Array.from(g.dnInitial!.data)).toEqual(new Array(dims.B * dims.NH * dims.DHQK).fill(0));
          if (gate === 'exp') expect(Array.from(g.dmInitial!.data)).toEqual([0, 0]);
          else expect(g.dmInitial).toBeUndefined();
          if (correct) {
            expectClose(g.df, num.f, FD_TOL, 'df (corrected)');
          } else {
            // upstream parity: df misses ⟨dC_last, C_last⟩·σ(−f̃_r) for every r (spec §4.5)
            const expected = Float64Array.from(num.f.data, (d, e) => {
              const bh = Math.floor(e / dims.S);
              let dot = 0;
              for (let a = 0; a < CS; a++) dot += w.data[bh * CS + a] * base.c.data[bh * CS + a];
              return d - dot * sigmoid(-x.f.data[e]);
            });
            expectClose(g.df, { shape: num.f.shape, data: expected }, FD_TOL, 'df (upstream, biased)');
            let bias = 0;
            for (let e = 0; e < expected.length; e++)
              bias = Math.max(bias, Math.abs(expected[e] - num.f.data[e]));
            expect(bias).toBeGreaterThan(1e-3); // the bias is real in this set-up
          }
        });
      }
    }
  }
});
