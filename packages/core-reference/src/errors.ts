/**
 * The error classes of every @mlstm package, defined once here (core-reference has no dependencies,
 * and every other package depends on it) and re-exported by each package:
 *
 * ```
 * MlstmError
 * ├── MlstmArgumentError            a bad argument or option, raised before any work
 * │   ├── MlstmOptionError          unknown option key or value (lists the valid ones)
 * │   ├── MlstmNonFiniteError       NaN / ±Infinity in an input tensor (checkFinite)
 * │   └── KernelArgumentError, MlstmBackendConfigError, ModelArgumentError, … (other packages)
 * └── MlstmDeviceError              the GPU: no adapter, device lost, WebGPU errors
 *     └── MlstmOutOfMemoryError     the GPU ran out of memory, or a buffer exceeds its limits
 * ```
 *
 * `catch (e) { if (e instanceof MlstmArgumentError) … }` catches every argument error of every
 * package. Kept free of imports so that `@mlstm/core-reference/errors` adds a few hundred bytes to
 * a browser bundle of the kernels.
 */

/** Base class of every error the @mlstm packages raise on purpose. */
export class MlstmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlstmError';
  }
}

/**
 * Raised for invalid arguments before any work is done. The message always names the
 * argument and what was expected, e.g.
 * `q: expected shape (B, NH, S, DHQK) = (2, 4, 64, 16), got (2, 4, 63, 16)`.
 */
export class MlstmArgumentError extends MlstmError {
  /** The offending argument, e.g. `"k"` or `"chunkSize"`. */
  readonly argument: string;
  /** Human-readable expectation, e.g. `"a positive integer dividing S = 100"`. */
  readonly expected: string;
  /** What was received, formatted. */
  readonly received: string;

  constructor(argument: string, expected: string, received: string, context?: string) {
    super(`${context ? `${context}: ` : ''}${argument}: expected ${expected}, got ${received}`);
    this.name = 'MlstmArgumentError';
    this.argument = argument;
    this.expected = expected;
    this.received = received;
  }
}

/**
 * An option object had a key the function does not know (e.g. a misspelt `seqStart`), or an
 * option had a value outside its list (e.g. `weightDtype: 'q8'` where only `'f32' | 'f16'` exist).
 * `valid` lists what would have been accepted.
 */
export class MlstmOptionError extends MlstmArgumentError {
  readonly valid: readonly string[];
  constructor(
    argument: string,
    valid: readonly string[],
    received: string,
    context?: string,
    what = 'one of',
  ) {
    super(argument, `${what} ${valid.map((v) => JSON.stringify(v)).join(', ')}`, received, context);
    this.name = 'MlstmOptionError';
    this.valid = [...valid];
  }
}

/**
 * An input tensor holds NaN or ±Infinity (raised by `checkFinite`). One NaN in a gate turns every
 * later output of its head into NaN, so it is reported with the first bad index.
 */
export class MlstmNonFiniteError extends MlstmArgumentError {
  /** The tensor, e.g. `"f"`. */
  readonly tensor: string;
  /** Flat (row-major) index of the first non-finite element. */
  readonly index: number;
  /** The same index per dimension. */
  readonly position: readonly number[];
  /** The value found there (NaN, Infinity or -Infinity). */
  readonly value: number;
  constructor(tensor: string, shape: readonly number[], index: number, value: number, context?: string) {
    const position: number[] = [];
    let rest = index;
    for (let d = shape.length - 1; d >= 0; d--) {
      position.unshift(rest % shape[d]);
      rest = Math.floor(rest / shape[d]);
    }
    super(
      tensor,
      'finite values (checkFinite)',
      `${value} at index ${index} = [${position.join(', ')}]`,
      context,
    );
    this.name = 'MlstmNonFiniteError';
    this.tensor = tensor;
    this.index = index;
    this.position = position;
    this.value = value;
  }
}

/** Something went wrong with the GPU (no adapter, device lost, an error WebGPU reported). */
export class MlstmDeviceError extends MlstmError {
  constructor(message: string) {
    super(message);
    this.name = 'MlstmDeviceError';
  }
}

/** The GPU ran out of memory, or a buffer would exceed the adapter's limits. */
export class MlstmOutOfMemoryError extends MlstmDeviceError {
  constructor(message: string) {
    super(message);
    this.name = 'MlstmOutOfMemoryError';
  }
}
