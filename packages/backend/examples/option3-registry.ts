// Option 3 — pick kernels by specifier from the registry; every kernel has the same signature.
import { getAvailableMlstmKernels, getMlstmKernel } from '@mlstm/backend';

const rand = (...shape: number[]) => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1),
});

export async function main() {
  const [B, NH, S, DHQK, DHHV] = [1, 2, 64, 16, 16];
  const args = {
    q: rand(B, NH, S, DHQK),
    k: rand(B, NH, S, DHQK),
    v: rand(B, NH, S, DHHV),
    i: rand(B, NH, S),
    f: rand(B, NH, S),
    chunkSize: 32,
  };
  console.log(getAvailableMlstmKernels().sequence); // ['chunkwise--native_custbw', …]

  const cpuKernel = getMlstmKernel('chunkwise--native_custbw'); // pure TypeScript, float64
  const gpuKernel = getMlstmKernel('chunkwise--webgpu_xl_chunk'); // WebGPU (default GpuContext)
  const onCpu = await cpuKernel(args);
  const onGpu = await gpuKernel(args);
  const grads = await gpuKernel.backward({ ...args, dh: rand(B, NH, S, DHHV) });

  let maxDiff = 0;
  for (let x = 0; x < onCpu.h.data.length; x++)
    maxDiff = Math.max(maxDiff, Math.abs(onCpu.h.data[x] - onGpu.h.data[x]));
  return { maxDiff, h: onGpu.h, grads };
}
