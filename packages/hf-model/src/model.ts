/**
 * `XlstmForCausalLM`: load a transformers xLSTM checkpoint, run `forward` with a per-block
 * state cache, `generate` / `stream` tokens. Runs on the CPU (pure TS) or on WebGPU.
 */
import { checkOptionKeys } from '@mlstm/core-reference/checks';
import {
  checkLoadOptions,
  FORWARD_OPTION_KEYS,
  GENERATE_OPTION_KEYS,
  LOAD_OPTION_KEYS,
  loadOptionValues,
  RANDOM_OPTION_KEYS,
} from './options.js';
import type { GpuContext, GpuDtype } from '@mlstm/kernels-webgpu';
import { parseXlstmConfig, type XlstmConfig } from './config.js';
import { type CpuCell, type CpuCellKind, makeCpuCell } from './cell.js';
import { type ActivationSink, type CpuStates, forwardCpu } from './cpu.js';
import { ModelArgumentError } from './errors.js';
import type { GpuDecoder } from './gpu/decode.js';
import {
  type DenseDecode,
  GpuEngine,
  type GpuStates,
  type QuantDecode,
  type QuantPrefill,
} from './gpu/engine.js';
import { GpuRandomWeights } from './gpu/random-init.js';
import { checkGpuLimits, estimateMemory, type MemoryEstimate, type PrefillCallPlan } from './memory.js';
import type { WeightFormat } from './quant/formats.js';
import {
  ALL_F32,
  fillPieces,
  type PackedPieces,
  packPieces,
  resolveFormats,
  unpackPieces,
  type WeightFormats,
} from './quant/pieces.js';
import { mergeStores, parseSafetensorsFile, shardFiles, type TensorStore } from './safetensors.js';
import { drawUniforms, makeRng, type SamplingOptions, sampleToken } from './sampling.js';
import { type ModelSource, openSource, type SourceOptions } from './sources.js';
import {
  type BatchGenerateOptions,
  type BatchGenerateResult,
  generateBatch as runBatch,
  streamBatch as runBatchStream,
} from './batch.js';
import { type RestoreStateOptions, restoreState, type SaveStateOptions, saveState } from './state.js';
import { XlstmTokenizer } from './tokenizer.js';
import {
  assembleWeights,
  RandomWeights,
  WeightLoader,
  type WeightPieces,
  type XlstmWeights,
} from './weights.js';

export type DeviceKind = 'cpu' | 'webgpu';

/** Per-block states of one block as float32 arrays: C `[B, NH, dqk, dv]`, n `[B, NH, dqk]`, m `[B, NH, 1]`. */
export interface BlockStateArrays {
  c: Float32Array;
  n: Float32Array;
  m: Float32Array;
}

/** One forward call of a packed prefill (see `XlstmForCausalLM.packedPrefillCalls`). */
export interface PackedPrefillCall {
  /** the prompts `[first, end)` of the call */
  first: number;
  end: number;
  /** their tokens */
  tokens: number;
  /** 1: one packed call; more: one prompt longer than a call, in this many calls carrying the state */
  segments: number;
}

/** Rows of token ids laid one after the other, with the N + 1 offsets where each begins. */
function packRows(rows: readonly (readonly number[])[]): { seqStarts: Int32Array; ids: Int32Array } {
  const seqStarts = new Int32Array(rows.length + 1);
  rows.forEach((r, b) => {
    seqStarts[b + 1] = seqStarts[b] + r.length;
  });
  return { seqStarts, ids: Int32Array.from(rows.flat()) };
}

/** The length of the longest row (the tokens a stacked cache reports as seen). */
const longestRow = (rows: readonly (readonly number[])[]) => Math.max(...rows.map((x) => x.length));

/** The per-block recurrent states of a batch (spec §5.2); created zero, updated by every forward. */
export class XlstmCache {
  /** tokens processed so far */
  seqlenOffset = 0;
  /** @internal engine-specific states; null = zeros */
  states: CpuStates | GpuStates | null = null;

  /** @internal use `model.newCache(batch)` */
  constructor(
    private readonly model: XlstmForCausalLM,
    readonly batch: number,
  ) {}

  /** Copies the states out (float32). */
  async readStates(): Promise<BlockStateArrays[]> {
    return this.model._readStates(this);
  }

  /** Back to zero states (frees GPU buffers). */
  reset(): void {
    this.model._releaseStates(this);
    this.seqlenOffset = 0;
  }

  /** Frees GPU buffers (the cache can be used again: it restarts from zeros). */
  release(): void {
    this.reset();
  }

  /** @internal */
  belongsTo(m: XlstmForCausalLM): boolean {
    return m === this.model;
  }
}

export interface LoadOptions extends SourceOptions {
  /** 'cpu', 'webgpu', or 'auto' (default: WebGPU when an adapter is found, else CPU) */
  device?: DeviceKind | 'auto';
  /** the GPU context (default: the process-wide one of `@mlstm/backend`'s `getDefaultGpuContext()`) */
  gpu?: GpuContext;
  /**
   * Format of the block weight matrices: 'f32', 'f16', 'q8', 'q4' (quantised on load, or read as
   * stored from a quantised checkpoint), or 'auto' (f16 on the GPU for models over 2 GB of f32
   * weights when the adapter has shader-f16, else f32). Default: the formats a quantised checkpoint
   * was saved in, else 'auto'. The CPU path computes with the dequantised weights.
   */
  dtype?: WeightFormat | 'auto';
  /** the embedding table's format (default: f16 with dtype q8, q8 with q4, else `dtype`) */
  embeddingDtype?: WeightFormat;
  /** the lm_head's format (default: as the embedding's) */
  lmHeadDtype?: WeightFormat;
  /**
   * WebGPU prefill over quantised weights: 'dequantize' (each matrix dequantised into one scratch
   * buffer, then the dense GEMM kernel; the default where that kernel runs on the matrix units) or
   * 'tiles' (dequantised tile by tile inside the quantised GEMM kernel; the default elsewhere)
   */
  quantPrefill?: QuantPrefill;
  /**
   * WebGPU decode-sized matmuls (fewer than 32 rows) over quantised weights: 'int8' (activations
   * quantised to int8 per group of 32, packed int8 dot products; the default where the adapter's
   * WGSL has them) or 'f32' (f32 activations, exact to the dequantised weights)
   */
  quantDecode?: QuantDecode;
  /**
   * WebGPU decode of 2–31 sequences together over dense f16 weights: 'gemv' (default; the
   * RMSNorms and the cell's input split folded into it) or 'matrix-units' (the dense matmul in 16-
   * or 32-row tiles on the adapter's matrix units, x in f16; not yet measured on a GPU). One
   * sequence always takes the GEMV.
   */
  denseDecode?: DenseDecode;
  /**
   * WebGPU: the most tokens one prefill forward call takes (per row) — transformers'
   * `prefill_chunk_size`. A longer prompt goes through in calls of this many tokens, carrying the
   * state; prompts of different lengths (`generateBatch`) are packed into calls of at most this
   * many tokens in all. Default: as many as fit an activation budget of 4 GiB per call
   * (`DEFAULT_PREFILL_BUDGET_BYTES`; xLSTM-7B in f16: 12 160 tokens per packed call). Never more
   * than `max_inference_chunksize` or what one storage binding holds (`model.gpuLayout()`
   * reports the value in use). Same results whatever the value (to float rounding).
   */
  prefillChunkSize?: number;
  /** @deprecated the former name of {@link dtype} (only 'f32' | 'f16' | 'auto') */
  weightDtype?: 'f32' | 'f16' | 'auto';
  /** load tokenizer.json when present (default true) */
  tokenizer?: boolean;
  /** CPU path: the mLSTM cell through `@mlstm/backend` (default) or core-reference directly (float64 states) */
  cpuCell?: CpuCellKind;
}

export interface ForwardOptions {
  /** states to start from, updated in place (default: a fresh zero cache, returned) */
  cache?: XlstmCache;
  /** only the logits of the last position of each row (`[B, 1, V]`) */
  lastOnly?: boolean;
  /** CPU only: receives intermediate activations of block 0 and the residual stream */
  activations?: ActivationSink;
}

export interface ForwardResult {
  /** soft-capped logits, row-major `[B, S, V]` (`S = 1` with `lastOnly`) */
  logits: Float32Array;
  shape: [number, number, number];
  cache: XlstmCache;
}

/** One streamed step: the new token of every row (`-1` for rows that had already stopped). */
export interface TokenEvent {
  step: number;
  tokens: number[];
  /** decoded text added by this step per row (when a tokenizer is loaded) */
  text?: string[];
  /** rows that stopped at this step (stop token) */
  finished: boolean[];
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens?: number;
  /** seed of the sampler (default: random) */
  seed?: number;
  /**
   * stop when a row produces one of these: one list for every row, or one list per row
   * (`[[…], […]]`) (default: the tokenizer's `<|endoftext|>` or bos id 0; none for greedy fixtures: pass [])
   */
  stopTokens?: readonly number[] | readonly (readonly number[])[];
  /** prepend `bos_token_id` when the prompt does not start with it (default: true for a fresh cache, false when continuing one) */
  addBos?: boolean;
  onToken?: (e: TokenEvent) => void;
  signal?: AbortSignal;
  /** reuse / continue a cache (the prompt is appended to its state) */
  cache?: XlstmCache;
  /**
   * WebGPU: where the next token is chosen. 'gpu': on the GPU, only the ids are read back;
   * 'cpu': the logits are read back and chosen as on the CPU path; 'auto' (default): the GPU
   * where its sampler takes the options, else the CPU. The same seed gives the same tokens.
   */
  sampling?: 'auto' | 'gpu' | 'cpu';
}

/**
 * A prompt for `generate` / `stream`: text, token ids, or a list of prompts (text or ids). A list
 * whose prompts differ in length (after tokenising) runs through `generateBatch`'s path; an
 * equal-length list is one batch forward per step.
 */
export type GenerateInput = string | readonly number[] | readonly (string | readonly number[])[];

export interface GenerateResult {
  /** generated ids per row (without the prompt; stop token included) */
  tokens: number[][];
  /** decoded generated text per row (when a tokenizer is loaded) */
  text?: string[];
  /** why each row stopped */
  stopReason: ('stop' | 'length')[];
  cache: XlstmCache;
}

/** The stop ids of each of `B` rows: one list for all, or one list per row (checked). */
export function stopSets(
  st: readonly number[] | readonly (readonly number[])[] | undefined,
  B: number,
  fallback: () => readonly number[],
): Set<number>[] {
  const perRow = Array.isArray(st) && st.length > 0 && Array.isArray(st[0]);
  if (perRow && st!.length !== B)
    throw new ModelArgumentError('stopTokens', `expected one list per prompt (${B}), got ${st!.length}`);
  return Array.from(
    { length: B },
    (_, b) => new Set<number>(perRow ? (st as number[][])[b] : ((st as number[] | undefined) ?? fallback())),
  );
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

export class XlstmForCausalLM {
  readonly config: XlstmConfig;
  /** the decoded weights (CPU path only; on WebGPU they live on the GPU and this is null) */
  readonly weights: XlstmWeights | null;
  readonly tokenizer: XlstmTokenizer | null;
  readonly device: DeviceKind;
  /** stop ids from generation_config.json / config (informational; see `GenerateOptions.stopTokens`) */
  readonly eosTokenIds: number[];
  /** the formats of the weights (on the CPU path: the formats whose dequantised values it computes with) */
  readonly formats: WeightFormats;
  private readonly gpu: GpuEngine | null;
  private readonly cpuCell: CpuCell | null;

  private constructor(
    config: XlstmConfig,
    weights: XlstmWeights | null,
    tokenizer: XlstmTokenizer | null,
    gpu: GpuEngine | null,
    eos: number[],
    cellKind: CpuCellKind = 'backend',
    formats: WeightFormats = ALL_F32,
  ) {
    this.config = config;
    this.formats = gpu?.formats ?? formats;
    this.weights = weights;
    this.tokenizer = tokenizer;
    this.gpu = gpu;
    this.device = gpu ? 'webgpu' : 'cpu';
    this.eosTokenIds = eos;
    this.cpuCell = gpu ? null : makeCpuCell(cellKind, { chunkSize: config.chunkSize, eps: config.eps });
  }

  /**
   * Loads a model: `source` is a local folder (Node), an http(s) URL of a folder, a Hugging Face
   * repo id (`owner/name`), or `{ files: { 'config.json': …, 'model.safetensors': … } }`.
   */
  static async fromPretrained(source: ModelSource, opts: LoadOptions = {}): Promise<XlstmForCausalLM> {
    checkLoadOptions(opts, LOAD_OPTION_KEYS, 'XlstmForCausalLM.fromPretrained');
    opts.signal?.throwIfAborted();
    const reader = await openSource(source, opts);
    const cfgText = await reader.text('config.json');
    if (cfgText === null) throw new ModelArgumentError('source', `no config.json in ${reader.description}`);
    const config = parseXlstmConfig(cfgText);
    const indexText = await reader.text('model.safetensors.index.json');
    const files = indexText ? shardFiles(indexText) : ['model.safetensors'];
    opts.signal?.throwIfAborted();
    const buffers = await reader.binaries(files);
    try {
      opts.signal?.throwIfAborted();
      const store = mergeStores(buffers.map((b, x) => parseSafetensorsFile(b, files[x])));
      return await XlstmForCausalLM.fromStoreAndFiles(config, store, opts, reader);
    } finally {
      for (const b of buffers) b.close?.();
    }
  }

  private static async fromStoreAndFiles(
    config: XlstmConfig,
    store: TensorStore,
    opts: LoadOptions,
    reader: Awaited<ReturnType<typeof openSource>>,
  ): Promise<XlstmForCausalLM> {
    let tokenizer: XlstmTokenizer | null = null;
    if (opts.tokenizer !== false) {
      const tj = await reader.text('tokenizer.json');
      if (tj) {
        const tc = await reader.text('tokenizer_config.json');
        tokenizer = new XlstmTokenizer(JSON.parse(tj), tc ? JSON.parse(tc) : {});
      }
    }
    const gen = await reader.text('generation_config.json');
    let eos = config.eosTokenId;
    if (gen) {
      const g = JSON.parse(gen) as { eos_token_id?: number | number[] };
      if (typeof g.eos_token_id === 'number') eos = [g.eos_token_id];
      else if (Array.isArray(g.eos_token_id)) eos = g.eos_token_id;
    }
    return XlstmForCausalLM.fromStore(config, store, { ...opts, tokenizer: undefined }, tokenizer, eos);
  }

  /** Builds a model from a parsed config and checkpoint tensors (no tokenizer unless given). */
  static async fromStore(
    config: XlstmConfig | Record<string, unknown>,
    store: TensorStore,
    opts: Omit<LoadOptions, 'tokenizer'> & { tokenizer?: unknown } = {},
    tokenizer: XlstmTokenizer | null = null,
    eos?: number[],
  ): Promise<XlstmForCausalLM> {
    checkLoadOptions(opts, LOAD_OPTION_KEYS, 'XlstmForCausalLM.fromStore');
    const cfg = 'dims' in config ? (config as XlstmConfig) : parseXlstmConfig(config);
    const loader = new WeightLoader(cfg, store);
    loader.validate(); // typed errors before anything is decoded or uploaded
    const src = {
      f32: loader,
      packed: (f: WeightFormats) => loader.packed(f),
      stored: loader.storedFormats(),
    };
    return XlstmForCausalLM.fromPieces(cfg, src, opts, tokenizer, eos);
  }

  /**
   * A model of `config`'s shapes with random weights (benchmarks without a download, e.g. the
   * xLSTM-7B shape in f16 on the GPU); no tokenizer. On WebGPU the weights are generated on the GPU
   * by default (`init: 'gpu'`: a hashed generator in a kernel, same distributions, other values than
   * the CPU's for the same seed; with `dtype` q8 / q4 filled in f32 and quantised on the GPU, bit for
   * bit as `quantize` would); `init: 'cpu'` uploads the CPU generator's weights (the same model as on
   * the CPU path).
   */
  static async fromRandom(
    config: XlstmConfig | Record<string, unknown>,
    opts: Omit<LoadOptions, 'tokenizer'> & { seed?: number; init?: 'gpu' | 'cpu' } = {},
  ): Promise<XlstmForCausalLM> {
    checkLoadOptions(opts, RANDOM_OPTION_KEYS, 'XlstmForCausalLM.fromRandom');
    const cfg = 'dims' in config ? (config as XlstmConfig) : parseXlstmConfig(config);
    const init = opts.init ?? 'gpu';
    if (init !== 'gpu' && init !== 'cpu')
      throw new ModelArgumentError('init', `expected 'gpu' or 'cpu', got ${init}`);
    const seed = opts.seed ?? 1;
    const packed = (f: WeightFormats) => packPieces(cfg, new RandomWeights(cfg, seed), f);
    const src = {
      f32: new RandomWeights(cfg, seed),
      packed,
      // on the GPU: filled in place (dense) or filled and quantised on the GPU (q8 / q4)
      gpuPacked:
        init === 'gpu' ? (f: WeightFormats) => fillPieces(cfg, new GpuRandomWeights(cfg, seed), f) : packed,
      stored: null,
    };
    return XlstmForCausalLM.fromPieces(cfg, src, opts, null);
  }

  /**
   * `src.gpuPacked`: what the WebGPU engine builds from (default: `src.packed`, which with `src.f32`
   * is also the CPU fallback).
   */
  private static async fromPieces(
    cfg: XlstmConfig,
    src: {
      f32: WeightPieces;
      packed: (f: WeightFormats) => PackedPieces;
      gpuPacked?: (f: WeightFormats) => PackedPieces;
      stored: WeightFormats | null;
    },
    opts: Omit<LoadOptions, 'tokenizer'>,
    tokenizer: XlstmTokenizer | null,
    eos?: number[],
  ): Promise<XlstmForCausalLM> {
    // values checked on every path (a CPU run must not accept what a GPU run would reject)
    const v = loadOptionValues(opts, 'XlstmForCausalLM');
    const asked = v.dtype;
    const dtype = asked ?? src.stored?.linear ?? 'auto';
    const sub = {
      embeddingDtype: v.embeddingDtype ?? (asked ? undefined : src.stored?.embedding),
      lmHeadDtype: v.lmHeadDtype ?? (asked ? undefined : src.stored?.lmHead),
    };
    // typed errors for unknown formats before any GPU work
    const cpuFormats = resolveFormats(dtype === 'auto' ? 'f32' : dtype, sub);
    let gpu: GpuEngine | null = null;
    const want = v.device;
    if (want !== 'cpu') {
      try {
        gpu = await GpuEngine.create(cfg, {
          ctx: opts.gpu,
          dtype,
          ...sub,
          pieces: src.gpuPacked ?? src.packed,
          quantPrefill: opts.quantPrefill,
          quantDecode: opts.quantDecode,
          denseDecode: opts.denseDecode,
          prefillChunkSize: v.prefillChunkSize,
        });
      } catch (e) {
        if (want === 'webgpu' || (e as Error).name === 'ModelTooLargeError') throw e;
        gpu = null;
      }
    }
    const dense = Object.values(cpuFormats).every((f) => f === 'f32');
    const weights = gpu ? null : assembleWeights(cfg, dense ? src.f32 : unpackPieces(src.packed(cpuFormats)));
    return new XlstmForCausalLM(
      cfg,
      weights,
      tokenizer,
      gpu,
      eos ?? cfg.eosTokenId,
      opts.cpuCell,
      cpuFormats,
    );
  }

  /** Memory estimate for this model's config. */
  static estimateMemory = estimateMemory;
  static checkGpuLimits = checkGpuLimits;

  /**
   * Reads and parses only `config.json` of a source (e.g. to call {@link estimateMemory} before
   * downloading the weights).
   */
  static async loadConfig(source: ModelSource, opts: SourceOptions = {}): Promise<XlstmConfig> {
    const reader = await openSource(source, opts);
    const text = await reader.text('config.json');
    if (text === null) throw new ModelArgumentError('source', `no config.json in ${reader.description}`);
    return parseXlstmConfig(text);
  }

  /** Memory needed for `batch` sequences of `seqLen` tokens per forward. */
  memoryEstimate(opts: { batch?: number; seqLen?: number; sampling?: 'gpu' | 'cpu' } = {}): MemoryEstimate {
    const f = this.formats;
    return estimateMemory(this.config, {
      dtype: this.gpu ? f.linear : 'f32',
      embeddingDtype: this.gpu ? f.embedding : 'f32',
      lmHeadDtype: this.gpu ? f.lmHead : 'f32',
      ...(this.gpu ? { quantDecode: this.gpu.quantDecode } : {}),
      ...opts,
    });
  }

  /** Format of the block weights on the GPU (null on the CPU path; see {@link formats}). */
  get weightDtype(): WeightFormat | null {
    return this.gpu?.formats.linear ?? null;
  }

  /**
   * WebGPU only (null on the CPU): how the weights were split to fit the adapter's
   * maxStorageBufferBindingSize, the most tokens per row one GPU forward call takes with every
   * position's logits (`maxTokensPerCall`; longer prompts are pushed through in segments), and
   * the prefill calls of `generate` / `generateBatch` (last logits only): `prefill` for `batch`
   * rows of one prompt length, `packedPrefill` for prompts of different lengths packed together —
   * tokens per call, estimated bytes per token and per call, and the bound that set the tokens
   * (`'budget'`, `'prefillChunkSize'`, `'max_inference_chunksize'` or `'maxStorageBufferBindingSize'`),
   * and how quantised and dense weights are multiplied (`quantPrefill`, `quantDecode`, `denseDecode`);
   * `prefillActivations`: the storage type of the matmuls' x in a prefill call of
   * `maxTokensPerCall` tokens ('f16' where every matmul of a block runs on the matrix units, which
   * round x to f16 anyway: the kernels before them write f16, with no conversion passes).
   */
  gpuLayout(batch = 1): {
    weightParts: { embedding: number; lmHead: number; maxPerLinear: number };
    maxTokensPerCall: number;
    quantPrefill: QuantPrefill;
    quantDecode: QuantDecode;
    denseDecode: DenseDecode;
    prefill: PrefillCallPlan;
    packedPrefill: PrefillCallPlan;
    prefillActivations: GpuDtype;
  } | null {
    if (!this.gpu) return null;
    return {
      prefillActivations: this.gpu.prefillActivations(this.gpu.maxTokensPerCall(batch, false)),
      weightParts: this.gpu.weightParts(),
      maxTokensPerCall: this.gpu.maxTokensPerCall(batch, false),
      quantPrefill: this.gpu.quantPrefill,
      quantDecode: this.gpu.quantDecode,
      denseDecode: this.gpu.denseDecode,
      prefill: this.gpu.prefillPlan(batch, true),
      packedPrefill: this.gpu.prefillPlan(1, true, true),
    };
  }

  /**
   * How a packed prefill (`generateBatch`, `generate` with prompts of different lengths) splits
   * prompts of these lengths into forward calls, in order: consecutive prompts share a call while
   * their tokens fit `gpuLayout().packedPrefill.tokens`; a longer prompt has calls of its own
   * (`segments`, carrying the state). On the CPU: one call for all.
   */
  packedPrefillCalls(lengths: readonly number[]): PackedPrefillCall[] {
    if (!this.gpu)
      return [{ first: 0, end: lengths.length, tokens: lengths.reduce((a, n) => a + n, 0), segments: 1 }];
    const cap = this.gpu.maxTokensPerCall(1, true, true);
    const seg = Math.min(this.config.maxInferenceChunksize, this.gpu.maxTokensPerCall(1, true));
    const out: PackedPrefillCall[] = [];
    for (let b0 = 0; b0 < lengths.length; ) {
      if (lengths[b0] > cap) {
        out.push({ first: b0, end: b0 + 1, tokens: lengths[b0], segments: Math.ceil(lengths[b0] / seg) });
        b0++;
        continue;
      }
      let b1 = b0;
      let tokens = 0;
      while (b1 < lengths.length && lengths[b1] <= cap && tokens + lengths[b1] <= cap)
        tokens += lengths[b1++];
      out.push({ first: b0, end: b1, tokens, segments: 1 });
      b0 = b1;
    }
    return out;
  }

  /** A fresh zero cache for `batch` sequences. */
  newCache(batch = 1): XlstmCache {
    if (!Number.isInteger(batch) || batch < 1)
      throw new ModelArgumentError('batch', `expected an integer >= 1, got ${batch}`);
    return new XlstmCache(this, batch);
  }

  private normalizeIds(input: readonly number[] | readonly (readonly number[])[] | Int32Array): {
    ids: Int32Array;
    B: number;
    S: number;
  } {
    let rows: (readonly number[] | Int32Array)[];
    if (input instanceof Int32Array) rows = [input];
    else if (Array.isArray(input) && input.length > 0 && Array.isArray(input[0])) rows = input as number[][];
    else rows = [input as readonly number[]];
    const B = rows.length;
    const S = rows[0]?.length ?? 0;
    if (B === 0 || S === 0) throw new ModelArgumentError('inputIds', 'expected at least one token');
    const V = this.config.vocabSize;
    const ids = new Int32Array(B * S);
    rows.forEach((r, b) => {
      if (r.length !== S) {
        throw new ModelArgumentError(
          'inputIds',
          `rows must have equal lengths (row 0 has ${S}, row ${b} has ${r.length}); xLSTM ignores attention masks, so run ragged prompts separately`,
        );
      }
      for (let t = 0; t < S; t++) {
        const v = r[t];
        if (!Number.isInteger(v) || v < 0 || v >= V) {
          throw new ModelArgumentError('inputIds', `token ${v} at [${b}, ${t}] is not an id in [0, ${V})`);
        }
        ids[b * S + t] = v;
      }
    });
    return { ids, B, S };
  }

  /**
   * One forward over `inputIds` (`[S]` or `[B][S]`) from `cache` (default zeros). The cache is
   * updated in place and returned; logits are soft-capped float32 `[B, S, V]`.
   */
  async forward(
    inputIds: readonly number[] | readonly (readonly number[])[] | Int32Array,
    opts: ForwardOptions = {},
  ): Promise<ForwardResult> {
    checkOptionKeys(opts, FORWARD_OPTION_KEYS, 'XlstmForCausalLM.forward');
    const { ids, B, S } = this.normalizeIds(inputIds);
    const cache = opts.cache ?? this.newCache(B);
    if (!cache.belongsTo(this)) throw new ModelArgumentError('cache', 'belongs to another model');
    if (cache.batch !== B)
      throw new ModelArgumentError('cache', `has batch ${cache.batch}, the input has ${B} rows`);
    if (opts.activations && this.gpu) {
      throw new ModelArgumentError('activations', 'are only available on the CPU path (device: "cpu")');
    }
    const V = this.config.vocabSize;
    // prompts longer than max_inference_chunksize (or than what one GPU binding holds) go through
    // the blocks in segments, carrying the state (spec §2.1: memory only, same results)
    const seg = Math.min(
      this.config.maxInferenceChunksize,
      this.gpu?.maxTokensPerCall(B, !!opts.lastOnly) ?? S,
    );
    // several calls: the GPU buffers sized for the longest, so that the last (shorter) one reuses them
    const reserve = Math.min(S, seg);
    const outS = opts.lastOnly ? 1 : S;
    const logits = new Float32Array(B * outS * V);
    for (let s0 = 0; s0 < S; s0 += seg) {
      const len = Math.min(seg, S - s0);
      const last = s0 + len === S;
      const part = new Int32Array(B * len);
      for (let b = 0; b < B; b++) part.set(ids.subarray(b * S + s0, b * S + s0 + len), b * len);
      const r = await this.runEngine(part, B, len, cache, !!opts.lastOnly, opts.activations, reserve);
      if (opts.lastOnly) {
        if (last) logits.set(r);
      } else {
        for (let b = 0; b < B; b++) logits.set(r.subarray(b * len * V, (b + 1) * len * V), (b * S + s0) * V);
      }
    }
    return { logits, shape: [B, outS, V], cache };
  }

  private async runEngine(
    ids: Int32Array,
    B: number,
    S: number,
    cache: XlstmCache,
    lastOnly: boolean,
    sink?: ActivationSink,
    reserveTokens?: number,
  ): Promise<Float32Array> {
    if (this.gpu) {
      const r = await this.gpu.forward(ids, B, S, cache.states as GpuStates | null, {
        lastOnly,
        reserveTokens,
      });
      cache.states = r.states;
      cache.seqlenOffset += S;
      return r.logits;
    }
    const r = await forwardCpu(
      this.config,
      this.weights!,
      this.cpuCell!,
      ids,
      B,
      S,
      cache.states as CpuStates | null,
      {
        lastOnly,
        sink,
      },
    );
    cache.states = r.states;
    cache.seqlenOffset += S;
    return r.logits;
  }

  /** @internal */
  async _readStates(cache: XlstmCache): Promise<BlockStateArrays[]> {
    const { NH, dqk, dv, blocks } = this.config.dims;
    const B = cache.batch;
    if (!cache.states) {
      return Array.from({ length: blocks }, () => ({
        c: new Float32Array(B * NH * dqk * dv),
        n: new Float32Array(B * NH * dqk),
        m: new Float32Array(B * NH),
      }));
    }
    if (this.gpu) return this.gpu.readStates(cache.states as GpuStates);
    return (cache.states as CpuStates).map((s) => ({
      c: Float32Array.from(s.c.data),
      n: Float32Array.from(s.n.data),
      m: Float32Array.from(s.m.data),
    }));
  }

  /**
   * Generates for a list of prompts of different lengths (text or ids), each row with its own stop
   * tokens (`stopTokens: [[…], […]]`); the prompts are prefilled in one packed forward where the
   * model has one (CPU), then decode together. See `batch.ts`.
   */
  generateBatch(
    prompts: readonly (string | readonly number[])[],
    opts?: BatchGenerateOptions,
  ): Promise<BatchGenerateResult> {
    return runBatch(this, prompts, opts);
  }

  /** The streaming form of {@link generateBatch}: one event per step with every row's new token. */
  streamBatch(
    prompts: readonly (string | readonly number[])[],
    opts?: BatchGenerateOptions,
  ): AsyncGenerator<TokenEvent, BatchGenerateResult> {
    return runBatchStream(this, prompts, opts);
  }

  /**
   * The state of `cache` as bytes: a versioned header (config hash, dtype, shapes, tokens seen)
   * and the per-block C, n, m (see `state.ts`). Restore with {@link restoreState}.
   */
  saveState(cache: XlstmCache, opts?: SaveStateOptions): Promise<Uint8Array> {
    return saveState(this, cache, opts);
  }

  /**
   * A cache holding a snapshot of {@link saveState} (or `opts.into`, overwritten). A snapshot of
   * another model configuration or format version raises `StateSnapshotError`, nothing written.
   */
  restoreState(bytes: Uint8Array, opts?: RestoreStateOptions): Promise<XlstmCache> {
    return restoreState(this, bytes, opts);
  }

  /** @internal replaces the states of `cache` (float32 arrays per block, as `readStates` gives). */
  _writeStates(cache: XlstmCache, arrays: readonly BlockStateArrays[], seqlenOffset: number): void {
    const { NH, dqk, dv } = this.config.dims;
    const B = cache.batch;
    const shapes = { c: [B, NH, dqk, dv], n: [B, NH, dqk], m: [B, NH, 1] };
    let next: CpuStates | GpuStates;
    if (this.gpu) {
      const ctx = this.gpu.ctx;
      next = {
        blocks: arrays.map((a) => ({
          c: ctx.upload(a.c, shapes.c),
          n: ctx.upload(a.n, shapes.n),
          m: ctx.upload(a.m, shapes.m),
        })),
      };
    } else {
      next = arrays.map((a) => ({
        c: { shape: shapes.c, data: Float32Array.from(a.c) },
        n: { shape: shapes.n, data: Float32Array.from(a.n) },
        m: { shape: shapes.m, data: Float32Array.from(a.m) },
      }));
    }
    this._releaseStates(cache);
    cache.states = next;
    cache.seqlenOffset = seqlenOffset;
  }

  /**
   * @internal one batch cache holding the rows of `caches` in order (copies; the inputs are left
   * as they were). On WebGPU the states are copied on the GPU, without a read-back.
   */
  _stackCaches(caches: readonly XlstmCache[]): XlstmCache {
    const { NH, dqk, dv } = this.config.dims;
    const B = caches.reduce((a, c) => a + c.batch, 0);
    const out = this.newCache(B);
    out.seqlenOffset = Math.max(...caches.map((c) => c.seqlenOffset));
    if (caches.every((c) => c.states === null)) return out;
    const shapes = { c: [B, NH, dqk, dv], n: [B, NH, dqk], m: [B, NH, 1] };
    const keys = ['c', 'n', 'm'] as const;
    const blocks = this.config.dims.blocks;
    if (this.gpu) {
      const ctx = this.gpu.ctx;
      const enc = ctx.device.createCommandEncoder();
      const next: GpuStates = { blocks: [] };
      for (let b = 0; b < blocks; b++) {
        const blk = { c: ctx.zeros(shapes.c), n: ctx.zeros(shapes.n), m: ctx.zeros(shapes.m) };
        for (const k of keys) {
          let at = blk[k].byteOffset;
          for (const c of caches) {
            const src = (c.states as GpuStates | null)?.blocks[b][k];
            const bytes = (blk[k].byteLength / B) * c.batch;
            if (src) enc.copyBufferToBuffer(src.buffer, src.byteOffset, blk[k].buffer, at, bytes);
            at += bytes;
          }
        }
        next.blocks.push(blk);
      }
      ctx.device.queue.submit([enc.finish()]);
      out.states = next;
      return out;
    }
    const next: CpuStates = [];
    for (let b = 0; b < blocks; b++) {
      const blk = {
        c: { shape: shapes.c, data: new Float64Array(B * NH * dqk * dv) },
        n: { shape: shapes.n, data: new Float64Array(B * NH * dqk) },
        m: { shape: shapes.m, data: new Float64Array(B * NH) },
      };
      for (const k of keys) {
        let at = 0;
        for (const c of caches) {
          const per = blk[k].data.length / B;
          const src = (c.states as CpuStates | null)?.[b][k];
          if (src) blk[k].data.set(src.data, at);
          at += per * c.batch;
        }
      }
      next.push(blk);
    }
    out.states = next;
    return out;
  }

  /** The logits of each row's last token and a batch cache: rows packed, or each alone (stacked). */
  private async prefillRows(
    rows: readonly (readonly number[])[],
    how: 'packed' | 'each',
    signal?: AbortSignal,
  ): Promise<{ logits: Float32Array; cache: XlstmCache }> {
    if (how === 'packed') return this._prefillPacked(rows);
    const V = this.config.vocabSize;
    const logits = new Float32Array(rows.length * V);
    const ones: XlstmCache[] = [];
    try {
      for (const [b, ids] of rows.entries()) {
        if (signal?.aborted) throw abortError(signal);
        const one = this.newCache(1);
        ones.push(one);
        const r = await this.forward(ids, { cache: one, lastOnly: true });
        logits.set(r.logits, b * V);
      }
      return { logits, cache: this._stackCaches(ones) };
    } finally {
      for (const one of ones) one.release();
    }
  }

  /**
   * @internal N prompts of any lengths prefilled packed (the cell takes `seqStarts`, every other
   * layer works token by token): the logits of each prompt's last token `[N, V]` and a batch-N
   * cache. CPU: one forward; WebGPU: as few calls as the binding limits allow.
   */
  async _prefillPacked(
    rows: readonly (readonly number[])[],
  ): Promise<{ logits: Float32Array; cache: XlstmCache }> {
    const V = this.config.vocabSize;
    rows.forEach((r, b) => {
      if (r.length === 0) throw new ModelArgumentError('inputIds', `prompt ${b} has no tokens`);
      for (const [t, v] of r.entries())
        if (!Number.isInteger(v) || v < 0 || v >= V)
          throw new ModelArgumentError('inputIds', `token ${v} at [${b}, ${t}] is not an id in [0, ${V})`);
    });
    if (this.gpu) return this.prefillPackedGpu(rows);
    const { seqStarts, ids } = packRows(rows);
    const r = await forwardCpu(this.config, this.weights!, this.cpuCell!, ids, 1, ids.length, null, {
      lastOnly: true,
      seqStarts,
    });
    const cache = this.newCache(rows.length);
    cache.states = r.states;
    cache.seqlenOffset = longestRow(rows);
    return { logits: r.logits, cache };
  }

  /**
   * The WebGPU packed prefill: the calls of {@link packedPrefillCalls} — consecutive prompts
   * packed into one call (dense parts over all of a call's tokens, the cell through the packed
   * chunkwise kernel); a prompt longer than a call alone, in segments. The packed calls' buffers
   * are sized for the largest of them (reused from call to call); the calls' caches are stacked
   * in order.
   */
  private async prefillPackedGpu(
    rows: readonly (readonly number[])[],
  ): Promise<{ logits: Float32Array; cache: XlstmCache }> {
    const gpu = this.gpu!;
    const V = this.config.vocabSize;
    const calls = this.packedPrefillCalls(rows.map((r) => r.length));
    const reserve = Math.max(...calls.map((c) => (c.segments === 1 ? c.tokens : 0)));
    const logits = new Float32Array(rows.length * V);
    const caches: XlstmCache[] = [];
    try {
      for (const call of calls) {
        if (call.segments > 1) {
          const one = this.newCache(1);
          caches.push(one);
          const r = await this.forward(rows[call.first], { cache: one, lastOnly: true });
          logits.set(r.logits, call.first * V);
          continue;
        }
        const part = rows.slice(call.first, call.end);
        const { seqStarts, ids } = packRows(part);
        const c = this.newCache(part.length);
        caches.push(c);
        const r = await gpu.forward(ids, 1, call.tokens, null, {
          lastOnly: true,
          seqStarts,
          reserveTokens: reserve,
        });
        c.states = r.states;
        c.seqlenOffset = longestRow(part);
        logits.set(r.logits, call.first * V);
      }
      if (caches.length === 1) return { logits, cache: caches.pop()! };
      return { logits, cache: this._stackCaches(caches) };
    } finally {
      for (const c of caches) c.release();
    }
  }

  /** @internal */
  _releaseStates(cache: XlstmCache): void {
    if (cache.states && this.gpu) this.gpu.releaseStates(cache.states as GpuStates);
    cache.states = null;
  }

  private prepareInput(input: GenerateInput, addBos: boolean) {
    const encode = (text: string) => {
      if (!this.tokenizer)
        throw new ModelArgumentError('input', 'text needs a tokenizer (no tokenizer.json was loaded)');
      return this.tokenizer.encode(text);
    };
    let rows: number[][];
    if (typeof input === 'string') rows = [encode(input)];
    else if (input.length > 0 && typeof input[0] !== 'number')
      rows = (input as readonly (string | readonly number[])[]).map((p, b) => {
        if (typeof p === 'string') return encode(p);
        if (Array.isArray(p)) return [...(p as readonly number[])];
        throw new ModelArgumentError('input', `prompt ${b} is neither text nor a list of token ids`);
      });
    else rows = [[...(input as number[])]];
    const bos = this.config.bosTokenId;
    if (addBos && bos !== null) rows = rows.map((r) => (r[0] === bos ? r : [bos, ...r]));
    return rows;
  }

  /** Default stop ids: the tokenizer's `<|endoftext|>`, else `bos_token_id` (spec §7). */
  defaultStopTokens(): number[] {
    const eot = this.tokenizer?.tokenToId('<|endoftext|>');
    if (eot !== undefined) return [eot];
    return this.config.bosTokenId !== null ? [this.config.bosTokenId] : [];
  }

  /**
   * Streams generated tokens: prefill the prompt (one forward), then one cached single-token
   * forward per new token. Yields one {@link TokenEvent} per step; abortable with `signal`.
   * A list of prompts of different lengths goes through {@link streamBatch}'s path (no `cache`).
   */
  async *stream(
    input: GenerateInput,
    opts: GenerateOptions = {},
  ): AsyncGenerator<TokenEvent, GenerateResult> {
    checkOptionKeys(opts, GENERATE_OPTION_KEYS, 'XlstmForCausalLM.generate');
    const rows = this.prepareInput(input, opts.addBos ?? (opts.cache?.seqlenOffset ?? 0) === 0);
    const ragged = rows.some((r) => r.length !== rows[0].length);
    // prompts of different lengths start from fresh states, prefilled packed
    if (ragged && opts.cache)
      throw new ModelArgumentError(
        'cache',
        'prompts of different lengths start from fresh states: pass no cache (or equal-length rows)',
      );
    return yield* this._streamRows(rows, opts, ragged ? 'packed' : null);
  }

  /**
   * @internal The generation of token `rows` (BOS handled by the caller): `prefill` null = one
   * forward of the equal-length rows from `opts.cache`; `'packed'` = the rows (any lengths) packed
   * from fresh states ({@link _prefillPacked}); `'each'` = each row alone, the states stacked.
   * Then the same decode for every case (WebGPU: the replayed step).
   */
  async *_streamRows(
    rows: number[][],
    opts: GenerateOptions,
    prefill: 'packed' | 'each' | null,
  ): AsyncGenerator<TokenEvent, GenerateResult> {
    checkOptionKeys(opts, GENERATE_OPTION_KEYS, 'XlstmForCausalLM.generate');
    const maxNew = opts.maxNewTokens ?? 32;
    if (!Number.isInteger(maxNew) || maxNew < 0) {
      throw new ModelArgumentError('maxNewTokens', `expected an integer >= 0, got ${maxNew}`);
    }
    for (const [k, v, ok] of [
      ['temperature', opts.temperature, (x: number) => x >= 0],
      ['topK', opts.topK, (x: number) => Number.isInteger(x) && x >= 0],
      ['topP', opts.topP, (x: number) => x > 0 && x <= 1],
      ['repetitionPenalty', opts.repetitionPenalty, (x: number) => x > 0],
    ] as const) {
      if (v !== undefined && (typeof v !== 'number' || !ok(v))) {
        throw new ModelArgumentError(k, `invalid value ${v}`);
      }
    }
    const sampling = opts.sampling ?? 'auto';
    if (!['auto', 'gpu', 'cpu'].includes(sampling)) {
      throw new ModelArgumentError('sampling', `expected 'auto', 'gpu' or 'cpu', got ${String(sampling)}`);
    }
    const signal = opts.signal;
    const B = rows.length;
    const stop = stopSets(opts.stopTokens, B, () => this.defaultStopTokens());
    const rng = makeRng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
    // one uniform draw per row and step (greedy rows and rows that stopped too), so that the GPU
    // sampler, which gets a step's draws before the previous step is read back, sees the same
    // numbers as the CPU
    const draw = (): Float32Array => drawUniforms(rng, B);
    const history = rows.map((r) => [...r]);
    // ids seen so far per row (repetition penalty), kept up to date as tokens are generated
    const seen = rows.map((r) => new Set(r));
    const generated: number[][] = rows.map(() => []);
    const done = rows.map(() => false);
    const reason: ('stop' | 'length')[] = rows.map(() => 'length');
    const texts = rows.map(() => '');
    const V = this.config.vocabSize;
    const choose = (logits: Float32Array, u: Float32Array) =>
      rows.map((_, b) => sampleToken(logits, b * V, V, opts, (j) => seen[b].has(j), u[b]));
    /** the event of one step from the chosen id of every row (rows that had stopped: -1) */
    const emit = (step: number, chosen: ArrayLike<number>): TokenEvent => {
      const tokens: number[] = [];
      const finished: boolean[] = [];
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          tokens.push(-1);
          finished.push(false);
          continue;
        }
        const t = chosen[b];
        const sb = seen[b];
        tokens.push(t);
        history[b].push(t);
        sb.add(t);
        generated[b].push(t);
        const hit = stop[b].has(t);
        if (hit) {
          done[b] = true;
          reason[b] = 'stop';
        }
        finished.push(hit);
      }
      let text: string[] | undefined;
      if (this.tokenizer) {
        text = rows.map((_, b) => {
          if (tokens[b] < 0) return '';
          const full = this.tokenizer!.decode(generated[b]);
          // hold back an incomplete UTF-8 sequence (decoded as U+FFFD) until it completes
          if (full.endsWith('\uFFFD') && !done[b] && step < maxNew - 1) return '';
          const delta = full.slice(texts[b].length);
          texts[b] = full;
          return delta;
        });
      }
      const ev: TokenEvent = { step, tokens, finished, ...(text ? { text } : {}) };
      opts.onToken?.(ev);
      return ev;
    };
    if (signal?.aborted) throw abortError(signal);
    let logits: Float32Array;
    let cache: XlstmCache;
    if (prefill) ({ logits, cache } = await this.prefillRows(rows, prefill, signal));
    else {
      cache = opts.cache ?? this.newCache(B);
      ({ logits } = await this.forward(rows, { cache, lastOnly: true }));
    }
    if (!this.gpu) {
      for (let step = 0; step < maxNew; step++) {
        if (signal?.aborted) throw abortError(signal);
        const chosen = choose(logits, draw());
        yield emit(step, chosen);
        if (done.every(Boolean) || step === maxNew - 1) break;
        if (signal?.aborted) throw abortError(signal);
        // finished rows keep a valid token flowing (their outputs are ignored)
        const next = rows.map((_, b) => [done[b] ? history[b][history[b].length - 1] : chosen[b]]);
        ({ logits } = await this.forward(next, { cache, lastOnly: true }));
      }
    } else if (maxNew > 0) {
      // WebGPU: the first token from the prefill logits, then the replayed decode step
      const first = choose(logits, draw());
      yield emit(0, first);
      if (!done.every(Boolean) && maxNew > 1)
        yield* this.decodeGpu(cache, first, maxNew, sampling, opts, {
          draw,
          choose,
          emit,
          done,
          history,
          signal,
        });
    }
    return {
      tokens: generated,
      ...(this.tokenizer ? { text: generated.map((g) => this.tokenizer!.decode(g)) } : {}),
      stopReason: reason,
      cache,
    };
  }

  /**
   * The WebGPU decode loop after the first token (see ./gpu/decode.ts): with GPU sampling one
   * step is kept in flight ahead of the read-back of the ids; with CPU sampling each step reads
   * back the logits. The cache ends with the states after the last token fed (the last chosen
   * token is not fed, as on the CPU path).
   */
  private async *decodeGpu(
    cache: XlstmCache,
    first: number[],
    maxNew: number,
    sampling: 'auto' | 'gpu' | 'cpu',
    opts: GenerateOptions,
    s: {
      draw: () => Float32Array;
      choose: (logits: Float32Array, u: Float32Array) => number[];
      emit: (step: number, chosen: ArrayLike<number>) => TokenEvent;
      done: boolean[];
      history: number[][];
      signal?: AbortSignal;
    },
  ): AsyncGenerator<TokenEvent, void> {
    const B = first.length;
    const sample = {
      temperature: opts.temperature ?? 0,
      topK: opts.topK ?? 0,
      topP: opts.topP ?? 1,
      repetitionPenalty: opts.repetitionPenalty ?? 1,
    };
    const states = cache.states as GpuStates;
    let dec: GpuDecoder;
    if (sampling === 'cpu') dec = this.gpu!.decoder(B, states, { sampling: 'cpu' });
    else {
      try {
        dec = this.gpu!.decoder(B, states, { sampling: 'gpu', sample, seen: s.history });
      } catch (e) {
        // options the GPU sampler does not take (typed, raised before any GPU work): the CPU samples
        if (sampling === 'gpu' || !(e instanceof ModelArgumentError)) throw e;
        dec = this.gpu!.decoder(B, states, { sampling: 'cpu' });
      }
    }
    let kept = 0;
    try {
      dec.writeIds(first);
      if (dec.sampling === 'gpu') {
        dec.submit(s.draw());
        for (let step = 1; step < maxNew; step++) {
          if (s.signal?.aborted) throw abortError(s.signal);
          if (step + 1 < maxNew) dec.submit(s.draw()); // one step ahead of the read-back
          const ids = (await dec.read()) as Uint32Array;
          kept = step;
          yield s.emit(step, ids);
          if (s.done.every(Boolean)) break;
        }
      } else {
        for (let step = 1; step < maxNew; step++) {
          if (s.signal?.aborted) throw abortError(s.signal);
          dec.submit();
          const logits = (await dec.read()) as Float32Array;
          kept = step;
          const chosen = s.choose(logits, s.draw());
          yield s.emit(step, chosen);
          if (s.done.every(Boolean)) break;
          if (step + 1 < maxNew) dec.writeIds(chosen);
        }
      }
    } finally {
      cache.states = dec.finish(kept);
      cache.seqlenOffset += kept;
    }
  }

  /** Generates up to `maxNewTokens` per row (greedy by default); see {@link stream}. */
  async generate(input: GenerateInput, opts: GenerateOptions = {}): Promise<GenerateResult> {
    const it = this.stream(input, opts);
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
    }
  }

  /** Frees GPU weights (the model is unusable afterwards on WebGPU). */
  dispose(): void {
    this.gpu?.dispose();
  }
}
