/**
 * Strided block copy on the GPU: `dst[b·block + e] = src[b·srcStride + srcOffset + e]` for
 * `b < blocks`, `e < block` (f32). Used to take one boundary state (e.g. the last) out of the
 * stacked per-chunk states.
 */
import type { DispatchBatch, GpuContext } from '../device/context.js';
import { defineParams } from '../device/params.js';
import type { GpuTensor } from '../device/tensor.js';
import { splitWorkgroups } from '../wgsl/common.js';

const params = defineParams({
  blocks: 'u32',
  block: 'u32',
  srcStride: 'u32',
  srcOffset: 'u32',
  total: 'u32',
});

const WG = 256;

export function encodeCopyBlocks(
  ctx: GpuContext,
  batch: DispatchBatch,
  src: GpuTensor,
  dst: GpuTensor,
  blocks: number,
  block: number,
  srcStride: number,
  srcOffset: number,
): void {
  const pipeline = ctx.pipeline(
    'util:copyBlocks',
    () => `${params.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (idx >= P.total) { return; }
  let b = idx / P.block;
  let e = idx % P.block;
  dst[idx] = src[b * P.srcStride + P.srcOffset + e];
}`,
    ['uniform', 'read', 'rw'],
  );
  const total = blocks * block;
  batch.dispatch(
    pipeline,
    [src, dst],
    params.pack({ blocks, block, srcStride, srcOffset, total }),
    splitWorkgroups(Math.ceil(total / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    'copyBlocks',
  );
}
