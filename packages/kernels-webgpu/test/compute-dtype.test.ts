/**
 * `computeDtype: 'f16'` with f32 inputs (the kernels run in f16, results come back in f32) and the
 * cast kernel behind it. Tolerances: those of the f16 storage path (tfla-sweep.test.ts) against
 * the float64 reference on f16-rounded inputs — the conversion rounds q, k, v, dh to f16 exactly as
 * an f16 upload does, so the only further error is f16's own.
 */
import { mlstmChunkwise, mlstmChunkwiseBackward } from '@mlstm/core-reference';
import { Rng } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import {
  type GpuTensor,
  KernelArgumentError,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  mlstmSigChunkwiseXlChunk,
  releaseSaved,
  roundToF16,
} from '../src/index.js';
import { castTensor } from '../src/util/cast.js';
import { f16TestName, openGpuContext, readTensor, uploadTensor } from './helpers.js';
import { expectNear, randomProblem, roundedToF16 } from './tfla-helpers.js';

const ctx = await openGpuContext();
const TOL = { fw: 2e-3, bw: 1e-2 };
const d = { B: 2, NH: 2, S: 48, DHQK: 16, DHHV: 24 };
const p = randomProblem(new Rng(31), d, { states: true });
const r = roundedToF16(p);

describe.skipIf(!ctx.features.shaderF16)(f16TestName(ctx, "computeDtype 'f16' with f32 inputs"), () => {
  const gpuArgs = () => ({
    q: uploadTensor(ctx, p.x.q),
    k: uploadTensor(ctx, p.x.k),
    v: uploadTensor(ctx, p.x.v),
    i: uploadTensor(ctx, p.x.i),
    f: uploadTensor(ctx, p.x.f),
    cInitial: uploadTensor(ctx, p.states!.cInitial),
    nInitial: uploadTensor(ctx, p.states!.nInitial),
    mInitial: uploadTensor(ctx, p.states!.mInitial),
    chunkSize: 16,
  });
  const release = (o: object) => {
    for (const t of Object.values(o))
      if (t && typeof (t as GpuTensor).release === 'function') (t as GpuTensor).release();
  };

  it('GPU f32 in → f32 out, within the f16 tolerances of the reference on f16-rounded inputs; no leak', async () => {
    const live = ctx.pool.stats.liveBytes;
    const a = gpuArgs();
    const dh = uploadTensor(ctx, p.dh);
    const fw = await mlstmChunkwiseXlChunk(ctx, {
      ...a,
      computeDtype: 'f16',
      keepSaved: true,
      returnLastStates: true,
    });
    expect(fw.h.dtype).toBe('f32');
    const ref = mlstmChunkwise({ ...r.x, ...r.states, chunkSize: 16, returnLastStates: true });
    expectNear(await readTensor(ctx, fw.h), ref.h, TOL.fw, 'h');
    expectNear(await readTensor(ctx, fw.lastStates!.c), ref.lastStates!.c, TOL.fw, 'last c');
    const g = await mlstmChunkwiseXlChunkBackward(ctx, { ...a, dh, computeDtype: 'f16', saved: fw.saved });
    const refB = mlstmChunkwiseBackward({ ...r.x, ...r.states, chunkSize: 16, dh: r.dh });
    for (const n of ['dq', 'dk', 'dv', 'di'] as const) {
      expect(g[n].dtype).toBe('f32');
      expectNear(await readTensor(ctx, g[n]), refB[n], TOL.bw, n);
    }
    releaseSaved(fw.saved!);
    release(fw.lastStates!);
    fw.h.release();
    release(g);
    release(a);
    dh.release();
    expect(ctx.pool.stats.liveBytes).toBe(live);
  });

  it('gives the same results as the same call on f16 tensors', async () => {
    const [i, f] = [uploadTensor(ctx, p.x.i), uploadTensor(ctx, p.x.f)];
    const [q, k, v] = [uploadTensor(ctx, p.x.q), uploadTensor(ctx, p.x.k), uploadTensor(ctx, p.x.v)];
    const viaCast = await mlstmSigChunkwiseXlChunk(ctx, {
      q,
      k,
      v,
      i,
      f,
      chunkSize: 16,
      computeDtype: 'f16',
    });
    const [q16, k16, v16] = [p.x.q, p.x.k, p.x.v].map((t) => uploadTensor(ctx, t, 'f16'));
    const direct = await mlstmSigChunkwiseXlChunk(ctx, { q: q16, k: k16, v: v16, i, f, chunkSize: 16 });
    expect(Array.from((await readTensor(ctx, viaCast.h)).data)).toEqual(
      Array.from((await readTensor(ctx, direct.h)).data),
    );
    for (const t of [viaCast.h, direct.h, q, k, v, q16, k16, v16, i, f]) t.release();
  });

  it('CPU inputs run in f16 and come back as f32 arrays', async () => {
    const out = await mlstmChunkwiseXlChunk(ctx, { ...p.x, chunkSize: 16, computeDtype: 'f16' });
    expect(out.h.data).toBeInstanceOf(Float32Array);
    expectNear(out.h, mlstmChunkwise({ ...r.x, chunkSize: 16 }).h, TOL.fw, 'h (CPU inputs)');
  });

  it('saved tensors of an f16 run do not serve an f32 backward (typed error)', async () => {
    const a = gpuArgs();
    const dh = uploadTensor(ctx, p.dh);
    const fw = await mlstmChunkwiseXlChunk(ctx, { ...a, computeDtype: 'f16', keepSaved: true });
    const err = await mlstmChunkwiseXlChunkBackward(ctx, { ...a, dh, saved: fw.saved }).catch((e) => e);
    expect(err).toBeInstanceOf(KernelArgumentError);
    expect((err as KernelArgumentError).argument).toBe('saved');
    releaseSaved(fw.saved!);
    fw.h.release();
    release(a);
    dh.release();
  });

  it('rejects other values, and f32 compute for f16 inputs, before any GPU work', async () => {
    for (const [x, computeDtype] of [
      [p.x, 'f64'],
      [{ ...p.x }, 'bf16'],
    ] as const) {
      const err = await mlstmChunkwiseXlChunk(ctx, {
        ...x,
        chunkSize: 16,
        computeDtype: computeDtype as never,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(KernelArgumentError);
      expect((err as KernelArgumentError).argument).toBe('computeDtype');
    }
    const q16 = uploadTensor(ctx, p.x.q, 'f16');
    const k16 = uploadTensor(ctx, p.x.k, 'f16');
    const v16 = uploadTensor(ctx, p.x.v, 'f16');
    const [i, f] = [uploadTensor(ctx, p.x.i), uploadTensor(ctx, p.x.f)];
    const created = ctx.pool.stats.buffersCreated;
    const err = await mlstmChunkwiseXlChunk(ctx, { q: q16, k: k16, v: v16, i, f, computeDtype: 'f32' }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(KernelArgumentError);
    expect((err as KernelArgumentError).argument).toBe('computeDtype');
    expect(ctx.pool.stats.buffersCreated).toBe(created);
    for (const t of [q16, k16, v16, i, f]) t.release();
  });
});

describe.skipIf(!ctx.features.shaderF16)(f16TestName(ctx, 'cast kernel'), () => {
  it('f32 → f16 rounds as an f16 upload does and clamps to ±65504; f16 → f32 is exact', async () => {
    const data = Float32Array.from([0, 1, -1, 1 / 3, 65504, 1e6, -1e6, 6e-8, 2.5e-5, 1234.567, -0.1]);
    const src = ctx.upload(data, [data.length]);
    const half = castTensor(ctx, src, 'f16');
    expect(half.dtype).toBe('f16');
    const expected = roundToF16(data.map((x) => Math.max(-65504, Math.min(65504, x))));
    expect(Array.from(await ctx.read(half))).toEqual(Array.from(expected));
    const back = castTensor(ctx, half, 'f32');
    expect(Array.from(await ctx.read(back))).toEqual(Array.from(expected));
    for (const t of [src, half, back]) t.release();
  });
});
