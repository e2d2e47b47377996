/**
 * Memory estimate before loading (weights, states, activations) and the check against a GPU
 * adapter's limits.
 */
import type { XlstmConfig } from './config.js';
import { ModelTooLargeError } from './errors.js';
import { matrixBytes, type WeightFormat } from './quant/formats.js';
import { defaultTableFormat } from './quant/pieces.js';

export interface MemoryEstimate {
  parameters: number;
  /** bytes of all weights in the chosen dtype */
  weightBytes: number;
  /** the largest single weight tensor (after load-time fusing) and its bytes */
  largestTensor: { name: string; bytes: number };
  /** recurrent state per sequence (f32 C, n, m of every block) */
  stateBytesPerSequence: number;
  /**
   * The WebGPU prefill's activations for `batch × seqLen` tokens (`generate`'s prefill: the last
   * logits only): the bytes of one call of {@link prefillTokensPerCall} tokens per row at most
   * (longer prompts go through in several calls, which reuse the same buffers)
   */
  activationBytes: number;
  /**
   * Bytes a WebGPU prefill allocates per token of a call ({@link prefillBytesPerToken}; for q8 /
   * q4 the larger of the two `quantPrefill` modes)
   */
  prefillBytesPerToken: number;
  /**
   * The most tokens per row of one WebGPU prefill call under the activation budget (default
   * {@link DEFAULT_PREFILL_BUDGET_BYTES}) or `prefillChunkSize`, and `max_inference_chunksize`;
   * the adapter's binding limits can lower it further (`model.gpuLayout()` reports the value used)
   */
  prefillTokensPerCall: number;
  /**
   * What the WebGPU decode loop (`src/gpu/decode.ts`) allocates for `batch` sequences besides the
   * cache's states: the second state set (a step reads one set and writes the other:
   * `batch × stateBytesPerSequence`), the step's f32 activations (ids, repetition mask, hidden,
   * projections, cell inputs and output, FFN, logits, step scratch) and the two read-back buffers
   * of GPU sampling (of the logits with CPU sampling). Not counted: its uniform buffer (≈ 256 B per recorded dispatch, independent
   * of `batch`) and the pool's rounding of each buffer to its size class.
   */
  decodeBytes: number;
  /**
   * Weights + states of `batch` sequences + the larger of the prefill's activations and the
   * decode loop's buffers (generation holds one, then the other)
   */
  totalBytes: number;
}

export interface MemoryOptions {
  /**
   * Format of the block matrices (default f32). f32 / f16 count every parameter at 4 / 2 bytes;
   * q8 / q4 count the packed matrices (8.5 / 4.5 bits per weight with the f16 scales of each group
   * of 32) and the norms and biases at 4 bytes (they stay f32).
   */
  dtype?: WeightFormat;
  /** the embedding's format (default: f16 for q8, q8 for q4, else `dtype`) */
  embeddingDtype?: WeightFormat;
  /** the lm_head's format (default: as the embedding's) */
  lmHeadDtype?: WeightFormat;
  /** @deprecated the former name of `dtype` */
  weightDtype?: 'f32' | 'f16';
  batch?: number;
  seqLen?: number;
  /** where the decode loop chooses the next ids (`decodeBytes`: 'cpu' reads back the logits; default 'gpu') */
  sampling?: 'gpu' | 'cpu';
  /** the most tokens of one prefill call, as the load option of that name (default: from the activation budget) */
  prefillChunkSize?: number;
  /**
   * quantised weights: the decode's activations, as the load option of that name (`decodeBytes`:
   * 'int8' holds an int8 copy of the widest activation row instead of the SwiGLU output; default
   * 'int8', the default on adapters whose WGSL has the packed dot product)
   */
  quantDecode?: 'int8' | 'f32';
}

/** Estimate for a config and weight formats (see {@link MemoryOptions}). */
export function estimateMemory(config: XlstmConfig, opts: MemoryOptions = {}): MemoryEstimate {
  const { H, NH, Dqk, Dv, dqk, dv, F, V, blocks } = config.dims;
  const dtype = opts.dtype ?? opts.weightDtype ?? 'f32';
  const E = dtype === 'f16' ? 2 : 4;
  const batch = opts.batch ?? 1;
  const seqLen = opts.seqLen ?? 1;
  const bias = config.useBias;
  const perBlock =
    H * (bias ? 2 : 1) * 2 + // the two RMSNorms
    (2 * Dqk + 2 * Dv) * (H + (bias ? 1 : 0)) +
    2 * NH * (H + 1) +
    Dv * (bias ? 2 : 1) +
    H * (Dv + (bias ? 1 : 0)) +
    2 * F * (H + (bias ? 1 : 0)) +
    H * (F + (bias ? 1 : 0));
  const lmHead = config.tieWordEmbeddings ? 0 : V * H;
  const parameters = V * H + blocks * perBlock + H + lmHead;
  const candidates: [string, number][] = [
    ['embedding', V * H],
    ['lm_head', V * H],
    ['qkv_opreact (fused q/k/v/o)', (2 * Dqk + 2 * Dv) * H],
    ['proj_up_gate_z (fused FFN up)', 2 * F * H],
    ['proj_down', H * F],
  ];
  const embF = opts.embeddingDtype ?? defaultTableFormat(dtype);
  const headF = opts.lmHeadDtype ?? defaultTableFormat(dtype);
  const stateBytesPerSequence = blocks * NH * (dqk * dv + dqk + 1) * 4;
  // the prefill in the formats' WebGPU layout; q8 / q4: the larger of 'tiles' (f32 cell, an
  // unfused [T, 2F] FFN product) and 'dequantize' (f16 cell and matmul inputs)
  const quant = dtype === 'q8' || dtype === 'q4';
  const shape: PrefillActivationOptions = {
    cellF16: dtype === 'f16' || quant,
    f16Inputs: dtype === 'f16' || quant,
    fusedGate: !quant,
  };
  const prefillBytes = prefillBytesPerToken(config, shape);
  const perCall = prefillTokensPerCall(config, { ...shape, prefillChunkSize: opts.prefillChunkSize }).tokens;
  const activationBytes = batch * Math.min(seqLen, perCall) * prefillBytes;
  // src/gpu/decode.ts, per sequence in f32 words: ids, seen mask, x / a, the fused projection
  // (+ gates; written as the cell's inputs where a GEMV computes it, else split into q, k, v, i, f
  // by a kernel of its own: quantised weights with f32 activations), h, the gated cell output,
  // up/gate, logits, the step scratch (4 per head), and the SwiGLU output (batch > 1 or a quantised
  // down projection with f32 activations) or, with int8 activations below 32 rows, their scratch
  // (12 words per group of 32 of the widest input); 2 read-back buffers (the ids, or the logits
  // with CPU sampling)
  const quantDown = dtype === 'q8' || dtype === 'q4';
  const int8 =
    (opts.quantDecode ?? 'int8') === 'int8' && batch < 32 && (quantDown || headF === 'q8' || headF === 'q4');
  const actWords = int8 ? 12 * Math.ceil(Math.max(H, Dv, F) / 32) : 0;
  const splitProj = quantDown && !int8;
  const decodeWords =
    1 +
    Math.ceil(V / 32) +
    2 * H +
    (2 * Dqk + 2 * Dv + 2 * NH) +
    (splitProj ? 2 * Dqk + Dv + 2 * NH : 0) +
    2 * Dv +
    2 * F +
    V +
    4 * NH +
    (quantDown ? (int8 ? 0 : F) : batch > 1 ? F : 0) +
    actWords +
    2 * (opts.sampling === 'cpu' ? V : 1);
  const decodeBytes = batch * (stateBytesPerSequence + 4 * decodeWords);
  let weightBytes: number;
  let largestTensor: { name: string; bytes: number };
  const plain = (f: WeightFormat) => f === 'f32' || f === 'f16';
  if (plain(dtype) && embF === dtype && headF === dtype) {
    const [name, n] = candidates.reduce((a, b) => (b[1] > a[1] ? b : a));
    weightBytes = parameters * E;
    largestTensor = { name, bytes: n * E };
  } else {
    // the matrices in their formats (the q/k/v/o and gate rows are one matrix on the GPU), the rest f32
    const mats: [string, WeightFormat, number, number][] = [
      ['embedding', embF, V, H],
      ['qkv_opreact + ifgate (fused)', dtype, 2 * Dqk + 2 * Dv + 2 * NH, H],
      ['out_proj', dtype, H, Dv],
      ['proj_up_gate_z (fused FFN up)', dtype, 2 * F, H],
      ['proj_down', dtype, H, F],
    ];
    if (!config.tieWordEmbeddings || headF !== embF) mats.push(['lm_head', headF, V, H]);
    const per = (name: string) => (name === 'embedding' || name === 'lm_head' ? 1 : blocks);
    let matParams = 0;
    weightBytes = 0;
    largestTensor = { name: '', bytes: 0 };
    for (const [name, f, r, c] of mats) {
      const bytes = matrixBytes(f, r, c);
      matParams += per(name) * r * c;
      weightBytes += per(name) * bytes;
      if (bytes > largestTensor.bytes) largestTensor = { name, bytes };
    }
    // a tied lm_head kept in its own format is one more matrix than the parameters count
    const extraHead = config.tieWordEmbeddings && headF !== embF ? V * H : 0;
    weightBytes += 4 * (parameters + extraHead - matParams);
  }
  return {
    parameters,
    weightBytes,
    largestTensor,
    stateBytesPerSequence,
    activationBytes,
    prefillBytesPerToken: prefillBytes,
    prefillTokensPerCall: perCall,
    decodeBytes,
    totalBytes: weightBytes + batch * stateBytesPerSequence + Math.max(activationBytes, decodeBytes),
  };
}

/**
 * Activations per prefill call by default: 4 GiB (the xLSTM-7B shape in f16: 12 160 tokens per
 * packed call, 14 144 per call of one prompt). WebGPU does not report the device's memory; the
 * pool keeps a call's released buffers for the next call, so this is about what a prefill adds
 * to the weights and states.
 */
export const DEFAULT_PREFILL_BUDGET_BYTES = 4 * 2 ** 30;

/** What a WebGPU prefill call allocates besides the weights (see {@link prefillBytesPerToken}). */
export interface PrefillActivationOptions {
  /** the chunkwise mLSTM cell runs in f16 (f16 weights, or quantised ones dequantised to f16): f16 copies of q, k, v, h */
  cellF16?: boolean;
  /** f16 copies of the matmul inputs (the dense GEMM on the matrix units) */
  f16Inputs?: boolean;
  /** the FFN's SiLU gate in the matmul's epilogue (default true); false: a `[T, 2F]` product too */
  fusedGate?: boolean;
  /** packed sequences (`seqStarts`): the cell's padded copies of its inputs and output */
  packed?: boolean;
  /** the logits of every position (`forward` without `lastOnly`): the final norm, the logits and their read-back */
  allLogits?: boolean;
}

/**
 * Bytes a WebGPU forward call allocates per token (`src/gpu/engine.ts`; f32 unless said):
 *
 * - over the whole call: the ids, the residual stream `x` and the normed `a` (H each), the fused
 *   q/k/v/o-gate/gates projection (2Dqk + 2Dv + 2NH), the gated cell output (Dv), the FFN's SwiGLU
 *   output (F; + 2F without the fused gate), and with `f16Inputs` one f16 copy of the widest
 *   matmul input (max(H, Dv, F));
 * - one block's cell inputs q, k, v, i, f and output h (2Dqk + Dv + 2NH + Dv), released before
 *   the next block's: a call holds one block's, whatever the number of blocks;
 * - inside the chunkwise call: the gate vectors and m, n (5 per head), the per-chunk states
 *   (DHQK × (DHHV + 1) per head and chunk of `chunk_size` tokens, counted in f32), with
 *   `cellF16` the f16 copies of q, k, v and h; `packed`: the padded copies of q, k, v, i, f, h
 *   (sequences padded to whole chunks: up to `chunk_size − 1` tokens more per sequence, not counted);
 * - `allLogits`: the normed rows (H), the logits and their read-back (2V).
 *
 * Not counted: per-sequence outputs (states, the last logits), uniform buffers, the pool's
 * rounding of each buffer to its size class (up to 1/8), the scratch of `quantPrefill: 'dequantize'`.
 */
export function prefillBytesPerToken(config: XlstmConfig, o: PrefillActivationOptions = {}): number {
  const { H, NH, Dqk, Dv, dqk, dv, F, V } = config.dims;
  const L = config.chunkSize;
  const qkv = 2 * Dqk + Dv;
  const dense =
    4 * (1 + 2 * H + (2 * Dqk + 2 * Dv + 2 * NH) + Dv + F + (o.fusedGate === false ? 2 * F : 0)) +
    (o.f16Inputs ? 2 * Math.max(H, Dv, F) : 0);
  const block = 4 * (qkv + 2 * NH + Dv);
  const cell = 4 * 5 * NH + (4 * NH * dqk * (dv + 1)) / L + (o.cellF16 ? 2 * (qkv + Dv) : 0);
  const packed = o.packed ? 4 * (qkv + 2 * NH + Dv) : 0;
  const logits = o.allLogits ? 4 * (H + 2 * V) : 0;
  return Math.ceil(dense + block + cell + packed + logits);
}

/** Options of {@link prefillTokensPerCall}. */
export interface PrefillCallOptions extends PrefillActivationOptions {
  /** rows of equal length in the call (default 1; a packed call is one row) */
  batch?: number;
  /** bytes of activations per call (default {@link DEFAULT_PREFILL_BUDGET_BYTES}); ignored with `prefillChunkSize` */
  budgetBytes?: number;
  /** the most tokens per row, instead of the budget (the load option `prefillChunkSize`) */
  prefillChunkSize?: number;
  /** the adapter's limits (none: only the budget and `max_inference_chunksize`) */
  limits?: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

/** Why a call holds no more tokens (the smallest bound). */
export type PrefillCallBound =
  | 'budget'
  | 'prefillChunkSize'
  | 'max_inference_chunksize'
  | 'maxStorageBufferBindingSize';

/** The tokens per row of one WebGPU prefill call and what it allocates. */
export interface PrefillCallPlan {
  /** tokens per row (a multiple of `chunk_size` when at least one chunk) */
  tokens: number;
  bytesPerToken: number;
  /** `batch × tokens × bytesPerToken` */
  callBytes: number;
  limitedBy: PrefillCallBound;
}

/**
 * The most tokens per row of one WebGPU prefill call: the smallest of the activation budget
 * (`budgetBytes / (batch × prefillBytesPerToken)`) or `prefillChunkSize`, the config's
 * `max_inference_chunksize`, and — with `limits` — what one storage binding holds (every `[T, …]`
 * activation, the chunkwise kernel's per-chunk states); rounded down to whole chunks. Only the
 * binding limits are hard: a budget below one token still gives one token, and
 * {@link ModelTooLargeError} is thrown when not even one token's activations fit a binding.
 */
export function prefillTokensPerCall(config: XlstmConfig, o: PrefillCallOptions = {}): PrefillCallPlan {
  const { NH, Dqk, Dv, dqk, dv, F, V, H } = config.dims;
  const B = o.batch ?? 1;
  const L = config.chunkSize;
  const bytesPerToken = prefillBytesPerToken(config, o);
  const bounds: [PrefillCallBound, number][] = [];
  if (o.prefillChunkSize !== undefined) bounds.push(['prefillChunkSize', o.prefillChunkSize]);
  else {
    const budget = o.budgetBytes ?? DEFAULT_PREFILL_BUDGET_BYTES;
    bounds.push(['budget', Math.max(1, Math.floor(budget / (B * bytesPerToken)))]);
  }
  bounds.push(['max_inference_chunksize', config.maxInferenceChunksize]);
  if (o.limits) {
    const limit = Math.min(o.limits.maxStorageBufferBindingSize, o.limits.maxBufferSize);
    // the widest f32 activation row ([T, width] in one binding)
    const width = Math.max(
      2 * Dqk + 2 * Dv + 2 * NH,
      o.fusedGate === false ? 2 * F : F,
      H,
      o.allLogits ? V : 0,
    );
    const byActs = Math.floor(limit / (4 * B * width));
    if (byActs < 1) {
      throw new ModelTooLargeError(
        `activations of a batch of ${B}`,
        4 * B * width,
        limit,
        'maxStorageBufferBindingSize',
      );
    }
    // the chunkwise kernel's per-chunk states of every head in one binding
    const byStates = (Math.floor(limit / (4 * B * NH * dqk * dv)) - 1) * L;
    bounds.push(['maxStorageBufferBindingSize', Math.min(byActs, Math.max(byStates, L - 1))]);
  }
  let [limitedBy, tokens] = bounds[0];
  for (const [k, n] of bounds.slice(1)) if (n < tokens) [limitedBy, tokens] = [k, n];
  if (tokens >= L) tokens -= tokens % L;
  if (tokens < 1) {
    throw new ModelTooLargeError(
      `the chunkwise states of a batch of ${B}`,
      4 * B * NH * dqk * dv,
      o.limits!.maxStorageBufferBindingSize,
      'maxStorageBufferBindingSize',
    );
  }
  return { tokens, bytesPerToken, callBytes: B * tokens * bytesPerToken, limitedBy };
}

/** Throws {@link ModelTooLargeError} when a weight tensor exceeds the adapter's buffer limits. */
export function checkGpuLimits(
  est: MemoryEstimate,
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
): void {
  const { name, bytes } = est.largestTensor;
  if (bytes > limits.maxBufferSize) {
    throw new ModelTooLargeError(name, bytes, limits.maxBufferSize, 'maxBufferSize');
  }
  if (bytes > limits.maxStorageBufferBindingSize) {
    throw new ModelTooLargeError(
      name,
      bytes,
      limits.maxStorageBufferBindingSize,
      'maxStorageBufferBindingSize',
    );
  }
}
