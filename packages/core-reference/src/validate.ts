import { cpuTensorProblem } from './checks.js';
import { MlstmArgumentError } from './errors.js';
import type { Tensor } from './tensor.js';

/** Dimensions of a sequence problem, read from validated inputs. */
export interface SequenceDims {
  B: number;
  NH: number;
  S: number;
  DHQK: number;
  DHHV: number;
}

const fmt = (shape: readonly number[]) => `(${shape.join(', ')})`;

function isTensor(x: unknown): x is Tensor {
  return (
    typeof x === 'object' &&
    x !== null &&
    Array.isArray((x as Tensor).shape) &&
    ((x as Tensor).data instanceof Float32Array || (x as Tensor).data instanceof Float64Array)
  );
}

/** Checks that `t` is a tensor of exactly `expected` (with named dims for the message). */
export function expectShape(
  name: string,
  t: unknown,
  expected: readonly number[],
  dimNames: readonly string[],
  context: string,
): asserts t is Tensor {
  const want = `shape (${dimNames.join(', ')}) = ${fmt(expected)} with a Float32Array or Float64Array`;
  if (!isTensor(t))
    throw new MlstmArgumentError(name, want, cpuTensorProblem(t)?.received ?? 'not a tensor', context);
  const ok = t.shape.length === expected.length && t.shape.every((d, k) => d === expected[k]);
  if (!ok) throw new MlstmArgumentError(name, want, `shape ${fmt(t.shape)}`, context);
  const problem = cpuTensorProblem(t); // data length vs shape: the check every package shares
  if (problem) throw new MlstmArgumentError(name, problem.expected, problem.received, context);
}

/** A finite number (eps and other scalars). */
export function expectFinite(name: string, x: unknown, context: string, positive = false): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0)) {
    throw new MlstmArgumentError(
      name,
      positive ? 'a finite number > 0' : 'a finite number',
      String(x),
      context,
    );
  }
  return x;
}

/** A positive integer chunk size; when `mustDivide` is given, it must divide that length. */
export function expectChunkSize(x: unknown, context: string, mustDivide?: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x <= 0) {
    throw new MlstmArgumentError('chunkSize', 'a positive integer', String(x), context);
  }
  if (mustDivide !== undefined && mustDivide % x !== 0) {
    throw new MlstmArgumentError(
      'chunkSize',
      `a divisor of the sequence length S = ${mustDivide}`,
      String(x),
      context,
    );
  }
  return x;
}

/**
 * Validates `q, k, v, i, f` of a sequence kernel: q,k `(B,NH,S,DHQK)`, v `(B,NH,S,DHHV)`,
 * i,f `(B,NH,S)`. The dims are taken from `q` (DHHV from `v`).
 */
export function validateSequenceInputs(
  args: { q: unknown; k: unknown; v: unknown; i: unknown; f: unknown },
  context: string,
): SequenceDims {
  const { q, k, v, i, f } = args;
  if (!isTensor(q) || q.shape.length !== 4) {
    throw new MlstmArgumentError(
      'q',
      'a tensor of shape (B, NH, S, DHQK)',
      isTensor(q) ? `shape ${fmt(q.shape)}` : (cpuTensorProblem(q)?.received ?? String(q)),
      context,
    );
  }
  const [B, NH, S, DHQK] = q.shape;
  if (S < 1 || DHQK < 1 || B < 1 || NH < 1) {
    throw new MlstmArgumentError('q', 'all dims (B, NH, S, DHQK) >= 1', `shape ${fmt(q.shape)}`, context);
  }
  expectShape('q', q, [B, NH, S, DHQK], ['B', 'NH', 'S', 'DHQK'], context);
  expectShape('k', k, [B, NH, S, DHQK], ['B', 'NH', 'S', 'DHQK'], context);
  if (!isTensor(v) || v.shape.length !== 4 || v.shape[3] < 1) {
    throw new MlstmArgumentError(
      'v',
      `a tensor of shape (B, NH, S, DHHV) = (${B}, ${NH}, ${S}, DHHV)`,
      isTensor(v) ? `shape ${fmt(v.shape)}` : (cpuTensorProblem(v)?.received ?? String(v)),
      context,
    );
  }
  const DHHV = v.shape[3];
  expectShape('v', v, [B, NH, S, DHHV], ['B', 'NH', 'S', 'DHHV'], context);
  expectShape('i', i, [B, NH, S], ['B', 'NH', 'S'], context);
  expectShape('f', f, [B, NH, S], ['B', 'NH', 'S'], context);
  return { B, NH, S, DHQK, DHHV };
}

/**
 * Validates optional initial states (all or none, like upstream): c `(B,NH,DHQK,DHHV)`,
 * n `(B,NH,DHQK)`, m `(B,NH,1)`. `requireM = false` for mLSTMsig (m is accepted and ignored).
 * Returns whether states were given.
 */
export function validateStates(
  states: { c?: unknown; n?: unknown; m?: unknown },
  names: { c: string; n: string; m: string },
  d: Pick<SequenceDims, 'B' | 'NH' | 'DHQK' | 'DHHV'>,
  context: string,
  requireM = true,
): boolean {
  const given = [states.c, states.n, ...(requireM ? [states.m] : [])].map(
    (x) => x !== undefined && x !== null,
  );
  if (!given.some(Boolean)) {
    if (!requireM && states.m != null)
      expectShape(names.m, states.m, [d.B, d.NH, 1], ['B', 'NH', '1'], context);
    return false;
  }
  if (!given.every(Boolean)) {
    const missing = [names.c, names.n, ...(requireM ? [names.m] : [])].filter((_, k) => !given[k]);
    throw new MlstmArgumentError(
      missing[0],
      `all initial states (${[names.c, names.n, ...(requireM ? [names.m] : [])].join(', ')}) or none`,
      'undefined',
      context,
    );
  }
  expectShape(names.c, states.c, [d.B, d.NH, d.DHQK, d.DHHV], ['B', 'NH', 'DHQK', 'DHHV'], context);
  expectShape(names.n, states.n, [d.B, d.NH, d.DHQK], ['B', 'NH', 'DHQK'], context);
  if (states.m != null) expectShape(names.m, states.m, [d.B, d.NH, 1], ['B', 'NH', '1'], context);
  return true;
}

/** Validates an optional `eps` (default `fallback`): must be a finite number. */
export function validateEps(eps: unknown, context: string, fallback: number): number {
  return eps === undefined ? fallback : expectFinite('eps', eps, context);
}

/** Validates an optional boolean flag (e.g. `normalize`, `stableF`), returning its value or `fallback`. */
export function validateFlag(name: string, x: unknown, context: string, fallback: boolean): boolean {
  if (x === undefined) return fallback;
  if (typeof x !== 'boolean') throw new MlstmArgumentError(name, 'a boolean', String(x), context);
  return x;
}

/**
 * Rejects initial states and `returnLastStates` for the parallel kernels (they have no state),
 * like upstream's asserts.
 */
export function rejectStates(
  args: { cInitial?: unknown; nInitial?: unknown; mInitial?: unknown; returnLastStates?: unknown },
  context: string,
): void {
  for (const name of ['cInitial', 'nInitial', 'mInitial'] as const) {
    if (args[name] != null) {
      throw new MlstmArgumentError(
        name,
        'no initial state (the parallel form has no state)',
        'a value',
        context,
      );
    }
  }
  if (args.returnLastStates) {
    throw new MlstmArgumentError(
      'returnLastStates',
      'false (the parallel form returns no state)',
      String(args.returnLastStates),
      context,
    );
  }
}

/**
 * Checks that `t` is a tensor with one positive integer dim per entry of `dimNames` and returns its
 * shape (used where the dims are read from the argument itself, e.g. `q` of the step kernel).
 */
export function expectRank(name: string, t: unknown, dimNames: readonly string[], context: string): number[] {
  const want = `a tensor of shape (${dimNames.join(', ')}) with all dims >= 1`;
  if (!isTensor(t))
    throw new MlstmArgumentError(name, want, cpuTensorProblem(t)?.received ?? 'not a tensor', context);
  if (t.shape.length !== dimNames.length || t.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new MlstmArgumentError(name, want, `shape ${fmt(t.shape)}`, context);
  }
  expectShape(name, t, t.shape, dimNames, context);
  return [...t.shape];
}

/** Validates an optional gate variant `'exp' | 'sig'` (default `'exp'`). */
export function validateGate(x: unknown, context: string): 'exp' | 'sig' {
  if (x === undefined) return 'exp';
  if (x !== 'exp' && x !== 'sig') throw new MlstmArgumentError('gate', "'exp' or 'sig'", String(x), context);
  return x;
}
