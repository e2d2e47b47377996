/**
 * Packed sequences on a real GPU (run on the H100 machine like device-check.ts):
 *
 * 1. correctness: N sequences of random lengths, packed (`mlstmChunkwiseXlChunkPacked` and its
 *    backward) against separate non-packed calls per sequence — each sequence split into a
 *    whole-chunk piece and a remainder piece (one chunk of its own length), states handed over,
 *    gradients chained through `dcLast` (`correctDfForDcLast` on the first piece, which makes its
 *    df exact) — so the reference shares no padding with the packed path. xLSTM-7B head shape
 *    (NH 8, DHQK 256, DHHV 512), 32 sequences of 1…2048 tokens, f32.
 * 2. speed: forward (prefill) of 65 536 tokens in f16, xLSTM-7B head shape, as 8 equal sequences of
 *    8 192 tokens (the plain kernel, and the packed call) and as packed sequences of random lengths
 *    512…8 192; GPU ms (timestamp queries, every pass of the call summed) and wall ms, medians.
 *
 *   npx esbuild packages/kernels-webgpu/scripts/packed-bench.ts --bundle --platform=node --format=esm \
 *     --target=node20 --conditions=@mlstm/source --external:webgpu --outfile=<dir>/packed-bench.mjs
 *   node packed-bench.mjs [--quick] [--out results.json]
 *
 * `--quick`: small shapes (any adapter, e.g. lavapipe) to check that the script runs.
 */
import { writeFileSync } from 'node:fs';
import {
  type ChunkwiseGradients,
  type CpuTensor,
  type GpuContext,
  type GpuDtype,
  type GpuTensor,
  getGpuContext,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  mlstmChunkwiseXlChunkPacked,
  mlstmChunkwiseXlChunkPackedBackward,
} from '../src/index.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const outPath = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : undefined;
const results: Record<string, unknown> = {};

/** mulberry32 + Box–Muller: seeded normal values. */
function rng(seed: number) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    u,
    int: (lo: number, hi: number) => lo + Math.floor(u() * (hi - lo + 1)),
    normal: () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u()),
  };
}
type Rng = ReturnType<typeof rng>;

const randn = (r: Rng, shape: number[], scale = 1, offset = 0): CpuTensor => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let e = 0; e < data.length; e++) data[e] = offset + scale * r.normal();
  return { shape, data };
};

/** Tokens [a, b) of a (1, NH, T, …) tensor. */
function take(t: CpuTensor, a: number, b: number): CpuTensor {
  const [, NH, T] = t.shape;
  const D = t.shape.length === 4 ? t.shape[3] : 1;
  const out = new Float32Array(NH * (b - a) * D);
  for (let h = 0; h < NH; h++) out.set(t.data.subarray((h * T + a) * D, (h * T + b) * D), h * (b - a) * D);
  return { shape: t.shape.length === 4 ? [1, NH, b - a, D] : [1, NH, b - a], data: out };
}
const row = (t: CpuTensor, s: number): CpuTensor => {
  const per = t.data.length / t.shape[0];
  return { shape: [1, ...t.shape.slice(1)], data: t.data.subarray(s * per, (s + 1) * per) as Float32Array };
};
const cat = (parts: CpuTensor[]): CpuTensor => {
  if (parts.length === 1) return parts[0];
  const [, NH] = parts[0].shape;
  const D = parts[0].shape.length === 4 ? parts[0].shape[3] : 1;
  const T = parts.reduce((a, p) => a + p.shape[2], 0);
  const out = new Float32Array(NH * T * D);
  let at = 0;
  for (const p of parts) {
    const S = p.shape[2];
    for (let h = 0; h < NH; h++) out.set(p.data.subarray(h * S * D, (h + 1) * S * D), (h * T + at) * D);
    at += S;
  }
  return { shape: parts[0].shape.length === 4 ? [1, NH, T, D] : [1, NH, T], data: out };
};
/** max |a − e| / max |e| (or / `scale` when larger). */
function relErr(a: CpuTensor, e: CpuTensor, scale = 0): number {
  let d = 0;
  let m = scale;
  for (let x = 0; x < e.data.length; x++) {
    d = Math.max(d, Math.abs(a.data[x] - e.data[x]));
    m = Math.max(m, Math.abs(e.data[x]));
  }
  return d / (m || 1);
}

async function check(ctx: GpuContext) {
  const [NH, DHQK, DHHV] = quick ? [2, 16, 32] : [8, 256, 512];
  const N = quick ? 6 : 32;
  const maxLen = quick ? 100 : 2048;
  const L = quick ? 16 : 128;
  const r = rng(7);
  const lengths = Array.from({ length: N }, () => r.int(1, maxLen));
  const starts = [0];
  for (const len of lengths) starts.push(starts[starts.length - 1] + len);
  const T = starts[N];
  const seqStarts = Int32Array.from(starts);
  const x = {
    q: randn(r, [1, NH, T, DHQK]),
    k: randn(r, [1, NH, T, DHQK]),
    v: randn(r, [1, NH, T, DHHV]),
    i: randn(r, [1, NH, T]),
    f: randn(r, [1, NH, T], 1, 3),
  };
  const st = {
    cInitial: randn(r, [N, NH, DHQK, DHHV], 0.5),
    nInitial: randn(r, [N, NH, DHQK], 0.5),
    mInitial: randn(r, [N, NH, 1]),
  };
  const dh = randn(r, [1, NH, T, DHHV]);
  const t0 = performance.now();
  const fw = await mlstmChunkwiseXlChunkPacked(ctx, {
    ...x,
    ...st,
    seqStarts,
    chunkSize: L,
    returnLastStates: true,
  });
  const bw = await mlstmChunkwiseXlChunkPackedBackward(ctx, { ...x, ...st, seqStarts, chunkSize: L, dh });
  const packedMs = performance.now() - t0;
  const worst: Record<string, number> = {};
  const note = (k: string, e: number) => {
    worst[k] = Math.max(worst[k] ?? 0, e);
  };
  for (let s = 0; s < N; s++) {
    const [a, b] = [starts[s], starts[s + 1]];
    const cut = a + Math.floor((b - a) / L) * L;
    const pieces = [
      [a, cut],
      [cut, b],
    ].filter(([p0, p1]) => p1 > p0);
    const part = (p0: number, p1: number) => ({
      q: take(x.q, p0, p1),
      k: take(x.k, p0, p1),
      v: take(x.v, p0, p1),
      i: take(x.i, p0, p1),
      f: take(x.f, p0, p1),
    });
    // forward, states handed over
    const inits = [
      { cInitial: row(st.cInitial, s), nInitial: row(st.nInitial, s), mInitial: row(st.mInitial, s) },
    ];
    const hs: CpuTensor[] = [];
    let last: { c: CpuTensor; n: CpuTensor; m?: CpuTensor } | undefined;
    for (const [p0, p1] of pieces) {
      const o = await mlstmChunkwiseXlChunk(ctx, {
        ...part(p0, p1),
        ...inits[inits.length - 1],
        chunkSize: Math.min(L, p1 - p0),
        returnLastStates: true,
      });
      hs.push(o.h);
      last = o.lastStates!;
      inits.push({ cInitial: last.c, nInitial: last.n, mInitial: last.m! });
    }
    note('h', relErr(take(fw.h, a, b), cat(hs)));
    note('c', relErr(row(fw.lastStates!.c, s), last!.c));
    note('n', relErr(row(fw.lastStates!.n, s), last!.n));
    note('m', relErr(row(fw.lastStates!.m!, s), last!.m!));
    // backward, last piece first; dC flows into the piece before through dcLast
    const gs: ChunkwiseGradients<CpuTensor>[] = [];
    let dcLast: CpuTensor | undefined;
    for (let p = pieces.length - 1; p >= 0; p--) {
      const [p0, p1] = pieces[p];
      const g = await mlstmChunkwiseXlChunkBackward(ctx, {
        ...part(p0, p1),
        ...inits[p],
        chunkSize: Math.min(L, p1 - p0),
        dh: take(dh, p0, p1),
        ...(dcLast ? { dcLast, correctDfForDcLast: true } : {}),
      });
      gs.unshift(g);
      dcLast = g.dcInitial;
    }
    for (const k of ['dq', 'dk', 'dv', 'di', 'df'] as const)
      note(k, relErr(take(bw[k], a, b), cat(gs.map((g) => g[k]))));
    note('dcInitial', relErr(row(bw.dcInitial!, s), gs[0].dcInitial!));
  }
  const out = {
    NH,
    DHQK,
    DHHV,
    N,
    T,
    chunkSize: L,
    lengths: [Math.min(...lengths), Math.max(...lengths)],
    packedMs,
    worst,
  };
  console.log('packed == separate calls (f32, max |Δ| / max |expected| per tensor, worst sequence):');
  console.log(JSON.stringify(out));
  results.check = out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function speed(ctx: GpuContext) {
  const dtype: GpuDtype = ctx.features.shaderF16 ? 'f16' : 'f32';
  const [NH, DHQK, DHHV] = quick ? [2, 16, 32] : [8, 256, 512];
  const tokens = quick ? 2048 : 65536;
  const [lo, hi] = quick ? [16, 256] : [512, 8192];
  const reps = quick ? 2 : 5;
  const r = rng(11);
  const lengths: number[] = [];
  for (let left = tokens; left > 0; ) {
    let len = Math.min(left, r.int(lo, hi));
    if (left - len > 0 && left - len < lo) len = left; // no tail shorter than the minimum
    lengths.push(len);
    left -= len;
  }
  const up = (shape: number[], seed: number, offset = 0) => {
    const t = randn(rng(seed), shape, 1, offset);
    return ctx.upload(t.data, t.shape, shape.length === 4 ? dtype : 'f32');
  };
  const x = {
    q: up([1, NH, tokens, DHQK], 1),
    k: up([1, NH, tokens, DHQK], 2),
    v: up([1, NH, tokens, DHHV], 3),
    i: up([1, NH, tokens], 4),
    f: up([1, NH, tokens], 5, 3),
  };
  const B = tokens / hi;
  const equal = {
    q: x.q.view([B, NH, hi, DHQK]),
    k: x.k.view([B, NH, hi, DHQK]),
    v: x.v.view([B, NH, hi, DHHV]),
    i: x.i.view([B, NH, hi]),
    f: x.f.view([B, NH, hi]),
  };
  const time = async (name: string, run: () => Promise<{ h: GpuTensor }>) => {
    const gpu: number[] = [];
    const wall: number[] = [];
    for (let rep = 0; rep < reps + 2; rep++) {
      await ctx.sync();
      const t0 = performance.now();
      const timed = ctx.features.timestampQuery;
      if (timed) ctx.beginGpuTiming(2048);
      const o = await run();
      await ctx.sync();
      const ms = timed ? await ctx.endGpuTiming() : [Number.NaN];
      const w = performance.now() - t0;
      o.h.release();
      if (rep >= 2) {
        gpu.push(ms.reduce((a, b) => a + b, 0));
        wall.push(w);
      }
    }
    const res = { gpuMs: median(gpu), wallMs: median(wall) };
    console.log(`${name}: GPU ${res.gpuMs.toFixed(3)} ms, wall ${res.wallMs.toFixed(1)} ms`);
    return res;
  };
  // the sequence equal-length (B sequences of `hi` tokens, one after the other: a batch view)
  const eqStarts = Int32Array.from({ length: B + 1 }, (_, s) => s * hi);
  const randStarts = new Int32Array(lengths.length + 1);
  for (const [s, len] of lengths.entries()) randStarts[s + 1] = randStarts[s] + len;
  console.log(`\nprefill of ${tokens} tokens, NH ${NH}, DHQK ${DHQK}, DHHV ${DHHV}, ${dtype}, chunk 128`);
  // the equal-length batch is not the packed layout: it is B rows of `hi` tokens, head-major per row;
  // its timing is that of the same number of tokens and the same work
  const res = {
    equalPlain: await time(`${B} × ${hi} tokens, plain kernel`, () =>
      mlstmChunkwiseXlChunk(ctx, { ...equal, chunkSize: 128 }),
    ),
    equalPacked: await time(`${B} × ${hi} tokens, packed call`, () =>
      mlstmChunkwiseXlChunkPacked(ctx, { ...x, seqStarts: eqStarts, chunkSize: 128 }),
    ),
    randomPacked: await time(`${lengths.length} sequences of ${lo}…${hi} tokens, packed call`, () =>
      mlstmChunkwiseXlChunkPacked(ctx, { ...x, seqStarts: randStarts, chunkSize: 128 }),
    ),
  };
  for (const t of Object.values(x)) t.release();
  const ratio = res.randomPacked.gpuMs / res.equalPlain.gpuMs;
  console.log(`random packed / equal plain: ${ratio.toFixed(3)} (GPU ms)`);
  results.speed = {
    tokens,
    NH,
    DHQK,
    DHHV,
    dtype,
    sequences: lengths.length,
    lengthRange: [lo, hi],
    ...res,
    ratio,
  };
}

const ctx = await getGpuContext({ maxCachedBytes: 16 * 2 ** 30 });
console.log(ctx.describe());
await check(ctx);
await speed(ctx);
if (outPath) writeFileSync(outPath, JSON.stringify(results, null, 2));
ctx.destroy();
