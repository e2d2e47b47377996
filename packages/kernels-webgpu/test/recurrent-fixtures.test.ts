/**
 * The recurrent step and sequence kernels against the upstream golden vectors
 * (fixtures/mlstm-kernels: the PyTorch native recurrent loop in float64, stored as float32).
 * Every case: `step_*` (one more token from `c_last, n_last, m_last`) and `h_recurrent` with the
 * last states through the sequence kernel.
 */
import { reshape, type Tensor } from '@mlstm/core-reference';
import { listMlstmFixtureCases, loadMlstmFixture } from '@mlstm/core-reference/testing/node';
import { describe, expect, it } from 'vitest';
import { mlstmRecurrentSequenceWebgpu, mlstmRecurrentStepWebgpu } from '../src/index.js';
import { assertWithinScale, openGpuContext, recurrentOracle } from './helpers.js';

const ctx = await openGpuContext();

/**
 * Tolerance: as in recurrent-sweep.test.ts, relative to the error scales of the float64 oracle
 * (`recurrentOracle`, core-reference's step run on these inputs): RT = 1e-5 for our f32
 * computation (a recurrence with forget factors ≤ 1 does not accumulate error with S, so the
 * 1024-token `long` case needs no more), plus 2^-24 relative for the float32 storage of the
 * fixtures' float64 results. The step and the sequence are compared like with like (the same
 * token-level stabiliser `m` as upstream), so the `large_igate` case needs no extra slack.
 */
const RT = 1e-5;
const STORED_F32 = 2 ** -24;

const cases = listMlstmFixtureCases();

describe('recurrent kernels vs the upstream fixtures', () => {
  it('has the seven upstream cases', () => {
    expect(cases).toEqual(
      expect.arrayContaining(['small', 'medium', 'ragged', 'states', 'large_igate', 'weak_fgate', 'long']),
    );
  });

  for (const name of cases) {
    it(`${name}: step from the last states (step_q … → step_h, step_c, step_n, step_m)`, async () => {
      const fx = loadMlstmFixture(name);
      const T = fx.tensors;
      const { B, NH, DHQK, DHHV, eps } = fx.params;
      const x = { q: T.step_q, k: T.step_k, v: T.step_v, i: T.step_i, f: T.step_f };
      const got = await mlstmRecurrentStepWebgpu(ctx, { ...x, c: T.c_last, n: T.n_last, m: T.m_last, eps });
      const o = recurrentOracle(
        {
          q: reshape(x.q, [B, NH, 1, DHQK]),
          k: reshape(x.k, [B, NH, 1, DHQK]),
          v: reshape(x.v, [B, NH, 1, DHHV]),
          i: reshape(x.i, [B, NH, 1]),
          f: reshape(x.f, [B, NH, 1]),
        },
        { c: T.c_last, n: T.n_last, m: T.m_last },
        eps,
      );
      assertWithinScale(got.h, T.step_h, reshape(o.hScale, [B, NH, DHHV]), RT, 'step h', STORED_F32);
      assertWithinScale(got.c, T.step_c, o.cScale, RT, 'step c', STORED_F32);
      assertWithinScale(got.n, T.step_n, o.nScale, RT, 'step n', STORED_F32);
      assertWithinScale(got.m, T.step_m, o.mScale, RT, 'step m', STORED_F32);
    });

    it(`${name}: sequence (h_recurrent, c_last, n_last, m_last)`, async () => {
      const fx = loadMlstmFixture(name);
      const T = fx.tensors;
      const { eps } = fx.params;
      const x = { q: T.q, k: T.k, v: T.v, i: T.i, f: T.f };
      const init: { c: Tensor; n: Tensor; m: Tensor } | undefined = fx.params.initial_states
        ? { c: T.c0, n: T.n0, m: T.m0 }
        : undefined;
      const got = await mlstmRecurrentSequenceWebgpu(ctx, {
        ...x,
        ...(init ? { cInitial: init.c, nInitial: init.n, mInitial: init.m } : {}),
        eps,
        returnLastStates: true,
      });
      const o = recurrentOracle(x, init, eps);
      assertWithinScale(got.h, T.h_recurrent, o.hScale, RT, 'h', STORED_F32);
      assertWithinScale(got.lastStates!.c, T.c_last, o.cScale, RT, 'c_last', STORED_F32);
      assertWithinScale(got.lastStates!.n, T.n_last, o.nScale, RT, 'n_last', STORED_F32);
      assertWithinScale(got.lastStates!.m, T.m_last, o.mScale, RT, 'm_last', STORED_F32);
    });
  }
});
