/**
 * The recurrent sequence kernel on packed sequences: N sequences of any lengths on the token axis
 * of `(1, NH, T, …)` tensors, `seqStarts` (N + 1 offsets), per-sequence initial and last states
 * `(N, NH, …)` — the result of separate calls, one per sequence.
 *
 * The loop runs once for all sequences (B = N rows, as many steps as the longest sequence): each
 * sequence is front-padded to that length with neutral tokens — forget gate 1 (pre-activation
 * +1e4: λ = 0 exactly), input gate 0 (−1e4), zero q, k, v — under which a step leaves C, n and m
 * as they were (the decay factor is e^0 = 1, the input term e^{−1e4−m} = 0).
 */
import type { GpuContext } from '../device/context.js';
import type { GpuTensor } from '../device/tensor.js';
import { KernelArgumentError } from '../errors.js';
import { CallScope } from '../io.js';
import { encodePackMove } from '../util/pack.js';
import {
  type CpuTensor,
  expectTensor,
  resolveDtype,
  type TensorLike,
  validateSequence,
} from '../validate.js';
import { type SeqStarts, validateSeqStarts } from '../chunkwise/packed.js';
import {
  mlstmRecurrentSequenceWebgpu,
  type RecurrentSequenceWebgpuArgs,
  type RecurrentSequenceWebgpuResult,
} from './sequence.js';

/** Arguments of {@link mlstmRecurrentSequenceWebgpuPacked}: `(1, NH, T, …)` inputs, `(N, NH, …)` states. */
export interface PackedRecurrentSequenceArgs<T extends TensorLike = TensorLike>
  extends RecurrentSequenceWebgpuArgs<T> {
  seqStarts: SeqStarts;
}

type ResultKind<T> = T extends GpuTensor ? GpuTensor : CpuTensor;

/** The recurrent loop (`native_sequence__webgpu`) over packed sequences (see the module doc). */
export async function mlstmRecurrentSequenceWebgpuPacked<T extends TensorLike>(
  ctx: GpuContext,
  args: PackedRecurrentSequenceArgs<T>,
): Promise<RecurrentSequenceWebgpuResult<ResultKind<T>>> {
  const context = 'mlstmRecurrentSequenceWebgpu (packed)';
  if (typeof args !== 'object' || args === null)
    throw new KernelArgumentError('args', 'an object', String(args), context);
  const d = validateSequence(args, context);
  if (d.B !== 1) {
    throw new KernelArgumentError(
      'q',
      'batch B = 1 with seqStarts (the sequences are packed along the token axis)',
      `B = ${d.B}`,
      context,
    );
  }
  const c0 = args.cInitial as TensorLike | undefined | null;
  const starts = validateSeqStarts(
    args.seqStarts,
    d.S,
    context,
    c0 && Array.isArray(c0.shape) && c0.shape.length === 4 ? c0.shape[0] : undefined,
  );
  const N = starts.length - 1;
  const names = ['cInitial', 'nInitial', 'mInitial'] as const;
  const given = names.map((n) => args[n] != null);
  if (given.some(Boolean) && !given.every(Boolean))
    throw new KernelArgumentError(
      names[given.indexOf(false)],
      'all of cInitial, nInitial, mInitial or none',
      'undefined',
      context,
    );
  if (given[0]) {
    const f32 = ['f32'] as const;
    expectTensor(
      'cInitial',
      args.cInitial,
      [N, d.NH, d.DHQK, d.DHHV],
      ['N', 'NH', 'DHQK', 'DHHV'],
      context,
      f32,
    );
    expectTensor('nInitial', args.nInitial, [N, d.NH, d.DHQK], ['N', 'NH', 'DHQK'], context, f32);
    expectTensor('mInitial', args.mInitial, [N, d.NH, 1], ['N', 'NH', '1'], context, f32);
  }
  const dtype = resolveDtype(ctx, args.q, args.dtype, context);
  const P = Math.max(...starts.slice(1).map((s, x) => s - starts[x]));
  const table = new Float32Array(2 * N);
  for (let s = 0; s < N; s++) {
    table[2 * s] = starts[s];
    table[2 * s + 1] = starts[s + 1] - starts[s];
  }
  const scope = new CallScope(ctx, args.q);
  const temps: GpuTensor[] = [];
  let h: GpuTensor | undefined;
  try {
    const rows = ctx.upload(table, [N, 2]);
    temps.push(rows);
    const batch = ctx.batch();
    const gather = (t: GpuTensor, fill = 0) => {
      const out = ctx.empty([N, d.NH, P, ...t.shape.slice(3)], t.dtype);
      temps.push(out);
      encodePackMove(ctx, batch, 'gather', t, out, rows, fill);
      return out;
    };
    const x = {
      q: gather(scope.gpu(args.q, dtype)),
      k: gather(scope.gpu(args.k, dtype)),
      v: gather(scope.gpu(args.v, dtype)),
      i: gather(scope.gpu(args.i), -1e4),
      f: gather(scope.gpu(args.f), 1e4),
    };
    batch.submit();
    const r = await mlstmRecurrentSequenceWebgpu(ctx, {
      ...x,
      cInitial: scope.gpu(args.cInitial),
      nInitial: scope.gpu(args.nInitial),
      mInitial: scope.gpu(args.mInitial),
      eps: args.eps,
      returnLastStates: args.returnLastStates,
    });
    temps.push(r.h);
    h = ctx.empty([1, d.NH, d.S, d.DHHV], dtype);
    const back = ctx.batch();
    encodePackMove(ctx, back, 'scatter', h, r.h, rows);
    back.submit();
    for (const t of temps) t.release();
    temps.length = 0;
    return (await scope.finish({ h, ...(r.lastStates ? { lastStates: r.lastStates } : {}) })) as never;
  } catch (e) {
    for (const t of temps) t.release();
    h?.release();
    scope.abort();
    throw e;
  }
}
