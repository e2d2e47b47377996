/**
 * The dense matmul family (`dense--webgpu_matmul`):
 * - the register-tiled kernel (every adapter's fallback; CI's lavapipe has no subgroup matrices)
 *   against a float64 TS reference, on a table of odd shapes, f16 and f32 weights and inputs, every
 *   epilogue (bias, accumulate, soft cap, SiLU gate, output column offset);
 * - the matrix-unit kernel's WGSL, compiled with stand-in builtins (./sgmat-stub.ts) for every tile
 *   configuration the heuristics or benchmarks use, and run with working emulations of the builtins
 *   (./sgmat-emulate.ts) against the float64 reference for every tile option; on the H100 it is
 *   checked by the GPU test project (test-gpu/) and against the register-tiled kernel in the same
 *   device call as its timing (packages/bench/scripts/gemm-device.ts);
 * - the selection rule and the argument errors.
 */
import { Rng } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import { DENSE_LAYOUT, dispatchDense } from '../src/dense/kernels/epilogue.js';
import {
  DENSE_SGMAT_DEFAULT,
  denseSgmatKey,
  denseSgmatTilesProblem,
  denseSgmatWgsl,
  type DenseSgmatTiles,
} from '../src/dense/kernels/matmul_sgmat.js';
import { denseTiledWgsl } from '../src/dense/kernels/matmul_tiled.js';
import {
  denseMatmul,
  denseMatmulPath,
  encodeDenseMatmul,
  formatDenseTiles,
  type GpuDtype,
  heuristics,
  KernelArgumentError,
  parseDenseTiles,
  roundToF16,
} from '../src/index.js';
import { resolveTuning } from '../src/tuning.js';
import { openGpuContext, withLimits } from './helpers.js';
import { emulateSubgroupMatrix } from './sgmat-emulate.js';
import { stubSubgroupMatrix } from './sgmat-stub.js';

const ctx = await openGpuContext();
const f16 = ctx.features.shaderF16;

interface Case {
  M: number;
  N: number;
  K: number;
  x: GpuDtype;
  w: GpuDtype;
  bias?: boolean;
  accumulate?: boolean;
  softcap?: number;
  gate?: boolean;
  /** output columns at nOff of a y with ldy columns */
  nOff?: number;
  ldy?: number;
  /** storage type of y (default f32) */
  y?: GpuDtype;
}

// odd sizes everywhere: partial row and column tiles, depths that end inside a 16-deep slice
const CASES: Case[] = [
  { M: 1, N: 1, K: 1, x: 'f32', w: 'f32' },
  { M: 37, N: 29, K: 53, x: 'f32', w: 'f32', bias: true },
  { M: 70, N: 130, K: 17, x: 'f32', w: 'f16', accumulate: true },
  { M: 65, N: 67, K: 40, x: 'f16', w: 'f16', softcap: 3 },
  { M: 33, N: 45, K: 24, x: 'f16', w: 'f32', bias: true, softcap: 2, accumulate: true },
  { M: 67, N: 35, K: 31, x: 'f32', w: 'f16', gate: true },
  { M: 19, N: 33, K: 72, x: 'f32', w: 'f32', gate: true, bias: true, accumulate: true },
  { M: 66, N: 31, K: 9, x: 'f16', w: 'f16', gate: true, bias: true },
  { M: 41, N: 23, K: 33, x: 'f32', w: 'f16', bias: true, nOff: 7, ldy: 50, accumulate: true },
  // f16 y (the x of a next matmul): soft cap and accumulate; gated
  { M: 45, N: 38, K: 40, x: 'f16', w: 'f16', bias: true, softcap: 3, accumulate: true, y: 'f16' },
  { M: 70, N: 27, K: 24, x: 'f32', w: 'f16', gate: true, y: 'f16' },
];

const round = (data: Float64Array, dtype: GpuDtype) =>
  dtype === 'f16' ? Float64Array.from(roundToF16(data)) : Float64Array.from(Float32Array.from(data));

/** The float64 reference of the epilogue: bias, gate, soft cap, accumulate (as the kernels). */
function reference(
  c: Case,
  x: Float64Array,
  w: Float64Array,
  bias: Float64Array | null,
  y0: Float64Array,
): Float64Array {
  const { M, N, K } = c;
  const ldy = c.ldy ?? N;
  const nOff = c.nOff ?? 0;
  const y = Float64Array.from(y0);
  const dot = (m: number, r: number) => {
    let s = 0;
    for (let k = 0; k < K; k++) s += x[m * K + k] * w[r * K + k];
    return s + (bias ? bias[nOff + r] : 0);
  };
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let v: number;
      if (c.gate) {
        const g = dot(m, n);
        v = (g / (1 + Math.exp(-g))) * dot(m, N + n);
      } else v = dot(m, n);
      if (c.softcap) v = c.softcap * Math.tanh(v / c.softcap);
      const o = m * ldy + nOff + n;
      y[o] = (c.accumulate ? y[o] : 0) + v;
    }
  }
  return y;
}

const name = (c: Case) =>
  `${c.M}×${c.N}×${c.K} x ${c.x} W ${c.w}${c.bias ? ' +bias' : ''}${c.gate ? ' silu-gate' : ''}${c.softcap ? ` softcap ${c.softcap}` : ''}${c.accumulate ? ' accumulate' : ''}${c.nOff ? ` nOff ${c.nOff} ldy ${c.ldy}` : ''}${c.y === 'f16' ? ' y f16' : ''}`;

/**
 * The inputs of case `c` (seeded by its shape), rounded to their storage types on the CPU so that
 * only the GPU's f32 sums differ, and uploaded; `release` frees the uploads.
 */
function caseInputs(c: Case) {
  const rng = new Rng(c.M * 1000 + c.N * 10 + c.K);
  const wRows = c.gate ? 2 * c.N : c.N;
  const ldy = c.ldy ?? c.N;
  const rand = (n: number, s = 1) => Float64Array.from({ length: n }, () => s * rng.normal());
  const x = round(rand(c.M * c.K), c.x);
  const w = round(rand(wRows * c.K, 1 / Math.sqrt(c.K)), c.w);
  const bias = c.bias ? round(rand((c.nOff ?? 0) + wRows), 'f32') : null;
  const y0 = round(rand(c.M * ldy), c.y ?? 'f32');
  const g = {
    x: ctx.upload(x, [c.M, c.K], c.x),
    w: ctx.upload(w, [wRows, c.K], c.w),
    bias: bias ? ctx.upload(bias, [bias.length]) : null,
    y: ctx.upload(y0, [c.M, ldy], c.y ?? 'f32'),
  };
  const release = () => {
    for (const t of [g.x, g.w, g.bias, g.y]) t?.release();
  };
  return { x, w, bias, y0, ldy, g, release };
}

/** max |got − want| / max(1, max |want|). */
function relToLargest(got: Float32Array, want: Float64Array): number {
  let scale = 1;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let e = 0; e < want.length; e++) err = Math.max(err, Math.abs(got[e] - want[e]));
  return err / scale;
}

describe('dense matmul, register-tiled, against the float64 reference', () => {
  for (const c of CASES) {
    const needsF16 = c.x === 'f16' || c.w === 'f16' || c.y === 'f16';
    it.skipIf(needsF16 && !f16)(name(c), async () => {
      const live = ctx.pool.stats.liveBytes;
      const { x, w, bias, y0, ldy, g, release } = caseInputs(c);
      const run = (y: typeof g.y) => {
        const batch = ctx.batch();
        const path = encodeDenseMatmul(ctx, batch, {
          ...g,
          y,
          N: c.N,
          accumulate: c.accumulate,
          softcap: c.softcap,
          gate: c.gate ? 'silu' : null,
          nOff: c.nOff,
          ldy: c.ldy,
          path: 'tiled',
        });
        expect(path).toBe('tiled');
        batch.submit();
      };
      run(g.y);
      const got = await ctx.read(g.y);
      // f32 sums of at most 72 products of O(1) terms: ~1e-6 relative; 1e-4 of the largest output
      // leaves room for the order of summation and the GPU's exp/tanh, and catches any indexing error;
      // an f16 y adds its rounding, 2⁻¹¹ of each value
      const tol = c.y === 'f16' ? 1e-3 : 1e-4;
      expect(relToLargest(got, reference(c, x, w, bias, y0))).toBeLessThan(tol);
      if (c.y === 'f16') {
        // the same call into an f32 y holding the same (f16) values: the f16 y is its result rounded
        // by the f16 policy, bit for bit (the epilogue computes the same f32 value before the store)
        const y32 = ctx.upload(y0, [c.M, ldy]);
        run(y32);
        expect(Array.from(got)).toEqual(Array.from(roundToF16(await ctx.read(y32))));
        y32.release();
      }
      release();
      expect(ctx.pool.stats.liveBytes).toBe(live);
    });
  }

  it('denseMatmul allocates y [M, N] when it is not given', async () => {
    const rng = new Rng(3);
    const [M, N, K] = [5, 7, 3];
    const x = Float64Array.from({ length: M * K }, () => rng.normal());
    const w = Float64Array.from({ length: N * K }, () => rng.normal());
    const xg = ctx.upload(x, [M, K]);
    const wg = ctx.upload(w, [N, K]);
    const y = await denseMatmul(ctx, { x: xg, w: wg });
    expect(y.shape).toEqual([M, N]);
    const want = reference(
      { M, N, K, x: 'f32', w: 'f32' },
      round(x, 'f32'),
      round(w, 'f32'),
      null,
      new Float64Array(M * N),
    );
    const got = await ctx.read(y);
    for (let e = 0; e < want.length; e++) expect(got[e]).toBeCloseTo(want[e], 4);
    for (const t of [xg, wg, y]) t.release();
  });
});

const sgmatConfigs: (DenseSgmatTiles & { xDtype: GpuDtype; gated: boolean })[] = [
  { bm: 128, bn: 128, bk: 32, wm: 2, stages: 2, xDtype: 'f32', gated: false },
  { bm: 128, bn: 128, bk: 32, wm: 2, stages: 2, xDtype: 'f16', gated: true },
  { bm: 128, bn: 128, bk: 64, wm: 4, stages: 1, xDtype: 'f32', gated: true },
  { bm: 128, bn: 256, bk: 32, wm: 2, stages: 1, xDtype: 'f16', gated: false },
  { bm: 256, bn: 128, bk: 32, wm: 4, stages: 1, xDtype: 'f32', gated: false },
  { bm: 64, bn: 128, bk: 32, wm: 1, stages: 2, xDtype: 'f32', gated: false },
  { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1, xDtype: 'f16', gated: true },
  { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1, prefetch: false, xDtype: 'f16', gated: true },
  { bm: 128, bn: 128, bk: 32, wm: 2, stages: 2, prefetch: false, xDtype: 'f32', gated: false },
  { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1, subgroups: 4, xDtype: 'f16', gated: true },
  { bm: 128, bn: 128, bk: 32, wm: 2, stages: 2, subgroups: 4, prefetch: false, xDtype: 'f32', gated: true },
  { bm: 64, bn: 128, bk: 64, wm: 2, stages: 1, subgroups: 4, prefetch: false, xDtype: 'f16', gated: false },
  { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1, rotateStores: true, xDtype: 'f32', gated: true },
  { bm: 128, bn: 256, bk: 32, wm: 2, stages: 1, rotateStores: true, xDtype: 'f16', gated: false },
];

async function compileErrors(code: string): Promise<string[]> {
  ctx.device.pushErrorScope('validation');
  const module = ctx.device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  await ctx.device.popErrorScope();
  return info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
}

describe.skipIf(!f16 || !ctx.features.subgroups)(
  'dense matmul on matrix units: WGSL compiles with stand-in builtins',
  () => {
    for (const c of sgmatConfigs) {
      it(`${c.bm}×${c.bn}×${c.bk} wm ${c.wm} stages ${c.stages} x ${c.xDtype}${c.gated ? ' gated' : ''}`, async () => {
        expect(denseSgmatTilesProblem(c, c.gated, 49152)).toBe(''); // all fit the H100's 48 KiB
        const code = stubSubgroupMatrix(denseSgmatWgsl(c));
        expect(code).not.toMatch(/subgroup_matrix|subgroupMatrix/);
        expect(await compileErrors(code)).toEqual([]);
      });
    }
    it('4 subgroups: a 128-invocation workgroup and 4 scratch blocks; no prefetch: no registers loaded ahead', () => {
      const four = denseSgmatWgsl(sgmatConfigs[9]);
      expect(four).toMatch(/@workgroup_size\(128\)/);
      expect(four).toMatch(/sC: array<array<f32, 256>, 4>/);
      const eight = denseSgmatWgsl(sgmatConfigs[6]);
      expect(eight).toMatch(/@workgroup_size\(256\)/);
      // with prefetch the loop loads slice s + 1 ahead; without, slice s right before storing it
      expect(eight).toMatch(/let k0 = \(s \+ 1u\) \* 64u;/);
      expect(denseSgmatWgsl(sgmatConfigs[7])).not.toMatch(/\(s \+ 1u\)/);
      expect(denseSgmatWgsl(sgmatConfigs[7])).toMatch(/let k0 = s \* 64u;/);
    });
    it('a broken kernel does not compile (the check can fail)', async () => {
      const code = stubSubgroupMatrix(denseSgmatWgsl(sgmatConfigs[0])).replace(
        'let sgN = sg %',
        'let sgN = 1.5 *',
      );
      expect((await compileErrors(code)).length).toBeGreaterThan(0);
    });
    it('the register-tiled WGSL of every dtype pair compiles', async () => {
      for (const xDtype of ['f32', 'f16'] as GpuDtype[])
        for (const wDtype of ['f32', 'f16'] as GpuDtype[])
          expect(await compileErrors(denseTiledWgsl({ xDtype, wDtype, gated: true }))).toEqual([]);
    });
  },
);

// The matrix-unit kernel run through the emulated builtins (./sgmat-emulate.ts). Every emulated
// pipeline costs lavapipe ~20 s of LLVM compilation, so seven configurations, each with its own case,
// cover every option between them on tiles that fit lavapipe's 32 KiB of workgroup memory: one or
// two buffers, 32- and 64-deep slices, 1, 2 and 4 row groups, 8 and 4 subgroups, with and without
// prefetch and rotated stores, f16 and f32 x, f32 and f16 y, and every epilogue (bias, accumulate, SiLU gate, soft
// cap, column offset), with partial row, column and depth tiles.
const EMULATED: { tiles: DenseSgmatTiles; c: Case }[] = [
  {
    tiles: { bm: 128, bn: 128, bk: 32, wm: 2, stages: 1 },
    c: { M: 37, N: 45, K: 72, x: 'f16', w: 'f16', bias: true, accumulate: true },
  },
  {
    tiles: { bm: 64, bn: 64, bk: 32, wm: 4, stages: 2, rotateStores: true },
    c: { M: 130, N: 40, K: 40, x: 'f32', w: 'f16', gate: true, bias: true, softcap: 3 },
  },
  {
    tiles: { bm: 64, bn: 64, bk: 64, wm: 2, stages: 1, subgroups: 4, prefetch: false, rotateStores: true },
    c: { M: 20, N: 30, K: 136, x: 'f32', w: 'f16', nOff: 5, ldy: 40, accumulate: true, gate: true },
  },
  {
    tiles: { bm: 64, bn: 64, bk: 32, wm: 2, stages: 2, prefetch: false },
    c: { M: 70, N: 150, K: 24, x: 'f16', w: 'f16', bias: true },
  },
  // the smallest tiles of chooseDenseTiles (short prompts): one 16 × 32 block pair per subgroup;
  // an f16 y (the x of a next matmul) with the gate
  {
    tiles: { bm: 32, bn: 64, bk: 64, wm: 2, stages: 1, subgroups: 4 },
    c: { M: 45, N: 70, K: 136, x: 'f16', w: 'f16', bias: true, accumulate: true },
  },
  {
    tiles: { bm: 32, bn: 64, bk: 64, wm: 2, stages: 1, subgroups: 4 },
    c: { M: 40, N: 50, K: 72, x: 'f16', w: 'f16', gate: true, bias: true, y: 'f16' },
  },
  // decode-sized: 16-row tiles, one row group
  {
    tiles: { bm: 16, bn: 128, bk: 64, wm: 1, stages: 1, subgroups: 4, rotateStores: true },
    c: { M: 8, N: 140, K: 200, x: 'f32', w: 'f16', gate: true, accumulate: true },
  },
];

/** Runs case `c` on the emulated kernel (told depth `K`); returns max |Δ| / max |reference|. */
async function runEmulated(t: DenseSgmatTiles, c: Case, K = c.K) {
  const gated = !!c.gate;
  const { x, w, bias, y0, ldy, g, release } = caseInputs(c);
  const config = { ...t, xDtype: c.x, gated, yDtype: c.y };
  const pipeline = ctx.pipeline(
    `emulated:${denseSgmatKey(config)}`,
    () => emulateSubgroupMatrix(denseSgmatWgsl(config)),
    DENSE_LAYOUT,
  );
  const call = {
    M: c.M,
    N: c.N,
    K,
    ldy,
    nOff: c.nOff ?? 0,
    accumulate: !!c.accumulate,
    softcap: c.softcap ?? 0,
    gated,
  };
  const batch = ctx.batch();
  dispatchDense(ctx, batch, pipeline, g, call, t.bm, t.bn, 'emulated dense matmul');
  batch.submit();
  const got = await ctx.read(g.y);
  release();
  // the matrix path rounds an f32 x to f16 as it stages it
  return relToLargest(got, reference(c, round(x, 'f16'), w, bias, y0));
}

describe.skipIf(!f16)('dense matmul on matrix units, run with emulated builtins (lavapipe)', () => {
  for (const { tiles, c } of EMULATED) {
    it(`${formatDenseTiles(tiles)}: ${name(c)}`, { timeout: 180_000 }, async () => {
      expect(denseSgmatTilesProblem(tiles, !!c.gate, ctx.limits.maxComputeWorkgroupStorageSize)).toBe('');
      // as the register-tiled cases: f32 sums of exact f16 products, ~1e-6 relative (an f16 y adds
      // its rounding, 2⁻¹¹ of each value); an indexing, staging or epilogue error is O(1)
      expect(await runEmulated(tiles, c)).toBeLessThan(c.y === 'f16' ? 1e-3 : 1e-4);
    });
  }
  it('the check can fail: the same pipeline told a shorter depth is far off', {
    timeout: 180_000,
  }, async () => {
    const { tiles, c } = EMULATED[0];
    expect(await runEmulated(tiles, c, c.K - 8)).toBeGreaterThan(1e-2);
  });
});

/**
 * Evaluates `let name = expr;` lines of generated WGSL (u32 arithmetic: BigInt, whose `/`
 * truncates) for given builtins: the staging addresses exactly as the kernel computes them.
 */
function wgslLets(code: string, builtins: Record<string, number>): Record<string, number> {
  const env: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(builtins)) env[k] = BigInt(v);
  for (const m of code.matchAll(/^\s*let (\w+) = ([^;]+);$/gm)) {
    const expr = m[2].replace(/\b(\d+)u\b/g, '$1n');
    if (!/^[\w\s()+\-*/%&]+$/.test(expr)) continue; // calls, selects, vectors: not addresses
    try {
      env[m[1]] = new Function(...Object.keys(env), `return ${expr};`)(...Object.values(env)) as bigint;
    } catch {
      // refers to something not evaluated here (P.…, loop variables)
    }
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, Number(v)]));
}

describe('dense matmul staging stores: bank conflicts, from the generated addresses', () => {
  // 32 lanes of one warp store one f16 each per store instruction; a bank is 4 bytes (2 f16), 32 banks
  const banksPerStore = (t: DenseSgmatTiles, p: 'x' | 'w') => {
    const code = denseSgmatWgsl({ ...t, xDtype: 'f16', gated: false });
    const S = t.bk + 8;
    const counts: number[] = [];
    for (let ins = 0; ins < 8; ins++) {
      const banks = new Set<number>();
      for (let lane = 0; lane < 32; lane++) {
        const v = wgslLets(code, { lid: 32 + lane }); // the second warp, unit 0
        const row = v[`${p}Row0`];
        const block = Math.floor(row / 16) * 16 * S; // 16-row blocks: 576 words, a multiple of 32 banks
        const half = t.rotateStores
          ? v[`${p}O0_${ins >> 1}`] + (ins & 1) // pair ins/2 of the rotation, then its two halves
          : (row % 16) * S + v[`${p}K0`] + ins; // element ins of the 8 in a row
        banks.add(Math.floor((block + half) / 2) % 32);
      }
      counts.push(banks.size);
    }
    return counts;
  };
  it('8 banks per store (4-way conflicts) as the f16 are stored in order; 32 when rotated', () => {
    for (const tiles of [
      { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1 as const },
      { bm: 128, bn: 256, bk: 32, wm: 2, stages: 1 as const },
    ]) {
      for (const p of ['x', 'w'] as const) {
        expect(banksPerStore(tiles, p), `${formatDenseTiles(tiles)} ${p}`).toEqual(Array(8).fill(8));
        expect(
          banksPerStore({ ...tiles, rotateStores: true }, p),
          `${formatDenseTiles(tiles)} ${p} rotated`,
        ).toEqual(Array(8).fill(32));
      }
    }
  });
});

describe('selection rule and arguments', () => {
  const h100 = {
    shaderF16: true,
    subgroups: true,
    subgroupMatrix: true,
    subgroupMinSize: 32,
    subgroupMaxSize: 32,
    subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 }],
  };
  const fake = withLimits(Object.create(ctx, { features: { value: { ...ctx.features, ...h100 } } }), {
    maxComputeWorkgroupStorageSize: 49152,
  });

  it('matrix units for f16 weights and K a multiple of 8 on adapters with subgroup matrices; else register-tiled', () => {
    const o = { wDtype: 'f16' as const, M: 2048, N: 12304, K: 4096 };
    expect(denseMatmulPath(fake, o)).toBe('matrix');
    expect(denseMatmulPath(fake, { ...o, gated: true })).toBe('matrix');
    expect(denseMatmulPath(fake, { ...o, wDtype: 'f32' })).toBe('tiled');
    expect(denseMatmulPath(fake, { ...o, K: 4100 })).toBe('tiled');
    expect(denseMatmulPath(ctx, o)).toBe(
      ctx.features.subgroupMatrix && ctx.features.subgroupMinSize === 32 ? 'matrix' : 'tiled',
    );
    // an odd number of column blocks per subgroup cannot pair gate and up blocks
    expect(
      denseMatmulPath(fake, { ...o, gated: true, tiles: { bm: 128, bn: 64, bk: 32, wm: 2, stages: 2 } }),
    ).toBe('tiled');
  });
  it('matrix units with f32 x: a conversion pass into a scratch f16 x first, unless castX is false', async () => {
    // the fake adapter's matrix pipeline cannot compile here: its errors stay inside the scopes
    const [M, N, K] = [40, 48, 64];
    const x = ctx.upload(new Float32Array((M + 3) * K), [M + 3, K]); // more rows than M: a subview is cast
    const w = ctx.empty([N, K], f16 ? 'f16' : 'f32');
    const y = ctx.empty([M, N]);
    for (const castX of [true, false]) {
      const live = ctx.pool.stats.liveBytes;
      ctx.device.pushErrorScope('validation');
      ctx.device.pushErrorScope('internal');
      const batch = fake.batch();
      const path = encodeDenseMatmul(fake, batch, { x, w, y, M, castX });
      expect(path).toBe(f16 ? 'matrix' : 'tiled');
      if (f16) {
        expect(batch.size).toBe(castX ? 2 : 1);
        expect(ctx.pool.stats.liveBytes > live).toBe(castX);
      }
      batch.submit();
      await ctx.device.popErrorScope();
      await ctx.device.popErrorScope();
      expect(ctx.pool.stats.liveBytes).toBe(live); // the scratch x went back with the submit
    }
    if (f16) {
      // a caller's buffer instead of the scratch: no allocation; a wrong one is refused
      const into = ctx.empty([M * K + 5], 'f16');
      const live = ctx.pool.stats.liveBytes;
      ctx.device.pushErrorScope('validation');
      ctx.device.pushErrorScope('internal');
      const batch = fake.batch();
      encodeDenseMatmul(fake, batch, { x, w, y, M, castInto: into });
      expect(batch.size).toBe(2);
      expect(ctx.pool.stats.liveBytes).toBe(live);
      batch.submit();
      await ctx.device.popErrorScope();
      await ctx.device.popErrorScope();
      expect(() => encodeDenseMatmul(fake, fake.batch(), { x, w, y, M, castInto: x })).toThrow(
        KernelArgumentError,
      );
      into.release();
    }
    for (const t of [x, w, y]) t.release();
  });
  it('the default tiles: 64-deep slices in 48 KiB, 32-deep in 32 KiB', () => {
    const t48 = heuristics.chooseDenseTiles(2048, 4096, {
      maxComputeWorkgroupStorageSize: 49152,
      maxComputeInvocationsPerWorkgroup: 1024,
    });
    expect(t48).toEqual({ bm: 128, bn: 128, bk: 64, wm: 2, stages: 1 });
    expect(denseSgmatTilesProblem(t48, true, 49152)).toBe('');
    const t32 = heuristics.chooseDenseTiles(2048, 4096, {
      maxComputeWorkgroupStorageSize: 32768,
      maxComputeInvocationsPerWorkgroup: 1024,
    });
    expect(t32.bk).toBe(32);
    expect(denseSgmatTilesProblem(t32, true, 32768)).toBe('');
  });
  it('few rows: the tiles shrink until the call has enough workgroups (xLSTM-7B shapes)', () => {
    const lim = (bytes: number) => ({
      maxComputeWorkgroupStorageSize: bytes,
      maxComputeInvocationsPerWorkgroup: 1024,
    });
    // [M, N, gated, tiles]: the 7B widths (proj 12 304, out_proj / down 4 096, FFN 10 944 gated,
    // lm_head 50 304); workgroups = ⌈M / bm⌉ · ⌈N / output columns per tile⌉
    const cases: [number, number, boolean, string][] = [
      // 128 × 128 (16 × 128, 32 × 128 for few rows) unless under 64 workgroups; then the first
      // candidate with 256, or the one with the most
      [1, 4096, false, '16x64x64:wm1:s1:sg4'], // 16 × 128: 32; 16 × 64: 64, the most
      [1, 4096, true, '16x128x64:wm1:s1:sg4'], // gated: 64 output columns per tile, 64 workgroups
      [1, 50304, true, '16x128x64:wm1:s1:sg4'], // 786
      [16, 50304, false, '16x128x64:wm1:s1:sg4'], // 393
      [17, 4096, false, '32x64x64:wm2:s1:sg4'], // 32 × 128: 32; 32 × 64: 64
      [32, 12304, false, '32x128x64:wm2:s1:sg4'], // 97
      [128, 12304, false, '128x128x64:wm2:s1'], // 97: kept (smaller tiles were slower on the H100)
      [128, 4096, false, '32x64x64:wm2:s1:sg4'], // 128 × 128: 32 → 256 (0.43 → 0.24 ms on the H100)
      [128, 10944, true, '128x128x64:wm2:s1'], // 171
      [512, 12304, false, '128x128x64:wm2:s1'], // 388
      [512, 4096, false, '128x128x64:wm2:s1'], // 128
      [2048, 4096, false, '128x128x64:wm2:s1'], // 512
      [2048, 10944, true, '128x128x64:wm2:s1'], // 2 736
    ];
    for (const [M, N, gated, want] of cases) {
      const t = heuristics.chooseDenseTiles(M, N, lim(49152), gated);
      expect(formatDenseTiles(t), `M ${M} N ${N}${gated ? ' gated' : ''}`).toBe(want);
      expect(denseSgmatTilesProblem(t, gated, 49152)).toBe('');
      // 32 KiB (lavapipe): the same shapes with 32-deep slices where 64 do not fit, always valid
      const t32 = heuristics.chooseDenseTiles(M, N, lim(32768), gated);
      expect(denseSgmatTilesProblem(t32, gated, 32768), `M ${M} N ${N} in 32 KiB`).toBe('');
      expect([t32.bm, t32.bn]).toEqual([t.bm, t.bn]);
      // 16 KiB, the WebGPU minimum: the smallest candidates fit with 32-deep slices
      const t16 = heuristics.chooseDenseTiles(M, N, lim(16384), gated);
      expect(denseSgmatTilesProblem(t16, gated, 16384), `M ${M} N ${N} in 16 KiB`).toBe('');
    }
    expect([heuristics.DENSE_SHRINK_BELOW, heuristics.DENSE_FILL_WORKGROUPS]).toEqual([64, 256]);
  });
  it('tiles with a subgroup count other than 4 or 8, or more row groups than subgroups, are refused', () => {
    const t = { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1 as const };
    expect(denseSgmatTilesProblem({ ...t, subgroups: 16 as 8 }, false, 49152)).toMatch(/subgroups 16/);
    expect(denseSgmatTilesProblem({ ...t, subgroups: 4, wm: 8 }, false, 49152)).toMatch(/wm 8/);
    // 4 subgroups (128 invocations) stage a 32 × 32 slice in one 16-byte load each; 8 could not
    const small = { ...t, bm: 32, bn: 64, bk: 32, wm: 2 };
    expect(denseSgmatTilesProblem({ ...small, subgroups: 4 }, false, 49152)).toBe('');
    expect(denseSgmatTilesProblem(small, false, 49152)).toMatch(/16-byte loads/);
    expect(
      denseMatmulPath(fake, { wDtype: 'f16', M: 64, N: 64, K: 64, tiles: { ...t, subgroups: 16 as 8 } }),
    ).toBe('tiled');
  });
  it("the context's tuning.denseTiles is used where a call passes no tiles; validated; as text both ways", () => {
    // 128 × 64 tiles over 2 × 4 subgroups: one gated column block per subgroup, so a gated call
    // cannot use them and takes the register tiles — visible in the path
    const odd: DenseSgmatTiles = { bm: 128, bn: 64, bk: 32, wm: 2, stages: 2 };
    const tuned = Object.create(fake, {
      tuning: { value: resolveTuning(fake.tuning, { denseTiles: odd }, 'test') },
    }) as typeof fake;
    const o = { wDtype: 'f16' as const, M: 2048, N: 4096, K: 4096, gated: true };
    expect(denseMatmulPath(fake, o)).toBe('matrix');
    expect(denseMatmulPath(tuned, o)).toBe('tiled');
    expect(denseMatmulPath(tuned, { ...o, tiles: DENSE_SGMAT_DEFAULT })).toBe('matrix'); // the call's own first
    expect(() => resolveTuning(fake.tuning, { denseTiles: { bm: 0 } as never }, 'test')).toThrow(
      /tuning\.denseTiles/,
    );
    expect(() => resolveTuning(fake.tuning, { denseTiles: { ...odd, subgroups: 16 as 8 } }, 'test')).toThrow(
      KernelArgumentError,
    );
    for (const t of [
      DENSE_SGMAT_DEFAULT,
      { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1 as const, rotateStores: true },
      {
        bm: 64,
        bn: 64,
        bk: 32,
        wm: 2,
        stages: 2 as const,
        subgroups: 4 as const,
        prefetch: false,
        rotateStores: true,
      },
    ])
      expect(parseDenseTiles(formatDenseTiles(t))).toEqual(t);
    expect(formatDenseTiles({ ...odd, subgroups: 4, prefetch: false, rotateStores: true })).toBe(
      '128x64x32:wm2:s2:sg4:nopf:rot',
    );
    expect(() => parseDenseTiles('128x128:wm2')).toThrow(/denseTiles/);
  });
  it('typed errors name the argument, before any GPU work', () => {
    const x = ctx.upload(new Float32Array(12), [3, 4]);
    const w = ctx.upload(new Float32Array(20), [5, 4]);
    const y = ctx.upload(new Float32Array(15), [3, 5]);
    const short = ctx.upload(new Float32Array(2), [2]);
    const batch = ctx.batch();
    const bad: [string, () => unknown][] = [
      ['w', () => encodeDenseMatmul(ctx, batch, { x, w, y, K: 3 })],
      ['x', () => encodeDenseMatmul(ctx, batch, { x, w, y, M: 4 })],
      ['y', () => encodeDenseMatmul(ctx, batch, { x, w, y, ldy: 6 })],
      ['ldy', () => encodeDenseMatmul(ctx, batch, { x, w, y, nOff: 1 })],
      ['w', () => encodeDenseMatmul(ctx, batch, { x, w, y, gate: 'silu', N: 5 })],
      ['softcap', () => encodeDenseMatmul(ctx, batch, { x, w, y, softcap: -1 })],
      ['path', () => encodeDenseMatmul(ctx, batch, { x, w, y, path: 'matrix' })],
      ['bias', () => encodeDenseMatmul(ctx, batch, { x, w, y, bias: short })],
    ];
    for (const [arg, call] of bad) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err, arg).toBeInstanceOf(KernelArgumentError);
      expect((err as KernelArgumentError).argument).toBe(arg);
    }
    expect(batch.size).toBe(0);
    for (const t of [x, w, y, short]) t.release();
  });
});
