// Option 1 — the backend: configure once, then call `forward` (upstream `mLSTMBackend`).
import { getGpuContext, MlstmBackend } from '@mlstm/backend';

/** A CPU tensor of uniform random values in [-1, 1). */
const rand = (...shape: number[]) => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1),
});

export async function main() {
  const [B, NH, S, DHQK, DHHV] = [1, 2, 96, 16, 32];
  const q = rand(B, NH, S, DHQK);
  const k = rand(B, NH, S, DHQK);
  const v = rand(B, NH, S, DHHV);
  const i = rand(B, NH, S);
  const f = rand(B, NH, S);
  const gpu = await getGpuContext();
  const backend = new MlstmBackend(
    {
      chunkwiseKernel: 'chunkwise--webgpu_limit_chunk',
      sequenceKernel: 'native_sequence__webgpu',
      stepKernel: 'webgpu',
      chunkSize: 32,
      returnLastStates: false,
    },
    { gpu },
  );

  // training: S must be a multiple of chunkSize; backward(dh) gives the input gradients
  const train = await backend.train({ q, k, v, i, f });
  const grads = await train.backward(rand(B, NH, S, DHHV));

  // inference: any length (96 = 3 chunks of 32 here, then 1 token through the step kernel)
  const prefill = await backend.inference({ q, k, v, i, f });
  const { c, n, m } = prefill.lastStates;
  const next = await backend.inference({
    q: rand(B, NH, 1, DHQK),
    k: rand(B, NH, 1, DHQK),
    v: rand(B, NH, 1, DHHV),
    i: rand(B, NH, 1),
    f: rand(B, NH, 1),
    cInitial: c,
    nInitial: n,
    mInitial: m,
  });
  gpu.destroy();
  return { h: train.h, grads, prefill, next };
}
