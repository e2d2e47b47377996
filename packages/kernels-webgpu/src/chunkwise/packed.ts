/**
 * Packed variable-length sequences for the TFLA chunkwise families: N sequences of any lengths
 * lie one after the other on the token axis of `(1, NH, T, D)` tensors; `seqStarts` (N + 1
 * offsets, from 0, strictly increasing, ending at T) marks where each begins. Initial states,
 * last states, `dcLast` and `dcInitial` are per sequence, `(N, NH, …)`. The result is that of
 * separate calls, one per sequence, concatenated: no state crosses a boundary.
 *
 * How it runs (not yet a packed kernel): sequences are grouped by their length rounded up to the
 * chunk size; each group runs as one batched call of the family's kernels (one row per sequence),
 * every sequence front-padded with fewer than `chunkSize` neutral tokens — forget gate 1
 * (pre-activation +1e4, λ = 0), input gate 0 (pre-activation −1e4), zero q, k, v, dh — which
 * leave the state exactly as it was (C, n unchanged, m unchanged), so outputs, last states and
 * gradients of the real tokens are those of the unpadded sequence (to rounding). Gather and
 * scatter between the packed axis and the padded batch are GPU kernels (util/pack.ts).
 */
import { checkSeqStarts, type SeqStarts } from '@mlstm/core-reference/checks';
import type { DispatchBatch, GpuContext } from '../device/context.js';
import type { GpuDtype, GpuTensor } from '../device/tensor.js';
import { KernelArgumentError } from '../errors.js';
import { CallScope } from '../io.js';
import { encodePackMove } from '../util/pack.js';
import {
  type CpuTensor,
  expectTensor,
  resolveDtype,
  type SequenceDims,
  type TensorLike,
  validateSequence,
} from '../validate.js';
import {
  type ChunkwiseArgs,
  type ChunkwiseBackwardArgs,
  type ChunkwiseGradients,
  type ChunkwiseResult,
  type KernelFamily,
  type LastStates,
  runBackward,
  runForward,
} from './run.js';
import { XL_CHUNK } from './xl_chunk.js';
import { XL_CHUNK_SIGING } from './xl_chunk_siging.js';

/** N + 1 offsets of N packed sequences into the token axis. */
export type { SeqStarts };

/** Arguments of a packed forward: the family's, with `(1, NH, T, …)` inputs and `(N, NH, …)` states. */
export interface PackedChunkwiseArgs<T extends TensorLike = TensorLike>
  extends Omit<ChunkwiseArgs<T>, 'keepSaved'> {
  seqStarts: SeqStarts;
}

/** Arguments of a packed backward (`dh (1, NH, T, DHHV)`, `dcLast (N, NH, DHQK, DHHV)`). */
export interface PackedChunkwiseBackwardArgs<T extends TensorLike = TensorLike>
  extends Omit<ChunkwiseBackwardArgs<T>, 'keepSaved' | 'saved'> {
  seqStarts: SeqStarts;
}

/** Pre-activations of the neutral filler tokens: λ = logsigmoid(1e4) = 0, e^{−1e4} = 0. */
const FILL_F = 1e4;
const FILL_I = -1e4;
/** the row table stores token offsets as f32 */
const MAX_TOKENS = 2 ** 24;

/**
 * Validates `seqStarts` against the token count `T` and the number of initial states
 * (`KernelArgumentError` naming `seqStarts`, the rule of core-reference's `checkSeqStarts`).
 * Returns the offsets.
 */
export function validateSeqStarts(seqStarts: unknown, T: number, context: string, states?: number): number[] {
  return checkSeqStarts(seqStarts, T, context, states, KernelArgumentError);
}

/** One batched call: the sequences `seqs` padded to `P` tokens, run with chunk size `chunk`. */
interface Group {
  P: number;
  chunk: number;
  seqs: number[];
}

interface Plan {
  d: SequenceDims;
  N: number;
  starts: number[];
  ioDtype: GpuDtype;
  hasStates: boolean;
  groups: Group[];
}

function plan(ctx: GpuContext, fam: KernelFamily, a: PackedChunkwiseArgs, withDh: boolean): Plan {
  const context = `${fam.name} (packed)`;
  if (typeof a !== 'object' || a === null)
    throw new KernelArgumentError('args', 'an object', String(a), context);
  const d = validateSequence(a, context);
  if (d.B !== 1) {
    throw new KernelArgumentError(
      'q',
      'batch B = 1 with seqStarts (the sequences are packed along the token axis)',
      `B = ${d.B}`,
      context,
    );
  }
  const extra = a as { keepSaved?: unknown; saved?: unknown };
  if (extra.keepSaved || extra.saved) {
    throw new KernelArgumentError(
      extra.keepSaved ? 'keepSaved' : 'saved',
      'undefined with seqStarts (the packed backward recomputes the forward)',
      'a value',
      context,
    );
  }
  if (d.S >= MAX_TOKENS) {
    throw new KernelArgumentError('q', `fewer than ${MAX_TOKENS} packed tokens`, `T = ${d.S}`, context);
  }
  const c = a.cInitial as TensorLike | undefined | null;
  const nStates = c && Array.isArray(c.shape) && c.shape.length === 4 ? c.shape[0] : undefined;
  const starts = validateSeqStarts(a.seqStarts, d.S, context, c != null ? nStates : undefined);
  const N = starts.length - 1;
  const ioDtype = resolveDtype(ctx, a.q, a.dtype, context);
  const names =
    fam.variant === 'exp'
      ? (['cInitial', 'nInitial', 'mInitial'] as const)
      : (['cInitial', 'nInitial'] as const);
  const given = names.map((n) => a[n] != null);
  const hasStates = given.some(Boolean);
  if (hasStates && !given.every(Boolean)) {
    throw new KernelArgumentError(
      names[given.indexOf(false)],
      `all of ${names.join(', ')} or none`,
      'undefined',
      context,
    );
  }
  const f32 = ['f32'] as const;
  if (hasStates) {
    expectTensor(
      'cInitial',
      a.cInitial,
      [N, d.NH, d.DHQK, d.DHHV],
      ['N', 'NH', 'DHQK', 'DHHV'],
      context,
      f32,
    );
    expectTensor('nInitial', a.nInitial, [N, d.NH, d.DHQK], ['N', 'NH', 'DHQK'], context, f32);
  }
  if (a.mInitial != null) expectTensor('mInitial', a.mInitial, [N, d.NH, 1], ['N', 'NH', '1'], context, f32);
  if (withDh) {
    const b = a as PackedChunkwiseBackwardArgs;
    expectTensor('dh', b.dh, [1, d.NH, d.S, d.DHHV], ['1', 'NH', 'T', 'DHHV'], context, [ioDtype]);
    if (b.dcLast != null)
      expectTensor('dcLast', b.dcLast, [N, d.NH, d.DHQK, d.DHHV], ['N', 'NH', 'DHQK', 'DHHV'], context, f32);
  }
  const L = a.chunkSize ?? fam.defaultChunkSize;
  const max = fam.maxChunkSize;
  if (!Number.isInteger(L) || L < 1 || (max !== undefined && L > max)) {
    throw new KernelArgumentError(
      'chunkSize',
      `a positive integer${max !== undefined ? ` <= ${max}` : ''}`,
      String(a.chunkSize),
      context,
    );
  }
  if (fam.variant === 'exp' && a.normalize === false) {
    throw new KernelArgumentError(
      'normalize',
      'true or undefined (only mLSTMsig kernels can skip the normaliser)',
      'false',
      context,
    );
  }
  const byLength = new Map<number, Group>();
  for (let s = 0; s < N; s++) {
    const len = starts[s + 1] - starts[s];
    // long sequences: whole chunks of L; short ones: one chunk, rounded up to 16 tokens
    const P = len >= L ? Math.ceil(len / L) * L : Math.min(L, Math.ceil(len / 16) * 16);
    let g = byLength.get(P);
    if (!g) {
      g = { P, chunk: Math.min(L, P), seqs: [] };
      byLength.set(P, g);
    }
    g.seqs.push(s);
  }
  return { d, N, starts, ioDtype, hasStates, groups: [...byLength.values()] };
}

/** Copies whole rows (axis 0) between `(N, …)` and `(G, …)` f32 tensors: `dst[to[x]] = src[from[x]]`. */
function copyRows(ctx: GpuContext, src: GpuTensor, dst: GpuTensor, from: number[], to: number[]): void {
  const rowBytes = (src.numel / src.shape[0]) * 4;
  const enc = ctx.device.createCommandEncoder();
  for (const [x, f] of from.entries()) {
    enc.copyBufferToBuffer(
      src.buffer,
      src.byteOffset + f * rowBytes,
      dst.buffer,
      dst.byteOffset + to[x] * rowBytes,
      rowBytes,
    );
  }
  ctx.device.queue.submit([enc.finish()]);
}

/** A group's helpers: its row table on the GPU, padded copies of packed tensors, state rows. */
class GroupIo {
  readonly G: number;
  private readonly rows: GpuTensor;
  private readonly temps: GpuTensor[] = [];
  private readonly local: number[];
  /** gathers / scatters waiting to be submitted together, and what to release after them */
  private pending: DispatchBatch | null = null;
  private afterFlush: GpuTensor[] = [];

  constructor(
    private readonly ctx: GpuContext,
    p: Plan,
    private readonly g: Group,
  ) {
    this.G = g.seqs.length;
    const table = new Float32Array(2 * this.G);
    g.seqs.forEach((s, x) => {
      table[2 * x] = p.starts[s];
      table[2 * x + 1] = p.starts[s + 1] - p.starts[s];
    });
    this.rows = ctx.upload(table, [this.G, 2]);
    this.local = g.seqs.map((_, x) => x);
  }

  private keep(t: GpuTensor): GpuTensor {
    this.temps.push(t);
    return t;
  }

  /** The padded `(G, NH, P, …)` copy of a packed tensor (filler = `fill`; encoded, see {@link flush}). */
  gather(t: GpuTensor, fill = 0): GpuTensor {
    const shape = [this.G, t.shape[1], this.g.P, ...t.shape.slice(3)];
    const out = this.keep(this.ctx.empty(shape, t.dtype));
    this.pending ??= this.ctx.batch();
    encodePackMove(this.ctx, this.pending, 'gather', t, out, this.rows, fill);
    return out;
  }

  /** Writes the real positions of a padded result back into the packed tensor (encoded, see {@link flush}); releases it after. */
  scatter(padded: GpuTensor, packed: GpuTensor): void {
    this.pending ??= this.ctx.batch();
    encodePackMove(this.ctx, this.pending, 'scatter', packed, padded, this.rows);
    this.afterFlush.push(padded);
  }

  /** Submits the encoded gathers / scatters in one pass. */
  flush(): void {
    this.pending?.submit();
    this.pending = null;
    for (const t of this.afterFlush) t.release();
    this.afterFlush = [];
  }

  /** The `(G, …)` rows of a per-sequence `(N, …)` tensor. */
  takeRows(t: GpuTensor | undefined): GpuTensor | undefined {
    if (!t) return undefined;
    const out = this.keep(this.ctx.empty([this.G, ...t.shape.slice(1)], t.dtype));
    copyRows(this.ctx, t, out, this.g.seqs, this.local);
    return out;
  }

  /** Copies `(G, …)` rows into the per-sequence `(N, …)` tensor, then releases them. */
  putRows(t: GpuTensor, dst: GpuTensor): void {
    copyRows(this.ctx, t, dst, this.local, this.g.seqs);
    t.release();
  }

  release(): void {
    this.flush();
    this.rows.release();
    for (const t of this.temps) t.release();
  }
}

/** The family's options of one group's call (no seqStarts, the group's chunk size). */
function callOptions(a: PackedChunkwiseArgs, g: Group): Partial<ChunkwiseArgs<GpuTensor>> {
  return {
    chunkSize: g.chunk,
    eps: a.eps,
    normalize: a.normalize,
    computeDtype: a.computeDtype,
    tiles: a.tiles,
    subgroupMatrix: a.subgroupMatrix,
  };
}

async function packedForward(
  ctx: GpuContext,
  fam: KernelFamily,
  a: PackedChunkwiseArgs,
): Promise<ChunkwiseResult<GpuTensor | CpuTensor>> {
  const p = plan(ctx, fam, a, false);
  const { d, N } = p;
  const scope = new CallScope(ctx, a.q);
  const made: GpuTensor[] = [];
  try {
    const x = {
      q: scope.gpu(a.q, p.ioDtype),
      k: scope.gpu(a.k, p.ioDtype),
      v: scope.gpu(a.v, p.ioDtype),
      i: scope.gpu(a.i),
      f: scope.gpu(a.f),
      c: p.hasStates ? scope.gpu(a.cInitial) : undefined,
      n: p.hasStates ? scope.gpu(a.nInitial) : undefined,
      m: p.hasStates && fam.variant === 'exp' ? scope.gpu(a.mInitial) : undefined,
    };
    const h = ctx.empty([1, d.NH, d.S, d.DHHV], p.ioDtype);
    made.push(h);
    const want = !!a.returnLastStates;
    const last = want
      ? {
          c: ctx.empty([N, d.NH, d.DHQK, d.DHHV]),
          n: ctx.empty([N, d.NH, d.DHQK]),
          ...(fam.variant === 'exp' ? { m: ctx.empty([N, d.NH, 1]) } : {}),
        }
      : undefined;
    if (last) made.push(...(Object.values(last) as GpuTensor[]));
    for (const g of p.groups) {
      const io = new GroupIo(ctx, p, g);
      try {
        const args = {
          q: io.gather(x.q),
          k: io.gather(x.k),
          v: io.gather(x.v),
          i: io.gather(x.i, FILL_I),
          f: io.gather(x.f, FILL_F),
          cInitial: io.takeRows(x.c),
          nInitial: io.takeRows(x.n),
          mInitial: io.takeRows(x.m),
          returnLastStates: want,
          ...callOptions(a, g),
        };
        io.flush();
        const r = await runForward(ctx, fam, args);
        io.scatter(r.h as GpuTensor, h);
        io.flush();
        if (last && r.lastStates) {
          const ls = r.lastStates as LastStates<GpuTensor>;
          io.putRows(ls.c, last.c);
          io.putRows(ls.n, last.n);
          if (last.m && ls.m) io.putRows(ls.m, last.m);
          else ls.m?.release();
        }
      } finally {
        io.release();
      }
    }
    return await scope.finish({ h, ...(last ? { lastStates: last } : {}) });
  } catch (e) {
    for (const t of made) t.release();
    scope.abort();
    throw e;
  }
}

async function packedBackward(
  ctx: GpuContext,
  fam: KernelFamily,
  a: PackedChunkwiseBackwardArgs,
): Promise<ChunkwiseGradients<GpuTensor | CpuTensor>> {
  const p = plan(ctx, fam, a, true);
  const { d, N } = p;
  const scope = new CallScope(ctx, a.q);
  const made: GpuTensor[] = [];
  try {
    const x = {
      q: scope.gpu(a.q, p.ioDtype),
      k: scope.gpu(a.k, p.ioDtype),
      v: scope.gpu(a.v, p.ioDtype),
      i: scope.gpu(a.i),
      f: scope.gpu(a.f),
      dh: scope.gpu(a.dh, p.ioDtype),
      dcLast: scope.gpu(a.dcLast ?? undefined),
      c: p.hasStates ? scope.gpu(a.cInitial) : undefined,
      n: p.hasStates ? scope.gpu(a.nInitial) : undefined,
      m: p.hasStates && fam.variant === 'exp' ? scope.gpu(a.mInitial) : undefined,
    };
    const out: ChunkwiseGradients<GpuTensor> = {
      dq: ctx.empty([1, d.NH, d.S, d.DHQK], p.ioDtype),
      dk: ctx.empty([1, d.NH, d.S, d.DHQK], p.ioDtype),
      dv: ctx.empty([1, d.NH, d.S, d.DHHV], p.ioDtype),
      di: ctx.empty([1, d.NH, d.S]),
      df: ctx.empty([1, d.NH, d.S]),
      ...(p.hasStates ? { dcInitial: ctx.empty([N, d.NH, d.DHQK, d.DHHV]) } : {}),
    };
    made.push(...(Object.values(out) as GpuTensor[]));
    for (const g of p.groups) {
      const io = new GroupIo(ctx, p, g);
      try {
        const args = {
          q: io.gather(x.q),
          k: io.gather(x.k),
          v: io.gather(x.v),
          i: io.gather(x.i, FILL_I),
          f: io.gather(x.f, FILL_F),
          dh: io.gather(x.dh),
          dcLast: io.takeRows(x.dcLast),
          cInitial: io.takeRows(x.c),
          nInitial: io.takeRows(x.n),
          mInitial: io.takeRows(x.m),
          correctDfForDcLast: a.correctDfForDcLast,
          ...callOptions(a, g),
        };
        io.flush();
        const r = (await runBackward(ctx, fam, args)) as ChunkwiseGradients<GpuTensor>;
        for (const key of ['dq', 'dk', 'dv', 'di', 'df'] as const) io.scatter(r[key], out[key]);
        io.flush();
        if (out.dcInitial && r.dcInitial) io.putRows(r.dcInitial, out.dcInitial);
        r.dnInitial?.release();
        r.dmInitial?.release();
      } finally {
        io.release();
      }
    }
    if (p.hasStates) {
      out.dnInitial = ctx.zeros([N, d.NH, d.DHQK]);
      if (fam.variant === 'exp') out.dmInitial = ctx.zeros([N, d.NH, 1]);
    }
    return (await scope.finish(out)) as ChunkwiseGradients<GpuTensor | CpuTensor>;
  } catch (e) {
    for (const t of made) t.release();
    scope.abort();
    throw e;
  }
}

/** A packed forward overloaded on the tensor kind: GPU in → GPU out, CPU in → CPU out. */
export interface PackedForwardFn {
  (ctx: GpuContext, args: PackedChunkwiseArgs<GpuTensor>): Promise<ChunkwiseResult<GpuTensor>>;
  (ctx: GpuContext, args: PackedChunkwiseArgs<CpuTensor>): Promise<ChunkwiseResult<CpuTensor>>;
}

/** A packed backward overloaded on the tensor kind. */
export interface PackedBackwardFn {
  (ctx: GpuContext, args: PackedChunkwiseBackwardArgs<GpuTensor>): Promise<ChunkwiseGradients<GpuTensor>>;
  (ctx: GpuContext, args: PackedChunkwiseBackwardArgs<CpuTensor>): Promise<ChunkwiseGradients<CpuTensor>>;
}

/** The packed forward and backward of a chunkwise family. */
export function packedFamilyFunctions(fam: KernelFamily): {
  forward: PackedForwardFn;
  backward: PackedBackwardFn;
} {
  return {
    forward: ((ctx: GpuContext, args: PackedChunkwiseArgs) =>
      packedForward(ctx, fam, args)) as PackedForwardFn,
    backward: ((ctx: GpuContext, args: PackedChunkwiseBackwardArgs) =>
      packedBackward(ctx, fam, args)) as PackedBackwardFn,
  };
}

const xl = packedFamilyFunctions(XL_CHUNK);
const siging = packedFamilyFunctions(XL_CHUNK_SIGING);

/**
 * Packed forward of `chunkwise--webgpu_xl_chunk`:
 *
 * ```ts
 * const seqStarts = Int32Array.from([0, 700, 701, 2048]); // three sequences on T = 2048 tokens
 * const { h, lastStates } = await mlstmChunkwiseXlChunkPacked(ctx, { q, k, v, i, f, seqStarts, returnLastStates: true });
 * ```
 */
export const mlstmChunkwiseXlChunkPacked = xl.forward;
/** Packed backward of `chunkwise--webgpu_xl_chunk`. */
export const mlstmChunkwiseXlChunkPackedBackward = xl.backward;
/** Packed forward of `chunkwise--webgpu_xl_chunk_siging` (last states `{ c, n }`). */
export const mlstmSigChunkwiseXlChunkPacked = siging.forward;
/** Packed backward of `chunkwise--webgpu_xl_chunk_siging`. */
export const mlstmSigChunkwiseXlChunkPackedBackward = siging.backward;
