/**
 * Set-up file of every vitest project. Without a WebGPU adapter (MLSTM_NO_ADAPTER, set by
 * gpu-global-setup.ts), `getGpuContext()` of @mlstm/kernels-webgpu is replaced for the tests:
 * inside a test it skips that test ("no WebGPU adapter"); at module level or in a hook (test files
 * open their context there) it returns a stand-in context whose first use inside a test skips that
 * test. So a test that needs the GPU is skipped where it first asks for it, and a test that does
 * not runs. (Library code that catches the skip, e.g. hf-model's `device: 'auto'` falling back to
 * the CPU, still runs, but its test is reported skipped.) Files whose hooks or module code do GPU
 * work with the context (not just keep it) are left out instead: `gpuOnlyFiles([...])` in the
 * package's vitest.config.ts. With an adapter this file does nothing.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, type TestContext, vi } from 'vitest';

const noAdapter = process.env.MLSTM_NO_ADAPTER;
const contextModule = resolve(
  fileURLToPath(import.meta.url),
  '../../../packages/kernels-webgpu/src/device/context.ts',
);

let current: TestContext | undefined;

if (noAdapter !== undefined) {
  beforeEach((ctx) => {
    current = ctx;
    return () => {
      current = undefined;
    };
  });
  // doMock (not hoisted): applies to every module the test file imports after this set-up
  vi.doMock(contextModule, async (importOriginal) => {
    const original = await importOriginal<Record<string, unknown>>();
    return { ...original, getGpuContext: async () => (current ? skip() : standIn()) };
  });
}

function skip(): never {
  current!.skip(`no WebGPU adapter (${noAdapter})`);
  throw new Error('unreachable');
}

/** A context stand-in: inert outside tests, skips the test that uses it. */
function standIn(): unknown {
  const inert: object = new Proxy(() => inert, {
    get: (_t, key) => {
      if (key === 'then') return undefined; // not a promise
      if (current) skip();
      if (key === Symbol.toPrimitive) return () => 0;
      return inert;
    },
    apply: () => (current ? skip() : inert),
    ownKeys: () => [],
    has: () => false,
  });
  return inert;
}
