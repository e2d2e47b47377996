/**
 * `@mlstm/core-reference/checks`: the error classes and the argument checks shared by every
 * @mlstm package — CPU tensors (shape, element type, data length), non-finite values, option
 * objects (unknown keys, unknown values) and dtype names. No other import, so the kernels package
 * can use it without pulling the reference math into a browser bundle.
 */
import { MlstmArgumentError, MlstmNonFiniteError, MlstmOptionError } from './errors.js';

export * from './errors.js';

/** Short description of any value for an error message (`a number[] of length 10`, `undefined`). */
export function describeValue(x: unknown): string {
  if (x === undefined || x === null) return String(x);
  if (Array.isArray(x)) return `a plain array of length ${x.length}`;
  if (ArrayBuffer.isView(x))
    return `a ${x.constructor.name} of length ${(x as unknown as ArrayLike<number>).length}`;
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x !== 'object') return `${typeof x} ${String(x)}`;
  const name = (x as object).constructor?.name;
  const keys = Object.keys(x as object);
  return `${name && name !== 'Object' ? `a ${name}` : 'an object'}${keys.length ? ` with keys (${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''})` : ''}`;
}

const fmt = (shape: readonly number[]) => `(${shape.join(', ')})`;

/**
 * What is wrong with `t` as a CPU tensor `{ shape, data: Float32Array | Float64Array }`, or null:
 * `{ expected, received }` for a {@link MlstmArgumentError}.
 */
export function cpuTensorProblem(t: unknown): { expected: string; received: string } | null {
  const want = 'a tensor { shape: number[], data: Float32Array | Float64Array }';
  if (typeof t !== 'object' || t === null || Array.isArray(t) || ArrayBuffer.isView(t))
    return { expected: want, received: describeValue(t) };
  const { shape, data } = t as { shape?: unknown; data?: unknown };
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
    return {
      expected: `${want} with a shape of non-negative integers`,
      received: `shape ${describeValue(shape)}`,
    };
  if (!(data instanceof Float32Array || data instanceof Float64Array))
    return { expected: `data as a Float32Array or Float64Array`, received: describeValue(data) };
  let n = 1;
  for (const d of shape) n *= d;
  if (data.length !== n)
    return { expected: `${n} elements for shape ${fmt(shape)}`, received: `${data.length} elements` };
  return null;
}

/** Throws {@link MlstmArgumentError} naming `name` unless `t` is a well-formed CPU tensor. */
export function checkCpuTensor(name: string, t: unknown, context?: string): void {
  const p = cpuTensorProblem(t);
  if (p) throw new MlstmArgumentError(name, p.expected, p.received, context);
}

/**
 * Throws {@link MlstmNonFiniteError} (tensor name, first bad index and its value) if `data` holds
 * NaN or ±Infinity. One pass over the data: a few ms per 10⁷ elements.
 */
export function checkFinite(
  name: string,
  t: { readonly shape: readonly number[]; readonly data: ArrayLike<number> },
  context?: string,
): void {
  const d = t.data;
  for (let x = 0; x < d.length; x++) {
    const v = d[x];
    // v - v is 0 for finite v and NaN for NaN and ±Infinity
    if (v - v !== 0) throw new MlstmNonFiniteError(name, t.shape, x, v, context);
  }
}

/**
 * Rejects keys of an option object that the function does not declare (a misspelt key would
 * otherwise be ignored in silence). `known` is the declared list of keys of that function: a new
 * option is one more entry. `undefined`/`null` options pass.
 */
export function checkOptionKeys(
  options: unknown,
  known: readonly string[],
  context: string,
  argument = 'options',
): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options))
    throw new MlstmArgumentError(argument, 'an object', describeValue(options), context);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const near = known.filter((k) => closeTo(k, key));
      throw new MlstmOptionError(
        `${argument}.${key}`,
        known,
        `an unknown key${near.length ? ` (did you mean ${near.map((k) => `"${k}"`).join(' or ')}?)` : ''}`,
        context,
        'a known key:',
      );
    }
  }
}

/**
 * Compile-time check of a declared key list: `true` when `Keys` names every key of `T`, else an
 * object naming the missing ones. `const _complete: KeysListed<Options, typeof OPTION_KEYS> = true;`
 * beside a list makes a new option that is not added to it a type error.
 */
export type KeysListed<T, Keys extends readonly PropertyKey[]> = [Exclude<keyof T, Keys[number]>] extends [
  never,
]
  ? true
  : { missingFromTheList: Exclude<keyof T, Keys[number]> };

/** Case-insensitive edit distance ≤ 2, or one name a prefix of the other (hints for typos). */
function closeTo(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x.startsWith(y) || y.startsWith(x)) return true;
  if (Math.abs(x.length - y.length) > 2) return false;
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length] <= 2;
}

/** Returns `value` if it is one of `valid` (or `fallback` when undefined), else throws {@link MlstmOptionError}. */
export function checkOneOf<T extends string>(
  argument: string,
  value: unknown,
  valid: readonly T[],
  context: string,
  fallback?: T,
): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'string' && (valid as readonly string[]).includes(value)) return value as T;
  throw new MlstmOptionError(argument, valid, describeValue(value), context);
}

/**
 * The dtype names of every @mlstm package: `'f32' | 'f16' | 'bf16'` (WGSL's spelling), plus
 * `'auto'` where a function chooses. The older spellings (`'float32'`, `'float16'`, `'bfloat16'`
 * of the upstream Python configs; `'fp32'`, `'fp16'` of transformers.js) are accepted as aliases
 * and mapped to these, without a warning.
 */
export type MlstmDtype = 'f32' | 'f16' | 'bf16';

/** Deprecated spellings → the one name. */
export const DTYPE_ALIASES: Readonly<Record<string, MlstmDtype>> = Object.freeze({
  float32: 'f32',
  fp32: 'f32',
  float16: 'f16',
  fp16: 'f16',
  half: 'f16',
  bfloat16: 'bf16',
});

/**
 * Maps an alias (see {@link DTYPE_ALIASES}) to its name and checks it against `valid`; throws
 * {@link MlstmOptionError} listing the valid names otherwise. `undefined` gives `fallback`.
 */
export function normalizeDtype<T extends string>(
  argument: string,
  value: unknown,
  valid: readonly T[],
  context: string,
  fallback?: T,
): T {
  const mapped = typeof value === 'string' ? (DTYPE_ALIASES[value] ?? value) : value;
  return checkOneOf(argument, mapped, valid, context, fallback);
}

/** Offsets of N packed sequences: N + 1 integers from 0 to the token count, strictly increasing. */
export type SeqStarts = Int32Array | readonly number[];

/** An argument-error class (`MlstmArgumentError` or a subclass such as the kernels' `KernelArgumentError`). */
export type ArgumentErrorClass = new (
  argument: string,
  expected: string,
  received: string,
  context?: string,
) => MlstmArgumentError;

/**
 * Checks packed-sequence offsets `seqStarts` against the packed token count `T` (and, when given,
 * the number of initial states): N + 1 integers, from 0, strictly increasing, ending at `T`.
 * Throws `ErrorClass` naming `seqStarts`; returns the offsets as numbers.
 */
export function checkSeqStarts(
  seqStarts: unknown,
  T: number,
  context: string,
  states?: number,
  ErrorClass: ArgumentErrorClass = MlstmArgumentError,
): number[] {
  const fail = (expected: string, received: string): never => {
    throw new ErrorClass('seqStarts', expected, received, context);
  };
  const ok = seqStarts instanceof Int32Array || Array.isArray(seqStarts);
  const list = ok ? Array.from(seqStarts as ArrayLike<number>) : undefined;
  if (!list || list.length < 2) {
    return fail(
      'an Int32Array of N + 1 offsets (N >= 1 sequences) into the packed token axis',
      list ? `${list.length} offsets` : String(seqStarts),
    );
  }
  const bad = list.findIndex((v) => !Number.isInteger(v));
  if (bad >= 0) fail('integer offsets', `seqStarts[${bad}] = ${list[bad]}`);
  if (list[0] !== 0) fail('offsets starting at 0', `seqStarts[0] = ${list[0]}`);
  for (let s = 1; s < list.length; s++) {
    if (list[s] <= list[s - 1]) {
      fail(
        'strictly increasing offsets (every sequence has at least one token)',
        `seqStarts[${s - 1}] = ${list[s - 1]}, seqStarts[${s}] = ${list[s]}`,
      );
    }
  }
  const N = list.length - 1;
  if (list[N] !== T) fail(`offsets ending at the token count T = ${T}`, `seqStarts[${N}] = ${list[N]}`);
  if (states !== undefined && states !== N) {
    fail(
      `N + 1 = ${states + 1} offsets for the ${states} initial states (one per sequence)`,
      `${list.length} offsets (${N} sequences)`,
    );
  }
  return list;
}
