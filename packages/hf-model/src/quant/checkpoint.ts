/**
 * Quantised checkpoints: a safetensors file in the fused layout (`weight_mode: "fused"` names)
 * whose quantised matrix `X` is stored as two tensors, `X.qweight` (U32 `[rows, words per row]`)
 * and `X.scales` (F16 `[rows, groups per row]`), laid out as in ./formats.ts; dense matrices,
 * norms and biases are ordinary F32 / F16 tensors. The `__metadata__` entry `mlstm_quant` holds a
 * JSON record: format version, group size, the source checkpoint, the formats, and per quantised
 * tensor its format, logical shape and a checksum of its bytes (checked when it is read).
 *
 * The writer streams: each tensor is written when its piece is ready, the header last into a
 * reserved space before the data (padded with spaces, which safetensors allows).
 */
import type { XlstmConfig } from '../config.js';
import { CheckpointFormatError, QuantFormatError } from '../errors.js';
import type { StDtype, StEntry, TensorStore } from '../safetensors.js';
import {
  GROUP_SIZE,
  groupsPerRow,
  isQuantFormat,
  type QuantFormat,
  type QuantMatrix,
  WORDS_PER_GROUP,
} from './formats.js';
import { packF16 } from '@mlstm/kernels-webgpu';
import {
  type DenseMatrix,
  isFilledMatrix,
  type PackedBlock,
  type PackedMatrix,
  type PackedPieces,
  type WeightFormats,
} from './pieces.js';

/** The `__metadata__` key of the quantisation record. */
export const QUANT_METADATA_KEY = 'mlstm_quant';
export const QUANT_FORMAT_VERSION = 1;

export interface QuantTensorInfo {
  format: QuantFormat;
  /** logical `[rows, cols]` */
  shape: [number, number];
  /** {@link checksum} of the qweight words then the scale bits */
  checksum: string;
}

/** The parsed `mlstm_quant` record of a quantised checkpoint. */
export interface QuantRecord {
  version: number;
  groupSize: number;
  /** where the weights came from (informational) */
  source: string;
  formats: WeightFormats;
  tensors: Record<string, QuantTensorInfo>;
}

/** 32-bit FNV-1a over the words and then the scale bits, as 8 hex digits. */
export function checksum(data: Uint32Array, scales: Uint16Array): string {
  let h = 0x811c9dc5;
  for (let x = 0; x < data.length; x++) h = Math.imul(h ^ data[x], 0x01000193);
  for (let x = 0; x < scales.length; x++) h = Math.imul(h ^ scales[x], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

// ------------------------------------------------------------------------------------------------
// reading

interface QuantEntry {
  info: QuantTensorInfo;
  qweight: StEntry;
  scales: StEntry;
}

/** The quantised tensors of a store, validated (names, dtypes, shapes; data is checked on read). */
export interface QuantIndex {
  record: QuantRecord;
  entries: Map<string, QuantEntry>;
}

const indexCache = new WeakMap<TensorStore, QuantIndex | null>();

/**
 * The quantisation record of a store, or null for an ordinary checkpoint. Every quantised tensor
 * is checked against its record entry: known format, a supported group size that fits the row,
 * qweight / scales present with the right dtype and shape. Errors are {@link QuantFormatError}s
 * naming the tensor.
 */
export function quantIndex(store: TensorStore): QuantIndex | null {
  if (indexCache.has(store)) return indexCache.get(store)!;
  const raw = store.metadata[QUANT_METADATA_KEY];
  let idx: QuantIndex | null = null;
  if (raw !== undefined) idx = parseIndex(store, raw);
  indexCache.set(store, idx);
  return idx;
}

function parseIndex(store: TensorStore, raw: string): QuantIndex {
  const meta = `__metadata__.${QUANT_METADATA_KEY}`;
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(raw) as Record<string, unknown>;
  } catch (e) {
    throw new QuantFormatError(meta, `is not valid JSON (${(e as Error).message})`);
  }
  if (rec.version !== QUANT_FORMAT_VERSION) {
    throw new QuantFormatError(
      meta,
      `version ${JSON.stringify(rec.version)} is not supported (this reader reads ${QUANT_FORMAT_VERSION})`,
    );
  }
  const groupSize = rec.group_size as number;
  const tensors = (rec.tensors ?? {}) as Record<string, QuantTensorInfo>;
  const formats = rec.formats as WeightFormats;
  if (typeof tensors !== 'object' || typeof formats !== 'object' || formats === null) {
    throw new QuantFormatError(meta, 'needs the objects "tensors" and "formats"');
  }
  const entries = new Map<string, QuantEntry>();
  for (const [name, info] of Object.entries(tensors)) {
    if (!info || !isQuantFormat(String(info.format))) {
      throw new QuantFormatError(name, `unknown format ${JSON.stringify(info?.format)} (known: q8, q4)`);
    }
    const [rows, cols] = (Array.isArray(info.shape) ? info.shape : [0, 0]) as [number, number];
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
      throw new QuantFormatError(name, `shape ${JSON.stringify(info.shape)} is not [rows, cols]`);
    }
    if (groupSize !== GROUP_SIZE) {
      throw new QuantFormatError(
        name,
        cols % groupSize !== 0
          ? `group size ${groupSize} does not divide the row of ${cols} values`
          : `group size ${groupSize} is not supported (this version reads ${GROUP_SIZE})`,
      );
    }
    if (typeof info.checksum !== 'string' || !/^[0-9a-f]{8}$/.test(info.checksum)) {
      throw new QuantFormatError(name, 'has no checksum of 8 hex digits');
    }
    const qweight = store.tensors.get(`${name}.qweight`);
    const scales = store.tensors.get(`${name}.scales`);
    if (!qweight || !scales) {
      throw new QuantFormatError(name, `is missing its ${qweight ? 'scales' : 'qweight'} tensor`);
    }
    const wpg = WORDS_PER_GROUP[info.format];
    const G = groupsPerRow(cols);
    if (qweight.dtype !== 'U32' || qweight.shape.length !== 2 || qweight.shape[0] !== rows) {
      throw new QuantFormatError(
        name,
        `qweight must be U32 [${rows}, ${G * wpg}], found ${qweight.dtype} [${qweight.shape.join(', ')}]`,
      );
    }
    if (qweight.shape[1] % wpg !== 0) {
      throw new QuantFormatError(
        name,
        `a row of ${qweight.shape[1]} words is not a whole number of ${GROUP_SIZE}-value groups (${wpg} words each in ${info.format})`,
      );
    }
    if (qweight.shape[1] / wpg !== G) {
      throw new QuantFormatError(
        name,
        `${qweight.shape[1] / wpg} groups of ${GROUP_SIZE} per row do not hold a row of ${cols} values (${G} groups)`,
      );
    }
    if (
      scales.dtype !== 'F16' ||
      scales.shape.length !== 2 ||
      scales.shape[0] !== rows ||
      scales.shape[1] !== G
    ) {
      throw new QuantFormatError(
        name,
        `scales must be F16 [${rows}, ${G}], found ${scales.dtype} [${scales.shape.join(', ')}]`,
      );
    }
    entries.set(name, {
      info: { format: info.format, shape: [rows, cols], checksum: info.checksum },
      qweight,
      scales,
    });
  }
  return {
    record: { version: QUANT_FORMAT_VERSION, groupSize, source: String(rec.source ?? ''), formats, tensors },
    entries,
  };
}

function aligned<T extends Uint32Array | Uint16Array>(
  bytes: Uint8Array,
  Ctor: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number },
): T {
  const n = bytes.byteLength / Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0)
    return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
  return new Ctor(bytes.slice().buffer, 0, n);
}

/** Reads one quantised tensor, checking its checksum (a mismatch names the tensor: corrupted). */
export function readQuantTensor(name: string, e: QuantEntry): QuantMatrix {
  const data = aligned(e.qweight.bytes(), Uint32Array);
  const scales = aligned(e.scales.bytes(), Uint16Array);
  const sum = checksum(data, scales);
  if (sum !== e.info.checksum) {
    throw new QuantFormatError(
      name,
      `checksum ${sum} does not match the recorded ${e.info.checksum}: the file is corrupted`,
    );
  }
  const [rows, cols] = e.info.shape;
  return { format: e.info.format, rows, cols, data, scales };
}

// ------------------------------------------------------------------------------------------------
// writing

/** Where the writer puts bytes (positioned writes). */
export interface ByteSink {
  write(offset: number, bytes: Uint8Array): void;
}

/** A {@link ByteSink} into memory; `bytes()` gives the file. */
export function memorySink(): ByteSink & { bytes(): Uint8Array } {
  const parts: { offset: number; bytes: Uint8Array }[] = [];
  return {
    write: (offset, bytes) => parts.push({ offset, bytes: bytes.slice() }),
    bytes() {
      const size = parts.reduce((a, p) => Math.max(a, p.offset + p.bytes.byteLength), 0);
      const out = new Uint8Array(size);
      for (const p of parts) out.set(p.bytes, p.offset);
      return out;
    },
  };
}

const asBytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * A safetensors writer that streams tensors into a sink and writes the header last into
 * `reserve` bytes kept before the data (the header must fit; the rest is padded with spaces).
 */
export class SafetensorsStreamWriter {
  private readonly header: Record<string, unknown> = {};
  private pos = 0;

  constructor(
    private readonly sink: ByteSink,
    private readonly reserve: number,
  ) {
    if (reserve % 8 !== 0) throw new RangeError('reserve must be a multiple of 8');
  }

  add(name: string, dtype: StDtype, shape: readonly number[], data: ArrayBufferView): void {
    const bytes = asBytes(data);
    this.header[name] = { dtype, shape: [...shape], data_offsets: [this.pos, this.pos + bytes.byteLength] };
    this.sink.write(8 + this.reserve + this.pos, bytes);
    this.pos += bytes.byteLength;
  }

  /** Writes the header (with `metadata` as `__metadata__`); returns the file size. */
  finish(metadata: Record<string, string>): number {
    const json = JSON.stringify({ __metadata__: metadata, ...this.header });
    const enc = new TextEncoder().encode(json);
    if (enc.byteLength > this.reserve) {
      throw new RangeError(
        `safetensors header of ${enc.byteLength} bytes exceeds the reserved ${this.reserve}`,
      );
    }
    const head = new Uint8Array(8 + this.reserve).fill(0x20);
    new DataView(head.buffer).setBigUint64(0, BigInt(this.reserve), true);
    head.set(enc, 8);
    this.sink.write(0, head);
    return 8 + this.reserve + this.pos;
  }
}

/** Header bytes to reserve for a model's tensors (generous: 640 bytes per tensor). */
export function headerReserve(config: XlstmConfig): number {
  const tensors = 4 + config.dims.blocks * 24;
  return Math.ceil((8192 + 640 * tensors) / 8) * 8;
}

export interface WriteQuantizedOptions {
  /** recorded as the source (e.g. the input folder or repo id) */
  source?: string;
}

/**
 * Writes packed pieces as a (quantised) checkpoint in the fused layout, one piece at a time.
 * Returns the `mlstm_quant` record written. The config to save with it is
 * {@link quantizedConfigJson}.
 */
export function writeQuantizedCheckpoint(
  config: XlstmConfig,
  pieces: PackedPieces,
  sink: ByteSink,
  opts: WriteQuantizedOptions = {},
): QuantRecord {
  const w = new SafetensorsStreamWriter(sink, headerReserve(config));
  const tensors: Record<string, QuantTensorInfo> = {};
  const vec = (name: string, v: Float32Array | null) => {
    if (v) w.add(name, 'F32', [v.length], v);
  };
  const mat = (name: string, m: PackedMatrix) => {
    if (isFilledMatrix(m)) throw new TypeError(`${name}: filled on the GPU, it has no host values to save`);
    if (isQuantFormat(m.format)) {
      const q = m as QuantMatrix;
      w.add(`${name}.qweight`, 'U32', [q.rows, q.data.length / q.rows], q.data);
      w.add(`${name}.scales`, 'F16', [q.rows, groupsPerRow(q.cols)], q.scales);
      tensors[name] = { format: q.format, shape: [q.rows, q.cols], checksum: checksum(q.data, q.scales) };
    } else if (m.format === 'f16') {
      const d = m as DenseMatrix;
      w.add(name, 'F16', [d.rows, d.cols], packF16(d.data).subarray(0, d.rows * d.cols));
    } else {
      const d = m as DenseMatrix;
      w.add(name, 'F32', [d.rows, d.cols], d.data);
    }
  };
  const lin = (name: string, l: PackedBlock['qkvo']) => {
    mat(`${name}.weight`, l.w);
    vec(`${name}.bias`, l.b);
  };
  mat('backbone.embeddings.weight', pieces.embedding());
  for (let i = 0; i < config.dims.blocks; i++) {
    const b = pieces.block(i);
    const p = `backbone.blocks.${i}.`;
    vec(`${p}norm_mlstm.weight`, b.normMlstm.w);
    vec(`${p}norm_mlstm.bias`, b.normMlstm.b);
    lin(`${p}mlstm_layer.qkv_opreact`, b.qkvo);
    lin(`${p}mlstm_layer.ifgate_preact`, b.ifGate);
    vec(`${p}mlstm_layer.multihead_norm.weight`, b.multiheadNorm.w);
    vec(`${p}mlstm_layer.multihead_norm.bias`, b.multiheadNorm.b);
    lin(`${p}mlstm_layer.out_proj`, b.outProj);
    vec(`${p}norm_ffn.weight`, b.normFfn.w);
    vec(`${p}norm_ffn.bias`, b.normFfn.b);
    lin(`${p}ffn.proj_up_gate_z`, b.upGateZ);
    lin(`${p}ffn.proj_down`, b.down);
  }
  const head = pieces.head();
  vec('backbone.out_norm.weight', head.outNorm);
  if (head.lmHead) mat('lm_head.weight', head.lmHead);
  const record: QuantRecord = {
    version: QUANT_FORMAT_VERSION,
    groupSize: GROUP_SIZE,
    source: opts.source ?? '',
    formats: pieces.formats,
    tensors,
  };
  w.finish({
    format: 'pt',
    [QUANT_METADATA_KEY]: JSON.stringify({
      version: record.version,
      group_size: record.groupSize,
      source: record.source,
      formats: record.formats,
      tensors,
    }),
  });
  return record;
}

/** The config.json of a written checkpoint: the source's, in the fused weight layout. */
export function quantizedConfigJson(configJson: Record<string, unknown>): Record<string, unknown> {
  return { ...configJson, weight_mode: 'fused' };
}

/** Rejects a store that is not a valid safetensors checkpoint of the quantised kind. */
export function requireQuantIndex(store: TensorStore, file: string): QuantIndex {
  const idx = quantIndex(store);
  if (!idx)
    throw new CheckpointFormatError(
      file,
      `has no ${QUANT_METADATA_KEY} metadata (not a quantised checkpoint)`,
    );
  return idx;
}
