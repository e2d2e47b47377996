/**
 * The inter-chunk recurrences of TFLA (spec §5.2, §4.4) on the matrix units, in one of two forms:
 *
 * - **products** (all chunks in parallel, the first half of the scan; {@link ./state_carry.ts} then
 *   carries the states across chunks):
 *   - forward: `ΔC_k = Σ_l ā_l k_l v_lᵀ` and `Δn_k = Σ_l ā_l k_l` of chunk k, stored in the state
 *     slot k + 1 (which the carry turns into `C_{k+1} = γ_k C_k + ΔC_k`);
 *   - backward: `ΔdC_k = Σ_j w_j q_j dh_jᵀ`, stored in slot k (`dC_k = γ_k dC_{k+1} + ΔdC_k`).
 *   ΔC goes to the f16 state stack (`states16`, see state_carry.ts) rounded to f16 (clamped to
 *   ±65504), as the states themselves are; Δn as f32 bits in an f16 pair.
 * - **carrying** (`carry`, the whole scan): a workgroup walks every chunk of its b·head in
 *   recurrence order with the state in its accumulators — scaled by γ_k, then chunk k's products
 *   added, in f32 — and stores every state (f16) to the stack and the last one (f32) to `last`,
 *   as the carry does. One pass over the stack fewer, but only B·NH·DHQK/64·DHHV/bX workgroups
 *   ({@link carryingScan} chooses, from the call's {@link KernelTuning}). With too few heads, each head's chunks are split into `segs`
 *   segments walked by their own workgroups, all but the exact one (fw: the first, bw: the last)
 *   from a zero state; the workgroups also store Γ (the product of γ since the segment's start)
 *   per slot in `gammas`, and state_carry.ts `boundsWgsl` then makes the states true.
 *
 * The weights are those of the register-tiled scan ({@link scanTokenWeight}). A workgroup of
 * 8 subgroups owns 64 state rows × `bX` columns of one chunk at a time (each subgroup 32 rows ×
 * bX/4 columns), and computes {@link CHUNKS_PER_PRODUCT_WORKGROUP} consecutive chunks (products)
 * or all of them (carrying). Per 64 tokens, the weighted A rows are staged transposed ([row][token], so that the
 * left operand loads row-major) as f16 in workgroup memory; per 32 tokens, the B rows are staged
 * too (reading them from storage with matrix loads is ~3× slower on the H100,
 * scripts/matrix-loads.ts). Both are loaded right before they are stored: loading them one slice
 * ahead, across the products, holds more registers and was slower (H100, S 8192: 1.26 ms against
 * 1.20). As in intra_sgmat.ts, every matrix load and store addresses one fixed-size block at a
 * literal offset, so that robustness needs no run-time bounds branch. The f32
 * accumulators leave through per-subgroup scratch blocks, 8 f16 per 16-byte store. n (Δn) sums
 * the same f16-rounded weighted A rows in f32 where they are staged: the subgroup that stages 8 of
 * the rows for all tokens of a slice adds them up per lane as it stores them, and a butterfly of
 * subgroup shuffles leaves every lane the slice's sum of one of the 8 rows, which it keeps across
 * the chunks (scaled by γ as the accumulators are) and stores with a 16-byte store per 4 rows: no
 * workgroup memory and no barrier (H100, S 8192: carrying fw 1.20 → 1.13 ms against the rows
 * times a block of ones on the matrix units, summed through the scratch blocks in three more
 * barriers per chunk; 1.14 with per-lane sums from workgroup memory).
 *
 * Bindings: fw: k v gates chunkv | states16;  bw: q dh gates chunkv nm | states16;
 * carrying: fw: k v gates chunkv cInit nInit | last states16;  bw: q dh gates chunkv nm dcLast | last states16.
 */
import { wgslHeader } from '../../wgsl/common.js';
import { DEFAULT_KERNEL_TUNING, type KernelTuning, type ResolvedTuning } from '../../tuning.js';
import type { Variant } from './intra.js';
import {
  BLOCK_STRIDE as BS,
  B_SLICE_ROWS as R,
  bSliceStaging,
  range,
  scratchEpilogue,
  sgmatTileX,
} from './sgmat_common.js';
import {
  LEFT,
  mLoad,
  mMma,
  mScale,
  mStore,
  RESULT,
  RIGHT,
  SGMAT_ENABLE,
  SGMAT_ENTRY,
} from './sgmat_builtins.js';
import { scanParams, scanTokenWeight } from './state_scan.js';

export interface ChunkProductConfig {
  direction: 'fw' | 'bw';
  variant: Variant;
  normalize: boolean;
  /** state columns per workgroup ({@link sgmatTileX} of DHHV) */
  bX: number;
  /** consecutive chunks one workgroup computes, one after the other (default 1) */
  chunksPerWorkgroup?: number;
  /**
   * The workgroup walks every chunk of its head in recurrence order and carries the states itself,
   * writing the states instead of the per-chunk products: the scan in one kernel, without
   * state_carry.ts (`chunksPerWorkgroup` is then ignored). The state is the accumulators: scaled
   * by γ_k (`subgroupMatrixScalarMultiply`) before chunk k's products are added, in f32 throughout.
   */
  carry?: boolean;
}

/**
 * Chunks per chunk-product workgroup in the TFLA passes: fewer workgroups, less fixed cost per
 * chunk (H100, S 8192: products fw 1.20 → 1.17, bw 1.12 → 1.09 ms with 2; 4 gave the same).
 */
export const CHUNKS_PER_PRODUCT_WORKGROUP = 2;

/**
 * The carrying scan's layout for B·NH heads of DHQK × DHHV states and NC chunks, or null when the
 * scan takes the products plus the carry: the column tile, and the segments each head's chunks
 * are split into when the heads alone give too few workgroups — each segment walked by its own
 * workgroups from a zero state, then a pass over the inexact segments' states (state_carry.ts
 * `boundsWgsl`) makes them true.
 *
 * The carrying kernel saves the carry's pass over the state stack (H100, S 8192: fw 1.16 + 0.40
 * → 1.32 ms, bw 1.09 + 0.39 → 1.11 ms), but each workgroup walks its chunks one after the other,
 * so it needs many heads to fill the GPU: below `tuning.minScanWorkgroups`, each head's chunks are
 * split into segments (≤ `maxScanSegments`, ≥ `minSegmentChunks` chunks each). `scan: 'auto'`
 * takes the carrying kernel when that reaches `minScanWorkgroups` ({@link KernelTuning}).
 */
export function carryingScan(
  heads: number,
  DHQK: number,
  DHHV: number,
  NC: number,
  tuning: KernelTuning = DEFAULT_KERNEL_TUNING,
): { bX: number; segs: number } | null {
  const t: ResolvedTuning = { ...DEFAULT_KERNEL_TUNING, ...tuning };
  const bX = t.scanTileX;
  if (t.scan === 'products' || DHHV % bX !== 0 || DHQK % 64 !== 0) return null;
  const workgroups = heads * (DHQK / 64) * (DHHV / bX);
  if (t.scanSegments) return NC % t.scanSegments === 0 ? { bX, segs: t.scanSegments } : null;
  let segs = 1;
  while (
    workgroups * segs < t.minScanWorkgroups &&
    segs * 2 <= t.maxScanSegments &&
    NC % (segs * 2) === 0 &&
    NC / (segs * 2) >= t.minSegmentChunks
  )
    segs *= 2;
  return t.scan === 'carrying' || workgroups * segs >= t.minScanWorkgroups ? { bX, segs } : null;
}

export function chunkProductKey(c: ChunkProductConfig): string {
  return `chunk-products:${c.direction}:${c.variant}:${c.normalize ? 'n' : 'nn'}:${c.bX}:${c.carry ? 'carry' : (c.chunksPerWorkgroup ?? 1)}`;
}

/** Whether the matrix-unit scan takes these head dimensions and chunk length. */
export function chunkProductsFit(L: number, DHQK: number, DHHV: number, maxWorkgroupBytes: number): boolean {
  const bX = sgmatTileX(DHHV);
  return L % 64 === 0 && DHQK % 64 === 0 && bX > 0 && chunkProductWorkgroupBytes() <= maxWorkgroupBytes;
}

/** Tokens staged at a time (A operand). */
const SLICE = 64;
const AS = SLICE + 8; // row stride of the A blocks (padded: 8 rows of a matrix load hit 8 bank groups)

export function chunkProductWorkgroupBytes(): number {
  return 2 * 4 * 16 * AS + 2 * (R / 4) * 16 * BS + 4 * 16 * 256 + 4 * 256;
}

/**
 * The kernel, assembled from its stages: declarations, the workgroup's tile and chunk (or walk),
 * the chunk's token slices on the matrix units, the epilogue.
 */
export function chunkProductWgsl(c: ChunkProductConfig): string {
  const g = productsParts(c);
  return /* wgsl */ `${productsDeclarations(g)}${productsTileStart(g)}${productsSlices(g)}${productsEpilogue(g)}`;
}

/** The derived values and WGSL snippets the stages of {@link chunkProductWgsl} share. */
function productsParts(c: ChunkProductConfig) {
  const fw = c.direction === 'fw';
  const exp = c.variant === 'exp';
  const { bX } = c;
  const colsPerSg = bX / 4;
  const J = range(colsPerSg / 16);
  const I2 = [0, 1];
  const steps = range(SLICE / R);
  const subs = range(R / 16);
  const U = range(SLICE / 32);
  const carry = !!c.carry;
  const walk = carry ? 0 : (c.chunksPerWorkgroup ?? 1);
  const accs = I2.flatMap((i) => J.map((j) => [i, j] as const));
  const ins = fw ? ['A', 'Bm', 'gates', 'chunkv'] : ['A', 'Bm', 'gates', 'chunkv', 'nm'];
  if (carry) ins.push(...(fw ? ['init', 'nInit'] : ['init']));
  const outs = carry ? ['last', 'gammas', 'states16'] : ['states16'];
  const type: Record<string, string> = {
    A: 'array<vec4<u32>>', // k (fw) / q (bw), 8 f16 per element
    Bm: 'array<vec4<u32>>', // v (fw) / dh (bw)
    states16: 'array<vec4<u32>>', // 8 f16 per element
  };
  const decl = [...ins.map((n) => [n, 'read']), ...outs.map((n) => [n, 'read_write'])]
    .map(
      ([n, access], b) =>
        `@group(0) @binding(${b + 1}) var<storage, ${access}> ${n}: ${type[n] ?? 'array<f32>'};`,
    )
    .join('\n');
  const pack = (b: string, e: string) =>
    `bitcast<u32>(vec2<f16>(f16(clamp(sE[${b}][${e}], -65504.0, 65504.0)), f16(clamp(sE[${b}][${e} + 1u], -65504.0, 65504.0))))`;
  // A: tokens sTok + 32u·u of the slice, rows sY8 … sY8+7 (one vec4), weighted, stored
  // transposed into block (row / 16) at (row % 16, token)
  const aLoad = (u: number, l: string) => `A[((seq0 + ${l} + sTok + ${32 * u}u) * P.DY + y0 + sY8) / 8u]`;
  const aStore = (u: number) => `{
      let tok = seq0 + l0 + sTok + ${32 * u}u;
      let sc = ${scanTokenWeight(c)};
      let col = sTok + ${32 * u}u;
      ${range(4)
        .map(
          (i) =>
            `{ let h2 = vec2<f16>(vec2<f32>(bitcast<vec2<f16>>(w${u}.${'xyzw'[i]})) * sc); sA[sY8 / 16u][(sY8 % 16u + ${2 * i}u) * ${AS}u + col] = h2.x; sA[sY8 / 16u][(sY8 % 16u + ${2 * i + 1}u) * ${AS}u + col] = h2.y;${fw ? ` nv${2 * i} += f32(h2.x); nv${2 * i + 1} += f32(h2.y);` : ''} }`,
        )
        .join('\n      ')}
    }`;
  const bs = bSliceStaging(bX, 'bv', 'sV', 0, false);
  // vec4 index of the 8 f16 of the epilogue element of accumulator (i, j) in a state slot
  const stateAt = (slot: string, i: number, j: number) =>
    `((${slot} * P.DY + y0 + rb${i} * 16u + eRow) * P.DX + xw + xc + ${16 * j}u + eCol) / 8u`;
  // fw: n (or Δn). Subgroup sg stages rows 8·sg … 8·sg + 7 of A for all tokens of a slice (lane:
  // token), and sums them in \`nv0…7\` as it stores them (the same f16-rounded weighted values the
  // products use); a butterfly of shuffles then leaves each lane the slice's sum of row
  // 8·sg + \`nRow\`, added to its \`nPart\` (kept across the chunks, scaled by γ as the accumulators
  // are). No workgroup memory, no barrier.
  const pick = (lo: string, hi: string, bit: number) =>
    `select(${lo}, ${hi}, (lane & ${bit}u) != 0u) + subgroupShuffleXor(select(${hi}, ${lo}, (lane & ${bit}u) != 0u), ${bit}u)`;
  const nReduce = `    {
      // rows 0-3 / 4-7 (lane bit 16), then 0-1 / 2-3 of those (bit 8), then one (bit 4)
${range(4)
  .map((i) => `      let a${i} = ${pick(`nv${i}`, `nv${i + 4}`, 16)};`)
  .join('\n')}
${range(2)
  .map((i) => `      let b${i} = ${pick(`a${i}`, `a${i + 2}`, 8)};`)
  .join('\n')}
      var c = ${pick('b0', 'b1', 4)};
      c += subgroupShuffleXor(c, 2u);
      c += subgroupShuffleXor(c, 1u);
      nPart += c;
    }`;
  // rows 8·sg + 4h … + 3 from lanes 16h, 16h + 4, 16h + 8, 16h + 12 into the n section of \`slot\`
  const nStore = `  {
    let n1 = subgroupShuffle(nPart, (lane + 4u) & 31u);
    let n2 = subgroupShuffle(nPart, (lane + 8u) & 31u);
    let n3 = subgroupShuffle(nPart, (lane + 12u) & 31u);
    if (xTile == 0u && (lane & 15u) == 0u) {
      let n0 = (P.NB * (P.NC + 1u) * P.DY * P.DX / 2u + slot * P.DY + y0 + sY8 + lane / 4u) / 4u;
      states16[n0] = bitcast<vec4<u32>>(vec4<f32>(nPart, n1, n2, n3));
    }
  }`;
  // accumulator (i, j)'s 16×16 block in a b·head's f32 state (init, last), row stride DX
  const blockAt = (i: number, j: number) =>
    `bnh * P.DY * P.DX + (y0 + rb${i} * 16u) * P.DX + xw + xc + ${16 * j}u`;
  const accPrologue = () => `${accs.map(([i, j]) => `  var a${i}_${j} = ${RESULT}();`).join('\n')}
${fw ? '  var nPart = 0.0;' : ''}
  // the exact segment (fw: the first, bw: the last) starts from the initial state and writes the
  // start slot; the others start from zero (local states, made true by state_carry.ts boundsWgsl)
  let exact = ${fw ? 'seg == 0u' : 'seg == P.segs - 1u'};
  if (P.hasInit != 0u && exact) {
${accs.map(([i, j]) => `    a${i}_${j} = ${mLoad(RESULT, `&init, ${blockAt(i, j)}, false, P.DX`)};`).join('\n')}
${
  fw
    ? `    // n_0: each lane its row's
    nPart = nInit[bnh * P.DY + y0 + sY8 + nRow];`
    : ''
}
  }
  if (exact) {
    let slot = mBase + ${fw ? '0u' : 'P.NC'};
${epilogue()}
${fw ? nStore : ''}
  }
  var gp = 1.0; // product of γ since the segment's start`;
  const accEpilogue = `  if (P.writeLast != 0u) {
${accs.map(([i, j]) => `    ${mStore(`&last`, `${blockAt(i, j)}`, `a${i}_${j}`, `false`, `P.DX`)};`).join('\n')}
${fw ? '    if (xTile == 0u && (lane & 3u) == 0u) { last[P.NB * P.DY * P.DX + bnh * P.DY + y0 + sY8 + nRow] = nPart; }' : ''}
  }`;
  // the accumulators to state slot \`slot\`, two at a time through the subgroup's scratch blocks,
  // 8 f16 (4 u32) per lane and row
  const epilogue = () =>
    scratchEpilogue(J.length, 'sE', (i, j, h) => {
      const b = `sg * 2u + ${h}u`;
      return `  states16[${stateAt('slot', i, j)}] = vec4<u32>(${pack(b, 'e0')}, ${pack(b, 'e0 + 2u')}, ${pack(b, 'e0 + 4u')}, ${pack(b, 'e0 + 6u')});`;
    });
  const bSrc = (l: string) => (k: string, x8: string) =>
    `Bm[((seq0 + ${l} + ${k}) * P.DX + xw + ${x8}) / 8u]`;
  return {
    c,
    fw,
    exp,
    bX,
    colsPerSg,
    J,
    I2,
    steps,
    subs,
    U,
    carry,
    walk,
    accs,
    ins,
    outs,
    type,
    decl,
    pack,
    aLoad,
    aStore,
    bs,
    stateAt,
    pick,
    nReduce,
    nStore,
    blockAt,
    accPrologue,
    accEpilogue,
    epilogue,
    bSrc,
  };
}

type ProductsParts = ReturnType<typeof productsParts>;

/**
 * The enable directives, parameters, bindings and the workgroup arrays (A blocks, B slices,
 * epilogue scratch).
 */
function productsDeclarations(g: ProductsParts): string {
  const { decl } = g;
  return `${SGMAT_ENABLE}
${wgslHeader('f16')}
${scanParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${decl}

var<workgroup> sA: array<array<f16, ${16 * AS}>, 4>;   // weighted A: block = 16 state rows, [row][token]
var<workgroup> sV: array<array<f16, ${16 * BS}>, ${R / 4}>;   // B slice: block = the columns of a subgroup column group
var<workgroup> sE: array<array<f32, 256>, 16>;   // epilogue: 2 16×16 blocks per subgroup

`;
}

/**
 * The entry point and the workgroup's tile (state rows, columns, b·head), then its chunk: one, a
 * run of them, or (carrying) the segment's walk from the initial or zero state; the chunk's γ
 * applied to the carried accumulators, or fresh ones.
 */
function productsTileStart(g: ProductsParts): string {
  const { fw, exp, bX, colsPerSg, carry, walk, accs, accPrologue } = g;
  return `${SGMAT_ENTRY}
  let yTile = rest % P.nYTiles;
  let rest2 = rest / P.nYTiles;
  let y0 = yTile * 64u;
  let rb0 = 2u * (sg / 4u);
  let rb1 = rb0 + 1u;
  let cg = sg % 4u;
  let xw = xTile * ${bX}u;
  let xc = cg * ${colsPerSg}u;
  // A staging: token sTok of a 32-token half, rows sY8 … sY8 + 7 (fw: n sums them per subgroup)
  let sTok = lane;
  let sY8 = sg * 8u;
${fw ? '  let nRow = (lane / 16u) * 4u + ((lane / 8u) % 2u) * 2u + (lane / 4u) % 2u; // the row of nPart\n' : ''}  // the epilogue's element of a 16×16 block: row eRow, columns eCol … eCol + 7
  let eRow = lane / 2u;
  let eCol = (lane % 2u) * 8u;
  let e0 = eRow * 16u + eCol;
${
  carry
    ? `  let seg = rest2 % P.segs;
  let bnh = rest2 / P.segs;
  let W = P.NC / P.segs; // chunks per segment
  let mBase = bnh * (P.NC + 1u);
${accPrologue()}
  for (var it = 0u; it < W; it++) {
  let chunk = ${fw ? 'seg * W + it' : '(seg + 1u) * W - 1u - it'};
  workgroupBarrier(); // the previous chunk's epilogue is done with the scratch`
    : walk > 1
      ? `  let nGroups = (P.NC + ${walk - 1}u) / ${walk}u;
  let bnh = rest2 / nGroups;
  let mBase = bnh * (P.NC + 1u);
  for (var it = 0u; it < ${walk}u; it++) {
  let chunk = (rest2 % nGroups) * ${walk}u + it;
  if (chunk >= P.NC) { break; }
  workgroupBarrier(); // the previous chunk's epilogue is done with the scratch`
      : `  let chunk = rest2 % P.NC;
  let bnh = rest2 / P.NC;
  let mBase = bnh * (P.NC + 1u);`
}
  let seq0 = bnh * P.S + chunk * P.L;
  let mPrev = ${exp ? 'chunkv[2u * P.NB * P.NC + mBase + chunk]' : '0.0'};
  let mNext = ${exp ? 'chunkv[2u * P.NB * P.NC + mBase + chunk + 1u]' : '0.0'};
  let g = chunkv[bnh * P.NC + chunk];
${
  carry
    ? `  let gm = exp(g + mPrev - mNext); // γ of this chunk
${accs.map(([i, j]) => `  a${i}_${j} = ${mScale(`a${i}_${j}`, `gm`)};`).join('\n')}
${fw ? '  nPart *= gm;' : ''}`
    : `${accs.map(([i, j]) => `  var a${i}_${j} = ${RESULT}();`).join('\n')}\n${fw ? '  var nPart = 0.0;' : ''}`
}

`;
}

/**
 * The chunk's tokens, 64 at a time: the weighted A rows staged transposed, the B rows 32 at a
 * time, the products on the matrix units; fw: the slice's n row sums reduced by shuffles.
 */
function productsSlices(g: ProductsParts): string {
  const { fw, J, I2, steps, subs, U, aLoad, aStore, bs, nReduce, bSrc } = g;
  return `  for (var l0 = 0u; l0 < P.L; l0 += ${SLICE}u) {
${
  fw
    ? `    ${range(8)
        .map((r) => `var nv${r} = 0.0;`)
        .join(' ')} // this slice's row sums (n)\n`
    : ''
}${steps
  .map(
    (k) => `    {
    // tokens l0 + ${R * k} …: loaded right before they are stored (holding them across the
    // products of the previous slice costs registers, and was slower on the H100)
${k === 0 ? `${U.map((u) => `    let w${u} = ${aLoad(u, 'l0')};`).join('\n')}\n` : ''}    ${bs.decl}
${bs.load(bSrc(`l0 + ${R * k}u`))}
    workgroupBarrier();
${k === 0 ? `${U.map(aStore).join('\n')}\n` : ''}${bs.store}
    workgroupBarrier();
${subs
  .map(
    (h) => `    {
${I2.map((i) => `      let m${i} = ${mLoad(LEFT, `&sA[rb${i}], ${R * k + 16 * h}u, false, ${AS}u`)};`).join('\n')}
${J.map(
  (j) => `      { let r = ${mLoad(RIGHT, `${bs.right(j, h)}`)};
${I2.map((i) => `        a${i}_${j} = ${mMma(`m${i}`, `r`, `a${i}_${j}`)};`).join('\n')} }`,
).join('\n')}
    }`,
  )
  .join('\n')}${fw && k === steps.length - 1 ? `\n${nReduce}` : ''}
    }`,
  )
  .join('\n')}
  }
`;
}

/**
 * Epilogue: the accumulators to the chunk's state slot in f16 through the scratch blocks, fw: n;
 * carrying: Γ per slot, the end of the walk and the last state in f32.
 */
function productsEpilogue(g: ProductsParts): string {
  const { fw, carry, walk, nStore, accEpilogue, epilogue } = g;
  return `  // epilogue: two accumulators at a time through the subgroup's scratch blocks, 8 f16 (4 u32)
  // per lane and row
  let slot = mBase + chunk + ${fw ? '1u' : '0u'};
${epilogue()}
${fw ? nStore : ''}
${
  carry
    ? `  // Γ from the segment's start to this slot, for the boundary carry and the intra kernels
  gp = gp * gm;
  if (P.segs > 1u && lid == 0u && yTile == 0u && xTile == 0u) { gammas[slot] = gp; }`
    : ''
}
${walk > 1 || carry ? '  }' : ''}
${carry ? accEpilogue : ''}
}
`;
}
