/**
 * @mlstm/backend — the kernel registry (CPU reference kernels and WebGPU kernels under the upstream
 * specifiers) and the configurable mLSTM backend (train / train_with_padding / inference).
 */
export {
  type MlstmBackendForwardArgs,
  MLSTM_BACKEND_FORWARD_KEYS,
  MLSTM_BACKEND_OPTION_KEYS,
  type MlstmBackendOptions,
  type MlstmDevice,
  MLSTM_DEVICES,
  type MlstmBackendResult,
  type MlstmBackwardOptions,
  type MlstmInferenceResult,
  type MlstmTrainResult,
  MlstmBackend,
} from './backend.js';
export {
  checkInferenceKernel,
  DEFAULT_MLSTM_BACKEND_CONFIG,
  fromPythonConfig,
  gpuDtypeOf,
  mapPythonKernelName,
  type MlstmBackendConfig,
  type MlstmBackendMode,
  type MlstmDtypeName,
  resolveMlstmBackendConfig,
} from './config.js';
export {
  MlstmArgumentError,
  MlstmBackendConfigError,
  MlstmDeviceError,
  MlstmError,
  MlstmKernelNotFoundError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
} from './errors.js';
export {
  getAvailableMlstmKernels,
  getAvailableMlstmSequenceKernels,
  getAvailableMlstmStepKernels,
  getDefaultGpuContext,
  getMlstmKernel,
  getMlstmSequenceKernel,
  getMlstmStepKernel,
  MLSTM_KERNEL_OPTION_KEYS,
  MLSTM_SEQUENCE_KERNELS,
  MLSTM_SEQUENCE_LOOP_KERNELS,
  MLSTM_STEP_KERNELS,
  type MlstmKernel,
  type MlstmInputs,
  type MlstmKernelArgs,
  type MlstmKernelBackwardArgs,
  type MlstmKernelGradients,
  type MlstmKernelOptions,
  type MlstmKernelResult,
  type MlstmKernelSaved,
  type MlstmKernelSpecifier,
  type MlstmKernelStates,
  type MlstmPlatform,
  type MlstmSequenceLoopKernel,
  type MlstmSequenceLoopKernelName,
  type MlstmStepKernel,
  type MlstmStepKernelArgs,
  type MlstmStepKernelName,
  type MlstmStepKernelResult,
  releaseKernelSaved,
} from './registry.js';
export { PACKED_KERNELS } from './packed.js';
export { concatSeq, isGpu, padSeq, sliceSeq, type TensorLike } from './tensors.js';
// What the README's examples need from the kernels package, re-exported so that a project that
// depends on @mlstm/backend alone (pnpm: no hoisting of transitive dependencies) can import it.
export {
  GpuContext,
  type GpuContextOptions,
  type GpuDtype,
  GpuDeviceLostError,
  GpuTensor,
  GpuValidationError,
  getGpuContext,
  KernelArgumentError,
  NoAdapterError,
} from '@mlstm/kernels-webgpu';
