/**
 * Moves packed sequences between the packed token axis and a padded batch, on the GPU. Packed:
 * `(1, NH, T, D)`; padded: `(G, NH, P, D)` where row `g` holds sequence `seq[g]` (tokens
 * `[start, start + len)` of the packed axis) at positions `[P − len, P)`, after `P − len` filler
 * positions. `gather` writes the padded batch (filler = `fill`); `scatter` writes the real
 * positions of a padded batch back to the packed axis (filler positions are dropped).
 */
import type { DispatchBatch, GpuContext } from '../device/context.js';
import { defineParams } from '../device/params.js';
import type { GpuTensor } from '../device/tensor.js';
import { splitWorkgroups } from '../wgsl/common.js';

const params = defineParams({
  G: 'u32',
  NH: 'u32',
  P: 'u32',
  D: 'u32',
  T: 'u32',
  total: 'u32',
  fill: 'f32',
});

const WG = 256;

/**
 * Encodes one gather (packed → padded) or scatter (padded → packed) of a tensor of element type
 * `packed.dtype`. `rows` holds `(start, len)` of each padded row as f32 (exact below 2^24).
 */
export function encodePackMove(
  ctx: GpuContext,
  batch: DispatchBatch,
  direction: 'gather' | 'scatter',
  packed: GpuTensor,
  padded: GpuTensor,
  rows: GpuTensor,
  fill = 0,
): void {
  const [G, NH, P] = padded.shape;
  const D = padded.shape.length === 4 ? padded.shape[3] : 1;
  const T = packed.shape[2];
  const el = packed.dtype;
  const [src, dst] = direction === 'gather' ? ['packed', 'padded'] : ['padded', 'packed'];
  const pipeline = ctx.pipeline(
    `util:pack:${direction}:${el}`,
    () => `${el === 'f16' ? 'enable f16;\n' : ''}${params.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> rows: array<f32>;
@group(0) @binding(2) var<storage, ${direction === 'gather' ? 'read' : 'read_write'}> packed: array<${el}>;
@group(0) @binding(3) var<storage, ${direction === 'gather' ? 'read_write' : 'read'}> padded: array<${el}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (idx >= P.total) { return; }
  let x = idx % P.D;
  let t = (idx / P.D) % P.P;
  let gh = idx / (P.D * P.P);
  let h = gh % P.NH;
  let g = gh / P.NH;
  let start = u32(rows[2u * g]);
  let pad = P.P - u32(rows[2u * g + 1u]);
  let real = t >= pad;
  let at = (h * P.T + start + select(0u, t - pad, real)) * P.D + x;
${
  direction === 'gather'
    ? `  padded[idx] = select(${el}(P.fill), packed[at], real);`
    : `  if (real) { packed[at] = padded[idx]; }`
}
}`,
    ['uniform', 'read', direction === 'gather' ? 'read' : 'rw', direction === 'gather' ? 'rw' : 'read'],
  );
  const total = G * NH * P * D;
  batch.dispatch(
    pipeline,
    [rows, packed, padded],
    params.pack({ G, NH, P, D, T, total, fill }),
    splitWorkgroups(Math.ceil(total / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    `pack ${direction} ${src}→${dst}`,
  );
}
