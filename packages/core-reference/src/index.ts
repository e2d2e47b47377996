/**
 * @mlstm/core-reference — the mLSTM math in pure TypeScript (float64 arithmetic).
 * The oracle every GPU kernel of this project is tested against.
 */
export * from './tensor.js';
export { MlstmArgumentError } from './errors.js';
export {
  expectChunkSize,
  expectFinite,
  expectShape,
  validateSequenceInputs,
  validateStates,
  type SequenceDims,
} from './validate.js';
