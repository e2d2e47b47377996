/**
 * Config fields that change what runs: autocastKernelDtype (f16 storage on the GPU),
 * inferenceStateDtype (rounded CPU states), parallel and siging kernels in train mode
 * (normalizeSiging, any S for parallel kernels).
 *
 * Tolerances (`max|Δ| ≤ tol · max|expected|`): WebGPU f32 2e-5 (fixtures.test.ts); f16 storage of
 * q, k, v, h: 1e-2 — the reference runs on the unrounded inputs, so the f16 rounding of the inputs
 * (2⁻¹¹ ≈ 4.9e-4 relative each) enters through q·k and C·q, plus the f16 rounding of h; a wrong
 * dtype or garbled f16 packing is O(1). CPU: float64 math, returned as float32 like the Float32Array
 * inputs (rounding 2⁻²⁴ ≈ 6e-8 relative): 1e-7.
 */
import {
  mlstmParallel,
  mlstmParallelBackward,
  mlstmRecurrentSequence,
  mlstmSigChunkwise,
  mlstmSigChunkwiseBackward,
  type Tensor,
  toFloat32,
} from '@mlstm/core-reference';
import { randn, randomMlstmInputs, Rng } from '@mlstm/core-reference/testing';
import { roundToF16 } from '@mlstm/kernels-webgpu';
import { describe, expect, it } from 'vitest';
import { gpuDtypeOf, MlstmBackend } from '../src/index.js';
import { expectClose, openGpuContext, relErr } from './helpers.js';

const ctx = await openGpuContext();
const GRADS = ['dq', 'dk', 'dv', 'di', 'df'] as const;

function inputs(seed: number, S: number) {
  const x = randomMlstmInputs(new Rng(seed), { B: 1, NH: 2, S, DHQK: 16, DHHV: 16 });
  return { q: toFloat32(x.q), k: toFloat32(x.k), v: toFloat32(x.v), i: toFloat32(x.i), f: toFloat32(x.f) };
}

const webgpu = {
  chunkwiseKernel: 'chunkwise--webgpu_xl_chunk',
  sequenceKernel: 'native_sequence__webgpu',
  stepKernel: 'webgpu',
} as const;

describe('dtypes', () => {
  it('autocastKernelDtype → GPU dtype (bfloat16: f32, its range does not fit f16)', () => {
    expect(gpuDtypeOf('float32', true)).toBe('f32');
    expect(gpuDtypeOf('float16', true)).toBe('f16');
    expect(gpuDtypeOf('bfloat16', true)).toBe('f32');
    expect(gpuDtypeOf('float16', false)).toBe('f32');
    expect(gpuDtypeOf('bfloat16', false)).toBe('f32');
  });

  it(`autocastKernelDtype float16 runs the WebGPU kernels in f16 (CPU inputs)${ctx.features.shaderF16 ? '' : ' [adapter has no shader-f16: f32 fallback checked]'}`, async () => {
    const x = inputs(21, 80);
    const ref = mlstmRecurrentSequence(x);
    const run = async (autocastKernelDtype: 'float32' | 'float16') =>
      (
        await new MlstmBackend(
          { ...webgpu, mode: 'inference', chunkSize: 32, autocastKernelDtype },
          { device: ctx },
        ).inference(x)
      ).h;
    const h32 = await run('float32');
    const h16 = await run('float16');
    expectClose(h32, ref.h, 2e-5, 'h f32');
    if (ctx.features.shaderF16) {
      expectClose(h16, ref.h, 1e-2, 'h f16');
      // really f16: every output is representable in f16 and the result differs from the f32 run
      expect(Array.from(h16.data).every((v, j) => v === roundToF16([h16.data[j]])[0])).toBe(true);
      expect(relErr(h16, h32)).toBeGreaterThan(1e-5);
    } else {
      expect(relErr(h16, h32)).toBe(0);
    }
  });

  it('autocastKernelDtype bfloat16 keeps values beyond the f16 range (stored as f32; float16 saturates them)', async () => {
    const x = inputs(22, 40);
    // v up to ~1e6: h (a normalised mix of v) goes far beyond ±65 504, in bfloat16's range
    x.v = { shape: x.v.shape, data: x.v.data.map((a) => a * 1e6) };
    const ref = mlstmRecurrentSequence(x);
    expect(Math.max(...Array.from(ref.h.data, Math.abs))).toBeGreaterThan(65504 * 4);
    const run = async (autocastKernelDtype: 'bfloat16' | 'float16') =>
      (
        await new MlstmBackend(
          { ...webgpu, mode: 'inference', chunkSize: 32, autocastKernelDtype },
          { device: ctx },
        ).inference(x)
      ).h;
    expectClose(await run('bfloat16'), ref.h, 2e-5, 'h bfloat16 (f32 storage)');
    if (ctx.features.shaderF16) {
      // f16 storage saturates v at ±65 504, so h is off by O(1) relative: what bfloat16 avoids
      expect(relErr(await run('float16'), ref.h)).toBeGreaterThan(0.1);
    }
  });

  it('inferenceStateDtype float16 / bfloat16: CPU states rounded to that precision', async () => {
    const x = inputs(22, 40);
    const run = async (inferenceStateDtype: 'float32' | 'float16' | 'bfloat16') =>
      (await new MlstmBackend({ mode: 'inference', chunkSize: 16, inferenceStateDtype }).inference(x))
        .lastStates;
    const s32 = await run('float32');
    const s16 = await run('float16');
    const sbf = await run('bfloat16');
    expect(s32.c.data).toBeInstanceOf(Float32Array);
    expect(Array.from(s16.c.data)).toEqual(Array.from(roundToF16(s32.c.data)));
    // bfloat16 keeps 8 mantissa bits: relative error ≤ 2⁻⁹, and the low 16 bits are zero
    const bits = new Uint32Array(Float32Array.from(sbf.c.data).buffer);
    expect(bits.every((b) => (b & 0xffff) === 0)).toBe(true);
    expect(relErr(sbf.c, s32.c)).toBeLessThanOrEqual(2 ** -8);
    expect(relErr(sbf.c, s32.c)).toBeGreaterThan(0);
  });
});

describe('parallel and siging kernels in train mode', () => {
  for (const [spec, tol] of [
    ['parallel--native_stablef_custbw', 1e-7],
    ['parallel--webgpu_limit_headdim', 2e-5],
  ] as const) {
    it(`${spec}: any S (here 20), h and gradients vs core-reference`, async () => {
      const x = inputs(23, 20);
      const dh = toFloat32(randn(new Rng(24), [1, 2, 20, 16]));
      const b = new MlstmBackend(
        { chunkwiseKernel: spec, returnLastStates: false, chunkSize: 64 },
        { device: ctx },
      );
      const r = await b.train(x);
      const g = await r.backward(dh);
      expectClose(r.h, mlstmParallel({ ...x, stableF: true }).h, tol, 'h');
      const refG = mlstmParallelBackward({ ...x, dh, stableF: true });
      for (const key of GRADS) expectClose(g[key], refG[key], tol, key);
    });
  }

  it('chunkwise--webgpu_xl_chunk_siging with normalizeSiging false: h, (c, n) and gradients vs core-reference', async () => {
    const x = inputs(25, 64);
    const dh = toFloat32(randn(new Rng(26), [1, 2, 64, 16]));
    const b = new MlstmBackend(
      { chunkwiseKernel: 'chunkwise--webgpu_xl_chunk_siging', chunkSize: 32, normalizeSiging: false },
      { device: ctx },
    );
    const r = await b.train(x);
    const ref = mlstmSigChunkwise({ ...x, chunkSize: 32, normalize: false, returnLastStates: true });
    expectClose(r.h, ref.h, 2e-5, 'h');
    expectClose(r.lastStates!.c, ref.lastStates!.c, 2e-5, 'c');
    expect(r.lastStates!.m).toBeUndefined();
    const g = await r.backward(dh);
    const refG = mlstmSigChunkwiseBackward({ ...x, dh, chunkSize: 32, normalize: false });
    for (const key of GRADS) expectClose(g[key], refG[key] as Tensor, 2e-5, key);
  });
});
