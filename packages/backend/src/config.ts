/**
 * `MlstmBackendConfig` (upstream `mLSTMBackendConfig`, spec §8.1): defaults, validation and the
 * mapping from an upstream (Python, snake_case, `triton_*`) config.
 */
import { DEFAULT_EPS, type MlstmDtype, normalizeDtype } from '@mlstm/core-reference';
import type { GpuDtype } from '@mlstm/kernels-webgpu';
import { MlstmBackendConfigError, MlstmKernelNotFoundError } from './errors.js';
import {
  getMlstmKernel,
  MLSTM_SEQUENCE_KERNELS,
  MLSTM_SEQUENCE_LOOP_KERNELS,
  MLSTM_STEP_KERNELS,
  type MlstmKernelSpecifier,
  type MlstmSequenceLoopKernelName,
  type MlstmStepKernelName,
} from './registry.js';

/** `train`: the chunkwise kernel on the whole sequence; `train_with_padding`: the same after zero
 * padding to a multiple of the chunk size; `inference`: any length, states carried (spec §6.3). */
export type MlstmBackendMode = 'train' | 'train_with_padding' | 'inference';

/**
 * Dtype names: `'f32' | 'f16' | 'bf16'`, the spelling of every @mlstm package. The upstream names
 * `'float32' | 'float16' | 'bfloat16'` are deprecated aliases, still accepted (and mapped, without a
 * warning); a resolved config holds the short names.
 */
export type MlstmDtypeName = MlstmDtype | 'float32' | 'float16' | 'bfloat16';

export interface MlstmBackendConfig {
  /** kernel for training and for the chunked part of inference (default `chunkwise--native_custbw`) */
  chunkwiseKernel: MlstmKernelSpecifier;
  /** kernel for inference remainders shorter than 16 tokens (default `native_sequence__native`) */
  sequenceKernel: MlstmSequenceLoopKernelName;
  /** kernel for single-token inference (default `native`) */
  stepKernel: MlstmStepKernelName;
  /** default mode of `forward` (default `train`) */
  mode: MlstmBackendMode;
  /** chunk size of the chunkwise kernel and padding multiple (default 64) */
  chunkSize: number;
  /** training modes: return the last states (default true; must be false for parallel kernels and train_with_padding) */
  returnLastStates: boolean;
  /**
   * Storage dtype of q, k, v, h on the GPU when the backend uploads CPU inputs for a WebGPU kernel
   * (default `float32`; see the README: `float16` maps to WGSL `f16` where the adapter has
   * `shader-f16`, else f32; `bfloat16` to f32, since f16 would saturate bfloat16's range). GPU inputs keep their dtype. CPU kernels always compute in float64.
   */
  autocastKernelDtype: MlstmDtypeName;
  /** added to the normaliser (default 1e-6) */
  eps: number;
  /**
   * Inference: dtype of the returned states (default `float32`). CPU: the states are rounded to it
   * (stored in a Float32Array). GPU: always f32 (the WebGPU kernels keep states in f32).
   */
  inferenceStateDtype: MlstmDtypeName;
  /** siging kernels: divide by the normaliser (default true; training modes) */
  normalizeSiging: boolean;
}

/**
 * Defaults. Upstream's `chunkwise--native_autograd` has no counterpart here (autograd); its
 * closest twin is `chunkwise--native_custbw` (same forward, hand-written backward, CPU, no GPU
 * needed). Upstream's `autocast_kernel_dtype = bfloat16` only acts inside a torch autocast region
 * (elsewhere the kernel runs in the input dtype), so the effective upstream behaviour for float32
 * inputs is float32: that is our default.
 */
export const DEFAULT_MLSTM_BACKEND_CONFIG: Readonly<MlstmBackendConfig> = Object.freeze({
  chunkwiseKernel: 'chunkwise--native_custbw',
  sequenceKernel: 'native_sequence__native',
  stepKernel: 'native',
  mode: 'train',
  chunkSize: 64,
  returnLastStates: true,
  autocastKernelDtype: 'f32',
  eps: DEFAULT_EPS,
  inferenceStateDtype: 'f32',
  normalizeSiging: true,
});

const MODES: readonly MlstmBackendMode[] = ['train', 'train_with_padding', 'inference'];
const DTYPES: readonly MlstmDtype[] = ['f32', 'f16', 'bf16'];
const list = (xs: readonly string[]) => xs.map((x) => `"${x}"`).join(', ');
const show = (x: unknown) => (typeof x === 'string' ? JSON.stringify(x) : String(x));

/** Fills defaults and validates every field; throws {@link MlstmBackendConfigError} naming the field. */
export function resolveMlstmBackendConfig(config: Partial<MlstmBackendConfig> = {}): MlstmBackendConfig {
  if (typeof config !== 'object' || config === null)
    throw new MlstmBackendConfigError('config', 'an object', show(config));
  const known = new Set(Object.keys(DEFAULT_MLSTM_BACKEND_CONFIG));
  for (const key of Object.keys(config)) {
    if (!known.has(key)) {
      throw new MlstmBackendConfigError(
        key,
        `a known field (${[...known].join(', ')}; upstream snake_case configs go through fromPythonConfig())`,
        'an unknown field',
      );
    }
  }
  const c: MlstmBackendConfig = { ...DEFAULT_MLSTM_BACKEND_CONFIG };
  for (const [key, value] of Object.entries(config))
    if (value !== undefined) (c as unknown as Record<string, unknown>)[key] = value;

  const oneOf = (field: keyof MlstmBackendConfig, allowed: readonly string[]) => {
    const v = c[field];
    if (typeof v !== 'string' || !allowed.includes(v)) {
      if (field === 'chunkwiseKernel' || field === 'sequenceKernel' || field === 'stepKernel')
        throw new MlstmKernelNotFoundError(field, v, allowed, 'MlstmBackendConfig');
      throw new MlstmBackendConfigError(field, `one of ${list(allowed)}`, show(v));
    }
  };
  oneOf('chunkwiseKernel', MLSTM_SEQUENCE_KERNELS);
  oneOf('sequenceKernel', MLSTM_SEQUENCE_LOOP_KERNELS);
  oneOf('stepKernel', MLSTM_STEP_KERNELS);
  oneOf('mode', MODES);
  for (const field of ['autocastKernelDtype', 'inferenceStateDtype'] as const) {
    try {
      c[field] = normalizeDtype(field, c[field], DTYPES, 'MlstmBackendConfig');
    } catch {
      throw new MlstmBackendConfigError(
        field,
        `one of ${list(DTYPES)} (or the aliases "float32", "float16", "bfloat16")`,
        show(c[field]),
      );
    }
  }
  if (!Number.isInteger(c.chunkSize) || c.chunkSize < 1)
    throw new MlstmBackendConfigError('chunkSize', 'a positive integer', show(c.chunkSize));
  const kernel = getMlstmKernel(c.chunkwiseKernel);
  if (kernel.maxChunkSize !== undefined && c.chunkSize > kernel.maxChunkSize) {
    throw new MlstmBackendConfigError(
      'chunkSize',
      `at most ${kernel.maxChunkSize} for ${c.chunkwiseKernel}`,
      show(c.chunkSize),
    );
  }
  if (typeof c.eps !== 'number' || !Number.isFinite(c.eps) || c.eps < 0)
    throw new MlstmBackendConfigError('eps', 'a finite number >= 0', show(c.eps));
  for (const f of ['returnLastStates', 'normalizeSiging'] as const)
    if (typeof c[f] !== 'boolean') throw new MlstmBackendConfigError(f, 'a boolean', show(c[f]));
  // upstream __post_init__
  if (c.returnLastStates && c.chunkwiseKernel.includes('parallel')) {
    throw new MlstmBackendConfigError(
      'returnLastStates',
      `false with a parallel kernel (${c.chunkwiseKernel} has no states)`,
      'true',
    );
  }
  if (c.returnLastStates && c.mode === 'train_with_padding') {
    throw new MlstmBackendConfigError(
      'returnLastStates',
      'false in mode "train_with_padding" (padding would corrupt the last states)',
      'true',
    );
  }
  if (c.mode === 'inference') checkInferenceKernel(c.chunkwiseKernel);
  return c;
}

/** Inference needs a chunkwise mLSTMexp kernel (states in and out, like the step/sequence kernels). */
export function checkInferenceKernel(spec: MlstmKernelSpecifier): void {
  const k = getMlstmKernel(spec);
  if (k.family !== 'chunkwise' || k.gate !== 'exp') {
    throw new MlstmBackendConfigError(
      'chunkwiseKernel',
      'a chunkwise mLSTMexp kernel for mode "inference" (chunkwise--native_custbw, chunkwise--webgpu_xl_chunk, chunkwise--webgpu_limit_chunk)',
      show(spec),
    );
  }
}

/**
 * GPU storage dtype for an autocast dtype name: `f16` for f16 (`float16`) when the adapter has
 * `shader-f16`, else `f32`. bfloat16 is stored as `f32`: WGSL has no bfloat16, and f16 would
 * saturate values beyond ±65 504 that bfloat16 (float32's range) holds; f32 holds them all exactly.
 */
export function gpuDtypeOf(name: MlstmDtypeName, shaderF16: boolean): GpuDtype {
  return (name === 'f16' || name === 'float16') && shaderF16 ? 'f16' : 'f32';
}

/** Upstream kernel names → ours (`triton` → `webgpu`; `native_autograd` → the custbw twin). */
export function mapPythonKernelName(name: unknown): unknown {
  if (typeof name !== 'string') return name;
  const table: Record<string, string> = {
    'chunkwise--native_autograd': 'chunkwise--native_custbw',
    'parallel--native_autograd': 'parallel--native_custbw',
    'parallel--native_stablef_autograd': 'parallel--native_stablef_custbw',
    'parallel--native_siging_autograd': 'parallel--native_siging_custbw',
    native_sequence__triton: 'native_sequence__webgpu',
    triton: 'webgpu',
  };
  return table[name] ?? name.replace(/triton/g, 'webgpu');
}

const PYTHON_KEYS: Record<string, keyof MlstmBackendConfig> = {
  chunkwise_kernel: 'chunkwiseKernel',
  sequence_kernel: 'sequenceKernel',
  step_kernel: 'stepKernel',
  mode: 'mode',
  chunk_size: 'chunkSize',
  return_last_states: 'returnLastStates',
  autocast_kernel_dtype: 'autocastKernelDtype',
  eps: 'eps',
  inference_state_dtype: 'inferenceStateDtype',
  normalize_siging: 'normalizeSiging',
};

/**
 * Maps an upstream `mLSTMBackendConfig` (snake_case keys, `triton_*` kernel names, dtype names
 * with or without `torch.`) to a validated {@link MlstmBackendConfig}. camelCase keys are accepted
 * too. Missing fields take the upstream defaults where they differ from ours only by name (see
 * README), i.e. our defaults.
 */
export function fromPythonConfig(obj: Record<string, unknown>): MlstmBackendConfig {
  if (typeof obj !== 'object' || obj === null)
    throw new MlstmBackendConfigError('config', 'an object', show(obj), 'fromPythonConfig');
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(obj)) {
    const field =
      PYTHON_KEYS[key] ??
      (key in DEFAULT_MLSTM_BACKEND_CONFIG ? (key as keyof MlstmBackendConfig) : undefined);
    if (!field) {
      throw new MlstmBackendConfigError(
        key,
        `an mLSTMBackendConfig field (${Object.keys(PYTHON_KEYS).join(', ')})`,
        'an unknown key',
        'fromPythonConfig',
      );
    }
    let value = raw;
    if (field === 'chunkwiseKernel' || field === 'sequenceKernel' || field === 'stepKernel')
      value = mapPythonKernelName(raw);
    if ((field === 'autocastKernelDtype' || field === 'inferenceStateDtype') && typeof raw === 'string')
      value = raw.replace(/^torch\./, '');
    out[field] = value;
  }
  return resolveMlstmBackendConfig(out as Partial<MlstmBackendConfig>);
}
