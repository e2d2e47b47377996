/**
 * Typed errors of the kernels package. Bad arguments are always reported before any GPU
 * work is encoded; device trouble surfaces as an error instead of a hang.
 */

/** An argument of a kernel call is invalid (shape, dtype, limit). Raised before dispatch. */
export class KernelArgumentError extends Error {
  readonly argument: string;
  readonly expected: string;
  readonly received: string;
  constructor(argument: string, expected: string, received: string, context?: string) {
    super(`${context ? `${context}: ` : ''}${argument}: expected ${expected}, got ${received}`);
    this.name = 'KernelArgumentError';
    this.argument = argument;
    this.expected = expected;
    this.received = received;
  }
}

/** The GPUDevice was lost (driver reset, `destroy()`, out of memory). Create a new context. */
export class GpuDeviceLostError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(
      `GPU device lost (${reason})${message ? `: ${message}` : ''}. Call ctx.recreate() or getGpuContext() again.`,
    );
    this.name = 'GpuDeviceLostError';
    this.reason = reason;
  }
}

/** WebGPU reported a validation / out-of-memory / internal error for work we submitted. */
export class GpuValidationError extends Error {
  readonly kind: 'validation' | 'out-of-memory' | 'internal';
  constructor(kind: 'validation' | 'out-of-memory' | 'internal', message: string) {
    super(`WebGPU ${kind} error: ${message}`);
    this.name = 'GpuValidationError';
    this.kind = kind;
  }
}

/** No WebGPU adapter could be found (no `navigator.gpu`, or `requestAdapter()` returned null). */
export class NoAdapterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoAdapterError';
  }
}
