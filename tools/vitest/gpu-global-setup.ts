/**
 * Runs once before `pnpm test`: is there a WebGPU adapter (dawn.node)? The probe runs in a child
 * process (Dawn's enumeration output stays there). Without an adapter, the GPU tests are skipped
 * under one banner that names the fix (see gpu-setup.ts), and every CPU test still runs — unless
 * `MLSTM_REQUIRE_GPU=1` (set by `.ci/run`): then a missing adapter fails the run, so CI can never
 * pass without its WebGPU tests.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const NO_ADAPTER_FIX =
  'install the `webgpu` package (pnpm install), and on a machine without a GPU Mesa lavapipe: ' +
  "echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list " +
  '&& apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers';

/** Why there is no adapter, or null when there is one. */
export function probeAdapter(): string | null {
  const script = `const { create } = await import('webgpu');
const gpu = create([]);
globalThis.keep = gpu;
const a = await gpu.requestAdapter();
process.stdout.write(a ? 'adapter' : 'none');
process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: join(root, 'packages', 'kernels-webgpu'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.stdout === 'adapter') return null;
  if (r.stdout === 'none') return 'requestAdapter() found no WebGPU adapter';
  return `dawn.node could not be loaded (${(r.stderr || r.error?.message || 'no output').trim().split('\n').pop()})`;
}

/**
 * Probes once per process (the root vitest.config.ts calls it while the configs load, so that the
 * project configs can leave out their GPU-only files) and records the result in
 * `MLSTM_NO_ADAPTER` (absent: there is an adapter). Returns why there is none, or null.
 */
export function probeAdapterOnce(): string | null {
  if (process.env.MLSTM_GPU_PROBED !== '1') {
    process.env.MLSTM_GPU_PROBED = '1';
    const why = process.env.MLSTM_NO_ADAPTER ?? probeAdapter();
    if (why === null) delete process.env.MLSTM_NO_ADAPTER;
    else process.env.MLSTM_NO_ADAPTER = why;
  }
  return process.env.MLSTM_NO_ADAPTER ?? null;
}

/** Test files of a project that only make sense with an adapter (left out without one). */
export function gpuOnlyFiles(files: readonly string[]): string[] {
  return process.env.MLSTM_NO_ADAPTER === undefined ? [] : [...files];
}

export default function setup(): void {
  const why = probeAdapterOnce();
  if (why === null) return;
  if (process.env.MLSTM_REQUIRE_GPU === '1')
    throw new Error(`MLSTM_REQUIRE_GPU=1 and no WebGPU adapter: ${why}. Fix: ${NO_ADAPTER_FIX}`);
  console.warn(
    `\n=== No WebGPU adapter (${why}): the GPU tests are SKIPPED, every CPU test runs. ===\n` +
      `=== Fix: ${NO_ADAPTER_FIX} ===\n`,
  );
}
