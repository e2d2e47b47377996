/**
 * Shared test helpers of the kernels package: one GpuContext per test file, and conversions
 * between GPU tensors and core-reference CPU tensors.
 */
import { mlstmRecurrentStep, reshape, sliceAxis, type Tensor } from '@mlstm/core-reference';
import { compare } from '@mlstm/core-reference/testing';
import { afterAll, beforeAll } from 'vitest';
import { type GpuContext, type GpuTensor, getGpuContext } from '../src/index.js';

/**
 * Registers `beforeAll` / `afterAll` hooks that create one GpuContext for the file and destroy it
 * at the end; returns a getter (the context exists only once `beforeAll` has run).
 */
export function useGpuContext(): () => GpuContext {
  let ctx: GpuContext | undefined;
  beforeAll(async () => {
    ctx = await getGpuContext();
  });
  afterAll(() => {
    ctx?.destroy();
    ctx = undefined;
  });
  return () => {
    if (!ctx) throw new Error('useGpuContext: the context is only available inside tests (after beforeAll)');
    return ctx;
  };
}

/**
 * Opens one GpuContext for the test file (call with top-level await, so that test names may
 * depend on the adapter's features) and destroys it after the file's tests.
 */
export async function openGpuContext(): Promise<GpuContext> {
  const ctx = await getGpuContext();
  afterAll(() => ctx.destroy());
  return ctx;
}

/** The name of a test that needs `shader-f16`, saying so when the adapter lacks it (skip nothing silently). */
export function f16TestName(ctx: GpuContext, name: string): string {
  return ctx.features.shaderF16 ? name : `${name} [SKIPPED: this adapter has no shader-f16]`;
}

/**
 * The same context seen with other limits (e.g. `maxStorageBuffersPerShaderStage: 8`, the WebGPU
 * default many browser adapters stay at), to exercise the code paths of smaller adapters. It
 * shares the device, pool and pipeline cache of `ctx`.
 */
export function withLimits(ctx: GpuContext, overrides: Record<string, number>): GpuContext {
  const limits: Record<string, number> = {};
  for (const key in ctx.limits) limits[key] = (ctx.limits as unknown as Record<string, number>)[key];
  return Object.create(ctx, { limits: { value: { ...limits, ...overrides } } }) as GpuContext;
}

/** Reads a GPU tensor back into a core-reference tensor (float32 data; f16 is unpacked). */
export async function readTensor(ctx: GpuContext, t: GpuTensor): Promise<Tensor> {
  return { shape: [...t.shape], data: await ctx.read(t) };
}

/** Uploads a core-reference tensor (f32 by default; f16 rounds to nearest even). */
export function uploadTensor(ctx: GpuContext, t: Tensor, dtype: 'f32' | 'f16' = 'f32'): GpuTensor {
  return ctx.upload(t.data, t.shape, dtype);
}

/** A copy of a core-reference tensor with every value rounded to float16 (what an f16 upload stores). */
export function roundTensorToF16(t: Tensor, round: (x: ArrayLike<number>) => Float32Array): Tensor {
  return { shape: [...t.shape], data: Float64Array.from(round(t.data)) };
}

/** A view of a tensor with another shape of the same size (no copy). */
export function reshapeTensor(t: Tensor, shape: readonly number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) throw new RangeError(`reshapeTensor: ${t.data.length} elements into [${shape}]`);
  return { shape: [...shape], data: t.data };
}

const absT = (t: Tensor): Tensor => ({ shape: [...t.shape], data: Float64Array.from(t.data, Math.abs) });

/**
 * The float64 recurrent loop of core-reference (`mlstmRecurrentStep` token by token) together
 * with, for every output element, the magnitude its floating-point error scales with — so
 * tolerances can be `|Δ| ≤ rt · scale` instead of being tuned to the data:
 *
 * - `cScale`, `nScale`: the same loop on `|q|, |k|, |v|` and `|initial states|` (the gates do
 *   not depend on q/k/v, so the weights are identical): the sum of the magnitudes of every term
 *   that entered each state element.
 * - `hScale`: for `h = num / den` with `num = Cᵀq̂`, `den = max(|nᵀq̂|, e^{−m}) + eps`, the
 *   first-order error bound `(Σ|C||q̂| + |h|·Σ|n||q̂|) / den + |h|`, with `Σ|C||q̂|` and `Σ|n||q̂|`
 *   from the magnitude loop. It is large exactly where `nᵀq̂` cancels (an ill-conditioned
 *   denominator), which a plain relative tolerance would blame on the kernel.
 * - `mScale`: `|m₀| + Σ_t (|logsigmoid(f̃_t)| + |ĩ_t|)`, the magnitudes added into `m`.
 */
export interface RecurrentOracle {
  h: Tensor;
  c: Tensor;
  n: Tensor;
  m: Tensor;
  hScale: Tensor;
  cScale: Tensor;
  nScale: Tensor;
  mScale: Tensor;
}

export function recurrentOracle(
  x: { q: Tensor; k: Tensor; v: Tensor; i: Tensor; f: Tensor },
  init?: { c: Tensor; n: Tensor; m: Tensor },
  eps = 1e-6,
): RecurrentOracle {
  const [B, NH, S, DHQK] = x.q.shape;
  const DHHV = x.v.shape[3];
  const BH = B * NH;
  const kappa = 1 / Math.sqrt(DHQK);
  let st = init
    ? { c: init.c, n: init.n, m: init.m }
    : {
        c: { shape: [B, NH, DHQK, DHHV], data: new Float64Array(BH * DHQK * DHHV) },
        n: { shape: [B, NH, DHQK], data: new Float64Array(BH * DHQK) },
        m: { shape: [B, NH, 1], data: new Float64Array(BH) },
      };
  let ab = { c: absT(st.c), n: absT(st.n) };
  const mScale = Float64Array.from(st.m.data, Math.abs);
  const h = new Float64Array(BH * S * DHHV);
  const hScale = new Float64Array(BH * S * DHHV);
  const tok = (t: Tensor, s: number, d: number) => reshape(sliceAxis(t, 2, s, s + 1), [B, NH, d]);
  for (let s = 0; s < S; s++) {
    const q = tok(x.q, s, DHQK);
    const k = tok(x.k, s, DHQK);
    const v = tok(x.v, s, DHHV);
    const i = tok(x.i.shape.length === 3 ? reshape(x.i, [B, NH, S, 1]) : x.i, s, 1);
    const f = tok(x.f.shape.length === 3 ? reshape(x.f, [B, NH, S, 1]) : x.f, s, 1);
    const real = mlstmRecurrentStep({ q, k, v, i, f, ...st, eps });
    const mag = mlstmRecurrentStep({
      q: absT(q),
      k: absT(k),
      v: absT(v),
      i,
      f,
      c: ab.c,
      n: ab.n,
      m: st.m,
      eps,
    });
    for (let bh = 0; bh < BH; bh++) {
      const fv = f.data[bh];
      mScale[bh] += Math.abs(Math.min(fv, 0) - Math.log1p(Math.exp(-Math.abs(fv)))) + Math.abs(i.data[bh]);
      let nq = 0;
      let nqAbs = 0;
      for (let a = 0; a < DHQK; a++) {
        nq += real.n.data[bh * DHQK + a] * kappa * q.data[bh * DHQK + a];
        nqAbs += mag.n.data[bh * DHQK + a] * kappa * Math.abs(q.data[bh * DHQK + a]);
      }
      const mNew = real.m.data[bh];
      const den = Math.max(Math.abs(nq), Math.exp(-mNew)) + eps;
      const denAbs = Math.max(nqAbs, Math.exp(-mNew)) + eps;
      for (let b = 0; b < DHHV; b++) {
        const hv = real.h.data[bh * DHHV + b];
        const numAbs = mag.h.data[bh * DHHV + b] * denAbs;
        const o = (bh * S + s) * DHHV + b;
        h[o] = hv;
        hScale[o] = (numAbs + Math.abs(hv) * nqAbs) / den + Math.abs(hv);
      }
    }
    st = { c: real.c, n: real.n, m: real.m };
    ab = { c: mag.c, n: mag.n };
  }
  return {
    h: { shape: [B, NH, S, DHHV], data: h },
    c: st.c,
    n: st.n,
    m: st.m,
    hScale: { shape: [B, NH, S, DHHV], data: hScale },
    cScale: ab.c,
    nScale: ab.n,
    mScale: { shape: [B, NH, 1], data: mScale },
  };
}

/**
 * Throws unless `|actual − expected| ≤ rt · scale + extraRel · |expected| + extraAbs` element-wise
 * (the message names the worst element, its excess and the max errors).
 */
export function assertWithinScale(
  actual: Tensor,
  expected: Tensor,
  scale: Tensor,
  rt: number,
  name: string,
  extraRel = 0,
  extraAbs = 0,
): { worstRatio: number } {
  const a = actual.data;
  const e = expected.data;
  if (a.length !== e.length || scale.data.length !== e.length) {
    throw new RangeError(
      `${name}: ${a.length} elements vs ${e.length} expected (scale ${scale.data.length})`,
    );
  }
  let worst = 0;
  let worstAt = -1;
  for (let x = 0; x < e.length; x++) {
    const allowed = rt * scale.data[x] + extraRel * Math.abs(e[x]) + extraAbs + 1e-30;
    const ratio = Number.isFinite(a[x]) ? Math.abs(a[x] - e[x]) / allowed : Number.POSITIVE_INFINITY;
    if (!(ratio <= worst)) {
      worst = ratio;
      worstAt = x;
    }
  }
  if (worst > 1) {
    const c = compare(actual, expected);
    throw new Error(
      `${name} not within tolerance (rt ${rt}, extra rel ${extraRel}): worst element ${worstAt} is ${worst.toFixed(2)}× ` +
        `its allowed error (actual ${a[worstAt]} vs expected ${e[worstAt]}, scale ${scale.data[worstAt]}); ` +
        `max abs ${c.maxAbs.toExponential(3)}, max rel ${c.maxRel.toExponential(3)}`,
    );
  }
  return { worstRatio: worst };
}
