import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@mlstm/source'] },
  ssr: { resolve: { conditions: ['@mlstm/source'] } },
  test: {
    name: 'core-reference',
    include: ['test/**/*.test.ts'],
    setupFiles: ['../../tools/vitest/gpu-setup.ts'],
    testTimeout: 60_000,
  },
});
