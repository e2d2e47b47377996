/**
 * @mlstm/kernels-webgpu — mLSTM kernels in WGSL for WebGPU (browsers and Node via dawn.node).
 */
export {
  type BindingKind,
  type GpuAdapterSummary,
  GpuContext,
  type GpuContextOptions,
  type GpuFeatures,
  DispatchBatch,
  getGpuContext,
  type MatrixPathStatus,
  GPU_CONTEXT_OPTION_KEYS,
  type SubgroupMatrixConfig,
} from './device/context.js';
export {
  F16_MAX,
  f16BitsToF32,
  f16Saturates,
  f32ToF16Bits,
  f32ToF16BitsIeee,
  packF16,
  roundToF16,
  unpackF16,
  wgslSaturateF16,
} from './device/f16.js';
export { BufferPool, type PoolStats, sizeClass } from './device/pool.js';
export { defineParams, type ParamBlock, type ParamType } from './device/params.js';
export { type GpuDtype, GpuTensor } from './device/tensor.js';
export {
  GpuDeviceLostError,
  GpuValidationError,
  KernelArgumentError,
  MlstmArgumentError,
  MlstmDeviceError,
  MlstmError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
  NoAdapterError,
} from './errors.js';
export type { CpuTensor, SequenceDims, TensorLike } from './validate.js';
export {
  encodeRecurrentStep,
  type EncodeRecurrentStepArgs,
  mlstmRecurrentStepWebgpu,
  RECURRENT_STEP_FUSED_BINDINGS,
  type RecurrentStepOut,
  type RecurrentStepTiles,
  type RecurrentStepWebgpuArgs,
  type RecurrentStepWebgpuResult,
  recurrentStepKernel,
  recurrentStepTiles,
  type StepDims,
} from './recurrent/step.js';
export {
  mlstmRecurrentSequenceWebgpu,
  type RecurrentSequenceWebgpuArgs,
  type RecurrentSequenceWebgpuResult,
} from './recurrent/sequence.js';
export type {
  BackwardFn,
  ChunkwiseArgs,
  ChunkwiseBackwardArgs,
  ChunkwiseGradients,
  ChunkwiseResult,
  EncodeForwardFn,
  ForwardFn,
  KernelFamily,
  LastStates,
} from './chunkwise/run.js';
export { releaseSaved, type TflaSaved } from './chunkwise/tfla.js';
export {
  type ExecutionPlan,
  ensureMatrixProbe,
  explainPlan,
  explainPlanAfterProbe,
  type PlanOptions,
  type PlanShape,
} from './chunkwise/plan.js';
export {
  LIMIT_CHUNK,
  mlstmChunkwiseLimitChunk,
  mlstmChunkwiseLimitChunkBackward,
} from './chunkwise/limit_chunk.js';
export {
  encodeMlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  XL_CHUNK,
} from './chunkwise/xl_chunk.js';
export {
  mlstmSigChunkwiseXlChunk,
  mlstmSigChunkwiseXlChunkBackward,
  XL_CHUNK_SIGING,
} from './chunkwise/xl_chunk_siging.js';
export {
  LIMIT_HEADDIM,
  mlstmParallelLimitHeaddim,
  mlstmParallelLimitHeaddimBackward,
} from './parallel/limit_headdim.js';
export {
  mlstmRecurrentSequenceWebgpuPacked,
  type PackedRecurrentSequenceArgs,
} from './recurrent/sequence_packed.js';
export {
  mlstmChunkwiseXlChunkPacked,
  mlstmChunkwiseXlChunkPackedBackward,
  mlstmSigChunkwiseXlChunkPacked,
  mlstmSigChunkwiseXlChunkPackedBackward,
  type PackedBackwardFn,
  type PackedChunkwiseArgs,
  type PackedChunkwiseBackwardArgs,
  type PackedForwardFn,
  packedFamilyFunctions,
  type SeqStarts,
  validateSeqStarts,
} from './chunkwise/packed.js';
export {
  type DenseMatmulArgs,
  type DenseMatmulPath,
  type DenseSgmatTiles,
  denseMatmul,
  denseMatmulPath,
  encodeDenseMatmul,
  formatDenseTiles,
  parseDenseTiles,
} from './dense/matmul.js';
export * as heuristics from './heuristics.js';
export { DEFAULT_KERNEL_TUNING, type KernelTuning, type ResolvedTuning } from './tuning.js';
