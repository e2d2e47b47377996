/**
 * State snapshots: the recurrent state of an {@link XlstmCache} as bytes, and back. xLSTM's state
 * has a fixed size (per block C `[B, NH, dqk, dv]`, n `[B, NH, dqk]`, m `[B, NH, 1]`), so a
 * conversation can be saved and resumed at any length for the same few bytes.
 *
 * Layout (little-endian):
 * ```
 * bytes 0..7    magic "XLSTMST\0"
 * bytes 8..11   u32 format version (STATE_FORMAT_VERSION)
 * bytes 12..15  u32 header length H
 * bytes 16..    H bytes of UTF-8 JSON: { version, configHash, dtype, batch, blocks, NH, dqk, dv,
 *               seqlenOffset }, then zero padding to a multiple of 8
 * then          per block c, n, m in `dtype` ('f32' or 'f16'), row-major
 * ```
 * `configHash` is the SHA-256 of the model's `config.json` (canonical JSON: keys sorted): a state
 * restores only into a model of the same configuration.
 */
import { packF16, unpackF16 } from '@mlstm/kernels-webgpu';
import type { XlstmConfig } from './config.js';
import { ModelArgumentError } from './errors.js';
import type { BlockStateArrays, XlstmCache, XlstmForCausalLM } from './model.js';

/** Version of the snapshot layout; a snapshot of another version is refused. */
export const STATE_FORMAT_VERSION = 1;

const MAGIC = 'XLSTMST\0';

/** Storage type of the state values in a snapshot. */
export type StateDtype = 'f32' | 'f16';

/** The JSON header of a snapshot. */
export interface StateHeader {
  version: number;
  /** hex SHA-256 of the model's canonical config.json */
  configHash: string;
  dtype: StateDtype;
  batch: number;
  blocks: number;
  NH: number;
  dqk: number;
  dv: number;
  /** tokens the state has absorbed */
  seqlenOffset: number;
}

/** Why a snapshot was refused. */
export type StateSnapshotProblem = 'format' | 'version' | 'model' | 'shape';

/**
 * A snapshot that cannot be restored here: not a snapshot (`format`), another format version
 * (`version`), the state of another model configuration (`model`), or sizes that do not match
 * its header (`shape`). Raised before any state is touched.
 */
export class StateSnapshotError extends ModelArgumentError {
  readonly problem: StateSnapshotProblem;
  constructor(problem: StateSnapshotProblem, message: string) {
    super('state', message);
    this.name = 'StateSnapshotError';
    this.problem = problem;
  }
}

function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(x);
}

/** Hex SHA-256 of the canonical JSON of a config's `config.json` object. */
export async function configHash(config: XlstmConfig): Promise<string> {
  const bytes = new TextEncoder().encode(canonical(config.raw));
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Serialises state arrays (float32 per block) with their header. */
export function encodeState(header: StateHeader, states: readonly BlockStateArrays[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerEnd = 16 + json.length;
  const dataStart = Math.ceil(headerEnd / 8) * 8;
  const E = header.dtype === 'f16' ? 2 : 4;
  const per = states.length ? states[0].c.length + states[0].n.length + states[0].m.length : 0;
  const out = new Uint8Array(dataStart + states.length * per * E);
  const dv = new DataView(out.buffer);
  for (let x = 0; x < 8; x++) out[x] = MAGIC.charCodeAt(x);
  dv.setUint32(8, header.version, true);
  dv.setUint32(12, json.length, true);
  out.set(json, 16);
  let at = dataStart;
  for (const s of states) {
    for (const a of [s.c, s.n, s.m]) {
      const bytes =
        header.dtype === 'f16'
          ? new Uint8Array(packF16(a).buffer, 0, a.length * 2)
          : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      out.set(bytes, at);
      at += a.length * E;
    }
  }
  return out;
}

/** Reads the header of a snapshot (typed errors for anything that is not a snapshot of this version). */
export function readStateHeader(bytes: Uint8Array): StateHeader {
  if (!(bytes instanceof Uint8Array) || bytes.length < 16) {
    throw new StateSnapshotError('format', 'expected the bytes of a state snapshot (Uint8Array)');
  }
  for (let x = 0; x < 8; x++) {
    if (bytes[x] !== MAGIC.charCodeAt(x))
      throw new StateSnapshotError('format', 'not a state snapshot (bad magic bytes)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== STATE_FORMAT_VERSION) {
    throw new StateSnapshotError(
      'version',
      `snapshot format version ${version}; this version of @mlstm/hf-model reads version ${STATE_FORMAT_VERSION}`,
    );
  }
  const len = dv.getUint32(12, true);
  if (16 + len > bytes.length) throw new StateSnapshotError('format', 'truncated header');
  let h: StateHeader;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + len))) as StateHeader;
  } catch {
    throw new StateSnapshotError('format', 'the header is not valid JSON');
  }
  const ints = ['batch', 'blocks', 'NH', 'dqk', 'dv', 'seqlenOffset'] as const;
  if (
    h.version !== version ||
    typeof h.configHash !== 'string' ||
    (h.dtype !== 'f32' && h.dtype !== 'f16') ||
    ints.some((k) => !Number.isInteger(h[k]) || h[k] < 0)
  ) {
    throw new StateSnapshotError('format', 'the header lacks a field or has a bad value');
  }
  return h;
}

/** Decodes the state arrays of a snapshot whose header was read (sizes checked). */
export function decodeStateArrays(bytes: Uint8Array, h: StateHeader): BlockStateArrays[] {
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12, true);
  const dataStart = Math.ceil((16 + len) / 8) * 8;
  const E = h.dtype === 'f16' ? 2 : 4;
  const sizes = [h.batch * h.NH * h.dqk * h.dv, h.batch * h.NH * h.dqk, h.batch * h.NH];
  const total = h.blocks * (sizes[0] + sizes[1] + sizes[2]);
  if (bytes.length !== dataStart + total * E) {
    throw new StateSnapshotError(
      'shape',
      `expected ${dataStart + total * E} bytes for the shapes of the header, got ${bytes.length}`,
    );
  }
  // copy to an aligned buffer (the snapshot may start at any byte offset)
  const data = bytes.slice(dataStart);
  const out: BlockStateArrays[] = [];
  let at = 0;
  const take = (n: number): Float32Array => {
    const a =
      E === 2
        ? unpackF16(new Uint16Array(data.buffer, at * 2, n))
        : new Float32Array(data.buffer.slice(at * 4, (at + n) * 4));
    at += n;
    return a;
  };
  for (let b = 0; b < h.blocks; b++) out.push({ c: take(sizes[0]), n: take(sizes[1]), m: take(sizes[2]) });
  return out;
}

/** Options of {@link saveState}. */
export interface SaveStateOptions {
  /** storage type of the values (default 'f32': exact; 'f16' halves the size) */
  dtype?: StateDtype;
}

/** Snapshot of a cache's state (see the module doc). */
export async function saveState(
  model: XlstmForCausalLM,
  cache: XlstmCache,
  opts: SaveStateOptions = {},
): Promise<Uint8Array> {
  const dtype = opts.dtype ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16')
    throw new ModelArgumentError('dtype', `expected 'f32' or 'f16', got ${dtype}`);
  if (!cache?.belongsTo?.(model)) throw new ModelArgumentError('cache', 'belongs to another model');
  const { NH, dqk, dv, blocks } = model.config.dims;
  const header: StateHeader = {
    version: STATE_FORMAT_VERSION,
    configHash: await configHash(model.config),
    dtype,
    batch: cache.batch,
    blocks,
    NH,
    dqk,
    dv,
    seqlenOffset: cache.seqlenOffset,
  };
  return encodeState(header, await cache.readStates());
}

/** Options of {@link restoreState}. */
export interface RestoreStateOptions {
  /** a cache of this model to overwrite (default: a new one); untouched when the snapshot is refused */
  into?: XlstmCache;
}

/**
 * A cache holding the state of a snapshot. Every check (format, version, config hash, shapes,
 * batch of `into`) runs before any state is written: a refused snapshot leaves `into` as it was.
 */
export async function restoreState(
  model: XlstmForCausalLM,
  bytes: Uint8Array,
  opts: RestoreStateOptions = {},
): Promise<XlstmCache> {
  const h = readStateHeader(bytes);
  const want = await configHash(model.config);
  if (h.configHash !== want) {
    throw new StateSnapshotError(
      'model',
      `the snapshot is the state of another model configuration (config hash ${h.configHash.slice(0, 12)}…, this model ${want.slice(0, 12)}…)`,
    );
  }
  const { NH, dqk, dv, blocks } = model.config.dims;
  if (h.NH !== NH || h.dqk !== dqk || h.dv !== dv || h.blocks !== blocks || h.batch < 1) {
    throw new StateSnapshotError(
      'shape',
      `header shapes (blocks ${h.blocks}, NH ${h.NH}, dqk ${h.dqk}, dv ${h.dv}, batch ${h.batch}) do not fit this model`,
    );
  }
  const arrays = decodeStateArrays(bytes, h);
  if (opts.into && !opts.into.belongsTo(model))
    throw new ModelArgumentError('into', 'belongs to another model');
  if (opts.into && opts.into.batch !== h.batch) {
    throw new ModelArgumentError('into', `has batch ${opts.into.batch}, the snapshot has ${h.batch}`);
  }
  const cache = opts.into ?? model.newCache(h.batch);
  model._writeStates(cache, arrays, h.seqlenOffset);
  return cache;
}
