/**
 * Tensor plumbing of the backend for both kinds of tensor: CPU tensors (`{ shape, data }`,
 * core-reference) and `GpuTensor`s (kernels-webgpu). Slicing, concatenation and zero padding
 * along the sequence axis (axis 2 of `(B, NH, S, D)` and of the gates `(B, NH, S)`).
 *
 * On the GPU these are `copyBufferToBuffer` copies (no shader, so nothing to compile); a copy whose
 * byte offsets are not 4-byte aligned (f16 tensors with an odd head dimension) goes through the
 * CPU instead.
 */
import { checkFinite, concatAxis, numel, sliceAxis, type Tensor } from '@mlstm/core-reference';
import { type GpuContext, GpuTensor } from '@mlstm/kernels-webgpu';

/** A tensor either kind: a core-reference CPU tensor or a kernels-webgpu `GpuTensor`. */
export type TensorLike = Tensor | GpuTensor;

export function isGpu(t: unknown): t is GpuTensor {
  return t instanceof GpuTensor;
}

/** A CPU copy (GPU tensors are read back as float32; CPU tensors are returned as they are). */
export async function toCpu(ctx: GpuContext | undefined, t: TensorLike): Promise<Tensor> {
  if (!isGpu(t)) return t;
  if (!ctx) throw new Error('toCpu: a GpuContext is needed to read a GpuTensor');
  return { shape: [...t.shape], data: await ctx.read(t) };
}

/** The tensor arguments that `checkFinite` looks at, in this order. */
const FINITE_CHECKED = [
  'q',
  'k',
  'v',
  'i',
  'f',
  'cInitial',
  'nInitial',
  'mInitial',
  'c',
  'n',
  'm',
  'dh',
  'dcLast',
];

/**
 * Throws `MlstmNonFiniteError` (tensor name, first bad index) if an input tensor holds NaN or
 * ±Infinity. `option`: undefined = CPU tensors only (one pass over their data); true = GpuTensors
 * too (read back: a copy of each); false = nothing.
 */
export async function checkFiniteInputs(
  ctx: GpuContext | undefined,
  args: Record<string, unknown>,
  option: boolean | undefined,
  context: string,
): Promise<void> {
  if (option === false) return;
  for (const name of FINITE_CHECKED) {
    const t = args[name];
    if (t == null) continue;
    if (isGpu(t)) {
      if (option === true && ctx) checkFinite(name, { shape: t.shape, data: await ctx.read(t) }, context);
    } else if (ArrayBuffer.isView((t as Tensor).data)) checkFinite(name, t as Tensor, context);
  }
}

/** A new GPU tensor with the values of a CPU tensor. */
export function toGpu(ctx: GpuContext, t: Tensor, dtype: 'f32' | 'f16' = 'f32'): GpuTensor {
  return ctx.upload(t.data, t.shape, dtype);
}

const BYTES = { f32: 4, f16: 2 } as const;

/** `(outer, S, inner)` of a sequence tensor `(B, NH, S[, D])`. */
function seqDims(shape: readonly number[]): { outer: number; S: number; inner: number } {
  return { outer: shape[0] * shape[1], S: shape[2], inner: shape.length > 3 ? numel(shape.slice(3)) : 1 };
}

/**
 * Copies `blocks` rows of `rowLen` elements: row `b` from `src` at `srcOff + b·srcStride` to `dst` at
 * `dstOff + b·dstStride` (in elements). Returns false when a byte offset or size is not 4-aligned.
 */
function copyRows(
  ctx: GpuContext,
  src: GpuTensor,
  dst: GpuTensor,
  blocks: number,
  rowLen: number,
  srcStride: number,
  srcOff: number,
  dstStride: number,
  dstOff: number,
): boolean {
  const e = BYTES[src.dtype as 'f32' | 'f16'];
  const vals = [rowLen, srcStride, srcOff, dstStride, dstOff].map((x) => x * e);
  if (vals.some((x) => x % 4 !== 0)) return false;
  if (rowLen === 0 || blocks === 0) return true;
  const enc = ctx.device.createCommandEncoder();
  if (srcStride === rowLen && dstStride === rowLen) {
    enc.copyBufferToBuffer(src.buffer, srcOff * e, dst.buffer, dstOff * e, blocks * rowLen * e);
  } else {
    for (let b = 0; b < blocks; b++) {
      enc.copyBufferToBuffer(
        src.buffer,
        (srcOff + b * srcStride) * e,
        dst.buffer,
        (dstOff + b * dstStride) * e,
        rowLen * e,
      );
    }
  }
  ctx.device.queue.submit([enc.finish()]);
  return true;
}

/** Tokens `[start, end)` along the sequence axis, as a new tensor of the same kind. */
export async function sliceSeq<T extends TensorLike>(
  ctx: GpuContext | undefined,
  t: T,
  start: number,
  end: number,
): Promise<T> {
  if (!isGpu(t)) return sliceAxis(t as Tensor, 2, start, end) as T;
  const g = ctx!;
  const { outer, S, inner } = seqDims(t.shape);
  const shape = [...t.shape];
  shape[2] = end - start;
  const out = g.empty(shape, t.dtype);
  if (
    !copyRows(g, t, out, outer, (end - start) * inner, S * inner, start * inner, (end - start) * inner, 0)
  ) {
    out.release();
    const cpu = sliceAxis(await toCpu(g, t), 2, start, end);
    return toGpu(g, cpu, t.dtype) as T;
  }
  return out as T;
}

/** Concatenation along the sequence axis; GPU parts are not released. */
export async function concatSeq<T extends TensorLike>(
  ctx: GpuContext | undefined,
  parts: readonly T[],
): Promise<T> {
  if (!isGpu(parts[0])) return concatAxis(parts as readonly Tensor[], 2) as T;
  const g = ctx!;
  const gp = parts as readonly GpuTensor[];
  const { outer, inner } = seqDims(gp[0].shape);
  const total = gp.reduce((a, p) => a + p.shape[2], 0);
  const shape = [...gp[0].shape];
  shape[2] = total;
  const out = g.empty(shape, gp[0].dtype);
  let off = 0;
  for (const p of gp) {
    const len = p.shape[2] * inner;
    if (!copyRows(g, p, out, outer, len, len, 0, total * inner, off * inner)) {
      out.release();
      const cpu = concatAxis(await Promise.all(gp.map((x) => toCpu(g, x))), 2);
      return toGpu(g, cpu, gp[0].dtype) as T;
    }
    off += p.shape[2];
  }
  return out as T;
}

/** Right-pads the sequence axis with zeros to length `S`. */
export async function padSeq<T extends TensorLike>(ctx: GpuContext | undefined, t: T, S: number): Promise<T> {
  const shape = [...t.shape];
  const s0 = shape[2];
  shape[2] = S - s0;
  if (!isGpu(t)) {
    return concatAxis([t as Tensor, { shape, data: new Float64Array(numel(shape)) }], 2) as T;
  }
  const g = ctx!;
  const zeros = g.zeros(shape, t.dtype);
  try {
    return await concatSeq(g, [t, zeros] as T[]);
  } finally {
    zeros.release();
  }
}

/** The same values under another shape with the same element count, as an owning tensor of the same kind. */
export function reshapeOwned<T extends TensorLike>(
  ctx: GpuContext | undefined,
  t: T,
  shape: readonly number[],
): T {
  if (!isGpu(t)) return { shape: [...shape], data: (t as Tensor).data } as unknown as T;
  const g = ctx!;
  const out = g.empty(shape, t.dtype);
  const enc = g.device.createCommandEncoder();
  enc.copyBufferToBuffer(t.buffer, 0, out.buffer, 0, t.byteLength);
  g.device.queue.submit([enc.finish()]);
  t.release();
  return out as T;
}

/** Releases GPU tensors (CPU tensors and undefined are ignored). */
export function releaseAll(...ts: (TensorLike | undefined | null)[]): void {
  for (const t of ts) if (isGpu(t)) t.release();
}
