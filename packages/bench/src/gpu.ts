/**
 * Opens the GPU for a benchmark run through kernels-webgpu's `getGpuContext()` (under Node:
 * dawn.node, kept alive for the process and installed as `navigator.gpu`, so onnxruntime-web
 * finds the same GPU; timestamps unquantised).
 */
import { type GpuContext, getGpuContext, type KernelTuning } from '@mlstm/kernels-webgpu';

export function openGpuContext(
  options: { disableRobustness?: boolean; tuning?: KernelTuning } = {},
): Promise<GpuContext> {
  return getGpuContext({ powerPreference: 'high-performance', ...options });
}

/** One line naming the adapter (recorded with every result). */
export function adapterName(ctx: GpuContext): string {
  const a = ctx.adapterInfo;
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ');
}
