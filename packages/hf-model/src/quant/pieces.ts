/**
 * Weights in their load-time formats: every matrix of the model is a {@link PackedMatrix} (dense
 * f32 / f16 values, or a quantised {@link QuantMatrix}); norms and biases stay f32. The GPU engine
 * uploads these pieces one at a time and the checkpoint writer saves them; the CPU path
 * dequantises them back to f32 ({@link unpackPieces}).
 */
import { roundToF16 } from '@mlstm/kernels-webgpu';
import type { XlstmConfig } from '../config.js';
import { ModelArgumentError } from '../errors.js';
import type { GpuFill } from '../gpu/random-init.js';
import type { BlockWeights, Linear, NormParams, WeightPieces } from '../weights.js';
import {
  concatRows,
  dequantize,
  isQuantFormat,
  type QuantMatrix,
  quantize,
  WEIGHT_FORMATS,
  type WeightFormat,
} from './formats.js';

/** A dense matrix: f32 values (for `f16`, the values before the f16 rounding of the upload). */
export interface DenseMatrix {
  format: 'f32' | 'f16';
  rows: number;
  cols: number;
  data: Float32Array;
}

/**
 * A matrix with no host values: random weights the GPU engine generates in place (../gpu/random-init.ts)
 * in `format` (dense: filled straight into the weight buffer; q8 / q4: filled in f32 into a scratch
 * buffer, then quantised on the GPU into the layout of ./formats.ts, bit for bit as {@link quantize}).
 */
export interface FilledMatrix {
  format: WeightFormat;
  rows: number;
  cols: number;
  fill: GpuFill;
}

export type PackedMatrix = DenseMatrix | QuantMatrix | FilledMatrix;

export const isFilledMatrix = (m: PackedMatrix): m is FilledMatrix => 'fill' in m;

export interface PackedLinear {
  w: PackedMatrix;
  b: Float32Array | null;
  out: number;
  in: number;
}

/** {@link BlockWeights} with packed matrices. */
export interface PackedBlock {
  normMlstm: NormParams;
  qkvo: PackedLinear;
  ifGate: PackedLinear;
  multiheadNorm: NormParams;
  outProj: PackedLinear;
  normFfn: NormParams;
  upGateZ: PackedLinear;
  down: PackedLinear;
}

/** The weights one piece at a time, packed. `head().lmHead` is null when it is the embedding itself. */
export interface PackedPieces {
  readonly formats: WeightFormats;
  embedding(): PackedMatrix;
  block(i: number): PackedBlock;
  head(): { outNorm: Float32Array; lmHead: PackedMatrix | null };
}

/** The format of the block matrices, of the embedding table and of the lm_head. */
export interface WeightFormats {
  linear: WeightFormat;
  embedding: WeightFormat;
  lmHead: WeightFormat;
}

/**
 * The embedding's and lm_head's default format for a `dtype`: f16 with q8 (on the tiny fixtures a
 * q8 embedding / lm_head costs 3 of 206 top-1 tokens, f16 none), q8 with q4 (the 7B model stays
 * near 4.2 GB with states; an f16 table pair would add 0.6 GB), else `dtype` itself.
 */
export function defaultTableFormat(dtype: WeightFormat): WeightFormat {
  return dtype === 'q8' ? 'f16' : dtype === 'q4' ? 'q8' : dtype;
}

/** The formats for a `dtype` option (embedding and lm_head: {@link defaultTableFormat} unless given). */
export function resolveFormats(
  dtype: WeightFormat,
  o: { embeddingDtype?: WeightFormat; lmHeadDtype?: WeightFormat } = {},
): WeightFormats {
  const table = WEIGHT_FORMATS.includes(dtype) ? defaultTableFormat(dtype) : dtype;
  const f = { linear: dtype, embedding: o.embeddingDtype ?? table, lmHead: o.lmHeadDtype ?? table };
  for (const [k, v] of Object.entries(f)) {
    if (!WEIGHT_FORMATS.includes(v)) {
      const arg = k === 'linear' ? 'dtype' : `${k}Dtype`;
      throw new ModelArgumentError(
        arg,
        `expected one of ${WEIGHT_FORMATS.join(', ')}, got ${JSON.stringify(v)}`,
      );
    }
  }
  return f;
}

export const ALL_F32: WeightFormats = { linear: 'f32', embedding: 'f32', lmHead: 'f32' };

/** Packs f32 values `[rows, cols]` into a format (quantising them for q8 / q4). */
export function packMatrix(
  data: Float32Array,
  rows: number,
  cols: number,
  format: WeightFormat,
  name = 'matrix',
): PackedMatrix {
  if (isQuantFormat(format)) return quantize(format, data, rows, cols, name);
  return { format, rows, cols, data };
}

/** The f32 values of a packed matrix as the GPU sees them (f16 rounded, quantised dequantised). */
export function unpackMatrix(m: PackedMatrix): Float32Array {
  if (isFilledMatrix(m)) throw new TypeError('a matrix filled on the GPU has no host values');
  if (isQuantFormat(m.format)) return dequantize(m as QuantMatrix);
  return m.format === 'f16' ? roundToF16((m as DenseMatrix).data) : (m as DenseMatrix).data;
}

/** Converts a packed matrix to another format (no work when it already is in it). */
export function convertMatrix(m: PackedMatrix, format: WeightFormat, name?: string): PackedMatrix {
  if (m.format === format) return m;
  return packMatrix(unpackMatrix(m), m.rows, m.cols, format, name);
}

/** Stacks the rows of two matrices of one format and width. */
export function stackRows(a: PackedMatrix, b: PackedMatrix, name?: string): PackedMatrix {
  if (isFilledMatrix(a) || isFilledMatrix(b)) {
    if (!isFilledMatrix(a) || !isFilledMatrix(b) || a.format !== b.format) {
      throw new TypeError('only GPU-filled matrices of one format can be stacked with each other');
    }
    return { format: a.format, rows: a.rows + b.rows, cols: a.cols, fill: a.fill.concat(b.fill) };
  }
  if (isQuantFormat(a.format) && a.format === b.format) {
    return concatRows([a as QuantMatrix, b as QuantMatrix], name);
  }
  const da = a as DenseMatrix;
  const db = convertMatrix(b, a.format) as DenseMatrix;
  const data = new Float32Array((a.rows + b.rows) * a.cols);
  data.set(da.data, 0);
  data.set(db.data, a.rows * a.cols);
  return { format: da.format, rows: a.rows + b.rows, cols: a.cols, data };
}

const packLinear = (l: Linear, format: WeightFormat, name: string): PackedLinear => ({
  w: packMatrix(l.w, l.out, l.in, format, name),
  b: l.b,
  out: l.out,
  in: l.in,
});

const unpackLinear = (l: PackedLinear): Linear => ({ w: unpackMatrix(l.w), b: l.b, out: l.out, in: l.in });

/** Packs one f32 block (its matrices named for error messages). */
export function packBlock(b: BlockWeights, format: WeightFormat, i: number): PackedBlock {
  const p = `backbone.blocks.${i}.`;
  return {
    normMlstm: b.normMlstm,
    qkvo: packLinear(b.qkvo, format, `${p}mlstm_layer.qkv_opreact.weight`),
    ifGate: packLinear(b.ifGate, format, `${p}mlstm_layer.ifgate_preact.weight`),
    multiheadNorm: b.multiheadNorm,
    outProj: packLinear(b.outProj, format, `${p}mlstm_layer.out_proj.weight`),
    normFfn: b.normFfn,
    upGateZ: packLinear(b.upGateZ, format, `${p}ffn.proj_up_gate_z.weight`),
    down: packLinear(b.down, format, `${p}ffn.proj_down.weight`),
  };
}

export function unpackBlock(b: PackedBlock): BlockWeights {
  return {
    normMlstm: b.normMlstm,
    qkvo: unpackLinear(b.qkvo),
    ifGate: unpackLinear(b.ifGate),
    multiheadNorm: b.multiheadNorm,
    outProj: unpackLinear(b.outProj),
    normFfn: b.normFfn,
    upGateZ: unpackLinear(b.upGateZ),
    down: unpackLinear(b.down),
  };
}

/**
 * Packs f32 pieces (e.g. random weights) piece by piece. A tied lm_head in another format than
 * the embedding is packed from the same f32 table when the embedding is.
 */
export function packPieces(config: XlstmConfig, pieces: WeightPieces, formats: WeightFormats): PackedPieces {
  const { V, H } = config.dims;
  let tiedHead: PackedMatrix | null = null;
  return {
    formats,
    embedding() {
      const e = pieces.embedding();
      if (config.tieWordEmbeddings && formats.lmHead !== formats.embedding) {
        tiedHead = packMatrix(e, V, H, formats.lmHead, 'lm_head.weight (tied)');
      }
      return packMatrix(e, V, H, formats.embedding, 'backbone.embeddings.weight');
    },
    block: (i) => packBlock(pieces.block(i), formats.linear, i),
    head() {
      const h = pieces.head(null);
      const lmHead = h.lmHead ? packMatrix(h.lmHead, V, H, formats.lmHead, 'lm_head.weight') : tiedHead;
      tiedHead = null;
      return { outNorm: h.outNorm, lmHead };
    },
  };
}

/**
 * Random weights generated on the GPU (`pieces`: GPU fills, e.g. `GpuRandomWeights`) as packed
 * pieces: every matrix a {@link FilledMatrix} in its format (a tied lm_head: the embedding's fill
 * in the lm_head's format). Only the GPU engine can place these.
 */
export function fillPieces(
  config: XlstmConfig,
  pieces: WeightPieces<GpuFill>,
  formats: WeightFormats,
): PackedPieces {
  const { V, H } = config.dims;
  const mat = (fill: GpuFill, rows: number, cols: number, format: WeightFormat): FilledMatrix => ({
    format,
    rows,
    cols,
    fill,
  });
  const lin = (l: Linear<GpuFill>): PackedLinear => ({
    w: mat(l.w, l.out, l.in, formats.linear),
    b: l.b,
    out: l.out,
    in: l.in,
  });
  let emb: GpuFill | null = null;
  return {
    formats,
    embedding() {
      emb = pieces.embedding();
      return mat(emb, V, H, formats.embedding);
    },
    block(i) {
      const b = pieces.block(i);
      return {
        normMlstm: b.normMlstm,
        qkvo: lin(b.qkvo),
        ifGate: lin(b.ifGate),
        multiheadNorm: b.multiheadNorm,
        outProj: lin(b.outProj),
        normFfn: b.normFfn,
        upGateZ: lin(b.upGateZ),
        down: lin(b.down),
      };
    },
    head() {
      const h = pieces.head(emb);
      const tied = h.lmHead === emb;
      emb = null;
      // tied in the embedding's format: the engine reuses the embedding's buffers
      if (!h.lmHead || (tied && formats.lmHead === formats.embedding))
        return { outNorm: h.outNorm, lmHead: null };
      return { outNorm: h.outNorm, lmHead: mat(h.lmHead, V, H, formats.lmHead) };
    },
  };
}

/** The f32 pieces of packed ones (what the CPU path computes with: dequantised weights). */
export function unpackPieces(pieces: PackedPieces): WeightPieces {
  return {
    embedding: () => unpackMatrix(pieces.embedding()),
    block: (i) => unpackBlock(pieces.block(i)),
    head(embedding) {
      const h = pieces.head();
      return { outNorm: h.outNorm, lmHead: h.lmHead ? unpackMatrix(h.lmHead) : embedding };
    },
  };
}
