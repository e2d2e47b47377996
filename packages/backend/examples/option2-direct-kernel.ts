// Option 2 — call a kernel directly from @mlstm/kernels-webgpu (no backend needed).
import { getGpuContext, mlstmChunkwiseXlChunk } from '@mlstm/kernels-webgpu';

const rand = (...shape: number[]) => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1),
});

export async function main() {
  const [B, NH, S, DHQK, DHHV] = [1, 2, 128, 16, 32];
  const ctx = await getGpuContext();
  // GpuTensors in → GpuTensors out (CPU tensors work too and come back as CPU tensors)
  const q = ctx.upload(rand(B, NH, S, DHQK).data, [B, NH, S, DHQK]);
  const k = ctx.upload(rand(B, NH, S, DHQK).data, [B, NH, S, DHQK]);
  const v = ctx.upload(rand(B, NH, S, DHHV).data, [B, NH, S, DHHV]);
  const i = ctx.upload(rand(B, NH, S).data, [B, NH, S]);
  const f = ctx.upload(rand(B, NH, S).data, [B, NH, S]);
  const { h, lastStates } = await mlstmChunkwiseXlChunk(ctx, {
    q,
    k,
    v,
    i,
    f,
    chunkSize: 64,
    returnLastStates: true,
  });
  const hValues = await ctx.read(h);
  for (const t of [q, k, v, i, f, h, lastStates!.c, lastStates!.n, lastStates!.m!]) t.release();
  ctx.destroy();
  return { shape: h.shape, hValues };
}
