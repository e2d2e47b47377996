/**
 * Modes of the backend beyond the fixtures: train_with_padding on ragged lengths vs core-reference,
 * state hand-over (several inference calls = one call), the S = 1 step path, GPU leak checks.
 *
 * Tolerances (`max|Δ| ≤ tol · max|expected|`): CPU kernels compute in float64 like the reference,
 * and the backend returns results in the inputs' element type (Float32Array here): the float32
 * rounding of each result, 2⁻²⁴ ≈ 6e-8 relative, so 1e-7 (a wrong kernel is O(1)). WebGPU kernels:
 * 2e-5, float32 arithmetic (see fixtures.test.ts; inputs here are N(0,1) with moderate gates).
 */
import {
  mlstmChunkwise,
  mlstmChunkwiseBackward,
  mlstmRecurrentSequence,
  type Tensor,
  toFloat32,
} from '@mlstm/core-reference';
import { randn, randomMlstmInputs, Rng } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import { type MlstmBackendConfig, MlstmBackend, type TensorLike } from '../src/index.js';
import { cpu, expectClose, openGpuContext, upload } from './helpers.js';

const ctx = await openGpuContext();

const KINDS: Record<string, { config: Partial<MlstmBackendConfig>; tol: number }> = {
  cpu: { config: {}, tol: 1e-7 },
  webgpu: {
    config: {
      chunkwiseKernel: 'chunkwise--webgpu_xl_chunk',
      sequenceKernel: 'native_sequence__webgpu',
      stepKernel: 'webgpu',
    },
    tol: 2e-5,
  },
};
const GRADS = ['dq', 'dk', 'dv', 'di', 'df'] as const;

function inputs(seed: number, S: number, B = 1, NH = 2, DHQK = 16, DHHV = 16) {
  const x = randomMlstmInputs(new Rng(seed), { B, NH, S, DHQK, DHHV });
  const f32 = (t: Tensor) => toFloat32(t);
  return { q: f32(x.q), k: f32(x.k), v: f32(x.v), i: f32(x.i), f: f32(x.f) };
}

describe.each(Object.entries(KINDS))('%s kernels', (_kind, { config, tol }) => {
  for (const S of [37, 100]) {
    it(`train_with_padding, S = ${S} (chunk 16): h and gradients vs core-reference, padding stripped`, async () => {
      const x = inputs(S, S);
      const dh = toFloat32(randn(new Rng(S + 1), [1, 2, S, 16]));
      const b = new MlstmBackend(
        { ...config, mode: 'train_with_padding', chunkSize: 16, returnLastStates: false },
        { device: ctx },
      );
      const r = await b.train(x);
      expect([...r.h.shape]).toEqual([1, 2, S, 16]);
      const g = await r.backward(dh);
      // reference: one chunk covering the whole (unpadded) sequence
      const ref = mlstmChunkwise({ ...x, chunkSize: S });
      const refG = mlstmChunkwiseBackward({ ...x, dh, chunkSize: S });
      expectClose(r.h, ref.h, tol, 'h');
      for (const key of GRADS) {
        expect([...g[key].shape]).toEqual([
          ...x[key === 'dq' ? 'q' : key === 'dk' ? 'k' : key === 'dv' ? 'v' : key === 'di' ? 'i' : 'f'].shape,
        ]);
        expectClose(g[key], refG[key], tol, key);
      }
      await expect(r.backward(dh)).rejects.toThrow(/one call per forward/);
    });
  }

  it('train with S not a multiple of chunkSize: error suggesting train_with_padding', async () => {
    const b = new MlstmBackend({ ...config, chunkSize: 16 }, { device: ctx });
    await expect(b.forward(inputs(1, 20))).rejects.toThrow(/train_with_padding/);
  });

  it('inference hand-over: 60 + 1 + 39 tokens in three calls = 100 tokens in one call', async () => {
    const S = 100;
    const x = inputs(7, S);
    const b = new MlstmBackend({ ...config, mode: 'inference', chunkSize: 32 }, { device: ctx });
    const whole = await b.inference(x);
    const slice = (t: Tensor, a: number, e: number): Tensor => {
      const D = t.shape.length === 4 ? t.shape[3] : 1;
      const out = new Float32Array(2 * (e - a) * D);
      for (let h = 0; h < 2; h++) out.set(t.data.subarray((h * S + a) * D, (h * S + e) * D), h * (e - a) * D);
      return { shape: t.shape.length === 4 ? [1, 2, e - a, D] : [1, 2, e - a], data: out };
    };
    const part = (a: number, e: number) => ({
      q: slice(x.q, a, e),
      k: slice(x.k, a, e),
      v: slice(x.v, a, e),
      i: slice(x.i, a, e),
      f: slice(x.f, a, e),
    });
    const r1 = await b.inference(part(0, 60));
    const s1 = r1.lastStates;
    const r2 = await b.inference({ ...part(60, 61), cInitial: s1.c, nInitial: s1.n, mInitial: s1.m });
    const s2 = r2.lastStates;
    const r3 = await b.inference({ ...part(61, 100), cInitial: s2.c, nInitial: s2.n, mInitial: s2.m });
    expect([...r2.h.shape]).toEqual([1, 2, 1, 16]);
    const hs = [r1.h, r2.h, r3.h];
    const joined = new Float64Array(2 * S * 16);
    for (let h = 0; h < 2; h++) {
      let off = 0;
      for (const p of hs) {
        const len = p.shape[2] * 16;
        joined.set(p.data.subarray(h * len, (h + 1) * len), h * S * 16 + off);
        off += len;
      }
    }
    // states are handed over as float32 (inferenceStateDtype): the split differs from one call by
    // float32 rounding of the states, well inside tol
    const stol = Math.max(tol, 1e-6);
    expectClose({ shape: [1, 2, S, 16], data: joined }, whole.h, stol, 'h');
    expectClose(r3.lastStates.c, whole.lastStates.c, stol, 'c');
    expectClose(r3.lastStates.n, whole.lastStates.n, stol, 'n');
    expectClose(r3.lastStates.m, whole.lastStates.m, stol, 'm');
    const ref = mlstmRecurrentSequence({ ...x, returnLastStates: true });
    expectClose(whole.h, ref.h, Math.max(tol, 1e-6), 'h vs recurrent');
  });

  it('inference with S = 1 and no states runs the step kernel from zero states', async () => {
    const x = inputs(3, 1);
    const b = new MlstmBackend({ ...config, mode: 'inference' }, { device: ctx });
    const r = await b.forward(x);
    const ref = mlstmRecurrentSequence({ ...x, returnLastStates: true });
    expect([...r.h.shape]).toEqual([1, 2, 1, 16]);
    expectClose(r.h as Tensor, ref.h, Math.max(tol, 1e-6), 'h');
    expectClose((r.lastStates as { c: Tensor }).c, ref.lastStates!.c, Math.max(tol, 1e-6), 'c');
  });
});

describe('GpuTensor inputs', () => {
  const gpuConfig = KINDS.webgpu.config;
  const up = (x: Record<string, Tensor>) =>
    Object.fromEntries(Object.entries(x).map(([k, t]) => [k, upload(ctx, t)]));

  it('no GPU memory leak: train_with_padding forward + backward, then inference with states (liveBytes back to start)', async () => {
    const S = 40;
    const x = inputs(11, S);
    const dh = toFloat32(randn(new Rng(12), [1, 2, S, 16]));
    await ctx.sync();
    const start = ctx.pool.stats.liveBytes;
    const g = up(x);
    const gdh = upload(ctx, dh);
    const b = new MlstmBackend(
      { ...gpuConfig, mode: 'train_with_padding', chunkSize: 16, returnLastStates: false },
      { device: ctx },
    );
    const r = await b.train({ q: g.q, k: g.k, v: g.v, i: g.i, f: g.f });
    const grads = await r.backward(gdh);
    const ref = mlstmChunkwiseBackward({ ...x, dh, chunkSize: S });
    expectClose(await cpu(ctx, grads.dk), ref.dk, 2e-5, 'dk');
    // train (no padding, S multiple of the chunk) with a forward that is released without backward
    const b2 = new MlstmBackend({ ...gpuConfig, chunkSize: 8, returnLastStates: true }, { device: ctx });
    const r2 = await b2.train({ q: g.q, k: g.k, v: g.v, i: g.i, f: g.f });
    r2.release();
    // inference: 40 = 32 + 8 → chunkwise 32, then the sequence kernel for 8, plus one step
    const bi = new MlstmBackend({ ...gpuConfig, mode: 'inference', chunkSize: 32 }, { device: ctx });
    const ri = await bi.inference({ q: g.q, k: g.k, v: g.v, i: g.i, f: g.f });
    const one = (_t: TensorLike, d: number) => ctx.zeros(d ? [1, 2, 1, d] : [1, 2, 1]);
    const tok = { q: one(g.q, 16), k: one(g.k, 16), v: one(g.v, 16), i: one(g.i, 0), f: one(g.f, 0) };
    const rs = await bi.inference({
      ...tok,
      cInitial: ri.lastStates.c,
      nInitial: ri.lastStates.n,
      mInitial: ri.lastStates.m,
    });
    for (const t of [
      r.h,
      ...Object.values(grads),
      r2.h,
      r2.lastStates!.c,
      r2.lastStates!.n,
      r2.lastStates!.m,
      ri.h,
      ...Object.values(ri.lastStates),
      rs.h,
      ...Object.values(rs.lastStates),
      ...Object.values(tok),
      ...Object.values(g),
      gdh,
    ])
      t?.release();
    await ctx.sync();
    expect(ctx.pool.stats.liveBytes).toBe(start);
  });

  it('bad shapes and partial initial states: MlstmArgumentError naming the argument, before any GPU work', async () => {
    const x = inputs(1, 16);
    const b = new MlstmBackend({ ...gpuConfig, mode: 'inference', chunkSize: 16 }, { device: ctx });
    const before = ctx.pool.stats.liveBytes;
    const c0 = { shape: [1, 2, 16, 16], data: new Float32Array(512) };
    const cBad = { shape: [1, 2, 16, 8], data: new Float32Array(256) };
    const n0 = { shape: [1, 2, 16], data: new Float32Array(32) };
    const m0 = { shape: [1, 2, 1], data: new Float32Array(2) };
    await expect(b.forward({ ...x, k: inputs(1, 15).k })).rejects.toMatchObject({ argument: 'k' });
    await expect(b.forward({ ...x, f: inputs(1, 15).f })).rejects.toMatchObject({ argument: 'f' });
    await expect(b.forward({ ...x, cInitial: c0 })).rejects.toMatchObject({ argument: 'nInitial' });
    await expect(
      b.forward({ ...x, mode: 'train', cInitial: cBad, nInitial: n0, mInitial: m0 }),
    ).rejects.toMatchObject({ argument: 'cInitial' });
    expect(ctx.pool.stats.liveBytes).toBe(before);
  });

  it('GpuTensor inputs without a context: typed error naming "gpu"', async () => {
    const g = up(inputs(1, 16));
    const b = new MlstmBackend({ ...gpuConfig, chunkSize: 16 });
    await expect(b.forward({ q: g.q, k: g.k, v: g.v, i: g.i, f: g.f })).rejects.toMatchObject({
      argument: 'gpu',
    });
    for (const t of Object.values(g)) t.release();
  });
});
