/**
 * `MlstmBackend` (upstream `mLSTMBackend`, spec §8.2): one object that runs the configured kernels
 * in the three modes — `train` (chunkwise kernel on the whole sequence, with a backward),
 * `train_with_padding` (zero padding to a multiple of the chunk size, spec §6.4) and `inference`
 * (any length, states carried; spec §6.3).
 */
import {
  arbitraryLengthChunkSizes,
  checkOneOf,
  checkOptionKeys,
  cpuTensorProblem,
  type KeysListed,
  MlstmArgumentError,
  type SeqStarts,
  type Tensor,
  zeros as cpuZeros,
} from '@mlstm/core-reference';
import { type GpuContext, type GpuTensor, roundToF16 } from '@mlstm/kernels-webgpu';
import {
  checkInferenceKernel,
  gpuDtypeOf,
  type MlstmBackendConfig,
  type MlstmBackendMode,
  type MlstmDtypeName,
  resolveMlstmBackendConfig,
} from './config.js';
import {
  getDefaultGpuContext,
  getMlstmKernel,
  getMlstmSequenceKernel,
  getMlstmStepKernel,
  type MlstmKernel,
  type MlstmInputs,
  type MlstmKernelArgs,
  type MlstmKernelGradients,
  type MlstmKernelOptions,
  type MlstmKernelSaved,
  type MlstmKernelStates,
  releaseKernelSaved,
} from './registry.js';
import { packedBackward, packedForward, validatePacked } from './packed.js';
import {
  checkFiniteInputs,
  concatSeq,
  isGpu,
  padSeq,
  releaseAll,
  reshapeOwned,
  sliceSeq,
  type TensorLike,
} from './tensors.js';

/** Arguments of {@link MlstmBackend.forward}. */
export interface MlstmBackendForwardArgs<T extends TensorLike = TensorLike> extends MlstmInputs<T> {
  /** training modes: default `config.returnLastStates` (inference always returns them) */
  returnLastStates?: boolean;
  /** default `config.mode` */
  mode?: MlstmBackendMode;
  /**
   * Packed variable-length sequences: N + 1 offsets into the token axis of `(1, NH, T, …)` inputs;
   * initial and last states (and `dcLast`, `dcInitial`) are then per sequence, `(N, NH, …)`. Any
   * lengths, in every mode ("train_with_padding" runs as "train": nothing needs padding). Kernels:
   * `chunkwise--native_custbw`, `chunkwise--webgpu_xl_chunk`, `chunkwise--webgpu_xl_chunk_siging`.
   */
  seqStarts?: SeqStarts | null;
}

/** Options of a training backward. */
export interface MlstmBackwardOptions<T> {
  /** gradient of the returned last `c` (chunkwise kernels with `returnLastStates`) */
  dcLast?: T | null;
  /** exact `df` when the loss depends on the returned `c` (default false = upstream, spec §4.5) */
  correctDfForDcLast?: boolean;
}

/** Result of a training forward. Call `backward` once, or `release()` if you will not. */
export interface MlstmTrainResult<T> {
  mode: 'train' | 'train_with_padding';
  h: T;
  lastStates?: MlstmKernelStates<T>;
  /**
   * Runs the kernel's backward: `{ dq, dk, dv, di, df }` (+ `dcInitial`, `dnInitial`, `dmInitial`
   * where initial states were given to a chunkwise kernel). One call only: it frees what the
   * forward kept (saved GPU tensors, padded copies). The forward's input tensors must still be alive.
   */
  backward(dh: T, options?: MlstmBackwardOptions<T>): Promise<MlstmKernelGradients<T>>;
  /** Frees what the forward kept for the backward, without running it (idempotent). */
  release(): void;
}

/** Result of an inference forward: `h` and the last states (always). */
export interface MlstmInferenceResult<T> {
  mode: 'inference';
  h: T;
  lastStates: { c: T; n: T; m: T };
}

export type MlstmBackendResult<T> = MlstmTrainResult<T> | MlstmInferenceResult<T>;

/** `device`: where the backend's kernels run. */
export type MlstmDevice = 'webgpu' | 'cpu' | 'auto';
export const MLSTM_DEVICES = ['webgpu', 'cpu', 'auto'] as const satisfies readonly MlstmDevice[];

/** The WebGPU twins of the default CPU kernels (what `device: 'webgpu'` puts in their place). */
const WEBGPU_DEFAULTS = {
  chunkwiseKernel: 'chunkwise--webgpu_xl_chunk',
  sequenceKernel: 'native_sequence__webgpu',
  stepKernel: 'webgpu',
} as const satisfies Partial<MlstmBackendConfig>;

/**
 * The config for a device: the kernels `config` leaves out become the device's defaults; a kernel
 * it names on the other platform is an error naming `device` (`strict`; `'auto'` keeps it).
 */
function configForDevice(
  config: Partial<MlstmBackendConfig>,
  device: 'webgpu' | 'cpu',
  strict = true,
): MlstmBackendConfig {
  const given = resolveMlstmBackendConfig(config);
  const out: Partial<MlstmBackendConfig> = { ...config };
  for (const key of ['chunkwiseKernel', 'sequenceKernel', 'stepKernel'] as const) {
    const name = given[key];
    const onGpu =
      key === 'chunkwiseKernel'
        ? getMlstmKernel(given.chunkwiseKernel).platform === 'webgpu'
        : name.endsWith('webgpu');
    if (config[key] === undefined) {
      if (device === 'webgpu') (out as Record<string, unknown>)[key] = WEBGPU_DEFAULTS[key];
    } else if (strict && onGpu !== (device === 'webgpu')) {
      throw new MlstmArgumentError(
        'device',
        `'${onGpu ? 'webgpu' : 'cpu'}' for ${key} ${JSON.stringify(name)} (or leave ${key} out)`,
        JSON.stringify(device),
        'MlstmBackend',
      );
    }
  }
  return resolveMlstmBackendConfig(out);
}

/** Options of the backend. */
export interface MlstmBackendOptions {
  /**
   * the GpuContext for WebGPU kernels and GPU tensors (default: created on first use); the same
   * option name as in `@mlstm/hf-model` and `@mlstm/bench`. Where the kernels run is chosen by the
   * config's kernel specifiers (`native` = CPU, `webgpu_*` = WebGPU).
   */
  gpu?: GpuContext;
  /**
   * Where the kernels run, as in `@mlstm/hf-model` and transformers.js: `'webgpu'` puts the kernels
   * the config leaves at their defaults on WebGPU (`chunkwise--webgpu_xl_chunk`,
   * `native_sequence__webgpu`, `webgpu`), `'cpu'` keeps the CPU ones; a kernel the config names
   * must run there (else `MlstmArgumentError` naming `device`). `'auto'`: `'webgpu'` when an
   * adapter opens, else `'cpu'`, decided at the first call (or `await backend.ready()`). Default:
   * the config's kernels as they are. A `GpuContext` given here is taken as `gpu` (deprecated).
   */
  device?: MlstmDevice | GpuContext;
  /**
   * Check every input (q, k, v, i, f, initial states, dh) for NaN / ±Infinity and throw
   * `MlstmNonFiniteError` naming the tensor and the first bad index. Default: on for CPU tensors
   * (one pass over the data), off for GpuTensors (`true` reads them back to check them).
   */
  checkFinite?: boolean;
}

/** The option keys of `new MlstmBackend(config, options)` (an unknown key is an error). */
export const MLSTM_BACKEND_OPTION_KEYS = [
  'gpu',
  'device',
  'checkFinite',
] as const satisfies readonly (keyof MlstmBackendOptions)[];
/**
 * The keys of {@link MlstmBackendForwardArgs} (an unknown key, e.g. a misspelt `returnLastState`,
 * is an `MlstmOptionError` listing these).
 */
export const MLSTM_BACKEND_FORWARD_KEYS = [
  'q',
  'k',
  'v',
  'i',
  'f',
  'cInitial',
  'nInitial',
  'mInitial',
  'returnLastStates',
  'mode',
  'seqStarts',
] as const satisfies readonly (keyof MlstmBackendForwardArgs)[];
// a new argument must be added to the list above (else this is a type error)
const _forwardKeysComplete: KeysListed<MlstmBackendForwardArgs, typeof MLSTM_BACKEND_FORWARD_KEYS> = true;
// a new option must be added to the list above (else this is a type error)
const _backendKeysComplete: KeysListed<MlstmBackendOptions, typeof MLSTM_BACKEND_OPTION_KEYS> = true;

const BF16 = new Float32Array(1);
const BF16_BITS = new Uint32Array(BF16.buffer);

/** Rounds to bfloat16 (nearest even), as float32 values. */
function roundToBf16(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let x = 0; x < values.length; x++) {
    BF16[0] = values[x];
    const b = BF16_BITS[0];
    if ((b & 0x7f800000) === 0x7f800000) {
      out[x] = BF16[0];
      continue;
    }
    BF16_BITS[0] = (b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000;
    out[x] = BF16[0];
  }
  return out;
}

/**
 * CPU results in the element type of the CPU inputs: Float32Array inputs give Float32Array results
 * on every path (the CPU kernels compute in float64, the WebGPU kernels in f32; pieces of a split
 * sequence are joined), Float64Array inputs give Float64Array results. GPU tensors pass.
 */
function likeInput<T extends TensorLike | undefined | null>(q: TensorLike, t: T): T {
  if (!t || isGpu(t) || isGpu(q)) return t;
  const want = (q as Tensor).data instanceof Float64Array ? Float64Array : Float32Array;
  const cpu = t as Tensor;
  if (cpu.data instanceof want) return t;
  return { shape: cpu.shape, data: want.from(cpu.data) } as T;
}

/** {@link likeInput} on every tensor field of a result record. */
function allLikeInput<R extends object>(q: TensorLike, r: R): R {
  const out: Record<string, unknown> = { ...(r as Record<string, unknown>) };
  for (const [k, v] of Object.entries(out))
    if (v && typeof v === 'object' && 'shape' in v && 'data' in v) out[k] = likeInput(q, v as TensorLike);
  return out as R;
}

/** A CPU state tensor in the inference state dtype (float32 storage; f16 / bf16 rounding). */
function toStateDtype(t: Tensor, dtype: MlstmDtypeName): Tensor {
  const data =
    dtype === 'f16' || dtype === 'float16'
      ? roundToF16(t.data)
      : dtype === 'bf16' || dtype === 'bfloat16'
        ? roundToBf16(t.data)
        : Float32Array.from(t.data);
  return { shape: [...t.shape], data };
}

/**
 * The configurable mLSTM backend.
 *
 * ```ts
 * const backend = new MlstmBackend({ mode: 'inference', chunkwiseKernel: 'chunkwise--webgpu_xl_chunk',
 *   sequenceKernel: 'native_sequence__webgpu', stepKernel: 'webgpu', chunkSize: 64 });
 * const { h, lastStates } = await backend.forward({ q, k, v, i, f });
 * ```
 */
export class MlstmBackend {
  private cfg: Readonly<MlstmBackendConfig>;
  private kernel: MlstmKernel;
  private device: GpuContext | undefined;
  private readonly checkFinite: boolean | undefined;
  /** `device: 'auto'` not yet decided: the config as given, to place at the first call */
  private pendingAuto: Partial<MlstmBackendConfig> | null = null;

  constructor(config: Partial<MlstmBackendConfig> = {}, options: MlstmBackendOptions = {}) {
    checkOptionKeys(options, MLSTM_BACKEND_OPTION_KEYS, 'MlstmBackend');
    const d = options.device;
    const ctxAsDevice = d !== null && typeof d === 'object' ? d : undefined;
    const device =
      ctxAsDevice || d === undefined ? undefined : checkOneOf('device', d, MLSTM_DEVICES, 'MlstmBackend');
    this.cfg = Object.freeze(
      device === 'webgpu' || device === 'cpu'
        ? configForDevice(config, device)
        : resolveMlstmBackendConfig(config),
    );
    // 'auto': the kernels are placed at the first call; a kernel named on either platform is kept
    if (device === 'auto') this.pendingAuto = { ...config };
    this.kernel = getMlstmKernel(this.cfg.chunkwiseKernel);
    this.device = options.gpu ?? ctxAsDevice;
    this.checkFinite = options.checkFinite;
  }

  /**
   * The resolved config: defaults filled in, upstream names mapped, the kernels placed for
   * `device` (with `'auto'`: the config as given until the first call or {@link ready}).
   */
  get config(): Readonly<MlstmBackendConfig> {
    return this.cfg;
  }

  /**
   * Decides `device: 'auto'` (WebGPU when an adapter opens, else the CPU) and returns the backend;
   * a no-op for every other device. Every call runs it first.
   */
  async ready(): Promise<this> {
    const given = this.pendingAuto;
    if (!given) return this;
    this.pendingAuto = null;
    let gpu = true;
    try {
      await this.getDevice();
    } catch {
      gpu = false;
    }
    // a kernel the config names decides for itself: only the ones left out are placed
    this.cfg = Object.freeze(configForDevice(given, gpu ? 'webgpu' : 'cpu', false));
    this.kernel = getMlstmKernel(this.cfg.chunkwiseKernel);
    return this;
  }

  /** The GpuContext in use (creates the default one on first call if none was given). */
  async getDevice(): Promise<GpuContext> {
    this.device ??= await getDefaultGpuContext();
    return this.device;
  }

  /** Upstream `extra_repr`. */
  toString(): string {
    return `MlstmBackend(${Object.entries(this.config)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(', ')})`;
  }

  /** Runs the mode of `args.mode ?? config.mode`. */
  forward(args: MlstmBackendForwardArgs<GpuTensor>): Promise<MlstmBackendResult<GpuTensor>>;
  forward(args: MlstmBackendForwardArgs<Tensor>): Promise<MlstmBackendResult<Tensor>>;
  forward(args: MlstmBackendForwardArgs): Promise<MlstmBackendResult<TensorLike>>;
  forward(args: MlstmBackendForwardArgs): Promise<MlstmBackendResult<TensorLike>> {
    const mode = args.mode ?? this.config.mode;
    if (mode === 'inference') return this.inference(args);
    if (mode === 'train' || mode === 'train_with_padding') return this.train({ ...args, mode });
    return Promise.reject(
      new MlstmArgumentError(
        'mode',
        '"train", "train_with_padding" or "inference"',
        String(mode),
        'MlstmBackend.forward',
      ),
    );
  }

  /** Packed sequences (`seqStarts`, see {@link MlstmBackendForwardArgs}) in any mode. */
  private async packed(
    args: MlstmBackendForwardArgs,
    mode: MlstmBackendMode,
  ): Promise<MlstmBackendResult<TensorLike>> {
    const context = 'MlstmBackend.forward (seqStarts)';
    if (mode === 'inference') checkInferenceKernel(this.config.chunkwiseKernel);
    const inputs = { ...args, seqStarts: args.seqStarts! };
    validatePacked(this.kernel, inputs, context);
    const ctx = await this.context(args.q, this.kernel.platform === 'webgpu');
    const dtype =
      !isGpu(args.q) && ctx && this.kernel.platform === 'webgpu'
        ? gpuDtypeOf(this.config.autocastKernelDtype, ctx.features.shaderF16)
        : undefined;
    const run = { kernel: this.kernel, config: this.config, ctx, dtype };
    if (mode === 'inference') {
      const r = await packedForward(run, inputs, true);
      let s = r.lastStates as { c: TensorLike; n: TensorLike; m: TensorLike };
      if (!isGpu(s.c)) {
        const dt = this.config.inferenceStateDtype;
        s = {
          c: toStateDtype(s.c as Tensor, dt),
          n: toStateDtype(s.n as Tensor, dt),
          m: toStateDtype(s.m as Tensor, dt),
        };
      }
      return { mode: 'inference', h: r.h, lastStates: s };
    }
    const returnLastStates = args.returnLastStates ?? this.config.returnLastStates;
    const r = await packedForward(run, inputs, returnLastStates);
    let done = false;
    const backward = async (dh: TensorLike, options: MlstmBackwardOptions<TensorLike> = {}) => {
      if (done) {
        throw new MlstmArgumentError('backward', 'one call per forward', 'a second call', context);
      }
      done = true;
      return packedBackward(run, inputs, dh, options);
    };
    return {
      mode: 'train',
      h: r.h,
      ...(returnLastStates && r.lastStates ? { lastStates: r.lastStates } : {}),
      backward,
      release: () => {
        done = true;
      },
    };
  }

  /** The options of kernel calls: `device` when the tensors are on the GPU or a WebGPU kernel runs. */
  private async context(q: TensorLike, needGpu: boolean): Promise<GpuContext | undefined> {
    if (isGpu(q)) {
      if (!this.device) {
        throw new MlstmArgumentError(
          'gpu',
          'the GpuContext that owns the GpuTensor inputs (new MlstmBackend(config, { gpu: ctx }))',
          'undefined',
          'MlstmBackend.forward',
        );
      }
      return this.device;
    }
    return needGpu ? this.getDevice() : undefined;
  }

  /**
   * Checks the shapes of q, k, v, i, f and of the initial states (all or none) before anything is
   * sliced or padded; throws {@link MlstmArgumentError} naming the argument.
   */
  private static dims(args: MlstmBackendForwardArgs, context: string) {
    const fmt = (s: readonly number[]) => `(${s.join(', ')})`;
    const shapeOf = (name: string, t: unknown): readonly number[] => {
      // the shared check of a CPU tensor: shape, element type, data length
      const problem = isGpu(t) ? null : cpuTensorProblem(t);
      if (problem) throw new MlstmArgumentError(name, problem.expected, problem.received, context);
      const shape = (t as TensorLike | undefined)?.shape;
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
        throw new MlstmArgumentError(name, 'a tensor (CPU tensor or GpuTensor)', String(t), context);
      }
      return shape;
    };
    const expectShape = (name: string, t: unknown, want: number[], dims: string) => {
      const got = shapeOf(name, t);
      if (got.length !== want.length || got.some((d, x) => d !== want[x]))
        throw new MlstmArgumentError(name, `shape ${dims} = ${fmt(want)}`, `shape ${fmt(got)}`, context);
    };
    const qs = shapeOf('q', args.q);
    if (qs.length !== 4)
      throw new MlstmArgumentError('q', 'shape (B, NH, S, DHQK)', `shape ${fmt(qs)}`, context);
    const [B, NH, S, DHQK] = qs;
    expectShape('k', args.k, [B, NH, S, DHQK], '(B, NH, S, DHQK)');
    const DHHV = shapeOf('v', args.v)[3];
    expectShape('v', args.v, [B, NH, S, DHHV], '(B, NH, S, DHHV)');
    expectShape('i', args.i, [B, NH, S], '(B, NH, S)');
    expectShape('f', args.f, [B, NH, S], '(B, NH, S)');
    const names = ['cInitial', 'nInitial', 'mInitial'] as const;
    const given = names.filter((n) => args[n] != null);
    if (given.length > 0 && given.length < 3) {
      const missing = names.find((n) => args[n] == null)!;
      throw new MlstmArgumentError(
        missing,
        'all of cInitial, nInitial, mInitial or none',
        'undefined',
        context,
      );
    }
    if (given.length === 3) {
      expectShape('cInitial', args.cInitial, [B, NH, DHQK, DHHV], '(B, NH, DHQK, DHHV)');
      expectShape('nInitial', args.nInitial, [B, NH, DHQK], '(B, NH, DHQK)');
      expectShape('mInitial', args.mInitial, [B, NH, 1], '(B, NH, 1)');
    }
    return { B, NH, S, DHQK, DHHV };
  }

  /** Training modes (see {@link MlstmTrainResult}). */
  train(args: MlstmBackendForwardArgs<GpuTensor>): Promise<MlstmTrainResult<GpuTensor>>;
  train(args: MlstmBackendForwardArgs<Tensor>): Promise<MlstmTrainResult<Tensor>>;
  train(args: MlstmBackendForwardArgs): Promise<MlstmTrainResult<TensorLike>>;
  async train(args: MlstmBackendForwardArgs): Promise<MlstmTrainResult<TensorLike>> {
    await this.ready();
    const context = 'MlstmBackend.train';
    const mode = args.mode ?? this.config.mode;
    if (mode !== 'train' && mode !== 'train_with_padding')
      throw new MlstmArgumentError('mode', '"train" or "train_with_padding"', JSON.stringify(mode), context);
    checkOptionKeys(args, MLSTM_BACKEND_FORWARD_KEYS, context, 'args');
    if (args.seqStarts != null) return (await this.packed(args, mode)) as MlstmTrainResult<TensorLike>;
    const padding = mode === 'train_with_padding';
    const { S } = MlstmBackend.dims(args, context);
    await checkFiniteInputs(
      this.device,
      args as unknown as Record<string, unknown>,
      this.checkFinite,
      context,
    );
    const kernel = this.kernel;
    const returnLastStates = args.returnLastStates ?? this.config.returnLastStates;
    if (returnLastStates && (padding || kernel.family === 'parallel')) {
      throw new MlstmArgumentError(
        'returnLastStates',
        padding
          ? 'false in mode "train_with_padding" (padding would corrupt the last states)'
          : `false with a parallel kernel (${kernel.specifier} has no states)`,
        'true',
        context,
      );
    }
    const chunkSize = this.config.chunkSize;
    const chunked = kernel.family === 'chunkwise';
    if (chunked && !padding && S % chunkSize !== 0) {
      throw new MlstmArgumentError(
        'q',
        `a sequence length S that is a multiple of chunkSize = ${chunkSize} in mode "train" (use mode "train_with_padding" for any S, or mode "inference")`,
        `S = ${S}`,
        context,
      );
    }
    const ctx = await this.context(args.q, kernel.platform === 'webgpu');
    const opts: MlstmKernelOptions = ctx ? { gpu: ctx, checkFinite: false } : { checkFinite: false };
    const gpuIn = isGpu(args.q);
    const Sp = chunked && padding ? Math.ceil(S / chunkSize) * chunkSize : S;
    const padded = Sp !== S;
    const owned: TensorLike[] = [];
    const inputs = { q: args.q, k: args.k, v: args.v, i: args.i, f: args.f };
    if (padded) {
      for (const key of ['q', 'k', 'v', 'i', 'f'] as const) {
        inputs[key] = await padSeq(ctx, args[key], Sp);
        owned.push(inputs[key]);
      }
    }
    const kArgs: MlstmKernelArgs = {
      ...inputs,
      cInitial: args.cInitial ?? undefined,
      nInitial: args.nInitial ?? undefined,
      mInitial: args.mInitial ?? undefined,
      returnLastStates,
      eps: this.config.eps,
      ...(chunked ? { chunkSize } : {}),
      ...(kernel.gate === 'sig' ? { normalize: this.config.normalizeSiging } : {}),
      ...(kernel.platform === 'webgpu' && !gpuIn && ctx
        ? { dtype: gpuDtypeOf(this.config.autocastKernelDtype, ctx.features.shaderF16) }
        : {}),
      ...(kernel.platform === 'webgpu' && gpuIn ? { keepSaved: true } : {}),
    };
    let r: Awaited<ReturnType<MlstmKernel>>;
    try {
      r = await kernel(kArgs, opts);
    } catch (e) {
      releaseAll(...owned);
      throw e;
    }
    let saved: MlstmKernelSaved | undefined = r.saved;
    let h = r.h;
    if (padded) {
      h = await sliceSeq(ctx, r.h, 0, S);
      releaseAll(r.h);
    }
    let done = false;
    const release = () => {
      releaseKernelSaved(saved);
      saved = undefined;
      releaseAll(...owned);
      owned.length = 0;
      done = true;
    };
    const backward = async (dh: TensorLike, options: MlstmBackwardOptions<TensorLike> = {}) => {
      if (done) {
        throw new MlstmArgumentError(
          'backward',
          'one call per forward (the forward’s saved tensors are freed by the first backward or release())',
          'a second call',
          context,
        );
      }
      await checkFiniteInputs(ctx, { dh, dcLast: options.dcLast }, this.checkFinite, context);
      let dhp = dh;
      if (padded) dhp = await padSeq(ctx, dh, Sp);
      try {
        const g = await kernel.backward(
          {
            ...kArgs,
            keepSaved: undefined,
            dh: dhp,
            dcLast: options.dcLast ?? undefined,
            correctDfForDcLast: options.correctDfForDcLast,
            saved,
          },
          opts,
        );
        if (!padded) return allLikeInput(args.q, g);
        const out = { ...g };
        for (const key of ['dq', 'dk', 'dv', 'di', 'df'] as const) {
          out[key] = await sliceSeq(ctx, g[key], 0, S);
          releaseAll(g[key]);
        }
        return allLikeInput(args.q, out);
      } finally {
        if (padded) releaseAll(dhp);
        release();
      }
    };
    return {
      mode,
      h: likeInput(args.q, h),
      ...(r.lastStates ? { lastStates: allLikeInput(args.q, r.lastStates) } : {}),
      backward,
      release,
    } as MlstmTrainResult<TensorLike>;
  }

  /** Inference (any S ≥ 1; always returns the last states), spec §6.3. */
  inference(args: MlstmBackendForwardArgs<GpuTensor>): Promise<MlstmInferenceResult<GpuTensor>>;
  inference(args: MlstmBackendForwardArgs<Tensor>): Promise<MlstmInferenceResult<Tensor>>;
  inference(args: MlstmBackendForwardArgs): Promise<MlstmInferenceResult<TensorLike>>;
  async inference(args: MlstmBackendForwardArgs): Promise<MlstmInferenceResult<TensorLike>> {
    await this.ready();
    const context = 'MlstmBackend.inference';
    checkInferenceKernel(this.config.chunkwiseKernel);
    checkOptionKeys(args, MLSTM_BACKEND_FORWARD_KEYS, context, 'args');
    if (args.seqStarts != null)
      return (await this.packed(args, 'inference')) as MlstmInferenceResult<TensorLike>;
    const { B, NH, S, DHQK, DHHV } = MlstmBackend.dims(args, context);
    await checkFiniteInputs(
      this.device,
      args as unknown as Record<string, unknown>,
      this.checkFinite,
      context,
    );
    const { eps, chunkSize, stepKernel, sequenceKernel, inferenceStateDtype } = this.config;
    const step = getMlstmStepKernel(stepKernel);
    const loop = getMlstmSequenceKernel(sequenceKernel);
    const kernel = this.kernel;
    const needGpu =
      kernel.platform === 'webgpu' || (S === 1 ? step.platform === 'webgpu' : loop.platform === 'webgpu');
    const ctx = await this.context(args.q, needGpu);
    const opts: MlstmKernelOptions = ctx ? { gpu: ctx, checkFinite: false } : { checkFinite: false };
    const gpuIn = isGpu(args.q);
    const dtype =
      !gpuIn && ctx ? gpuDtypeOf(this.config.autocastKernelDtype, ctx.features.shaderF16) : undefined;
    const given = args.cInitial != null; // all or none (checked by dims)
    // states we own (GPU: released when replaced); the caller's initial states are never released
    let states: { c: TensorLike; n: TensorLike; m: TensorLike } | undefined = given
      ? { c: args.cInitial!, n: args.nInitial!, m: args.mInitial! }
      : undefined;
    let ownStates = false;
    const setStates = (
      s: MlstmKernelStates<TensorLike> | { c: TensorLike; n: TensorLike; m: TensorLike },
    ) => {
      if (ownStates && states) releaseAll(states.c, states.n, states.m);
      states = { c: s.c, n: s.n, m: s.m! };
      ownStates = true;
    };
    const finish = (h: TensorLike): MlstmInferenceResult<TensorLike> => {
      let s = states!; // S ≥ 1: always the states after the last piece (owned by the caller now)
      if (!isGpu(s.c)) {
        s = {
          c: toStateDtype(s.c as Tensor, inferenceStateDtype),
          n: toStateDtype(s.n as Tensor, inferenceStateDtype),
          m: toStateDtype(s.m as Tensor, inferenceStateDtype),
        };
      }
      return { mode: 'inference', h: likeInput(args.q, h), lastStates: s };
    };

    if (S === 1) {
      const squeeze = (t: TensorLike, d: number): TensorLike =>
        isGpu(t) ? t.view([B, NH, d]) : { shape: [B, NH, d], data: (t as Tensor).data };
      let zeroStates: TensorLike[] = [];
      if (!states) {
        const shapes = [
          [B, NH, DHQK, DHHV],
          [B, NH, DHQK],
          [B, NH, 1],
        ];
        zeroStates = shapes.map((s) => (gpuIn ? ctx!.zeros(s) : cpuZeros(s)));
        states = { c: zeroStates[0], n: zeroStates[1], m: zeroStates[2] };
      }
      try {
        const r = await step(
          {
            q: squeeze(args.q, DHQK),
            k: squeeze(args.k, DHQK),
            v: squeeze(args.v, DHHV),
            i: squeeze(args.i, 1),
            f: squeeze(args.f, 1),
            ...states,
            eps,
            ...(dtype ? { dtype } : {}),
          },
          opts,
        );
        setStates(r);
        return finish(reshapeOwned(ctx, r.h, [B, NH, 1, DHHV]));
      } finally {
        releaseAll(...zeroStates);
      }
    }

    const hs: TensorLike[] = [];
    const piece = async (start: number, end: number) => {
      const whole = start === 0 && end === S;
      const take = (t: TensorLike) => (whole ? Promise.resolve(t) : sliceSeq(ctx, t, start, end));
      return {
        q: await take(args.q),
        k: await take(args.k),
        v: await take(args.v),
        i: await take(args.i),
        f: await take(args.f),
        whole,
      };
    };
    const run = async (
      start: number,
      end: number,
      fn: (a: MlstmKernelArgs) => Promise<{ h: TensorLike; lastStates?: MlstmKernelStates<TensorLike> }>,
    ) => {
      const p = await piece(start, end);
      try {
        const r = await fn({
          q: p.q,
          k: p.k,
          v: p.v,
          i: p.i,
          f: p.f,
          ...(states ? { cInitial: states.c, nInitial: states.n, mInitial: states.m } : {}),
          eps,
          returnLastStates: true,
          ...(dtype ? { dtype } : {}),
        });
        hs.push(r.h);
        setStates(r.lastStates!);
      } finally {
        if (!p.whole) releaseAll(p.q, p.k, p.v, p.i, p.f);
      }
    };
    try {
      let start = 0;
      for (const c of arbitraryLengthChunkSizes(chunkSize)) {
        const remaining = S - start;
        if (remaining < c) continue;
        const end = start + Math.floor(remaining / c) * c;
        await run(start, end, (a) => kernel({ ...a, chunkSize: c }, opts));
        start = end;
        if (remaining % c === 0) break;
      }
      if (start < S) await run(start, S, (a) => loop(a, opts));
      const h = hs.length === 1 ? hs[0] : await concatSeq(ctx, hs);
      if (hs.length > 1) releaseAll(...hs);
      return finish(h);
    } catch (e) {
      releaseAll(...hs);
      if (ownStates && states) releaseAll(states.c, states.n, states.m);
      throw e;
    }
  }
}
