/**
 * `native_sequence__webgpu` (spec §6.2): the recurrent loop over a whole sequence with the GPU
 * step kernel of `./step.ts`, every token encoded into ONE command buffer (one DispatchBatch,
 * one compute pass; WebGPU orders its dispatches). The step kernels read token
 * `t` straight out of the full `(B, NH, S, D)` tensors (a `t` uniform per dispatch) and write `h`
 * at `t`. C lives in one working buffer updated in place, n and m alternate between two small
 * buffer sets; token 0 reads the caller's initial states (never modified) or, without them,
 * starts from zeros with `m₀ = 0` without reading anything. One dispatch per token with the
 * fused kernel, two with the split kernels (adapters with fewer than 11 storage bindings).
 */
import type { GpuContext } from '../device/context.js';
import { BYTES_PER_ELEMENT, type GpuDtype, GpuTensor } from '../device/tensor.js';
import { KernelArgumentError } from '../errors.js';
import { CallScope } from '../io.js';
import {
  type CpuTensor,
  checkSizes,
  resolveDtype,
  type TensorLike,
  validateEps,
  validateSequence,
  validateStates,
} from '../validate.js';
import { DEFAULT_EPS, encodeRecurrentStep, STEP_SCRATCH_PER_HEAD } from './step.js';

/** Arguments of {@link mlstmRecurrentSequenceWebgpu}; `T` is the kind of `q` (it decides the result kind). */
export interface RecurrentSequenceWebgpuArgs<T extends TensorLike = TensorLike> {
  /** queries `(B, NH, S, DHQK)` (scaled by `DHQK^(−1/2)` inside) */
  q: T;
  /** keys `(B, NH, S, DHQK)` */
  k: TensorLike;
  /** values `(B, NH, S, DHHV)` */
  v: TensorLike;
  /** input-gate pre-activations `(B, NH, S)`, f32 */
  i: TensorLike;
  /** forget-gate pre-activations `(B, NH, S)`, f32 */
  f: TensorLike;
  /** initial matrix memory `(B, NH, DHQK, DHHV)`, f32 (all three initial states or none) */
  cInitial?: TensorLike;
  /** initial normaliser `(B, NH, DHQK)`, f32 */
  nInitial?: TensorLike;
  /** initial stabiliser `(B, NH, 1)`, f32 */
  mInitial?: TensorLike;
  /** default 1e-6 */
  eps?: number;
  /** also return the states after the last token (default false) */
  returnLastStates?: boolean;
  /** q/k/v/h dtype for CPU inputs (default 'f32'); GPU inputs keep their own */
  dtype?: GpuDtype;
}

/** `h (B, NH, S, DHHV)` in the q/k/v dtype and, when asked for, the last states (f32). */
export interface RecurrentSequenceWebgpuResult<T = GpuTensor> {
  h: T;
  lastStates?: { c: T; n: T; m: T };
}

type ResultKind<T> = T extends GpuTensor ? GpuTensor : CpuTensor;

/**
 * The mLSTMexp recurrent loop on the GPU (sequence kernel `native_sequence__webgpu`, upstream
 * `native_sequence__triton`): spec §1 token by token from the initial states (all or none;
 * zeros otherwise, including `m₀ = 0`). GPU tensors in → GPU tensors out (the caller releases
 * them); CPU tensors in → CPU tensors out.
 */
export async function mlstmRecurrentSequenceWebgpu<T extends TensorLike>(
  ctx: GpuContext,
  args: RecurrentSequenceWebgpuArgs<T>,
): Promise<RecurrentSequenceWebgpuResult<ResultKind<T>>> {
  const context = 'mlstmRecurrentSequenceWebgpu';
  const d = validateSequence(args, context);
  const hasStates = validateStates(args, d, context);
  const eps = validateEps(args.eps ?? DEFAULT_EPS, context);
  const returnLast = args.returnLastStates ?? false;
  if (typeof returnLast !== 'boolean') {
    throw new KernelArgumentError('returnLastStates', 'a boolean', String(returnLast), context);
  }
  const dtype = resolveDtype(ctx, args.q, args.dtype, context);
  for (const name of ['k', 'v'] as const) {
    const t = args[name];
    if (t instanceof GpuTensor && t.dtype !== dtype) {
      throw new KernelArgumentError(name, `dtype '${dtype}' (the dtype of q)`, `'${t.dtype}'`, context);
    }
  }
  const { B, NH, S, DHQK, DHHV } = d;
  const BH = B * NH;
  const E = BYTES_PER_ELEMENT[dtype];
  checkSizes(
    ctx,
    {
      q: BH * S * DHQK * E,
      k: BH * S * DHQK * E,
      v: BH * S * DHHV * E,
      h: BH * S * DHHV * E,
      c: BH * DHQK * DHHV * 4,
      n: BH * DHQK * 4,
    },
    context,
  );

  const scope = new CallScope(ctx, args.q);
  const created: GpuTensor[] = [];
  const fresh = (shape: number[], dt: GpuDtype = 'f32') => {
    const t = ctx.empty(shape, dt);
    created.push(t);
    return t;
  };
  try {
    const q = scope.gpu(args.q, dtype);
    const k = scope.gpu(args.k, dtype);
    const v = scope.gpu(args.v, dtype);
    const i = scope.gpu(args.i);
    const f = scope.gpu(args.f);
    const init = hasStates
      ? { c: scope.gpu(args.cInitial!), n: scope.gpu(args.nInitial!), m: scope.gpu(args.mInitial!) }
      : null;
    const h = fresh([B, NH, S, DHHV], dtype);
    // C is updated in place; n and m alternate between two buffer sets, so that the fused
    // kernel (which needs the old n, m readable while it writes the new ones) can be used
    const c = fresh([B, NH, DHQK, DHHV]);
    const sets = [0, 1].map(() => ({ c, n: fresh([B, NH, DHQK]), m: fresh([B, NH, 1]) }));
    const batch = ctx.batch();
    const scratch = batch.scratch([BH * STEP_SCRATCH_PER_HEAD]);
    const dims = { BH, S, DHQK, DHHV };
    for (let t = 0; t < S; t++) {
      encodeRecurrentStep(ctx, batch, {
        dims,
        t,
        dtype,
        eps,
        q,
        k,
        v,
        i,
        f,
        state: t === 0 ? init : sets[(t - 1) % 2],
        out: { h, ...sets[t % 2] },
        scratch,
      });
    }
    batch.submit();
    const last = sets[(S - 1) % 2];
    const other = sets[S % 2];
    // released after the submit: later uses of these pooled buffers are ordered after it
    other.n.release();
    other.m.release();
    let result: RecurrentSequenceWebgpuResult;
    if (returnLast) {
      result = { h, lastStates: last };
    } else {
      c.release();
      last.n.release();
      last.m.release();
      result = { h };
    }
    return (await scope.finish(
      result as unknown as Record<string, unknown>,
    )) as unknown as RecurrentSequenceWebgpuResult<ResultKind<T>>;
  } catch (e) {
    scope.abort();
    for (const t of created) t.release();
    throw e;
  }
}
