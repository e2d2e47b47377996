/**
 * CPU tensors: a shape and a flat, row-major typed array. Every mLSTM tensor is
 * head-first: `(B, NH, S, D)` for sequences, `(B, NH, D)` for one token.
 */
export type FloatArray = Float32Array | Float64Array;

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: FloatArray;
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A tensor of zeros (float64 unless another array type is asked for). */
export function zeros(shape: readonly number[], kind: 'f32' | 'f64' = 'f64'): Tensor {
  const n = numel(shape);
  return { shape: [...shape], data: kind === 'f32' ? new Float32Array(n) : new Float64Array(n) };
}

/** Wraps an array, checking that its length matches the shape. */
export function tensor(shape: readonly number[], data: FloatArray | readonly number[]): Tensor {
  const arr = data instanceof Float32Array || data instanceof Float64Array ? data : Float64Array.from(data);
  if (arr.length !== numel(shape)) {
    throw new RangeError(
      `tensor: data has ${arr.length} elements, shape [${shape.join(', ')}] needs ${numel(shape)}`,
    );
  }
  return { shape: [...shape], data: arr };
}

/** Copy as float32 (what a GPU upload or a fixture file holds). */
export function toFloat32(t: Tensor): Tensor {
  return { shape: [...t.shape], data: Float32Array.from(t.data) };
}

/** Copy as float64. */
export function toFloat64(t: Tensor): Tensor {
  return { shape: [...t.shape], data: Float64Array.from(t.data) };
}

/**
 * Slice `[start, end)` along axis `axis` (e.g. the sequence axis 2 of `(B, NH, S, D)`).
 * Returns a new float64 tensor.
 */
export function sliceAxis(t: Tensor, axis: number, start: number, end: number): Tensor {
  const shape = [...t.shape];
  const outer = numel(shape.slice(0, axis));
  const inner = numel(shape.slice(axis + 1));
  const len = shape[axis];
  const n = end - start;
  const out = new Float64Array(outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < n; s++) {
      const src = (o * len + start + s) * inner;
      const dst = (o * n + s) * inner;
      for (let x = 0; x < inner; x++) out[dst + x] = t.data[src + x];
    }
  }
  shape[axis] = n;
  return { shape, data: out };
}

/** Concatenate tensors along `axis`; all other dims must agree. Returns float64. */
export function concatAxis(parts: readonly Tensor[], axis: number): Tensor {
  const first = parts[0].shape;
  const outer = numel(first.slice(0, axis));
  const inner = numel(first.slice(axis + 1));
  const total = parts.reduce((a, p) => a + p.shape[axis], 0);
  const out = new Float64Array(outer * total * inner);
  let offset = 0;
  for (const p of parts) {
    const len = p.shape[axis];
    for (let o = 0; o < outer; o++) {
      for (let s = 0; s < len; s++) {
        const src = (o * len + s) * inner;
        const dst = (o * total + offset + s) * inner;
        for (let x = 0; x < inner; x++) out[dst + x] = p.data[src + x];
      }
    }
    offset += len;
  }
  const shape = [...first];
  shape[axis] = total;
  return { shape, data: out };
}

/** Insert / remove a length-1 axis without copying. */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) !== t.data.length) {
    throw new RangeError(`reshape: cannot view ${t.data.length} elements as [${shape.join(', ')}]`);
  }
  return { shape: [...shape], data: t.data };
}
