/**
 * What a user meets in the first hour with the backend: one error hierarchy across the packages,
 * one option name for the context (`gpu`), dtype names with their aliases, option keys checked,
 * tensor arguments validated with real messages on both paths, and non-finite inputs caught
 * (`checkFinite`: on for CPU tensors, opt-in for GpuTensors).
 */
import * as kernels from '@mlstm/kernels-webgpu';
import { describe, expect, it } from 'vitest';
import * as backend from '../src/index.js';
import {
  getMlstmKernel,
  MlstmArgumentError,
  MlstmBackend,
  MlstmBackendConfigError,
  MlstmDeviceError,
  MlstmError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
  resolveMlstmBackendConfig,
} from '../src/index.js';
import { openGpuContext } from './helpers.js';

const rand = (...shape: number[]) => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, x) => Math.sin(x * 0.37)),
});
const [B, NH, S, D] = [1, 2, 32, 8];
const inputs = () => ({
  q: rand(B, NH, S, D),
  k: rand(B, NH, S, D),
  v: rand(B, NH, S, D),
  i: rand(B, NH, S),
  f: rand(B, NH, S),
});

describe('one error hierarchy, re-exported by the backend', () => {
  it.each([
    ['KernelArgumentError', new kernels.KernelArgumentError('q', 'a', 'b'), MlstmArgumentError],
    ['MlstmBackendConfigError', new MlstmBackendConfigError('mode', 'a', 'b'), MlstmArgumentError],
    ['GpuDeviceLostError', new kernels.GpuDeviceLostError('destroyed', ''), MlstmDeviceError],
    ['GpuValidationError', new kernels.GpuValidationError('validation', 'x'), MlstmDeviceError],
    ['NoAdapterError', new kernels.NoAdapterError('none'), MlstmDeviceError],
  ] as const)('%s extends its base and MlstmError', (_, err, base) => {
    expect(err).toBeInstanceOf(base);
    expect(err).toBeInstanceOf(MlstmError);
  });

  it('the classes are the same objects in every package', () => {
    expect(kernels.MlstmArgumentError).toBe(MlstmArgumentError);
    expect(kernels.MlstmOutOfMemoryError).toBe(MlstmOutOfMemoryError);
  });

  it('what the README examples import is exported by the backend', () => {
    expect(backend.getGpuContext).toBe(kernels.getGpuContext);
    expect(backend.GpuContext).toBe(kernels.GpuContext);
    expect(backend.GpuTensor).toBe(kernels.GpuTensor);
    expect(backend.KernelArgumentError).toBe(kernels.KernelArgumentError);
    expect(backend.NoAdapterError).toBe(kernels.NoAdapterError);
  });
});

describe('out of memory is its own error', () => {
  it('a buffer the device cannot allocate: MlstmOutOfMemoryError, not a raw TypeError', async () => {
    const ctx = await openGpuContext();
    let err: unknown;
    try {
      ctx.pool.acquire(2 ** 60, GPUBufferUsage.STORAGE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MlstmOutOfMemoryError);
    expect((err as Error).message).toMatch(/cannot allocate a GPU buffer of \d+ bytes/);
  });
});

describe('vocabulary: `gpu` for the context, dtype names', () => {
  it.each([
    [{ autocastKernelDtype: 'float16' as const }, 'autocastKernelDtype', 'f16'],
    [{ autocastKernelDtype: 'bfloat16' as const }, 'autocastKernelDtype', 'bf16'],
    [{ inferenceStateDtype: 'f16' as const }, 'inferenceStateDtype', 'f16'],
  ])('%o resolves to the short name', (config, field, value) => {
    expect(resolveMlstmBackendConfig(config)[field as 'autocastKernelDtype']).toBe(value);
  });

  it('an unknown dtype names the valid ones', () => {
    expect(() => resolveMlstmBackendConfig({ autocastKernelDtype: 'q8' as never })).toThrow(
      /"f32", "f16", "bf16"/,
    );
  });

  it('`gpu` and the deprecated `device` both take the context', async () => {
    const ctx = await openGpuContext();
    const config = { chunkwiseKernel: 'chunkwise--webgpu_xl_chunk' as const, chunkSize: 16 };
    const x = inputs();
    const g = Object.fromEntries(
      Object.entries(x).map(([k, t]) => [k, ctx.upload(t.data, t.shape)]),
    ) as never;
    for (const options of [{ gpu: ctx }, { device: ctx }]) {
      const r = await new MlstmBackend(config, options).train(g);
      expect(r.h).toBeInstanceOf(kernels.GpuTensor);
      r.release();
      (r.h as kernels.GpuTensor).release();
      (r.lastStates?.c as kernels.GpuTensor | undefined)?.release();
      (r.lastStates?.n as kernels.GpuTensor | undefined)?.release();
      (r.lastStates?.m as kernels.GpuTensor | undefined)?.release();
    }
    for (const t of Object.values(g) as kernels.GpuTensor[]) t.release();
  });
});

describe("device: 'webgpu' | 'cpu' | 'auto' (the vocabulary of hf-model and transformers.js)", () => {
  it("'webgpu' puts the default kernels on WebGPU, 'cpu' keeps them; a named kernel must match", () => {
    const w = new MlstmBackend({ chunkSize: 16 }, { device: 'webgpu' }).config;
    expect([w.chunkwiseKernel, w.sequenceKernel, w.stepKernel]).toEqual([
      'chunkwise--webgpu_xl_chunk',
      'native_sequence__webgpu',
      'webgpu',
    ]);
    const c = new MlstmBackend({ chunkSize: 16 }, { device: 'cpu' }).config;
    expect([c.chunkwiseKernel, c.sequenceKernel, c.stepKernel]).toEqual([
      'chunkwise--native_custbw',
      'native_sequence__native',
      'native',
    ]);
    // a named kernel stays (here the WebGPU limit_chunk kernel, with the WebGPU step kernel filled in)
    const l = new MlstmBackend({ chunkwiseKernel: 'chunkwise--webgpu_limit_chunk' }, { device: 'webgpu' })
      .config;
    expect([l.chunkwiseKernel, l.stepKernel]).toEqual(['chunkwise--webgpu_limit_chunk', 'webgpu']);
    const clash = () =>
      new MlstmBackend({ chunkwiseKernel: 'chunkwise--webgpu_xl_chunk' }, { device: 'cpu' });
    expect(clash).toThrow(MlstmArgumentError);
    expect(clash).toThrow(/device: expected 'webgpu' for chunkwiseKernel "chunkwise--webgpu_xl_chunk"/);
    expect(() => new MlstmBackend({ stepKernel: 'native' }, { device: 'webgpu' })).toThrow(/device/);
    expect(() => new MlstmBackend({}, { device: 'gpu' as never })).toThrow(MlstmOptionError);
    expect(() => new MlstmBackend({}, { device: 'gpu' as never })).toThrow(/"webgpu", "cpu", "auto"/);
  });

  it("'webgpu' runs on the GPU and equals 'cpu' (f32 kernels against the float64 reference)", async () => {
    const x = inputs();
    const [g, c] = await Promise.all(
      (['webgpu', 'cpu'] as const).map((device) =>
        new MlstmBackend({ chunkSize: 16, mode: 'inference' }, { device }).forward(x),
      ),
    );
    const a = g.h as { data: Float32Array };
    const b = c.h as { data: Float32Array };
    let d = 0;
    for (let j = 0; j < a.data.length; j++) d = Math.max(d, Math.abs(a.data[j] - b.data[j]));
    expect(d).toBeGreaterThan(0); // different kernels ran
    expect(d).toBeLessThan(1e-4);
  });

  it("'auto' decides at the first call: WebGPU where an adapter opens", async () => {
    const b = new MlstmBackend({ chunkSize: 16, mode: 'inference' }, { device: 'auto' });
    expect(b.config.chunkwiseKernel).toBe('chunkwise--native_custbw'); // not decided yet
    await b.ready();
    let gpu = true;
    try {
      await kernels.getGpuContext();
    } catch {
      gpu = false;
    }
    expect(b.config.chunkwiseKernel).toBe(gpu ? 'chunkwise--webgpu_xl_chunk' : 'chunkwise--native_custbw');
    const r = await b.forward(inputs());
    expect(r.h.shape).toEqual(inputs().q.shape.slice(0, 3).concat([inputs().v.shape[3]]));
  });
});

describe('option keys are checked', () => {
  it('MlstmBackend: a misspelt option', () => {
    expect(() => new MlstmBackend({}, { chekFinite: false } as never)).toThrow(MlstmOptionError);
    expect(() => new MlstmBackend({}, { chekFinite: false } as never)).toThrow(/did you mean "checkFinite"/);
  });
  it('MlstmBackend.forward: a misspelt argument (e.g. a sequence-start option) is named', async () => {
    const b = new MlstmBackend({ chunkSize: 16, mode: 'inference' });
    const err = await b.forward({ ...inputs(), seqStart: [0] } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlstmOptionError);
    expect((err as MlstmOptionError).message).toMatch(/args\.seqStart: expected a known key: "q", "k"/);
  });
  it('getGpuContext: a misspelt option, before any adapter is asked for', async () => {
    await expect(kernels.getGpuContext({ powerPreferense: 'low-power' } as never)).rejects.toThrow(
      /getGpuContext: options\.powerPreferense: .*did you mean "powerPreference"/,
    );
  });
  it('a registry kernel: a misspelt option', async () => {
    await expect(
      getMlstmKernel('chunkwise--native_custbw')({ ...inputs(), chunkSize: 16 }, { gpus: 1 } as never),
    ).rejects.toThrow(/options\.gpus: expected a known key: "gpu", "device", "checkFinite"/);
  });
});

describe('tensor arguments: one validation, real messages on every path', () => {
  const short = { shape: [B, NH, S, D], data: new Float32Array(10) };
  it.each([
    ['chunkwise--native_custbw', short, /512 elements for shape \(1, 2, 32, 8\), got 10 elements/],
    ['chunkwise--webgpu_xl_chunk', short, /512 elements for shape \(1, 2, 32, 8\), got 10 elements/],
    ['chunkwise--webgpu_xl_chunk', Array.from({ length: 512 }, () => 0), /got a plain array of length 512/],
    [
      'chunkwise--native_custbw',
      { shape: [B, NH, S, D], data: new Int32Array(512) },
      /got a Int32Array of length 512/,
    ],
  ])('%s, q = %#', async (spec, q, message) => {
    const k = getMlstmKernel(spec as 'chunkwise--native_custbw');
    const err = await k({ ...inputs(), q: q as never, chunkSize: 16 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlstmArgumentError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toMatch(/object Object/);
  });

  it('MlstmBackend: same message', async () => {
    const err = await new MlstmBackend({ chunkSize: 16 })
      .train({ ...inputs(), v: short })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlstmArgumentError);
    expect((err as Error).message).toMatch(
      /v: expected 512 elements for shape \(1, 2, 32, 8\), got 10 elements/,
    );
  });
});

describe('checkFinite', () => {
  const withNaN = () => {
    const x = inputs();
    x.f.data[37] = Number.NaN; // (0, 1, 5)
    return x;
  };

  it.each([
    ['chunkwise--native_custbw'],
    ['chunkwise--webgpu_xl_chunk'],
    ['parallel--native_custbw'],
  ] as const)('%s (CPU tensors): on by default, names f and index 37', async (spec) => {
    const err = await getMlstmKernel(spec)({ ...withNaN(), chunkSize: 16, returnLastStates: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MlstmNonFiniteError);
    expect(err).toMatchObject({ tensor: 'f', index: 37, position: [0, 1, 5] });
  });

  it('MlstmBackend, every mode, and a NaN in dh of the backward', async () => {
    for (const mode of ['train', 'train_with_padding', 'inference'] as const) {
      const b = new MlstmBackend({ mode, chunkSize: 16, returnLastStates: mode === 'train' });
      await expect(b.forward(withNaN())).rejects.toMatchObject({
        name: 'MlstmNonFiniteError',
        tensor: 'f',
        index: 37,
      });
    }
    const r = await new MlstmBackend({ chunkSize: 16 }).train(inputs());
    const dh = rand(B, NH, S, D);
    dh.data[3] = Number.POSITIVE_INFINITY;
    await expect(r.backward(dh)).rejects.toMatchObject({ tensor: 'dh', index: 3 });
  });

  it('checkFinite: false lets NaN through (and it spreads, as the README says)', async () => {
    const r = await getMlstmKernel('chunkwise--native_custbw')(
      { ...withNaN(), chunkSize: 16 },
      { checkFinite: false },
    );
    expect(r.h.data.some(Number.isNaN)).toBe(true);
  });

  it('GpuTensors: off by default, opt-in reads them back', async () => {
    const ctx = await openGpuContext();
    const x = withNaN();
    const g = Object.fromEntries(
      Object.entries(x).map(([k, t]) => [k, ctx.upload(t.data, t.shape)]),
    ) as never;
    const kernel = getMlstmKernel('chunkwise--webgpu_xl_chunk');
    const r = await kernel({ ...(g as object), chunkSize: 16 } as never, { gpu: ctx });
    (r.h as kernels.GpuTensor).release();
    await expect(
      kernel({ ...(g as object), chunkSize: 16 } as never, { gpu: ctx, checkFinite: true }),
    ).rejects.toMatchObject({
      name: 'MlstmNonFiniteError',
      tensor: 'f',
      index: 37,
    });
    for (const t of Object.values(g) as kernels.GpuTensor[]) t.release();
  });
});

describe('results in the element type of the inputs', () => {
  const cpuConfig = {};
  const gpuConfig = {
    chunkwiseKernel: 'chunkwise--webgpu_xl_chunk',
    sequenceKernel: 'native_sequence__webgpu',
    stepKernel: 'webgpu',
  } as const;
  const as64 = (t: { shape: number[]; data: Float32Array }) => ({
    shape: t.shape,
    data: Float64Array.from(t.data),
  });
  it.each([
    ['CPU', cpuConfig, 'inference', 32],
    ['CPU', cpuConfig, 'inference', 37], // not a multiple of the chunk: pieces joined
    ['CPU', cpuConfig, 'train_with_padding', 37],
    ['CPU', cpuConfig, 'inference', 1],
    ['WebGPU', gpuConfig, 'inference', 37],
    ['WebGPU', gpuConfig, 'train_with_padding', 37],
  ] as const)(
    '%s %s, S = %i: Float32Array in → Float32Array out, Float64Array in → Float64Array out',
    async (_, config, mode, S) => {
      const x = {
        q: rand(B, NH, S, D),
        k: rand(B, NH, S, D),
        v: rand(B, NH, S, D),
        i: rand(B, NH, S),
        f: rand(B, NH, S),
      };
      const b = new MlstmBackend({ ...config, mode, chunkSize: 16, returnLastStates: false });
      const r32 = await b.forward(x);
      expect(r32.h.data).toBeInstanceOf(Float32Array);
      const x64 = Object.fromEntries(Object.entries(x).map(([k, t]) => [k, as64(t)]));
      const r64 = await b.forward(x64 as unknown as typeof x);
      expect(r64.h.data).toBeInstanceOf(Float64Array);
      if (mode === 'train_with_padding') {
        const g = await (r32 as backend.MlstmTrainResult<backend.TensorLike>).backward(rand(B, NH, S, D));
        expect((g.dq as { data: unknown }).data).toBeInstanceOf(Float32Array);
        (r64 as backend.MlstmTrainResult<backend.TensorLike>).release();
      }
    },
  );
});
