// Defensive set-up: no adapter, no shader-f16, small buffer limits, a lost device.
import {
  GpuDeviceLostError,
  getGpuContext,
  KernelArgumentError,
  mlstmChunkwiseXlChunk,
  NoAdapterError,
} from '@mlstm/kernels-webgpu';

const rand = (...shape: number[]) => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() - 0.5),
});

export async function main() {
  // 1) no adapter → NoAdapterError (install `webgpu` in Node, lavapipe without a GPU; see Installation)
  const ctx = await getGpuContext().catch((e) => {
    if (e instanceof NoAdapterError) console.error('no WebGPU adapter:', e.message);
    throw e;
  });

  // 2) no shader-f16 → store in f32 (gates, states and accumulators are f32 in either case)
  const dtype = ctx.features.shaderF16 ? 'f16' : 'f32';

  // 3) limits: one binding holds at most maxStorageBufferBindingSize bytes (128 MiB by default,
  //    2 GiB on an H100). Check a tensor's size up front; bad arguments throw before any dispatch.
  const [B, NH, S, D] = [1, 2, 64, 16];
  const bytes = B * NH * S * D * (dtype === 'f16' ? 2 : 4);
  if (bytes > ctx.limits.maxStorageBufferBindingSize) throw new Error('split the batch or the heads');
  const x = {
    q: rand(B, NH, S, D),
    k: rand(B, NH, S, D),
    v: rand(B, NH, S, D),
    i: rand(B, NH, S),
    f: rand(B, NH, S),
  };
  let argumentError = '';
  try {
    await mlstmChunkwiseXlChunk(ctx, { ...x, chunkSize: 48 }); // 48 does not divide S = 64
  } catch (e) {
    if (e instanceof KernelArgumentError) argumentError = e.argument;
    else throw e;
  }

  // 4) device lost (driver reset, out of memory, destroy()) → GpuDeviceLostError; recreate and retry
  ctx.device.destroy();
  await new Promise((r) => setTimeout(r, 0));
  let lost = false;
  try {
    await mlstmChunkwiseXlChunk(ctx, { ...x, chunkSize: 32 });
  } catch (e) {
    if (!(e instanceof GpuDeviceLostError)) throw e;
    lost = true;
    await ctx.recreate();
  }
  const { h } = await mlstmChunkwiseXlChunk(ctx, { ...x, chunkSize: 32, dtype });
  ctx.destroy();
  return { dtype, argumentError, lost, hShape: [...h.shape] };
}
