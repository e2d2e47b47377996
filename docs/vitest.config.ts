import { defineProject } from 'vitest/config';

// The documentation's examples (docs/examples/*.ts, shown in the pages with `<<<` includes) run
// as tests, and the pages are checked so that no untested snippet can appear in them.
export default defineProject({
  resolve: { conditions: ['@mlstm/source'] },
  ssr: { resolve: { conditions: ['@mlstm/source'] } },
  test: {
    name: 'docs',
    include: ['test/**/*.test.ts'],
    setupFiles: ['../tools/vitest/gpu-setup.ts'],
    testTimeout: 120_000,
  },
});
