/**
 * The intra-chunk kernel of TFLA in all four roles of {@link ./intra.ts} (fw, dQ, dK, dV) on the
 * adapter's matrix units: Dawn's `chromium-experimental-subgroup-matrix`, f16 operands with f32
 * accumulators, 16×16×16. Same math, bindings and parameters as the register-tiled kernel
 * (which stays the path for f32, for adapters without subgroup matrices and for shapes this one
 * does not take); the role-specific WGSL comes from {@link intraRoleSpec}.
 *
 * A workgroup of 8 subgroups (32 lanes each) computes 64 rows × `bX` output columns of one chunk
 * at a time (and, where {@link sgmatWalksRowTiles}, walks all 64-row tiles of its chunk):
 * subgroup s owns 32 rows (row blocks 2⌊s/4⌋, 2⌊s/4⌋+1) × bX/4 columns (group s mod 4), i.e.
 * `bX/32` accumulator matrices; for the scores it owns token block s mod 4 of both row blocks.
 * Every operand goes through workgroup memory, loaded from storage into registers one slice ahead
 * (16-byte loads) so that the global loads overlap the matrix products of the current slice:
 * - inter term first: rows of I pre-scaled by their factor, 64 deep at a time, times the state
 *   (the f16 copy of the state stack that the carry kernel writes, state_carry.ts), 32 rows at a time;
 * - per 64-token tile of the causal side: the 64×64 score tile A = P·Qᵀ (each subgroup two
 *   16×16 blocks; P and Q staged 64 deep), stored f32 to workgroup memory; the gate and causal
 *   mask applied element-wise in f32 (fw: row sums for the normaliser), stored f16; then
 *   Out += f16(A ⊙ G)·B with B staged 32 rows at a time. Blocks that the causal mask zeroes
 *   entirely are skipped;
 * - epilogue: each accumulator passes through a per-subgroup 16×16 f32 scratch block so that the
 *   per-row factor (fw: 1/(n + eps), bw: the output scale) is applied before the f16 store.
 * Global loads that a barrier waits for are issued together where that measured faster (H100,
 * fifth session): the inter term's first slices (fw: and the normaliser's q·n operands) before the
 * row vectors (not for dQ, which got slower), each causal tile's first score slices before its
 * token vectors, and the fw rows' max state with the row vectors.
 * The workgroup arrays are arrays of fixed-size blocks and every matrix load/store addresses a
 * block at a literal offset (the 16-deep steps are unrolled), so that Dawn's robustness (bounds
 * checks, always on in browsers) needs no run-time branch around the matrix loads; see the layout
 * note below. Measured on the H100 (docs/benchmarks): reading B straight from storage, dynamic
 * matrix-load offsets and 16-row B slices were each slower.
 *
 * Shapes it takes: f16, chunk length a multiple of 64, head dimensions multiples of 64,
 * subgroup size exactly 32 (see {@link sgmatIntraFits}). The Dawn-specific builtins are spelled
 * in one place, sgmat_builtins.ts.
 */
import { wgslHeader } from '../../wgsl/common.js';
import { type IntraConfig, intraParams, intraRoleSpec } from './intra.js';
import {
  B_SLICE_ROWS,
  BLOCK_STRIDE,
  bSliceStaging,
  range,
  scratchEpilogue,
  sgmatTileX,
  storeF16x8,
} from './sgmat_common.js';
import {
  LEFT,
  mLoad,
  mMma,
  mStore,
  RESULT,
  RIGHT,
  SGMAT_ENABLE,
  SGMAT_ENTRY,
  SGMAT_THREADS,
} from './sgmat_builtins.js';

export { SGMAT_THREADS };
export { type SgmatFeatures, sgmatSupported, sgmatTileX, sgmatUnsupportedReason } from './sgmat_common.js';

export const SGMAT_ROWS = 64;
/**
 * Workgroup memory layout. Every matrix load and store addresses one *block* of an array of
 * fixed-size blocks, at an offset that is a literal in the WGSL: with robustness on (always, in
 * browsers) Dawn then proves the access in bounds at compile time instead of wrapping each matrix
 * load in a run-time bounds branch, which costs ~40 % of the products' throughput on the H100
 * (scripts/matrix-loads.ts). The dynamic part (which subgroup, which row block) is the block index.
 *
 * - `sB`: 12 blocks of 16 rows × 72 (64 used, padded so that matrix loads of 8 rows hit 8
 *   different bank groups). Blocks 0–3 (the "P half"): the P slice of the scores (row block rb in
 *   block rb), then the gated scores; before that, the pre-scaled I slice of the inter term.
 *   Blocks 4–11: the Q slice of the scores (token block tb in block 4 + tb); the 32-row B (or
 *   state) slices of the products, rows 16h … 16h + 15 of column group cg in block 4 + 4h + cg.
 * - `sS`: 16 blocks of 16 × 16 f32: score block (rb, cg) in block 4·rb + cg; in the epilogue, the
 *   accumulator scratch of subgroup sg in blocks 2·sg, 2·sg + 1.
 * 46 KiB in all (WebGPU's default limit is 16 KiB, Dawn on the H100 gives 48 KiB).
 */
const BS = BLOCK_STRIDE;
const BLOCK = 16 * BS;
const R = B_SLICE_ROWS;
const SS_STRIDE = 16;

export function sgmatWorkgroupBytes(): number {
  return 2 * 12 * BLOCK + 4 * 16 * 16 * SS_STRIDE + 4 * (7 * 64 + 256);
}

/**
 * Whether the matrix-unit intra kernel takes this problem (`DY`: depth of A, `DX`: output columns,
 * `DI`: depth of the inter term).
 */
export function sgmatIntraFits(
  L: number,
  dims: { DY: number; DX: number; DI: number },
  inter: boolean,
  maxWorkgroupBytes: number,
): boolean {
  const bX = sgmatTileX(dims.DX);
  return (
    L % SGMAT_ROWS === 0 &&
    dims.DY % 64 === 0 &&
    bX > 0 &&
    (!inter || dims.DI % 64 === 0) &&
    sgmatWorkgroupBytes() <= maxWorkgroupBytes
  );
}

/**
 * Whether the workgroups of a call walk all 64-row tiles of their chunk (one workgroup per chunk
 * and column tile) instead of owning one row tile each: fewer workgroups, less fixed cost per row
 * tile. Measured on the H100 at chunk 128 (S 8192): fw 2.34 → 2.25, dQ 2.46 → 2.34, dK
 * 2.70 → 2.62 ms, but dV 2.19 → 2.28 ms. Only for chunkwise calls with at most two row tiles per
 * chunk (the parallel kernel's single chunk, or long chunks, would leave too few workgroups).
 */
export function sgmatWalksRowTiles(role: IntraConfig['role'], inter: boolean, rowTiles: number): boolean {
  return role !== 'dv' && inter && rowTiles <= 2;
}

export type SgmatIntraConfig = Pick<IntraConfig, 'role' | 'variant' | 'normalize' | 'inter'> & {
  /** output columns per workgroup ({@link sgmatTileX}) */
  bX: number;
  /** each workgroup walks all row tiles of its chunk ({@link sgmatWalksRowTiles}) */
  walkRows?: boolean;
  /**
   * dQ, dK, with the workgroup's tile spanning all output columns (bX = DX, the caller's
   * condition): the epilogue also
   * stores each row's dot product of the (f16-rounded) output with the same row of q (dQ) or k
   * (dK) — the per-token terms of the gate gradients (gates.ts), which then need not read the
   * four tensors again. Extra bindings: that tensor (read), the dots (f32 per token, written).
   */
  rowDots?: boolean;
};

export function sgmatKey(c: SgmatIntraConfig): string {
  return `intra-sgmat:${c.role}:${c.variant}:${c.normalize ? 'n' : 'nn'}:${c.inter ? 'i' : 'ni'}:${c.bX}${c.walkRows ? ':walk' : ''}${c.rowDots ? ':dots' : ''}`;
}

/**
 * The kernel, assembled from its stages: declarations, the workgroup's tile and row vectors, the
 * inter-chunk term, the causal tiles of the intra-chunk term, the per-row factors, the epilogue.
 * Bindings as the same role of intra.ts, with the q/k/v/h-like tensors and the f16 state copy
 * (state_carry.ts) seen as `vec4<u32>` (8 f16).
 */
export function sgmatWgsl(c: SgmatIntraConfig): string {
  const g = sgmatParts(c);
  return /* wgsl */ `${sgmatDeclarations(g)}${sgmatTileStart(g)}${sgmatInterTerm(g)}${sgmatCausalTiles(g)}${sgmatRowFactors(g)}${sgmatEpilogue(g)}`;
}

/** The derived values and WGSL snippets the stages of {@link sgmatWgsl} share. */
function sgmatParts(c: SgmatIntraConfig) {
  const spec = intraRoleSpec(c, { elem: 'vec4<u32>', state: 'vec4<u32>' });
  if (c.rowDots && c.role !== 'dq' && c.role !== 'dk')
    throw new Error(`intra_sgmat: row dots are for dQ and dK, not ${c.role}`);
  const dots = !!c.rowDots;

  const { bX } = c;
  const colsPerSg = bX / 4;
  const J = range(colsPerSg / 16);
  const I2 = [0, 1];
  // the row-dot operand of the lane's epilogue elements (row lane / 2, 8 columns), one vec4 per accumulator
  const dotLoads = I2.flatMap((i) =>
    J.map(
      (j) =>
        `  let dw${i}_${j} = dotWith[((seq0 + r0 + rb${i} * 16u + lane / 2u) * P.DX + xw + cg * ${bX / 4}u + ${16 * j}u + (lane % 2u) * 8u) / 8u];`,
    ),
  ).join('\n');
  const K4 = range(4); // the 16-deep steps of a 64-deep slice, unrolled (literal offsets)
  const persist = !!c.walkRows;
  const interOn = c.inter;
  const steps = range(64 / R); // B slices of a 64-row tile
  const subs = range(R / 16); // 16-deep steps of a B slice
  const exp = c.variant === 'exp';
  const fw = c.role === 'fw';
  const normalised = exp || c.normalize;
  const [pName, qName, bName] = spec.names;
  const st = spec.stateName;
  // row block `rbk` and token block `tb` of the diagonal tile: all masked
  const masked = (tb: string, rbk: string) =>
    spec.lower ? `(diag && ${tb} > ${rbk})` : `(diag && ${tb} < ${rbk})`;
  const products = (
    left: (i: number) => string,
    right: (j: number) => string,
    skip?: (i: number) => string,
  ) =>
    [
      ...I2.map((i) => `      let l${i} = ${mLoad(LEFT, `${left(i)}`)};`),
      ...J.map(
        (j) => `      { let r = ${mLoad(RIGHT, `${right(j)}`)};
${I2.map((i) => `        ${skip ? `if (!${skip(i)}) { ` : ''}a${i}_${j} = ${mMma(`l${i}`, `r`, `a${i}_${j}`)};${skip ? ' }' : ''}`).join('\n')} }`,
      ),
    ].join('\n');
  // B slices (PV) and state slices (inter term), 16 rows at a time, in the Q half of sB
  const bv = bSliceStaging(bX, 'bv', 'sB', 4, false);
  const sv = bSliceStaging(bX, 'sv', 'sB', 4, spec.stateTransposed);
  const bvSrc = (row0: string) => (k: string, x8: string) =>
    `${bName}[((seq0 + t0 + ${row0} + ${k}) * P.DX + xw + ${x8}) / 8u]`;
  const svSrc = (yy: string) => (a: string, b: string) =>
    spec.stateTransposed
      ? `${st}[(sBase + (xw + ${a}) * P.DI + ${yy} + ${b}) / 8u]`
      : `${st}[(sBase + (${yy} + ${a}) * P.DX + xw + ${b}) / 8u]`;
  // a 64 × 64 slice of rows sRow, sRow + 32 (8 elements from sY8) into blocks first + row / 16
  const sliceStore = (first: number, w0: string, w1: string, sc?: [string, string]) =>
    `{
        let at = (sRow % 16u) * ${BS}u + sY8;
        ${storeF16x8(`sB[${first}u + sRow / 16u]`, 'at', w0, sc?.[0])}
        ${storeF16x8(`sB[${first + 2}u + sRow / 16u]`, 'at', w1, sc?.[1])}
      }`;
  const sliceLoad = (name: string, row0: string, depth: string, y: string) => [
    `${name}[((seq0 + ${row0} + sRow) * ${depth} + ${y} + sY8) / 8u]`,
    `${name}[((seq0 + ${row0} + sRow + 32u) * ${depth} + ${y} + sY8) / 8u]`,
  ];
  const [wi0, wi1] = sliceLoad(pName, 'r0', 'P.DI', '0u');
  const [wi0n, wi1n] = sliceLoad(pName, 'r0', 'P.DI', 'y0 + 64u');
  const [wp0, wp1] = sliceLoad(pName, 'r0', 'P.DY', '0u');
  const [wq0, wq1] = sliceLoad(qName, 't0', 'P.DY', '0u');
  const [wp0n, wp1n] = sliceLoad(pName, 'r0', 'P.DY', 'y0 + 64u');
  const [wq0n, wq1n] = sliceLoad(qName, 't0', 'P.DY', 'y0 + 64u');
  // the inter term's first loads (and fw: the normaliser's q·n); \`hoist\`: issued before the row
  // vectors' loads, so that both latencies overlap (H100, S 8192: fw 2.26 → 2.23, dK 2.66 → 2.63,
  // dV 2.20 → 2.14 ms; dQ 2.45 → 2.50, so not for dQ)
  const hoist = c.role !== 'dq';
  // interOn: the chunk's state is not known to be zero (else no inter term; workgroup-uniform)
  const interDecl = `  let interOn = chunk + ${spec.stateSlot} != P.zeroSlot;`;
  const stateDecl = `  let sBase = (bnh * (P.NC + 1u) + chunk + ${spec.stateSlot}) * P.DI * P.DX;
  ${sv.decl}`;
  // the first state slice and I slice (\`declare\`: the I slice as new variables)
  const firstLoads = (declare: boolean) => `${sv.load(svSrc('0u'))}
  ${declare ? 'var ' : ''}wi0 = ${wi0};
  ${declare ? 'var ' : ''}wi1 = ${wi1};`;
  // fw normaliser, inter part: factor_r · q_r · n_{k-1} (n as f32 bits in f16 pairs); 4
  // invocations per row, a quarter of the depth each (the factor is applied after the products)
  const qnLoads = `    let nBase = P.NB * (P.NC + 1u) * P.DI * P.DX + 2u * (bnh * (P.NC + 1u) + chunk) * P.DI;
    let quarter = P.DI / 4u;
    for (var y = (lid % 4u) * quarter; y < (lid % 4u + 1u) * quarter; y += 8u) {
      let w = q[((seq0 + r0 + slRow) * P.DI + y) / 8u];
      let qv = array<vec2<f32>, 4>(vec2<f32>(bitcast<vec2<f16>>(w.x)), vec2<f32>(bitcast<vec2<f16>>(w.y)),
                                   vec2<f32>(bitcast<vec2<f16>>(w.z)), vec2<f32>(bitcast<vec2<f16>>(w.w)));
      // n_y … n_{y+7}: 8 f32 = two vec4 of the f16 view
      let n0 = bitcast<vec4<f32>>(${st}[(nBase + 2u * y) / 8u]);
      let n1 = bitcast<vec4<f32>>(${st}[(nBase + 2u * y) / 8u + 1u]);
      qn += dot(vec4<f32>(qv[0], qv[1]), n0) + dot(vec4<f32>(qv[2], qv[3]), n1);
    }`;
  const hoistedLoads = `${interDecl}
${stateDecl}
  var wi0 = vec4<u32>();
  var wi1 = vec4<u32>();
${fw ? '  var qn = 0.0;\n' : ''}  if (interOn) {
${firstLoads(false)}
${fw ? qnLoads : ''}
  }`;
  return {
    c,
    spec,
    dots,
    bX,
    colsPerSg,
    J,
    I2,
    dotLoads,
    K4,
    persist,
    interOn,
    steps,
    subs,
    exp,
    fw,
    normalised,
    pName,
    qName,
    bName,
    st,
    masked,
    products,
    bv,
    sv,
    bvSrc,
    svSrc,
    sliceStore,
    sliceLoad,
    wi0,
    wi1,
    wi0n,
    wi1n,
    wp0,
    wp1,
    wq0,
    wq1,
    wp0n,
    wp1n,
    wq0n,
    wq1n,
    hoist,
    interDecl,
    stateDecl,
    firstLoads,
    qnLoads,
    hoistedLoads,
  };
}

type SgmatParts = ReturnType<typeof sgmatParts>;

/**
 * The enable directives, parameters, bindings (with the row-dot pair for dQ/dK) and the workgroup
 * arrays (layout note above).
 */
function sgmatDeclarations(g: SgmatParts): string {
  const { c, spec, dots } = g;
  return `${SGMAT_ENABLE}
${wgslHeader('f16')}
${intraParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${spec.decl}
${
  dots
    ? `@group(0) @binding(${spec.decl.split('\n').length + 1}) var<storage, read> dotWith: array<vec4<u32>>; // ${c.role === 'dq' ? 'q' : 'k'}
@group(0) @binding(${spec.decl.split('\n').length + 2}) var<storage, read_write> dots: array<f32>; // per token: output row · dotWith row`
    : ''
}

var<workgroup> sB: array<array<f16, ${BLOCK}>, 12>;   // see the layout note in intra_sgmat.ts
var<workgroup> sS: array<array<f32, ${16 * SS_STRIDE}>, 16>;
var<workgroup> rU: array<f32, 64>;
var<workgroup> rLog: array<f32, 64>;
var<workgroup> rInv: array<f32, 64>;
var<workgroup> rFac: array<f32, 64>;
var<workgroup> tU: array<f32, 64>;
var<workgroup> tLog: array<f32, 64>;
var<workgroup> tInv: array<f32, 64>;
var<workgroup> rDen: array<f32, 256>;

`;
}

/**
 * The entry point and the workgroup's tile: chunk, row tile (or the walk over them), output
 * columns; the inter term's first loads where they are hoisted; the row vectors of the gates; the
 * accumulators.
 */
function sgmatTileStart(g: SgmatParts): string {
  const { c, spec, bX, J, I2, persist, interOn, exp, fw, hoist, interDecl, hoistedLoads } = g;
  return `${SGMAT_ENTRY}
${
  persist
    ? `  let chunk = rest % P.NC;
  let bnh = rest / P.NC;
  for (var rTile = 0u; rTile < P.nRowTiles; rTile++) {
  workgroupBarrier(); // the previous row tile's epilogue is done with rFac and the scratch`
    : `  let rTile = rest % P.nRowTiles;
  let rest2 = rest / P.nRowTiles;
  let chunk = rest2 % P.NC;
  let bnh = rest2 / P.NC;`
}
  let r0 = rTile * 64u;
  let seq0 = bnh * P.S + chunk * P.L;          // first token of the chunk
  let rg = sg / 4u;                            // row blocks 2rg, 2rg + 1 (32 rows)
  let cg = sg % 4u;                            // column group (QK: token block)
  let rb0 = 2u * rg;
  let rb1 = rb0 + 1u;
  let xw = xTile * ${bX}u;                     // the workgroup's first output column
  let noInterMax = ${c.inter ? 'false' : 'true'};
  let mPrev = ${exp && c.inter ? 'chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk]' : '0.0'};
  let mNext = ${exp && c.inter ? 'chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk + 1u]' : '0.0'};
  let gChunk = chunkv[bnh * P.NC + chunk];
  // the fw normaliser's inter part: 4 invocations per row
  let slRow = lid / 4u;
  // staging of a 64 × 64 slice: rows sRow and sRow + 32, 8 elements from sY8
  let sRow = lid / 8u;
  let sY8 = (lid % 8u) * 8u;

${interOn && hoist ? hoistedLoads : ''}
${fw && exp ? '  var mRow = 0.0; // fw: the row max state, for the epilogue (loaded with the row vectors)\n' : ''}  if (lid < 64u) {
    let tok = seq0 + r0 + lid;
    rU[lid] = gates[P.T + tok];
    rLog[lid] = ${spec.rowLogExpr};
    rInv[lid] = ${spec.invNExpr};${fw && exp ? '\n    mRow = gates[tok];' : ''}
  }
  workgroupBarrier();
${interOn && !hoist ? interDecl : ''}
${I2.flatMap((i) => J.map((j) => `  var a${i}_${j} = ${RESULT}();`)).join('\n')}
  var den = 0.0; // fw: partial row sum of row lid / 4
`;
}

/**
 * Inter-chunk term: factor_r · Σ_y I[r, y] · State[y, x], I pre-scaled and staged 64 deep, the
 * state 32 rows at a time, both one slice ahead in registers; fw: the normaliser's inter part.
 */
function sgmatInterTerm(g: SgmatParts): string {
  const {
    spec,
    interOn,
    steps,
    subs,
    fw,
    products,
    sv,
    svSrc,
    sliceStore,
    wi0n,
    wi1n,
    hoist,
    stateDecl,
    firstLoads,
  } = g;
  return `${
    interOn
      ? `
  // inter-chunk term: factor_r · Σ_y I[r, y] · State[y, x]; I pre-scaled and staged 64 deep
  // (P half), the state 32 rows at a time (Q half), both one slice ahead in registers
  if (interOn) {
  if (lid < 64u) { rFac[lid] = ${spec.interScaleExpr('lid')}; }
${hoist ? '' : `${stateDecl}\n${firstLoads(true)}`}
  for (var y0 = 0u; y0 < P.DI; y0 += 64u) {
${steps
  .map(
    (k) => `    // rows y0 + ${R * k} … of the state
    workgroupBarrier();
${
  k === 0
    ? `    {
      let sc0 = rFac[sRow]; let sc1 = rFac[sRow + 32u];
      ${sliceStore(0, 'wi0', 'wi1', ['sc0', 'sc1'])}
    }
`
    : ''
}${sv.store}
    workgroupBarrier();
${
  k === 0
    ? `    if (y0 + 64u < P.DI) {
      wi0 = ${wi0n};
      wi1 = ${wi1n};
    }
`
    : ''
}    if (y0 + ${R * k + R}u < P.DI) {
${sv.load(svSrc(`y0 + ${R * k + R}u`))}
    }
${subs
  .map(
    (h) => `    {
${products(
  (i) => `&sB[rb${i}], ${R * k + 16 * h}u, false, ${BS}u`,
  (j) => sv.right(j, h),
)}
    }`,
  )
  .join('\n')}`,
  )
  .join('\n')}
  }
${fw ? '  den += rFac[slRow] * qn;' : ''}
  }`
      : ''
  }
`;
}

/**
 * Intra-chunk term over the causal side's 64-token tiles: scores P·Qᵀ on the matrix units, gate
 * and causal mask in f32, then Out += f16(A ⊙ G)·B, skipping fully masked blocks.
 */
function sgmatCausalTiles(g: SgmatParts): string {
  const {
    spec,
    K4,
    steps,
    subs,
    fw,
    masked,
    products,
    bv,
    bvSrc,
    sliceStore,
    wp0,
    wp1,
    wq0,
    wq1,
    wp0n,
    wp1n,
    wq0n,
    wq1n,
  } = g;
  return `  // intra-chunk term over the causal side's 64-token tiles
  ${spec.lower ? 'for (var t0 = 0u; t0 <= r0; t0 += 64u) {' : 'for (var t0 = r0; t0 < P.L; t0 += 64u) {'}
    workgroupBarrier();
    // scores A = P·Qᵀ: this subgroup's blocks (rb0, cg) and (rb1, cg), over 64-deep slices
    // staged one ahead in registers; the first slices are loaded before the token vectors, and
    // those by every invocation (stored by the first 64), so that all latencies overlap
    var wp0 = ${wp0};
    var wp1 = ${wp1};
    var wq0 = ${wq0};
    var wq1 = ${wq1};
    {
      let tok = seq0 + t0 + lid % 64u;
      let u = gates[P.T + tok];
      let lg = ${spec.rowLogExpr};
      let inv = ${spec.invNExpr};
      if (lid < 64u) {
        tU[lid] = u;
        tLog[lid] = lg;
        tInv[lid] = inv;
      }
    }
    let diag = t0 == r0;
    let skip0 = ${masked('cg', 'rb0')};
    let skip1 = ${masked('cg', 'rb1')};
    var s0 = ${RESULT}();
    var s1 = ${RESULT}();
    for (var y0 = 0u; y0 < P.DY; y0 += 64u) {
      workgroupBarrier();
      ${sliceStore(0, 'wp0', 'wp1')}
      ${sliceStore(4, 'wq0', 'wq1')}
      workgroupBarrier();
      if (y0 + 64u < P.DY) {
        wp0 = ${wp0n};
        wp1 = ${wp1n};
        wq0 = ${wq0n};
        wq1 = ${wq1n};
      }
${K4.map(
  (k) => `      {
        // right (y, t) = Q[t][y]: column-major
        let r = ${mLoad(RIGHT, `&sB[4u + cg], ${16 * k}u, true, ${BS}u`)};
        if (!skip0) { s0 = ${mMma(`${mLoad(LEFT, `&sB[rb0], ${16 * k}u, false, ${BS}u`)}`, `r`, `s0`)}; }
        if (!skip1) { s1 = ${mMma(`${mLoad(LEFT, `&sB[rb1], ${16 * k}u, false, ${BS}u`)}`, `r`, `s1`)}; }
      }`,
).join('\n')}
    }
    // the first B slice of this tile, loaded while the scores are gated
    ${bv.decl}
${bv.load(bvSrc('0u'))}
    ${mStore(`&sS[rb0 * 4u + cg]`, `0u`, `s0`, `false`, `${SS_STRIDE}u`)};
    ${mStore(`&sS[rb1 * 4u + cg]`, `0u`, `s1`, `false`, `${SS_STRIDE}u`)};
    workgroupBarrier();
    // gate and causal mask, f32 (4 invocations per row, 16 tokens each); the gated scores go to
    // the P half
    {
      let rr = lid / 4u;
      let r = r0 + rr;
      let tb = lid % 4u;
      for (var c = 0u; c < 16u; c++) {
        let tt = tb * 16u + c;
        let t = t0 + tt;
        var val = 0.0;
        if (${spec.lower ? 't <= r' : 't >= r'}) { val = sS[(rr / 16u) * 4u + tb][(rr % 16u) * ${SS_STRIDE}u + c] * ${spec.gateExpr('rr', 'tt')}; }
        ${fw ? 'den += val;' : ''}
        sB[rr / 16u][(rr % 16u) * ${BS}u + tt] = f16(val);
      }
    }
    // Out += (A ⊙ G) · B, B staged 16 rows at a time (Q half), one slice ahead in registers
    workgroupBarrier();
${steps
  .map(
    (k) => `    {
${k > 0 ? '      workgroupBarrier();\n' : ''}${bv.store}
      workgroupBarrier();
${k < steps.length - 1 ? bv.load(bvSrc(`${R * (k + 1)}u`)) : ''}
${subs
  .map((h) => {
    const tb = (R / 16) * k + h;
    return `      {
        let skipA = ${masked(`${tb}u`, 'rb0')};
        let skipB = ${masked(`${tb}u`, 'rb1')};
        if (!(skipA && skipB)) {
${products(
  (i) => `&sB[rb${i}], ${16 * tb}u, false, ${BS}u`,
  (j) => bv.right(j, h),
  (i) => (i === 0 ? 'skipA' : 'skipB'),
)}
        }
      }`;
  })
  .join('\n')}
    }`,
  )
  .join('\n')}
  }
`;
}

/**
 * The row-dot operand's loads (dQ, dK) and the per-row output factor (fw: 1/(n + eps) with the
 * normaliser written out; bw: the output scale).
 */
function sgmatRowFactors(g: SgmatParts): string {
  const { dots, dotLoads, exp, fw, normalised } = g;
  return `${
    dots
      ? `  // the row-dot operand, loaded before the output factor's barrier (H100 S 8192: dK 2.73 → 2.66 ms
  // against loading it in the epilogue)
${dotLoads}`
      : ''
  }
  // per-row output factor
${
  fw
    ? `  rDen[lid] = den;
  workgroupBarrier();
  if (lid < 64u) {
    let r = r0 + lid;
    let d = rDen[4u * lid] + rDen[4u * lid + 1u] + rDen[4u * lid + 2u] + rDen[4u * lid + 3u];
    ${exp ? 'let mC = mRow - rLog[lid];' : 'let mC = 0.0;'}
    let nO = ${normalised ? `max(abs(d), ${exp ? 'exp(-mC)' : '1.0'})` : '1.0'};
    rFac[lid] = ${normalised ? '1.0 / (nO + P.eps)' : '1.0'};
    if (xTile == 0u) {
      nm[seq0 + r] = nO;
      nm[P.T + seq0 + r] = mC;
    }
  }`
    : `  workgroupBarrier();
  if (lid < 64u) { rFac[lid] = P.outScale; }`
}
`;
}

/**
 * Epilogue: the accumulators through the scratch blocks, scaled, to f16 (8 per 16-byte store); dQ,
 * dK: the row dots; the end of the row-tile walk.
 */
function sgmatEpilogue(g: SgmatParts): string {
  const { spec, dots, colsPerSg, J, persist } = g;
  return `  // epilogue: two accumulators at a time → the subgroup's two 16×16 f32 scratch blocks → scaled
  // f16, 8 per 16-byte store (2 lanes per row)
  let eRow = lane / 2u;
  let eCol = (lane % 2u) * 8u;
  let xc = cg * ${colsPerSg}u;                 // the subgroup's first column within the tile
${dots ? "  var rowDot0 = 0.0; // rows rb0·16 + eRow, rb1·16 + eRow: this lane's part of their dots\n  var rowDot1 = 0.0;\n" : ''}${scratchEpilogue(
  J.length,
  'sS',
  (i, j, h) => `  {
    let fac = rFac[rb${i} * 16u + eRow];
    let e0 = eRow * 16u + eCol;
    let o = (seq0 + r0 + rb${i} * 16u + eRow) * P.DX + xw + xc + ${16 * j}u + eCol;
${range(4)
  .map(
    (p) =>
      `    let v${p} = vec2<f16>(f16(fac * sS[sg * 2u + ${h}u][e0 + ${2 * p}u]), f16(fac * sS[sg * 2u + ${h}u][e0 + ${2 * p + 1}u]));`,
  )
  .join('\n')}
    ${spec.outName}[o / 8u] = vec4<u32>(bitcast<u32>(v0), bitcast<u32>(v1), bitcast<u32>(v2), bitcast<u32>(v3));
${
  dots
    ? `    {
      let w = dw${i}_${j};
      rowDot${i} += dot(vec4<f32>(vec2<f32>(v0), vec2<f32>(v1)), vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(w.x)), vec2<f32>(bitcast<vec2<f16>>(w.y))))
        + dot(vec4<f32>(vec2<f32>(v2), vec2<f32>(v3)), vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(w.z)), vec2<f32>(bitcast<vec2<f16>>(w.w))));
    }`
    : ''
}
  }`,
)}
${
  dots
    ? `  // the row dots: the two lanes of a row, then the 4 column groups through rDen (unused here)
  rowDot0 += subgroupShuffleXor(rowDot0, 1u);
  rowDot1 += subgroupShuffleXor(rowDot1, 1u);
  if (eCol == 0u) {
    rDen[(rb0 * 16u + eRow) * 4u + cg] = rowDot0;
    rDen[(rb1 * 16u + eRow) * 4u + cg] = rowDot1;
  }
  workgroupBarrier();
  if (lid < 64u) { dots[seq0 + r0 + lid] = rDen[4u * lid] + rDen[4u * lid + 1u] + rDen[4u * lid + 2u] + rDen[4u * lid + 3u]; }`
    : ''
}
${persist ? '  }' : ''}
}
`;
}
