/**
 * Dense `y (+)= x·Wᵀ` on the adapter's matrix units (Dawn's `chromium-experimental-subgroup-matrix`,
 * f16 operands, f32 accumulation, 16×16×16), with the epilogues of ./epilogue.ts.
 *
 * A workgroup of `g` subgroups (8 by default, or 4; 32 lanes each) computes a `bm × bn` output
 * tile; the subgroups form a `wm × (g/wm)` grid, each owning `(bm/wm) × (bn·wm/g)` outputs as 16×16
 * accumulators. The depth is walked `bk` at a time: both operand slices are staged in workgroup
 * memory, the next slice is loaded from storage into registers (16-byte loads: 8 f16, or 2 × 4 f32
 * of x converted to f16) while the current one feeds the products (`prefetch: false`: right before
 * it is stored instead), then stored — into the other half of a double buffer
 * (`stages: 2`, one barrier per slice) or, after a barrier, over the same buffer (`stages: 1`,
 * two barriers per slice, half the memory). As in the TFLA kernels (see intra_sgmat.ts), the
 * workgroup arrays are arrays of 16-row blocks and every matrix load addresses a block at a
 * literal offset, so that Dawn's robustness proves the loads in bounds at compile time.
 * W's rows are staged as they lie (`[n][k]`) and loaded as the right operand column-major.
 *
 * Edges: x rows ≥ M and W rows past the output columns are read from row 0 (their products land
 * in outputs that are not stored); depth past K is zero. K must be a multiple of 8 (16-byte loads).
 * Epilogue: each accumulator passes through a per-subgroup 16×16 f32 scratch block, each lane then
 * finishes 8 consecutive outputs of one row.
 */
import type { DispatchBatch, GpuContext } from '../../device/context.js';
import type { GpuDtype } from '../../device/tensor.js';
import { KernelArgumentError } from '../../errors.js';
import { LEFT, RESULT, RIGHT, SGMAT_ENABLE } from '../../chunkwise/kernels/sgmat_builtins.js';
import { range, storeF16x8 } from '../../chunkwise/kernels/sgmat_common.js';
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

/** subgroups per workgroup unless the tiles say otherwise (32 lanes each) */
const SUBGROUPS = 8;
/** row tiles per group of the tile order ({@link tileOrder}) */
const GROUP_ROWS = 8;

/** Tile shape of the matrix-unit kernel. */
export interface DenseSgmatTiles {
  /** output rows per workgroup (multiple of 16·wm) */
  bm: number;
  /** output columns per workgroup, in W rows (gated: half of them are outputs) */
  bn: number;
  /** depth per staged slice: 32 or 64 */
  bk: number;
  /** subgroups along the rows (1, 2, 4 or 8); 8/wm along the columns */
  wm: number;
  /** 2: double-buffered slices (one barrier per slice); 1: a single buffer (two) */
  stages: 1 | 2;
  /** subgroups per workgroup, 4 or 8 (default 8): fewer make a subgroup own more of the tile */
  subgroups?: 4 | 8;
  /**
   * Load the next slice into registers while the current one feeds the products (default true).
   * false: each slice is loaded right before it is stored, so no loaded registers stay live over
   * the products (fewer registers per invocation, room for more workgroups per multiprocessor).
   */
  prefetch?: boolean;
  /**
   * Bank-conflict-free staging stores (default false). The 8 f16 of a 16-byte load are stored one
   * by one (WGSL has no wider store into an `array<f16>`); with every lane storing the same element
   * at once, a row stride of 4 banks (the padding that keeps the matrix loads conflict-free) puts
   * the 32 lanes on 8 banks: 4-way conflicts on every store. Rotated, lane c of a row (its depth
   * chunk) stores its half pairs starting from pair `c mod 4`, so the lanes hit 32 distinct banks.
   */
  rotateStores?: boolean;
}

export interface DenseSgmatConfig extends DenseSgmatTiles {
  /** storage type of x (W is f16) */
  xDtype: GpuDtype;
  /** SiLU-gated epilogue (W has 2N rows) */
  gated: boolean;
  /** storage type of y (default f32) */
  yDtype?: GpuDtype;
}

/**
 * Default tiles (see heuristics.chooseDenseTiles): 128 × 128 outputs, 64-deep slices in a single
 * buffer (45 056 bytes of workgroup memory).
 */
export const DENSE_SGMAT_DEFAULT: DenseSgmatTiles = { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1 };

const subgroupsOf = (t: DenseSgmatTiles) => t.subgroups ?? SUBGROUPS;

/**
 * Tiles as text, `BMxBNxBK:wmW:sS` then `:sg4`, `:nopf`, `:rot` where those options are set
 * (`128x128x64:wm2:s1:rot`); {@link parseDenseTiles} reads it back.
 */
export function formatDenseTiles(t: DenseSgmatTiles): string {
  const sg = subgroupsOf(t) === SUBGROUPS ? '' : `:sg${subgroupsOf(t)}`;
  const pf = t.prefetch === false ? ':nopf' : '';
  const rot = t.rotateStores ? ':rot' : '';
  return `${t.bm}x${t.bn}x${t.bk}:wm${t.wm}:s${t.stages}${sg}${pf}${rot}`;
}

/** Reads {@link formatDenseTiles}'s text (`KernelArgumentError` naming `denseTiles` otherwise). */
export function parseDenseTiles(spec: string): DenseSgmatTiles {
  const m = /^(\d+)x(\d+)x(\d+):wm(\d+):s([12])((?::sg[48]|:nopf|:rot)*)$/.exec(spec.trim());
  if (!m)
    throw new KernelArgumentError(
      'denseTiles',
      "'BMxBNxBK:wmW:sS' with optional ':sg4', ':nopf', ':rot' (e.g. '128x128x64:wm2:s1:rot')",
      JSON.stringify(spec),
      'dense--webgpu_matmul',
    );
  const t: DenseSgmatTiles = {
    bm: Number(m[1]),
    bn: Number(m[2]),
    bk: Number(m[3]),
    wm: Number(m[4]),
    stages: Number(m[5]) as 1 | 2,
  };
  const sg = /:sg([48])/.exec(m[6]);
  if (sg) t.subgroups = Number(sg[1]) as 4 | 8;
  if (m[6].includes(':nopf')) t.prefetch = false;
  if (m[6].includes(':rot')) t.rotateStores = true;
  return t;
}

export function denseSgmatKey(c: DenseSgmatConfig): string {
  return `dense-sgmat:${formatDenseTiles(c)}:x${c.xDtype}${c.gated ? ':gated' : ''}${c.yDtype === 'f16' ? ':y16' : ''}`;
}

/** Padded row stride of a staged block (8 f16 of padding: 8 rows of a matrix load hit 8 bank groups). */
const stride = (bk: number) => bk + 8;

/** Workgroup memory of a configuration: the staged slices plus one 16×16 f32 scratch block per subgroup. */
export function denseSgmatWorkgroupBytes(t: DenseSgmatTiles): number {
  return t.stages * (t.bm + t.bn) * stride(t.bk) * 2 + subgroupsOf(t) * 256 * 4;
}

/** Why the tiles are not valid for this call ('' when they are). */
export function denseSgmatTilesProblem(
  t: DenseSgmatTiles,
  gated: boolean,
  maxWorkgroupBytes: number,
): string {
  const sgs = subgroupsOf(t);
  const threads = 32 * sgs;
  const wn = sgs / t.wm;
  if (sgs !== 4 && sgs !== 8) return `subgroups ${sgs} is not 4 or 8`;
  if (![1, 2, 4, 8].includes(t.wm) || t.wm > sgs)
    return `wm ${t.wm} is not 1, 2, 4 or 8 (at most subgroups, ${sgs})`;
  if (t.bk !== 32 && t.bk !== 64) return `bk ${t.bk} is not 32 or 64`;
  if (t.bm % (16 * t.wm) || t.bn % (16 * wn))
    return `${t.bm}×${t.bn} does not split into 16×16 blocks over ${t.wm}×${wn} subgroups`;
  if (((t.bm * t.bk) / 8) % threads || ((t.bn * t.bk) / 8) % threads)
    return `a ${t.bm}×${t.bk} or ${t.bn}×${t.bk} slice is not a whole number of 16-byte loads per invocation`;
  if (gated && (t.bn / wn / 16) % 2)
    return 'the gated epilogue needs an even number of column blocks per subgroup';
  if (denseSgmatWorkgroupBytes(t) > maxWorkgroupBytes)
    return `${denseSgmatWorkgroupBytes(t)} bytes of workgroup memory (limit ${maxWorkgroupBytes})`;
  return '';
}

/** WGSL of one configuration. */
export function denseSgmatWgsl(c: DenseSgmatConfig): string {
  const { bm, bn, bk, wm, stages } = c;
  const SG = subgroupsOf(c);
  const THREADS = 32 * SG;
  const prefetch = c.prefetch !== false;
  const rotate = c.rotateStores === true;
  const wn = SG / wm;
  const S = stride(bk);
  const NBX = bm / 16;
  const NBW = bn / 16;
  const I = range(bm / wm / 16);
  const J = range(bn / wn / 16);
  const KS = range(bk / 16);
  const perRow = bk / 8; // 16-byte loads per staged row
  const xf16 = c.xDtype === 'f16';
  const outCols = c.gated ? bn / 2 : bn;
  const xUnits = range((bm * bk) / 8 / THREADS);
  const wUnits = range((bn * bk) / 8 / THREADS);

  // staging coordinates of unit u (row of the slice, first of its 8 depths), fixed for the whole loop
  const coords = (p: string, units: number[]) =>
    units
      .map(
        (u) => `  let ${p}Row${u} = (lid + ${THREADS * u}u) / ${perRow}u;
  let ${p}K${u} = ((lid + ${THREADS * u}u) % ${perRow}u) * 8u;`,
      )
      .join('\n');
  // W row of slice row r: gated tiles interleave 16-row blocks of gate rows (even) and up rows (odd)
  const wRowOf = (r: string) => (c.gated ? `n0 + (${r} / 32u) * 16u + ${r} % 16u` : `n0 + ${r}`);
  const rowBases = `${xUnits
    .map((u) => `  let xBase${u} = select(0u, (m0 + xRow${u}) * P.K, m0 + xRow${u} < P.M);`)
    .join('\n')}
${wUnits
  .map((u) => {
    const col = wRowOf(`wRow${u}`);
    const row = c.gated ? `select(0u, P.N, (wRow${u} / 16u) % 2u == 1u) + ${col}` : col;
    return `  let wBase${u} = select(0u, (${row}) * P.K, ${col} < P.N);`;
  })
  .join('\n')}`;
  // loads of the slice at depth k0 into registers (zero past K; the index clamped so that it stays in bounds)
  const at = (base: string, k: string) => `${base} + min(k0 + ${k}, P.K - 8u)`;
  const loads = `${xUnits
    .map((u) =>
      xf16
        ? `    rx${u} = select(vec4<u32>(), x[(${at(`xBase${u}`, `xK${u}`)}) / 8u], k0 + xK${u} < P.K);`
        : `    rx${u}a = select(vec4<f32>(), x[(${at(`xBase${u}`, `xK${u}`)}) / 4u], k0 + xK${u} < P.K);
    rx${u}b = select(vec4<f32>(), x[(${at(`xBase${u}`, `xK${u}`)}) / 4u + 1u], k0 + xK${u} < P.K);`,
    )
    .join('\n')}
${wUnits
  .map((u) => `    rw${u} = select(vec4<u32>(), w[(${at(`wBase${u}`, `wK${u}`)}) / 8u], k0 + wK${u} < P.K);`)
  .join('\n')}`;
  const decls = [
    ...xUnits.map((u) =>
      xf16 ? `var rx${u} = vec4<u32>();` : `var rx${u}a = vec4<f32>(); var rx${u}b = vec4<f32>();`,
    ),
    ...wUnits.map((u) => `var rw${u} = vec4<u32>();`),
  ]
    .map((l) => `  ${l}`)
    .join('\n');
  // rotated stores (rotateStores): where pair j of unit u lands, fixed for the whole loop
  const rotOffsets = (p: string, units: number[]) =>
    units
      .flatMap((u) =>
        range(4).map(
          (j) =>
            `  let ${p}O${u}_${j} = (${p}Row${u} % 16u) * ${S}u + ${p}K${u} + 2u * ((${j}u + ${p}K${u} / 8u) & 3u);`,
        ),
      )
      .join('\n');
  const rotatedStore = (dst: string, p: string, u: number, vec: string) =>
    `    { let v = rot4(${vec}, ${p}K${u} / 8u); ${range(4)
      .map(
        (j) =>
          `{ let h2 = bitcast<vec2<f16>>(v.${'xyzw'[j]}); ${dst}[${p}O${u}_${j}] = h2.x; ${dst}[${p}O${u}_${j} + 1u] = h2.y; }`,
      )
      .join(' ')} }`;
  const f32Pair = (v: string) => `bitcast<u32>(vec2<f16>(clamp(${v}, vec2(-65504.0), vec2(65504.0))))`;
  const storeX = (buf: string, u: number) => {
    const dst = `sX[${buf} * ${NBX}u + xRow${u} / 16u]`;
    if (rotate)
      return rotatedStore(
        dst,
        'x',
        u,
        xf16
          ? `rx${u}`
          : `vec4<u32>(${f32Pair(`rx${u}a.xy`)}, ${f32Pair(`rx${u}a.zw`)}, ${f32Pair(`rx${u}b.xy`)}, ${f32Pair(`rx${u}b.zw`)})`,
      );
    const o = `(xRow${u} % 16u) * ${S}u + xK${u}`;
    if (xf16) return `    { let at = ${o}; ${storeF16x8(dst, 'at', `rx${u}`)} }`;
    return `    { let at = ${o}; ${range(8)
      .map(
        (e) =>
          `${dst}[at + ${e}u] = f16(clamp(rx${u}${e < 4 ? 'a' : 'b'}.${'xyzw'[e % 4]}, -65504.0, 65504.0));`,
      )
      .join(' ')} }`;
  };
  const storeW = (buf: string, u: number) =>
    rotate
      ? rotatedStore(`sW[${buf} * ${NBW}u + wRow${u} / 16u]`, 'w', u, `rw${u}`)
      : `    { let at = (wRow${u} % 16u) * ${S}u + wK${u}; ${storeF16x8(`sW[${buf} * ${NBW}u + wRow${u} / 16u]`, 'at', `rw${u}`)} }`;
  const stores = (buf: string) =>
    [...xUnits.map((u) => storeX(buf, u)), ...wUnits.map((u) => storeW(buf, u))].join('\n');
  // the products of one staged slice (buffer `buf`), 16 deep at a time at literal offsets
  const products = (buf: string) =>
    KS.map(
      (ks) => `    {
${I.map((i) => `      let l${i} = subgroupMatrixLoad<${LEFT}>(&sX[${buf} * ${NBX}u + sgM * ${I.length}u + ${i}u], ${16 * ks}u, false, ${S}u);`).join('\n')}
${J.map(
  (
    j,
  ) => `      { let r = subgroupMatrixLoad<${RIGHT}>(&sW[${buf} * ${NBW}u + sgN * ${J.length}u + ${j}u], ${16 * ks}u, true, ${S}u);
${I.map((i) => `        a${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r, a${i}_${j});`).join('\n')} }`,
).join('\n')}
    }`,
    ).join('\n');
  const mainLoop = !prefetch
    ? stages === 2
      ? `  // per slice: load and store it into buffer s % 2, one barrier, products (the other buffer is
  // free: every subgroup passed the previous barrier after its products on it)
  for (var s = 0u; s < nSteps; s++) {
    let cur = s % 2u;
    let k0 = s * ${bk}u;
${loads}
${stores('cur')}
    workgroupBarrier();
${products('cur')}
  }`
      : `  // per slice: load it, barrier (the products of the previous slice are done), store, barrier, products
  for (var s = 0u; s < nSteps; s++) {
    let k0 = s * ${bk}u;
${loads}
    workgroupBarrier();
${stores('0u')}
    workgroupBarrier();
${products('0u')}
  }`
    : stages === 2
      ? `  // slice 0 into buffer 0; then per slice: next slice's loads, products, store into the other buffer
  {
    let k0 = 0u;
${loads}
  }
${stores('0u')}
  workgroupBarrier();
  for (var s = 0u; s < nSteps; s++) {
    let cur = s % 2u;
    let k0 = (s + 1u) * ${bk}u;
    let more = s + 1u < nSteps;
    if (more) {
${loads}
    }
${products('cur')}
    if (more) {
${stores('(1u - cur)')}
    }
    workgroupBarrier();
  }`
      : `  // per slice: barrier, store the registers, barrier, load the next slice, products
  {
    let k0 = 0u;
${loads}
  }
  for (var s = 0u; s < nSteps; s++) {
    workgroupBarrier();
${stores('0u')}
    workgroupBarrier();
    let k0 = (s + 1u) * ${bk}u;
    if (s + 1u < nSteps) {
${loads}
    }
${products('0u')}
  }`;
  // epilogue: accumulator → the subgroup's scratch block → 8 outputs per lane (row eRow, columns eCol…+7)
  const scratch = (acc: string) => `  workgroupBarrier();
  subgroupMatrixStore(&sC[sg], 0u, ${acc}, false, 16u);
  workgroupBarrier();`;
  const read8 = (v: string) =>
    range(8)
      .map((e) => `  let ${v}${e} = sC[sg][eRow * 16u + eCol + ${e}u];`)
      .join('\n');
  const epilogue = c.gated
    ? I.flatMap((i) =>
        range(J.length / 2).map(
          (p) => `  {
${scratch(`a${i}_${2 * p}`)}
${read8('g')}
${scratch(`a${i}_${2 * p + 1}`)}
${read8('u')}
    let m = mRow + ${16 * i}u;
    let nb = n0 + (sgN * ${J.length / 2}u + ${p}u) * 16u + eCol;
    if (m < P.M) {
${range(8)
  .map(
    (e) =>
      `      if (nb + ${e}u < P.N) { store(m, nb + ${e}u, silu(g${e} + biasAt(nb + ${e}u)) * (u${e} + biasAt(P.N + nb + ${e}u))); }`,
  )
  .join('\n')}
    }
  }`,
        ),
      ).join('\n')
    : I.flatMap((i) =>
        J.map(
          (j) => `  {
${scratch(`a${i}_${j}`)}
${read8('v')}
    let m = mRow + ${16 * i}u;
    let nb = n0 + (sgN * ${J.length}u + ${j}u) * 16u + eCol;
    if (m < P.M) {
${range(8)
  .map((e) => `      if (nb + ${e}u < P.N) { store(m, nb + ${e}u, v${e} + biasAt(nb + ${e}u)); }`)
  .join('\n')}
    }
  }`,
        ),
      ).join('\n');

  return /* wgsl */ `${SGMAT_ENABLE}
${denseHeader('f16', c.xDtype)}
${denseBindings(xf16 ? 'vec4<u32>' : 'vec4<f32>', 'vec4<u32>', c.yDtype)}
${denseEpilogue(c.yDtype)}
${
  rotate
    ? `
// v rotated by r words: component j is v[(j + r) % 4]
fn rot4(v: vec4<u32>, r: u32) -> vec4<u32> {
  let a = select(v, v.yzwx, (r & 1u) != 0u);
  return select(a, a.zwxy, (r & 2u) != 0u);
}
`
    : ''
}
// staged slices: 16-row blocks of ${S} f16 (${bk} used)${stages === 2 ? ', two buffers' : ''}; per-subgroup f32 scratch
var<workgroup> sX: array<array<f16, ${16 * S}>, ${stages * NBX}>;
var<workgroup> sW: array<array<f16, ${16 * S}>, ${stages * NBW}>;
var<workgroup> sC: array<array<f32, 256>, ${SG}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
${tileOrder(GROUP_ROWS)}
  let m0 = mTile * ${bm}u;
  let n0 = nTile * ${outCols}u;               // first output column of the tile
  let sgM = sg / ${wn}u;                      // the subgroup's row group and column group
  let sgN = sg % ${wn}u;
  let nSteps = (P.K + ${bk - 1}u) / ${bk}u;
${coords('x', xUnits)}
${coords('w', wUnits)}
${rotate ? `${rotOffsets('x', xUnits)}\n${rotOffsets('w', wUnits)}` : ''}
${rowBases}
${decls}
${I.flatMap((i) => J.map((j) => `  var a${i}_${j} = ${RESULT}();`)).join('\n')}
${mainLoop}
  let eRow = lane / 2u;
  let eCol = (lane % 2u) * 8u;
  let mRow = m0 + sgM * ${bm / wm}u + eRow;
${epilogue}
}
`;
}

/** Encodes one call of the matrix-unit kernel (arguments validated by the caller). */
export function encodeDenseSgmat(
  ctx: GpuContext,
  batch: DispatchBatch,
  t: DenseTensors,
  o: DenseCall,
  tiles: DenseSgmatTiles,
): void {
  const c: DenseSgmatConfig = { ...tiles, xDtype: t.x.dtype, gated: o.gated, yDtype: t.y.dtype };
  const p = ctx.pipeline(denseSgmatKey(c), () => denseSgmatWgsl(c), DENSE_LAYOUT);
  dispatchDense(ctx, batch, p, t, o, tiles.bm, tiles.bn, 'dense matmul (matrix units)');
}
