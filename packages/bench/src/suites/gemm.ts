/**
 * The `gemm` suite: the dense matmul of @mlstm/kernels-webgpu (`encodeDenseMatmul`) at the
 * prefill shapes of xLSTM-7B (hf-model's default config: H 4096, 8 heads, q/k 2048, v 4096,
 * FFN 10 944, vocabulary 50 304), M = 2 048 and 8 192 tokens, f16 weights, f32 activations and
 * output. Two series: the matrix-unit kernel (`gemm--webgpu_matrix`, skipped on adapters without
 * subgroup matrices) and the register-tiled one (`gemm--webgpu_tiled`, the reference path).
 * `results.csv` gets a `TFLOPS--<spec>` column per series (2·M·K·W-rows / time).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXlstmConfig } from '@mlstm/hf-model';
import {
  type DenseMatmulPath,
  denseMatmulPath,
  encodeDenseMatmul,
  type GpuContext,
  type GpuTensor,
} from '@mlstm/kernels-webgpu';
import { BenchmarkConfig } from '../core/config.js';
import { gpuTimer, poolMemoryMeter } from '../core/gpu-timing.js';
import {
  BenchmarkInterface,
  type BenchmarkCreator,
  type MemoryMeter,
  type Timer,
} from '../core/interface.js';
import type { KernelSpecInit } from '../core/kernel-spec.js';
import { type BenchmarkRunResult, PARAM_PREFIX, RUNTIME_PREFIX, toCsv } from '../core/run.js';
import { type BenchEnv, gpuDtype, SkipBenchmark } from './common.js';
import { gpuRandn } from './gpu-inputs.js';
import type { SuiteOptions } from './suites.js';

/** Column prefix of the TFLOP/s in the gemm configs' `results.csv`. */
export const TFLOPS_PREFIX = 'TFLOPS--';
export const GEMM_MATRIX = 'gemm--webgpu_matrix';
export const GEMM_TILED = 'gemm--webgpu_tiled';

/** One projection of the model: output columns N, depth K, SiLU-gated (W has 2N rows). */
export interface GemmShape {
  name: string;
  N: number;
  K: number;
  gated: boolean;
}

/**
 * The dense projections of an xLSTM block of the default (7B) config, as hf-model's engine fuses
 * them: q/k/v/o-gate + input/forget gates in one matrix, out_proj, the FFN gate/up matrix with the
 * SiLU-gated epilogue, the down projection, and the lm_head (all rows).
 */
export function xlstm7bGemmShapes(): GemmShape[] {
  const { H, NH, Dqk, Dv, F, V } = parseXlstmConfig({}).dims;
  return [
    { name: 'qkvo+gates', N: 2 * Dqk + 2 * Dv + 2 * NH, K: H, gated: false },
    { name: 'out_proj', N: H, K: Dv, gated: false },
    { name: 'ffn_up_gate_silu', N: F, K: H, gated: true },
    { name: 'ffn_down', N: H, K: F, gated: false },
    { name: 'lm_head', N: V, K: H, gated: false },
  ];
}

/** Floating-point operations of one call: 2·M·K per W row. */
export function gemmFlops(M: number, s: Pick<GemmShape, 'N' | 'K' | 'gated'>): number {
  return 2 * M * s.K * (s.gated ? 2 * s.N : s.N);
}

/** One config per M: the shapes as a sequence, both paths. */
export function gemmConfigs(o: SuiteOptions): BenchmarkConfig[] {
  const tiny = o.preset === 'tiny';
  // lavapipe: the same kernels on small shapes (odd sizes, so that the edges run too)
  const shapes: GemmShape[] = tiny
    ? [
        { name: 'small', N: 200, K: 136, gated: false },
        { name: 'small_silu', N: 97, K: 64, gated: true },
      ]
    : xlstm7bGemmShapes();
  const Ms = o.tokens ? [o.tokens] : tiny ? [96] : [2048, 8192];
  const specs: KernelSpecInit[] = [
    { kernelName: GEMM_MATRIX, dtype: 'float16', label: 'matrix units (f16 W, f32 x)' },
    { kernelName: GEMM_TILED, dtype: 'float16', label: 'register-tiled (f16 W, f32 x)' },
  ];
  return Ms.map(
    (M) =>
      new BenchmarkConfig({
        benchmarkName: `gemm_M${M}`,
        varyType: 'sequence',
        varyParams: {
          shape: shapes.map((s) => s.name),
          N: shapes.map((s) => s.N),
          K: shapes.map((s) => s.K),
          gated: shapes.map((s) => s.gated),
        },
        fixedParams: { M },
        kernelSpecs: specs,
        warmup: o.warmup ?? (tiny ? 1 : 3),
        rep: o.rep ?? (tiny ? 2 : 10),
      }),
  );
}

/** One dense matmul on random inputs (made on the GPU), timed with timestamp queries where possible. */
export class GemmBenchmark extends BenchmarkInterface {
  shape = '';
  M = 1;
  N = 1;
  K = 1;
  gated = false;
  private ctx?: GpuContext;
  private t: GpuTensor[] = [];

  constructor(
    private readonly env: BenchEnv,
    readonly path: DenseMatmulPath,
    readonly wDtype: 'f32' | 'f16',
  ) {
    super();
  }

  async setup(): Promise<void> {
    const ctx = await this.env.gpu();
    this.ctx = ctx;
    if (this.wDtype === 'f16' && !ctx.features.shaderF16)
      throw new SkipBenchmark('the adapter has no shader-f16');
    const o = { wDtype: this.wDtype, M: this.M, N: this.N, K: this.K, gated: this.gated };
    if (this.path === 'matrix' && denseMatmulPath(ctx, o) !== 'matrix')
      throw new SkipBenchmark('no subgroup matrices (or the shape does not fit them) on this adapter');
    const wRows = this.gated ? 2 * this.N : this.N;
    this.t = [
      gpuRandn(ctx, [this.M, this.K], 'f32', 1),
      gpuRandn(ctx, [wRows, this.K], this.wDtype, 2, { scale: 1 / Math.sqrt(this.K) }),
      ctx.empty([this.M, this.N]),
    ];
  }

  async benchmarkFn(): Promise<void> {
    const ctx = this.ctx!;
    const [x, w, y] = this.t;
    const batch = ctx.batch();
    encodeDenseMatmul(ctx, batch, { x, w, y, N: this.N, gate: this.gated ? 'silu' : null, path: this.path });
    batch.submit();
  }

  timer(): Timer {
    return gpuTimer(this.ctx!, this.env.timing);
  }

  override memoryMeter(): MemoryMeter | null {
    return this.ctx ? poolMemoryMeter(this.ctx) : null;
  }

  override async teardown(): Promise<void> {
    for (const t of this.t) t.release();
    this.t = [];
  }
}

export function createGemmBenchmarkCreator(env: BenchEnv): BenchmarkCreator {
  return (spec, params) => {
    const path: DenseMatmulPath | undefined =
      spec.kernelName === GEMM_MATRIX ? 'matrix' : spec.kernelName === GEMM_TILED ? 'tiled' : undefined;
    if (!path) throw new Error(`no gemm benchmark for '${spec.kernelName}'`);
    const b = new GemmBenchmark(env, path, gpuDtype(spec.dtype));
    b.setParams(params);
    return b;
  };
}

/** After each config: `TFLOPS--<spec>` columns in `results.csv`. */
export async function recordGemmResult(res: BenchmarkRunResult & { folder: string }): Promise<void> {
  for (const row of res.rows) {
    const M = Number(row[`${PARAM_PREFIX}M`]);
    const flops = gemmFlops(M, {
      N: Number(row[`${PARAM_PREFIX}N`]),
      K: Number(row[`${PARAM_PREFIX}K`]),
      gated: String(row[`${PARAM_PREFIX}gated`]) === 'true',
    });
    for (const spec of res.config.kernelSpecs) {
      const ms = Number(row[RUNTIME_PREFIX + spec.toString()]);
      row[TFLOPS_PREFIX + spec.toString()] = Number.isFinite(ms) && ms > 0 ? flops / ms / 1e9 : Number.NaN;
    }
  }
  writeFileSync(join(res.folder, 'results.csv'), toCsv(res.rows));
}
