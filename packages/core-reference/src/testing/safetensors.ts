import type { Tensor } from '../tensor.js';

/** dtypes this reader understands (the fixtures use F32 and I32). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** raw little-endian bytes of the tensor */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };

/** Parses a `.safetensors` buffer (8-byte little-endian header length, JSON header, data). */
export function parseSafetensors(buffer: ArrayBuffer | Uint8Array): SafetensorsFile {
  const u8 = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  if (u8.byteLength < 8) throw new RangeError('safetensors: file shorter than its 8-byte header length');
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > u8.byteLength) throw new RangeError('safetensors: header length exceeds file size');
  const header = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + headerLen))) as Record<
    string,
    { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] } | Record<string, string>
  >;
  const base = 8 + headerLen;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as Record<string, string>;
      continue;
    }
    const t = info as { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] };
    if (!(t.dtype in BYTES))
      throw new TypeError(`safetensors: tensor ${name} has unsupported dtype ${t.dtype}`);
    const [start, end] = t.data_offsets;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (end - start !== n * BYTES[t.dtype] || base + end > u8.byteLength) {
      throw new RangeError(`safetensors: tensor ${name} has inconsistent offsets`);
    }
    tensors.set(name, { dtype: t.dtype, shape: t.shape, bytes: u8.subarray(base + start, base + end) });
  }
  return { tensors, metadata };
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Decodes one entry to a float tensor (F32 → Float32Array, everything else → Float64Array). */
export function decodeTensor(entry: SafetensorsEntry): Tensor {
  const { dtype, shape, bytes } = entry;
  const n = shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') {
    const out = new Float32Array(n);
    for (let x = 0; x < n; x++) out[x] = view.getFloat32(4 * x, true);
    return { shape: [...shape], data: out };
  }
  const out = new Float64Array(n);
  for (let x = 0; x < n; x++) {
    switch (dtype) {
      case 'F64':
        out[x] = view.getFloat64(8 * x, true);
        break;
      case 'F16':
        out[x] = f16ToF32(view.getUint16(2 * x, true));
        break;
      case 'BF16':
        out[x] = new Float32Array(new Uint32Array([view.getUint16(2 * x, true) << 16]).buffer)[0];
        break;
      case 'I32':
        out[x] = view.getInt32(4 * x, true);
        break;
      case 'I64':
        out[x] = Number(view.getBigInt64(8 * x, true));
        break;
    }
  }
  return { shape: [...shape], data: out };
}

/** Reads every tensor of a file as float tensors. */
export function readSafetensors(buffer: ArrayBuffer | Uint8Array): {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
} {
  const file = parseSafetensors(buffer);
  const tensors: Record<string, Tensor> = {};
  for (const [name, entry] of file.tensors) tensors[name] = decodeTensor(entry);
  return { tensors, metadata: file.metadata };
}

/** Writes tensors as F32 (Float32Array) or F64 (Float64Array) into a `.safetensors` buffer. */
export function writeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    const bytes = t.data.byteLength;
    header[name] = {
      dtype: t.data instanceof Float64Array ? 'F64' : 'F32',
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}
