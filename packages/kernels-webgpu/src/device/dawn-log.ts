/**
 * Node only: filters two lines Dawn's Vulkan backend prints to the process's stderr (file
 * descriptor 2, from native code) while it enumerates adapters, e.g. on Mesa lavapipe:
 *
 *   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 …
 *   Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 …
 *
 * They concern limits no kernel of this package uses (dynamic buffer offsets), and they were the
 * first thing every Node run printed. dawn.node enumerates adapters synchronously inside
 * `requestAdapter()`, so for the length of that one call fd 2 points at a temporary file; afterwards
 * the original stderr is put back and every other line written in the call is passed on to it.
 * Nothing else is touched; where fd 2 cannot be swapped safely (not a file, pipe or terminal —
 * e.g. the socket a parent Node process gives a child spawned with `stdio: 'pipe'` — or no
 * `/dev/fd`), the call runs unfiltered. `getGpuContext({ dawnLog: 'all' })` turns this off.
 */

/** The Dawn lines that are dropped (everything else passes). */
export const DAWN_DROPPED_LINES =
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced .*$/;

type Fs = typeof import('node:fs');
type Os = typeof import('node:os');

let nodeModules: { fs: Fs; os: Os } | null | undefined;

/** Loads node:fs and node:os by computed names, so that bundlers for the browser leave them alone. */
export async function loadNodeModules(): Promise<void> {
  if (nodeModules !== undefined) return;
  try {
    const fsName = 'node:fs';
    const osName = 'node:os';
    const [fs, os] = await Promise.all([
      import(/* @vite-ignore */ fsName) as Promise<Fs>,
      import(/* @vite-ignore */ osName) as Promise<Os>,
    ]);
    nodeModules = { fs, os };
  } catch {
    nodeModules = null;
  }
}

/**
 * Runs the synchronous `fn` with native writes to fd 2 captured, then writes the captured text
 * without the lines matching `drop` through `forward` (default: the real stderr). Needs
 * {@link loadNodeModules} first; without it, or where fd 2 cannot be swapped, runs `fn` as it is.
 */
export function filterNativeStderr<T>(
  fn: () => T,
  drop: RegExp = DAWN_DROPPED_LINES,
  forward: (text: string) => void = (t) => process.stderr.write(t),
): T {
  const m = nodeModules;
  if (!m) return fn();
  const { fs, os } = m;
  let saved = -1;
  let path = '';
  try {
    const st = fs.fstatSync(2);
    if (!(st.isFIFO() || st.isCharacterDevice() || st.isFile())) return fn();
    saved = fs.openSync('/dev/fd/2', 'a');
    path = `${os.tmpdir()}/mlstm-dawn-stderr-${process.pid}-${Date.now()}.log`;
    fs.closeSync(2);
    const fd = fs.openSync(path, 'w+'); // the lowest free descriptor: 2
    if (fd !== 2) {
      fs.closeSync(fd);
      restore(fs, saved);
      fs.rmSync(path, { force: true });
      return fn();
    }
  } catch {
    if (saved >= 0) restoreQuietly(fs, saved);
    if (path) fs.rmSync(path, { force: true });
    return fn();
  }
  try {
    return fn();
  } finally {
    restoreQuietly(fs, saved);
    let text = '';
    try {
      text = fs.readFileSync(path, 'utf8');
      fs.rmSync(path, { force: true });
    } catch {
      // nothing captured
    }
    const kept = text
      .split('\n')
      .filter((line, x, all) => !(drop.test(line) || (x === all.length - 1 && line === '')))
      .map((line) => `${line}\n`)
      .join('');
    if (kept) forward(kept);
  }
}

/** Puts the saved stderr back on fd 2 (closing the capture file there). */
function restore(fs: Fs, saved: number): void {
  try {
    fs.closeSync(2);
  } catch {
    // fd 2 was already closed
  }
  const fd = fs.openSync(`/dev/fd/${saved}`, 'a');
  if (fd !== 2) throw new Error(`stderr restored on fd ${fd}`);
  fs.closeSync(saved);
}

function restoreQuietly(fs: Fs, saved: number): void {
  try {
    restore(fs, saved);
  } catch {
    // keep going: the process still has its saved descriptor open
  }
}
