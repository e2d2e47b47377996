// Model benchmark: time to first token (prefill of P tokens + the first logits read back) at batch 1
// over prompt lengths, and decode tokens/s of `generate` at batch B (greedy; on WebGPU the replayed
// token step, next ids chosen on the GPU, only the ids read back), for the tiny fixture model or a
// model of the xLSTM-7B shape with random weights built in memory (no download). Needs a build:
// `pnpm --filter @mlstm/hf-model build`.
//
//   node bench/model-bench.mjs [--model tiny|7b|<folder>] [--device webgpu|cpu] [--dtype f32|f16|q8|q4]
//                              [--quant-prefill tiles|dequantize] [--init gpu|cpu]
//                              [--prompts 128,2048,8192] [--batches 1,8,32] [--decode 32] [--blocks N]
//                              [--decode-prompt 128] [--sampling gpu|cpu]
import { getGpuContext } from '@mlstm/kernels-webgpu';
import { XlstmForCausalLM } from '@mlstm/hf-model';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a, x, all) => (a.startsWith('--') ? [a.slice(2), all[x + 1]] : null))
    .filter(Boolean),
);
const which = args.model ?? 'tiny';
const device = args.device ?? 'webgpu';
const dtype = args.dtype ?? 'f32';
const quantPrefill = args['quant-prefill']; // default: 'dequantize' with matrix units, else 'tiles'
const init = args.init ?? 'gpu'; // random 7B-shaped weights generated (and quantised) on the GPU
const prompts = (args.prompts ?? '128,2048,8192').split(',').map(Number);
const batches = (args.batches ?? '1,8,32').split(',').map(Number);
const decodePrompt = Number(args['decode-prompt'] ?? 128);
const sampling = args.sampling ?? 'auto';
const decodeSteps = Number(args.decode ?? 32);

const ctx = device === 'webgpu' ? await getGpuContext() : undefined;
if (ctx) console.log(ctx.describe());
const t0 = performance.now();
let model;
if (which === '7b') {
  const blocks = Number(args.blocks ?? 32);
  model = await XlstmForCausalLM.fromRandom(
    { num_blocks: blocks, num_hidden_layers: blocks },
    { device, gpu: ctx, dtype, quantPrefill, init },
  );
} else {
  const folder =
    which === 'tiny' ? new URL('../../../fixtures/xlstm-tiny/single/model', import.meta.url).pathname : which;
  model = await XlstmForCausalLM.fromPretrained(folder, { device, gpu: ctx, dtype, quantPrefill });
}
const V = model.config.vocabSize;
console.log(
  `model ${which} (${model.config.dims.blocks} blocks, H ${model.config.hiddenSize}) on ${model.device}, weights ${model.weightDtype ?? 'f32 (CPU)'}; loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
const ids = (B, P) =>
  Array.from({ length: B }, (_, b) => Array.from({ length: P }, (_, t) => (t * 131 + b * 7 + 3) % V));

// warm-up: compiles every pipeline (chunkwise + step + dense kernels)
{
  const c = model.newCache(1);
  await model.forward(ids(1, model.config.chunkSize + 3), { cache: c, lastOnly: true });
  await model.forward([[1]], { cache: c, lastOnly: true });
  c.release();
}

const rows = [];
for (const P of prompts) {
  const cache = model.newCache(1);
  const a = performance.now();
  await model.forward(ids(1, P), { cache, lastOnly: true });
  rows.push({ B: 1, prompt: P, 'TTFT ms': (performance.now() - a).toFixed(1) });
  cache.release();
}
for (const B of batches) {
  let t0 = 0;
  let t1 = 0;
  const r = await model.generate(ids(B, decodePrompt), {
    maxNewTokens: decodeSteps + 1,
    stopTokens: [],
    addBos: false,
    sampling,
    onToken: (e) => {
      if (e.step === 0) t0 = performance.now();
      else t1 = performance.now();
    },
  });
  r.cache.release();
  const dt = (t1 - t0) / 1000;
  rows.push({
    B,
    prompt: decodePrompt,
    'decode tok/s (all rows)': ((B * decodeSteps) / dt).toFixed(1),
    'decode ms/step': ((dt * 1000) / decodeSteps).toFixed(2),
  });
}
console.table(rows);
const mem = process.memoryUsage();
console.log(
  `peak GPU pool ${ctx ? (ctx.pool.stats.peakLiveBytes / 2 ** 20).toFixed(1) : '-'} MiB, RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB`,
);
model.dispose();
ctx?.destroy();
