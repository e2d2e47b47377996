/** TEMPORARY: the previous chunk-product kernel, for the A/B run of device-check --tune (deleted after). */
/**
 * The per-chunk products of the inter-chunk recurrences (spec §5.2, §4.4) on the matrix units,
 * all chunks in parallel — the first half of the matrix-unit state scan; {@link ./state_carry.ts}
 * then carries the states across chunks:
 *
 * - forward: `ΔC_k = Σ_l ā_l k_l v_lᵀ` and `Δn_k = Σ_l ā_l k_l` of chunk k, stored in the state
 *   slot k + 1 (which the carry turns into `C_{k+1} = γ_k C_k + ΔC_k`);
 * - backward: `ΔdC_k = Σ_j w_j q_j dh_jᵀ`, stored in slot k (`dC_k = γ_k dC_{k+1} + ΔdC_k`).
 *
 * The products go to the f16 state stack (`states16`, see state_carry.ts), which the carry then
 * turns into the states in place: ΔC rounded to f16 (clamped to ±65504), as the states
 * themselves are; Δn as f32 bits in an f16 pair.
 *
 * The weights are those of the register-tiled scan ({@link scanTokenWeight}). A workgroup of
 * 8 subgroups owns 64 state rows × `bX` columns of one chunk (each subgroup 32 rows × bX/4
 * columns): per 64 tokens, the weighted A rows are staged as f16 in workgroup memory (16-byte
 * global loads) and B is read straight from storage; the f32 accumulators leave through a
 * per-subgroup workgroup scratch, 8 f16 per 16-byte store. Δn sums the same f16-rounded
 * weighted rows, in f32.
 *
 * Bindings: fw: k v gates chunkv | states16;  bw: q dh gates chunkv nm | states16.
 */
import { wgslHeader } from '../../wgsl/common.js';
import type { Variant } from './intra.js';
import {
  LEFT,
  RESULT,
  RIGHT,
  bSliceStaging,
  range,
  SGMAT_ENABLE,
  SGMAT_ENTRY,
  SGMAT_THREADS,
  sgmatTileX,
  storeF16x8,
} from './intra_sgmat_legacy.js';
import { scanParams, scanTokenWeight } from './state_scan.js';

export interface ChunkProductConfig {
  direction: 'fw' | 'bw';
  variant: Variant;
  normalize: boolean;
  /** state columns per workgroup ({@link sgmatTileX} of DHHV) */
  bX: number;
  /** tokens staged at a time: 128 when the chunk length is a multiple of 128, else 64 */
  slice: 64 | 128;
  /** load the next slice into registers while this one is multiplied */
  prefetch: boolean;
  /** stage A transposed ([row][token]) so that its matrix loads are row-major */
  rowA: boolean;
  /** stage B 16 tokens at a time in workgroup memory instead of reading it from storage */
  stageB: boolean;
}

export function chunkProductKey(c: ChunkProductConfig): string {
  return `chunk-products:${c.direction}:${c.variant}:${c.normalize ? 'n' : 'nn'}:${c.bX}:${c.slice}${c.prefetch ? ':pf' : ''}${c.rowA ? ':rowA' : ''}${c.stageB ? ':sB' : ''}`;
}

/** Whether the matrix-unit scan takes these head dimensions and chunk length. */
export function chunkProductsFit(L: number, DHQK: number, DHHV: number, maxWorkgroupBytes: number): boolean {
  const bX = sgmatTileX(DHHV);
  return (
    L % 64 === 0 &&
    DHQK % 64 === 0 &&
    bX > 0 &&
    chunkProductWorkgroupBytes(chunkProductSlice(L)) <= maxWorkgroupBytes
  );
}

export function chunkProductSlice(L: number): 64 | 128 {
  return L % 128 === 0 ? 128 : 64;
}

const A_STRIDE = 72; // [token][row] f16, padded

export function chunkProductWorkgroupBytes(slice: number, rowA = false, stageBX = 0): number {
  return (
    2 * (rowA ? 64 * (slice + 8) : slice * A_STRIDE) +
    4 * 8 * 512 +
    4 * slice +
    (stageBX ? 32 * (stageBX + 8) : 0)
  );
}

export function chunkProductWgsl(c: ChunkProductConfig): string {
  const fw = c.direction === 'fw';
  const exp = c.variant === 'exp';
  const { bX, slice } = c;
  const colsPerSg = bX / 4;
  const J = range(colsPerSg / 16);
  const I2 = [0, 1];
  const accs = I2.flatMap((i) => J.map((j) => [i, j] as const));
  const pairs = range(accs.length / 2).map((n) => [accs[2 * n], accs[2 * n + 1]]);
  const staged = c.prefetch || c.rowA;
  const leftAt = (i: number) =>
    c.rowA
      ? `&sA, (rb${i} * 16u) * ${RS}u + kk, false, ${RS}u`
      : `&sA, kk * ${A_STRIDE}u + rb${i} * 16u, true, ${A_STRIDE}u`;
  // B: 16-token slices staged in sV, one ahead in registers; or straight from storage
  const bs = bSliceStaging(bX, 'bv', 'sV', 0, false);
  const bSrc = (l: string) => (k: string, x8: string) =>
    `Bm[((seq0 + ${l} + ${k}) * P.DX + xw + ${x8}) / 8u]`;
  const rightAt = (j: number) =>
    c.stageB ? bs.right(j) : `&Bm, (seq0 + l0 + kk) * P.DX + xw + xc + ${16 * j}u, false, P.DX`;
  const U = range(slice / 32);
  const RS = slice + 8; // row stride of the transposed staging (rowA)
  const aLoad = (u: number, l0: string) => `A[((seq0 + ${l0} + sTok + ${32 * u}u) * P.DY + y0 + sY8) / 8u]`;
  // the 8 f16 of w${u} (rows sY8 … sY8+7 of token sTok + 32u), weighted by sc, into sA
  const aStore = (u: number) =>
    c.rowA
      ? `let col = sTok + ${32 * u}u;
      ${range(4)
        .map(
          (i) =>
            `{ let f2 = vec2<f32>(bitcast<vec2<f16>>(w${u}.${'xyzw'[i]})) * sc; sA[(sY8 + ${2 * i}u) * ${RS}u + col] = f16(f2.x); sA[(sY8 + ${2 * i + 1}u) * ${RS}u + col] = f16(f2.y); }`,
        )
        .join('\n      ')}`
      : `let at = (sTok + ${32 * u}u) * ${A_STRIDE}u + sY8;
      ${storeF16x8('sA', 'at', `w${u}`, 'sc')}`;
  const decl = fw
    ? `@group(0) @binding(1) var<storage, read> A: array<vec4<u32>>;  // k (8 f16 per element)
@group(0) @binding(2) var<storage, read> Bm: array<${c.stageB ? 'vec4<u32>' : 'f16'}>;       // v
@group(0) @binding(3) var<storage, read> gates: array<f32>;
@group(0) @binding(4) var<storage, read> chunkv: array<f32>;
@group(0) @binding(5) var<storage, read_write> states16: array<vec4<u32>>; // 8 f16 per element`
    : `@group(0) @binding(1) var<storage, read> A: array<vec4<u32>>;  // q
@group(0) @binding(2) var<storage, read> Bm: array<${c.stageB ? 'vec4<u32>' : 'f16'}>;       // dh
@group(0) @binding(3) var<storage, read> gates: array<f32>;
@group(0) @binding(4) var<storage, read> chunkv: array<f32>;
@group(0) @binding(5) var<storage, read> nm: array<f32>;
@group(0) @binding(6) var<storage, read_write> states16: array<vec4<u32>>;`;
  const pack = (e: string) =>
    `bitcast<u32>(vec2<f16>(f16(clamp(sE[${e}], -65504.0, 65504.0)), f16(clamp(sE[${e} + 1u], -65504.0, 65504.0))))`;
  return /* wgsl */ `${SGMAT_ENABLE}
${wgslHeader('f16')}
${scanParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${decl}

var<workgroup> sA: array<f16, ${c.rowA ? 64 * RS : slice * A_STRIDE}>;   // weighted A ${c.rowA ? '[row][token]' : '[token][row]'}
var<workgroup> sE: array<f32, 4096>;${
    c.stageB
      ? `
var<workgroup> sV: array<f16, ${16 * (bX + 8)}>;   // B slice [token][column]`
      : ''
  }   // epilogue: 2 × 16×16 f32 per subgroup
var<workgroup> tW: array<f32, ${slice}>;     // token weights; at the end Δn

${SGMAT_ENTRY}
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
${accs.map(([i, j]) => `  var a${i}_${j} = ${RESULT}();`).join('\n')}
  ${fw ? 'var np = 0.0; // Δn of row y0 + lid (lid < 64)' : ''}
${
  staged
    ? `  // staging: tokens sTok + 32u·u of the slice, 8 rows from sY8${c.prefetch ? '; one slice ahead in registers' : ''}
  let sTok = ${c.rowA ? 'lid % 32u' : 'lid / 8u'};
  let sY8 = ${c.rowA ? '(lid / 32u) * 8u' : '(lid % 8u) * 8u'};
${c.prefetch ? U.map((u) => `  var w${u} = ${aLoad(u, '0u')};`).join('\n') : ''}`
    : ''
}
${c.stageB ? `  ${bs.decl}\n${bs.load(bSrc('0u'))}` : ''}
  for (var l0 = 0u; l0 < P.L; l0 += ${slice}u) {
    workgroupBarrier();
${
  staged
    ? `${c.prefetch ? '' : U.map((u) => `    let w${u} = ${aLoad(u, 'l0')};`).join('\n')}
${U.map(
  (u) => `    {
      let tok = seq0 + l0 + sTok + ${32 * u}u;
      let sc = ${scanTokenWeight(c)};
      ${aStore(u)}
    }`,
).join('\n')}
    workgroupBarrier();
${
  c.prefetch
    ? `    if (l0 + ${slice}u < P.L) {
${U.map((u) => `      w${u} = ${aLoad(u, `l0 + ${slice}u`)};`).join('\n')}
    }`
    : ''
}`
    : `    if (lid < ${slice}u) {
      let tok = seq0 + l0 + lid;
      tW[lid] = ${scanTokenWeight(c)};
    }
    workgroupBarrier();
    for (var e = lid; e < ${slice * 8}u; e += ${SGMAT_THREADS}u) {
      let ll = e / 8u; let y8 = (e % 8u) * 8u;
      let w = A[((seq0 + l0 + ll) * P.DY + y0 + y8) / 8u];
      let sc = tW[ll];
      let at = ll * ${A_STRIDE}u + y8;
      ${storeF16x8('sA', 'at', 'w', 'sc')}
    }
    workgroupBarrier();`
}
    ${fw ? `if (xTile == 0u && lid < 64u) { for (var ll = 0u; ll < ${slice}u; ll++) { np += f32(sA[${c.rowA ? `lid * ${RS}u + ll` : `ll * ${A_STRIDE}u + lid`}]); } }` : ''}
    for (var kk = 0u; kk < ${slice}u; kk += 16u) {
${
  c.stageB
    ? `      workgroupBarrier();
${bs.store}
      workgroupBarrier();
      if (l0 + kk + 16u < P.L) {
${bs.load(bSrc('l0 + kk + 16u'))}
      }`
    : '      // right = B rows straight from storage'
}
      // left (state row y, token l): sA[l][y] column-major, or sA[y][l] (rowA)
${I2.map((i) => `      let m${i} = subgroupMatrixLoad<${LEFT}>(${leftAt(i)});`).join('\n')}
${J.map(
  (j) => `      { let r = subgroupMatrixLoad<${RIGHT}>(${rightAt(j)});
${I2.map((i) => `        a${i}_${j} = subgroupMatrixMultiplyAccumulate(m${i}, r, a${i}_${j});`).join('\n')} }`,
).join('\n')}
    }
  }
  // epilogue: two accumulators at a time through the scratch, 8 f16 (4 u32) per lane and row
  let slot = mBase + chunk + ${fw ? '1u' : '0u'};
  let eRow = lane / 2u;
  let eCol = (lane % 2u) * 8u;
${pairs
  .map(
    (pair, n) => `${n > 0 ? '  workgroupBarrier();\n' : ''}${pair
      .map(([i, j], h) => `  subgroupMatrixStore(&sE, sg * 512u + ${256 * h}u, a${i}_${j}, false, 16u);`)
      .join('\n')}
  workgroupBarrier();
${pair
  .map(
    ([i, j], h) => `  {
    let e0 = sg * 512u + ${256 * h}u + eRow * 16u + eCol;
    let o = ((slot * P.DY + y0 + rb${i} * 16u + eRow) * P.DX + xw + xc + ${16 * j}u + eCol) / 8u;
    states16[o] = vec4<u32>(${pack('e0')}, ${pack('e0 + 2u')}, ${pack('e0 + 4u')}, ${pack('e0 + 6u')});
  }`,
  )
  .join('\n')}`,
  )
  .join('\n')}
${
  fw
    ? `  // Δn (f32 bits), 4 rows per 16-byte store
  if (xTile == 0u) {
    if (lid < 64u) { tW[lid] = np; }
    workgroupBarrier();
    if (lid < 16u) {
      let n0 = (P.NB * (P.NC + 1u) * P.DY * P.DX / 2u + slot * P.DY + y0) / 4u;
      states16[n0 + lid] = bitcast<vec4<u32>>(vec4<f32>(tW[4u * lid], tW[4u * lid + 1u], tW[4u * lid + 2u], tW[4u * lid + 3u]));
    }
  }`
    : ''
}
}
`;
}
