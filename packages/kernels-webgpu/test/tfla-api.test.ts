/**
 * TFLA kernels: API behaviour — GPU-tensor path with saved tensors, pipeline caching, no leaks,
 * typed errors before any GPU work, the df correction option, and tile configurations other
 * than the heuristics' choice (the large tiles used on real GPUs).
 */
import { mlstmChunkwise, mlstmChunkwiseBackward } from '@mlstm/core-reference';
import { Rng } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import {
  type GpuTensor,
  getGpuContext,
  KernelArgumentError,
  mlstmChunkwiseLimitChunk,
  mlstmChunkwiseLimitChunkBackward,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  mlstmParallelLimitHeaddim,
  mlstmParallelLimitHeaddimBackward,
  mlstmSigChunkwiseXlChunk,
  mlstmSigChunkwiseXlChunkBackward,
  releaseSaved,
} from '../src/index.js';
import { openGpuContext, readTensor, withLimits } from './helpers.js';
import { expectNear, randomProblem } from './tfla-helpers.js';

const ctx = await openGpuContext();
const rng = new Rng(77);
const d = { B: 1, NH: 2, S: 32, DHQK: 8, DHHV: 16 };
const p = randomProblem(rng, d, { states: true, dcLast: true });

function upload(t: { shape: readonly number[]; data: Float32Array | Float64Array }): GpuTensor {
  return ctx.upload(t.data, t.shape);
}

describe('TFLA API', () => {
  it('GPU tensors in → GPU tensors out; saved tensors skip the recomputation and match', async () => {
    const g = {
      q: upload(p.x.q),
      k: upload(p.x.k),
      v: upload(p.x.v),
      i: upload(p.x.i),
      f: upload(p.x.f),
      cInitial: upload(p.states!.cInitial),
      nInitial: upload(p.states!.nInitial),
      mInitial: upload(p.states!.mInitial),
    };
    const dh = upload(p.dh);
    const fw = await mlstmChunkwiseXlChunk(ctx, {
      ...g,
      chunkSize: 8,
      returnLastStates: true,
      keepSaved: true,
    });
    const withSaved = await mlstmChunkwiseXlChunkBackward(ctx, { ...g, dh, chunkSize: 8, saved: fw.saved });
    const recomputed = await mlstmChunkwiseXlChunkBackward(ctx, { ...g, dh, chunkSize: 8 });
    for (const n of ['dq', 'dk', 'dv', 'di', 'df', 'dcInitial'] as const) {
      const a = await readTensor(ctx, withSaved[n]!);
      const b = await readTensor(ctx, recomputed[n]!);
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
    }
    const ref = mlstmChunkwiseBackward({ ...p.x, ...p.states, dh: p.dh, chunkSize: 8 });
    expectNear(await readTensor(ctx, withSaved.dq), ref.dq, 3e-4, 'dq');
    releaseSaved(fw.saved!);
    for (const t of [
      fw.h,
      fw.lastStates!.c,
      fw.lastStates!.n,
      fw.lastStates!.m!,
      ...Object.values(withSaved),
      ...Object.values(recomputed),
    ]) {
      (t as GpuTensor).release();
    }
    for (const t of [...Object.values(g), dh]) t.release();
  });

  it('compiles each pipeline once per (kernel, parameters, dtype)', async () => {
    const args = { ...p.x, chunkSize: 8 };
    await mlstmChunkwiseXlChunk(ctx, args);
    const n = ctx.pipelinesCompiled;
    await mlstmChunkwiseXlChunk(ctx, args);
    await mlstmChunkwiseXlChunk(ctx, { ...args, chunkSize: 16 });
    expect(ctx.pipelinesCompiled).toBe(n);
    // repeated calls on the same GPU tensors bind the same buffers: bind groups come from the cache
    const g = { q: upload(p.x.q), k: upload(p.x.k), v: upload(p.x.v), i: upload(p.x.i), f: upload(p.x.f) };
    (await mlstmChunkwiseXlChunk(ctx, { ...g, chunkSize: 8 })).h.release();
    const created = ctx.bindGroupStats.created;
    const reused = ctx.bindGroupStats.reused;
    for (let r = 0; r < 3; r++) (await mlstmChunkwiseXlChunk(ctx, { ...g, chunkSize: 8 })).h.release();
    expect(ctx.bindGroupStats.reused - reused).toBeGreaterThan(0);
    expect(ctx.bindGroupStats.created - created).toBeLessThan(ctx.bindGroupStats.reused - reused);
    for (const t of Object.values(g)) t.release();
    if (ctx.features.shaderF16) {
      await mlstmChunkwiseXlChunk(ctx, { ...args, dtype: 'f16' });
      expect(ctx.pipelinesCompiled).toBeGreaterThan(n);
      const m = ctx.pipelinesCompiled;
      await mlstmChunkwiseXlChunk(ctx, { ...args, dtype: 'f16' });
      expect(ctx.pipelinesCompiled).toBe(m);
    }
  });

  it('1000 forward+backward calls return the pool to its starting live bytes', async () => {
    const g = { q: upload(p.x.q), k: upload(p.x.k), v: upload(p.x.v), i: upload(p.x.i), f: upload(p.x.f) };
    const dh = upload(p.dh);
    const start = ctx.pool.stats.liveBytes;
    for (let r = 0; r < 1000; r++) {
      const fw = await mlstmChunkwiseXlChunk(ctx, {
        ...g,
        chunkSize: 8,
        returnLastStates: true,
        keepSaved: r % 2 === 0,
      });
      const bw = await mlstmChunkwiseXlChunkBackward(ctx, { ...g, dh, chunkSize: 8, saved: fw.saved });
      if (fw.saved) releaseSaved(fw.saved);
      fw.h.release();
      for (const t of Object.values(fw.lastStates!)) t.release();
      for (const t of Object.values(bw)) t.release();
    }
    // CPU-tensor calls release their uploads and outputs themselves
    for (let r = 0; r < 20; r++)
      await mlstmSigChunkwiseXlChunk(ctx, { ...p.x, chunkSize: 8, returnLastStates: true });
    await ctx.sync();
    expect(ctx.pool.stats.liveBytes).toBe(start);
    for (const t of [...Object.values(g), dh]) t.release();
  });

  it('df correction for a loss on c_last (spec §4.5) matches the reference in both modes', async () => {
    for (const correctDfForDcLast of [false, true]) {
      const args = { ...p.x, ...p.states, dh: p.dh, dcLast: p.dcLast, chunkSize: 8, correctDfForDcLast };
      const out = await mlstmChunkwiseXlChunkBackward(ctx, args);
      const ref = mlstmChunkwiseBackward(args);
      expectNear(out.df, ref.df, 3e-4, `df (correct ${correctDfForDcLast})`);
      expectNear(out.dcInitial!, ref.dcInitial!, 3e-4, 'dcInitial');
    }
  });

  it('large tiles (32×32, bX 32, state tile 32) give the same results as the reference', async () => {
    const q = randomProblem(rng, { B: 1, NH: 2, S: 128, DHQK: 40, DHHV: 72 }, { states: true });
    const tiles = { intra: { bR: 32, bT: 32, bX: 32, bY: 16 }, scan: 32 };
    const args = { ...q.x, ...q.states, chunkSize: 64, tiles };
    const fw = await mlstmChunkwiseXlChunk(ctx, { ...args, returnLastStates: true });
    const ref = mlstmChunkwise({ ...q.x, ...q.states, chunkSize: 64, returnLastStates: true });
    expectNear(fw.h, ref.h, 2e-4, 'h');
    expectNear(fw.lastStates!.c, ref.lastStates!.c, 2e-4, 'c');
    const bw = await mlstmChunkwiseXlChunkBackward(ctx, { ...args, dh: q.dh });
    const rb = mlstmChunkwiseBackward({ ...q.x, ...q.states, chunkSize: 64, dh: q.dh });
    for (const n of ['dq', 'dk', 'dv', 'di', 'df', 'dcInitial'] as const) expectNear(bw[n]!, rb[n]!, 5e-4, n);
  }, 300_000);
});

describe('portability', () => {
  it('every TFLA kernel runs on a device with WebGPU default limits (8 storage buffers per stage)', async () => {
    const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
    const adapter = (await gpu.requestAdapter())!;
    const device = await adapter.requestDevice(); // no required limits: the WebGPU defaults
    expect(device.limits.maxStorageBuffersPerShaderStage).toBe(8);
    const plain = await getGpuContext({ device });
    try {
      const q = randomProblem(rng, { B: 1, NH: 2, S: 32, DHQK: 8, DHHV: 16 }, { states: true });
      const args = { ...q.x, ...q.states, chunkSize: 16, returnLastStates: true };
      const ref = mlstmChunkwise(args);
      const refB = mlstmChunkwiseBackward({ ...args, dh: q.dh });
      for (const [fw, bw] of [
        [mlstmChunkwiseXlChunk, mlstmChunkwiseXlChunkBackward],
        [mlstmChunkwiseLimitChunk, mlstmChunkwiseLimitChunkBackward],
      ] as const) {
        expectNear((await fw(plain, args)).h, ref.h, 2e-4, 'h');
        expectNear((await bw(plain, { ...args, dh: q.dh })).dq, refB.dq, 5e-4, 'dq');
      }
      await mlstmSigChunkwiseXlChunkBackward(plain, { ...q.x, chunkSize: 16, dh: q.dh });
      await mlstmParallelLimitHeaddimBackward(plain, { ...q.x, dh: q.dh });
      await plain.sync();
    } finally {
      plain.destroy();
    }
  });
});

/** The inputs and initial states of a random problem as GPU tensors. */
function uploadProblem(q: ReturnType<typeof randomProblem>) {
  const g = Object.fromEntries(Object.entries({ ...q.x, ...q.states }).map(([k, t]) => [k, upload(t)]));
  return g as Record<string, GpuTensor> & Record<'q' | 'k' | 'v' | 'i' | 'f', GpuTensor>;
}

describe('head groups: problems larger than one storage binding', () => {
  it('splits B·NH into 256-byte-aligned groups that each fit maxStorageBufferBindingSize, same results', async () => {
    const q = randomProblem(rng, { B: 2, NH: 64, S: 16, DHQK: 4, DHHV: 4 }, { states: true, dcLast: true });
    // 256 bytes of q per head: 16 KiB bindings hold 64 heads, so the 128 heads run in 2 groups
    const small = withLimits(ctx, { maxStorageBufferBindingSize: 16384 });
    const args = { ...q.x, ...q.states, chunkSize: 8, returnLastStates: true };
    const ref = mlstmChunkwise(args);
    const fw = await mlstmChunkwiseXlChunk(small, args);
    expectNear(fw.h, ref.h, 2e-4, 'h');
    for (const n of ['c', 'n', 'm'] as const) expectNear(fw.lastStates![n]!, ref.lastStates![n], 2e-4, n);
    const bargs = { ...q.x, ...q.states, chunkSize: 8, dh: q.dh, dcLast: q.dcLast };
    const rb = mlstmChunkwiseBackward(bargs);
    const bw = await mlstmChunkwiseXlChunkBackward(small, bargs);
    for (const n of ['dq', 'dk', 'dv', 'di', 'df', 'dcInitial'] as const) expectNear(bw[n]!, rb[n]!, 5e-4, n);
    // GPU tensors with saved groups
    const g = uploadProblem(q);
    const start = ctx.pool.stats.liveBytes;
    const kept = await mlstmChunkwiseXlChunk(small, { ...g, chunkSize: 8, keepSaved: true });
    expect(kept.saved!.groups.map((x) => [x.start, x.count])).toEqual([
      [0, 64],
      [64, 64],
    ]);
    const dhG = upload(q.dh);
    const bwG = await mlstmChunkwiseXlChunkBackward(small, {
      ...g,
      q: g.q,
      k: g.k,
      v: g.v,
      i: g.i,
      f: g.f,
      dh: dhG,
      chunkSize: 8,
      saved: kept.saved,
    });
    expectNear(
      await readTensor(ctx, bwG.dk),
      mlstmChunkwiseBackward({ ...q.x, ...q.states, chunkSize: 8, dh: q.dh }).dk,
      5e-4,
      'dk (saved)',
    );
    releaseSaved(kept.saved!);
    kept.h.release();
    dhG.release();
    for (const t of Object.values(bwG)) t?.release();
    expect(ctx.pool.stats.liveBytes).toBe(start);
    for (const t of Object.values(g)) t.release();
  });
});

describe('head groups whose slices are not 256-byte aligned', () => {
  it('copies the unaligned slices (inputs in, outputs back) and gives the same results', async () => {
    // 6 heads, groups of 3: the second group starts 3 heads in, where q (256 bytes per head)
    // stays aligned but i, f, c, n, m, di, df (64, 64, 64, 16, 4, 64, 64 bytes per head) do not
    const q = randomProblem(rng, { B: 2, NH: 3, S: 16, DHQK: 4, DHHV: 4 }, { states: true, dcLast: true });
    const small = withLimits(ctx, { maxStorageBufferBindingSize: 768 });
    const args = { ...q.x, ...q.states, chunkSize: 8, returnLastStates: true };
    const ref = mlstmChunkwise(args);
    const start = ctx.pool.stats.liveBytes;
    const fw = await mlstmChunkwiseXlChunk(small, args);
    expectNear(fw.h, ref.h, 2e-4, 'h');
    for (const n of ['c', 'n', 'm'] as const) expectNear(fw.lastStates![n]!, ref.lastStates![n], 2e-4, n);
    const bargs = { ...q.x, ...q.states, chunkSize: 8, dh: q.dh, dcLast: q.dcLast };
    const rb = mlstmChunkwiseBackward(bargs);
    const bw = await mlstmChunkwiseXlChunkBackward(small, bargs);
    for (const n of ['dq', 'dk', 'dv', 'di', 'df', 'dcInitial'] as const) expectNear(bw[n]!, rb[n]!, 5e-4, n);
    // the copies go back to the pool
    expect(ctx.pool.stats.liveBytes).toBe(start);
    // GPU tensors: the groups really are 3 + 3 heads
    const g = uploadProblem(q);
    const kept = await mlstmChunkwiseXlChunk(small, {
      ...g,
      chunkSize: 8,
      keepSaved: true,
      returnLastStates: true,
    });
    expect(kept.saved!.groups.map((x) => [x.start, x.count])).toEqual([
      [0, 3],
      [3, 3],
    ]);
    expectNear(await readTensor(ctx, kept.lastStates!.m!), ref.lastStates!.m!, 2e-4, 'm (GPU)');
    releaseSaved(kept.saved!);
    for (const t of [kept.h, ...Object.values(kept.lastStates!)]) t?.release();
    for (const t of Object.values(g)) t.release();
  });
});

describe('TFLA typed errors (raised before any GPU work)', () => {
  const bad = async (fn: () => Promise<unknown>, argument: string) => {
    const before = { live: ctx.pool.stats.liveBytes, compiled: ctx.pipelinesCompiled };
    const err = await fn().then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(KernelArgumentError);
    expect((err as KernelArgumentError).argument).toBe(argument);
    expect(ctx.pool.stats.liveBytes).toBe(before.live);
    expect(ctx.pipelinesCompiled).toBe(before.compiled);
    return err as KernelArgumentError;
  };
  it('q/k head dims differ', () =>
    bad(
      () => mlstmChunkwiseXlChunk(ctx, { ...p.x, k: { shape: [1, 2, 32, 7], data: new Float32Array(448) } }),
      'k',
    ));
  it('v with another S', () =>
    bad(
      () => mlstmChunkwiseXlChunk(ctx, { ...p.x, v: { shape: [1, 2, 31, 16], data: new Float32Array(992) } }),
      'v',
    ));
  it('gate shape', () =>
    bad(
      () => mlstmChunkwiseXlChunk(ctx, { ...p.x, f: { shape: [1, 2, 32, 1], data: new Float32Array(64) } }),
      'f',
    ));
  it('chunk size not dividing S', async () => {
    const e = await bad(() => mlstmChunkwiseXlChunk(ctx, { ...p.x, chunkSize: 12 }), 'chunkSize');
    expect(e.message).toMatch(/divisor of the sequence length S = 32/);
  });
  it('limit_chunk chunk size over 64', () =>
    bad(
      () => mlstmChunkwiseLimitChunk(ctx, { ...randomProblem(rng, { ...d, S: 128 }).x, chunkSize: 128 }),
      'chunkSize',
    ));
  it('partial initial states', () =>
    bad(() => mlstmChunkwiseXlChunk(ctx, { ...p.x, cInitial: p.states!.cInitial }), 'nInitial'));
  it('initial state shape', () =>
    bad(
      () =>
        mlstmChunkwiseXlChunk(ctx, {
          ...p.x,
          ...p.states,
          nInitial: { shape: [1, 2, 9], data: new Float32Array(18) },
        }),
      'nInitial',
    ));
  it('states given to the parallel kernel', () =>
    bad(() => mlstmParallelLimitHeaddim(ctx, { ...p.x, ...p.states }), 'cInitial'));
  it('non-finite eps', () => bad(() => mlstmChunkwiseXlChunk(ctx, { ...p.x, eps: Number.NaN }), 'eps'));
  it('normalize: false on an mLSTMexp kernel', () =>
    bad(() => mlstmChunkwiseXlChunk(ctx, { ...p.x, normalize: false }), 'normalize'));
  it('dh shape in the backward', () =>
    bad(() => mlstmChunkwiseXlChunkBackward(ctx, { ...p.x, chunkSize: 8, dh: p.x.q }), 'dh'));
  it('a tensor over maxStorageBufferBindingSize', async () => {
    const big = ctx.limits.maxStorageBufferBindingSize;
    // states of (B·NH·(NC+1)·DHQK·DHHV·4) bytes exceed the binding limit: checked from the shapes alone
    const S = 4096;
    const DH = Math.ceil(Math.sqrt(big / (4 * (S + 1)))) + 1;
    const shape = (dd: number) => ({ shape: [1, 1, S, dd], data: new Float32Array(S * dd) });
    const gate = { shape: [1, 1, S], data: new Float32Array(S) };
    const e = await bad(
      () =>
        mlstmChunkwiseXlChunk(ctx, {
          q: shape(DH),
          k: shape(DH),
          v: shape(DH),
          i: gate,
          f: gate,
          chunkSize: 1,
        }),
      'chunk states ((S/chunkSize+1)·DHQK·(DHHV+1)·4 bytes per head)',
    );
    expect(e.message).toMatch(/maxStorageBufferBindingSize/);
  });
  it('f16 requested without shader-f16 (context whose adapter lacks it)', async () => {
    const noF16 = Object.create(ctx, { features: { value: { ...ctx.features, shaderF16: false } } });
    await bad(() => mlstmChunkwiseXlChunk(noF16, { ...p.x, dtype: 'f16' }), 'dtype');
  });
});
