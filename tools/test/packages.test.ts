/**
 * Packaging: every publishable package builds, packs, passes publint and arethetypeswrong
 * (esm-only profile), installs from its tarball in a scratch project (npm, offline), imports and
 * runs in Node ESM, type-checks as a consumer, and bundles + runs for the browser (esbuild); the
 * first example of every README runs under npm and under pnpm (a project per package).
 * The work is done by tools/check-packages.mjs (also `pnpm check:packages`).
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { checkAll, checkFields, LINT_ONLY_PACKAGES, OFFLINE_PACKAGES } from '../check-packages.mjs';

const ALL = [...OFFLINE_PACKAGES, ...LINT_ONLY_PACKAGES];

describe('packaging', () => {
  it('package.json fields of every publishable package', () => {
    for (const p of ALL) expect(checkFields(p), p).toEqual([]);
  });

  it('build, pack, publint, attw, install from tarballs, Node ESM, types, browser bundle', () => {
    const lines: string[] = [];
    // without a WebGPU adapter (tools/vitest/gpu-global-setup.ts) the GPU parts are skipped
    const gpu = process.env.MLSTM_NO_ADAPTER === undefined;
    const report = checkAll({ log: (l: string) => lines.push(l), runGpu: gpu });
    expect(Object.keys(report.packages).sort()).toEqual([...ALL].sort());
    for (const p of ALL) {
      expect(report.packages[p].publint).toMatch(/All good/);
      // the rows that matter for an ESM-only package (node10 / require() rows are ignored by the profile)
      expect(report.packages[p].attw).toMatch(/node16 \(from ESM\): 🟢/);
      expect(report.packages[p].attw).toMatch(/bundler: 🟢/);
      expect(report.packages[p].attw).not.toMatch(/^(node16 \(from ESM\)|bundler):.*(💀|❌|⚠️)/m);
    }
    const { node, browser } = report.scratch;
    expect(node.hasGetGpuContext).toBe(true);
    expect(node.kernels).toBeGreaterThanOrEqual(8);
    // the backend returns float32 like the Float32Array inputs (2⁻²⁴ relative rounding)
    expect(node.maxDiff).toBeLessThan(1e-6);
    expect(browser.nodeBuiltins).toEqual([]);
    // kernels-webgpu must not drag in the reference math: only the shared errors and checks
    expect(browser.coreInBundle).toEqual(['dist/checks.js', 'dist/errors.js']);
    if (gpu) {
      expect(browser.run.processInPage).toBe('undefined');
      expect(browser.run.relMaxDiff).toBeLessThan(1e-4);
    }
    // each README's first example, under npm (one project) and pnpm (one project per package,
    // with only that package as a dependency: what a README imports must be importable from it)
    const expected = (pkgs: string[]) =>
      Object.fromEntries(
        pkgs.map((p) => [
          p,
          gpu || !['kernels-webgpu', 'backend'].includes(p) ? 'ok' : expect.stringMatching(/^skipped/),
        ]),
      );
    expect(report.examples.npm).toEqual(expected(OFFLINE_PACKAGES));
    expect(report.examples.pnpm).toEqual(expected(ALL));
    expect(lines.length).toBeGreaterThanOrEqual(gpu ? 18 : 17);
  });
});
