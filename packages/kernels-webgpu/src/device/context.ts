import { checkOptionKeys, type KeysListed } from '@mlstm/core-reference/checks';
import { filterNativeStderr, loadNodeModules } from './dawn-log.js';
import {
  GpuDeviceLostError,
  GpuValidationError,
  KernelArgumentError,
  MlstmOutOfMemoryError,
  NoAdapterError,
} from '../errors.js';
import { packF16, unpackF16 } from './f16.js';
import { BufferPool } from './pool.js';
import { BYTES_PER_ELEMENT, type GpuDtype, GpuTensor, TENSOR_USAGE } from './tensor.js';
import type { ExecutionPlan } from '../chunkwise/plan.js';
import { DEFAULT_KERNEL_TUNING, type KernelTuning, type ResolvedTuning, resolveTuning } from '../tuning.js';

/** Kind of each binding of a kernel's group 0 (for explicit pipeline layouts). */
export type BindingKind = 'uniform' | 'read' | 'rw';

/** One subgroup-matrix configuration reported by the adapter (Dawn's experimental feature). */
export interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

/** What the adapter/device offers, in a form that is easy to print and to branch on. */
export interface GpuFeatures {
  shaderF16: boolean;
  subgroups: boolean;
  timestampQuery: boolean;
  subgroupMatrix: boolean;
  subgroupMatrixConfigs: SubgroupMatrixConfig[];
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /** WGSL's packed 4×8-bit integer dot product (`dot4I8Packed`, language feature `packed_4x8_integer_dot_product`) */
  packedIntegerDot: boolean;
}

/**
 * Whether this context runs the f16 matrix-unit (subgroup-matrix) kernels, and why. `unprobed`:
 * no f16 call has asked yet (the first one probes); `unsupported`: the adapter or device lacks a
 * feature; `failed`: the one-time probe (compiling the matrix pipelines in an error scope) failed,
 * so every call runs the register-tiled kernels; `ready`: the probe compiled.
 */
export interface MatrixPathStatus {
  state: 'unprobed' | 'unsupported' | 'failed' | 'ready';
  reason: string;
}

export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface GpuContextOptions {
  /** Use this device instead of creating one (its features and limits are read from it). */
  device?: GPUDevice;
  /** Adapter to create the device from (default: `requestAdapter({ powerPreference })`). */
  adapter?: GPUAdapter;
  powerPreference?: GPUPowerPreference;
  /**
   * Node only: turn off Dawn's bounds-checking robustness pass (faster kernels). Every kernel
   * of this package indexes in bounds either way; only enable it for trusted code.
   */
  disableRobustness?: boolean;
  /**
   * Node only: further Dawn toggles to enable (dawn.node's \`enable-dawn-features\`), or, written
   * \`!name\`, to disable; for performance investigations. Unknown names are ignored by Dawn.
   */
  dawnToggles?: readonly string[];
  /** Bytes of released buffers the pool keeps for reuse (default: the peak live bytes so far, at least 1 GiB). */
  maxCachedBytes?: number;
  /** Kernel variants for every call on this context (a call's own `tuning` goes over it); see {@link KernelTuning}. */
  tuning?: KernelTuning;
  /**
   * Testing: rewrites the WGSL of the matrix-path probe before it compiles (e.g. to break it and
   * check that the calls fall back to the register-tiled kernels).
   */
  matrixProbeWgsl?: (code: string) => string;
  /**
   * Debugging: count the values saturated to ±65 504 when converted to f16 (the package's f16
   * policy, see `device/f16.ts` and the README): f16 uploads count on the CPU, the f32 → f16 cast
   * kernel with an atomic counter (a separate pipeline; without this option the counter is never
   * allocated and the default kernels run). Read with `ctx.f16Saturations()`.
   */
  countF16Saturation?: boolean;
  /** Debugging: called with each chunkwise / parallel call's plan (the path it takes and why, see `explainPlan`). */
  onPlan?: (plan: ExecutionPlan) => void;
  /**
   * Node only: `'filtered'` (default) drops the two `max…BuffersPerPipelineLayout artificially
   * reduced …` warnings Dawn's Vulkan backend prints while it enumerates adapters (limits the
   * kernels do not use); every other line passes. `'all'` prints everything Dawn prints.
   */
  dawnLog?: 'filtered' | 'all';
}

const WANTED_FEATURES = [
  'shader-f16',
  'subgroups',
  'timestamp-query',
  'chromium-experimental-subgroup-matrix',
] as const;

const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

// dawn.node: the object returned by create() must stay reachable for the whole process,
// otherwise the process crashes when it is collected while a device lives. Keep them here.
const nodeGpus = new Map<string, GPU>();

async function findGpu(disableRobustness: boolean, extraToggles: readonly string[] = []): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) {
    if (!nav?.gpu) {
      throw new NoAdapterError(
        'WebGPU is not available in this browser (navigator.gpu is missing). Use a browser with WebGPU enabled ' +
          '(Chrome/Edge 113+, Safari 26+, Firefox 141+) on a secure context (https or localhost).',
      );
    }
    return nav.gpu;
  }
  const toggles = ['allow_unsafe_apis', 'vulkan_enable_f16_on_nvidia'];
  if (disableRobustness) toggles.push('disable_robustness');
  toggles.push(...extraToggles.filter((t) => !t.startsWith('!') && !toggles.includes(t)));
  const off = [
    'timestamp_quantization',
    ...extraToggles.filter((t) => t.startsWith('!')).map((t) => t.slice(1)),
  ];
  const key = `${toggles.join(',')}|${off.join(',')}`;
  let gpu = nodeGpus.get(key);
  if (!gpu) {
    const name = 'webgpu';
    let mod: { create(o: string[]): GPU; globals: object };
    try {
      mod = await import(/* @vite-ignore */ name);
    } catch (e) {
      throw new NoAdapterError(
        `WebGPU under Node needs the 'webgpu' package (dawn.node): npm install webgpu@0.6.2 (${(e as Error).message})`,
      );
    }
    Object.assign(globalThis, mod.globals);
    // timestamp_quantization rounds GPU timestamps (a browser timing-attack guard); off in Node
    gpu = mod.create([`enable-dawn-features=${toggles.join(',')}`, `disable-dawn-features=${off.join(',')}`]);
    nodeGpus.set(key, gpu);
    const g = globalThis as { navigator?: { gpu?: GPU } };
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    else if (!g.navigator.gpu) (g.navigator as { gpu?: GPU }).gpu = gpu;
  }
  return gpu;
}

function readFeatures(device: GPUDevice, adapterInfo: GPUAdapterInfo | undefined): GpuFeatures {
  const info = (adapterInfo ?? (device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo) as
    | (GPUAdapterInfo & { subgroupMatrixConfigs?: SubgroupMatrixConfig[] })
    | undefined;
  const has = (f: string) => device.features.has(f);
  return {
    shaderF16: has('shader-f16'),
    subgroups: has('subgroups'),
    timestampQuery: has('timestamp-query'),
    subgroupMatrix: has('chromium-experimental-subgroup-matrix'),
    subgroupMatrixConfigs: has('chromium-experimental-subgroup-matrix')
      ? [...(info?.subgroupMatrixConfigs ?? [])].map((c) => ({
          componentType: String(c.componentType),
          resultComponentType: String(c.resultComponentType),
          M: c.M,
          N: c.N,
          K: c.K,
        }))
      : [],
    subgroupMinSize: (info as { subgroupMinSize?: number })?.subgroupMinSize ?? 0,
    subgroupMaxSize: (info as { subgroupMaxSize?: number })?.subgroupMaxSize ?? 0,
    packedIntegerDot: wgslHas('packed_4x8_integer_dot_product'),
  };
}

/** Whether the WGSL of this runtime (`navigator.gpu.wgslLanguageFeatures`) has a language feature. */
function wgslHas(name: string): boolean {
  const gpu = (globalThis as { navigator?: { gpu?: { wgslLanguageFeatures?: ReadonlySet<string> } } })
    .navigator?.gpu;
  return !!gpu?.wgslLanguageFeatures?.has(name);
}

/** One kernel dispatch waiting in a batch. */
interface PendingDispatch {
  label: string;
  pipeline: GPUComputePipeline;
  buffers: GPUBufferBinding[];
  params: ArrayBuffer | null;
  workgroups: [number, number, number];
}

/**
 * Collects dispatches and submits them together in one command buffer (one compute pass;
 * WebGPU orders storage writes between dispatches of a pass). Binding convention of every
 * kernel: `@group(0) @binding(0)` is the uniform parameter block (if the kernel has one),
 * followed by its storage buffers at bindings 1, 2, … in the order given.
 */
export class DispatchBatch {
  private readonly pending: PendingDispatch[] = [];
  private readonly temporaries: GpuTensor[] = [];

  /** @internal use `ctx.batch()` */
  constructor(private readonly ctx: GpuContext) {}

  get size(): number {
    return this.pending.length;
  }

  dispatch(
    pipeline: GPUComputePipeline,
    buffers: readonly (GpuTensor | GPUBuffer)[],
    params: ArrayBuffer | null,
    workgroups: readonly [number, number?, number?],
    label = 'kernel',
  ): this {
    const [x, y = 1, z = 1] = workgroups;
    const max = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    for (const [n, v] of [
      ['x', x],
      ['y', y],
      ['z', z],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > max) {
        throw new KernelArgumentError(`workgroups.${n}`, `an integer in [0, ${max}]`, String(v), label);
      }
    }
    this.pending.push({
      label,
      pipeline,
      // tensors bind exactly their bytes (pooled buffers are larger; views start at an offset)
      buffers: buffers.map((b) =>
        b instanceof GpuTensor
          ? { buffer: b.buffer, offset: b.byteOffset, size: b.byteLength }
          : { buffer: b },
      ),
      params,
      workgroups: [x, y, z],
    });
    return this;
  }

  /** Releases tensors after `submit()` (with the batch's scratch): intermediates of encoded calls. */
  releaseAfterSubmit(...tensors: (GpuTensor | null | undefined)[]): this {
    for (const t of tensors) if (t) this.temporaries.push(t);
    return this;
  }

  /** A scratch tensor released automatically after `submit()`. */
  scratch(shape: readonly number[], dtype: GpuDtype = 'f32'): GpuTensor {
    const t = this.ctx.empty(shape, dtype);
    this.temporaries.push(t);
    return t;
  }

  /**
   * Encodes and submits everything; optional timestamp writes at the pass begin/end (by default
   * those of an active {@link GpuContext.beginGpuTiming} session).
   */
  submit(timestampWrites?: GPUComputePassTimestampWrites): void {
    const { device } = this.ctx;
    this.ctx.throwIfLost();
    if (!this.ctx.timingPerDispatch) timestampWrites ??= this.ctx.nextTimestampWrites('batch');
    const align = device.limits.minUniformBufferOffsetAlignment;
    const slots = this.pending.map((d) => (d.params ? Math.ceil(d.params.byteLength / align) * align : 0));
    const total = slots.reduce((a, b) => a + b, 0);
    let uniforms: GPUBuffer | null = null;
    if (total > 0) {
      uniforms = this.ctx.pool.acquire(total, 0x40 /* UNIFORM */ | 0x08 /* COPY_DST */, 'params');
      const staging = new Uint8Array(total);
      let off = 0;
      this.pending.forEach((d, x) => {
        if (d.params) staging.set(new Uint8Array(d.params), off);
        off += slots[x];
      });
      device.queue.writeBuffer(uniforms, 0, staging);
    }
    const encoder = device.createCommandEncoder();
    // one pass for the whole batch, or (per-dispatch timing sessions) one pass per dispatch
    const perDispatch = !timestampWrites && this.ctx.timingPerDispatch;
    let pass: GPUComputePassEncoder | null = null;
    if (!perDispatch) pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    let off = 0;
    this.pending.forEach((d, x) => {
      const entries: GPUBindGroupEntry[] = [];
      if (d.params && uniforms)
        entries.push({ binding: 0, resource: { buffer: uniforms, offset: off, size: d.params.byteLength } });
      for (const [j, b] of d.buffers.entries()) entries.push({ binding: j + 1, resource: b });
      off += slots[x];
      const bindGroup = this.ctx.bindGroup(d.pipeline, entries);
      const p = pass ?? encoder.beginComputePass({ timestampWrites: this.ctx.nextTimestampWrites(d.label) });
      p.setPipeline(d.pipeline);
      p.setBindGroup(0, bindGroup);
      const [wx, wy, wz] = d.workgroups;
      if (wx > 0 && wy > 0 && wz > 0) p.dispatchWorkgroups(wx, wy, wz);
      if (!pass) p.end();
    });
    pass?.end();
    device.queue.submit([encoder.finish()]);
    // Later queue writes are ordered after this submit, so pooled buffers can be reused at once.
    if (uniforms) this.ctx.pool.release(uniforms);
    for (const t of this.temporaries) t.release();
    this.pending.length = 0;
    this.temporaries.length = 0;
  }
}

/**
 * A ready WebGPU device plus everything the kernels share: the buffer pool, the pipeline
 * cache, the features and limits. Create it with {@link getGpuContext}.
 */
export class GpuContext {
  device: GPUDevice;
  adapterInfo: GpuAdapterSummary;
  features: GpuFeatures;
  limits: GPUSupportedLimits;
  readonly pool: BufferPool;
  /** number of compute pipelines compiled (a pipeline is compiled once per cache key) */
  pipelinesCompiled = 0;
  /** the kernel variants of this context's calls: the defaults with `options.tuning` over them (frozen) */
  readonly tuning: ResolvedTuning;
  /**
   * Whether the f16 matrix-unit kernels run here, and why (see {@link MatrixPathStatus}); set by
   * the first f16 call's probe, for this device and these features.
   */
  matrixPath: MatrixPathStatus = { state: 'unprobed', reason: 'no f16 call has probed the matrix path yet' };
  /** @internal the device and features the matrix-path status belongs to */
  matrixPathOf: { device: GPUDevice; features: GpuFeatures } | null = null;
  private pipelines = new Map<string, GPUComputePipeline>();
  /** saturations counted on the CPU (f16 uploads) and the GPU counter (cast kernel), with `countF16Saturation` */
  private f16Saturated = { saturated: 0 };
  private f16SaturationBuffer: GPUBuffer | null = null;
  private errors: (GpuValidationError | MlstmOutOfMemoryError)[] = [];
  private lostInfo: GPUDeviceLostInfo | null = null;

  private constructor(
    device: GPUDevice,
    adapterInfo: GpuAdapterSummary,
    features: GpuFeatures,
    private readonly options: GpuContextOptions,
  ) {
    this.device = device;
    this.adapterInfo = adapterInfo;
    this.features = features;
    this.limits = device.limits;
    this.pool = new BufferPool(device, options.maxCachedBytes);
    this.tuning = resolveTuning(DEFAULT_KERNEL_TUNING, options.tuning, 'getGpuContext');
    this.watch(device);
  }

  /** @internal */
  static async create(options: GpuContextOptions = {}): Promise<GpuContext> {
    resolveTuning(DEFAULT_KERNEL_TUNING, options.tuning, 'getGpuContext'); // typed errors before any GPU work
    const { device, adapterInfo, features } = await GpuContext.openDevice(options);
    return new GpuContext(device, adapterInfo, features, options);
  }

  private static async openDevice(options: GpuContextOptions) {
    let device = options.device;
    let info: GPUAdapterInfo | undefined;
    if (!device) {
      let adapter = options.adapter;
      if (!adapter) {
        const gpu = await findGpu(!!options.disableRobustness, options.dawnToggles);
        const isNode = typeof process !== 'undefined' && !!process.versions?.node;
        const request = () => gpu.requestAdapter({ powerPreference: options.powerPreference });
        let pending: Promise<GPUAdapter | null>;
        if (isNode && options.dawnLog !== 'all') {
          await loadNodeModules();
          pending = filterNativeStderr(request); // Dawn's limit warnings (see dawn-log.ts)
        } else pending = request();
        adapter = (await pending) ?? undefined;
        if (!adapter) {
          throw new NoAdapterError(
            'requestAdapter() found no WebGPU adapter. In Node on a machine without a GPU install Mesa lavapipe ' +
              '(Debian: mesa-vulkan-drivers from bookworm-backports); in Chromium pass --enable-unsafe-webgpu.',
          );
        }
      }
      info = adapter.info;
      const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
      const requiredLimits: Record<string, number> = {};
      for (const l of WANTED_LIMITS) {
        const v = (adapter.limits as unknown as Record<string, number>)[l];
        if (typeof v === 'number') requiredLimits[l] = v;
      }
      device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'mlstm' });
    } else {
      info = (device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    }
    const adapterInfo: GpuAdapterSummary = {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
      isFallbackAdapter: !!(info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter,
    };
    return { device, adapterInfo, features: readFeatures(device, info) };
  }

  private watch(device: GPUDevice) {
    device.lost.then((info) => {
      if (this.device === device) this.lostInfo = info;
    });
    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      const type = err.constructor?.name;
      if (type === 'GPUOutOfMemoryError') {
        this.errors.push(new MlstmOutOfMemoryError(`WebGPU out of memory: ${err.message}`));
        return;
      }
      this.errors.push(
        new GpuValidationError(type === 'GPUInternalError' ? 'internal' : 'validation', err.message),
      );
    });
  }

  /** Throws a {@link GpuDeviceLostError} if the device is gone. */
  throwIfLost(): void {
    if (this.lostInfo) throw new GpuDeviceLostError(this.lostInfo.reason, this.lostInfo.message);
  }

  /** Throws the first WebGPU error reported since the last check (and clears them). */
  throwIfErrors(): void {
    this.throwIfLost();
    if (this.errors.length) {
      const [first] = this.errors;
      this.errors = [];
      throw first;
    }
  }

  get lost(): boolean {
    return this.lostInfo !== null;
  }

  /** Replaces a lost (or any) device by a fresh one; caches and pool are reset. */
  async recreate(): Promise<void> {
    const { device, adapterInfo, features } = await GpuContext.openDevice({
      ...this.options,
      device: undefined,
    });
    this.device = device;
    this.adapterInfo = adapterInfo;
    this.features = features;
    this.limits = device.limits;
    this.pipelines = new Map();
    this.bindGroupCache = new Map();
    this.layouts = new WeakMap();
    this.errors = [];
    this.lostInfo = null;
    this.matrixPath = { state: 'unprobed', reason: 'the device was recreated' };
    this.matrixPathOf = null;
    this.f16SaturationBuffer = null; // the GPU part of the count went with the old device
    this.pool.reset(device);
    this.watch(device);
  }

  /** A printable summary of the adapter, features and key limits. */
  describe(): string {
    const a = this.adapterInfo;
    const f = this.features;
    const sm = f.subgroupMatrixConfigs.map(
      (c) => `${c.componentType}→${c.resultComponentType} ${c.M}x${c.N}x${c.K}`,
    );
    return [
      `adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')}${a.isFallbackAdapter ? ' (fallback)' : ''}`,
      `features: shader-f16 ${f.shaderF16 ? 'yes' : 'no'}, subgroups ${f.subgroups ? `yes (${f.subgroupMinSize}–${f.subgroupMaxSize})` : 'no'}, timestamp-query ${f.timestampQuery ? 'yes' : 'no'}, subgroup-matrix ${f.subgroupMatrix ? `yes [${sm.join(', ')}]` : 'no'}, packed int8 dot ${f.packedIntegerDot ? 'yes' : 'no'}`,
      `limits: workgroup storage ${this.limits.maxComputeWorkgroupStorageSize} B, invocations ${this.limits.maxComputeInvocationsPerWorkgroup}, storage binding ${this.limits.maxStorageBufferBindingSize} B, buffer ${this.limits.maxBufferSize} B`,
    ].join('\n');
  }

  /** The options this context was created with (read-only view). */
  get createdWith(): Readonly<GpuContextOptions> {
    return this.options;
  }

  /**
   * Compiles compute pipelines asynchronously inside validation and internal error scopes, so that
   * a module or pipeline this device rejects surfaces here and nowhere else. Returns the first
   * error's message, or null when every one compiled. Compiles nothing into the pipeline cache.
   */
  async tryCompile(sources: readonly { label: string; code: string }[]): Promise<string | null> {
    this.throwIfLost();
    const d = this.device;
    d.pushErrorScope('internal');
    d.pushErrorScope('validation');
    let failure: string | null = null;
    for (const { label, code } of sources) {
      try {
        const module = d.createShaderModule({ code, label });
        const info = await module.getCompilationInfo();
        const errs = info.messages.filter((m) => m.type === 'error');
        if (errs.length) {
          failure ??= `${label}: ${errs[0].lineNum}:${errs[0].linePos} ${errs[0].message}`;
          continue;
        }
        await d.createComputePipelineAsync({
          layout: 'auto',
          compute: { module, entryPoint: 'main' },
          label,
        });
      } catch (e) {
        failure ??= `${label}: ${(e as Error).message}`;
      }
    }
    const validation = await d.popErrorScope();
    const internal = await d.popErrorScope();
    failure ??= validation
      ? `validation: ${validation.message}`
      : internal
        ? `internal: ${internal.message}`
        : null;
    return failure;
  }

  /**
   * A compute pipeline, compiled once per `key` (the key must encode every code parameter).
   * With `bindings` (one entry per binding of group 0, starting at binding 0) the pipeline gets
   * an explicit layout, so a binding the generated code does not use is still valid to bind;
   * without it the layout is `'auto'`.
   */
  pipeline(key: string, makeCode: () => string, bindings?: readonly BindingKind[]): GPUComputePipeline {
    this.throwIfLost();
    let p = this.pipelines.get(key);
    if (!p) {
      const code = makeCode();
      const module = this.device.createShaderModule({ code, label: key });
      let layout: GPUPipelineLayout | 'auto' = 'auto';
      if (bindings) {
        const entries: GPUBindGroupLayoutEntry[] = bindings.map((kind, binding) => ({
          binding,
          visibility: 0x4 /* COMPUTE */,
          buffer: {
            type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage',
          },
        }));
        const bgl = this.device.createBindGroupLayout({ entries, label: key });
        layout = this.device.createPipelineLayout({ bindGroupLayouts: [bgl], label: key });
      }
      p = this.device.createComputePipeline({ layout, compute: { module, entryPoint: 'main' }, label: key });
      this.pipelines.set(key, p);
      this.pipelinesCompiled++;
    }
    return p;
  }

  // Bind groups are cached by (pipeline, buffers, offsets, sizes): creating one per dispatch costs
  // tens of µs of CPU in dawn.node, and repeated calls (decode steps, benchmarks) bind the same
  // pooled buffers again. A cache hit needs the very same GPUBuffer objects, so a destroyed buffer's
  // entries are never used again; the cache is bounded (least recently used are dropped).
  private bindGroupCache = new Map<string, GPUBindGroup>();
  private layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();
  private objectIds = new WeakMap<object, number>();
  private nextObjectId = 1;
  /** bind groups created / served from the cache (for tests and profiling) */
  readonly bindGroupStats = { created: 0, reused: 0 };
  static readonly BIND_GROUP_CACHE_SIZE = 4096;

  private objectId(o: object): number {
    let id = this.objectIds.get(o);
    if (id === undefined) {
      id = this.nextObjectId++;
      this.objectIds.set(o, id);
    }
    return id;
  }

  /** @internal a bind group of group 0 for these buffer bindings (cached). */
  bindGroup(pipeline: GPUComputePipeline, entries: GPUBindGroupEntry[]): GPUBindGroup {
    let key = String(this.objectId(pipeline));
    for (const e of entries) {
      const r = e.resource as GPUBufferBinding;
      key += `|${e.binding}:${this.objectId(r.buffer)}:${r.offset ?? 0}:${r.size ?? -1}`;
    }
    const hit = this.bindGroupCache.get(key);
    if (hit) {
      this.bindGroupCache.delete(key);
      this.bindGroupCache.set(key, hit);
      this.bindGroupStats.reused++;
      return hit;
    }
    let layout = this.layouts.get(pipeline);
    if (!layout) {
      layout = pipeline.getBindGroupLayout(0);
      this.layouts.set(pipeline, layout);
    }
    const group = this.device.createBindGroup({ layout, entries });
    this.bindGroupStats.created++;
    this.bindGroupCache.set(key, group);
    if (this.bindGroupCache.size > GpuContext.BIND_GROUP_CACHE_SIZE) {
      this.bindGroupCache.delete(this.bindGroupCache.keys().next().value as string);
    }
    return group;
  }

  /** Number of cached pipelines. */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** Checks a tensor size against the binding limit (typed error naming the argument). */
  checkBindingSize(name: string, bytes: number, context: string): void {
    const max = this.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new KernelArgumentError(
        name,
        `at most maxStorageBufferBindingSize = ${max} bytes on this adapter`,
        `${bytes} bytes`,
        context,
      );
    }
  }

  /** An uninitialised tensor from the pool. */
  empty(shape: readonly number[], dtype: GpuDtype = 'f32', label?: string): GpuTensor {
    this.throwIfLost();
    if (dtype === 'f16' && !this.features.shaderF16) {
      throw new KernelArgumentError('dtype', "'f32' (this adapter has no shader-f16)", "'f16'");
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const bytes = Math.max(4, Math.ceil((n * BYTES_PER_ELEMENT[dtype]) / 4) * 4);
    if (bytes > this.limits.maxBufferSize) {
      throw new KernelArgumentError(
        'shape',
        `a tensor of at most maxBufferSize = ${this.limits.maxBufferSize} bytes`,
        `[${shape.join(', ')}] ${dtype} (${bytes} bytes)`,
      );
    }
    return new GpuTensor(this.pool.acquire(bytes, TENSOR_USAGE, label), shape, dtype, this.pool);
  }

  /** A tensor of zeros. */
  zeros(shape: readonly number[], dtype: GpuDtype = 'f32'): GpuTensor {
    const t = this.empty(shape, dtype);
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(t.buffer, t.byteOffset, t.byteLength);
    this.device.queue.submit([enc.finish()]);
    return t;
  }

  /**
   * Uploads values (any numeric array) as a tensor of `shape` and `dtype`. f16: rounded to nearest
   * even and saturated to ±65 504 (NaN kept; the f16 policy of `device/f16.ts`), counted with
   * `countF16Saturation`.
   */
  upload(data: ArrayLike<number>, shape: readonly number[], dtype: GpuDtype = 'f32'): GpuTensor {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) {
      throw new KernelArgumentError(
        'data',
        `${n} elements for shape [${shape.join(', ')}]`,
        `${data.length}`,
        'upload',
      );
    }
    const t = this.empty(shape, dtype);
    const bytes =
      dtype === 'f16'
        ? packF16(data, this.options.countF16Saturation ? this.f16Saturated : undefined)
        : data instanceof Float32Array
          ? data
          : Float32Array.from(data as ArrayLike<number>);
    this.device.queue.writeBuffer(t.buffer, 0, bytes.buffer as ArrayBuffer, bytes.byteOffset, t.byteLength);
    return t;
  }

  /** Whether this context counts f16 saturations (option `countF16Saturation`). */
  get countsF16Saturations(): boolean {
    return this.options.countF16Saturation === true;
  }

  /**
   * @internal The GPU counter of f16 saturations (one u32, allocated on first use), or null when
   * the context does not count them; kernels that convert to f16 bind it in their counting variant.
   */
  f16SaturationCounter(): GPUBuffer | null {
    if (!this.options.countF16Saturation) return null;
    if (!this.f16SaturationBuffer) {
      this.f16SaturationBuffer = this.pool.acquire(4, TENSOR_USAGE, 'f16-saturations');
      const enc = this.device.createCommandEncoder();
      enc.clearBuffer(this.f16SaturationBuffer, 0, 4);
      this.device.queue.submit([enc.finish()]);
    }
    return this.f16SaturationBuffer;
  }

  /** @internal whether the GPU saturation counter has been allocated (tests: the default path never does) */
  get hasF16SaturationCounter(): boolean {
    return this.f16SaturationBuffer !== null;
  }

  /**
   * Number of values saturated to ±65 504 when converted to f16 since the context was created
   * (or the last `resetF16Saturations`): f16 uploads plus f32 → f16 casts on the GPU (submitted
   * work; a `recreate()` loses the GPU part). Needs the context option `countF16Saturation`; throws
   * a `KernelArgumentError` otherwise.
   */
  async f16Saturations(): Promise<number> {
    if (!this.options.countF16Saturation)
      throw new KernelArgumentError(
        'countF16Saturation',
        'true in the options of the context',
        String(this.options.countF16Saturation),
        'f16Saturations',
      );
    let gpu = 0;
    if (this.f16SaturationBuffer) {
      const bits = await this.read(new GpuTensor(this.f16SaturationBuffer, [1], 'f32', null));
      gpu = new Uint32Array(bits.buffer, bits.byteOffset, 1)[0];
    }
    return this.f16Saturated.saturated + gpu;
  }

  /** Sets the f16 saturation count back to 0. */
  resetF16Saturations(): void {
    this.f16Saturated.saturated = 0;
    if (this.f16SaturationBuffer) {
      const enc = this.device.createCommandEncoder();
      enc.clearBuffer(this.f16SaturationBuffer, 0, 4);
      this.device.queue.submit([enc.finish()]);
    }
  }

  /** Reads a tensor back as float32 values (f16 is unpacked). Throws pending WebGPU errors. */
  async read(t: GpuTensor): Promise<Float32Array> {
    this.throwIfErrors();
    const size = t.byteLength;
    const staging = this.pool.acquire(size, 0x01 /* MAP_READ */ | 0x08 /* COPY_DST */, 'readback');
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(t.buffer, t.byteOffset, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    const lost = this.device.lost.then((info) => {
      throw new GpuDeviceLostError(info.reason, info.message);
    });
    try {
      await Promise.race([staging.mapAsync(0x0001 /* READ */, 0, size), lost]);
      const copy = staging.getMappedRange(0, size).slice(0);
      staging.unmap();
      this.throwIfErrors();
      return t.dtype === 'f16'
        ? unpackF16(new Uint16Array(copy), t.numel)
        : new Float32Array(copy, 0, t.numel);
    } finally {
      if (!this.lostInfo) this.pool.release(staging);
    }
  }

  private timing: {
    querySet: GPUQuerySet;
    capacity: number;
    used: number;
    /** passes submitted after the query set was full (not timed) */
    dropped: number;
    labels: string[];
    perDispatch: boolean;
  } | null = null;

  /** @internal whether the active timing session measures every dispatch on its own */
  get timingPerDispatch(): boolean {
    return !!this.timing?.perDispatch;
  }

  /**
   * Starts measuring GPU time with `timestamp-query`: every batch submitted until
   * {@link endGpuTiming} writes timestamps at the beginning and end of its compute pass. More
   * passes than `maxPasses` make {@link endGpuTiming} throw rather than return a partial sum.
   * Throws if the device has no `timestamp-query` (fall back to wall-clock + `sync()`).
   */
  beginGpuTiming(maxPasses = 256, options: { perDispatch?: boolean } = {}): void {
    if (!this.features.timestampQuery) {
      throw new KernelArgumentError('timestamp-query', 'an adapter with the timestamp-query feature', 'none');
    }
    if (this.timing) this.timing.querySet.destroy();
    const capacity = 2 * maxPasses;
    this.timing = {
      querySet: this.device.createQuerySet({ type: 'timestamp', count: capacity }),
      capacity,
      used: 0,
      dropped: 0,
      labels: [],
      perDispatch: !!options.perDispatch,
    };
  }

  /** @internal the timestamp writes of the next pass while timing (undefined otherwise or when full). */
  nextTimestampWrites(label: string): GPUComputePassTimestampWrites | undefined {
    const t = this.timing;
    if (!t) return undefined;
    if (t.used + 2 > t.capacity) {
      t.dropped++;
      return undefined;
    }
    t.labels.push(label);
    const w = { querySet: t.querySet, beginningOfPassWriteIndex: t.used, endOfPassWriteIndex: t.used + 1 };
    t.used += 2;
    return w;
  }

  /**
   * Ends a timing session: the GPU time in milliseconds of every measured compute pass (one per
   * submitted batch, or one per dispatch with `perDispatch`), in submission order.
   */
  async endGpuTiming(): Promise<number[]> {
    return (await this.endGpuTimingLabelled()).map((e) => e.ms);
  }

  /** Like {@link endGpuTiming}, with the label of each pass (the dispatch label with `perDispatch`). */
  async endGpuTimingLabelled(): Promise<{ label: string; ms: number }[]> {
    const t = this.timing;
    if (!t) throw new Error('endGpuTiming: no timing session (call beginGpuTiming first)');
    this.timing = null;
    if (t.dropped > 0) {
      t.querySet.destroy();
      throw new KernelArgumentError(
        'maxPasses',
        `at least ${t.capacity / 2 + t.dropped} (the passes submitted while timing; the sum would miss ${t.dropped})`,
        String(t.capacity / 2),
        'beginGpuTiming',
      );
    }
    if (t.used === 0) {
      t.querySet.destroy();
      return [];
    }
    const bytes = t.used * 8;
    const resolve = this.pool.acquire(bytes, 0x200 /* QUERY_RESOLVE */ | 0x04 /* COPY_SRC */, 'timestamps');
    const staging = this.pool.acquire(bytes, 0x01 /* MAP_READ */ | 0x08 /* COPY_DST */, 'timestamps-read');
    const enc = this.device.createCommandEncoder();
    enc.resolveQuerySet(t.querySet, 0, t.used, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(0x0001, 0, bytes);
    const ts = new BigInt64Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.pool.release(resolve);
    this.pool.release(staging);
    t.querySet.destroy();
    this.throwIfErrors();
    const out: { label: string; ms: number }[] = [];
    for (let x = 0; x + 1 < t.used; x += 2)
      out.push({ label: t.labels[x / 2], ms: Number(ts[x + 1] - ts[x]) / 1e6 });
    return out;
  }

  /** A new batch of dispatches (see {@link DispatchBatch}). */
  batch(): DispatchBatch {
    return new DispatchBatch(this);
  }

  /** Waits until the GPU has finished all submitted work; throws pending WebGPU errors. */
  async sync(): Promise<void> {
    this.throwIfLost();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfErrors();
  }

  /** Destroys the device (the context is unusable afterwards). */
  destroy(): void {
    if (this.f16SaturationBuffer) this.pool.release(this.f16SaturationBuffer);
    this.f16SaturationBuffer = null;
    this.pool.trim();
    this.device.destroy();
  }
}

/**
 * Returns a ready {@link GpuContext}: in Node through the `webgpu` package (dawn.node, with the
 * Dawn toggles `allow_unsafe_apis` and `vulkan_enable_f16_on_nvidia`), in browsers through
 * `navigator.gpu`; or wraps the `device` you pass. Requests every optional feature the adapter
 * has among `shader-f16`, `subgroups`, `timestamp-query`, subgroup matrix, and the adapter's
 * maximum buffer / workgroup limits.
 *
 * ```ts
 * const ctx = await getGpuContext();
 * console.log(ctx.describe());
 * ```
 */
export function getGpuContext(options: GpuContextOptions = {}): Promise<GpuContext> {
  try {
    checkOptionKeys(options, GPU_CONTEXT_OPTION_KEYS, 'getGpuContext');
  } catch (e) {
    return Promise.reject(e);
  }
  return GpuContext.create(options);
}

/** The option keys of {@link getGpuContext} (an unknown key is an `MlstmOptionError`). */
export const GPU_CONTEXT_OPTION_KEYS = [
  'device',
  'adapter',
  'powerPreference',
  'disableRobustness',
  'dawnToggles',
  'maxCachedBytes',
  'dawnLog',
  'tuning',
  'matrixProbeWgsl',
  'onPlan',
  'countF16Saturation',
] as const satisfies readonly (keyof GpuContextOptions)[];
// a new option of GpuContextOptions must be added to the list above (else this is a type error)
const _gpuContextKeysComplete: KeysListed<GpuContextOptions, typeof GPU_CONTEXT_OPTION_KEYS> = true;
