/**
 * The kernel registry (upstream `get_available_mlstm_kernels` / `get_mlstm_kernel`, spec §7): every
 * training kernel — CPU (`native_*`, from @mlstm/core-reference) and WebGPU (`webgpu_*`, from
 * @mlstm/kernels-webgpu) — behind ONE async signature, so that kernels are interchangeable:
 *
 * ```ts
 * const kernel = getMlstmKernel('chunkwise--webgpu_xl_chunk');
 * const { h, lastStates } = await kernel({ q, k, v, i, f, chunkSize: 64, returnLastStates: true }, { gpu });
 * const { dq, dk, dv, di, df } = await kernel.backward({ q, k, v, i, f, chunkSize: 64, dh }, { gpu });
 * ```
 *
 * Tensors in → the same kind out: CPU tensors give CPU tensors (float64 from the CPU kernels, float32
 * from the GPU kernels), `GpuTensor`s give `GpuTensor`s (the caller releases them). A CPU kernel fed
 * GPU tensors reads them back and uploads its results (f32); a WebGPU kernel fed CPU tensors uploads
 * them (in `dtype`) and reads the results back. GPU tensors need `{ gpu }` — the `GpuContext`
 * that owns them; for CPU tensors a WebGPU kernel uses `device` or a shared default context.
 */
import {
  checkOptionKeys,
  type KeysListed,
  mlstmRecurrentSequence,
  mlstmRecurrentStep,
  referenceSequenceKernels,
  type ReferenceSequenceKernel,
  type Tensor,
} from '@mlstm/core-reference';
import {
  type GpuContext,
  type GpuDtype,
  type GpuTensor,
  getGpuContext,
  KernelArgumentError,
  mlstmChunkwiseLimitChunk,
  mlstmChunkwiseLimitChunkBackward,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  mlstmParallelLimitHeaddim,
  mlstmParallelLimitHeaddimBackward,
  mlstmRecurrentSequenceWebgpu,
  mlstmRecurrentStepWebgpu,
  mlstmSigChunkwiseXlChunk,
  mlstmSigChunkwiseXlChunkBackward,
  releaseSaved,
  type TflaSaved,
  LIMIT_CHUNK,
} from '@mlstm/kernels-webgpu';
import { MlstmKernelNotFoundError } from './errors.js';
import { checkFiniteInputs, isGpu, type TensorLike, toCpu, toGpu } from './tensors.js';

/** Options of every kernel call. */
export interface MlstmKernelOptions {
  /**
   * The `GpuContext` for WebGPU kernels; required when the tensors are `GpuTensor`s (it must be the
   * context that owns them). CPU tensors with a WebGPU kernel and no context use a shared default
   * context ({@link getDefaultGpuContext}).
   */
  gpu?: GpuContext;
  /** @deprecated use `gpu`; a GpuContext given as `device` is taken as `gpu` */
  device?: GpuContext;
  /**
   * Check the input tensors for NaN / ±Infinity before running, and throw `MlstmNonFiniteError`
   * (tensor name, first bad index). Default: on for CPU tensors (one pass over the data), off for
   * GpuTensors (`true` reads them back to check: a copy of every input).
   */
  checkFinite?: boolean;
}

/** The option keys of a registry kernel call (an unknown key is an error). */
export const MLSTM_KERNEL_OPTION_KEYS = [
  'gpu',
  'device',
  'checkFinite',
] as const satisfies readonly (keyof MlstmKernelOptions)[];
// a new option must be added to the list above (else this is a type error)
const _kernelKeysComplete: KeysListed<MlstmKernelOptions, typeof MLSTM_KERNEL_OPTION_KEYS> = true;

/** The mLSTM inputs and optional initial states, common to the kernels and `MlstmBackend.forward`. */
export interface MlstmInputs<T extends TensorLike = TensorLike> {
  /** queries `(B, NH, S, DHQK)` */
  q: T;
  /** keys `(B, NH, S, DHQK)` */
  k: T;
  /** values `(B, NH, S, DHHV)` */
  v: T;
  /** input-gate pre-activations `(B, NH, S)` */
  i: T;
  /** forget-gate pre-activations `(B, NH, S)` */
  f: T;
  /**
   * initial states `(B, NH, DHQK, DHHV)`, `(B, NH, DHQK)`, `(B, NH, 1)`: all three or none (zeros);
   * chunkwise kernels only, and the siging kernel ignores `mInitial`
   */
  cInitial?: T | null;
  nInitial?: T | null;
  mInitial?: T | null;
}

/** Arguments of every training kernel (unused ones are ignored, as upstream's `**kwargs`). */
export interface MlstmKernelArgs<T extends TensorLike = TensorLike> extends MlstmInputs<T> {
  /** chunkwise kernels: also return `{ c, n, m }` after the last token (parallel kernels reject `true`) */
  returnLastStates?: boolean;
  /** default 1e-6 */
  eps?: number;
  /** chunkwise kernels (default 64); must divide S */
  chunkSize?: number;
  /** siging kernels: divide by the normaliser (default true) */
  normalize?: boolean;
  /** WebGPU kernels with CPU inputs: storage dtype of q, k, v, h on the GPU (default 'f32') */
  dtype?: GpuDtype;
  /** WebGPU kernels with GPU inputs: also return `saved` for the backward (release with {@link releaseKernelSaved}) */
  keepSaved?: boolean;
  /**
   * WebGPU training kernels: storage type the kernels run in (default: the inputs'). `'f16'` with
   * f32 inputs converts q, k, v on the GPU and runs the f16 kernels (matrix units where the adapter
   * has them), returning f32 — like upstream's TF32 matrix products for fp32 inputs, at f16 accuracy.
   */
  computeDtype?: GpuDtype;
}

/** Last states of a chunkwise kernel (`m` absent for the siging kernel). */
export interface MlstmKernelStates<T> {
  c: T;
  n: T;
  m?: T;
}

/** Result of a training kernel's forward. */
export interface MlstmKernelResult<T> {
  h: T;
  lastStates?: MlstmKernelStates<T>;
  /** opaque: what a WebGPU backward can reuse (only with `keepSaved` and GPU inputs) */
  saved?: MlstmKernelSaved;
}

/** Opaque tensors a forward kept for the backward. */
export type MlstmKernelSaved = TflaSaved;

/** Releases the tensors of `saved` (idempotent per call site; undefined is ignored). */
export function releaseKernelSaved(saved: MlstmKernelSaved | undefined): void {
  if (saved) releaseSaved(saved);
}

/** Arguments of a training kernel's backward: the forward's plus `dh`. */
export interface MlstmKernelBackwardArgs<T extends TensorLike = TensorLike> extends MlstmKernelArgs<T> {
  /** gradient of `h`, `(B, NH, S, DHHV)` */
  dh: T;
  /** chunkwise kernels: gradient of the returned last `c` */
  dcLast?: T | null;
  /** chunkwise kernels: exact `df` when the loss depends on the returned `c` (default false = upstream, spec §4.5) */
  correctDfForDcLast?: boolean;
  /** from a forward with `keepSaved` (not released by the backward) */
  saved?: MlstmKernelSaved;
}

/** Gradients of the inputs (+ initial states where they were given). */
export interface MlstmKernelGradients<T> {
  dq: T;
  dk: T;
  dv: T;
  di: T;
  df: T;
  dcInitial?: T;
  dnInitial?: T;
  dmInitial?: T;
}

/** Specifiers of the training kernels. */
export const MLSTM_SEQUENCE_KERNELS = [
  'chunkwise--native_custbw',
  'chunkwise--webgpu_limit_chunk',
  'chunkwise--webgpu_xl_chunk',
  'chunkwise--webgpu_xl_chunk_siging',
  'parallel--native_custbw',
  'parallel--native_stablef_custbw',
  'parallel--native_siging_custbw',
  'parallel--webgpu_limit_headdim',
] as const;
/** Specifiers of the sequence-loop kernels (prefill remainders). */
export const MLSTM_SEQUENCE_LOOP_KERNELS = ['native_sequence__native', 'native_sequence__webgpu'] as const;
/** Names of the one-token step kernels. */
export const MLSTM_STEP_KERNELS = ['native', 'webgpu'] as const;

export type MlstmKernelSpecifier = (typeof MLSTM_SEQUENCE_KERNELS)[number];
export type MlstmSequenceLoopKernelName = (typeof MLSTM_SEQUENCE_LOOP_KERNELS)[number];
export type MlstmStepKernelName = (typeof MLSTM_STEP_KERNELS)[number];

/** What runs where. */
export type MlstmPlatform = 'cpu' | 'webgpu';

/** A training kernel: one uniform async signature, GPU in → GPU out, CPU in → CPU out. */
export interface MlstmKernel {
  (args: MlstmKernelArgs<GpuTensor>, options?: MlstmKernelOptions): Promise<MlstmKernelResult<GpuTensor>>;
  (args: MlstmKernelArgs<Tensor>, options?: MlstmKernelOptions): Promise<MlstmKernelResult<Tensor>>;
  (args: MlstmKernelArgs, options?: MlstmKernelOptions): Promise<MlstmKernelResult<TensorLike>>;
  backward(
    args: MlstmKernelBackwardArgs<GpuTensor>,
    options?: MlstmKernelOptions,
  ): Promise<MlstmKernelGradients<GpuTensor>>;
  backward(
    args: MlstmKernelBackwardArgs<Tensor>,
    options?: MlstmKernelOptions,
  ): Promise<MlstmKernelGradients<Tensor>>;
  backward(
    args: MlstmKernelBackwardArgs,
    options?: MlstmKernelOptions,
  ): Promise<MlstmKernelGradients<TensorLike>>;
  /** the specifier, e.g. `chunkwise--webgpu_xl_chunk` */
  readonly specifier: MlstmKernelSpecifier;
  readonly platform: MlstmPlatform;
  /** `chunkwise` (states, chunk size) or `parallel` (no states, any S) */
  readonly family: 'chunkwise' | 'parallel';
  /** input gate: `exp` (mLSTMexp) or `sig` (mLSTMsig, "siging") */
  readonly gate: 'exp' | 'sig';
  /** largest chunk size the kernel accepts (limit_chunk: 64) */
  readonly maxChunkSize?: number;
}

/** Arguments of a step kernel (one token, `(B, NH, D)`; states required). */
export interface MlstmStepKernelArgs<T extends TensorLike = TensorLike> {
  q: T;
  k: T;
  v: T;
  /** `(B, NH, 1)` */
  i: T;
  f: T;
  c: T;
  n: T;
  m: T;
  eps?: number;
  dtype?: GpuDtype;
}

/** `h (B, NH, DHHV)` and the new states. */
export interface MlstmStepKernelResult<T> {
  h: T;
  c: T;
  n: T;
  m: T;
}

/** A step kernel (upstream `native` / `triton` → here `native` / `webgpu`). */
export interface MlstmStepKernel {
  (
    args: MlstmStepKernelArgs<GpuTensor>,
    options?: MlstmKernelOptions,
  ): Promise<MlstmStepKernelResult<GpuTensor>>;
  (args: MlstmStepKernelArgs<Tensor>, options?: MlstmKernelOptions): Promise<MlstmStepKernelResult<Tensor>>;
  (args: MlstmStepKernelArgs, options?: MlstmKernelOptions): Promise<MlstmStepKernelResult<TensorLike>>;
  /** `native` or `webgpu` */
  readonly specifier: MlstmStepKernelName;
  readonly platform: MlstmPlatform;
}

/** A sequence-loop kernel (forward only, mLSTMexp; upstream `native_sequence__*`). */
export interface MlstmSequenceLoopKernel {
  (args: MlstmKernelArgs<GpuTensor>, options?: MlstmKernelOptions): Promise<MlstmKernelResult<GpuTensor>>;
  (args: MlstmKernelArgs<Tensor>, options?: MlstmKernelOptions): Promise<MlstmKernelResult<Tensor>>;
  (args: MlstmKernelArgs, options?: MlstmKernelOptions): Promise<MlstmKernelResult<TensorLike>>;
  /** `native_sequence__native` or `native_sequence__webgpu` */
  readonly specifier: MlstmSequenceLoopKernelName;
  readonly platform: MlstmPlatform;
}

let defaultContext: Promise<GpuContext> | undefined;

/**
 * The shared `GpuContext` used by WebGPU kernels called with CPU tensors and no `device`
 * (created on first use with `getGpuContext()`).
 */
export function getDefaultGpuContext(): Promise<GpuContext> {
  if (!defaultContext) {
    defaultContext = getGpuContext();
    defaultContext.catch(() => {
      defaultContext = undefined;
    });
  }
  return defaultContext;
}

/** The context for a call: `options.gpu` (or the deprecated `options.device`), else (CPU tensors only) the default one. */
async function contextFor(
  args: AnyRecord,
  options: MlstmKernelOptions | undefined,
  context: string,
  needGpu: boolean,
): Promise<GpuContext | undefined> {
  checkOptionKeys(options, MLSTM_KERNEL_OPTION_KEYS, context);
  const given = options?.gpu ?? options?.device;
  if (!given && isGpu(args.q)) {
    throw new KernelArgumentError(
      'options.gpu',
      'the GpuContext that owns the GpuTensor inputs ({ gpu: ctx })',
      'undefined',
      context,
    );
  }
  // before any GPU work (and before the default context is created)
  await checkFiniteInputs(given, args, options?.checkFinite, context);
  return given ?? (needGpu ? getDefaultGpuContext() : undefined);
}

type AnyRecord = Record<string, unknown>;

/** Reads every GpuTensor field of `args` back to the CPU. */
async function argsToCpu(ctx: GpuContext, args: AnyRecord): Promise<AnyRecord> {
  const out: AnyRecord = {};
  for (const [k, v] of Object.entries(args)) out[k] = isGpu(v) ? await toCpu(ctx, v) : v;
  return out;
}

/** Uploads every tensor field of a (possibly nested) CPU result. */
function resultToGpu(ctx: GpuContext, r: unknown, hDtype: GpuDtype): unknown {
  if (r && typeof r === 'object' && 'data' in r && 'shape' in r) return toGpu(ctx, r as Tensor, hDtype);
  if (r && typeof r === 'object') {
    const out: AnyRecord = {};
    for (const [k, v] of Object.entries(r)) {
      if (v === undefined) continue;
      // q/k/v-like tensors keep the input dtype; gates and states are f32
      const dt = ['h', 'dq', 'dk', 'dv'].includes(k) ? hDtype : 'f32';
      out[k] = resultToGpu(ctx, v, dt);
    }
    return out;
  }
  return r;
}

/** Runs a synchronous CPU function on CPU tensors, or on GPU tensors through a read-back + upload. */
async function runCpu<R>(
  args: AnyRecord,
  options: MlstmKernelOptions | undefined,
  context: string,
  fn: (a: AnyRecord) => R,
): Promise<R> {
  const ctx = await contextFor(args as unknown as AnyRecord, options, context, false);
  if (!isGpu(args.q)) return fn(args);
  const hDtype = (args.q as GpuTensor).dtype;
  const r = fn(await argsToCpu(ctx!, args));
  return resultToGpu(ctx!, r, hDtype) as R;
}

/** Drops the backend-only keys before calling a core-reference kernel. */
function cpuArgs(a: AnyRecord): AnyRecord {
  const { dtype: _d, keepSaved: _k, saved: _s, computeDtype: _c, ...rest } = a;
  for (const key of ['cInitial', 'nInitial', 'mInitial', 'dcLast']) if (rest[key] === null) delete rest[key];
  return rest;
}

function cpuKernel(spec: keyof typeof referenceSequenceKernels & MlstmKernelSpecifier): MlstmKernel {
  const ref: ReferenceSequenceKernel = referenceSequenceKernels[spec];
  const forward = (args: MlstmKernelArgs, options?: MlstmKernelOptions) =>
    runCpu(args as unknown as AnyRecord, options, spec, (a) => ref.forward(cpuArgs(a) as never));
  const backward = (args: MlstmKernelBackwardArgs, options?: MlstmKernelOptions) =>
    runCpu(args as unknown as AnyRecord, options, spec, (a) => {
      const { dcStates: _, ...g } = ref.backward(cpuArgs(a) as never) as unknown as AnyRecord;
      return g;
    });
  return Object.assign(forward, {
    backward,
    specifier: spec,
    platform: 'cpu' as const,
    family: spec.startsWith('chunkwise') ? ('chunkwise' as const) : ('parallel' as const),
    gate: ref.gate,
  }) as unknown as MlstmKernel;
}

type GpuFwd = (ctx: GpuContext, a: never) => Promise<unknown>;

function webgpuKernel(
  spec: MlstmKernelSpecifier,
  fwd: GpuFwd,
  bwd: GpuFwd,
  gate: 'exp' | 'sig',
  maxChunkSize?: number,
): MlstmKernel {
  const family = spec.startsWith('chunkwise') ? ('chunkwise' as const) : ('parallel' as const);
  const clean = (a: AnyRecord) => {
    const out = { ...a };
    if (family === 'parallel') delete out.chunkSize;
    if (gate === 'exp') delete out.normalize;
    if (isGpu(a.q)) delete out.dtype;
    return out;
  };
  const forward = async (args: MlstmKernelArgs, options?: MlstmKernelOptions) => {
    const ctx = await contextFor(args as unknown as AnyRecord, options, spec, true);
    return fwd(ctx!, clean(args as unknown as AnyRecord) as never);
  };
  const backward = async (args: MlstmKernelBackwardArgs, options?: MlstmKernelOptions) => {
    const ctx = await contextFor(args as unknown as AnyRecord, options, spec, true);
    return bwd(ctx!, clean(args as unknown as AnyRecord) as never);
  };
  return Object.assign(forward, {
    backward,
    specifier: spec,
    platform: 'webgpu' as const,
    family,
    gate,
    ...(maxChunkSize !== undefined ? { maxChunkSize } : {}),
  }) as unknown as MlstmKernel;
}

const sequenceKernels: Record<MlstmKernelSpecifier, MlstmKernel> = {
  'chunkwise--native_custbw': cpuKernel('chunkwise--native_custbw'),
  'chunkwise--webgpu_limit_chunk': webgpuKernel(
    'chunkwise--webgpu_limit_chunk',
    mlstmChunkwiseLimitChunk as GpuFwd,
    mlstmChunkwiseLimitChunkBackward as GpuFwd,
    'exp',
    LIMIT_CHUNK.maxChunkSize,
  ),
  'chunkwise--webgpu_xl_chunk': webgpuKernel(
    'chunkwise--webgpu_xl_chunk',
    mlstmChunkwiseXlChunk as GpuFwd,
    mlstmChunkwiseXlChunkBackward as GpuFwd,
    'exp',
  ),
  'chunkwise--webgpu_xl_chunk_siging': webgpuKernel(
    'chunkwise--webgpu_xl_chunk_siging',
    mlstmSigChunkwiseXlChunk as GpuFwd,
    mlstmSigChunkwiseXlChunkBackward as GpuFwd,
    'sig',
  ),
  'parallel--native_custbw': cpuKernel('parallel--native_custbw'),
  'parallel--native_stablef_custbw': cpuKernel('parallel--native_stablef_custbw'),
  'parallel--native_siging_custbw': cpuKernel('parallel--native_siging_custbw'),
  'parallel--webgpu_limit_headdim': webgpuKernel(
    'parallel--webgpu_limit_headdim',
    mlstmParallelLimitHeaddim as GpuFwd,
    mlstmParallelLimitHeaddimBackward as GpuFwd,
    'exp',
  ),
};

const stepKernels: Record<MlstmStepKernelName, MlstmStepKernel> = {
  native: Object.assign(
    (args: MlstmStepKernelArgs, options?: MlstmKernelOptions) =>
      runCpu(args as unknown as AnyRecord, options, 'step kernel "native"', (a) =>
        mlstmRecurrentStep(cpuArgs(a) as never),
      ),
    { specifier: 'native' as const, platform: 'cpu' as const },
  ) as unknown as MlstmStepKernel,
  webgpu: Object.assign(
    async (args: MlstmStepKernelArgs, options?: MlstmKernelOptions) => {
      const ctx = await contextFor(args as unknown as AnyRecord, options, 'step kernel "webgpu"', true);
      const a = { ...args } as AnyRecord;
      if (isGpu(a.q)) delete a.dtype;
      return mlstmRecurrentStepWebgpu(ctx!, a as never);
    },
    { specifier: 'webgpu' as const, platform: 'webgpu' as const },
  ) as unknown as MlstmStepKernel,
};

const sequenceLoopKernels: Record<MlstmSequenceLoopKernelName, MlstmSequenceLoopKernel> = {
  native_sequence__native: Object.assign(
    (args: MlstmKernelArgs, options?: MlstmKernelOptions) =>
      runCpu(args as unknown as AnyRecord, options, 'native_sequence__native', (a) => {
        const { chunkSize: _c, normalize: _n, ...rest } = cpuArgs(a);
        return mlstmRecurrentSequence(rest as never);
      }),
    { specifier: 'native_sequence__native' as const, platform: 'cpu' as const },
  ) as unknown as MlstmSequenceLoopKernel,
  native_sequence__webgpu: Object.assign(
    async (args: MlstmKernelArgs, options?: MlstmKernelOptions) => {
      const ctx = await contextFor(args as unknown as AnyRecord, options, 'native_sequence__webgpu', true);
      const {
        chunkSize: _c,
        normalize: _n,
        keepSaved: _k,
        computeDtype: _cd,
        ...a
      } = args as unknown as AnyRecord;
      for (const key of ['cInitial', 'nInitial', 'mInitial']) if (a[key] === null) delete a[key];
      if (isGpu(a.q)) delete a.dtype;
      return mlstmRecurrentSequenceWebgpu(ctx!, a as never);
    },
    { specifier: 'native_sequence__webgpu' as const, platform: 'webgpu' as const },
  ) as unknown as MlstmSequenceLoopKernel,
};

/** Every kernel by registry: training (`chunkwise--…`, `parallel--…`), sequence-loop and step kernels. */
export function getAvailableMlstmKernels(): {
  sequence: MlstmKernelSpecifier[];
  sequenceLoop: MlstmSequenceLoopKernelName[];
  step: MlstmStepKernelName[];
} {
  return {
    sequence: [...MLSTM_SEQUENCE_KERNELS],
    sequenceLoop: [...MLSTM_SEQUENCE_LOOP_KERNELS],
    step: [...MLSTM_STEP_KERNELS],
  };
}

/** Upstream `get_available_mlstm_sequence_kernels()`: the sequence-loop kernels. */
export function getAvailableMlstmSequenceKernels(): MlstmSequenceLoopKernelName[] {
  return [...MLSTM_SEQUENCE_LOOP_KERNELS];
}

/** Upstream `get_available_mlstm_step_kernels()`. */
export function getAvailableMlstmStepKernels(): MlstmStepKernelName[] {
  return [...MLSTM_STEP_KERNELS];
}

function lookup<K extends string, V>(
  table: Record<K, V>,
  name: unknown,
  argument: string,
  context: string,
): V {
  if (typeof name === 'string' && Object.hasOwn(table, name)) return table[name as K];
  throw new MlstmKernelNotFoundError(argument, name, Object.keys(table), context);
}

/**
 * A training kernel by specifier (`chunkwise--…` / `parallel--…`, see
 * {@link getAvailableMlstmKernels}); throws {@link MlstmKernelNotFoundError} listing the valid names.
 */
export function getMlstmKernel(specifier: MlstmKernelSpecifier | (string & {})): MlstmKernel {
  return lookup(sequenceKernels, specifier, 'specifier', 'getMlstmKernel');
}

/** A step kernel by name (`native`, `webgpu`). */
export function getMlstmStepKernel(name: MlstmStepKernelName | (string & {})): MlstmStepKernel {
  return lookup(stepKernels, name, 'name', 'getMlstmStepKernel');
}

/** A sequence-loop kernel by name (`native_sequence__native`, `native_sequence__webgpu`). */
export function getMlstmSequenceKernel(
  name: MlstmSequenceLoopKernelName | (string & {}),
): MlstmSequenceLoopKernel {
  return lookup(sequenceLoopKernels, name, 'name', 'getMlstmSequenceKernel');
}
