/**
 * More heads (B·NH) than workgroups per dimension: WebGPU allows at most
 * `maxComputeWorkgroupsPerDimension` (65 535 by default) workgroups per dimension, so every
 * dispatch with a workgroup per head (or per head and tile) spreads a flat index over two
 * dimensions and lets the padding workgroups return. Each family's forward and backward — the
 * register-tiled state scans, the gate kernels, the state dot of the df correction, the copies of
 * the last states — and the recurrent step run here against core-reference with more heads than
 * the limit.
 *
 * The limit is lowered to 16 for these calls (`withLimits`: the kernels size their dispatches
 * from `ctx.limits`, and the batch checks them against it), so that 2 × 20 heads cross it: the
 * very code path of B·NH > 65 535, which on lavapipe (a CPU) would take minutes per call (B·NH =
 * 65 538 ran 80 s for one xl_chunk forward of 4 tokens per head). The GPU test project
 * (`pnpm test:gpu`) runs B·NH = 65 538 for real on the H100.
 */
import {
  mlstmChunkwise,
  mlstmChunkwiseBackward,
  mlstmParallel,
  mlstmParallelBackward,
  mlstmRecurrentStep,
  type Tensor,
} from '@mlstm/core-reference';
import { Rng } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import {
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  mlstmParallelLimitHeaddim,
  mlstmParallelLimitHeaddimBackward,
  mlstmRecurrentStepWebgpu,
} from '../src/index.js';
import { openGpuContext, withLimits } from './helpers.js';
import { expectNear, randomProblem } from './tfla-helpers.js';

const real = await openGpuContext();
const LIMIT = 16;
const ctx = withLimits(real, { maxComputeWorkgroupsPerDimension: LIMIT });
// B·NH = 40 > 16: one workgroup per head no longer fits one dimension (x 14, y 3: two padding workgroups)
const B = 2;
const NH = 20;

// f32 on tiny heads: a handful of products per output, so the f32 tolerances of tfla-sweep.test.ts hold
const TOL = { fw: 2e-4, bw: 5e-4 };

describe(`more heads than workgroups per dimension (B ${B}, NH ${NH}, limit lowered to ${LIMIT})`, () => {
  it('the limit is the one this test crosses, and a dispatch past it is refused', () => {
    expect(B * NH).toBeGreaterThan(ctx.limits.maxComputeWorkgroupsPerDimension);
    const p = ctx.pipeline('many-heads:noop', () => '@compute @workgroup_size(1) fn main() {}', []);
    expect(() => ctx.batch().dispatch(p, [], null, [B * NH])).toThrow(/workgroups\.x/);
  });
  it('xl_chunk forward and backward (register-tiled scans, initial states, dC_last with the df correction)', async () => {
    const d = { B, NH, S: 4, DHQK: 2, DHHV: 2 };
    const p = randomProblem(new Rng(3), d, { states: true, dcLast: true });
    const args = { ...p.x, ...p.states!, chunkSize: 2, returnLastStates: true };
    const ref = mlstmChunkwise(args);
    const refB = mlstmChunkwiseBackward({ ...args, dh: p.dh, dcLast: p.dcLast, correctDfForDcLast: true });
    const fw = await mlstmChunkwiseXlChunk(ctx, args);
    expectNear(fw.h, ref.h, TOL.fw, 'h');
    for (const n of ['c', 'n', 'm'] as const) expectNear(fw.lastStates![n]!, ref.lastStates![n], TOL.fw, n);
    const bw = await mlstmChunkwiseXlChunkBackward(ctx, {
      ...args,
      dh: p.dh,
      dcLast: p.dcLast,
      correctDfForDcLast: true,
    });
    for (const n of ['dq', 'dk', 'dv', 'di', 'df', 'dcInitial'] as const)
      expectNear(bw[n]!, (refB as unknown as Record<string, Tensor>)[n], TOL.bw, n);
  });
  it('parallel (limit_headdim) forward and backward', async () => {
    const d = { B, NH, S: 3, DHQK: 1, DHHV: 2 };
    const p = randomProblem(new Rng(4), d);
    const fw = await mlstmParallelLimitHeaddim(ctx, p.x);
    expectNear(fw.h, mlstmParallel(p.x).h, TOL.fw, 'h');
    const bw = await mlstmParallelLimitHeaddimBackward(ctx, { ...p.x, dh: p.dh });
    const refB = mlstmParallelBackward({ ...p.x, dh: p.dh });
    for (const n of ['dq', 'dk', 'dv', 'di', 'df'] as const) expectNear(bw[n], refB[n], TOL.bw, n);
  });
  it('recurrent step', async () => {
    const rng = new Rng(5);
    const r = (shape: number[], scale = 1): Tensor => ({
      shape,
      data: Float64Array.from(
        { length: shape.reduce((a, b) => a * b, 1) },
        () => scale * (rng.uniform() * 2 - 1),
      ),
    });
    const x = {
      q: r([B, NH, 2]),
      k: r([B, NH, 2]),
      v: r([B, NH, 3]),
      i: r([B, NH, 1]),
      f: r([B, NH, 1], 3),
      c: r([B, NH, 2, 3]),
      n: r([B, NH, 2]),
      m: r([B, NH, 1]),
    };
    const got = await mlstmRecurrentStepWebgpu(ctx, x);
    const want = mlstmRecurrentStep(x);
    for (const n of ['h', 'c', 'n', 'm'] as const) expectNear(got[n], want[n], TOL.fw, n);
  });
});
