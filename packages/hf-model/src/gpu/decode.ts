/**
 * The decode loop on the GPU: the whole token step of a batch of B sequences — embedding of the
 * input ids, every block (RMSNorm, fused projection GEMV, cell inputs, recurrent step, multi-head
 * norm + output gate, output projection, RMSNorm, up/gate GEMV, SwiGLU + down GEMV), the final
 * norm, the lm_head GEMV and the choice of the next ids — recorded once and replayed per token.
 * Dense row parts go through ./gemv.ts, quantised (q8 / q4) ones through the quantised decode
 * kernel of ./qmatmul.ts (and the quantised embedding gather), recorded into the same step.
 *
 * WebGPU has no command-buffer replay, so the nearest thing is built: every activation and state
 * buffer is allocated once, the step's dispatches are recorded once per state parity (the states
 * alternate between two buffer sets), their parameters live in one uniform buffer written once
 * and their bind groups are created once; a token costs fresh encoders whose compute passes replay
 * them, plus the sampler's dispatches (their uniforms change per token): one `submit`, or (option
 * `chunks`) a few growing parts (one block, then 2, 4, 8, … blocks) so that the GPU starts on a
 * step while the CPU still encodes its rest. The sampler writes the next ids into the buffer the
 * embedding reads, so the CPU reads back only B u32 ids per token — or, with CPU sampling, the
 * logits, and writes the ids itself.
 *
 * Because the next step needs nothing from the CPU, the caller may submit step t + 1 before it
 * reads the ids of step t (one step ahead): the GPU never waits for the CPU's read-back. The two
 * state sets make that exact: a step reads one set and writes the other, so when generation
 * ends, the state after the last step the caller keeps is still intact in one of them.
 */
import {
  DispatchBatch,
  encodeRecurrentStep,
  type GpuContext,
  type GpuDtype,
  GpuTensor,
} from '@mlstm/kernels-webgpu';
import type { XlstmConfig } from '../config.js';
import type { GpuStates } from './engine.js';
import { encodeGemv, encodeQGemv, type GemvNorm, type GemvOutBlocks, qgemvActsElements } from './gemv.js';
import {
  CELL_POST_ACTS_MAX_DV,
  encodeCellPost,
  encodeCellPrep,
  encodeEmbedding,
  encodeMatmul,
  encodeRmsNorm,
  encodeSwiglu,
} from './kernels.js';
import { encodeQEmbedding, encodeQMatmul, QMM_TILED_MIN_ROWS, type QuantGpuMatrix } from './qmatmul.js';
import { encodeSampleTokens, type GpuSampleParams, seenMaskBits, writeSampleDraws } from './sample.js';

/** The weights of the engine as the decoder sees them (./engine.ts). */
export interface DecodeWeights {
  cfg: XlstmConfig;
  embedding: RowParts;
  outNorm: GpuTensor;
  lmHead: RowParts;
  blocks: DecodeBlock[];
}
/** Row parts of a matrix: dense (`w`, through ./gemv.ts) or quantised (`q`, through ./qmatmul.ts). */
export interface RowParts {
  parts: { w: GpuTensor | null; q: QuantGpuMatrix | null; row0: number; rows: number }[];
  rows: number;
  cols: number;
}
export interface DecodeLinear {
  w: RowParts;
  b: GpuTensor | null;
  out: number;
  in: number;
}
interface DecodeNorm {
  w: GpuTensor;
  b: GpuTensor | null;
}
export interface DecodeBlock {
  normMlstm: DecodeNorm;
  proj: DecodeLinear;
  multiheadNorm: DecodeNorm;
  outProj: DecodeLinear;
  normFfn: DecodeNorm;
  upGateZ: DecodeLinear;
  down: DecodeLinear;
}

export interface GpuDecoderOptions {
  /** 'gpu': the ids are chosen by ./sample.ts and read back; 'cpu': the logits are read back */
  sampling: 'gpu' | 'cpu';
  /** sampling options of the GPU sampler (uniforms are passed per step) */
  sample?: Omit<GpuSampleParams, 'uniforms'>;
  /** ids already seen per row (prompt), for the repetition penalty of the GPU sampler */
  seen?: readonly (readonly number[])[];
  /**
   * Submit each step in several command buffers — the first holds one block, then 2, 4, 8, 8, …
   * blocks — so that the GPU starts on a step while the CPU still encodes the rest of it (the CPU
   * time to encode a step grows with its ~9 dispatches per block). Default false: one submission
   * (and one compute pass) per step, the configuration measured on the H100; `bench/decode-device.ts`
   * times both.
   */
  chunks?: boolean;
}

/** One recorded dispatch (what a kernel's encode function hands to its batch). */
interface Recorded {
  pipeline: GPUComputePipeline;
  buffers: readonly (GpuTensor | GPUBuffer)[];
  params: ArrayBuffer | null;
  workgroups: [number, number, number];
  label: string;
}

/** A dispatch ready to replay: pipeline, bind group (uniforms included), grid. */
interface Ready {
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  workgroups: [number, number, number];
  label: string;
}

/** A {@link DispatchBatch} that records instead of submitting (kernels encode into it unchanged). */
class RecordingBatch extends DispatchBatch {
  readonly recorded: Recorded[] = [];
  readonly scratchTensors: GpuTensor[] = [];
  constructor(private readonly c: GpuContext) {
    super(c);
  }
  override get size(): number {
    return this.recorded.length;
  }
  override dispatch(
    pipeline: GPUComputePipeline,
    buffers: readonly (GpuTensor | GPUBuffer)[],
    params: ArrayBuffer | null,
    workgroups: readonly [number, number?, number?],
    label = 'kernel',
  ): this {
    const [x, y = 1, z = 1] = workgroups;
    this.recorded.push({ pipeline, buffers: [...buffers], params, workgroups: [x, y, z], label });
    return this;
  }
  override scratch(shape: readonly number[], dtype: GpuDtype = 'f32'): GpuTensor {
    const t = this.c.empty(shape, dtype);
    this.scratchTensors.push(t);
    return t;
  }
  override submit(): void {
    throw new Error('RecordingBatch: recorded dispatches are replayed by the decoder');
  }
}

const MAP_READ = 0x01;
const COPY_DST = 0x08;
const UNIFORM = 0x40;

/**
 * Turns recorded dispatches into replayable ones: their parameters packed into `uniforms` (at
 * `offset`, aligned), bind groups created (through the context's cache when `cached`).
 */
function prepare(
  ctx: GpuContext,
  rec: readonly Recorded[],
  uniforms: GPUBuffer,
  offset: number,
  cached: boolean,
): { ready: Ready[]; bytes: Uint8Array } {
  const align = ctx.device.limits.minUniformBufferOffsetAlignment;
  const slots = rec.map((d) => (d.params ? Math.ceil(d.params.byteLength / align) * align : 0));
  const bytes = new Uint8Array(slots.reduce((a, b) => a + b, 0));
  let off = 0;
  const ready = rec.map((d, x) => {
    const entries: GPUBindGroupEntry[] = [];
    if (d.params) {
      bytes.set(new Uint8Array(d.params), off);
      entries.push({
        binding: 0,
        resource: { buffer: uniforms, offset: offset + off, size: d.params.byteLength },
      });
    }
    off += slots[x];
    d.buffers.forEach((b, j) => {
      entries.push({
        binding: j + 1,
        resource:
          b instanceof GpuTensor
            ? { buffer: b.buffer, offset: b.byteOffset, size: b.byteLength }
            : { buffer: b },
      });
    });
    const group = cached
      ? ctx.bindGroup(d.pipeline, entries)
      : ctx.device.createBindGroup({ layout: d.pipeline.getBindGroupLayout(0), entries });
    return { pipeline: d.pipeline, group, workgroups: d.workgroups, label: d.label };
  });
  return { ready, bytes };
}

/** Floats per head of the recurrent step kernels' scratch (f', i', den, m'). */
const STEP_SCRATCH_PER_HEAD = 4;

/**
 * A decode session of a batch of B sequences (see the file comment). Use: `writeIds` (the first
 * input ids), then `submit` / `read` pairs (at most two steps in flight), then `finish` with the
 * number of steps whose states to keep.
 */
export class GpuDecoder {
  private readonly owned: GpuTensor[] = [];
  private readonly ids: GpuTensor;
  private readonly logits: GpuTensor;
  private readonly seen: GpuTensor;
  /** two state sets: sets[0] = the caller's states (after 0 steps), sets[1] allocated here */
  private readonly sets: GpuStates[] = [];
  private readonly programs: Ready[][] = [];
  /** dispatch indices at which a step's next command buffer starts (see `chunks`) */
  private readonly cuts: number[] = [];
  private readonly uniforms: GPUBuffer;
  /** the recorded sampler's draw buffer (sampling with temperature > 0) and its dispatch count */
  private draws: GpuTensor | null = null;
  private samplerDispatches = 0;
  private readonly staging: GPUBuffer[] = [];
  private readonly pending: { staging: GPUBuffer; mapped: Promise<void> }[] = [];
  private readonly readBytes: number;
  private steps = 0;
  private closed = false;
  /** bytes mapped for reading so far (ids only with GPU sampling) */
  bytesRead = 0;

  constructor(
    readonly ctx: GpuContext,
    private readonly W: DecodeWeights,
    readonly B: number,
    states: GpuStates,
    private readonly opts: GpuDecoderOptions,
    /** quantised matmuls: int8 activations (./gemv.ts) or f32 ones (./qmatmul.ts) */
    quantDecode: 'int8' | 'f32' = 'f32',
    /** dense matmuls of 2 or more rows: the GEMV, or the dense matmul (see engine.ts `DenseDecode`) */
    denseDecode: 'gemv' | 'matrix-units' = 'gemv',
  ) {
    const { cfg } = W;
    const { H, NH, Dqk, Dv, dqk, dv, F, V } = cfg.dims;
    const BH = B * NH;
    const buf = (shape: number[], dtype: GpuDtype = 'f32') => {
      const t = ctx.empty(shape, dtype);
      this.owned.push(t);
      return t;
    };
    const words = Math.ceil(V / 32);
    try {
      this.ids = buf([B]);
      this.seen = buf([B, words]);
      const bits = seenMaskBits(V, opts.seen ?? Array.from({ length: B }, () => []));
      ctx.device.queue.writeBuffer(this.seen.buffer, this.seen.byteOffset, bits);
      const x = buf([B, H]);
      const a = buf([B, H]);
      const P = 2 * Dqk + 2 * Dv;
      const PS = P + 2 * NH;
      const h = buf([BH, 1, dv]);
      const gated = buf([B, Dv]);
      const u = buf([B, 2 * F]);
      this.logits = buf([B, V]);
      const scratch = buf([BH * STEP_SCRATCH_PER_HEAD]);
      // the second set is not `owned`: finish() hands over whichever set holds the kept states
      this.sets.push(states, { blocks: [] });
      for (const _ of states.blocks) {
        this.sets[1].blocks.push({
          c: ctx.empty([B, NH, dqk, dv]),
          n: ctx.empty([B, NH, dqk]),
          m: ctx.empty([B, NH, 1]),
        });
      }

      const quantDown = W.blocks.some((b) => b.down.w.parts.some((p) => p.q));
      const anyQuant = quantDown || W.lmHead.parts.some((p) => p.q);
      // int8 activations (below the tiled kernel's rows): one scratch for every quantised matmul
      // in turn (the widest input is F)
      const acts =
        quantDecode === 'int8' && anyQuant && B < QMM_TILED_MIN_ROWS
          ? buf([qgemvActsElements(B, Math.max(H, Dv, F))])
          : null;
      // 'matrix-units' (2 rows or more): dense row parts through the kernels package's dense matmul
      // (matrix units where the adapter has them, x converted into `x16` first), with the RMSNorm
      // and the cell's input split as dispatches of their own (nothing is folded into that kernel)
      const mu = denseDecode === 'matrix-units' && B > 1;
      const linears = [...W.blocks.flatMap((b) => [b.proj, b.outProj, b.upGateZ, b.down]), { w: W.lmHead }];
      const x16 =
        mu && ctx.features.shaderF16 && linears.some((l) => l.w.parts.some((p) => !p.q))
          ? buf([B * Math.max(H, Dv, F)], 'f16')
          : null;
      // dense weights, one row: SwiGLU read by the down projection's GEMV; more rows: its own
      // dispatch (the fused input recomputes silu per row group and x row, which costs more than it
      // saves). Quantised down projection: int8 activations take the SwiGLU in their quantiser;
      // f32 activations need it in its own buffer first (that kernel has no SwiGLU prologue)
      const g = (quantDown ? !acts : B > 1) ? buf([B, F]) : null;
      // the projection through a GEMV (dense, or quantised with int8 activations) writes its
      // output as blocks (q, k, v, o, input gates, forget gates; each [B, width], i.e. head-first,
      // at 256-byte aligned starts) that the recurrent step reads in place, the gates soft-capped
      // by the GEMV: no cell-input dispatch. Otherwise the cell-input kernel splits `proj`.
      const directProj = (l: DecodeLinear) => l.w.parts.every((p) => (p.q ? !!acts : !mu));
      const widths = [Dqk, Dqk, Dv, Dv, NH, NH];
      const starts: number[] = [];
      let end = 0;
      for (const w of widths) {
        starts.push(end);
        end = Math.ceil((end + B * w) / 64) * 64;
      }
      const projBlocks = { widths, starts };
      const projB = W.blocks.some((b) => directProj(b.proj)) ? buf([end]) : null;
      const direct = projB && {
        q: projB.subview(starts[0], [BH, 1, dqk]),
        k: projB.subview(starts[1], [BH, 1, dqk]),
        v: projB.subview(starts[2], [BH, 1, dv]),
        i: projB.subview(starts[4], [BH, 1]),
        f: projB.subview(starts[5], [BH, 1]),
      };
      const split = W.blocks.some((b) => !directProj(b.proj))
        ? {
            proj: buf([B, PS]),
            q: buf([BH, 1, dqk]),
            k: buf([BH, 1, dqk]),
            v: buf([BH, 1, dv]),
            i: buf([BH, 1]),
            f: buf([BH, 1]),
          }
        : null;
      type MmOptions = {
        accumulate?: boolean;
        softcap?: number | null;
        swiglu?: boolean;
        norm?: GemvNorm;
        /** the int8 activations of x are in `acts` already (written by the cell output kernel) */
        actsReady?: boolean;
        /** GEMV output layout and partial soft cap (see ./gemv.ts) */
        softcapFrom?: number;
        outBlocks?: GemvOutBlocks;
      };
      const mm = (xIn: GpuTensor, l: DecodeLinear, y: GpuTensor, o: MmOptions, rec: RecordingBatch) => {
        const quant = l.w.parts.some((p) => p.q);
        if (quant && o.swiglu && !acts) encodeSwiglu(ctx, rec, xIn, g!, B, F);
        for (const [i, p] of l.w.parts.entries()) {
          const po = { M: B, N: p.rows, K: l.in, nOff: p.row0, ldy: l.out };
          // int8 activations: quantised once per matrix, for its first row part
          if (p.q && acts) {
            // (not `inlineActs`, each workgroup quantising x itself: measured on the H100
            // 2026-12-08 it made the q4 step at one row slower, 161 against 255 tok/s — every
            // workgroup quantises the whole x again)
            const actsReady = !!o.actsReady || i > 0;
            encodeQGemv(ctx, rec, xIn, p.q, l.b, y, { ...po, ...o, acts, actsReady });
          } else if (p.q) {
            // B ≤ 32: the quantised decode kernel (B = 32: its tiled kernel)
            const { swiglu: _, norm: __, actsReady: ___, softcapFrom: _c, outBlocks: _b, ...qo } = o;
            encodeQMatmul(ctx, rec, o.swiglu ? g! : xIn, p.q, l.b, y, { ...po, ...qo });
          } else if (mu) {
            encodeMatmul(ctx, rec, xIn, p.w!, l.b, y, {
              ...po,
              accumulate: o.accumulate,
              softcap: o.softcap,
              tiled: true,
              x16,
            });
          } else encodeGemv(ctx, rec, xIn, p.w!, l.b, y, { ...po, ...o });
        }
      };
      // RMSNorm (without a norm bias) folded into the matmul that reads it: the dense GEMV and the
      // int8 activation quantiser take it on the way in (the f32-activation quantised kernel does not)
      // (the dense GEMV only at one row: at 8 rows, measured on the H100 2026-12-08, the fold made
      // the f16 step slower, 615 against 667 tok/s; each workgroup sums the squares of every row)
      const foldable = (n: DecodeNorm, l: DecodeLinear) =>
        !n.b && l.w.parts.every((p) => (p.q ? !!acts : !mu && B === 1));
      const normThen = (n: DecodeNorm, l: DecodeLinear, y: GpuTensor, o: MmOptions, rec: RecordingBatch) => {
        if (foldable(n, l)) mm(x, l, y, { ...o, norm: { w: n.w, eps: cfg.normEps } }, rec);
        else {
          encodeRmsNorm(ctx, rec, x, n.w, n.b, a, { rows: B, H, eps: cfg.normEps });
          mm(a, l, y, o, rec);
        }
      };
      const record = (par: 0 | 1): Recorded[] => {
        const rec = new RecordingBatch(ctx);
        const src = this.sets[par];
        const dst = this.sets[1 - par];
        for (const p of W.embedding.parts) {
          if (p.q) encodeQEmbedding(ctx, rec, this.ids, p.q, x, B, H, p.row0);
          else encodeEmbedding(ctx, rec, this.ids, p.w!, x, B, H, p.row0, p.rows);
        }
        const dimsO = { B, S: 1, NH, dqk, dv, cap: cfg.gateSoftCap, stride: PS, gStride: PS, gOff: P };
        let chunk = 1;
        let next = 1;
        for (const [bi, blk] of W.blocks.entries()) {
          if (bi === next && par === 0) {
            this.cuts.push(rec.recorded.length);
            chunk = Math.min(8, 2 * chunk);
            next += chunk;
          }
          // the GEMV (dense, or quantised with int8 activations) writes the cell's inputs directly
          const isDirect = directProj(blk.proj);
          let inputs: { q: GpuTensor; k: GpuTensor; v: GpuTensor; i: GpuTensor; f: GpuTensor };
          let projOut: GpuTensor;
          if (isDirect) {
            const o = { softcap: cfg.gateSoftCap, softcapFrom: P, outBlocks: projBlocks };
            projOut = projB!;
            normThen(blk.normMlstm, blk.proj, projOut, o, rec);
            inputs = direct!;
          } else {
            const { proj, ...rest } = split!;
            projOut = proj;
            inputs = rest;
            normThen(blk.normMlstm, blk.proj, proj, {}, rec);
            encodeCellPrep(ctx, rec, proj, proj, inputs, { ...dimsO, Sp: 1, t0: 0 });
          }
          encodeRecurrentStep(ctx, rec, {
            dims: { BH, S: 1, DHQK: dqk, DHHV: dv },
            t: 0,
            dtype: 'f32',
            eps: cfg.eps,
            ...inputs,
            state: src.blocks[bi],
            out: { h, ...dst.blocks[bi] },
            scratch,
          });
          // int8 activations of a quantised out_proj: written by the cell output kernel itself
          const q0 = blk.outProj.w.parts[0].q;
          const postActs =
            acts &&
            q0 &&
            blk.outProj.w.parts.every((p) => p.q) &&
            dv % 32 === 0 &&
            dv <= CELL_POST_ACTS_MAX_DV
              ? { t: acts, format: q0.format }
              : null;
          encodeCellPost(ctx, rec, h, projOut, blk.multiheadNorm.w, blk.multiheadNorm.b, gated, {
            ...dimsO,
            ...(isDirect ? { stride: Dv, oOff: starts[3] } : {}),
            Sp: 1,
            t0: 0,
            eps: cfg.normEps,
            acts: postActs,
          });
          mm(gated, blk.outProj, x, { accumulate: true, actsReady: !!postActs }, rec);
          normThen(blk.normFfn, blk.upGateZ, u, {}, rec);
          if (g) {
            encodeSwiglu(ctx, rec, u, g, B, F);
            mm(g, blk.down, x, { accumulate: true }, rec);
          } else mm(u, blk.down, x, { accumulate: true, swiglu: true }, rec);
        }
        const head = { w: W.lmHead, b: null, out: V, in: H };
        normThen({ w: W.outNorm, b: null }, head, this.logits, { softcap: cfg.outputLogitSoftCap }, rec);
        return rec.recorded;
      };
      // the sampler, recorded once after each program (its options are fixed for the session; each
      // step writes only its draws): its scratch lives as long as the decoder
      let samplerRec: Recorded[] = [];
      if (opts.sampling === 'gpu') {
        const rec = this.recordSampler(new Float32Array(B));
        this.owned.push(...rec.scratchTensors);
        this.draws = rec.draws;
        samplerRec = rec.recorded;
        this.samplerDispatches = samplerRec.length;
      }
      const recs = [record(0).concat(samplerRec), record(1).concat(samplerRec)];
      const align = ctx.device.limits.minUniformBufferOffsetAlignment;
      const sizes = recs.map((r) =>
        r.reduce((s, d) => s + (d.params ? Math.ceil(d.params.byteLength / align) * align : 0), 0),
      );
      this.uniforms = ctx.pool.acquire(
        Math.max(16, sizes[0] + sizes[1]),
        UNIFORM | COPY_DST,
        'decode-params',
      );
      let off = 0;
      for (const r of recs) {
        const { ready, bytes } = prepare(ctx, r, this.uniforms, off, false);
        ctx.device.queue.writeBuffer(this.uniforms, off, bytes);
        off += bytes.byteLength;
        this.programs.push(ready);
      }
      this.readBytes = opts.sampling === 'gpu' ? 4 * B : this.logits.byteLength;
      for (let s = 0; s < 2; s++)
        this.staging.push(ctx.pool.acquire(this.readBytes, MAP_READ | COPY_DST, 'decode-read'));
    } catch (e) {
      for (const b of this.sets[1]?.blocks ?? []) for (const t of [b.c, b.n, b.m]) t.release();
      this.releaseAll();
      throw e;
    }
  }

  /** Records the GPU sampler (arguments checked: typed errors before any GPU work). */
  private recordSampler(uniforms: Float32Array): RecordingBatch & { draws: GpuTensor | null } {
    const rec = new RecordingBatch(this.ctx);
    const s = this.opts.sample ?? { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };
    const { V } = this.W.cfg.dims;
    try {
      const { draws } = encodeSampleTokens(this.ctx, rec, {
        logits: this.logits,
        B: this.B,
        V,
        out: this.ids,
        seen: this.seen,
        params: { ...s, uniforms },
      });
      return Object.assign(rec, { draws });
    } catch (e) {
      for (const t of rec.scratchTensors) t.release();
      throw e;
    }
  }

  /** The labels of a step's recorded dispatches, in order (without the sampler's): what a token costs. */
  get dispatchLabels(): string[] {
    const p = this.programs[0];
    return p.slice(0, p.length - this.samplerDispatches).map((d) => d.label);
  }

  /** Where the next ids are chosen. */
  get sampling(): 'gpu' | 'cpu' {
    return this.opts.sampling;
  }

  /** Steps submitted so far. */
  get submitted(): number {
    return this.steps;
  }

  /** Writes the input ids of the next step (the first step, or every step with CPU sampling). */
  writeIds(ids: ArrayLike<number>): void {
    this.ctx.device.queue.writeBuffer(this.ids.buffer, this.ids.byteOffset, Uint32Array.from(ids));
  }

  /**
   * Encodes and submits one step: the replayed block program, the sampler (GPU sampling, with
   * this step's `uniforms`), and the copy of the ids (or logits) for {@link read}.
   */
  submit(uniforms: Float32Array = new Float32Array(this.B)): void {
    const { ctx } = this;
    if (this.closed) throw new Error('GpuDecoder: finished');
    if (this.pending.length >= this.staging.length)
      throw new Error('GpuDecoder: read() the oldest step first');
    ctx.throwIfLost();
    const all = this.programs[this.steps % 2];
    // the recorded sampler draws with this step's uniforms (greedy: no draws)
    if (this.draws) writeSampleDraws(ctx, this.draws, uniforms);
    const bounds = this.opts.chunks ? [0, ...this.cuts, all.length] : [0, all.length];
    let enc = ctx.device.createCommandEncoder();
    for (let c = 0; c + 1 < bounds.length; c++) {
      if (c > 0) enc = ctx.device.createCommandEncoder();
      const part = all.slice(bounds[c], bounds[c + 1]);
      if (ctx.timingPerDispatch) {
        for (const d of part) {
          const pass = enc.beginComputePass({ timestampWrites: ctx.nextTimestampWrites(d.label) });
          pass.setPipeline(d.pipeline);
          pass.setBindGroup(0, d.group);
          pass.dispatchWorkgroups(...d.workgroups);
          pass.end();
        }
      } else {
        const tw = ctx.nextTimestampWrites(bounds.length > 2 ? 'decode step (part)' : 'decode step');
        const pass = enc.beginComputePass(tw ? { timestampWrites: tw } : {});
        // (indexed loop, explicit arguments, pipeline set only when it changes: this loop is
        // most of the CPU time of a step)
        let last: GPUComputePipeline | null = null;
        for (let i = 0; i < part.length; i++) {
          const d = part[i];
          if (d.pipeline !== last) {
            last = d.pipeline;
            pass.setPipeline(last);
          }
          pass.setBindGroup(0, d.group);
          const w = d.workgroups;
          pass.dispatchWorkgroups(w[0], w[1], w[2]);
        }
        pass.end();
      }
      if (c + 2 < bounds.length) ctx.device.queue.submit([enc.finish()]);
    }
    const staging = this.staging[this.steps % 2];
    const src = this.opts.sampling === 'gpu' ? this.ids : this.logits;
    enc.copyBufferToBuffer(src.buffer, src.byteOffset, staging, 0, this.readBytes);
    ctx.device.queue.submit([enc.finish()]);
    // requested now, the mapping waits for this submission only (not for the next step's)
    const mapped = staging.mapAsync(0x0001 /* READ */, 0, this.readBytes);
    mapped.catch(() => {}); // awaited (and its error raised) in read()
    this.pending.push({ staging, mapped });
    this.steps++;
  }

  /**
   * Waits for the oldest submitted step and returns what it read back: the B chosen ids (GPU
   * sampling) or the logits `[B, V]` (CPU sampling).
   */
  async read(): Promise<Uint32Array | Float32Array> {
    const p = this.pending.shift();
    if (!p) throw new Error('GpuDecoder: no step submitted');
    const { ctx } = this;
    ctx.throwIfErrors();
    await p.mapped;
    const copy = p.staging.getMappedRange(0, this.readBytes).slice(0);
    p.staging.unmap();
    this.bytesRead += this.readBytes;
    ctx.throwIfErrors();
    return this.opts.sampling === 'gpu' ? new Uint32Array(copy) : new Float32Array(copy);
  }

  /**
   * Ends the session: returns the states after the first `kept` steps (the caller's set or the
   * other one; steps submitted after those are discarded) and frees everything else.
   */
  finish(kept: number): GpuStates {
    if (kept < 0 || kept > this.steps) throw new Error(`GpuDecoder.finish: ${kept} of ${this.steps} steps`);
    const keep = this.sets[kept % 2];
    const drop = this.sets[1 - (kept % 2)];
    for (const b of drop.blocks) for (const t of [b.c, b.n, b.m]) t.release();
    this.releaseAll();
    return keep;
  }

  private releaseAll(): void {
    this.closed = true;
    for (const p of this.pending) {
      p.staging.unmap(); // cancels the mapping of a step submitted ahead and never read
    }
    this.pending.length = 0;
    for (const t of this.owned) t.release();
    this.owned.length = 0;
    for (const s of this.staging) this.ctx.pool.release(s);
    this.staging.length = 0;
    if (this.uniforms) this.ctx.pool.release(this.uniforms);
  }
}
