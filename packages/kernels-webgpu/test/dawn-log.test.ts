/**
 * Dawn's `max…BuffersPerPipelineLayout artificially reduced …` warnings (printed from native code
 * while adapters are enumerated) do not reach the user's stderr from getGpuContext(); every other
 * line written there does. Checked in child processes whose stderr is a file, as from a shell
 * (the warning is printed once per process; a stderr that is a socket is left unfiltered).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
// bundled from the sources into this package's node_modules, where `webgpu` resolves
const dir = join(here, '..', 'node_modules', '.mlstm-test');
mkdirSync(dir, { recursive: true });
const script = join(dir, `dawn-log-${process.pid}.mjs`);
const errFile = join(dir, `dawn-log-${process.pid}.err`);
afterAll(() => {
  rmSync(script, { force: true });
  rmSync(errFile, { force: true });
});
buildSync({
  stdin: {
    contents: `import { writeSync } from 'node:fs';
import { getGpuContext } from ${JSON.stringify(resolve(here, '../src/index.ts'))};
import { filterNativeStderr, loadNodeModules } from ${JSON.stringify(resolve(here, '../src/device/dawn-log.ts'))};
const mode = process.argv[2];
if (mode === 'unit') {
  await loadNodeModules();
  const r = filterNativeStderr(() => {
    writeSync(2, 'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 9 to 1 to fit dynamic offset allocation limit.\\nsomething else\\n');
    return 42;
  });
  process.stderr.write('after ' + r + '\\n');
} else {
  const ctx = await getGpuContext({ dawnLog: mode });
  ctx.destroy();
  process.stderr.write('done\\n');
}`,
    resolveDir: here,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@mlstm/source'],
  outfile: script,
  logLevel: 'silent',
});

/** Runs the script with its stderr on a file (as `node script 2> file` would) and returns that file. */
function stderrOf(mode: string): string {
  const fd = openSync(errFile, 'w');
  const r = spawnSync(process.execPath, [script, mode], { stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  const err = readFileSync(errFile, 'utf8');
  expect(r.status, err).toBe(0);
  return err;
}

describe('Dawn log filter', () => {
  it('drops only the Dawn lines written to fd 2, passes the others, restores stderr', () => {
    expect(stderrOf('unit')).toBe('something else\nafter 42\n');
  });

  // the child processes open a real adapter (not the tests' stand-in of tools/vitest/gpu-setup.ts)
  const gpu = process.env.MLSTM_NO_ADAPTER === undefined;

  it.runIf(gpu)("getGpuContext() default ('filtered'): no Dawn limit warning on stderr", () => {
    expect(stderrOf('filtered')).toBe('done\n');
  });

  it.runIf(gpu)(
    "getGpuContext({ dawnLog: 'all' }): Dawn's own output untouched (lavapipe prints the warnings)",
    () => {
      const all = stderrOf('all');
      expect(all.endsWith('done\n')).toBe(true);
      if (all !== 'done\n') expect(all).toMatch(/artificially reduced/);
    },
  );
});
