/**
 * GPU test project of the f16 matrix-unit (subgroup-matrix) TFLA path: run on a GPU with subgroup
 * matrices (the H100), bundled into one .mjs (`pnpm bundle:test-gpu`; Node's built-in test runner,
 * since vitest cannot be bundled — see the package README).
 *
 * 1. The matrix path must be the one selected and running (the probe compiled, the plan says so):
 *    otherwise this fails at once and registers nothing else (on lavapipe, by design).
 * 2. Every case runs forward and backward on the matrix units and is compared with core-reference
 *    (float64, on the f16-rounded inputs) and with the register-tiled path (`subgroupMatrix:
 *    false`, same inputs): DHQK 64/128/256, DHHV 128/256/512, chunk 64/128/256, with and without
 *    initial states and dC_last, forced scan segments and both scan forms, xl_chunk, limit_chunk,
 *    siging (normalised or not) and the parallel kernel, f16 and f32 computed in f16.
 * 3. More than 65 535 heads on the matrix path, sampled heads against the reference.
 * 4. A forced probe failure (`matrixProbeWgsl` breaks the shader): the context records why and
 *    the calls run the register-tiled path, correctly.
 * 5. The dense matmul on the matrix units, every tile option (subgroups, prefetch, stages, tile
 *    shapes), on odd shapes with every epilogue and an f16 y, against a float64 CPU product.
 * 6. The chunkwise forward encoded into a caller's batch (`encodeMlstmChunkwiseXlChunk`, what the
 *    model's prefill uses) on the matrix units at the xLSTM-7B head shape: the same bits as the
 *    async call, and within the matrix tolerance of the reference.
 *
 * No test is ever skipped; the process exits non-zero on any failure (node:test sets the exit
 * code), and the last line is a summary: `gpu-tests: N passed, N failed, 0 skipped (…)`.
 *
 *   node matrix-path.gpu.mjs
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  mlstmChunkwise,
  mlstmChunkwiseBackward,
  mlstmParallel,
  mlstmParallelBackward,
  mlstmSigChunkwise,
  mlstmSigChunkwiseBackward,
  type Tensor,
} from '@mlstm/core-reference';
import { Rng } from '@mlstm/core-reference/testing';
import {
  type BackwardFn,
  type DenseSgmatTiles,
  denseMatmulPath,
  encodeDenseMatmul,
  encodeMlstmChunkwiseXlChunk,
  type ExecutionPlan,
  formatDenseTiles,
  type ForwardFn,
  type GpuTensor,
  getGpuContext,
  type KernelFamily,
  type KernelTuning,
  LIMIT_CHUNK,
  LIMIT_HEADDIM,
  ensureMatrixProbe,
  explainPlan,
  mlstmChunkwiseLimitChunk,
  mlstmChunkwiseLimitChunkBackward,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  mlstmParallelLimitHeaddim,
  mlstmParallelLimitHeaddimBackward,
  mlstmSigChunkwiseXlChunk,
  mlstmSigChunkwiseXlChunkBackward,
  releaseSaved,
  XL_CHUNK,
  XL_CHUNK_SIGING,
} from '../src/index.js';
import { type Problem, randomProblem, roundedToF16 } from '../test/tfla-helpers.js';
import { MATRIX_TOL, PATHS_TOL } from './tolerances.js';

type Family = 'xl_chunk' | 'limit_chunk' | 'siging' | 'parallel';
const FAMILIES: Record<Family, { fam: KernelFamily; fw: ForwardFn; bw: BackwardFn }> = {
  xl_chunk: { fam: XL_CHUNK, fw: mlstmChunkwiseXlChunk, bw: mlstmChunkwiseXlChunkBackward },
  limit_chunk: { fam: LIMIT_CHUNK, fw: mlstmChunkwiseLimitChunk, bw: mlstmChunkwiseLimitChunkBackward },
  siging: { fam: XL_CHUNK_SIGING, fw: mlstmSigChunkwiseXlChunk, bw: mlstmSigChunkwiseXlChunkBackward },
  parallel: { fam: LIMIT_HEADDIM, fw: mlstmParallelLimitHeaddim, bw: mlstmParallelLimitHeaddimBackward },
};

let lastPlan: ExecutionPlan | null = null;
const ctx = await getGpuContext({ onPlan: (p) => (lastPlan = p) });
console.log(ctx.describe());

let passed = 0;
let failed = 0;
const errors: Record<string, number>[] = [];
/** A test whose outcome the summary line counts (node:test reports it too). */
function check(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    try {
      await fn();
      passed++;
    } catch (e) {
      failed++;
      throw e;
    }
  });
}
after(() => {
  console.log(JSON.stringify({ errors }));
  console.log(
    `gpu-tests: ${passed} passed, ${failed} failed, 0 skipped (${ctx.adapterInfo.vendor} ${ctx.adapterInfo.architecture} ${ctx.adapterInfo.description}; matrix path ${ctx.matrixPath.state})`,
  );
});

/** max |actual − expected| / max |expected| (NaN and ∞ count as failures). */
function relErr(actual: Tensor, expected: Tensor): number {
  let m = 0;
  let e = 0;
  for (let x = 0; x < expected.data.length; x++) {
    m = Math.max(m, Math.abs(expected.data[x]));
    const d = Math.abs(actual.data[x] - expected.data[x]);
    e = Number.isFinite(actual.data[x]) ? Math.max(e, d) : Number.POSITIVE_INFINITY;
  }
  assert.equal(actual.data.length, expected.data.length, 'sizes differ');
  return e / Math.max(m, 1e-30);
}

function within(label: string, actual: Tensor, expected: Tensor, tol: number, seen: Record<string, number>) {
  const r = relErr(actual, expected);
  seen[label] = Number(r.toExponential(2));
  assert.ok(r <= tol, `${label}: max |Δ| / max |expected| = ${r.toExponential(3)} > ${tol}`);
}

// ---------------------------------------------------------------------------------------------
// 1. The matrix path is the one selected and running

const status = await ensureMatrixProbe(ctx);
const probeShape = { B: 1, NH: 2, S: 256, DHQK: 64, DHHV: 128 };
const probePlan = explainPlan(ctx, XL_CHUNK, probeShape, { dtype: 'f16', chunkSize: 128 });
check(
  'the matrix-unit path is selected (probe compiled, plan) and running (its state stack is written)',
  async () => {
    assert.equal(
      status.state,
      'ready',
      `the matrix path is not available on this adapter (${status.state}: ${status.reason}). This project needs a GPU with subgroup matrices (f16→f32 16×16×16, 32-lane subgroups); it fails on lavapipe by design.`,
    );
    assert.equal(
      probePlan.path,
      'matrix-units',
      `the plan does not take the matrix units: ${probePlan.reason}`,
    );
    // running: a forward that keeps its saved tensors leaves the matrix path's f16 state stack
    const p = roundedToF16(randomProblem(new Rng(1), probeShape));
    const up = (t: Tensor) => ctx.upload(t.data, t.shape, 'f16');
    const g = {
      q: up(p.x.q),
      k: up(p.x.k),
      v: up(p.x.v),
      i: ctx.upload(p.x.i.data, p.x.i.shape),
      f: ctx.upload(p.x.f.data, p.x.f.shape),
    };
    const fw = await mlstmChunkwiseXlChunk(ctx, { ...g, chunkSize: 128, keepSaved: true });
    assert.ok(fw.saved?.groups[0].data.states16, 'the forward did not write the matrix path state stack');
    assert.equal(lastPlan?.path, 'matrix-units');
    within(
      'h',
      { shape: [...fw.h.shape], data: await ctx.read(fw.h) },
      mlstmChunkwise({ ...p.x, chunkSize: 128 }).h,
      MATRIX_TOL.fw,
      {},
    );
    for (const t of [...Object.values(g), fw.h]) t.release();
    releaseSaved(fw.saved!);
  },
);

// the rest only where the matrix path runs (elsewhere the check above has failed, and the run with it)
const matrixRuns = status.state === 'ready' && probePlan.path === 'matrix-units';

// ---------------------------------------------------------------------------------------------
// 2. Cases: matrix path against the reference and against the register-tiled path

interface Case {
  family: Family;
  normalize?: boolean;
  d: { B: number; NH: number; S: number; DHQK: number; DHHV: number };
  chunk: number;
  states?: boolean;
  dcLast?: boolean;
  /** f32 inputs computed in f16 (`computeDtype: 'f16'`) instead of f16 inputs */
  computeF16?: boolean;
  tuning?: KernelTuning;
  /** the scan the plan must show */
  scan?: 'carrying' | 'products+carry' | 'none';
  segments?: number;
}

const cases: Case[] = [
  { family: 'xl_chunk', d: { B: 1, NH: 2, S: 256, DHQK: 64, DHHV: 128 }, chunk: 64 },
  {
    family: 'xl_chunk',
    d: { B: 2, NH: 1, S: 256, DHQK: 128, DHHV: 256 },
    chunk: 128,
    states: true,
    dcLast: true,
  },
  { family: 'xl_chunk', d: { B: 1, NH: 1, S: 256, DHQK: 256, DHHV: 512 }, chunk: 256, states: true },
  {
    family: 'xl_chunk',
    d: { B: 1, NH: 1, S: 512, DHQK: 128, DHHV: 128 },
    chunk: 64,
    states: true,
    dcLast: true,
    tuning: { scan: 'carrying', scanSegments: 4, scanTileX: 128 },
    scan: 'carrying',
    segments: 4,
  },
  {
    family: 'xl_chunk',
    d: { B: 1, NH: 2, S: 256, DHQK: 64, DHHV: 256 },
    chunk: 128,
    dcLast: true,
    tuning: { scan: 'products' },
    scan: 'products+carry',
  },
  {
    family: 'xl_chunk',
    d: { B: 1, NH: 2, S: 192, DHQK: 128, DHHV: 256 },
    chunk: 64,
    states: true,
    computeF16: true,
  },
  {
    family: 'xl_chunk',
    d: { B: 1, NH: 1, S: 256, DHQK: 256, DHHV: 256 },
    chunk: 64,
    dcLast: true,
    computeF16: true,
    tuning: { scan: 'carrying', scanSegments: 2 },
    scan: 'carrying',
    segments: 2,
  },
  {
    family: 'limit_chunk',
    d: { B: 1, NH: 2, S: 192, DHQK: 64, DHHV: 128 },
    chunk: 64,
    states: true,
    dcLast: true,
  },
  { family: 'limit_chunk', d: { B: 2, NH: 1, S: 128, DHQK: 128, DHHV: 128 }, chunk: 64, computeF16: true },
  { family: 'siging', d: { B: 1, NH: 2, S: 256, DHQK: 128, DHHV: 256 }, chunk: 128, states: true },
  {
    family: 'siging',
    normalize: false,
    d: { B: 1, NH: 1, S: 256, DHQK: 64, DHHV: 512 },
    chunk: 64,
    dcLast: true,
    tuning: { scan: 'carrying', scanSegments: 2 },
    scan: 'carrying',
    segments: 2,
  },
  {
    family: 'siging',
    normalize: false,
    d: { B: 1, NH: 1, S: 256, DHQK: 256, DHHV: 128 },
    chunk: 256,
    states: true,
    computeF16: true,
  },
  { family: 'parallel', d: { B: 1, NH: 2, S: 192, DHQK: 64, DHHV: 128 }, chunk: 192, scan: 'none' },
  {
    family: 'parallel',
    d: { B: 1, NH: 1, S: 128, DHQK: 128, DHHV: 256 },
    chunk: 128,
    computeF16: true,
    scan: 'none',
  },
];

function reference(c: Case, p: Problem) {
  const common = { ...p.x, ...(p.states ?? {}), eps: 1e-6 };
  if (c.family === 'parallel')
    return {
      h: mlstmParallel(common).h,
      last: undefined,
      grads: mlstmParallelBackward({ ...common, dh: p.dh }) as unknown as Record<string, Tensor>,
    };
  if (c.family === 'siging') {
    const normalize = c.normalize ?? true;
    const fw = mlstmSigChunkwise({ ...common, chunkSize: c.chunk, returnLastStates: true, normalize });
    const bw = mlstmSigChunkwiseBackward({
      ...common,
      chunkSize: c.chunk,
      dh: p.dh,
      dcLast: p.dcLast,
      normalize,
    });
    return {
      h: fw.h,
      last: fw.lastStates as unknown as Record<string, Tensor>,
      grads: bw as unknown as Record<string, Tensor>,
    };
  }
  const fw = mlstmChunkwise({ ...common, chunkSize: c.chunk, returnLastStates: true });
  const bw = mlstmChunkwiseBackward({ ...common, chunkSize: c.chunk, dh: p.dh, dcLast: p.dcLast });
  return {
    h: fw.h,
    last: fw.lastStates as unknown as Record<string, Tensor>,
    grads: bw as unknown as Record<string, Tensor>,
  };
}

function caseName(c: Case): string {
  const d = c.d;
  return `${c.family}${c.normalize === false ? ' (no normalize)' : ''} B${d.B} NH${d.NH} S${d.S} QK${d.DHQK} V${d.DHHV} L${c.chunk}${c.states ? ' +states' : ''}${c.dcLast ? ' +dcLast' : ''}${c.computeF16 ? ' f32 computed in f16' : ' f16'}${c.tuning ? ` tuning ${JSON.stringify(c.tuning)}` : ''}`;
}

for (const [n, c] of matrixRuns ? cases.entries() : []) {
  check(`${caseName(c)}: matrix units vs float64 reference and vs register tiles, fw + bw`, async () => {
    const F = FAMILIES[c.family];
    const chunked = c.family !== 'parallel';
    const raw = randomProblem(new Rng(100 + n), c.d, { states: c.states, dcLast: c.dcLast });
    const p = roundedToF16(raw);
    const ref = reference(c, p);
    const io = c.computeF16 ? { computeDtype: 'f16' as const } : { dtype: 'f16' as const };
    // f32 inputs computed in f16: the GPU rounds them as roundedToF16 did (round to nearest even)
    const x = c.computeF16 ? raw : p;
    const args = {
      ...x.x,
      ...(x.states ?? {}),
      ...(chunked ? { chunkSize: c.chunk, returnLastStates: true } : {}),
      ...(c.family === 'siging' ? { normalize: c.normalize ?? true } : {}),
      ...io,
      tuning: c.tuning,
    };
    const plan = explainPlan(ctx, F.fam, c.d, args);
    assert.equal(plan.path, 'matrix-units', `plan: ${plan.reason}`);
    if (c.scan) assert.equal(plan.scan.kind, c.scan, JSON.stringify(plan.scan));
    if (c.segments)
      assert.deepEqual(plan.scan, {
        kind: 'carrying',
        tileX: (plan.scan as { tileX: number }).tileX,
        segments: c.segments,
      });
    const seen: Record<string, number> = { case: n };
    const fw = await F.fw(ctx, args);
    assert.equal(lastPlan?.path, 'matrix-units', 'the forward did not run on the matrix units');
    const fwReg = await F.fw(ctx, { ...args, subgroupMatrix: false });
    assert.equal(lastPlan?.path, 'register-tiles');
    within('h', fw.h, ref.h, MATRIX_TOL.fw, seen);
    within('h vs register', fw.h, fwReg.h, PATHS_TOL.fw, seen);
    if (ref.last) {
      for (const k of c.family === 'siging' ? (['c', 'n'] as const) : (['c', 'n', 'm'] as const)) {
        within(`last ${k}`, fw.lastStates![k]!, ref.last[k], MATRIX_TOL.fw, seen);
        within(`last ${k} vs register`, fw.lastStates![k]!, fwReg.lastStates![k]!, PATHS_TOL.fw, seen);
      }
    }
    const bargs = { ...args, dh: c.computeF16 ? raw.dh : p.dh, dcLast: x.dcLast };
    const bw = await F.bw(ctx, bargs);
    assert.equal(lastPlan?.path, 'matrix-units', 'the backward did not run on the matrix units');
    const bwReg = await F.bw(ctx, { ...bargs, subgroupMatrix: false });
    for (const k of ['dq', 'dk', 'dv', 'di', 'df', 'dcInitial'] as const) {
      const e = ref.grads[k];
      if (!e) continue;
      const got = (bw as unknown as Record<string, Tensor>)[k];
      within(k, got, e, MATRIX_TOL.bw, seen);
      within(`${k} vs register`, got, (bwReg as unknown as Record<string, Tensor>)[k], PATHS_TOL.bw, seen);
    }
    errors.push(seen);
  });
}

// ---------------------------------------------------------------------------------------------
// 3. More than 65 535 heads on the matrix path (a flat workgroup index over two dimensions)

if (matrixRuns)
  check(
    'B·NH = 65 538 heads on the matrix units: sampled heads vs float64 reference and vs register tiles',
    async () => {
      // S 256 in one chunk of 256: each head has 4 row tiles, so the intra dispatches of a head group
      // (the groups keep each binding under maxStorageBufferBindingSize: ~32 000 heads here) exceed
      // 65 535 workgroups
      const d = { B: 2, NH: 32_769, S: 256, DHQK: 64, DHHV: 128 };
      const L = 256;
      const BNH = d.B * d.NH;
      const rng = new Rng(7);
      // inputs made on the CPU for 4 heads and repeated across all heads (a GPU copy per 4 heads),
      // so that the sampled heads' reference is cheap
      const small = roundedToF16(randomProblem(rng, { ...d, B: 1, NH: 4 }));
      const tile = (t: Tensor, perHead: number, dtype: 'f16' | 'f32') => {
        const out = ctx.empty([d.B, d.NH, ...t.shape.slice(2)], dtype);
        const src = ctx.upload(t.data, t.shape, dtype);
        const headBytes = perHead * (dtype === 'f16' ? 2 : 4);
        const enc = ctx.device.createCommandEncoder();
        for (let h = 0; h < BNH; h += 4)
          enc.copyBufferToBuffer(
            src.buffer,
            src.byteOffset,
            out.buffer,
            out.byteOffset + h * headBytes,
            Math.min(4, BNH - h) * headBytes,
          );
        ctx.device.queue.submit([enc.finish()]);
        src.release();
        return out;
      };
      const q = tile(small.x.q, d.S * d.DHQK, 'f16');
      const k = tile(small.x.k, d.S * d.DHQK, 'f16');
      const v = tile(small.x.v, d.S * d.DHHV, 'f16');
      const i = tile(small.x.i, d.S, 'f32');
      const f = tile(small.x.f, d.S, 'f32');
      const dh = tile(small.dh, d.S * d.DHHV, 'f16');
      const args = { q, k, v, i, f, chunkSize: L };
      assert.equal(explainPlan(ctx, XL_CHUNK, d, { dtype: 'f16', chunkSize: L }).path, 'matrix-units');
      const fw = await mlstmChunkwiseXlChunk(ctx, args);
      assert.equal(lastPlan?.path, 'matrix-units');
      const fwReg = await mlstmChunkwiseXlChunk(ctx, { ...args, subgroupMatrix: false });
      const bw = await mlstmChunkwiseXlChunkBackward(ctx, { ...args, dh });
      const ref = mlstmChunkwise({ ...small.x, chunkSize: L });
      const refB = mlstmChunkwiseBackward({ ...small.x, chunkSize: L, dh: small.dh }) as unknown as Record<
        string,
        Tensor
      >;
      const seen: Record<string, number> = { case: -1 };
      // heads 65 532 … 65 535 (copies of the 4 CPU heads; past the first 65 535 workgroups of every
      // per-head dispatch, so on its second row)
      const last = BNH - 6;
      const head = async (t: GpuTensor, per: number): Promise<Tensor> => ({
        shape: [1, 4, ...t.shape.slice(2)],
        data: await ctx.read(t.subview(last * per, [1, 4, ...t.shape.slice(2)])),
      });
      within('h (last heads)', await head(fw.h, d.S * d.DHHV), ref.h, MATRIX_TOL.fw, seen);
      within(
        'h vs register (last heads)',
        await head(fw.h, d.S * d.DHHV),
        await head(fwReg.h, d.S * d.DHHV),
        PATHS_TOL.fw,
        seen,
      );
      within('dq (last heads)', await head(bw.dq, d.S * d.DHQK), refB.dq, MATRIX_TOL.bw, seen);
      within('dv (last heads)', await head(bw.dv, d.S * d.DHHV), refB.dv, MATRIX_TOL.bw, seen);
      within('df (last heads)', await head(bw.df, d.S), refB.df, MATRIX_TOL.bw, seen);
      errors.push(seen);
      for (const t of [q, k, v, i, f, dh, fw.h, fwReg.h, ...Object.values(bw)]) (t as GpuTensor).release();
      ctx.pool.trim();
    },
  );

// ---------------------------------------------------------------------------------------------
// 4. A forced probe failure falls back to the register-tiled path

if (matrixRuns)
  check(
    'a matrix-path probe that fails (broken shader injected): recorded, and the calls run the register tiles correctly',
    async () => {
      const broken = await getGpuContext({ matrixProbeWgsl: (code) => `${code}\nfn broken( {` });
      try {
        const st = await ensureMatrixProbe(broken);
        assert.equal(st.state, 'failed', JSON.stringify(st));
        console.log(`forced probe failure recorded: ${st.reason.slice(0, 200)}`);
        const d = { B: 1, NH: 2, S: 256, DHQK: 128, DHHV: 256 };
        const plan = explainPlan(broken, XL_CHUNK, d, { dtype: 'f16', chunkSize: 128 });
        assert.equal(plan.path, 'register-tiles');
        assert.match(plan.reason, /probe failed/);
        const p = roundedToF16(randomProblem(new Rng(77), d, { states: true }));
        const args = { ...p.x, ...p.states!, chunkSize: 128, dtype: 'f16' as const };
        const fw = await mlstmChunkwiseXlChunk(broken, args);
        const seen: Record<string, number> = { case: -2 };
        within('h (fallback)', fw.h, mlstmChunkwise(args).h, MATRIX_TOL.fw, seen);
        const bw = await mlstmChunkwiseXlChunkBackward(broken, { ...args, dh: p.dh });
        const refB = mlstmChunkwiseBackward({ ...args, dh: p.dh }) as unknown as Record<string, Tensor>;
        for (const k of ['dq', 'dk', 'dv', 'di'] as const)
          within(`${k} (fallback)`, bw[k], refB[k], MATRIX_TOL.bw, seen);
        errors.push(seen);
      } finally {
        broken.destroy();
      }
    },
  );

// ---------------------------------------------------------------------------------------------
// 5. Dense matmul on the matrix units: every tile option against a float64 CPU product

/**
 * x and W are f16 (the reference uses the same f16 values), products are exact in f32, so what
 * remains is the f32 summation order over K ≤ 520 terms (~K·2⁻²⁴ of the largest partial sum) and
 * the f32 epilogue: ~1e-6 relative. 1e-4 leaves two orders of magnitude; a wrong tile, a dropped
 * slice or a misplaced column is O(1).
 */
const DENSE_TOL = 1e-4;
const DENSE_TILES: (DenseSgmatTiles | undefined)[] = [
  undefined, // the heuristics' choice
  { bm: 128, bn: 128, bk: 32, wm: 2, stages: 2 },
  { bm: 128, bn: 256, bk: 32, wm: 2, stages: 1 },
  { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1, prefetch: false },
  { bm: 128, bn: 128, bk: 32, wm: 2, stages: 2, prefetch: false },
  { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1, subgroups: 4 },
  { bm: 128, bn: 128, bk: 64, wm: 4, stages: 1, subgroups: 4 },
  { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1, subgroups: 4, prefetch: false },
  { bm: 128, bn: 128, bk: 32, wm: 2, stages: 2, subgroups: 4, prefetch: false },
  { bm: 64, bn: 128, bk: 64, wm: 2, stages: 1, subgroups: 4, prefetch: false },
  { bm: 128, bn: 64, bk: 64, wm: 2, stages: 1, subgroups: 4, prefetch: false },
  { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1, rotateStores: true },
  { bm: 128, bn: 256, bk: 32, wm: 2, stages: 1, rotateStores: true },
  { bm: 128, bn: 128, bk: 32, wm: 2, stages: 2, rotateStores: true },
  { bm: 256, bn: 128, bk: 32, wm: 4, stages: 1, rotateStores: true },
  { bm: 128, bn: 128, bk: 32, wm: 2, stages: 2, subgroups: 4, prefetch: false, rotateStores: true },
  // the smaller tiles of chooseDenseTiles for calls with few rows (short prompts)
  { bm: 64, bn: 128, bk: 64, wm: 2, stages: 1, subgroups: 4 },
  { bm: 32, bn: 128, bk: 64, wm: 2, stages: 1, subgroups: 4 },
  { bm: 32, bn: 64, bk: 64, wm: 2, stages: 1, subgroups: 4 },
  { bm: 32, bn: 64, bk: 64, wm: 2, stages: 1, subgroups: 4, rotateStores: true },
  // decode-sized tiles (the skinny variants of gemm-device)
  { bm: 16, bn: 128, bk: 64, wm: 1, stages: 1, subgroups: 4 },
  { bm: 16, bn: 64, bk: 64, wm: 1, stages: 1, subgroups: 4 },
  { bm: 16, bn: 128, bk: 64, wm: 1, stages: 1, subgroups: 4, rotateStores: true },
  { bm: 16, bn: 64, bk: 64, wm: 1, stages: 2, subgroups: 4, prefetch: false, rotateStores: true },
];
const DENSE_SHAPES = [
  { M: 8, N: 300, K: 1032, gated: false, bias: true, accumulate: true, softcap: 0 },
  { M: 129, N: 97, K: 136, gated: true, bias: true, accumulate: false, softcap: 0 },
  { M: 300, N: 200, K: 264, gated: false, bias: true, accumulate: true, softcap: 0 },
  { M: 256, N: 208, K: 520, gated: true, bias: false, accumulate: true, softcap: 30 },
];
const tilesName = (t?: DenseSgmatTiles) => (t ? formatDenseTiles(t) : 'default tiles');
for (const [n, c] of matrixRuns ? DENSE_SHAPES.entries() : []) {
  check(
    `dense matmul ${c.M}×${c.N}×${c.K}${c.gated ? ' SiLU-gated' : ''}${c.bias ? ' bias' : ''}${c.accumulate ? ' accumulate' : ''}${c.softcap ? ` cap ${c.softcap}` : ''}: every tile option = float64 product`,
    async () => {
      const rng = new Rng(500 + n);
      const rows = c.gated ? 2 * c.N : c.N;
      const xs = new Float32Array(c.M * c.K).map(() => Math.fround(rng.normal()));
      const ws = new Float32Array(rows * c.K).map(() => Math.fround(rng.normal() / Math.sqrt(c.K)));
      const bias = new Float32Array(rows).map(() => Math.fround(rng.normal()));
      const y0 = new Float32Array(c.M * c.N).map(() => Math.fround(rng.normal()));
      const x = ctx.upload(xs, [c.M, c.K], 'f16');
      const w = ctx.upload(ws, [rows, c.K], 'f16');
      // the f16 values the GPU holds, for the reference
      const x16 = await ctx.read(x);
      const w16 = await ctx.read(w);
      const b = c.bias ? ctx.upload(bias, [rows]) : null;
      const want = new Float64Array(c.M * c.N);
      const dot = (m: number, r: number) => {
        let acc = 0;
        for (let k = 0; k < c.K; k++) acc += x16[m * c.K + k] * w16[r * c.K + k];
        return acc + (c.bias ? bias[r] : 0);
      };
      for (let m = 0; m < c.M; m++)
        for (let j = 0; j < c.N; j++) {
          let v = dot(m, j);
          if (c.gated) v = (v / (1 + Math.exp(-v))) * dot(m, c.N + j);
          if (c.softcap) v = c.softcap * Math.tanh(v / c.softcap);
          want[m * c.N + j] = v + (c.accumulate ? y0[m * c.N + j] : 0);
        }
      const seen: Record<string, number> = { case: 100 + n };
      for (const tiles of DENSE_TILES) {
        const can = denseMatmulPath(ctx, { wDtype: 'f16', M: c.M, N: c.N, K: c.K, gated: c.gated, tiles });
        // tiles with one column block per subgroup cannot pair a gated epilogue's blocks (by design);
        // every other combination must run on the matrix units
        if (can !== 'matrix' && c.gated && tiles && (tiles.bn * tiles.wm) / (tiles.subgroups ?? 8) / 16 === 1)
          continue;
        assert.equal(can, 'matrix', `${tilesName(tiles)} cannot run ${c.M}×${c.N}×${c.K}`);
        const y = ctx.upload(y0, [c.M, c.N]);
        const batch = ctx.batch();
        const path = encodeDenseMatmul(ctx, batch, {
          x,
          w,
          y,
          bias: b,
          gate: c.gated ? 'silu' : null,
          accumulate: c.accumulate,
          softcap: c.softcap,
          path: 'matrix',
          tiles,
        });
        assert.equal(path, 'matrix');
        batch.submit();
        const got = await ctx.read(y);
        y.release();
        within(
          tilesName(tiles),
          { shape: [c.M, c.N], data: got },
          { shape: [c.M, c.N], data: want },
          DENSE_TOL,
          seen,
        );
        if (tiles === undefined) {
          // an f16 y (the x of a next matmul, rounded by the f16 policy in the epilogue): within
          // the f16 rounding of the output and of an accumulated y (2⁻¹¹ of each value)
          const y16 = ctx.upload(y0, [c.M, c.N], 'f16');
          const b16 = ctx.batch();
          encodeDenseMatmul(ctx, b16, {
            x,
            w,
            y: y16,
            bias: b,
            gate: c.gated ? 'silu' : null,
            accumulate: c.accumulate,
            softcap: c.softcap,
            path: 'matrix',
          });
          b16.submit();
          const got16 = await ctx.read(y16);
          y16.release();
          within(
            'default tiles, y f16',
            { shape: [c.M, c.N], data: got16 },
            { shape: [c.M, c.N], data: want },
            1e-3,
            seen,
          );
        }
      }
      errors.push(seen);
      for (const t of [x, w, b]) t?.release();
    },
  );
}

// ---------------------------------------------------------------------------------------------
// 6. The chunkwise forward encoded into a caller batch, on the matrix units (the model's prefill)

if (matrixRuns)
  check(
    'encoded xl_chunk forward (7B head shape: DHQK 256, DHHV 512, chunk 64, f32 in, computeDtype f16, states): = the async call bit for bit, = reference',
    async () => {
      const d = { B: 1, NH: 2, S: 192, DHQK: 256, DHHV: 512 };
      const p = randomProblem(new Rng(606), d, { states: true });
      const up = (t: Tensor) => ctx.upload(t.data, t.shape, 'f32');
      const a = {
        q: up(p.x.q),
        k: up(p.x.k),
        v: up(p.x.v),
        i: up(p.x.i),
        f: up(p.x.f),
        cInitial: up(p.states!.cInitial),
        nInitial: up(p.states!.nInitial),
        mInitial: up(p.states!.mInitial),
        chunkSize: 64,
        computeDtype: 'f16' as const,
        returnLastStates: true,
      };
      const want = await mlstmChunkwiseXlChunk(ctx, a);
      lastPlan = null;
      const batch = ctx.batch();
      const got = encodeMlstmChunkwiseXlChunk(ctx, batch, a);
      batch.submit();
      assert.equal(
        (lastPlan as ExecutionPlan | null)?.path,
        'matrix-units',
        'the encoded call planned the matrix units',
      );
      const read = async (t: GpuTensor) => Array.from(await ctx.read(t));
      assert.deepEqual(await read(got.h), await read(want.h), 'h differs from the async call');
      for (const n of ['c', 'n', 'm'] as const)
        assert.deepEqual(
          await read(got.lastStates![n]!),
          await read(want.lastStates![n]!),
          `last ${n} differs`,
        );
      const r = roundedToF16(p);
      const ref = mlstmChunkwise({ ...r.x, ...r.states, chunkSize: 64, returnLastStates: true });
      const seen: Record<string, number> = { case: -6 };
      within('h (encoded)', { shape: got.h.shape, data: await ctx.read(got.h) }, ref.h, MATRIX_TOL.fw, seen);
      errors.push(seen);
      for (const t of [got.h, want.h, got.lastStates!.c, got.lastStates!.n, got.lastStates!.m!]) t.release();
      for (const t of [want.lastStates!.c, want.lastStates!.n, want.lastStates!.m!]) t.release();
      for (const t of [a.q, a.k, a.v, a.i, a.f, a.cInitial, a.nInitial, a.mInitial]) t.release();
    },
  );
