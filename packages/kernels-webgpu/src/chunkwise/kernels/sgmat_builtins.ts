/**
 * The one place that spells Dawn's subgroup-matrix WGSL (`chromium_experimental_subgroup_matrix`):
 * the enable directives, the matrix types, the entry point's builtins and the four matrix builtins.
 * Dawn warns that these builtins are deprecated (renamed upstream): when they change, this file
 * changes, and the WGSL snapshots (test/wgsl/) and the GPU test project say whether the kernels
 * still compute the same. The generators (intra_sgmat.ts, chunk_products.ts) call these helpers.
 */

/** WGSL preamble of every matrix-unit kernel. */
export const SGMAT_ENABLE = `enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium_experimental.subgroup_matrix_uniformity);`;

/** Left operand (f16, 16×16). */
export const LEFT = 'subgroup_matrix_left<f16, 16, 16>';
/** Right operand (f16, 16×16). */
export const RIGHT = 'subgroup_matrix_right<f16, 16, 16>';
/** Accumulator (f32, 16×16). */
export const RESULT = 'subgroup_matrix_result<f32, 16, 16>';

/** Invocations per workgroup of the matrix-unit kernels: 8 subgroups of 32 lanes. */
export const SGMAT_THREADS = 256;

/**
 * Entry point of the matrix-unit kernels: {@link SGMAT_THREADS} invocations, the builtins they
 * use (subgroup id and lane), the flat workgroup index of a 2-D dispatch (padding workgroups
 * return) and its output column tile.
 */
export const SGMAT_ENTRY = `@compute @workgroup_size(${SGMAT_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
  let xTile = flat % P.nXTiles;
  let rest = flat / P.nXTiles;`;

/** A matrix of `type` loaded from `args` (pointer, element offset, column-major, stride). */
export const mLoad = (type: string, args: string) => `subgroupMatrixLoad<${type}>(${args})`;

/** Stores matrix `m` at `ptr` (element offset `offset`, column-major `colMajor`, stride `stride`). */
export const mStore = (ptr: string, offset: string, m: string, colMajor: string, stride: string) =>
  `subgroupMatrixStore(${ptr}, ${offset}, ${m}, ${colMajor}, ${stride})`;

/** `a · b + c` on the matrix units. */
export const mMma = (a: string, b: string, c: string) => `subgroupMatrixMultiplyAccumulate(${a}, ${b}, ${c})`;

/** Matrix `m` times scalar `s`. */
export const mScale = (m: string, s: string) => `subgroupMatrixScalarMultiply(${m}, ${s})`;
