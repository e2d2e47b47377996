/**
 * `MlstmBackend.forward({ …, seqStarts })`: N sequences of any lengths packed on the token axis of
 * `(1, NH, T, …)` inputs, per-sequence initial states `(N, NH, …)`, in the training modes (with a
 * backward) and in inference (last states always returned). The packed kernels: core-reference's
 * `mlstmChunkwisePacked` for `chunkwise--native_custbw`, kernels-webgpu's packed xl_chunk /
 * xl_chunk_siging for the WebGPU chunkwise kernels. Results equal separate calls per sequence.
 */
import {
  MlstmArgumentError,
  mlstmChunkwisePacked,
  mlstmChunkwisePackedBackward,
  type SeqStarts,
  type Tensor,
  validateSeqStarts,
} from '@mlstm/core-reference';
import {
  type GpuContext,
  type GpuDtype,
  type GpuTensor,
  mlstmChunkwiseXlChunkPacked,
  mlstmChunkwiseXlChunkPackedBackward,
  mlstmSigChunkwiseXlChunkPacked,
  mlstmSigChunkwiseXlChunkPackedBackward,
} from '@mlstm/kernels-webgpu';
import type { MlstmBackendConfig } from './config.js';
import type { MlstmKernel, MlstmKernelGradients, MlstmKernelStates } from './registry.js';
import { isGpu, type TensorLike, toCpu, toGpu } from './tensors.js';

/** The kernels that take `seqStarts`. */
export const PACKED_KERNELS = [
  'chunkwise--native_custbw',
  'chunkwise--webgpu_xl_chunk',
  'chunkwise--webgpu_xl_chunk_siging',
] as const;

type Fn = (ctx: GpuContext, a: never) => Promise<unknown>;
const webgpu: Record<string, { fw: Fn; bw: Fn }> = {
  'chunkwise--webgpu_xl_chunk': {
    fw: mlstmChunkwiseXlChunkPacked as Fn,
    bw: mlstmChunkwiseXlChunkPackedBackward as Fn,
  },
  'chunkwise--webgpu_xl_chunk_siging': {
    fw: mlstmSigChunkwiseXlChunkPacked as Fn,
    bw: mlstmSigChunkwiseXlChunkPackedBackward as Fn,
  },
};

/** What the backend hands to a packed run. */
export interface PackedRun {
  kernel: MlstmKernel;
  config: Readonly<MlstmBackendConfig>;
  /** the context for WebGPU kernels or GPU tensors */
  ctx: GpuContext | undefined;
  /** storage dtype of q, k, v on the GPU for CPU inputs of a WebGPU kernel */
  dtype: GpuDtype | undefined;
}

/** The packed inputs. */
export interface PackedInputs {
  q: TensorLike;
  k: TensorLike;
  v: TensorLike;
  i: TensorLike;
  f: TensorLike;
  cInitial?: TensorLike | null;
  nInitial?: TensorLike | null;
  mInitial?: TensorLike | null;
  seqStarts: SeqStarts;
}

const fmt = (s: readonly number[]) => `(${s.join(', ')})`;

/**
 * Checks the packed layout before any work: B = 1, shapes, `seqStarts` against T and the number
 * of initial states (typed errors naming `seqStarts`), and that the kernel takes packed input.
 * Returns the number of sequences.
 */
export function validatePacked(kernel: MlstmKernel, a: PackedInputs, context: string): number {
  if (!(PACKED_KERNELS as readonly string[]).includes(kernel.specifier)) {
    throw new MlstmArgumentError(
      'seqStarts',
      `a chunkwise kernel that takes packed sequences (${PACKED_KERNELS.join(', ')})`,
      `chunkwiseKernel ${kernel.specifier}`,
      context,
    );
  }
  const shape = (name: string, t: unknown) => {
    const s = (t as TensorLike | undefined)?.shape;
    if (!Array.isArray(s)) throw new MlstmArgumentError(name, 'a tensor', String(t), context);
    return s as readonly number[];
  };
  const qs = shape('q', a.q);
  if (qs.length !== 4 || qs[0] !== 1) {
    throw new MlstmArgumentError(
      'q',
      'shape (1, NH, T, DHQK): with seqStarts the sequences are packed along the token axis',
      `shape ${fmt(qs)}`,
      context,
    );
  }
  const [, NH, T, DHQK] = qs;
  const DHHV = shape('v', a.v)[3];
  const want: [string, unknown, number[]][] = [
    ['k', a.k, [1, NH, T, DHQK]],
    ['v', a.v, [1, NH, T, DHHV]],
    ['i', a.i, [1, NH, T]],
    ['f', a.f, [1, NH, T]],
  ];
  for (const [name, t, w] of want) {
    const s = shape(name, t);
    if (s.length !== w.length || s.some((d, x) => d !== w[x]))
      throw new MlstmArgumentError(name, `shape ${fmt(w)}`, `shape ${fmt(s)}`, context);
  }
  const c = a.cInitial != null ? shape('cInitial', a.cInitial) : undefined;
  const N = validateSeqStarts(a.seqStarts, T, context, c ? c[0] : undefined);
  const names = ['cInitial', 'nInitial', 'mInitial'] as const;
  const given = names.filter((n) => a[n] != null);
  if (given.length > 0 && given.length < 3) {
    throw new MlstmArgumentError(
      names.find((n) => a[n] == null)!,
      'all of cInitial, nInitial, mInitial or none',
      'undefined',
      context,
    );
  }
  if (given.length === 3) {
    const states: [string, unknown, number[]][] = [
      ['cInitial', a.cInitial, [N, NH, DHQK, DHHV]],
      ['nInitial', a.nInitial, [N, NH, DHQK]],
      ['mInitial', a.mInitial, [N, NH, 1]],
    ];
    for (const [name, t, w] of states) {
      const s = shape(name, t);
      if (s.length !== w.length || s.some((d, x) => d !== w[x]))
        throw new MlstmArgumentError(name, `shape (N, …) = ${fmt(w)}`, `shape ${fmt(s)}`, context);
    }
  }
  return N;
}

type AnyRecord = Record<string, unknown>;

/** The kernel's arguments for a packed call (states dropped when absent). */
function kernelArgs(run: PackedRun, a: PackedInputs, extra: AnyRecord): AnyRecord {
  const out: AnyRecord = {
    q: a.q,
    k: a.k,
    v: a.v,
    i: a.i,
    f: a.f,
    seqStarts: a.seqStarts,
    chunkSize: run.config.chunkSize,
    eps: run.config.eps,
    ...(run.kernel.gate === 'sig' ? { normalize: run.config.normalizeSiging } : {}),
    ...extra,
  };
  if (a.cInitial != null)
    Object.assign(out, { cInitial: a.cInitial, nInitial: a.nInitial, mInitial: a.mInitial });
  return out;
}

/** Runs a CPU packed function on CPU tensors, or on GPU tensors through a read-back + upload. */
async function onCpu<R>(run: PackedRun, args: AnyRecord, fn: (a: AnyRecord) => R): Promise<R> {
  if (!isGpu(args.q)) return fn(args);
  const ctx = run.ctx!;
  const hDtype = (args.q as GpuTensor).dtype;
  const cpu: AnyRecord = {};
  for (const [k, v] of Object.entries(args)) cpu[k] = isGpu(v) ? await toCpu(ctx, v) : v;
  const r = fn(cpu) as AnyRecord;
  const up = (x: unknown, key: string): unknown => {
    if (x && typeof x === 'object' && 'data' in x)
      return toGpu(ctx, x as Tensor, ['h', 'dq', 'dk', 'dv'].includes(key) ? hDtype : 'f32');
    if (x && typeof x === 'object')
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, up(v, k)]));
    return x;
  };
  return up(r, '') as R;
}

/** The packed forward: `h (1, NH, T, DHHV)` and, when asked for, the last states `(N, NH, …)`. */
export async function packedForward(
  run: PackedRun,
  a: PackedInputs,
  returnLastStates: boolean,
): Promise<{ h: TensorLike; lastStates?: MlstmKernelStates<TensorLike> }> {
  const args = kernelArgs(run, a, {
    returnLastStates,
    ...(run.dtype && !isGpu(a.q) ? { dtype: run.dtype } : {}),
  });
  if (run.kernel.platform === 'cpu') {
    return onCpu(run, args, (x) => {
      const { dtype: _d, ...rest } = x;
      return mlstmChunkwisePacked(rest as never) as {
        h: TensorLike;
        lastStates?: MlstmKernelStates<TensorLike>;
      };
    });
  }
  return (await webgpu[run.kernel.specifier].fw(run.ctx!, args as never)) as {
    h: TensorLike;
    lastStates?: MlstmKernelStates<TensorLike>;
  };
}

/** The packed backward (per-sequence `dcLast (N, NH, DHQK, DHHV)`; `dcInitial (N, …)` with initial states). */
export async function packedBackward(
  run: PackedRun,
  a: PackedInputs,
  dh: TensorLike,
  options: { dcLast?: TensorLike | null; correctDfForDcLast?: boolean },
): Promise<MlstmKernelGradients<TensorLike>> {
  const args = kernelArgs(run, a, {
    dh,
    ...(options.dcLast != null ? { dcLast: options.dcLast } : {}),
    correctDfForDcLast: options.correctDfForDcLast,
    ...(run.dtype && !isGpu(a.q) ? { dtype: run.dtype } : {}),
  });
  if (run.kernel.platform === 'cpu') {
    return onCpu(run, args, (x) => {
      const { dtype: _d, ...rest } = x;
      return mlstmChunkwisePackedBackward(rest as never) as unknown as MlstmKernelGradients<TensorLike>;
    });
  }
  return (await webgpu[run.kernel.specifier].bw(run.ctx!, args as never)) as MlstmKernelGradients<TensorLike>;
}
