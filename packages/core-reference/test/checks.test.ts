/**
 * The shared checks of `@mlstm/core-reference/checks` (used by every package): the error
 * hierarchy, CPU tensor validation with messages that say what was received, non-finite values
 * with the first bad index, option keys and values, and dtype aliases.
 */
import { describe, expect, it } from 'vitest';
import {
  checkCpuTensor,
  checkFinite,
  checkOneOf,
  checkOptionKeys,
  MlstmArgumentError,
  MlstmDeviceError,
  MlstmError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
  normalizeDtype,
} from '../src/checks.js';
import { mlstmChunkwise } from '../src/index.js';

/** The error `fn` throws (fails the test if it returns). */
function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('error hierarchy', () => {
  it.each([
    ['MlstmArgumentError', new MlstmArgumentError('q', 'x', 'y'), [MlstmError]],
    ['MlstmOptionError', new MlstmOptionError('o', ['a'], 'b'), [MlstmArgumentError, MlstmError]],
    [
      'MlstmNonFiniteError',
      new MlstmNonFiniteError('f', [2, 3], 4, Number.NaN),
      [MlstmArgumentError, MlstmError],
    ],
    ['MlstmDeviceError', new MlstmDeviceError('lost'), [MlstmError]],
    ['MlstmOutOfMemoryError', new MlstmOutOfMemoryError('oom'), [MlstmDeviceError, MlstmError]],
  ] as const)('%s: name and base classes', (name, err, bases) => {
    expect(err.name).toBe(name);
    expect(err).toBeInstanceOf(Error);
    for (const b of bases) expect(err).toBeInstanceOf(b);
  });

  it('an out-of-memory error is not an argument error', () => {
    expect(new MlstmOutOfMemoryError('oom')).not.toBeInstanceOf(MlstmArgumentError);
  });
});

describe('CPU tensor check: says what was received (never [object Object])', () => {
  it.each([
    ['a plain number[]', [1, 2, 3], /got a plain array of length 3/],
    ['undefined', undefined, /got undefined/],
    [
      'data as number[]',
      { shape: [2], data: [1, 2] },
      /data as a Float32Array or Float64Array, got a plain array of length 2/,
    ],
    ['Int32Array data', { shape: [2], data: new Int32Array(2) }, /got a Int32Array of length 2/],
    [
      'data too short',
      { shape: [1, 2, 128, 32], data: new Float32Array(10) },
      /expected 8192 elements for shape \(1, 2, 128, 32\), got 10 elements/,
    ],
    ['bad shape', { shape: [2, -1], data: new Float32Array(2) }, /shape of non-negative integers, got shape/],
  ])('%s', (_, t, message) => {
    const e = caught(() => checkCpuTensor('q', t, 'ctx'));
    expect(e).toBeInstanceOf(MlstmArgumentError);
    expect(e.message).toMatch(message);
    expect(e.message).not.toMatch(/\[object Object\]/);
    expect((e as MlstmArgumentError).argument).toBe('q');
  });

  it('the reference forms use it: a short tensor is named with its element count', () => {
    const t = (...shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const args = {
      q: t(1, 1, 4, 2),
      k: t(1, 1, 4, 2),
      v: t(1, 1, 4, 2),
      i: t(1, 1, 4),
      f: { shape: [1, 1, 4], data: [0, 0, 0, 0] },
    };
    const e = caught(() => mlstmChunkwise({ ...args, chunkSize: 2 } as never));
    expect(e).toBeInstanceOf(MlstmArgumentError);
    expect(e.message).toMatch(/^mlstmChunkwise: f: .*got a plain array of length 4/);
  });
});

describe('checkFinite', () => {
  it.each([
    ['NaN', Number.NaN, 5, [0, 1, 1]],
    ['+Infinity', Number.POSITIVE_INFINITY, 0, [0, 0, 0]],
    ['-Infinity', Number.NEGATIVE_INFINITY, 11, [0, 2, 3]],
  ])('%s: typed error naming the tensor and the first bad index', (_, bad, index, position) => {
    const data = new Float64Array(12).fill(0.5);
    data[index] = bad;
    data[11] = index === 11 ? bad : Number.NaN; // a later bad value is not the one reported
    const e = caught(() => checkFinite('f', { shape: [1, 3, 4], data }, 'ctx')) as MlstmNonFiniteError;
    expect(e).toBeInstanceOf(MlstmNonFiniteError);
    expect(e.tensor).toBe('f');
    expect(e.index).toBe(index);
    expect(e.position).toEqual(position);
    expect(e.message).toContain(`at index ${index} = [${position.join(', ')}]`);
  });

  it('finite data passes', () => {
    expect(() => checkFinite('q', { shape: [3], data: new Float32Array([1, -1e38, 0]) })).not.toThrow();
  });
});

describe('option objects', () => {
  const KEYS = ['seqStarts', 'chunkSize', 'gpu'];
  it('an unknown key lists the known ones and suggests the near one', () => {
    const e = caught(() => checkOptionKeys({ seqStart: [0] }, KEYS, 'fn')) as MlstmOptionError;
    expect(e).toBeInstanceOf(MlstmOptionError);
    expect(e.argument).toBe('options.seqStart');
    expect(e.valid).toEqual(KEYS);
    expect(e.message).toMatch(/did you mean "seqStarts"\?/);
  });
  it('known keys, undefined and null pass; a non-object does not', () => {
    expect(() => checkOptionKeys({ chunkSize: 4, gpu: undefined }, KEYS, 'fn')).not.toThrow();
    expect(() => checkOptionKeys(undefined, KEYS, 'fn')).not.toThrow();
    expect(caught(() => checkOptionKeys(3, KEYS, 'fn'))).toBeInstanceOf(MlstmArgumentError);
  });
  it('an unknown value lists the valid ones', () => {
    const e = caught(() => checkOneOf('weightDtype', 'q8', ['f32', 'f16', 'auto'], 'fn')) as MlstmOptionError;
    expect(e.valid).toEqual(['f32', 'f16', 'auto']);
    expect(e.message).toBe('fn: weightDtype: expected one of "f32", "f16", "auto", got "q8"');
  });
});

describe('dtype names', () => {
  it.each([
    ['f32', 'f32'],
    ['float32', 'f32'],
    ['fp32', 'f32'],
    ['float16', 'f16'],
    ['fp16', 'f16'],
    ['bfloat16', 'bf16'],
    [undefined, 'auto'],
  ])('%s → %s', (alias, name) => {
    expect(normalizeDtype('dtype', alias, ['f32', 'f16', 'bf16', 'auto'], 'fn', 'auto')).toBe(name);
  });
  it('an unknown name is an MlstmOptionError', () => {
    expect(caught(() => normalizeDtype('dtype', 'float8', ['f32', 'f16'], 'fn'))).toBeInstanceOf(
      MlstmOptionError,
    );
  });
});
