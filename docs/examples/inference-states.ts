// Inference: any length, states carried over — a prompt in one call equals the same prompt in pieces.
import { MlstmBackend } from '@mlstm/backend';
import type { Tensor } from '@mlstm/core-reference';

const rand = (...shape: number[]) => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1),
});
/** tokens [from, to) of a (B, NH, S, …) tensor */
const slice = (t: Tensor, from: number, to: number): Tensor => {
  const [B, NH, S] = t.shape;
  const D = t.shape.length === 4 ? t.shape[3] : 1;
  const out = new Float64Array(B * NH * (to - from) * D);
  for (let bh = 0; bh < B * NH; bh++)
    out.set(t.data.subarray((bh * S + from) * D, (bh * S + to) * D), bh * (to - from) * D);
  return { shape: t.shape.length === 4 ? [B, NH, to - from, D] : [B, NH, to - from], data: out };
};

export async function main() {
  const [B, NH, S, DHQK, DHHV] = [1, 2, 77, 16, 16];
  const x = {
    q: rand(B, NH, S, DHQK),
    k: rand(B, NH, S, DHQK),
    v: rand(B, NH, S, DHHV),
    i: rand(B, NH, S),
    f: rand(B, NH, S),
  };
  const part = (from: number, to: number) => ({
    q: slice(x.q, from, to),
    k: slice(x.k, from, to),
    v: slice(x.v, from, to),
    i: slice(x.i, from, to),
    f: slice(x.f, from, to),
  });

  // 'chunkwise--webgpu_xl_chunk' / 'native_sequence__webgpu' / 'webgpu' run the same on the GPU
  const backend = new MlstmBackend({ mode: 'inference', chunkSize: 32 });

  // 1) the whole prompt: chunkwise over 64 tokens, then the sequence kernel for the last 13
  const whole = await backend.inference(x);

  // 2) a prefill of 40 tokens, then token by token (step kernel), handing the states (c, n, m) on
  let { h, lastStates } = await backend.inference(part(0, 40));
  const hs: Tensor[] = [h];
  for (let t = 40; t < S; t++) {
    const { c, n, m } = lastStates;
    ({ h, lastStates } = await backend.inference({
      ...part(t, t + 1),
      cInitial: c,
      nInitial: n,
      mInitial: m,
    }));
    hs.push(h);
  }

  // compare the last token's output and the final states of both ways
  const last = hs[hs.length - 1];
  const wholeLast = slice(whole.h, S - 1, S);
  let maxDiff = 0;
  for (let j = 0; j < last.data.length; j++)
    maxDiff = Math.max(maxDiff, Math.abs(last.data[j] - wholeLast.data[j]));
  for (let j = 0; j < whole.lastStates.c.data.length; j++)
    maxDiff = Math.max(maxDiff, Math.abs(whole.lastStates.c.data[j] - lastStates.c.data[j]));
  return {
    steps: hs.length,
    stateShapes: [lastStates.c.shape, lastStates.n.shape, lastStates.m.shape],
    maxDiff,
  };
}
