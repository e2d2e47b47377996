/**
 * The recurrent step and sequence kernels against their core-reference twins (float64) on a
 * seeded random sweep of shapes: odd and unequal head dims, B·NH up to 6, S up to 40, with and
 * without initial states, ordinary, large and weak gates; f32 and f16 inputs.
 */
import { mlstmRecurrentSequence, mlstmRecurrentStep, reshape, type Tensor } from '@mlstm/core-reference';
import { Rng, randn } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import {
  RECURRENT_STEP_FUSED_BINDINGS,
  type GpuContext,
  mlstmRecurrentSequenceWebgpu,
  mlstmRecurrentStepWebgpu,
  roundToF16,
} from '../src/index.js';
import {
  assertWithinScale,
  f16TestName,
  openGpuContext,
  type RecurrentOracle,
  recurrentOracle,
  roundTensorToF16,
  withLimits,
} from './helpers.js';

const ctx = await openGpuContext();

interface Case {
  B: number;
  NH: number;
  S: number;
  DHQK: number;
  DHHV: number;
  states: boolean;
  /** 'normal': i ~ N(0,1), f ~ 3 + N(0,1); 'large': i ~ 8 + 3·N(0,1); 'weak': f ~ −2 + 2·N(0,1) */
  gates: 'normal' | 'large' | 'weak';
  seed: number;
}

const DIMS = [1, 2, 3, 5, 8, 16, 17, 32, 33, 48, 64, 65];

/** 56 deterministic cases; the first ones pin the corner cases, the rest are random (B·NH ≤ 6). */
function makeCases(seed: number): Case[] {
  const rng = new Rng(seed);
  const fixed: Omit<Case, 'seed'>[] = [
    { B: 1, NH: 1, S: 1, DHQK: 1, DHHV: 1, states: false, gates: 'normal' },
    { B: 1, NH: 1, S: 3, DHQK: 1, DHHV: 17, states: true, gates: 'normal' },
    { B: 2, NH: 3, S: 5, DHQK: 33, DHHV: 1, states: false, gates: 'large' },
    { B: 3, NH: 2, S: 40, DHQK: 3, DHHV: 5, states: true, gates: 'weak' },
    { B: 1, NH: 2, S: 17, DHQK: 48, DHHV: 130, states: true, gates: 'large' },
    { B: 6, NH: 1, S: 9, DHQK: 17, DHHV: 33, states: false, gates: 'normal' },
    // many heads: enough workgroups for the wide (32-column) tiles of the heuristic
    { B: 16, NH: 16, S: 6, DHQK: 17, DHHV: 33, states: true, gates: 'normal' },
    { B: 8, NH: 32, S: 3, DHQK: 5, DHHV: 64, states: false, gates: 'large' },
  ];
  const out: Case[] = fixed.map((c, x) => ({ ...c, seed: seed * 1000 + x }));
  while (out.length < 56) {
    const B = rng.int(1, 3);
    const NH = rng.int(1, Math.floor(6 / B));
    out.push({
      B,
      NH,
      S: rng.int(1, 40),
      DHQK: rng.pick(DIMS),
      DHHV: rng.pick(DIMS),
      states: rng.uniform() < 0.5,
      gates: rng.pick(['normal', 'normal', 'large', 'weak'] as const),
      seed: seed * 1000 + out.length,
    });
  }
  return out;
}

const label = (c: Case) =>
  `B${c.B} NH${c.NH} S${c.S} DHQK${c.DHQK} DHHV${c.DHHV}${c.states ? ' +states' : ''} ${c.gates} gates`;

function gates(rng: Rng, shape: number[], kind: Case['gates']): { i: Tensor; f: Tensor } {
  return {
    i: kind === 'large' ? randn(rng, shape, { offset: 8, scale: 3 }) : randn(rng, shape),
    f: kind === 'weak' ? randn(rng, shape, { offset: -2, scale: 2 }) : randn(rng, shape, { offset: 3 }),
  };
}

/** Random states of realistic magnitude: C, n ~ N(0,1), m ~ N(0, 2²). */
function states(rng: Rng, c: Case): { c: Tensor; n: Tensor; m: Tensor } {
  return {
    c: randn(rng, [c.B, c.NH, c.DHQK, c.DHHV]),
    n: randn(rng, [c.B, c.NH, c.DHQK]),
    m: randn(rng, [c.B, c.NH, 1], { scale: 2 }),
  };
}

function stepInputs(c: Case) {
  const rng = new Rng(c.seed);
  const { B, NH, DHQK, DHHV } = c;
  return {
    q: randn(rng, [B, NH, DHQK]),
    k: randn(rng, [B, NH, DHQK]),
    v: randn(rng, [B, NH, DHHV]),
    ...gates(rng, [B, NH, 1], c.gates),
    ...states(rng, c),
  };
}

function sequenceInputs(c: Case) {
  const rng = new Rng(c.seed + 7);
  const { B, NH, S, DHQK, DHHV } = c;
  const x = {
    q: randn(rng, [B, NH, S, DHQK]),
    k: randn(rng, [B, NH, S, DHQK]),
    v: randn(rng, [B, NH, S, DHHV]),
    ...gates(rng, [B, NH, S], c.gates),
  };
  if (!c.states) return x;
  const s = states(rng, c);
  return { ...x, cInitial: s.c, nInitial: s.n, mInitial: s.m };
}

/**
 * f32 tolerance, relative to the error scales of {@link recurrentOracle} (the magnitudes each
 * value's rounding errors are proportional to): every value is a short f32 computation — a step
 * updates C with two f32 operations per element and reads it out with a sum over DHQK ≤ 65 terms;
 * a sequence repeats that ≤ 40 times with forget factors ≤ 1 (errors decay rather than compound);
 * the gates go through f32 exp/log, whose WGSL error bound grows with |argument| (m reaches ~20
 * with large input gates). A first-order bound is then (DHQK + a few·S)·u ≈ 1e-5 relative to
 * the scales (u = 2^-24); we allow RT = 1e-5. Measured worst over this sweep: printed by the
 * last test (|Δ| ≤ 2.6e-6·scale on lavapipe). Indexing or formula errors give O(1) relative errors, far above.
 */
const RT = 1e-5;
/**
 * f16 h: the reference runs on the same f16-ROUNDED q, k, v, so only the kernel's own rounding
 * counts: the f32 computation above, then one rounding of h to f16 on output (at most half an
 * ulp, 2^-11 ≈ 4.9e-4 relative, for normal numbers; subnormals are covered by the f32 scale
 * term). States stay f32 and keep the f32 tolerance.
 */
const F16_OUT_REL = 2 ** -11 * 1.01;
/** f16 subnormals (|h| < 2^-14) round to a multiple of 2^-24: at most 2^-25 absolute. */
const F16_OUT_ABS = 2 ** -25;

const worst = { f32: 0, f16: 0 };

function checkAll(
  got: { h: Tensor; c: Tensor; n: Tensor; m: Tensor },
  ref: { h: Tensor; c: Tensor; n: Tensor; m: Tensor },
  o: RecurrentOracle,
  f16: boolean,
) {
  const r = [
    assertWithinScale(got.h, ref.h, o.hScale, RT, 'h', f16 ? F16_OUT_REL : 0, f16 ? F16_OUT_ABS : 0),
    assertWithinScale(got.c, ref.c, o.cScale, RT, 'c'),
    assertWithinScale(got.n, ref.n, o.nScale, RT, 'n'),
    assertWithinScale(got.m, ref.m, o.mScale, RT, 'm'),
  ];
  const key = f16 ? 'f16' : 'f32';
  worst[key] = Math.max(worst[key], ...r.map((x) => x.worstRatio));
}

const cases = makeCases(11);

/** A step as a sequence of length 1 from the given states (for the oracle). */
function stepOracle(x: ReturnType<typeof stepInputs>): RecurrentOracle {
  const [B, NH, DHQK] = x.q.shape;
  const DHHV = x.v.shape[2];
  const o = recurrentOracle(
    {
      q: reshape(x.q, [B, NH, 1, DHQK]),
      k: reshape(x.k, [B, NH, 1, DHQK]),
      v: reshape(x.v, [B, NH, 1, DHHV]),
      i: reshape(x.i, [B, NH, 1]),
      f: reshape(x.f, [B, NH, 1]),
    },
    { c: x.c, n: x.n, m: x.m },
  );
  return { ...o, h: reshape(o.h, [B, NH, DHHV]), hScale: reshape(o.hScale, [B, NH, DHHV]) };
}

const seqOracle = (x: ReturnType<typeof sequenceInputs>) =>
  recurrentOracle(x, 'cInitial' in x ? { c: x.cInitial, n: x.nInitial, m: x.mInitial } : undefined);

const fusedOk = ctx.limits.maxStorageBuffersPerShaderStage >= RECURRENT_STEP_FUSED_BINDINGS.separate;
const paths: [string, GpuContext][] = [
  [
    fusedOk
      ? 'fused kernel'
      : `split kernels (this adapter allows ${ctx.limits.maxStorageBuffersPerShaderStage} storage buffers per stage, the fused kernel needs ${RECURRENT_STEP_FUSED_BINDINGS.separate})`,
    ctx,
  ],
  [
    'split kernels (forced: WebGPU default limits, 8 storage buffers per stage, 256 invocations and 256×256 workgroup size)',
    withLimits(ctx, {
      maxStorageBuffersPerShaderStage: 8,
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupSizeX: 256,
      maxComputeWorkgroupSizeY: 256,
    }),
  ],
];

for (const [path, pctx] of paths) {
  describe(`recurrent step (webgpu, ${path}) vs core-reference mlstmRecurrentStep, f32`, () => {
    for (const c of cases) {
      it(label(c), async () => {
        const x = stepInputs(c);
        const ref = mlstmRecurrentStep(x);
        const got = await mlstmRecurrentStepWebgpu(pctx, x);
        checkAll(got, ref, stepOracle(x), false);
      });
    }
  });

  describe(`recurrent sequence (native_sequence__webgpu, ${path}) vs core-reference mlstmRecurrentSequence, f32`, () => {
    for (const c of cases) {
      it(label(c), async () => {
        const x = sequenceInputs(c);
        const ref = mlstmRecurrentSequence({ ...x, returnLastStates: true });
        const got = await mlstmRecurrentSequenceWebgpu(pctx, { ...x, returnLastStates: true });
        checkAll({ h: got.h, ...got.lastStates! }, { h: ref.h, ...ref.lastStates! }, seqOracle(x), false);
      });
    }
  });
}

const round = (t: Tensor) => roundTensorToF16(t, roundToF16);

describe(f16TestName(ctx, 'f16 inputs: step and sequence vs the reference on f16-rounded q, k, v'), () => {
  // every second case: the f16 path shares all indexing with f32, only loads/stores differ
  for (const c of cases.filter((_, x) => x % 2 === 0)) {
    it.skipIf(!ctx.features.shaderF16)(f16TestName(ctx, `step ${label(c)}`), async () => {
      const x = stepInputs(c);
      const xr = { ...x, q: round(x.q), k: round(x.k), v: round(x.v) };
      const ref = mlstmRecurrentStep(xr);
      const got = await mlstmRecurrentStepWebgpu(ctx, { ...x, dtype: 'f16' });
      checkAll(got, ref, stepOracle(xr), true);
    });
    it.skipIf(!ctx.features.shaderF16)(f16TestName(ctx, `sequence ${label(c)}`), async () => {
      const x = sequenceInputs(c);
      const xr = { ...x, q: round(x.q), k: round(x.k), v: round(x.v) };
      const ref = mlstmRecurrentSequence({ ...xr, returnLastStates: true });
      const got = await mlstmRecurrentSequenceWebgpu(ctx, { ...x, dtype: 'f16', returnLastStates: true });
      checkAll({ h: got.h, ...got.lastStates! }, { h: ref.h, ...ref.lastStates! }, seqOracle(xr), true);
    });
  }
});

describe('tolerance sanity', () => {
  it('the f32 check rejects an off-by-one token (the tolerance can fail)', async () => {
    const c = cases[3];
    const x = sequenceInputs(c);
    const ref = mlstmRecurrentSequence(x);
    const got = await mlstmRecurrentSequenceWebgpu(ctx, x);
    const shifted = { shape: got.h.shape, data: got.h.data.slice(c.DHHV) };
    const refCut = { shape: ref.h.shape, data: ref.h.data.slice(0, ref.h.data.length - c.DHHV) };
    const o = seqOracle(x);
    const scaleCut = { shape: o.hScale.shape, data: o.hScale.data.slice(0, o.hScale.data.length - c.DHHV) };
    expect(() => assertWithinScale(shifted, refCut, scaleCut, RT, 'h')).toThrow(/not within tolerance/);
  });

  it('reports the worst error seen, as a fraction of the error scales', () => {
    console.log(
      `worst |Δ| / allowed error: f32 ${worst.f32.toFixed(3)} (i.e. |Δ| ≤ ${(worst.f32 * RT).toExponential(2)}·scale), ` +
        `f16 ${worst.f16.toFixed(3)} (h incl. the f16 output rounding)`,
    );
    expect(worst.f32).toBeGreaterThan(0);
    expect(worst.f32).toBeLessThanOrEqual(1);
  });
});
