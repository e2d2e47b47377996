/**
 * What the two dense matmul kernels share: their parameter block, their bindings and the
 * epilogue that turns an f32 accumulator into an output element (bias, SiLU gate, soft cap,
 * residual accumulate). Both kernels compute `z = x·Wᵀ` for a tile of output columns; with the
 * gate on, W has 2N rows (gate rows 0…N−1, up rows N…2N−1: the layout of xLSTM's fused
 * `proj_up_gate_z`) and each workgroup pairs gate row n with up row N + n, so the output column n
 * is `silu(z_n + b_n) · (z_{N+n} + b_{N+n})` without the 2N-wide intermediate.
 */
import type { DispatchBatch, GpuContext } from '../../device/context.js';
import { wgslSaturateF16 } from '../../device/f16.js';
import { defineParams } from '../../device/params.js';
import type { GpuDtype, GpuTensor } from '../../device/tensor.js';
import { cdiv, splitWorkgroups } from '../../wgsl/common.js';

/**
 * `M, N, K`: output rows, output columns (gated: half of W's rows), depth. `ldy`, `nOff`: the
 * output row stride and first column (a weight split into row parts writes its columns of a
 * wider `y`). `nTilesM`, `nTilesN`, `count`: the workgroup grid (flat index over a 2-D dispatch).
 */
export const denseParams = defineParams({
  M: 'u32',
  N: 'u32',
  K: 'u32',
  ldy: 'u32',
  nOff: 'u32',
  hasBias: 'u32',
  accumulate: 'u32',
  softcap: 'f32',
  nTilesM: 'u32',
  nTilesN: 'u32',
  count: 'u32',
});

/**
 * Storage view of each operand: `vec4<u32>` (8 f16) or `vec4<f32>` for the matrix kernel; the
 * scalar type for the register-tiled one. `y` is f32, or f16 (an f16 input of a next matmul).
 */
export function denseBindings(xView: string, wView: string, yDtype: GpuDtype = 'f32'): string {
  return `${denseParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<${xView}>;
@group(0) @binding(2) var<storage, read> w: array<${wView}>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<${yDtype}>;`;
}

/** Bindings of both kernels (uniform params, x, W, bias, y) for the explicit pipeline layout. */
export const DENSE_LAYOUT = ['uniform', 'read', 'read', 'read', 'rw'] as const;

/**
 * WGSL: `biasAt(c)` (0 without bias), `silu(z)`, and `store(m, n, v)`, which applies the soft cap
 * (when `P.softcap > 0`), adds the old `y` (when `P.accumulate`) and writes output `(m, n)` — in
 * f32, or in f16 rounded by the f16 policy (nearest, saturated to ±65 504: what the conversion
 * pass in front of a matmul on the matrix units writes). Bias index `c` counts W's rows (gate:
 * `n`, up: `N + n`), offset by `nOff` like the output.
 */
export function denseEpilogue(yDtype: GpuDtype = 'f32'): string {
  const f16 = yDtype === 'f16';
  return /* wgsl */ `
fn biasAt(c: u32) -> f32 {
  if (P.hasBias != 0u) { return bias[P.nOff + c]; }
  return 0.0;
}
fn silu(z: f32) -> f32 {
  let e = exp(-abs(z));
  return z * select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}
fn store(m: u32, n: u32, v0: f32) {
  var v = v0;
  if (P.softcap > 0.0) { v = P.softcap * tanh(clamp(v / P.softcap, -20.0, 20.0)); }
  let o = m * P.ldy + P.nOff + n;
  if (P.accumulate != 0u) { v += ${f16 ? 'f32(y[o])' : 'y[o]'}; }
  y[o] = ${f16 ? wgslSaturateF16('v') : 'v'};
}`;
}

/** The WGSL header of a dense kernel: `enable f16` where any operand is f16. */
export function denseHeader(xDtype: GpuDtype, wDtype: GpuDtype, yDtype: GpuDtype = 'f32'): string {
  return xDtype === 'f16' || wDtype === 'f16' || yDtype === 'f16' ? 'enable f16;' : '';
}

/**
 * Tile order: workgroups walk `group` row tiles for each column tile before moving to the next
 * column tile, so that the x rows of a group and the W rows of a few column tiles stay in L2
 * while the grid sweeps (WGSL; sets `mTile`, `nTile` from `flat`).
 */
export function tileOrder(group: number): string {
  return `  let perGroup = ${group}u * P.nTilesN;
  let firstM = (flat / perGroup) * ${group}u;
  let groupRows = min(${group}u, P.nTilesM - firstM);
  let inGroup = flat % perGroup;
  let mTile = firstM + inGroup % groupRows;
  let nTile = inGroup / groupRows;`;
}

/** The tensors of one dense call. */
export interface DenseTensors {
  x: GpuTensor;
  w: GpuTensor;
  bias: GpuTensor | null;
  y: GpuTensor;
}

/** The sizes and epilogue of one dense call (validated by the caller). */
export interface DenseCall {
  M: number;
  N: number;
  K: number;
  ldy: number;
  nOff: number;
  accumulate: boolean;
  softcap: number;
  gated: boolean;
}

/**
 * Dispatches a dense kernel over `bm × bn` output tiles (`bn / 2` output columns per tile when
 * gated: the tile holds the gate and up rows), one flat workgroup index per tile.
 */
export function dispatchDense(
  ctx: GpuContext,
  batch: DispatchBatch,
  pipeline: GPUComputePipeline,
  t: DenseTensors,
  o: DenseCall,
  bm: number,
  bn: number,
  label: string,
): void {
  const nTilesM = cdiv(o.M, bm);
  const nTilesN = cdiv(o.N, o.gated ? bn / 2 : bn);
  const count = nTilesM * nTilesN;
  batch.dispatch(
    pipeline,
    [t.x, t.w, t.bias ?? t.x, t.y],
    denseParams.pack({
      M: o.M,
      N: o.N,
      K: o.K,
      ldy: o.ldy,
      nOff: o.nOff,
      hasBias: t.bias ? 1 : 0,
      accumulate: o.accumulate ? 1 : 0,
      softcap: o.softcap,
      nTilesM,
      nTilesN,
      count,
    }),
    splitWorkgroups(count, ctx.limits.maxComputeWorkgroupsPerDimension),
    label,
  );
}
