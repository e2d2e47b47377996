/**
 * WGSL snippets shared by several kernels, defined once. Every generated shader starts
 * with {@link wgslHeader}, which declares the element type `elem` of q/k/v/h storage
 * (f32 or f16; all arithmetic and accumulation is f32).
 */
import type { GpuDtype } from '../device/tensor.js';

/** Large finite negative number: WGSL does not guarantee IEEE infinities, so maxima start here. */
export const NEG_LARGE = '-1.0e30';

export function wgslHeader(dtype: GpuDtype, extra: { subgroups?: boolean } = {}): string {
  return [
    dtype === 'f16' ? 'enable f16;' : '',
    extra.subgroups ? 'enable subgroups;' : '',
    `alias elem = ${dtype};`,
    GATE_FUNCTIONS,
  ]
    .filter(Boolean)
    .join('\n');
}

/** Numerically stable gate functions (f32). */
export const GATE_FUNCTIONS = /* wgsl */ `
fn logsigmoid(x: f32) -> f32 {
  // min(x, 0) - log1p(exp(-|x|)); log(1 + y) is exact enough in f32 for y = exp(-|x|) <= 1
  return min(x, 0.0) - log(1.0 + exp(-abs(x)));
}
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}`;

/** `ceil(a / b)` for positive integers. */
export const cdiv = (a: number, b: number): number => Math.ceil(a / b);

/** Smallest power of two >= n. */
export const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * Splits a flat workgroup count over (x, y) so that neither exceeds `max` per dimension.
 * Shaders recover the flat index as `wid.x + wid.y * nwg.x` and skip indices >= count.
 */
export function splitWorkgroups(count: number, max = 65535): [number, number] {
  if (count <= max) return [count, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}
