/** Shared pieces of the suites: the benchmark environment and the skip signal. */
import type { GpuContext } from '@mlstm/kernels-webgpu';
import type { Dtype } from '../core/kernel-spec.js';
import type { TritonLiveRunner } from '../peers/triton-live.js';

/** Thrown by a benchmark's setup to skip a cell (recorded as `skipped: …`, runtime NaN). */
export class SkipBenchmark extends Error {
  override name = 'SkipBenchmark';
  constructor(reason: string) {
    super(`skipped: ${reason}`);
  }
}

/** What the suites' benchmarks share. */
export interface BenchEnv {
  /** the kernels' GPU context (created on first use) */
  gpu(): Promise<GpuContext>;
  /** GPU timing: timestamp-query when available, or wall clock + onSubmittedWorkDone */
  timing: 'auto' | 'timestamp' | 'wall';
  /** folder of onnxruntime-web's wasm (default: beside the script, else the package) */
  ortWasmDir?: string;
  /** ORT execution provider for the parallel graph ('webgpu'; 'wasm' for CPU-only machines) */
  ortProvider?: 'webgpu' | 'wasm';
  /** the `triton-live` peer's script runner (one Python run per bench run) */
  tritonLive?: TritonLiveRunner;
}

export function gpuDtype(d: Dtype): 'f32' | 'f16' {
  if (d === 'bfloat16') throw new SkipBenchmark('WebGPU has no bfloat16 (use float16)');
  return d === 'float16' ? 'f16' : 'f32';
}

/** A lazily created GPU context shared by every benchmark of a run. */
export function lazyGpu(make: () => Promise<GpuContext>): () => Promise<GpuContext> {
  let p: Promise<GpuContext> | undefined;
  return () => (p ??= make());
}
