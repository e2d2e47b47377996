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
  /** activations of one forward over `batch × seqLen` tokens (largest live set, rough) */
  activationBytes: number;
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
  const T = batch * seqLen;
  const activationBytes = 4 * T * (3 * H + 2 * (2 * Dqk + 2 * Dv) + 3 * F + V);
  // src/gpu/decode.ts, per sequence in f32 words: ids, seen mask, x / a / z, the fused projection
  // (+ gates), q, k, v, i, f, h, the gated cell output, up/gate, logits, the step scratch (4 per
  // head), and the SwiGLU output (batch > 1 or a quantised down projection); 2 read-back buffers
  // (the ids, or the logits with CPU sampling)
  const quantDown = dtype === 'q8' || dtype === 'q4';
  const decodeWords =
    1 +
    Math.ceil(V / 32) +
    3 * H +
    (2 * Dqk + 2 * Dv + 2 * NH) +
    2 * Dqk +
    2 * Dv +
    2 * NH +
    Dv +
    2 * F +
    V +
    4 * NH +
    (batch > 1 || quantDown ? F : 0) +
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
    decodeBytes,
    totalBytes: weightBytes + batch * stateBytesPerSequence + Math.max(activationBytes, decodeBytes),
  };
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
