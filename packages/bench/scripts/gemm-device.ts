/**
 * Dense matmul on a real GPU (run on the H100 machine): first the matrix-unit kernel against the
 * register-tiled one on odd shapes, for every tile variant and epilogue (max error printed; exit
 * code 1 on a mismatch), then GPU time (timestamp queries, median after warm-up) and TFLOP/s of
 * each variant at the xLSTM-7B prefill shapes, beside the register-tiled path.
 *
 *   node gemm-device.mjs [--out gemm.csv] [--variants all|skinny|short|<name;name>] [--ms 2048,8192] [--reps 7]
 *     [--no-robustness]
 *
 * `--variants skinny --ms 8,16`: decode-sized M with skinny tiles (W's GB/s printed beside).
 * `--variants short --ms 128,512`: short prompts, the tiles chooseDenseTiles picks per shape
 * against fixed ones. `--no-robustness` (Node only): Dawn's bounds checks off, to see what they
 * cost the kernel (browsers always keep them).
 */
import { writeFileSync } from 'node:fs';
import {
  type DenseSgmatTiles,
  encodeDenseMatmul,
  formatDenseTiles,
  type GpuContext,
  type GpuTensor,
  getGpuContext,
  heuristics,
  parseDenseTiles,
} from '@mlstm/kernels-webgpu';
import { gemmFlops, xlstm7bGemmShapes } from '../src/suites/gemm.js';
import { gpuRandn } from '../src/suites/gpu-inputs.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const outPath = arg('--out', '');
const reps = Number(arg('--reps', '7'));
const Ms = arg('--ms', '2048,8192').split(',').map(Number);
const timing = !argv.includes('--no-time');

interface Variant {
  name: string;
  tiles?: DenseSgmatTiles;
  /** x stored in f16 (converted once, outside the timing) */
  xF16?: boolean;
  /** f32 x on the matrix units: a conversion pass first (default) or per staged slice */
  castX?: boolean;
  path: 'matrix' | 'tiled';
}
/** A matrix-unit variant with f16 x, named by its tiles' text (`formatDenseTiles`, e.g. `128x128x64:wm2:s1:rot`). */
const f16x = (tiles: string): Variant => ({
  name: `${tiles}, x f16`,
  tiles: parseDenseTiles(tiles),
  xF16: true,
  path: 'matrix',
});
const VARIANTS: Variant[] = [
  // the default: 128 × 128 × 64, one buffer; f32 x converted to f16 in a pass of its own (timed with it)
  { name: 'default (x f32, cast pass)', path: 'matrix' },
  { name: 'default, x f32 converted per slice', castX: false, path: 'matrix' },
  { name: 'default, x f16', xF16: true, path: 'matrix' },
  f16x('128x256x32:wm2:s1'),
  // occupancy: no register prefetch (fewer live registers), 4 subgroups owning 64 × 64 each
  ...['128x128x64:wm2:s1:nopf', '128x128x32:wm2:s2:nopf', '128x256x32:wm2:s1:nopf'].map(f16x),
  ...['128x128x64:wm2:s1:sg4', '128x128x64:wm2:s1:sg4:nopf', '128x128x32:wm2:s2:sg4:nopf'].map(f16x),
  ...['64x128x64:wm2:s1:sg4:nopf', '128x64x64:wm2:s1:sg4:nopf'].map(f16x),
  // bank-conflict-free staging stores (and 256x128x32 wm4: 64 × 64 outputs per subgroup, half the
  // matrix loads per product of 64 × 32)
  f16x('128x128x64:wm2:s1:rot'),
  {
    name: '128x128x64:wm2:s1:rot (x f32, cast pass)',
    tiles: parseDenseTiles('128x128x64:wm2:s1:rot'),
    path: 'matrix',
  },
  ...['128x256x32:wm2:s1:rot', '128x128x32:wm2:s2:rot', '256x128x32:wm4:s1:rot'].map(f16x),
  ...['128x128x64:wm2:s1:nopf:rot', '128x128x64:wm2:s1:sg4:rot', '128x128x32:wm2:s2:sg4:nopf:rot'].map(f16x),
  { name: 'register-tiled', path: 'tiled' },
];
// decode-sized M (a batch of 8–16 rows): skinny tiles over 4 subgroups, W streamed once per 16 rows
// — is the matrix-unit kernel at memory bandwidth where the f32 GEMV is bound by its multiply-adds?
const SKINNY: Variant[] = [
  { name: 'default, x f16', xF16: true, path: 'matrix' },
  ...['16x64x64:wm1:s1:sg4:rot', '16x128x64:wm1:s1:sg4:rot', '16x64x64:wm1:s1:sg4:nopf:rot'].map(f16x),
  ...['16x64x64:wm1:s2:sg4:nopf:rot', '32x128x64:wm2:s1:sg4:rot'].map(f16x),
  { name: 'register-tiled', path: 'tiled' },
];
// short prompts (M 128–512): the tiles chooseDenseTiles picks per shape ('auto', shrunk until the
// call has enough workgroups) against the fixed 128 × 128 default and each smaller candidate
const SHORT: Variant[] = [
  { name: 'auto (chooseDenseTiles), x f16', xF16: true, path: 'matrix' },
  ...[
    '128x128x64:wm2:s1',
    '64x128x64:wm2:s1:sg4',
    '32x128x64:wm2:s1:sg4',
    '32x64x64:wm2:s1:sg4',
    '64x128x64:wm2:s1:sg4:rot',
    '32x64x64:wm2:s1:sg4:rot',
  ].map(f16x),
];
const only = arg('--variants', 'all');
const variants =
  only === 'all'
    ? VARIANTS
    : only === 'skinny'
      ? SKINNY
      : only === 'short'
        ? SHORT
        : VARIANTS.filter((v) => only.split(';').includes(v.name));

const ctx: GpuContext = await getGpuContext({
  maxCachedBytes: 24 * 2 ** 30,
  disableRobustness: argv.includes('--no-robustness'),
});
console.log(ctx.describe());
console.log(`robustness ${argv.includes('--no-robustness') ? 'off (Dawn toggle disable_robustness)' : 'on'}`);
const adapter = `${ctx.adapterInfo.vendor} ${ctx.adapterInfo.device || ctx.adapterInfo.architecture} (${ctx.adapterInfo.description})`;
const csv: string[] = ['adapter,check,variant,M,shape,N,K,gated,ms,tflops,max_rel_err'];
let failed = false;

const cast16 = (t: GpuTensor): GpuTensor => {
  // f32 → f16 on the GPU: a 1-row matmul would do, but the cast is simpler through a copy kernel
  const out = ctx.empty(t.shape, 'f16');
  const p = ctx.pipeline(
    'gemm-device:cast',
    () => `enable f16;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f16>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let i = g.x + g.y * n.x * 256u;
  if (i < arrayLength(&a)) { b[i] = f16(a[i]); }
}`,
  );
  const wg = Math.ceil(t.numel / 256);
  const y = Math.ceil(wg / 65535);
  ctx
    .batch()
    .dispatch(p, [t, out], null, [Math.ceil(wg / y), y])
    .submit();
  return out;
};

// ---------------------------------------------------------------- correctness
const checks = [
  { M: 300, N: 200, K: 264, gated: false, bias: true, accumulate: true, softcap: 0 },
  { M: 256, N: 208, K: 320, gated: false, bias: true, accumulate: true, softcap: 0 },
  { M: 512, N: 96, K: 320, gated: true, bias: true, accumulate: false, softcap: 0 },
  { M: 512, N: 688, K: 10944, gated: true, bias: false, accumulate: true, softcap: 0 },
  { M: 129, N: 97, K: 136, gated: true, bias: true, accumulate: false, softcap: 0 },
  { M: 2048, N: 1000, K: 4096, gated: false, bias: false, accumulate: false, softcap: 30 },
  { M: 517, N: 684, K: 10944, gated: true, bias: false, accumulate: true, softcap: 0 },
  { M: 8, N: 1000, K: 4096, gated: false, bias: true, accumulate: true, softcap: 0 },
  { M: 13, N: 200, K: 10944, gated: true, bias: false, accumulate: false, softcap: 0 },
];
async function run(
  v: Variant,
  x: GpuTensor,
  w: GpuTensor,
  bias: GpuTensor | null,
  y0: GpuTensor,
  c: (typeof checks)[number],
) {
  const y = ctx.empty(y0.shape);
  const b = ctx.batch();
  b.dispatch(
    ctx.pipeline(
      'gemm-device:copy',
      () => `@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let i = g.x + g.y * n.x * 256u;
  if (i < arrayLength(&a)) { b[i] = a[i]; }
}`,
    ),
    [y0, y],
    null,
    [Math.min(65535, Math.ceil(y0.numel / 256)), Math.ceil(Math.ceil(y0.numel / 256) / 65535)],
  );
  encodeDenseMatmul(ctx, b, {
    x,
    w,
    y,
    bias,
    N: c.N,
    gate: c.gated ? 'silu' : null,
    accumulate: c.accumulate,
    softcap: c.softcap,
    path: v.path,
    tiles: v.tiles,
    castX: v.castX,
  });
  b.submit();
  const out = await ctx.read(y);
  y.release();
  return out;
}
for (const c of checks.slice(0, Number(arg('--checks', String(checks.length))))) {
  const wRows = c.gated ? 2 * c.N : c.N;
  const x32 = gpuRandn(ctx, [c.M, c.K], 'f32', 11);
  const x16 = cast16(x32);
  const w = gpuRandn(ctx, [wRows, c.K], 'f16', 12, { scale: 1 / Math.sqrt(c.K) });
  const bias = c.bias ? gpuRandn(ctx, [wRows], 'f32', 13) : null;
  const y0 = gpuRandn(ctx, [c.M, c.N], 'f32', 14);
  // the reference: register-tiled with the same operands (x f16: the matrix path's own rounding)
  const ref16 = await run({ name: 'ref', path: 'tiled' }, x16, w, bias, y0, c);
  const ref32 = await run({ name: 'ref', path: 'tiled' }, x32, w, bias, y0, c);
  let scale = 1;
  for (const v of ref32) scale = Math.max(scale, Math.abs(v));
  for (const v of variants.filter((v) => v.path === 'matrix')) {
    for (const xf16 of [true, false]) {
      let got: Float32Array;
      try {
        got = await run(v, xf16 ? x16 : x32, w, bias, y0, c);
      } catch (e) {
        console.log(
          `check ${c.M}x${c.N}x${c.K} ${v.name} x ${xf16 ? 'f16' : 'f32'}: n/a (${(e as Error).message.slice(-80)})`,
        );
        continue;
      }
      const ref = xf16 ? ref16 : ref32;
      let err = 0;
      for (let e = 0; e < ref.length; e++) {
        const d = Math.abs(got[e] - ref[e]);
        err = Number.isNaN(d) ? Infinity : Math.max(err, d);
      }
      const rel = err / scale;
      // x f16: the same products summed in another order in f32 (~1e-6); x f32: the matrix path
      // rounds x to f16 (relative 4.9e-4 per element, averaging out over K)
      const tol = xf16 ? 1e-4 : 5e-3;
      const ok = rel <= tol;
      if (!ok) failed = true;
      const what = `${c.M}x${c.N}x${c.K}${c.gated ? ' silu' : ''}${c.bias ? ' bias' : ''}${c.accumulate ? ' acc' : ''}${c.softcap ? ` cap${c.softcap}` : ''}`;
      console.log(
        `check ${what.padEnd(34)} ${v.name.padEnd(28)} x ${xf16 ? 'f16' : 'f32'}: max rel err ${rel.toExponential(2)} ${ok ? 'ok' : `MISMATCH (tol ${tol})`}`,
      );
      csv.push(
        `"${adapter}",check,"${v.name} x ${xf16 ? 'f16' : 'f32'}",${c.M},"${what}",${c.N},${c.K},${c.gated},,,${rel}`,
      );
    }
  }
  for (const t of [x32, x16, w, bias, y0]) t?.release();
}

// ---------------------------------------------------------------- timing
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const shapes = xlstm7bGemmShapes();
{
  // about a second of matmuls first, so that the clocks have ramped up before the first timing
  const x = gpuRandn(ctx, [4096, 4096], 'f32', 5);
  const w = gpuRandn(ctx, [4096, 4096], 'f16', 6);
  const y = ctx.empty([4096, 4096]);
  for (let r = 0; r < 8; r++) {
    const b = ctx.batch();
    for (let i = 0; i < 40; i++) encodeDenseMatmul(ctx, b, { x, w, y });
    b.submit();
    await ctx.sync();
  }
  for (const t of [x, w, y]) t.release();
}
console.log('\nGPU ms (median of', reps, 'after 2 warm-ups) and TFLOP/s; f16 W, f32 output');
/** TFLOP/s of every timed shape per tile configuration (x f16, matrix units) */
const tflops = new Map<string, number[]>();
for (const M of timing ? Ms : []) {
  for (const s of shapes) {
    const wRows = s.gated ? 2 * s.N : s.N;
    const x32 = gpuRandn(ctx, [M, s.K], 'f32', 1);
    const x16 = variants.some((v) => v.xF16) ? cast16(x32) : null;
    const w = gpuRandn(ctx, [wRows, s.K], 'f16', 2, { scale: 1 / Math.sqrt(s.K) });
    const y = ctx.empty([M, s.N]);
    for (const v of variants) {
      // the register-tiled path only at the smaller M (it is the reference, not the subject)
      if (v.path === 'tiled' && M !== Ms[0]) continue;
      const x = v.xF16 ? x16! : x32;
      const times: number[] = [];
      try {
        for (let r = 0; r < reps + 2; r++) {
          ctx.beginGpuTiming(4);
          const b = ctx.batch();
          encodeDenseMatmul(ctx, b, {
            x,
            w,
            y,
            N: s.N,
            gate: s.gated ? 'silu' : null,
            path: v.path,
            tiles: v.tiles,
            castX: v.castX,
          });
          b.submit();
          const t = await ctx.endGpuTiming();
          if (r >= 2) times.push(t.reduce((a, b2) => a + b2, 0));
        }
      } catch (e) {
        console.log(`  ${v.name}: ${(e as Error).message}`);
        continue;
      }
      const ms = median(times);
      const tf = gemmFlops(M, s) / ms / 1e9;
      // W streamed from memory (f16): what bounds decode-sized M
      const wGBs = (wRows * s.K * 2) / ms / 1e6;
      console.log(
        `M ${String(M).padStart(5)} ${s.name.padEnd(17)} N ${String(s.N).padStart(5)} K ${String(s.K).padStart(5)}  ${v.name.padEnd(28)} ${ms.toFixed(3).padStart(8)} ms ${tf.toFixed(1).padStart(6)} TFLOP/s ${wGBs.toFixed(0).padStart(5)} GB/s of W`,
      );
      csv.push(`"${adapter}",time,"${v.name}",${M},${s.name},${s.N},${s.K},${s.gated},${ms},${tf},`);
      if (v.path === 'matrix' && v.xF16) {
        const key = formatDenseTiles(v.tiles ?? heuristics.chooseDenseTiles(M, s.N, ctx.limits, s.gated));
        const seen = tflops.get(key) ?? [];
        seen.push(tf);
        tflops.set(key, seen);
      }
    }
    for (const t of [x32, x16, w, y]) t?.release();
  }
}
console.log(`\ndefault tiles: ${JSON.stringify(heuristics.chooseDenseTiles(2048, 4096, ctx.limits))}`);
// the tiles with the best geometric mean over the shapes they ran (all of them), for a runner to
// pass on (`mlstm-bench --dense-tiles`): one line, `best tiles: <text> <mean> TFLOP/s`
const shapesTimed = Math.max(0, ...[...tflops.values()].map((v) => v.length));
const ranked = [...tflops.entries()]
  .filter(([, v]) => v.length === shapesTimed)
  .map(([k, v]) => [k, Math.exp(v.reduce((a, x) => a + Math.log(x), 0) / v.length)] as const)
  .sort((a, b) => b[1] - a[1]);
if (ranked.length) console.log(`best tiles: ${ranked[0][0]} ${ranked[0][1].toFixed(1)} TFLOP/s`);
if (outPath) writeFileSync(outPath, `${csv.join('\n')}\n`);
ctx.destroy();
if (failed) {
  console.log('MISMATCH: the matrix-unit kernel disagrees with the register-tiled one');
  process.exit(1);
}
