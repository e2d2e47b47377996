import { defineConfig } from 'vitest/config';
import { probeAdapterOnce } from './tools/vitest/gpu-global-setup.ts';

// before the project configs load: they leave out their GPU-only files when there is no adapter
probeAdapterOnce();

// One vitest run over every package (each package has its own vitest.config.ts).
// Packages are resolved from their TypeScript sources through the `@mlstm/source`
// export condition, so tests never depend on a stale `dist/`.
// The JSON report feeds the `N passed, N failed` line that .ci/run prints.
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'tools/vitest.config.ts',
      'docs/vitest.config.ts',
      'apps/demo/vitest.config.ts',
    ],
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
    // no WebGPU adapter: one banner, GPU tests skipped (MLSTM_REQUIRE_GPU=1: the run fails instead)
    globalSetup: ['tools/vitest/gpu-global-setup.ts'],
  },
});
