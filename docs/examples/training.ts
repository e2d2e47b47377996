// Training: forward + backward through the backend, on GPU tensors, checked against the CPU reference.
import { MlstmBackend } from '@mlstm/backend';
import { mlstmChunkwiseBackward } from '@mlstm/core-reference';
import { getGpuContext } from '@mlstm/kernels-webgpu';

const rand = (...shape: number[]) => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1),
});

export async function main() {
  const [B, NH, S, DHQK, DHHV] = [2, 2, 128, 16, 32];
  const x = {
    q: rand(B, NH, S, DHQK),
    k: rand(B, NH, S, DHQK),
    v: rand(B, NH, S, DHHV),
    i: rand(B, NH, S),
    f: rand(B, NH, S),
  };
  const dh = rand(B, NH, S, DHHV); // upstream gradient dL/dh

  const ctx = await getGpuContext();
  const backend = new MlstmBackend(
    { chunkwiseKernel: 'chunkwise--webgpu_xl_chunk', mode: 'train', chunkSize: 64, returnLastStates: false },
    { gpu: ctx },
  );
  // GpuTensors in → GpuTensors out; the forward keeps its intermediates for the backward
  const up = (t: { data: Float32Array; shape: number[] }) => ctx.upload(t.data, t.shape);
  const g = { q: up(x.q), k: up(x.k), v: up(x.v), i: up(x.i), f: up(x.f) };
  const fw = await backend.train(g);
  const grads = await fw.backward(up(dh)); // call once (or fw.release()); frees the saved tensors
  const dq = await ctx.read(grads.dq);

  // the same gradients from the float64 reference (spec §4)
  const ref = mlstmChunkwiseBackward({ ...x, dh, chunkSize: 64 });
  let maxDiff = 0;
  let maxRef = 0;
  for (let j = 0; j < dq.length; j++) {
    maxDiff = Math.max(maxDiff, Math.abs(dq[j] - ref.dq.data[j]));
    maxRef = Math.max(maxRef, Math.abs(ref.dq.data[j]));
  }

  // a length that is not a multiple of the chunk size: train_with_padding (CPU tensors work too)
  const padded = new MlstmBackend(
    {
      chunkwiseKernel: 'chunkwise--webgpu_xl_chunk',
      mode: 'train_with_padding',
      chunkSize: 64,
      returnLastStates: false,
    },
    { gpu: ctx },
  );
  const S2 = 100;
  const y = {
    q: rand(1, 1, S2, DHQK),
    k: rand(1, 1, S2, DHQK),
    v: rand(1, 1, S2, DHHV),
    i: rand(1, 1, S2),
    f: rand(1, 1, S2),
  };
  const fw2 = await padded.train(y);
  const grads2 = await fw2.backward(rand(1, 1, S2, DHHV));

  const hShape = [...fw.h.shape];
  for (const t of [...Object.values(g), fw.h, ...Object.values(grads)]) t?.release();
  ctx.destroy();
  return { hShape, relMaxDiff: maxDiff / maxRef, paddedDfShape: [...grads2.df.shape] };
}
