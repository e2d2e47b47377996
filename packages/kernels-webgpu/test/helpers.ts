/**
 * Shared test helpers of the kernels package: one GpuContext per test file, and conversions
 * between GPU tensors and core-reference CPU tensors.
 */
import type { Tensor } from '@mlstm/core-reference';
import { afterAll, beforeAll } from 'vitest';
import { type GpuContext, type GpuTensor, getGpuContext } from '../src/index.js';

/**
 * Registers `beforeAll` / `afterAll` hooks that create one GpuContext for the file and destroy it
 * at the end; returns a getter (the context exists only once `beforeAll` has run).
 */
export function useGpuContext(): () => GpuContext {
  let ctx: GpuContext | undefined;
  beforeAll(async () => {
    ctx = await getGpuContext();
  });
  afterAll(() => {
    ctx?.destroy();
    ctx = undefined;
  });
  return () => {
    if (!ctx) throw new Error('useGpuContext: the context is only available inside tests (after beforeAll)');
    return ctx;
  };
}

/** Reads a GPU tensor back into a core-reference tensor (float32 data; f16 is unpacked). */
export async function readTensor(ctx: GpuContext, t: GpuTensor): Promise<Tensor> {
  return { shape: [...t.shape], data: await ctx.read(t) };
}

/** Uploads a core-reference tensor (f32 by default; f16 rounds to nearest even). */
export function uploadTensor(ctx: GpuContext, t: Tensor, dtype: 'f32' | 'f16' = 'f32'): GpuTensor {
  return ctx.upload(t.data, t.shape, dtype);
}

/** A copy of a core-reference tensor with every value rounded to float16 (what an f16 upload stores). */
export function roundTensorToF16(t: Tensor, round: (x: ArrayLike<number>) => Float32Array): Tensor {
  return { shape: [...t.shape], data: Float64Array.from(round(t.data)) };
}

/** A view of a tensor with another shape of the same size (no copy). */
export function reshapeTensor(t: Tensor, shape: readonly number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) throw new RangeError(`reshapeTensor: ${t.data.length} elements into [${shape}]`);
  return { shape: [...shape], data: t.data };
}
