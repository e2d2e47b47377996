/**
 * Random inputs made on the GPU (a hash-based normal generator in WGSL): the const-token suite
 * needs up to ~2 GB of q/k/v per cell, far too much to generate in JavaScript.
 */
import { defineParams, type GpuContext, type GpuDtype, type GpuTensor } from '@mlstm/kernels-webgpu';

const FILL = defineParams({ n: 'u32', seed: 'u32', scale: 'f32', offset: 'f32', rowWidth: 'u32' });
const WG = 256;

function fillWgsl(half: boolean): string {
  return `${FILL.wgsl('P')}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
fn normal(i: u32) -> f32 {
  let a = pcg(i ^ pcg(p.seed));
  let b = pcg(a ^ 0x9e3779b9u);
  let u1 = (f32(a >> 8u) + 1.0) / 16777217.0;
  let u2 = f32(b >> 8u) / 16777216.0;
  return p.offset + p.scale * sqrt(-2.0 * log(u1)) * cos(6.283185307 * u2);
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let idx = g.x + g.y * p.rowWidth;
  ${
    half
      ? `if (idx >= (p.n + 1u) / 2u) { return; }
  out[idx] = pack2x16float(vec2f(normal(2u * idx), normal(2u * idx + 1u)));`
      : `if (idx >= p.n) { return; }
  out[idx] = bitcast<u32>(normal(idx));`
  }
}`;
}

/** A tensor of `offset + scale · N(0,1)` values generated on the GPU. */
export function gpuRandn(
  ctx: GpuContext,
  shape: readonly number[],
  dtype: GpuDtype,
  seed: number,
  opts: { scale?: number; offset?: number } = {},
): GpuTensor {
  const t = ctx.empty(shape, dtype);
  const half = dtype === 'f16';
  const words = half ? Math.ceil(t.numel / 2) : t.numel;
  const groups = Math.ceil(words / WG);
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const y = Math.ceil(groups / max);
  const x = Math.ceil(groups / y);
  const pipeline = ctx.pipeline(`bench.randn:${half ? 'f16' : 'f32'}`, () => fillWgsl(half));
  const b = ctx.batch();
  b.dispatch(
    pipeline,
    [t],
    FILL.pack({ n: t.numel, seed, scale: opts.scale ?? 1, offset: opts.offset ?? 0, rowWidth: x * WG }),
    [x, y],
    'bench randn',
  );
  b.submit();
  return t;
}
