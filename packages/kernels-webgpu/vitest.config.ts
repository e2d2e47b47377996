import { defineProject } from 'vitest/config';
import { gpuOnlyFiles } from '../../tools/vitest/gpu-global-setup.ts';

export default defineProject({
  resolve: { conditions: ['@mlstm/source'] },
  ssr: { resolve: { conditions: ['@mlstm/source'] } },
  test: {
    name: 'kernels-webgpu',
    include: ['test/**/*.test.ts'],
    setupFiles: ['../../tools/vitest/gpu-setup.ts'],
    // without a WebGPU adapter (see tools/vitest): files whose set-up itself needs the GPU
    exclude: gpuOnlyFiles(['test/device.test.ts', 'test/recurrent-sweep.test.ts', 'test/tfla-api.test.ts']),
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
