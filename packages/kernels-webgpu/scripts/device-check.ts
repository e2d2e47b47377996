/**
 * Correctness + speed check of the kernels on a real GPU (run on the H100 machine with its device
 * kit, see CONTRIBUTING.md): every kernel family against core-reference (float64) on
 * shapes that use the adapter's default (large) tiles, then GPU time (timestamp-query, median of
 * repetitions after warm-up) of the const-token setup of the TFLA paper.
 *
 *   node device-check.mjs [--quick] [--out results.json]
 *   node device-check.mjs --matrix-check [--scan products,carrying,seg2,auto]   (exit 1 on a failure)
 */
import {
  mlstmChunkwise,
  mlstmChunkwiseBackward,
  mlstmParallel,
  mlstmParallelBackward,
  mlstmRecurrentStep,
  mlstmSigChunkwise,
  mlstmSigChunkwiseBackward,
  type Tensor,
} from '@mlstm/core-reference';
import { compare, Rng, randn, randomMlstmInputs } from '@mlstm/core-reference/testing';
import { writeFileSync } from 'node:fs';
import {
  defineParams,
  type GpuContext,
  type GpuDtype,
  type GpuTensor,
  getGpuContext,
  type KernelTuning,
  mlstmChunkwiseLimitChunk,
  mlstmChunkwiseLimitChunkBackward,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  mlstmParallelLimitHeaddim,
  mlstmParallelLimitHeaddimBackward,
  mlstmRecurrentStepWebgpu,
  mlstmSigChunkwiseXlChunk,
  mlstmSigChunkwiseXlChunkBackward,
  explainPlanAfterProbe,
  releaseSaved,
  roundToF16,
  XL_CHUNK,
} from '../src/index.js';
import { MATRIX_TOL } from '../test-gpu/tolerances.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const outPath = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : undefined;
const results: Record<string, unknown>[] = [];

const relMax = (a: Tensor, e: Tensor) => {
  let m = 0;
  for (const v of e.data) m = Math.max(m, Math.abs(v));
  return compare(a, e).maxAbs / m;
};

async function correctness(ctx: GpuContext) {
  const rng = new Rng(5);
  const shapes = [
    { B: 1, NH: 2, S: 256, DHQK: 64, DHHV: 128, L: 128 },
    { B: 2, NH: 1, S: 256, DHQK: 128, DHHV: 256, L: 64 },
    { B: 1, NH: 1, S: 384, DHQK: 48, DHHV: 96, L: 128 },
    { B: 1, NH: 2, S: 512, DHQK: 128, DHHV: 256, L: 128 },
  ];
  for (const s of shapes) {
    const x = randomMlstmInputs(rng, s, { kind: 'f32' });
    const dh = randn(rng, [s.B, s.NH, s.S, s.DHHV], { kind: 'f32' });
    const st = {
      cInitial: randn(rng, [s.B, s.NH, s.DHQK, s.DHHV], { kind: 'f32', scale: 0.3 }),
      nInitial: randn(rng, [s.B, s.NH, s.DHQK], { kind: 'f32', scale: 0.3 }),
      mInitial: randn(rng, [s.B, s.NH, 1], { kind: 'f32' }),
    };
    for (const dtype of ['f32', 'f16'] as GpuDtype[]) {
      if (dtype === 'f16' && !ctx.features.shaderF16) continue;
      const r = (t: Tensor): Tensor => (dtype === 'f16' ? { shape: t.shape, data: roundToF16(t.data) } : t);
      const xr = { ...x, q: r(x.q), k: r(x.k), v: r(x.v) };
      const dhr = r(dh);
      const row: Record<string, unknown> = {
        check: `B${s.B} NH${s.NH} S${s.S} QK${s.DHQK} V${s.DHHV} L${s.L}`,
        dtype,
      };
      const ref = mlstmChunkwise({ ...xr, ...st, chunkSize: s.L, returnLastStates: true });
      const refB = mlstmChunkwiseBackward({ ...xr, ...st, chunkSize: s.L, dh: dhr });
      const fw = await mlstmChunkwiseXlChunk(ctx, {
        ...xr,
        ...st,
        chunkSize: s.L,
        returnLastStates: true,
        dtype,
      });
      const bw = await mlstmChunkwiseXlChunkBackward(ctx, { ...xr, ...st, chunkSize: s.L, dh: dhr, dtype });
      row.xl_h = relMax(fw.h, ref.h);
      row.xl_c = relMax(fw.lastStates!.c, ref.lastStates!.c);
      row.xl_grads = Math.max(
        ...(['dq', 'dk', 'dv', 'di', 'df'] as const).map((n) => relMax(bw[n], refB[n])),
      );
      const lim = await mlstmChunkwiseLimitChunk(ctx, { ...xr, ...st, chunkSize: 64, dtype });
      const limB = await mlstmChunkwiseLimitChunkBackward(ctx, {
        ...xr,
        ...st,
        chunkSize: 64,
        dh: dhr,
        dtype,
      });
      const refL = mlstmChunkwiseBackward({ ...xr, ...st, chunkSize: 64, dh: dhr });
      row.limit_h = relMax(lim.h, ref.h);
      row.limit_grads = Math.max(
        ...(['dq', 'dk', 'dv', 'di', 'df'] as const).map((n) => relMax(limB[n], refL[n])),
      );
      const sig = await mlstmSigChunkwiseXlChunk(ctx, { ...xr, chunkSize: s.L, normalize: false, dtype });
      const sigB = await mlstmSigChunkwiseXlChunkBackward(ctx, {
        ...xr,
        chunkSize: s.L,
        normalize: false,
        dh: dhr,
        dtype,
      });
      const refS = mlstmSigChunkwise({ ...xr, chunkSize: s.L, normalize: false });
      const refSB = mlstmSigChunkwiseBackward({ ...xr, chunkSize: s.L, normalize: false, dh: dhr });
      row.sig_h = relMax(sig.h, refS.h);
      row.sig_grads = Math.max(
        ...(['dq', 'dk', 'dv', 'di', 'df'] as const).map((n) => relMax(sigB[n], refSB[n])),
      );
      const par = await mlstmParallelLimitHeaddim(ctx, { ...xr, dtype });
      const parB = await mlstmParallelLimitHeaddimBackward(ctx, { ...xr, dh: dhr, dtype });
      row.par_h = relMax(par.h, mlstmParallel(xr).h);
      const refPB = mlstmParallelBackward({ ...xr, dh: dhr });
      row.par_grads = Math.max(
        ...(['dq', 'dk', 'dv', 'di', 'df'] as const).map((n) => relMax(parB[n], refPB[n])),
      );
      // one recurrent step from the chunkwise last states
      const tok = (t: Tensor, d: number): Tensor => ({
        shape: [s.B, s.NH, d],
        data: t.data.slice(0, s.B * s.NH * d),
      });
      const gate = (t: Tensor): Tensor => ({ shape: [s.B, s.NH, 1], data: t.data.slice(0, s.B * s.NH) });
      const stepIn = {
        q: tok(xr.q, s.DHQK),
        k: tok(xr.k, s.DHQK),
        v: tok(xr.v, s.DHHV),
        i: gate(x.i),
        f: gate(x.f),
        c: ref.lastStates!.c,
        n: ref.lastStates!.n,
        m: ref.lastStates!.m,
      };
      const step = await mlstmRecurrentStepWebgpu(ctx, { ...stepIn, dtype });
      row.step_h = relMax(step.h, mlstmRecurrentStep(stepIn).h);
      results.push(row);
      console.log(JSON.stringify(row));
    }
  }
}

const fillParams = defineParams({ n: 'u32', seed: 'u32', scale: 'f32', offset: 'f32' });

/** Fills a tensor with offset + scale·N(0,1) on the GPU (hash-based Box–Muller): no host data. */
function fillRandom(ctx: GpuContext, t: GpuTensor, seed: number, scale = 1, offset = 0) {
  const p = ctx.pipeline(
    `devcheck:fill:${t.dtype}`,
    () => `${t.dtype === 'f16' ? 'enable f16;' : ''}
${fillParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> x: array<${t.dtype}>;
fn hash(v: u32) -> u32 { var h = v * 747796405u + 2891336453u; h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u; return (h >> 22u) ^ h; }
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = g.x + g.y * nw.x * 256u;
  if (idx >= P.n) { return; }
  let u1 = (f32(hash(idx * 2u + P.seed * 0x9e3779b9u) >> 8u) + 0.5) / 16777216.0;
  let u2 = f32(hash(idx * 2u + 1u + P.seed * 0x9e3779b9u) >> 8u) / 16777216.0;
  x[idx] = ${t.dtype}(P.offset + P.scale * sqrt(-2.0 * log(u1)) * cos(6.2831853 * u2));
}`,
    ['uniform', 'rw'],
  );
  const wg = Math.ceil(t.numel / 256);
  const y = Math.ceil(wg / 65535);
  ctx
    .batch()
    .dispatch(p, [t], fillParams.pack({ n: t.numel, seed, scale, offset }), [Math.ceil(wg / y), y])
    .submit();
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type Fam = 'xl_chunk' | 'limit_chunk' | 'siging';
const fams = {
  xl_chunk: { fw: mlstmChunkwiseXlChunk, bw: mlstmChunkwiseXlChunkBackward, extra: {} },
  limit_chunk: { fw: mlstmChunkwiseLimitChunk, bw: mlstmChunkwiseLimitChunkBackward, extra: {} },
  siging: { fw: mlstmSigChunkwiseXlChunk, bw: mlstmSigChunkwiseXlChunkBackward, extra: { normalize: false } },
};

async function timeConstToken(
  ctx: GpuContext,
  fam: Fam,
  S: number,
  dtype: GpuDtype,
  chunkSize: number,
  reps: number,
  tiles?: {
    intra?: { bR: number; bT: number; bX: number; bY: number };
    scan?: number;
    matrixX?: number;
  },
  subgroupMatrix?: boolean,
  computeDtype?: GpuDtype,
  tuning?: KernelTuning,
) {
  const tokens = 65536;
  const NH = 16;
  const B = tokens / S;
  const [DHQK, DHHV] = [128, 256];
  const q = ctx.empty([B, NH, S, DHQK], dtype);
  const k = ctx.empty([B, NH, S, DHQK], dtype);
  const v = ctx.empty([B, NH, S, DHHV], dtype);
  const i = ctx.empty([B, NH, S]);
  const f = ctx.empty([B, NH, S]);
  const dh = ctx.empty([B, NH, S, DHHV], dtype);
  for (const [x, t] of [q, k, v, i, dh].entries()) fillRandom(ctx, t, x + 1);
  fillRandom(ctx, f, 9, 1, 3);
  const F = fams[fam];
  const args = { q, k, v, i, f, chunkSize, tiles, subgroupMatrix, computeDtype, tuning, ...F.extra };
  const fwT: number[] = [];
  const fwbwT: number[] = [];
  ctx.pool.resetPeak();
  for (let r = 0; r < reps + 2; r++) {
    ctx.beginGpuTiming(64);
    const fw = await F.fw(ctx, args);
    const tFw = await ctx.endGpuTiming();
    fw.h.release();
    ctx.beginGpuTiming(64);
    const fw2 = await F.fw(ctx, { ...args, keepSaved: true });
    const bw = await F.bw(ctx, { ...args, dh, saved: fw2.saved });
    const tFwbw = await ctx.endGpuTiming();
    fw2.h.release();
    releaseSaved(fw2.saved!);
    for (const t of Object.values(bw)) (t as GpuTensor).release();
    if (r >= 2) {
      fwT.push(tFw.reduce((a, b) => a + b, 0));
      fwbwT.push(tFwbw.reduce((a, b) => a + b, 0));
    }
  }
  const peak = ctx.pool.stats.peakLiveBytes;
  for (const t of [q, k, v, i, f, dh]) t.release();
  ctx.pool.trim();
  return { fw: median(fwT), fwbw: median(fwbwT), peakBytes: peak };
}

async function timeStep(ctx: GpuContext, B: number, dtype: GpuDtype, reps: number) {
  const [NH, DHQK, DHHV] = [8, 256, 512];
  const q = ctx.empty([B, NH, DHQK], dtype);
  const k = ctx.empty([B, NH, DHQK], dtype);
  const v = ctx.empty([B, NH, DHHV], dtype);
  const i = ctx.empty([B, NH, 1]);
  const f = ctx.empty([B, NH, 1]);
  const c = ctx.zeros([B, NH, DHQK, DHHV]);
  const n = ctx.zeros([B, NH, DHQK]);
  const m = ctx.zeros([B, NH, 1]);
  for (const [x, t] of [q, k, v, i].entries()) fillRandom(ctx, t, x + 20);
  fillRandom(ctx, f, 30, 1, 4.5);
  const ts: number[] = [];
  for (let r = 0; r < reps + 5; r++) {
    ctx.beginGpuTiming(8);
    const out = await mlstmRecurrentStepWebgpu(ctx, { q, k, v, i, f, c, n, m, dtype });
    const t = await ctx.endGpuTiming();
    for (const o of Object.values(out)) (o as GpuTensor).release();
    if (r >= 5) ts.push(t.reduce((a, b) => a + b, 0));
  }
  for (const t of [q, k, v, i, f, c, n, m]) t.release();
  return median(ts);
}

/** GPU ms per dispatch label (median of 3 after a warm-up) of xl_chunk fw + bw at S = 8192. */
async function breakdownParts(
  dtype: GpuDtype,
  subgroupMatrix: boolean,
  tiles?: { matrixX: number },
  S = 8192,
  tuning?: KernelTuning,
): Promise<Record<string, number>> {
  const B = 65536 / S;
  const mk = (d: number) => ctx.empty([B, 16, S, d], dtype);
  const [q, k, v, dh] = [mk(128), mk(128), mk(256), mk(256)];
  const i = ctx.empty([B, 16, S]);
  const f = ctx.empty([B, 16, S]);
  for (const [x, t] of [q, k, v, i, dh].entries()) fillRandom(ctx, t, x + 40);
  fillRandom(ctx, f, 49, 1, 3);
  const sums = new Map<string, number[]>();
  const args = { q, k, v, i, f, chunkSize: 128, subgroupMatrix, tiles, tuning };
  for (let r = 0; r < 4; r++) {
    ctx.beginGpuTiming(64, { perDispatch: true });
    const fw = await mlstmChunkwiseXlChunk(ctx, { ...args, keepSaved: true });
    const bw = await mlstmChunkwiseXlChunkBackward(ctx, { ...args, dh, saved: fw.saved });
    const parts = await ctx.endGpuTimingLabelled();
    fw.h.release();
    releaseSaved(fw.saved!);
    for (const t of Object.values(bw)) (t as GpuTensor).release();
    if (r === 0) continue;
    for (const p of parts) sums.set(p.label, [...(sums.get(p.label) ?? []), p.ms]);
  }
  for (const t of [q, k, v, i, f, dh]) t.release();
  return Object.fromEntries([...sums].map(([l, ms]) => [l, median(ms)]));
}

/** Where the time goes: one timestamp pair per dispatch (xl_chunk, S = 8192), f16 (both paths) and f32. */
async function breakdown() {
  for (const [dtype, subgroupMatrix] of [
    ['f16', true],
    ['f16', false],
    ['f32', false],
  ] as [GpuDtype, boolean][]) {
    if (dtype === 'f16' && !ctx.features.shaderF16) continue;
    const parts = await breakdownParts(dtype, subgroupMatrix);
    console.log(
      `\nxl_chunk ${dtype}${dtype === 'f16' ? (subgroupMatrix ? ' matrix units' : ' register tiles') : ''} S=8192 per-kernel GPU ms (median of 3):`,
    );
    for (const [label, ms] of Object.entries(parts)) console.log(`  ${label.padEnd(22)} ${ms.toFixed(3)}`);
    results.push({ breakdown: dtype, subgroupMatrix, parts });
  }
}

// the pool keeps released buffers for reuse: with the default 1 GiB, the 1+ GB state stacks of
// these shapes would be destroyed and re-created on every repetition
const cacheGiB = argv.includes('--cache-gib') ? Number(argv[argv.indexOf('--cache-gib') + 1]) : 16;
// --toggles a,!b: further Dawn toggles (GpuContextOptions.dawnToggles)
const toggles = argv.includes('--toggles') ? argv[argv.indexOf('--toggles') + 1] : '';
const ctx = await getGpuContext({
  maxCachedBytes: cacheGiB * 2 ** 30,
  disableRobustness: argv.includes('--no-robustness'),
  dawnToggles: toggles ? toggles.split(',') : [],
});
console.log(ctx.describe());
console.log(
  `pool cache ${cacheGiB} GiB, robustness ${argv.includes('--no-robustness') ? 'off' : 'on'}${toggles ? `, toggles ${toggles}` : ''}`,
);
if (argv.includes('--matrix-check')) {
  // quick check of the matrix-unit path while tuning it: correctness of xl_chunk f16 on the shapes
  // that take the path, then total and per-kernel GPU time at S = 8192 (twice: run-to-run spread).
  // Exits 1 when the matrix path is not the one that runs, or when an error exceeds its tolerance.
  const plan = await explainPlanAfterProbe(
    ctx,
    XL_CHUNK,
    { B: 1, NH: 2, S: 256, DHQK: 64, DHHV: 128 },
    { dtype: 'f16', chunkSize: 128 },
  );
  if (plan.path !== 'matrix-units') {
    console.error(`matrix-check FAILED: the matrix-unit path does not run here (${plan.reason})`);
    process.exit(1);
  }
  const rng = new Rng(11);
  const shapes = [
    { B: 1, NH: 2, S: 256, DHQK: 64, DHHV: 128, L: 128 },
    { B: 2, NH: 1, S: 256, DHQK: 128, DHHV: 256, L: 64 },
    { B: 1, NH: 2, S: 512, DHQK: 128, DHHV: 256, L: 128 },
  ].map((s) => {
    const x = randomMlstmInputs(rng, s, { kind: 'f32' });
    const r = (t: Tensor): Tensor => ({ shape: t.shape, data: roundToF16(t.data) });
    const xr = { ...x, q: r(x.q), k: r(x.k), v: r(x.v) };
    const dh = r(randn(rng, [s.B, s.NH, s.S, s.DHHV], { kind: 'f32' }));
    const st = {
      cInitial: randn(rng, [s.B, s.NH, s.DHQK, s.DHHV], { kind: 'f32', scale: 0.3 }),
      nInitial: randn(rng, [s.B, s.NH, s.DHQK], { kind: 'f32', scale: 0.3 }),
      mInitial: randn(rng, [s.B, s.NH, 1], { kind: 'f32' }),
    };
    // the gradient of the last state seeds the backward recurrence (its exact segment, segmented)
    const dcLast = randn(rng, [s.B, s.NH, s.DHQK, s.DHHV], { kind: 'f32', scale: 0.3 });
    return {
      s,
      xr,
      dh,
      st,
      ref: mlstmChunkwise({ ...xr, chunkSize: s.L }),
      refB: mlstmChunkwiseBackward({ ...xr, chunkSize: s.L, dh }),
      refS: mlstmChunkwise({ ...xr, ...st, chunkSize: s.L, returnLastStates: true }),
      refSB: mlstmChunkwiseBackward({ ...xr, ...st, chunkSize: s.L, dh, dcLast }),
      dcLast,
    };
  });
  // max |Δ|/max|ref| over the shapes: f16 tensors, or f32 tensors computed in f16 (the GPU cast,
  // which rounds as the reference's inputs were rounded)
  const matrixErrors = async (computeDtype?: GpuDtype, tuning?: KernelTuning) => {
    let h = 0;
    let g = 0;
    for (const { s, xr, dh, st, ref, refB, refS, refSB, dcLast } of shapes) {
      const up = (t: Tensor, dt: GpuDtype = computeDtype ? 'f32' : 'f16') => ctx.upload(t.data, t.shape, dt);
      const x = { q: up(xr.q), k: up(xr.k), v: up(xr.v), i: up(xr.i, 'f32'), f: up(xr.f, 'f32') };
      const dhG = up(dh);
      const fw = await mlstmChunkwiseXlChunk(ctx, { ...x, chunkSize: s.L, computeDtype, tuning });
      const bw = await mlstmChunkwiseXlChunkBackward(ctx, {
        ...x,
        chunkSize: s.L,
        dh: dhG,
        computeDtype,
        tuning,
      });
      const read = async (t: GpuTensor): Promise<Tensor> => ({
        shape: [...t.shape],
        data: await ctx.read(t),
      });
      h = Math.max(h, relMax(await read(fw.h), ref.h));
      for (const n of ['dq', 'dk', 'dv', 'di', 'df'] as const)
        g = Math.max(g, relMax(await read(bw[n]), refB[n]));
      for (const t of [...Object.values(x), dhG, fw.h, ...Object.values(bw)]) (t as GpuTensor).release();
      if (computeDtype) continue;
      // with initial states (host tensors: uploaded by the call), and the last states
      const fwS = await mlstmChunkwiseXlChunk(ctx, {
        ...xr,
        ...st,
        chunkSize: s.L,
        returnLastStates: true,
        dtype: 'f16',
        tuning,
      });
      const bwS = await mlstmChunkwiseXlChunkBackward(ctx, {
        ...xr,
        ...st,
        chunkSize: s.L,
        dh,
        dcLast,
        dtype: 'f16',
        tuning,
      });
      h = Math.max(h, relMax(fwS.h, refS.h), relMax(fwS.lastStates!.c, refS.lastStates!.c));
      h = Math.max(h, relMax(fwS.lastStates!.n, refS.lastStates!.n));
      for (const n of ['dq', 'dk', 'dv', 'di', 'df'] as const) g = Math.max(g, relMax(bwS[n], refSB[n]));
      g = Math.max(g, relMax(bwS.dcInitial!, refSB.dcInitial!));
    }
    return [h, g];
  };
  // --scan products,carrying,carrying128,seg2,auto…: A/B of the matrix-unit state scan, each run
  // with its own KernelTuning (errors and times for each, the baseline in the same call)
  const scanArg = argv.includes('--scan') ? argv[argv.indexOf('--scan') + 1].split(',') : [];
  for (const f of scanArg) {
    const tuning: KernelTuning = f.startsWith('seg')
      ? { scan: 'carrying', scanSegments: Number(f.slice(3)) }
      : f.startsWith('carrying')
        ? { scan: 'carrying', scanTileX: Number(f.slice(8)) || 256 }
        : { scan: f === 'products' ? 'products' : 'auto' };
    const [he, ge] = await matrixErrors(undefined, tuning);
    console.log(
      `scan ${f} ${JSON.stringify(tuning)}: xl_chunk f16 max |Δ|/max|ref| (with initial states too): h ${he.toExponential(2)}, grads ${ge.toExponential(2)}`,
    );
    const scanS = argv.includes('--scan-s')
      ? argv[argv.indexOf('--scan-s') + 1].split(',').map(Number)
      : [2048, 8192, 32768];
    for (const S of scanS) {
      const r = await timeConstToken(
        ctx,
        'xl_chunk',
        S,
        'f16',
        128,
        5,
        undefined,
        undefined,
        undefined,
        tuning,
      );
      console.log(`  scan ${f} S=${S}: fw ${r.fw.toFixed(3)} / fw+bw ${r.fwbw.toFixed(3)} ms`);
    }
    const partsS = argv.includes('--parts-s')
      ? argv[argv.indexOf('--parts-s') + 1].split(',').map(Number)
      : [512, 8192];
    for (const S of partsS) {
      const parts = await breakdownParts('f16', true, undefined, S, tuning);
      console.log(
        `  scan ${f} S=${S} parts: ${Object.entries(parts)
          .map(([l, ms]) => `${l} ${ms.toFixed(3)}`)
          .join(', ')}`,
      );
    }
  }
  if (scanArg.length) process.exit(0);
  const [hErr, gErr] = await matrixErrors();
  console.log(`xl_chunk f16 max |Δ|/max|ref|: h ${hErr.toExponential(2)}, grads ${gErr.toExponential(2)}`);
  const [hErr32, gErr32] = await matrixErrors('f16');
  console.log(
    `xl_chunk f32 computeDtype f16 max |Δ|/max|ref|: h ${hErr32.toExponential(2)}, grads ${gErr32.toExponential(2)}`,
  );
  // the verdict (exit status): the errors within the matrix path's tolerances (test-gpu/tolerances.ts)
  const bad = [
    hErr > MATRIX_TOL.fw && `h ${hErr.toExponential(2)} > ${MATRIX_TOL.fw}`,
    gErr > MATRIX_TOL.bw && `grads ${gErr.toExponential(2)} > ${MATRIX_TOL.bw}`,
    hErr32 > MATRIX_TOL.fw && `h (computeDtype f16) ${hErr32.toExponential(2)} > ${MATRIX_TOL.fw}`,
    gErr32 > MATRIX_TOL.bw && `grads (computeDtype f16) ${gErr32.toExponential(2)} > ${MATRIX_TOL.bw}`,
  ].filter(Boolean);
  if (bad.length) {
    console.error(`matrix-check FAILED: ${bad.join('; ')}`);
    process.exit(1);
  }
  const r32 = await timeConstToken(ctx, 'xl_chunk', 8192, 'f32', 128, 7, undefined, undefined, 'f16');
  console.log(`S=8192 f32 computeDtype f16: fw ${r32.fw.toFixed(3)} / fw+bw ${r32.fwbw.toFixed(3)} ms`);
  for (let rep = 0; rep < 2; rep++) {
    const r = await timeConstToken(ctx, 'xl_chunk', 8192, 'f16', 128, 7);
    const parts = await breakdownParts('f16', true);
    console.log(
      `S=8192 fw ${r.fw.toFixed(3)} / fw+bw ${r.fwbw.toFixed(3)} ms, peak ${(r.peakBytes / 1e9).toFixed(2)} GB\n  ${Object.entries(
        parts,
      )
        .map(([l, ms]) => `${l} ${ms.toFixed(3)}`)
        .join(', ')}`,
    );
    results.push({ hErr, gErr, ...r, parts });
  }
  if (outPath) writeFileSync(outPath, JSON.stringify({ adapter: ctx.describe(), results }, null, 2));
  process.exit(0);
}
if (argv.includes('--matrix-only')) {
  for (const S of [512, 2048, 8192, 65536]) {
    const r = await timeConstToken(ctx, 'xl_chunk', S, 'f16', 128, 5);
    console.log(
      `  matrix S=${S}: ${r.fw.toFixed(2)} / ${r.fwbw.toFixed(2)} (buffers created so far ${ctx.pool.stats.buffersCreated})`,
    );
  }
  process.exit(0);
}
if (argv.includes('--breakdown-only')) {
  await breakdown();
  process.exit(0);
}
if (!argv.includes('--tiles-only')) await correctness(ctx);
if (argv.includes('--sgmat')) {
  console.log('\nsubgroup-matrix forward vs register-tiled (xl_chunk f16, GPU ms fw / fw+bw)');
  for (const S of [512, 8192, 65536]) {
    for (const sgm of [false, true]) {
      const r = await timeConstToken(ctx, 'xl_chunk', S, 'f16', 128, 5, undefined, sgm);
      console.log(`  S=${S} subgroupMatrix=${sgm}: ${r.fw.toFixed(2)} / ${r.fwbw.toFixed(2)}`);
      results.push({ sgmat: sgm, S, ...r });
    }
  }
  for (const tiles of [{ matrixX: 128 }]) {
    const r = await timeConstToken(ctx, 'xl_chunk', 8192, 'f16', 128, 5, tiles, true);
    console.log(`  S=8192 matrix units ${JSON.stringify(tiles)}: ${r.fw.toFixed(2)} / ${r.fwbw.toFixed(2)}`);
    results.push({ sgmat: true, ...tiles, S: 8192, ...r });
  }
  await breakdown();
  if (argv.includes('--sgmat-only')) process.exit(0);
}
if (argv.includes('--tiles')) {
  if (argv.includes('--tiles-only')) {
    results.length = 0;
  }
  console.log('\ntile sweep: xl_chunk S=8192 (fw / fw+bw GPU ms)');
  for (const dtype of ['f32', 'f16'] as GpuDtype[]) {
    for (const [bR, bX, scan] of [
      [32, 128, 64],
      [32, 64, 64],
      [32, 256, 64],
      [64, 64, 64],
      [64, 128, 64],
      [64, 256, 64],
      [16, 128, 64],
      [32, 128, 32],
    ]) {
      const tiles = { intra: { bR, bT: bR, bX, bY: 16 }, scan };
      try {
        const r = await timeConstToken(ctx, 'xl_chunk', 8192, dtype, 128, 3, tiles);
        console.log(
          `  ${dtype} bR=bT=${bR} bX=${bX} scan=${scan}: ${r.fw.toFixed(2)} / ${r.fwbw.toFixed(2)}`,
        );
        results.push({ tileSweep: true, dtype, bR, bX, scan, ...r });
      } catch (e) {
        console.log(`  ${dtype} bR=${bR} bX=${bX}: ${(e as Error).message}`);
      }
    }
  }
}
if (argv.includes('--tiles-only')) {
  if (outPath) writeFileSync(outPath, JSON.stringify({ adapter: ctx.adapterInfo, results }, null, 1));
  process.exit(0);
}
const Ss = quick ? [512, 8192] : [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
const reps = quick ? 3 : 10;
console.log('\nconst-token (B·S = 65536, NH 16, DHQK 128, DHHV 256), GPU ms (timestamp-query, median)');
console.log('kernel        dtype chunk     S       fw     fw+bw   peak MB');
for (const [fam, chunk] of [
  ['xl_chunk', 128],
  ['siging', 128],
  ['limit_chunk', 64],
] as [Fam, number][]) {
  for (const dtype of ['f16', 'f32'] as GpuDtype[]) {
    if (dtype === 'f16' && !ctx.features.shaderF16) continue;
    for (const S of fam === 'xl_chunk' ? Ss : [Ss[0], Ss[Ss.length - 1]]) {
      try {
        const r = await timeConstToken(ctx, fam, S, dtype, chunk, reps);
        results.push({ kernel: fam, dtype, chunk, S, ...r });
        console.log(
          `${fam.padEnd(13)} ${dtype}   ${String(chunk).padStart(4)} ${String(S).padStart(6)} ${r.fw.toFixed(2).padStart(8)} ${r.fwbw.toFixed(2).padStart(9)} ${(r.peakBytes / 2 ** 20).toFixed(0).padStart(8)}`,
        );
      } catch (e) {
        console.log(`${fam} ${dtype} S=${S}: ${(e as Error).message}`);
        results.push({ kernel: fam, dtype, S, error: (e as Error).message });
      }
    }
  }
}
if (!quick) {
  for (const chunk of [64, 256, 512]) {
    const r = await timeConstToken(ctx, 'xl_chunk', 8192, 'f16', chunk, reps);
    results.push({ kernel: 'xl_chunk', dtype: 'f16', chunk, S: 8192, ...r });
    console.log(
      `xl_chunk      f16   ${String(chunk).padStart(4)}   8192 ${r.fw.toFixed(2).padStart(8)} ${r.fwbw.toFixed(2).padStart(9)} ${(r.peakBytes / 2 ** 20).toFixed(0).padStart(8)}`,
    );
  }
}
await breakdown();
console.log('\nstep kernel, 7B layer (NH 8, DHQK 256, DHHV 512), GPU ms (median)');
for (const dtype of ['f16', 'f32'] as GpuDtype[]) {
  for (const B of [1, 8, 64]) {
    try {
      const t = await timeStep(ctx, B, dtype, quick ? 20 : 100);
      results.push({ kernel: 'step', dtype, B, ms: t });
      console.log(`step ${dtype} B=${B}: ${t.toFixed(4)} ms`);
    } catch (e) {
      console.log(`step ${dtype} B=${B}: ${(e as Error).message}`);
    }
  }
}
if (outPath)
  writeFileSync(
    outPath,
    JSON.stringify({ adapter: ctx.adapterInfo, features: ctx.features, results }, null, 1),
  );
ctx.destroy();
