/**
 * The test run without a WebGPU adapter (tools/vitest/gpu-global-setup.ts): one banner naming the
 * fix, GPU tests skipped; with MLSTM_REQUIRE_GPU=1 (set by .ci/run) a missing adapter fails the
 * run instead, so CI can never pass without its WebGPU tests.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import setup, { gpuOnlyFiles, NO_ADAPTER_FIX, probeAdapterOnce } from '../vitest/gpu-global-setup.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const saved = { ...process.env };

afterEach(() => {
  for (const k of ['MLSTM_NO_ADAPTER', 'MLSTM_REQUIRE_GPU', 'MLSTM_GPU_PROBED']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  vi.restoreAllMocks();
});

/** Runs the global set-up as if the probe had found no adapter. */
function withoutAdapter(require: boolean): { warned: string[]; error?: Error } {
  process.env.MLSTM_NO_ADAPTER = 'requestAdapter() found no WebGPU adapter';
  process.env.MLSTM_GPU_PROBED = '0';
  if (require) process.env.MLSTM_REQUIRE_GPU = '1';
  else delete process.env.MLSTM_REQUIRE_GPU;
  const warned: string[] = [];
  vi.spyOn(console, 'warn').mockImplementation((m: string) => void warned.push(m));
  try {
    setup();
    return { warned };
  } catch (e) {
    return { warned, error: e as Error };
  }
}

describe('no WebGPU adapter', () => {
  it('one banner that names the fix; GPU-only files are left out', () => {
    const { warned, error } = withoutAdapter(false);
    expect(error).toBeUndefined();
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/No WebGPU adapter .*GPU tests are SKIPPED, every CPU test runs/);
    expect(warned[0]).toContain(NO_ADAPTER_FIX);
    expect(NO_ADAPTER_FIX).toMatch(/mesa-vulkan-drivers/);
    expect(probeAdapterOnce()).toMatch(/no WebGPU adapter/);
    expect(gpuOnlyFiles(['test/a.test.ts'])).toEqual(['test/a.test.ts']);
  });

  it('MLSTM_REQUIRE_GPU=1 makes a missing adapter fail the run', () => {
    const { error } = withoutAdapter(true);
    expect(error?.message).toMatch(/MLSTM_REQUIRE_GPU=1 and no WebGPU adapter/);
  });

  it('.ci/run sets MLSTM_REQUIRE_GPU=1 for the test command', () => {
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^MLSTM_REQUIRE_GPU=1 pnpm test$/m);
  });

  it('the root config and every package project use the set-up', () => {
    expect(readFileSync(join(root, 'vitest.config.ts'), 'utf8')).toContain(
      "globalSetup: ['tools/vitest/gpu-global-setup.ts']",
    );
    for (const p of ['core-reference', 'kernels-webgpu', 'backend', 'bench', 'hf-model'])
      expect(readFileSync(join(root, 'packages', p, 'vitest.config.ts'), 'utf8'), p).toContain(
        'tools/vitest/gpu-setup.ts',
      );
  });
});
