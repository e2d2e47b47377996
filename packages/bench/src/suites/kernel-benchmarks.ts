/**
 * Benchmarks of the WebGPU kernels (upstream `mLSTMBenchmark`, `mLSTMStepKernelBenchmark`).
 * Inputs are random on the GPU; forward+backward is the backward of `sum(h)` (dh = ones) reusing
 * the tensors the forward saved (`keepSaved`), as autograd does upstream.
 */
import { getMlstmKernel, releaseKernelSaved } from '@mlstm/backend';
import {
  type ChunkwiseArgs,
  type ChunkwiseBackwardArgs,
  type ChunkwiseGradients,
  type ChunkwiseResult,
  encodeRecurrentStep,
  type GpuContext,
  type GpuTensor,
  mlstmChunkwiseLimitChunk,
  mlstmChunkwiseLimitChunkBackward,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  mlstmParallelLimitHeaddim,
  mlstmParallelLimitHeaddimBackward,
  mlstmSigChunkwiseXlChunk,
  mlstmSigChunkwiseXlChunkBackward,
  releaseSaved,
} from '@mlstm/kernels-webgpu';
import { gpuTimer, poolMemoryMeter } from '../core/gpu-timing.js';
import { BenchmarkInterface, type MemoryMeter, type Timer } from '../core/interface.js';
import type { Dtype } from '../core/kernel-spec.js';
import { type BenchEnv, gpuDtype } from './common.js';
import { gpuRandn } from './gpu-inputs.js';

type Fw = (ctx: GpuContext, a: ChunkwiseArgs<GpuTensor>) => Promise<ChunkwiseResult<GpuTensor>>;
type Bw = (ctx: GpuContext, a: ChunkwiseBackwardArgs<GpuTensor>) => Promise<ChunkwiseGradients<GpuTensor>>;

/** The sequence kernels of kernels-webgpu by specifier. */
export const SEQUENCE_KERNELS: Record<string, { fw: Fw; bw: Bw; chunked: boolean }> = {
  'chunkwise--webgpu_xl_chunk': {
    fw: mlstmChunkwiseXlChunk,
    bw: mlstmChunkwiseXlChunkBackward,
    chunked: true,
  },
  'chunkwise--webgpu_limit_chunk': {
    fw: mlstmChunkwiseLimitChunk,
    bw: mlstmChunkwiseLimitChunkBackward,
    chunked: true,
  },
  'chunkwise--webgpu_xl_chunk_siging': {
    fw: mlstmSigChunkwiseXlChunk,
    bw: mlstmSigChunkwiseXlChunkBackward,
    chunked: true,
  },
  'parallel--webgpu_limit_headdim': {
    fw: mlstmParallelLimitHeaddim,
    bw: mlstmParallelLimitHeaddimBackward,
    chunked: false,
  },
};

/** Prefix of kernel names resolved through @mlstm/backend's registry (`backend:chunkwise--webgpu_xl_chunk`). */
export const BACKEND_PREFIX = 'backend:';

/** A sequence kernel by name: this package's table, or `backend:<specifier>` through @mlstm/backend. */
export function resolveSequenceKernel(name: string): { fw: Fw; bw: Bw; chunked: boolean } {
  const direct = SEQUENCE_KERNELS[name];
  if (direct) return direct;
  if (name.startsWith(BACKEND_PREFIX)) {
    const k = getMlstmKernel(name.slice(BACKEND_PREFIX.length));
    if (k.platform !== 'webgpu')
      throw new Error(`${name}: only WebGPU kernels are benchmarked here (got ${k.platform})`);
    return {
      fw: (ctx, a) => k(a, { gpu: ctx }) as Promise<ChunkwiseResult<GpuTensor>>,
      bw: (ctx, a) => k.backward(a, { gpu: ctx }) as Promise<ChunkwiseGradients<GpuTensor>>,
      chunked: k.family === 'chunkwise',
    };
  }
  throw new Error(
    `unknown kernel '${name}' (known: ${Object.keys(SEQUENCE_KERNELS).join(', ')}, or ${BACKEND_PREFIX}<specifier>)`,
  );
}

/** Whether `name` is a sequence kernel this package can benchmark. */
export function isSequenceKernel(name: string): boolean {
  return !!SEQUENCE_KERNELS[name] || name.startsWith(BACKEND_PREFIX);
}

let seedCounter = 1;

export class MlstmKernelBenchmark extends BenchmarkInterface {
  batch_size = 1;
  sequence_length = 128;
  num_heads = 1;
  head_dim_qk = 16;
  head_dim_v = 16;
  chunk_size = 0;
  normalize: boolean | undefined = undefined;
  /** `float16`: f32 tensors, kernels run in f16 (`computeDtype: 'f16'`); empty: the tensors' dtype */
  compute_dtype = '';
  /** ignored parameters of other suites (kept so that shared param dicts validate) */
  tokens = 0;
  embedding_dim = 0;

  private ctx!: GpuContext;
  private inputs: GpuTensor[] = [];
  private dh: GpuTensor | undefined;

  constructor(
    private readonly env: BenchEnv,
    readonly kernelName: string,
    readonly dtype: Dtype,
    readonly fwbw: boolean,
  ) {
    super();
    this.kernel = resolveSequenceKernel(kernelName);
  }

  private readonly kernel: { fw: Fw; bw: Bw; chunked: boolean };

  async setup(): Promise<void> {
    this.ctx = await this.env.gpu();
    if (this.ctx.lost) await this.ctx.recreate(); // a lost device (e.g. out of memory) fails one cell, not the run
    const { batch_size: B, num_heads: NH, sequence_length: S, head_dim_qk: DQK, head_dim_v: DV } = this;
    const dt = gpuDtype(this.dtype);
    const seed = seedCounter++;
    this.inputs = [
      gpuRandn(this.ctx, [B, NH, S, DQK], dt, seed * 5),
      gpuRandn(this.ctx, [B, NH, S, DQK], dt, seed * 5 + 1),
      gpuRandn(this.ctx, [B, NH, S, DV], dt, seed * 5 + 2),
      gpuRandn(this.ctx, [B, NH, S], 'f32', seed * 5 + 3),
      gpuRandn(this.ctx, [B, NH, S], 'f32', seed * 5 + 4),
    ];
    if (this.fwbw) this.dh = gpuRandn(this.ctx, [B, NH, S, DV], dt, 0, { scale: 0, offset: 1 });
    await this.ctx.sync();
  }

  private args(): ChunkwiseArgs<GpuTensor> {
    const [q, k, v, i, f] = this.inputs;
    const a: ChunkwiseArgs<GpuTensor> = { q, k, v, i, f };
    if (this.kernel.chunked && this.chunk_size > 0)
      a.chunkSize = Math.min(this.chunk_size, this.sequence_length);
    if (this.normalize !== undefined) a.normalize = this.normalize;
    if (this.compute_dtype) a.computeDtype = gpuDtype(this.compute_dtype as Dtype);
    return a;
  }

  async benchmarkFn(): Promise<void> {
    const k = this.kernel;
    const a = this.args();
    if (!this.fwbw) {
      const r = await k.fw(this.ctx, a);
      r.h.release();
      return;
    }
    const r = await k.fw(this.ctx, { ...a, keepSaved: true });
    const g = await k.bw(this.ctx, { ...a, dh: this.dh!, saved: r.saved });
    r.h.release();
    if (r.saved) (this.kernelName.startsWith(BACKEND_PREFIX) ? releaseKernelSaved : releaseSaved)(r.saved);
    for (const t of Object.values(g)) (t as GpuTensor | undefined)?.release();
  }

  timer(): Timer {
    return gpuTimer(this.ctx, this.env.timing);
  }

  override memoryMeter(): MemoryMeter {
    return poolMemoryMeter(this.ctx);
  }

  override async teardown(): Promise<void> {
    for (const t of this.inputs) t.release();
    this.dh?.release();
    this.inputs = [];
    this.dh = undefined;
  }
}

/** Divides another timer's result by `n` (n steps per timed call). */
class PerStepTimer implements Timer {
  readonly method: string;
  constructor(
    private readonly inner: Timer,
    private readonly n: number,
  ) {
    this.method = `${inner.method}, ${n} steps per submit`;
  }
  async time(fn: () => Promise<void>): Promise<number> {
    return (await this.inner.time(fn)) / this.n;
  }
}

/**
 * Generation step latency (upstream `mLSTMStepKernelBenchmark`, f = randn + 4.5): `steps_per_sample`
 * steps encoded into one submission (states ping-pong between two buffers, so every step takes
 * the fused kernel), GPU time / steps.
 */
export class MlstmStepBenchmark extends BenchmarkInterface {
  batch_size = 1;
  num_heads = 8;
  head_dim_qk = 256;
  head_dim_v = 512;
  steps_per_sample = 16;

  private ctx!: GpuContext;
  private t: Record<string, GpuTensor> = {};

  constructor(
    private readonly env: BenchEnv,
    readonly dtype: Dtype,
  ) {
    super();
  }

  async setup(): Promise<void> {
    const ctx = (this.ctx = await this.env.gpu());
    if (ctx.lost) await ctx.recreate();
    const { batch_size: B, num_heads: NH, head_dim_qk: DQK, head_dim_v: DV } = this;
    const dt = gpuDtype(this.dtype);
    const seed = seedCounter++ * 7;
    this.t = {
      q: gpuRandn(ctx, [B * NH, 1, DQK], dt, seed),
      k: gpuRandn(ctx, [B * NH, 1, DQK], dt, seed + 1),
      v: gpuRandn(ctx, [B * NH, 1, DV], dt, seed + 2),
      i: gpuRandn(ctx, [B * NH, 1], 'f32', seed + 3),
      f: gpuRandn(ctx, [B * NH, 1], 'f32', seed + 4, { offset: 4.5 }),
      h: ctx.empty([B * NH, 1, DV], dt),
      c0: ctx.zeros([B * NH, DQK, DV]),
      n0: ctx.zeros([B * NH, DQK]),
      m0: ctx.zeros([B * NH, 1]),
      c1: ctx.zeros([B * NH, DQK, DV]),
      n1: ctx.zeros([B * NH, DQK]),
      m1: ctx.zeros([B * NH, 1]),
    };
    await ctx.sync();
  }

  async benchmarkFn(): Promise<void> {
    const { ctx, t } = this;
    const batch = ctx.batch();
    // kernels-webgpu's STEP_SCRATCH_PER_HEAD = 4 f32 per (batch, head)
    const scratch = batch.scratch([this.batch_size * this.num_heads * 4]);
    const dims = {
      BH: this.batch_size * this.num_heads,
      S: 1,
      DHQK: this.head_dim_qk,
      DHHV: this.head_dim_v,
    };
    for (let s = 0; s < this.steps_per_sample; s++) {
      const [a, b] = s % 2 === 0 ? ['0', '1'] : ['1', '0'];
      encodeRecurrentStep(ctx, batch, {
        dims,
        t: 0,
        dtype: gpuDtype(this.dtype),
        eps: 1e-6,
        q: t.q,
        k: t.k,
        v: t.v,
        i: t.i,
        f: t.f,
        state: { c: t[`c${a}`], n: t[`n${a}`], m: t[`m${a}`] },
        out: { h: t.h, c: t[`c${b}`], n: t[`n${b}`], m: t[`m${b}`] },
        scratch,
      });
    }
    batch.submit();
  }

  timer(): Timer {
    return new PerStepTimer(gpuTimer(this.ctx, this.env.timing, 1), this.steps_per_sample);
  }

  override memoryMeter(): MemoryMeter {
    return poolMemoryMeter(this.ctx);
  }

  override async teardown(): Promise<void> {
    for (const x of Object.values(this.t)) x.release();
    this.t = {};
  }
}
