/**
 * Typed errors of the hf-model package. Each names what was wrong (a config key, a tensor, a
 * file) so that a bad checkpoint can be fixed without reading the source. All belong to the one
 * hierarchy of `@mlstm/core-reference/checks` (`MlstmError` → `MlstmArgumentError` /
 * `MlstmDeviceError` → `MlstmOutOfMemoryError`), re-exported here.
 */
import {
  MlstmArgumentError,
  MlstmDeviceError,
  MlstmError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
} from '@mlstm/core-reference/checks';

export {
  MlstmArgumentError,
  MlstmDeviceError,
  MlstmError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
};

/** A `config.json` value is missing, of the wrong type, or out of range. */
export class XlstmConfigError extends MlstmError {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`config.json: ${key}: ${message}`);
    this.name = 'XlstmConfigError';
    this.key = key;
  }
}

/** A tensor the model needs is not in the checkpoint. */
export class MissingTensorError extends MlstmError {
  readonly tensor: string;
  constructor(tensor: string, alternatives: readonly string[] = []) {
    super(
      `checkpoint: missing tensor ${tensor}${alternatives.length ? ` (also looked for ${alternatives.join(', ')})` : ''}`,
    );
    this.name = 'MissingTensorError';
    this.tensor = tensor;
  }
}

/** A tensor of the checkpoint has another shape than the config implies. */
export class TensorShapeError extends MlstmError {
  readonly tensor: string;
  readonly expected: readonly number[];
  readonly received: readonly number[];
  constructor(tensor: string, expected: readonly number[], received: readonly number[]) {
    super(
      `checkpoint: tensor ${tensor} has shape [${received.join(', ')}], expected [${expected.join(', ')}]`,
    );
    this.name = 'TensorShapeError';
    this.tensor = tensor;
    this.expected = [...expected];
    this.received = [...received];
  }
}

/** A checkpoint file is malformed (safetensors header, index file, unsupported dtype). */
export class CheckpointFormatError extends MlstmError {
  readonly file: string;
  /** the tensor concerned, when the problem is one tensor's */
  readonly tensor: string | null;
  constructor(file: string, message: string, tensor: string | null = null) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointFormatError';
    this.file = file;
    this.tensor = tensor;
  }
}

/** A file could not be fetched / read from the model source. */
export class ModelSourceError extends MlstmError {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ModelSourceError';
    this.file = file;
  }
}

/** The weights (or one tensor) do not fit the GPU adapter's limits. */
export class ModelTooLargeError extends MlstmOutOfMemoryError {
  readonly tensor: string;
  readonly bytes: number;
  readonly limit: number;
  constructor(tensor: string, bytes: number, limit: number, limitName: string) {
    super(
      `${tensor} needs ${bytes} bytes on the GPU, more than the adapter's ${limitName} = ${limit} bytes ` +
        '(use dtype "f16", "q8" or "q4", a smaller model, or the CPU path)',
    );
    this.name = 'ModelTooLargeError';
    this.tensor = tensor;
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** A bad argument to forward / generate (token ids, options, cache). */
export class ModelArgumentError extends MlstmArgumentError {
  constructor(argument: string, message: string) {
    super(argument, message, '');
    this.message = `${argument}: ${message}`;
    this.name = 'ModelArgumentError';
  }
}

/**
 * A quantised weight is malformed or cannot be made: unknown format, a row that is not a whole
 * number of groups, a truncated or corrupted tensor of a quantised checkpoint, a non-finite value.
 */
export class QuantFormatError extends Error {
  readonly tensor: string;
  readonly problem: string;
  constructor(tensor: string, problem: string) {
    super(`quantised weights: ${tensor}: ${problem}`);
    this.name = 'QuantFormatError';
    this.tensor = tensor;
    this.problem = problem;
  }
}
