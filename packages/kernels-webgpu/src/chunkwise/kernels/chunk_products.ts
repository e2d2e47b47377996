/**
 * The per-chunk products of the inter-chunk recurrences (spec §5.2, §4.4) on the matrix units,
 * all chunks in parallel — the first half of the matrix-unit state scan; {@link ./state_carry.ts}
 * then carries the states across chunks:
 *
 * - forward: `ΔC_k = Σ_l ā_l k_l v_lᵀ` and `Δn_k = Σ_l ā_l k_l` of chunk k, stored in the state
 *   slot k + 1 (which the carry turns into `C_{k+1} = γ_k C_k + ΔC_k`);
 * - backward: `ΔdC_k = Σ_j w_j q_j dh_jᵀ`, stored in slot k (`dC_k = γ_k dC_{k+1} + ΔdC_k`).
 *
 * The weights are those of the register-tiled scan ({@link scanTokenWeight}). A workgroup of
 * 8 subgroups owns 64 state rows × `bX` columns of one chunk (each subgroup 32 rows × bX/4
 * columns): per 64 tokens, the weighted A rows and the B rows are staged as f16 in workgroup
 * memory (16-byte global loads), multiplied on the matrix units, and the f32 accumulators are
 * stored straight into the state stack. Δn sums the same f16-rounded weighted rows.
 *
 * Bindings: fw: k v gates chunkv | states;  bw: q dh gates chunkv nm | states.
 */
import { defineParams } from '../../device/params.js';
import { wgslHeader } from '../../wgsl/common.js';
import type { Variant } from './intra.js';
import {
  LEFT,
  RESULT,
  RIGHT,
  range,
  SGMAT_ENABLE,
  SGMAT_THREADS,
  sgmatTileX,
  storeF16x8,
} from './intra_sgmat.js';
import { scanTokenWeight } from './state_scan.js';

export const chunkProductParams = defineParams({
  S: 'u32',
  L: 'u32',
  NC: 'u32',
  DY: 'u32', // DHQK
  DX: 'u32', // DHHV
  nYTiles: 'u32',
  nXTiles: 'u32',
  count: 'u32',
  T: 'u32',
  NB: 'u32',
  scale: 'f32',
  eps: 'f32',
});

export interface ChunkProductConfig {
  direction: 'fw' | 'bw';
  variant: Variant;
  normalize: boolean;
  /** state columns per workgroup ({@link sgmatTileX} of DHHV) */
  bX: number;
  /** read B (v or dh) straight from storage instead of staging it */
  directB?: boolean;
}

export function chunkProductKey(c: ChunkProductConfig): string {
  return `chunk-products:${c.direction}:${c.variant}:${c.normalize ? 'n' : 'nn'}:${c.bX}${c.directB ? ':directB' : ''}`;
}

/** Whether the matrix-unit scan takes these head dimensions and chunk length. */
export function chunkProductsFit(L: number, DHQK: number, DHHV: number, maxWorkgroupBytes: number): boolean {
  const bX = sgmatTileX(DHHV);
  return L % 64 === 0 && DHQK % 64 === 0 && bX > 0 && chunkProductWorkgroupBytes(bX) <= maxWorkgroupBytes;
}

const A_STRIDE = 72; // [token][row] f16, padded
const bStride = (bX: number) => bX + 8;

export function chunkProductWorkgroupBytes(bX: number): number {
  return 2 * 64 * A_STRIDE + 2 * 64 * bStride(bX) + 4 * 64;
}

export function chunkProductWgsl(c: ChunkProductConfig): string {
  const fw = c.direction === 'fw';
  const exp = c.variant === 'exp';
  const { bX } = c;
  const SB = bStride(bX);
  const colsPerSg = bX / 4;
  const J = range(colsPerSg / 16);
  const I2 = [0, 1];
  const bType = c.directB ? 'f16' : 'vec4<u32>';
  const decl = fw
    ? `@group(0) @binding(1) var<storage, read> A: array<vec4<u32>>;  // k (8 f16 per element)
@group(0) @binding(2) var<storage, read> Bm: array<${bType}>; // v
@group(0) @binding(3) var<storage, read> gates: array<f32>;
@group(0) @binding(4) var<storage, read> chunkv: array<f32>;
@group(0) @binding(5) var<storage, read_write> states: array<f32>;`
    : `@group(0) @binding(1) var<storage, read> A: array<vec4<u32>>;  // q
@group(0) @binding(2) var<storage, read> Bm: array<${bType}>; // dh
@group(0) @binding(3) var<storage, read> gates: array<f32>;
@group(0) @binding(4) var<storage, read> chunkv: array<f32>;
@group(0) @binding(5) var<storage, read> nm: array<f32>;
@group(0) @binding(6) var<storage, read_write> states: array<f32>;`;
  return /* wgsl */ `${SGMAT_ENABLE}
${wgslHeader('f16')}
${chunkProductParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${decl}

var<workgroup> sA: array<f16, ${64 * A_STRIDE}>;   // weighted A [token][row]
var<workgroup> sB: array<f16, ${64 * SB}>;   // B [token][x]
var<workgroup> tW: array<f32, 64>;     // token weights

@compute @workgroup_size(${SGMAT_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
  let xTile = flat % P.nXTiles;
  let rest = flat / P.nXTiles;
  let yTile = rest % P.nYTiles;
  let rest2 = rest / P.nYTiles;
  let chunk = rest2 % P.NC;
  let bnh = rest2 / P.NC;
  let y0 = yTile * 64u;
  let rb0 = 2u * (sg / 4u);
  let rb1 = rb0 + 1u;
  let xw = xTile * ${bX}u;
  let xc = (sg % 4u) * ${colsPerSg}u;
  let seq0 = bnh * P.S + chunk * P.L;
  let mBase = bnh * (P.NC + 1u);
  let mPrev = ${exp ? 'chunkv[2u * P.NB * P.NC + mBase + chunk]' : '0.0'};
  let mNext = ${exp ? 'chunkv[2u * P.NB * P.NC + mBase + chunk + 1u]' : '0.0'};
  let g = chunkv[bnh * P.NC + chunk];
${I2.flatMap((i) => J.map((j) => `  var a${i}_${j} = ${RESULT}();`)).join('\n')}
  ${fw ? 'var np = 0.0; // Δn of row y0 + lid (lid < 64)' : ''}
  for (var l0 = 0u; l0 < P.L; l0 += 64u) {
    workgroupBarrier();
    if (lid < 64u) {
      let tok = seq0 + l0 + lid;
      tW[lid] = ${scanTokenWeight(c)};
    }
    workgroupBarrier();
    for (var e = lid; e < 512u; e += ${SGMAT_THREADS}u) {
      let ll = e / 8u; let y8 = (e % 8u) * 8u;
      let w = A[((seq0 + l0 + ll) * P.DY + y0 + y8) / 8u];
      let sc = tW[ll];
      let at = ll * ${A_STRIDE}u + y8;
      ${storeF16x8('sA', 'at', 'w', 'sc')}
    }
    ${
      c.directB
        ? ''
        : `for (var e = lid; e < ${(64 * bX) / 8}u; e += ${SGMAT_THREADS}u) {
      let ll = e / ${bX / 8}u; let x8 = (e % ${bX / 8}u) * 8u;
      let w = Bm[((seq0 + l0 + ll) * P.DX + xw + x8) / 8u];
      let at = ll * ${SB}u + x8;
      ${storeF16x8('sB', 'at', 'w')}
    }`
    }
    workgroupBarrier();
    ${fw ? `if (xTile == 0u && lid < 64u) { for (var ll = 0u; ll < 64u; ll++) { np += f32(sA[ll * ${A_STRIDE}u + lid]); } }` : ''}
    for (var kk = 0u; kk < 64u; kk += 16u) {
      // left (state row y, token l) = sA[l][y]: column-major
${I2.map((i) => `      let m${i} = subgroupMatrixLoad<${LEFT}>(&sA, kk * ${A_STRIDE}u + rb${i} * 16u, true, ${A_STRIDE}u);`).join('\n')}
${J.map(
  (
    j,
  ) => `      { let r = subgroupMatrixLoad<${RIGHT}>(${c.directB ? `&Bm, (seq0 + l0 + kk) * P.DX + xw + xc + ${16 * j}u, false, P.DX` : `&sB, kk * ${SB}u + xc + ${16 * j}u, false, ${SB}u`});
${I2.map((i) => `        a${i}_${j} = subgroupMatrixMultiplyAccumulate(m${i}, r, a${i}_${j});`).join('\n')} }`,
).join('\n')}
    }
  }
  let slot = mBase + chunk + ${fw ? '1u' : '0u'};
${I2.flatMap((i) =>
  J.map(
    (j) =>
      `  subgroupMatrixStore(&states, (slot * P.DY + y0 + rb${i} * 16u) * P.DX + xw + xc + ${16 * j}u, a${i}_${j}, false, P.DX);`,
  ),
).join('\n')}
${fw ? '  if (xTile == 0u && lid < 64u) { states[P.NB * (P.NC + 1u) * P.DY * P.DX + slot * P.DY + y0 + lid] = np; }' : ''}
}
`;
}
