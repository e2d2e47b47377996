/**
 * From checkpoint tensors to the model's weights (spec §4). Both weight modes load into one
 * layout, the fused one (fusing at load time: one projection per block for q/k/v/o, one for the
 * two gates, one for the FFN gate and up projections — fewer, larger matmuls on every path).
 * Missing tensors and wrong shapes throw typed errors naming the tensor.
 */
import type { XlstmConfig } from './config.js';
import { MissingTensorError, TensorShapeError } from './errors.js';
import { quantIndex, type QuantIndex, readQuantTensor } from './quant/checkpoint.js';
import { groupsPerRow, isQuantFormat, type QuantMatrix, quantize, wordsPerRow } from './quant/formats.js';
import {
  ALL_F32,
  convertMatrix,
  type PackedBlock,
  type PackedLinear,
  type PackedMatrix,
  type PackedPieces,
  packMatrix,
  unpackBlock,
  unpackMatrix,
  type WeightFormats,
} from './quant/pieces.js';
import { decodeEntry, type StEntry, type TensorStore } from './safetensors.js';

/**
 * A linear layer `y = x·Wᵀ + b`, W row-major `[out, in]`. `W` is the matrix's representation: host
 * values, or (random weights built on the GPU) a description the GPU engine fills in place.
 */
export interface Linear<W = Float32Array> {
  w: W;
  b: Float32Array | null;
  out: number;
  in: number;
}

/** A norm's affine parameters (`b` only with use_bias). */
export interface NormParams {
  w: Float32Array;
  b: Float32Array | null;
}

export interface BlockWeights<W = Float32Array> {
  normMlstm: NormParams;
  /** rows: q (Dqk), k (Dqk), v (Dv), o-gate (Dv) */
  qkvo: Linear<W>;
  /** rows: input gates (NH), forget gates (NH); always with a bias */
  ifGate: Linear<W>;
  /** flat [Dv] */
  multiheadNorm: NormParams;
  outProj: Linear<W>;
  normFfn: NormParams;
  /** rows: gate (F, through silu), up (F) */
  upGateZ: Linear<W>;
  down: Linear<W>;
}

export interface XlstmWeights {
  /** [V, H] */
  embedding: Float32Array;
  blocks: BlockWeights[];
  outNorm: Float32Array;
  /** [V, H] */
  lmHead: Float32Array;
}

/** Names the embedding may have (transformers, then NX-AI xLSTMLarge). */
export const EMBEDDING_NAMES = ['backbone.embeddings.weight', 'embedding.weight'] as const;

const shapeEq = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, x) => d === b[x]);

const EMPTY = new Float32Array(0);
/** Values per slice when a checkpoint matrix is decoded and quantised piecewise (16 MB of f32). */
const SLICE_VALUES = 4 << 20;

class Loader {
  private readonly quant: QuantIndex | null;

  /** `dry`: check names and shapes only, decode nothing; matrices are packed into `formats` */
  constructor(
    private readonly store: TensorStore,
    private readonly dry = false,
    private readonly formats: WeightFormats = ALL_F32,
  ) {
    this.quant = quantIndex(store);
  }

  find(names: readonly string[]): StEntry | undefined {
    for (const n of names) {
      const e = this.store.tensors.get(n);
      if (e) return e;
    }
    return undefined;
  }

  entry(
    names: readonly string[],
    shape: readonly number[],
    alsoShapes: readonly (readonly number[])[] = [],
  ): StEntry {
    const e = this.find(names);
    if (!e) throw new MissingTensorError(names[0], names.slice(1));
    if (!shapeEq(e.shape, shape) && !alsoShapes.some((s) => shapeEq(e.shape, s))) {
      throw new TensorShapeError(e.name, shape, e.shape);
    }
    return e;
  }

  get(
    names: string | readonly string[],
    shape: readonly number[],
    alsoShapes: readonly (readonly number[])[] = [],
  ) {
    const e = this.entry(typeof names === 'string' ? [names] : names, shape, alsoShapes);
    return this.dry ? EMPTY : decodeEntry(e);
  }

  /**
   * A weight matrix `[rows, cols]` in format `role`'s format: a quantised tensor of a quantised
   * checkpoint is read as it is (converted when another format is asked for), any other tensor is
   * decoded and packed (quantised) right away, so only one f32 copy exists at a time.
   */
  mat(
    names: string | readonly string[],
    rows: number,
    cols: number,
    role: keyof WeightFormats,
  ): PackedMatrix {
    const list = typeof names === 'string' ? [names] : names;
    const format = this.formats[role];
    for (const n of list) {
      const q = this.quant?.entries.get(n);
      if (!q) continue;
      if (!shapeEq(q.info.shape, [rows, cols])) throw new TensorShapeError(n, [rows, cols], q.info.shape);
      if (this.dry) return { format: 'f32', rows, cols, data: EMPTY };
      return convertMatrix(readQuantTensor(n, q), format, n);
    }
    const e = this.entry(list, [rows, cols]);
    if (this.dry) return { format: 'f32', rows, cols, data: EMPTY };
    if (!isQuantFormat(format)) return packMatrix(decodeEntry(e), rows, cols, format, e.name);
    // quantised in slices of rows (rows quantise independently): the f32 copy stays small
    const per = Math.max(1, Math.floor(SLICE_VALUES / cols));
    if (per >= rows) return quantize(format, decodeEntry(e), rows, cols, e.name);
    const G = groupsPerRow(cols);
    const wpr = wordsPerRow(format, cols);
    const out: QuantMatrix = {
      format,
      rows,
      cols,
      data: new Uint32Array(rows * wpr),
      scales: new Uint16Array(rows * G),
    };
    for (let r0 = 0; r0 < rows; r0 += per) {
      const n = Math.min(per, rows - r0);
      const q = quantize(format, decodeEntry(e, undefined, 0, r0 * cols, n * cols), n, cols, e.name);
      out.data.set(q.data, r0 * wpr);
      out.scales.set(q.scales, r0 * G);
    }
    return out;
  }

  /** Rows of several tensors stacked into one `[Σ rows, cols]` matrix. */
  concat(parts: readonly { names: readonly string[]; rows: number }[], cols: number): Float32Array {
    const total = parts.reduce((a, p) => a + p.rows, 0);
    const out = this.dry ? EMPTY : new Float32Array(total * cols);
    let off = 0;
    for (const p of parts) {
      const shape = cols === 1 ? [p.rows] : [p.rows, cols];
      const e = this.entry(p.names, shape);
      if (!this.dry) decodeEntry(e, out, off);
      off += p.rows * cols;
    }
    return out;
  }

  /** {@link concat} of weight matrices, packed (quantised) once stacked. */
  matConcat(parts: readonly { names: readonly string[]; rows: number }[], cols: number): PackedMatrix {
    const rows = parts.reduce((a, p) => a + p.rows, 0);
    const data = this.concat(parts, cols);
    if (this.dry) return { format: 'f32', rows, cols, data };
    return packMatrix(data, rows, cols, this.formats.linear, parts[0].names[0]);
  }

  has(name: string): boolean {
    return this.store.tensors.has(name) || !!this.quant?.entries.has(name);
  }
}

/**
 * Reads the model's weights from checkpoint tensors, one piece at a time (so that a GPU upload
 * never needs every weight decoded in memory at once). `validate()` checks every name and shape
 * first without decoding anything.
 */
/**
 * The weights handed out one piece at a time (checkpoint reader or synthetic); `W` is how a weight
 * matrix is represented (host values, or a GPU fill for random weights built on the GPU).
 */
export interface WeightPieces<W = Float32Array> {
  embedding(): W;
  block(i: number): BlockWeights<W>;
  head(embedding: W | null): { outNorm: Float32Array; lmHead: W | null };
}

export class WeightLoader implements WeightPieces {
  constructor(
    readonly config: XlstmConfig,
    private readonly store: TensorStore,
  ) {}

  /** Throws the first MissingTensorError / TensorShapeError / QuantFormatError, decoding nothing. */
  validate(): void {
    const L = new Loader(this.store, true);
    readEmbedding(L, this.config);
    for (let i = 0; i < this.config.dims.blocks; i++) readBlock(L, this.config, i);
    readHead(L, this.config);
  }

  /** The formats of a quantised checkpoint (its `mlstm_quant` record), or null for an ordinary one. */
  storedFormats(): WeightFormats | null {
    return quantIndex(this.store)?.record.formats ?? null;
  }

  embedding(): Float32Array {
    return unpackMatrix(readEmbedding(new Loader(this.store), this.config));
  }

  block(i: number): BlockWeights {
    return unpackBlock(readBlock(new Loader(this.store), this.config, i));
  }

  /** `embedding` is returned as lm_head for tied checkpoints without lm_head.weight */
  head(embedding: Float32Array | null): { outNorm: Float32Array; lmHead: Float32Array | null } {
    const h = readHead(new Loader(this.store), this.config);
    return { outNorm: h.outNorm, lmHead: h.lmHead ? unpackMatrix(h.lmHead) : embedding };
  }

  /**
   * The pieces packed into `formats`: each matrix is decoded and quantised on its own (or read
   * as stored from a quantised checkpoint), so the peak memory is about one f32 matrix plus the
   * packed pieces of one block.
   */
  packed(formats: WeightFormats): PackedPieces {
    const { config, store } = this;
    const tiedOther =
      config.tieWordEmbeddings &&
      !new Loader(store).has('lm_head.weight') &&
      formats.lmHead !== formats.embedding;
    return {
      formats,
      embedding: () => readEmbedding(new Loader(store, false, formats), config),
      block: (i) => readBlock(new Loader(store, false, formats), config, i),
      head: () => {
        const L = new Loader(store, false, formats);
        const h = readHead(L, config);
        // a tied lm_head in another format than the embedding: the table again, in its format
        const lmHead =
          h.lmHead ?? (tiedOther ? L.mat(EMBEDDING_NAMES, config.dims.V, config.dims.H, 'lmHead') : null);
        return { outNorm: h.outNorm, lmHead };
      },
    };
  }
}

function readEmbedding(L: Loader, config: XlstmConfig): PackedMatrix {
  const { H, V } = config.dims;
  return L.mat(EMBEDDING_NAMES, V, H, 'embedding');
}

/** `lmHead` null: tied to the embedding (no lm_head.weight in the checkpoint). */
function readHead(L: Loader, config: XlstmConfig): { outNorm: Float32Array; lmHead: PackedMatrix | null } {
  const { H, V } = config.dims;
  const outNorm = L.get('backbone.out_norm.weight', [H]);
  const lmHead =
    config.tieWordEmbeddings && !L.has('lm_head.weight') ? null : L.mat('lm_head.weight', V, H, 'lmHead');
  return { outNorm, lmHead };
}

function readBlock(L: Loader, config: XlstmConfig, i: number): PackedBlock {
  const { H, NH, Dqk, Dv, F } = config.dims;
  const bias = config.useBias;
  const p = `backbone.blocks.${i}.`;
  const m = `${p}mlstm_layer.`;
  const norm = (name: string, n: number, withBias: boolean, also: number[][] = []): NormParams => ({
    w: L.get(`${name}.weight`, [n], also),
    b: withBias ? L.get(`${name}.bias`, [n], also) : null,
  });
  let qkvo: PackedLinear;
  let ifGate: PackedLinear;
  let upGateZ: PackedLinear;
  const qkvoRows = 2 * Dqk + 2 * Dv;
  if (config.weightMode === 'fused') {
    qkvo = {
      w: L.mat(`${m}qkv_opreact.weight`, qkvoRows, H, 'linear'),
      b: bias ? L.get(`${m}qkv_opreact.bias`, [qkvoRows]) : null,
      out: qkvoRows,
      in: H,
    };
    ifGate = {
      w: L.mat(`${m}ifgate_preact.weight`, 2 * NH, H, 'linear'),
      b: L.get(`${m}ifgate_preact.bias`, [2 * NH]),
      out: 2 * NH,
      in: H,
    };
    upGateZ = {
      w: L.mat(`${p}ffn.proj_up_gate_z.weight`, 2 * F, H, 'linear'),
      b: bias ? L.get(`${p}ffn.proj_up_gate_z.bias`, [2 * F]) : null,
      out: 2 * F,
      in: H,
    };
  } else {
    const qkv = (n: string, alt: string | null) => (alt ? [`${m}${n}`, `${m}${alt}`] : [`${m}${n}`]);
    const names = [
      { base: qkv('q', 'query'), rows: Dqk },
      { base: qkv('k', 'key'), rows: Dqk },
      { base: qkv('v', 'value'), rows: Dv },
      { base: qkv('ogate_preact', null), rows: Dv },
    ];
    qkvo = {
      w: L.matConcat(
        names.map((n) => ({ names: n.base.map((b) => `${b}.weight`), rows: n.rows })),
        H,
      ),
      b: bias
        ? L.concat(
            names.map((n) => ({ names: n.base.map((b) => `${b}.bias`), rows: n.rows })),
            1,
          )
        : null,
      out: qkvoRows,
      in: H,
    };
    ifGate = {
      w: L.matConcat(
        [
          { names: [`${m}igate_preact.weight`], rows: NH },
          { names: [`${m}fgate_preact.weight`], rows: NH },
        ],
        H,
      ),
      b: L.concat(
        [
          { names: [`${m}igate_preact.bias`], rows: NH },
          { names: [`${m}fgate_preact.bias`], rows: NH },
        ],
        1,
      ),
      out: 2 * NH,
      in: H,
    };
    upGateZ = {
      w: L.matConcat(
        [
          { names: [`${p}ffn.proj_up_gate.weight`], rows: F },
          { names: [`${p}ffn.proj_up.weight`], rows: F },
        ],
        H,
      ),
      b: bias
        ? L.concat(
            [
              { names: [`${p}ffn.proj_up_gate.bias`], rows: F },
              { names: [`${p}ffn.proj_up.bias`], rows: F },
            ],
            1,
          )
        : null,
      out: 2 * F,
      in: H,
    };
  }
  const lin = (name: string, out: number, inn: number): PackedLinear => ({
    w: L.mat(`${name}.weight`, out, inn, 'linear'),
    b: bias ? L.get(`${name}.bias`, [out]) : null,
    out,
    in: inn,
  });
  return {
    normMlstm: norm(`${p}norm_mlstm`, H, bias),
    qkvo,
    ifGate,
    // the multi-head norm weight may be stored as [NH, dv] (NX-AI): flattened
    multiheadNorm: norm(`${m}multihead_norm`, Dv, bias, [[NH, Dv / NH]]),
    outProj: lin(`${m}out_proj`, H, Dv),
    normFfn: norm(`${p}norm_ffn`, H, bias),
    upGateZ,
    down: lin(`${p}ffn.proj_down`, H, F),
  };
}

/** Loads and checks every tensor the config needs; fuses single-mode projections. */
export function loadWeights(config: XlstmConfig, store: TensorStore): XlstmWeights {
  const loader = new WeightLoader(config, store);
  loader.validate();
  return assembleWeights(config, loader);
}

/** All pieces at once (the CPU path keeps every weight decoded). */
export function assembleWeights(config: XlstmConfig, pieces: WeightPieces): XlstmWeights {
  const embedding = pieces.embedding();
  const blocks = Array.from({ length: config.dims.blocks }, (_, i) => pieces.block(i));
  const { outNorm, lmHead } = pieces.head(embedding);
  return { embedding, blocks, outNorm, lmHead: lmHead ?? embedding };
}

/**
 * Random weights of a config's shapes (benchmarks of large shapes without a download, e.g. the
 * xLSTM-7B shape): linear weights uniform in ±1/sqrt(in), the embedding in ±1, biases in ±0.01,
 * norms 1, gate biases as transformers initialises them (input gate −10, forget gates 3…6), so the
 * recurrence behaves as in a fresh model. Subclasses say how a matrix and a bias vector are made
 * (named, so that a generator can key its stream by the tensor's name).
 */
export abstract class RandomPieces<W> implements WeightPieces<W> {
  constructor(readonly config: XlstmConfig) {}

  /** `n` values uniform in ±`scale` for the tensor `name` */
  protected abstract matrix(n: number, scale: number, name: string): W;
  protected abstract vector(n: number, scale: number, name: string): Float32Array;

  private lin(out: number, inn: number, bias: boolean, name: string): Linear<W> {
    return {
      w: this.matrix(out * inn, 1 / Math.sqrt(inn), `${name}.weight`),
      b: bias ? this.vector(out, 0.01, `${name}.bias`) : null,
      out,
      in: inn,
    };
  }

  private norm(n: number, bias: boolean): NormParams {
    return { w: new Float32Array(n).fill(1), b: bias ? new Float32Array(n) : null };
  }

  embedding(): W {
    const { V, H } = this.config.dims;
    return this.matrix(V * H, 1, EMBEDDING_NAMES[0]);
  }

  head(embedding: W | null) {
    const { V, H } = this.config.dims;
    return {
      outNorm: new Float32Array(H).fill(1),
      lmHead: this.config.tieWordEmbeddings
        ? embedding
        : this.matrix(V * H, 1 / Math.sqrt(H), 'lm_head.weight'),
    };
  }

  block(i: number): BlockWeights<W> {
    const { H, NH, Dqk, Dv, F } = this.config.dims;
    const bias = this.config.useBias;
    const p = `backbone.blocks.${i}.`;
    const ifGate = this.lin(2 * NH, H, true, `${p}mlstm_layer.ifgate_preact`);
    ifGate.b = Float32Array.from({ length: 2 * NH }, (_, x) =>
      x < NH ? -10 : 3 + (3 * (x - NH)) / Math.max(1, NH - 1),
    );
    return {
      normMlstm: this.norm(H, bias),
      qkvo: this.lin(2 * Dqk + 2 * Dv, H, bias, `${p}mlstm_layer.qkv_opreact`),
      ifGate,
      multiheadNorm: this.norm(Dv, bias),
      outProj: this.lin(H, Dv, bias, `${p}mlstm_layer.out_proj`),
      normFfn: this.norm(H, bias),
      upGateZ: this.lin(2 * F, H, bias, `${p}ffn.proj_up_gate_z`),
      down: this.lin(H, F, bias, `${p}ffn.proj_down`),
    };
  }
}

/**
 * {@link RandomPieces} generated on the CPU. Values repeat a 64 Ki table (cheap to generate for
 * billions of weights; the content is irrelevant to timing). On WebGPU, `fromRandom` builds its
 * weights on the GPU instead (`GpuRandomWeights`) unless asked for these.
 */
export class RandomWeights extends RandomPieces<Float32Array> {
  private readonly table: Float32Array;

  constructor(config: XlstmConfig, seed = 1) {
    super(config);
    let a = seed >>> 0;
    this.table = Float32Array.from({ length: 65536 }, () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
    });
  }

  /**
   * `n` values of the table from a start of the tensor's own (a hash of its name), so a tensor's
   * values do not depend on which tensors were asked for before it: the CPU path and a GPU engine
   * built from the same seed get the same weights.
   */
  private fill(n: number, scale: number, name: string): Float32Array {
    const out = new Float32Array(n);
    const T = this.table.length;
    let pos = 2166136261;
    for (let x = 0; x < name.length; x++) pos = Math.imul(pos ^ name.charCodeAt(x), 16777619) >>> 0;
    for (let x = 0; x < n; x += T) {
      const len = Math.min(T, n - x);
      const start = (pos = (pos + 7919) % T);
      const first = Math.min(len, T - start);
      out.set(this.table.subarray(start, start + first), x);
      if (first < len) out.set(this.table.subarray(0, len - first), x + first);
    }
    if (scale !== 1) for (let x = 0; x < n; x++) out[x] *= scale;
    return out;
  }

  protected matrix(n: number, scale: number, name: string): Float32Array {
    return this.fill(n, scale, name);
  }

  protected vector(n: number, scale: number, name: string): Float32Array {
    return this.fill(n, scale, name);
  }
}

/** Number of parameters held (tied lm_head counted once). */
export function countParameters(w: XlstmWeights): number {
  let n = w.embedding.length + w.outNorm.length + (w.lmHead === w.embedding ? 0 : w.lmHead.length);
  for (const b of w.blocks) {
    for (const p of [
      b.normMlstm,
      b.qkvo,
      b.ifGate,
      b.multiheadNorm,
      b.outProj,
      b.normFfn,
      b.upGateZ,
      b.down,
    ]) {
      n += p.w.length + (p.b?.length ?? 0);
    }
  }
  return n;
}
