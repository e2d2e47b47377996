import type { GpuContext } from './device/context.js';
import { type GpuDtype, GpuTensor } from './device/tensor.js';
import { castTensor } from './util/cast.js';
import type { CpuTensor, TensorLike } from './validate.js';

/**
 * Uploads CPU tensors (leaves GPU tensors alone) for the duration of one kernel call, and
 * converts results back to the caller's kind: GPU in → GPU out; CPU in → CPU out.
 */
export class CallScope {
  private readonly uploaded: GpuTensor[] = [];
  readonly cpu: boolean;

  constructor(
    private readonly ctx: GpuContext,
    first: TensorLike,
  ) {
    this.cpu = !(first instanceof GpuTensor);
  }

  /**
   * The GPU tensor for an argument: a CPU tensor uploaded in `dtype` (default f32); a GPU tensor
   * as is, or converted on the GPU when `dtype` is given and differs from its own (`computeDtype`).
   */
  gpu(t: TensorLike, dtype?: GpuDtype): GpuTensor;
  gpu(t: TensorLike | undefined | null, dtype?: GpuDtype): GpuTensor | undefined;
  gpu(t: TensorLike | undefined | null, dtype?: GpuDtype): GpuTensor | undefined {
    if (t == null) return undefined;
    if (t instanceof GpuTensor) {
      if (!dtype || t.dtype === dtype) return t;
      const c = castTensor(this.ctx, t, dtype);
      this.uploaded.push(c);
      return c;
    }
    const g = this.ctx.upload(t.data, t.shape, dtype ?? 'f32');
    this.uploaded.push(g);
    return g;
  }

  /**
   * GPU callers get outputs in `dtype` (the inputs' storage type): an output of another dtype is
   * converted on the GPU and released. CPU callers read f32 arrays back either way.
   */
  output(t: GpuTensor, dtype: GpuDtype): GpuTensor {
    if (this.cpu || t.dtype === dtype) return t;
    const c = castTensor(this.ctx, t, dtype);
    t.release();
    return c;
  }

  /** Releases the uploads and, for CPU callers, reads each output back and releases it. */
  async finish<R extends object>(result: R): Promise<Outputs<R>> {
    for (const t of this.uploaded) t.release();
    if (!this.cpu) return result as Outputs<R>;
    return (await readAll(this.ctx, result)) as Outputs<R>;
  }

  /** Releases uploads after an error. */
  abort(): void {
    for (const t of this.uploaded) t.release();
  }
}

/** Maps GpuTensor fields (also nested one level) to CPU tensors. */
export type Outputs<R> = R;

async function readAll(ctx: GpuContext, value: unknown): Promise<unknown> {
  if (value instanceof GpuTensor) {
    const data = await ctx.read(value);
    const shape = [...value.shape];
    value.release();
    return { shape, data } satisfies CpuTensor;
  }
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await readAll(ctx, v);
    return out;
  }
  return value;
}
