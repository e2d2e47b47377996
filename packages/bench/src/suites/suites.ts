/**
 * The suites (upstream `scripts/run_training_kernel_benchmarks.py`, `run_inference_kernel_benchmarks.py`):
 * each one turns options into {@link BenchmarkConfig}s; {@link createBenchmarkCreator} maps a
 * kernel spec to its benchmark class. The `model` suite (`./model.ts`) runs @mlstm/hf-model; more
 * suites can be added with {@link registerSuite}.
 */
import { BenchmarkConfig } from '../core/config.js';
import type { BenchmarkCreator, BenchmarkInterface } from '../core/interface.js';
import { type Dtype, KernelSpec, type KernelSpecInit } from '../core/kernel-spec.js';
import {
  CpuReferenceBenchmark,
  OrtLoopBenchmark,
  OrtParallelBenchmark,
  ReferenceNumbersBenchmark,
} from '../peers/benchmarks.js';
import type { BenchmarkRunResult } from '../core/run.js';
import { OrtAttentionBenchmark } from '../peers/attention.js';
import { TritonLiveBenchmark } from '../peers/triton-live.js';
import type { BenchEnv } from './common.js';
import {
  BACKEND_PREFIX,
  isSequenceKernel,
  MlstmKernelBenchmark,
  MlstmStepBenchmark,
  SEQUENCE_KERNELS,
} from './kernel-benchmarks.js';
import { createGemmBenchmarkCreator, gemmConfigs, recordGemmResult } from './gemm.js';
import { closeModelSuite, createModelBenchmarkCreator, modelConfigs, recordModelResult } from './model.js';
import {
  TRITON_CONSTTOKEN_FW,
  TRITON_CONSTTOKEN_FWBW,
  TRITON_LABEL,
  TRITON_STEP,
} from './triton-reference.js';

export type Preset = 'tiny' | 'default' | 'full';
export type Mode = 'fw' | 'fwbw';
export type Peer = 'ort' | 'ort-loop' | 'ort-attention' | 'cpu' | 'triton' | 'triton-live';
/** Every peer name `--peers` accepts. */
export const PEERS: readonly Peer[] = ['triton', 'triton-live', 'ort', 'ort-loop', 'ort-attention', 'cpu'];

/** Quantised weight formats of the model suite (`--dtypes q8,q4`). */
export type WeightQuant = 'q8' | 'q4';

export interface SuiteOptions {
  preset: Preset;
  modes?: Mode[];
  dtypes?: Dtype[];
  /** model suite: quantised weight formats measured besides `dtypes` (alone when `dtypes` is not set) */
  weightQuants?: WeightQuant[];
  /** model suite, q8 / q4 weights: how decode-sized matmuls multiply them (hf-model's quantDecode; default: the model's) */
  quantDecodes?: ('int8' | 'f32')[];
  /** override the sequence lengths of consttoken */
  seqLens?: number[];
  /** tokens per const-token point (B·S) */
  tokens?: number;
  numHeads?: number;
  headDimQk?: number;
  headDimV?: number;
  /** kernel specifiers (default: the preset's) */
  kernels?: string[];
  peers?: Peer[];
  /** longest S the ORT parallel baseline runs at */
  ortMaxSeqLen?: number;
  /** longest S the ORT attention peer runs at (default: every S; ORT's refusals are recorded per cell) */
  attentionMaxSeqLen?: number;
  /** ORT attention graph: `mha` (com.microsoft.MultiHeadAttention, default) or `matmul` (plain ops) */
  attentionImpl?: 'mha' | 'matmul';
  /** batch sizes of the step suite */
  batchSizes?: number[];
  warmup?: number;
  rep?: number;
  /** model suite: `tiny`, `7b` (random weights of the xLSTM-7B shape), or checkpoint folders */
  models?: string[];
  /** model suite: prompt lengths of the time-to-first-token sweep */
  promptLens?: number[];
  /** model suite: batch sizes */
  modelBatchSizes?: number[];
  /** model suite: decode steps per repetition */
  decodeSteps?: number;
  /** model suite: blocks of the 7B-shaped model (32 = xLSTM-7B) */
  modelBlocks?: number;
  /** model suite: prompt length before the decode steps */
  decodePrompt?: number;
  /** model suite: tokens per packed-prefill batch (prompts of random lengths, and of equal ones); [] = no packed config */
  packedTokens?: number[];
  /** model suite: the models' `prefillChunkSize` (most tokens per prefill call; default: hf-model's activation budget) */
  prefillChunkSize?: number;
  /** model suite: hf-model's `denseDecode` for every model ('gemv' or 'matrix-units'; default: the model's) */
  denseDecode?: 'gemv' | 'matrix-units';
}

interface SizePreset {
  tokens: number;
  seqLens: number[];
  NH: number;
  DHQK: number;
  DHHV: number;
  warmup: number;
  rep: number;
  peers: Peer[];
  ortMaxSeqLen: number;
  stepBatch: number[];
  step: { NH: number; DHQK: number; DHHV: number };
  headdim: { S: number; B: number; dims: number[]; embedding: number };
}

export const PRESETS: Record<Preset, SizePreset> = {
  // Mesa lavapipe / SwiftShader: tiny shapes, few repetitions (every pipeline compiles in ~1 s)
  tiny: {
    tokens: 256,
    seqLens: [128, 256],
    NH: 2,
    DHQK: 16,
    DHHV: 32,
    warmup: 1,
    rep: 3,
    peers: ['cpu', 'ort'],
    ortMaxSeqLen: 256,
    stepBatch: [1, 4],
    step: { NH: 2, DHQK: 16, DHHV: 32 },
    headdim: { S: 256, B: 1, dims: [16, 32], embedding: 64 },
  },
  // a laptop GPU in well under a minute
  default: {
    tokens: 16384,
    seqLens: [512, 1024, 2048, 4096],
    NH: 16,
    DHQK: 128,
    DHHV: 256,
    warmup: 3,
    rep: 10,
    peers: ['triton'],
    ortMaxSeqLen: 512,
    stepBatch: [1, 4, 16, 64],
    step: { NH: 8, DHQK: 256, DHHV: 512 },
    headdim: { S: 2048, B: 2, dims: [64, 128, 256, 512], embedding: 4096 },
  },
  // the paper's sweep (spec §10.3)
  full: {
    tokens: 65536,
    seqLens: [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536],
    NH: 16,
    DHQK: 128,
    DHHV: 256,
    warmup: 3,
    rep: 10,
    peers: ['triton', 'ort', 'ort-loop'],
    ortMaxSeqLen: 2048,
    stepBatch: [1, 2, 4, 8, 16, 32, 64],
    step: { NH: 8, DHQK: 256, DHHV: 512 },
    headdim: { S: 8192, B: 4, dims: [32, 64, 128, 256, 512, 1024], embedding: 4096 },
  },
};

/**
 * Kernel + chunk size per preset (upstream paper figure: limit cs 64, xl cs 128, siging cs 128
 * n=false), and for f32 also xl cs 128 computed in f16.
 */
function defaultKernelSpecs(kernels: string[] | undefined, dtype: Dtype, fwbw: boolean): KernelSpecInit[] {
  const all: KernelSpecInit[] = [
    { kernelName: 'chunkwise--webgpu_xl_chunk', dtype, fwbw, additionalParams: { chunk_size: 128 } },
    { kernelName: 'chunkwise--webgpu_limit_chunk', dtype, fwbw, additionalParams: { chunk_size: 64 } },
    {
      kernelName: 'chunkwise--webgpu_xl_chunk_siging',
      dtype,
      fwbw,
      additionalParams: { chunk_size: 128, normalize: false },
    },
  ];
  // f32 tensors computed in f16 (`computeDtype`): the analogue of upstream's fp32 runs (TF32 matrix products)
  const f16Compute: KernelSpecInit[] =
    dtype === 'float32'
      ? [
          {
            kernelName: 'chunkwise--webgpu_xl_chunk',
            dtype,
            fwbw,
            additionalParams: { chunk_size: 128, compute_dtype: 'float16' },
          },
        ]
      : [];
  if (!kernels) return [...all, ...f16Compute];
  return kernels.map((k) => {
    // `<name>[:<chunk size>]`, name possibly `backend:<specifier>`
    const m = /^(.*?)(?::(\d+))?$/.exec(k)!;
    const [name, cs] = [m[1], m[2]];
    const plain = name.startsWith(BACKEND_PREFIX) ? name.slice(BACKEND_PREFIX.length) : name;
    const base = all.find((s) => s.kernelName === plain) ?? {
      kernelName: name,
      dtype,
      fwbw,
      additionalParams: {},
    };
    if (!isSequenceKernel(name))
      throw new Error(
        `unknown kernel '${name}' (known: ${Object.keys(SEQUENCE_KERNELS).join(', ')}, or ${BACKEND_PREFIX}<specifier>)`,
      );
    return {
      ...base,
      kernelName: name,
      additionalParams: { ...base.additionalParams, ...(cs ? { chunk_size: Number(cs) } : {}) },
    };
  });
}

function peerSpecs(
  peers: Peer[],
  mode: Mode,
  dtypes: Dtype[],
  p: SizePreset,
  o: SuiteOptions,
): KernelSpecInit[] {
  const fwbw = mode === 'fwbw';
  const out: KernelSpecInit[] = [];
  const ortMax = o.ortMaxSeqLen ?? p.ortMaxSeqLen;
  // triton-live keeps the labelled constants beside it (they stay when Python is absent)
  if (peers.includes('triton') || peers.includes('triton-live')) {
    out.push({
      kernelName: 'reference--triton_xl_chunk',
      dtype: 'bfloat16',
      fwbw,
      label: TRITON_LABEL,
      additionalParams: { cs: 128 },
    });
  }
  if (peers.includes('triton-live')) {
    out.push(
      {
        kernelName: 'triton-live--xl_chunk',
        dtype: 'bfloat16',
        fwbw,
        label: 'Triton xl_chunk (live, bf16)',
        additionalParams: { warmup: 0, rep: 1, warmup_tolerance: 0 },
      },
      {
        kernelName: 'triton-live--torch_sdpa',
        dtype: 'bfloat16',
        fwbw,
        label: 'torch SDPA causal (live, bf16)',
        additionalParams: { warmup: 0, rep: 1, warmup_tolerance: 0 },
      },
    );
  }
  if (peers.includes('ort-attention') && !fwbw) {
    for (const dtype of dtypes.filter((d) => d !== 'bfloat16')) {
      const impl = o.attentionImpl ?? 'mha';
      out.push({
        kernelName: 'ort--attention',
        dtype,
        fwbw,
        label: `ORT-web attention ${impl === 'mha' ? 'MHA' : 'MatMul+Softmax'} causal ${dtype === 'float16' ? 'f16' : 'f32'}`,
        additionalParams: {
          impl,
          ...(o.attentionMaxSeqLen !== undefined ? { max_sequence_length: o.attentionMaxSeqLen } : {}),
          warmup: 1,
          rep: 3,
        },
      });
    }
  }
  if (peers.includes('ort') && !fwbw) {
    for (const dtype of dtypes)
      out.push({
        kernelName: 'ort--parallel_stablef',
        dtype,
        fwbw,
        label: `ORT-web WebGPU parallel ${dtype === 'float16' ? 'f16' : 'f32'}`,
        additionalParams: { max_sequence_length: ortMax, warmup: 1, rep: 3 },
      });
  }
  if (peers.includes('ort-loop') && !fwbw) {
    out.push({
      kernelName: 'ort--recurrent_loop',
      dtype: 'float32',
      fwbw,
      label: 'ORT-web wasm Loop (B=1, scaled)',
      // one scaled run of several seconds: no stability warm-up (recorded as stable: null)
      additionalParams: {
        max_sequence_length: 512,
        measure_batch: 1,
        warmup: 0,
        rep: 1,
        warmup_tolerance: 0,
      },
    });
  }
  if (peers.includes('cpu') && !fwbw) {
    out.push({
      kernelName: 'cpu--core_reference_chunkwise',
      dtype: 'float32',
      fwbw,
      label: 'CPU core-reference (f64)',
      // warmed up like every series (the first calls of the float64 code run unoptimised)
      additionalParams: { chunk_size: 64, warmup: 1, rep: 3 },
    });
  }
  return out;
}

/** The const-token suite: B·S fixed, S swept (one config per mode). */
export function consttokenConfigs(o: SuiteOptions): BenchmarkConfig[] {
  const p = PRESETS[o.preset];
  const modes = o.modes ?? ['fw'];
  const dtypes = o.dtypes ?? ['float32'];
  const tokens = o.tokens ?? p.tokens;
  const seqLens = (o.seqLens ?? p.seqLens).filter((s) => s <= tokens && tokens % s === 0);
  if (seqLens.length === 0) throw new Error(`no sequence length divides tokens = ${tokens}`);
  const peers = o.peers ?? p.peers;
  return modes.map(
    (mode) =>
      new BenchmarkConfig({
        benchmarkName: `consttoken_${mode}`,
        varyType: 'sequence',
        varyParams: { sequence_length: seqLens, batch_size: seqLens.map((s) => tokens / s) },
        fixedParams: {
          num_heads: o.numHeads ?? p.NH,
          head_dim_qk: o.headDimQk ?? p.DHQK,
          head_dim_v: o.headDimV ?? p.DHHV,
        },
        kernelSpecs: [
          ...dtypes.flatMap((dt) => defaultKernelSpecs(o.kernels, dt, mode === 'fwbw')),
          ...peerSpecs(peers, mode, dtypes, p, o),
        ],
        xAxisParam: 'sequence_length',
        warmup: o.warmup ?? p.warmup,
        rep: o.rep ?? p.rep,
      }),
  );
}

/** Head-dimension sweep: S and B fixed, DHHV swept, NH = embedding / DHHV, DHQK = DHHV / 2. */
export function headdimConfigs(o: SuiteOptions): BenchmarkConfig[] {
  const p = PRESETS[o.preset];
  const h = p.headdim;
  const modes = o.modes ?? ['fw'];
  const dtypes = o.dtypes ?? ['float32'];
  return modes.map(
    (mode) =>
      new BenchmarkConfig({
        benchmarkName: `headdim_${mode}`,
        varyType: 'sequence',
        varyParams: {
          head_dim_v: h.dims,
          head_dim_qk: h.dims.map((d) => d / 2),
          num_heads: h.dims.map((d) => Math.max(1, h.embedding / d)),
        },
        fixedParams: { sequence_length: h.S, batch_size: h.B },
        kernelSpecs: dtypes.flatMap((dt) => defaultKernelSpecs(o.kernels, dt, mode === 'fwbw')),
        xAxisParam: 'head_dim_v',
        warmup: o.warmup ?? p.warmup,
        rep: o.rep ?? p.rep,
      }),
  );
}

/** Generation step latency of a 7B layer (NH 8, DHQK 256, DHHV 512) over batch sizes. */
export function stepConfigs(o: SuiteOptions): BenchmarkConfig[] {
  const p = PRESETS[o.preset];
  const dtypes = o.dtypes ?? ['float32'];
  const peers = o.peers ?? p.peers;
  const specs: KernelSpecInit[] = dtypes.map((dtype) => ({ kernelName: 'step--webgpu', dtype, fwbw: false }));
  // no live step measurement: triton-live keeps the labelled step constants
  if (peers.includes('triton') || peers.includes('triton-live'))
    specs.push({ kernelName: 'reference--triton_step', dtype: 'bfloat16', label: TRITON_LABEL });
  return [
    new BenchmarkConfig({
      benchmarkName: 'step',
      varyType: 'grid',
      varyParams: { batch_size: o.batchSizes ?? p.stepBatch },
      fixedParams: {
        num_heads: o.numHeads ?? p.step.NH,
        head_dim_qk: o.headDimQk ?? p.step.DHQK,
        head_dim_v: o.headDimV ?? p.step.DHHV,
      },
      kernelSpecs: specs,
      xAxisParam: 'batch_size',
      warmup: o.warmup ?? (o.preset === 'tiny' ? 1 : 10),
      rep: o.rep ?? (o.preset === 'tiny' ? 3 : 30),
    }),
  ];
}

export interface SuiteDefinition {
  description: string;
  configs(o: SuiteOptions): BenchmarkConfig[];
  /** a creator for kernel names this suite adds (falls back to the built-in one) */
  creator?(env: BenchEnv): BenchmarkCreator;
  /** called after each of this suite's configs has been recorded (extra columns, plots) */
  afterConfig?(res: BenchmarkRunResult & { folder: string }, adapter: string): Promise<void>;
  /** called once after all configs of a run (frees what the creator kept) */
  close?(env: BenchEnv): Promise<void>;
}

const registry = new Map<string, SuiteDefinition>([
  [
    'consttoken',
    {
      description: 'const-token sweep (B·S fixed), every chunkwise kernel, fw / fwbw',
      configs: consttokenConfigs,
    },
  ],
  ['headdim', { description: 'head-dimension sweep at fixed S and B', configs: headdimConfigs }],
  ['step', { description: 'generation step latency (7B layer) over batch sizes', configs: stepConfigs }],
  [
    'gemm',
    {
      description:
        'dense matmul at the xLSTM-7B prefill shapes (M 2048 / 8192): matrix units vs register-tiled, TFLOP/s',
      configs: gemmConfigs,
      creator: createGemmBenchmarkCreator,
      afterConfig: recordGemmResult,
    },
  ],
  [
    'model',
    {
      description:
        'hf-model on WebGPU: time to first token, decode tokens/s, peak memory (tiny fixture, 7B-shaped random)',
      configs: modelConfigs,
      creator: createModelBenchmarkCreator,
      afterConfig: recordModelResult,
      close: closeModelSuite,
    },
  ],
]);

/** Adds or replaces a suite (the hook for hf-model's `model` suite). */
export function registerSuite(name: string, def: SuiteDefinition): void {
  registry.set(name, def);
}

export function getSuite(name: string): SuiteDefinition {
  const s = registry.get(name);
  if (!s) throw new Error(`unknown suite '${name}' (known: ${[...registry.keys()].join(', ')})`);
  return s;
}

export function listSuites(): { name: string; description: string }[] {
  return [...registry].map(([name, s]) => ({ name, description: s.description }));
}

/** Maps a kernel spec to its benchmark (upstream `create_training_kernel_benchmark`). */
export function createBenchmarkCreator(env: BenchEnv): BenchmarkCreator {
  return (spec: KernelSpec, params) => {
    let b: BenchmarkInterface;
    const n = spec.kernelName;
    if (isSequenceKernel(n)) b = new MlstmKernelBenchmark(env, n, spec.dtype, spec.fwbw);
    else if (n === 'step--webgpu') b = new MlstmStepBenchmark(env, spec.dtype);
    else if (n === 'ort--parallel_stablef') b = new OrtParallelBenchmark(env, spec.dtype, spec.fwbw);
    else if (n === 'ort--attention') b = new OrtAttentionBenchmark(env, spec.dtype, spec.fwbw);
    else if (n === 'triton-live--xl_chunk')
      b = new TritonLiveBenchmark(env.tritonLive, 'xl_chunk', spec.fwbw);
    else if (n === 'triton-live--torch_sdpa') b = new TritonLiveBenchmark(env.tritonLive, 'sdpa', spec.fwbw);
    else if (n === 'ort--recurrent_loop') b = new OrtLoopBenchmark(env, spec.fwbw);
    else if (n === 'cpu--core_reference_chunkwise') b = new CpuReferenceBenchmark('exp', spec.fwbw);
    else if (n === 'reference--triton_xl_chunk')
      b = new ReferenceNumbersBenchmark(
        'sequence_length',
        Number(params.batch_size) * Number(params.sequence_length) === 65536 &&
          params.num_heads === 16 &&
          params.head_dim_qk === 128 &&
          params.head_dim_v === 256
          ? spec.fwbw
            ? TRITON_CONSTTOKEN_FWBW
            : TRITON_CONSTTOKEN_FW
          : {},
        'reference (upstream Triton, bf16, H100)',
      );
    else if (n === 'reference--triton_step')
      b = new ReferenceNumbersBenchmark(
        'batch_size',
        params.num_heads === 8 && params.head_dim_qk === 256 && params.head_dim_v === 512 ? TRITON_STEP : {},
        'reference (upstream Triton, bf16, H100)',
      );
    else throw new Error(`no benchmark for kernel '${n}'`);
    b.setParams(params);
    return b;
  };
}

export { KernelSpec };
