/**
 * Memory estimate before loading (weights, states, activations) and the check against a GPU
 * adapter's limits.
 */
import type { XlstmConfig } from './config.js';
import { ModelTooLargeError } from './errors.js';

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
  /** weights + states of `batch` sequences + activations */
  totalBytes: number;
}

/** Estimate for a config; `weightDtype` f32 (4 bytes) or f16 (2 bytes). */
export function estimateMemory(
  config: XlstmConfig,
  opts: { weightDtype?: 'f32' | 'f16'; batch?: number; seqLen?: number } = {},
): MemoryEstimate {
  const { H, NH, Dqk, Dv, dqk, dv, F, V, blocks } = config.dims;
  const E = opts.weightDtype === 'f16' ? 2 : 4;
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
  const [name, n] = candidates.reduce((a, b) => (b[1] > a[1] ? b : a));
  const stateBytesPerSequence = blocks * NH * (dqk * dv + dqk + 1) * 4;
  const T = batch * seqLen;
  const activationBytes = 4 * T * (3 * H + 2 * (2 * Dqk + 2 * Dv) + 3 * F + V);
  const weightBytes = parameters * E;
  return {
    parameters,
    weightBytes,
    largestTensor: { name, bytes: n * E },
    stateBytesPerSequence,
    activationBytes,
    totalBytes: weightBytes + batch * stateBytesPerSequence + activationBytes,
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
