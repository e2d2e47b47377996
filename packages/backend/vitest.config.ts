import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mlstm/source'] },
  ssr: { resolve: { conditions: ['@mlstm/source'] } },
  test: {
    name: 'backend',
    include: ['test/**/*.test.ts'],
    setupFiles: ['../../tools/vitest/gpu-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
