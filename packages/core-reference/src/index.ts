/**
 * @mlstm/core-reference — the mLSTM math in pure TypeScript (float64 arithmetic).
 * The oracle every GPU kernel of this project is tested against.
 *
 * Forms (spec §1–§6): recurrent step / sequence, parallel (quadratic), chunkwise, the
 * arbitrary-length inference wrapper, hand-written backward passes, and the sigmoid-input-gate
 * variant (mLSTMsig). All tensors are head-first `(B, NH, S, D)`; outputs are float64.
 */
export * from './tensor.js';
export {
  checkCpuTensor,
  checkFinite,
  checkOneOf,
  checkOptionKeys,
  cpuTensorProblem,
  DTYPE_ALIASES,
  describeValue,
  type KeysListed,
  type MlstmDtype,
  MlstmArgumentError,
  MlstmDeviceError,
  MlstmError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
  normalizeDtype,
} from './checks.js';
export {
  expectChunkSize,
  expectFinite,
  expectRank,
  expectShape,
  rejectStates,
  validateEps,
  validateFlag,
  validateSequenceInputs,
  validateStates,
  type SequenceDims,
} from './validate.js';
export type {
  MlstmGradients,
  MlstmInitialStates,
  MlstmSequenceInputs,
  MlstmSigStates,
  MlstmStates,
} from './types.js';
export {
  DEFAULT_EPS,
  type GateKind,
  layerNormDotLoss,
  layerNormRows,
  layerNormRowsBackward,
  layerNormSquaredLoss,
  logsigmoid,
  qkScale,
  sigmoid,
} from './math.js';
export {
  mlstmRecurrentSequence,
  mlstmRecurrentStep,
  type MlstmRecurrentSequenceArgs,
  type MlstmRecurrentStepArgs,
  type MlstmRecurrentStepResult,
  type MlstmSequenceResult,
} from './recurrent.js';
export {
  mlstmParallel,
  mlstmParallelBackward,
  type MlstmParallelArgs,
  type MlstmParallelBackwardArgs,
  type MlstmParallelResult,
} from './parallel.js';
export {
  DEFAULT_CHUNK_SIZE,
  mlstmChunkwise,
  mlstmChunkwiseForwardInternals,
  type MlstmChunkwiseArgs,
  type MlstmChunkwiseInternals,
  type MlstmChunkwiseInternalsArgs,
} from './chunkwise.js';
export {
  mlstmChunkwiseBackward,
  mlstmChunkwiseBackwardInternals,
  type MlstmChunkwiseBackwardArgs,
  type MlstmChunkwiseBackwardInternalsArgs,
  type MlstmChunkwiseGradients,
} from './chunkwise-backward.js';
export {
  type MlstmChunkwisePackedArgs,
  type MlstmChunkwisePackedBackwardArgs,
  mlstmChunkwisePacked,
  mlstmChunkwisePackedBackward,
  type SeqStarts,
  validateSeqStarts,
} from './packed.js';
export { arbitraryLengthChunkSizes, mlstmChunkwiseArbitraryLength } from './arbitrary-length.js';
export {
  mlstmSigParallel,
  mlstmSigParallelBackward,
  type MlstmSigParallelArgs,
  type MlstmSigParallelBackwardArgs,
} from './siging/parallel.js';
export {
  mlstmSigChunkwise,
  mlstmSigChunkwiseBackward,
  type MlstmSigChunkwiseArgs,
  type MlstmSigChunkwiseBackwardArgs,
} from './siging/chunkwise.js';
export { mlstmSigRecurrentSequence, type MlstmSigRecurrentSequenceArgs } from './siging/recurrent.js';
export {
  getAvailableReferenceKernels,
  getReferenceKernel,
  referenceSequenceKernels,
  referenceSequenceLoopKernels,
  referenceStepKernels,
  type ReferenceKernelArgs,
  type ReferenceKernelBackwardArgs,
  type ReferenceKernelName,
  type ReferenceSequenceKernel,
  type ReferenceSequenceKernelName,
  type ReferenceSequenceLoopKernel,
  type ReferenceSequenceLoopKernelName,
  type ReferenceStepKernel,
  type ReferenceStepKernelName,
} from './registry.js';
