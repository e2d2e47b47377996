/**
 * Typed errors of the backend. Both extend core-reference's `MlstmArgumentError`, so they carry
 * `argument` (the offending field), `expected` and `received`.
 */
import {
  MlstmArgumentError,
  MlstmDeviceError,
  MlstmError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
} from '@mlstm/core-reference';

export {
  MlstmArgumentError,
  MlstmDeviceError,
  MlstmError,
  MlstmNonFiniteError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
};

/** An invalid {@link MlstmBackendConfig} field (raised at construction / by `fromPythonConfig`). */
export class MlstmBackendConfigError extends MlstmArgumentError {
  constructor(field: string, expected: string, received: string, context = 'MlstmBackendConfig') {
    super(field, expected, received, context);
    this.name = 'MlstmBackendConfigError';
  }
}

/** An unknown kernel specifier; `available` lists the valid names of that registry. */
export class MlstmKernelNotFoundError extends MlstmArgumentError {
  readonly available: readonly string[];
  constructor(argument: string, name: unknown, available: readonly string[], context: string) {
    const hint =
      typeof name === 'string' && name.includes('triton')
        ? ` (the Triton kernels are called webgpu_* here: try "${name.replace(/triton/g, 'webgpu')}", or load an upstream config with fromPythonConfig())`
        : '';
    super(
      argument,
      `one of ${available.map((n) => `"${n}"`).join(', ')}${hint}`,
      JSON.stringify(name) ?? String(name),
      context,
    );
    this.name = 'MlstmKernelNotFoundError';
    this.available = available;
  }
}
