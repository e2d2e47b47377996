/**
 * Packed variable-length sequences (`seqStarts`) on the GPU against core-reference's packed
 * functions (defined there as separate per-sequence calls concatenated): outputs, per-sequence
 * last states and gradients, every sequence compared on its own slice, boundaries at any token.
 *
 * Tolerances: those of tfla-sweep.test.ts, for the same reasons (f32: 2e-4 forward, 5e-4
 * backward, relative to the largest expected magnitude of the sequence's slice; f16 storage:
 * 2e-3 / 1e-2 against a reference on f16-rounded inputs; df relative to the summed magnitudes
 * Σ|q·dq| + |k·dk| of the sequence, since it is a suffix sum of cancelling terms).
 */
import {
  mlstmChunkwisePacked,
  mlstmChunkwisePackedBackward,
  sliceAxis,
  type Tensor,
} from '@mlstm/core-reference';
import { Rng, randn } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import {
  KernelArgumentError,
  mlstmChunkwiseXlChunkPacked,
  mlstmChunkwiseXlChunkPackedBackward,
  mlstmRecurrentSequenceWebgpuPacked,
  mlstmSigChunkwiseXlChunkPacked,
  mlstmSigChunkwiseXlChunkPackedBackward,
} from '../src/index.js';
import { f16TestName, openGpuContext, readTensor, uploadTensor } from './helpers.js';
import { expectNear, type Problem, randomProblem, roundedToF16 } from './tfla-helpers.js';

const ctx = await openGpuContext();

const TOL = { f32: { fw: 2e-4, bw: 5e-4 }, f16: { fw: 2e-3, bw: 1e-2 } };

interface Case {
  gate: 'exp' | 'sig';
  normalize?: boolean;
  lengths: number[];
  chunkSize: number;
  NH: number;
  DHQK: number;
  DHHV: number;
  states: boolean;
  dcLast: boolean;
  dtype: 'f32' | 'f16';
  /** pass GpuTensors (GPU in → GPU out) instead of CPU tensors */
  gpuInputs?: boolean;
}

const cases: Case[] = [
  {
    gate: 'exp',
    lengths: [5],
    chunkSize: 16,
    NH: 1,
    DHQK: 4,
    DHHV: 3,
    states: false,
    dcLast: false,
    dtype: 'f32',
  },
  {
    gate: 'exp',
    lengths: [1, 37, 16, 9, 50],
    chunkSize: 16,
    NH: 2,
    DHQK: 5,
    DHHV: 7,
    states: true,
    dcLast: true,
    dtype: 'f32',
  },
  {
    gate: 'exp',
    lengths: [33, 33, 2, 64, 17],
    chunkSize: 32,
    NH: 3,
    DHQK: 8,
    DHHV: 16,
    states: true,
    dcLast: false,
    dtype: 'f32',
    gpuInputs: true,
  },
  {
    gate: 'sig',
    lengths: [20, 3, 45],
    chunkSize: 16,
    NH: 2,
    DHQK: 16,
    DHHV: 8,
    states: true,
    dcLast: true,
    dtype: 'f32',
  },
  {
    gate: 'sig',
    normalize: false,
    lengths: [7, 40],
    chunkSize: 16,
    NH: 1,
    DHQK: 3,
    DHHV: 5,
    states: true,
    dcLast: false,
    dtype: 'f32',
  },
  {
    gate: 'exp',
    lengths: [30, 1, 70],
    chunkSize: 32,
    NH: 2,
    DHQK: 16,
    DHHV: 16,
    states: true,
    dcLast: true,
    dtype: 'f16',
  },
  {
    gate: 'sig',
    lengths: [12, 50],
    chunkSize: 16,
    NH: 2,
    DHQK: 8,
    DHHV: 16,
    states: false,
    dcLast: true,
    dtype: 'f16',
  },
];

function packedProblem(c: Case, seed: number) {
  const rng = new Rng(seed);
  const T = c.lengths.reduce((a, b) => a + b, 0);
  const N = c.lengths.length;
  let p: Problem = randomProblem(rng, { B: 1, NH: c.NH, S: T, DHQK: c.DHQK, DHHV: c.DHHV });
  if (c.dtype === 'f16') p = roundedToF16(p);
  const seqStarts = new Int32Array(N + 1);
  c.lengths.forEach((len, s) => {
    seqStarts[s + 1] = seqStarts[s] + len;
  });
  const states = c.states
    ? {
        cInitial: randn(rng, [N, c.NH, c.DHQK, c.DHHV], { kind: 'f32', scale: 0.5 }),
        nInitial: randn(rng, [N, c.NH, c.DHQK], { kind: 'f32', scale: 0.5 }),
        mInitial: randn(rng, [N, c.NH, 1], { kind: 'f32' }),
      }
    : {};
  const dcLast = c.dcLast ? randn(rng, [N, c.NH, c.DHQK, c.DHHV], { kind: 'f32', scale: 0.1 }) : undefined;
  return { p, seqStarts, states, dcLast, N };
}

/** Σ_t Σ_d (|q·dq| + |k·dk|) of one sequence slice, maximised over heads. */
function dfScale(q: Tensor, k: Tensor, dq: Tensor, dk: Tensor): number {
  const [, NH, S, D] = q.shape;
  let best = 0;
  for (let h = 0; h < NH; h++) {
    let s = 0;
    for (let e = h * S * D; e < (h + 1) * S * D; e++)
      s += Math.abs(q.data[e] * dq.data[e]) + Math.abs(k.data[e] * dk.data[e]);
    best = Math.max(best, s);
  }
  return best;
}

async function toCpu(t: unknown): Promise<Tensor> {
  if (t && typeof t === 'object' && 'buffer' in t) {
    const g = t as Parameters<typeof readTensor>[1];
    const r = await readTensor(ctx, g);
    g.release();
    return r;
  }
  return t as Tensor;
}

async function check(c: Case, seed: number) {
  const { p, seqStarts, states, dcLast, N } = packedProblem(c, seed);
  const tol = TOL[c.dtype];
  const common = {
    ...p.x,
    ...states,
    seqStarts,
    chunkSize: c.chunkSize,
    gate: c.gate,
    normalize: c.normalize,
  };
  const ref = mlstmChunkwisePacked({ ...common, returnLastStates: true });
  const refG = mlstmChunkwisePackedBackward({ ...common, dh: p.dh, dcLast });
  const [fw, bw] =
    c.gate === 'exp'
      ? [mlstmChunkwiseXlChunkPacked, mlstmChunkwiseXlChunkPackedBackward]
      : [mlstmSigChunkwiseXlChunkPacked, mlstmSigChunkwiseXlChunkPackedBackward];
  const live = ctx.pool.stats.liveBytes;
  const up = (t: Tensor | undefined, dtype: 'f32' | 'f16' = 'f32') =>
    t ? uploadTensor(ctx, t, dtype) : undefined;
  const gpuIn = c.gpuInputs
    ? {
        q: up(p.x.q, c.dtype)!,
        k: up(p.x.k, c.dtype)!,
        v: up(p.x.v, c.dtype)!,
        i: up(p.x.i)!,
        f: up(p.x.f)!,
        cInitial: up(states.cInitial),
        nInitial: up(states.nInitial),
        mInitial: up(states.mInitial),
        dh: up(p.dh, c.dtype)!,
        dcLast: up(dcLast),
      }
    : undefined;
  const args = {
    ...(gpuIn ?? { ...p.x, ...states, dh: p.dh, dcLast }),
    seqStarts,
    chunkSize: c.chunkSize,
    normalize: c.normalize,
    ...(gpuIn ? {} : { dtype: c.dtype }),
  };
  const out = await fw(ctx, { ...args, returnLastStates: true } as never);
  const g = await bw(ctx, args as never);
  const h = await toCpu(out.h);
  const last: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(out.lastStates ?? {})) last[key] = await toCpu(t);
  const grads: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(g)) grads[key] = await toCpu(t);
  if (gpuIn) {
    for (const t of Object.values(gpuIn)) t?.release();
    expect(ctx.pool.stats.liveBytes, 'no GPU memory left behind').toBe(live);
  }
  const refLast = ref.lastStates as unknown as Record<string, Tensor>;
  expect(Object.keys(last).sort()).toEqual(Object.keys(refLast).sort());
  for (let s = 0; s < N; s++) {
    const take = (t: Tensor) => sliceAxis(t, 2, seqStarts[s], seqStarts[s + 1]);
    const row = (t: Tensor) => sliceAxis(t, 0, s, s + 1);
    const tag = `seq ${s} (${c.lengths[s]} tokens)`;
    expectNear(take(h), take(ref.h), tol.fw, `${tag} h`);
    for (const [key, t] of Object.entries(refLast))
      expectNear(row(last[key]), row(t), tol.fw, `${tag} last ${key}`);
    for (const key of ['dq', 'dk', 'dv', 'di', 'df'] as const) {
      const e = take(refG[key]);
      const scale = key === 'df' ? dfScale(take(p.x.q), take(p.x.k), take(refG.dq), take(refG.dk)) : 0;
      expectNear(take(grads[key]), e, tol.bw, `${tag} ${key}`, scale);
    }
    if (c.states) expectNear(row(grads.dcInitial), row(refG.dcInitial!), tol.bw, `${tag} dcInitial`);
  }
  if (c.states) expect(grads.dnInitial.shape).toEqual([N, c.NH, c.DHQK]);
}

describe('packed xl_chunk / siging (seqStarts) == per-sequence calls', () => {
  for (const [n, c] of cases.entries()) {
    const name = `${c.gate}${c.normalize === false ? ' no-norm' : ''} ${c.dtype} lengths [${c.lengths}] L${c.chunkSize} NH${c.NH} QK${c.DHQK} V${c.DHHV}${c.states ? ' +states' : ''}${c.dcLast ? ' +dcLast' : ''}${c.gpuInputs ? ' (GPU tensors)' : ''}`;
    const f16 = c.dtype === 'f16';
    it.skipIf(f16 && !ctx.features.shaderF16)(f16 ? f16TestName(ctx, name) : name, () => check(c, 500 + n));
  }
});

describe('packed: bad seqStarts → KernelArgumentError naming seqStarts, before any GPU work', () => {
  const { p, states } = packedProblem(cases[1], 3);
  const T = p.d.S;
  const bad: [string, unknown][] = [
    ['not starting at 0', Int32Array.from([2, 10, T])],
    ['not increasing', Int32Array.from([0, 10, 10, T])],
    ['not ending at T', Int32Array.from([0, 1, 38, 54, 63, T + 1])],
    ['initial states of another count', Int32Array.from([0, 10, T])],
  ];
  for (const [what, seqStarts] of bad) {
    it(what, async () => {
      const live = ctx.pool.stats.liveBytes;
      await expect(
        mlstmChunkwiseXlChunkPacked(ctx, { ...p.x, ...states, seqStarts } as never),
      ).rejects.toSatisfy((e) => e instanceof KernelArgumentError && e.argument === 'seqStarts');
      expect(ctx.pool.stats.liveBytes).toBe(live);
    });
  }
});

describe('packed recurrent sequence kernel (native_sequence__webgpu) == per-sequence calls', () => {
  const seqCases: Case[] = [
    {
      gate: 'exp',
      lengths: [1, 9, 4, 13],
      chunkSize: 1,
      NH: 2,
      DHQK: 5,
      DHHV: 3,
      states: true,
      dcLast: false,
      dtype: 'f32',
    },
    {
      gate: 'exp',
      lengths: [6, 2],
      chunkSize: 1,
      NH: 1,
      DHQK: 8,
      DHHV: 8,
      states: false,
      dcLast: false,
      dtype: 'f32',
      gpuInputs: true,
    },
  ];
  for (const [n, c] of seqCases.entries()) {
    it(`lengths [${c.lengths}] NH${c.NH} QK${c.DHQK} V${c.DHHV}${c.states ? ' +states' : ''}${c.gpuInputs ? ' (GPU tensors)' : ''}`, async () => {
      const { p, seqStarts, states, N } = packedProblem(c, 900 + n);
      const ref = mlstmChunkwisePacked({
        ...p.x,
        ...states,
        seqStarts,
        chunkSize: 4,
        returnLastStates: true,
      });
      const live = ctx.pool.stats.liveBytes;
      const up = (t: Tensor | undefined) => (t ? uploadTensor(ctx, t) : undefined);
      const ins = c.gpuInputs
        ? { q: up(p.x.q)!, k: up(p.x.k)!, v: up(p.x.v)!, i: up(p.x.i)!, f: up(p.x.f)! }
        : { ...p.x, ...states };
      const out = await mlstmRecurrentSequenceWebgpuPacked(ctx, {
        ...ins,
        seqStarts,
        returnLastStates: true,
      } as never);
      const h = await toCpu(out.h);
      const last: Record<string, Tensor> = {};
      for (const [key, t] of Object.entries(out.lastStates ?? {})) last[key] = await toCpu(t);
      if (c.gpuInputs) {
        for (const t of Object.values(ins)) (t as { release(): void }).release();
        expect(ctx.pool.stats.liveBytes, 'no GPU memory left behind').toBe(live);
      }
      const refLast = ref.lastStates as unknown as Record<string, Tensor>;
      for (let s = 0; s < N; s++) {
        const take = (t: Tensor) => sliceAxis(t, 2, seqStarts[s], seqStarts[s + 1]);
        const row = (t: Tensor) => sliceAxis(t, 0, s, s + 1);
        expectNear(take(h), take(ref.h), TOL.f32.fw, `seq ${s} h`);
        for (const [key, t] of Object.entries(refLast))
          expectNear(row(last[key]), row(t), TOL.f32.fw, `seq ${s} last ${key}`);
      }
    });
  }
});
