/**
 * `config.json` of a transformers xLSTM model (`model_type: "xlstm"`), parsed with the defaults of
 * transformers 5.17.0 (model spec §2). Unknown keys are kept in `raw` and otherwise ignored; bad
 * values throw {@link XlstmConfigError} naming the key. Kernel names (including upstream Triton
 * ones) are informational and never rejected: they are mapped to this project's names.
 */
import { XlstmConfigError } from './errors.js';

export type WeightMode = 'single' | 'fused';
export type XlstmMode = 'inference' | 'train' | 'train_with_padding';

/** The parsed config: every spec key (camelCase) plus the derived dimensions. */
export interface XlstmConfig {
  vocabSize: number;
  /** model width H (`embedding_dim ?? hidden_size`) */
  hiddenSize: number;
  /** blocks actually built (`num_blocks ?? num_hidden_layers`) */
  numBlocks: number;
  numHeads: number;
  useBias: boolean;
  normReductionForceFloat32: boolean;
  tieWordEmbeddings: boolean;
  addOutNorm: boolean;
  normEps: number;
  qkDimFactor: number;
  vDimFactor: number;
  chunkwiseKernel: string;
  sequenceKernel: string;
  stepKernel: string;
  mode: XlstmMode;
  chunkSize: number;
  returnLastStates: boolean;
  autocastKernelDtype: string;
  /** epsilon of the mLSTM output denominator (not of the norms) */
  eps: number;
  inferenceStateDtype: string;
  ffnProjFactor: number;
  ffnRoundUpToMultipleOf: number;
  gateSoftCap: number;
  /** null = no cap */
  outputLogitSoftCap: number | null;
  weightMode: WeightMode;
  useCache: boolean;
  padTokenId: number | null;
  bosTokenId: number | null;
  /** one or more ids (transformers allows a list) */
  eosTokenId: number[];
  maxInferenceChunksize: number;
  /** derived (layer formula `int(H·factor)`, spec §2.1) */
  dims: XlstmDims;
  /** the kernel keys mapped to this project's kernel names */
  kernels: { chunkwise: string; sequence: string; step: string };
  /** the JSON object as given */
  raw: Record<string, unknown>;
}

export interface XlstmDims {
  H: number;
  NH: number;
  /** total q/k width int(H·qk_dim_factor) */
  Dqk: number;
  /** total v width int(H·v_dim_factor) */
  Dv: number;
  dqk: number;
  dv: number;
  /** FFN hidden width round_up(H·ffn_proj_factor, multiple) */
  F: number;
  V: number;
  blocks: number;
}

/** `round_up(x, m) = floor((x + m − 1) / m) · m` with x possibly fractional (spec §2.2). */
export function roundUp(x: number, m: number): number {
  return Math.floor((x + m - 1) / m) * m;
}

/** Maps upstream kernel names (Triton) to this project's (WebGPU); others pass through. */
export function mapKernelName(name: string): string {
  return name
    .replace(/^chunkwise--triton_/, 'chunkwise--webgpu_')
    .replace(/^parallel--triton_/, 'parallel--webgpu_')
    .replace(/^native_sequence__triton$/, 'native_sequence__webgpu')
    .replace(/^triton$/, 'webgpu');
}

type Obj = Record<string, unknown>;

function int(raw: Obj, key: string, def: number | null, min = 1): number | null {
  const v = raw[key];
  if (v === undefined) return def;
  if (v === null) {
    if (def === null) return null;
    throw new XlstmConfigError(key, `expected an integer >= ${min}, got null`);
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new XlstmConfigError(key, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function float(raw: Obj, key: string, def: number, opts: { positive?: boolean; nullable?: boolean } = {}) {
  const v = raw[key];
  if (v === undefined) return def;
  if (v === null && opts.nullable) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || (opts.positive && !(v > 0))) {
    throw new XlstmConfigError(
      key,
      `expected a finite ${opts.positive ? 'positive ' : ''}number${opts.nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function bool(raw: Obj, key: string, def: boolean): boolean {
  const v = raw[key];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw new XlstmConfigError(key, `expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function str(raw: Obj, key: string, def: string, allowed?: readonly string[]): string {
  const v = raw[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string') throw new XlstmConfigError(key, `expected a string, got ${JSON.stringify(v)}`);
  if (allowed && !allowed.includes(v)) {
    throw new XlstmConfigError(key, `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}, got "${v}"`);
  }
  return v;
}

/**
 * Parses a config.json object (or its text). H = `embedding_dim ?? hidden_size`, blocks =
 * `num_blocks ?? num_hidden_layers`; both present and different → error.
 */
export function parseXlstmConfig(input: string | Record<string, unknown>): XlstmConfig {
  let raw: Obj;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input) as Obj;
    } catch (e) {
      throw new XlstmConfigError('(file)', `not valid JSON: ${(e as Error).message}`);
    }
  } else raw = input;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new XlstmConfigError('(file)', 'expected a JSON object');
  }
  if (raw.model_type !== undefined && raw.model_type !== 'xlstm') {
    throw new XlstmConfigError('model_type', `expected "xlstm", got ${JSON.stringify(raw.model_type)}`);
  }
  const hidden = int(raw, 'hidden_size', 4096)!;
  const emb = int(raw, 'embedding_dim', null);
  if (raw.hidden_size !== undefined && emb !== null && emb !== hidden) {
    throw new XlstmConfigError('embedding_dim', `${emb} disagrees with hidden_size = ${hidden}`);
  }
  const H = emb ?? hidden;
  const layers = int(raw, 'num_hidden_layers', 32)!;
  const nb = int(raw, 'num_blocks', null);
  if (raw.num_hidden_layers !== undefined && nb !== null && nb !== layers) {
    throw new XlstmConfigError('num_blocks', `${nb} disagrees with num_hidden_layers = ${layers}`);
  }
  const blocks = nb ?? layers;
  const NH = int(raw, 'num_heads', 8)!;
  const V = int(raw, 'vocab_size', 50304)!;
  const qkDimFactor = float(raw, 'qk_dim_factor', 0.5, { positive: true })!;
  const vDimFactor = float(raw, 'v_dim_factor', 1.0, { positive: true })!;
  const ffnProjFactor = float(raw, 'ffn_proj_factor', 2.667, { positive: true })!;
  const ffnRound = int(raw, 'ffn_round_up_to_multiple_of', 64)!;
  const Dqk = Math.floor(H * qkDimFactor);
  const Dv = Math.floor(H * vDimFactor);
  if (Dqk < NH || Dqk % NH !== 0) {
    throw new XlstmConfigError(
      'qk_dim_factor',
      `int(H·qk_dim_factor) = ${Dqk} is not a multiple of num_heads = ${NH}`,
    );
  }
  if (Dv < NH || Dv % NH !== 0) {
    throw new XlstmConfigError(
      'v_dim_factor',
      `int(H·v_dim_factor) = ${Dv} is not a multiple of num_heads = ${NH}`,
    );
  }
  const F = roundUp(H * ffnProjFactor, ffnRound);
  const tokenId = (key: string, def: number | null) => int(raw, key, def, 0);
  let eos: number[] = [2];
  const eosRaw = raw.eos_token_id;
  if (eosRaw === null) eos = [];
  else if (Array.isArray(eosRaw)) {
    eos = eosRaw.map((x) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) {
        throw new XlstmConfigError('eos_token_id', `expected token ids, got ${JSON.stringify(eosRaw)}`);
      }
      return x;
    });
  } else if (eosRaw !== undefined) eos = [tokenId('eos_token_id', 2)!];
  const chunkwiseKernel = str(raw, 'chunkwise_kernel', 'chunkwise--native_autograd');
  const sequenceKernel = str(raw, 'sequence_kernel', 'native_sequence__native');
  const stepKernel = str(raw, 'step_kernel', 'native');
  const normEps = float(raw, 'norm_eps', 1e-6, { positive: true })!;
  const eps = float(raw, 'eps', 1e-6, { positive: true })!;
  const gateSoftCap = float(raw, 'gate_soft_cap', 15, { positive: true })!;
  return {
    vocabSize: V,
    hiddenSize: H,
    numBlocks: blocks,
    numHeads: NH,
    useBias: bool(raw, 'use_bias', false),
    normReductionForceFloat32: bool(raw, 'norm_reduction_force_float32', true),
    tieWordEmbeddings: bool(raw, 'tie_word_embeddings', false),
    addOutNorm: bool(raw, 'add_out_norm', true),
    normEps,
    qkDimFactor,
    vDimFactor,
    chunkwiseKernel,
    sequenceKernel,
    stepKernel,
    mode: str(raw, 'mode', 'inference', ['inference', 'train', 'train_with_padding']) as XlstmMode,
    chunkSize: int(raw, 'chunk_size', 64)!,
    returnLastStates: bool(raw, 'return_last_states', true),
    autocastKernelDtype: str(raw, 'autocast_kernel_dtype', 'bfloat16'),
    eps,
    inferenceStateDtype: str(raw, 'inference_state_dtype', 'float32', ['float32', 'bfloat16', 'float16']),
    ffnProjFactor,
    ffnRoundUpToMultipleOf: ffnRound,
    gateSoftCap,
    outputLogitSoftCap: float(raw, 'output_logit_soft_cap', 30, { positive: true, nullable: true }),
    weightMode: str(raw, 'weight_mode', 'single', ['single', 'fused']) as WeightMode,
    useCache: bool(raw, 'use_cache', true),
    padTokenId: tokenId('pad_token_id', 1),
    bosTokenId: tokenId('bos_token_id', 0),
    eosTokenId: eos,
    maxInferenceChunksize: int(raw, 'max_inference_chunksize', 16384)!,
    dims: { H, NH, Dqk, Dv, dqk: Dqk / NH, dv: Dv / NH, F, V, blocks },
    kernels: {
      chunkwise: mapKernelName(chunkwiseKernel),
      sequence: mapKernelName(sequenceKernel),
      step: mapKernelName(stepKernel),
    },
    raw,
  };
}
