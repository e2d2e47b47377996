/**
 * Typed errors of the kernels package, in the one hierarchy of `@mlstm/core-reference/checks`
 * (`MlstmError` → `MlstmArgumentError` / `MlstmDeviceError` → `MlstmOutOfMemoryError`). Bad
 * arguments are always reported before any GPU work is encoded; device trouble surfaces as an
 * error instead of a hang.
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

/** An argument of a kernel call is invalid (shape, dtype, limit). Raised before dispatch. */
export class KernelArgumentError extends MlstmArgumentError {
  constructor(argument: string, expected: string, received: string, context?: string) {
    super(argument, expected, received, context);
    this.name = 'KernelArgumentError';
  }
}

/** The GPUDevice was lost (driver reset, `destroy()`, out of memory). Create a new context. */
export class GpuDeviceLostError extends MlstmDeviceError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(
      `GPU device lost (${reason})${message ? `: ${message}` : ''}. Call ctx.recreate() or getGpuContext() again.`,
    );
    this.name = 'GpuDeviceLostError';
    this.reason = reason;
  }
}

/**
 * WebGPU reported a validation or internal error for work we submitted. (Out of memory is an
 * {@link MlstmOutOfMemoryError}; the `'out-of-memory'` kind is kept for code that tested it.)
 */
export class GpuValidationError extends MlstmDeviceError {
  readonly kind: 'validation' | 'out-of-memory' | 'internal';
  constructor(kind: 'validation' | 'out-of-memory' | 'internal', message: string) {
    super(`WebGPU ${kind} error: ${message}`);
    this.name = 'GpuValidationError';
    this.kind = kind;
  }
}

/** No WebGPU adapter could be found (no `navigator.gpu`, or `requestAdapter()` returned null). */
export class NoAdapterError extends MlstmDeviceError {
  constructor(message: string) {
    super(message);
    this.name = 'NoAdapterError';
  }
}
