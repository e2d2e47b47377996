import { defineProject } from 'vitest/config';

// End-to-end tests: build the app, serve it with `vite preview` on 127.0.0.1 and drive Debian's
// Chromium headless (playwright-core, SwiftShader WebGPU). Screenshots go to test-artifacts/.
export default defineProject({
  // fixtures are read with @mlstm/core-reference's safetensors reader, from its TypeScript sources
  resolve: { conditions: ['@mlstm/source'] },
  ssr: { resolve: { conditions: ['@mlstm/source'] } },
  test: {
    name: 'demo-e2e',
    include: ['e2e/**/*.e2e.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // one browser, pages in order (the 2-core machine runs the GPU tests of the packages alongside)
    fileParallelism: false,
  },
});
