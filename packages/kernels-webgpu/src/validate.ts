import type { GpuContext } from './device/context.js';
import { type GpuDtype, GpuTensor } from './device/tensor.js';
import { cpuTensorProblem, normalizeDtype } from '@mlstm/core-reference/checks';
import { KernelArgumentError } from './errors.js';

/** A CPU tensor (same shape as @mlstm/core-reference's `Tensor`, without depending on it). */
export interface CpuTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
}

/** Anything a kernel accepts as a tensor argument. */
export type TensorLike = GpuTensor | CpuTensor;

export interface SequenceDims {
  B: number;
  NH: number;
  S: number;
  DHQK: number;
  DHHV: number;
}

const fmt = (s: readonly number[]) => `(${s.join(', ')})`;

export function isGpuTensor(x: unknown): x is GpuTensor {
  return x instanceof GpuTensor;
}

/**
 * Throws {@link KernelArgumentError} naming `name` unless `t` is a live GpuTensor or a well-formed
 * CPU tensor (shape, element type and data length: the check every package shares).
 */
export function expectTensorLike(name: string, t: unknown, context: string): asserts t is TensorLike {
  if (t instanceof GpuTensor) {
    if (t.released) throw new KernelArgumentError(name, 'a live GpuTensor', 'a released GpuTensor', context);
    return;
  }
  const p = cpuTensorProblem(t);
  if (p) throw new KernelArgumentError(name, `a GpuTensor or ${p.expected}`, p.received, context);
}

/** Checks one tensor's shape (and, for GPU tensors, dtype). */
export function expectTensor(
  name: string,
  t: unknown,
  expected: readonly number[],
  dimNames: readonly string[],
  context: string,
  dtypes: readonly GpuDtype[] = ['f32', 'f16'],
): asserts t is TensorLike {
  const want = `shape (${dimNames.join(', ')}) = ${fmt(expected)}`;
  expectTensorLike(name, t, context);
  const ok = t.shape.length === expected.length && t.shape.every((d, x) => d === expected[x]);
  if (!ok) throw new KernelArgumentError(name, want, `shape ${fmt(t.shape)}`, context);
  if (t instanceof GpuTensor && !dtypes.includes(t.dtype)) {
    throw new KernelArgumentError(
      name,
      `dtype ${dtypes.map((d) => `'${d}'`).join(' or ')}`,
      `'${t.dtype}'`,
      context,
    );
  }
}

/**
 * Validates q, k, v (B,NH,S,DHQK|DHHV) and gates i, f (B,NH,S). Gates and states are always
 * f32 on the GPU; q, k, v must share one dtype.
 */
export function validateSequence(
  a: { q: unknown; k: unknown; v: unknown; i: unknown; f: unknown },
  context: string,
): SequenceDims {
  const { q, k, v, i, f } = a;
  expectTensorLike('q', q, context);
  if (q.shape.length !== 4 || q.shape.some((d) => !(d >= 1))) {
    throw new KernelArgumentError(
      'q',
      'a tensor of shape (B, NH, S, DHQK) with all dims >= 1',
      `shape ${fmt(q.shape)}`,
      context,
    );
  }
  const [B, NH, S, DHQK] = q.shape;
  expectTensor('k', k, [B, NH, S, DHQK], ['B', 'NH', 'S', 'DHQK'], context);
  expectTensorLike('v', v, context);
  if (v.shape.length !== 4 || !(v.shape[3] >= 1)) {
    throw new KernelArgumentError(
      'v',
      `a tensor of shape (B, NH, S, DHHV) = (${B}, ${NH}, ${S}, DHHV)`,
      `shape ${fmt(v.shape)}`,
      context,
    );
  }
  const DHHV = v.shape[3];
  expectTensor('v', v, [B, NH, S, DHHV], ['B', 'NH', 'S', 'DHHV'], context);
  expectTensor('i', i, [B, NH, S], ['B', 'NH', 'S'], context, ['f32']);
  expectTensor('f', f, [B, NH, S], ['B', 'NH', 'S'], context, ['f32']);
  const dt = [q, k, v].map((t) => (t instanceof GpuTensor ? t.dtype : null));
  if (dt.some((d) => d !== null) && new Set(dt.filter(Boolean)).size > 1) {
    throw new KernelArgumentError('k, v', `the dtype of q ('${dt[0]}')`, `'${dt[1]}', '${dt[2]}'`, context);
  }
  return { B, NH, S, DHQK, DHHV };
}

/** Initial states: all or none; c (B,NH,DHQK,DHHV), n (B,NH,DHQK), m (B,NH,1), f32. */
export function validateStates(
  s: { cInitial?: unknown; nInitial?: unknown; mInitial?: unknown },
  d: SequenceDims,
  context: string,
  requireM = true,
): boolean {
  const names = requireM
    ? (['cInitial', 'nInitial', 'mInitial'] as const)
    : (['cInitial', 'nInitial'] as const);
  const given = names.map((n) => s[n] != null);
  if (!given.some(Boolean)) return false;
  if (!given.every(Boolean)) {
    throw new KernelArgumentError(
      names[given.indexOf(false)],
      `all of ${names.join(', ')} or none`,
      'undefined',
      context,
    );
  }
  expectTensor('cInitial', s.cInitial, [d.B, d.NH, d.DHQK, d.DHHV], ['B', 'NH', 'DHQK', 'DHHV'], context, [
    'f32',
  ]);
  expectTensor('nInitial', s.nInitial, [d.B, d.NH, d.DHQK], ['B', 'NH', 'DHQK'], context, ['f32']);
  if (s.mInitial != null)
    expectTensor('mInitial', s.mInitial, [d.B, d.NH, 1], ['B', 'NH', '1'], context, ['f32']);
  return true;
}

export function validateEps(eps: unknown, context: string): number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    throw new KernelArgumentError('eps', 'a finite number >= 0', String(eps), context);
  }
  return eps;
}

/** Resolves the dtype of q/k/v/h: a GPU input's dtype, else the `dtype` option (default f32). */
export function resolveDtype(
  ctx: GpuContext,
  q: TensorLike,
  requested: GpuDtype | undefined,
  context: string,
): GpuDtype {
  // the one spelling of every package; 'float32' / 'float16' (and 'fp32' / 'fp16') map to it
  if (requested !== undefined)
    requested = normalizeDtype<GpuDtype>('dtype', requested, ['f32', 'f16'], context);
  const dtype = q instanceof GpuTensor ? q.dtype : (requested ?? 'f32');
  if (q instanceof GpuTensor && requested && requested !== q.dtype) {
    throw new KernelArgumentError(
      'dtype',
      `'${q.dtype}' (the dtype of the GPU input q)`,
      `'${requested}'`,
      context,
    );
  }
  if (dtype === 'f16' && !ctx.features.shaderF16) {
    throw new KernelArgumentError('dtype', "'f32' — this adapter has no shader-f16", "'f16'", context);
  }
  return dtype;
}

/** Checks that every tensor of the call fits a storage binding on this adapter. */
export function checkSizes(ctx: GpuContext, sizes: Record<string, number>, context: string): void {
  for (const [name, bytes] of Object.entries(sizes)) ctx.checkBindingSize(name, bytes, context);
}
