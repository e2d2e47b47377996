/**
 * Packed variable-length sequences (`seqStarts`): packed == separate calls, against oracles that do
 * not share the packed code path — the recurrent form per sequence (forward, last states; any
 * length) and the chunkwise backward per sequence with one chunk of the whole sequence.
 *
 * Tolerance SAME_MATH = 1e-12 (|Δ| ≤ tol · max|expected|): chunkwise vs recurrent and chunk size
 * vs chunk size only change the float64 summation order (observed ~1e-15).
 */
import { describe, expect, it } from 'vitest';
import {
  MlstmArgumentError,
  mlstmChunkwiseBackward,
  mlstmChunkwisePacked,
  mlstmChunkwisePackedBackward,
  mlstmRecurrentSequence,
  mlstmSigChunkwiseBackward,
  mlstmSigRecurrentSequence,
  sliceAxis,
  type Tensor,
} from '../src/index.js';
import { Rng, randn, randomMlstmInputs } from '../src/testing/index.js';
import { expectClose } from './helpers.js';

const SAME_MATH = 1e-12;

interface Case {
  lengths: number[];
  gate: 'exp' | 'sig';
  normalize?: boolean;
  states: boolean;
  dcLast: boolean;
  chunkSize: number;
  DHQK: number;
  DHHV: number;
  NH: number;
}

const cases: Case[] = [
  { lengths: [5], gate: 'exp', states: false, dcLast: false, chunkSize: 4, DHQK: 3, DHHV: 2, NH: 1 },
  { lengths: [1, 7, 16, 3], gate: 'exp', states: true, dcLast: true, chunkSize: 4, DHQK: 5, DHHV: 3, NH: 2 },
  {
    lengths: [13, 1, 1, 20],
    gate: 'exp',
    states: false,
    dcLast: true,
    chunkSize: 8,
    DHQK: 4,
    DHHV: 7,
    NH: 3,
  },
  { lengths: [9, 32, 2], gate: 'sig', states: true, dcLast: true, chunkSize: 8, DHQK: 6, DHHV: 4, NH: 2 },
  {
    lengths: [3, 11],
    gate: 'sig',
    normalize: false,
    states: true,
    dcLast: false,
    chunkSize: 4,
    DHQK: 2,
    DHHV: 5,
    NH: 1,
  },
];

function problem(c: Case, seed: number) {
  const rng = new Rng(seed);
  const T = c.lengths.reduce((a, b) => a + b, 0);
  const N = c.lengths.length;
  const x = randomMlstmInputs(rng, { B: 1, NH: c.NH, S: T, DHQK: c.DHQK, DHHV: c.DHHV }, { fOffset: 2 });
  const seqStarts = new Int32Array(N + 1);
  c.lengths.forEach((len, s) => {
    seqStarts[s + 1] = seqStarts[s] + len;
  });
  const states = c.states
    ? {
        cInitial: randn(rng, [N, c.NH, c.DHQK, c.DHHV], { scale: 0.5 }),
        nInitial: randn(rng, [N, c.NH, c.DHQK], { scale: 0.5 }),
        mInitial: randn(rng, [N, c.NH, 1]),
      }
    : {};
  const dh = randn(rng, [1, c.NH, T, c.DHHV]);
  const dcLast = c.dcLast ? randn(rng, [N, c.NH, c.DHQK, c.DHHV], { scale: 0.1 }) : undefined;
  return { x, seqStarts, states, dh, dcLast, N };
}

const one = (t: Tensor | undefined, s: number) => (t ? sliceAxis(t, 0, s, s + 1) : undefined);

describe('packed chunkwise == separate calls (core-reference)', () => {
  for (const [n, c] of cases.entries()) {
    const name = `${c.gate}${c.normalize === false ? ' (no normaliser)' : ''} lengths [${c.lengths}] L${c.chunkSize}${c.states ? ' +states' : ''}${c.dcLast ? ' +dcLast' : ''}`;
    it(name, () => {
      const p = problem(c, 100 + n);
      const common = { ...p.x, ...p.states, seqStarts: p.seqStarts, chunkSize: c.chunkSize, gate: c.gate };
      const fw = mlstmChunkwisePacked({ ...common, normalize: c.normalize, returnLastStates: true });
      const bw = mlstmChunkwisePackedBackward({
        ...common,
        normalize: c.normalize,
        dh: p.dh,
        dcLast: p.dcLast,
      });
      for (let s = 0; s < p.N; s++) {
        const [a, b] = [p.seqStarts[s], p.seqStarts[s + 1]];
        const take = (t: Tensor) => sliceAxis(t, 2, a, b);
        const xs = { q: take(p.x.q), k: take(p.x.k), v: take(p.x.v), i: take(p.x.i), f: take(p.x.f) };
        const init = c.states
          ? {
              cInitial: one(p.states.cInitial, s),
              nInitial: one(p.states.nInitial, s),
              mInitial: one(p.states.mInitial, s),
            }
          : {};
        const rec =
          c.gate === 'exp'
            ? mlstmRecurrentSequence({ ...xs, ...init, returnLastStates: true })
            : mlstmSigRecurrentSequence({ ...xs, ...init, normalize: c.normalize, returnLastStates: true });
        const tag = `${name} seq ${s}`;
        expectClose(take(fw.h), rec.h, SAME_MATH, `${tag} h`);
        const last = fw.lastStates as unknown as Record<string, Tensor>;
        for (const [key, t] of Object.entries(rec.lastStates as unknown as Record<string, Tensor>)) {
          expectClose(one(last[key], s)!, t, SAME_MATH, `${tag} last ${key}`);
        }
        // one chunk of the whole sequence: a chunk size the packed path never picks for len > L
        const args = { ...xs, ...init, chunkSize: b - a, dh: take(p.dh), dcLast: one(p.dcLast, s) };
        const g =
          c.gate === 'exp'
            ? mlstmChunkwiseBackward(args)
            : mlstmSigChunkwiseBackward({ ...args, normalize: c.normalize });
        for (const key of ['dq', 'dk', 'dv', 'di', 'df'] as const) {
          expectClose(take(bw[key]), g[key], SAME_MATH, `${tag} ${key}`);
        }
        if (c.states) {
          expectClose(one(bw.dcInitial, s)!, g.dcInitial!, SAME_MATH, `${tag} dcInitial`);
          expect(bw.dnInitial!.shape).toEqual([p.N, c.NH, c.DHQK]);
        }
      }
    });
  }
});

describe('packed chunkwise: bad input → MlstmArgumentError naming the argument, before any work', () => {
  const c = cases[1];
  const p = problem(c, 7);
  const T = p.seqStarts[p.N];
  const base = { ...p.x, ...p.states, chunkSize: 4 };
  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ['offsets not starting at 0', { seqStarts: Int32Array.from([1, 8, T]) }, 'seqStarts', /starting at 0/],
    ['offsets not increasing', { seqStarts: Int32Array.from([0, 8, 8, T]) }, 'seqStarts', /increasing/],
    ['offsets decreasing', { seqStarts: Int32Array.from([0, 9, 3, T]) }, 'seqStarts', /increasing/],
    [
      'offsets not ending at T',
      { seqStarts: Int32Array.from([0, 1, 8, 24, T - 1]) },
      'seqStarts',
      /token count/,
    ],
    ['one offset', { seqStarts: Int32Array.from([0]) }, 'seqStarts', /N \+ 1/],
    ['not integers', { seqStarts: [0, 1.5, T] }, 'seqStarts', /integer/],
    [
      'initial states of another count',
      { seqStarts: Int32Array.from([0, 8, T]) },
      'seqStarts',
      /initial states/,
    ],
    [
      'B = 2',
      {
        seqStarts: p.seqStarts,
        ...randomMlstmInputs(new Rng(1), { B: 2, NH: c.NH, S: T, DHQK: 5, DHHV: 3 }),
      },
      'q',
      /B = 1/,
    ],
  ];
  for (const [what, over, argument, message] of bad) {
    for (const fn of [mlstmChunkwisePacked, mlstmChunkwisePackedBackward]) {
      it(`${fn.name}: ${what}`, () => {
        let err: unknown;
        try {
          fn({ ...base, dh: p.dh, ...over } as never);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(MlstmArgumentError);
        expect((err as MlstmArgumentError).argument).toBe(argument);
        expect((err as Error).message).toMatch(message);
      });
    }
  }
});
