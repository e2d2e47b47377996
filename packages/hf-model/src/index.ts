/**
 * @mlstm/hf-model — xLSTM language models (the xLSTM-7B "xLSTMLarge" architecture) from
 * Hugging Face transformers checkpoints, on the CPU (pure TypeScript) or WebGPU, with
 * streaming generation.
 */
export {
  mapKernelName,
  parseXlstmConfig,
  roundUp,
  type WeightMode,
  type XlstmConfig,
  type XlstmDims,
  type XlstmMode,
} from './config.js';
export {
  CheckpointFormatError,
  MissingTensorError,
  ModelArgumentError,
  ModelSourceError,
  MlstmArgumentError,
  MlstmDeviceError,
  MlstmError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
  ModelTooLargeError,
  QuantFormatError,
  TensorShapeError,
  XlstmConfigError,
} from './errors.js';
export {
  GpuDeviceLostError,
  GpuValidationError,
  KernelArgumentError,
  NoAdapterError,
} from '@mlstm/kernels-webgpu';
export {
  type ByteSource,
  chunkedSource,
  decodeEntry,
  memorySource,
  mergeStores,
  parseSafetensorsFile,
  shardFiles,
  type StDtype,
  type StEntry,
  type TensorStore,
  writeSafetensorsF32,
} from './safetensors.js';
export {
  assembleWeights,
  type BlockWeights,
  countParameters,
  EMBEDDING_NAMES,
  type Linear,
  loadWeights,
  type NormParams,
  RandomPieces,
  RandomWeights,
  WeightLoader,
  type WeightPieces,
  type XlstmWeights,
} from './weights.js';
export { type ActivationSink, forwardCpu } from './cpu.js';
export { type CellInputs, type CpuCell, type CpuCellKind, makeCpuCell } from './cell.js';
export {
  checkGpuLimits,
  DEFAULT_PREFILL_BUDGET_BYTES,
  estimateMemory,
  type MemoryEstimate,
  type MemoryOptions,
  type PrefillActivationOptions,
  type PrefillCallBound,
  type PrefillCallOptions,
  type PrefillCallPlan,
  prefillBytesPerToken,
  prefillTokensPerCall,
} from './memory.js';
export {
  dequantize,
  GROUP_SIZE,
  groupsPerRow,
  isQuantFormat,
  matrixBytes,
  type QuantFormat,
  type QuantMatrix,
  quantize,
  WEIGHT_FORMATS,
  type WeightFormat,
  wordsPerRow,
} from './quant/formats.js';
export {
  type DenseMatrix,
  type FilledMatrix,
  fillPieces,
  isFilledMatrix,
  type PackedBlock,
  type PackedLinear,
  type PackedMatrix,
  type PackedPieces,
  packPieces,
  resolveFormats,
  unpackPieces,
  type WeightFormats,
} from './quant/pieces.js';
export {
  type ByteSink,
  checksum,
  memorySink,
  QUANT_METADATA_KEY,
  type QuantRecord,
  type QuantTensorInfo,
  quantIndex,
  quantizedConfigJson,
  SafetensorsStreamWriter,
  writeQuantizedCheckpoint,
} from './quant/checkpoint.js';
export { fileSink, type QuantizeOptions, quantizeCheckpoint } from './quant/convert.js';
export {
  argmax,
  chooseToken,
  drawUniforms,
  makeRng,
  type SamplingOptions,
  sampleToken,
} from './sampling.js';
export { GpuRandomWeights, type GpuFill, randomValues, type WeightData } from './gpu/random-init.js';
export {
  createSeenMask,
  encodeSampleTokens,
  type GpuSampleParams,
  seenMaskBits,
  seenWords,
} from './gpu/sample.js';
export {
  defaultQuantDecode,
  type DenseDecode,
  defaultQuantPrefill,
  type QuantDecode,
  type QuantPrefill,
} from './gpu/engine.js';
export {
  encodeDequantize,
  encodeQEmbedding,
  encodeQMatmul,
  type QuantGpuMatrix,
  readQuant,
  uploadQuant,
} from './gpu/qmatmul.js';
export { encodeQuantize } from './gpu/quantize.js';
export {
  cacheApiCache,
  type FileCache,
  type FileReader,
  fileSource,
  folderCache,
  type InMemoryFiles,
  type LoadProgress,
  type ModelSource,
  openSource,
  type SourceOptions,
} from './sources.js';
export { XlstmTokenizer } from './tokenizer.js';
export { ChatTemplate, type TemplateMessage } from './chat-template.js';
export {
  type BlockStateArrays,
  type DeviceKind,
  type ForwardOptions,
  type ForwardResult,
  type GenerateOptions,
  type GenerateResult,
  type GenerateInput,
  type LoadOptions,
  type PackedPrefillCall,
  type TokenEvent,
  XlstmCache,
  XlstmForCausalLM,
} from './model.js';
export {
  configHash,
  type RestoreStateOptions,
  type SaveStateOptions,
  STATE_FORMAT_VERSION,
  type StateDtype,
  type StateHeader,
  StateSnapshotError,
  type StateSnapshotProblem,
} from './state.js';
export {
  type ChatMessage,
  type ChatReply,
  ChatSession,
  type ChatSessionOptions,
  fileStateStorage,
  indexedDbStateStorage,
  type StateStorage,
  type TurnFormatter,
} from './chat.js';
export { type BatchGenerateOptions, type BatchGenerateResult, generateBatch, streamBatch } from './batch.js';
export {
  type Message,
  type PipelineOptions,
  type PipelineProgress,
  pipeline,
  type TextGenerationConfig,
  type TextGenerationPipeline,
  TextStreamer,
} from './pipeline.js';
export {
  CPU_CELLS,
  DEVICES,
  FORWARD_OPTION_KEYS,
  GENERATE_OPTION_KEYS,
  LOAD_OPTION_KEYS,
  RANDOM_OPTION_KEYS,
  SAMPLING_OPTION_KEYS,
  SOURCE_OPTION_KEYS,
  WEIGHT_DTYPES,
} from './options.js';
