/** Shared helpers of the backend tests. */
import type { Tensor } from '@mlstm/core-reference';
import { type GpuContext, GpuTensor, getGpuContext } from '@mlstm/kernels-webgpu';
import { afterAll, expect } from 'vitest';
import type { TensorLike } from '../src/index.js';

export function maxAbs(t: Tensor): number {
  let m = 0;
  for (const x of t.data) m = Math.max(m, Math.abs(x));
  return m;
}

/** max |a − e| / max |e| */
export function relErr(a: Tensor, e: Tensor): number {
  expect([...a.shape]).toEqual([...e.shape]);
  let d = 0;
  for (let x = 0; x < e.data.length; x++) {
    const diff = Math.abs(a.data[x] - e.data[x]);
    if (!(diff <= d)) d = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
  }
  return d / (maxAbs(e) || 1);
}

/** Asserts `|a − e| ≤ tol · max|e|` element-wise, with a readable message. */
export function expectClose(a: Tensor, e: Tensor, tol: number, label: string): number {
  const r = relErr(a, e);
  expect(
    r,
    `${label}: max|Δ|/max|expected| = ${r.toExponential(2)} > ${tol.toExponential(2)}`,
  ).toBeLessThanOrEqual(tol);
  return r;
}

/** Opens one GpuContext for the test file and destroys it after the file's tests. */
export async function openGpuContext(): Promise<GpuContext> {
  const ctx = await getGpuContext();
  afterAll(() => ctx.destroy());
  return ctx;
}

/** Reads a tensor of either kind as a CPU tensor (GPU tensors are released when `release`). */
export async function cpu(ctx: GpuContext | undefined, t: TensorLike, release = false): Promise<Tensor> {
  if (!(t instanceof GpuTensor)) return t;
  const data = await ctx!.read(t);
  if (release) t.release();
  return { shape: [...t.shape], data };
}

export function upload(ctx: GpuContext, t: Tensor): GpuTensor {
  return ctx.upload(t.data, t.shape, 'f32');
}
