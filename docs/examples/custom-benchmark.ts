// Writing a new benchmark with @mlstm/bench: the upstream "Step 1–3" walkthrough.
import {
  BenchmarkConfig,
  type BenchmarkCreator,
  BenchmarkInterface,
  gpuTimer,
  type ParamDict,
  poolMemoryMeter,
  runAndRecordBenchmarks,
  setupOutputFolder,
} from '@mlstm/bench';
import { type GpuContext, type GpuTensor, getGpuContext, mlstmChunkwiseXlChunk } from '@mlstm/kernels-webgpu';

// #region step1
// Step 1 — the benchmark: a class with the parameters as fields, `setup` (untimed),
// `benchmarkFn` (the timed call), `timer`, and optionally `memoryMeter` and `teardown`.
class XlChunkForward extends BenchmarkInterface {
  batch_size = 1;
  num_heads = 2;
  sequence_length = 128;
  head_dim = 16;
  chunk_size = 64; // set per kernel spec through `additional_params`
  private inputs: GpuTensor[] = [];

  constructor(
    private readonly ctx: GpuContext,
    params: ParamDict,
  ) {
    super();
    this.setParams(params); // an unknown parameter name throws, as upstream
  }

  async setup() {
    const { batch_size: B, num_heads: NH, sequence_length: S, head_dim: D } = this;
    const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
    this.inputs = [
      ...[0, 1, 2].map(() => this.ctx.upload(rand(B * NH * S * D), [B, NH, S, D])),
      ...[0, 1].map(() => this.ctx.upload(rand(B * NH * S), [B, NH, S])),
    ];
  }

  async benchmarkFn() {
    const [q, k, v, i, f] = this.inputs;
    const { h } = await mlstmChunkwiseXlChunk(this.ctx, { q, k, v, i, f, chunkSize: this.chunk_size });
    h.release();
  }

  timer() {
    return gpuTimer(this.ctx); // timestamp-query when the adapter has it, else wall time + sync
  }

  override memoryMeter() {
    return poolMemoryMeter(this.ctx); // peak bytes of the kernels' buffer pool
  }

  override async teardown() {
    for (const t of this.inputs) t.release();
  }
}
// #endregion step1

// #region step2
// Step 2 — the configuration: what to vary, what to fix, which kernel specs (YAML or JSON,
// upstream's snake_case keys). Every combination of `vary_params` × `kernel_specs` is one cell.
const config = BenchmarkConfig.parse(`
benchmark_name: xl_chunk_chunk_sizes
vary_type: grid
vary_params: { sequence_length: [128, 256] }
fixed_params: { batch_size: 1, num_heads: 2, head_dim: 16 }
kernel_specs:
  - { kernel_name: chunkwise--webgpu_xl_chunk, additional_params: { chunk_size: 64 } }
  - { kernel_name: chunkwise--webgpu_xl_chunk, additional_params: { chunk_size: 128 } }
x_axis_param: sequence_length
warmup: 1
rep: 3
`);
// #endregion step2

// #region step3
// Step 3 — run and record: a creator builds the benchmark of each cell; the results land in
// <out>/<timestamp>/xl_chunk_chunk_sizes/ (config.yaml, results.csv, results.json, SVG plots).
export async function main(outputDir = './outputs_kernel_benchmarks') {
  const ctx = await getGpuContext();
  const creator: BenchmarkCreator = (_spec, params) => new XlChunkForward(ctx, params);
  const result = await runAndRecordBenchmarks(config, creator, setupOutputFolder(outputDir), {
    adapter: ctx.adapterInfo.description,
  });
  console.table(result.rows);
  ctx.destroy();
  return result;
}
// #endregion step3
