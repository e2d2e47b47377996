/**
 * The decode GEMV (src/gpu/gemv.ts) against a plain float64 loop: M 1…32, odd N, K not a multiple
 * of 8 (every load width), f32 and f16 weights, bias / soft cap / residual accumulation, the
 * SwiGLU input, row-part outputs (nOff, ldy), and explicit code parameters (reduction through
 * subgroups and through workgroup memory, several row groups, rows per invocation, x-row tiles),
 * and the RMSNorm folded into the input (`norm`: = RMSNorm in float64, then the product).
 */
import { type GpuContext, getGpuContext, roundToF16 } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeGemv, type GemvConfig, gemvConfig, gemvVec } from '../src/gpu/gemv.js';
import { ModelArgumentError } from '../src/index.js';
import { maxAbsDiff } from './helpers.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await getGpuContext();
});
afterAll(() => ctx?.destroy());

let seed = 11;
const rnd = (n: number) =>
  Float32Array.from(
    { length: n },
    () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2,
  );

const silu = (z: number) => z / (1 + Math.exp(-z));

interface Case {
  M: number;
  N: number;
  K: number;
  dtype: 'f32' | 'f16';
  bias?: boolean;
  accumulate?: boolean;
  softcap?: number;
  swiglu?: boolean;
  /** the output is columns [nOff, nOff + N) of a y with ldy columns */
  part?: { nOff: number; ldy: number };
  config?: Partial<GemvConfig>;
  /** RMSNorm of x folded into the GEMV (norm weight random, this eps) */
  norm?: { eps: number };
}

function reference(
  c: Case,
  x: Float32Array,
  w: ArrayLike<number>,
  b: Float32Array | null,
  y0: Float32Array,
  nw: Float32Array | null = null,
) {
  const { M, N, K } = c;
  const ldy = c.part?.ldy ?? N;
  const nOff = c.part?.nOff ?? 0;
  const y = Float64Array.from(y0);
  for (let m = 0; m < M; m++) {
    // RMSNorm in float64 (the model's definition), then the product
    let r = 1;
    if (c.norm) {
      let ss = 0;
      for (let k = 0; k < K; k++) ss += x[m * K + k] ** 2;
      r = 1 / Math.sqrt(ss / K + c.norm.eps);
    }
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        let xv = c.swiglu ? silu(x[m * 2 * K + k]) * x[m * 2 * K + K + k] : x[m * K + k];
        if (nw) xv *= r * nw[k];
        acc += xv * w[n * K + k];
      }
      if (b) acc += b[nOff + n];
      if (c.softcap) acc = c.softcap * Math.tanh(acc / c.softcap);
      const o = m * ldy + nOff + n;
      y[o] = c.accumulate ? y[o] + acc : acc;
    }
  }
  return y;
}

// f32 sums of up to ~400 products of values in [-1, 1] (|y| ≲ 20) in another order than the
// float64 reference: a few f32 ulps of the partial sums. f16 weights are rounded identically on
// both sides (roundToF16), so the same bound holds.
const TOL = 2e-4;

const CASES: Case[] = [
  { M: 1, N: 7, K: 5, dtype: 'f32', bias: true },
  { M: 1, N: 33, K: 131, dtype: 'f16', bias: true, softcap: 2 },
  { M: 3, N: 65, K: 136, dtype: 'f16', accumulate: true }, // vec 8
  { M: 5, N: 31, K: 68, dtype: 'f16', bias: true, accumulate: true }, // vec 4
  { M: 2, N: 17, K: 70, dtype: 'f16' }, // vec 2
  { M: 8, N: 40, K: 132, dtype: 'f32', bias: true, softcap: 3, accumulate: true }, // vec 4
  { M: 9, N: 19, K: 66, dtype: 'f32' }, // vec 2, two x-row tiles
  { M: 32, N: 50, K: 264, dtype: 'f16', bias: true },
  { M: 4, N: 29, K: 40, dtype: 'f16', swiglu: true, accumulate: true },
  { M: 1, N: 13, K: 27, dtype: 'f32', swiglu: true },
  { M: 6, N: 21, K: 48, dtype: 'f16', bias: true, part: { nOff: 5, ldy: 30 } },
  // explicit code parameters: workgroup-memory reduction, one / many row groups, wide rows
  { M: 3, N: 37, K: 200, dtype: 'f16', bias: true, config: { subgroups: false } },
  { M: 7, N: 37, K: 200, dtype: 'f32', accumulate: true, config: { subgroups: false, rg: 1, nr: 2, mt: 7 } },
  { M: 2, N: 70, K: 96, dtype: 'f16', config: { rg: 32, nr: 1, mt: 2 } }, // 8 lanes per group
  { M: 1, N: 45, K: 1000, dtype: 'f16', config: { rg: 1, nr: 8, mt: 1 } },
  { M: 2, N: 11, K: 24, dtype: 'f16', config: { rg: 128, nr: 2, mt: 1, vec: 2 } }, // 2 lanes per group
  // the folded RMSNorm: every load width, several row groups and x-row tiles, both reductions
  { M: 1, N: 33, K: 136, dtype: 'f16', norm: { eps: 1e-6 } },
  {
    M: 1,
    N: 45,
    K: 1000,
    dtype: 'f16',
    bias: true,
    softcap: 3,
    norm: { eps: 1e-5 },
    config: { rg: 1, nr: 8, mt: 1 },
  },
  { M: 3, N: 65, K: 70, dtype: 'f16', accumulate: true, norm: { eps: 1e-6 } }, // vec 2
  { M: 9, N: 19, K: 66, dtype: 'f32', bias: true, norm: { eps: 0.5 } }, // two x-row tiles, large eps
  {
    M: 5,
    N: 31,
    K: 27,
    dtype: 'f32',
    norm: { eps: 1e-6 },
    config: { subgroups: false, rg: 4, nr: 2, mt: 5 },
  },
  {
    M: 6,
    N: 21,
    K: 48,
    dtype: 'f16',
    part: { nOff: 5, ldy: 30 },
    norm: { eps: 1e-6 },
    config: { rg: 32, nr: 1, mt: 6 },
  },
];

describe('decode GEMV', () => {
  test.each(CASES.map((c, i) => [i, c] as const))('case %i', async (_, c) => {
    if (c.dtype === 'f16' && !ctx.features.shaderF16) return;
    if (c.config?.subgroups && !ctx.features.subgroups) return;
    const { M, N, K } = c;
    const ldy = c.part?.ldy ?? N;
    const nOff = c.part?.nOff ?? 0;
    const x = rnd(M * K * (c.swiglu ? 2 : 1));
    const w = rnd(N * K);
    const wq = c.dtype === 'f16' ? roundToF16(w) : w;
    const b = c.bias ? rnd(nOff + N) : null;
    const y0 = rnd(M * ldy);
    const nw = c.norm ? rnd(K) : null;
    const NW = nw ? ctx.upload(nw, [K]) : null;
    const X = ctx.upload(x, [x.length]);
    const W = ctx.upload(w, [N, K], c.dtype);
    const Bt = b ? ctx.upload(b, [b.length]) : null;
    const Y = ctx.upload(y0, [M, ldy]);
    try {
      const batch = ctx.batch();
      encodeGemv(ctx, batch, X, W, Bt, Y, {
        M,
        N,
        K,
        accumulate: c.accumulate,
        softcap: c.softcap,
        swiglu: c.swiglu,
        nOff,
        ldy,
        config: c.config,
        norm: NW && c.norm ? { w: NW, eps: c.norm.eps } : null,
      });
      batch.submit();
      const got = await ctx.read(Y);
      // (normalised x has mean square ≈ mean(nw²) ≈ 1/3, so the bound of the plain case holds)
      expect(maxAbsDiff(got, reference(c, x, wq, b, y0, nw))).toBeLessThan(TOL);
    } finally {
      for (const t of [X, W, Bt, Y, NW]) t?.release();
    }
  });

  test.each([
    ['f16', 1],
    ['f16', 3],
    ['f32', 9],
  ] as const)(
    '%s, M %i: output column blocks and a soft cap on the last columns only (row parts too)',
    async (dtype, M) => {
      if (dtype === 'f16' && !ctx.features.shaderF16) return;
      const K = 72;
      const widths = [5, 7, 3, 4];
      const N = widths.reduce((a, b) => a + b, 0);
      const starts = [0, 64, 128, 200];
      const cap = 1.5;
      const capFrom = 12;
      const x = rnd(M * K);
      const w = rnd(N * K).map((v) => v * 3);
      const wq = dtype === 'f16' ? roundToF16(w) : w;
      const b = rnd(N);
      const want = new Float64Array(400).fill(-7);
      for (let m = 0; m < M; m++) {
        let c0 = 0;
        widths.forEach((wd, j) => {
          for (let c = c0; c < c0 + wd; c++) {
            let acc = b[c];
            for (let k = 0; k < K; k++) acc += x[m * K + k] * wq[c * K + k];
            if (c >= capFrom) acc = cap * Math.tanh(acc / cap);
            want[starts[j] + m * wd + (c - c0)] = acc;
          }
          c0 += wd;
        });
      }
      const X = ctx.upload(x, [M, K]);
      const Bt = ctx.upload(b, [N]);
      const Y = ctx.upload(new Float32Array(400).fill(-7), [400]);
      // the matrix whole, and in two row parts (columns [0, 9) and [9, N))
      for (const parts of [
        [[0, N]],
        [
          [0, 9],
          [9, N],
        ],
      ]) {
        const batch = ctx.batch();
        const ws: ReturnType<typeof ctx.upload>[] = [];
        for (const [r0, r1] of parts) {
          const W = ctx.upload(w.slice(r0 * K, r1 * K), [r1 - r0, K], dtype);
          ws.push(W);
          encodeGemv(ctx, batch, X, W, Bt, Y, {
            M,
            N: r1 - r0,
            K,
            nOff: r0,
            ldy: N,
            softcap: cap,
            softcapFrom: capFrom,
            outBlocks: { widths, starts },
          });
        }
        batch.submit();
        expect(maxAbsDiff(await ctx.read(Y), want)).toBeLessThan(TOL);
        for (const t of ws) t.release();
      }
      const batch = ctx.batch();
      const W = ctx.upload(w, [N, K], dtype);
      expect(() =>
        encodeGemv(ctx, batch, X, W, null, Y, { M, N, K, outBlocks: { widths: [5, 7], starts: [0, 64] } }),
      ).toThrow(/gemv outBlocks/);
      expect(() =>
        encodeGemv(ctx, batch, X, W, null, Y, { M, N, K, outBlocks: { widths, starts: [0, 64, 128, 399] } }),
      ).toThrow(/gemv y/);
      for (const t of [X, Bt, Y, W]) t.release();
    },
  );

  test('default code parameters: widest load dividing K, x-row tiles of at most 8', () => {
    expect([4104, 4100, 4098, 4097].map((k) => gemvVec('f16', k))).toEqual([8, 4, 2, 1]);
    expect(gemvVec('f32', 4096)).toBe(4);
    expect(gemvVec('f32', 45)).toBe(1);
    // an adapter like the H100 (subgroups of 32): the rule of the sweep in docs/benchmarks/h100-decode
    const h100 = {
      features: { ...ctx.features, subgroups: true, subgroupMinSize: 32, subgroupMaxSize: 32 },
      limits: ctx.limits,
    };
    const pick = (M: number, N: number, K: number, swiglu = false) => {
      const { rg, nr, mt, vec } = gemvConfig(h100, 'f16', M, N, K, swiglu);
      return { rg, nr, mt, vec };
    };
    expect(pick(1, 12304, 4096)).toEqual({ rg: 2, nr: 2, mt: 1, vec: 8 });
    expect(pick(1, 21888, 4096)).toEqual({ rg: 8, nr: 4, mt: 1, vec: 8 });
    expect(pick(1, 4096, 10944, true)).toEqual({ rg: 2, nr: 4, mt: 1, vec: 8 });
    expect(pick(1, 50304, 4096)).toEqual({ rg: 8, nr: 4, mt: 1, vec: 8 });
    expect(pick(8, 12304, 4096)).toEqual({ rg: 4, nr: 2, mt: 8, vec: 8 });
    expect(pick(32, 21888, 4096)).toEqual({ rg: 4, nr: 2, mt: 8, vec: 8 });
    const c = gemvConfig(ctx, 'f16', 20, 4096, 4096);
    expect(c.mt).toBe(7); // 3 tiles of ≤ 7 rows
    expect(c.mt * c.nr).toBeLessThanOrEqual(16);
    expect(256 % c.rg).toBe(0);
  });

  test('bad arguments are typed errors before any GPU work', () => {
    const W = ctx.upload(rnd(12), [3, 4]);
    const X = ctx.upload(rnd(4), [1, 4]);
    const Y = ctx.empty([1, 3]);
    try {
      const batch = ctx.batch();
      expect(() => encodeGemv(ctx, batch, X, W, null, Y, { M: 1, N: 3, K: 4, config: { vec: 8 } })).toThrow(
        ModelArgumentError,
      );
      expect(() => encodeGemv(ctx, batch, X, W, null, Y, { M: 2, N: 3, K: 4 })).toThrow(/gemv x/);
      expect(() => encodeGemv(ctx, batch, X, W, null, Y, { M: 1, N: 3, K: 4, config: { rg: 3 } })).toThrow(
        /config\.rg/,
      );
      // more (row group, partial sum) pairs than invocations: some rows would never be written
      expect(() =>
        encodeGemv(ctx, batch, X, W, null, Y, {
          M: 1,
          N: 3,
          K: 4,
          config: { rg: 128, nr: 4, mt: 1, vec: 4 },
        }),
      ).toThrow(/config\.rg·mt·nr/);
      const NW = ctx.upload(rnd(3), [3]);
      try {
        expect(() =>
          encodeGemv(ctx, batch, X, W, null, Y, { M: 1, N: 3, K: 4, norm: { w: NW, eps: 1e-6 } }),
        ).toThrow(/gemv norm\.w/);
        expect(() =>
          encodeGemv(ctx, batch, X, W, null, Y, { M: 1, N: 3, K: 4, norm: { w: X, eps: -1 } }),
        ).toThrow(/gemv norm\.eps/);
        expect(() =>
          encodeGemv(ctx, batch, X, W, null, Y, {
            M: 1,
            N: 3,
            K: 2,
            swiglu: true,
            norm: { w: X, eps: 1e-6 },
          }),
        ).toThrow(/gemv norm/);
      } finally {
        NW.release();
      }
      expect(batch.size).toBe(0);
    } finally {
      for (const t of [W, X, Y]) t.release();
    }
  });
});
