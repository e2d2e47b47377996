// Which adapter do the kernels get, and what can it do? Falls back to the CPU kernels without one.
import { getMlstmKernel } from '@mlstm/backend';
import { getGpuContext, NoAdapterError } from '@mlstm/kernels-webgpu';

export async function main() {
  try {
    const ctx = await getGpuContext(); // Node: dawn.node (`webgpu` package); browsers: navigator.gpu
    console.log(ctx.describe()); // adapter, features (shader-f16, subgroups, …), limits
    const summary = {
      adapter: ctx.adapterInfo.description || ctx.adapterInfo.vendor,
      f16: ctx.features.shaderF16,
      maxBinding: ctx.limits.maxStorageBufferBindingSize,
      kernel: getMlstmKernel('chunkwise--webgpu_xl_chunk').specifier,
    };
    ctx.destroy();
    return summary;
  } catch (e) {
    if (!(e instanceof NoAdapterError)) throw e;
    // no GPU: the same math on the CPU (float64), same call signature
    return {
      adapter: 'none',
      f16: false,
      maxBinding: 0,
      kernel: getMlstmKernel('chunkwise--native_custbw').specifier,
    };
  }
}
