/**
 * @mlstm/bench — benchmarks of the WebGPU mLSTM kernels: the benchmark library (upstream
 * `mlstm_kernels/utils/benchmark` concepts), the suites, the peer baselines and the recording.
 */
export {
  BenchmarkConfig,
  BenchmarkConfigError,
  type BenchmarkConfigInput,
  benchmarkConfigSchema,
  kernelSpecSchema,
  type ParamDict,
  type ParamValue,
} from './core/config.js';
export { gpuTimer, poolMemoryMeter, SyncWallTimer, TimestampTimer } from './core/gpu-timing.js';
export {
  type BenchmarkCreator,
  BenchmarkInterface,
  failedResult,
  type MemoryMeter,
  type RuntimeResult,
  type Stats,
  stats,
  type Timer,
  WallTimer,
  WARMUP_POLICY,
  type WarmupPolicy,
} from './core/interface.js';
export {
  type AdditionalParams,
  type Dtype,
  KernelSpec,
  type KernelSpecInit,
  shortParamName,
} from './core/kernel-spec.js';
export { type LinePlotOptions, type LinePoint, linePlotSpec, linePlotSvg, renderSvg } from './core/plot.js';
export {
  type BenchmarkRunResult,
  type CellRecord,
  formatTable,
  MEMORY_PREFIX,
  PARAM_PREFIX,
  parseCsv,
  type ProgressEvent,
  type ResultRow,
  RUNTIME_PREFIX,
  runAndRecordBenchmarks,
  runBenchmarks,
  plotLabel,
  seriesPoints,
  shortLabel,
  setupOutputFolder,
  TIMING_PREFIX,
  toCsv,
} from './core/run.js';
export { adapterName, openGpuContext } from './gpu.js';
export {
  buildParallelStablefGraph,
  buildRecurrentLoopGraph,
  GraphBuilder,
  type MlstmGraphDims,
  type MlstmGraphOptions,
} from './onnx/index.js';
export {
  type AttentionGraphDims,
  type AttentionGraphOptions,
  type AttentionImpl,
  buildCausalAttentionGraph,
  causalAttentionReference,
} from './onnx/attention-graphs.js';
export {
  CpuReferenceBenchmark,
  OrtLoopBenchmark,
  OrtParallelBenchmark,
  ReferenceNumbersBenchmark,
} from './peers/benchmarks.js';
export { OrtAttentionBenchmark } from './peers/attention.js';
export {
  defaultTritonLiveScript,
  parseTritonLiveOutput,
  TRITON_LIVE_KERNEL_NAME,
  type TritonLiveCell,
  type TritonLiveCommand,
  TritonLiveBenchmark,
  type TritonLiveKernel,
  type TritonLiveMode,
  type TritonLiveOptions,
  type TritonLiveRecord,
  TritonLiveRunner,
  tritonLiveAvailable,
  tritonLiveCommand,
  tritonLiveKey,
} from './peers/triton-live.js';
export { createSession, installNavigatorGpu, loadOrt, ORT_WASM_FILE, type OrtProvider } from './peers/ort.js';
export {
  consttokenHeadline,
  consttokenHeadlinePlotSpec,
  needsGpu,
  type RunSuitesOptions,
  type RunSuitesResult,
  runSuites,
  summarize,
  unstableCells,
} from './runner.js';
export { type BenchEnv, SkipBenchmark } from './suites/common.js';
export { gpuRandn } from './suites/gpu-inputs.js';
export {
  BACKEND_PREFIX,
  isSequenceKernel,
  MlstmKernelBenchmark,
  MlstmStepBenchmark,
  resolveSequenceKernel,
  SEQUENCE_KERNELS,
} from './suites/kernel-benchmarks.js';
export {
  closeModelSuite,
  createModelBenchmarkCreator,
  findTinyModel,
  MODEL_DECODE,
  MODEL_PACKED,
  MODEL_PRESETS,
  MODEL_TTFT,
  type ModelPreset,
  ModelDecodeBenchmark,
  ModelPackedBenchmark,
  ModelTtftBenchmark,
  modelConfigs,
  modelSlug,
  recordModelResult,
  TOKENS_PER_S_PREFIX,
} from './suites/model.js';
export {
  createGemmBenchmarkCreator,
  GEMM_MATRIX,
  GEMM_TILED,
  GemmBenchmark,
  type GemmShape,
  gemmConfigs,
  gemmFlops,
  recordGemmResult,
  TFLOPS_PREFIX,
  xlstm7bGemmShapes,
} from './suites/gemm.js';
export {
  consttokenConfigs,
  createBenchmarkCreator,
  getSuite,
  headdimConfigs,
  listSuites,
  type Mode,
  type Peer,
  PEERS,
  PRESETS,
  type Preset,
  registerSuite,
  type SuiteDefinition,
  type SuiteOptions,
  stepConfigs,
} from './suites/suites.js';
export {
  TRITON_CONSTTOKEN_FW,
  TRITON_CONSTTOKEN_FWBW,
  TRITON_LABEL,
  TRITON_STEP,
} from './suites/triton-reference.js';
// the one error hierarchy of every @mlstm package
export {
  MlstmArgumentError,
  MlstmDeviceError,
  MlstmError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
} from '@mlstm/core-reference';
