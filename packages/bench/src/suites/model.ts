/**
 * The `model` suite: whole-model numbers of `@mlstm/hf-model` on WebGPU, measured as
 * `packages/hf-model/bench/model-bench.mjs` does:
 *
 * - `model_<name>_ttft`: time to first token = the prefill of P tokens at batch B plus the read
 *   back of the first logits (one fresh cache per repetition), over prompt lengths; one series
 *   per (weight dtype, B);
 * - `model_<name>_decode`: one decode step of `generate` after a prompt (greedy, on WebGPU the
 *   replayed token step with the next ids chosen on the GPU, only the ids read back; the mean over
 *   `decode_steps` steps after the first token), over batch sizes; `R--` is ms per step and
 *   `TPS--` the decode tokens/s of all rows (`B · 1000 / ms`), also plotted.
 *
 * `M--` is the peak of the kernels' buffer pool during a repetition (weights included). Models:
 * `tiny` (the fixture `fixtures/xlstm-tiny/single/model`), `7b` (the xLSTM-7B shape with random
 * weights built in memory; `blocks` of them), or a checkpoint folder. A model is loaded when a cell
 * needs it (model, blocks, weight dtype) and warmed up (every pipeline compiled) before its first
 * cell; one model is in memory at a time (the previous one is disposed first), so `M--` holds only
 * the measured model's weights.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DenseDecode, type WeightFormat, XlstmForCausalLM } from '@mlstm/hf-model';
import type { GpuContext } from '@mlstm/kernels-webgpu';
import { BenchmarkConfig, type ParamDict } from '../core/config.js';
import { poolMemoryMeter } from '../core/gpu-timing.js';
import {
  type BenchmarkCreator,
  BenchmarkInterface,
  type MemoryMeter,
  type Timer,
} from '../core/interface.js';
import type { AdditionalParams, Dtype, KernelSpecInit } from '../core/kernel-spec.js';
import { type BenchmarkRunResult, PARAM_PREFIX, RUNTIME_PREFIX, plotLabel, toCsv } from '../core/run.js';
import { linePlotSvg } from '../core/plot.js';
import { type BenchEnv, gpuDtype } from './common.js';
import type { Preset, SuiteOptions } from './suites.js';

/** Column prefix of the decode tokens/s (all rows) in `model_*_decode/results.csv`. */
export const TOKENS_PER_S_PREFIX = 'TPS--';
export const MODEL_TTFT = 'model--ttft';
export const MODEL_DECODE = 'model--decode';
/** prefill of prompts of different lengths packed together (`generateBatch`, first token of every row) */
export const MODEL_PACKED = 'model--packed';

export interface ModelPreset {
  /** `tiny`, `7b`, or checkpoint folders */
  models: string[];
  promptLens: number[];
  /** batch sizes of the decode sweep (and of the TTFT sweep unless `ttftBatchSizes`) */
  batchSizes: number[];
  ttftBatchSizes?: number[];
  decodeSteps: number;
  /** blocks of the 7B-shaped model (32 = xLSTM-7B) */
  blocks: number;
  /** prompt length before the decode steps */
  decodePrompt: number;
  dtypes: Dtype[];
  warmup: number;
  rep: number;
  /**
   * packed prefill: total tokens per batch of prompts, and the range of the prompts' random lengths
   * (also run as equal prompts of the longest length); none = no packed config
   */
  packed?: { tokens: number[]; minLen: number; maxLen: number };
  /** smaller sizes for the 7B-shaped model (where the options do not set them) */
  sevenB?: Partial<
    Pick<
      ModelPreset,
      | 'promptLens'
      | 'batchSizes'
      | 'ttftBatchSizes'
      | 'decodeSteps'
      | 'decodePrompt'
      | 'dtypes'
      | 'rep'
      | 'packed'
    >
  >;
}

export const MODEL_PRESETS: Record<Preset, ModelPreset> = {
  // lavapipe: seconds (the 7B shape with one block: embedding + lm head of 50 304 × 4096)
  tiny: {
    models: ['tiny', '7b'],
    promptLens: [16, 64],
    batchSizes: [1, 2],
    decodeSteps: 4,
    blocks: 1,
    decodePrompt: 16,
    dtypes: ['float32'],
    warmup: 0,
    rep: 2,
    packed: { tokens: [48], minLen: 4, maxLen: 24 },
    sevenB: {
      promptLens: [8],
      batchSizes: [1],
      decodeSteps: 2,
      decodePrompt: 8,
      dtypes: ['float16'],
      rep: 1,
    },
  },
  default: {
    models: ['tiny', '7b'],
    promptLens: [128, 512],
    batchSizes: [1, 8],
    decodeSteps: 32,
    blocks: 4,
    decodePrompt: 128,
    dtypes: ['float16'],
    warmup: 1,
    rep: 3,
    sevenB: { packed: { tokens: [4096], minLen: 64, maxLen: 1024 } },
  },
  // issue 16: the xLSTM-7B shape (32 blocks), TTFT at 128 / 2048 / 8192 tokens (B 1), decode at B 1, 8, 32
  full: {
    models: ['tiny', '7b'],
    promptLens: [128, 2048, 8192],
    ttftBatchSizes: [1],
    batchSizes: [1, 8, 32],
    decodeSteps: 64,
    blocks: 32,
    decodePrompt: 128,
    dtypes: ['float16'],
    warmup: 1,
    rep: 3,
    // issue 18: 65 536 tokens per batch in prompts of 512…8 192 tokens (native xLSTM 7B ≈ 47 600 tok/s)
    sevenB: { packed: { tokens: [65536], minLen: 512, maxLen: 8192 } },
  },
};

/** `tiny` / `7b` as they are, a folder → its last path parts as a folder-safe name. */
export function modelSlug(model: string): string {
  if (model === 'tiny' || model === '7b') return model;
  const s = model
    .replace(/[\\/]+$/, '')
    .split(/[\\/]/)
    .slice(-2)
    .join('_')
    .replace(/[^A-Za-z0-9_.-]+/g, '_');
  return s || 'folder';
}

/** The model suite's configs: a TTFT and a decode config per model. */
export function modelConfigs(o: SuiteOptions): BenchmarkConfig[] {
  const base = MODEL_PRESETS[o.preset];
  const models = o.models ?? base.models;
  const blocks = o.modelBlocks ?? base.blocks;
  const warmup = o.warmup ?? base.warmup;
  const out: BenchmarkConfig[] = [];
  const used = new Set<string>();
  for (const model of models) {
    const p = model === '7b' ? { ...base, ...base.sevenB } : base;
    const promptLens = o.promptLens ?? p.promptLens;
    const batchSizes = o.modelBatchSizes ?? p.batchSizes;
    const quants = o.weightQuants ?? [];
    // (spec dtype, weight format) pairs: the float dtypes, then q8 / q4 weights (f32 activations)
    const formats: [Dtype, string][] = [
      ...(o.dtypes ?? (quants.length ? [] : p.dtypes)).map((d): [Dtype, string] => [d, '']),
      ...quants.flatMap((q) =>
        (o.quantDecodes ?? ['']).map((qd): [Dtype, string] => ['float32', qd ? `${q}:${qd}` : q]),
      ),
    ];
    const decodeSteps = o.decodeSteps ?? p.decodeSteps;
    const decodePrompt = o.decodePrompt ?? Math.min(p.decodePrompt, ...promptLens);
    const rep = o.rep ?? p.rep;
    let slug = modelSlug(model);
    while (used.has(slug)) slug += '_';
    used.add(slug);
    const modelParams: AdditionalParams = {
      ...(model === '7b' ? { model, blocks } : { model }),
      ...(o.prefillChunkSize ? { prefill_chunk_size: o.prefillChunkSize } : {}),
      ...(o.denseDecode ? { dense_decode: o.denseDecode } : {}),
    };
    // weights 'q4' or 'q4:int8' (with hf-model's quantDecode): label 'q4' / 'q4 int8'
    const dt = (d: Dtype, w: string) => w.replace(':', ' ') || (d === 'float16' ? 'f16' : 'f32');
    const withWeights = (w: string) => {
      if (!w) return modelParams;
      const [weights, qd] = w.split(':');
      return { ...modelParams, weights, ...(qd ? { quant_decode: qd } : {}) };
    };
    const name = model === '7b' ? `7B-shaped (${blocks} blocks)` : model;
    const ttftBatchSizes = o.modelBatchSizes ?? p.ttftBatchSizes ?? batchSizes;
    const ttftSpecs: KernelSpecInit[] = formats.flatMap(([dtype, w]) =>
      ttftBatchSizes.map((B) => ({
        kernelName: MODEL_TTFT,
        dtype,
        label: `${name} ${dt(dtype, w)} B=${B}`,
        additionalParams: { ...withWeights(w), batch_size: B },
      })),
    );
    out.push(
      new BenchmarkConfig({
        benchmarkName: `model_${slug}_ttft`,
        varyType: 'grid',
        varyParams: { prompt_length: promptLens },
        fixedParams: {},
        kernelSpecs: ttftSpecs,
        xAxisParam: 'prompt_length',
        warmup,
        rep,
      }),
    );
    out.push(
      new BenchmarkConfig({
        benchmarkName: `model_${slug}_decode`,
        varyType: 'grid',
        varyParams: { batch_size: batchSizes },
        fixedParams: { prompt_length: decodePrompt, decode_steps: decodeSteps },
        kernelSpecs: formats.map(([dtype, w]) => ({
          kernelName: MODEL_DECODE,
          dtype,
          label: `${name} ${dt(dtype, w)}`,
          additionalParams: withWeights(w),
        })),
        xAxisParam: 'batch_size',
        warmup,
        rep,
      }),
    );
    const packed = o.packedTokens
      ? { ...(p.packed ?? { minLen: 512, maxLen: 8192 }), tokens: o.packedTokens }
      : p.packed;
    if (packed && packed.tokens.length > 0) {
      out.push(
        new BenchmarkConfig({
          benchmarkName: `model_${slug}_packed`,
          varyType: 'grid',
          varyParams: { packed_tokens: packed.tokens },
          fixedParams: { min_length: packed.minLen, max_length: packed.maxLen },
          kernelSpecs: formats.flatMap(([dtype, w]) =>
            (['random', 'equal'] as const).map((lengths) => ({
              kernelName: MODEL_PACKED,
              dtype,
              label: `${name} ${dt(dtype, w)} ${lengths === 'random' ? 'packed, random lengths' : 'equal lengths'}`,
              additionalParams: { ...withWeights(w), lengths },
            })),
          ),
          xAxisParam: 'packed_tokens',
          warmup,
          // a call is a whole batch's prefill (seconds at 65 536 tokens of the 7B shape)
          rep: Math.min(rep, 2),
        }),
      );
    }
  }
  return out;
}

/** Finds `fixtures/xlstm-tiny/single/model` above the working directory or this file. */
export function findTinyModel(): string {
  const fromEnv = process.env.MLSTM_TINY_MODEL;
  if (fromEnv) return fromEnv;
  const rel = join('fixtures', 'xlstm-tiny', 'single', 'model');
  const starts = [process.cwd()];
  try {
    starts.push(dirname(fileURLToPath(import.meta.url)));
  } catch {
    // not a file URL (bundled elsewhere)
  }
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      if (existsSync(join(dir, rel, 'config.json'))) return join(dir, rel);
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error(`the tiny model (${rel}) was not found above ${starts.join(' or ')}; set MLSTM_TINY_MODEL`);
}

/** Deterministic prompt ids (as model-bench.mjs). */
function promptIds(B: number, P: number, V: number): number[][] {
  return Array.from({ length: B }, (_, b) => Array.from({ length: P }, (_, t) => (t * 131 + b * 7 + 3) % V));
}

/** Per run: the loaded model (one at a time), keyed by model / blocks / dtype. */
class ModelCache {
  private readonly models = new Map<string, Promise<XlstmForCausalLM>>();
  private current = '';
  constructor(private readonly env: BenchEnv) {}

  async get(
    model: string,
    blocks: number,
    weightDtype: WeightFormat,
    prefillChunkSize?: number,
    quantDecode: '' | 'int8' | 'f32' = '',
    denseDecode: '' | DenseDecode = '',
  ): Promise<XlstmForCausalLM> {
    // one model in memory at a time: the pool's peak then holds only the measured model's weights
    const key = `${model}|${blocks}|${weightDtype}|${prefillChunkSize ?? ''}|${quantDecode}|${denseDecode}`;
    if (key !== this.current) {
      await this.close();
      this.current = key;
    }
    let m = this.models.get(key);
    if (!m) {
      m = this.load(model, blocks, weightDtype, prefillChunkSize, quantDecode, denseDecode);
      this.models.set(key, m);
      m.catch(() => {}); // a failed load stays failed (recorded per cell, not retried)
    }
    return m;
  }

  private async load(
    model: string,
    blocks: number,
    dtype: WeightFormat,
    prefillChunkSize: number | undefined,
    quantDecode: '' | 'int8' | 'f32',
    denseDecode: '' | DenseDecode,
  ): Promise<XlstmForCausalLM> {
    const gpu = await this.env.gpu();
    const liveBefore = gpu.pool.stats.liveBytes;
    const opts = {
      device: 'webgpu' as const,
      gpu,
      dtype,
      ...(prefillChunkSize ? { prefillChunkSize } : {}),
      ...(quantDecode ? { quantDecode } : {}),
      ...(denseDecode ? { denseDecode } : {}),
    };
    const m =
      model === '7b'
        ? await XlstmForCausalLM.fromRandom({ num_blocks: blocks, num_hidden_layers: blocks }, opts)
        : await XlstmForCausalLM.fromPretrained(model === 'tiny' ? findTinyModel() : model, {
            ...opts,
            tokenizer: false,
          });
    // what the weights hold on the GPU (the pool's live bytes right after the load; `M--` of a cell
    // is the peak during it, activations and the decoder's buffers included)
    const resident = (gpu.pool.stats.liveBytes - liveBefore) / 1e9;
    const st = m.memoryEstimate({ batch: 1 }).stateBytesPerSequence / 1e9;
    console.log(
      `[model] ${model} ${dtype}: weights resident ${resident.toFixed(3)} GB (pool live after load); + states of one sequence ${st.toFixed(3)} GB = ${(resident + st).toFixed(3)} GB`,
    );
    // warm-up: compiles every pipeline (chunkwise + step + dense kernels)
    const V = m.config.vocabSize;
    const c = m.newCache(1);
    try {
      await m.forward(promptIds(1, m.config.chunkSize + 3, V), { cache: c, lastOnly: true });
      await m.forward([[1]], { cache: c, lastOnly: true });
    } finally {
      c.release();
    }
    return m;
  }

  async close(): Promise<void> {
    const all = [...this.models.values()];
    this.models.clear();
    for (const p of all) {
      try {
        (await p).dispose();
      } catch {
        // a failed load has nothing to free
      }
    }
  }
}

/** Returns the time the benchmark function measured itself (parts of a call are untimed). */
class SelfTimer implements Timer {
  constructor(
    readonly method: string,
    private readonly last: () => number,
  ) {}
  async time(fn: () => Promise<void>): Promise<number> {
    await fn();
    return this.last();
  }
}

abstract class ModelBenchmark extends BenchmarkInterface {
  model = 'tiny';
  blocks = 32;
  batch_size = 1;
  prompt_length = 128;
  decode_steps = 32;
  /** quantised weight format ('q8', 'q4'), or '' for the spec's float dtype */
  weights = '';
  /** with quantised weights: hf-model's quantDecode ('int8', 'f32'), or '' for the model's default */
  quant_decode: '' | 'int8' | 'f32' = '';
  /** the model's `prefillChunkSize` (tokens per prefill call); 0 = hf-model's default (its activation budget) */
  prefill_chunk_size = 0;
  /** hf-model's denseDecode ('gemv', 'matrix-units'), or '' for the model's default */
  dense_decode: '' | DenseDecode = '';
  protected lm?: XlstmForCausalLM;
  protected ctx?: GpuContext;
  protected lastMs = NaN;

  constructor(
    protected readonly env: BenchEnv,
    protected readonly models: ModelCache,
    protected readonly dtype: Dtype,
  ) {
    super();
    // a call is a whole prefill or decode run (seconds for the 7B shape): the suite's own
    // warm-up / repetitions only, no stability batches (recorded as stable: null)
    this.warmup_tolerance = 0;
  }

  async setup(): Promise<void> {
    this.ctx = await this.env.gpu();
    const w = this.weights as WeightFormat;
    this.lm = await this.models.get(
      this.model,
      this.blocks,
      w || gpuDtype(this.dtype),
      this.prefill_chunk_size || undefined,
      this.quant_decode,
      this.dense_decode,
    );
  }

  override memoryMeter(): MemoryMeter | null {
    return this.ctx ? poolMemoryMeter(this.ctx) : null;
  }

  protected ids(): number[][] {
    return promptIds(this.batch_size, this.prompt_length, this.lm!.config.vocabSize);
  }
}

/** Time to first token: prefill of the prompt + the first logits read back. */
export class ModelTtftBenchmark extends ModelBenchmark {
  async benchmarkFn(): Promise<void> {
    const m = this.lm!;
    const ids = this.ids();
    const cache = m.newCache(this.batch_size);
    try {
      const t0 = performance.now();
      await m.forward(ids, { cache, lastOnly: true });
      this.lastMs = performance.now() - t0;
    } finally {
      cache.release();
    }
  }
  timer(): Timer {
    return new SelfTimer('wall (prefill + first logits read back)', () => this.lastMs);
  }
}

/**
 * Decode: ms per greedy step of all B rows of `generate` (WebGPU: the replayed step, next ids
 * chosen on the GPU), timed from the first token (prefill + first choice untimed) to the last.
 */
export class ModelDecodeBenchmark extends ModelBenchmark {
  async benchmarkFn(): Promise<void> {
    const m = this.lm!;
    let t0 = Number.NaN;
    let t1 = Number.NaN;
    const r = await m.generate(this.ids(), {
      maxNewTokens: this.decode_steps + 1,
      stopTokens: [],
      addBos: false,
      onToken: (e) => {
        if (e.step === 0) t0 = performance.now();
        else t1 = performance.now();
      },
    });
    r.cache.release();
    this.lastMs = (t1 - t0) / this.decode_steps;
  }
  timer(): Timer {
    return new SelfTimer(`wall (${this.decode_steps} decode steps of generate, greedy)`, () => this.lastMs);
  }
}

/**
 * Packed prefill: `generateBatch` of prompts totalling `packed_tokens` tokens — of seeded random
 * lengths in [min_length, max_length] (`lengths: 'random'`), or all of `max_length` (`'equal'`) —
 * up to the first token of every row (prefill + one choice; no decode step). On WebGPU the prefill
 * runs as as many forward calls as hf-model's per-call token bound asks
 * (`model.packedPrefillCalls`: consecutive prompts packed up to `gpuLayout().packedPrefill.tokens`
 * tokens per call, a longer prompt in segments); the time covers all of them, so the tokens/s
 * (`TPS--`, {@link recordModelResult}) is every prompt token over the whole prefill. The timing
 * column (`T--`) names the number of calls and the tokens of the largest.
 */
export class ModelPackedBenchmark extends ModelBenchmark {
  packed_tokens = 65536;
  min_length = 512;
  max_length = 8192;
  lengths: 'random' | 'equal' = 'random';

  /** the prompts' lengths: they sum to `packed_tokens` (the last one takes the remainder) */
  promptLengths(): number[] {
    const out: number[] = [];
    let left = this.packed_tokens;
    let s = 20261207;
    while (left > 0) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const span = this.max_length - this.min_length + 1;
      const n = this.lengths === 'equal' ? this.max_length : this.min_length + (s % span);
      out.push(Math.min(n, left));
      left -= out[out.length - 1];
    }
    return out;
  }

  override ids(): number[][] {
    const V = this.lm!.config.vocabSize;
    return this.promptLengths().map((n, b) => Array.from({ length: n }, (_, t) => (t * 131 + b * 7 + 3) % V));
  }

  /** The prefill's forward calls: how many (segments of a long prompt counted), and the largest's tokens. */
  prefillCalls(): { calls: number; maxTokens: number } {
    const plan = this.lm!.packedPrefillCalls(this.promptLengths());
    const seg = this.lm!.gpuLayout()?.prefill.tokens ?? Number.POSITIVE_INFINITY;
    return {
      calls: plan.reduce((a, c) => a + c.segments, 0),
      maxTokens: Math.max(...plan.map((c) => (c.segments > 1 ? Math.min(seg, c.tokens) : c.tokens))),
    };
  }

  async benchmarkFn(): Promise<void> {
    const rows = this.ids();
    const t0 = performance.now();
    const r = await this.lm!.generateBatch(rows, { maxNewTokens: 1, stopTokens: [], addBos: false });
    this.lastMs = performance.now() - t0;
    r.cache.release();
    // the tokens/s divides packed_tokens by the time of the whole prefill: every token must be in it
    if (r.prefillTokens !== this.packed_tokens)
      throw new Error(
        `the packed prefill took ${r.prefillTokens} tokens, not packed_tokens = ${this.packed_tokens}`,
      );
  }
  timer(): Timer {
    const { calls, maxTokens } = this.prefillCalls();
    return new SelfTimer(
      `wall (packed prefill in ${calls} forward call${calls === 1 ? '' : 's'} of <= ${maxTokens} tokens, all timed, + first token of every row)`,
      () => this.lastMs,
    );
  }
}

const caches = new WeakMap<BenchEnv, ModelCache>();
function modelCache(env: BenchEnv): ModelCache {
  let c = caches.get(env);
  if (!c) {
    c = new ModelCache(env);
    caches.set(env, c);
  }
  return c;
}

/** Creator of the model suite's cells (the models are shared by every cell of a run). */
export function createModelBenchmarkCreator(env: BenchEnv): BenchmarkCreator {
  const models = modelCache(env);
  return (spec, params: ParamDict) => {
    let b: ModelBenchmark;
    if (spec.kernelName === MODEL_TTFT) b = new ModelTtftBenchmark(env, models, spec.dtype);
    else if (spec.kernelName === MODEL_DECODE) b = new ModelDecodeBenchmark(env, models, spec.dtype);
    else if (spec.kernelName === MODEL_PACKED) b = new ModelPackedBenchmark(env, models, spec.dtype);
    else throw new Error(`no model benchmark for '${spec.kernelName}'`);
    b.setParams(params);
    return b;
  };
}

/**
 * After a decode or packed-prefill config: `TPS--<spec>` columns (tokens/s: decode of all rows, or
 * prompt tokens prefilled) in `results.csv` and a tokens/s plot `plot_<name>_tokens_per_s.svg`.
 */
export async function recordModelResult(
  res: BenchmarkRunResult & { folder: string },
  adapter: string,
): Promise<void> {
  const name = res.config.benchmarkName;
  const decode = name.endsWith('_decode');
  if (!decode && !name.endsWith('_packed')) return;
  const xParam = decode ? 'batch_size' : 'packed_tokens';
  const pts = [];
  for (const row of res.rows) {
    // tokens per call: one per row per decode step, or every prompt token of the packed batch
    const tokens = Number(row[`${PARAM_PREFIX}${xParam}`]);
    for (const spec of res.config.kernelSpecs) {
      const ms = Number(row[RUNTIME_PREFIX + spec.toString()]);
      const tps = Number.isFinite(ms) && ms > 0 ? (tokens * 1000) / ms : Number.NaN;
      row[TOKENS_PER_S_PREFIX + spec.toString()] = tps;
      if (Number.isFinite(tps)) pts.push({ x: tokens, y: tps, series: plotLabel(spec) });
    }
  }
  writeFileSync(join(res.folder, 'results.csv'), toCsv(res.rows));
  writeFileSync(
    join(res.folder, `plot_${name}_tokens_per_s.svg`),
    await linePlotSvg(pts, {
      xTitle: xParam,
      yTitle: decode ? 'Decode tokens/s (all rows)' : 'Prefill tokens/s (packed batch)',
      title: `${name}: ${decode ? 'decode' : 'packed prefill'} tokens/s`,
      subtitle: `adapter: ${adapter}`,
      yLog: false,
    }),
  );
}

/** Frees the run's models. */
export async function closeModelSuite(env: BenchEnv): Promise<void> {
  await caches.get(env)?.close();
  caches.delete(env);
}
