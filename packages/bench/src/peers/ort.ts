/**
 * onnxruntime-web under Node (the traps are listed in the package README): imports
 * `onnxruntime-web/webgpu` (trap 1: the plain import is a wasm-only build), installs dawn.node's
 * `navigator.gpu` (trap 2), copies SharedArrayBuffer views in `writeBuffer` (trap 3), passes model
 * bytes (trap 4), keeps one session alive for the whole run (trap 5), and runs `Loop` graphs on
 * the wasm CPU EP (trap 6).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';

// the type-only import keeps the module itself lazy (importing it starts nothing)
type Ort = typeof import('onnxruntime-web');
export type OrtSession = import('onnxruntime-web').InferenceSession;
export type OrtTensor = import('onnxruntime-web').Tensor;

let ortModule: Ort | undefined;
let gpuKeepAlive: unknown;
const keepSessions: OrtSession[] = [];

/** Where ORT's wasm files are (the `.wasm` of the webgpu build: `ort-wasm-simd-threaded.asyncify.wasm`). */
export const ORT_WASM_FILE = 'ort-wasm-simd-threaded.asyncify.wasm';

/** Node (the CLI, tests) rather than a browser page or worker. */
function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

function defaultWasmDir(): string | undefined {
  const env = process.env.MLSTM_BENCH_ORT_WASM_DIR;
  if (env) return env;
  // next to the running script (the bundle is shipped with the wasm beside it)
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    if (existsSync(join(here, ORT_WASM_FILE))) return here;
  } catch {
    // not a file URL
  }
  try {
    const req = createRequire(import.meta.url);
    return dirname(req.resolve(`onnxruntime-web/${ORT_WASM_FILE}`));
  } catch {
    return undefined;
  }
}

export interface OrtLoadOptions {
  /**
   * folder holding `ort-wasm-simd-threaded.asyncify.wasm` (default: beside the script, else the
   * package); in a browser, the URL of a folder that serves it (default: ORT's own resolution)
   */
  wasmDir?: string;
  /** wasm threads (default 1: no worker threads) */
  numThreads?: number;
  /** compile ORT's wasm with V8's baseline compiler only (default true; see loadOrt) */
  liftoffOnly?: boolean;
}

/** Loads onnxruntime-web's WebGPU build once. */
export async function loadOrt(opts: OrtLoadOptions = {}): Promise<Ort> {
  if (ortModule) return ortModule;
  if (!isNode()) {
    // a browser (the demo's worker): ORT fetches its wasm from the URL folder it is given
    const mod = (await import('onnxruntime-web/webgpu')) as unknown as Ort & { default?: Ort };
    const ort = (mod.InferenceSession ? mod : mod.default) as Ort;
    // only the wasm's URL: the JS glue is part of the bundle ORT was imported from
    if (opts.wasmDir)
      ort.env.wasm.wasmPaths = {
        wasm: new URL(ORT_WASM_FILE, opts.wasmDir.endsWith('/') ? opts.wasmDir : `${opts.wasmDir}/`).href,
      };
    ort.env.wasm.numThreads = opts.numThreads ?? 1;
    ort.env.logLevel = 'error';
    ortModule = ort;
    return ort;
  }
  // ORT's 27 MB wasm: V8's optimising tier recompiles it in the background for ~50 s (2 cores),
  // pinning a core and delaying process exit. Baseline (Liftoff) code is enough here: the GPU
  // EP does the work, and the CPU-EP baselines are labelled as such.
  if (opts.liftoffOnly ?? true) setFlagsFromString('--liftoff-only');
  const mod = (await import('onnxruntime-web/webgpu')) as unknown as Ort & { default?: Ort };
  const ort = (mod.InferenceSession ? mod : mod.default) as Ort;
  const dir = opts.wasmDir ?? defaultWasmDir();
  if (dir) {
    const wasmPath = join(dir, ORT_WASM_FILE);
    if (!existsSync(wasmPath))
      throw new Error(`onnxruntime-web: ${wasmPath} not found (pass --ort-wasm-dir)`);
    // a path would go to fetch() under Node: hand over the bytes
    ort.env.wasm.wasmBinary = readFileSync(wasmPath);
  }
  ort.env.wasm.numThreads = opts.numThreads ?? 1;
  ort.env.logLevel = 'error';
  ortModule = ort;
  return ort;
}

/**
 * Makes `navigator.gpu` a dawn.node GPU (trap 2) with the writeBuffer fix (trap 3). If another
 * module already installed `navigator.gpu` (kernels-webgpu does), that one is kept.
 */
export async function installNavigatorGpu(): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator?.gpu) {
    const name = 'webgpu';
    const mod = (await import(/* @vite-ignore */ name)) as { create(o: string[]): GPU; globals: object };
    Object.assign(globalThis, mod.globals);
    const gpu = mod.create(['enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia']);
    gpuKeepAlive = gpu;
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    else (g.navigator as { gpu?: GPU }).gpu = gpu;
  }
  patchWriteBuffer();
}

let patched = false;
function patchWriteBuffer(): void {
  if (patched) return;
  const proto = (globalThis as { GPUQueue?: { prototype: GPUQueue } }).GPUQueue?.prototype;
  if (!proto) return;
  const orig = proto.writeBuffer;
  proto.writeBuffer = function (
    this: GPUQueue,
    buffer: GPUBuffer,
    offset: number,
    data: BufferSource | SharedArrayBuffer,
    dataOffset?: number,
    size?: number,
  ) {
    const isShared = (b: unknown) =>
      typeof SharedArrayBuffer !== 'undefined' && b instanceof SharedArrayBuffer;
    if (ArrayBuffer.isView(data) && isShared(data.buffer)) {
      const bpe = (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const start = data.byteOffset + (dataOffset ?? 0) * bpe;
      const len = size !== undefined ? size * bpe : data.byteLength - (dataOffset ?? 0) * bpe;
      const copy = new Uint8Array(len);
      copy.set(new Uint8Array(data.buffer, start, len));
      return orig.call(this, buffer, offset, copy, 0, len);
    }
    if (isShared(data)) {
      const src = new Uint8Array(data as SharedArrayBuffer, dataOffset ?? 0, size);
      return orig.call(this, buffer, offset, src.slice(), 0, src.byteLength);
    }
    return orig.call(this, buffer, offset, data as BufferSource, dataOffset, size);
  } as GPUQueue['writeBuffer'];
  patched = true;
}

export type OrtProvider = 'webgpu' | 'wasm';

/** Creates a session from model bytes (trap 4) and keeps it alive for the process (trap 5). */
export async function createSession(
  ort: Ort,
  model: Uint8Array,
  provider: OrtProvider,
  opts: { gpuOutputs?: boolean } = {},
): Promise<OrtSession> {
  if (provider === 'webgpu') await installNavigatorGpu();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // outputs stay on ORT's device (no readback in the timed call)
    ...(opts.gpuOutputs && provider === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
  });
  keepSessions.push(session);
  return session;
}

/** Releases every session but the first one (trap 5: the first keeps ORT's WebGPU device alive). */
export async function releaseExtraSessions(): Promise<void> {
  while (keepSessions.length > 1) await keepSessions.pop()!.release();
}

/** `true` when the gpu object stays referenced (for tests of the keep-alive). */
export function hasGpuKeepAlive(): boolean {
  return gpuKeepAlive !== undefined || !!(globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
}
