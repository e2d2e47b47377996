/**
 * What the matrix-unit (subgroup-matrix) kernels share, apart from Dawn's spelling of the builtins
 * (sgmat_builtins.ts): which adapters and shapes they take, and the WGSL helpers both the intra
 * kernels (intra_sgmat.ts) and the state scans (chunk_products.ts) use — the staging of B slices
 * into blocked workgroup arrays, 16-byte f16 stores, and the epilogue through scratch blocks.
 *
 * Every matrix load and store addresses one *block* of an array of fixed-size blocks, at an offset
 * that is a literal in the WGSL: with robustness on (always, in browsers) Dawn then proves the
 * access in bounds at compile time instead of wrapping each matrix load in a run-time bounds
 * branch (scripts/matrix-loads.ts measured the difference).
 */
import { SGMAT_THREADS, mStore } from './sgmat_builtins.js';

/** lanes per subgroup the kernels assume (8 subgroups per workgroup own fixed blocks) */
const SG_SIZE = 32;

export interface SgmatFeatures {
  subgroupMatrix: boolean;
  subgroupMatrixConfigs: {
    componentType: string;
    resultComponentType: string;
    M: number;
    N: number;
    K: number;
  }[];
  subgroupMinSize: number;
  subgroupMaxSize: number;
  shaderF16: boolean;
  /** the device's `subgroups` feature (the kernels use subgroup ids and shuffles) */
  subgroups: boolean;
}

/**
 * Why the adapter and device cannot run the matrix-unit kernels, or null when they can: they need
 * the `chromium-experimental-subgroup-matrix`, `shader-f16` and `subgroups` features, an f16→f32
 * 16×16×16 configuration and subgroups of exactly 32 lanes (8 subgroups per 256-invocation
 * workgroup own fixed row and column blocks).
 */
export function sgmatUnsupportedReason(f: SgmatFeatures): string | null {
  if (!f.subgroupMatrix) return 'the device has no chromium-experimental-subgroup-matrix feature';
  if (!f.shaderF16) return 'the device has no shader-f16 feature';
  if (!f.subgroups) return 'the device has no subgroups feature';
  if (f.subgroupMinSize !== SG_SIZE || f.subgroupMaxSize !== SG_SIZE)
    return `the adapter's subgroups are ${f.subgroupMinSize}–${f.subgroupMaxSize} lanes, the kernels need exactly ${SG_SIZE}`;
  const ok = f.subgroupMatrixConfigs.some(
    (c) =>
      c.componentType === 'f16' && c.resultComponentType === 'f32' && c.M === 16 && c.N === 16 && c.K === 16,
  );
  if (!ok) return 'the adapter reports no f16→f32 16×16×16 subgroup-matrix configuration';
  return null;
}

/** Whether the adapter has what the matrix-unit kernels need ({@link sgmatUnsupportedReason}). */
export function sgmatSupported(f: SgmatFeatures): boolean {
  return sgmatUnsupportedReason(f) === null;
}

/** Output columns per workgroup for `DX` columns: the largest of 256, 192, 128, 64 dividing DX (0: none). */
export function sgmatTileX(DX: number): number {
  return [256, 192, 128, 64].find((c) => c <= DX && DX % c === 0) ?? 0;
}

/** row stride of the workgroup blocks of the matrix operands (sB, and the chunk products' B slices) */
export const BLOCK_STRIDE = 72;
/** rows of a staged B (or state) slice ({@link bSliceStaging}) */
export const B_SLICE_ROWS = 32;
const BS = BLOCK_STRIDE;
const R = B_SLICE_ROWS;

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * WGSL statements storing the 8 f16 of `w` (a `vec4<u32>` read from a vectorised f16 view) to
 * `dst[at … at+7]`, each multiplied by `scale` (f32) when given.
 */
export function storeF16x8(dst: string, at: string, w: string, scale?: string): string {
  return range(4)
    .map((i) => {
      const pair = `bitcast<vec2<f16>>(${w}.${'xyzw'[i]})`;
      if (!scale)
        return `{ let h2 = ${pair}; ${dst}[${at} + ${2 * i}u] = h2.x; ${dst}[${at} + ${2 * i + 1}u] = h2.y; }`;
      return `{ let f2 = vec2<f32>(${pair}) * ${scale}; ${dst}[${at} + ${2 * i}u] = f16(f2.x); ${dst}[${at} + ${2 * i + 1}u] = f16(f2.y); }`;
    })
    .join('\n        ');
}

/**
 * WGSL of an epilogue that takes the accumulators \`a{i}_{j}\` (i < 2, j < \`nJ\`) out two at a time
 * through the subgroup's two 16×16 f32 scratch blocks \`${scratch}[sg * 2u + h]\`: store the pair,
 * barrier, then \`each(i, j, h)\` (statements reading block h); a barrier before each further pair.
 */
export function scratchEpilogue(
  nJ: number,
  scratch: string,
  each: (i: number, j: number, h: number) => string,
): string {
  const accs = [0, 1].flatMap((i) => range(nJ).map((j) => [i, j] as const));
  return range(accs.length / 2)
    .map((n) => {
      const pair = [accs[2 * n], accs[2 * n + 1]];
      return `${n > 0 ? '  workgroupBarrier();\n' : ''}${pair
        .map(
          ([i, j], h) => `  ${mStore(`&${scratch}[sg * 2u + ${h}u]`, `0u`, `a${i}_${j}`, `false`, `16u`)};`,
        )
        .join('\n')}
  workgroupBarrier();
${pair.map(([i, j], h) => each(i, j, h)).join('\n')}`;
    })
    .join('\n');
}

/**
 * Staging of an R-row slice of a B operand (R × bX f16) in workgroup memory through `vec4<u32>`
 * registers `${v}0…` (R·bX/8 vec4 per slice: a whole number per invocation for every bX the
 * kernels take). Rows 16h … 16h + 15 land in 4 blocks `${dst}[${first} + 4h + cg]` of
 * 16 rows × 72, one per column group of the subgroups (bX/4 columns each), so that the right
 * operand j of subgroup column group cg is `&${dst}[${first + 4h}u + cg], 16j` — a literal offset. The source is
 * either row-major (`src(k, x8)`: the vec4 index of row k, columns x8…x8+7) or transposed
 * (`src(x, y8)`: the vec4 index of column x, rows y8…y8+7).
 */
export function bSliceStaging(bX: number, v: string, dst: string, first: number, transposed: boolean) {
  const n = (R * bX) / 8 / SGMAT_THREADS; // vec4 per invocation (bX a multiple of 64)
  const cols = bX / 4;
  const each = (body: (u: number, e: string) => string) =>
    range(n)
      .map((u) => body(u, `(lid + ${SGMAT_THREADS * u}u)`))
      .join('\n');
  // transposed: consecutive lanes take consecutive columns, so that their 2-byte stores into a
  // row of a block are contiguous (no bank conflicts)
  const coords = (e: string) =>
    transposed
      ? [`${e} % ${bX}u`, `(${e} / ${bX}u) * 8u`]
      : [`${e} / ${bX / 8}u`, `(${e} % ${bX / 8}u) * 8u`];
  return {
    decl: range(n)
      .map((u) => `var ${v}${u} = vec4<u32>();`)
      .join(' '),
    load: (src: (a: string, b: string) => string) =>
      each((u, e) => {
        const [a, b] = coords(e);
        return `${v}${u} = ${src(a, b)};`;
      }),
    store: each((u, e) => {
      const [a, b] = coords(e);
      if (!transposed)
        return `{ let k = ${a}; let x8 = ${b}; let at = (k % 16u) * ${BS}u + x8 % ${cols}u; ${storeF16x8(`${dst}[${first}u + (k / 16u) * 4u + x8 / ${cols}u]`, 'at', `${v}${u}`)} }`;
      return `{ let x = ${a}; let y8 = ${b}; let blk = ${first}u + (y8 / 16u) * 4u + x / ${cols}u; let xi = x % ${cols}u; let y = y8 % 16u; ${range(
        4,
      )
        .map(
          (i) =>
            `let h${i} = bitcast<vec2<f16>>(${v}${u}.${'xyzw'[i]}); ${dst}[blk][(y + ${2 * i}u) * ${BS}u + xi] = h${i}.x; ${dst}[blk][(y + ${2 * i + 1}u) * ${BS}u + xi] = h${i}.y;`,
        )
        .join(' ')} }`;
    }),
    /** right operand j of the subgroup (columns xc + 16j) for rows 16h … 16h + 15 of the slice */
    right: (j: number, h = 0) => `&${dst}[${first + 4 * h}u + cg], ${16 * j}u, false, ${BS}u`,
  };
}
