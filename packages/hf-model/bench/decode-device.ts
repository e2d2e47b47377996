/**
 * Decode measurements for a real GPU (bundled with esbuild, run with dawn.node): in one process
 *
 * 1. copy and read bandwidth of plain kernels over 1 GiB (GPU timestamps, median);
 * 2. the decode GEMV (src/gpu/gemv.ts) at the xLSTM-7B shapes, f16 weights, M = 1 and 8: GB/s of
 *    weights streamed, the default code parameters and a small sweep (four copies of each weight
 *    matrix in rotation, so that no run is served from L2);
 * 3. decode with a model of the xLSTM-7B widths and `--blocks` blocks (random f16 weights): tokens/s
 *    of `generate` (GPU sampling, and CPU sampling at B 1), GPU time of one replayed step (one
 *    pass), its per-kernel breakdown (one pass per dispatch), the CPU time to encode a step, and
 *    the 32-block step time extrapolated from them;
 * 4. with `--prefill 128,2048`: the prefill (time to first token, B 1) of the same model at those
 *    prompt lengths: wall time of `forward` (fresh cache, last logits read back), the CPU time to
 *    its last submission, the GPU time of its passes (what is left of the wall time is the GPU
 *    waiting: encoding, submissions, the read-back), and a per-kernel breakdown (one pass per
 *    dispatch), the dense matmuls named by their projection.
 *
 * With `--repeat-to 32` the model runs 32 blocks whose weights are the loaded ones repeated (each
 * block streams its weights from memory all the same; loading 32 random blocks costs minutes).
 *
 *   npx esbuild packages/hf-model/bench/decode-device.ts --bundle --platform=node --format=esm \
 *     --target=node20 --conditions=@mlstm/source --external:webgpu --outfile=decode-device.mjs
 *   node decode-device.mjs [--blocks 4] [--repeat-to 32] [--batches 1,8,32] [--steps 48] [--out results.json]
 *     [--dtype f16|q8|q4] [--dense-decode gemv|matrix-units] [--prefill 128,2048] [--skip bw,gemv,decode]
 *
 * (run 2 of docs/benchmarks/h100-decode: `--blocks 4 --repeat-to 32 --batches 1,8,32 --steps 40`)
 */
import { writeFileSync } from 'node:fs';
import { defineParams, type GpuContext, type GpuTensor, getGpuContext } from '@mlstm/kernels-webgpu';
import { type GemvConfig, encodeGemv, gemvConfig } from '../src/gpu/gemv.js';
import type { GpuDecoder } from '../src/gpu/decode.js';
import { XlstmForCausalLM } from '../src/index.js';

const argv = process.argv.slice(2);
const arg = (k: string, d: string) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1] : d);
const blocks = Number(arg('blocks', '4'));
const batches = arg('batches', '1,8,32').split(',').map(Number);
const steps = Number(arg('steps', '48'));
/** run the decode with this many blocks, the loaded ones repeated (weights shared, states not) */
const repeatTo = Number(arg('repeat-to', '0'));
const skip = new Set(arg('skip', '').split(','));
/** prompt lengths of the prefill breakdown (none by default) */
const prefillLens = arg('prefill', '').split(',').filter(Boolean).map(Number);
if (prefillLens.some((P) => !Number.isInteger(P) || P < 1))
  throw new Error(`--prefill: comma-separated prompt lengths, got ${arg('prefill', '')}`);
/** weight format of the decode model (`--dtype q4`: quantised blocks, q8 tables, int8 activations) */
const dtype = arg('dtype', 'f16') as 'f16' | 'q8' | 'q4';
if (!['f16', 'q8', 'q4'].includes(dtype)) throw new Error(`--dtype: f16, q8 or q4, got ${dtype}`);
/** hf-model's denseDecode for the decode model: 'gemv' (default) or 'matrix-units' (B ≥ 2) */
const denseDecode = arg('dense-decode', 'gemv') as 'gemv' | 'matrix-units';
if (!['gemv', 'matrix-units'].includes(denseDecode))
  throw new Error(`--dense-decode: gemv or matrix-units, got ${denseDecode}`);
/** smoke test on a small adapter (lavapipe): small buffers, shapes and model */
const small = argv.includes('--small');
const sc = small ? 16 : 1;
const out: Record<string, unknown> = {};
const log = (...a: unknown[]) => console.log(...a);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function gpuMs(ctx: GpuContext, reps: number, run: (r: number) => void): Promise<number[]> {
  ctx.beginGpuTiming(reps + 4);
  for (let r = 0; r < reps; r++) run(r);
  return ctx.endGpuTiming();
}

const fillParams = defineParams({ n: 'u32', seed: 'u32' });
/** Pseudo-random f16 pairs in [-1, 1] written on the GPU (no CPU upload of large weights). */
function fillF16(ctx: GpuContext, t: GpuTensor, seed: number) {
  const p = ctx.pipeline(
    'bench.fill16',
    () => `${fillParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> w: array<u32>;
fn h(x: u32) -> u32 { var v = x * 747796405u + 2891336453u; v = ((v >> ((v >> 28u) + 4u)) ^ v) * 277803737u; return (v >> 22u) ^ v; }
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = g.x; i < P.n; i += stride) {
    let a = h(i ^ P.seed);
    let f = vec2<f32>(f32(a & 0xffffu), f32(a >> 16u)) / 32768.0 - 1.0;
    w[i] = pack2x16float(f * 0.02);
  }
}`,
    ['uniform', 'rw'],
  );
  const b = ctx.batch();
  b.dispatch(p, [t], fillParams.pack({ n: t.byteLength / 4, seed }), [4096]);
  b.submit();
}

async function bandwidth(ctx: GpuContext) {
  const bytes = 2 ** 30 / sc;
  const n4 = bytes / 16;
  const a = ctx.empty([bytes / 4]);
  const b = ctx.empty([bytes / 4]);
  const prm = defineParams({ n: 'u32', pad: 'u32' });
  const copy = ctx.pipeline(
    'bench.copy',
    () => `${prm.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = g.x; i < P.n; i += stride) { y[i] = x[i]; }
}`,
    ['uniform', 'read', 'rw'],
  );
  const read = ctx.pipeline(
    'bench.read',
    () => `${prm.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  var acc = vec4<u32>(0u);
  for (var i = g.x; i < P.n; i += stride) { acc ^= x[i]; }
  if (all(acc == vec4<u32>(1u, 2u, 3u, 4u))) { y[g.x] = acc; }
}`,
    ['uniform', 'read', 'rw'],
  );
  const res: Record<string, number> = {};
  for (const [name, p, moved] of [
    ['copy', copy, 2 * bytes],
    ['read', read, bytes],
  ] as const) {
    for (const wgs of [2112, 8448]) {
      const run = () => {
        const bt = ctx.batch();
        bt.dispatch(p, [a, b], prm.pack({ n: n4, pad: 0 }), [wgs]);
        bt.submit();
      };
      await gpuMs(ctx, 2, run);
      const ms = median(await gpuMs(ctx, 9, run));
      res[`${name}_wg${wgs}_GBps`] = moved / ms / 1e6;
    }
  }
  // copyBufferToBuffer, wall clock over 10 copies
  await ctx.sync();
  const t0 = performance.now();
  for (let r = 0; r < 10; r++) {
    const enc = ctx.device.createCommandEncoder();
    enc.copyBufferToBuffer(a.buffer, 0, b.buffer, 0, bytes);
    ctx.device.queue.submit([enc.finish()]);
  }
  await ctx.sync();
  res.copyBufferToBuffer_GBps = (10 * 2 * bytes) / (performance.now() - t0) / 1e6;
  a.release();
  b.release();
  return res;
}

async function gemvSweep(ctx: GpuContext) {
  const shapes = [
    { name: 'proj', N: 12304, K: 4096 },
    { name: 'out_proj', N: 4096, K: 4096 },
    { name: 'up_gate', N: 21888, K: 4096 },
    { name: 'down(swiglu)', N: 4096, K: 10944, swiglu: true },
    { name: 'down', N: 4096, K: 10944 },
    { name: 'lm_head', N: 50304, K: 4096 },
  ].map((s) => ({ ...s, N: Math.ceil(s.N / sc), K: s.K / (small ? 4 : 1) }));
  const rows: Record<string, unknown>[] = [];
  for (const s of shapes) {
    const ws = Array.from({ length: 4 }, (_, i) => {
      const t = ctx.empty([s.N, s.K], 'f16');
      fillF16(ctx, t, 17 + i);
      return t;
    });
    for (const M of [1, 8]) {
      const x = ctx.upload(
        Float32Array.from({ length: M * s.K * (s.swiglu ? 2 : 1) }, (_, i) => Math.sin(i) * 0.5),
        [M * s.K * (s.swiglu ? 2 : 1)],
      );
      const y = ctx.empty([M, s.N]);
      const def = gemvConfig(ctx, 'f16', M, s.N, s.K);
      const variants: Partial<GemvConfig>[] = [{}];
      for (const rg of [1, 2, 4, 8]) for (const nr of M === 1 ? [1, 2, 4] : [2, 4]) variants.push({ rg, nr });
      if (!skip.has('wgred')) variants.push({ subgroups: false });
      let best = 0;
      for (const v of variants) {
        const cfg = { ...def, ...v };
        const run = (r: number) => {
          const bt = ctx.batch();
          encodeGemv(ctx, bt, x, ws[r % 4], null, y, { M, N: s.N, K: s.K, swiglu: s.swiglu, config: cfg });
          bt.submit();
        };
        try {
          await gpuMs(ctx, 4, run);
          const ms = median(await gpuMs(ctx, 16, run));
          const gbps = (s.N * s.K * 2) / ms / 1e6;
          best = Math.max(best, gbps);
          rows.push({
            shape: s.name,
            M,
            ...cfg,
            default: Object.keys(v).length === 0,
            us: ms * 1000,
            GBps: gbps,
          });
        } catch (e) {
          rows.push({ shape: s.name, M, ...cfg, error: String(e) });
        }
      }
      if (s.name === 'out_proj') {
        // correctness on this adapter: the default configuration against a float64 loop
        const bt = ctx.batch();
        encodeGemv(ctx, bt, x, ws[0], null, y, { M, N: s.N, K: s.K, config: def });
        bt.submit();
        const [got, w, xv] = [await ctx.read(y), await ctx.read(ws[0]), await ctx.read(x)];
        let err = 0;
        let scale = 0;
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < s.N; n++) {
            let acc = 0;
            for (let k = 0; k < s.K; k++) acc += xv[m * s.K + k] * w[n * s.K + k];
            err = Math.max(err, Math.abs(acc - got[m * s.N + n]));
            scale = Math.max(scale, Math.abs(acc));
          }
        }
        log(`gemv check out_proj M${M}: max abs error ${err.toExponential(2)} (max |y| ${scale.toFixed(3)})`);
        rows.push({ shape: s.name, M, check: 'max abs error vs float64', err, scale });
      }
      const d = rows.find((r) => r.shape === s.name && r.M === M && r.default) as {
        GBps: number;
        us: number;
      };
      log(
        `gemv ${s.name} M${M}: default ${d?.GBps?.toFixed(0)} GB/s (${d?.us?.toFixed(1)} us), best ${best.toFixed(0)}`,
      );
      x.release();
      y.release();
    }
    for (const t of ws) t.release();
  }
  return rows;
}

/** The model of the 7B widths with `--blocks` blocks (`--repeat-to`: run as that many). */
async function loadModel(ctx: GpuContext) {
  const t0 = performance.now();
  const m = await XlstmForCausalLM.fromRandom(
    small
      ? { embedding_dim: 256, num_heads: 2, vocab_size: 1000, num_blocks: blocks, num_hidden_layers: blocks }
      : { num_blocks: blocks, num_hidden_layers: blocks },
    dtype === 'f16'
      ? { device: 'webgpu', gpu: ctx, weightDtype: 'f16', denseDecode }
      : { device: 'webgpu', gpu: ctx, dtype, denseDecode },
  );
  const loadS = (performance.now() - t0) / 1000;
  log(
    `model of the 7B widths, ${blocks} blocks, ${dtype}, denseDecode ${denseDecode}: loaded in ${loadS.toFixed(1)} s`,
  );
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads the engine of the model
  const eng = (m as any).gpu as { blocks: unknown[] };
  if (repeatTo > blocks) {
    const distinct = eng.blocks.slice();
    while (eng.blocks.length < repeatTo) eng.blocks.push(distinct[eng.blocks.length % distinct.length]);
    (m.config.dims as { blocks: number }).blocks = repeatTo;
    log(`running ${repeatTo} blocks (the ${blocks} loaded ones repeated)`);
  }
  return { m, loadS };
}

const prompt = (V: number, B: number, P: number) =>
  Array.from({ length: B }, (_, b) => Array.from({ length: P }, (_, t) => (t * 131 + b * 7 + 3) % V));

async function decode(ctx: GpuContext, m: XlstmForCausalLM, loadS: number) {
  const nb = m.config.dims.blocks;
  const V = m.config.vocabSize;
  const res: Record<string, unknown>[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads the engine of the model
  const engine = (m as any).gpu;
  for (const B of batches) {
    ctx.pool.resetPeak?.();
    // warm-up (pipelines of this batch size, GPU clocks after the CPU-bound load): untimed
    (await m.generate(prompt(V, B, 16), { maxNewTokens: 24, stopTokens: [], addBos: false })).cache.release();
    for (const sampling of B === 1 ? (['gpu', 'cpu'] as const) : (['gpu'] as const)) {
      const times: number[] = [];
      const r = await m.generate(prompt(V, B, 16), {
        maxNewTokens: steps,
        stopTokens: [],
        addBos: false,
        sampling,
        onToken: () => times.push(performance.now()),
      });
      r.cache.release();
      const n = times.length - 3;
      const ms = (times[times.length - 1] - times[2]) / n;
      res.push({ B, sampling, msPerStep: ms, tokPerS: (B * 1000) / ms });
      log(
        `generate B${B} ${sampling} sampling: ${ms.toFixed(2)} ms/step, ${((B * 1000) / ms).toFixed(1)} tok/s`,
      );
    }
    // the decoder's own loop (one step submitted ahead of each read-back), one submission per
    // step against the default growing parts
    for (const chunks of [false, true]) {
      const c = m.newCache(B);
      await m.forward(prompt(V, B, 16), { cache: c, lastOnly: true });
      const d: GpuDecoder = engine.decoder(B, c.states, { sampling: 'gpu', chunks });
      d.writeIds(new Array(B).fill(1));
      d.submit();
      let t0 = 0;
      const n = steps;
      for (let j = 0; j < n; j++) {
        if (j === 3) t0 = performance.now();
        d.submit();
        await d.read();
      }
      const ms = (performance.now() - t0) / (n - 3);
      await d.read();
      c.states = d.finish(n + 1);
      c.release();
      res.push({ B, loop: 'decoder, one step ahead', chunks, msPerStep: ms, tokPerS: (B * 1000) / ms });
      log(
        `decoder loop B${B} chunks ${chunks}: ${ms.toFixed(2)} ms/step, ${((B * 1000) / ms).toFixed(1)} tok/s`,
      );
    }
    // the replayed step alone: GPU time of one pass, per-kernel breakdown, CPU encode time
    const cache = m.newCache(B);
    await m.forward(prompt(V, B, 16), { cache, lastOnly: true });
    const dec: GpuDecoder = engine.decoder(B, cache.states, { sampling: 'gpu' });
    dec.writeIds(new Array(B).fill(1));
    for (let r = 0; r < 3; r++) {
      dec.submit();
      await dec.read();
    }
    const enc: number[] = [];
    ctx.beginGpuTiming(40);
    for (let r = 0; r < 20; r++) {
      const a = performance.now();
      dec.submit();
      enc.push(performance.now() - a);
      await dec.read();
    }
    const stepMs = median(await ctx.endGpuTiming());
    ctx.beginGpuTiming(2000, { perDispatch: true });
    dec.submit();
    await dec.read();
    const per = await ctx.endGpuTimingLabelled();
    const byLabel: Record<string, number> = {};
    for (const e of per) byLabel[e.label] = (byLabel[e.label] ?? 0) + e.ms;
    const dispatches = per.length;
    const head = (byLabel.embedding ?? 0) + (byLabel['sample (argmax)'] ?? 0);
    // lm_head and the final norm are the last gemv / rmsnorm of the step
    const last = per.filter((e) => e.label === 'gemv').at(-1)?.ms ?? 0;
    const lastNorm = per.filter((e) => e.label === 'rmsnorm').at(-1)?.ms ?? 0;
    const headMs = head + last + lastNorm;
    const perBlockPass = (stepMs - headMs) / nb;
    const est32 = headMs + 32 * perBlockPass;
    dec.finish(0);
    cache.release();
    res.push({
      B,
      gpuStepMs: stepMs,
      cpuEncodeMs: median(enc),
      dispatches,
      byLabelMs: byLabel,
      headMs,
      perBlockMs: perBlockPass,
      est32BlocksMs: est32,
      est32TokPerS: (B * 1000) / est32,
      peakPoolMiB: ctx.pool.stats.peakLiveBytes / 2 ** 20,
    });
    log(
      `B${B}: GPU ${stepMs.toFixed(3)} ms/step (${nb} blocks, one pass), encode ${median(enc).toFixed(3)} ms CPU, ${dispatches} dispatches; head ${headMs.toFixed(3)} ms, per block ${perBlockPass.toFixed(3)} ms → 32 blocks ≈ ${est32.toFixed(2)} ms = ${((B * 1000) / est32).toFixed(1)} tok/s`,
    );
    log('  per kernel (ms, separate passes):', JSON.stringify(byLabel));
  }
  return { loadS, rows: res };
}

/** Names of the dense matmuls of a block in the order the prefill encodes them. */
const BLOCK_MATMULS = ['proj (q/k/v/o-gate/gates)', 'out_proj', 'FFN up/gate (SiLU-gated)', 'FFN down'];

/**
 * The prefill of P tokens at B 1 (time to first token): wall time, GPU time of its passes, and the
 * GPU time per kernel (one pass per dispatch, so each carries a pass's start and end: their sum
 * exceeds the GPU time of the real passes).
 */
async function prefill(ctx: GpuContext, m: XlstmForCausalLM, lens: number[]) {
  const nb = m.config.dims.blocks;
  const rows: Record<string, unknown>[] = [];
  for (const P of lens) {
    const ids = prompt(m.config.vocabSize, 1, P);
    const run = async () => {
      const c = m.newCache(1);
      try {
        await m.forward(ids, { cache: c, lastOnly: true });
      } finally {
        c.release();
      }
    };
    // warm-up: this length's pipelines and pool buffers, GPU clocks
    for (let r = 0; r < 2; r++) await run();
    const wall: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      await run();
      wall.push(performance.now() - t0);
    }
    const wallMs = median(wall);
    // the CPU's share: time from the call to its last queue submission, and the submissions
    const q = ctx.device.queue as unknown as { submit: (b: unknown) => void };
    const submit = q.submit;
    const enc: number[] = [];
    let submits = 0;
    for (let r = 0; r < 3; r++) {
      let last = 0;
      submits = 0;
      q.submit = (b: unknown) => {
        submit.call(ctx.device.queue, b);
        last = performance.now();
        submits++;
      };
      const t0 = performance.now();
      try {
        await run();
      } finally {
        q.submit = submit;
      }
      enc.push(last - t0);
    }
    const encodeMs = median(enc);
    // GPU time of the real passes (one per submitted batch)
    const gpu: number[] = [];
    let passes = 0;
    for (let r = 0; r < 3; r++) {
      ctx.beginGpuTiming(2048);
      await run();
      const t = await ctx.endGpuTiming();
      passes = t.length;
      gpu.push(t.reduce((a, b) => a + b, 0));
    }
    const gpuMs = median(gpu);
    // per kernel: one pass per dispatch (at most 2 048 passes: a query set holds 4 096 timestamps)
    const byLabel: Record<string, number> = {};
    const counts: Record<string, number> = {};
    let dispatches = 0;
    let perKernel = '';
    try {
      ctx.beginGpuTiming(2048, { perDispatch: true });
      await run();
      const per = await ctx.endGpuTimingLabelled();
      dispatches = per.length;
      let dense = 0;
      for (const e of per) {
        let label = e.label;
        if (label.startsWith('dense matmul')) {
          label = dense < 4 * nb ? `${label}: ${BLOCK_MATMULS[dense % 4]}` : `${label}: head`;
          dense++;
        }
        byLabel[label] = (byLabel[label] ?? 0) + e.ms;
        counts[label] = (counts[label] ?? 0) + 1;
      }
    } catch (e) {
      perKernel = `per-kernel breakdown not taken: ${(e as Error).message.slice(0, 200)}`;
    }
    const sumPer = Object.values(byLabel).reduce((a, b) => a + b, 0);
    rows.push({
      P,
      wallMs,
      wallAll: wall,
      encodeMs,
      submits,
      gpuMs,
      passes,
      dispatches,
      byLabelMs: byLabel,
      counts,
    });
    log(
      `prefill P ${P} (B 1, ${nb} blocks): TTFT ${wallMs.toFixed(2)} ms wall, GPU ${gpuMs.toFixed(2)} ms in ${passes} passes (GPU idle ${(wallMs - gpuMs).toFixed(2)} ms), CPU to the last of ${submits} submissions ${encodeMs.toFixed(2)} ms, ${dispatches} dispatches, ${(P / (wallMs / 1000)).toFixed(0)} tok/s`,
    );
    if (perKernel) log(`  ${perKernel}`);
    else {
      log(`  per kernel (ms over ${nb} blocks, one pass per dispatch, sum ${sumPer.toFixed(2)} ms; count):`);
      for (const [k, v] of Object.entries(byLabel).sort((a, b) => b[1] - a[1]))
        log(
          `    ${k.padEnd(52)} ${v.toFixed(3).padStart(9)} ms  ${((100 * v) / sumPer).toFixed(1).padStart(5)} %  ×${counts[k]}`,
        );
    }
  }
  return rows;
}

const ctx = await getGpuContext();
log(ctx.describe());
out.adapter = ctx.describe();
if (!skip.has('bw')) {
  out.bandwidth = await bandwidth(ctx);
  log('bandwidth', JSON.stringify(out.bandwidth));
}
if (!skip.has('gemv')) out.gemv = await gemvSweep(ctx);
if (!skip.has('decode') || prefillLens.length) {
  const { m, loadS } = await loadModel(ctx);
  if (!skip.has('decode')) out.decode = await decode(ctx, m, loadS);
  if (prefillLens.length) out.prefill = await prefill(ctx, m, prefillLens);
  m.dispose();
}
const path = arg('out', '');
if (path) writeFileSync(path, JSON.stringify(out, null, 1));
ctx.destroy();
