/**
 * The recurrent kernels' API: in-place state updates, GPU-tensor in/out, pipeline caching,
 * pool leaks, and typed errors for bad inputs (raised before anything is dispatched).
 */
import { mlstmRecurrentSequence, mlstmRecurrentStep, type Tensor } from '@mlstm/core-reference';
import { Rng, randn, randomMlstmInputs } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import {
  type GpuContext,
  GpuTensor,
  getGpuContext,
  KernelArgumentError,
  mlstmRecurrentSequenceWebgpu,
  mlstmRecurrentStepWebgpu,
  RECURRENT_STEP_FUSED_BINDINGS,
  recurrentStepKernel,
  recurrentStepTiles,
} from '../src/index.js';
import { f16TestName, openGpuContext, readTensor, uploadTensor, withLimits } from './helpers.js';

const ctx = await openGpuContext();
/** The same device seen as an adapter with the WebGPU default of 8 storage buffers: split kernels. */
const splitCtx = withLimits(ctx, { maxStorageBuffersPerShaderStage: 8 });

function stepInputs(seed: number, B: number, NH: number, DHQK: number, DHHV: number) {
  const rng = new Rng(seed);
  return {
    q: randn(rng, [B, NH, DHQK]),
    k: randn(rng, [B, NH, DHQK]),
    v: randn(rng, [B, NH, DHHV]),
    i: randn(rng, [B, NH, 1], { scale: 3 }),
    f: randn(rng, [B, NH, 1], { offset: 2 }),
    c: randn(rng, [B, NH, DHQK, DHHV]),
    n: randn(rng, [B, NH, DHQK]),
    m: randn(rng, [B, NH, 1]),
  };
}

type StepCpu = ReturnType<typeof stepInputs>;
const upload = (x: StepCpu) => ({
  q: uploadTensor(ctx, x.q),
  k: uploadTensor(ctx, x.k),
  v: uploadTensor(ctx, x.v),
  i: uploadTensor(ctx, x.i),
  f: uploadTensor(ctx, x.f),
  c: uploadTensor(ctx, x.c),
  n: uploadTensor(ctx, x.n),
  m: uploadTensor(ctx, x.m),
});
/** Releases every GpuTensor among the values of an object or array. */
const releaseAll = (o: object) => {
  for (const t of Object.values(o)) if (t instanceof GpuTensor) t.release();
};
const arr = (t: Tensor) => Array.from(t.data);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let x = 0; x < a.length; x++) d = Math.max(d, Math.abs(a[x] - b[x]));
  return d;
};

describe('in-place state update', () => {
  // DHHV = 200 → 4 DHHV tiles per head: several workgroups need the old n and m of their head,
  // which is exactly what an in-place update could race on.
  const [B, NH, DHQK, DHHV] = [2, 3, 37, 200];

  it('gives bit-identical results to separate outputs, and leaves the inputs alone when not in place', async () => {
    const x = stepInputs(1, B, NH, DHQK, DHHV);
    const a = upload(x);
    // in-place n/m always take the split kernels; compare with separate outputs on the same kernels
    const sep = await mlstmRecurrentStepWebgpu(splitCtx, a);
    const [h1, c1, n1, m1] = await Promise.all([sep.h, sep.c, sep.n, sep.m].map((t) => readTensor(ctx, t)));
    // the inputs were not modified
    expect(arr(await readTensor(ctx, a.c))).toEqual(Array.from(Float32Array.from(x.c.data)));
    expect(arr(await readTensor(ctx, a.n))).toEqual(Array.from(Float32Array.from(x.n.data)));
    expect(arr(await readTensor(ctx, a.m))).toEqual(Array.from(Float32Array.from(x.m.data)));
    // the default path with separate outputs (fused where the adapter allows) agrees to f32 rounding
    const dflt = await mlstmRecurrentStepWebgpu(ctx, a);
    for (const [got, want] of [
      [dflt.h, h1],
      [dflt.c, c1],
      [dflt.n, n1],
      [dflt.m, m1],
    ] as const) {
      const g = await readTensor(ctx, got);
      expect(maxDiff(g.data, want.data)).toBeLessThanOrEqual(
        1e-6 * Math.max(...Array.from(want.data, Math.abs)),
      );
    }

    const inPlace = await mlstmRecurrentStepWebgpu(ctx, { ...a, out: { c: a.c, n: a.n, m: a.m } });
    expect(inPlace.c).toBe(a.c);
    expect(inPlace.n).toBe(a.n);
    expect(inPlace.m).toBe(a.m);
    expect(arr(await readTensor(ctx, inPlace.h))).toEqual(arr(h1));
    expect(arr(await readTensor(ctx, a.c))).toEqual(arr(c1));
    expect(arr(await readTensor(ctx, a.n))).toEqual(arr(n1));
    expect(arr(await readTensor(ctx, a.m))).toEqual(arr(m1));
    releaseAll([...Object.values(a), ...Object.values(sep), ...Object.values(dflt), inPlace.h]);
  });

  it('chooses the fused kernel only where it is race-free and the adapter has the bindings', () => {
    const t = (shape: number[]) => ctx.empty(shape);
    const st = { c: t([1, 1, 2, 2]), n: t([1, 1, 2]), m: t([1, 1, 1]) };
    const other = { h: t([1, 1, 2]), c: t([1, 1, 2, 2]), n: t([1, 1, 2]), m: t([1, 1, 1]) };
    const fusedOk = ctx.limits.maxStorageBuffersPerShaderStage >= RECURRENT_STEP_FUSED_BINDINGS.separate;
    const want = fusedOk ? 'fused' : 'split';
    expect(recurrentStepKernel(ctx, st, other)).toBe(want);
    expect(recurrentStepKernel(ctx, st, { ...other, c: st.c })).toBe(want);
    expect(recurrentStepKernel(ctx, null, other)).toBe(want);
    expect(recurrentStepKernel(ctx, st, { ...other, n: st.n })).toBe('split');
    expect(recurrentStepKernel(ctx, st, { ...other, m: st.m })).toBe('split');
    expect(recurrentStepKernel(splitCtx, st, other)).toBe('split');
    const eleven = withLimits(ctx, { maxStorageBuffersPerShaderStage: 11 });
    expect(recurrentStepKernel(eleven, st, { ...other, c: st.c })).toBe('fused');
    expect(recurrentStepKernel(eleven, st, other)).toBe('split');
    releaseAll([...Object.values(st), ...Object.values(other)]);
  });

  it('mixed: C in place, n and m into new buffers, h into a given buffer', async () => {
    const x = stepInputs(2, B, NH, DHQK, DHHV);
    const ref = mlstmRecurrentStep(x);
    const a = upload(x);
    const h = ctx.empty([B, NH, DHHV]);
    const r = await mlstmRecurrentStepWebgpu(ctx, { ...a, out: { c: a.c, h } });
    expect(r.h).toBe(h);
    expect(r.c).toBe(a.c);
    expect(r.n).not.toBe(a.n);
    for (const key of ['h', 'c', 'n', 'm'] as const) {
      const got = await readTensor(ctx, r[key]);
      const e = ref[key].data;
      const scale = Math.max(...Array.from(e, Math.abs));
      expect(maxDiff(got.data, e)).toBeLessThanOrEqual(1e-5 * scale);
    }
    releaseAll({ ...a, h, n2: r.n, m2: r.m });
  });

  it('many in-place steps equal the sequence kernel (token by token through the same buffers)', async () => {
    const S = 12;
    const rng = new Rng(3);
    const s = randomMlstmInputs(rng, { B, NH, S, DHQK, DHHV: 70 }, { iOffset: 2 });
    // the split kernels, as the in-place steps below (n, m in place) take them
    const seq = await mlstmRecurrentSequenceWebgpu(splitCtx, { ...s, returnLastStates: true });
    const seqDefault = await mlstmRecurrentSequenceWebgpu(ctx, { ...s, returnLastStates: true });
    const hScale = Math.max(...Array.from(seq.h.data, Math.abs));
    expect(maxDiff(seqDefault.h.data, seq.h.data)).toBeLessThanOrEqual(1e-6 * hScale);
    const c = ctx.zeros([B, NH, DHQK, 70]);
    const n = ctx.zeros([B, NH, DHQK]);
    const m = ctx.zeros([B, NH, 1]);
    const hs: number[] = [];
    const tok = (t: Tensor, step: number, d: number) => {
      const out = new Float64Array(B * NH * d);
      for (let bh = 0; bh < B * NH; bh++)
        for (let x = 0; x < d; x++) out[bh * d + x] = t.data[(bh * S + step) * d + x];
      return { shape: [B, NH, d], data: out };
    };
    const hTok: Tensor[] = [];
    for (let t = 0; t < S; t++) {
      const inputs = {
        q: uploadTensor(ctx, tok(s.q, t, DHQK)),
        k: uploadTensor(ctx, tok(s.k, t, DHQK)),
        v: uploadTensor(ctx, tok(s.v, t, 70)),
        i: uploadTensor(ctx, tok(s.i, t, 1)),
        f: uploadTensor(ctx, tok(s.f, t, 1)),
      };
      const r = await mlstmRecurrentStepWebgpu(ctx, { ...inputs, c, n, m, out: { c, n, m } });
      hTok.push(await readTensor(ctx, r.h));
      releaseAll({ ...inputs, h: r.h });
    }
    // seq ran on CPU tensors, so its results are CPU tensors
    for (let bh = 0; bh < B * NH; bh++) {
      for (let t = 0; t < S; t++) for (let b = 0; b < 70; b++) hs.push(hTok[t].data[bh * 70 + b]);
    }
    expect(hs).toEqual(arr(seq.h));
    expect(arr(await readTensor(ctx, c))).toEqual(arr(seq.lastStates!.c));
    expect(arr(await readTensor(ctx, n))).toEqual(arr(seq.lastStates!.n));
    expect(arr(await readTensor(ctx, m))).toEqual(arr(seq.lastStates!.m));
    releaseAll({ c, n, m });
  });

  it('the sequence kernel leaves GPU initial states untouched', async () => {
    const rng = new Rng(4);
    const d = { B: 1, NH: 2, S: 5, DHQK: 8, DHHV: 9 };
    const s = randomMlstmInputs(rng, d);
    const c0 = randn(rng, [1, 2, 8, 9]);
    const n0 = randn(rng, [1, 2, 8]);
    const m0 = randn(rng, [1, 2, 1]);
    const g = { c: uploadTensor(ctx, c0), n: uploadTensor(ctx, n0), m: uploadTensor(ctx, m0) };
    const r = await mlstmRecurrentSequenceWebgpu(ctx, {
      ...s,
      cInitial: g.c,
      nInitial: g.n,
      mInitial: g.m,
      returnLastStates: true,
    });
    expect(arr(await readTensor(ctx, g.c))).toEqual(Array.from(Float32Array.from(c0.data)));
    expect(arr(await readTensor(ctx, g.n))).toEqual(Array.from(Float32Array.from(n0.data)));
    expect(arr(await readTensor(ctx, g.m))).toEqual(Array.from(Float32Array.from(m0.data)));
    // CPU q with GPU states → CPU results
    expect(r.h.data).toBeInstanceOf(Float32Array);
    const ref = mlstmRecurrentSequence({ ...s, cInitial: c0, nInitial: n0, mInitial: m0 });
    const scale = Math.max(...Array.from(ref.h.data, Math.abs));
    expect(maxDiff(r.h.data, ref.h.data)).toBeLessThanOrEqual(1e-5 * scale);
    releaseAll(g);
  });
});

describe('more heads than workgroups per grid dimension', () => {
  // B·NH = 35 heads with a (simulated) limit of 8 workgroups per dimension: the heads are spread
  // over the y and z grid axes and the kernels skip the padding workgroups
  for (const storage of [16, 8]) {
    it(`step and sequence, ${storage >= 12 ? 'fused kernel' : 'split kernels'}`, async () => {
      const small = withLimits(ctx, {
        maxComputeWorkgroupsPerDimension: 8,
        maxStorageBuffersPerShaderStage: storage,
      });
      const x = stepInputs(14, 5, 7, 3, 5);
      const ref = mlstmRecurrentStep(x);
      const got = await mlstmRecurrentStepWebgpu(small, x);
      for (const key of ['h', 'c', 'n', 'm'] as const) {
        const scale = Math.max(...Array.from(ref[key].data, Math.abs));
        expect(maxDiff(got[key].data, ref[key].data)).toBeLessThanOrEqual(1e-5 * scale);
      }
      const s = randomMlstmInputs(new Rng(15), { B: 5, NH: 7, S: 6, DHQK: 3, DHHV: 5 });
      const rs = mlstmRecurrentSequence({ ...s, returnLastStates: true });
      const gs = await mlstmRecurrentSequenceWebgpu(small, { ...s, returnLastStates: true });
      const scale = Math.max(...Array.from(rs.h.data, Math.abs));
      expect(maxDiff(gs.h.data, rs.h.data)).toBeLessThanOrEqual(1e-5 * scale);
      expect(maxDiff(gs.lastStates!.m.data, rs.lastStates!.m.data)).toBeLessThanOrEqual(1e-5);
    });
  }
});

describe('tile heuristic', () => {
  it('powers of two within the invocation limit; wide tiles with many workgroups, narrow ones when starved', () => {
    const pow2 = (n: number) => Number.isInteger(Math.log2(n));
    const np2 = (n: number) => 2 ** Math.ceil(Math.log2(n));
    for (const maxInv of [64, 256, 1024]) {
      for (const BH of [1, 8, 64, 4096]) {
        for (const DHQK of [1, 3, 64, 256]) {
          for (const DHHV of [1, 5, 64, 512]) {
            const t = recurrentStepTiles(BH, DHQK, DHHV, maxInv, 16);
            expect(pow2(t.blockV) && pow2(t.splitK)).toBe(true);
            expect(t.blockV * t.splitK).toBeLessThanOrEqual(maxInv);
            expect(t.splitK).toBeLessThanOrEqual(16);
            expect(t.blockV).toBeLessThanOrEqual(np2(DHHV));
            expect(t.splitK).toBeLessThanOrEqual(np2(DHQK));
          }
        }
      }
    }
    expect(recurrentStepTiles(64, 256, 512, 1024)).toEqual({ blockV: 32, splitK: 8 });
    expect(recurrentStepTiles(8, 256, 512, 1024)).toEqual({ blockV: 16, splitK: 32 });
    expect(recurrentStepTiles(8, 256, 512, 256)).toEqual({ blockV: 16, splitK: 16 });
  });
});

describe('pipelines are compiled once per (kernel, tile parameters, dtype, in-place variant)', () => {
  it('repeat calls compile nothing; another shape with the same tiles compiles nothing; f16 compiles its own', async () => {
    const fresh = await getGpuContext(); // its own pipeline cache, so the counts are exact
    try {
      const x = stepInputs(5, 1, 2, 16, 32);
      // a step is one fused kernel, or the two split kernels (prep, update) on adapters with
      // fewer storage bindings
      const lim = fresh.limits.maxStorageBuffersPerShaderStage;
      const perStep = lim >= RECURRENT_STEP_FUSED_BINDINGS.separate ? 1 : 2;
      const perSeq = lim >= RECURRENT_STEP_FUSED_BINDINGS.inPlace ? 1 : 2;
      expect(fresh.pipelinesCompiled).toBe(0);
      await mlstmRecurrentStepWebgpu(fresh, x);
      expect(fresh.pipelinesCompiled).toBe(perStep);
      await mlstmRecurrentStepWebgpu(fresh, x);
      await mlstmRecurrentStepWebgpu(fresh, stepInputs(6, 3, 1, 13, 32)); // same tiles: blockV 16 × splitK 16
      expect(fresh.pipelinesCompiled).toBe(perStep);
      // a sequence updates C in place: the in-place-C variant(s)
      const s = randomMlstmInputs(new Rng(7), { B: 1, NH: 2, S: 4, DHQK: 16, DHHV: 32 });
      await mlstmRecurrentSequenceWebgpu(fresh, s);
      const total = perStep + perSeq;
      expect(fresh.pipelinesCompiled).toBe(total);
      // with initial states, token 0 reads them through the separate-C variant(s) compiled above
      await mlstmRecurrentSequenceWebgpu(fresh, { ...s, cInitial: x.c, nInitial: x.n, mInitial: x.m });
      await mlstmRecurrentSequenceWebgpu(fresh, s);
      expect(fresh.pipelinesCompiled).toBe(total);
      expect(fresh.pipelineCount).toBe(total);
      if (fresh.features.shaderF16) {
        await mlstmRecurrentStepWebgpu(fresh, { ...x, dtype: 'f16' });
        // another dtype: one more pipeline per kernel of the step
        expect(fresh.pipelinesCompiled).toBe(total + perStep);
        await mlstmRecurrentStepWebgpu(fresh, { ...x, dtype: 'f16' });
        expect(fresh.pipelinesCompiled).toBe(total + perStep);
      }
    } finally {
      fresh.destroy();
    }
  });
});

describe('no leaks', () => {
  it('1000 GPU step calls (new outputs and in place), CPU step calls and sequence calls return the pool to its live bytes', async () => {
    await ctx.sync();
    const before = ctx.pool.stats.liveBytes;
    const x = stepInputs(8, 2, 2, 17, 33);
    const a = upload(x);
    for (let j = 0; j < 1000; j++) {
      if (j % 2 === 0) {
        const r = await mlstmRecurrentStepWebgpu(ctx, a);
        releaseAll(r);
      } else {
        const r = await mlstmRecurrentStepWebgpu(ctx, { ...a, out: { c: a.c, n: a.n, m: a.m } });
        r.h.release();
      }
    }
    for (let j = 0; j < 50; j++) await mlstmRecurrentStepWebgpu(ctx, x);
    const s = randomMlstmInputs(new Rng(9), { B: 2, NH: 2, S: 10, DHQK: 17, DHHV: 33 });
    const gs = {
      q: uploadTensor(ctx, s.q),
      k: uploadTensor(ctx, s.k),
      v: uploadTensor(ctx, s.v),
      i: uploadTensor(ctx, s.i),
      f: uploadTensor(ctx, s.f),
    };
    for (let j = 0; j < 50; j++) {
      const r = await mlstmRecurrentSequenceWebgpu(ctx, { ...gs, returnLastStates: j % 2 === 0 });
      r.h.release();
      if (r.lastStates) releaseAll(r.lastStates);
      await mlstmRecurrentSequenceWebgpu(ctx, { ...s, returnLastStates: j % 2 === 1 });
    }
    // failing calls release what they took
    for (let j = 0; j < 20; j++) {
      await expect(mlstmRecurrentStepWebgpu(ctx, { ...x, eps: Number.NaN })).rejects.toThrow(
        KernelArgumentError,
      );
    }
    releaseAll(a);
    releaseAll(gs);
    await ctx.sync();
    expect(ctx.pool.stats.liveBytes).toBe(before);
  });
});

describe('bad inputs: a KernelArgumentError naming the argument, before anything is dispatched', () => {
  const x = stepInputs(10, 1, 2, 4, 6);
  const seq = randomMlstmInputs(new Rng(11), { B: 1, NH: 2, S: 3, DHQK: 4, DHHV: 6 });

  /** Runs `call`, expects a KernelArgumentError for `argument`, and that no buffer was taken. */
  async function expectArgError(argument: string, call: () => Promise<unknown>, c: GpuContext = ctx) {
    await c.sync();
    const before = { ...ctx.pool.stats };
    const compiled = ctx.pipelinesCompiled;
    const err = await call().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KernelArgumentError);
    expect((err as KernelArgumentError).argument).toBe(argument);
    expect(ctx.pool.stats.liveBytes).toBe(before.liveBytes);
    expect(ctx.pool.stats.buffersCreated).toBe(before.buffersCreated);
    expect(ctx.pool.stats.reuses).toBe(before.reuses);
    expect(ctx.pipelinesCompiled).toBe(compiled);
    return err as KernelArgumentError;
  }

  it('mismatched shapes', async () => {
    await expectArgError('k', () => mlstmRecurrentStepWebgpu(ctx, { ...x, k: randn(new Rng(1), [1, 2, 5]) }));
    await expectArgError('c', () =>
      mlstmRecurrentStepWebgpu(ctx, { ...x, c: randn(new Rng(1), [1, 2, 6, 4]) }),
    );
    await expectArgError('m', () => mlstmRecurrentStepWebgpu(ctx, { ...x, m: randn(new Rng(1), [1, 2]) }));
    // a CPU tensor whose data does not match its shape
    await expectArgError('q', () =>
      mlstmRecurrentStepWebgpu(ctx, { ...x, q: { shape: [1, 2, 4], data: new Float32Array(7) } }),
    );
    await expectArgError('v', () =>
      mlstmRecurrentSequenceWebgpu(ctx, { ...seq, v: randn(new Rng(1), [1, 2, 4, 6]) }),
    );
    await expectArgError('f', () =>
      mlstmRecurrentSequenceWebgpu(ctx, { ...seq, f: randn(new Rng(1), [1, 2, 3, 1]) }),
    );
    await expectArgError('q', () =>
      mlstmRecurrentSequenceWebgpu(ctx, { ...seq, q: randn(new Rng(1), [1, 2, 0, 4]) }),
    );
    const e = await expectArgError('nInitial', () =>
      mlstmRecurrentSequenceWebgpu(ctx, {
        ...seq,
        cInitial: randn(new Rng(1), [1, 2, 4, 6]),
        nInitial: randn(new Rng(1), [1, 2, 6]),
        mInitial: randn(new Rng(1), [1, 2, 1]),
      }),
    );
    expect(e.message).toMatch(/nInitial: expected shape \(B, NH, DHQK\) = \(1, 2, 4\)/);
  });

  it('wrong dtype of gates and states (always f32), and q/k/v dtypes that disagree', async () => {
    // GpuTensors that claim f16 (built directly on f32 buffers, so this runs without shader-f16 too)
    const owners: GpuTensor[] = [];
    const fake = (shape: number[]) => {
      const t = ctx.zeros(shape);
      owners.push(t);
      return new GpuTensor(t.buffer, shape, 'f16', null);
    };
    const i16 = fake([1, 2, 1]);
    const n16 = fake([1, 2, 4]);
    const f16seq = fake([1, 2, 3]);
    const k16 = fake([1, 2, 4]);
    const q32 = uploadTensor(ctx, x.q);
    const k32 = uploadTensor(ctx, x.k);
    const e = await expectArgError('i', () => mlstmRecurrentStepWebgpu(ctx, { ...x, i: i16 }));
    expect(e.message).toMatch(/dtype 'f32'/);
    await expectArgError('n', () => mlstmRecurrentStepWebgpu(ctx, { ...x, n: n16 }));
    await expectArgError('f', () => mlstmRecurrentSequenceWebgpu(ctx, { ...seq, f: f16seq }));
    await expectArgError('k', () => mlstmRecurrentStepWebgpu(ctx, { ...x, q: q32, k: k16 }));
    // a GPU q's dtype wins; asking for another one is an error
    await expectArgError('dtype', () => mlstmRecurrentStepWebgpu(ctx, { ...x, q: q32, dtype: 'f16' }));
    // CPU q asks for f16, but k is an f32 GPU tensor
    if (ctx.features.shaderF16) {
      await expectArgError('k', () => mlstmRecurrentStepWebgpu(ctx, { ...x, k: k32, dtype: 'f16' }));
    }
    releaseAll([q32, k32, ...owners]);
  });

  it('f16 requested on an adapter without shader-f16', async () => {
    // the same context, seen as one whose adapter lacks shader-f16
    const noF16 = Object.create(ctx, {
      features: { value: { ...ctx.features, shaderF16: false } },
    }) as GpuContext;
    const e = await expectArgError(
      'dtype',
      () => mlstmRecurrentStepWebgpu(noF16, { ...x, dtype: 'f16' }),
      noF16,
    );
    expect(e.message).toMatch(/shader-f16/);
    await expectArgError('dtype', () => mlstmRecurrentSequenceWebgpu(noF16, { ...seq, dtype: 'f16' }), noF16);
  });

  it('eps not finite or negative', async () => {
    for (const eps of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      await expectArgError('eps', () => mlstmRecurrentStepWebgpu(ctx, { ...x, eps }));
      await expectArgError('eps', () => mlstmRecurrentSequenceWebgpu(ctx, { ...seq, eps }));
    }
  });

  it('partial initial states (all or none)', async () => {
    const e = await expectArgError('nInitial', () =>
      mlstmRecurrentSequenceWebgpu(ctx, { ...seq, cInitial: randn(new Rng(1), [1, 2, 4, 6]) }),
    );
    expect(e.message).toMatch(/all of cInitial, nInitial, mInitial or none/);
    await expectArgError('mInitial', () =>
      mlstmRecurrentSequenceWebgpu(ctx, {
        ...seq,
        cInitial: randn(new Rng(1), [1, 2, 4, 6]),
        nInitial: randn(new Rng(1), [1, 2, 4]),
      }),
    );
  });

  it('released tensors', async () => {
    const q = uploadTensor(ctx, x.q);
    q.release();
    const e = await expectArgError('q', () => mlstmRecurrentStepWebgpu(ctx, { ...x, q }));
    expect(e.message).toMatch(/released/);
    const c = uploadTensor(ctx, x.c);
    c.release();
    await expectArgError('c', () => mlstmRecurrentStepWebgpu(ctx, { ...x, c }));
    const qs = uploadTensor(ctx, seq.q);
    qs.release();
    await expectArgError('q', () => mlstmRecurrentSequenceWebgpu(ctx, { ...seq, q: qs }));
  });

  it('bad out buffers: with CPU inputs, wrong shape, aliasing an input or another output', async () => {
    const a = upload(x);
    const h = ctx.empty([1, 2, 6]);
    const wrong = ctx.empty([1, 2, 5]);
    const nBuf = ctx.empty([1, 2, 4]);
    const mOnN = new GpuTensor(nBuf.buffer, [1, 2, 1], 'f32', null); // the first bytes of nBuf
    await expectArgError('out.h', () => mlstmRecurrentStepWebgpu(ctx, { ...x, out: { h } }));
    await expectArgError('out.n', () => mlstmRecurrentStepWebgpu(ctx, { ...a, out: { n: wrong } }));
    const e = await expectArgError('out.h', () => mlstmRecurrentStepWebgpu(ctx, { ...a, out: { h: a.v } }));
    expect(e.message).toMatch(/not the input v/);
    await expectArgError('out.m', () => mlstmRecurrentStepWebgpu(ctx, { ...a, out: { m: a.i } }));
    const e2 = await expectArgError('out.m', () =>
      mlstmRecurrentStepWebgpu(ctx, { ...a, out: { n: nBuf, m: mOnN } }),
    );
    expect(e2.message).toMatch(/distinct from out.n/);
    releaseAll({ ...a, h, wrong, nBuf });
  });

  it('a tensor over maxStorageBufferBindingSize', async () => {
    const small = withLimits(ctx, { maxStorageBufferBindingSize: 256 });
    const big = stepInputs(12, 1, 2, 16, 16); // c: 2·16·16·4 = 2048 bytes
    const e = await expectArgError('c', () => mlstmRecurrentStepWebgpu(small, big), small);
    expect(e.message).toMatch(/maxStorageBufferBindingSize = 256/);
  });
});

it(f16TestName(ctx, 'f16 GPU tensors in, f16 h out, f32 states'), async () => {
  if (!ctx.features.shaderF16) return;
  const x = stepInputs(13, 1, 2, 8, 8);
  const r = await mlstmRecurrentStepWebgpu(ctx, {
    ...x,
    q: uploadTensor(ctx, x.q, 'f16'),
    k: uploadTensor(ctx, x.k, 'f16'),
    v: uploadTensor(ctx, x.v, 'f16'),
  });
  expect(r.h.dtype).toBe('f16');
  expect([r.c.dtype, r.n.dtype, r.m.dtype]).toEqual(['f32', 'f32', 'f32']);
});
