/**
 * The repository's "main job" for now: runs every reference form on a seeded demo input and prints
 * shapes, a checksum per output, the largest difference between the forms, and timings.
 *
 * Run with `pnpm demo` (builds this package, then `node packages/core-reference/dist/demo.js`).
 */
import { mlstmChunkwiseArbitraryLength } from './arbitrary-length.js';
import { mlstmChunkwise } from './chunkwise.js';
import { mlstmChunkwiseBackward } from './chunkwise-backward.js';
import { mlstmParallel, mlstmParallelBackward } from './parallel.js';
import { mlstmRecurrentSequence } from './recurrent.js';
import { mlstmSigChunkwise } from './siging/chunkwise.js';
import { mlstmSigParallel } from './siging/parallel.js';
import { mlstmSigRecurrentSequence } from './siging/recurrent.js';
import { type Tensor, sliceAxis } from './tensor.js';
import { Rng, randn, randomMlstmInputs } from './testing/random.js';

const dims = { B: 1, NH: 2, S: 128, DHQK: 16, DHHV: 32 };
const chunkSize = 32;

/** Sum and sum of squares of a tensor: a cheap fingerprint to compare runs across machines. */
function checksum(t: Tensor): string {
  let s = 0;
  let s2 = 0;
  for (const x of t.data) {
    s += x;
    s2 += x * x;
  }
  return `sum ${s.toFixed(9).padStart(16)}  sumsq ${s2.toFixed(6).padStart(14)}`;
}

function maxDiff(a: Tensor, b: Tensor): number {
  let m = 0;
  for (let x = 0; x < a.data.length; x++) m = Math.max(m, Math.abs(a.data[x] - b.data[x]));
  return m;
}

/** Runs `fn` three times (the first run includes JIT warm-up) and returns the result and the best time. */
function timed<T>(fn: () => T): [T, number] {
  let best = Number.POSITIVE_INFINITY;
  let r: T | undefined;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    r = fn();
    best = Math.min(best, performance.now() - t0);
  }
  return [r as T, best];
}

const rows: [string, Tensor, number][] = [];
const x = randomMlstmInputs(new Rng(2026), dims, { fOffset: 3 });
const dh = randn(new Rng(7), [dims.B, dims.NH, dims.S, dims.DHHV]);

const [rec, tRec] = timed(() => mlstmRecurrentSequence({ ...x, returnLastStates: true }));
const [cw, tCw] = timed(() => mlstmChunkwise({ ...x, chunkSize, returnLastStates: true }));
const [par, tPar] = timed(() => mlstmParallel(x));
const [par0] = timed(() => mlstmParallel({ ...x, eps: 0 }));
const [rec0] = timed(() => mlstmRecurrentSequence({ ...x, eps: 0 }));
const ragged = { q: sliceAxis(x.q, 2, 0, 100), k: sliceAxis(x.k, 2, 0, 100), v: sliceAxis(x.v, 2, 0, 100) };
const raggedGates = { i: sliceAxis(x.i, 2, 0, 100), f: sliceAxis(x.f, 2, 0, 100) };
const [arb, tArb] = timed(() => mlstmChunkwiseArbitraryLength({ ...ragged, ...raggedGates, chunkSize: 64 }));
const recRagged = mlstmRecurrentSequence({ ...ragged, ...raggedGates, returnLastStates: true });
const [sigPar, tSigPar] = timed(() => mlstmSigParallel(x));
const [sigCw, tSigCw] = timed(() => mlstmSigChunkwise({ ...x, chunkSize }));
const [sigRec, tSigRec] = timed(() => mlstmSigRecurrentSequence(x));
const [gCw, tGCw] = timed(() => mlstmChunkwiseBackward({ ...x, dh, chunkSize }));
const [gPar, tGPar] = timed(() => mlstmParallelBackward({ ...x, dh }));

rows.push(
  ['recurrent h', rec.h, tRec],
  ['recurrent c_last', rec.lastStates!.c, 0],
  ['chunkwise h', cw.h, tCw],
  ['parallel (stablef) h', par.h, tPar],
  ['arbitrary-length h (S=100)', arb.h, tArb],
  ['siging parallel h', sigPar.h, tSigPar],
  ['siging chunkwise h', sigCw.h, tSigCw],
  ['siging recurrent h', sigRec.h, tSigRec],
  ['chunkwise bw dq', gCw.dq, tGCw],
  ['chunkwise bw df', gCw.df, 0],
  ['parallel bw dq', gPar.dq, tGPar],
);

console.log(
  `@mlstm/core-reference demo — B=${dims.B} NH=${dims.NH} S=${dims.S} DHQK=${dims.DHQK} DHHV=${dims.DHHV}, chunk ${chunkSize}, seed 2026, float64\n`,
);
for (const [name, t, ms] of rows) {
  console.log(
    `${name.padEnd(28)} (${t.shape.join(', ')})`.padEnd(50) +
      `${checksum(t)}  ${ms ? `${ms.toFixed(1)} ms` : ''}`,
  );
}
console.log('\nmax |Δ| between the forms');
const diffs: [string, number][] = [
  ['chunkwise vs recurrent (h)', maxDiff(cw.h, rec.h)],
  ['chunkwise vs recurrent (c_last)', maxDiff(cw.lastStates!.c, rec.lastStates!.c)],
  ['parallel vs recurrent (h, eps 1e-6: eps·e^m term)', maxDiff(par.h, rec.h)],
  ['parallel vs recurrent (h, eps 0)', maxDiff(par0.h, rec0.h)],
  ['arbitrary-length vs recurrent (h, S=100)', maxDiff(arb.h, recRagged.h)],
  ['siging chunkwise vs parallel (h)', maxDiff(sigCw.h, sigPar.h)],
  ['siging recurrent vs parallel (h)', maxDiff(sigRec.h, sigPar.h)],
  ['chunkwise bw vs parallel bw (dq)', maxDiff(gCw.dq, gPar.dq)],
  ['chunkwise bw vs parallel bw (df)', maxDiff(gCw.df, gPar.df)],
];
for (const [name, d] of diffs) console.log(`  ${name.padEnd(52)} ${d.toExponential(2)}`);
