import { KernelArgumentError } from '../errors.js';
import type { BufferPool } from './pool.js';

/** Element type of a GPU tensor. `f16` needs the adapter feature `shader-f16`. */
export type GpuDtype = 'f32' | 'f16';

export const BYTES_PER_ELEMENT: Record<GpuDtype, number> = { f32: 4, f16: 2 };

/** Storage usage of every tensor buffer (kernels read/write them, uploads/readbacks copy). */
export const TENSOR_USAGE = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08; /* COPY_DST */

/**
 * A tensor living in a GPUBuffer: row-major `shape`, element type `dtype`. Buffers come from
 * the context's pool; call `release()` when done (using a released tensor throws).
 */
export class GpuTensor {
  readonly shape: readonly number[];
  readonly dtype: GpuDtype;
  readonly numel: number;
  /** byte offset of the first element in `buffer` (non-zero only for sub-views) */
  readonly byteOffset: number;
  private buf: GPUBuffer | null;

  /** @internal use `ctx.empty()` / `ctx.upload()` */
  constructor(
    buffer: GPUBuffer,
    shape: readonly number[],
    dtype: GpuDtype,
    private readonly pool: BufferPool | null,
    byteOffset = 0,
  ) {
    this.buf = buffer;
    this.byteOffset = byteOffset;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.numel = shape.reduce((a, b) => a * b, 1);
  }

  /** The underlying buffer (at least `byteLength` bytes; pooled buffers may be larger). */
  get buffer(): GPUBuffer {
    if (!this.buf) throw new KernelArgumentError('tensor', 'a live GpuTensor', 'a released one');
    return this.buf;
  }

  /** Bytes of the elements (f16 tensors are padded to a multiple of 4 bytes). */
  get byteLength(): number {
    return Math.ceil((this.numel * BYTES_PER_ELEMENT[this.dtype]) / 4) * 4;
  }

  get released(): boolean {
    return this.buf === null;
  }

  /** Returns the buffer to the pool. Idempotent. */
  release(): void {
    if (!this.buf) return;
    if (this.pool) this.pool.release(this.buf);
    this.buf = null;
  }

  /** A view with another shape of the same number of elements (shares the buffer; releasing the view does nothing). */
  view(shape: readonly number[]): GpuTensor {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== this.numel) {
      throw new KernelArgumentError(
        'shape',
        `${this.numel} elements`,
        `[${shape.join(', ')}] (${n})`,
        'GpuTensor.view',
      );
    }
    return new GpuTensor(this.buffer, shape, this.dtype, null, this.byteOffset);
  }

  /**
   * A view of `shape` starting `elementOffset` elements into this tensor (shares the buffer;
   * releasing it does nothing). The byte offset must be a multiple of 256 (WebGPU's storage
   * binding alignment).
   */
  subview(elementOffset: number, shape: readonly number[]): GpuTensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const offset = this.byteOffset + elementOffset * BYTES_PER_ELEMENT[this.dtype];
    if (elementOffset < 0 || elementOffset + n > this.numel || offset % 256 !== 0) {
      throw new KernelArgumentError(
        'elementOffset',
        `a range inside the tensor's ${this.numel} elements starting at a multiple of 256 bytes`,
        `[${elementOffset}, ${elementOffset + n}) at byte ${offset}`,
        'GpuTensor.subview',
      );
    }
    return new GpuTensor(this.buffer, shape, this.dtype, null, offset);
  }
}
