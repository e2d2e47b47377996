/**
 * Element-wise dtype conversion on the GPU (f32 ↔ f16), for kernels that run in another
 * storage type than their inputs (`computeDtype`). f32 → f16 follows the package's f16 policy
 * (`wgslSaturateF16` of device/f16.ts, the rule `packF16` applies on the CPU): round to nearest,
 * saturate to ±65 504, NaN kept. On a context created with `countF16Saturation`, a separate
 * pipeline also counts the saturated values into the context's counter (`ctx.f16Saturations()`).
 */
import type { DispatchBatch, GpuContext } from '../device/context.js';
import { wgslF16Saturates, wgslSaturateF16 } from '../device/f16.js';
import { defineParams } from '../device/params.js';
import type { GpuTensor } from '../device/tensor.js';
import { KernelArgumentError } from '../errors.js';
import { splitWorkgroups } from '../wgsl/common.js';

const params = defineParams({ n: 'u32' });
const WG = 256;

/** Encodes `dst = dtype(src)` element-wise; the tensors must have the same number of elements. */
export function encodeCast(ctx: GpuContext, batch: DispatchBatch, src: GpuTensor, dst: GpuTensor): void {
  if (src.numel !== dst.numel)
    throw new KernelArgumentError('dst', `${src.numel} elements (as src)`, `${dst.numel}`, 'encodeCast');
  const [from, to] = [src.dtype, dst.dtype];
  const narrowing = from === 'f32' && to === 'f16';
  // the counting variant only where it counts something (its own cache key; the default WGSL is unchanged)
  const counter = narrowing ? ctx.f16SaturationCounter() : null;
  const body = narrowing
    ? counter
      ? `let v = src[idx];
  if (${wgslF16Saturates('v')}) { atomicAdd(&saturations[0], 1u); }
  dst[idx] = ${wgslSaturateF16('v')};`
      : `let v = src[idx];
  dst[idx] = ${wgslSaturateF16('v')};`
    : `dst[idx] = ${to}(src[idx]);`;
  const pipeline = ctx.pipeline(
    `util:cast:${from}:${to}${counter ? ':count' : ''}`,
    () => `enable f16;
${params.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<${from}>;
@group(0) @binding(2) var<storage, read_write> dst: array<${to}>;${counter ? '\n@group(0) @binding(3) var<storage, read_write> saturations: array<atomic<u32>>;' : ''}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (idx >= P.n) { return; }
  ${body}
}`,
    counter ? ['uniform', 'read', 'rw', 'rw'] : ['uniform', 'read', 'rw'],
  );
  batch.dispatch(
    pipeline,
    counter ? [src, dst, counter] : [src, dst],
    params.pack({ n: src.numel }),
    splitWorkgroups(Math.ceil(src.numel / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    `cast ${from}→${to}`,
  );
}

/** A new tensor holding `t` converted to `dtype` (submitted at once; release it when done). */
export function castTensor(ctx: GpuContext, t: GpuTensor, dtype: GpuTensor['dtype']): GpuTensor {
  const out = ctx.empty(t.shape, dtype);
  const batch = ctx.batch();
  encodeCast(ctx, batch, t, out);
  batch.submit();
  return out;
}
