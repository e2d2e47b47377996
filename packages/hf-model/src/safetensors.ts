/**
 * A production safetensors reader (no copies until a tensor is decoded): the 8-byte
 * little-endian header length, the JSON header, the raw data. Decodes F32, F16, BF16 and F64 to
 * Float32Array. Several files (shards) merge into one {@link TensorStore}.
 */
import { CheckpointFormatError } from './errors.js';
import { writeSafetensors } from '@mlstm/core-reference/testing';

export type StDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

const BYTES: Record<StDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

export interface StEntry {
  name: string;
  dtype: StDtype;
  shape: number[];
  /** raw little-endian bytes (read on demand: a file source reads them from disk now) */
  bytes(): Uint8Array;
  /** `length` bytes from `offset` within the tensor (defaults to a slice of {@link bytes}) */
  readRange?(offset: number, length: number): Uint8Array;
  byteLength: number;
  /** file it came from (error messages) */
  file: string;
}

/**
 * Random access to the bytes of one file without holding it in one buffer: a whole buffer, the
 * chunks of a download, or a file on disk (Node; files over 2 GiB cannot be `readFile`d).
 */
export interface ByteSource {
  readonly byteLength: number;
  /** `length` bytes from `offset` (a view when possible, else a copy) */
  read(offset: number, length: number): Uint8Array;
  /** releases a file handle (sources over buffers need nothing) */
  close?(): void;
}

/** A source over one buffer. */
export function memorySource(buffer: ArrayBuffer | Uint8Array): ByteSource {
  const u8 = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  return {
    byteLength: u8.byteLength,
    read: (offset, length) => u8.subarray(offset, offset + length),
  };
}

/** A source over the chunks of a download (no concatenation into one huge buffer). */
export function chunkedSource(chunks: readonly Uint8Array[]): ByteSource {
  if (chunks.length === 1) return memorySource(chunks[0]);
  const starts: number[] = [];
  let total = 0;
  for (const c of chunks) {
    starts.push(total);
    total += c.byteLength;
  }
  const find = (offset: number) => {
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    byteLength: total,
    read(offset, length) {
      let c = find(offset);
      const inner = offset - starts[c];
      if (inner + length <= chunks[c].byteLength) return chunks[c].subarray(inner, inner + length);
      const out = new Uint8Array(length);
      let done = 0;
      let pos = inner;
      while (done < length) {
        const take = Math.min(length - done, chunks[c].byteLength - pos);
        out.set(chunks[c].subarray(pos, pos + take), done);
        done += take;
        c++;
        pos = 0;
      }
      return out;
    },
  };
}

function asSource(x: ArrayBuffer | Uint8Array | ByteSource): ByteSource {
  return x instanceof Uint8Array || x instanceof ArrayBuffer ? memorySource(x) : x;
}

/** Every tensor of a checkpoint by name, plus the header metadata of each file. */
export interface TensorStore {
  tensors: Map<string, StEntry>;
  metadata: Record<string, string>;
}

/**
 * Parses one `.safetensors` file (a buffer or a {@link ByteSource}) into entries; only the
 * header is read now, each tensor's bytes when it is decoded.
 */
export function parseSafetensorsFile(
  buffer: ArrayBuffer | Uint8Array | ByteSource,
  file = 'model.safetensors',
): TensorStore {
  const src = asSource(buffer);
  const size = src.byteLength;
  if (size < 8) throw new CheckpointFormatError(file, 'shorter than the 8-byte header length');
  const lenBytes = src.read(0, 8);
  const headerLen = Number(new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLen > size) {
    throw new CheckpointFormatError(file, `header length ${headerLen} exceeds the file size ${size}`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(src.read(8, headerLen))) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointFormatError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  const base = 8 + headerLen;
  const tensors = new Map<string, StEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (info ?? {}) as Record<string, string>;
      continue;
    }
    const t = info as { dtype: StDtype; shape: number[]; data_offsets: [number, number] };
    if (!t || !(t.dtype in BYTES)) {
      throw new CheckpointFormatError(file, `tensor ${name} has unsupported dtype ${t?.dtype}`, name);
    }
    const [start, end] = t.data_offsets ?? [];
    const n = (t.shape ?? []).reduce((a, b) => a * b, 1);
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      end - start !== n * BYTES[t.dtype] ||
      base + end > size
    ) {
      throw new CheckpointFormatError(
        file,
        base + end > size
          ? `tensor ${name} ends at byte ${base + end}, past the end of the file (${size} bytes): truncated`
          : `tensor ${name} has inconsistent data_offsets`,
        name,
      );
    }
    tensors.set(name, {
      name,
      dtype: t.dtype,
      shape: [...t.shape],
      byteLength: end - start,
      bytes: () => src.read(base + start, end - start),
      readRange: (offset, length) => src.read(base + start + offset, length),
      file,
    });
  }
  return { tensors, metadata };
}

/** Merges several stores (shards); a tensor in two files is an error. */
export function mergeStores(stores: readonly TensorStore[]): TensorStore {
  const tensors = new Map<string, StEntry>();
  const metadata: Record<string, string> = {};
  for (const s of stores) {
    Object.assign(metadata, s.metadata);
    for (const [k, v] of s.tensors) {
      const prev = tensors.get(k);
      if (prev) throw new CheckpointFormatError(v.file, `tensor ${k} is also in ${prev.file}`);
      tensors.set(k, v);
    }
  }
  return { tensors, metadata };
}

const f16Table = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] =
      e === 0
        ? s * m * 2 ** -24
        : e === 31
          ? m
            ? Number.NaN
            : s * Number.POSITIVE_INFINITY
          : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

/**
 * Decodes elements `[from, from + count)` of an entry (default all) to float32 values, written
 * into `out` at `offset` (or a new array). Reading a range reads only its bytes.
 */
export function decodeEntry(
  e: StEntry,
  out?: Float32Array,
  offset = 0,
  from = 0,
  count?: number,
): Float32Array {
  const total = e.shape.reduce((a, b) => a * b, 1);
  const n = count ?? total - from;
  const dst = out ?? new Float32Array(n);
  const size = BYTES[e.dtype];
  const bytes =
    from === 0 && n === total
      ? e.bytes()
      : e.readRange
        ? e.readRange(from * size, n * size)
        : e.bytes().subarray(from * size, (from + n) * size);
  const aligned = (size: number) => bytes.byteOffset % size === 0;
  switch (e.dtype) {
    case 'F32': {
      if (aligned(4)) dst.set(new Float32Array(bytes.buffer, bytes.byteOffset, n), offset);
      else dst.set(new Float32Array(bytes.slice().buffer), offset);
      break;
    }
    case 'F16':
    case 'BF16': {
      const u16 = aligned(2)
        ? new Uint16Array(bytes.buffer, bytes.byteOffset, n)
        : new Uint16Array(bytes.slice().buffer);
      if (e.dtype === 'F16') for (let x = 0; x < n; x++) dst[offset + x] = f16Table[u16[x]];
      else {
        // BF16 is the top half of an f32: write the bits through an integer view of `dst`
        const bits = new Uint32Array(dst.buffer, dst.byteOffset + 4 * offset, n);
        for (let x = 0; x < n; x++) bits[x] = u16[x] << 16;
      }
      break;
    }
    case 'F64': {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let x = 0; x < n; x++) dst[offset + x] = v.getFloat64(8 * x, true);
      break;
    }
    default:
      throw new CheckpointFormatError(e.file, `tensor ${e.name}: dtype ${e.dtype} is not a float type`);
  }
  return dst;
}

/** Sharded checkpoints: the `weight_map` of `model.safetensors.index.json` → the list of shard files. */
export function shardFiles(
  indexJson: string | Record<string, unknown>,
  file = 'model.safetensors.index.json',
): string[] {
  let idx: Record<string, unknown>;
  try {
    idx = typeof indexJson === 'string' ? (JSON.parse(indexJson) as Record<string, unknown>) : indexJson;
  } catch (e) {
    throw new CheckpointFormatError(file, `not valid JSON (${(e as Error).message})`);
  }
  const map = idx.weight_map;
  if (typeof map !== 'object' || map === null)
    throw new CheckpointFormatError(file, 'has no weight_map object');
  const files = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const f of files) {
    if (typeof f !== 'string' || f.includes('..') || f.startsWith('/')) {
      throw new CheckpointFormatError(file, `weight_map names an invalid file ${JSON.stringify(f)}`);
    }
  }
  return (files as string[]).sort();
}

/** Writes float32 tensors as a safetensors buffer (tests, conversions); the writer lives in core-reference. */
export function writeSafetensorsF32(
  tensors: Record<string, { shape: readonly number[]; data: Float32Array }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  return writeSafetensors(tensors, metadata);
}
