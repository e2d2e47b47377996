/** The CPU kernels under upstream specifiers run the same math as the direct functions. */
import { describe, expect, it } from 'vitest';
import {
  getAvailableReferenceKernels,
  getReferenceKernel,
  mlstmChunkwise,
  mlstmChunkwiseBackward,
  mlstmParallel,
  mlstmParallelBackward,
  mlstmRecurrentSequence,
  mlstmRecurrentStep,
  mlstmSigParallel,
  mlstmSigParallelBackward,
  referenceSequenceKernels,
} from '../src/index.js';
import { Rng, randn, randomMlstmInputs } from '../src/testing/index.js';
import { expectClose } from './helpers.js';

const d = { B: 1, NH: 2, S: 16, DHQK: 4, DHHV: 6 };
const x = randomMlstmInputs(new Rng(3), d);
const dh = randn(new Rng(4), [1, 2, 16, 6]);
const GRADS = ['dq', 'dk', 'dv', 'di', 'df'] as const;

describe('reference kernel registry', () => {
  it('lists the upstream specifiers', () => {
    expect(getAvailableReferenceKernels()).toEqual([
      'chunkwise--native_custbw',
      'parallel--native_custbw',
      'parallel--native_stablef_custbw',
      'parallel--native_siging_custbw',
      'native',
      'native_sequence__native',
    ]);
    for (const [name, k] of Object.entries(referenceSequenceKernels)) expect(k.name).toBe(name);
  });

  it('chunkwise--native_custbw = mlstmChunkwise / mlstmChunkwiseBackward (with states)', () => {
    const k = getReferenceKernel('chunkwise--native_custbw');
    expect(k.supportsStates).toBe(true);
    const r = k.forward({ ...x, chunkSize: 8, returnLastStates: true });
    const e = mlstmChunkwise({ ...x, chunkSize: 8, returnLastStates: true });
    expectClose(r.h, e.h, 0, 'h');
    expectClose(r.lastStates!.c, e.lastStates!.c, 0, 'c');
    const g = k.backward({ ...x, dh, chunkSize: 8 });
    const ge = mlstmChunkwiseBackward({ ...x, dh, chunkSize: 8 });
    for (const n of GRADS) expectClose(g[n], ge[n], 0, n);
  });

  it('parallel--native_custbw uses the subtraction F, parallel--native_stablef_custbw the stable one', () => {
    const a = getReferenceKernel('parallel--native_custbw');
    const b = getReferenceKernel('parallel--native_stablef_custbw');
    expectClose(a.forward(x).h, mlstmParallel({ ...x, stableF: false }).h, 0, 'h native');
    expectClose(b.forward(x).h, mlstmParallel({ ...x, stableF: true }).h, 0, 'h stablef');
    const ga = a.backward({ ...x, dh });
    const gae = mlstmParallelBackward({ ...x, dh, stableF: false });
    for (const n of GRADS) expectClose(ga[n], gae[n], 0, n);
  });

  it('parallel--native_siging_custbw forwards normalize and stableF', () => {
    const k = getReferenceKernel('parallel--native_siging_custbw');
    expect(k.gate).toBe('sig');
    expectClose(
      k.forward({ ...x, normalize: false }).h,
      mlstmSigParallel({ ...x, normalize: false }).h,
      0,
      'h',
    );
    const g = k.backward({ ...x, dh, normalize: false, stableF: false });
    const ge = mlstmSigParallelBackward({ ...x, dh, normalize: false, stableF: false });
    for (const n of GRADS) expectClose(g[n], ge[n], 0, n);
  });

  it('native step and native_sequence__native', () => {
    const seq = getReferenceKernel('native_sequence__native').forward({ ...x, returnLastStates: true });
    const e = mlstmRecurrentSequence({ ...x, returnLastStates: true });
    expectClose(seq.h, e.h, 0, 'h');
    const s = getReferenceKernel('native');
    const sl = (t: { data: Float32Array | Float64Array }, n: number) => ({ shape: [1, 2, n], data: t.data });
    const one = {
      q: randn(new Rng(5), [1, 2, 4]),
      k: randn(new Rng(6), [1, 2, 4]),
      v: randn(new Rng(7), [1, 2, 6]),
    };
    const args = {
      ...one,
      i: sl(randn(new Rng(8), [1, 2, 1]), 1),
      f: sl(randn(new Rng(9), [1, 2, 1]), 1),
      ...e.lastStates!,
    };
    expectClose(s.step(args).h, mlstmRecurrentStep(args).h, 0, 'step h');
  });
});
