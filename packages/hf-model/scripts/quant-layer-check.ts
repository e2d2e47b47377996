/**
 * The matrices of one xLSTM-7B layer (and the lm_head) with random weights on the GPU: the output of
 * the q8 and q4 matmul kernels against the f16 and f32 ones (relative error of the layer output),
 * and GPU time per call (timestamp queries, median of the repetitions) with the weight bytes read
 * per second. q8·i8 / q4·i8: the decode rows (M < 32) through the int8-activation GEMV
 * (activations quantised per group of 32, packed int8 dot products; the time includes the
 * activation quantiser), where the adapter's WGSL has the packed dot product. `--sweep` also times
 * the int8 GEMV's code parameters (lanes per row, rows per invocation) at each decode M.
 * For the GPU machine: `pnpm bundle:device`, then
 * `node quant-layer-check.mjs [--rows 1,8,2048] [--reps 20] [--small] [--sweep] [--out x.csv]`.
 * `--small` divides every dimension by 16 (a quick run on lavapipe).
 */
import { writeFileSync } from 'node:fs';
import { type GpuContext, type GpuTensor, getGpuContext } from '@mlstm/kernels-webgpu';
import { encodeMatmul } from '../src/gpu/kernels.js';
import { encodeQGemv, type GemvConfig, gemvConfig, qgemvActsElements } from '../src/gpu/gemv.js';
import { encodeQMatmul, QMM_TILED_MIN_ROWS, uploadQuant } from '../src/gpu/qmatmul.js';
import { matrixBytes, quantize } from '../src/quant/formats.js';

const argv = process.argv.slice(2);
const arg = (name: string, def: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : def);
const small = argv.includes('--small');
const d = (n: number) => (small ? Math.max(1, Math.round(n / 16)) : n);
const rowsList = arg('--rows', '1,8,2048').split(',').map(Number);
const reps = Number(arg('--reps', '20'));
const out = arg('--out', '');
const sweep = argv.includes('--sweep');
type Variant = 'f32' | 'f16' | 'q8' | 'q4' | 'q8·i8' | 'q4·i8';

// [name, N (out), K (in)] of the xLSTM-7B shape: H 4096, Dqk 2048, Dv 4096, F 10 944, NH 8, V 50 304
const LAYERS: [string, number, number][] = [
  ['qkv_opreact + gates', d(2 * 2048 + 2 * 4096 + 16), d(4096)],
  ['out_proj', d(4096), d(4096)],
  ['proj_up_gate_z', d(2 * 10944), d(4096)],
  ['proj_down', d(4096), d(10944)],
  ['lm_head', d(50304), d(4096)],
];

let seed = 12345;
/** Roughly Gaussian values (sum of two uniforms) times `scale`. */
function randn(n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let x = 0; x < n; x++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const u = seed / 2 ** 32;
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    a[x] = (u + seed / 2 ** 32 - 1) * scale * 2.45;
  }
  return a;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** max |a − b| / max |b| and ‖a − b‖ / ‖b‖. */
function errors(a: Float32Array, b: Float32Array) {
  let num = 0;
  let den = 0;
  let maxD = 0;
  let maxB = 0;
  for (let x = 0; x < a.length; x++) {
    const e = a[x] - b[x];
    num += e * e;
    den += b[x] * b[x];
    maxD = Math.max(maxD, Math.abs(e));
    maxB = Math.max(maxB, Math.abs(b[x]));
  }
  return { rms: Math.sqrt(num / den), max: maxD / maxB };
}

async function run(ctx: GpuContext) {
  const lines = ['layer,N,K,M,format,ms,weight_GB_per_s,rel_rms_vs_f16,rel_max_vs_f16,rel_rms_vs_f32'];
  const timing = ctx.features.timestampQuery;
  for (const [name, N, K] of LAYERS) {
    const w = randn(N * K, 1 / Math.sqrt(K));
    const dense = {
      f32: ctx.upload(w, [N, K], 'f32'),
      f16: ctx.features.shaderF16 ? ctx.upload(w, [N, K], 'f16') : null,
    };
    const quant = {
      q8: uploadQuant(ctx, quantize('q8', w, N, K)),
      q4: uploadQuant(ctx, quantize('q4', w, N, K)),
    };
    for (const M of rowsList) {
      const x = ctx.upload(randn(M * K, 1), [M, K]);
      const y = ctx.empty([M, N]);
      const int8 = M < QMM_TILED_MIN_ROWS && ctx.features.packedIntegerDot;
      const acts = int8 ? ctx.empty([qgemvActsElements(M, K)]) : null;
      const call = (f: Variant, config?: Partial<GemvConfig>) => {
        const batch = ctx.batch();
        if (f === 'q8·i8' || f === 'q4·i8') {
          encodeQGemv(ctx, batch, x, quant[f === 'q8·i8' ? 'q8' : 'q4'], null, y, {
            M,
            N,
            K,
            acts: acts!,
            config,
          });
        } else if (f === 'q8' || f === 'q4') encodeQMatmul(ctx, batch, x, quant[f], null, y, { M, N, K });
        else encodeMatmul(ctx, batch, x, dense[f] as GpuTensor, null, y, { M, N, K });
        batch.submit();
      };
      const time = async (f: Variant, config?: Partial<GemvConfig>) => {
        if (!timing) return Number.NaN;
        for (let r = 0; r < 3; r++) call(f, config); // warm-up
        await ctx.sync();
        ctx.beginGpuTiming(reps + 1);
        for (let r = 0; r < reps; r++) call(f, config);
        return median(await ctx.endGpuTiming());
      };
      const results: Record<string, Float32Array> = {};
      const times: Record<string, number> = {};
      const formats = (['f32', 'f16', 'q8', 'q4', 'q8·i8', 'q4·i8'] as const).filter(
        (f) => (f !== 'f16' || dense.f16) && (int8 || !f.endsWith('i8')),
      );
      for (const f of formats) {
        call(f);
        results[f] = Float32Array.from(await ctx.read(y));
        times[f] = await time(f);
      }
      if (sweep && int8) {
        for (const f of ['q4·i8', 'q8·i8'] as const) {
          const def = gemvConfig(ctx, f === 'q4·i8' ? 'q4' : 'q8', M, N, K);
          const cells: string[] = [];
          for (const tpr of [16, 32, 64, 128]) {
            for (const nr of [1, 2, 4]) {
              const config = { rg: 256 / tpr, nr };
              if (
                (256 / tpr) * nr * def.mt > 256 ||
                (ctx.features.subgroups && tpr < ctx.features.subgroupMaxSize)
              )
                continue;
              const ms = await time(f, config);
              cells.push(`tpr ${tpr} nr ${nr}: ${ms.toFixed(4)}`);
            }
          }
          console.log(
            `sweep ${name} M ${M} ${f} (default tpr ${256 / def.rg} nr ${def.nr} mt ${def.mt}): ${cells.join('; ')}`,
          );
        }
      }
      for (const f of formats) {
        const ms = times[f];
        const gbs =
          matrixBytes(f.endsWith('i8') ? (f.slice(0, 2) as 'q8' | 'q4') : (f as 'f32'), N, K) / ms / 1e6;
        const ref16 = results.f16 ? errors(results[f], results.f16) : { rms: Number.NaN, max: Number.NaN };
        const ref32 = errors(results[f], results.f32);
        const e = (v: number) => v.toExponential(2);
        lines.push(
          [name, N, K, M, f, ms.toFixed(4), gbs.toFixed(0), e(ref16.rms), e(ref16.max), e(ref32.rms)].join(
            ',',
          ),
        );
        console.log(
          `${name.padEnd(20)} [${N}, ${K}] M ${String(M).padStart(4)} ${f}: ${ms.toFixed(4)} ms, ${gbs.toFixed(0)} GB/s of weights; ` +
            `vs f16 rel rms ${e(ref16.rms)}, rel max ${e(ref16.max)}; vs f32 rel rms ${e(ref32.rms)}`,
        );
      }
      x.release();
      y.release();
      acts?.release();
    }
    for (const t of [dense.f32, dense.f16, quant.q8.data, quant.q8.scales, quant.q4.data, quant.q4.scales])
      t?.release();
  }
  if (out) writeFileSync(out, `${lines.join('\n')}\n`);
}

const ctx = await getGpuContext();
console.log(ctx.describe());
try {
  await run(ctx);
} finally {
  ctx.destroy();
}
