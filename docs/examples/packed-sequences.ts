// Packed sequences: three sequences of different lengths on one token axis (seqStarts), trained
// in one call — the same outputs and gradients as three separate calls.
import { MlstmBackend } from '@mlstm/backend';
import { sliceAxis, type Tensor } from '@mlstm/core-reference';

const rand = (...shape: number[]) => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1),
});

export async function main() {
  const lengths = [37, 5, 90];
  const [NH, DHQK, DHHV] = [2, 16, 16];
  const T = lengths.reduce((a, b) => a + b, 0);
  // N + 1 offsets into the packed token axis: 0, 37, 42, 132
  const seqStarts = Int32Array.from(lengths.reduce((o, len) => [...o, o[o.length - 1] + len], [0]));
  const x = {
    q: rand(1, NH, T, DHQK),
    k: rand(1, NH, T, DHQK),
    v: rand(1, NH, T, DHHV),
    i: rand(1, NH, T),
    f: rand(1, NH, T),
  };
  const dh = rand(1, NH, T, DHHV);

  // 'chunkwise--webgpu_xl_chunk' runs the same packed call on the GPU
  const backend = new MlstmBackend({ mode: 'train', chunkSize: 16 });
  const packed = await backend.train({ ...x, seqStarts, returnLastStates: true });
  const grads = await packed.backward(dh);

  // the same, one sequence at a time (each its own length: any length is fine packed, and here
  // the per-sequence calls use train_with_padding, which pads each to a multiple of the chunk)
  let maxDiff = 0;
  const padded = new MlstmBackend({ mode: 'train_with_padding', chunkSize: 16, returnLastStates: false });
  for (let s = 0; s < lengths.length; s++) {
    const take = (t: Tensor) => sliceAxis(t, 2, seqStarts[s], seqStarts[s + 1]);
    const one = await padded.train({ q: take(x.q), k: take(x.k), v: take(x.v), i: take(x.i), f: take(x.f) });
    const g = await one.backward(take(dh));
    for (const [a, b] of [
      [take(packed.h as Tensor), one.h as Tensor],
      [take(grads.dq as Tensor), g.dq as Tensor],
      [take(grads.df as Tensor), g.df as Tensor],
    ])
      for (let e = 0; e < a.data.length; e++) maxDiff = Math.max(maxDiff, Math.abs(a.data[e] - b.data[e]));
  }
  const c = packed.lastStates!.c as Tensor;
  return { lastStateShape: c.shape, maxDiff };
}
