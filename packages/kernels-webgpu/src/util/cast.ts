/**
 * Element-wise dtype conversion on the GPU (f32 ↔ f16), for kernels that run in another
 * storage type than their inputs (`computeDtype`). f32 → f16 rounds to the nearest f16 and
 * clamps to the f16 range (±65504), as the f16 state copies of the matrix-unit path do.
 */
import type { DispatchBatch, GpuContext } from '../device/context.js';
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
  const value =
    from === 'f32' && to === 'f16' ? 'f16(clamp(src[idx], -65504.0, 65504.0))' : `${to}(src[idx])`;
  const pipeline = ctx.pipeline(
    `util:cast:${from}:${to}`,
    () => `enable f16;
${params.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<${from}>;
@group(0) @binding(2) var<storage, read_write> dst: array<${to}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (idx >= P.n) { return; }
  dst[idx] = ${value};
}`,
    ['uniform', 'read', 'rw'],
  );
  batch.dispatch(
    pipeline,
    [src, dst],
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
