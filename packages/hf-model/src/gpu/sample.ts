/**
 * Next-token choice on the GPU, the seam of the decode loop (./decode.ts): `encodeSampleTokens`
 * reads the logits `[B, V]`, writes the chosen id of every row into `out` (u32 `[B]`, which the
 * next step's embedding reads) and marks it in `seen` (the per-row bitmask of ids seen, which the
 * repetition penalty reads). This version implements greedy decoding (temperature 0, no
 * repetition penalty): the first maximum of every row, as `argmax` of ../sampling.ts; other
 * options raise a {@link ModelArgumentError} before any GPU work, and the decode loop then
 * samples on the CPU.
 */
import { type DispatchBatch, defineParams, type GpuContext, type GpuTensor } from '@mlstm/kernels-webgpu';
import { ModelArgumentError } from '../errors.js';

export interface GpuSampleParams {
  /** 0 = greedy */
  temperature: number;
  /** 0 = all */
  topK: number;
  /** 1 = all */
  topP: number;
  /** 1 = off */
  repetitionPenalty: number;
  /** one uniform draw in [0, 1] per row from the CPU's seeded generator (unused when greedy) */
  uniforms: Float32Array;
}

export interface GpuSampleArgs {
  /** f32 `[B, V]` */
  logits: GpuTensor;
  B: number;
  V: number;
  /** u32 `[B]` (a tensor of 4-byte elements holding u32 bits): the chosen ids */
  out: GpuTensor;
  /** u32 `[B, ceil(V / 32)]`: bit `id` of row b is set when `id` was seen */
  seen: GpuTensor;
  params: GpuSampleParams;
}

const argmaxParams = defineParams({ V: 'u32', words: 'u32' });
const WG = 256;

/** Encodes the choice of the next token of every row (see the file comment). */
export function encodeSampleTokens(ctx: GpuContext, batch: DispatchBatch, a: GpuSampleArgs): void {
  const { B, V, params } = a;
  if (!(params.temperature === 0 || params.temperature === undefined))
    throw new ModelArgumentError('temperature', `0 (greedy) on the GPU sampler, got ${params.temperature}`);
  if (params.repetitionPenalty !== 1)
    throw new ModelArgumentError(
      'repetitionPenalty',
      `1 on the GPU sampler, got ${params.repetitionPenalty}`,
    );
  const words = Math.ceil(V / 32);
  if (a.logits.numel < B * V) throw new ModelArgumentError('logits', `at least ${B}·${V} elements`);
  if (a.out.numel < B) throw new ModelArgumentError('out', `at least ${B} elements`);
  if (a.seen.numel < B * words) throw new ModelArgumentError('seen', `at least ${B}·${words} elements`);
  const p = ctx.pipeline(
    'hf.sample.argmax',
    () => `${argmaxParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<storage, read_write> seen: array<u32>;
var<workgroup> bv: array<f32, ${WG}>;
var<workgroup> bi: array<u32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = wid.x;
  let base = row * P.V;
  // per invocation: the first maximum of its strided ids (NaN never wins, as on the CPU)
  var best = -3.0e38;
  var at = P.V;
  // four independent loads per iteration (one row per workgroup is latency-bound otherwise)
  for (var j0 = tid; j0 < P.V; j0 += ${4 * WG}u) {
    var vs: array<f32, 4>;
    for (var u = 0u; u < 4u; u++) { vs[u] = logits[base + min(j0 + u * ${WG}u, P.V - 1u)]; }
    for (var u = 0u; u < 4u; u++) {
      let j = j0 + u * ${WG}u;
      if (j < P.V && (vs[u] > best || (at == P.V && vs[u] == best))) { best = vs[u]; at = j; }
    }
  }
  bv[tid] = best;
  bi[tid] = at;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (tid < s) {
      let v = bv[tid + s];
      let i = bi[tid + s];
      if (v > bv[tid] || (v == bv[tid] && i < bi[tid])) { bv[tid] = v; bi[tid] = i; }
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    let id = select(bi[0], 0u, bi[0] >= P.V);
    out[row] = id;
    let wd = row * P.words + id / 32u;
    seen[wd] = seen[wd] | (1u << (id % 32u));
  }
}`,
    ['uniform', 'read', 'rw', 'rw'],
  );
  batch.dispatch(p, [a.logits, a.out, a.seen], argmaxParams.pack({ V, words }), [B], 'sample (argmax)');
}
