/**
 * `MlstmBackend.forward({ …, seqStarts })`: packed sequences of arbitrary lengths in the train
 * (forward + backward) and inference modes equal separate per-sequence calls of core-reference
 * (each sequence as one chunk of its own length, or the recurrent loop for the inference states).
 *
 * Tolerances (`max|Δ| ≤ tol · max|expected|`, per sequence): CPU kernel 1e-12 (float64, only the
 * evaluation order differs); WebGPU kernels in f32: those of kernels-webgpu's tfla-sweep test —
 * 2e-4 forward, 5e-4 backward (df: a suffix sum of cancelling terms, compared with 2e-3).
 */
import {
  MlstmArgumentError,
  mlstmChunkwiseBackward,
  mlstmRecurrentSequence,
  sliceAxis,
  type Tensor,
  toFloat32,
} from '@mlstm/core-reference';
import { Rng, randn, randomMlstmInputs } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import {
  type MlstmBackendConfig,
  MlstmBackend,
  type MlstmTrainResult,
  type TensorLike,
} from '../src/index.js';
import { cpu, expectClose, openGpuContext, upload } from './helpers.js';

const ctx = await openGpuContext();

const KINDS: Record<string, { config: Partial<MlstmBackendConfig>; fw: number; bw: number; df: number }> = {
  cpu: { config: {}, fw: 1e-12, bw: 1e-12, df: 1e-12 },
  webgpu: { config: { chunkwiseKernel: 'chunkwise--webgpu_xl_chunk' }, fw: 2e-4, bw: 5e-4, df: 2e-3 },
};

const lengths = [9, 1, 20, 16, 3];
const NH = 2;
const DHQK = 5;
const DHHV = 6;
const N = lengths.length;
const T = lengths.reduce((a, b) => a + b, 0);
const seqStarts = new Int32Array(N + 1);
lengths.forEach((len, s) => {
  seqStarts[s + 1] = seqStarts[s] + len;
});

function problem(seed: number) {
  const rng = new Rng(seed);
  const raw = randomMlstmInputs(rng, { B: 1, NH, S: T, DHQK, DHHV });
  const x = {
    q: toFloat32(raw.q),
    k: toFloat32(raw.k),
    v: toFloat32(raw.v),
    i: toFloat32(raw.i),
    f: toFloat32(raw.f),
  };
  const states = {
    cInitial: randn(rng, [N, NH, DHQK, DHHV], { kind: 'f32', scale: 0.5 }),
    nInitial: randn(rng, [N, NH, DHQK], { kind: 'f32', scale: 0.5 }),
    mInitial: randn(rng, [N, NH, 1], { kind: 'f32' }),
  };
  const dh = randn(rng, [1, NH, T, DHHV], { kind: 'f32' });
  const dcLast = randn(rng, [N, NH, DHQK, DHHV], { kind: 'f32', scale: 0.1 });
  return { x, states, dh, dcLast };
}

const take = (t: Tensor, s: number) => sliceAxis(t, 2, seqStarts[s], seqStarts[s + 1]);
const row = (t: Tensor, s: number) => sliceAxis(t, 0, s, s + 1);

describe.each(Object.entries(KINDS))('%s kernel: packed forward', (_kind, { config, fw, bw, df }) => {
  it('train mode: h, last states and gradients == per-sequence calls (lengths 9, 1, 20, 16, 3; chunk 8)', async () => {
    const p = problem(1);
    const b = new MlstmBackend({ ...config, mode: 'train', chunkSize: 8 }, { device: ctx });
    const r = (await b.forward({
      ...p.x,
      ...p.states,
      seqStarts,
      returnLastStates: true,
    })) as MlstmTrainResult<TensorLike>;
    const g = await r.backward(p.dh, { dcLast: p.dcLast });
    const h = await cpu(ctx, r.h);
    for (let s = 0; s < N; s++) {
      const xs = {
        q: take(p.x.q, s),
        k: take(p.x.k, s),
        v: take(p.x.v, s),
        i: take(p.x.i, s),
        f: take(p.x.f, s),
      };
      const init = {
        cInitial: row(p.states.cInitial, s),
        nInitial: row(p.states.nInitial, s),
        mInitial: row(p.states.mInitial, s),
      };
      const rec = mlstmRecurrentSequence({ ...xs, ...init, returnLastStates: true });
      expectClose(take(h, s), rec.h, fw, `seq ${s} h`);
      for (const key of ['c', 'n', 'm'] as const) {
        const got = await cpu(ctx, r.lastStates![key]!);
        expectClose(row(got, s), rec.lastStates![key], fw, `seq ${s} last ${key}`);
      }
      const ref = mlstmChunkwiseBackward({
        ...xs,
        ...init,
        chunkSize: lengths[s],
        dh: take(p.dh, s),
        dcLast: row(p.dcLast, s),
      });
      for (const key of ['dq', 'dk', 'dv', 'di', 'df'] as const) {
        expectClose(take(await cpu(ctx, g[key]), s), ref[key], key === 'df' ? df : bw, `seq ${s} ${key}`);
      }
      expectClose(row(await cpu(ctx, g.dcInitial!), s), ref.dcInitial!, bw, `seq ${s} dcInitial`);
    }
    await expect(r.backward(p.dh)).rejects.toBeInstanceOf(MlstmArgumentError);
  });

  it('inference mode on GPU tensors: h and last states (N, NH, …) == per-sequence recurrent loops', async () => {
    const p = problem(2);
    const b = new MlstmBackend({ ...config, mode: 'inference', chunkSize: 8 }, { device: ctx });
    const gx = Object.fromEntries(Object.entries(p.x).map(([k, t]) => [k, upload(ctx, t)]));
    const live = ctx.pool.stats.liveBytes;
    const r = await b.forward({ ...(gx as Record<'q' | 'k' | 'v' | 'i' | 'f', TensorLike>), seqStarts });
    expect(r.mode).toBe('inference');
    const h = await cpu(ctx, r.h, true);
    const last = r.lastStates as Record<string, TensorLike>;
    const states: Record<string, Tensor> = {};
    for (const key of ['c', 'n', 'm']) states[key] = await cpu(ctx, last[key], true);
    expect(ctx.pool.stats.liveBytes).toBe(live);
    for (const t of Object.values(gx)) t.release();
    expect(states.c.shape).toEqual([N, NH, DHQK, DHHV]);
    // GPU tensors out: the CPU kernel's float64 results are stored as f32 (2^-24 ≈ 6e-8 relative)
    const tol = Math.max(fw, 1e-6);
    for (let s = 0; s < N; s++) {
      const xs = {
        q: take(p.x.q, s),
        k: take(p.x.k, s),
        v: take(p.x.v, s),
        i: take(p.x.i, s),
        f: take(p.x.f, s),
      };
      const rec = mlstmRecurrentSequence({ ...xs, returnLastStates: true });
      expectClose(take(h, s), rec.h, tol, `seq ${s} h`);
      for (const key of ['c', 'n', 'm'] as const)
        expectClose(row(states[key], s), rec.lastStates![key], tol, `seq ${s} last ${key}`);
    }
  });
});

describe('packed forward: bad input → MlstmArgumentError before any work', () => {
  const p = problem(3);
  const b = new MlstmBackend({ mode: 'train', chunkSize: 8 });
  const cases: [string, Record<string, unknown>, string][] = [
    ['offsets not starting at 0', { seqStarts: Int32Array.from([1, 10, T]) }, 'seqStarts'],
    ['offsets not increasing', { seqStarts: Int32Array.from([0, 10, 5, T]) }, 'seqStarts'],
    ['offsets not ending at T', { seqStarts: Int32Array.from([0, 10, T - 1]) }, 'seqStarts'],
    ['initial states of another count', { ...p.states, seqStarts: Int32Array.from([0, 10, T]) }, 'seqStarts'],
    ['B > 1', { seqStarts, q: randn(new Rng(1), [2, NH, T, DHQK], { kind: 'f32' }) }, 'q'],
  ];
  for (const [what, over, argument] of cases) {
    it(what, async () => {
      await expect(b.forward({ ...p.x, ...over } as never)).rejects.toSatisfy(
        (e) => e instanceof MlstmArgumentError && e.argument === argument,
      );
    });
  }
  it('a kernel without packed support', async () => {
    const lim = new MlstmBackend({
      mode: 'train',
      chunkwiseKernel: 'chunkwise--webgpu_limit_chunk',
      chunkSize: 8,
    });
    await expect(lim.forward({ ...p.x, seqStarts })).rejects.toSatisfy(
      (e) => e instanceof MlstmArgumentError && e.argument === 'seqStarts',
    );
  });
});
