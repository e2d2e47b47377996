/**
 * Dense `y (+)= x·Wᵀ` register-tiled, for adapters without subgroup matrices and for shapes the
 * matrix-unit kernel does not take (f32 weights, K not a multiple of 8). Any M, N, K; x and W
 * each f32 or f16, f32 arithmetic; the epilogues of ./epilogue.ts.
 *
 * A workgroup of 16×16 invocations computes 64 rows × 64 W rows, each invocation a 4×4 block
 * (4 rows, 4 W rows), with 16-deep slices of x and W staged in workgroup memory (transposed, so
 * that the inner loop reads 4 consecutive values of each as one vector). Gated, the 64 W rows are 32 gate/up
 * pairs (W row 2c: gate row n0 + c, row 2c + 1: up row N + n0 + c), so that every invocation holds
 * both halves of its 2 output columns.
 */
import type { DispatchBatch, GpuContext } from '../../device/context.js';
import type { GpuDtype } from '../../device/tensor.js';
import {
  DENSE_LAYOUT,
  denseBindings,
  denseEpilogue,
  denseHeader,
  type DenseCall,
  type DenseTensors,
  dispatchDense,
  tileOrder,
} from './epilogue.js';

/** Output rows and W rows per workgroup. */
export const DENSE_TILED_TILE = 64;
const T = DENSE_TILED_TILE;
const BK = 16;

export interface DenseTiledConfig {
  xDtype: GpuDtype;
  wDtype: GpuDtype;
  gated: boolean;
  /** storage type of y (default f32) */
  yDtype?: GpuDtype;
}

export function denseTiledKey(c: DenseTiledConfig): string {
  return `dense-tiled:x${c.xDtype}:w${c.wDtype}${c.gated ? ':gated' : ''}${c.yDtype === 'f16' ? ':y16' : ''}`;
}

export function denseTiledWgsl(c: DenseTiledConfig): string {
  const outCols = c.gated ? T / 2 : T;
  // W row of tile row r and whether it exists
  const wRow = c.gated ? `select(0u, P.N, r % 2u == 1u) + n0 + r / 2u` : 'n0 + r';
  const wCol = c.gated ? 'n0 + r / 2u' : 'n0 + r';
  const finish = c.gated
    ? `  for (var i = 0u; i < 4u; i++) {
    let m = m0 + tm + i;
    for (var j = 0u; j < 2u; j++) {
      let n = n0 + tn / 2u + j;
      if (m < P.M && n < P.N) {
        let g = acc[i * 4u + 2u * j] + biasAt(n);
        let u = acc[i * 4u + 2u * j + 1u] + biasAt(P.N + n);
        store(m, n, silu(g) * u);
      }
    }
  }`
    : `  for (var i = 0u; i < 4u; i++) {
    let m = m0 + tm + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + tn + j;
      if (m < P.M && n < P.N) { store(m, n, acc[i * 4u + j] + biasAt(n)); }
    }
  }`;
  return /* wgsl */ `${denseHeader(c.xDtype, c.wDtype, c.yDtype)}
${denseBindings(c.xDtype, c.wDtype, c.yDtype)}
${denseEpilogue(c.yDtype)}
var<workgroup> xs: array<vec4<f32>, ${(BK * T) / 4}>; // [k][m / 4]
var<workgroup> ws: array<vec4<f32>, ${(BK * T) / 4}>; // [k][W row / 4]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) l3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
${tileOrder(8)}
  let m0 = mTile * ${T}u;
  let n0 = nTile * ${outCols}u;
  let tm = l3.y * 4u;
  let tn = l3.x * 4u;
  var acc: array<f32, 16>;
  for (var e = 0u; e < 16u; e++) { acc[e] = 0.0; }
  for (var k0 = 0u; k0 < P.K; k0 += ${BK}u) {
    // stage the slice: element e = (row r, depth kk), stored transposed [kk][r]
    for (var e = lid; e < ${BK * T}u; e += 256u) {
      let kk = e % ${BK}u;
      let r = e / ${BK}u;
      let gk = k0 + kk;
      var xv = 0.0;
      if (m0 + r < P.M && gk < P.K) { xv = f32(x[(m0 + r) * P.K + gk]); }
      xs[kk * ${T / 4}u + r / 4u][r % 4u] = xv;
      var wv = 0.0;
      if (${wCol} < P.N && gk < P.K) { wv = f32(w[(${wRow}) * P.K + gk]); }
      ws[kk * ${T / 4}u + r / 4u][r % 4u] = wv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      let a = xs[kk * ${T / 4}u + l3.y];
      let b = ws[kk * ${T / 4}u + l3.x];
      for (var i = 0u; i < 4u; i++) {
        acc[i * 4u] += a[i] * b.x;
        acc[i * 4u + 1u] += a[i] * b.y;
        acc[i * 4u + 2u] += a[i] * b.z;
        acc[i * 4u + 3u] += a[i] * b.w;
      }
    }
    workgroupBarrier();
  }
${finish}
}
`;
}

/** Encodes one call of the register-tiled kernel (arguments validated by the caller). */
export function encodeDenseTiled(ctx: GpuContext, batch: DispatchBatch, t: DenseTensors, o: DenseCall): void {
  const c: DenseTiledConfig = { xDtype: t.x.dtype, wDtype: t.w.dtype, gated: o.gated, yDtype: t.y.dtype };
  const p = ctx.pipeline(denseTiledKey(c), () => denseTiledWgsl(c), DENSE_LAYOUT);
  dispatchDense(ctx, batch, p, t, o, T, T, 'dense matmul (register-tiled)');
}
