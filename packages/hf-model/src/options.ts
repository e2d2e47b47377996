/**
 * The declared option keys and values of the model's public functions. An unknown key (a misspelt
 * `maxNewToken`) or an unknown value (`weightDtype: 'q8'`) throws `MlstmOptionError` listing the
 * valid ones, before anything is read or uploaded. A new option is one more entry in a list here.
 */
import { checkOneOf, checkOptionKeys, type KeysListed, normalizeDtype } from '@mlstm/core-reference/checks';
import type { ForwardOptions, GenerateOptions, LoadOptions } from './model.js';
import type { SamplingOptions } from './sampling.js';
import type { SourceOptions } from './sources.js';
import { ModelArgumentError } from './errors.js';

/** `SourceOptions` (where and how the files are read). */
export const SOURCE_OPTION_KEYS = ['fetch', 'revision', 'hubUrl', 'cache', 'onProgress', 'signal'] as const;
/** `LoadOptions` of `fromPretrained` / `fromStore`. */
export const LOAD_OPTION_KEYS = [
  ...SOURCE_OPTION_KEYS,
  'device',
  'gpu',
  'dtype',
  'embeddingDtype',
  'lmHeadDtype',
  'quantPrefill',
  'quantDecode',
  'denseDecode',
  'prefillChunkSize',
  'weightDtype',
  'tokenizer',
  'cpuCell',
] as const;
/** Options of `fromRandom`. */
export const RANDOM_OPTION_KEYS = [
  ...LOAD_OPTION_KEYS.filter((k) => k !== 'tokenizer'),
  'seed',
  'init',
] as const;
/** `ForwardOptions`. */
export const FORWARD_OPTION_KEYS = ['cache', 'lastOnly', 'activations'] as const;
/** `SamplingOptions`. */
export const SAMPLING_OPTION_KEYS = ['temperature', 'topK', 'topP', 'repetitionPenalty'] as const;
/** `GenerateOptions` of `generate` / `stream`. */
export const GENERATE_OPTION_KEYS = [
  ...SAMPLING_OPTION_KEYS,
  'maxNewTokens',
  'seed',
  'stopTokens',
  'addBos',
  'onToken',
  'signal',
  'cache',
  'sampling',
] as const;

// a new option of these interfaces must be added to its list above (else these are type errors)
const _complete: [
  KeysListed<SourceOptions, typeof SOURCE_OPTION_KEYS>,
  KeysListed<LoadOptions, typeof LOAD_OPTION_KEYS>,
  KeysListed<
    Omit<LoadOptions, 'tokenizer'> & { seed?: number; init?: 'gpu' | 'cpu' },
    typeof RANDOM_OPTION_KEYS
  >,
  KeysListed<ForwardOptions, typeof FORWARD_OPTION_KEYS>,
  KeysListed<SamplingOptions, typeof SAMPLING_OPTION_KEYS>,
  KeysListed<GenerateOptions, typeof GENERATE_OPTION_KEYS>,
] = [true, true, true, true, true, true];

/** `device`: where the model runs. */
export const DEVICES = ['webgpu', 'cpu', 'auto'] as const;
/** `dtype`: the weight format (aliases such as `'float16'` are mapped); `embeddingDtype` / `lmHeadDtype` the same without `'auto'`. */
export const DTYPES = ['f32', 'f16', 'q8', 'q4', 'auto'] as const;
/** `quantPrefill`: how a prefill multiplies quantised weights. */
export const QUANT_PREFILLS = ['tiles', 'dequantize'] as const;
/** `quantDecode`: how decode-sized matmuls multiply quantised weights. */
export const QUANT_DECODES = ['int8', 'f32'] as const;
/** `denseDecode`: how the decode of several sequences multiplies dense weights. */
export const DENSE_DECODES = ['gemv', 'matrix-units'] as const;
/** `weightDtype` (deprecated alias of `dtype`, dense formats only). */
export const WEIGHT_DTYPES = ['f32', 'f16', 'auto'] as const;
/** `cpuCell`: the mLSTM cell of the CPU path. */
export const CPU_CELLS = ['backend', 'reference'] as const;

/** Checks the keys of `opts` against `keys` and the values of `device`, `weightDtype`, `cpuCell`. */
export function checkLoadOptions(opts: unknown, keys: readonly string[], context: string): LoadOptionValues {
  checkOptionKeys(opts, keys, context);
  return loadOptionValues(opts, context);
}

/** The checked values of `device` (default `'auto'`) and `weightDtype` (default `'auto'`); checks `cpuCell`. */
export function loadOptionValues(opts: unknown, context: string): LoadOptionValues {
  const o = (opts ?? {}) as Record<string, unknown>;
  if (o.cpuCell !== undefined) checkOneOf('cpuCell', o.cpuCell, CPU_CELLS, context);
  const formats = DTYPES.filter((d) => d !== 'auto');
  const opt = <T extends string>(k: string, valid: readonly T[]): T | undefined =>
    o[k] === undefined ? undefined : normalizeDtype(k, o[k], valid, context);
  if (o.quantPrefill !== undefined) checkOneOf('quantPrefill', o.quantPrefill, QUANT_PREFILLS, context);
  if (o.quantDecode !== undefined) checkOneOf('quantDecode', o.quantDecode, QUANT_DECODES, context);
  if (o.denseDecode !== undefined) checkOneOf('denseDecode', o.denseDecode, DENSE_DECODES, context);
  const chunk = o.prefillChunkSize;
  if (chunk !== undefined && !(typeof chunk === 'number' && Number.isInteger(chunk) && chunk >= 1))
    throw new ModelArgumentError('prefillChunkSize', `expected an integer >= 1, got ${String(chunk)}`);
  return {
    device: checkOneOf('device', o.device, DEVICES, context, 'auto'),
    weightDtype: normalizeDtype('weightDtype', o.weightDtype, WEIGHT_DTYPES, context, 'auto'),
    dtype: opt('dtype', DTYPES) ?? opt('weightDtype', WEIGHT_DTYPES),
    embeddingDtype: opt('embeddingDtype', formats),
    lmHeadDtype: opt('lmHeadDtype', formats),
    prefillChunkSize: chunk as number | undefined,
  };
}

/** The checked and normalised values of the load options (`dtype` falls back to `weightDtype`; unset: undefined). */
export interface LoadOptionValues {
  device: (typeof DEVICES)[number];
  weightDtype: (typeof WEIGHT_DTYPES)[number];
  dtype?: (typeof DTYPES)[number];
  embeddingDtype?: Exclude<(typeof DTYPES)[number], 'auto'>;
  lmHeadDtype?: Exclude<(typeof DTYPES)[number], 'auto'>;
  /** the most tokens of one WebGPU prefill call (checked: an integer >= 1) */
  prefillChunkSize?: number;
}
