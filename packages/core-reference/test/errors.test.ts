/** One test per class of bad input: every public function throws MlstmArgumentError before any work. */
import { describe, expect, it } from 'vitest';
import {
  MlstmArgumentError,
  getReferenceKernel,
  mlstmChunkwise,
  mlstmChunkwiseArbitraryLength,
  mlstmChunkwiseBackward,
  mlstmChunkwiseForwardInternals,
  mlstmParallel,
  mlstmParallelBackward,
  mlstmRecurrentSequence,
  mlstmRecurrentStep,
  mlstmSigChunkwise,
  mlstmSigParallel,
  mlstmSigRecurrentSequence,
  type Tensor,
} from '../src/index.js';
import { Rng, randn, randomMlstmInputs } from '../src/testing/index.js';

const d = { B: 2, NH: 3, S: 8, DHQK: 4, DHHV: 5 };
const x = randomMlstmInputs(new Rng(1), d);
const rng = new Rng(2);
const states = {
  cInitial: randn(rng, [2, 3, 4, 5]),
  nInitial: randn(rng, [2, 3, 4]),
  mInitial: randn(rng, [2, 3, 1]),
};
const dh = randn(rng, [2, 3, 8, 5]);

/** Asserts an MlstmArgumentError naming `argument` (and optionally matching `message`). */
function expectArgError(fn: () => unknown, argument: string, message?: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected an MlstmArgumentError for ${argument}`).toBeInstanceOf(MlstmArgumentError);
  const e = err as MlstmArgumentError;
  expect(e.argument).toBe(argument);
  expect(e.message).toContain(`${argument}: expected`);
  if (message) expect(e.message).toMatch(message);
}

const t = (shape: number[]): Tensor => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) });

/** Every sequence function, called with the good inputs plus an override. */
const sequenceFns: Record<string, (over: Record<string, unknown>) => unknown> = {
  mlstmRecurrentSequence: (o) => mlstmRecurrentSequence({ ...x, ...o } as never),
  mlstmChunkwise: (o) => mlstmChunkwise({ ...x, chunkSize: 4, ...o } as never),
  mlstmChunkwiseBackward: (o) => mlstmChunkwiseBackward({ ...x, dh, chunkSize: 4, ...o } as never),
  mlstmChunkwiseArbitraryLength: (o) => mlstmChunkwiseArbitraryLength({ ...x, ...o } as never),
  mlstmParallel: (o) => mlstmParallel({ ...x, ...o } as never),
  mlstmParallelBackward: (o) => mlstmParallelBackward({ ...x, dh, ...o } as never),
  mlstmSigParallel: (o) => mlstmSigParallel({ ...x, ...o } as never),
  mlstmSigChunkwise: (o) => mlstmSigChunkwise({ ...x, chunkSize: 4, ...o } as never),
  mlstmSigRecurrentSequence: (o) => mlstmSigRecurrentSequence({ ...x, ...o } as never),
};

describe.each(Object.entries(sequenceFns))('%s', (name, fn) => {
  it('accepts the good inputs', () => {
    expect(() => fn({})).not.toThrow();
  });
  it('mismatched B / NH / S between q, k, v, i, f', () => {
    expectArgError(() => fn({ k: t([1, 3, 8, 4]) }), 'k', /\(B, NH, S, DHQK\) = \(2, 3, 8, 4\)/);
    expectArgError(() => fn({ v: t([2, 2, 8, 5]) }), 'v');
    expectArgError(() => fn({ i: t([2, 3, 7]) }), 'i');
    expectArgError(() => fn({ f: t([2, 3, 8, 1]) }), 'f');
    expectArgError(() => fn({ q: t([2, 3, 8]) }), 'q');
  });
  it('DHQK of q ≠ DHQK of k', () => {
    expectArgError(() => fn({ k: t([2, 3, 8, 3]) }), 'k', /DHQK/);
  });
  it('non-finite eps', () => {
    expectArgError(() => fn({ eps: Number.NaN }), 'eps', /finite/);
    expectArgError(() => fn({ eps: Number.POSITIVE_INFINITY }), 'eps');
    expectArgError(() => fn({ eps: '1e-6' }), 'eps');
  });
  if (name.startsWith('mlstmParallel') || name === 'mlstmSigParallel') {
    it('rejects initial states and returnLastStates (parallel form)', () => {
      expectArgError(() => fn({ cInitial: states.cInitial }), 'cInitial');
      expectArgError(() => fn({ returnLastStates: true }), 'returnLastStates');
    });
  } else {
    it('bad state shapes', () => {
      expectArgError(() => fn({ ...states, cInitial: t([2, 3, 5, 4]) }), 'cInitial', /DHQK, DHHV/);
      expectArgError(() => fn({ ...states, nInitial: t([2, 3, 5]) }), 'nInitial');
      if (!name.startsWith('mlstmSig'))
        expectArgError(() => fn({ ...states, mInitial: t([2, 3]) }), 'mInitial');
    });
    it('partial states (all or none)', () => {
      expectArgError(() => fn({ cInitial: states.cInitial }), 'nInitial', /all initial states/);
      expectArgError(() => fn({ nInitial: states.nInitial }), 'cInitial');
      if (!name.startsWith('mlstmSig')) {
        expectArgError(() => fn({ cInitial: states.cInitial, nInitial: states.nInitial }), 'mInitial');
      }
    });
  }
  if (name.includes('Chunkwise')) {
    it('chunkSize ≤ 0, not an integer, or (where required) not dividing S', () => {
      expectArgError(() => fn({ chunkSize: 0 }), 'chunkSize', /positive integer/);
      expectArgError(() => fn({ chunkSize: -4 }), 'chunkSize');
      expectArgError(() => fn({ chunkSize: 2.5 }), 'chunkSize');
      if (name === 'mlstmChunkwiseArbitraryLength') {
        expect(() => fn({ chunkSize: 3 })).not.toThrow(); // any length: no divisibility needed
      } else {
        expectArgError(() => fn({ chunkSize: 3 }), 'chunkSize', /divisor of the sequence length S = 8/);
        expectArgError(() => fn({ chunkSize: undefined }), 'chunkSize', /S = 8/); // default 64 does not divide 8
      }
    });
  }
});

describe('backward-only arguments', () => {
  it('dh of the wrong shape', () => {
    expectArgError(() => mlstmParallelBackward({ ...x, dh: t([2, 3, 8, 4]) }), 'dh');
    expectArgError(() => mlstmChunkwiseBackward({ ...x, dh: t([2, 3, 7, 5]), chunkSize: 4 }), 'dh');
  });
  it('dcLast of the wrong shape', () => {
    expectArgError(
      () => mlstmChunkwiseBackward({ ...x, dh, dcLast: t([2, 3, 5, 4]), chunkSize: 4 }),
      'dcLast',
    );
  });
  it('non-boolean flags', () => {
    expectArgError(() => mlstmParallel({ ...x, stableF: 'yes' as never }), 'stableF');
    expectArgError(() => mlstmSigParallel({ ...x, normalize: 1 as never }), 'normalize');
    expectArgError(
      () => mlstmChunkwiseForwardInternals({ ...x, chunkSize: 4, gate: 'tanh' as never }),
      'gate',
    );
  });
});

describe('mlstmRecurrentStep', () => {
  const s = {
    q: t([2, 3, 4]),
    k: t([2, 3, 4]),
    v: t([2, 3, 5]),
    i: t([2, 3, 1]),
    f: t([2, 3, 1]),
    c: t([2, 3, 4, 5]),
    n: t([2, 3, 4]),
    m: t([2, 3, 1]),
  };
  it('accepts the good inputs', () => expect(() => mlstmRecurrentStep(s)).not.toThrow());
  it('mismatched B / NH and q/k DHQK', () => {
    expectArgError(() => mlstmRecurrentStep({ ...s, k: t([2, 3, 3]) }), 'k');
    expectArgError(() => mlstmRecurrentStep({ ...s, v: t([1, 3, 5]) }), 'v');
    expectArgError(() => mlstmRecurrentStep({ ...s, i: t([2, 3]) }), 'i');
    expectArgError(() => mlstmRecurrentStep({ ...s, q: t([2, 3, 0]) }), 'q');
  });
  it('bad state shapes', () => {
    expectArgError(() => mlstmRecurrentStep({ ...s, c: t([2, 3, 5, 4]) }), 'c');
    expectArgError(() => mlstmRecurrentStep({ ...s, n: t([2, 3, 5]) }), 'n');
    expectArgError(() => mlstmRecurrentStep({ ...s, m: undefined as never }), 'm');
  });
  it('non-finite eps', () => expectArgError(() => mlstmRecurrentStep({ ...s, eps: Number.NaN }), 'eps'));
});

describe('registry', () => {
  it('unknown name lists the valid names', () => {
    expectArgError(
      () => getReferenceKernel('chunkwise--triton_xl_chunk'),
      'name',
      /"chunkwise--native_custbw"/,
    );
    expectArgError(() => getReferenceKernel('toString'), 'name', /"native_sequence__native"/);
  });
  it('parallel kernels reject initial states and returnLastStates', () => {
    const k = getReferenceKernel('parallel--native_stablef_custbw');
    expectArgError(() => k.forward({ ...x, ...states }), 'cInitial');
    expectArgError(() => k.forward({ ...x, returnLastStates: true }), 'returnLastStates');
    expectArgError(() => k.backward({ ...x, dh, mInitial: states.mInitial }), 'mInitial');
  });
});
