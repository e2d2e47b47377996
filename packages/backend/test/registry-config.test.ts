/**
 * The registry (names, errors, one signature for every kernel) and the config (defaults,
 * validation, fromPythonConfig).
 *
 * Interchangeability: every training kernel runs the same call on the same input and is compared
 * with its core-reference twin — float64 CPU kernels at 1e-12 (same code), WebGPU kernels at 2e-5
 * (float32 arithmetic, see fixtures.test.ts).
 */
import {
  mlstmChunkwise,
  mlstmParallel,
  mlstmRecurrentSequence,
  mlstmRecurrentStep,
  mlstmSigChunkwise,
  mlstmSigParallel,
  type Tensor,
  toFloat32,
} from '@mlstm/core-reference';
import { randomMlstmInputs, Rng } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MLSTM_BACKEND_CONFIG,
  fromPythonConfig,
  getAvailableMlstmKernels,
  getAvailableMlstmSequenceKernels,
  getAvailableMlstmStepKernels,
  getMlstmKernel,
  getMlstmSequenceKernel,
  getMlstmStepKernel,
  MlstmBackend,
  MlstmBackendConfigError,
  MlstmKernelNotFoundError,
} from '../src/index.js';
import { cpu, expectClose, openGpuContext } from './helpers.js';

const ctx = await openGpuContext();

describe('registry', () => {
  it('lists the training, sequence-loop and step kernels under the upstream grammar', () => {
    expect(getAvailableMlstmKernels()).toEqual({
      sequence: [
        'chunkwise--native_custbw',
        'chunkwise--webgpu_limit_chunk',
        'chunkwise--webgpu_xl_chunk',
        'chunkwise--webgpu_xl_chunk_siging',
        'parallel--native_custbw',
        'parallel--native_stablef_custbw',
        'parallel--native_siging_custbw',
        'parallel--webgpu_limit_headdim',
      ],
      sequenceLoop: ['native_sequence__native', 'native_sequence__webgpu'],
      step: ['native', 'webgpu'],
    });
    expect(getAvailableMlstmSequenceKernels()).toEqual([
      'native_sequence__native',
      'native_sequence__webgpu',
    ]);
    expect(getAvailableMlstmStepKernels()).toEqual(['native', 'webgpu']);
    for (const s of getAvailableMlstmKernels().sequence) expect(getMlstmKernel(s).specifier).toBe(s);
  });

  it('unknown specifiers: MlstmKernelNotFoundError listing the valid names (and the triton → webgpu hint)', () => {
    let err: unknown;
    try {
      getMlstmKernel('chunkwise--triton_xl_chunk');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MlstmKernelNotFoundError);
    const e = err as MlstmKernelNotFoundError;
    expect(e.argument).toBe('specifier');
    expect(e.available).toEqual(getAvailableMlstmKernels().sequence);
    expect(e.message).toContain('"chunkwise--webgpu_xl_chunk"');
    expect(e.message).toContain('try "chunkwise--webgpu_xl_chunk"');
    expect(() => getMlstmStepKernel('triton')).toThrow(/"native", "webgpu"/);
    expect(() => getMlstmSequenceKernel('nope')).toThrow(MlstmKernelNotFoundError);
  });

  it('every training kernel: same call, same result as its core-reference twin (CPU tensors in, CPU out)', async () => {
    const x0 = randomMlstmInputs(new Rng(5), { B: 1, NH: 2, S: 32, DHQK: 16, DHHV: 16 });
    const x = Object.fromEntries(
      Object.entries(x0).map(([k, t]) => [k, toFloat32(t as Tensor)]),
    ) as typeof x0;
    // eps = 0: the parallel form's stabiliser differs from the chunkwise one only through eps·e^m (§1.1)
    const args = { ...x, chunkSize: 16, eps: 0 };
    const twin: Record<string, Tensor> = {
      exp: mlstmChunkwise(args).h,
      sig: mlstmSigChunkwise(args).h,
      parallel: mlstmParallel({ ...x, eps: 0 }).h,
      parallelSig: mlstmSigParallel({ ...x, eps: 0 }).h,
    };
    for (const spec of getAvailableMlstmKernels().sequence) {
      const kernel = getMlstmKernel(spec);
      const r = await kernel(args, { device: ctx });
      const ref =
        kernel.family === 'chunkwise'
          ? twin[kernel.gate]
          : kernel.gate === 'sig'
            ? twin.parallelSig
            : twin.parallel;
      expectClose(r.h, ref, kernel.platform === 'cpu' ? 1e-12 : 2e-5, spec);
    }
    const st = mlstmRecurrentSequence({ ...x, returnLastStates: true });
    for (const name of getAvailableMlstmSequenceKernels()) {
      const r = await getMlstmSequenceKernel(name)({ ...x, returnLastStates: true }, { device: ctx });
      expectClose(r.h, st.h, name.endsWith('native') ? 1e-12 : 2e-5, name);
      expectClose(r.lastStates!.c, st.lastStates!.c, name.endsWith('native') ? 1e-12 : 2e-5, `${name} c`);
    }
    const one = (t: Tensor, d: number): Tensor => ({ shape: [1, 2, d], data: t.data.slice(0, 2 * d) });
    const stepArgs = {
      q: one(x.q, 16),
      k: one(x.k, 16),
      v: one(x.v, 16),
      i: one(x.i, 1),
      f: one(x.f, 1),
      ...st.lastStates!,
    };
    const refStep = mlstmRecurrentStep(stepArgs);
    for (const name of getAvailableMlstmStepKernels()) {
      const r = await getMlstmStepKernel(name)(
        { ...stepArgs, c: toFloat32(stepArgs.c), n: toFloat32(stepArgs.n), m: toFloat32(stepArgs.m) },
        { device: ctx },
      );
      expectClose(await cpu(ctx, r.h), refStep.h, 2e-5, `step ${name}`);
    }
  });
});

describe('config', () => {
  it('defaults (upstream, adapted) and validation errors name the field', () => {
    const b = new MlstmBackend();
    expect(b.config).toEqual(DEFAULT_MLSTM_BACKEND_CONFIG);
    expect(b.config).toMatchObject({
      chunkwiseKernel: 'chunkwise--native_custbw',
      sequenceKernel: 'native_sequence__native',
      stepKernel: 'native',
      mode: 'train',
      chunkSize: 64,
      returnLastStates: true,
      autocastKernelDtype: 'f32',
      eps: 1e-6,
      inferenceStateDtype: 'f32',
      normalizeSiging: true,
    });
    const field = (cfg: object) => {
      try {
        new MlstmBackend(cfg as never);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        return (e as MlstmBackendConfigError).argument;
      }
      return 'no error';
    };
    expect(field({ chunkSize: 0 })).toBe('chunkSize');
    expect(field({ chunkSize: 12.5 })).toBe('chunkSize');
    expect(field({ chunkwiseKernel: 'chunkwise--webgpu_limit_chunk', chunkSize: 128 })).toBe('chunkSize');
    expect(field({ mode: 'eval' })).toBe('mode');
    expect(field({ eps: -1 })).toBe('eps');
    expect(field({ autocastKernelDtype: 'float64' })).toBe('autocastKernelDtype');
    expect(field({ inferenceStateDtype: 'int8' })).toBe('inferenceStateDtype');
    expect(field({ chunkwiseKernel: 'chunkwise--native_autograd' })).toBe('chunkwiseKernel');
    expect(field({ stepKernel: 'triton' })).toBe('stepKernel');
    expect(field({ normalizeSiging: 'yes' })).toBe('normalizeSiging');
    expect(field({ chunk_size: 64 })).toBe('chunk_size');
    // upstream __post_init__: return_last_states with a parallel kernel or with padding
    expect(field({ chunkwiseKernel: 'parallel--native_custbw' })).toBe('returnLastStates');
    expect(field({ mode: 'train_with_padding' })).toBe('returnLastStates');
    expect(field({ chunkwiseKernel: 'parallel--native_custbw', returnLastStates: false })).toBe('no error');
    // inference needs a chunkwise mLSTMexp kernel (upstream gap for siging, §8.2)
    expect(
      field({
        mode: 'inference',
        chunkwiseKernel: 'chunkwise--webgpu_xl_chunk_siging',
        returnLastStates: false,
      }),
    ).toBe('chunkwiseKernel');
    expect(() => new MlstmBackend({ eps: Number.NaN })).toThrow(MlstmBackendConfigError);
  });

  it('fromPythonConfig maps snake_case keys, triton_* names and torch dtypes', () => {
    const c = fromPythonConfig({
      chunkwise_kernel: 'chunkwise--triton_xl_chunk',
      sequence_kernel: 'native_sequence__triton',
      step_kernel: 'triton',
      mode: 'inference',
      chunk_size: 128,
      return_last_states: true,
      autocast_kernel_dtype: 'torch.bfloat16',
      eps: 1e-6,
      inference_state_dtype: 'float32',
      normalize_siging: true,
    });
    expect(c).toEqual({
      chunkwiseKernel: 'chunkwise--webgpu_xl_chunk',
      sequenceKernel: 'native_sequence__webgpu',
      stepKernel: 'webgpu',
      mode: 'inference',
      chunkSize: 128,
      returnLastStates: true,
      autocastKernelDtype: 'bf16',
      eps: 1e-6,
      inferenceStateDtype: 'f32',
      normalizeSiging: true,
    });
    expect(fromPythonConfig({ chunkwise_kernel: 'chunkwise--native_autograd' }).chunkwiseKernel).toBe(
      'chunkwise--native_custbw',
    );
    expect(
      fromPythonConfig({ chunkwise_kernel: 'parallel--triton_limit_headdim', return_last_states: false })
        .chunkwiseKernel,
    ).toBe('parallel--webgpu_limit_headdim');
    expect(() => fromPythonConfig({ chunk_sise: 64 })).toThrow(/chunk_sise/);
    expect(() => fromPythonConfig({ chunkwise_kernel: 'chunkwise--triton_nope' })).toThrow(
      MlstmKernelNotFoundError,
    );
  });
});
