/**
 * The WebGPU forward pass: weights placed once (f32, f16 or quantised q8 / q4 row parts; uploaded
 * from host values, or — random weights — generated, and quantised, on the GPU), activations f32,
 * the dense parts through ./kernels.ts (quantised ones through ./qmatmul.ts), the mLSTM cell through the kernels package (TFLA `xl_chunk` for whole
 * chunks of a prefill, the recurrent step kernel for the rest and for decoding). Everything of
 * one forward is encoded into as few submissions as possible: one per forward when no chunkwise
 * call is needed (decode), otherwise one more around each block's chunkwise call.
 */
import {
  ensureMatrixProbe,
  denseMatmulPath,
  type ChunkwiseResult,
  type DispatchBatch,
  encodeRecurrentStep,
  type GpuContext,
  type GpuDtype,
  type GpuTensor,
  encodeMlstmChunkwiseXlChunk,
  KernelArgumentError,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkPacked,
} from '@mlstm/kernels-webgpu';
import { getDefaultGpuContext } from '@mlstm/backend';
import type { XlstmConfig } from '../config.js';
import { ModelArgumentError, ModelTooLargeError } from '../errors.js';
import { estimateMemory, type PrefillCallPlan, prefillTokensPerCall } from '../memory.js';
import {
  isQuantFormat,
  type QuantFormat,
  type QuantMatrix,
  groupsPerRow,
  sliceRows,
  wordsPerRow,
  type WeightFormat,
} from '../quant/formats.js';
import {
  type DenseMatrix,
  isFilledMatrix,
  type PackedLinear,
  type PackedMatrix,
  type PackedPieces,
  resolveFormats,
  stackRows,
  type WeightFormats,
} from '../quant/pieces.js';
import type { NormParams } from '../weights.js';
import { GpuDecoder, type GpuDecoderOptions } from './decode.js';
import { qgemvActsElements } from './gemv.js';
import { type GpuFill, placeWeight } from './random-init.js';
import {
  encodeCellPost,
  encodeCellPrep,
  encodeEmbedding,
  encodeMatmul,
  encodeRmsNorm,
  encodeSwiglu,
  MM_TILED_MIN_ROWS,
} from './kernels.js';
import {
  encodeDequantize,
  encodeQEmbedding,
  encodeQMatmul,
  QMM_TILED_MIN_ROWS,
  type QuantGpuMatrix,
  uploadQuant,
} from './qmatmul.js';
import { encodeQuantize } from './quantize.js';

export interface GpuEngineOptions {
  ctx?: GpuContext;
  /** format of the block matrices ('auto': f16 for large models on adapters with shader-f16, else f32) */
  dtype: WeightFormat | 'auto';
  /** the embedding's and lm_head's formats (default: `defaultTableFormat(dtype)`) */
  embeddingDtype?: WeightFormat;
  lmHeadDtype?: WeightFormat;
  /** the weights in the chosen formats, one piece at a time */
  pieces: (formats: WeightFormats) => PackedPieces;
  /**
   * prefill matmuls over quantised weights: see {@link QuantPrefill} (default: 'dequantize' where
   * the dense GEMM runs on the matrix units, else 'tiles'; {@link defaultQuantPrefill})
   */
  quantPrefill?: QuantPrefill;
  /**
   * decode-sized matmuls (fewer than 32 rows) over quantised weights: see {@link QuantDecode}
   * (default 'int8' where the adapter's WGSL has the packed 4×8-bit dot product, else 'f32')
   */
  quantDecode?: QuantDecode;
  /** decode of 2–31 sequences over dense f16 weights: see {@link DenseDecode} (default 'gemv') */
  denseDecode?: DenseDecode;
  /** f32 values per pass when random q8 / q4 weights are filled and quantised on the GPU (default 16 Mi) */
  quantizeScratchElems?: number;
  /** the most tokens per row of one prefill call (default: from the activation budget; see {@link GpuEngine.prefillPlan}) */
  prefillChunkSize?: number;
}

/**
 * How a prefill (32 rows or more) multiplies by quantised weights: `'tiles'` dequantises tiles into
 * workgroup memory inside the quantised GEMM kernel; `'dequantize'` writes the matrix dequantised
 * (f16 with shader-f16) into one scratch buffer and runs the dense GEMM kernel on it, one matrix at a
 * time (scratch = the largest quantised matrix).
 */
export type QuantPrefill = 'tiles' | 'dequantize';

/**
 * How decode-sized matmuls (fewer than 32 rows: the decode step, short prompts) multiply by
 * quantised weights: `'int8'` quantises the activations to int8 per group of 32 (one f32 scale
 * each) and takes packed int8 dot products (several times faster; the activations' rounding adds
 * about 0.5 % relative error, like onnxruntime's MatMulNBits with accuracy_level 4); `'f32'`
 * dequantises the weights in registers and multiplies f32 activations (exact to the dequantised
 * weights).
 */
export type QuantDecode = 'int8' | 'f32';

/**
 * How the replayed decode step multiplies by dense f16 weights when it decodes 2 to 31 sequences
 * together: `'gemv'` (default) streams every weight once per group of rows with f32 multiply-adds,
 * the RMSNorms and the cell's input split folded into it; `'matrix-units'` runs the dense matmul
 * (`dense--webgpu_matmul`) in 16- or 32-row tiles on the adapter's matrix units, x rounded to f16
 * (the register-tiled kernel where the adapter has none), with the RMSNorms, the input split and
 * the conversion of x as dispatches of their own. On the H100 the GEMV at 8 rows is bound by its
 * multiply-adds (1.2 TB/s, against 2.3 at one row); the matrix units would make it memory-bound
 * again — not yet measured (`mlstm-bench --dense-decode matrix-units`). One row always takes the GEMV.
 */
export type DenseDecode = 'gemv' | 'matrix-units';

/** The default {@link QuantDecode}: 'int8' where the adapter's WGSL has the packed dot product. */
export const defaultQuantDecode = (ctx: GpuContext): QuantDecode =>
  ctx.features.packedIntegerDot ? 'int8' : 'f32';

/** Per-block GPU states (f32). */
export interface GpuStates {
  blocks: { c: GpuTensor; n: GpuTensor; m: GpuTensor }[];
}

/**
 * A weight matrix in row parts that each fit one storage binding (one part unless it is huge);
 * a part is dense (`w`) or quantised (`q`).
 */
interface RowParts {
  parts: { w: GpuTensor | null; q: QuantGpuMatrix | null; row0: number; rows: number }[];
  rows: number;
  cols: number;
}
interface GLinear {
  w: RowParts;
  b: GpuTensor | null;
  out: number;
  in: number;
}
interface GNorm {
  w: GpuTensor;
  b: GpuTensor | null;
}
interface GBlock {
  normMlstm: GNorm;
  /** q, k, v, o-gate and the two gates in one matrix: rows 2Dqk + 2Dv + 2NH */
  proj: GLinear;
  multiheadNorm: GNorm;
  outProj: GLinear;
  normFfn: GNorm;
  upGateZ: GLinear;
  down: GLinear;
}

/** Stacks the rows of two linear layers with the same input (one matmul instead of two). */
function fuseRows(a: PackedLinear, b: PackedLinear): PackedLinear {
  const w = stackRows(a.w, b.w);
  let bias: Float32Array | null = null;
  if (a.b || b.b) {
    bias = new Float32Array(a.out + b.out);
    if (a.b) bias.set(a.b, 0);
    if (b.b) bias.set(b.b, a.out);
  }
  return { w, b: bias, out: a.out + b.out, in: a.in };
}

/**
 * The default {@link QuantPrefill}: 'dequantize' where the dense GEMM runs on the matrix units
 * (several times the tiled kernels), else 'tiles'.
 */
export function defaultQuantPrefill(ctx: GpuContext): QuantPrefill {
  return denseMatmulPath(ctx, { wDtype: 'f16', M: 2048, N: 4096, K: 4096 }) === 'matrix'
    ? 'dequantize'
    : 'tiles';
}

/** f32 values per pass when random weights are quantised on the GPU (64 MiB of scratch). */
const QUANTIZE_SCRATCH_ELEMS = 16 * 1024 * 1024;

/** Floats per head of the recurrent step kernels' scratch (f', i', den, m'). */
const STEP_SCRATCH_PER_HEAD = 4;

/** f32 weights above this size default to f16 on adapters with shader-f16 ('auto'). */
const AUTO_F16_BYTES = 2 * 1024 ** 3;

export class GpuEngine {
  private readonly owned: GpuTensor[] = [];
  private readonly blocks: GBlock[];
  private readonly embedding: RowParts;
  private readonly outNorm: GpuTensor;
  private readonly lmHead: RowParts;
  /** the formats the weights were uploaded in */
  readonly formats: WeightFormats;
  /** elements of the largest quantised row part (the scratch of the 'dequantize' prefill) */
  private maxQuantElems = 0;
  /** how prefills multiply by quantised weights (see {@link QuantPrefill}) */
  readonly quantPrefill: QuantPrefill;
  /** how decode-sized matmuls multiply by quantised weights (see {@link QuantDecode}) */
  readonly quantDecode: QuantDecode;
  /** how the replayed decode of several sequences multiplies by dense weights (see {@link DenseDecode}) */
  readonly denseDecode: DenseDecode;

  private constructor(
    readonly ctx: GpuContext,
    private readonly cfg: XlstmConfig,
    W: PackedPieces,
    quantPrefill: QuantPrefill,
    quantDecode: QuantDecode,
    denseDecode: DenseDecode,
    private readonly quantizeScratchElems: number,
    private readonly prefillChunkSize: number | undefined,
  ) {
    if (quantDecode === 'int8' && !ctx.features.packedIntegerDot) {
      throw new ModelArgumentError(
        'quantDecode',
        "'int8' needs WGSL's packed 4×8-bit integer dot product (packed_4x8_integer_dot_product), which this adapter lacks; use 'f32'",
      );
    }
    this.formats = W.formats;
    this.quantPrefill = quantPrefill;
    this.quantDecode = quantDecode;
    this.denseDecode = denseDecode;
    const up = (data: Float32Array, shape: number[], dtype: GpuDtype = 'f32') => {
      const t = ctx.upload(data, shape, dtype);
      this.owned.push(t);
      return t;
    };
    const limit = ctx.limits.maxStorageBufferBindingSize;
    const rowParts = (m: PackedMatrix, name: string): RowParts => {
      const { rows, cols } = m;
      const quant = isQuantFormat(m.format);
      const rowBytes = quant
        ? 4 * wordsPerRow(m.format as QuantFormat, cols)
        : cols * (m.format === 'f16' ? 2 : 4);
      let per = Math.floor(limit / rowBytes);
      // 'dequantize' prefill: a part's dequantised copy must fit one binding of the dense GEMM too
      if (quant && quantPrefill === 'dequantize') {
        per = Math.min(per, Math.floor(limit / (cols * (this.dqDtype === 'f16' ? 2 : 4))));
      }
      if (per < 1)
        throw new ModelTooLargeError(`${name} (one row)`, rowBytes, limit, 'maxStorageBufferBindingSize');
      const parts = [];
      for (let r0 = 0; r0 < rows; r0 += per) {
        const n = Math.min(per, rows - r0);
        if (quant) {
          // host words uploaded; random weights filled and quantised on the GPU
          let q: QuantGpuMatrix;
          if (isFilledMatrix(m)) q = this.quantizeFill(m.fill, m.format as QuantFormat, r0, n, cols);
          else {
            q = uploadQuant(ctx, sliceRows(m as QuantMatrix, r0, r0 + n));
            this.owned.push(q.data, q.scales);
          }
          this.maxQuantElems = Math.max(this.maxQuantElems, n * cols);
          parts.push({ w: null, q, row0: r0, rows: n });
        } else {
          const dtype = m.format as GpuDtype;
          // host values uploaded; random weights generated in place
          const w = isFilledMatrix(m)
            ? placeWeight(ctx, m.fill, [n, cols], dtype, r0 * cols)
            : ctx.upload((m as DenseMatrix).data.subarray(r0 * cols, (r0 + n) * cols), [n, cols], dtype);
          this.owned.push(w);
          parts.push({ w, q: null, row0: r0, rows: n });
        }
      }
      return { parts, rows, cols };
    };
    const lin = (l: PackedLinear, name = 'linear'): GLinear => ({
      w: rowParts(l.w, name),
      b: l.b ? up(l.b, [l.out]) : null,
      out: l.out,
      in: l.in,
    });
    const norm = (p: NormParams): GNorm => ({
      w: up(p.w, [p.w.length]),
      b: p.b ? up(p.b, [p.b.length]) : null,
    });
    const { H } = cfg.dims;
    try {
      // one piece at a time: decoded, uploaded, dropped (peak CPU memory ≈ one block)
      this.embedding = rowParts(W.embedding(), 'embedding');
      const head = W.head();
      this.lmHead = head.lmHead ? rowParts(head.lmHead, 'lm_head') : this.embedding;
      this.outNorm = up(head.outNorm, [H]);
      this.blocks = [];
      for (let i = 0; i < cfg.dims.blocks; i++) {
        const b = W.block(i);
        this.blocks.push({
          normMlstm: norm(b.normMlstm),
          proj: lin(fuseRows(b.qkvo, b.ifGate), `backbone.blocks.${i}.mlstm_layer (q, k, v, o-gate, gates)`),
          multiheadNorm: norm(b.multiheadNorm),
          outProj: lin(b.outProj, `backbone.blocks.${i}.mlstm_layer.out_proj`),
          normFfn: norm(b.normFfn),
          upGateZ: lin(b.upGateZ, `backbone.blocks.${i}.ffn.proj_up_gate_z (gate, up)`),
          down: lin(b.down, `backbone.blocks.${i}.ffn.proj_down`),
        });
      }
    } catch (e) {
      // nothing stays uploaded when a later tensor does not fit
      for (const t of this.owned) t.release();
      this.owned.length = 0;
      throw e;
    }
  }

  /** Uploads the weights (validated first by the caller) and returns the engine. */
  static async create(cfg: XlstmConfig, o: GpuEngineOptions): Promise<GpuEngine> {
    // default: the process-wide context shared with @mlstm/backend (one device for kernels and models)
    const ctx = o.ctx ?? (await getDefaultGpuContext());
    let dtype: WeightFormat;
    if (o.dtype === 'auto') {
      const big = estimateMemory(cfg, { weightDtype: 'f32' }).weightBytes > AUTO_F16_BYTES;
      dtype = big && ctx.features.shaderF16 ? 'f16' : 'f32';
    } else dtype = o.dtype;
    // dense f16 needs shader-f16 (the quantised formats do not: their scales are unpacked from u32)
    const fit = (f: WeightFormat): WeightFormat => (f === 'f16' && !ctx.features.shaderF16 ? 'f32' : f);
    const r = resolveFormats(dtype, o);
    const formats: WeightFormats = {
      linear: fit(r.linear),
      embedding: fit(r.embedding),
      lmHead: fit(r.lmHead),
    };
    // the one-time matrix-path probe, so the prefill matmul takes the register tiles where it fails
    if (ctx.features.shaderF16) await ensureMatrixProbe(ctx);
    let e: GpuEngine | undefined;
    try {
      e = new GpuEngine(
        ctx,
        cfg,
        o.pieces(formats),
        o.quantPrefill ?? defaultQuantPrefill(ctx),
        o.quantDecode ?? defaultQuantDecode(ctx),
        o.denseDecode ?? 'gemv',
        o.quantizeScratchElems ?? QUANTIZE_SCRATCH_ELEMS,
        o.prefillChunkSize,
      );
      await ctx.sync();
    } catch (err) {
      e?.dispose();
      throw err;
    }
    return e;
  }

  /** the dtype of the dequantised scratch of the 'dequantize' prefill */
  private get dqDtype(): GpuDtype {
    return this.ctx.features.shaderF16 ? 'f16' : 'f32';
  }

  /**
   * The storage type of the matmuls' x in a prefill of `T` tokens. f16 where every matmul of a
   * block multiplies on the matrix units (which round x to f16 in a conversion pass): the
   * RMSNorms, the cell's post-processing and the gated FFN matmul then write that f16 x
   * themselves, with the same rounding — the same products without the passes. f32 otherwise,
   * and on a context that counts f16 saturations (only the conversion pass counts them).
   */
  prefillActivations(T: number): GpuDtype {
    const { ctx } = this;
    const { H, NH, Dqk, Dv, F } = this.cfg.dims;
    const wd = this.prefillDtype(this.formats.linear);
    const PS = 2 * Dqk + 2 * Dv + 2 * NH;
    const f16 =
      T >= MM_TILED_MIN_ROWS &&
      wd !== null &&
      !ctx.countsF16Saturations &&
      (
        [
          [PS, H, false],
          [H, Dv, false],
          [2 * F, H, false], // FFN up/gate as one product (then the SwiGLU kernel)
          [F, H, true], // or with the SiLU-gated epilogue
          [H, F, false],
        ] as const
      ).every(([N, K, gated]) => denseMatmulPath(ctx, { wDtype: wd, M: T, N, K, gated }) === 'matrix');
    return f16 ? 'f16' : 'f32';
  }

  /** The weight dtype a prefill's dense kernel sees for a format (null: the quantised kernel). */
  private prefillDtype(f: WeightFormat): GpuDtype | null {
    if (!isQuantFormat(f)) return f;
    return this.quantPrefill === 'dequantize' ? this.dqDtype : null;
  }

  /**
   * Rows `[r0, r0 + rows)` of a random matrix, filled in f32 into a scratch buffer and quantised
   * there (./quantize.ts), a bounded number of rows per pass (an even count: whole scale words).
   */
  private quantizeFill(fill: GpuFill, format: QuantFormat, r0: number, rows: number, cols: number) {
    const { ctx } = this;
    const data = ctx.empty([Math.max(1, rows * wordsPerRow(format, cols))], 'f32');
    const scales = ctx.empty([Math.max(1, Math.ceil((rows * groupsPerRow(cols)) / 2))], 'f32');
    this.owned.push(data, scales);
    const q: QuantGpuMatrix = { format, rows, cols, data, scales };
    let step = Math.max(1, Math.floor(this.quantizeScratchElems / cols));
    step = Math.min(rows, step + (step % 2));
    const scratch = ctx.empty([step * cols]);
    try {
      for (let s = 0; s < rows; s += step) {
        const n = Math.min(step, rows - s);
        const src = scratch.subview(0, [n, cols]);
        const batch = ctx.batch();
        fill.encode(ctx, batch, src, (r0 + s) * cols);
        encodeQuantize(ctx, batch, src, q, s, n);
        batch.submit();
      }
    } finally {
      // released after the submitted passes (the pool reuses a buffer only for later submissions)
      scratch.release();
    }
    return q;
  }

  /** Zero states of every block, cleared in one submission (not one per tensor). */
  private zeroStates(B: number): GpuStates {
    const { NH, dqk, dv, blocks } = this.cfg.dims;
    const enc = this.ctx.device.createCommandEncoder();
    const zeros = (shape: number[]) => {
      const t = this.ctx.empty(shape);
      enc.clearBuffer(t.buffer, t.byteOffset, t.byteLength);
      return t;
    };
    const states = {
      blocks: Array.from({ length: blocks }, () => ({
        c: zeros([B, NH, dqk, dv]),
        n: zeros([B, NH, dqk]),
        m: zeros([B, NH, 1]),
      })),
    };
    this.ctx.device.queue.submit([enc.finish()]);
    return states;
  }

  /**
   * One forward (see `XlstmForCausalLM.forward`); consumes `states` (released) and returns new ones.
   * With `seqStarts` (N + 1 offsets, B = 1): the `S` tokens are N packed sequences — the dense
   * parts run over all of them at once, the cell through the packed chunkwise kernel (no state
   * crosses a boundary), the states are per sequence `(N, …)`, and `lastOnly` gives the logits of
   * each sequence's last token `(N, V)`.
   *
   * `reserveTokens` (≥ S): the buffers that grow with the tokens are acquired for that many tokens
   * per row and used in part, so that the calls of one prefill split into calls of different
   * lengths get the same buffers back from the pool instead of new ones of other sizes.
   *
   * Memory: the buffers over all tokens live for the whole call; each block's cell inputs and
   * output are released once the block's work is submitted, so a call holds one block's (the
   * pool hands them to the next block), not all blocks' ({@link prefillPlan} counts them).
   */
  async forward(
    ids: Int32Array,
    B: number,
    S: number,
    prev: GpuStates | null,
    opts: { lastOnly: boolean; seqStarts?: Int32Array; reserveTokens?: number },
  ): Promise<{ logits: Float32Array; states: GpuStates }> {
    const { ctx, cfg } = this;
    const { H, NH, Dqk, Dv, dqk, dv, F, V } = cfg.dims;
    const T = B * S;
    const BH = B * NH;
    const seqStarts = opts.seqStarts ?? null;
    if (seqStarts && (B !== 1 || seqStarts[seqStarts.length - 1] !== S))
      throw new ModelArgumentError(
        'seqStarts',
        `packed forward: expected B = 1 and offsets ending at S = ${S}`,
      );
    // rows of the states: the sequences
    const N = seqStarts ? seqStarts.length - 1 : B;
    const states = prev ?? this.zeroStates(N);
    const temps: GpuTensor[] = [];
    const tmp = (shape: number[]) => {
      const t = ctx.empty(shape);
      temps.push(t);
      return t;
    };
    // tokens per row the buffers are sized for (see reserveTokens)
    const R = Math.max(S, opts.reserveTokens ?? S);
    /**
     * A `shape` tensor of `perToken` elements per token, in a buffer sized for `R` tokens per row
     * (kept in `into` for its release: the view does not release it).
     */
    const perTok = (shape: number[], perToken: number, into: GpuTensor[], dtype: GpuDtype = 'f32') => {
      const n = shape.reduce((x, y) => x * y, 1);
      const t = ctx.empty([Math.max(n, B * R * perToken)], dtype);
      into.push(t);
      return t.subview(0, shape);
    };
    const tmpT = (width: number) => perTok([T, width], width, temps);
    // prefill on the matrix units: one f16 buffer for the f16 copies of the matmul inputs (reused
    // by every matmul of the forward; each is converted right before its matmul)
    let act16: GpuTensor | null = null;
    const dense = [this.formats.linear, this.formats.lmHead].map((f) => this.prefillDtype(f));
    if (
      T >= MM_TILED_MIN_ROWS &&
      dense.some((d) => d && denseMatmulPath(ctx, { wDtype: d, M: T, N: H, K: H }) === 'matrix')
    ) {
      const w = Math.max(H, Dv, F);
      act16 = perTok([T * w], w, temps, 'f16');
    }
    let deferred: GpuTensor[] = [];
    let batch: DispatchBatch = ctx.batch();
    const flush = () => {
      batch.submit();
      for (const t of deferred) t.release();
      deferred = [];
      batch = ctx.batch();
    };
    // the dequantised weights of the 'dequantize' prefill: one scratch for every matrix in turn
    let dq: GpuTensor | null = null;
    // the int8 activations of decode-sized quantised matmuls ('int8' quantDecode): one scratch
    let acts: GpuTensor | null = null;
    const actsFor = (M: number, K: number): GpuTensor => {
      const need = qgemvActsElements(M, K);
      if (!acts || acts.numel < need) {
        acts = ctx.empty([need]);
        temps.push(acts);
      }
      return acts;
    };
    /** `y (+)= x·Wᵀ + b` over the row parts of W (output column ranges of y) */
    const mm = (
      xIn: GpuTensor,
      l: GLinear,
      y: GpuTensor,
      o: {
        M: number;
        N: number;
        K: number;
        accumulate?: boolean;
        softcap?: number | null;
        gate?: 'silu';
      },
    ) => {
      const x16 = o.M >= MM_TILED_MIN_ROWS ? act16 : null;
      for (const [i, p] of l.w.parts.entries()) {
        // gated: one part holding the gate and up rows (fusedGate), N output columns
        const N = o.gate ? p.rows / 2 : p.rows;
        const po = { ...o, N, nOff: p.row0, ldy: o.N, x16 };
        if (p.q && this.quantPrefill === 'dequantize' && o.M >= MM_TILED_MIN_ROWS) {
          if (!dq) {
            dq = ctx.empty([this.maxQuantElems], this.dqDtype);
            temps.push(dq);
          }
          const w = dq.subview(0, [p.rows, l.in]);
          encodeDequantize(ctx, batch, p.q, w);
          encodeMatmul(ctx, batch, xIn, w, l.b, y, po);
        } else if (p.q) {
          const { gate: _, x16: __, ...qo } = po;
          const int8 = this.quantDecode === 'int8' && o.M < QMM_TILED_MIN_ROWS;
          // int8 activations: quantised once per matrix, for its first row part
          const acts = int8 ? actsFor(o.M, o.K) : null;
          encodeQMatmul(ctx, batch, xIn, p.q, l.b, y, { ...qo, acts, actsReady: !!acts && i > 0 });
        } else encodeMatmul(ctx, batch, xIn, p.w!, l.b, y, po);
      }
    };
    try {
      const idsT = perTok([T], 1, temps);
      ctx.device.queue.writeBuffer(idsT.buffer, idsT.byteOffset, new Uint32Array(ids));
      const x = tmpT(H);
      for (const p of this.embedding.parts) {
        if (p.q) encodeQEmbedding(ctx, batch, idsT, p.q, x, T, H, p.row0);
        else encodeEmbedding(ctx, batch, idsT, p.w!, x, T, H, p.row0, p.rows);
      }
      const P = 2 * Dqk + 2 * Dv;
      const PS = P + 2 * NH; // row stride of proj: q, k, v, o-gate, input gates, forget gates
      const f16Acts = this.prefillActivations(T) === 'f16';
      const a = perTok([T, H], H, temps, f16Acts ? 'f16' : 'f32');
      const proj = tmpT(PS);
      const gated = perTok([T, Dv], Dv, temps, f16Acts ? 'f16' : 'f32');
      // prefill: SwiGLU in the matmul's epilogue (the gate/up weight in one binding); else a
      // [T, 2F] product and the SwiGLU kernel
      // (quantised weights: only through the dense kernel, i.e. quantPrefill 'dequantize')
      const fusedGate =
        T >= MM_TILED_MIN_ROWS &&
        this.prefillDtype(this.formats.linear) !== null &&
        this.blocks.every((b) => b.upGateZ.w.parts.length === 1);
      // (f16 activations: the gated matmul writes the down projection's x in f16 too)
      const g = perTok([T, F], F, temps, f16Acts && fusedGate ? 'f16' : 'f32');
      const u = fusedGate ? null : tmpT(2 * F);
      const L = cfg.chunkSize;
      // whole chunks through the chunkwise kernel, the rest by recurrent steps (packed: every token
      // through the packed kernel, which takes sequences of any length)
      const Sc = seqStarts ? S : S > 1 ? Math.floor(S / L) * L : 0;
      const St = S - Sc;
      const eps = cfg.eps;
      const scratch = St > 0 ? tmp([BH * STEP_SCRATCH_PER_HEAD]) : null;
      // f16 weights (also quantised ones dequantised to f16 for the dense GEMM): the cell in f16
      // too (on the matrix units where the adapter has them); else f32. An f16 cell gets q, k, v in
      // f16 from the prep (no conversion passes; the same values), unless the context counts f16
      // saturations (only the conversion pass counts them)
      const computeDtype: GpuDtype = this.prefillDtype(this.formats.linear) === 'f16' ? 'f16' : 'f32';
      const qkv: GpuDtype = computeDtype === 'f16' && !ctx.countsF16Saturations ? 'f16' : 'f32';
      for (const [bi, blk] of this.blocks.entries()) {
        const st = states.blocks[bi];
        encodeRmsNorm(ctx, batch, x, blk.normMlstm.w, blk.normMlstm.b, a, { rows: T, H, eps: cfg.normEps });
        mm(a, blk.proj, proj, { M: T, N: PS, K: H });
        const dimsO = { B, S, NH, dqk, dv, cap: cfg.gateSoftCap, stride: PS, gStride: PS, gOff: P };
        let cur = st;
        if (Sc > 0) {
          // the cell's inputs: released as soon as the chunkwise call (their last use) is submitted
          const cellIn: GpuTensor[] = [];
          const qc = perTok([B, NH, Sc, dqk], NH * dqk, cellIn, qkv);
          const kc = perTok([B, NH, Sc, dqk], NH * dqk, cellIn, qkv);
          const vc = perTok([B, NH, Sc, dv], NH * dv, cellIn, qkv);
          const ic = perTok([B, NH, Sc], NH, cellIn);
          const fc = perTok([B, NH, Sc], NH, cellIn);
          encodeCellPrep(
            ctx,
            batch,
            proj,
            proj,
            { q: qc, k: kc, v: vc, i: ic, f: fc },
            { ...dimsO, Sp: Sc, t0: 0 },
          );
          const cellArgs = {
            q: qc,
            k: kc,
            v: vc,
            i: ic,
            f: fc,
            cInitial: cur.c,
            nInitial: cur.n,
            mInitial: cur.m,
            chunkSize: L,
            eps,
            returnLastStates: true,
            computeDtype,
          };
          let r: ChunkwiseResult<GpuTensor> | null = null;
          if (!seqStarts) {
            // the chunkwise prefill encoded into the block's batch (one submission per block), unless
            // it is refused before encoding anything (more than one storage binding's worth: the
            // async call splits it into head groups)
            try {
              r = encodeMlstmChunkwiseXlChunk(ctx, batch, cellArgs);
            } catch (e) {
              if (!(e instanceof KernelArgumentError)) throw e;
            }
          }
          if (r) {
            // the inputs: released once the batch holding the prep and the cell is submitted
            deferred.push(...cellIn);
            flush();
          } else {
            flush();
            try {
              r = seqStarts
                ? await mlstmChunkwiseXlChunkPacked(ctx, { ...cellArgs, seqStarts })
                : await mlstmChunkwiseXlChunk(ctx, cellArgs);
            } finally {
              // every use of the inputs is submitted (the prep in the last flush, the call in its own
              // submission): the pool may hand them to the next block's prep, a later submission
              for (const t of cellIn) t.release();
            }
          }
          deferred.push(cur.c, cur.n, cur.m);
          const ls = r.lastStates!;
          cur = { c: ls.c, n: ls.n, m: ls.m! };
          // h: read by the post-processing encoded below, released after the next submission
          deferred.push(r.h);
          encodeCellPost(ctx, batch, r.h, proj, blk.multiheadNorm.w, blk.multiheadNorm.b, gated, {
            ...dimsO,
            Sp: Sc,
            t0: 0,
            eps: cfg.normEps,
          });
        }
        if (St > 0) {
          // the recurrent steps' tensors: released after the submission that holds the steps
          const tail = (shape: number[]) => {
            const t = ctx.empty(shape);
            deferred.push(t);
            return t;
          };
          const qt = tail([B, NH, St, dqk]);
          const kt = tail([B, NH, St, dqk]);
          const vt = tail([B, NH, St, dv]);
          const it = tail([B, NH, St]);
          const ft = tail([B, NH, St]);
          const ht = tail([B, NH, St, dv]);
          encodeCellPrep(
            ctx,
            batch,
            proj,
            proj,
            { q: qt, k: kt, v: vt, i: it, f: ft },
            { ...dimsO, Sp: St, t0: Sc },
          );
          // C in place, n/m alternate between two buffer sets (the fused step kernel reads the old ones)
          const spare = { n: ctx.empty([B, NH, dqk]), m: ctx.empty([B, NH, 1]) };
          let src = { n: cur.n, m: cur.m };
          let dst = spare;
          for (let t = 0; t < St; t++) {
            encodeRecurrentStep(ctx, batch, {
              dims: { BH, S: St, DHQK: dqk, DHHV: dv },
              t,
              dtype: 'f32',
              eps,
              q: qt,
              k: kt,
              v: vt,
              i: it,
              f: ft,
              state: { c: cur.c, n: src.n, m: src.m },
              out: { h: ht, c: cur.c, n: dst.n, m: dst.m },
              scratch: scratch!,
            });
            [src, dst] = [dst, src];
          }
          // src now holds the newest n, m; dst the stale ones
          deferred.push(dst.n, dst.m);
          cur = { c: cur.c, n: src.n, m: src.m };
          encodeCellPost(ctx, batch, ht, proj, blk.multiheadNorm.w, blk.multiheadNorm.b, gated, {
            ...dimsO,
            Sp: St,
            t0: Sc,
            eps: cfg.normEps,
          });
        }
        states.blocks[bi] = cur;
        mm(gated, blk.outProj, x, {
          M: T,
          N: H,
          K: Dv,
          accumulate: true,
        });
        encodeRmsNorm(ctx, batch, x, blk.normFfn.w, blk.normFfn.b, a, { rows: T, H, eps: cfg.normEps });
        if (u) {
          mm(a, blk.upGateZ, u, { M: T, N: 2 * F, K: H });
          encodeSwiglu(ctx, batch, u, g, T, F);
        } else mm(a, blk.upGateZ, g, { M: T, N: F, K: H, gate: 'silu' });
        mm(g, blk.down, x, { M: T, N: H, K: F, accumulate: true });
      }
      const rows = opts.lastOnly ? N : T;
      const z = tmp([rows, H]);
      let rowsAt: GpuTensor | undefined;
      if (seqStarts && opts.lastOnly) {
        // the last token of each packed sequence
        rowsAt = ctx.empty([N], 'f32');
        temps.push(rowsAt);
        ctx.device.queue.writeBuffer(
          rowsAt.buffer,
          rowsAt.byteOffset,
          Uint32Array.from(seqStarts.subarray(1), (e) => e - 1),
        );
      }
      encodeRmsNorm(ctx, batch, x, this.outNorm, null, z, {
        rows,
        H,
        eps: cfg.normEps,
        inStride: opts.lastOnly ? S : 1,
        inOffset: opts.lastOnly ? S - 1 : 0,
        rowsAt,
      });
      const logits = tmp([rows, V]);
      mm(z, { w: this.lmHead, b: null, out: V, in: H }, logits, {
        M: rows,
        N: V,
        K: H,
        softcap: cfg.outputLogitSoftCap,
      });
      flush();
      const out = await ctx.read(logits);
      return { logits: Float32Array.from(out), states };
    } finally {
      for (const t of deferred) t.release();
      for (const t of temps) t.release();
    }
  }

  /** A decode session of `B` sequences continuing from `states` (see ./decode.ts). */
  decoder(B: number, states: GpuStates, o: GpuDecoderOptions): GpuDecoder {
    const { cfg, embedding, outNorm, lmHead, blocks } = this;
    return new GpuDecoder(
      this.ctx,
      { cfg, embedding, outNorm, lmHead, blocks },
      B,
      states,
      o,
      this.quantDecode,
      this.denseDecode,
    );
  }

  async readStates(s: GpuStates) {
    const out = [];
    for (const b of s.blocks) {
      out.push({ c: await this.ctx.read(b.c), n: await this.ctx.read(b.n), m: await this.ctx.read(b.m) });
    }
    return out;
  }

  releaseStates(s: GpuStates): void {
    for (const b of s.blocks) {
      b.c.release();
      b.n.release();
      b.m.release();
    }
  }

  /** Row parts per weight matrix (1 unless a matrix exceeds maxStorageBufferBindingSize). */
  weightParts(): { embedding: number; lmHead: number; maxPerLinear: number } {
    let maxPerLinear = 1;
    for (const b of this.blocks) {
      for (const l of [b.proj, b.outProj, b.upGateZ, b.down]) {
        maxPerLinear = Math.max(maxPerLinear, l.w.parts.length);
      }
    }
    return { embedding: this.embedding.parts.length, lmHead: this.lmHead.parts.length, maxPerLinear };
  }

  /**
   * The most tokens per row of one forward call (longer prompts are split into calls; packed
   * prompts are grouped into calls of at most this many tokens): see {@link prefillPlan}.
   */
  maxTokensPerCall(B: number, lastOnly: boolean, packed = false): number {
    return this.prefillPlan(B, lastOnly, packed).tokens;
  }

  /**
   * Tokens per row of one forward call and the bytes it allocates (`prefillTokensPerCall` of
   * ../memory.ts for this engine's kernels): within the activation budget (or `prefillChunkSize`),
   * `max_inference_chunksize`, and the adapter's binding limits (every activation and the chunkwise
   * kernel's per-chunk states in one storage binding).
   */
  prefillPlan(B: number, lastOnly: boolean, packed = false): PrefillCallPlan {
    const { H } = this.cfg.dims;
    const cellDtype = this.prefillDtype(this.formats.linear);
    const dense = [this.formats.linear, this.formats.lmHead].map((f) => this.prefillDtype(f));
    return prefillTokensPerCall(this.cfg, {
      batch: B,
      allLogits: !lastOnly,
      packed,
      cellF16: cellDtype === 'f16',
      // as forward's: the f16 copy of the matmul inputs where the dense GEMM runs on the matrix units
      f16Inputs: dense.some(
        (d) => d !== null && denseMatmulPath(this.ctx, { wDtype: d, M: 4096, N: H, K: H }) === 'matrix',
      ),
      fusedGate: cellDtype !== null && this.blocks.every((b) => b.upGateZ.w.parts.length === 1),
      limits: this.ctx.limits,
      prefillChunkSize: this.prefillChunkSize,
    });
  }

  dispose(): void {
    for (const t of this.owned) t.release();
    this.owned.length = 0;
  }
}
