/** Messages between the pages and the kernel worker. */
export interface KernelRunArgs {
  specifier: string;
  B: number;
  NH: number;
  S: number;
  DHQK: number;
  DHHV: number;
  dtype: 'f32' | 'f16';
  chunkSize: number;
  seed: number;
  reps: number;
  /** compare with the CPU reference (skipped for large sizes) */
  compare: boolean;
}

export interface KernelRunResult {
  specifier: string;
  platform: 'cpu' | 'webgpu';
  dtype: string;
  adapter: string;
  /** GPU time from timestamp queries (null without timestamp-query or on the CPU) */
  gpuMs: number | null;
  wallMs: number;
  firstCallMs: number;
  timing: string;
  hSample: number[];
  reference: null | {
    specifier: string;
    ms: number;
    errors: { name: string; maxAbs: number; maxRef: number; rel: number }[];
    maxRelError: number;
    tolerance: number;
    pass: boolean;
  };
}

export interface BenchRunArgs {
  preset: string;
  modes: ('fw' | 'fwbw')[];
  dtypes: string[];
  tokens?: number;
  seqLens?: number[];
  numHeads?: number;
  headDimQk?: number;
  headDimV?: number;
  kernels?: string[];
  cpuPeer: boolean;
  /** onnxruntime-web's causal attention (WebGPU EP) as a series of its own (forward only) */
  attentionPeer?: boolean;
  warmup?: number;
  rep?: number;
}

export interface BenchRunResult {
  adapter: string;
  runs: { benchmarkName: string; title: string; xAxisParam: string; csv: string; errors: string[] }[];
}

export interface BenchProgress {
  done: number;
  total: number;
  benchmark: string;
  spec: string;
  params: Record<string, unknown>;
  runtimeMs?: number;
  error?: string;
}

/** The CPU reference kernel a specifier is checked against (float64 math in core-reference). */
export function referenceFor(specifier: string): string | null {
  if (specifier.includes('native')) return null; // already the reference
  if (specifier === 'chunkwise--webgpu_xl_chunk_siging') return 'parallel--native_siging_custbw';
  if (specifier.startsWith('chunkwise--webgpu')) return 'chunkwise--native_custbw';
  if (specifier === 'parallel--webgpu_limit_headdim') return 'parallel--native_stablef_custbw';
  return null;
}
