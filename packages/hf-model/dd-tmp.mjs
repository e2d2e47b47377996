// packages/hf-model/bench/decode-device.ts
import { writeFileSync } from "node:fs";

// packages/core-reference/src/errors.ts
var MlstmError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "MlstmError";
  }
};
var MlstmArgumentError = class extends MlstmError {
  /** The offending argument, e.g. `"k"` or `"chunkSize"`. */
  argument;
  /** Human-readable expectation, e.g. `"a positive integer dividing S = 100"`. */
  expected;
  /** What was received, formatted. */
  received;
  constructor(argument, expected, received, context) {
    super(`${context ? `${context}: ` : ""}${argument}: expected ${expected}, got ${received}`);
    this.name = "MlstmArgumentError";
    this.argument = argument;
    this.expected = expected;
    this.received = received;
  }
};
var MlstmOptionError = class extends MlstmArgumentError {
  valid;
  constructor(argument, valid, received, context, what = "one of") {
    super(argument, `${what} ${valid.map((v) => JSON.stringify(v)).join(", ")}`, received, context);
    this.name = "MlstmOptionError";
    this.valid = [...valid];
  }
};
var MlstmNonFiniteError = class extends MlstmArgumentError {
  /** The tensor, e.g. `"f"`. */
  tensor;
  /** Flat (row-major) index of the first non-finite element. */
  index;
  /** The same index per dimension. */
  position;
  /** The value found there (NaN, Infinity or -Infinity). */
  value;
  constructor(tensor, shape, index, value, context) {
    const position = [];
    let rest = index;
    for (let d = shape.length - 1; d >= 0; d--) {
      position.unshift(rest % shape[d]);
      rest = Math.floor(rest / shape[d]);
    }
    super(
      tensor,
      "finite values (checkFinite)",
      `${value} at index ${index} = [${position.join(", ")}]`,
      context
    );
    this.name = "MlstmNonFiniteError";
    this.tensor = tensor;
    this.index = index;
    this.position = position;
    this.value = value;
  }
};
var MlstmDeviceError = class extends MlstmError {
  constructor(message) {
    super(message);
    this.name = "MlstmDeviceError";
  }
};
var MlstmOutOfMemoryError = class extends MlstmDeviceError {
  constructor(message) {
    super(message);
    this.name = "MlstmOutOfMemoryError";
  }
};

// packages/core-reference/src/checks.ts
function describeValue(x) {
  if (x === void 0 || x === null) return String(x);
  if (Array.isArray(x)) return `a plain array of length ${x.length}`;
  if (ArrayBuffer.isView(x))
    return `a ${x.constructor.name} of length ${x.length}`;
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x !== "object") return `${typeof x} ${String(x)}`;
  const name = x.constructor?.name;
  const keys = Object.keys(x);
  return `${name && name !== "Object" ? `a ${name}` : "an object"}${keys.length ? ` with keys (${keys.slice(0, 6).join(", ")}${keys.length > 6 ? ", \u2026" : ""})` : ""}`;
}
var fmt = (shape) => `(${shape.join(", ")})`;
function cpuTensorProblem(t) {
  const want = "a tensor { shape: number[], data: Float32Array | Float64Array }";
  if (typeof t !== "object" || t === null || Array.isArray(t) || ArrayBuffer.isView(t))
    return { expected: want, received: describeValue(t) };
  const { shape, data } = t;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
    return {
      expected: `${want} with a shape of non-negative integers`,
      received: `shape ${describeValue(shape)}`
    };
  if (!(data instanceof Float32Array || data instanceof Float64Array))
    return { expected: `data as a Float32Array or Float64Array`, received: describeValue(data) };
  let n = 1;
  for (const d of shape) n *= d;
  if (data.length !== n)
    return { expected: `${n} elements for shape ${fmt(shape)}`, received: `${data.length} elements` };
  return null;
}
function checkFinite(name, t, context) {
  const d = t.data;
  for (let x = 0; x < d.length; x++) {
    const v = d[x];
    if (v - v !== 0) throw new MlstmNonFiniteError(name, t.shape, x, v, context);
  }
}
function checkOptionKeys(options2, known, context, argument = "options") {
  if (options2 === void 0 || options2 === null) return;
  if (typeof options2 !== "object" || Array.isArray(options2))
    throw new MlstmArgumentError(argument, "an object", describeValue(options2), context);
  for (const key of Object.keys(options2)) {
    if (!known.includes(key)) {
      const near = known.filter((k) => closeTo(k, key));
      throw new MlstmOptionError(
        `${argument}.${key}`,
        known,
        `an unknown key${near.length ? ` (did you mean ${near.map((k) => `"${k}"`).join(" or ")}?)` : ""}`,
        context,
        "a known key:"
      );
    }
  }
}
function closeTo(a, b) {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x.startsWith(y) || y.startsWith(x)) return true;
  if (Math.abs(x.length - y.length) > 2) return false;
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length] <= 2;
}
function checkOneOf(argument, value, valid, context, fallback) {
  if (value === void 0 && fallback !== void 0) return fallback;
  if (typeof value === "string" && valid.includes(value)) return value;
  throw new MlstmOptionError(argument, valid, describeValue(value), context);
}
var DTYPE_ALIASES = Object.freeze({
  float32: "f32",
  fp32: "f32",
  float16: "f16",
  fp16: "f16",
  half: "f16",
  bfloat16: "bf16"
});
function normalizeDtype(argument, value, valid, context, fallback) {
  const mapped = typeof value === "string" ? DTYPE_ALIASES[value] ?? value : value;
  return checkOneOf(argument, mapped, valid, context, fallback);
}
function checkSeqStarts(seqStarts, T2, context, states, ErrorClass = MlstmArgumentError) {
  const fail = (expected, received) => {
    throw new ErrorClass("seqStarts", expected, received, context);
  };
  const ok = seqStarts instanceof Int32Array || Array.isArray(seqStarts);
  const list2 = ok ? Array.from(seqStarts) : void 0;
  if (!list2 || list2.length < 2) {
    return fail(
      "an Int32Array of N + 1 offsets (N >= 1 sequences) into the packed token axis",
      list2 ? `${list2.length} offsets` : String(seqStarts)
    );
  }
  const bad = list2.findIndex((v) => !Number.isInteger(v));
  if (bad >= 0) fail("integer offsets", `seqStarts[${bad}] = ${list2[bad]}`);
  if (list2[0] !== 0) fail("offsets starting at 0", `seqStarts[0] = ${list2[0]}`);
  for (let s = 1; s < list2.length; s++) {
    if (list2[s] <= list2[s - 1]) {
      fail(
        "strictly increasing offsets (every sequence has at least one token)",
        `seqStarts[${s - 1}] = ${list2[s - 1]}, seqStarts[${s}] = ${list2[s]}`
      );
    }
  }
  const N = list2.length - 1;
  if (list2[N] !== T2) fail(`offsets ending at the token count T = ${T2}`, `seqStarts[${N}] = ${list2[N]}`);
  if (states !== void 0 && states !== N) {
    fail(
      `N + 1 = ${states + 1} offsets for the ${states} initial states (one per sequence)`,
      `${list2.length} offsets (${N} sequences)`
    );
  }
  return list2;
}

// packages/kernels-webgpu/src/device/dawn-log.ts
var DAWN_DROPPED_LINES = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced .*$/;
var nodeModules;
async function loadNodeModules() {
  if (nodeModules !== void 0) return;
  try {
    const fsName = "node:fs";
    const osName = "node:os";
    const [fs, os] = await Promise.all([
      import(
        /* @vite-ignore */
        fsName
      ),
      import(
        /* @vite-ignore */
        osName
      )
    ]);
    nodeModules = { fs, os };
  } catch {
    nodeModules = null;
  }
}
function filterNativeStderr(fn, drop = DAWN_DROPPED_LINES, forward = (t) => process.stderr.write(t)) {
  const m = nodeModules;
  if (!m) return fn();
  const { fs, os } = m;
  let saved = -1;
  let path2 = "";
  try {
    const st = fs.fstatSync(2);
    if (!(st.isFIFO() || st.isCharacterDevice() || st.isFile())) return fn();
    saved = fs.openSync("/dev/fd/2", "a");
    path2 = `${os.tmpdir()}/mlstm-dawn-stderr-${process.pid}-${Date.now()}.log`;
    fs.closeSync(2);
    const fd = fs.openSync(path2, "w+");
    if (fd !== 2) {
      fs.closeSync(fd);
      restore(fs, saved);
      fs.rmSync(path2, { force: true });
      return fn();
    }
  } catch {
    if (saved >= 0) restoreQuietly(fs, saved);
    if (path2) fs.rmSync(path2, { force: true });
    return fn();
  }
  try {
    return fn();
  } finally {
    restoreQuietly(fs, saved);
    let text = "";
    try {
      text = fs.readFileSync(path2, "utf8");
      fs.rmSync(path2, { force: true });
    } catch {
    }
    const kept = text.split("\n").filter((line, x, all) => !(drop.test(line) || x === all.length - 1 && line === "")).map((line) => `${line}
`).join("");
    if (kept) forward(kept);
  }
}
function restore(fs, saved) {
  try {
    fs.closeSync(2);
  } catch {
  }
  const fd = fs.openSync(`/dev/fd/${saved}`, "a");
  if (fd !== 2) throw new Error(`stderr restored on fd ${fd}`);
  fs.closeSync(saved);
}
function restoreQuietly(fs, saved) {
  try {
    restore(fs, saved);
  } catch {
  }
}

// packages/kernels-webgpu/src/errors.ts
var KernelArgumentError = class extends MlstmArgumentError {
  constructor(argument, expected, received, context) {
    super(argument, expected, received, context);
    this.name = "KernelArgumentError";
  }
};
var GpuDeviceLostError = class extends MlstmDeviceError {
  reason;
  constructor(reason, message) {
    super(
      `GPU device lost (${reason})${message ? `: ${message}` : ""}. Call ctx.recreate() or getGpuContext() again.`
    );
    this.name = "GpuDeviceLostError";
    this.reason = reason;
  }
};
var GpuValidationError = class extends MlstmDeviceError {
  kind;
  constructor(kind, message) {
    super(`WebGPU ${kind} error: ${message}`);
    this.name = "GpuValidationError";
    this.kind = kind;
  }
};
var NoAdapterError = class extends MlstmDeviceError {
  constructor(message) {
    super(message);
    this.name = "NoAdapterError";
  }
};

// packages/kernels-webgpu/src/device/f16.ts
var f32 = new Float32Array(1);
var u32 = new Uint32Array(f32.buffer);
var F16_MAX = 65504;
var F16_MAX_BITS = 31743;
function f32ToF16Bits(x) {
  const h = f32ToF16BitsIeee(x);
  return (h & 32767) === 31744 ? h & 32768 | F16_MAX_BITS : h;
}
function f32ToF16BitsIeee(x) {
  f32[0] = x;
  const bits = u32[0];
  const sign = bits >>> 16 & 32768;
  const exp = bits >>> 23 & 255;
  let mant = bits & 8388607;
  if (exp === 255) return sign | 31744 | (mant ? 512 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 31744;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 8388608;
    const shift = 14 - e;
    const half = 1 << shift - 1;
    const rest2 = mant & (1 << shift) - 1;
    let r3 = mant >>> shift;
    if (rest2 > half || rest2 === half && r3 & 1) r3++;
    return sign | r3;
  }
  let r2 = e << 10 | mant >>> 13;
  const rest = mant & 8191;
  if (rest > 4096 || rest === 4096 && r2 & 1) r2++;
  return sign | r2;
}
function f16Saturates(x) {
  f32[0] = x;
  return Math.abs(f32[0]) > F16_MAX;
}
function wgslSaturateF16(v) {
  return `select(f16(clamp(${v}, -${F16_MAX}.0, ${F16_MAX}.0)), bitcast<vec2<f16>>((bitcast<u32>(${v}) >> 16u) | 0x7e00u).x, (bitcast<u32>(${v}) & 0x7fffffffu) > 0x7f800000u)`;
}
function wgslF16Saturates(v) {
  return `abs(${v}) > ${F16_MAX}.0`;
}
function packF16(values, stats) {
  const out2 = new Uint16Array(values.length + (values.length & 1));
  for (let x = 0; x < values.length; x++) out2[x] = f32ToF16Bits(values[x]);
  if (stats) {
    let n = 0;
    for (let x = 0; x < values.length; x++) if (f16Saturates(values[x])) n++;
    stats.saturated += n;
  }
  return out2;
}
function unpackF16(bits, count = bits.length) {
  const out2 = new Float32Array(count);
  for (let x = 0; x < count; x++) out2[x] = f16BitsToF32(bits[x]);
  return out2;
}
function f16BitsToF32(h) {
  const s = h & 32768 ? -1 : 1;
  const e = h >>> 10 & 31;
  const m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
function roundToF16(values) {
  const out2 = new Float32Array(values.length);
  for (let x = 0; x < values.length; x++) out2[x] = f16BitsToF32(f32ToF16Bits(values[x]));
  return out2;
}

// packages/kernels-webgpu/src/device/pool.ts
function sizeClass(bytes) {
  const b = Math.max(4, Math.ceil(bytes));
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const p = 2 ** Math.floor(Math.log2(b));
  const step = p / 8;
  return Math.ceil(b / step) * step;
}
var BufferPool = class {
  /**
   * @param device the device that creates the buffers
   * @param maxCachedBytes released buffers beyond this many bytes are destroyed. Default: the
   *   largest number of bytes ever live at once (at least 1 GiB), so that repeating a call of the
   *   same shapes never re-creates buffers while the pool never holds more than the program's own
   *   peak working set. (A fixed bound below one call's working set makes every call re-create —
   *   and WebGPU zero-fill — its largest buffers: measured on an H100, +25–55 % GPU time.)
   */
  constructor(device, maxCachedBytes) {
    this.device = device;
    this.maxCachedBytes = maxCachedBytes;
  }
  device;
  maxCachedBytes;
  free = /* @__PURE__ */ new Map();
  /** cached buffers in release order (oldest first), for eviction */
  lru = /* @__PURE__ */ new Map();
  owned = /* @__PURE__ */ new Map();
  live = 0;
  peak = 0;
  cached = 0;
  created = 0;
  reused = 0;
  /** The largest number of bytes ever live at once (not reset by {@link resetPeak}). */
  highWater = 0;
  /** The current bound on cached bytes (see the constructor). */
  get cacheLimit() {
    return this.maxCachedBytes ?? Math.max(2 ** 30, this.highWater);
  }
  /** A buffer of at least `bytes` bytes with exactly `usage`. */
  acquire(bytes, usage, label) {
    const size = sizeClass(bytes);
    const key = `${usage}:${size}`;
    const list2 = this.free.get(key);
    let buffer = list2?.pop();
    if (buffer) {
      this.lru.delete(buffer);
      this.cached -= size;
      this.reused++;
    } else {
      try {
        buffer = this.device.createBuffer({ size, usage, label });
      } catch (e) {
        if (e instanceof RangeError || e instanceof TypeError)
          throw new MlstmOutOfMemoryError(
            `cannot allocate a GPU buffer of ${size} bytes${label ? ` (${label})` : ""}: ${e.message}`
          );
        throw e;
      }
      this.created++;
    }
    this.owned.set(buffer, { key, size });
    this.live += size;
    if (this.live > this.peak) this.peak = this.live;
    if (this.live > this.highWater) this.highWater = this.live;
    return buffer;
  }
  /** Gives a buffer back. Releasing a buffer twice, or one the pool did not make, throws. */
  release(buffer) {
    const info = this.owned.get(buffer);
    if (!info) throw new Error("BufferPool.release: buffer is not live in this pool (released twice?)");
    this.owned.delete(buffer);
    this.live -= info.size;
    if (info.size > this.cacheLimit) {
      buffer.destroy();
      return;
    }
    for (const [old, o] of this.lru) {
      if (this.cached + info.size <= this.cacheLimit) break;
      this.lru.delete(old);
      const list3 = this.free.get(o.key);
      list3.splice(list3.indexOf(old), 1);
      this.cached -= o.size;
      old.destroy();
    }
    let list2 = this.free.get(info.key);
    if (!list2) this.free.set(info.key, list2 = []);
    list2.push(buffer);
    this.lru.set(buffer, info);
    this.cached += info.size;
  }
  /** Destroys every cached (released) buffer. Live buffers are untouched. */
  trim() {
    for (const list2 of this.free.values()) for (const b of list2) b.destroy();
    this.free.clear();
    this.lru.clear();
    this.cached = 0;
  }
  resetPeak() {
    this.peak = this.live;
  }
  get stats() {
    return {
      liveBytes: this.live,
      peakLiveBytes: this.peak,
      cachedBytes: this.cached,
      buffersCreated: this.created,
      reuses: this.reused
    };
  }
  /** Forgets everything (after device loss: the old buffers are gone with the device). */
  reset(device) {
    this.device = device;
    this.free.clear();
    this.owned.clear();
    this.live = this.peak = this.cached = 0;
  }
};

// packages/kernels-webgpu/src/device/tensor.ts
var BYTES_PER_ELEMENT = { f32: 4, f16: 2 };
var TENSOR_USAGE = 128 | 4 | 8;
var GpuTensor = class _GpuTensor {
  /** @internal use `ctx.empty()` / `ctx.upload()` */
  constructor(buffer, shape, dtype2, pool, byteOffset = 0) {
    this.pool = pool;
    this.buf = buffer;
    this.byteOffset = byteOffset;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype2;
    this.numel = shape.reduce((a, b) => a * b, 1);
  }
  pool;
  shape;
  dtype;
  numel;
  /** byte offset of the first element in `buffer` (non-zero only for sub-views) */
  byteOffset;
  buf;
  /** The underlying buffer (at least `byteLength` bytes; pooled buffers may be larger). */
  get buffer() {
    if (!this.buf) throw new KernelArgumentError("tensor", "a live GpuTensor", "a released one");
    return this.buf;
  }
  /** Bytes of the elements (f16 tensors are padded to a multiple of 4 bytes). */
  get byteLength() {
    return Math.ceil(this.numel * BYTES_PER_ELEMENT[this.dtype] / 4) * 4;
  }
  get released() {
    return this.buf === null;
  }
  /** Returns the buffer to the pool. Idempotent. */
  release() {
    if (!this.buf) return;
    if (this.pool) this.pool.release(this.buf);
    this.buf = null;
  }
  /** A view with another shape of the same number of elements (shares the buffer; releasing the view does nothing). */
  view(shape) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== this.numel) {
      throw new KernelArgumentError(
        "shape",
        `${this.numel} elements`,
        `[${shape.join(", ")}] (${n})`,
        "GpuTensor.view"
      );
    }
    return new _GpuTensor(this.buffer, shape, this.dtype, null, this.byteOffset);
  }
  /**
   * A view of `shape` starting `elementOffset` elements into this tensor (shares the buffer;
   * releasing it does nothing). The byte offset must be a multiple of 256 (WebGPU's storage
   * binding alignment).
   */
  subview(elementOffset, shape) {
    const n = shape.reduce((a, b) => a * b, 1);
    const offset = this.byteOffset + elementOffset * BYTES_PER_ELEMENT[this.dtype];
    if (elementOffset < 0 || elementOffset + n > this.numel || offset % 256 !== 0) {
      throw new KernelArgumentError(
        "elementOffset",
        `a range inside the tensor's ${this.numel} elements starting at a multiple of 256 bytes`,
        `[${elementOffset}, ${elementOffset + n}) at byte ${offset}`,
        "GpuTensor.subview"
      );
    }
    return new _GpuTensor(this.buffer, shape, this.dtype, null, offset);
  }
};

// packages/kernels-webgpu/src/tuning.ts
var DEFAULT_KERNEL_TUNING = Object.freeze({
  scan: "auto",
  scanTileX: 256,
  minScanWorkgroups: 128,
  maxScanSegments: 8,
  minSegmentChunks: 16,
  scanSegments: 0,
  denseTiles: null
});
var nonNegInt = (v) => typeof v === "number" && Number.isInteger(v) && v >= 0;
function resolveTuning(base, t, context, name = "tuning") {
  if (t == null) return base;
  if (typeof t !== "object") throw new KernelArgumentError(name, "a KernelTuning object", String(t), context);
  const known = Object.keys(DEFAULT_KERNEL_TUNING);
  for (const k of Object.keys(t)) {
    if (!known.includes(k))
      throw new KernelArgumentError(
        `${name}.${k}`,
        `one of the fields ${known.join(", ")}`,
        "an unknown field",
        context
      );
  }
  if (t.scan !== void 0 && !["auto", "carrying", "products"].includes(t.scan))
    throw new KernelArgumentError(
      `${name}.scan`,
      "'auto', 'carrying' or 'products'",
      JSON.stringify(t.scan),
      context
    );
  if (t.scanTileX !== void 0 && ![64, 128, 192, 256].includes(t.scanTileX))
    throw new KernelArgumentError(`${name}.scanTileX`, "64, 128, 192 or 256", String(t.scanTileX), context);
  for (const k of ["minScanWorkgroups", "maxScanSegments", "minSegmentChunks", "scanSegments"]) {
    if (t[k] !== void 0 && !nonNegInt(t[k]))
      throw new KernelArgumentError(`${name}.${k}`, "a non-negative integer", String(t[k]), context);
  }
  if (t.denseTiles != null) {
    const d = t.denseTiles;
    const ok = typeof d === "object" && ["bm", "bn", "bk", "wm", "stages"].every((k) => Number.isInteger(d[k]) && d[k] > 0) && [void 0, 4, 8].includes(d.subgroups) && [void 0, true, false].includes(d.prefetch) && [void 0, true, false].includes(d.rotateStores);
    if (!ok)
      throw new KernelArgumentError(
        `${name}.denseTiles`,
        "null or { bm, bn, bk, wm, stages } (positive integers) with optional subgroups (4 | 8), prefetch and rotateStores (booleans)",
        JSON.stringify(t.denseTiles),
        context
      );
  }
  const out2 = { ...base };
  for (const [k, v] of Object.entries(t)) if (v !== void 0) out2[k] = v;
  return Object.freeze(out2);
}

// packages/kernels-webgpu/src/device/context.ts
var WANTED_FEATURES = [
  "shader-f16",
  "subgroups",
  "timestamp-query",
  "chromium-experimental-subgroup-matrix"
];
var WANTED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage"
];
var nodeGpus = /* @__PURE__ */ new Map();
async function findGpu(disableRobustness, extraToggles = []) {
  const nav = globalThis.navigator;
  const isNode2 = typeof process !== "undefined" && !!process.versions?.node;
  if (!isNode2) {
    if (!nav?.gpu) {
      throw new NoAdapterError(
        "WebGPU is not available in this browser (navigator.gpu is missing). Use a browser with WebGPU enabled (Chrome/Edge 113+, Safari 26+, Firefox 141+) on a secure context (https or localhost)."
      );
    }
    return nav.gpu;
  }
  const toggles = ["allow_unsafe_apis", "vulkan_enable_f16_on_nvidia"];
  if (disableRobustness) toggles.push("disable_robustness");
  toggles.push(...extraToggles.filter((t) => !t.startsWith("!") && !toggles.includes(t)));
  const off = [
    "timestamp_quantization",
    ...extraToggles.filter((t) => t.startsWith("!")).map((t) => t.slice(1))
  ];
  const key = `${toggles.join(",")}|${off.join(",")}`;
  let gpu = nodeGpus.get(key);
  if (!gpu) {
    const name = "webgpu";
    let mod;
    try {
      mod = await import(
        /* @vite-ignore */
        name
      );
    } catch (e) {
      throw new NoAdapterError(
        `WebGPU under Node needs the 'webgpu' package (dawn.node): npm install webgpu@0.6.2 (${e.message})`
      );
    }
    Object.assign(globalThis, mod.globals);
    gpu = mod.create([`enable-dawn-features=${toggles.join(",")}`, `disable-dawn-features=${off.join(",")}`]);
    nodeGpus.set(key, gpu);
    const g = globalThis;
    if (!g.navigator) Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true });
    else if (!g.navigator.gpu) g.navigator.gpu = gpu;
  }
  return gpu;
}
function readFeatures(device, adapterInfo) {
  const info = adapterInfo ?? device.adapterInfo;
  const has = (f) => device.features.has(f);
  return {
    shaderF16: has("shader-f16"),
    subgroups: has("subgroups"),
    timestampQuery: has("timestamp-query"),
    subgroupMatrix: has("chromium-experimental-subgroup-matrix"),
    subgroupMatrixConfigs: has("chromium-experimental-subgroup-matrix") ? [...info?.subgroupMatrixConfigs ?? []].map((c) => ({
      componentType: String(c.componentType),
      resultComponentType: String(c.resultComponentType),
      M: c.M,
      N: c.N,
      K: c.K
    })) : [],
    subgroupMinSize: info?.subgroupMinSize ?? 0,
    subgroupMaxSize: info?.subgroupMaxSize ?? 0,
    packedIntegerDot: wgslHas("packed_4x8_integer_dot_product")
  };
}
function wgslHas(name) {
  const gpu = globalThis.navigator?.gpu;
  return !!gpu?.wgslLanguageFeatures?.has(name);
}
var DispatchBatch = class {
  /** @internal use `ctx.batch()` */
  constructor(ctx2) {
    this.ctx = ctx2;
  }
  ctx;
  pending = [];
  temporaries = [];
  get size() {
    return this.pending.length;
  }
  dispatch(pipeline, buffers, params5, workgroups, label = "kernel") {
    const [x, y = 1, z = 1] = workgroups;
    const max = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    for (const [n, v] of [
      ["x", x],
      ["y", y],
      ["z", z]
    ]) {
      if (!Number.isInteger(v) || v < 0 || v > max) {
        throw new KernelArgumentError(`workgroups.${n}`, `an integer in [0, ${max}]`, String(v), label);
      }
    }
    this.pending.push({
      label,
      pipeline,
      // tensors bind exactly their bytes (pooled buffers are larger; views start at an offset)
      buffers: buffers.map(
        (b) => b instanceof GpuTensor ? { buffer: b.buffer, offset: b.byteOffset, size: b.byteLength } : { buffer: b }
      ),
      params: params5,
      workgroups: [x, y, z]
    });
    return this;
  }
  /** A scratch tensor released automatically after `submit()`. */
  scratch(shape, dtype2 = "f32") {
    const t = this.ctx.empty(shape, dtype2);
    this.temporaries.push(t);
    return t;
  }
  /**
   * Encodes and submits everything; optional timestamp writes at the pass begin/end (by default
   * those of an active {@link GpuContext.beginGpuTiming} session).
   */
  submit(timestampWrites) {
    const { device } = this.ctx;
    this.ctx.throwIfLost();
    if (!this.ctx.timingPerDispatch) timestampWrites ??= this.ctx.nextTimestampWrites("batch");
    const align = device.limits.minUniformBufferOffsetAlignment;
    const slots = this.pending.map((d) => d.params ? Math.ceil(d.params.byteLength / align) * align : 0);
    const total = slots.reduce((a, b) => a + b, 0);
    let uniforms = null;
    if (total > 0) {
      uniforms = this.ctx.pool.acquire(total, 64 | 8, "params");
      const staging = new Uint8Array(total);
      let off2 = 0;
      this.pending.forEach((d, x) => {
        if (d.params) staging.set(new Uint8Array(d.params), off2);
        off2 += slots[x];
      });
      device.queue.writeBuffer(uniforms, 0, staging);
    }
    const encoder = device.createCommandEncoder();
    const perDispatch = !timestampWrites && this.ctx.timingPerDispatch;
    let pass = null;
    if (!perDispatch) pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    let off = 0;
    this.pending.forEach((d, x) => {
      const entries = [];
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
    if (uniforms) this.ctx.pool.release(uniforms);
    for (const t of this.temporaries) t.release();
    this.pending.length = 0;
    this.temporaries.length = 0;
  }
};
var GpuContext = class _GpuContext {
  constructor(device, adapterInfo, features, options2) {
    this.options = options2;
    this.device = device;
    this.adapterInfo = adapterInfo;
    this.features = features;
    this.limits = device.limits;
    this.pool = new BufferPool(device, options2.maxCachedBytes);
    this.tuning = resolveTuning(DEFAULT_KERNEL_TUNING, options2.tuning, "getGpuContext");
    this.watch(device);
  }
  options;
  device;
  adapterInfo;
  features;
  limits;
  pool;
  /** number of compute pipelines compiled (a pipeline is compiled once per cache key) */
  pipelinesCompiled = 0;
  /** the kernel variants of this context's calls: the defaults with `options.tuning` over them (frozen) */
  tuning;
  /**
   * Whether the f16 matrix-unit kernels run here, and why (see {@link MatrixPathStatus}); set by
   * the first f16 call's probe, for this device and these features.
   */
  matrixPath = { state: "unprobed", reason: "no f16 call has probed the matrix path yet" };
  /** @internal the device and features the matrix-path status belongs to */
  matrixPathOf = null;
  pipelines = /* @__PURE__ */ new Map();
  /** saturations counted on the CPU (f16 uploads) and the GPU counter (cast kernel), with `countF16Saturation` */
  f16Saturated = { saturated: 0 };
  f16SaturationBuffer = null;
  errors = [];
  lostInfo = null;
  /** @internal */
  static async create(options2 = {}) {
    resolveTuning(DEFAULT_KERNEL_TUNING, options2.tuning, "getGpuContext");
    const { device, adapterInfo, features } = await _GpuContext.openDevice(options2);
    return new _GpuContext(device, adapterInfo, features, options2);
  }
  static async openDevice(options2) {
    let device = options2.device;
    let info;
    if (!device) {
      let adapter = options2.adapter;
      if (!adapter) {
        const gpu = await findGpu(!!options2.disableRobustness, options2.dawnToggles);
        const isNode2 = typeof process !== "undefined" && !!process.versions?.node;
        const request = () => gpu.requestAdapter({ powerPreference: options2.powerPreference });
        let pending;
        if (isNode2 && options2.dawnLog !== "all") {
          await loadNodeModules();
          pending = filterNativeStderr(request);
        } else pending = request();
        adapter = await pending ?? void 0;
        if (!adapter) {
          throw new NoAdapterError(
            "requestAdapter() found no WebGPU adapter. In Node on a machine without a GPU install Mesa lavapipe (Debian: mesa-vulkan-drivers from bookworm-backports); in Chromium pass --enable-unsafe-webgpu."
          );
        }
      }
      info = adapter.info;
      const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
      const requiredLimits = {};
      for (const l of WANTED_LIMITS) {
        const v = adapter.limits[l];
        if (typeof v === "number") requiredLimits[l] = v;
      }
      device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: "mlstm" });
    } else {
      info = device.adapterInfo;
    }
    const adapterInfo = {
      vendor: info?.vendor ?? "",
      architecture: info?.architecture ?? "",
      device: info?.device ?? "",
      description: info?.description ?? "",
      isFallbackAdapter: !!info?.isFallbackAdapter
    };
    return { device, adapterInfo, features: readFeatures(device, info) };
  }
  watch(device) {
    device.lost.then((info) => {
      if (this.device === device) this.lostInfo = info;
    });
    device.addEventListener("uncapturederror", (ev) => {
      const err = ev.error;
      const type = err.constructor?.name;
      if (type === "GPUOutOfMemoryError") {
        this.errors.push(new MlstmOutOfMemoryError(`WebGPU out of memory: ${err.message}`));
        return;
      }
      this.errors.push(
        new GpuValidationError(type === "GPUInternalError" ? "internal" : "validation", err.message)
      );
    });
  }
  /** Throws a {@link GpuDeviceLostError} if the device is gone. */
  throwIfLost() {
    if (this.lostInfo) throw new GpuDeviceLostError(this.lostInfo.reason, this.lostInfo.message);
  }
  /** Throws the first WebGPU error reported since the last check (and clears them). */
  throwIfErrors() {
    this.throwIfLost();
    if (this.errors.length) {
      const [first] = this.errors;
      this.errors = [];
      throw first;
    }
  }
  get lost() {
    return this.lostInfo !== null;
  }
  /** Replaces a lost (or any) device by a fresh one; caches and pool are reset. */
  async recreate() {
    const { device, adapterInfo, features } = await _GpuContext.openDevice({
      ...this.options,
      device: void 0
    });
    this.device = device;
    this.adapterInfo = adapterInfo;
    this.features = features;
    this.limits = device.limits;
    this.pipelines = /* @__PURE__ */ new Map();
    this.bindGroupCache = /* @__PURE__ */ new Map();
    this.layouts = /* @__PURE__ */ new WeakMap();
    this.errors = [];
    this.lostInfo = null;
    this.matrixPath = { state: "unprobed", reason: "the device was recreated" };
    this.matrixPathOf = null;
    this.f16SaturationBuffer = null;
    this.pool.reset(device);
    this.watch(device);
  }
  /** A printable summary of the adapter, features and key limits. */
  describe() {
    const a = this.adapterInfo;
    const f = this.features;
    const sm = f.subgroupMatrixConfigs.map(
      (c) => `${c.componentType}\u2192${c.resultComponentType} ${c.M}x${c.N}x${c.K}`
    );
    return [
      `adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(" / ")}${a.isFallbackAdapter ? " (fallback)" : ""}`,
      `features: shader-f16 ${f.shaderF16 ? "yes" : "no"}, subgroups ${f.subgroups ? `yes (${f.subgroupMinSize}\u2013${f.subgroupMaxSize})` : "no"}, timestamp-query ${f.timestampQuery ? "yes" : "no"}, subgroup-matrix ${f.subgroupMatrix ? `yes [${sm.join(", ")}]` : "no"}, packed int8 dot ${f.packedIntegerDot ? "yes" : "no"}`,
      `limits: workgroup storage ${this.limits.maxComputeWorkgroupStorageSize} B, invocations ${this.limits.maxComputeInvocationsPerWorkgroup}, storage binding ${this.limits.maxStorageBufferBindingSize} B, buffer ${this.limits.maxBufferSize} B`
    ].join("\n");
  }
  /** The options this context was created with (read-only view). */
  get createdWith() {
    return this.options;
  }
  /**
   * Compiles compute pipelines asynchronously inside validation and internal error scopes, so that
   * a module or pipeline this device rejects surfaces here and nowhere else. Returns the first
   * error's message, or null when every one compiled. Compiles nothing into the pipeline cache.
   */
  async tryCompile(sources) {
    this.throwIfLost();
    const d = this.device;
    d.pushErrorScope("internal");
    d.pushErrorScope("validation");
    let failure = null;
    for (const { label, code } of sources) {
      try {
        const module = d.createShaderModule({ code, label });
        const info = await module.getCompilationInfo();
        const errs = info.messages.filter((m) => m.type === "error");
        if (errs.length) {
          failure ??= `${label}: ${errs[0].lineNum}:${errs[0].linePos} ${errs[0].message}`;
          continue;
        }
        await d.createComputePipelineAsync({
          layout: "auto",
          compute: { module, entryPoint: "main" },
          label
        });
      } catch (e) {
        failure ??= `${label}: ${e.message}`;
      }
    }
    const validation = await d.popErrorScope();
    const internal = await d.popErrorScope();
    failure ??= validation ? `validation: ${validation.message}` : internal ? `internal: ${internal.message}` : null;
    return failure;
  }
  /**
   * A compute pipeline, compiled once per `key` (the key must encode every code parameter).
   * With `bindings` (one entry per binding of group 0, starting at binding 0) the pipeline gets
   * an explicit layout, so a binding the generated code does not use is still valid to bind;
   * without it the layout is `'auto'`.
   */
  pipeline(key, makeCode, bindings) {
    this.throwIfLost();
    let p = this.pipelines.get(key);
    if (!p) {
      const code = makeCode();
      const module = this.device.createShaderModule({ code, label: key });
      let layout = "auto";
      if (bindings) {
        const entries = bindings.map((kind, binding) => ({
          binding,
          visibility: 4,
          buffer: {
            type: kind === "uniform" ? "uniform" : kind === "read" ? "read-only-storage" : "storage"
          }
        }));
        const bgl = this.device.createBindGroupLayout({ entries, label: key });
        layout = this.device.createPipelineLayout({ bindGroupLayouts: [bgl], label: key });
      }
      p = this.device.createComputePipeline({ layout, compute: { module, entryPoint: "main" }, label: key });
      this.pipelines.set(key, p);
      this.pipelinesCompiled++;
    }
    return p;
  }
  // Bind groups are cached by (pipeline, buffers, offsets, sizes): creating one per dispatch costs
  // tens of µs of CPU in dawn.node, and repeated calls (decode steps, benchmarks) bind the same
  // pooled buffers again. A cache hit needs the very same GPUBuffer objects, so a destroyed buffer's
  // entries are never used again; the cache is bounded (least recently used are dropped).
  bindGroupCache = /* @__PURE__ */ new Map();
  layouts = /* @__PURE__ */ new WeakMap();
  objectIds = /* @__PURE__ */ new WeakMap();
  nextObjectId = 1;
  /** bind groups created / served from the cache (for tests and profiling) */
  bindGroupStats = { created: 0, reused: 0 };
  static BIND_GROUP_CACHE_SIZE = 4096;
  objectId(o) {
    let id = this.objectIds.get(o);
    if (id === void 0) {
      id = this.nextObjectId++;
      this.objectIds.set(o, id);
    }
    return id;
  }
  /** @internal a bind group of group 0 for these buffer bindings (cached). */
  bindGroup(pipeline, entries) {
    let key = String(this.objectId(pipeline));
    for (const e of entries) {
      const r2 = e.resource;
      key += `|${e.binding}:${this.objectId(r2.buffer)}:${r2.offset ?? 0}:${r2.size ?? -1}`;
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
    if (this.bindGroupCache.size > _GpuContext.BIND_GROUP_CACHE_SIZE) {
      this.bindGroupCache.delete(this.bindGroupCache.keys().next().value);
    }
    return group;
  }
  /** Number of cached pipelines. */
  get pipelineCount() {
    return this.pipelines.size;
  }
  /** Checks a tensor size against the binding limit (typed error naming the argument). */
  checkBindingSize(name, bytes, context) {
    const max = this.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new KernelArgumentError(
        name,
        `at most maxStorageBufferBindingSize = ${max} bytes on this adapter`,
        `${bytes} bytes`,
        context
      );
    }
  }
  /** An uninitialised tensor from the pool. */
  empty(shape, dtype2 = "f32", label) {
    this.throwIfLost();
    if (dtype2 === "f16" && !this.features.shaderF16) {
      throw new KernelArgumentError("dtype", "'f32' (this adapter has no shader-f16)", "'f16'");
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const bytes = Math.max(4, Math.ceil(n * BYTES_PER_ELEMENT[dtype2] / 4) * 4);
    if (bytes > this.limits.maxBufferSize) {
      throw new KernelArgumentError(
        "shape",
        `a tensor of at most maxBufferSize = ${this.limits.maxBufferSize} bytes`,
        `[${shape.join(", ")}] ${dtype2} (${bytes} bytes)`
      );
    }
    return new GpuTensor(this.pool.acquire(bytes, TENSOR_USAGE, label), shape, dtype2, this.pool);
  }
  /** A tensor of zeros. */
  zeros(shape, dtype2 = "f32") {
    const t = this.empty(shape, dtype2);
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
  upload(data, shape, dtype2 = "f32") {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) {
      throw new KernelArgumentError(
        "data",
        `${n} elements for shape [${shape.join(", ")}]`,
        `${data.length}`,
        "upload"
      );
    }
    const t = this.empty(shape, dtype2);
    const bytes = dtype2 === "f16" ? packF16(data, this.options.countF16Saturation ? this.f16Saturated : void 0) : data instanceof Float32Array ? data : Float32Array.from(data);
    this.device.queue.writeBuffer(t.buffer, 0, bytes.buffer, bytes.byteOffset, t.byteLength);
    return t;
  }
  /** Whether this context counts f16 saturations (option `countF16Saturation`). */
  get countsF16Saturations() {
    return this.options.countF16Saturation === true;
  }
  /**
   * @internal The GPU counter of f16 saturations (one u32, allocated on first use), or null when
   * the context does not count them; kernels that convert to f16 bind it in their counting variant.
   */
  f16SaturationCounter() {
    if (!this.options.countF16Saturation) return null;
    if (!this.f16SaturationBuffer) {
      this.f16SaturationBuffer = this.pool.acquire(4, TENSOR_USAGE, "f16-saturations");
      const enc = this.device.createCommandEncoder();
      enc.clearBuffer(this.f16SaturationBuffer, 0, 4);
      this.device.queue.submit([enc.finish()]);
    }
    return this.f16SaturationBuffer;
  }
  /** @internal whether the GPU saturation counter has been allocated (tests: the default path never does) */
  get hasF16SaturationCounter() {
    return this.f16SaturationBuffer !== null;
  }
  /**
   * Number of values saturated to ±65 504 when converted to f16 since the context was created
   * (or the last `resetF16Saturations`): f16 uploads plus f32 → f16 casts on the GPU (submitted
   * work; a `recreate()` loses the GPU part). Needs the context option `countF16Saturation`; throws
   * a `KernelArgumentError` otherwise.
   */
  async f16Saturations() {
    if (!this.options.countF16Saturation)
      throw new KernelArgumentError(
        "countF16Saturation",
        "true in the options of the context",
        String(this.options.countF16Saturation),
        "f16Saturations"
      );
    let gpu = 0;
    if (this.f16SaturationBuffer) {
      const bits = await this.read(new GpuTensor(this.f16SaturationBuffer, [1], "f32", null));
      gpu = new Uint32Array(bits.buffer, bits.byteOffset, 1)[0];
    }
    return this.f16Saturated.saturated + gpu;
  }
  /** Sets the f16 saturation count back to 0. */
  resetF16Saturations() {
    this.f16Saturated.saturated = 0;
    if (this.f16SaturationBuffer) {
      const enc = this.device.createCommandEncoder();
      enc.clearBuffer(this.f16SaturationBuffer, 0, 4);
      this.device.queue.submit([enc.finish()]);
    }
  }
  /** Reads a tensor back as float32 values (f16 is unpacked). Throws pending WebGPU errors. */
  async read(t) {
    this.throwIfErrors();
    const size = t.byteLength;
    const staging = this.pool.acquire(size, 1 | 8, "readback");
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(t.buffer, t.byteOffset, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    const lost = this.device.lost.then((info) => {
      throw new GpuDeviceLostError(info.reason, info.message);
    });
    try {
      await Promise.race([staging.mapAsync(1, 0, size), lost]);
      const copy = staging.getMappedRange(0, size).slice(0);
      staging.unmap();
      this.throwIfErrors();
      return t.dtype === "f16" ? unpackF16(new Uint16Array(copy), t.numel) : new Float32Array(copy, 0, t.numel);
    } finally {
      if (!this.lostInfo) this.pool.release(staging);
    }
  }
  timing = null;
  /** @internal whether the active timing session measures every dispatch on its own */
  get timingPerDispatch() {
    return !!this.timing?.perDispatch;
  }
  /**
   * Starts measuring GPU time with `timestamp-query`: every batch submitted until
   * {@link endGpuTiming} writes timestamps at the beginning and end of its compute pass. More
   * passes than `maxPasses` make {@link endGpuTiming} throw rather than return a partial sum.
   * Throws if the device has no `timestamp-query` (fall back to wall-clock + `sync()`).
   */
  beginGpuTiming(maxPasses = 256, options2 = {}) {
    if (!this.features.timestampQuery) {
      throw new KernelArgumentError("timestamp-query", "an adapter with the timestamp-query feature", "none");
    }
    if (this.timing) this.timing.querySet.destroy();
    const capacity = 2 * maxPasses;
    this.timing = {
      querySet: this.device.createQuerySet({ type: "timestamp", count: capacity }),
      capacity,
      used: 0,
      dropped: 0,
      labels: [],
      perDispatch: !!options2.perDispatch
    };
  }
  /** @internal the timestamp writes of the next pass while timing (undefined otherwise or when full). */
  nextTimestampWrites(label) {
    const t = this.timing;
    if (!t) return void 0;
    if (t.used + 2 > t.capacity) {
      t.dropped++;
      return void 0;
    }
    t.labels.push(label);
    const w2 = { querySet: t.querySet, beginningOfPassWriteIndex: t.used, endOfPassWriteIndex: t.used + 1 };
    t.used += 2;
    return w2;
  }
  /**
   * Ends a timing session: the GPU time in milliseconds of every measured compute pass (one per
   * submitted batch, or one per dispatch with `perDispatch`), in submission order.
   */
  async endGpuTiming() {
    return (await this.endGpuTimingLabelled()).map((e) => e.ms);
  }
  /** Like {@link endGpuTiming}, with the label of each pass (the dispatch label with `perDispatch`). */
  async endGpuTimingLabelled() {
    const t = this.timing;
    if (!t) throw new Error("endGpuTiming: no timing session (call beginGpuTiming first)");
    this.timing = null;
    if (t.dropped > 0) {
      t.querySet.destroy();
      throw new KernelArgumentError(
        "maxPasses",
        `at least ${t.capacity / 2 + t.dropped} (the passes submitted while timing; the sum would miss ${t.dropped})`,
        String(t.capacity / 2),
        "beginGpuTiming"
      );
    }
    if (t.used === 0) {
      t.querySet.destroy();
      return [];
    }
    const bytes = t.used * 8;
    const resolve2 = this.pool.acquire(bytes, 512 | 4, "timestamps");
    const staging = this.pool.acquire(bytes, 1 | 8, "timestamps-read");
    const enc = this.device.createCommandEncoder();
    enc.resolveQuerySet(t.querySet, 0, t.used, resolve2, 0);
    enc.copyBufferToBuffer(resolve2, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(1, 0, bytes);
    const ts = new BigInt64Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.pool.release(resolve2);
    this.pool.release(staging);
    t.querySet.destroy();
    this.throwIfErrors();
    const out2 = [];
    for (let x = 0; x + 1 < t.used; x += 2)
      out2.push({ label: t.labels[x / 2], ms: Number(ts[x + 1] - ts[x]) / 1e6 });
    return out2;
  }
  /** A new batch of dispatches (see {@link DispatchBatch}). */
  batch() {
    return new DispatchBatch(this);
  }
  /** Waits until the GPU has finished all submitted work; throws pending WebGPU errors. */
  async sync() {
    this.throwIfLost();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfErrors();
  }
  /** Destroys the device (the context is unusable afterwards). */
  destroy() {
    if (this.f16SaturationBuffer) this.pool.release(this.f16SaturationBuffer);
    this.f16SaturationBuffer = null;
    this.pool.trim();
    this.device.destroy();
  }
};
function getGpuContext(options2 = {}) {
  try {
    checkOptionKeys(options2, GPU_CONTEXT_OPTION_KEYS, "getGpuContext");
  } catch (e) {
    return Promise.reject(e);
  }
  return GpuContext.create(options2);
}
var GPU_CONTEXT_OPTION_KEYS = [
  "device",
  "adapter",
  "powerPreference",
  "disableRobustness",
  "dawnToggles",
  "maxCachedBytes",
  "dawnLog",
  "tuning",
  "matrixProbeWgsl",
  "onPlan",
  "countF16Saturation"
];

// packages/kernels-webgpu/src/device/params.ts
function defineParams(spec) {
  const fields = Object.keys(spec);
  const bytes = Math.max(16, Math.ceil(fields.length * 4 / 16) * 16);
  return {
    fields,
    wgsl(name = "Params") {
      return `struct ${name} {
${fields.map((f) => `  ${f}: ${spec[f]},`).join("\n")}
}`;
    },
    pack(values) {
      const buf = new ArrayBuffer(bytes);
      const dv = new DataView(buf);
      fields.forEach((f, x) => {
        const v = values[f];
        if (typeof v !== "number" || Number.isNaN(v)) throw new TypeError(`params: ${f} is ${v}`);
        if (spec[f] === "f32") dv.setFloat32(4 * x, v, true);
        else if (spec[f] === "u32") dv.setUint32(4 * x, v >>> 0, true);
        else dv.setInt32(4 * x, v | 0, true);
      });
      return buf;
    }
  };
}

// packages/kernels-webgpu/src/wgsl/common.ts
var NEG_LARGE = "-1.0e30";
function wgslHeader(dtype2, extra = {}) {
  return [
    dtype2 === "f16" ? "enable f16;" : "",
    extra.subgroups ? "enable subgroups;" : "",
    `alias elem = ${dtype2};`,
    GATE_FUNCTIONS
  ].filter(Boolean).join("\n");
}
var GATE_FUNCTIONS = (
  /* wgsl */
  `
fn logsigmoid(x: f32) -> f32 {
  // min(x, 0) - log1p(exp(-|x|)); log(1 + y) is exact enough in f32 for y = exp(-|x|) <= 1
  return min(x, 0.0) - log(1.0 + exp(-abs(x)));
}
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}`
);
var cdiv = (a, b) => Math.ceil(a / b);
var nextPow2 = (n) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
function splitWorkgroups(count, max = 65535) {
  if (count <= max) return [count, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

// packages/kernels-webgpu/src/util/cast.ts
var params = defineParams({ n: "u32" });
var WG = 256;
function encodeCast(ctx2, batch, src, dst) {
  if (src.numel !== dst.numel)
    throw new KernelArgumentError("dst", `${src.numel} elements (as src)`, `${dst.numel}`, "encodeCast");
  const [from, to] = [src.dtype, dst.dtype];
  const narrowing = from === "f32" && to === "f16";
  const counter = narrowing ? ctx2.f16SaturationCounter() : null;
  const body = narrowing ? counter ? `let v = src[idx];
  if (${wgslF16Saturates("v")}) { atomicAdd(&saturations[0], 1u); }
  dst[idx] = ${wgslSaturateF16("v")};` : `let v = src[idx];
  dst[idx] = ${wgslSaturateF16("v")};` : `dst[idx] = ${to}(src[idx]);`;
  const pipeline = ctx2.pipeline(
    `util:cast:${from}:${to}${counter ? ":count" : ""}`,
    () => `enable f16;
${params.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<${from}>;
@group(0) @binding(2) var<storage, read_write> dst: array<${to}>;${counter ? "\n@group(0) @binding(3) var<storage, read_write> saturations: array<atomic<u32>>;" : ""}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (idx >= P.n) { return; }
  ${body}
}`,
    counter ? ["uniform", "read", "rw", "rw"] : ["uniform", "read", "rw"]
  );
  batch.dispatch(
    pipeline,
    counter ? [src, dst, counter] : [src, dst],
    params.pack({ n: src.numel }),
    splitWorkgroups(Math.ceil(src.numel / WG), ctx2.limits.maxComputeWorkgroupsPerDimension),
    `cast ${from}\u2192${to}`
  );
}
function castTensor(ctx2, t, dtype2) {
  const out2 = ctx2.empty(t.shape, dtype2);
  const batch = ctx2.batch();
  encodeCast(ctx2, batch, t, out2);
  batch.submit();
  return out2;
}

// packages/kernels-webgpu/src/io.ts
var CallScope = class {
  constructor(ctx2, first) {
    this.ctx = ctx2;
    this.cpu = !(first instanceof GpuTensor);
  }
  ctx;
  uploaded = [];
  cpu;
  gpu(t, dtype2) {
    if (t == null) return void 0;
    if (t instanceof GpuTensor) {
      if (!dtype2 || t.dtype === dtype2) return t;
      const c = castTensor(this.ctx, t, dtype2);
      this.uploaded.push(c);
      return c;
    }
    const g = this.ctx.upload(t.data, t.shape, dtype2 ?? "f32");
    this.uploaded.push(g);
    return g;
  }
  /**
   * GPU callers get outputs in `dtype` (the inputs' storage type): an output of another dtype is
   * converted on the GPU and released. CPU callers read f32 arrays back either way.
   */
  output(t, dtype2) {
    if (this.cpu || t.dtype === dtype2) return t;
    const c = castTensor(this.ctx, t, dtype2);
    t.release();
    return c;
  }
  /** Releases the uploads and, for CPU callers, reads each output back and releases it. */
  async finish(result) {
    for (const t of this.uploaded) t.release();
    if (!this.cpu) return result;
    return await readAll(this.ctx, result);
  }
  /** Releases uploads after an error. */
  abort() {
    for (const t of this.uploaded) t.release();
  }
};
async function readAll(ctx2, value) {
  if (value instanceof GpuTensor) {
    const data = await ctx2.read(value);
    const shape = [...value.shape];
    value.release();
    return { shape, data };
  }
  if (value && typeof value === "object" && !ArrayBuffer.isView(value) && !Array.isArray(value)) {
    const out2 = {};
    for (const [k, v] of Object.entries(value)) out2[k] = await readAll(ctx2, v);
    return out2;
  }
  return value;
}

// packages/kernels-webgpu/src/validate.ts
var fmt2 = (s) => `(${s.join(", ")})`;
function expectTensorLike(name, t, context) {
  if (t instanceof GpuTensor) {
    if (t.released) throw new KernelArgumentError(name, "a live GpuTensor", "a released GpuTensor", context);
    return;
  }
  const p = cpuTensorProblem(t);
  if (p) throw new KernelArgumentError(name, `a GpuTensor or ${p.expected}`, p.received, context);
}
function expectTensor(name, t, expected, dimNames, context, dtypes = ["f32", "f16"]) {
  const want = `shape (${dimNames.join(", ")}) = ${fmt2(expected)}`;
  expectTensorLike(name, t, context);
  const ok = t.shape.length === expected.length && t.shape.every((d, x) => d === expected[x]);
  if (!ok) throw new KernelArgumentError(name, want, `shape ${fmt2(t.shape)}`, context);
  if (t instanceof GpuTensor && !dtypes.includes(t.dtype)) {
    throw new KernelArgumentError(
      name,
      `dtype ${dtypes.map((d) => `'${d}'`).join(" or ")}`,
      `'${t.dtype}'`,
      context
    );
  }
}
function validateSequence(a, context) {
  const { q, k, v, i, f } = a;
  expectTensorLike("q", q, context);
  if (q.shape.length !== 4 || q.shape.some((d) => !(d >= 1))) {
    throw new KernelArgumentError(
      "q",
      "a tensor of shape (B, NH, S, DHQK) with all dims >= 1",
      `shape ${fmt2(q.shape)}`,
      context
    );
  }
  const [B, NH, S, DHQK] = q.shape;
  expectTensor("k", k, [B, NH, S, DHQK], ["B", "NH", "S", "DHQK"], context);
  expectTensorLike("v", v, context);
  if (v.shape.length !== 4 || !(v.shape[3] >= 1)) {
    throw new KernelArgumentError(
      "v",
      `a tensor of shape (B, NH, S, DHHV) = (${B}, ${NH}, ${S}, DHHV)`,
      `shape ${fmt2(v.shape)}`,
      context
    );
  }
  const DHHV = v.shape[3];
  expectTensor("v", v, [B, NH, S, DHHV], ["B", "NH", "S", "DHHV"], context);
  expectTensor("i", i, [B, NH, S], ["B", "NH", "S"], context, ["f32"]);
  expectTensor("f", f, [B, NH, S], ["B", "NH", "S"], context, ["f32"]);
  const dt = [q, k, v].map((t) => t instanceof GpuTensor ? t.dtype : null);
  if (dt.some((d) => d !== null) && new Set(dt.filter(Boolean)).size > 1) {
    throw new KernelArgumentError("k, v", `the dtype of q ('${dt[0]}')`, `'${dt[1]}', '${dt[2]}'`, context);
  }
  return { B, NH, S, DHQK, DHHV };
}
function validateStates(s, d, context, requireM = true) {
  const names = requireM ? ["cInitial", "nInitial", "mInitial"] : ["cInitial", "nInitial"];
  const given = names.map((n) => s[n] != null);
  if (!given.some(Boolean)) return false;
  if (!given.every(Boolean)) {
    throw new KernelArgumentError(
      names[given.indexOf(false)],
      `all of ${names.join(", ")} or none`,
      "undefined",
      context
    );
  }
  expectTensor("cInitial", s.cInitial, [d.B, d.NH, d.DHQK, d.DHHV], ["B", "NH", "DHQK", "DHHV"], context, [
    "f32"
  ]);
  expectTensor("nInitial", s.nInitial, [d.B, d.NH, d.DHQK], ["B", "NH", "DHQK"], context, ["f32"]);
  if (s.mInitial != null)
    expectTensor("mInitial", s.mInitial, [d.B, d.NH, 1], ["B", "NH", "1"], context, ["f32"]);
  return true;
}
function validateEps(eps, context) {
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0) {
    throw new KernelArgumentError("eps", "a finite number >= 0", String(eps), context);
  }
  return eps;
}
function resolveDtype(ctx2, q, requested, context) {
  if (requested !== void 0)
    requested = normalizeDtype("dtype", requested, ["f32", "f16"], context);
  const dtype2 = q instanceof GpuTensor ? q.dtype : requested ?? "f32";
  if (q instanceof GpuTensor && requested && requested !== q.dtype) {
    throw new KernelArgumentError(
      "dtype",
      `'${q.dtype}' (the dtype of the GPU input q)`,
      `'${requested}'`,
      context
    );
  }
  if (dtype2 === "f16" && !ctx2.features.shaderF16) {
    throw new KernelArgumentError("dtype", "'f32' \u2014 this adapter has no shader-f16", "'f16'", context);
  }
  return dtype2;
}
function checkSizes(ctx2, sizes, context) {
  for (const [name, bytes] of Object.entries(sizes)) ctx2.checkBindingSize(name, bytes, context);
}

// packages/kernels-webgpu/src/recurrent/step.ts
var DEFAULT_EPS = 1e-6;
var STEP_SCRATCH_PER_HEAD = 4;
var STEP_PARAMS = defineParams({
  BH: "u32",
  S: "u32",
  t: "u32",
  DHQK: "u32",
  DHHV: "u32",
  has_state: "u32",
  kappa: "f32",
  eps: "f32"
});
function recurrentStepTiles(BH, DHQK, DHHV, maxInvocations = 256, maxSizeY = maxInvocations) {
  const pow2Floor2 = (n) => 2 ** Math.floor(Math.log2(Math.max(1, n)));
  const wide = Math.min(32, nextPow2(DHHV));
  const starved = BH * cdiv(DHHV, wide) < 256;
  const blockV = Math.min(starved ? 16 : 32, nextPow2(DHHV), pow2Floor2(maxInvocations));
  const threads = pow2Floor2(Math.min(maxInvocations, starved ? 512 : 256));
  const splitK = Math.max(1, Math.min(nextPow2(DHQK), Math.floor(threads / blockV), pow2Floor2(maxSizeY)));
  return { blockV, splitK };
}
var RECURRENT_STEP_FUSED_BINDINGS = { inPlace: 11, separate: 12 };
function declare(dtype2, bindings) {
  return [
    wgslHeader(dtype2),
    STEP_PARAMS.wgsl(),
    "@group(0) @binding(0) var<uniform> p: Params;",
    ...bindings.map(
      (b, x) => `@group(0) @binding(${x + 1}) var<storage, ${b.access}> ${b.name}: array<${b.type === "elem" ? "elem" : "f32"}>;`
    )
  ].join("\n");
}
var r = (name, type = "f32") => ({ name, type, access: "read" });
var w = (name, type = "f32") => ({ name, type, access: "read_write" });
var GATES = (
  /* wgsl */
  `
  var m_old = 0.0;
  if (p.has_state != 0u) { m_old = m_in[bh]; }
  let lam = logsigmoid(fg[row]);
  let ipre = ig[row];
  let m_new = max(lam + m_old, ipre);
  let fgate = exp(lam + m_old - m_new);
  let igate = exp(ipre - m_new);`
);
var normaliser = (nRead, writeN) => (
  /* wgsl */
  `
  var part = 0.0;
  for (var a = tid; a < p.DHQK; a += WG) {
    let s = bh * p.DHQK + a;
    var n_old = 0.0;
    if (p.has_state != 0u) { n_old = ${nRead}[s]; }
    let nn = fgate * n_old + igate * f32(k[row * p.DHQK + a]);
    if (${writeN}) { n_st[s] = nn; }
    part += nn * f32(q[row * p.DHQK + a]);
  }
  red[tid] = part;
  workgroupBarrier();
  for (var wd = WG / 2u; wd > 0u; wd = wd / 2u) {
    if (tid < wd) { red[tid] += red[tid + wd]; }
    workgroupBarrier();
  }
  let den = max(abs(red[0] * p.kappa), exp(-m_new)) + p.eps;
  workgroupBarrier();`
);
var update = (cRead) => (
  /* wgsl */
  `
  let col = wid.x * BV + lid.x;
  var acc = 0.0;
  if (col < p.DHHV) {
    let iv = igate * f32(v[row * p.DHHV + col]);
    for (var a = lid.y; a < p.DHQK; a += KS) {
      let s = (bh * p.DHQK + a) * p.DHHV + col;
      var c_old = 0.0;
      if (p.has_state != 0u) { c_old = ${cRead}[s]; }
      let cn = fgate * c_old + f32(k[row * p.DHQK + a]) * iv;
      c_st[s] = cn;
      acc += cn * f32(q[row * p.DHQK + a]);
    }
  }
  red[lid.y * BV + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0u && col < p.DHHV) {
    var num = 0.0;
    for (var j = 0u; j < KS; j++) { num += red[j * BV + lid.x]; }
    h[row * p.DHHV + col] = elem(num * p.kappa / den);
  }`
);
var entry = (blockV, splitK, twoD) => `
const BV: u32 = ${blockV}u;
const KS: u32 = ${splitK}u;
const WG: u32 = ${blockV * splitK}u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(${twoD ? "BV, KS" : "WG"})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {`;
var cBindings = (cInPlace) => cInPlace ? [w("c_st")] : [r("c_in"), w("c_st")];
function recurrentStepFusedWgsl(dtype2, tiles, cInPlace) {
  const bindings = [
    r("q", "elem"),
    r("k", "elem"),
    r("v", "elem"),
    r("ig"),
    r("fg"),
    r("n_in"),
    r("m_in"),
    ...cBindings(cInPlace),
    w("h", "elem"),
    w("n_st"),
    w("m_out")
  ];
  return (
    /* wgsl */
    `${declare(dtype2, bindings)}
${entry(tiles.blockV, tiles.splitK, true)}
  let bh = wid.y + wid.z * nwg.y;
  if (bh >= p.BH) { return; }
  let row = bh * p.S + p.t;
${GATES}
${normaliser("n_in", "wid.x == 0u")}
${update(cInPlace ? "c_st" : "c_in")}
  if (wid.x == 0u && tid == 0u) { m_out[bh] = m_new; }
}
`
  );
}
function recurrentStepPrepWgsl(dtype2, tiles, nInPlace) {
  const bindings = [
    r("q", "elem"),
    r("k", "elem"),
    r("ig"),
    r("fg"),
    r("m_in"),
    ...nInPlace ? [w("n_st")] : [r("n_in"), w("n_st")],
    w("sc")
  ];
  return (
    /* wgsl */
    `${declare(dtype2, bindings)}
${entry(tiles.blockV, tiles.splitK, false)}
  let bh = wid.x + wid.y * nwg.x;
  if (bh >= p.BH) { return; }
  let row = bh * p.S + p.t;
${GATES}
${normaliser(nInPlace ? "n_st" : "n_in", "true")}
  if (tid == 0u) {
    let o = bh * ${STEP_SCRATCH_PER_HEAD}u;
    sc[o] = fgate;
    sc[o + 1u] = igate;
    sc[o + 2u] = den;
    sc[o + 3u] = m_new;
  }
}
`
  );
}
function recurrentStepUpdateWgsl(dtype2, tiles, cInPlace) {
  const bindings = [
    r("q", "elem"),
    r("k", "elem"),
    r("v", "elem"),
    ...cBindings(cInPlace),
    r("sc"),
    w("h", "elem"),
    w("m_out")
  ];
  return (
    /* wgsl */
    `${declare(dtype2, bindings)}
${entry(tiles.blockV, tiles.splitK, true)}
  let bh = wid.y + wid.z * nwg.y;
  if (bh >= p.BH) { return; }
  let row = bh * p.S + p.t;
  let o = bh * ${STEP_SCRATCH_PER_HEAD}u;
  let fgate = sc[o];
  let igate = sc[o + 1u];
  let den = sc[o + 2u];
${update(cInPlace ? "c_st" : "c_in")}
  if (wid.x == 0u && tid == 0u) { m_out[bh] = sc[o + 3u]; }
}
`
  );
}
function recurrentStepKernel(ctx2, state, out2) {
  const cInPlace = !state || state.c.buffer === out2.c.buffer;
  const need = cInPlace ? RECURRENT_STEP_FUSED_BINDINGS.inPlace : RECURRENT_STEP_FUSED_BINDINGS.separate;
  if (ctx2.limits.maxStorageBuffersPerShaderStage < need) return "split";
  if (state && (state.n.buffer === out2.n.buffer || state.m.buffer === out2.m.buffer)) return "split";
  return "fused";
}
function encodeRecurrentStep(ctx2, batch, a) {
  const { dims, dtype: dtype2, state, out: out2 } = a;
  const lim = ctx2.limits;
  const tiles = a.tiles ?? recurrentStepTiles(
    dims.BH,
    dims.DHQK,
    dims.DHHV,
    Math.min(lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX),
    lim.maxComputeWorkgroupSizeY
  );
  const tileKey = `bv${tiles.blockV}:ks${tiles.splitK}`;
  const cInPlace = !state || state.c.buffer === out2.c.buffer;
  const cBufs = cInPlace ? [out2.c] : [state.c, out2.c];
  const params5 = STEP_PARAMS.pack({
    BH: dims.BH,
    S: dims.S,
    t: a.t,
    DHQK: dims.DHQK,
    DHHV: dims.DHHV,
    has_state: state ? 1 : 0,
    kappa: 1 / Math.sqrt(dims.DHQK),
    eps: a.eps
  });
  const maxWg = ctx2.limits.maxComputeWorkgroupsPerDimension;
  const [hy, hz] = splitWorkgroups(dims.BH, maxWg);
  const tileGrid = [cdiv(dims.DHHV, tiles.blockV), hy, hz];
  const cVariant = cInPlace ? "inplace" : "copy";
  if (recurrentStepKernel(ctx2, state, out2) === "fused") {
    const fused = ctx2.pipeline(
      `recurrent.step.fused:${dtype2}:${tileKey}:${cVariant}`,
      () => recurrentStepFusedWgsl(dtype2, tiles, cInPlace)
    );
    const nIn = state ? state.n : a.scratch;
    const mIn2 = state ? state.m : a.scratch;
    batch.dispatch(
      fused,
      [a.q, a.k, a.v, a.i, a.f, nIn, mIn2, ...cBufs, out2.h, out2.n, out2.m],
      params5,
      tileGrid,
      "recurrent step (fused)"
    );
    return;
  }
  const nInPlace = !state || state.n.buffer === out2.n.buffer;
  const prep = ctx2.pipeline(
    `recurrent.step.prep:${dtype2}:${tileKey}:${nInPlace ? "inplace" : "copy"}`,
    () => recurrentStepPrepWgsl(dtype2, tiles, nInPlace)
  );
  const update2 = ctx2.pipeline(
    `recurrent.step.update:${dtype2}:${tileKey}:${cVariant}`,
    () => recurrentStepUpdateWgsl(dtype2, tiles, cInPlace)
  );
  const mIn = state ? state.m : out2.m;
  const nBufs = nInPlace ? [out2.n] : [state.n, out2.n];
  const [px, py] = splitWorkgroups(dims.BH, maxWg);
  batch.dispatch(
    prep,
    [a.q, a.k, a.i, a.f, mIn, ...nBufs, a.scratch],
    params5,
    [px, py],
    "recurrent step (prep)"
  );
  batch.dispatch(
    update2,
    [a.q, a.k, a.v, ...cBufs, a.scratch, out2.h, out2.m],
    params5,
    tileGrid,
    "recurrent step (update)"
  );
}
var fmt3 = (s) => `(${s.join(", ")})`;
async function mlstmRecurrentStepWebgpu(ctx2, args) {
  const context = "mlstmRecurrentStepWebgpu";
  const { q, k, v, i, f, c, n, m } = args;
  expectTensorLike("q", q, context);
  if (q.shape.length !== 3 || q.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new KernelArgumentError(
      "q",
      "a tensor of shape (B, NH, DHQK) with all dims >= 1",
      describe(q),
      context
    );
  }
  const [B, NH, DHQK] = q.shape;
  expectTensor("q", q, [B, NH, DHQK], ["B", "NH", "DHQK"], context);
  expectTensor("k", k, [B, NH, DHQK], ["B", "NH", "DHQK"], context);
  expectTensorLike("v", v, context);
  if (v.shape.length !== 3 || !Number.isInteger(v.shape[2]) || v.shape[2] < 1) {
    throw new KernelArgumentError(
      "v",
      `a tensor of shape (B, NH, DHHV) = (${B}, ${NH}, DHHV)`,
      describe(v),
      context
    );
  }
  const DHHV = v.shape[2];
  expectTensor("v", v, [B, NH, DHHV], ["B", "NH", "DHHV"], context);
  expectTensor("i", i, [B, NH, 1], ["B", "NH", "1"], context, ["f32"]);
  expectTensor("f", f, [B, NH, 1], ["B", "NH", "1"], context, ["f32"]);
  expectTensor("c", c, [B, NH, DHQK, DHHV], ["B", "NH", "DHQK", "DHHV"], context, ["f32"]);
  expectTensor("n", n, [B, NH, DHQK], ["B", "NH", "DHQK"], context, ["f32"]);
  expectTensor("m", m, [B, NH, 1], ["B", "NH", "1"], context, ["f32"]);
  const eps = validateEps(args.eps ?? DEFAULT_EPS, context);
  const dtype2 = resolveDtype(ctx2, q, args.dtype, context);
  for (const [name, t] of [
    ["k", k],
    ["v", v]
  ]) {
    if (t instanceof GpuTensor && t.dtype !== dtype2) {
      throw new KernelArgumentError(name, `dtype '${dtype2}' (the dtype of q)`, `'${t.dtype}'`, context);
    }
  }
  const out2 = args.out ?? {};
  const dims = { BH: B * NH, S: 1, DHQK, DHHV };
  validateOut(out2, { q, k, v, i, f, c, n, m }, { B, NH, DHQK, DHHV }, dtype2, context);
  const E = BYTES_PER_ELEMENT[dtype2];
  checkSizes(
    ctx2,
    {
      q: B * NH * DHQK * E,
      k: B * NH * DHQK * E,
      v: B * NH * DHHV * E,
      c: B * NH * DHQK * DHHV * 4,
      n: B * NH * DHQK * 4
    },
    context
  );
  const scope = new CallScope(ctx2, q);
  const created = [];
  const fresh = (shape, dt) => {
    const t = ctx2.empty(shape, dt);
    created.push(t);
    return t;
  };
  try {
    const g = {
      q: scope.gpu(q, dtype2),
      k: scope.gpu(k, dtype2),
      v: scope.gpu(v, dtype2),
      i: scope.gpu(i),
      f: scope.gpu(f),
      c: scope.gpu(c),
      n: scope.gpu(n),
      m: scope.gpu(m)
    };
    const o = {
      h: out2.h ?? fresh([B, NH, DHHV], dtype2),
      c: out2.c ?? fresh([B, NH, DHQK, DHHV], "f32"),
      n: out2.n ?? fresh([B, NH, DHQK], "f32"),
      m: out2.m ?? fresh([B, NH, 1], "f32")
    };
    const batch = ctx2.batch();
    const scratch = batch.scratch([dims.BH * STEP_SCRATCH_PER_HEAD]);
    encodeRecurrentStep(ctx2, batch, {
      dims,
      t: 0,
      dtype: dtype2,
      eps,
      q: g.q,
      k: g.k,
      v: g.v,
      i: g.i,
      f: g.f,
      state: { c: g.c, n: g.n, m: g.m },
      out: o,
      scratch
    });
    batch.submit();
    return await scope.finish(o);
  } catch (e) {
    scope.abort();
    for (const t of created) t.release();
    throw e;
  }
}
function isLive(t) {
  if (t instanceof GpuTensor) return !t.released;
  return typeof t === "object" && t !== null && Array.isArray(t.shape) && "data" in t;
}
function describe(t) {
  if (t === void 0 || t === null) return String(t);
  if (isLive(t)) return `shape ${fmt3(t.shape)}`;
  return "something that is not a tensor";
}
function validateOut(out2, inputs, d, dtype2, context) {
  const given = Object.keys(out2).filter((key) => out2[key] != null);
  if (given.length === 0) return;
  if (!(inputs.q instanceof GpuTensor)) {
    throw new KernelArgumentError(
      `out.${given[0]}`,
      "no out buffers when the inputs are CPU tensors",
      "a tensor",
      context
    );
  }
  const specs = {
    h: [[d.B, d.NH, d.DHHV], ["B", "NH", "DHHV"], dtype2],
    c: [[d.B, d.NH, d.DHQK, d.DHHV], ["B", "NH", "DHQK", "DHHV"], "f32"],
    n: [[d.B, d.NH, d.DHQK], ["B", "NH", "DHQK"], "f32"],
    m: [[d.B, d.NH, 1], ["B", "NH", "1"], "f32"]
  };
  const seen = /* @__PURE__ */ new Map();
  for (const key of given) {
    const t = out2[key];
    if (!(t instanceof GpuTensor)) {
      throw new KernelArgumentError(`out.${key}`, "a GpuTensor", describe(t), context);
    }
    const [shape, names, dt] = specs[key];
    expectTensor(`out.${key}`, t, shape, names, context, [dt]);
    const other = seen.get(t.buffer);
    if (other)
      throw new KernelArgumentError(
        `out.${key}`,
        `a buffer distinct from out.${other}`,
        "the same buffer",
        context
      );
    seen.set(t.buffer, key);
    for (const [name, x] of Object.entries(inputs)) {
      if (x instanceof GpuTensor && x.buffer === t.buffer && name !== key) {
        throw new KernelArgumentError(
          `out.${key}`,
          `a buffer that is not the input ${name} (only a state may be updated in place)`,
          `the buffer of ${name}`,
          context
        );
      }
    }
  }
}

// packages/kernels-webgpu/src/recurrent/sequence.ts
async function mlstmRecurrentSequenceWebgpu(ctx2, args) {
  const context = "mlstmRecurrentSequenceWebgpu";
  const d = validateSequence(args, context);
  const hasStates = validateStates(args, d, context);
  const eps = validateEps(args.eps ?? DEFAULT_EPS, context);
  const returnLast = args.returnLastStates ?? false;
  if (typeof returnLast !== "boolean") {
    throw new KernelArgumentError("returnLastStates", "a boolean", String(returnLast), context);
  }
  const dtype2 = resolveDtype(ctx2, args.q, args.dtype, context);
  for (const name of ["k", "v"]) {
    const t = args[name];
    if (t instanceof GpuTensor && t.dtype !== dtype2) {
      throw new KernelArgumentError(name, `dtype '${dtype2}' (the dtype of q)`, `'${t.dtype}'`, context);
    }
  }
  const { B, NH, S, DHQK, DHHV } = d;
  const BH = B * NH;
  const E = BYTES_PER_ELEMENT[dtype2];
  checkSizes(
    ctx2,
    {
      q: BH * S * DHQK * E,
      k: BH * S * DHQK * E,
      v: BH * S * DHHV * E,
      h: BH * S * DHHV * E,
      c: BH * DHQK * DHHV * 4,
      n: BH * DHQK * 4
    },
    context
  );
  const scope = new CallScope(ctx2, args.q);
  const created = [];
  const fresh = (shape, dt = "f32") => {
    const t = ctx2.empty(shape, dt);
    created.push(t);
    return t;
  };
  try {
    const q = scope.gpu(args.q, dtype2);
    const k = scope.gpu(args.k, dtype2);
    const v = scope.gpu(args.v, dtype2);
    const i = scope.gpu(args.i);
    const f = scope.gpu(args.f);
    const init = hasStates ? { c: scope.gpu(args.cInitial), n: scope.gpu(args.nInitial), m: scope.gpu(args.mInitial) } : null;
    const h = fresh([B, NH, S, DHHV], dtype2);
    const c = fresh([B, NH, DHQK, DHHV]);
    const sets = [0, 1].map(() => ({ c, n: fresh([B, NH, DHQK]), m: fresh([B, NH, 1]) }));
    const batch = ctx2.batch();
    const scratch = batch.scratch([BH * STEP_SCRATCH_PER_HEAD]);
    const dims = { BH, S, DHQK, DHHV };
    for (let t = 0; t < S; t++) {
      encodeRecurrentStep(ctx2, batch, {
        dims,
        t,
        dtype: dtype2,
        eps,
        q,
        k,
        v,
        i,
        f,
        state: t === 0 ? init : sets[(t - 1) % 2],
        out: { h, ...sets[t % 2] },
        scratch
      });
    }
    batch.submit();
    const last = sets[(S - 1) % 2];
    const other = sets[S % 2];
    other.n.release();
    other.m.release();
    let result;
    if (returnLast) {
      result = { h, lastStates: last };
    } else {
      c.release();
      last.n.release();
      last.m.release();
      result = { h };
    }
    return await scope.finish(
      result
    );
  } catch (e) {
    scope.abort();
    for (const t of created) t.release();
    throw e;
  }
}

// packages/kernels-webgpu/src/chunkwise/kernels/intra.ts
var NO_ZERO_SLOT = 4294967295;
var intraParams = defineParams({
  S: "u32",
  // sequence length (tokens per (b, head))
  L: "u32",
  // chunk length
  NC: "u32",
  // chunks
  DY: "u32",
  // depth of A = P·Qᵀ
  DX: "u32",
  // output columns
  DI: "u32",
  // depth of the inter product
  nRowTiles: "u32",
  nXTiles: "u32",
  count: "u32",
  // total workgroups = BNH · NC · nRowTiles · nXTiles
  // the state slot (within a head) known to be zero — no initial state (fw, dQ: slot 0) or no
  // dC_last (dK, dV: slot NC) — whose chunk skips the inter term (matrix units); NO_ZERO_SLOT: none
  zeroSlot: "u32",
  T: "u32",
  // tokens of all heads (B·NH·S): section size of the packed gate vectors and n/m outputs
  NB: "u32",
  // heads (B·NH)
  gateScale: "f32",
  outScale: "f32",
  eps: "f32"
});
var TR = 16;
var TC = 16;
function intraWorkgroupBytes(t) {
  return 4 * (t.bR * t.bY + t.bT * t.bY + t.bR * t.bT + t.bY * t.bX + 4 * t.bR + 3 * t.bT);
}
function intraKey(c) {
  const t = c.tiles;
  return `intra:${c.role}:${c.variant}:${c.normalize ? "n" : "nn"}:${c.inter ? "i" : "ni"}:${c.dtype}:${t.bR}x${t.bT}x${t.bX}x${t.bY}`;
}
function intraRoleSpec(c, types = { elem: "elem", state: "f32" }) {
  const lower = c.role === "fw" || c.role === "dq";
  const exp = c.variant === "exp";
  const bw = c.role !== "fw";
  const names = {
    fw: ["q", "k", "v"],
    dq: ["dh", "v", "k"],
    dk: ["v", "dh", "q"],
    dv: ["k", "q", "dh"]
  }[c.role];
  const stateName = c.role === "fw" || c.role === "dq" ? "cStates" : "dcStates";
  const stateTransposed = c.role === "dq" || c.role === "dk";
  let binding = 1;
  const decl = [];
  const ro = (name, type) => decl.push(`@group(0) @binding(${binding++}) var<storage, read> ${name}: array<${type}>;`);
  const rw = (name, type) => decl.push(`@group(0) @binding(${binding++}) var<storage, read_write> ${name}: array<${type}>;`);
  ro(names[0], types.elem);
  ro(names[1], types.elem);
  ro(names[2], types.b ?? types.elem);
  ro("gates", "f32");
  ro("chunkv", "f32");
  if (c.inter) ro(stateName, types.state);
  if (bw) ro("nm", "f32");
  if (c.role === "fw") {
    rw("h", types.elem);
    rw("nm", "f32");
  } else rw(`${c.role}Out`, types.elem);
  return {
    names,
    lower,
    decl: decl.join("\n"),
    outName: c.role === "fw" ? "h" : `${c.role}Out`,
    stateName,
    // State element (y, x) for the inter product: C[y][x] (DHQK × DHHV) or its transpose
    stateIndex: stateTransposed ? "(x * P.DI + y)" : "(y * P.DX + x)",
    stateTransposed,
    stateSlot: c.role === "dk" || c.role === "dv" ? "1u" : "0u",
    rowLogExpr: exp ? "select(-max(mPrev, gates[2u * P.T + tok]), -gates[2u * P.T + tok], noInterMax)" : "gates[tok]",
    invNExpr: bw && (exp || c.normalize) ? "1.0 / (nm[tok] + P.eps)" : "1.0",
    gateExpr: (rr, tt) => lower ? `P.gateScale * exp(tU[${tt}] + rLog[${rr}]) * rInv[${rr}]` : `P.gateScale * exp(rU[${rr}] + tLog[${tt}]) * tInv[${tt}]`,
    interScaleExpr: (rr) => c.role === "fw" ? `P.gateScale * exp(mPrev + rLog[${rr}])` : c.role === "dq" ? `exp(mPrev + rLog[${rr}]) * rInv[${rr}]` : `exp(gChunk + rU[${rr}] - mNext)`
  };
}
function intraWgsl(c) {
  const { bR, bT, bX, bY } = c.tiles;
  const rR = bR / TR;
  const rT = bT / TC;
  const rX = bX / TC;
  const spec = intraRoleSpec(c);
  const { lower, names, outName } = spec;
  const exp = c.variant === "exp";
  const rowLogExpr = spec.rowLogExpr;
  const invNExpr = spec.invNExpr;
  return (
    /* wgsl */
    `
${wgslHeader(c.dtype)}
${intraParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${spec.decl}

const bR = ${bR}u; const bT = ${bT}u; const bX = ${bX}u; const bY = ${bY}u;
var<workgroup> sP: array<f32, ${bR * bY}>;   // [y][r]
var<workgroup> sQ: array<f32, ${bT * bY}>;   // [y][t]
var<workgroup> sS: array<f32, ${bR * bT}>;   // gated scores [r][t]
var<workgroup> sB: array<f32, ${bY * bX}>;   // [t or y][x]
// per-row token vectors: u, rowLog, invN, (fw: b)
var<workgroup> rU: array<f32, ${bR}>;
var<workgroup> rLog: array<f32, ${bR}>;
var<workgroup> rInv: array<f32, ${bR}>;
var<workgroup> rDen: array<f32, ${bR}>;
// per-loop-token vectors
var<workgroup> tU: array<f32, ${bT}>;
var<workgroup> tLog: array<f32, ${bT}>;
var<workgroup> tInv: array<f32, ${bT}>;

@compute @workgroup_size(${TR * TC})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
  let xTile = flat % P.nXTiles;
  let rest = flat / P.nXTiles;
  let rTile = rest % P.nRowTiles;
  let rest2 = rest / P.nRowTiles;
  let chunk = rest2 % P.NC;
  let bnh = rest2 / P.NC;
  let tx = lid % ${TC}u;
  let ty = lid / ${TC}u;
  let r0 = rTile * bR;
  let x0 = xTile * bX;
  let seq0 = bnh * P.S + chunk * P.L;          // first token of the chunk
  let noInterMax = ${c.inter ? "false" : "true"};
  let mPrev = ${exp && c.inter ? "chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk]" : "0.0"};
  let mNext = ${exp && c.inter ? "chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk + 1u]" : "0.0"};
  ${c.role === "dk" || c.role === "dv" ? "let gChunk = chunkv[bnh * P.NC + chunk];" : ""}

  // per-row vectors
  if (lid < bR) {
    let r = r0 + lid;
    if (r < P.L) {
      let tok = seq0 + r;
      rU[lid] = gates[P.T + tok];
      rLog[lid] = ${rowLogExpr};
      rInv[lid] = ${invNExpr};
    } else {
      rU[lid] = 0.0; rLog[lid] = 0.0; rInv[lid] = 0.0;
    }
    rDen[lid] = 0.0;
  }

  var acc: array<f32, ${rR * rX}>;
  for (var e = 0u; e < ${rR * rX}u; e++) { acc[e] = 0.0; }
  ${c.role === "fw" ? "var den: f32 = 0.0;" : ""}

  let rEnd = min(r0 + bR, P.L);
  ${lower ? `let tBegin = 0u; let tEnd = rEnd;` : `let tBegin = (r0 / bT) * bT; let tEnd = P.L;`}
  for (var t0 = tBegin; t0 < tEnd; t0 += bT) {
    workgroupBarrier();
    if (lid < bT) {
      let t = t0 + lid;
      if (t < P.L) {
        let tok = seq0 + t;
        tU[lid] = gates[P.T + tok];
        tLog[lid] = ${rowLogExpr};
        tInv[lid] = ${invNExpr};
      } else {
        tU[lid] = 0.0; tLog[lid] = 0.0; tInv[lid] = 0.0;
      }
    }
    // A = P_rows \xB7 Q_tokens\u1D40 over Y
    var a: array<f32, ${rR * rT}>;
    for (var e = 0u; e < ${rR * rT}u; e++) { a[e] = 0.0; }
    for (var y0 = 0u; y0 < P.DY; y0 += bY) {
      workgroupBarrier();
      for (var e = lid; e < ${bR * bY}u; e += ${TR * TC}u) {
        let rr = e / bY; let yy = e % bY;
        let r = r0 + rr; let y = y0 + yy;
        var val = 0.0;
        if (r < P.L && y < P.DY) { val = f32(${names[0]}[(seq0 + r) * P.DY + y]); }
        sP[yy * bR + rr] = val;
      }
      for (var e = lid; e < ${bT * bY}u; e += ${TR * TC}u) {
        let tt = e / bY; let yy = e % bY;
        let t = t0 + tt; let y = y0 + yy;
        var val = 0.0;
        if (t < P.L && y < P.DY) { val = f32(${names[1]}[(seq0 + t) * P.DY + y]); }
        sQ[yy * bT + tt] = val;
      }
      workgroupBarrier();
      for (var yy = 0u; yy < bY; yy++) {
        var pv: array<f32, ${rR}>;
        for (var i = 0u; i < ${rR}u; i++) { pv[i] = sP[yy * bR + ty + ${TR}u * i]; }
        for (var j = 0u; j < ${rT}u; j++) {
          let qv = sQ[yy * bT + tx + ${TC}u * j];
          for (var i = 0u; i < ${rR}u; i++) { a[i * ${rT}u + j] = fma(pv[i], qv, a[i * ${rT}u + j]); }
        }
      }
    }
    // gate, causal mask \u2192 sS
    for (var i = 0u; i < ${rR}u; i++) {
      let rr = ty + ${TR}u * i;
      let r = r0 + rr;
      for (var j = 0u; j < ${rT}u; j++) {
        let tt = tx + ${TC}u * j;
        let t = t0 + tt;
        var g = 0.0;
        if (r < P.L && t < P.L && ${lower ? "t <= r" : "t >= r"}) {
          g = ${spec.gateExpr("rr", "tt")};
        }
        sS[rr * bT + tt] = a[i * ${rT}u + j] * g;
      }
    }
    workgroupBarrier();
    ${c.role === "fw" ? `if (lid < bR) {
      for (var tt = 0u; tt < bT; tt++) { den += sS[lid * bT + tt]; }
    }` : ""}
    // Out += S \xB7 B over the tile's tokens, B staged bY tokens at a time
    for (var ts = 0u; ts < bT; ts += bY) {
      workgroupBarrier();
      for (var e = lid; e < ${bY * bX}u; e += ${TR * TC}u) {
        let tt = e / bX; let xx = e % bX;
        let t = t0 + ts + tt; let x = x0 + xx;
        var val = 0.0;
        if (t < P.L && x < P.DX) { val = f32(${names[2]}[(seq0 + t) * P.DX + x]); }
        sB[tt * bX + xx] = val;
      }
      workgroupBarrier();
      for (var tt = 0u; tt < bY; tt++) {
        var sv: array<f32, ${rR}>;
        for (var i = 0u; i < ${rR}u; i++) { sv[i] = sS[(ty + ${TR}u * i) * bT + ts + tt]; }
        for (var j = 0u; j < ${rX}u; j++) {
          let bv = sB[tt * bX + tx + ${TC}u * j];
          for (var i = 0u; i < ${rR}u; i++) { acc[i * ${rX}u + j] = fma(sv[i], bv, acc[i * ${rX}u + j]); }
        }
      }
    }
  }
${c.inter ? interBlock(c, spec, rR, rX) : ""}
${epilogue(c, rR, rX, outName)}
}
`
  );
}
function interBlock(c, spec, rR, rX) {
  const { bR, bX, bY } = c.tiles;
  const { stateName, stateIndex } = spec;
  const iName = spec.names[0];
  const scale = spec.interScaleExpr("rr");
  return `
  // inter-chunk term: rowScale_r \xB7 \u03A3_y I[r, y] \xB7 State[y, x]
  {
    let sBase = (bnh * (P.NC + 1u) + chunk + ${spec.stateSlot}) * P.DI * P.DX;
    var inter: array<f32, ${rR * rX}>;
    for (var e = 0u; e < ${rR * rX}u; e++) { inter[e] = 0.0; }
    for (var y0 = 0u; y0 < P.DI; y0 += bY) {
      workgroupBarrier();
      for (var e = lid; e < ${bR * bY}u; e += ${TR * TC}u) {
        let rr = e / bY; let yy = e % bY;
        let r = r0 + rr; let y = y0 + yy;
        var val = 0.0;
        if (r < P.L && y < P.DI) { val = f32(${iName}[(seq0 + r) * P.DI + y]); }
        sP[yy * bR + rr] = val;
      }
      for (var e = lid; e < ${bY * bX}u; e += ${TR * TC}u) {
        let yy = e / bX; let xx = e % bX;
        let y = y0 + yy; let x = x0 + xx;
        var val = 0.0;
        if (y < P.DI && x < P.DX) { val = ${stateName}[sBase + ${stateIndex}]; }
        sB[yy * bX + xx] = val;
      }
      workgroupBarrier();
      for (var yy = 0u; yy < bY; yy++) {
        var pv: array<f32, ${rR}>;
        for (var i = 0u; i < ${rR}u; i++) { pv[i] = sP[yy * bR + ty + ${TR}u * i]; }
        for (var j = 0u; j < ${rX}u; j++) {
          let sv = sB[yy * bX + tx + ${TC}u * j];
          for (var i = 0u; i < ${rR}u; i++) { inter[i * ${rX}u + j] = fma(pv[i], sv, inter[i * ${rX}u + j]); }
        }
      }
    }
    for (var i = 0u; i < ${rR}u; i++) {
      let rr = ty + ${TR}u * i;
      let s = ${scale};
      for (var j = 0u; j < ${rX}u; j++) { acc[i * ${rX}u + j] = fma(s, inter[i * ${rX}u + j], acc[i * ${rX}u + j]); }
    }
    ${c.role === "fw" ? `// denominator: q\u0304_r \xB7 n_{k-1}
    if (lid < bR) {
      let r = r0 + lid;
      if (r < P.L) {
        let nBase = (bnh * (P.NC + 1u) + chunk) * P.DI;
        var qn = 0.0;
        for (var y = 0u; y < P.DI; y++) { qn = fma(f32(${iName}[(seq0 + r) * P.DI + y]), cStates[P.NB * (P.NC + 1u) * P.DI * P.DX + nBase + y], qn); }
        den += P.gateScale * exp(mPrev + rLog[lid]) * qn;
      }
    }` : ""}
  }`;
}
function epilogue(c, rR, rX, outName) {
  const exp = c.variant === "exp";
  if (c.role !== "fw") {
    return `
  for (var i = 0u; i < ${rR}u; i++) {
    let r = r0 + ty + ${TR}u * i;
    if (r >= P.L) { continue; }
    for (var j = 0u; j < ${rX}u; j++) {
      let x = x0 + tx + ${TC}u * j;
      if (x < P.DX) { ${outName}[(seq0 + r) * P.DX + x] = elem(P.outScale * acc[i * ${rX}u + j]); }
    }
  }`;
  }
  const normalised = exp || c.normalize;
  return `
  workgroupBarrier();
  if (lid < bR) {
    let r = r0 + lid;
    ${exp ? "let mC = gates[seq0 + min(r, P.L - 1u)] - rLog[lid];" : "let mC = 0.0;"}
    let nO = ${normalised ? `max(abs(den), ${exp ? "exp(-mC)" : "1.0"})` : "1.0"};
    rDen[lid] = nO;
    if (r < P.L && xTile == 0u) {
      nm[seq0 + r] = nO;
      nm[P.T + seq0 + r] = mC;
    }
  }
  workgroupBarrier();
  for (var i = 0u; i < ${rR}u; i++) {
    let rr = ty + ${TR}u * i;
    let r = r0 + rr;
    if (r >= P.L) { continue; }
    let inv = ${normalised ? "1.0 / (rDen[rr] + P.eps)" : "1.0"};
    for (var j = 0u; j < ${rX}u; j++) {
      let x = x0 + tx + ${TC}u * j;
      if (x < P.DX) { h[(seq0 + r) * P.DX + x] = elem(acc[i * ${rX}u + j] * inv); }
    }
  }`;
}

// packages/kernels-webgpu/src/chunkwise/kernels/state_scan.ts
var scanParams = defineParams({
  S: "u32",
  L: "u32",
  NC: "u32",
  DY: "u32",
  // DHQK
  DX: "u32",
  // DHHV
  nYTiles: "u32",
  nXTiles: "u32",
  hasInit: "u32",
  // register-tiled scan, carrying chunk products
  writeLast: "u32",
  // carrying chunk products: store the last state
  segs: "u32",
  // carrying chunk products: segments per head (NC a multiple)
  count: "u32",
  // workgroups (flat index of a 2-D dispatch; padding workgroups return)
  T: "u32",
  // tokens of all heads (section size of the packed gate vectors)
  NB: "u32",
  // heads (B·NH)
  scale: "f32",
  // κ (bw)
  eps: "f32"
});
var BTOK = 16;
function scanKey(c) {
  return `scan:${c.direction}:${c.variant}:${c.normalize ? "n" : "nn"}:${c.dtype}:${c.bS}`;
}
function scanWorkgroupBytes(bS) {
  return 4 * 2 * BTOK * bS;
}
function scanTokenWeight(c) {
  const exp = c.variant === "exp";
  return c.direction === "fw" ? "exp(g + gates[P.T + tok] - mNext)" : `P.scale * exp(mPrev + ${exp ? "-max(mPrev, gates[2u * P.T + tok])" : "gates[tok]"}) * ${exp || c.normalize ? "(1.0 / (nm[tok] + P.eps))" : "1.0"}`;
}
function scanWgsl(c) {
  const { bS } = c;
  const r2 = bS / 16;
  const fw = c.direction === "fw";
  const exp = c.variant === "exp";
  const decl = fw ? `@group(0) @binding(1) var<storage, read> A: array<elem>;      // k
@group(0) @binding(2) var<storage, read> Bm: array<elem>;     // v
@group(0) @binding(3) var<storage, read> gates: array<f32>;
@group(0) @binding(4) var<storage, read> chunkv: array<f32>;
@group(0) @binding(5) var<storage, read> sInit: array<f32>;
@group(0) @binding(6) var<storage, read> nInit: array<f32>;
@group(0) @binding(7) var<storage, read_write> states: array<f32>;` : `@group(0) @binding(1) var<storage, read> A: array<elem>;      // q
@group(0) @binding(2) var<storage, read> Bm: array<elem>;     // dh
@group(0) @binding(3) var<storage, read> gates: array<f32>;
@group(0) @binding(4) var<storage, read> chunkv: array<f32>;
@group(0) @binding(5) var<storage, read> nm: array<f32>;
@group(0) @binding(6) var<storage, read> sInit: array<f32>;
@group(0) @binding(7) var<storage, read_write> states: array<f32>;`;
  const weight = scanTokenWeight(c);
  return `${wgslHeader(c.dtype)}
${scanParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${decl}
const bS = ${bS}u;
var<workgroup> sA: array<f32, ${BTOK * bS}>;  // [t][y] weighted A rows
var<workgroup> sB: array<f32, ${BTOK * bS}>;  // [t][x]

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  // flat workgroup index of a 2-D dispatch (more than 65 535 tiles of heads); padding returns
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
  let xTile = flat % P.nXTiles;
  let yTile = (flat / P.nXTiles) % P.nYTiles;
  let bnh = flat / (P.nXTiles * P.nYTiles);
  let tx = lid % 16u;
  let ty = lid / 16u;
  let y0 = yTile * bS;
  let x0 = xTile * bS;
  let DYX = P.DY * P.DX;
  let mBase = bnh * (P.NC + 1u);
  var st: array<f32, ${r2 * r2}>;
  for (var i = 0u; i < ${r2}u; i++) {
    for (var j = 0u; j < ${r2}u; j++) {
      let y = y0 + ty + 16u * i; let x = x0 + tx + 16u * j;
      var val = 0.0;
      if (P.hasInit != 0u && y < P.DY && x < P.DX) { val = sInit[bnh * DYX + y * P.DX + x]; }
      st[i * ${r2}u + j] = val;
    }
  }
  ${fw ? `let ownsN = xTile == 0u && lid < bS && y0 + lid < P.DY;
  var nv = 0.0;
  if (ownsN && P.hasInit != 0u) { nv = nInit[bnh * P.DY + y0 + lid]; }` : ""}
  for (var step = 0u; step <= P.NC; step++) {
    // boundary index of the state held now: fw walks 0..NC, bw walks NC..0
    let kb = ${fw ? "step" : "P.NC - step"};
    let sBase = (mBase + kb) * DYX;
    for (var i = 0u; i < ${r2}u; i++) {
      for (var j = 0u; j < ${r2}u; j++) {
        let y = y0 + ty + 16u * i; let x = x0 + tx + 16u * j;
        if (y < P.DY && x < P.DX) { states[sBase + y * P.DX + x] = st[i * ${r2}u + j]; }
      }
    }
    ${fw ? "if (ownsN) { states[P.NB * (P.NC + 1u) * P.DY * P.DX + (mBase + kb) * P.DY + y0 + lid] = nv; }" : ""}
    if (step == P.NC) { break; }
    // the chunk between boundaries kPrev and kPrev + 1
    let chunk = ${fw ? "kb" : "kb - 1u"};
    let mPrev = ${exp ? "chunkv[2u * P.NB * P.NC + mBase + chunk]" : "0.0"};
    let mNext = ${exp ? "chunkv[2u * P.NB * P.NC + mBase + chunk + 1u]" : "0.0"};
    let g = chunkv[bnh * P.NC + chunk];
    let gamma = exp(g + mPrev - mNext);
    for (var e = 0u; e < ${r2 * r2}u; e++) { st[e] *= gamma; }
    ${fw ? "nv *= gamma;" : ""}
    for (var t0 = 0u; t0 < P.L; t0 += ${BTOK}u) {
      workgroupBarrier();
      for (var e = lid; e < ${BTOK * bS}u; e += 256u) {
        let tt = e / bS; let yy = e % bS;
        let t = t0 + tt;
        let tok = bnh * P.S + chunk * P.L + t;
        var a = 0.0;
        var bv = 0.0;
        if (t < P.L) {
          if (y0 + yy < P.DY) { a = f32(A[tok * P.DY + y0 + yy]) * ${weight}; }
          if (x0 + yy < P.DX) { bv = f32(Bm[tok * P.DX + x0 + yy]); }
        }
        sA[tt * bS + yy] = a;
        sB[tt * bS + yy] = bv;
      }
      workgroupBarrier();
      for (var tt = 0u; tt < ${BTOK}u; tt++) {
        var av: array<f32, ${r2}>;
        for (var i = 0u; i < ${r2}u; i++) { av[i] = sA[tt * bS + ty + 16u * i]; }
        for (var j = 0u; j < ${r2}u; j++) {
          let bv = sB[tt * bS + tx + 16u * j];
          for (var i = 0u; i < ${r2}u; i++) { st[i * ${r2}u + j] = fma(av[i], bv, st[i * ${r2}u + j]); }
        }
      }
      ${fw ? "if (ownsN) { for (var tt = 0u; tt < " + BTOK + "u; tt++) { nv += sA[tt * bS + lid]; } }" : ""}
    }
  }
}`;
}

// packages/kernels-webgpu/src/chunkwise/kernels/sgmat_builtins.ts
var SGMAT_ENABLE = `enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium_experimental.subgroup_matrix_uniformity);`;
var LEFT = "subgroup_matrix_left<f16, 16, 16>";
var RIGHT = "subgroup_matrix_right<f16, 16, 16>";
var RESULT = "subgroup_matrix_result<f32, 16, 16>";
var SGMAT_THREADS = 256;
var SGMAT_ENTRY = `@compute @workgroup_size(${SGMAT_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
  let xTile = flat % P.nXTiles;
  let rest = flat / P.nXTiles;`;
var mLoad = (type, args) => `subgroupMatrixLoad<${type}>(${args})`;
var mStore = (ptr, offset, m, colMajor, stride2) => `subgroupMatrixStore(${ptr}, ${offset}, ${m}, ${colMajor}, ${stride2})`;
var mMma = (a, b, c) => `subgroupMatrixMultiplyAccumulate(${a}, ${b}, ${c})`;
var mScale = (m, s) => `subgroupMatrixScalarMultiply(${m}, ${s})`;

// packages/kernels-webgpu/src/chunkwise/kernels/sgmat_common.ts
var SG_SIZE = 32;
function sgmatUnsupportedReason(f) {
  if (!f.subgroupMatrix) return "the device has no chromium-experimental-subgroup-matrix feature";
  if (!f.shaderF16) return "the device has no shader-f16 feature";
  if (!f.subgroups) return "the device has no subgroups feature";
  if (f.subgroupMinSize !== SG_SIZE || f.subgroupMaxSize !== SG_SIZE)
    return `the adapter's subgroups are ${f.subgroupMinSize}\u2013${f.subgroupMaxSize} lanes, the kernels need exactly ${SG_SIZE}`;
  const ok = f.subgroupMatrixConfigs.some(
    (c) => c.componentType === "f16" && c.resultComponentType === "f32" && c.M === 16 && c.N === 16 && c.K === 16
  );
  if (!ok) return "the adapter reports no f16\u2192f32 16\xD716\xD716 subgroup-matrix configuration";
  return null;
}
function sgmatSupported(f) {
  return sgmatUnsupportedReason(f) === null;
}
function sgmatTileX(DX) {
  return [256, 192, 128, 64].find((c) => c <= DX && DX % c === 0) ?? 0;
}
var BLOCK_STRIDE = 72;
var B_SLICE_ROWS = 32;
var BS = BLOCK_STRIDE;
var R = B_SLICE_ROWS;
var range = (n) => Array.from({ length: n }, (_, i) => i);
function storeF16x8(dst, at, w2, scale) {
  return range(4).map((i) => {
    const pair = `bitcast<vec2<f16>>(${w2}.${"xyzw"[i]})`;
    if (!scale)
      return `{ let h2 = ${pair}; ${dst}[${at} + ${2 * i}u] = h2.x; ${dst}[${at} + ${2 * i + 1}u] = h2.y; }`;
    return `{ let f2 = vec2<f32>(${pair}) * ${scale}; ${dst}[${at} + ${2 * i}u] = f16(f2.x); ${dst}[${at} + ${2 * i + 1}u] = f16(f2.y); }`;
  }).join("\n        ");
}
function scratchEpilogue(nJ, scratch, each) {
  const accs = [0, 1].flatMap((i) => range(nJ).map((j) => [i, j]));
  return range(accs.length / 2).map((n) => {
    const pair = [accs[2 * n], accs[2 * n + 1]];
    return `${n > 0 ? "  workgroupBarrier();\n" : ""}${pair.map(
      ([i, j], h) => `  ${mStore(`&${scratch}[sg * 2u + ${h}u]`, `0u`, `a${i}_${j}`, `false`, `16u`)};`
    ).join("\n")}
  workgroupBarrier();
${pair.map(([i, j], h) => each(i, j, h)).join("\n")}`;
  }).join("\n");
}
function bSliceStaging(bX, v, dst, first, transposed) {
  const n = R * bX / 8 / SGMAT_THREADS;
  const cols = bX / 4;
  const each = (body) => range(n).map((u) => body(u, `(lid + ${SGMAT_THREADS * u}u)`)).join("\n");
  const coords = (e) => transposed ? [`${e} % ${bX}u`, `(${e} / ${bX}u) * 8u`] : [`${e} / ${bX / 8}u`, `(${e} % ${bX / 8}u) * 8u`];
  return {
    decl: range(n).map((u) => `var ${v}${u} = vec4<u32>();`).join(" "),
    load: (src) => each((u, e) => {
      const [a, b] = coords(e);
      return `${v}${u} = ${src(a, b)};`;
    }),
    store: each((u, e) => {
      const [a, b] = coords(e);
      if (!transposed)
        return `{ let k = ${a}; let x8 = ${b}; let at = (k % 16u) * ${BS}u + x8 % ${cols}u; ${storeF16x8(`${dst}[${first}u + (k / 16u) * 4u + x8 / ${cols}u]`, "at", `${v}${u}`)} }`;
      return `{ let x = ${a}; let y8 = ${b}; let blk = ${first}u + (y8 / 16u) * 4u + x / ${cols}u; let xi = x % ${cols}u; let y = y8 % 16u; ${range(
        4
      ).map(
        (i) => `let h${i} = bitcast<vec2<f16>>(${v}${u}.${"xyzw"[i]}); ${dst}[blk][(y + ${2 * i}u) * ${BS}u + xi] = h${i}.x; ${dst}[blk][(y + ${2 * i + 1}u) * ${BS}u + xi] = h${i}.y;`
      ).join(" ")} }`;
    }),
    /** right operand j of the subgroup (columns xc + 16j) for rows 16h … 16h + 15 of the slice */
    right: (j, h = 0) => `&${dst}[${first + 4 * h}u + cg], ${16 * j}u, false, ${BS}u`
  };
}

// packages/kernels-webgpu/src/dense/kernels/epilogue.ts
var denseParams = defineParams({
  M: "u32",
  N: "u32",
  K: "u32",
  ldy: "u32",
  nOff: "u32",
  hasBias: "u32",
  accumulate: "u32",
  softcap: "f32",
  nTilesM: "u32",
  nTilesN: "u32",
  count: "u32"
});
function denseBindings(xView, wView) {
  return `${denseParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<${xView}>;
@group(0) @binding(2) var<storage, read> w: array<${wView}>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;`;
}
var DENSE_LAYOUT = ["uniform", "read", "read", "read", "rw"];
var DENSE_EPILOGUE = (
  /* wgsl */
  `
fn biasAt(c: u32) -> f32 {
  if (P.hasBias != 0u) { return bias[P.nOff + c]; }
  return 0.0;
}
fn silu(z: f32) -> f32 {
  let e = exp(-abs(z));
  return z * select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}
fn store(m: u32, n: u32, v0: f32) {
  var v = v0;
  if (P.softcap > 0.0) { v = P.softcap * tanh(clamp(v / P.softcap, -20.0, 20.0)); }
  let o = m * P.ldy + P.nOff + n;
  if (P.accumulate != 0u) { v += y[o]; }
  y[o] = v;
}`
);
function denseHeader(xDtype, wDtype) {
  return xDtype === "f16" || wDtype === "f16" ? "enable f16;" : "";
}
function tileOrder(group) {
  return `  let perGroup = ${group}u * P.nTilesN;
  let firstM = (flat / perGroup) * ${group}u;
  let groupRows = min(${group}u, P.nTilesM - firstM);
  let inGroup = flat % perGroup;
  let mTile = firstM + inGroup % groupRows;
  let nTile = inGroup / groupRows;`;
}
function dispatchDense(ctx2, batch, pipeline, t, o, bm, bn, label) {
  const nTilesM = cdiv(o.M, bm);
  const nTilesN = cdiv(o.N, o.gated ? bn / 2 : bn);
  const count = nTilesM * nTilesN;
  batch.dispatch(
    pipeline,
    [t.x, t.w, t.bias ?? t.x, t.y],
    denseParams.pack({
      M: o.M,
      N: o.N,
      K: o.K,
      ldy: o.ldy,
      nOff: o.nOff,
      hasBias: t.bias ? 1 : 0,
      accumulate: o.accumulate ? 1 : 0,
      softcap: o.softcap,
      nTilesM,
      nTilesN,
      count
    }),
    splitWorkgroups(count, ctx2.limits.maxComputeWorkgroupsPerDimension),
    label
  );
}

// packages/kernels-webgpu/src/dense/kernels/matmul_sgmat.ts
var SUBGROUPS = 8;
var GROUP_ROWS = 8;
var DENSE_SGMAT_DEFAULT = { bm: 128, bn: 128, bk: 64, wm: 2, stages: 1 };
var subgroupsOf = (t) => t.subgroups ?? SUBGROUPS;
function formatDenseTiles(t) {
  const sg = subgroupsOf(t) === SUBGROUPS ? "" : `:sg${subgroupsOf(t)}`;
  const pf = t.prefetch === false ? ":nopf" : "";
  const rot = t.rotateStores ? ":rot" : "";
  return `${t.bm}x${t.bn}x${t.bk}:wm${t.wm}:s${t.stages}${sg}${pf}${rot}`;
}
function denseSgmatKey(c) {
  return `dense-sgmat:${formatDenseTiles(c)}:x${c.xDtype}${c.gated ? ":gated" : ""}`;
}
var stride = (bk) => bk + 8;
function denseSgmatWorkgroupBytes(t) {
  return t.stages * (t.bm + t.bn) * stride(t.bk) * 2 + subgroupsOf(t) * 256 * 4;
}
function denseSgmatTilesProblem(t, gated, maxWorkgroupBytes) {
  const sgs = subgroupsOf(t);
  const threads = 32 * sgs;
  const wn = sgs / t.wm;
  if (sgs !== 4 && sgs !== 8) return `subgroups ${sgs} is not 4 or 8`;
  if (![1, 2, 4, 8].includes(t.wm) || t.wm > sgs)
    return `wm ${t.wm} is not 1, 2, 4 or 8 (at most subgroups, ${sgs})`;
  if (t.bk !== 32 && t.bk !== 64) return `bk ${t.bk} is not 32 or 64`;
  if (t.bm % (16 * t.wm) || t.bn % (16 * wn))
    return `${t.bm}\xD7${t.bn} does not split into 16\xD716 blocks over ${t.wm}\xD7${wn} subgroups`;
  if (t.bm * t.bk / 8 % threads || t.bn * t.bk / 8 % threads)
    return `a ${t.bm}\xD7${t.bk} or ${t.bn}\xD7${t.bk} slice is not a whole number of 16-byte loads per invocation`;
  if (gated && t.bn / wn / 16 % 2)
    return "the gated epilogue needs an even number of column blocks per subgroup";
  if (denseSgmatWorkgroupBytes(t) > maxWorkgroupBytes)
    return `${denseSgmatWorkgroupBytes(t)} bytes of workgroup memory (limit ${maxWorkgroupBytes})`;
  return "";
}
function denseSgmatWgsl(c) {
  const { bm, bn, bk, wm, stages } = c;
  const SG = subgroupsOf(c);
  const THREADS = 32 * SG;
  const prefetch = c.prefetch !== false;
  const rotate = c.rotateStores === true;
  const wn = SG / wm;
  const S = stride(bk);
  const NBX = bm / 16;
  const NBW = bn / 16;
  const I = range(bm / wm / 16);
  const J = range(bn / wn / 16);
  const KS = range(bk / 16);
  const perRow = bk / 8;
  const xf16 = c.xDtype === "f16";
  const outCols = c.gated ? bn / 2 : bn;
  const xUnits = range(bm * bk / 8 / THREADS);
  const wUnits = range(bn * bk / 8 / THREADS);
  const coords = (p, units) => units.map(
    (u) => `  let ${p}Row${u} = (lid + ${THREADS * u}u) / ${perRow}u;
  let ${p}K${u} = ((lid + ${THREADS * u}u) % ${perRow}u) * 8u;`
  ).join("\n");
  const wRowOf = (r2) => c.gated ? `n0 + (${r2} / 32u) * 16u + ${r2} % 16u` : `n0 + ${r2}`;
  const rowBases = `${xUnits.map((u) => `  let xBase${u} = select(0u, (m0 + xRow${u}) * P.K, m0 + xRow${u} < P.M);`).join("\n")}
${wUnits.map((u) => {
    const col = wRowOf(`wRow${u}`);
    const row = c.gated ? `select(0u, P.N, (wRow${u} / 16u) % 2u == 1u) + ${col}` : col;
    return `  let wBase${u} = select(0u, (${row}) * P.K, ${col} < P.N);`;
  }).join("\n")}`;
  const at = (base, k) => `${base} + min(k0 + ${k}, P.K - 8u)`;
  const loads = `${xUnits.map(
    (u) => xf16 ? `    rx${u} = select(vec4<u32>(), x[(${at(`xBase${u}`, `xK${u}`)}) / 8u], k0 + xK${u} < P.K);` : `    rx${u}a = select(vec4<f32>(), x[(${at(`xBase${u}`, `xK${u}`)}) / 4u], k0 + xK${u} < P.K);
    rx${u}b = select(vec4<f32>(), x[(${at(`xBase${u}`, `xK${u}`)}) / 4u + 1u], k0 + xK${u} < P.K);`
  ).join("\n")}
${wUnits.map((u) => `    rw${u} = select(vec4<u32>(), w[(${at(`wBase${u}`, `wK${u}`)}) / 8u], k0 + wK${u} < P.K);`).join("\n")}`;
  const decls = [
    ...xUnits.map(
      (u) => xf16 ? `var rx${u} = vec4<u32>();` : `var rx${u}a = vec4<f32>(); var rx${u}b = vec4<f32>();`
    ),
    ...wUnits.map((u) => `var rw${u} = vec4<u32>();`)
  ].map((l) => `  ${l}`).join("\n");
  const rotOffsets = (p, units) => units.flatMap(
    (u) => range(4).map(
      (j) => `  let ${p}O${u}_${j} = (${p}Row${u} % 16u) * ${S}u + ${p}K${u} + 2u * ((${j}u + ${p}K${u} / 8u) & 3u);`
    )
  ).join("\n");
  const rotatedStore = (dst, p, u, vec) => `    { let v = rot4(${vec}, ${p}K${u} / 8u); ${range(4).map(
    (j) => `{ let h2 = bitcast<vec2<f16>>(v.${"xyzw"[j]}); ${dst}[${p}O${u}_${j}] = h2.x; ${dst}[${p}O${u}_${j} + 1u] = h2.y; }`
  ).join(" ")} }`;
  const f32Pair = (v) => `bitcast<u32>(vec2<f16>(clamp(${v}, vec2(-65504.0), vec2(65504.0))))`;
  const storeX = (buf, u) => {
    const dst = `sX[${buf} * ${NBX}u + xRow${u} / 16u]`;
    if (rotate)
      return rotatedStore(
        dst,
        "x",
        u,
        xf16 ? `rx${u}` : `vec4<u32>(${f32Pair(`rx${u}a.xy`)}, ${f32Pair(`rx${u}a.zw`)}, ${f32Pair(`rx${u}b.xy`)}, ${f32Pair(`rx${u}b.zw`)})`
      );
    const o = `(xRow${u} % 16u) * ${S}u + xK${u}`;
    if (xf16) return `    { let at = ${o}; ${storeF16x8(dst, "at", `rx${u}`)} }`;
    return `    { let at = ${o}; ${range(8).map(
      (e) => `${dst}[at + ${e}u] = f16(clamp(rx${u}${e < 4 ? "a" : "b"}.${"xyzw"[e % 4]}, -65504.0, 65504.0));`
    ).join(" ")} }`;
  };
  const storeW = (buf, u) => rotate ? rotatedStore(`sW[${buf} * ${NBW}u + wRow${u} / 16u]`, "w", u, `rw${u}`) : `    { let at = (wRow${u} % 16u) * ${S}u + wK${u}; ${storeF16x8(`sW[${buf} * ${NBW}u + wRow${u} / 16u]`, "at", `rw${u}`)} }`;
  const stores = (buf) => [...xUnits.map((u) => storeX(buf, u)), ...wUnits.map((u) => storeW(buf, u))].join("\n");
  const products = (buf) => KS.map(
    (ks) => `    {
${I.map((i) => `      let l${i} = subgroupMatrixLoad<${LEFT}>(&sX[${buf} * ${NBX}u + sgM * ${I.length}u + ${i}u], ${16 * ks}u, false, ${S}u);`).join("\n")}
${J.map(
      (j) => `      { let r = subgroupMatrixLoad<${RIGHT}>(&sW[${buf} * ${NBW}u + sgN * ${J.length}u + ${j}u], ${16 * ks}u, true, ${S}u);
${I.map((i) => `        a${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r, a${i}_${j});`).join("\n")} }`
    ).join("\n")}
    }`
  ).join("\n");
  const mainLoop = !prefetch ? stages === 2 ? `  // per slice: load and store it into buffer s % 2, one barrier, products (the other buffer is
  // free: every subgroup passed the previous barrier after its products on it)
  for (var s = 0u; s < nSteps; s++) {
    let cur = s % 2u;
    let k0 = s * ${bk}u;
${loads}
${stores("cur")}
    workgroupBarrier();
${products("cur")}
  }` : `  // per slice: load it, barrier (the products of the previous slice are done), store, barrier, products
  for (var s = 0u; s < nSteps; s++) {
    let k0 = s * ${bk}u;
${loads}
    workgroupBarrier();
${stores("0u")}
    workgroupBarrier();
${products("0u")}
  }` : stages === 2 ? `  // slice 0 into buffer 0; then per slice: next slice's loads, products, store into the other buffer
  {
    let k0 = 0u;
${loads}
  }
${stores("0u")}
  workgroupBarrier();
  for (var s = 0u; s < nSteps; s++) {
    let cur = s % 2u;
    let k0 = (s + 1u) * ${bk}u;
    let more = s + 1u < nSteps;
    if (more) {
${loads}
    }
${products("cur")}
    if (more) {
${stores("(1u - cur)")}
    }
    workgroupBarrier();
  }` : `  // per slice: barrier, store the registers, barrier, load the next slice, products
  {
    let k0 = 0u;
${loads}
  }
  for (var s = 0u; s < nSteps; s++) {
    workgroupBarrier();
${stores("0u")}
    workgroupBarrier();
    let k0 = (s + 1u) * ${bk}u;
    if (s + 1u < nSteps) {
${loads}
    }
${products("0u")}
  }`;
  const scratch = (acc) => `  workgroupBarrier();
  subgroupMatrixStore(&sC[sg], 0u, ${acc}, false, 16u);
  workgroupBarrier();`;
  const read8 = (v) => range(8).map((e) => `  let ${v}${e} = sC[sg][eRow * 16u + eCol + ${e}u];`).join("\n");
  const epilogue2 = c.gated ? I.flatMap(
    (i) => range(J.length / 2).map(
      (p) => `  {
${scratch(`a${i}_${2 * p}`)}
${read8("g")}
${scratch(`a${i}_${2 * p + 1}`)}
${read8("u")}
    let m = mRow + ${16 * i}u;
    let nb = n0 + (sgN * ${J.length / 2}u + ${p}u) * 16u + eCol;
    if (m < P.M) {
${range(8).map(
        (e) => `      if (nb + ${e}u < P.N) { store(m, nb + ${e}u, silu(g${e} + biasAt(nb + ${e}u)) * (u${e} + biasAt(P.N + nb + ${e}u))); }`
      ).join("\n")}
    }
  }`
    )
  ).join("\n") : I.flatMap(
    (i) => J.map(
      (j) => `  {
${scratch(`a${i}_${j}`)}
${read8("v")}
    let m = mRow + ${16 * i}u;
    let nb = n0 + (sgN * ${J.length}u + ${j}u) * 16u + eCol;
    if (m < P.M) {
${range(8).map((e) => `      if (nb + ${e}u < P.N) { store(m, nb + ${e}u, v${e} + biasAt(nb + ${e}u)); }`).join("\n")}
    }
  }`
    )
  ).join("\n");
  return (
    /* wgsl */
    `${SGMAT_ENABLE}
${denseHeader("f16", c.xDtype)}
${denseBindings(xf16 ? "vec4<u32>" : "vec4<f32>", "vec4<u32>")}
${DENSE_EPILOGUE}
${rotate ? `
// v rotated by r words: component j is v[(j + r) % 4]
fn rot4(v: vec4<u32>, r: u32) -> vec4<u32> {
  let a = select(v, v.yzwx, (r & 1u) != 0u);
  return select(a, a.zwxy, (r & 2u) != 0u);
}
` : ""}
// staged slices: 16-row blocks of ${S} f16 (${bk} used)${stages === 2 ? ", two buffers" : ""}; per-subgroup f32 scratch
var<workgroup> sX: array<array<f16, ${16 * S}>, ${stages * NBX}>;
var<workgroup> sW: array<array<f16, ${16 * S}>, ${stages * NBW}>;
var<workgroup> sC: array<array<f32, 256>, ${SG}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
${tileOrder(GROUP_ROWS)}
  let m0 = mTile * ${bm}u;
  let n0 = nTile * ${outCols}u;               // first output column of the tile
  let sgM = sg / ${wn}u;                      // the subgroup's row group and column group
  let sgN = sg % ${wn}u;
  let nSteps = (P.K + ${bk - 1}u) / ${bk}u;
${coords("x", xUnits)}
${coords("w", wUnits)}
${rotate ? `${rotOffsets("x", xUnits)}
${rotOffsets("w", wUnits)}` : ""}
${rowBases}
${decls}
${I.flatMap((i) => J.map((j) => `  var a${i}_${j} = ${RESULT}();`)).join("\n")}
${mainLoop}
  let eRow = lane / 2u;
  let eCol = (lane % 2u) * 8u;
  let mRow = m0 + sgM * ${bm / wm}u + eRow;
${epilogue2}
}
`
  );
}
function encodeDenseSgmat(ctx2, batch, t, o, tiles) {
  const c = { ...tiles, xDtype: t.x.dtype, gated: o.gated };
  const p = ctx2.pipeline(denseSgmatKey(c), () => denseSgmatWgsl(c), DENSE_LAYOUT);
  dispatchDense(ctx2, batch, p, t, o, tiles.bm, tiles.bn, "dense matmul (matrix units)");
}

// packages/kernels-webgpu/src/heuristics.ts
var XL_CHUNK_DEFAULT_CHUNK_SIZE = 128;
var LIMIT_CHUNK_DEFAULT_CHUNK_SIZE = 64;
var LIMIT_CHUNK_MAX_CHUNK_SIZE = 64;
function isSoftwareAdapter(info) {
  const text = `${info.architecture ?? ""} ${info.description ?? ""}`.toLowerCase();
  return !!info.isFallbackAdapter || /software|llvmpipe|lavapipe|swiftshader/.test(text);
}
var clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
function chooseIntraTiles(L, DX, limits, wholeChunk = false, software = false, role = "fw") {
  if (software) return { bR: 16, bT: 16, bX: 16, bY: 16 };
  if (role === "fw" && !wholeChunk && L >= 64) {
    const big = { bR: 64, bT: 64, bX: clamp(nextPow2(DX), 16, 256), bY: 16 };
    if (intraWorkgroupBytes(big) <= limits.maxComputeWorkgroupStorageSize) return big;
  }
  const seq = clamp(nextPow2(L), 16, wholeChunk ? 64 : 32);
  const tiles = { bR: seq, bT: seq, bX: clamp(nextPow2(DX), 16, 128), bY: 16 };
  if (wholeChunk && L > 64) throw new RangeError(`whole-chunk tiles need L <= 64, got ${L}`);
  while (intraWorkgroupBytes(tiles) > limits.maxComputeWorkgroupStorageSize) {
    if (tiles.bX > 64) tiles.bX /= 2;
    else if (tiles.bX > 32) tiles.bX /= 2;
    else if (!wholeChunk && tiles.bT > 16) {
      tiles.bT /= 2;
      tiles.bR /= 2;
    } else if (tiles.bX > 16) tiles.bX /= 2;
    else break;
  }
  return tiles;
}
function chooseScanTile(DHQK, DHHV, limits, software = false) {
  if (software) return 16;
  let bS = clamp(nextPow2(Math.max(DHQK, DHHV)), 16, 64);
  while (bS > 16 && scanWorkgroupBytes(bS) > limits.maxComputeWorkgroupStorageSize) bS /= 2;
  return bS;
}
var DENSE_FILL_WORKGROUPS = 256;
function chooseDenseTiles(M, N, limits, gated = false) {
  const sg4 = (bm, bn, wm) => ({
    bm,
    bn,
    bk: 64,
    wm,
    stages: 1,
    subgroups: 4
  });
  const rows32 = [sg4(32, 128, 2), sg4(32, 64, 2)];
  const candidates = M <= 16 ? [sg4(16, 128, 1), sg4(16, 64, 1), ...rows32] : M <= 32 ? rows32 : [{ ...DENSE_SGMAT_DEFAULT }, sg4(64, 128, 2), ...rows32];
  const mem = limits.maxComputeWorkgroupStorageSize;
  let best;
  let bestCount = 0;
  for (const c of candidates) {
    const t = denseSgmatWorkgroupBytes(c) > mem ? { ...c, bk: 32 } : c;
    if (denseSgmatTilesProblem(t, gated, mem)) continue;
    const count = Math.ceil(M / t.bm) * Math.ceil(N / (gated ? t.bn / 2 : t.bn));
    if (count >= DENSE_FILL_WORKGROUPS) return t;
    if (!best || count > bestCount) {
      best = t;
      bestCount = count;
    }
  }
  return best ?? { ...DENSE_SGMAT_DEFAULT, bk: 32 };
}

// packages/kernels-webgpu/src/util/copy.ts
var params2 = defineParams({
  blocks: "u32",
  block: "u32",
  srcStride: "u32",
  srcOffset: "u32",
  total: "u32"
});
var WG2 = 256;
function encodeCopyBlocks(ctx2, batch, src, dst, blocks2, block, srcStride, srcOffset) {
  const pipeline = ctx2.pipeline(
    "util:copyBlocks",
    () => `${params2.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(${WG2})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG2}u + lid;
  if (idx >= P.total) { return; }
  let b = idx / P.block;
  let e = idx % P.block;
  dst[idx] = src[b * P.srcStride + P.srcOffset + e];
}`,
    ["uniform", "read", "rw"]
  );
  const total = blocks2 * block;
  batch.dispatch(
    pipeline,
    [src, dst],
    params2.pack({ blocks: blocks2, block, srcStride, srcOffset, total }),
    splitWorkgroups(Math.ceil(total / WG2), ctx2.limits.maxComputeWorkgroupsPerDimension),
    "copyBlocks"
  );
}

// packages/kernels-webgpu/src/chunkwise/kernels/gates.ts
var GATE_WG = 64;
var gateParams = defineParams({
  S: "u32",
  L: "u32",
  NC: "u32",
  D: "u32",
  // DHQK (gate grads) / DHQK·DHHV (stateDot)
  count: "u32",
  T: "u32",
  // tokens of all heads of the call (B·NH·S): section size of the packed gate vectors
  NB: "u32",
  // heads (B·NH): the packed chunk scalars hold g, pmax_L (NB·NC each) then m (NB·(NC+1))
  hasInit: "u32",
  useCorr: "u32"
});
var flatIndex = `let idx = (wid.x + wid.y * nwg.x) * ${GATE_WG}u + lid;`;
var entry2 = `@compute @workgroup_size(${GATE_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32)`;
var runOfChunk = `let per = (P.L + ${GATE_WG - 1}u) / ${GATE_WG}u;
  let r0 = min(lid * per, P.L);
  let r1 = min(r0 + per, P.L);`;
var chunkEntry = `@compute @workgroup_size(${GATE_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = wid.x + wid.y * nwg.x;
  if (idx >= P.count) { return; }
  let bnh = idx / P.NC;
  let chunk = idx % P.NC;`;
var wgScan = (op, identity, reverse = false) => `for (var off = 1u; off < ${GATE_WG}u; off *= 2u) {
    let other = ${reverse ? `select(${identity}, sc[min(lid + off, ${GATE_WG - 1}u)], lid + off < ${GATE_WG}u)` : `select(${identity}, sc[max(lid, off) - off], lid >= off)`};
    workgroupBarrier();
    sc[lid] = ${op("sc[lid]", "other")};
    workgroupBarrier();
  }`;
var GATE_VECTOR_BINDINGS = `@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> gi: array<f32>;
@group(0) @binding(2) var<storage, read> gf: array<f32>;
@group(0) @binding(3) var<storage, read_write> gates: array<f32>;
@group(0) @binding(4) var<storage, read_write> chunkv: array<f32>;`;
var logInputGate = (variant, t) => variant === "exp" ? `gi[${t}]` : `logsigmoid(gi[${t}])`;
function gateVectorsWgsl(variant) {
  return `${wgslHeader("f32")}
${gateParams.wgsl()}
${GATE_VECTOR_BINDINGS}
var<workgroup> sc: array<f32, ${GATE_WG}>;
${chunkEntry}
  let first = bnh * P.S + chunk * P.L;
  ${runOfChunk}
  // b: the run's sum, then the exclusive prefix over the runs
  var run = 0.0;
  for (var r = r0; r < r1; r++) { run += logsigmoid(gf[first + r]); }
  sc[lid] = run;
  workgroupBarrier();
  ${wgScan((x, y) => `${x} + ${y}`, "0.0")}
  var b = sc[lid] - run;
  let total = sc[${GATE_WG - 1}u];
  workgroupBarrier();
  var runMax = ${NEG_LARGE};
  for (var r = r0; r < r1; r++) {
    let tok = first + r;
    b += logsigmoid(gf[tok]);
    let u = ${logInputGate(variant, "tok")} - b;
    runMax = max(runMax, u);
    gates[tok] = b;
    gates[P.T + tok] = u;
  }
  // pmax: the run's prefix maxima, from the maximum of the runs before it
  sc[lid] = runMax;
  workgroupBarrier();
  ${wgScan((x, y) => `max(${x}, ${y})`, NEG_LARGE)}
  var pm = select(${NEG_LARGE}, sc[max(lid, 1u) - 1u], lid > 0u);
  for (var r = r0; r < r1; r++) {
    let tok = first + r;
    pm = max(pm, gates[P.T + tok]);
    gates[2u * P.T + tok] = pm;
  }
  if (lid == 0u) {
    chunkv[idx] = total;
    chunkv[P.NB * P.NC + idx] = sc[${GATE_WG - 1}u];
  }
}`;
}
function gateVectorsSerialWgsl(variant) {
  return `${wgslHeader("f32")}
${gateParams.wgsl()}
${GATE_VECTOR_BINDINGS}
${entry2} {
  ${flatIndex}
  if (idx >= P.count) { return; }
  let bnh = idx / P.NC;
  let chunk = idx % P.NC;
  var b = 0.0;
  var pm = ${NEG_LARGE};
  for (var r = 0u; r < P.L; r++) {
    let tok = bnh * P.S + chunk * P.L + r;
    b += logsigmoid(gf[tok]);
    let u = ${logInputGate(variant, "tok")} - b;
    pm = max(pm, u);
    gates[tok] = b;
    gates[P.T + tok] = u;
    gates[2u * P.T + tok] = pm;
  }
  chunkv[idx] = b;
  chunkv[P.NB * P.NC + idx] = pm;
}`;
}
function maxStatesWgsl() {
  return `${wgslHeader("f32")}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> mInit: array<f32>;
@group(0) @binding(2) var<storage, read_write> chunkv: array<f32>;
var<workgroup> sa: array<f32, ${GATE_WG}>;
var<workgroup> sb: array<f32, ${GATE_WG}>;
@compute @workgroup_size(${GATE_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let head = wid.x + wid.y * nwg.x;
  if (head >= P.count) { return; }
  let run = (P.NC + ${GATE_WG - 1}u) / ${GATE_WG}u;
  let k0 = min(lid * run, P.NC);
  let k1 = min(k0 + run, P.NC);
  let g0 = head * P.NC;
  let p0 = P.NB * P.NC + head * P.NC;
  // this run's map (identity: A = 0, B = \u2212\u221E)
  var a = 0.0;
  var b = ${NEG_LARGE};
  for (var k = k0; k < k1; k++) {
    let g = chunkv[g0 + k];
    a = a + g;
    b = max(b + g, chunkv[p0 + k] + g);
  }
  // inclusive scan of the maps; the run starts from the maps of the runs before it
  sa[lid] = a;
  sb[lid] = b;
  workgroupBarrier();
  for (var off = 1u; off < ${GATE_WG}u; off *= 2u) {
    var pa = 0.0;
    var pb = ${NEG_LARGE};
    if (lid >= off) { pa = sa[lid - off]; pb = sb[lid - off]; }
    workgroupBarrier();
    if (lid >= off) {
      sb[lid] = max(pb + sa[lid], sb[lid]);
      sa[lid] = pa + sa[lid];
    }
    workgroupBarrier();
  }
  let m0 = select(0.0, mInit[head], P.hasInit != 0u);
  let base = 2u * P.NB * P.NC + head * (P.NC + 1u);
  var m = m0;
  if (lid > 0u) { m = max(m0 + sa[lid - 1u], sb[lid - 1u]); }
  if (lid == 0u) { chunkv[base] = m0; }
  for (var k = k0; k < k1; k++) {
    m = chunkv[g0 + k] + max(m, chunkv[p0 + k]);
    chunkv[base + k + 1u] = m;
  }
}`;
}
var GATE_TOKENS_PER_WG = 16;
function gateGradsVector(dtype2, D) {
  const v = dtype2 === "f16" ? 8 : 4;
  return D % v === 0 ? v : 1;
}
function gateGradsLocalWgsl(variant, dtype2, vec = 1) {
  const type = vec === 1 ? "elem" : vec === 8 ? "vec4<u32>" : "vec4<f32>";
  const dot2 = (a, b) => vec === 1 ? `f32(${a}) * f32(${b})` : vec === 4 ? `dot(${a}, ${b})` : `dot(vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(${a}.x)), vec2<f32>(bitcast<vec2<f16>>(${a}.y))), vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(${b}.x)), vec2<f32>(bitcast<vec2<f16>>(${b}.y)))) + dot(vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(${a}.z)), vec2<f32>(bitcast<vec2<f16>>(${a}.w))), vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(${b}.z)), vec2<f32>(bitcast<vec2<f16>>(${b}.w))))`;
  return `${wgslHeader(dtype2)}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> q: array<${type}>;
@group(0) @binding(2) var<storage, read> k: array<${type}>;
@group(0) @binding(3) var<storage, read> dq: array<${type}>;
@group(0) @binding(4) var<storage, read> dk: array<${type}>;
@group(0) @binding(5) var<storage, read> gi: array<f32>;
@group(0) @binding(6) var<storage, read_write> di: array<f32>;
@group(0) @binding(7) var<storage, read_write> dfTmp: array<f32>;
var<workgroup> pq: array<f32, 256>;
var<workgroup> pk: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let first = (wid.x + wid.y * nwg.x) * ${GATE_TOKENS_PER_WG}u;
  let tok = first + lid / 16u;
  var qdq = 0.0;
  var kdk = 0.0;
  if (tok < P.count) {
    let n = P.D / ${vec}u;
    for (var d = lid % 16u; d < n; d += 16u) {
      let e = tok * n + d;
      qdq += ${dot2("q[e]", "dq[e]")};
      kdk += ${dot2("k[e]", "dk[e]")};
    }
  }
  pq[lid] = qdq;
  pk[lid] = kdk;
  workgroupBarrier();
  let t = first + lid;
  if (lid < ${GATE_TOKENS_PER_WG}u && t < P.count) {
    var sq = 0.0;
    var sk = 0.0;
    for (var j = 0u; j < 16u; j++) { sq += pq[lid * 16u + j]; sk += pk[lid * 16u + j]; }
    dfTmp[t] = sq - sk;
    di[t] = ${variant === "exp" ? "sk" : "sk * sigmoid(-gi[t])"};
  }
}`;
}
function gateGradsChunkSumsWgsl(fromDots) {
  return `${wgslHeader("f32")}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> dfTmp: array<f32>;
@group(0) @binding(2) var<storage, read_write> totals: array<f32>;
${fromDots ? `@group(0) @binding(3) var<storage, read> gi: array<f32>;
@group(0) @binding(4) var<storage, read_write> di: array<f32>;` : ""}
var<workgroup> sc: array<f32, ${GATE_WG}>;
${chunkEntry}
  ${runOfChunk}
  let first = bnh * P.S + chunk * P.L;
  var s = 0.0;
  for (var r = r0; r < r1; r++) {
${fromDots ? `    let t = first + r;
    let kdk = di[t];
    let v = dfTmp[t] - kdk;
    dfTmp[t] = v;
    ${fromDots === "exp" ? "" : "di[t] = kdk * sigmoid(-gi[t]);"}
    s += v;` : "    s += dfTmp[first + r];"}
  }
  // inclusive suffix scan of the runs' sums
  sc[lid] = s;
  workgroupBarrier();
  ${wgScan((x, y) => `${x} + ${y}`, "0.0", true)}
  var acc = select(0.0, sc[min(lid + 1u, ${GATE_WG - 1}u)], lid + 1u < ${GATE_WG}u);
  for (var r = r1; r > r0; r--) {
    acc += dfTmp[first + r - 1u];
    dfTmp[first + r - 1u] = acc;
  }
  if (lid == 0u) { totals[idx] = sc[0]; }
}`;
}
function gateGradsFinishWgsl() {
  return `${wgslHeader("f32")}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> gf: array<f32>;
@group(0) @binding(2) var<storage, read> totals: array<f32>;
@group(0) @binding(3) var<storage, read> dfTmp: array<f32>;
@group(0) @binding(4) var<storage, read> corr: array<f32>;
@group(0) @binding(5) var<storage, read_write> df: array<f32>;
var<workgroup> sc: array<f32, ${GATE_WG}>;
${chunkEntry}
  var part = 0.0;
  for (var c = chunk + 1u + lid; c < P.NC; c += ${GATE_WG}u) { part += totals[bnh * P.NC + c]; }
  sc[lid] = part;
  workgroupBarrier();
  for (var off = ${GATE_WG / 2}u; off > 0u; off /= 2u) {
    if (lid < off) { sc[lid] = sc[lid] + sc[lid + off]; }
    workgroupBarrier();
  }
  let offset = sc[0] + select(0.0, corr[bnh], P.useCorr != 0u);
  ${runOfChunk}
  let first = bnh * P.S + chunk * P.L;
  for (var r = r0; r < r1; r++) {
    let tok = first + r;
    df[tok] = (dfTmp[tok] + offset) * sigmoid(-gf[tok]);
  }
}`;
}
function stateDotWgsl() {
  return `${wgslHeader("f32")}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> dcLast: array<f32>;
@group(0) @binding(2) var<storage, read> cStates: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bnh = wid.x + wid.y * nwg.x; // one workgroup per b\xB7head, flat over a 2-D dispatch
  if (bnh >= P.count) { return; }
  let cBase = (bnh * (P.NC + 1u) + P.NC) * P.D;
  var s = 0.0;
  for (var e = lid; e < P.D; e += 256u) { s = fma(dcLast[bnh * P.D + e], cStates[cBase + e], s); }
  part[lid] = s;
  for (var w = 128u; w > 0u; w = w >> 1u) {
    workgroupBarrier();
    if (lid < w) { part[lid] += part[lid + w]; }
  }
  if (lid == 0u) { out[bnh] = part[0]; }
}`;
}

// packages/kernels-webgpu/src/chunkwise/kernels/chunk_products.ts
var CHUNKS_PER_PRODUCT_WORKGROUP = 2;
function carryingScan(heads, DHQK, DHHV, NC, tuning = DEFAULT_KERNEL_TUNING) {
  const t = { ...DEFAULT_KERNEL_TUNING, ...tuning };
  const bX = t.scanTileX;
  if (t.scan === "products" || DHHV % bX !== 0 || DHQK % 64 !== 0) return null;
  const workgroups = heads * (DHQK / 64) * (DHHV / bX);
  if (t.scanSegments) return NC % t.scanSegments === 0 ? { bX, segs: t.scanSegments } : null;
  let segs = 1;
  while (workgroups * segs < t.minScanWorkgroups && segs * 2 <= t.maxScanSegments && NC % (segs * 2) === 0 && NC / (segs * 2) >= t.minSegmentChunks)
    segs *= 2;
  return t.scan === "carrying" || workgroups * segs >= t.minScanWorkgroups ? { bX, segs } : null;
}
function chunkProductKey(c) {
  return `chunk-products:${c.direction}:${c.variant}:${c.normalize ? "n" : "nn"}:${c.bX}:${c.carry ? "carry" : c.chunksPerWorkgroup ?? 1}`;
}
function chunkProductsFit(L, DHQK, DHHV, maxWorkgroupBytes) {
  const bX = sgmatTileX(DHHV);
  return L % 64 === 0 && DHQK % 64 === 0 && bX > 0 && chunkProductWorkgroupBytes() <= maxWorkgroupBytes;
}
var SLICE = 64;
var AS = SLICE + 8;
function chunkProductWorkgroupBytes() {
  return 2 * 4 * 16 * AS + 2 * (B_SLICE_ROWS / 4) * 16 * BLOCK_STRIDE + 4 * 16 * 256 + 4 * 256;
}
function chunkProductWgsl(c) {
  const g = productsParts(c);
  return (
    /* wgsl */
    `${productsDeclarations(g)}${productsTileStart(g)}${productsSlices(g)}${productsEpilogue(g)}`
  );
}
function productsParts(c) {
  const fw = c.direction === "fw";
  const exp = c.variant === "exp";
  const { bX } = c;
  const colsPerSg = bX / 4;
  const J = range(colsPerSg / 16);
  const I2 = [0, 1];
  const steps2 = range(SLICE / B_SLICE_ROWS);
  const subs = range(B_SLICE_ROWS / 16);
  const U = range(SLICE / 32);
  const carry = !!c.carry;
  const walk = carry ? 0 : c.chunksPerWorkgroup ?? 1;
  const accs = I2.flatMap((i) => J.map((j) => [i, j]));
  const ins = fw ? ["A", "Bm", "gates", "chunkv"] : ["A", "Bm", "gates", "chunkv", "nm"];
  if (carry) ins.push(...fw ? ["init", "nInit"] : ["init"]);
  const outs = carry ? ["last", "gammas", "states16"] : ["states16"];
  const type = {
    A: "array<vec4<u32>>",
    // k (fw) / q (bw), 8 f16 per element
    Bm: "array<vec4<u32>>",
    // v (fw) / dh (bw)
    states16: "array<vec4<u32>>"
    // 8 f16 per element
  };
  const decl = [...ins.map((n) => [n, "read"]), ...outs.map((n) => [n, "read_write"])].map(
    ([n, access], b) => `@group(0) @binding(${b + 1}) var<storage, ${access}> ${n}: ${type[n] ?? "array<f32>"};`
  ).join("\n");
  const pack = (b, e) => `bitcast<u32>(vec2<f16>(f16(clamp(sE[${b}][${e}], -65504.0, 65504.0)), f16(clamp(sE[${b}][${e} + 1u], -65504.0, 65504.0))))`;
  const aLoad = (u, l) => `A[((seq0 + ${l} + sTok + ${32 * u}u) * P.DY + y0 + sY8) / 8u]`;
  const aStore = (u) => `{
      let tok = seq0 + l0 + sTok + ${32 * u}u;
      let sc = ${scanTokenWeight(c)};
      let col = sTok + ${32 * u}u;
      ${range(4).map(
    (i) => `{ let h2 = vec2<f16>(vec2<f32>(bitcast<vec2<f16>>(w${u}.${"xyzw"[i]})) * sc); sA[sY8 / 16u][(sY8 % 16u + ${2 * i}u) * ${AS}u + col] = h2.x; sA[sY8 / 16u][(sY8 % 16u + ${2 * i + 1}u) * ${AS}u + col] = h2.y;${fw ? ` nv${2 * i} += f32(h2.x); nv${2 * i + 1} += f32(h2.y);` : ""} }`
  ).join("\n      ")}
    }`;
  const bs = bSliceStaging(bX, "bv", "sV", 0, false);
  const stateAt = (slot, i, j) => `((${slot} * P.DY + y0 + rb${i} * 16u + eRow) * P.DX + xw + xc + ${16 * j}u + eCol) / 8u`;
  const pick = (lo, hi, bit) => `select(${lo}, ${hi}, (lane & ${bit}u) != 0u) + subgroupShuffleXor(select(${hi}, ${lo}, (lane & ${bit}u) != 0u), ${bit}u)`;
  const nReduce = `    {
      // rows 0-3 / 4-7 (lane bit 16), then 0-1 / 2-3 of those (bit 8), then one (bit 4)
${range(4).map((i) => `      let a${i} = ${pick(`nv${i}`, `nv${i + 4}`, 16)};`).join("\n")}
${range(2).map((i) => `      let b${i} = ${pick(`a${i}`, `a${i + 2}`, 8)};`).join("\n")}
      var c = ${pick("b0", "b1", 4)};
      c += subgroupShuffleXor(c, 2u);
      c += subgroupShuffleXor(c, 1u);
      nPart += c;
    }`;
  const nStore = `  {
    let n1 = subgroupShuffle(nPart, (lane + 4u) & 31u);
    let n2 = subgroupShuffle(nPart, (lane + 8u) & 31u);
    let n3 = subgroupShuffle(nPart, (lane + 12u) & 31u);
    if (xTile == 0u && (lane & 15u) == 0u) {
      let n0 = (P.NB * (P.NC + 1u) * P.DY * P.DX / 2u + slot * P.DY + y0 + sY8 + lane / 4u) / 4u;
      states16[n0] = bitcast<vec4<u32>>(vec4<f32>(nPart, n1, n2, n3));
    }
  }`;
  const blockAt = (i, j) => `bnh * P.DY * P.DX + (y0 + rb${i} * 16u) * P.DX + xw + xc + ${16 * j}u`;
  const accPrologue = () => `${accs.map(([i, j]) => `  var a${i}_${j} = ${RESULT}();`).join("\n")}
${fw ? "  var nPart = 0.0;" : ""}
  // the exact segment (fw: the first, bw: the last) starts from the initial state and writes the
  // start slot; the others start from zero (local states, made true by state_carry.ts boundsWgsl)
  let exact = ${fw ? "seg == 0u" : "seg == P.segs - 1u"};
  if (P.hasInit != 0u && exact) {
${accs.map(([i, j]) => `    a${i}_${j} = ${mLoad(RESULT, `&init, ${blockAt(i, j)}, false, P.DX`)};`).join("\n")}
${fw ? `    // n_0: each lane its row's
    nPart = nInit[bnh * P.DY + y0 + sY8 + nRow];` : ""}
  }
  if (exact) {
    let slot = mBase + ${fw ? "0u" : "P.NC"};
${epilogue2()}
${fw ? nStore : ""}
  }
  var gp = 1.0; // product of \u03B3 since the segment's start`;
  const accEpilogue = `  if (P.writeLast != 0u) {
${accs.map(([i, j]) => `    ${mStore(`&last`, `${blockAt(i, j)}`, `a${i}_${j}`, `false`, `P.DX`)};`).join("\n")}
${fw ? "    if (xTile == 0u && (lane & 3u) == 0u) { last[P.NB * P.DY * P.DX + bnh * P.DY + y0 + sY8 + nRow] = nPart; }" : ""}
  }`;
  const epilogue2 = () => scratchEpilogue(J.length, "sE", (i, j, h) => {
    const b = `sg * 2u + ${h}u`;
    return `  states16[${stateAt("slot", i, j)}] = vec4<u32>(${pack(b, "e0")}, ${pack(b, "e0 + 2u")}, ${pack(b, "e0 + 4u")}, ${pack(b, "e0 + 6u")});`;
  });
  const bSrc = (l) => (k, x8) => `Bm[((seq0 + ${l} + ${k}) * P.DX + xw + ${x8}) / 8u]`;
  return {
    c,
    fw,
    exp,
    bX,
    colsPerSg,
    J,
    I2,
    steps: steps2,
    subs,
    U,
    carry,
    walk,
    accs,
    ins,
    outs,
    type,
    decl,
    pack,
    aLoad,
    aStore,
    bs,
    stateAt,
    pick,
    nReduce,
    nStore,
    blockAt,
    accPrologue,
    accEpilogue,
    epilogue: epilogue2,
    bSrc
  };
}
function productsDeclarations(g) {
  const { decl } = g;
  return `${SGMAT_ENABLE}
${wgslHeader("f16")}
${scanParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${decl}

var<workgroup> sA: array<array<f16, ${16 * AS}>, 4>;   // weighted A: block = 16 state rows, [row][token]
var<workgroup> sV: array<array<f16, ${16 * BLOCK_STRIDE}>, ${B_SLICE_ROWS / 4}>;   // B slice: block = the columns of a subgroup column group
var<workgroup> sE: array<array<f32, 256>, 16>;   // epilogue: 2 16\xD716 blocks per subgroup

`;
}
function productsTileStart(g) {
  const { fw, exp, bX, colsPerSg, carry, walk, accs, accPrologue } = g;
  return `${SGMAT_ENTRY}
  let yTile = rest % P.nYTiles;
  let rest2 = rest / P.nYTiles;
  let y0 = yTile * 64u;
  let rb0 = 2u * (sg / 4u);
  let rb1 = rb0 + 1u;
  let cg = sg % 4u;
  let xw = xTile * ${bX}u;
  let xc = cg * ${colsPerSg}u;
  // A staging: token sTok of a 32-token half, rows sY8 \u2026 sY8 + 7 (fw: n sums them per subgroup)
  let sTok = lane;
  let sY8 = sg * 8u;
${fw ? "  let nRow = (lane / 16u) * 4u + ((lane / 8u) % 2u) * 2u + (lane / 4u) % 2u; // the row of nPart\n" : ""}  // the epilogue's element of a 16\xD716 block: row eRow, columns eCol \u2026 eCol + 7
  let eRow = lane / 2u;
  let eCol = (lane % 2u) * 8u;
  let e0 = eRow * 16u + eCol;
${carry ? `  let seg = rest2 % P.segs;
  let bnh = rest2 / P.segs;
  let W = P.NC / P.segs; // chunks per segment
  let mBase = bnh * (P.NC + 1u);
${accPrologue()}
  for (var it = 0u; it < W; it++) {
  let chunk = ${fw ? "seg * W + it" : "(seg + 1u) * W - 1u - it"};
  workgroupBarrier(); // the previous chunk's epilogue is done with the scratch` : walk > 1 ? `  let nGroups = (P.NC + ${walk - 1}u) / ${walk}u;
  let bnh = rest2 / nGroups;
  let mBase = bnh * (P.NC + 1u);
  for (var it = 0u; it < ${walk}u; it++) {
  let chunk = (rest2 % nGroups) * ${walk}u + it;
  if (chunk >= P.NC) { break; }
  workgroupBarrier(); // the previous chunk's epilogue is done with the scratch` : `  let chunk = rest2 % P.NC;
  let bnh = rest2 / P.NC;
  let mBase = bnh * (P.NC + 1u);`}
  let seq0 = bnh * P.S + chunk * P.L;
  let mPrev = ${exp ? "chunkv[2u * P.NB * P.NC + mBase + chunk]" : "0.0"};
  let mNext = ${exp ? "chunkv[2u * P.NB * P.NC + mBase + chunk + 1u]" : "0.0"};
  let g = chunkv[bnh * P.NC + chunk];
${carry ? `  let gm = exp(g + mPrev - mNext); // \u03B3 of this chunk
${accs.map(([i, j]) => `  a${i}_${j} = ${mScale(`a${i}_${j}`, `gm`)};`).join("\n")}
${fw ? "  nPart *= gm;" : ""}` : `${accs.map(([i, j]) => `  var a${i}_${j} = ${RESULT}();`).join("\n")}
${fw ? "  var nPart = 0.0;" : ""}`}

`;
}
function productsSlices(g) {
  const { fw, J, I2, steps: steps2, subs, U, aLoad, aStore, bs, nReduce, bSrc } = g;
  return `  for (var l0 = 0u; l0 < P.L; l0 += ${SLICE}u) {
${fw ? `    ${range(8).map((r2) => `var nv${r2} = 0.0;`).join(" ")} // this slice's row sums (n)
` : ""}${steps2.map(
    (k) => `    {
    // tokens l0 + ${B_SLICE_ROWS * k} \u2026: loaded right before they are stored (holding them across the
    // products of the previous slice costs registers, and was slower on the H100)
${k === 0 ? `${U.map((u) => `    let w${u} = ${aLoad(u, "l0")};`).join("\n")}
` : ""}    ${bs.decl}
${bs.load(bSrc(`l0 + ${B_SLICE_ROWS * k}u`))}
    workgroupBarrier();
${k === 0 ? `${U.map(aStore).join("\n")}
` : ""}${bs.store}
    workgroupBarrier();
${subs.map(
      (h) => `    {
${I2.map((i) => `      let m${i} = ${mLoad(LEFT, `&sA[rb${i}], ${B_SLICE_ROWS * k + 16 * h}u, false, ${AS}u`)};`).join("\n")}
${J.map(
        (j) => `      { let r = ${mLoad(RIGHT, `${bs.right(j, h)}`)};
${I2.map((i) => `        a${i}_${j} = ${mMma(`m${i}`, `r`, `a${i}_${j}`)};`).join("\n")} }`
      ).join("\n")}
    }`
    ).join("\n")}${fw && k === steps2.length - 1 ? `
${nReduce}` : ""}
    }`
  ).join("\n")}
  }
`;
}
function productsEpilogue(g) {
  const { fw, carry, walk, nStore, accEpilogue, epilogue: epilogue2 } = g;
  return `  // epilogue: two accumulators at a time through the subgroup's scratch blocks, 8 f16 (4 u32)
  // per lane and row
  let slot = mBase + chunk + ${fw ? "1u" : "0u"};
${epilogue2()}
${fw ? nStore : ""}
${carry ? `  // \u0393 from the segment's start to this slot, for the boundary carry and the intra kernels
  gp = gp * gm;
  if (P.segs > 1u && lid == 0u && yTile == 0u && xTile == 0u) { gammas[slot] = gp; }` : ""}
${walk > 1 || carry ? "  }" : ""}
${carry ? accEpilogue : ""}
}
`;
}

// packages/kernels-webgpu/src/chunkwise/kernels/intra_sgmat.ts
var SGMAT_ROWS = 64;
var BS2 = BLOCK_STRIDE;
var BLOCK = 16 * BS2;
var R2 = B_SLICE_ROWS;
var SS_STRIDE = 16;
function sgmatWorkgroupBytes() {
  return 2 * 12 * BLOCK + 4 * 16 * 16 * SS_STRIDE + 4 * (7 * 64 + 256);
}
function sgmatIntraFits(L, dims, inter, maxWorkgroupBytes) {
  const bX = sgmatTileX(dims.DX);
  return L % SGMAT_ROWS === 0 && dims.DY % 64 === 0 && bX > 0 && (!inter || dims.DI % 64 === 0) && sgmatWorkgroupBytes() <= maxWorkgroupBytes;
}
function sgmatWalksRowTiles(role, inter, rowTiles) {
  return role !== "dv" && inter && rowTiles <= 2;
}
function sgmatKey(c) {
  return `intra-sgmat:${c.role}:${c.variant}:${c.normalize ? "n" : "nn"}:${c.inter ? "i" : "ni"}:${c.bX}${c.walkRows ? ":walk" : ""}${c.rowDots ? ":dots" : ""}`;
}
function sgmatWgsl(c) {
  const g = sgmatParts(c);
  return (
    /* wgsl */
    `${sgmatDeclarations(g)}${sgmatTileStart(g)}${sgmatInterTerm(g)}${sgmatCausalTiles(g)}${sgmatRowFactors(g)}${sgmatEpilogue(g)}`
  );
}
function sgmatParts(c) {
  const spec = intraRoleSpec(c, { elem: "vec4<u32>", state: "vec4<u32>" });
  if (c.rowDots && c.role !== "dq" && c.role !== "dk")
    throw new Error(`intra_sgmat: row dots are for dQ and dK, not ${c.role}`);
  const dots = !!c.rowDots;
  const { bX } = c;
  const colsPerSg = bX / 4;
  const J = range(colsPerSg / 16);
  const I2 = [0, 1];
  const dotLoads = I2.flatMap(
    (i) => J.map(
      (j) => `  let dw${i}_${j} = dotWith[((seq0 + r0 + rb${i} * 16u + lane / 2u) * P.DX + xw + cg * ${bX / 4}u + ${16 * j}u + (lane % 2u) * 8u) / 8u];`
    )
  ).join("\n");
  const K4 = range(4);
  const persist = !!c.walkRows;
  const interOn = c.inter;
  const steps2 = range(64 / R2);
  const subs = range(R2 / 16);
  const exp = c.variant === "exp";
  const fw = c.role === "fw";
  const normalised = exp || c.normalize;
  const [pName, qName, bName] = spec.names;
  const st = spec.stateName;
  const masked = (tb, rbk) => spec.lower ? `(diag && ${tb} > ${rbk})` : `(diag && ${tb} < ${rbk})`;
  const products = (left, right, skip2) => [
    ...I2.map((i) => `      let l${i} = ${mLoad(LEFT, `${left(i)}`)};`),
    ...J.map(
      (j) => `      { let r = ${mLoad(RIGHT, `${right(j)}`)};
${I2.map((i) => `        ${skip2 ? `if (!${skip2(i)}) { ` : ""}a${i}_${j} = ${mMma(`l${i}`, `r`, `a${i}_${j}`)};${skip2 ? " }" : ""}`).join("\n")} }`
    )
  ].join("\n");
  const bv = bSliceStaging(bX, "bv", "sB", 4, false);
  const sv = bSliceStaging(bX, "sv", "sB", 4, spec.stateTransposed);
  const bvSrc = (row0) => (k, x8) => `${bName}[((seq0 + t0 + ${row0} + ${k}) * P.DX + xw + ${x8}) / 8u]`;
  const svSrc = (yy) => (a, b) => spec.stateTransposed ? `${st}[(sBase + (xw + ${a}) * P.DI + ${yy} + ${b}) / 8u]` : `${st}[(sBase + (${yy} + ${a}) * P.DX + xw + ${b}) / 8u]`;
  const sliceStore = (first, w0, w1, sc2) => `{
        let at = (sRow % 16u) * ${BS2}u + sY8;
        ${storeF16x8(`sB[${first}u + sRow / 16u]`, "at", w0, sc2?.[0])}
        ${storeF16x8(`sB[${first + 2}u + sRow / 16u]`, "at", w1, sc2?.[1])}
      }`;
  const sliceLoad = (name, row0, depth, y) => [
    `${name}[((seq0 + ${row0} + sRow) * ${depth} + ${y} + sY8) / 8u]`,
    `${name}[((seq0 + ${row0} + sRow + 32u) * ${depth} + ${y} + sY8) / 8u]`
  ];
  const [wi0, wi1] = sliceLoad(pName, "r0", "P.DI", "0u");
  const [wi0n, wi1n] = sliceLoad(pName, "r0", "P.DI", "y0 + 64u");
  const [wp0, wp1] = sliceLoad(pName, "r0", "P.DY", "0u");
  const [wq0, wq1] = sliceLoad(qName, "t0", "P.DY", "0u");
  const [wp0n, wp1n] = sliceLoad(pName, "r0", "P.DY", "y0 + 64u");
  const [wq0n, wq1n] = sliceLoad(qName, "t0", "P.DY", "y0 + 64u");
  const hoist = c.role !== "dq";
  const interDecl = `  let interOn = chunk + ${spec.stateSlot} != P.zeroSlot;`;
  const stateDecl = `  let sBase = (bnh * (P.NC + 1u) + chunk + ${spec.stateSlot}) * P.DI * P.DX;
  ${sv.decl}`;
  const firstLoads = (declare2) => `${sv.load(svSrc("0u"))}
  ${declare2 ? "var " : ""}wi0 = ${wi0};
  ${declare2 ? "var " : ""}wi1 = ${wi1};`;
  const qnLoads = `    let nBase = P.NB * (P.NC + 1u) * P.DI * P.DX + 2u * (bnh * (P.NC + 1u) + chunk) * P.DI;
    let quarter = P.DI / 4u;
    for (var y = (lid % 4u) * quarter; y < (lid % 4u + 1u) * quarter; y += 8u) {
      let w = q[((seq0 + r0 + slRow) * P.DI + y) / 8u];
      let qv = array<vec2<f32>, 4>(vec2<f32>(bitcast<vec2<f16>>(w.x)), vec2<f32>(bitcast<vec2<f16>>(w.y)),
                                   vec2<f32>(bitcast<vec2<f16>>(w.z)), vec2<f32>(bitcast<vec2<f16>>(w.w)));
      // n_y \u2026 n_{y+7}: 8 f32 = two vec4 of the f16 view
      let n0 = bitcast<vec4<f32>>(${st}[(nBase + 2u * y) / 8u]);
      let n1 = bitcast<vec4<f32>>(${st}[(nBase + 2u * y) / 8u + 1u]);
      qn += dot(vec4<f32>(qv[0], qv[1]), n0) + dot(vec4<f32>(qv[2], qv[3]), n1);
    }`;
  const hoistedLoads = `${interDecl}
${stateDecl}
  var wi0 = vec4<u32>();
  var wi1 = vec4<u32>();
${fw ? "  var qn = 0.0;\n" : ""}  if (interOn) {
${firstLoads(false)}
${fw ? qnLoads : ""}
  }`;
  return {
    c,
    spec,
    dots,
    bX,
    colsPerSg,
    J,
    I2,
    dotLoads,
    K4,
    persist,
    interOn,
    steps: steps2,
    subs,
    exp,
    fw,
    normalised,
    pName,
    qName,
    bName,
    st,
    masked,
    products,
    bv,
    sv,
    bvSrc,
    svSrc,
    sliceStore,
    sliceLoad,
    wi0,
    wi1,
    wi0n,
    wi1n,
    wp0,
    wp1,
    wq0,
    wq1,
    wp0n,
    wp1n,
    wq0n,
    wq1n,
    hoist,
    interDecl,
    stateDecl,
    firstLoads,
    qnLoads,
    hoistedLoads
  };
}
function sgmatDeclarations(g) {
  const { c, spec, dots } = g;
  return `${SGMAT_ENABLE}
${wgslHeader("f16")}
${intraParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${spec.decl}
${dots ? `@group(0) @binding(${spec.decl.split("\n").length + 1}) var<storage, read> dotWith: array<vec4<u32>>; // ${c.role === "dq" ? "q" : "k"}
@group(0) @binding(${spec.decl.split("\n").length + 2}) var<storage, read_write> dots: array<f32>; // per token: output row \xB7 dotWith row` : ""}

var<workgroup> sB: array<array<f16, ${BLOCK}>, 12>;   // see the layout note in intra_sgmat.ts
var<workgroup> sS: array<array<f32, ${16 * SS_STRIDE}>, 16>;
var<workgroup> rU: array<f32, 64>;
var<workgroup> rLog: array<f32, 64>;
var<workgroup> rInv: array<f32, 64>;
var<workgroup> rFac: array<f32, 64>;
var<workgroup> tU: array<f32, 64>;
var<workgroup> tLog: array<f32, 64>;
var<workgroup> tInv: array<f32, 64>;
var<workgroup> rDen: array<f32, 256>;

`;
}
function sgmatTileStart(g) {
  const { c, spec, bX, J, I2, persist, interOn, exp, fw, hoist, interDecl, hoistedLoads } = g;
  return `${SGMAT_ENTRY}
${persist ? `  let chunk = rest % P.NC;
  let bnh = rest / P.NC;
  for (var rTile = 0u; rTile < P.nRowTiles; rTile++) {
  workgroupBarrier(); // the previous row tile's epilogue is done with rFac and the scratch` : `  let rTile = rest % P.nRowTiles;
  let rest2 = rest / P.nRowTiles;
  let chunk = rest2 % P.NC;
  let bnh = rest2 / P.NC;`}
  let r0 = rTile * 64u;
  let seq0 = bnh * P.S + chunk * P.L;          // first token of the chunk
  let rg = sg / 4u;                            // row blocks 2rg, 2rg + 1 (32 rows)
  let cg = sg % 4u;                            // column group (QK: token block)
  let rb0 = 2u * rg;
  let rb1 = rb0 + 1u;
  let xw = xTile * ${bX}u;                     // the workgroup's first output column
  let noInterMax = ${c.inter ? "false" : "true"};
  let mPrev = ${exp && c.inter ? "chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk]" : "0.0"};
  let mNext = ${exp && c.inter ? "chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk + 1u]" : "0.0"};
  let gChunk = chunkv[bnh * P.NC + chunk];
  // the fw normaliser's inter part: 4 invocations per row
  let slRow = lid / 4u;
  // staging of a 64 \xD7 64 slice: rows sRow and sRow + 32, 8 elements from sY8
  let sRow = lid / 8u;
  let sY8 = (lid % 8u) * 8u;

${interOn && hoist ? hoistedLoads : ""}
${fw && exp ? "  var mRow = 0.0; // fw: the row max state, for the epilogue (loaded with the row vectors)\n" : ""}  if (lid < 64u) {
    let tok = seq0 + r0 + lid;
    rU[lid] = gates[P.T + tok];
    rLog[lid] = ${spec.rowLogExpr};
    rInv[lid] = ${spec.invNExpr};${fw && exp ? "\n    mRow = gates[tok];" : ""}
  }
  workgroupBarrier();
${interOn && !hoist ? interDecl : ""}
${I2.flatMap((i) => J.map((j) => `  var a${i}_${j} = ${RESULT}();`)).join("\n")}
  var den = 0.0; // fw: partial row sum of row lid / 4
`;
}
function sgmatInterTerm(g) {
  const {
    spec,
    interOn,
    steps: steps2,
    subs,
    fw,
    products,
    sv,
    svSrc,
    sliceStore,
    wi0n,
    wi1n,
    hoist,
    stateDecl,
    firstLoads
  } = g;
  return `${interOn ? `
  // inter-chunk term: factor_r \xB7 \u03A3_y I[r, y] \xB7 State[y, x]; I pre-scaled and staged 64 deep
  // (P half), the state 32 rows at a time (Q half), both one slice ahead in registers
  if (interOn) {
  if (lid < 64u) { rFac[lid] = ${spec.interScaleExpr("lid")}; }
${hoist ? "" : `${stateDecl}
${firstLoads(true)}`}
  for (var y0 = 0u; y0 < P.DI; y0 += 64u) {
${steps2.map(
    (k) => `    // rows y0 + ${R2 * k} \u2026 of the state
    workgroupBarrier();
${k === 0 ? `    {
      let sc0 = rFac[sRow]; let sc1 = rFac[sRow + 32u];
      ${sliceStore(0, "wi0", "wi1", ["sc0", "sc1"])}
    }
` : ""}${sv.store}
    workgroupBarrier();
${k === 0 ? `    if (y0 + 64u < P.DI) {
      wi0 = ${wi0n};
      wi1 = ${wi1n};
    }
` : ""}    if (y0 + ${R2 * k + R2}u < P.DI) {
${sv.load(svSrc(`y0 + ${R2 * k + R2}u`))}
    }
${subs.map(
      (h) => `    {
${products(
        (i) => `&sB[rb${i}], ${R2 * k + 16 * h}u, false, ${BS2}u`,
        (j) => sv.right(j, h)
      )}
    }`
    ).join("\n")}`
  ).join("\n")}
  }
${fw ? "  den += rFac[slRow] * qn;" : ""}
  }` : ""}
`;
}
function sgmatCausalTiles(g) {
  const {
    spec,
    K4,
    steps: steps2,
    subs,
    fw,
    masked,
    products,
    bv,
    bvSrc,
    sliceStore,
    wp0,
    wp1,
    wq0,
    wq1,
    wp0n,
    wp1n,
    wq0n,
    wq1n
  } = g;
  return `  // intra-chunk term over the causal side's 64-token tiles
  ${spec.lower ? "for (var t0 = 0u; t0 <= r0; t0 += 64u) {" : "for (var t0 = r0; t0 < P.L; t0 += 64u) {"}
    workgroupBarrier();
    // scores A = P\xB7Q\u1D40: this subgroup's blocks (rb0, cg) and (rb1, cg), over 64-deep slices
    // staged one ahead in registers; the first slices are loaded before the token vectors, and
    // those by every invocation (stored by the first 64), so that all latencies overlap
    var wp0 = ${wp0};
    var wp1 = ${wp1};
    var wq0 = ${wq0};
    var wq1 = ${wq1};
    {
      let tok = seq0 + t0 + lid % 64u;
      let u = gates[P.T + tok];
      let lg = ${spec.rowLogExpr};
      let inv = ${spec.invNExpr};
      if (lid < 64u) {
        tU[lid] = u;
        tLog[lid] = lg;
        tInv[lid] = inv;
      }
    }
    let diag = t0 == r0;
    let skip0 = ${masked("cg", "rb0")};
    let skip1 = ${masked("cg", "rb1")};
    var s0 = ${RESULT}();
    var s1 = ${RESULT}();
    for (var y0 = 0u; y0 < P.DY; y0 += 64u) {
      workgroupBarrier();
      ${sliceStore(0, "wp0", "wp1")}
      ${sliceStore(4, "wq0", "wq1")}
      workgroupBarrier();
      if (y0 + 64u < P.DY) {
        wp0 = ${wp0n};
        wp1 = ${wp1n};
        wq0 = ${wq0n};
        wq1 = ${wq1n};
      }
${K4.map(
    (k) => `      {
        // right (y, t) = Q[t][y]: column-major
        let r = ${mLoad(RIGHT, `&sB[4u + cg], ${16 * k}u, true, ${BS2}u`)};
        if (!skip0) { s0 = ${mMma(`${mLoad(LEFT, `&sB[rb0], ${16 * k}u, false, ${BS2}u`)}`, `r`, `s0`)}; }
        if (!skip1) { s1 = ${mMma(`${mLoad(LEFT, `&sB[rb1], ${16 * k}u, false, ${BS2}u`)}`, `r`, `s1`)}; }
      }`
  ).join("\n")}
    }
    // the first B slice of this tile, loaded while the scores are gated
    ${bv.decl}
${bv.load(bvSrc("0u"))}
    ${mStore(`&sS[rb0 * 4u + cg]`, `0u`, `s0`, `false`, `${SS_STRIDE}u`)};
    ${mStore(`&sS[rb1 * 4u + cg]`, `0u`, `s1`, `false`, `${SS_STRIDE}u`)};
    workgroupBarrier();
    // gate and causal mask, f32 (4 invocations per row, 16 tokens each); the gated scores go to
    // the P half
    {
      let rr = lid / 4u;
      let r = r0 + rr;
      let tb = lid % 4u;
      for (var c = 0u; c < 16u; c++) {
        let tt = tb * 16u + c;
        let t = t0 + tt;
        var val = 0.0;
        if (${spec.lower ? "t <= r" : "t >= r"}) { val = sS[(rr / 16u) * 4u + tb][(rr % 16u) * ${SS_STRIDE}u + c] * ${spec.gateExpr("rr", "tt")}; }
        ${fw ? "den += val;" : ""}
        sB[rr / 16u][(rr % 16u) * ${BS2}u + tt] = f16(val);
      }
    }
    // Out += (A \u2299 G) \xB7 B, B staged 16 rows at a time (Q half), one slice ahead in registers
    workgroupBarrier();
${steps2.map(
    (k) => `    {
${k > 0 ? "      workgroupBarrier();\n" : ""}${bv.store}
      workgroupBarrier();
${k < steps2.length - 1 ? bv.load(bvSrc(`${R2 * (k + 1)}u`)) : ""}
${subs.map((h) => {
      const tb = R2 / 16 * k + h;
      return `      {
        let skipA = ${masked(`${tb}u`, "rb0")};
        let skipB = ${masked(`${tb}u`, "rb1")};
        if (!(skipA && skipB)) {
${products(
        (i) => `&sB[rb${i}], ${16 * tb}u, false, ${BS2}u`,
        (j) => bv.right(j, h),
        (i) => i === 0 ? "skipA" : "skipB"
      )}
        }
      }`;
    }).join("\n")}
    }`
  ).join("\n")}
  }
`;
}
function sgmatRowFactors(g) {
  const { dots, dotLoads, exp, fw, normalised } = g;
  return `${dots ? `  // the row-dot operand, loaded before the output factor's barrier (H100 S 8192: dK 2.73 \u2192 2.66 ms
  // against loading it in the epilogue)
${dotLoads}` : ""}
  // per-row output factor
${fw ? `  rDen[lid] = den;
  workgroupBarrier();
  if (lid < 64u) {
    let r = r0 + lid;
    let d = rDen[4u * lid] + rDen[4u * lid + 1u] + rDen[4u * lid + 2u] + rDen[4u * lid + 3u];
    ${exp ? "let mC = mRow - rLog[lid];" : "let mC = 0.0;"}
    let nO = ${normalised ? `max(abs(d), ${exp ? "exp(-mC)" : "1.0"})` : "1.0"};
    rFac[lid] = ${normalised ? "1.0 / (nO + P.eps)" : "1.0"};
    if (xTile == 0u) {
      nm[seq0 + r] = nO;
      nm[P.T + seq0 + r] = mC;
    }
  }` : `  workgroupBarrier();
  if (lid < 64u) { rFac[lid] = P.outScale; }`}
`;
}
function sgmatEpilogue(g) {
  const { spec, dots, colsPerSg, J, persist } = g;
  return `  // epilogue: two accumulators at a time \u2192 the subgroup's two 16\xD716 f32 scratch blocks \u2192 scaled
  // f16, 8 per 16-byte store (2 lanes per row)
  let eRow = lane / 2u;
  let eCol = (lane % 2u) * 8u;
  let xc = cg * ${colsPerSg}u;                 // the subgroup's first column within the tile
${dots ? "  var rowDot0 = 0.0; // rows rb0\xB716 + eRow, rb1\xB716 + eRow: this lane's part of their dots\n  var rowDot1 = 0.0;\n" : ""}${scratchEpilogue(
    J.length,
    "sS",
    (i, j, h) => `  {
    let fac = rFac[rb${i} * 16u + eRow];
    let e0 = eRow * 16u + eCol;
    let o = (seq0 + r0 + rb${i} * 16u + eRow) * P.DX + xw + xc + ${16 * j}u + eCol;
${range(4).map(
      (p) => `    let v${p} = vec2<f16>(f16(fac * sS[sg * 2u + ${h}u][e0 + ${2 * p}u]), f16(fac * sS[sg * 2u + ${h}u][e0 + ${2 * p + 1}u]));`
    ).join("\n")}
    ${spec.outName}[o / 8u] = vec4<u32>(bitcast<u32>(v0), bitcast<u32>(v1), bitcast<u32>(v2), bitcast<u32>(v3));
${dots ? `    {
      let w = dw${i}_${j};
      rowDot${i} += dot(vec4<f32>(vec2<f32>(v0), vec2<f32>(v1)), vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(w.x)), vec2<f32>(bitcast<vec2<f16>>(w.y))))
        + dot(vec4<f32>(vec2<f32>(v2), vec2<f32>(v3)), vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(w.z)), vec2<f32>(bitcast<vec2<f16>>(w.w))));
    }` : ""}
  }`
  )}
${dots ? `  // the row dots: the two lanes of a row, then the 4 column groups through rDen (unused here)
  rowDot0 += subgroupShuffleXor(rowDot0, 1u);
  rowDot1 += subgroupShuffleXor(rowDot1, 1u);
  if (eCol == 0u) {
    rDen[(rb0 * 16u + eRow) * 4u + cg] = rowDot0;
    rDen[(rb1 * 16u + eRow) * 4u + cg] = rowDot1;
  }
  workgroupBarrier();
  if (lid < 64u) { dots[seq0 + r0 + lid] = rDen[4u * lid] + rDen[4u * lid + 1u] + rDen[4u * lid + 2u] + rDen[4u * lid + 3u]; }` : ""}
${persist ? "  }" : ""}
}
`;
}

// packages/kernels-webgpu/src/chunkwise/kernels/state_carry.ts
var carryParams = defineParams({
  NC: "u32",
  DYX: "u32",
  // DHQK · DHHV
  DY: "u32",
  // DHQK
  E: "u32",
  // 32-bit words per head and slot: DYX / 2 (+ DY for the forward's n)
  count: "u32",
  // invocations: NB · E / 4
  NB: "u32",
  hasInit: "u32"
});
var CARRY_WG = 256;
function states16Size(NB, NC, DHQK, DHHV, direction) {
  return NB * (NC + 1) * (DHQK * DHHV + (direction === "fw" ? 2 * DHQK : 0));
}
function carryLaunch(NB, NC, DHQK, DHHV, direction, hasInit) {
  if (DHQK % 4 !== 0) throw new Error(`state carry: DHQK = ${DHQK} is not a multiple of 4`);
  const DYX = DHQK * DHHV;
  const E = DYX / 2 + (direction === "fw" ? DHQK : 0);
  const invocations = NB * E / 4;
  return {
    params: carryParams.pack({ NC, DYX, DY: DHQK, E, count: invocations, NB, hasInit: hasInit ? 1 : 0 }),
    invocations
  };
}
function carryKey(direction, variant) {
  return `state-carry:${direction}:${variant}`;
}
var range4 = [0, 1, 2, 3];
var WORD_HELPERS = `// 16 bytes of a slot: eight f16 of C (words w \u2026 w+3 < DYX/2) or four n values (f32 bits)
fn unpackWords(x: vec4<u32>, isC: bool) -> array<vec4<f32>, 2> {
  if (isC) {
    let a = vec2<f32>(bitcast<vec2<f16>>(x.x));
    let b = vec2<f32>(bitcast<vec2<f16>>(x.y));
    let c = vec2<f32>(bitcast<vec2<f16>>(x.z));
    let d = vec2<f32>(bitcast<vec2<f16>>(x.w));
    return array<vec4<f32>, 2>(vec4<f32>(a, b), vec4<f32>(c, d));
  }
  return array<vec4<f32>, 2>(bitcast<vec4<f32>>(x), vec4<f32>(0.0));
}

fn packWords(c0: vec4<f32>, c1: vec4<f32>, isC: bool) -> vec4<u32> {
  if (isC) {
    let lo = clamp(c0, vec4<f32>(-65504.0), vec4<f32>(65504.0));
    let hi = clamp(c1, vec4<f32>(-65504.0), vec4<f32>(65504.0));
    return vec4<u32>(bitcast<u32>(vec2<f16>(lo.xy)), bitcast<u32>(vec2<f16>(lo.zw)),
                     bitcast<u32>(vec2<f16>(hi.xy)), bitcast<u32>(vec2<f16>(hi.zw)));
  }
  return bitcast<vec4<u32>>(c0);
}

`;
var ELEMENTWISE_ENTRY = `@compute @workgroup_size(${CARRY_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${CARRY_WG}u + lid;
  if (idx >= P.count) { return; }
  let E4 = P.E / 4u;
  let bnh = idx / E4;
  let w = (idx % E4) * 4u;
  let half = P.DYX / 2u;
  let isC = w < half;
  let mBase = bnh * (P.NC + 1u);
  let at = select(
    (P.NB * (P.NC + 1u) * half + w - half) / 4u,  // n section (+ slot \xB7 DY / 4)
    w / 4u,                                       // C section (+ slot \xB7 half / 4)
    isC);
  let perSlot = select(P.DY / 4u, half / 4u, isC);`;
var STORE_LAST = `  if (isC) {
    let o = bnh * P.DYX + 2u * w;
    for (var e = 0u; e < 4u; e++) { last[o + e] = c0[e]; last[o + 4u + e] = c1[e]; }
  } else {
    let o = P.NB * P.DYX + bnh * P.DY + w - half;
    for (var e = 0u; e < 4u; e++) { last[o + e] = c0[e]; }
  }`;
function carryWgsl(direction, variant) {
  const fw = direction === "fw";
  const exp = variant === "exp";
  const gamma = (k) => exp ? `exp(chunkv[bnh * P.NC + ${k}] + chunkv[2u * P.NB * P.NC + mBase + ${k}] - chunkv[2u * P.NB * P.NC + mBase + ${k} + 1u])` : `exp(chunkv[bnh * P.NC + ${k}])`;
  const slot = (k) => fw ? `mBase + ${k} + 1u` : `mBase + ${k}`;
  const chunk = (j) => fw ? j : `(P.NC - 1u - ${j})`;
  const step = (j, x) => `{
      let gm = ${gamma(chunk(j))};
      let v = unpackWords(${x}, isC);
      c0 = fma(vec4<f32>(gm), c0, v[0]);
      c1 = fma(vec4<f32>(gm), c1, v[1]);
      states16[at(${slot(chunk(j))})] = packWords(c0, c1, isC);
    }`;
  return (
    /* wgsl */
    `enable f16;
${carryParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> chunkv: array<f32>;
@group(0) @binding(2) var<storage, read> init: array<f32>;
@group(0) @binding(3) var<storage, read> nInit: array<f32>;
@group(0) @binding(4) var<storage, read_write> last: array<f32>;
@group(0) @binding(5) var<storage, read_write> states16: array<vec4<u32>>;

${WORD_HELPERS}
${ELEMENTWISE_ENTRY}
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  if (P.hasInit != 0u) {
    if (isC) {
      let b0 = bnh * P.DYX + 2u * w;
      c0 = vec4<f32>(init[b0], init[b0 + 1u], init[b0 + 2u], init[b0 + 3u]);
      c1 = vec4<f32>(init[b0 + 4u], init[b0 + 5u], init[b0 + 6u], init[b0 + 7u]);
    } else {
      let b0 = bnh * P.DY + w - half;
      c0 = vec4<f32>(nInit[b0], nInit[b0 + 1u], nInit[b0 + 2u], nInit[b0 + 3u]);
    }
  }
  states16[at + (${fw ? "mBase" : "mBase + P.NC"}) * perSlot] = packWords(c0, c1, isC);
  var j = 0u;
  for (; j + 4u <= P.NC; j += 4u) {
${range4.map((u) => `    let x${u} = states16[at + (${slot(chunk(`(j + ${u}u)`))}) * perSlot];`).join("\n")}
${range4.map((u) => `    ${step(`(j + ${u}u)`, `x${u}`).replace(/at\((.*)\)\] = packWords/, "at + ($1) * perSlot] = packWords")}`).join("\n")}
  }
  for (; j < P.NC; j++) {
    let x = states16[at + (${slot(chunk("j"))}) * perSlot];
    ${step("j", "x").replace(/at\((.*)\)\] = packWords/, "at + ($1) * perSlot] = packWords")}
  }
  // the final state in f32: C (all heads) then n (all heads); bw: dC_0
${STORE_LAST}
}
`
  );
}
var boundsParams = defineParams({
  NC: "u32",
  DYX: "u32",
  DY: "u32",
  E: "u32",
  count: "u32",
  NB: "u32",
  segs: "u32",
  // segments per head (> 1)
  writeLast: "u32"
});
function boundsLaunch(NB, NC, DHQK, DHHV, direction, segs, writeLast) {
  const DYX = DHQK * DHHV;
  const E = DYX / 2 + (direction === "fw" ? DHQK : 0);
  const invocations = NB * E / 4;
  return {
    params: boundsParams.pack({
      NC,
      DYX,
      DY: DHQK,
      E,
      count: invocations,
      NB,
      segs,
      writeLast: writeLast ? 1 : 0
    }),
    invocations
  };
}
function boundsKey(direction) {
  return `state-bounds:${direction}`;
}
function boundsWgsl(direction) {
  const fw = direction === "fw";
  const step = (j, x, g) => `{
      let v = unpackWords(${x}, isC);
      c0 = fma(vec4<f32>(${g}), b0, v[0]);
      c1 = fma(vec4<f32>(${g}), b1, v[1]);
      states16[at + (mBase + ${j}) * perSlot] = packWords(c0, c1, isC);
      if (${j} % W == 0u) { b0 = c0; b1 = c1; } // the next segment's boundary
    }`;
  return (
    /* wgsl */
    `enable f16;
${boundsParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> gammas: array<f32>;
@group(0) @binding(2) var<storage, read_write> last: array<f32>;
@group(0) @binding(3) var<storage, read_write> states16: array<vec4<u32>>;

${WORD_HELPERS}
${ELEMENTWISE_ENTRY}
  let W = P.NC / P.segs;
  // B: the true state at the current segment's boundary (first: the exact segment's far end)
  var v = unpackWords(states16[at + (mBase + ${fw ? "W" : "(P.segs - 1u) * W"}) * perSlot], isC);
  var b0 = v[0];
  var b1 = v[1];
  var c0 = b0;
  var c1 = b1;
  let n = (P.segs - 1u) * W;
  var t = 0u;
  // 4 slots per iteration with their loads issued first (a load cannot move above the previous
  // slot's store by itself: same buffer), then the remainder one by one
  for (; t + 4u <= n; t += 4u) {
${range4.map(
      (u) => `    let j${u} = ${fw ? `W + 1u + t + ${u}u` : `n - 1u - t - ${u}u`};
    let x${u} = states16[at + (mBase + j${u}) * perSlot];
    let g${u} = gammas[mBase + j${u}];`
    ).join("\n")}
${range4.map((u) => `    ${step(`j${u}`, `x${u}`, `g${u}`)}`).join("\n")}
  }
  for (; t < n; t++) {
    let j = ${fw ? "W + 1u + t" : "n - 1u - t"};
    ${step("j", "states16[at + (mBase + j) * perSlot]", "gammas[mBase + j]")}
  }
  if (P.writeLast != 0u) {
${STORE_LAST}
  }
}
`
  );
}

// packages/kernels-webgpu/src/chunkwise/tfla.ts
function releaseGroupSaved(s) {
  for (const t of [s.gates.gates, s.gates.chunkv, s.states, s.nm, s.states16, s.last]) t?.release();
}
function releaseSaved(s) {
  for (const g of s.groups) releaseGroupSaved(g.data);
}
var READ = "read";
var RW = "rw";
function kappa(d) {
  return 1 / Math.sqrt(d.DHQK);
}
function encodeGates(ctx2, batch, d, i, f, mInitial, o) {
  const BNH = d.B * d.NH;
  const L = o.chunkSize;
  const NC = d.S / L;
  const T2 = BNH * d.S;
  const gates = ctx2.empty([3 * T2]);
  const chunkv = ctx2.empty([2 * BNH * NC + BNH * (NC + 1)]);
  const maxWg = ctx2.limits.maxComputeWorkgroupsPerDimension;
  const count = BNH * NC;
  const packed = { T: T2, NB: BNH };
  const scanned = o.inter;
  batch.dispatch(
    ctx2.pipeline(
      `gates:vectors:${o.variant}:${scanned ? "scan" : "serial"}`,
      () => scanned ? gateVectorsWgsl(o.variant) : gateVectorsSerialWgsl(o.variant),
      ["uniform", READ, READ, RW, RW]
    ),
    [i, f, gates, chunkv],
    gateParams.pack({ S: d.S, L, NC, D: 0, count, hasInit: 0, useCorr: 0, ...packed }),
    splitWorkgroups(scanned ? count : cdiv(count, GATE_WG), maxWg),
    "gate vectors"
  );
  if (o.variant === "exp") {
    batch.dispatch(
      ctx2.pipeline("gates:maxStates", maxStatesWgsl, ["uniform", READ, RW]),
      [mInitial ?? batch.scratch([1]), chunkv],
      gateParams.pack({ S: d.S, L, NC, D: 0, count: BNH, hasInit: mInitial ? 1 : 0, useCorr: 0, ...packed }),
      splitWorkgroups(BNH, maxWg),
      "max states"
    );
  }
  return { gates, chunkv };
}
function roleDims(role, d) {
  switch (role) {
    case "fw":
      return { DY: d.DHQK, DX: d.DHHV, DI: d.DHQK };
    case "dq":
      return { DY: d.DHHV, DX: d.DHQK, DI: d.DHHV };
    case "dk":
      return { DY: d.DHHV, DX: d.DHQK, DI: d.DHHV };
    case "dv":
      return { DY: d.DHQK, DX: d.DHHV, DI: d.DHQK };
  }
}
function encodeIntra(ctx2, batch, role, d, inputs, outputs, o, useSgmat, zeroState, rowDots) {
  const L = o.chunkSize;
  const NC = d.S / L;
  const rd = roleDims(role, d);
  const layout = [
    "uniform",
    ...inputs.map(() => READ),
    ...outputs.map(() => RW),
    ...rowDots ? [READ, RW] : []
  ];
  const { tiles, walkRows } = intraPlan(ctx2, role, d, o, useSgmat);
  const bX = tiles.bX;
  const cfg = { role, variant: o.variant, normalize: o.normalize, inter: o.inter, dtype: o.dtype, tiles };
  const nRowTiles = cdiv(L, tiles.bR);
  const mcfg = { ...cfg, bX, walkRows, rowDots: !!rowDots };
  const pipeline = useSgmat ? ctx2.pipeline(sgmatKey(mcfg), () => sgmatWgsl(mcfg), layout) : ctx2.pipeline(intraKey(cfg), () => intraWgsl(cfg), layout);
  const nXTiles = cdiv(rd.DX, tiles.bX);
  const count = d.B * d.NH * NC * (walkRows ? 1 : nRowTiles) * nXTiles;
  const k = kappa(d);
  batch.dispatch(
    pipeline,
    [...inputs, ...outputs, ...rowDots ? [rowDots.with, rowDots.out] : []],
    intraParams.pack({
      S: d.S,
      L,
      NC,
      ...rd,
      nRowTiles,
      nXTiles,
      count,
      zeroSlot: zeroState ? role === "dk" || role === "dv" ? NC : 0 : NO_ZERO_SLOT,
      T: d.B * d.NH * d.S,
      NB: d.B * d.NH,
      gateScale: role === "dq" ? 1 : k,
      outScale: role === "dq" ? k : 1,
      eps: o.eps
    }),
    splitWorkgroups(count, ctx2.limits.maxComputeWorkgroupsPerDimension),
    `intra ${role}`
  );
}
function intraPlan(ctx2, role, d, o, useSgmat) {
  const rd = roleDims(role, d);
  if (useSgmat) {
    const bX = matrixTileX(rd.DX, o);
    const nRowTiles = cdiv(o.chunkSize, SGMAT_ROWS);
    return {
      tiles: { bR: SGMAT_ROWS, bT: SGMAT_ROWS, bX, bY: 16 },
      walkRows: sgmatWalksRowTiles(role, o.inter, nRowTiles)
    };
  }
  const tiles = o.tiles?.intra ?? chooseIntraTiles(
    o.chunkSize,
    rd.DX,
    ctx2.limits,
    o.wholeChunkTiles,
    isSoftwareAdapter(ctx2.adapterInfo),
    role
  );
  return { tiles, walkRows: false };
}
function matrixTileX(DX, o) {
  const x = o.tiles?.matrixX;
  return x && x % 64 === 0 && DX % x === 0 ? x : sgmatTileX(DX);
}
function matrixPathDecision(ctx2, d, o) {
  const no = (reason) => ({ use: false, reason });
  if (o.dtype !== "f16") return no("the call computes in f32 (the matrix units take f16 operands)");
  if (o.subgroupMatrix === false) return no("subgroupMatrix: false was passed");
  const unsupported = sgmatUnsupportedReason(ctx2.features);
  if (unsupported) return no(unsupported);
  const probe = ctx2.matrixPathOf?.features === ctx2.features ? ctx2.matrixPath : null;
  if (probe && (probe.state === "failed" || probe.state === "unsupported"))
    return no(`the matrix-path probe failed on this device: ${probe.reason}`);
  if (o.tiles?.intra)
    return no("a tiles.intra override was passed (register tiles; the matrix units use their own)");
  if (o.tiles?.scan) return no("a tiles.scan override was passed (the register-tiled scan)");
  const ws = ctx2.limits.maxComputeWorkgroupStorageSize;
  if (o.inter && !chunkProductsFit(o.chunkSize, d.DHQK, d.DHHV, ws))
    return no(
      `the matrix-unit scan needs chunk and DHQK multiples of 64, DHHV a multiple of 64 and ${chunkProductWorkgroupBytes()} bytes of workgroup memory (chunk ${o.chunkSize}, DHQK ${d.DHQK}, DHHV ${d.DHHV}, ${ws} bytes)`
    );
  for (const r2 of ["fw", "dq", "dk", "dv"]) {
    if (!sgmatIntraFits(o.chunkSize, roleDims(r2, d), o.inter, ws))
      return no(
        `the matrix-unit intra kernels need the chunk (here ${o.chunkSize}) and head dimensions (DHQK ${d.DHQK}, DHHV ${d.DHHV}) to be multiples of 64, and ${sgmatWorkgroupBytes()} bytes of workgroup memory (${ws})`
      );
  }
  return {
    use: true,
    reason: probe?.state === "ready" ? "f16 on an adapter with f16\u2192f32 16\xD716\xD716 subgroup matrices and 32-lane subgroups; the probe compiled; the shape fits" : "f16 on an adapter with f16\u2192f32 16\xD716\xD716 subgroup matrices and 32-lane subgroups; the shape fits (the first f16 call probes the pipelines)"
  };
}
function useMatrixPath(ctx2, d, o) {
  return matrixPathDecision(ctx2, d, o).use;
}
function encodeScan(ctx2, batch, direction, d, s, o) {
  const L = o.chunkSize;
  const NC = d.S / L;
  const BNH = d.B * d.NH;
  const dummy = s.init && s.nInit ? null : batch.scratch([256]);
  const init = s.init ?? dummy;
  const nInit = s.nInit ?? dummy;
  const shared = {
    S: d.S,
    L,
    NC,
    DY: d.DHQK,
    DX: d.DHHV,
    T: BNH * d.S,
    NB: BNH,
    scale: kappa(d),
    eps: o.eps,
    writeLast: 0,
    segs: 1
  };
  if (s.out16) {
    const nYTiles2 = d.DHQK / 64;
    const layout2 = carryingScan(BNH, d.DHQK, d.DHHV, NC, o.tuning ?? DEFAULT_KERNEL_TUNING);
    if (layout2) {
      const { bX: fX, segs } = layout2;
      const cfg3 = { direction, variant: o.variant, normalize: o.normalize, bX: fX, carry: true };
      const count3 = BNH * nYTiles2 * (d.DHHV / fX) * segs;
      const inputs2 = [
        s.a,
        s.b,
        s.gates.gates,
        s.gates.chunkv,
        ...direction === "bw" ? [s.nm, init] : [init, nInit]
      ];
      const gammas = segs > 1 ? batch.scratch([BNH * (NC + 1)]) : null;
      batch.dispatch(
        ctx2.pipeline(chunkProductKey(cfg3), () => chunkProductWgsl(cfg3), [
          "uniform",
          ...inputs2.map(() => READ),
          RW,
          RW,
          RW
        ]),
        [
          ...inputs2,
          // (a 16×16 f32 block at least: the kernel stores the last state with matrix stores)
          s.last && !gammas ? s.last : batch.scratch([256]),
          gammas ?? batch.scratch([1]),
          s.out16
        ],
        scanParams.pack({
          ...shared,
          nYTiles: nYTiles2,
          nXTiles: d.DHHV / fX,
          hasInit: s.init ? 1 : 0,
          writeLast: s.last && !gammas ? 1 : 0,
          segs,
          count: count3
        }),
        splitWorkgroups(count3, ctx2.limits.maxComputeWorkgroupsPerDimension),
        `chunk products ${direction}`
      );
      if (gammas) {
        const bounds = boundsLaunch(BNH, NC, d.DHQK, d.DHHV, direction, segs, !!s.last);
        batch.dispatch(
          ctx2.pipeline(boundsKey(direction), () => boundsWgsl(direction), ["uniform", READ, RW, RW]),
          [gammas, s.last ?? batch.scratch([1]), s.out16],
          bounds.params,
          splitWorkgroups(cdiv(bounds.invocations, CARRY_WG), ctx2.limits.maxComputeWorkgroupsPerDimension),
          `segment bounds ${direction}`
        );
      }
      return;
    }
    const bX = matrixTileX(d.DHHV, o);
    const walk = CHUNKS_PER_PRODUCT_WORKGROUP;
    const cfg2 = { direction, variant: o.variant, normalize: o.normalize, bX, chunksPerWorkgroup: walk };
    const inputs = [s.a, s.b, s.gates.gates, s.gates.chunkv, ...direction === "bw" ? [s.nm] : []];
    const nXTiles2 = d.DHHV / bX;
    const count2 = BNH * Math.ceil(NC / walk) * nYTiles2 * nXTiles2;
    batch.dispatch(
      ctx2.pipeline(chunkProductKey(cfg2), () => chunkProductWgsl(cfg2), [
        "uniform",
        ...inputs.map(() => READ),
        RW
      ]),
      [...inputs, s.out16],
      scanParams.pack({ ...shared, nYTiles: nYTiles2, nXTiles: nXTiles2, hasInit: 0, count: count2 }),
      splitWorkgroups(count2, ctx2.limits.maxComputeWorkgroupsPerDimension),
      `chunk products ${direction}`
    );
    const carry = carryLaunch(BNH, NC, d.DHQK, d.DHHV, direction, !!s.init);
    batch.dispatch(
      ctx2.pipeline(carryKey(direction, o.variant), () => carryWgsl(direction, o.variant), [
        "uniform",
        READ,
        READ,
        READ,
        RW,
        RW
      ]),
      [
        s.gates.chunkv,
        init,
        nInit,
        s.last ?? batch.scratch([BNH * d.DHQK * (d.DHHV + (direction === "fw" ? 1 : 0))]),
        s.out16
      ],
      carry.params,
      splitWorkgroups(cdiv(carry.invocations, CARRY_WG), ctx2.limits.maxComputeWorkgroupsPerDimension),
      `state carry ${direction}`
    );
    return;
  }
  const bS = o.tiles?.scan ?? chooseScanTile(d.DHQK, d.DHHV, ctx2.limits, isSoftwareAdapter(ctx2.adapterInfo));
  const cfg = { direction, variant: o.variant, normalize: o.normalize, dtype: o.dtype, bS };
  const buffers = direction === "fw" ? [s.a, s.b, s.gates.gates, s.gates.chunkv, init, nInit, s.out] : [s.a, s.b, s.gates.gates, s.gates.chunkv, s.nm, init, s.out];
  const layout = ["uniform", ...Array(buffers.length - 1).fill(READ), RW];
  const pipeline = ctx2.pipeline(scanKey(cfg), () => scanWgsl(cfg), layout);
  const nYTiles = cdiv(d.DHQK, bS);
  const nXTiles = cdiv(d.DHHV, bS);
  const count = BNH * nYTiles * nXTiles;
  batch.dispatch(
    pipeline,
    buffers,
    scanParams.pack({ ...shared, nYTiles, nXTiles, hasInit: s.init ? 1 : 0, count }),
    splitWorkgroups(count, ctx2.limits.maxComputeWorkgroupsPerDimension),
    `state scan ${direction}`
  );
}
function encodeTflaForward(ctx2, batch, d, t, o, out2 = {}) {
  const L = o.chunkSize;
  const NC = d.S / L;
  const gates = encodeGates(ctx2, batch, d, t.i, t.f, t.cInitial ? t.mInitial : void 0, o);
  const BNH = d.B * d.NH;
  const matrix = useMatrixPath(ctx2, d, o);
  let states = null;
  let states16 = null;
  let last = null;
  if (o.inter) {
    if (matrix) {
      states16 = ctx2.empty([states16Size(BNH, NC, d.DHQK, d.DHHV, "fw")], "f16");
      if (out2.needLast !== false) last = ctx2.empty([BNH * d.DHQK * (d.DHHV + 1)]);
    } else states = ctx2.empty([BNH * (NC + 1) * d.DHQK * (d.DHHV + 1)]);
    encodeScan(
      ctx2,
      batch,
      "fw",
      d,
      {
        a: t.k,
        b: t.v,
        gates,
        init: t.cInitial,
        nInit: t.nInitial,
        out: states ?? void 0,
        out16: states16 ?? void 0,
        last: last ?? void 0
      },
      o
    );
  }
  const h = out2.h ?? ctx2.empty([d.B, d.NH, d.S, d.DHHV], o.dtype);
  const nm = ctx2.empty([2 * BNH * d.S]);
  const inputs = [t.q, t.k, t.v, gates.gates, gates.chunkv];
  if (o.inter) inputs.push(matrix ? states16 : states);
  encodeIntra(ctx2, batch, "fw", d, inputs, [h, nm], o, matrix, !t.cInitial);
  return { h, saved: { gates, states, nm, states16, last, zeroInitial: !t.cInitial } };
}
function encodeLastStates(ctx2, batch, d, saved, o, out2 = {}) {
  const NC = d.S / o.chunkSize;
  const BNH = d.B * d.NH;
  const c = out2.c ?? ctx2.empty([d.B, d.NH, d.DHQK, d.DHHV]);
  const n = out2.n ?? ctx2.empty([d.B, d.NH, d.DHQK]);
  const m = out2.m ?? ctx2.empty([d.B, d.NH, 1]);
  const cs = d.DHQK * d.DHHV;
  const nBase = BNH * (NC + 1) * cs;
  const mBase = 2 * BNH * NC;
  if (saved.last) {
    encodeCopyBlocks(ctx2, batch, saved.last, c, 1, BNH * cs, 0, 0);
    encodeCopyBlocks(ctx2, batch, saved.last, n, 1, BNH * d.DHQK, 0, BNH * cs);
  } else {
    encodeCopyBlocks(ctx2, batch, saved.states, c, BNH, cs, (NC + 1) * cs, NC * cs);
    encodeCopyBlocks(ctx2, batch, saved.states, n, BNH, d.DHQK, (NC + 1) * d.DHQK, nBase + NC * d.DHQK);
  }
  encodeCopyBlocks(ctx2, batch, saved.gates.chunkv, m, BNH, 1, NC + 1, mBase + NC);
  return { c, n, m };
}
function encodeTflaBackward(ctx2, batch, d, t, saved, o, out2 = {}) {
  const L = o.chunkSize;
  const NC = d.S / L;
  const BNH = d.B * d.NH;
  const { gates, nm } = saved;
  const matrix = o.inter ? !!saved.states16 : useMatrixPath(ctx2, d, o);
  let dcStates = null;
  let dcStates16 = null;
  let dcFirst = null;
  if (o.inter) {
    if (matrix) {
      dcStates16 = batch.scratch([states16Size(BNH, NC, d.DHQK, d.DHHV, "bw")], "f16");
      if (t.cInitial) dcFirst = batch.scratch([BNH * d.DHQK * d.DHHV]);
    } else dcStates = batch.scratch([d.B, d.NH, NC + 1, d.DHQK, d.DHHV]);
    encodeScan(
      ctx2,
      batch,
      "bw",
      d,
      {
        a: t.q,
        b: t.dh,
        gates,
        nm,
        init: t.dcLast,
        out: dcStates ?? void 0,
        out16: dcStates16 ?? void 0,
        last: dcFirst ?? void 0
      },
      o
    );
  }
  const cIn = matrix ? saved.states16 : saved.states;
  const dcIn = matrix ? dcStates16 : dcStates;
  const dq = out2.dq ?? ctx2.empty([d.B, d.NH, d.S, d.DHQK], o.dtype);
  const dk = out2.dk ?? ctx2.empty([d.B, d.NH, d.S, d.DHQK], o.dtype);
  const dv = out2.dv ?? ctx2.empty([d.B, d.NH, d.S, d.DHHV], o.dtype);
  const gatesIn = [gates.gates, gates.chunkv];
  const di = out2.di ?? ctx2.empty([d.B, d.NH, d.S]);
  const df = out2.df ?? ctx2.empty([d.B, d.NH, d.S]);
  const dfTmp = batch.scratch([d.B, d.NH, d.S]);
  const rowDots = matrix && matrixTileX(d.DHQK, o) === d.DHQK;
  encodeIntra(
    ctx2,
    batch,
    "dq",
    d,
    [t.dh, t.v, t.k, ...gatesIn, ...o.inter ? [cIn] : [], nm],
    [dq],
    o,
    matrix,
    saved.zeroInitial ?? !t.cInitial,
    rowDots ? { with: t.q, out: dfTmp } : void 0
  );
  encodeIntra(
    ctx2,
    batch,
    "dk",
    d,
    [t.v, t.dh, t.q, ...gatesIn, ...o.inter ? [dcIn] : [], nm],
    [dk],
    o,
    matrix,
    !t.dcLast,
    rowDots ? { with: t.k, out: di } : void 0
  );
  encodeIntra(
    ctx2,
    batch,
    "dv",
    d,
    [t.k, t.q, t.dh, ...gatesIn, ...o.inter ? [dcIn] : [], nm],
    [dv],
    o,
    matrix,
    !t.dcLast
  );
  const totals = batch.scratch([d.B, d.NH, NC]);
  const maxWg = ctx2.limits.maxComputeWorkgroupsPerDimension;
  const count = BNH * NC;
  const gp = { S: d.S, L, NC, D: d.DHQK, count, hasInit: 0, useCorr: 0, T: BNH * d.S, NB: BNH };
  if (!rowDots) {
    const vec = gateGradsVector(o.dtype, d.DHQK);
    batch.dispatch(
      ctx2.pipeline(
        `gates:gradsLocal:${o.variant}:${o.dtype}:${vec}`,
        () => gateGradsLocalWgsl(o.variant, o.dtype, vec),
        ["uniform", READ, READ, READ, READ, READ, RW, RW]
      ),
      [t.q, t.k, dq, dk, t.i, di, dfTmp],
      gateParams.pack({ ...gp, count: BNH * d.S }),
      splitWorkgroups(cdiv(BNH * d.S, GATE_TOKENS_PER_WG), maxWg),
      "gate grads (tokens)"
    );
  }
  batch.dispatch(
    rowDots ? ctx2.pipeline(`gates:gradsChunkSums:dots:${o.variant}`, () => gateGradsChunkSumsWgsl(o.variant), [
      "uniform",
      RW,
      RW,
      READ,
      RW
    ]) : ctx2.pipeline("gates:gradsChunkSums", () => gateGradsChunkSumsWgsl(), ["uniform", RW, RW]),
    rowDots ? [dfTmp, totals, t.i, di] : [dfTmp, totals],
    gateParams.pack(gp),
    splitWorkgroups(count, maxWg),
    "gate grads (chunk sums)"
  );
  let corr;
  const useCorr = !!(o.correctDf && t.dcLast && o.inter);
  if (useCorr) {
    corr = batch.scratch([BNH]);
    batch.dispatch(
      ctx2.pipeline("gates:stateDot", stateDotWgsl, ["uniform", READ, READ, RW]),
      [t.dcLast, saved.last ?? saved.states, corr],
      // the matrix-unit path keeps only the last state (slot 0 of a one-slot stack)
      gateParams.pack({ ...gp, D: d.DHQK * d.DHHV, NC: saved.last ? 0 : NC, count: BNH }),
      splitWorkgroups(BNH, maxWg),
      "state dot"
    );
  } else corr = batch.scratch([1]);
  batch.dispatch(
    ctx2.pipeline("gates:gradsFinish", gateGradsFinishWgsl, ["uniform", READ, READ, READ, READ, RW]),
    [t.f, totals, dfTmp, corr, df],
    gateParams.pack({ ...gp, useCorr: useCorr ? 1 : 0 }),
    splitWorkgroups(count, maxWg),
    "gate grads (finish)"
  );
  let dcInitial;
  if (o.inter && t.cInitial) {
    dcInitial = out2.dcInitial ?? ctx2.empty([d.B, d.NH, d.DHQK, d.DHHV]);
    const cs = d.DHQK * d.DHHV;
    if (dcFirst) encodeCopyBlocks(ctx2, batch, dcFirst, dcInitial, 1, BNH * cs, 0, 0);
    else encodeCopyBlocks(ctx2, batch, dcStates, dcInitial, BNH, cs, (NC + 1) * cs, 0);
  }
  return { dq, dk, dv, di, df, dcInitial };
}

// packages/kernels-webgpu/src/chunkwise/plan.ts
function probeSources() {
  return [
    {
      label: "matrix probe: intra dq",
      code: sgmatWgsl({ role: "dq", variant: "exp", normalize: true, inter: true, bX: 64, rowDots: true })
    },
    {
      label: "matrix probe: intra fw",
      code: sgmatWgsl({ role: "fw", variant: "exp", normalize: true, inter: true, bX: 256, walkRows: true })
    },
    {
      label: "matrix probe: carrying scan",
      code: chunkProductWgsl({ direction: "fw", variant: "exp", normalize: true, bX: 256, carry: true })
    }
  ];
}
async function ensureMatrixProbe(ctx2) {
  const of = ctx2.matrixPathOf;
  if (of && of.device === ctx2.device && of.features === ctx2.features && ctx2.matrixPath.state !== "unprobed")
    return ctx2.matrixPath;
  const unsupported = sgmatUnsupportedReason(ctx2.features);
  let status;
  if (unsupported) status = { state: "unsupported", reason: unsupported };
  else {
    const rewrite = ctx2.createdWith.matrixProbeWgsl ?? ((c) => c);
    const failure = await ctx2.tryCompile(probeSources().map((s) => ({ ...s, code: rewrite(s.code) })));
    status = failure ? { state: "failed", reason: failure } : { state: "ready", reason: "the matrix pipelines compiled on this device" };
  }
  ctx2.matrixPath = status;
  ctx2.matrixPathOf = { device: ctx2.device, features: ctx2.features };
  return status;
}
function planOf(ctx2, fam, d, o) {
  const decision = matrixPathDecision(ctx2, d, o);
  const matrix = decision.use;
  const NC = d.S / o.chunkSize;
  const BNH = d.B * d.NH;
  let scan = { kind: "none" };
  if (o.inter) {
    if (matrix) {
      const layout = carryingScan(BNH, d.DHQK, d.DHHV, NC, o.tuning);
      scan = layout ? { kind: "carrying", tileX: layout.bX, segments: layout.segs } : { kind: "products+carry", tileX: matrixTileX(d.DHHV, o) };
    } else {
      scan = {
        kind: "register-tiled",
        tile: o.tiles?.scan ?? chooseScanTile(d.DHQK, d.DHHV, ctx2.limits, isSoftwareAdapter(ctx2.adapterInfo))
      };
    }
  }
  let reason = decision.reason;
  if (matrix && o.tiles?.matrixX && matrixTileX(d.DHHV, o) !== o.tiles.matrixX)
    reason += `; tiles.matrixX ${o.tiles.matrixX} does not divide the head dimension, the default column tile is used`;
  return {
    family: fam.name,
    dtype: o.dtype,
    chunkSize: o.chunkSize,
    path: matrix ? "matrix-units" : "register-tiles",
    reason,
    matrixPath: ctx2.matrixPath,
    intra: ["fw", "dq", "dk", "dv"].map((role) => ({
      role,
      ...intraPlan(ctx2, role, d, o, matrix)
    })),
    scan,
    rowDots: matrix && matrixTileX(d.DHQK, o) === d.DHQK
  };
}

// packages/kernels-webgpu/src/chunkwise/run.ts
var gcd = (a, b) => b ? gcd(b, a % b) : a;
function planHeadGroups(ctx2, d, chunkSize, dtype2, chunked, context) {
  const eb = dtype2 === "f16" ? 2 : 4;
  const NC = d.S / chunkSize;
  const perHead = {
    q: { bytes: d.S * d.DHQK * eb, viewed: true },
    v: { bytes: d.S * d.DHHV * eb, viewed: true },
    i: { bytes: d.S * 4, viewed: true },
    "gate vectors (3\xB7S\xB74 bytes per head)": { bytes: 3 * d.S * 4, viewed: false },
    ...chunked ? {
      "chunk states ((S/chunkSize+1)\xB7DHQK\xB7(DHHV+1)\xB74 bytes per head)": {
        bytes: (NC + 1) * d.DHQK * (d.DHHV + 1) * 4,
        viewed: false
      },
      cInitial: { bytes: d.DHQK * d.DHHV * 4, viewed: true },
      nInitial: { bytes: d.DHQK * 4, viewed: true },
      mInitial: { bytes: 4, viewed: true }
    } : {}
  };
  const limit = ctx2.limits.maxStorageBufferBindingSize;
  let largest = 0;
  let align = 1;
  for (const [name, { bytes, viewed }] of Object.entries(perHead)) {
    if (bytes > limit) {
      throw new KernelArgumentError(
        name,
        `at most maxStorageBufferBindingSize = ${limit} bytes per head on this adapter`,
        `${bytes} bytes`,
        context
      );
    }
    largest = Math.max(largest, bytes);
    if (viewed && bytes >= 4096) {
      const need = 256 / gcd(256, bytes);
      align = align * need / gcd(align, need);
    }
  }
  const BNH = d.B * d.NH;
  if (largest * BNH <= limit) return [{ start: 0, count: BNH }];
  const fit = Math.floor(limit / largest);
  const G = fit >= align ? Math.floor(fit / align) * align : fit;
  if (G < 1) {
    throw new KernelArgumentError(
      "q",
      `shapes whose one head fits maxStorageBufferBindingSize = ${limit} bytes`,
      `${largest} bytes per head`,
      context
    );
  }
  const groups = [];
  for (let start = 0; start < BNH; start += G) groups.push({ start, count: Math.min(G, BNH - start) });
  return groups;
}
var GroupSlices = class {
  constructor(ctx2, g, whole, context) {
    this.ctx = ctx2;
    this.g = g;
    this.whole = whole;
    this.context = context;
  }
  ctx;
  g;
  whole;
  context;
  back = [];
  temps = [];
  slice(t, output) {
    if (this.whole) return t;
    const rest = t.shape.slice(2);
    const perHead = rest.reduce((a, b) => a * b, 1);
    const eb = t.dtype === "f16" ? 2 : 4;
    const at = t.byteOffset + this.g.start * perHead * eb;
    if (at % 256 === 0) return t.subview(this.g.start * perHead, [1, this.g.count, ...rest]);
    const size = this.g.count * perHead * eb;
    if (at % 4 !== 0 || size % 4 !== 0) {
      throw new KernelArgumentError(
        "q",
        "head groups whose slices start at 4-byte offsets (an even number of f16 elements per head)",
        `${perHead} elements per head`,
        this.context
      );
    }
    const tmp = this.ctx.empty([1, this.g.count, ...rest], t.dtype);
    this.temps.push(tmp);
    if (output) this.back.push({ tmp, dst: t, at, size });
    else {
      const enc = this.ctx.device.createCommandEncoder();
      enc.copyBufferToBuffer(t.buffer, at, tmp.buffer, tmp.byteOffset, size);
      this.ctx.device.queue.submit([enc.finish()]);
    }
    return tmp;
  }
  /** An input's slice (copied now, ahead of the group's batch, when it cannot be a view). */
  input = (t) => t ? this.slice(t, false) : void 0;
  /** An output's slice (copied back by {@link finish} when it cannot be a view). */
  output = (t) => t ? this.slice(t, true) : void 0;
  /** After the group's batch is submitted: copies outputs back and releases the copies. */
  finish() {
    if (this.back.length) {
      const enc = this.ctx.device.createCommandEncoder();
      for (const b of this.back)
        enc.copyBufferToBuffer(b.tmp.buffer, b.tmp.byteOffset, b.dst.buffer, b.at, b.size);
      this.ctx.device.queue.submit([enc.finish()]);
    }
    for (const t of this.temps) t.release();
  }
};
function prepare(ctx2, fam, a, withDh) {
  const context = fam.name;
  if (typeof a !== "object" || a === null)
    throw new KernelArgumentError("args", "an object", String(a), context);
  const d = validateSequence(a, context);
  const ioDtype = resolveDtype(ctx2, a.q, a.dtype, context);
  const dtype2 = resolveComputeDtype(ctx2, a, ioDtype, d, withDh, context);
  const eps = validateEps(a.eps ?? 1e-6, context);
  let hasStates = false;
  if (fam.chunked) {
    hasStates = validateStates(a, d, context, fam.variant === "exp");
    if (fam.variant === "sig" && a.mInitial != null) {
      expectTensor("mInitial", a.mInitial, [d.B, d.NH, 1], ["B", "NH", "1"], context, ["f32"]);
    }
  } else {
    for (const n of ["cInitial", "nInitial", "mInitial"]) {
      if (a[n] != null)
        throw new KernelArgumentError(
          n,
          "no initial states (parallel kernels have none)",
          "a tensor",
          context
        );
    }
    if (a.returnLastStates) {
      throw new KernelArgumentError(
        "returnLastStates",
        "false (parallel kernels return no states)",
        "true",
        context
      );
    }
  }
  let chunkSize = d.S;
  if (fam.chunked) {
    chunkSize = a.chunkSize ?? Math.min(fam.defaultChunkSize, d.S);
    const max = fam.maxChunkSize;
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || max !== void 0 && chunkSize > max) {
      throw new KernelArgumentError(
        "chunkSize",
        `a positive integer${max !== void 0 ? ` <= ${max}` : ""}`,
        String(a.chunkSize),
        context
      );
    }
    if (d.S % chunkSize !== 0) {
      throw new KernelArgumentError(
        "chunkSize",
        `a divisor of the sequence length S = ${d.S} (pad the sequence, or use the backend's train_with_padding / inference modes)`,
        String(chunkSize),
        context
      );
    }
  }
  if (fam.variant === "exp" && a.normalize === false) {
    throw new KernelArgumentError(
      "normalize",
      "true or undefined (only mLSTMsig kernels can skip the normaliser)",
      "false",
      context
    );
  }
  const groups = planHeadGroups(ctx2, d, chunkSize, dtype2, fam.chunked, context);
  if (withDh) {
    const b = a;
    expectTensor("dh", b.dh, [d.B, d.NH, d.S, d.DHHV], ["B", "NH", "S", "DHHV"], context, [ioDtype]);
    if (b.dcLast != null) {
      if (!fam.chunked)
        throw new KernelArgumentError(
          "dcLast",
          "undefined (parallel kernels return no states)",
          "a tensor",
          context
        );
      expectTensor("dcLast", b.dcLast, [d.B, d.NH, d.DHQK, d.DHHV], ["B", "NH", "DHQK", "DHHV"], context, [
        "f32"
      ]);
    }
  }
  return {
    d,
    ioDtype,
    hasStates,
    groups,
    opts: {
      variant: fam.variant,
      normalize: fam.variant === "exp" ? true : a.normalize ?? true,
      chunkSize,
      eps,
      dtype: dtype2,
      inter: fam.chunked,
      wholeChunkTiles: fam.wholeChunkTiles,
      tiles: validateTiles(ctx2, a.tiles, context),
      subgroupMatrix: a.subgroupMatrix,
      tuning: resolveTuning(ctx2.tuning, a.tuning, context)
    }
  };
}
function resolveComputeDtype(ctx2, a, ioDtype, d, withDh, context) {
  const c = a.computeDtype;
  if (c === void 0 || c === ioDtype) return ioDtype;
  if (c !== "f16") {
    throw new KernelArgumentError(
      "computeDtype",
      ioDtype === "f16" ? "'f16' or undefined (f16 inputs run in f16)" : "'f32', 'f16' or undefined",
      JSON.stringify(c),
      context
    );
  }
  if (!ctx2.features.shaderF16)
    throw new KernelArgumentError("computeDtype", "'f32' \u2014 this adapter has no shader-f16", "'f16'", context);
  if (a.q instanceof GpuTensor) {
    const big = d.B * d.NH * d.S * 4;
    checkSizes(
      ctx2,
      {
        q: big * d.DHQK,
        k: big * d.DHQK,
        v: big * d.DHHV,
        h: big * d.DHHV,
        ...withDh ? { dh: big * d.DHHV } : {}
      },
      `${context} (computeDtype 'f16' converts each of these tensors in one pass)`
    );
  }
  return c;
}
function validateTiles(ctx2, t, context) {
  if (t == null) return void 0;
  const ok = (v, max) => typeof v === "number" && Number.isInteger(v) && v % 16 === 0 && v >= 16 && v <= max;
  if (t.intra) {
    const { bR, bT, bX, bY } = t.intra;
    if (!ok(bR, 64) || !ok(bT, 64) || !ok(bX, 256) || bY !== 16 || bR % bT !== 0) {
      throw new KernelArgumentError(
        "tiles.intra",
        "bR, bT multiples of 16 up to 64 (bR a multiple of bT), bX a multiple of 16 up to 256, bY = 16",
        JSON.stringify(t.intra),
        context
      );
    }
    const bytes = intraWorkgroupBytes(t.intra);
    if (bytes > ctx2.limits.maxComputeWorkgroupStorageSize) {
      throw new KernelArgumentError(
        "tiles.intra",
        `tiles needing at most maxComputeWorkgroupStorageSize = ${ctx2.limits.maxComputeWorkgroupStorageSize} bytes`,
        `${bytes} bytes`,
        context
      );
    }
  }
  if (t.scan !== void 0 && ![16, 32, 64].includes(t.scan)) {
    throw new KernelArgumentError("tiles.scan", "16, 32 or 64", String(t.scan), context);
  }
  if (t.matrixX !== void 0 && ![64, 128, 192, 256].includes(t.matrixX)) {
    throw new KernelArgumentError("tiles.matrixX", "64, 128, 192 or 256", String(t.matrixX), context);
  }
  return t;
}
async function beforeRun(ctx2, fam, d, opts) {
  if (opts.dtype === "f16" && opts.subgroupMatrix !== false) await ensureMatrixProbe(ctx2);
  ctx2.createdWith.onPlan?.(planOf(ctx2, fam, d, opts));
}
async function runForward(ctx2, fam, a) {
  const { d, ioDtype, hasStates, opts, groups } = prepare(ctx2, fam, a, false);
  const scope = new CallScope(ctx2, a.q);
  if (a.keepSaved && scope.cpu) {
    throw new KernelArgumentError(
      "keepSaved",
      "GPU tensor inputs (saved tensors stay on the GPU)",
      "CPU tensors",
      fam.name
    );
  }
  await beforeRun(ctx2, fam, d, opts);
  try {
    const inputs = gpuInputs(scope, a, opts.dtype, hasStates, fam);
    const whole = groups.length === 1;
    const h = ctx2.empty([d.B, d.NH, d.S, d.DHHV], opts.dtype);
    const wantStates = !!a.returnLastStates && fam.chunked;
    const last = wantStates ? {
      c: ctx2.empty([d.B, d.NH, d.DHQK, d.DHHV]),
      n: ctx2.empty([d.B, d.NH, d.DHQK]),
      m: ctx2.empty([d.B, d.NH, 1])
    } : void 0;
    const saved = { groups: [], dtype: opts.dtype };
    for (const g of groups) {
      const slices = new GroupSlices(ctx2, g, whole, fam.name);
      const batch = ctx2.batch();
      const dg = whole ? d : { ...d, B: 1, NH: g.count };
      const fw = encodeTflaForward(ctx2, batch, dg, mapInputs(inputs, slices.input), opts, {
        h: slices.output(h),
        needLast: wantStates || !!a.keepSaved
      });
      if (last) {
        const out2 = { c: slices.output(last.c), n: slices.output(last.n), m: slices.output(last.m) };
        encodeLastStates(ctx2, batch, dg, fw.saved, opts, out2);
      }
      batch.submit();
      slices.finish();
      if (a.keepSaved) saved.groups.push({ start: g.start, count: g.count, data: fw.saved });
      else releaseGroupSaved(fw.saved);
    }
    let lastStates;
    if (last) {
      if (fam.variant === "sig") {
        last.m.release();
        if (!opts.normalize) {
          last.n.release();
          last.n = ctx2.zeros([d.B, d.NH, d.DHQK]);
        }
        lastStates = { c: last.c, n: last.n };
      } else lastStates = last;
    }
    return await scope.finish({
      h: scope.output(h, ioDtype),
      lastStates,
      saved: a.keepSaved ? saved : void 0
    });
  } catch (e) {
    scope.abort();
    throw e;
  }
}
function gpuInputs(scope, a, dtype2, hasStates, fam) {
  const b = a;
  return {
    q: scope.gpu(a.q, dtype2),
    k: scope.gpu(a.k, dtype2),
    v: scope.gpu(a.v, dtype2),
    i: scope.gpu(a.i),
    f: scope.gpu(a.f),
    cInitial: hasStates ? scope.gpu(a.cInitial) : void 0,
    nInitial: hasStates ? scope.gpu(a.nInitial) : void 0,
    mInitial: hasStates && fam.variant === "exp" ? scope.gpu(a.mInitial) : void 0,
    dh: b.dh ? scope.gpu(b.dh, dtype2) : void 0,
    dcLast: scope.gpu(b.dcLast ?? void 0)
  };
}
function mapInputs(x, v) {
  const out2 = {};
  for (const [key, t] of Object.entries(x)) out2[key] = v(t);
  return out2;
}
async function runBackward(ctx2, fam, a) {
  const { d, ioDtype, hasStates, opts, groups } = prepare(ctx2, fam, a, true);
  if (a.saved && a.saved.dtype !== opts.dtype) {
    throw new KernelArgumentError(
      "saved",
      `the saved tensors of a forward that ran in ${opts.dtype} (same dtype / computeDtype)`,
      `saved tensors of a forward that ran in ${a.saved.dtype}`,
      fam.name
    );
  }
  if (a.saved) {
    const same = a.saved.groups.length === groups.length && a.saved.groups.every((g, x) => g.start === groups[x].start && g.count === groups[x].count);
    if (!same) {
      throw new KernelArgumentError(
        "saved",
        "the saved tensors of a forward call with the same shapes and options",
        "saved tensors of another call",
        fam.name
      );
    }
  }
  await beforeRun(ctx2, fam, d, opts);
  const scope = new CallScope(ctx2, a.q);
  try {
    const inputs = gpuInputs(scope, a, opts.dtype, hasStates, fam);
    const whole = groups.length === 1;
    const out2 = {
      dq: ctx2.empty([d.B, d.NH, d.S, d.DHQK], opts.dtype),
      dk: ctx2.empty([d.B, d.NH, d.S, d.DHQK], opts.dtype),
      dv: ctx2.empty([d.B, d.NH, d.S, d.DHHV], opts.dtype),
      di: ctx2.empty([d.B, d.NH, d.S]),
      df: ctx2.empty([d.B, d.NH, d.S]),
      dcInitial: hasStates && fam.chunked ? ctx2.empty([d.B, d.NH, d.DHQK, d.DHHV]) : void 0
    };
    for (const [x, g] of groups.entries()) {
      const slices = new GroupSlices(ctx2, g, whole, fam.name);
      const batch = ctx2.batch();
      const v = slices.output;
      const dg = whole ? d : { ...d, B: 1, NH: g.count };
      const inp = mapInputs(inputs, slices.input);
      let saved = a.saved?.groups[x].data;
      let recomputed;
      if (!saved) {
        recomputed = encodeTflaForward(ctx2, batch, dg, inp, opts, { needLast: !!inp.dcLast });
        saved = recomputed.saved;
      }
      const gOut = {
        dq: v(out2.dq),
        dk: v(out2.dk),
        dv: v(out2.dv),
        di: v(out2.di),
        df: v(out2.df),
        dcInitial: v(out2.dcInitial)
      };
      encodeTflaBackward(ctx2, batch, dg, inp, saved, { ...opts, correctDf: a.correctDfForDcLast }, gOut);
      batch.submit();
      slices.finish();
      if (recomputed) {
        recomputed.h.release();
        releaseGroupSaved(recomputed.saved);
      }
    }
    const res = {
      ...out2,
      dq: scope.output(out2.dq, ioDtype),
      dk: scope.output(out2.dk, ioDtype),
      dv: scope.output(out2.dv, ioDtype)
    };
    if (!out2.dcInitial) delete res.dcInitial;
    if (hasStates) {
      res.dnInitial = ctx2.zeros([d.B, d.NH, d.DHQK]);
      if (fam.variant === "exp") res.dmInitial = ctx2.zeros([d.B, d.NH, 1]);
    }
    return await scope.finish(res);
  } catch (e) {
    scope.abort();
    throw e;
  }
}
function familyFunctions(fam) {
  return {
    forward: ((ctx2, args) => runForward(ctx2, fam, args)),
    backward: ((ctx2, args) => runBackward(ctx2, fam, args))
  };
}

// packages/kernels-webgpu/src/chunkwise/limit_chunk.ts
var LIMIT_CHUNK = {
  name: "chunkwise--webgpu_limit_chunk",
  variant: "exp",
  chunked: true,
  defaultChunkSize: LIMIT_CHUNK_DEFAULT_CHUNK_SIZE,
  maxChunkSize: LIMIT_CHUNK_MAX_CHUNK_SIZE,
  wholeChunkTiles: true
};
var fns = familyFunctions(LIMIT_CHUNK);
var mlstmChunkwiseLimitChunk = fns.forward;
var mlstmChunkwiseLimitChunkBackward = fns.backward;

// packages/kernels-webgpu/src/chunkwise/xl_chunk.ts
var XL_CHUNK = {
  name: "chunkwise--webgpu_xl_chunk",
  variant: "exp",
  chunked: true,
  defaultChunkSize: XL_CHUNK_DEFAULT_CHUNK_SIZE
};
var fns2 = familyFunctions(XL_CHUNK);
var mlstmChunkwiseXlChunk = fns2.forward;
var mlstmChunkwiseXlChunkBackward = fns2.backward;

// packages/kernels-webgpu/src/chunkwise/xl_chunk_siging.ts
var XL_CHUNK_SIGING = {
  name: "chunkwise--webgpu_xl_chunk_siging",
  variant: "sig",
  chunked: true,
  defaultChunkSize: XL_CHUNK_DEFAULT_CHUNK_SIZE
};
var fns3 = familyFunctions(XL_CHUNK_SIGING);
var mlstmSigChunkwiseXlChunk = fns3.forward;
var mlstmSigChunkwiseXlChunkBackward = fns3.backward;

// packages/kernels-webgpu/src/parallel/limit_headdim.ts
var LIMIT_HEADDIM = {
  name: "parallel--webgpu_limit_headdim",
  variant: "exp",
  chunked: false,
  defaultChunkSize: 0
};
var fns4 = familyFunctions(LIMIT_HEADDIM);
var mlstmParallelLimitHeaddim = fns4.forward;
var mlstmParallelLimitHeaddimBackward = fns4.backward;

// packages/kernels-webgpu/src/util/pack.ts
var params3 = defineParams({
  G: "u32",
  NH: "u32",
  P: "u32",
  D: "u32",
  T: "u32",
  total: "u32",
  fill: "f32"
});
var WG3 = 256;
function encodePackMove(ctx2, batch, direction, packed, padded, rows, fill = 0) {
  const [G, NH, P] = padded.shape;
  const D = padded.shape.length === 4 ? padded.shape[3] : 1;
  const T2 = packed.shape[2];
  const el = packed.dtype;
  const [src, dst] = direction === "gather" ? ["packed", "padded"] : ["padded", "packed"];
  const pipeline = ctx2.pipeline(
    `util:pack:${direction}:${el}`,
    () => `${el === "f16" ? "enable f16;\n" : ""}${params3.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> rows: array<f32>;
@group(0) @binding(2) var<storage, ${direction === "gather" ? "read" : "read_write"}> packed: array<${el}>;
@group(0) @binding(3) var<storage, ${direction === "gather" ? "read_write" : "read"}> padded: array<${el}>;
@compute @workgroup_size(${WG3})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG3}u + lid;
  if (idx >= P.total) { return; }
  let x = idx % P.D;
  let t = (idx / P.D) % P.P;
  let gh = idx / (P.D * P.P);
  let h = gh % P.NH;
  let g = gh / P.NH;
  let start = u32(rows[2u * g]);
  let pad = P.P - u32(rows[2u * g + 1u]);
  let real = t >= pad;
  let at = (h * P.T + start + select(0u, t - pad, real)) * P.D + x;
${direction === "gather" ? `  padded[idx] = select(${el}(P.fill), packed[at], real);` : `  if (real) { packed[at] = padded[idx]; }`}
}`,
    ["uniform", "read", direction === "gather" ? "read" : "rw", direction === "gather" ? "rw" : "read"]
  );
  const total = G * NH * P * D;
  batch.dispatch(
    pipeline,
    [rows, packed, padded],
    params3.pack({ G, NH, P, D, T: T2, total, fill }),
    splitWorkgroups(Math.ceil(total / WG3), ctx2.limits.maxComputeWorkgroupsPerDimension),
    `pack ${direction} ${src}\u2192${dst}`
  );
}

// packages/kernels-webgpu/src/chunkwise/packed.ts
var FILL_F = 1e4;
var FILL_I = -1e4;
var MAX_TOKENS = 2 ** 24;
function validateSeqStarts(seqStarts, T2, context, states) {
  return checkSeqStarts(seqStarts, T2, context, states, KernelArgumentError);
}
function plan(ctx2, fam, a, withDh) {
  const context = `${fam.name} (packed)`;
  if (typeof a !== "object" || a === null)
    throw new KernelArgumentError("args", "an object", String(a), context);
  const d = validateSequence(a, context);
  if (d.B !== 1) {
    throw new KernelArgumentError(
      "q",
      "batch B = 1 with seqStarts (the sequences are packed along the token axis)",
      `B = ${d.B}`,
      context
    );
  }
  const extra = a;
  if (extra.keepSaved || extra.saved) {
    throw new KernelArgumentError(
      extra.keepSaved ? "keepSaved" : "saved",
      "undefined with seqStarts (the packed backward recomputes the forward)",
      "a value",
      context
    );
  }
  if (d.S >= MAX_TOKENS) {
    throw new KernelArgumentError("q", `fewer than ${MAX_TOKENS} packed tokens`, `T = ${d.S}`, context);
  }
  const c = a.cInitial;
  const nStates = c && Array.isArray(c.shape) && c.shape.length === 4 ? c.shape[0] : void 0;
  const starts = validateSeqStarts(a.seqStarts, d.S, context, c != null ? nStates : void 0);
  const N = starts.length - 1;
  const ioDtype = resolveDtype(ctx2, a.q, a.dtype, context);
  const names = fam.variant === "exp" ? ["cInitial", "nInitial", "mInitial"] : ["cInitial", "nInitial"];
  const given = names.map((n) => a[n] != null);
  const hasStates = given.some(Boolean);
  if (hasStates && !given.every(Boolean)) {
    throw new KernelArgumentError(
      names[given.indexOf(false)],
      `all of ${names.join(", ")} or none`,
      "undefined",
      context
    );
  }
  const f323 = ["f32"];
  if (hasStates) {
    expectTensor(
      "cInitial",
      a.cInitial,
      [N, d.NH, d.DHQK, d.DHHV],
      ["N", "NH", "DHQK", "DHHV"],
      context,
      f323
    );
    expectTensor("nInitial", a.nInitial, [N, d.NH, d.DHQK], ["N", "NH", "DHQK"], context, f323);
  }
  if (a.mInitial != null) expectTensor("mInitial", a.mInitial, [N, d.NH, 1], ["N", "NH", "1"], context, f323);
  if (withDh) {
    const b = a;
    expectTensor("dh", b.dh, [1, d.NH, d.S, d.DHHV], ["1", "NH", "T", "DHHV"], context, [ioDtype]);
    if (b.dcLast != null)
      expectTensor("dcLast", b.dcLast, [N, d.NH, d.DHQK, d.DHHV], ["N", "NH", "DHQK", "DHHV"], context, f323);
  }
  const L = a.chunkSize ?? fam.defaultChunkSize;
  const max = fam.maxChunkSize;
  if (!Number.isInteger(L) || L < 1 || max !== void 0 && L > max) {
    throw new KernelArgumentError(
      "chunkSize",
      `a positive integer${max !== void 0 ? ` <= ${max}` : ""}`,
      String(a.chunkSize),
      context
    );
  }
  if (fam.variant === "exp" && a.normalize === false) {
    throw new KernelArgumentError(
      "normalize",
      "true or undefined (only mLSTMsig kernels can skip the normaliser)",
      "false",
      context
    );
  }
  const byLength = /* @__PURE__ */ new Map();
  for (let s = 0; s < N; s++) {
    const len2 = starts[s + 1] - starts[s];
    const P = len2 >= L ? Math.ceil(len2 / L) * L : Math.min(L, Math.ceil(len2 / 16) * 16);
    let g = byLength.get(P);
    if (!g) {
      g = { P, chunk: Math.min(L, P), seqs: [] };
      byLength.set(P, g);
    }
    g.seqs.push(s);
  }
  return { d, N, starts, ioDtype, hasStates, groups: [...byLength.values()] };
}
function copyRows(ctx2, src, dst, from, to) {
  const rowBytes = src.numel / src.shape[0] * 4;
  const enc = ctx2.device.createCommandEncoder();
  for (const [x, f] of from.entries()) {
    enc.copyBufferToBuffer(
      src.buffer,
      src.byteOffset + f * rowBytes,
      dst.buffer,
      dst.byteOffset + to[x] * rowBytes,
      rowBytes
    );
  }
  ctx2.device.queue.submit([enc.finish()]);
}
var GroupIo = class {
  constructor(ctx2, p, g) {
    this.ctx = ctx2;
    this.g = g;
    this.G = g.seqs.length;
    const table2 = new Float32Array(2 * this.G);
    g.seqs.forEach((s, x) => {
      table2[2 * x] = p.starts[s];
      table2[2 * x + 1] = p.starts[s + 1] - p.starts[s];
    });
    this.rows = ctx2.upload(table2, [this.G, 2]);
    this.local = g.seqs.map((_, x) => x);
  }
  ctx;
  g;
  G;
  rows;
  temps = [];
  local;
  /** gathers / scatters waiting to be submitted together, and what to release after them */
  pending = null;
  afterFlush = [];
  keep(t) {
    this.temps.push(t);
    return t;
  }
  /** The padded `(G, NH, P, …)` copy of a packed tensor (filler = `fill`; encoded, see {@link flush}). */
  gather(t, fill = 0) {
    const shape = [this.G, t.shape[1], this.g.P, ...t.shape.slice(3)];
    const out2 = this.keep(this.ctx.empty(shape, t.dtype));
    this.pending ??= this.ctx.batch();
    encodePackMove(this.ctx, this.pending, "gather", t, out2, this.rows, fill);
    return out2;
  }
  /** Writes the real positions of a padded result back into the packed tensor (encoded, see {@link flush}); releases it after. */
  scatter(padded, packed) {
    this.pending ??= this.ctx.batch();
    encodePackMove(this.ctx, this.pending, "scatter", packed, padded, this.rows);
    this.afterFlush.push(padded);
  }
  /** Submits the encoded gathers / scatters in one pass. */
  flush() {
    this.pending?.submit();
    this.pending = null;
    for (const t of this.afterFlush) t.release();
    this.afterFlush = [];
  }
  /** The `(G, …)` rows of a per-sequence `(N, …)` tensor. */
  takeRows(t) {
    if (!t) return void 0;
    const out2 = this.keep(this.ctx.empty([this.G, ...t.shape.slice(1)], t.dtype));
    copyRows(this.ctx, t, out2, this.g.seqs, this.local);
    return out2;
  }
  /** Copies `(G, …)` rows into the per-sequence `(N, …)` tensor, then releases them. */
  putRows(t, dst) {
    copyRows(this.ctx, t, dst, this.local, this.g.seqs);
    t.release();
  }
  release() {
    this.flush();
    this.rows.release();
    for (const t of this.temps) t.release();
  }
};
function callOptions(a, g) {
  return {
    chunkSize: g.chunk,
    eps: a.eps,
    normalize: a.normalize,
    computeDtype: a.computeDtype,
    tiles: a.tiles,
    subgroupMatrix: a.subgroupMatrix
  };
}
async function packedForward(ctx2, fam, a) {
  const p = plan(ctx2, fam, a, false);
  const { d, N } = p;
  const scope = new CallScope(ctx2, a.q);
  const made = [];
  try {
    const x = {
      q: scope.gpu(a.q, p.ioDtype),
      k: scope.gpu(a.k, p.ioDtype),
      v: scope.gpu(a.v, p.ioDtype),
      i: scope.gpu(a.i),
      f: scope.gpu(a.f),
      c: p.hasStates ? scope.gpu(a.cInitial) : void 0,
      n: p.hasStates ? scope.gpu(a.nInitial) : void 0,
      m: p.hasStates && fam.variant === "exp" ? scope.gpu(a.mInitial) : void 0
    };
    const h = ctx2.empty([1, d.NH, d.S, d.DHHV], p.ioDtype);
    made.push(h);
    const want = !!a.returnLastStates;
    const last = want ? {
      c: ctx2.empty([N, d.NH, d.DHQK, d.DHHV]),
      n: ctx2.empty([N, d.NH, d.DHQK]),
      ...fam.variant === "exp" ? { m: ctx2.empty([N, d.NH, 1]) } : {}
    } : void 0;
    if (last) made.push(...Object.values(last));
    for (const g of p.groups) {
      const io = new GroupIo(ctx2, p, g);
      try {
        const args = {
          q: io.gather(x.q),
          k: io.gather(x.k),
          v: io.gather(x.v),
          i: io.gather(x.i, FILL_I),
          f: io.gather(x.f, FILL_F),
          cInitial: io.takeRows(x.c),
          nInitial: io.takeRows(x.n),
          mInitial: io.takeRows(x.m),
          returnLastStates: want,
          ...callOptions(a, g)
        };
        io.flush();
        const r2 = await runForward(ctx2, fam, args);
        io.scatter(r2.h, h);
        io.flush();
        if (last && r2.lastStates) {
          const ls = r2.lastStates;
          io.putRows(ls.c, last.c);
          io.putRows(ls.n, last.n);
          if (last.m && ls.m) io.putRows(ls.m, last.m);
          else ls.m?.release();
        }
      } finally {
        io.release();
      }
    }
    return await scope.finish({ h, ...last ? { lastStates: last } : {} });
  } catch (e) {
    for (const t of made) t.release();
    scope.abort();
    throw e;
  }
}
async function packedBackward(ctx2, fam, a) {
  const p = plan(ctx2, fam, a, true);
  const { d, N } = p;
  const scope = new CallScope(ctx2, a.q);
  const made = [];
  try {
    const x = {
      q: scope.gpu(a.q, p.ioDtype),
      k: scope.gpu(a.k, p.ioDtype),
      v: scope.gpu(a.v, p.ioDtype),
      i: scope.gpu(a.i),
      f: scope.gpu(a.f),
      dh: scope.gpu(a.dh, p.ioDtype),
      dcLast: scope.gpu(a.dcLast ?? void 0),
      c: p.hasStates ? scope.gpu(a.cInitial) : void 0,
      n: p.hasStates ? scope.gpu(a.nInitial) : void 0,
      m: p.hasStates && fam.variant === "exp" ? scope.gpu(a.mInitial) : void 0
    };
    const out2 = {
      dq: ctx2.empty([1, d.NH, d.S, d.DHQK], p.ioDtype),
      dk: ctx2.empty([1, d.NH, d.S, d.DHQK], p.ioDtype),
      dv: ctx2.empty([1, d.NH, d.S, d.DHHV], p.ioDtype),
      di: ctx2.empty([1, d.NH, d.S]),
      df: ctx2.empty([1, d.NH, d.S]),
      ...p.hasStates ? { dcInitial: ctx2.empty([N, d.NH, d.DHQK, d.DHHV]) } : {}
    };
    made.push(...Object.values(out2));
    for (const g of p.groups) {
      const io = new GroupIo(ctx2, p, g);
      try {
        const args = {
          q: io.gather(x.q),
          k: io.gather(x.k),
          v: io.gather(x.v),
          i: io.gather(x.i, FILL_I),
          f: io.gather(x.f, FILL_F),
          dh: io.gather(x.dh),
          dcLast: io.takeRows(x.dcLast),
          cInitial: io.takeRows(x.c),
          nInitial: io.takeRows(x.n),
          mInitial: io.takeRows(x.m),
          correctDfForDcLast: a.correctDfForDcLast,
          ...callOptions(a, g)
        };
        io.flush();
        const r2 = await runBackward(ctx2, fam, args);
        for (const key of ["dq", "dk", "dv", "di", "df"]) io.scatter(r2[key], out2[key]);
        io.flush();
        if (out2.dcInitial && r2.dcInitial) io.putRows(r2.dcInitial, out2.dcInitial);
        r2.dnInitial?.release();
        r2.dmInitial?.release();
      } finally {
        io.release();
      }
    }
    if (p.hasStates) {
      out2.dnInitial = ctx2.zeros([N, d.NH, d.DHQK]);
      if (fam.variant === "exp") out2.dmInitial = ctx2.zeros([N, d.NH, 1]);
    }
    return await scope.finish(out2);
  } catch (e) {
    for (const t of made) t.release();
    scope.abort();
    throw e;
  }
}
function packedFamilyFunctions(fam) {
  return {
    forward: ((ctx2, args) => packedForward(ctx2, fam, args)),
    backward: ((ctx2, args) => packedBackward(ctx2, fam, args))
  };
}
var xl = packedFamilyFunctions(XL_CHUNK);
var siging = packedFamilyFunctions(XL_CHUNK_SIGING);
var mlstmChunkwiseXlChunkPacked = xl.forward;
var mlstmChunkwiseXlChunkPackedBackward = xl.backward;
var mlstmSigChunkwiseXlChunkPacked = siging.forward;
var mlstmSigChunkwiseXlChunkPackedBackward = siging.backward;

// packages/kernels-webgpu/src/dense/kernels/matmul_tiled.ts
var DENSE_TILED_TILE = 64;
var T = DENSE_TILED_TILE;
var BK = 16;
function denseTiledKey(c) {
  return `dense-tiled:x${c.xDtype}:w${c.wDtype}${c.gated ? ":gated" : ""}`;
}
function denseTiledWgsl(c) {
  const outCols = c.gated ? T / 2 : T;
  const wRow = c.gated ? `select(0u, P.N, r % 2u == 1u) + n0 + r / 2u` : "n0 + r";
  const wCol = c.gated ? "n0 + r / 2u" : "n0 + r";
  const finish = c.gated ? `  for (var i = 0u; i < 4u; i++) {
    let m = m0 + tm + i;
    for (var j = 0u; j < 2u; j++) {
      let n = n0 + tn / 2u + j;
      if (m < P.M && n < P.N) {
        let g = acc[i * 4u + 2u * j] + biasAt(n);
        let u = acc[i * 4u + 2u * j + 1u] + biasAt(P.N + n);
        store(m, n, silu(g) * u);
      }
    }
  }` : `  for (var i = 0u; i < 4u; i++) {
    let m = m0 + tm + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + tn + j;
      if (m < P.M && n < P.N) { store(m, n, acc[i * 4u + j] + biasAt(n)); }
    }
  }`;
  return (
    /* wgsl */
    `${denseHeader(c.xDtype, c.wDtype)}
${denseBindings(c.xDtype, c.wDtype)}
${DENSE_EPILOGUE}
var<workgroup> xs: array<vec4<f32>, ${BK * T / 4}>; // [k][m / 4]
var<workgroup> ws: array<vec4<f32>, ${BK * T / 4}>; // [k][W row / 4]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) l3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
${tileOrder(8)}
  let m0 = mTile * ${T}u;
  let n0 = nTile * ${outCols}u;
  let tm = l3.y * 4u;
  let tn = l3.x * 4u;
  var acc: array<f32, 16>;
  for (var e = 0u; e < 16u; e++) { acc[e] = 0.0; }
  for (var k0 = 0u; k0 < P.K; k0 += ${BK}u) {
    // stage the slice: element e = (row r, depth kk), stored transposed [kk][r]
    for (var e = lid; e < ${BK * T}u; e += 256u) {
      let kk = e % ${BK}u;
      let r = e / ${BK}u;
      let gk = k0 + kk;
      var xv = 0.0;
      if (m0 + r < P.M && gk < P.K) { xv = f32(x[(m0 + r) * P.K + gk]); }
      xs[kk * ${T / 4}u + r / 4u][r % 4u] = xv;
      var wv = 0.0;
      if (${wCol} < P.N && gk < P.K) { wv = f32(w[(${wRow}) * P.K + gk]); }
      ws[kk * ${T / 4}u + r / 4u][r % 4u] = wv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      let a = xs[kk * ${T / 4}u + l3.y];
      let b = ws[kk * ${T / 4}u + l3.x];
      for (var i = 0u; i < 4u; i++) {
        acc[i * 4u] += a[i] * b.x;
        acc[i * 4u + 1u] += a[i] * b.y;
        acc[i * 4u + 2u] += a[i] * b.z;
        acc[i * 4u + 3u] += a[i] * b.w;
      }
    }
    workgroupBarrier();
  }
${finish}
}
`
  );
}
function encodeDenseTiled(ctx2, batch, t, o) {
  const c = { xDtype: t.x.dtype, wDtype: t.w.dtype, gated: o.gated };
  const p = ctx2.pipeline(denseTiledKey(c), () => denseTiledWgsl(c), DENSE_LAYOUT);
  dispatchDense(ctx2, batch, p, t, o, T, T, "dense matmul (register-tiled)");
}

// packages/kernels-webgpu/src/dense/matmul.ts
var CONTEXT = "dense--webgpu_matmul";
var posInt = (name, v) => {
  if (!Number.isInteger(v) || v < 1)
    throw new KernelArgumentError(name, "a positive integer", String(v), CONTEXT);
};
function denseMatmulPath(ctx2, o) {
  return matrixProblem(ctx2, o) ? "tiled" : "matrix";
}
function matrixProblem(ctx2, o) {
  if (!sgmatSupported(ctx2.features))
    return "the adapter has no f16\u2192f32 16\xD716\xD716 subgroup matrices with 32-lane subgroups";
  if (ctx2.matrixPath?.state === "failed") return `the matrix-path probe failed: ${ctx2.matrixPath.reason}`;
  if (o.wDtype !== "f16") return "W is not f16";
  if (o.K % 8) return `K = ${o.K} is not a multiple of 8`;
  const tiles = o.tiles ?? ctx2.tuning.denseTiles ?? chooseDenseTiles(o.M, o.N, ctx2.limits, !!o.gated);
  return denseSgmatTilesProblem(tiles, !!o.gated, ctx2.limits.maxComputeWorkgroupStorageSize);
}
function resolve(ctx2, a, y) {
  const { x, w: w2 } = a;
  for (const [name, t] of [
    ["x", x],
    ["w", w2]
  ]) {
    if (!t || t.released) throw new KernelArgumentError(name, "a live GpuTensor", String(t), CONTEXT);
    if (t.shape.length !== 2)
      throw new KernelArgumentError(name, "a 2-D tensor", `shape (${t.shape.join(", ")})`, CONTEXT);
  }
  const gated = a.gate === "silu";
  if (a.gate != null && !gated)
    throw new KernelArgumentError("gate", "'silu' or null", String(a.gate), CONTEXT);
  const K = a.K ?? w2.shape[1];
  const N = a.N ?? (gated ? w2.shape[0] / 2 : w2.shape[0]);
  const M = a.M ?? x.shape[0];
  posInt("M", M);
  posInt("N", N);
  posInt("K", K);
  const wRows = gated ? 2 * N : N;
  if (w2.shape[0] < wRows || w2.shape[1] !== K)
    throw new KernelArgumentError("w", `shape (${wRows}, ${K})`, `(${w2.shape.join(", ")})`, CONTEXT);
  if (x.shape[0] < M || x.shape[1] !== K)
    throw new KernelArgumentError("x", `at least ${M} rows of ${K}`, `(${x.shape.join(", ")})`, CONTEXT);
  const nOff = a.nOff ?? 0;
  const ldy = a.ldy ?? N;
  if (!Number.isInteger(nOff) || nOff < 0)
    throw new KernelArgumentError("nOff", "a non-negative integer", String(nOff), CONTEXT);
  if (gated && nOff !== 0) throw new KernelArgumentError("nOff", "0 with gate 'silu'", String(nOff), CONTEXT);
  if (!Number.isInteger(ldy) || ldy < nOff + N)
    throw new KernelArgumentError("ldy", `an integer >= nOff + N = ${nOff + N}`, String(ldy), CONTEXT);
  if (y) {
    if (y.released) throw new KernelArgumentError("y", "a live GpuTensor", "a released one", CONTEXT);
    if (y.dtype !== "f32") throw new KernelArgumentError("y", "dtype 'f32'", `'${y.dtype}'`, CONTEXT);
    if (y.numel < M * ldy)
      throw new KernelArgumentError("y", `at least M\xB7ldy = ${M * ldy} elements`, String(y.numel), CONTEXT);
  } else if (a.accumulate) {
    throw new KernelArgumentError("y", "a tensor to accumulate into (accumulate: true)", "none", CONTEXT);
  }
  if (a.bias) {
    if (a.bias.dtype !== "f32")
      throw new KernelArgumentError("bias", "dtype 'f32'", `'${a.bias.dtype}'`, CONTEXT);
    if (a.bias.numel < nOff + wRows)
      throw new KernelArgumentError(
        "bias",
        `at least nOff + ${wRows} elements`,
        String(a.bias.numel),
        CONTEXT
      );
  }
  const softcap2 = a.softcap ?? 0;
  if (!Number.isFinite(softcap2) || softcap2 < 0)
    throw new KernelArgumentError(
      "softcap",
      "a finite number >= 0 (0 or null: off)",
      String(softcap2),
      CONTEXT
    );
  for (const [name, t] of [
    ["x", x],
    ["w", w2],
    ["y", y],
    ["bias", a.bias]
  ])
    if (t) ctx2.checkBindingSize(name, t.byteLength, CONTEXT);
  if (a.castInto) {
    const c = a.castInto;
    if (c.released || c.dtype !== "f16" || c.numel < M * K)
      throw new KernelArgumentError(
        "castInto",
        `a live f16 tensor of at least M\xB7K = ${M * K} elements`,
        c.released ? "a released one" : `${c.dtype}, ${c.numel} elements`,
        CONTEXT
      );
  }
  const want = a.path ?? "auto";
  if (want !== "auto" && want !== "matrix" && want !== "tiled")
    throw new KernelArgumentError("path", "'auto', 'matrix' or 'tiled'", String(want), CONTEXT);
  const tiles = a.tiles ?? ctx2.tuning.denseTiles ?? chooseDenseTiles(M, N, ctx2.limits, gated);
  const problem = want === "tiled" ? "" : matrixProblem(ctx2, { wDtype: w2.dtype, M, N, K, gated, tiles });
  if (want === "matrix" && problem)
    throw new KernelArgumentError("path", "a path this call can take", `'matrix' (${problem})`, CONTEXT);
  const path2 = want === "tiled" || problem ? "tiled" : "matrix";
  return { M, N, K, ldy, nOff, gated, path: path2, tiles };
}
function encodeDenseMatmul(ctx2, batch, a) {
  const r2 = resolve(ctx2, a, a.y);
  const t = { x: a.x, w: a.w, bias: a.bias ?? null, y: a.y };
  const o = {
    M: r2.M,
    N: r2.N,
    K: r2.K,
    ldy: r2.ldy,
    nOff: r2.nOff,
    accumulate: !!a.accumulate,
    softcap: a.softcap ?? 0,
    gated: r2.gated
  };
  if (r2.path === "matrix" && t.x.dtype === "f32" && a.castX !== false) {
    const x16 = a.castInto ? a.castInto.numel === r2.M * r2.K ? a.castInto : a.castInto.subview(0, [r2.M, r2.K]) : batch.scratch([r2.M, r2.K], "f16");
    encodeCast(ctx2, batch, t.x.numel === r2.M * r2.K ? t.x : t.x.subview(0, [r2.M, r2.K]), x16);
    t.x = x16;
  }
  if (r2.path === "matrix") encodeDenseSgmat(ctx2, batch, t, o, r2.tiles);
  else encodeDenseTiled(ctx2, batch, t, o);
  return r2.path;
}

// packages/hf-model/src/errors.ts
var XlstmConfigError = class extends MlstmError {
  key;
  constructor(key, message) {
    super(`config.json: ${key}: ${message}`);
    this.name = "XlstmConfigError";
    this.key = key;
  }
};
var MissingTensorError = class extends MlstmError {
  tensor;
  constructor(tensor, alternatives = []) {
    super(
      `checkpoint: missing tensor ${tensor}${alternatives.length ? ` (also looked for ${alternatives.join(", ")})` : ""}`
    );
    this.name = "MissingTensorError";
    this.tensor = tensor;
  }
};
var TensorShapeError = class extends MlstmError {
  tensor;
  expected;
  received;
  constructor(tensor, expected, received) {
    super(
      `checkpoint: tensor ${tensor} has shape [${received.join(", ")}], expected [${expected.join(", ")}]`
    );
    this.name = "TensorShapeError";
    this.tensor = tensor;
    this.expected = [...expected];
    this.received = [...received];
  }
};
var CheckpointFormatError = class extends MlstmError {
  file;
  /** the tensor concerned, when the problem is one tensor's */
  tensor;
  constructor(file, message, tensor = null) {
    super(`${file}: ${message}`);
    this.name = "CheckpointFormatError";
    this.file = file;
    this.tensor = tensor;
  }
};
var ModelSourceError = class extends MlstmError {
  file;
  constructor(file, message) {
    super(`${file}: ${message}`);
    this.name = "ModelSourceError";
    this.file = file;
  }
};
var ModelTooLargeError = class extends MlstmOutOfMemoryError {
  tensor;
  bytes;
  limit;
  constructor(tensor, bytes, limit, limitName) {
    super(
      `${tensor} needs ${bytes} bytes on the GPU, more than the adapter's ${limitName} = ${limit} bytes (use dtype "f16", "q8" or "q4", a smaller model, or the CPU path)`
    );
    this.name = "ModelTooLargeError";
    this.tensor = tensor;
    this.bytes = bytes;
    this.limit = limit;
  }
};
var ModelArgumentError = class extends MlstmArgumentError {
  constructor(argument, message) {
    super(argument, message, "");
    this.message = `${argument}: ${message}`;
    this.name = "ModelArgumentError";
  }
};
var QuantFormatError = class extends Error {
  tensor;
  problem;
  constructor(tensor, problem) {
    super(`quantised weights: ${tensor}: ${problem}`);
    this.name = "QuantFormatError";
    this.tensor = tensor;
    this.problem = problem;
  }
};

// packages/hf-model/src/quant/formats.ts
var GROUP_SIZE = 32;
var WEIGHT_FORMATS = ["f32", "f16", "q8", "q4"];
var isQuantFormat = (f) => f === "q8" || f === "q4";
var WORDS_PER_GROUP = { q8: 8, q4: 4 };
var QMAX = { q8: 127, q4: 7 };
var groupsPerRow = (cols) => Math.ceil(cols / GROUP_SIZE);
var wordsPerRow = (format2, cols) => groupsPerRow(cols) * WORDS_PER_GROUP[format2];
function matrixBytes(format2, rows, cols) {
  if (format2 === "f32") return 4 * rows * cols;
  if (format2 === "f16") return 2 * rows * cols;
  return rows * (4 * wordsPerRow(format2, cols) + 2 * groupsPerRow(cols));
}
var F16_MAX2 = 65504;
function quantize(format2, w2, rows, cols, name = "matrix") {
  if (!isQuantFormat(format2))
    throw new QuantFormatError(name, `unknown quantised format ${JSON.stringify(format2)}`);
  if (w2.length !== rows * cols) {
    throw new QuantFormatError(name, `has ${w2.length} values, expected rows \xD7 cols = ${rows} \xD7 ${cols}`);
  }
  const G = groupsPerRow(cols);
  const wpg = WORDS_PER_GROUP[format2];
  const data = new Uint32Array(rows * G * wpg);
  const scales = new Uint16Array(rows * G);
  const q4 = format2 === "q4";
  const qmax = QMAX[format2];
  const qmin = q4 ? -8 : -127;
  const per = q4 ? 8 : 4;
  const bits = q4 ? 4 : 8;
  const mask = q4 ? 15 : 255;
  const bias = q4 ? 8 : 0;
  for (let r2 = 0; r2 < rows; r2++) {
    const ro = r2 * cols;
    for (let g = 0; g < G; g++) {
      const k0 = ro + g * GROUP_SIZE;
      const k1 = ro + Math.min(cols, (g + 1) * GROUP_SIZE);
      let m = 0;
      let am = 0;
      let chk = 0;
      for (let k = k0; k < k1; k++) {
        const v = w2[k];
        chk += v * 0;
        const a = v < 0 ? -v : v;
        if (a > am) {
          am = a;
          m = v;
        }
      }
      if (chk !== 0) throw new QuantFormatError(name, `row ${r2} has a value that is not finite`);
      let s = m === 0 ? 0 : q4 ? -m / 8 : am / 127;
      s = Math.min(F16_MAX2, Math.max(-F16_MAX2, s));
      const sb = f32ToF16Bits(s);
      const sv = f16BitsToF32(sb);
      scales[r2 * G + g] = sb;
      const wo = (r2 * G + g) * wpg;
      for (let j0 = 0; j0 < GROUP_SIZE; j0 += per) {
        let word = 0;
        for (let j = 0; j < per; j++) {
          const k = k0 + j0 + j;
          let q = 0;
          if (k < k1 && sv !== 0) {
            q = Math.min(qmax, Math.max(qmin, roundHalfAway(w2[k] / sv)));
          }
          word |= (q + bias & mask) << bits * j;
        }
        data[wo + j0 / per] = word >>> 0;
      }
    }
  }
  return { format: format2, rows, cols, data, scales };
}
var roundHalfAway = (t) => t < 0 ? -Math.floor(0.5 - t) : Math.floor(t + 0.5);
function quantAt(format2, data, wo, k) {
  if (format2 === "q4") return (data[wo + (k >> 3)] >>> 4 * (k & 7) & 15) - 8;
  return data[wo + (k >> 2)] << 24 - 8 * (k & 3) >> 24 | 0;
}
function dequantize(m, out2, r0 = 0, r1 = m.rows) {
  const { format: format2, cols } = m;
  const G = groupsPerRow(cols);
  const wpg = WORDS_PER_GROUP[format2];
  const dst = out2 ?? new Float32Array((r1 - r0) * cols);
  for (let r2 = r0; r2 < r1; r2++) {
    const o = (r2 - r0) * cols;
    for (let g = 0; g < G; g++) {
      const s = f16BitsToF32(m.scales[r2 * G + g]);
      const wo = (r2 * G + g) * wpg;
      const n = Math.min(GROUP_SIZE, cols - g * GROUP_SIZE);
      for (let j = 0; j < n; j++) dst[o + g * GROUP_SIZE + j] = quantAt(format2, m.data, wo, j) * s;
    }
  }
  return dst;
}
function sliceRows(m, r0, r1) {
  const G = groupsPerRow(m.cols);
  const wpr = wordsPerRow(m.format, m.cols);
  return {
    format: m.format,
    rows: r1 - r0,
    cols: m.cols,
    data: m.data.subarray(r0 * wpr, r1 * wpr),
    scales: m.scales.subarray(r0 * G, r1 * G)
  };
}
function concatRows(parts, name = "matrix") {
  const { format: format2, cols } = parts[0];
  for (const p of parts) {
    if (p.format !== format2 || p.cols !== cols) {
      throw new QuantFormatError(
        name,
        `cannot stack ${p.format} [${p.rows}, ${p.cols}] onto ${format2} rows of ${cols}`
      );
    }
  }
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const data = new Uint32Array(rows * wordsPerRow(format2, cols));
  const scales = new Uint16Array(rows * groupsPerRow(cols));
  let d = 0;
  let s = 0;
  for (const p of parts) {
    data.set(p.data, d);
    scales.set(p.scales, s);
    d += p.data.length;
    s += p.scales.length;
  }
  return { format: format2, rows, cols, data, scales };
}

// packages/hf-model/src/gpu/gemv.ts
var GEMV_WG = 256;
var GEMV_MAX_MT = 8;
var GEMV_MAX_OUT_BLOCKS = 6;
var params4 = defineParams({
  M: "u32",
  N: "u32",
  KC: "u32",
  hasBias: "u32",
  accumulate: "u32",
  softcap: "f32",
  nOff: "u32",
  ldy: "u32",
  xRow: "u32",
  xUp: "u32",
  normK: "u32",
  normEps: "f32",
  capFrom: "u32",
  // column bounds of the output blocks (cb1…cb5; unused ones = ldy) and their starts in y
  cb1: "u32",
  cb2: "u32",
  cb3: "u32",
  cb4: "u32",
  cb5: "u32",
  st0: "u32",
  st1: "u32",
  st2: "u32",
  st3: "u32",
  st4: "u32",
  st5: "u32",
  blocked: "u32",
  inRow: "u32"
});
function outParams(o, ldy) {
  const cb = Array(5).fill(ldy);
  const st = Array(6).fill(0);
  const b = o.outBlocks;
  if (b) {
    let c = 0;
    b.widths.forEach((w2, j) => {
      if (j > 0) cb[j - 1] = c;
      st[j] = b.starts[j];
      c += w2;
    });
  }
  return {
    capFrom: o.softcapFrom ?? 0,
    cb1: cb[0],
    cb2: cb[1],
    cb3: cb[2],
    cb4: cb[3],
    cb5: cb[4],
    st0: st[0],
    st1: st[1],
    st2: st[2],
    st3: st[3],
    st4: st[4],
    st5: st[5],
    blocked: b ? 1 : 0
  };
}
var pow2Floor = (n) => 2 ** Math.floor(Math.log2(Math.max(1, n)));
function gemvVec(dtype2, K) {
  if (isQuantFormat(dtype2)) return 32;
  for (const v of dtype2 === "f16" ? [8, 4, 2] : [4, 2]) if (K % v === 0) return v;
  return 1;
}
var loadsPerRow = (dtype2, vec, K) => isQuantFormat(dtype2) ? groupsPerRow(K) : K / vec;
function gemvConfig(ctx2, dtype2, M, N, K, swiglu = false) {
  const tiles = Math.ceil(M / GEMV_MAX_MT);
  const mt = Math.ceil(M / tiles);
  const small2 = mt === 1 && !swiglu && N * K <= 2 ** 26;
  const nr = small2 ? 2 : Math.max(1, Math.min(4, pow2Floor(16 / mt)));
  const vec = gemvVec(dtype2, K);
  const KC = loadsPerRow(dtype2, vec, K);
  const want = Math.ceil(512 * GEMV_WG * nr / Math.max(1, N));
  const sgMin = ctx2.features.subgroups ? Math.max(8, ctx2.features.subgroupMaxSize) : 8;
  const pref = isQuantFormat(dtype2) ? sgMin : small2 ? 128 : mt > 1 ? 64 : sgMin;
  const minTpr = Math.max(
    sgMin,
    2 ** Math.ceil(Math.log2(mt * nr)),
    Math.min(pref, 2 ** Math.ceil(Math.log2(KC)))
  );
  let tpr = Math.min(GEMV_WG, 2 ** Math.ceil(Math.log2(Math.max(minTpr, want))));
  while (tpr > minTpr && tpr / 2 >= KC) tpr /= 2;
  return { vec, rg: GEMV_WG / tpr, nr, mt, subgroups: ctx2.features.subgroups };
}
function redFloats(c, minSubgroup, norm) {
  const tpr = GEMV_WG / c.rg;
  const seg = c.subgroups ? Math.min(tpr, Math.max(1, minSubgroup)) : 1;
  return c.mt * (c.nr + (norm ? 1 : 0)) * (GEMV_WG / seg);
}
function checkConfig(c, dtype2, K, ctx2, norm) {
  const bad = (k, want, got) => new ModelArgumentError(`gemv config.${k}`, `expected ${want}, got ${got}`);
  if (isQuantFormat(dtype2)) {
    if (c.vec !== 32) throw bad("vec", "32 (one group) for quantised weights", c.vec);
  } else {
    const vecs = dtype2 === "f16" ? [8, 4, 2, 1] : [4, 2, 1];
    if (!vecs.includes(c.vec) || K % c.vec !== 0) throw bad("vec", `one of ${vecs} dividing K = ${K}`, c.vec);
  }
  if (!(c.rg >= 1 && c.rg <= GEMV_WG && GEMV_WG % c.rg === 0 && pow2Floor(c.rg) === c.rg))
    throw bad("rg", `a power of two dividing ${GEMV_WG}`, c.rg);
  if (!(Number.isInteger(c.nr) && c.nr >= 1 && c.nr <= 8)) throw bad("nr", "an integer in [1, 8]", c.nr);
  if (!(Number.isInteger(c.mt) && c.mt >= 1 && c.mt <= 32)) throw bad("mt", "an integer in [1, 32]", c.mt);
  if (c.rg * c.mt * c.nr > GEMV_WG)
    throw bad(
      "rg\xB7mt\xB7nr",
      `at most ${GEMV_WG} (one invocation per row group and partial sum)`,
      c.rg * c.mt * c.nr
    );
  if (c.subgroups && !ctx2.features.subgroups) throw bad("subgroups", "false (no subgroups feature)", true);
  const bytes = 4 * redFloats(c, ctx2.features.subgroupMinSize, norm);
  if (bytes > ctx2.limits.maxComputeWorkgroupStorageSize)
    throw bad("mt\xB7nr", `a reduction of at most ${ctx2.limits.maxComputeWorkgroupStorageSize} bytes`, bytes);
}
function weightAccess(dtype2, vec) {
  if (dtype2 === "f32") {
    return { type: vec === 1 ? "f32" : `vec${vec}<f32>`, pieces: (q) => [q] };
  }
  const u = (q) => `unpack2x16float(${q})`;
  switch (vec) {
    case 8:
      return {
        type: "vec4<u32>",
        pieces: (q) => [
          `vec4<f32>(${u(`${q}.x`)}, ${u(`${q}.y`)})`,
          `vec4<f32>(${u(`${q}.z`)}, ${u(`${q}.w`)})`
        ]
      };
    case 4:
      return { type: "vec2<u32>", pieces: (q) => [`vec4<f32>(${u(`${q}.x`)}, ${u(`${q}.y`)})`] };
    case 2:
      return { type: "u32", pieces: (q) => [u(q)] };
    default:
      return { type: "f16", pieces: (q) => [`f32(${q})`] };
  }
}
var SCALE_WGSL = `
fn scale(i: u32) -> f32 { return unpack2x16float(scales[i >> 1u])[i & 1u]; }`;
var ACT_WORDS = 12;
function quantBody(fmt6, nr, mt, R3, norm) {
  const body = [];
  const c4 = ["x", "y", "z", "w"];
  for (let r2 = 0; r2 < nr; r2++) {
    body.push(`    let s${r2} = scale(sr${r2} + ck);`);
    if (fmt6 === "q4") {
      body.push(`    let q${r2} = w[wr${r2} + ck];`);
      for (let j = 0; j < 4; j++) {
        body.push(`    let l${r2}_${j} = q${r2}.${c4[j]} & 0x0F0F0F0Fu;`);
        body.push(`    let h${r2}_${j} = (q${r2}.${c4[j]} >> 4u) & 0x0F0F0F0Fu;`);
      }
    } else {
      body.push(`    let q${r2}_0 = w[wr${r2} + 2u * ck];`, `    let q${r2}_1 = w[wr${r2} + 2u * ck + 1u];`);
    }
  }
  for (let m = 0; m < mt; m++) {
    body.push("    {");
    body.push(`      let xa = x[xr${m} + 3u * ck];`, `      let xb = x[xr${m} + 3u * ck + 1u];`);
    body.push(`      let xs = bitcast<vec3<f32>>(x[xr${m} + 3u * ck + 2u].xyz);`);
    if (norm) body.push(`      ss${m} += xs.z;`);
    for (let r2 = 0; r2 < nr; r2++) {
      const terms = [];
      for (let j = 0; j < 8; j++) {
        const xw = `${j < 4 ? "xa" : "xb"}.${c4[j % 4]}`;
        const ww = fmt6 === "q4" ? `${j % 2 === 0 ? "l" : "h"}${r2}_${j >> 1}` : `q${r2}_${j >> 2}.${c4[j % 4]}`;
        terms.push(`dot4I8Packed(${ww}, ${xw})`);
      }
      body.push(`      let d${r2} = ${terms.join(" + ")};`);
      body.push(
        fmt6 === "q4" ? `      ${R3(m, r2)} += s${r2} * (xs.x * f32(d${r2}) - 8.0 * xs.y);` : `      ${R3(m, r2)} += s${r2} * xs.x * f32(d${r2});`
      );
    }
    body.push("    }");
  }
  return body;
}
function quantGroupWgsl(fmt6, target, o) {
  const { src, K } = o;
  return `${storeActsWgsl(fmt6, target)}
fn inAt(r: u32, k: u32) -> f32 {
  if (k >= ${K}) { return 0.0; }
  let at = r * ${o.row} + k;
${o.swiglu ? `  let z = ${src}[at];
  let e = exp(-abs(z));
  return z * select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0) * ${src}[at + ${o.up}];` : `  return ${src}[at];`}
}
fn quantGroup(i: u32, r: u32, k0: u32) {
  var v: array<f32, 32>;
  var ss = 0.0;
  for (var j = 0u; j < 32u; j++) {
    let u = inAt(r, k0 + j);
${o.norm ? `    ss += u * u;
    v[j] = u * select(0.0, nw[min(k0 + j, ${K} - 1u)], k0 + j < ${K});` : "    v[j] = u;"}
  }
  storeActs(i, v, ${o.norm ? "ss" : "0.0"});
}`;
}
function inlineDecls(fmt6, inline, swiglu, norm) {
  return `
${norm ? "@group(0) @binding(6) var<storage, read> nw: array<f32>;" : ""}
var<workgroup> x: array<vec4<u32>, ${3 * inline.M * inline.G}>;
${quantGroupWgsl(fmt6, "x", { src: "xin", K: "P.normK", row: "P.inRow", up: "P.xUp", swiglu, norm })}`;
}
function gemvWgsl(dtype2, c, swiglu, minSubgroup, norm = false, inline = null) {
  const { vec, rg, nr, mt } = c;
  const tpr = GEMV_WG / rg;
  const quant = isQuantFormat(dtype2);
  const xw = Math.min(vec, 4);
  const P = vec / xw;
  const xt = quant ? "vec4<u32>" : xw === 1 ? "f32" : `vec${xw}<f32>`;
  const V = mt * nr;
  const minSeg = c.subgroups ? Math.min(tpr, Math.max(1, minSubgroup)) : 1;
  const stride2 = GEMV_WG / minSeg;
  const R3 = (m, r2) => `a${m}_${r2}`;
  let body = [];
  let wType = "vec4<u32>";
  if (quant) body = quantBody(dtype2, nr, mt, R3, norm);
  else {
    const wa = weightAccess(dtype2, vec);
    wType = wa.type;
    const dot2 = (a, b) => xw === 1 ? `${a} * ${b}` : `dot(${a}, ${b})`;
    for (let r2 = 0; r2 < nr; r2++) {
      body.push(`    let q${r2} = w[wr${r2} + ck];`);
      for (const [p, e] of wa.pieces(`q${r2}`).entries()) body.push(`    let w${r2}_${p} = ${e};`);
    }
    for (let m = 0; m < mt; m++) {
      body.push("    {");
      for (let p = 0; p < P; p++) {
        const at = `xr${m} + ck * ${P}u + ${p}u`;
        if (norm) {
          body.push(`      let xv${p} = x[${at}];`);
          body.push(`      ss${m} += ${xw === 1 ? `xv${p} * xv${p}` : `dot(xv${p}, xv${p})`};`);
          body.push(`      let x${p} = xv${p} * nw[ck * ${P}u + ${p}u];`);
        } else
          body.push(
            swiglu ? `      let x${p} = silu_v(x[${at}]) * x[${at} + P.xUp];` : `      let x${p} = x[${at}];`
          );
      }
      for (let r2 = 0; r2 < nr; r2++) {
        const terms = Array.from({ length: P }, (_, p) => dot2(`w${r2}_${p}`, `x${p}`)).join(" + ");
        body.push(`      ${R3(m, r2)} += ${terms};`);
      }
      body.push("    }");
    }
  }
  const wpl = quant ? dtype2 === "q8" ? 2 : 1 : 1;
  const rowStarts = Array.from(
    { length: nr },
    (_, r2) => `  let wr${r2} = min(n0 + ${r2}u, P.N - 1u) * P.KC${wpl > 1 ? ` * ${wpl}u` : ""};` + (quant ? `
  let sr${r2} = min(n0 + ${r2}u, P.N - 1u) * P.KC;` : "")
  ).join("\n");
  const reduceOne = (v, slot) => c.subgroups ? `  {
    var s = ${v};
    if (sg <= TPR) { s = subgroupAdd(s); } else {
      for (var o = TPR / 2u; o > 0u; o = o / 2u) { s += subgroupShuffleXor(s, o); }
    }
    if (tid % seg == 0u) { red[${slot}u * STRIDE + tid / seg] = s; }
  }` : `  red[${slot}u * STRIDE + tid] = ${v};`;
  return (
    /* wgsl */
    `${dtype2 === "f16" && vec === 1 ? "enable f16;" : ""}
${c.subgroups ? "enable subgroups;\ndiagnostic(off, subgroup_uniformity);" : ""}
${params4.wgsl()}
const TPR: u32 = ${tpr}u;
const RG: u32 = ${rg}u;
const NR: u32 = ${nr}u;
const MT: u32 = ${mt}u;
const STRIDE: u32 = ${stride2}u;
@group(0) @binding(0) var<uniform> P: Params;
${inline ? "@group(0) @binding(1) var<storage, read> xin: array<f32>;" : `@group(0) @binding(1) var<storage, read> x: array<${xt}>;`}
@group(0) @binding(2) var<storage, read> w: array<${wType}>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
${quant ? `@group(0) @binding(5) var<storage, read> scales: array<u32>;${SCALE_WGSL}` : ""}${norm && !quant ? `@group(0) @binding(5) var<storage, read> nw: array<${xt}>;` : ""}${inline ? inlineDecls(dtype2, inline, swiglu, norm) : ""}
var<workgroup> red: array<f32, ${(V + (norm ? mt : 0)) * stride2}>;
${quant ? "" : `
fn silu_v(z: ${xt}) -> ${xt} {
  let e = exp(-abs(z));
  return z * select(e / (1.0 + e), 1.0 / (1.0 + e), z >= ${xt}(0.0));
}`}

// where output (m, column c) lives: row m of y, or row m of c's column block
fn outAt(m: u32, c: u32) -> u32 {
  if (P.blocked == 0u) { return m * P.ldy + c; }
  var lo = 0u; var hi = P.cb1; var st = P.st0;
  if (c >= P.cb1) { lo = P.cb1; hi = P.cb2; st = P.st1; }
  if (c >= P.cb2) { lo = P.cb2; hi = P.cb3; st = P.st2; }
  if (c >= P.cb3) { lo = P.cb3; hi = P.cb4; st = P.st3; }
  if (c >= P.cb4) { lo = P.cb4; hi = P.cb5; st = P.st4; }
  if (c >= P.cb5) { lo = P.cb5; hi = P.ldy; st = P.st5; }
  return st + m * (hi - lo) + (c - lo);
}

fn epilogue(m: u32, n: u32, acc: f32) {
  var v = acc;
  if (P.hasBias != 0u) { v += bias[P.nOff + n]; }
  if (P.softcap > 0.0 && P.nOff + n >= P.capFrom) { v = P.softcap * tanh(clamp(v / P.softcap, -20.0, 20.0)); }
  let o = outAt(m, P.nOff + n);
  if (P.accumulate != 0u) { v += y[o]; }
  y[o] = v;
}

@compute @workgroup_size(${GEMV_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) tid: u32${c.subgroups ? ", @builtin(subgroup_size) sg: u32" : ""}) {
  let group = tid / TPR;
  let lane = tid % TPR;
  let n0 = ((wid.x + wid.y * nwg.x) * RG + group) * NR; // first row of W of this group
  let m0 = wid.z * MT;
${rowStarts}
${Array.from({ length: mt }, (_, m) => inline ? `  let xr${m} = ${m}u * P.xRow;` : `  let xr${m} = min(m0 + ${m}u, P.M - 1u) * P.xRow;`).join("\n")}
${Array.from({ length: mt }, (_, m) => Array.from({ length: nr }, (_2, r2) => `  var ${R3(m, r2)} = 0.0;`).join("\n")).join("\n")}
${norm ? Array.from({ length: mt }, (_, m) => `  var ss${m} = 0.0;`).join("\n") : ""}
${inline ? `  // this workgroup's int8 activations: every group of 32 of the x rows, into workgroup memory
  for (var i = tid; i < ${inline.M * inline.G}u; i += ${GEMV_WG}u) {
    quantGroup(i, min(m0 + i / ${inline.G}u, P.M - 1u), (i % ${inline.G}u) * 32u);
  }
  workgroupBarrier();` : ""}
  for (var ck = lane; ck < P.KC; ck += TPR) {
${body.join("\n")}
  }
${c.subgroups ? "  let seg = min(TPR, sg);" : ""}
${Array.from({ length: mt }, (_, m) => Array.from({ length: nr }, (_2, r2) => reduceOne(R3(m, r2), m * nr + r2)).join("\n")).join("\n")}
${norm ? Array.from({ length: mt }, (_, m) => reduceOne(`ss${m}`, V + m)).join("\n") : ""}
  workgroupBarrier();
  // one invocation per (group, x row, W row) adds the group's partial sums
  if (tid < RG * ${V}u) {
    let g = tid / ${V}u;
    let v = tid % ${V}u;
    let m = m0 + v / NR;
    let n = (((wid.x + wid.y * nwg.x) * RG + g) * NR) + v % NR;
    ${c.subgroups ? "let parts = TPR / seg;" : "let parts = TPR;"}
    var s = 0.0;
    for (var j = 0u; j < parts; j++) { s += red[v * STRIDE + g * parts + j]; }
${norm ? `    // the folded RMSNorm: the group's sum of squares of x row m (in the same order for every n)
    var ss = 0.0;
    for (var j = 0u; j < parts; j++) { ss += red[(${V}u + v / NR) * STRIDE + g * parts + j]; }
    s *= inverseSqrt(ss / f32(P.normK) + P.normEps);` : ""}
    if (m < P.M && n < P.N) { epilogue(m, n, s); }
  }
}`
  );
}
function splitWorkgroups2(count, max) {
  const y = Math.ceil(Math.max(1, count) / max);
  return [Math.ceil(Math.max(1, count) / y), y];
}
function checkShapes(name, x, y, o, weights) {
  const { M, N, K } = o;
  for (const [k, v] of [
    ["M", M],
    ["N", N],
    ["K", K]
  ]) {
    if (!Number.isInteger(v) || v < 1)
      throw new ModelArgumentError(`${name} ${k}`, `expected an integer >= 1, got ${v}`);
  }
  weights();
  if (o.norm) {
    if (o.swiglu) throw new ModelArgumentError(`${name} norm`, "expected no norm with the SwiGLU input");
    const nw = o.norm.w;
    if (nw.dtype !== "f32" || nw.numel < K)
      throw new ModelArgumentError(
        `${name} norm.w`,
        `expected an f32 tensor of at least K = ${K} elements, got ${nw.dtype} ${nw.numel}`
      );
    if (!(Number.isFinite(o.norm.eps) && o.norm.eps >= 0))
      throw new ModelArgumentError(`${name} norm.eps`, `expected a finite number >= 0, got ${o.norm.eps}`);
  }
  const xCols = o.swiglu ? 2 * K : K;
  if (x.numel < M * xCols)
    throw new ModelArgumentError(`${name} x`, `expected at least ${M}\xB7${xCols} elements, got ${x.numel}`);
  const ldy = o.ldy ?? N;
  const nOff = o.nOff ?? 0;
  const b = o.outBlocks;
  if (b) {
    const { widths: w2, starts: st } = b;
    const ok = w2.length >= 1 && w2.length <= GEMV_MAX_OUT_BLOCKS && st.length === w2.length && w2.every((v) => Number.isInteger(v) && v >= 1) && st.every((v) => Number.isInteger(v) && v >= 0);
    if (!ok || w2.reduce((a, v) => a + v, 0) !== ldy)
      throw new ModelArgumentError(
        `${name} outBlocks`,
        `expected 1\u2026${GEMV_MAX_OUT_BLOCKS} integer widths adding up to ldy = ${ldy} and as many starts, got widths [${w2}] starts [${st}]`
      );
    const end = Math.max(...w2.map((v, j) => st[j] + M * v));
    if (y.numel < end)
      throw new ModelArgumentError(
        `${name} y`,
        `expected at least ${end} elements (outBlocks), got ${y.numel}`
      );
  } else if (y.numel < (M - 1) * ldy + nOff + N)
    throw new ModelArgumentError(
      `${name} y`,
      `expected at least ${(M - 1) * ldy + nOff + N} elements, got ${y.numel}`
    );
  return { xCols, ldy, nOff };
}
function encodeGemv(ctx2, batch, x, w2, b, y, o) {
  const { M, N, K } = o;
  const { xCols, ldy, nOff } = checkShapes("gemv", x, y, o, () => {
    if (w2.numel < N * K)
      throw new ModelArgumentError("gemv w", `expected at least ${N}\xB7${K} elements, got ${w2.numel}`);
  });
  const norm = o.norm ?? null;
  const c = { ...gemvConfig(ctx2, w2.dtype, M, N, K, !!o.swiglu), ...o.config };
  checkConfig(c, w2.dtype, K, ctx2, !!norm);
  const minSg = ctx2.features.subgroupMinSize;
  const key = `hf.gemv:${w2.dtype}:v${c.vec}:rg${c.rg}:nr${c.nr}:mt${c.mt}:${c.subgroups ? `sg${minSg}` : "wg"}${o.swiglu ? ":swiglu" : ""}${norm ? ":norm" : ""}`;
  const p = ctx2.pipeline(
    key,
    () => gemvWgsl(w2.dtype, c, !!o.swiglu, minSg, !!norm),
    norm ? ["uniform", "read", "read", "read", "rw", "read"] : ["uniform", "read", "read", "read", "rw"]
  );
  const xw = Math.min(c.vec, 4);
  const KC = K / c.vec;
  const xRow = xCols / xw;
  const [gx, gy] = splitWorkgroups2(Math.ceil(N / (c.rg * c.nr)), ctx2.limits.maxComputeWorkgroupsPerDimension);
  batch.dispatch(
    p,
    norm ? [x, w2, b ?? x, y, norm.w] : [x, w2, b ?? x, y],
    params4.pack({
      M,
      N,
      KC,
      hasBias: b ? 1 : 0,
      accumulate: o.accumulate ? 1 : 0,
      softcap: o.softcap ?? 0,
      nOff,
      ldy,
      xRow,
      xUp: K / xw,
      normK: K,
      normEps: norm?.eps ?? 0,
      ...outParams(o, ldy),
      inRow: 0
    }),
    [gx, gy, Math.ceil(M / c.mt)],
    o.swiglu ? "gemv (swiglu)" : norm ? "gemv (rmsnorm)" : "gemv"
  );
}
var actParams = defineParams({ M: "u32", K: "u32", G: "u32", xRow: "u32", xUp: "u32" });
var ACT_WG = 64;
function storeActsWgsl(fmt6, target = "acts") {
  const amax = Array.from({ length: 32 }, (_, j) => `abs(v[${j}])`).reduce((a, b) => `max(${a}, ${b})`);
  const q = Array.from({ length: 32 }, (_, j) => `  let q${j} = qz(v[${j}] * inv);`).join("\n");
  const order = fmt6 === "q8" ? Array.from({ length: 8 }, (_, j) => [4 * j, 4 * j + 1, 4 * j + 2, 4 * j + 3]) : Array.from({ length: 8 }, (_, w2) => {
    const b = 8 * (w2 >> 1) + (w2 & 1);
    return [b, b + 2, b + 4, b + 6];
  });
  const words = order.map((ix) => `pack4xI8(vec4<i32>(${ix.map((i) => `q${i}`).join(", ")}))`);
  const sum = Array.from({ length: 32 }, (_, j) => `q${j}`).join(" + ");
  return (
    /* wgsl */
    `
fn qz(t: f32) -> i32 { return i32(clamp(sign(t) * floor(abs(t) + 0.5), -127.0, 127.0)); }

fn storeActs(i: u32, v: array<f32, 32>, ss: f32) {
  let amax = ${amax};
  let inv = select(0.0, 127.0 / amax, amax > 0.0);
  let sx = amax / 127.0;
${q}
  ${target}[3u * i] = vec4<u32>(${words.slice(0, 4).join(", ")});
  ${target}[3u * i + 1u] = vec4<u32>(${words.slice(4).join(", ")});
  let sum = ${sum};
  ${target}[3u * i + 2u] = vec4<u32>(bitcast<u32>(sx), bitcast<u32>(sx * f32(sum)), bitcast<u32>(ss), 0u);
}`
  );
}
function actQuantWgsl(fmt6, swiglu, norm) {
  return (
    /* wgsl */
    `${actParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> acts: array<vec4<u32>>;
${norm ? "@group(0) @binding(3) var<storage, read> nw: array<f32>;" : ""}
${quantGroupWgsl(fmt6, "acts", { src: "x", K: "P.K", row: "P.xRow", up: "P.xUp", swiglu, norm })}

@compute @workgroup_size(${ACT_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${ACT_WG}u + lid;
  if (i >= P.M * P.G) { return; }
  quantGroup(i, i / P.G, (i % P.G) * 32u);
}`
  );
}
var qgemvActsElements = (M, K) => M * groupsPerRow(K) * ACT_WORDS;
var inlineBytes = (M, K) => 48 * M * groupsPerRow(K);
function qgemvInlineFits(ctx2, M, K, config) {
  if (M > 2) return false;
  const c = config ?? { ...gemvConfig(ctx2, "q4", M, 1 << 12, K), nr: 4 };
  const red = 4 * redFloats(c, ctx2.features.subgroupMinSize, true);
  return inlineBytes(Math.min(M, c.mt), K) + red <= ctx2.limits.maxComputeWorkgroupStorageSize;
}
function encodeQGemv(ctx2, batch, x, w2, b, y, o) {
  const { M, N, K } = o;
  const { xCols, ldy, nOff } = checkShapes("qgemv", x, y, o, () => {
    if (!ctx2.features.packedIntegerDot) {
      throw new ModelArgumentError(
        "qgemv",
        "needs WGSL's packed 4\xD78-bit integer dot product (language feature packed_4x8_integer_dot_product)"
      );
    }
    if (w2.rows !== N || w2.cols !== K)
      throw new ModelArgumentError("qgemv w", `a quantised [${N}, ${K}] matrix, got [${w2.rows}, ${w2.cols}]`);
  });
  const G = groupsPerRow(K);
  const c = { ...gemvConfig(ctx2, w2.format, M, N, K), ...o.config };
  const inline = o.inlineActs ? { M: Math.min(M, c.mt), G } : null;
  const acts = o.acts ?? null;
  if (inline) {
    if (!qgemvInlineFits(ctx2, M, K, c))
      throw new ModelArgumentError(
        "qgemv inlineActs",
        `at most 2 rows of x held in workgroup memory (${inlineBytes(M, K)} bytes for M = ${M}, K = ${K}; limit ${ctx2.limits.maxComputeWorkgroupStorageSize} with the reduction)`
      );
  } else {
    const need = qgemvActsElements(M, K);
    if (!acts || acts.numel < need || acts.dtype !== "f32")
      throw new ModelArgumentError(
        "qgemv acts",
        `an f32 scratch of at least ${need} elements, got ${acts ? `${acts.numel} ${acts.dtype}` : "none"}`
      );
  }
  const max = ctx2.limits.maxComputeWorkgroupsPerDimension;
  const norm = o.norm ?? null;
  if (acts && !inline && !o.actsReady) {
    const pa = ctx2.pipeline(
      `hf.qgemv.acts:${w2.format}${o.swiglu ? ":swiglu" : ""}${norm ? ":norm" : ""}`,
      () => actQuantWgsl(w2.format, !!o.swiglu, !!norm),
      norm ? ["uniform", "read", "rw", "read"] : ["uniform", "read", "rw"]
    );
    batch.dispatch(
      pa,
      norm ? [x, acts, norm.w] : [x, acts],
      actParams.pack({ M, K, G, xRow: xCols, xUp: K }),
      splitWorkgroups2(Math.ceil(M * G / ACT_WG), max),
      `qgemv ${w2.format} activations`
    );
  }
  checkConfig(c, w2.format, K, ctx2, !!norm);
  const minSg = ctx2.features.subgroupMinSize;
  const inl = inline ? `:inline${M}x${G}${o.swiglu ? ":swiglu" : ""}` : "";
  const key = `hf.gemv:${w2.format}:rg${c.rg}:nr${c.nr}:mt${c.mt}:${c.subgroups ? `sg${minSg}` : "wg"}${norm ? ":norm" : ""}${inl}`;
  const layout = ["uniform", "read", "read", "read", "rw", "read"];
  if (inline && norm) layout.push("read");
  const p = ctx2.pipeline(key, () => gemvWgsl(w2.format, c, !!o.swiglu, minSg, !!norm, inline), layout);
  const [gx, gy] = splitWorkgroups2(Math.ceil(N / (c.rg * c.nr)), max);
  const xb = inline ? x : acts;
  batch.dispatch(
    p,
    inline && norm ? [x, w2.data, b ?? x, y, w2.scales, norm.w] : [xb, w2.data, b ?? xb, y, w2.scales],
    params4.pack({
      M,
      N,
      KC: G,
      hasBias: b ? 1 : 0,
      accumulate: o.accumulate ? 1 : 0,
      softcap: o.softcap ?? 0,
      nOff,
      ldy,
      xRow: 3 * G,
      xUp: inline ? K : 0,
      normK: K,
      normEps: norm?.eps ?? 0,
      ...outParams(o, ldy),
      inRow: xCols
    }),
    [gx, gy, Math.ceil(M / c.mt)],
    inline ? `qgemv ${w2.format} (inline activations)` : `qgemv ${w2.format}`
  );
}

// packages/hf-model/src/config.ts
function roundUp(x, m) {
  return Math.floor((x + m - 1) / m) * m;
}
function mapKernelName(name) {
  return name.replace(/^chunkwise--triton_/, "chunkwise--webgpu_").replace(/^parallel--triton_/, "parallel--webgpu_").replace(/^native_sequence__triton$/, "native_sequence__webgpu").replace(/^triton$/, "webgpu");
}
function int(raw, key, def, min2 = 1) {
  const v = raw[key];
  if (v === void 0) return def;
  if (v === null) {
    if (def === null) return null;
    throw new XlstmConfigError(key, `expected an integer >= ${min2}, got null`);
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v < min2) {
    throw new XlstmConfigError(key, `expected an integer >= ${min2}, got ${JSON.stringify(v)}`);
  }
  return v;
}
function float(raw, key, def, opts = {}) {
  const v = raw[key];
  if (v === void 0) return def;
  if (v === null && opts.nullable) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || opts.positive && !(v > 0)) {
    throw new XlstmConfigError(
      key,
      `expected a finite ${opts.positive ? "positive " : ""}number${opts.nullable ? " or null" : ""}, got ${JSON.stringify(v)}`
    );
  }
  return v;
}
function bool(raw, key, def) {
  const v = raw[key];
  if (v === void 0) return def;
  if (typeof v !== "boolean") throw new XlstmConfigError(key, `expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}
function str(raw, key, def, allowed) {
  const v = raw[key];
  if (v === void 0 || v === null) return def;
  if (typeof v !== "string") throw new XlstmConfigError(key, `expected a string, got ${JSON.stringify(v)}`);
  if (allowed && !allowed.includes(v)) {
    throw new XlstmConfigError(key, `expected one of ${allowed.map((a) => `"${a}"`).join(", ")}, got "${v}"`);
  }
  return v;
}
function parseXlstmConfig(input) {
  let raw;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(input);
    } catch (e) {
      throw new XlstmConfigError("(file)", `not valid JSON: ${e.message}`);
    }
  } else raw = input;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new XlstmConfigError("(file)", "expected a JSON object");
  }
  if (raw.model_type !== void 0 && raw.model_type !== "xlstm") {
    throw new XlstmConfigError("model_type", `expected "xlstm", got ${JSON.stringify(raw.model_type)}`);
  }
  const hidden = int(raw, "hidden_size", 4096);
  const emb = int(raw, "embedding_dim", null);
  if (raw.hidden_size !== void 0 && emb !== null && emb !== hidden) {
    throw new XlstmConfigError("embedding_dim", `${emb} disagrees with hidden_size = ${hidden}`);
  }
  const H = emb ?? hidden;
  const layers = int(raw, "num_hidden_layers", 32);
  const nb = int(raw, "num_blocks", null);
  if (raw.num_hidden_layers !== void 0 && nb !== null && nb !== layers) {
    throw new XlstmConfigError("num_blocks", `${nb} disagrees with num_hidden_layers = ${layers}`);
  }
  const blocks2 = nb ?? layers;
  const NH = int(raw, "num_heads", 8);
  const V = int(raw, "vocab_size", 50304);
  const qkDimFactor = float(raw, "qk_dim_factor", 0.5, { positive: true });
  const vDimFactor = float(raw, "v_dim_factor", 1, { positive: true });
  const ffnProjFactor = float(raw, "ffn_proj_factor", 2.667, { positive: true });
  const ffnRound = int(raw, "ffn_round_up_to_multiple_of", 64);
  const Dqk = Math.floor(H * qkDimFactor);
  const Dv = Math.floor(H * vDimFactor);
  if (Dqk < NH || Dqk % NH !== 0) {
    throw new XlstmConfigError(
      "qk_dim_factor",
      `int(H\xB7qk_dim_factor) = ${Dqk} is not a multiple of num_heads = ${NH}`
    );
  }
  if (Dv < NH || Dv % NH !== 0) {
    throw new XlstmConfigError(
      "v_dim_factor",
      `int(H\xB7v_dim_factor) = ${Dv} is not a multiple of num_heads = ${NH}`
    );
  }
  const F = roundUp(H * ffnProjFactor, ffnRound);
  const tokenId = (key, def) => int(raw, key, def, 0);
  let eos = [2];
  const eosRaw = raw.eos_token_id;
  if (eosRaw === null) eos = [];
  else if (Array.isArray(eosRaw)) {
    eos = eosRaw.map((x) => {
      if (typeof x !== "number" || !Number.isInteger(x) || x < 0) {
        throw new XlstmConfigError("eos_token_id", `expected token ids, got ${JSON.stringify(eosRaw)}`);
      }
      return x;
    });
  } else if (eosRaw !== void 0) eos = [tokenId("eos_token_id", 2)];
  const chunkwiseKernel = str(raw, "chunkwise_kernel", "chunkwise--native_autograd");
  const sequenceKernel = str(raw, "sequence_kernel", "native_sequence__native");
  const stepKernel = str(raw, "step_kernel", "native");
  const normEps = float(raw, "norm_eps", 1e-6, { positive: true });
  const eps = float(raw, "eps", 1e-6, { positive: true });
  const gateSoftCap = float(raw, "gate_soft_cap", 15, { positive: true });
  return {
    vocabSize: V,
    hiddenSize: H,
    numBlocks: blocks2,
    numHeads: NH,
    useBias: bool(raw, "use_bias", false),
    normReductionForceFloat32: bool(raw, "norm_reduction_force_float32", true),
    tieWordEmbeddings: bool(raw, "tie_word_embeddings", false),
    addOutNorm: bool(raw, "add_out_norm", true),
    normEps,
    qkDimFactor,
    vDimFactor,
    chunkwiseKernel,
    sequenceKernel,
    stepKernel,
    mode: str(raw, "mode", "inference", ["inference", "train", "train_with_padding"]),
    chunkSize: int(raw, "chunk_size", 64),
    returnLastStates: bool(raw, "return_last_states", true),
    autocastKernelDtype: str(raw, "autocast_kernel_dtype", "bfloat16"),
    eps,
    inferenceStateDtype: str(raw, "inference_state_dtype", "float32", ["float32", "bfloat16", "float16"]),
    ffnProjFactor,
    ffnRoundUpToMultipleOf: ffnRound,
    gateSoftCap,
    outputLogitSoftCap: float(raw, "output_logit_soft_cap", 30, { positive: true, nullable: true }),
    weightMode: str(raw, "weight_mode", "single", ["single", "fused"]),
    useCache: bool(raw, "use_cache", true),
    padTokenId: tokenId("pad_token_id", 1),
    bosTokenId: tokenId("bos_token_id", 0),
    eosTokenId: eos,
    maxInferenceChunksize: int(raw, "max_inference_chunksize", 16384),
    dims: { H, NH, Dqk, Dv, dqk: Dqk / NH, dv: Dv / NH, F, V, blocks: blocks2 },
    kernels: {
      chunkwise: mapKernelName(chunkwiseKernel),
      sequence: mapKernelName(sequenceKernel),
      step: mapKernelName(stepKernel)
    },
    raw
  };
}

// packages/core-reference/src/tensor.ts
function numel(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
function zeros(shape, kind = "f64") {
  const n = numel(shape);
  return { shape: [...shape], data: kind === "f32" ? new Float32Array(n) : new Float64Array(n) };
}
function sliceAxis(t, axis, start, end) {
  const shape = [...t.shape];
  const outer = numel(shape.slice(0, axis));
  const inner = numel(shape.slice(axis + 1));
  const len2 = shape[axis];
  const n = end - start;
  const out2 = new Float64Array(outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < n; s++) {
      const src = (o * len2 + start + s) * inner;
      const dst = (o * n + s) * inner;
      for (let x = 0; x < inner; x++) out2[dst + x] = t.data[src + x];
    }
  }
  shape[axis] = n;
  return { shape, data: out2 };
}
function concatAxis(parts, axis) {
  const first = parts[0].shape;
  const outer = numel(first.slice(0, axis));
  const inner = numel(first.slice(axis + 1));
  const total = parts.reduce((a, p) => a + p.shape[axis], 0);
  const out2 = new Float64Array(outer * total * inner);
  let offset = 0;
  for (const p of parts) {
    const len2 = p.shape[axis];
    for (let o = 0; o < outer; o++) {
      for (let s = 0; s < len2; s++) {
        const src = (o * len2 + s) * inner;
        const dst = (o * total + offset + s) * inner;
        for (let x = 0; x < inner; x++) out2[dst + x] = p.data[src + x];
      }
    }
    offset += len2;
  }
  const shape = [...first];
  shape[axis] = total;
  return { shape, data: out2 };
}
function reshape(t, shape) {
  if (numel(shape) !== t.data.length) {
    throw new RangeError(`reshape: cannot view ${t.data.length} elements as [${shape.join(", ")}]`);
  }
  return { shape: [...shape], data: t.data };
}

// packages/hf-model/src/safetensors.ts
var BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1
};
function memorySource(buffer) {
  const u8 = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  return {
    byteLength: u8.byteLength,
    read: (offset, length) => u8.subarray(offset, offset + length)
  };
}
function chunkedSource(chunks) {
  if (chunks.length === 1) return memorySource(chunks[0]);
  const starts = [];
  let total = 0;
  for (const c of chunks) {
    starts.push(total);
    total += c.byteLength;
  }
  const find = (offset) => {
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = lo + hi + 1 >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    byteLength: total,
    read(offset, length) {
      let c = find(offset);
      const inner = offset - starts[c];
      if (inner + length <= chunks[c].byteLength) return chunks[c].subarray(inner, inner + length);
      const out2 = new Uint8Array(length);
      let done = 0;
      let pos = inner;
      while (done < length) {
        const take = Math.min(length - done, chunks[c].byteLength - pos);
        out2.set(chunks[c].subarray(pos, pos + take), done);
        done += take;
        c++;
        pos = 0;
      }
      return out2;
    }
  };
}
function asSource(x) {
  return x instanceof Uint8Array || x instanceof ArrayBuffer ? memorySource(x) : x;
}
function parseSafetensorsFile(buffer, file = "model.safetensors") {
  const src = asSource(buffer);
  const size = src.byteLength;
  if (size < 8) throw new CheckpointFormatError(file, "shorter than the 8-byte header length");
  const lenBytes = src.read(0, 8);
  const headerLen = Number(new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLen > size) {
    throw new CheckpointFormatError(file, `header length ${headerLen} exceeds the file size ${size}`);
  }
  let header2;
  try {
    header2 = JSON.parse(new TextDecoder().decode(src.read(8, headerLen)));
  } catch (e) {
    throw new CheckpointFormatError(file, `header is not valid JSON (${e.message})`);
  }
  const base = 8 + headerLen;
  const tensors = /* @__PURE__ */ new Map();
  let metadata = {};
  for (const [name, info] of Object.entries(header2)) {
    if (name === "__metadata__") {
      metadata = info ?? {};
      continue;
    }
    const t = info;
    if (!t || !(t.dtype in BYTES)) {
      throw new CheckpointFormatError(file, `tensor ${name} has unsupported dtype ${t?.dtype}`, name);
    }
    const [start, end] = t.data_offsets ?? [];
    const n = (t.shape ?? []).reduce((a, b) => a * b, 1);
    if (!Number.isInteger(start) || !Number.isInteger(end) || end - start !== n * BYTES[t.dtype] || base + end > size) {
      throw new CheckpointFormatError(
        file,
        base + end > size ? `tensor ${name} ends at byte ${base + end}, past the end of the file (${size} bytes): truncated` : `tensor ${name} has inconsistent data_offsets`,
        name
      );
    }
    tensors.set(name, {
      name,
      dtype: t.dtype,
      shape: [...t.shape],
      byteLength: end - start,
      bytes: () => src.read(base + start, end - start),
      readRange: (offset, length) => src.read(base + start + offset, length),
      file
    });
  }
  return { tensors, metadata };
}
function mergeStores(stores) {
  const tensors = /* @__PURE__ */ new Map();
  const metadata = {};
  for (const s of stores) {
    Object.assign(metadata, s.metadata);
    for (const [k, v] of s.tensors) {
      const prev = tensors.get(k);
      if (prev) throw new CheckpointFormatError(v.file, `tensor ${k} is also in ${prev.file}`);
      tensors.set(k, v);
    }
  }
  return { tensors, metadata };
}
var f16Table = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 32768 ? -1 : 1;
    const e = h >> 10 & 31;
    const m = h & 1023;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? m ? Number.NaN : s * Number.POSITIVE_INFINITY : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();
function decodeEntry(e, out2, offset = 0, from = 0, count) {
  const total = e.shape.reduce((a, b) => a * b, 1);
  const n = count ?? total - from;
  const dst = out2 ?? new Float32Array(n);
  const size = BYTES[e.dtype];
  const bytes = from === 0 && n === total ? e.bytes() : e.readRange ? e.readRange(from * size, n * size) : e.bytes().subarray(from * size, (from + n) * size);
  const aligned2 = (size2) => bytes.byteOffset % size2 === 0;
  switch (e.dtype) {
    case "F32": {
      if (aligned2(4)) dst.set(new Float32Array(bytes.buffer, bytes.byteOffset, n), offset);
      else dst.set(new Float32Array(bytes.slice().buffer), offset);
      break;
    }
    case "F16":
    case "BF16": {
      const u16 = aligned2(2) ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.slice().buffer);
      if (e.dtype === "F16") for (let x = 0; x < n; x++) dst[offset + x] = f16Table[u16[x]];
      else {
        const bits = new Uint32Array(dst.buffer, dst.byteOffset + 4 * offset, n);
        for (let x = 0; x < n; x++) bits[x] = u16[x] << 16;
      }
      break;
    }
    case "F64": {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let x = 0; x < n; x++) dst[offset + x] = v.getFloat64(8 * x, true);
      break;
    }
    default:
      throw new CheckpointFormatError(e.file, `tensor ${e.name}: dtype ${e.dtype} is not a float type`);
  }
  return dst;
}
function shardFiles(indexJson, file = "model.safetensors.index.json") {
  let idx;
  try {
    idx = typeof indexJson === "string" ? JSON.parse(indexJson) : indexJson;
  } catch (e) {
    throw new CheckpointFormatError(file, `not valid JSON (${e.message})`);
  }
  const map = idx.weight_map;
  if (typeof map !== "object" || map === null)
    throw new CheckpointFormatError(file, "has no weight_map object");
  const files = [...new Set(Object.values(map))];
  for (const f of files) {
    if (typeof f !== "string" || f.includes("..") || f.startsWith("/")) {
      throw new CheckpointFormatError(file, `weight_map names an invalid file ${JSON.stringify(f)}`);
    }
  }
  return files.sort();
}

// packages/hf-model/src/quant/pieces.ts
var isFilledMatrix = (m) => "fill" in m;
function defaultTableFormat(dtype2) {
  return dtype2 === "q8" ? "f16" : dtype2 === "q4" ? "q8" : dtype2;
}
function resolveFormats(dtype2, o = {}) {
  const table2 = WEIGHT_FORMATS.includes(dtype2) ? defaultTableFormat(dtype2) : dtype2;
  const f = { linear: dtype2, embedding: o.embeddingDtype ?? table2, lmHead: o.lmHeadDtype ?? table2 };
  for (const [k, v] of Object.entries(f)) {
    if (!WEIGHT_FORMATS.includes(v)) {
      const arg2 = k === "linear" ? "dtype" : `${k}Dtype`;
      throw new ModelArgumentError(
        arg2,
        `expected one of ${WEIGHT_FORMATS.join(", ")}, got ${JSON.stringify(v)}`
      );
    }
  }
  return f;
}
var ALL_F32 = { linear: "f32", embedding: "f32", lmHead: "f32" };
function packMatrix(data, rows, cols, format2, name = "matrix") {
  if (isQuantFormat(format2)) return quantize(format2, data, rows, cols, name);
  return { format: format2, rows, cols, data };
}
function unpackMatrix(m) {
  if (isFilledMatrix(m)) throw new TypeError("a matrix filled on the GPU has no host values");
  if (isQuantFormat(m.format)) return dequantize(m);
  return m.format === "f16" ? roundToF16(m.data) : m.data;
}
function convertMatrix(m, format2, name) {
  if (m.format === format2) return m;
  return packMatrix(unpackMatrix(m), m.rows, m.cols, format2, name);
}
function stackRows(a, b, name) {
  if (isFilledMatrix(a) || isFilledMatrix(b)) {
    if (!isFilledMatrix(a) || !isFilledMatrix(b) || a.format !== b.format) {
      throw new TypeError("only GPU-filled matrices of one format can be stacked with each other");
    }
    return { format: a.format, rows: a.rows + b.rows, cols: a.cols, fill: a.fill.concat(b.fill) };
  }
  if (isQuantFormat(a.format) && a.format === b.format) {
    return concatRows([a, b], name);
  }
  const da = a;
  const db = convertMatrix(b, a.format);
  const data = new Float32Array((a.rows + b.rows) * a.cols);
  data.set(da.data, 0);
  data.set(db.data, a.rows * a.cols);
  return { format: da.format, rows: a.rows + b.rows, cols: a.cols, data };
}
var packLinear = (l, format2, name) => ({
  w: packMatrix(l.w, l.out, l.in, format2, name),
  b: l.b,
  out: l.out,
  in: l.in
});
var unpackLinear = (l) => ({ w: unpackMatrix(l.w), b: l.b, out: l.out, in: l.in });
function packBlock(b, format2, i) {
  const p = `backbone.blocks.${i}.`;
  return {
    normMlstm: b.normMlstm,
    qkvo: packLinear(b.qkvo, format2, `${p}mlstm_layer.qkv_opreact.weight`),
    ifGate: packLinear(b.ifGate, format2, `${p}mlstm_layer.ifgate_preact.weight`),
    multiheadNorm: b.multiheadNorm,
    outProj: packLinear(b.outProj, format2, `${p}mlstm_layer.out_proj.weight`),
    normFfn: b.normFfn,
    upGateZ: packLinear(b.upGateZ, format2, `${p}ffn.proj_up_gate_z.weight`),
    down: packLinear(b.down, format2, `${p}ffn.proj_down.weight`)
  };
}
function unpackBlock(b) {
  return {
    normMlstm: b.normMlstm,
    qkvo: unpackLinear(b.qkvo),
    ifGate: unpackLinear(b.ifGate),
    multiheadNorm: b.multiheadNorm,
    outProj: unpackLinear(b.outProj),
    normFfn: b.normFfn,
    upGateZ: unpackLinear(b.upGateZ),
    down: unpackLinear(b.down)
  };
}
function packPieces(config, pieces, formats) {
  const { V, H } = config.dims;
  let tiedHead = null;
  return {
    formats,
    embedding() {
      const e = pieces.embedding();
      if (config.tieWordEmbeddings && formats.lmHead !== formats.embedding) {
        tiedHead = packMatrix(e, V, H, formats.lmHead, "lm_head.weight (tied)");
      }
      return packMatrix(e, V, H, formats.embedding, "backbone.embeddings.weight");
    },
    block: (i) => packBlock(pieces.block(i), formats.linear, i),
    head() {
      const h = pieces.head(null);
      const lmHead = h.lmHead ? packMatrix(h.lmHead, V, H, formats.lmHead, "lm_head.weight") : tiedHead;
      tiedHead = null;
      return { outNorm: h.outNorm, lmHead };
    }
  };
}
function fillPieces(config, pieces, formats) {
  const { V, H } = config.dims;
  const mat = (fill, rows, cols, format2) => ({
    format: format2,
    rows,
    cols,
    fill
  });
  const lin = (l) => ({
    w: mat(l.w, l.out, l.in, formats.linear),
    b: l.b,
    out: l.out,
    in: l.in
  });
  let emb = null;
  return {
    formats,
    embedding() {
      emb = pieces.embedding();
      return mat(emb, V, H, formats.embedding);
    },
    block(i) {
      const b = pieces.block(i);
      return {
        normMlstm: b.normMlstm,
        qkvo: lin(b.qkvo),
        ifGate: lin(b.ifGate),
        multiheadNorm: b.multiheadNorm,
        outProj: lin(b.outProj),
        normFfn: b.normFfn,
        upGateZ: lin(b.upGateZ),
        down: lin(b.down)
      };
    },
    head() {
      const h = pieces.head(emb);
      const tied = h.lmHead === emb;
      emb = null;
      if (!h.lmHead || tied && formats.lmHead === formats.embedding)
        return { outNorm: h.outNorm, lmHead: null };
      return { outNorm: h.outNorm, lmHead: mat(h.lmHead, V, H, formats.lmHead) };
    }
  };
}
function unpackPieces(pieces) {
  return {
    embedding: () => unpackMatrix(pieces.embedding()),
    block: (i) => unpackBlock(pieces.block(i)),
    head(embedding) {
      const h = pieces.head();
      return { outNorm: h.outNorm, lmHead: h.lmHead ? unpackMatrix(h.lmHead) : embedding };
    }
  };
}

// packages/hf-model/src/quant/checkpoint.ts
var QUANT_METADATA_KEY = "mlstm_quant";
var QUANT_FORMAT_VERSION = 1;
function checksum(data, scales) {
  let h = 2166136261;
  for (let x = 0; x < data.length; x++) h = Math.imul(h ^ data[x], 16777619);
  for (let x = 0; x < scales.length; x++) h = Math.imul(h ^ scales[x], 16777619);
  return (h >>> 0).toString(16).padStart(8, "0");
}
var indexCache = /* @__PURE__ */ new WeakMap();
function quantIndex(store) {
  if (indexCache.has(store)) return indexCache.get(store);
  const raw = store.metadata[QUANT_METADATA_KEY];
  let idx = null;
  if (raw !== void 0) idx = parseIndex(store, raw);
  indexCache.set(store, idx);
  return idx;
}
function parseIndex(store, raw) {
  const meta = `__metadata__.${QUANT_METADATA_KEY}`;
  let rec;
  try {
    rec = JSON.parse(raw);
  } catch (e) {
    throw new QuantFormatError(meta, `is not valid JSON (${e.message})`);
  }
  if (rec.version !== QUANT_FORMAT_VERSION) {
    throw new QuantFormatError(
      meta,
      `version ${JSON.stringify(rec.version)} is not supported (this reader reads ${QUANT_FORMAT_VERSION})`
    );
  }
  const groupSize = rec.group_size;
  const tensors = rec.tensors ?? {};
  const formats = rec.formats;
  if (typeof tensors !== "object" || typeof formats !== "object" || formats === null) {
    throw new QuantFormatError(meta, 'needs the objects "tensors" and "formats"');
  }
  const entries = /* @__PURE__ */ new Map();
  for (const [name, info] of Object.entries(tensors)) {
    if (!info || !isQuantFormat(String(info.format))) {
      throw new QuantFormatError(name, `unknown format ${JSON.stringify(info?.format)} (known: q8, q4)`);
    }
    const [rows, cols] = Array.isArray(info.shape) ? info.shape : [0, 0];
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
      throw new QuantFormatError(name, `shape ${JSON.stringify(info.shape)} is not [rows, cols]`);
    }
    if (groupSize !== GROUP_SIZE) {
      throw new QuantFormatError(
        name,
        cols % groupSize !== 0 ? `group size ${groupSize} does not divide the row of ${cols} values` : `group size ${groupSize} is not supported (this version reads ${GROUP_SIZE})`
      );
    }
    if (typeof info.checksum !== "string" || !/^[0-9a-f]{8}$/.test(info.checksum)) {
      throw new QuantFormatError(name, "has no checksum of 8 hex digits");
    }
    const qweight = store.tensors.get(`${name}.qweight`);
    const scales = store.tensors.get(`${name}.scales`);
    if (!qweight || !scales) {
      throw new QuantFormatError(name, `is missing its ${qweight ? "scales" : "qweight"} tensor`);
    }
    const wpg = WORDS_PER_GROUP[info.format];
    const G = groupsPerRow(cols);
    if (qweight.dtype !== "U32" || qweight.shape.length !== 2 || qweight.shape[0] !== rows) {
      throw new QuantFormatError(
        name,
        `qweight must be U32 [${rows}, ${G * wpg}], found ${qweight.dtype} [${qweight.shape.join(", ")}]`
      );
    }
    if (qweight.shape[1] % wpg !== 0) {
      throw new QuantFormatError(
        name,
        `a row of ${qweight.shape[1]} words is not a whole number of ${GROUP_SIZE}-value groups (${wpg} words each in ${info.format})`
      );
    }
    if (qweight.shape[1] / wpg !== G) {
      throw new QuantFormatError(
        name,
        `${qweight.shape[1] / wpg} groups of ${GROUP_SIZE} per row do not hold a row of ${cols} values (${G} groups)`
      );
    }
    if (scales.dtype !== "F16" || scales.shape.length !== 2 || scales.shape[0] !== rows || scales.shape[1] !== G) {
      throw new QuantFormatError(
        name,
        `scales must be F16 [${rows}, ${G}], found ${scales.dtype} [${scales.shape.join(", ")}]`
      );
    }
    entries.set(name, {
      info: { format: info.format, shape: [rows, cols], checksum: info.checksum },
      qweight,
      scales
    });
  }
  return {
    record: { version: QUANT_FORMAT_VERSION, groupSize, source: String(rec.source ?? ""), formats, tensors },
    entries
  };
}
function aligned(bytes, Ctor) {
  const n = bytes.byteLength / Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0)
    return new Ctor(bytes.buffer, bytes.byteOffset, n);
  return new Ctor(bytes.slice().buffer, 0, n);
}
function readQuantTensor(name, e) {
  const data = aligned(e.qweight.bytes(), Uint32Array);
  const scales = aligned(e.scales.bytes(), Uint16Array);
  const sum = checksum(data, scales);
  if (sum !== e.info.checksum) {
    throw new QuantFormatError(
      name,
      `checksum ${sum} does not match the recorded ${e.info.checksum}: the file is corrupted`
    );
  }
  const [rows, cols] = e.info.shape;
  return { format: e.info.format, rows, cols, data, scales };
}

// packages/hf-model/src/weights.ts
var EMBEDDING_NAMES = ["backbone.embeddings.weight", "embedding.weight"];
var shapeEq = (a, b) => a.length === b.length && a.every((d, x) => d === b[x]);
var EMPTY = new Float32Array(0);
var SLICE_VALUES = 4 << 20;
var Loader = class {
  /** `dry`: check names and shapes only, decode nothing; matrices are packed into `formats` */
  constructor(store, dry = false, formats = ALL_F32) {
    this.store = store;
    this.dry = dry;
    this.formats = formats;
    this.quant = quantIndex(store);
  }
  store;
  dry;
  formats;
  quant;
  find(names) {
    for (const n of names) {
      const e = this.store.tensors.get(n);
      if (e) return e;
    }
    return void 0;
  }
  entry(names, shape, alsoShapes = []) {
    const e = this.find(names);
    if (!e) throw new MissingTensorError(names[0], names.slice(1));
    if (!shapeEq(e.shape, shape) && !alsoShapes.some((s) => shapeEq(e.shape, s))) {
      throw new TensorShapeError(e.name, shape, e.shape);
    }
    return e;
  }
  get(names, shape, alsoShapes = []) {
    const e = this.entry(typeof names === "string" ? [names] : names, shape, alsoShapes);
    return this.dry ? EMPTY : decodeEntry(e);
  }
  /**
   * A weight matrix `[rows, cols]` in format `role`'s format: a quantised tensor of a quantised
   * checkpoint is read as it is (converted when another format is asked for), any other tensor is
   * decoded and packed (quantised) right away, so only one f32 copy exists at a time.
   */
  mat(names, rows, cols, role) {
    const list2 = typeof names === "string" ? [names] : names;
    const format2 = this.formats[role];
    for (const n of list2) {
      const q = this.quant?.entries.get(n);
      if (!q) continue;
      if (!shapeEq(q.info.shape, [rows, cols])) throw new TensorShapeError(n, [rows, cols], q.info.shape);
      if (this.dry) return { format: "f32", rows, cols, data: EMPTY };
      return convertMatrix(readQuantTensor(n, q), format2, n);
    }
    const e = this.entry(list2, [rows, cols]);
    if (this.dry) return { format: "f32", rows, cols, data: EMPTY };
    if (!isQuantFormat(format2)) return packMatrix(decodeEntry(e), rows, cols, format2, e.name);
    const per = Math.max(1, Math.floor(SLICE_VALUES / cols));
    if (per >= rows) return quantize(format2, decodeEntry(e), rows, cols, e.name);
    const G = groupsPerRow(cols);
    const wpr = wordsPerRow(format2, cols);
    const out2 = {
      format: format2,
      rows,
      cols,
      data: new Uint32Array(rows * wpr),
      scales: new Uint16Array(rows * G)
    };
    for (let r0 = 0; r0 < rows; r0 += per) {
      const n = Math.min(per, rows - r0);
      const q = quantize(format2, decodeEntry(e, void 0, 0, r0 * cols, n * cols), n, cols, e.name);
      out2.data.set(q.data, r0 * wpr);
      out2.scales.set(q.scales, r0 * G);
    }
    return out2;
  }
  /** Rows of several tensors stacked into one `[Σ rows, cols]` matrix. */
  concat(parts, cols) {
    const total = parts.reduce((a, p) => a + p.rows, 0);
    const out2 = this.dry ? EMPTY : new Float32Array(total * cols);
    let off = 0;
    for (const p of parts) {
      const shape = cols === 1 ? [p.rows] : [p.rows, cols];
      const e = this.entry(p.names, shape);
      if (!this.dry) decodeEntry(e, out2, off);
      off += p.rows * cols;
    }
    return out2;
  }
  /** {@link concat} of weight matrices, packed (quantised) once stacked. */
  matConcat(parts, cols) {
    const rows = parts.reduce((a, p) => a + p.rows, 0);
    const data = this.concat(parts, cols);
    if (this.dry) return { format: "f32", rows, cols, data };
    return packMatrix(data, rows, cols, this.formats.linear, parts[0].names[0]);
  }
  has(name) {
    return this.store.tensors.has(name) || !!this.quant?.entries.has(name);
  }
};
var WeightLoader = class {
  constructor(config, store) {
    this.config = config;
    this.store = store;
  }
  config;
  store;
  /** Throws the first MissingTensorError / TensorShapeError / QuantFormatError, decoding nothing. */
  validate() {
    const L = new Loader(this.store, true);
    readEmbedding(L, this.config);
    for (let i = 0; i < this.config.dims.blocks; i++) readBlock(L, this.config, i);
    readHead(L, this.config);
  }
  /** The formats of a quantised checkpoint (its `mlstm_quant` record), or null for an ordinary one. */
  storedFormats() {
    return quantIndex(this.store)?.record.formats ?? null;
  }
  embedding() {
    return unpackMatrix(readEmbedding(new Loader(this.store), this.config));
  }
  block(i) {
    return unpackBlock(readBlock(new Loader(this.store), this.config, i));
  }
  /** `embedding` is returned as lm_head for tied checkpoints without lm_head.weight */
  head(embedding) {
    const h = readHead(new Loader(this.store), this.config);
    return { outNorm: h.outNorm, lmHead: h.lmHead ? unpackMatrix(h.lmHead) : embedding };
  }
  /**
   * The pieces packed into `formats`: each matrix is decoded and quantised on its own (or read
   * as stored from a quantised checkpoint), so the peak memory is about one f32 matrix plus the
   * packed pieces of one block.
   */
  packed(formats) {
    const { config, store } = this;
    const tiedOther = config.tieWordEmbeddings && !new Loader(store).has("lm_head.weight") && formats.lmHead !== formats.embedding;
    return {
      formats,
      embedding: () => readEmbedding(new Loader(store, false, formats), config),
      block: (i) => readBlock(new Loader(store, false, formats), config, i),
      head: () => {
        const L = new Loader(store, false, formats);
        const h = readHead(L, config);
        const lmHead = h.lmHead ?? (tiedOther ? L.mat(EMBEDDING_NAMES, config.dims.V, config.dims.H, "lmHead") : null);
        return { outNorm: h.outNorm, lmHead };
      }
    };
  }
};
function readEmbedding(L, config) {
  const { H, V } = config.dims;
  return L.mat(EMBEDDING_NAMES, V, H, "embedding");
}
function readHead(L, config) {
  const { H, V } = config.dims;
  const outNorm = L.get("backbone.out_norm.weight", [H]);
  const lmHead = config.tieWordEmbeddings && !L.has("lm_head.weight") ? null : L.mat("lm_head.weight", V, H, "lmHead");
  return { outNorm, lmHead };
}
function readBlock(L, config, i) {
  const { H, NH, Dqk, Dv, F } = config.dims;
  const bias = config.useBias;
  const p = `backbone.blocks.${i}.`;
  const m = `${p}mlstm_layer.`;
  const norm = (name, n, withBias, also = []) => ({
    w: L.get(`${name}.weight`, [n], also),
    b: withBias ? L.get(`${name}.bias`, [n], also) : null
  });
  let qkvo;
  let ifGate;
  let upGateZ;
  const qkvoRows = 2 * Dqk + 2 * Dv;
  if (config.weightMode === "fused") {
    qkvo = {
      w: L.mat(`${m}qkv_opreact.weight`, qkvoRows, H, "linear"),
      b: bias ? L.get(`${m}qkv_opreact.bias`, [qkvoRows]) : null,
      out: qkvoRows,
      in: H
    };
    ifGate = {
      w: L.mat(`${m}ifgate_preact.weight`, 2 * NH, H, "linear"),
      b: L.get(`${m}ifgate_preact.bias`, [2 * NH]),
      out: 2 * NH,
      in: H
    };
    upGateZ = {
      w: L.mat(`${p}ffn.proj_up_gate_z.weight`, 2 * F, H, "linear"),
      b: bias ? L.get(`${p}ffn.proj_up_gate_z.bias`, [2 * F]) : null,
      out: 2 * F,
      in: H
    };
  } else {
    const qkv = (n, alt) => alt ? [`${m}${n}`, `${m}${alt}`] : [`${m}${n}`];
    const names = [
      { base: qkv("q", "query"), rows: Dqk },
      { base: qkv("k", "key"), rows: Dqk },
      { base: qkv("v", "value"), rows: Dv },
      { base: qkv("ogate_preact", null), rows: Dv }
    ];
    qkvo = {
      w: L.matConcat(
        names.map((n) => ({ names: n.base.map((b) => `${b}.weight`), rows: n.rows })),
        H
      ),
      b: bias ? L.concat(
        names.map((n) => ({ names: n.base.map((b) => `${b}.bias`), rows: n.rows })),
        1
      ) : null,
      out: qkvoRows,
      in: H
    };
    ifGate = {
      w: L.matConcat(
        [
          { names: [`${m}igate_preact.weight`], rows: NH },
          { names: [`${m}fgate_preact.weight`], rows: NH }
        ],
        H
      ),
      b: L.concat(
        [
          { names: [`${m}igate_preact.bias`], rows: NH },
          { names: [`${m}fgate_preact.bias`], rows: NH }
        ],
        1
      ),
      out: 2 * NH,
      in: H
    };
    upGateZ = {
      w: L.matConcat(
        [
          { names: [`${p}ffn.proj_up_gate.weight`], rows: F },
          { names: [`${p}ffn.proj_up.weight`], rows: F }
        ],
        H
      ),
      b: bias ? L.concat(
        [
          { names: [`${p}ffn.proj_up_gate.bias`], rows: F },
          { names: [`${p}ffn.proj_up.bias`], rows: F }
        ],
        1
      ) : null,
      out: 2 * F,
      in: H
    };
  }
  const lin = (name, out2, inn) => ({
    w: L.mat(`${name}.weight`, out2, inn, "linear"),
    b: bias ? L.get(`${name}.bias`, [out2]) : null,
    out: out2,
    in: inn
  });
  return {
    normMlstm: norm(`${p}norm_mlstm`, H, bias),
    qkvo,
    ifGate,
    // the multi-head norm weight may be stored as [NH, dv] (NX-AI): flattened
    multiheadNorm: norm(`${m}multihead_norm`, Dv, bias, [[NH, Dv / NH]]),
    outProj: lin(`${m}out_proj`, H, Dv),
    normFfn: norm(`${p}norm_ffn`, H, bias),
    upGateZ,
    down: lin(`${p}ffn.proj_down`, H, F)
  };
}
function assembleWeights(config, pieces) {
  const embedding = pieces.embedding();
  const blocks2 = Array.from({ length: config.dims.blocks }, (_, i) => pieces.block(i));
  const { outNorm, lmHead } = pieces.head(embedding);
  return { embedding, blocks: blocks2, outNorm, lmHead: lmHead ?? embedding };
}
var RandomPieces = class {
  constructor(config) {
    this.config = config;
  }
  config;
  lin(out2, inn, bias, name) {
    return {
      w: this.matrix(out2 * inn, 1 / Math.sqrt(inn), `${name}.weight`),
      b: bias ? this.vector(out2, 0.01, `${name}.bias`) : null,
      out: out2,
      in: inn
    };
  }
  norm(n, bias) {
    return { w: new Float32Array(n).fill(1), b: bias ? new Float32Array(n) : null };
  }
  embedding() {
    const { V, H } = this.config.dims;
    return this.matrix(V * H, 1, EMBEDDING_NAMES[0]);
  }
  head(embedding) {
    const { V, H } = this.config.dims;
    return {
      outNorm: new Float32Array(H).fill(1),
      lmHead: this.config.tieWordEmbeddings ? embedding : this.matrix(V * H, 1 / Math.sqrt(H), "lm_head.weight")
    };
  }
  block(i) {
    const { H, NH, Dqk, Dv, F } = this.config.dims;
    const bias = this.config.useBias;
    const p = `backbone.blocks.${i}.`;
    const ifGate = this.lin(2 * NH, H, true, `${p}mlstm_layer.ifgate_preact`);
    ifGate.b = Float32Array.from(
      { length: 2 * NH },
      (_, x) => x < NH ? -10 : 3 + 3 * (x - NH) / Math.max(1, NH - 1)
    );
    return {
      normMlstm: this.norm(H, bias),
      qkvo: this.lin(2 * Dqk + 2 * Dv, H, bias, `${p}mlstm_layer.qkv_opreact`),
      ifGate,
      multiheadNorm: this.norm(Dv, bias),
      outProj: this.lin(H, Dv, bias, `${p}mlstm_layer.out_proj`),
      normFfn: this.norm(H, bias),
      upGateZ: this.lin(2 * F, H, bias, `${p}ffn.proj_up_gate_z`),
      down: this.lin(H, F, bias, `${p}ffn.proj_down`)
    };
  }
};
var RandomWeights = class extends RandomPieces {
  table;
  constructor(config, seed = 1) {
    super(config);
    let a = seed >>> 0;
    this.table = Float32Array.from({ length: 65536 }, () => {
      a = a + 1831565813 >>> 0;
      let t = a;
      t = Math.imul(t ^ t >>> 15, t | 1);
      t ^= t + Math.imul(t ^ t >>> 7, t | 61);
      return ((t ^ t >>> 14) >>> 0) / 4294967296 * 2 - 1;
    });
  }
  /**
   * `n` values of the table from a start of the tensor's own (a hash of its name), so a tensor's
   * values do not depend on which tensors were asked for before it: the CPU path and a GPU engine
   * built from the same seed get the same weights.
   */
  fill(n, scale, name) {
    const out2 = new Float32Array(n);
    const T2 = this.table.length;
    let pos = 2166136261;
    for (let x = 0; x < name.length; x++) pos = Math.imul(pos ^ name.charCodeAt(x), 16777619) >>> 0;
    for (let x = 0; x < n; x += T2) {
      const len2 = Math.min(T2, n - x);
      const start = pos = (pos + 7919) % T2;
      const first = Math.min(len2, T2 - start);
      out2.set(this.table.subarray(start, start + first), x);
      if (first < len2) out2.set(this.table.subarray(0, len2 - first), x + first);
    }
    if (scale !== 1) for (let x = 0; x < n; x++) out2[x] *= scale;
    return out2;
  }
  matrix(n, scale, name) {
    return this.fill(n, scale, name);
  }
  vector(n, scale, name) {
    return this.fill(n, scale, name);
  }
};

// packages/hf-model/src/cpu.ts
function linear(x, T2, l) {
  const { w: w2, b, out: N, in: K } = l;
  const y = new Float64Array(T2 * N);
  for (let t = 0; t < T2; t++) {
    const xo = t * K;
    const yo = t * N;
    for (let n = 0; n < N; n++) {
      const wo = n * K;
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[xo + k] * w2[wo + k];
      y[yo + n] = acc + (b ? b[n] : 0);
    }
  }
  return y;
}
function rmsNorm(x, T2, H, p, eps) {
  const y = new Float64Array(T2 * H);
  for (let t = 0; t < T2; t++) {
    let ss = 0;
    for (let h = 0; h < H; h++) ss += x[t * H + h] * x[t * H + h];
    const r2 = 1 / Math.sqrt(ss / H + eps);
    for (let h = 0; h < H; h++) y[t * H + h] = x[t * H + h] * r2 * p.w[h] + (p.b ? p.b[h] : 0);
  }
  return y;
}
var softcap = (x, cap) => cap ? cap * Math.tanh(x / cap) : x;
var sigmoid = (x) => 1 / (1 + Math.exp(-x));
async function forwardCpu(cfg, W, cell, ids, B, S, states, opts = {}) {
  const { H, NH, Dqk, Dv, dqk, dv, F, V } = cfg.dims;
  const T2 = B * S;
  const sink = opts.sink ? (name, data, shape) => opts.sink(name, Float64Array.from(data), shape) : void 0;
  const cap = cfg.gateSoftCap;
  const x = new Float64Array(T2 * H);
  for (let r2 = 0; r2 < T2; r2++) {
    const id = ids[r2];
    x.set(W.embedding.subarray(id * H, (id + 1) * H), r2 * H);
  }
  sink?.("embeddings", x, [B, S, H]);
  const newStates = [];
  for (const [bi, blk] of W.blocks.entries()) {
    const pre = `block${bi}.`;
    const s = bi === 0 ? sink : void 0;
    const a = rmsNorm(x, T2, H, blk.normMlstm, cfg.normEps);
    s?.(`${pre}norm_mlstm`, a, [B, S, H]);
    const proj = linear(a, T2, blk.qkvo);
    const gates = linear(a, T2, blk.ifGate);
    const P = 2 * Dqk + 2 * Dv;
    if (s) {
      s(`${pre}mlstm_layer.qkv_opreact`, proj, [B, S, P]);
      s(`${pre}mlstm_layer.ifgate_preact`, gates, [B, S, 2 * NH]);
      const cols = (off, n) => {
        const o = new Float64Array(T2 * n);
        for (let r2 = 0; r2 < T2; r2++) for (let c = 0; c < n; c++) o[r2 * n + c] = proj[r2 * P + off + c];
        return o;
      };
      s(`${pre}mlstm_layer.q`, cols(0, Dqk), [B, S, Dqk]);
      s(`${pre}mlstm_layer.k`, cols(Dqk, Dqk), [B, S, Dqk]);
      s(`${pre}mlstm_layer.v`, cols(2 * Dqk, Dv), [B, S, Dv]);
      s(`${pre}mlstm_layer.ogate_preact`, cols(2 * Dqk + Dv, Dv), [B, S, Dv]);
      const g2 = (off) => {
        const o = new Float64Array(T2 * NH);
        for (let r2 = 0; r2 < T2; r2++) for (let h = 0; h < NH; h++) o[r2 * NH + h] = gates[r2 * 2 * NH + off + h];
        return o;
      };
      s(`${pre}mlstm_layer.igate_preact`, g2(0), [B, S, NH]);
      s(`${pre}mlstm_layer.fgate_preact`, g2(NH), [B, S, NH]);
    }
    const q = new Float64Array(B * NH * S * dqk);
    const k = new Float64Array(B * NH * S * dqk);
    const v = new Float64Array(B * NH * S * dv);
    const ig = new Float64Array(B * NH * S);
    const fg = new Float64Array(B * NH * S);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < S; t++) {
        const r2 = b * S + t;
        for (let h = 0; h < NH; h++) {
          const hs = (b * NH + h) * S + t;
          for (let d2 = 0; d2 < dqk; d2++) {
            q[hs * dqk + d2] = proj[r2 * P + h * dqk + d2];
            k[hs * dqk + d2] = proj[r2 * P + Dqk + h * dqk + d2];
          }
          for (let d2 = 0; d2 < dv; d2++) v[hs * dv + d2] = proj[r2 * P + 2 * Dqk + h * dv + d2];
          ig[hs] = softcap(gates[r2 * 2 * NH + h], cap);
          fg[hs] = softcap(gates[r2 * 2 * NH + NH + h], cap);
        }
      }
    }
    const out2 = await cell(
      {
        q: { shape: [B, NH, S, dqk], data: q },
        k: { shape: [B, NH, S, dqk], data: k },
        v: { shape: [B, NH, S, dv], data: v },
        i: { shape: [B, NH, S], data: ig },
        f: { shape: [B, NH, S], data: fg }
      },
      states ? states[bi] : null,
      opts.seqStarts
    );
    newStates.push(out2.state);
    const hd = out2.h.data;
    s?.(`${pre}mlstm_layer.mlstm_backend`, hd, [B, NH, S, dv]);
    const normed = new Float64Array(T2 * Dv);
    const hIn = s ? new Float64Array(T2 * Dv) : null;
    const og = s ? new Float64Array(T2 * Dv) : null;
    const gated = new Float64Array(T2 * Dv);
    const mh = blk.multiheadNorm;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < S; t++) {
        const r2 = b * S + t;
        for (let h = 0; h < NH; h++) {
          const src = ((b * NH + h) * S + t) * dv;
          let mean = 0;
          for (let d2 = 0; d2 < dv; d2++) mean += hd[src + d2];
          mean /= dv;
          let vr = 0;
          for (let d2 = 0; d2 < dv; d2++) vr += (hd[src + d2] - mean) ** 2;
          vr /= dv;
          const rs = 1 / Math.sqrt(vr + cfg.normEps);
          for (let d2 = 0; d2 < dv; d2++) {
            const c = h * dv + d2;
            if (hIn) hIn[r2 * Dv + c] = hd[src + d2];
            const y2 = (hd[src + d2] - mean) * rs * mh.w[c] + (mh.b ? mh.b[c] : 0);
            normed[r2 * Dv + c] = y2;
            const o = sigmoid(proj[r2 * P + 2 * Dqk + Dv + c]);
            if (og) og[r2 * Dv + c] = o;
            gated[r2 * Dv + c] = o * y2;
          }
        }
      }
    }
    if (s) {
      s(`${pre}mlstm_layer.multihead_norm.input`, hIn, [B, S, NH, dv]);
      s(`${pre}mlstm_layer.multihead_norm`, normed, [B, S, Dv]);
      s(`${pre}mlstm_layer.ogate_act_fn`, og, [B, S, Dv]);
    }
    const y = linear(gated, T2, blk.outProj);
    s?.(`${pre}mlstm_layer.out_proj`, y, [B, S, H]);
    s?.(`${pre}mlstm_layer`, y, [B, S, H]);
    for (let e = 0; e < T2 * H; e++) x[e] += y[e];
    const fIn = rmsNorm(x, T2, H, blk.normFfn, cfg.normEps);
    s?.(`${pre}norm_ffn`, fIn, [B, S, H]);
    const u = linear(fIn, T2, blk.upGateZ);
    const g = new Float64Array(T2 * F);
    const act = s ? new Float64Array(T2 * F) : null;
    for (let r2 = 0; r2 < T2; r2++) {
      for (let c = 0; c < F; c++) {
        const z2 = u[r2 * 2 * F + c];
        const si = z2 * sigmoid(z2);
        if (act) act[r2 * F + c] = si;
        g[r2 * F + c] = si * u[r2 * 2 * F + F + c];
      }
    }
    if (s) {
      s(`${pre}ffn.proj_up_gate_z`, u, [B, S, 2 * F]);
      const half = (off) => {
        const o = new Float64Array(T2 * F);
        for (let r2 = 0; r2 < T2; r2++) for (let c = 0; c < F; c++) o[r2 * F + c] = u[r2 * 2 * F + off + c];
        return o;
      };
      s(`${pre}ffn.proj_up_gate`, half(0), [B, S, F]);
      s(`${pre}ffn.proj_up`, half(F), [B, S, F]);
      s(`${pre}ffn.act_fn`, act, [B, S, F]);
    }
    const d = linear(g, T2, blk.down);
    s?.(`${pre}ffn.proj_down`, d, [B, S, H]);
    s?.(`${pre}ffn`, d, [B, S, H]);
    for (let e = 0; e < T2 * H; e++) x[e] += d[e];
    sink?.(`${pre}out`, x, [B, S, H]);
  }
  const ends = opts.seqStarts ? Array.from(opts.seqStarts.subarray(1), (e) => e - 1) : Array.from({ length: B }, (_, b) => b * S + S - 1);
  const rows = opts.lastOnly ? ends.length : T2;
  let z = x;
  if (opts.lastOnly) {
    z = new Float64Array(rows * H);
    for (const [r2, e] of ends.entries()) z.set(x.subarray(e * H, (e + 1) * H), r2 * H);
  }
  const zn = rmsNorm(z, rows, H, { w: W.outNorm, b: null }, cfg.normEps);
  if (!opts.lastOnly) sink?.("final_norm", zn, [B, S, H]);
  const raw = linear(zn, rows, { w: W.lmHead, b: null, out: V, in: H });
  const logits = new Float32Array(rows * V);
  for (let e = 0; e < rows * V; e++) logits[e] = softcap(raw[e], cfg.outputLogitSoftCap);
  return { logits, states: newStates };
}

// packages/core-reference/src/validate.ts
var fmt4 = (shape) => `(${shape.join(", ")})`;
function isTensor(x) {
  return typeof x === "object" && x !== null && Array.isArray(x.shape) && (x.data instanceof Float32Array || x.data instanceof Float64Array);
}
function expectShape(name, t, expected, dimNames, context) {
  const want = `shape (${dimNames.join(", ")}) = ${fmt4(expected)} with a Float32Array or Float64Array`;
  if (!isTensor(t))
    throw new MlstmArgumentError(name, want, cpuTensorProblem(t)?.received ?? "not a tensor", context);
  const ok = t.shape.length === expected.length && t.shape.every((d, k) => d === expected[k]);
  if (!ok) throw new MlstmArgumentError(name, want, `shape ${fmt4(t.shape)}`, context);
  const problem = cpuTensorProblem(t);
  if (problem) throw new MlstmArgumentError(name, problem.expected, problem.received, context);
}
function expectFinite(name, x, context, positive = false) {
  if (typeof x !== "number" || !Number.isFinite(x) || positive && x <= 0) {
    throw new MlstmArgumentError(
      name,
      positive ? "a finite number > 0" : "a finite number",
      String(x),
      context
    );
  }
  return x;
}
function expectChunkSize(x, context, mustDivide) {
  if (typeof x !== "number" || !Number.isInteger(x) || x <= 0) {
    throw new MlstmArgumentError("chunkSize", "a positive integer", String(x), context);
  }
  if (mustDivide !== void 0 && mustDivide % x !== 0) {
    throw new MlstmArgumentError(
      "chunkSize",
      `a divisor of the sequence length S = ${mustDivide}`,
      String(x),
      context
    );
  }
  return x;
}
function validateSequenceInputs(args, context) {
  const { q, k, v, i, f } = args;
  if (!isTensor(q) || q.shape.length !== 4) {
    throw new MlstmArgumentError(
      "q",
      "a tensor of shape (B, NH, S, DHQK)",
      isTensor(q) ? `shape ${fmt4(q.shape)}` : cpuTensorProblem(q)?.received ?? String(q),
      context
    );
  }
  const [B, NH, S, DHQK] = q.shape;
  if (S < 1 || DHQK < 1 || B < 1 || NH < 1) {
    throw new MlstmArgumentError("q", "all dims (B, NH, S, DHQK) >= 1", `shape ${fmt4(q.shape)}`, context);
  }
  expectShape("q", q, [B, NH, S, DHQK], ["B", "NH", "S", "DHQK"], context);
  expectShape("k", k, [B, NH, S, DHQK], ["B", "NH", "S", "DHQK"], context);
  if (!isTensor(v) || v.shape.length !== 4 || v.shape[3] < 1) {
    throw new MlstmArgumentError(
      "v",
      `a tensor of shape (B, NH, S, DHHV) = (${B}, ${NH}, ${S}, DHHV)`,
      isTensor(v) ? `shape ${fmt4(v.shape)}` : cpuTensorProblem(v)?.received ?? String(v),
      context
    );
  }
  const DHHV = v.shape[3];
  expectShape("v", v, [B, NH, S, DHHV], ["B", "NH", "S", "DHHV"], context);
  expectShape("i", i, [B, NH, S], ["B", "NH", "S"], context);
  expectShape("f", f, [B, NH, S], ["B", "NH", "S"], context);
  return { B, NH, S, DHQK, DHHV };
}
function validateStates2(states, names, d, context, requireM = true) {
  const given = [states.c, states.n, ...requireM ? [states.m] : []].map(
    (x) => x !== void 0 && x !== null
  );
  if (!given.some(Boolean)) {
    if (!requireM && states.m != null)
      expectShape(names.m, states.m, [d.B, d.NH, 1], ["B", "NH", "1"], context);
    return false;
  }
  if (!given.every(Boolean)) {
    const missing = [names.c, names.n, ...requireM ? [names.m] : []].filter((_, k) => !given[k]);
    throw new MlstmArgumentError(
      missing[0],
      `all initial states (${[names.c, names.n, ...requireM ? [names.m] : []].join(", ")}) or none`,
      "undefined",
      context
    );
  }
  expectShape(names.c, states.c, [d.B, d.NH, d.DHQK, d.DHHV], ["B", "NH", "DHQK", "DHHV"], context);
  expectShape(names.n, states.n, [d.B, d.NH, d.DHQK], ["B", "NH", "DHQK"], context);
  if (states.m != null) expectShape(names.m, states.m, [d.B, d.NH, 1], ["B", "NH", "1"], context);
  return true;
}
function validateEps2(eps, context, fallback) {
  return eps === void 0 ? fallback : expectFinite("eps", eps, context);
}
function validateFlag(name, x, context, fallback) {
  if (x === void 0) return fallback;
  if (typeof x !== "boolean") throw new MlstmArgumentError(name, "a boolean", String(x), context);
  return x;
}
function rejectStates(args, context) {
  for (const name of ["cInitial", "nInitial", "mInitial"]) {
    if (args[name] != null) {
      throw new MlstmArgumentError(
        name,
        "no initial state (the parallel form has no state)",
        "a value",
        context
      );
    }
  }
  if (args.returnLastStates) {
    throw new MlstmArgumentError(
      "returnLastStates",
      "false (the parallel form returns no state)",
      String(args.returnLastStates),
      context
    );
  }
}
function expectRank(name, t, dimNames, context) {
  const want = `a tensor of shape (${dimNames.join(", ")}) with all dims >= 1`;
  if (!isTensor(t))
    throw new MlstmArgumentError(name, want, cpuTensorProblem(t)?.received ?? "not a tensor", context);
  if (t.shape.length !== dimNames.length || t.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new MlstmArgumentError(name, want, `shape ${fmt4(t.shape)}`, context);
  }
  expectShape(name, t, t.shape, dimNames, context);
  return [...t.shape];
}
function validateGate(x, context) {
  if (x === void 0) return "exp";
  if (x !== "exp" && x !== "sig") throw new MlstmArgumentError("gate", "'exp' or 'sig'", String(x), context);
  return x;
}

// packages/core-reference/src/math.ts
function logsigmoid(x) {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}
function sigmoid2(x) {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
function qkScale(DHQK) {
  return 1 / Math.sqrt(DHQK);
}
var DEFAULT_EPS2 = 1e-6;
function dot(a, aOff, b, bOff, n) {
  let s = 0;
  for (let x = 0; x < n; x++) s += a[aOff + x] * b[bOff + x];
  return s;
}
function logInputGate2(kind, x) {
  return kind === "exp" ? x : logsigmoid(x);
}
function logInputGateGrad(kind, x) {
  return kind === "exp" ? 1 : sigmoid2(-x);
}
function headSlice(data, bh, len2) {
  const out2 = new Float64Array(len2);
  const off = bh * len2;
  for (let x = 0; x < len2; x++) out2[x] = data[off + x];
  return out2;
}
function setHeadSlice(dst, bh, src) {
  const off = bh * src.length;
  for (let x = 0; x < src.length; x++) dst[off + x] = src[x];
}
function gateGradientsHead(kind, q, k, dq, dk, iPre, fPre, S, DHQK, dLambdaShift, di, df, off) {
  let suffix = dLambdaShift;
  for (let t = S - 1; t >= 0; t--) {
    const kdk = dot(k, t * DHQK, dk, t * DHQK, DHQK);
    const qdq = dot(q, t * DHQK, dq, t * DHQK, DHQK);
    di[off + t] = kdk * logInputGateGrad(kind, iPre[t]);
    suffix += qdq - kdk;
    df[off + t] = suffix * sigmoid2(-fPre[t]);
  }
}

// packages/core-reference/src/recurrent.ts
function recurrentStepHead(kind, normalize, st, q, qOff, k, kOff, v, vOff, iPre, fPre, DHQK, DHHV, eps, h, hOff) {
  const kappa2 = qkScale(DHQK);
  const lambda = logsigmoid(fPre);
  const logI = logInputGate2(kind, iPre);
  const mNew = kind === "exp" ? Math.max(lambda + st.m, logI) : 0;
  const fGate = Math.exp(lambda + st.m - mNew);
  const iGate = Math.exp(logI - mNew);
  const { c, n } = st;
  for (let a = 0; a < DHQK; a++) {
    const ka = iGate * k[kOff + a];
    n[a] = fGate * n[a] + ka;
    const row = a * DHHV;
    for (let b = 0; b < DHHV; b++) c[row + b] = fGate * c[row + b] + ka * v[vOff + b];
  }
  st.m = mNew;
  let nq = 0;
  for (let b = 0; b < DHHV; b++) h[hOff + b] = 0;
  for (let a = 0; a < DHQK; a++) {
    const qa = kappa2 * q[qOff + a];
    nq += n[a] * qa;
    const row = a * DHHV;
    for (let b = 0; b < DHHV; b++) h[hOff + b] += c[row + b] * qa;
  }
  if (!normalize) return;
  const den = Math.max(Math.abs(nq), Math.exp(-mNew)) + eps;
  for (let b = 0; b < DHHV; b++) h[hOff + b] /= den;
}
function mlstmRecurrentStep(args) {
  const ctx2 = "mlstmRecurrentStep";
  const { q, k, v, i, f, c, n, m } = args;
  const [B, NH, DHQK] = expectRank("q", q, ["B", "NH", "DHQK"], ctx2);
  expectShape("k", k, [B, NH, DHQK], ["B", "NH", "DHQK"], ctx2);
  const DHHV = expectRank("v", v, ["B", "NH", "DHHV"], ctx2)[2];
  expectShape("v", v, [B, NH, DHHV], ["B", "NH", "DHHV"], ctx2);
  expectShape("i", i, [B, NH, 1], ["B", "NH", "1"], ctx2);
  expectShape("f", f, [B, NH, 1], ["B", "NH", "1"], ctx2);
  expectShape("c", c, [B, NH, DHQK, DHHV], ["B", "NH", "DHQK", "DHHV"], ctx2);
  expectShape("n", n, [B, NH, DHQK], ["B", "NH", "DHQK"], ctx2);
  expectShape("m", m, [B, NH, 1], ["B", "NH", "1"], ctx2);
  const eps = validateEps2(args.eps, ctx2, DEFAULT_EPS2);
  const h = new Float64Array(B * NH * DHHV);
  const cOut = Float64Array.from(c.data);
  const nOut = Float64Array.from(n.data);
  const mOut = new Float64Array(B * NH);
  const CS = DHQK * DHHV;
  for (let bh = 0; bh < B * NH; bh++) {
    const st = {
      c: cOut.subarray(bh * CS, (bh + 1) * CS),
      n: nOut.subarray(bh * DHQK, (bh + 1) * DHQK),
      m: m.data[bh]
    };
    recurrentStepHead(
      "exp",
      true,
      st,
      q.data,
      bh * DHQK,
      k.data,
      bh * DHQK,
      v.data,
      bh * DHHV,
      i.data[bh],
      f.data[bh],
      DHQK,
      DHHV,
      eps,
      h,
      bh * DHHV
    );
    mOut[bh] = st.m;
  }
  return {
    h: { shape: [B, NH, DHHV], data: h },
    c: { shape: [B, NH, DHQK, DHHV], data: cOut },
    n: { shape: [B, NH, DHQK], data: nOut },
    m: { shape: [B, NH, 1], data: mOut }
  };
}
function recurrentSequenceCore(kind, normalize, x, d, init, eps) {
  const { B, NH, S, DHQK, DHHV } = d;
  const CS = DHQK * DHHV;
  const h = new Float64Array(B * NH * S * DHHV);
  const c = init ? Float64Array.from(init.c) : new Float64Array(B * NH * CS);
  const n = init ? Float64Array.from(init.n) : new Float64Array(B * NH * DHQK);
  const m = new Float64Array(B * NH);
  for (let bh = 0; bh < B * NH; bh++) {
    const st = {
      c: c.subarray(bh * CS, (bh + 1) * CS),
      n: n.subarray(bh * DHQK, (bh + 1) * DHQK),
      m: kind === "exp" && init?.m ? init.m[bh] : 0
    };
    for (let t = 0; t < S; t++) {
      const row = bh * S + t;
      recurrentStepHead(
        kind,
        normalize,
        st,
        x.q.data,
        row * DHQK,
        x.k.data,
        row * DHQK,
        x.v.data,
        row * DHHV,
        x.i.data[row],
        x.f.data[row],
        DHQK,
        DHHV,
        eps,
        h,
        row * DHHV
      );
    }
    m[bh] = st.m;
  }
  return { h, c, n, m };
}
function mlstmRecurrentSequence(args) {
  const ctx2 = "mlstmRecurrentSequence";
  const d = validateSequenceInputs(args, ctx2);
  const hasStates = validateStates2(
    { c: args.cInitial, n: args.nInitial, m: args.mInitial },
    { c: "cInitial", n: "nInitial", m: "mInitial" },
    d,
    ctx2
  );
  const eps = validateEps2(args.eps, ctx2, DEFAULT_EPS2);
  const returnLast = validateFlag("returnLastStates", args.returnLastStates, ctx2, false);
  const init = hasStates ? { c: args.cInitial.data, n: args.nInitial.data, m: args.mInitial.data } : void 0;
  const r2 = recurrentSequenceCore("exp", true, args, d, init, eps);
  const { B, NH, S, DHQK, DHHV } = d;
  const h = { shape: [B, NH, S, DHHV], data: r2.h };
  if (!returnLast) return { h };
  return {
    h,
    lastStates: {
      c: { shape: [B, NH, DHQK, DHHV], data: r2.c },
      n: { shape: [B, NH, DHQK], data: r2.n },
      m: { shape: [B, NH, 1], data: r2.m }
    }
  };
}

// packages/core-reference/src/parallel.ts
function logForgetMatrix(fPre, S, stableF) {
  const L = new Float64Array(S * S);
  const lambda = Float64Array.from(fPre, logsigmoid);
  if (stableF) {
    for (let s = 0; s < S; s++) {
      let acc = 0;
      for (let t = s + 1; t < S; t++) {
        acc += lambda[t];
        L[t * S + s] = acc;
      }
    }
  } else {
    const F = new Float64Array(S);
    let acc = 0;
    for (let t = 0; t < S; t++) F[t] = acc += lambda[t];
    for (let t = 0; t < S; t++) for (let s = 0; s < t; s++) L[t * S + s] = F[t] - F[s];
  }
  return L;
}
function parallelForwardHead(x, S, DHQK, DHHV, o) {
  const kappa2 = qkScale(DHQK);
  const L = logForgetMatrix(x.f, S, o.stableF);
  const logI = Float64Array.from(x.i, (ii) => logInputGate2(o.kind, ii));
  const gate = new Float64Array(S * S);
  const scores = new Float64Array(S * S);
  const h = new Float64Array(S * DHHV);
  const n = new Float64Array(S);
  const m = new Float64Array(S);
  for (let t = 0; t < S; t++) {
    let mt = 0;
    if (o.kind === "exp") {
      mt = Number.NEGATIVE_INFINITY;
      for (let s = 0; s <= t; s++) mt = Math.max(mt, L[t * S + s] + logI[s]);
    }
    m[t] = mt;
    let rowSum = 0;
    for (let s = 0; s <= t; s++) {
      const d = Math.exp(L[t * S + s] + logI[s] - mt);
      const a = kappa2 * dot(x.q, t * DHQK, x.k, s * DHQK, DHQK);
      gate[t * S + s] = d;
      scores[t * S + s] = a;
      const ct = a * d;
      rowSum += ct;
      for (let b = 0; b < DHHV; b++) h[t * DHHV + b] += ct * x.v[s * DHHV + b];
    }
    if (o.normalize) {
      n[t] = Math.max(Math.abs(rowSum), Math.exp(-mt));
      const den = n[t] + o.eps;
      for (let b = 0; b < DHHV; b++) h[t * DHHV + b] /= den;
    } else {
      n[t] = 1;
    }
  }
  return { h, n, m, gate, scores };
}
function parallelBackwardHead(x, dh, S, DHQK, DHHV, o) {
  const kappa2 = qkScale(DHQK);
  const fw = parallelForwardHead(x, S, DHQK, DHHV, o);
  const dhTilde = new Float64Array(S * DHHV);
  for (let t = 0; t < S; t++) {
    const den = o.normalize ? fw.n[t] + o.eps : 1;
    for (let b = 0; b < DHHV; b++) dhTilde[t * DHHV + b] = dh[t * DHHV + b] / den;
  }
  const dq = new Float64Array(S * DHQK);
  const dk = new Float64Array(S * DHQK);
  const dv = new Float64Array(S * DHHV);
  for (let t = 0; t < S; t++) {
    for (let s = 0; s <= t; s++) {
      const d = fw.gate[t * S + s];
      const p = dot(dhTilde, t * DHHV, x.v, s * DHHV, DHHV) * d;
      const ct = fw.scores[t * S + s] * d;
      for (let a = 0; a < DHQK; a++) {
        dq[t * DHQK + a] += kappa2 * p * x.k[s * DHQK + a];
        dk[s * DHQK + a] += kappa2 * p * x.q[t * DHQK + a];
      }
      for (let b = 0; b < DHHV; b++) dv[s * DHHV + b] += ct * dhTilde[t * DHHV + b];
    }
  }
  const di = new Float64Array(S);
  const df = new Float64Array(S);
  gateGradientsHead(o.kind, x.q, x.k, dq, dk, x.i, x.f, S, DHQK, 0, di, df, 0);
  return { dq, dk, dv, di, df };
}
function headInputs(x, d, bh) {
  return {
    q: headSlice(x.q.data, bh, d.S * d.DHQK),
    k: headSlice(x.k.data, bh, d.S * d.DHQK),
    v: headSlice(x.v.data, bh, d.S * d.DHHV),
    i: headSlice(x.i.data, bh, d.S),
    f: headSlice(x.f.data, bh, d.S)
  };
}
function parallelForwardCore(x, d, o) {
  const { B, NH, S, DHHV } = d;
  const h = new Float64Array(B * NH * S * DHHV);
  const n = new Float64Array(B * NH * S);
  const m = new Float64Array(B * NH * S);
  for (let bh = 0; bh < B * NH; bh++) {
    const r2 = parallelForwardHead(headInputs(x, d, bh), S, d.DHQK, DHHV, o);
    setHeadSlice(h, bh, r2.h);
    setHeadSlice(n, bh, r2.n);
    setHeadSlice(m, bh, r2.m);
  }
  return {
    h: { shape: [B, NH, S, DHHV], data: h },
    n: { shape: [B, NH, S], data: n },
    m: { shape: [B, NH, S], data: m }
  };
}
function parallelBackwardCore(x, dh, d, o) {
  const { B, NH, S, DHQK, DHHV } = d;
  const out2 = {
    dq: new Float64Array(B * NH * S * DHQK),
    dk: new Float64Array(B * NH * S * DHQK),
    dv: new Float64Array(B * NH * S * DHHV),
    di: new Float64Array(B * NH * S),
    df: new Float64Array(B * NH * S)
  };
  for (let bh = 0; bh < B * NH; bh++) {
    const g = parallelBackwardHead(headInputs(x, d, bh), headSlice(dh.data, bh, S * DHHV), S, DHQK, DHHV, o);
    setHeadSlice(out2.dq, bh, g.dq);
    setHeadSlice(out2.dk, bh, g.dk);
    setHeadSlice(out2.dv, bh, g.dv);
    setHeadSlice(out2.di, bh, g.di);
    setHeadSlice(out2.df, bh, g.df);
  }
  return {
    dq: { shape: [B, NH, S, DHQK], data: out2.dq },
    dk: { shape: [B, NH, S, DHQK], data: out2.dk },
    dv: { shape: [B, NH, S, DHHV], data: out2.dv },
    di: { shape: [B, NH, S], data: out2.di },
    df: { shape: [B, NH, S], data: out2.df }
  };
}
function validateDh(dh, d, ctx2) {
  expectShape("dh", dh, [d.B, d.NH, d.S, d.DHHV], ["B", "NH", "S", "DHHV"], ctx2);
}
function mlstmParallel(args) {
  const ctx2 = "mlstmParallel";
  const d = validateSequenceInputs(args, ctx2);
  rejectStates(args, ctx2);
  const eps = validateEps2(args.eps, ctx2, DEFAULT_EPS2);
  const stableF = validateFlag("stableF", args.stableF, ctx2, true);
  return parallelForwardCore(args, d, { kind: "exp", stableF, normalize: true, eps });
}
function mlstmParallelBackward(args) {
  const ctx2 = "mlstmParallelBackward";
  const d = validateSequenceInputs(args, ctx2);
  rejectStates(args, ctx2);
  validateDh(args.dh, d, ctx2);
  const eps = validateEps2(args.eps, ctx2, DEFAULT_EPS2);
  const stableF = validateFlag("stableF", args.stableF, ctx2, true);
  return parallelBackwardCore(args, args.dh, d, { kind: "exp", stableF, normalize: true, eps });
}

// packages/core-reference/src/chunkwise.ts
var DEFAULT_CHUNK_SIZE = 64;
function chunkGates(kind, iPre, fPre, start, L) {
  const lambda = new Float64Array(L);
  const logI = new Float64Array(L);
  for (let j = 0; j < L; j++) {
    lambda[j] = logsigmoid(fPre[start + j]);
    logI[j] = logInputGate2(kind, iPre[start + j]);
  }
  const b = new Float64Array(L);
  let acc = 0;
  for (let j = 0; j < L; j++) b[j] = acc += lambda[j];
  const a = new Float64Array(L);
  let suffix = 0;
  for (let j = L - 1; j >= 0; j--) {
    a[j] = suffix + logI[j];
    suffix += lambda[j];
  }
  return { b, a, logI, g: b[L - 1] };
}
function chunkStatesHead(x, S, DHQK, DHHV, init, o) {
  const L = o.chunkSize;
  const NC = S / L;
  const CS = DHQK * DHHV;
  const cStates = new Float64Array((NC + 1) * CS);
  const nStates = new Float64Array((NC + 1) * DHQK);
  const mStates = new Float64Array(NC + 1);
  if (init) {
    cStates.set(init.c, 0);
    nStates.set(init.n, 0);
    mStates[0] = o.kind === "exp" ? init.m : 0;
  }
  for (let k = 0; k < NC; k++) {
    const gates = chunkGates(o.kind, x.i, x.f, k * L, L);
    const mPrev = mStates[k];
    let mk = 0;
    if (o.kind === "exp") {
      mk = gates.g + mPrev;
      for (let j = 0; j < L; j++) mk = Math.max(mk, gates.a[j]);
    }
    mStates[k + 1] = mk;
    const decay = Math.exp(gates.g + mPrev - mk);
    const cPrev = k * CS;
    const cNext = (k + 1) * CS;
    for (let e = 0; e < CS; e++) cStates[cNext + e] = decay * cStates[cPrev + e];
    for (let e = 0; e < DHQK; e++) nStates[(k + 1) * DHQK + e] = decay * nStates[k * DHQK + e];
    for (let j = 0; j < L; j++) {
      const w2 = Math.exp(gates.a[j] - mk);
      const t = k * L + j;
      for (let r2 = 0; r2 < DHQK; r2++) {
        const kr = w2 * x.k[t * DHQK + r2];
        nStates[(k + 1) * DHQK + r2] += kr;
        for (let c = 0; c < DHHV; c++) cStates[cNext + r2 * DHHV + c] += kr * x.v[t * DHHV + c];
      }
    }
  }
  return { cStates, nStates, mStates };
}
function intraChunkGates(kind, gates, mPrev, L) {
  const { b, logI } = gates;
  const gate = new Float64Array(L * L);
  const mComb = new Float64Array(L);
  const bBar = new Float64Array(L);
  for (let j = 0; j < L; j++) {
    let mj = 0;
    if (kind === "exp") {
      mj = b[j] + mPrev;
      for (let l = 0; l <= j; l++) mj = Math.max(mj, b[j] - b[l] + logI[l]);
    }
    mComb[j] = mj;
    bBar[j] = Math.exp(b[j] + mPrev - mj);
    for (let l = 0; l <= j; l++) gate[j * L + l] = Math.exp(b[j] - b[l] + logI[l] - mj);
  }
  return { gate, mComb, bBar };
}
function chunkwiseForwardHead(x, S, DHQK, DHHV, init, o) {
  const L = o.chunkSize;
  const NC = S / L;
  const CS = DHQK * DHHV;
  const kappa2 = qkScale(DHQK);
  const states = chunkStatesHead(x, S, DHQK, DHHV, init, o);
  const h = new Float64Array(S * DHHV);
  const nOut = new Float64Array(S);
  const mComb = new Float64Array(S);
  for (let k = 0; k < NC; k++) {
    const gates = chunkGates(o.kind, x.i, x.f, k * L, L);
    const intra = intraChunkGates(o.kind, gates, states.mStates[k], L);
    const cPrev = k * CS;
    for (let j = 0; j < L; j++) {
      const t = k * L + j;
      const hRow = t * DHHV;
      let den = 0;
      for (let r2 = 0; r2 < DHQK; r2++) {
        const qb = kappa2 * x.q[t * DHQK + r2] * intra.bBar[j];
        den += qb * states.nStates[k * DHQK + r2];
        for (let c = 0; c < DHHV; c++) h[hRow + c] += qb * states.cStates[cPrev + r2 * DHHV + c];
      }
      for (let l = 0; l <= j; l++) {
        const u = k * L + l;
        const w2 = kappa2 * dot(x.q, t * DHQK, x.k, u * DHQK, DHQK) * intra.gate[j * L + l];
        den += w2;
        for (let c = 0; c < DHHV; c++) h[hRow + c] += w2 * x.v[u * DHHV + c];
      }
      mComb[t] = intra.mComb[j];
      if (o.normalize) {
        nOut[t] = Math.max(Math.abs(den), Math.exp(-intra.mComb[j]));
        const d = nOut[t] + o.eps;
        for (let c = 0; c < DHHV; c++) h[hRow + c] /= d;
      } else {
        nOut[t] = 1;
      }
    }
  }
  return { h, nOut, mComb, ...states };
}
function chunkHeadInputs(x, d, bh) {
  return {
    q: headSlice(x.q.data, bh, d.S * d.DHQK),
    k: headSlice(x.k.data, bh, d.S * d.DHQK),
    v: headSlice(x.v.data, bh, d.S * d.DHHV),
    i: headSlice(x.i.data, bh, d.S),
    f: headSlice(x.f.data, bh, d.S)
  };
}
function chunkHeadStates(s, d, bh) {
  if (!s) return void 0;
  return {
    c: headSlice(s.c.data, bh, d.DHQK * d.DHHV),
    n: headSlice(s.n.data, bh, d.DHQK),
    m: s.m ? s.m.data[bh] : 0
  };
}
function chunkwiseForwardCore(x, d, init, o) {
  const { B, NH, S, DHQK, DHHV } = d;
  const NC = S / o.chunkSize;
  const h = new Float64Array(B * NH * S * DHHV);
  const nOut = new Float64Array(B * NH * S);
  const mComb = new Float64Array(B * NH * S);
  const cStates = new Float64Array(B * NH * (NC + 1) * DHQK * DHHV);
  const nStates = new Float64Array(B * NH * (NC + 1) * DHQK);
  const mStates = new Float64Array(B * NH * (NC + 1));
  for (let bh = 0; bh < B * NH; bh++) {
    const r2 = chunkwiseForwardHead(chunkHeadInputs(x, d, bh), S, DHQK, DHHV, chunkHeadStates(init, d, bh), o);
    setHeadSlice(h, bh, r2.h);
    setHeadSlice(nOut, bh, r2.nOut);
    setHeadSlice(mComb, bh, r2.mComb);
    setHeadSlice(cStates, bh, r2.cStates);
    setHeadSlice(nStates, bh, r2.nStates);
    setHeadSlice(mStates, bh, r2.mStates);
  }
  return {
    h: { shape: [B, NH, S, DHHV], data: h },
    nOut: { shape: [B, NH, S], data: nOut },
    mComb: { shape: [B, NH, S], data: mComb },
    cStates: { shape: [B, NH, (NC + 1) * DHQK, DHHV], data: cStates },
    nStates: { shape: [B, NH, (NC + 1) * DHQK], data: nStates },
    mStates: { shape: [B, NH, NC + 1], data: mStates }
  };
}
function lastStatesOf(r2, d) {
  const { B, NH, DHQK, DHHV } = d;
  const NC1 = r2.mStates.shape[2];
  const CS = DHQK * DHHV;
  const c = new Float64Array(B * NH * CS);
  const n = new Float64Array(B * NH * DHQK);
  const m = new Float64Array(B * NH);
  for (let bh = 0; bh < B * NH; bh++) {
    c.set(r2.cStates.data.subarray((bh * NC1 + NC1 - 1) * CS, (bh * NC1 + NC1) * CS), bh * CS);
    n.set(r2.nStates.data.subarray((bh * NC1 + NC1 - 1) * DHQK, (bh * NC1 + NC1) * DHQK), bh * DHQK);
    m[bh] = r2.mStates.data[bh * NC1 + NC1 - 1];
  }
  return {
    c: { shape: [B, NH, DHQK, DHHV], data: c },
    n: { shape: [B, NH, DHQK], data: n },
    m: { shape: [B, NH, 1], data: m }
  };
}
function validateChunkwiseArgs(args, ctx2, requireM = true) {
  const d = validateSequenceInputs(args, ctx2);
  const has = validateStates2(
    { c: args.cInitial, n: args.nInitial, m: args.mInitial },
    { c: "cInitial", n: "nInitial", m: "mInitial" },
    d,
    ctx2,
    requireM
  );
  const chunkSize = expectChunkSize(args.chunkSize ?? DEFAULT_CHUNK_SIZE, ctx2, d.S);
  const eps = validateEps2(args.eps, ctx2, DEFAULT_EPS2);
  const init = has ? { c: args.cInitial, n: args.nInitial, m: requireM ? args.mInitial : void 0 } : void 0;
  return { d, init, eps, chunkSize };
}
function mlstmChunkwise(args) {
  const ctx2 = "mlstmChunkwise";
  const { d, init, eps, chunkSize } = validateChunkwiseArgs(args, ctx2);
  const returnLast = validateFlag("returnLastStates", args.returnLastStates, ctx2, false);
  const r2 = chunkwiseForwardCore(args, d, init, { kind: "exp", normalize: true, eps, chunkSize });
  return returnLast ? { h: r2.h, lastStates: lastStatesOf(r2, d) } : { h: r2.h };
}

// packages/core-reference/src/chunkwise-backward.ts
function chunkwiseBackwardHead(x, dh, dcLast, S, DHQK, DHHV, init, o) {
  const L = o.chunkSize;
  const NC = S / L;
  const CS = DHQK * DHHV;
  const kappa2 = qkScale(DHQK);
  const fw = chunkwiseForwardHead(x, S, DHQK, DHHV, init, o);
  const { cStates, mStates } = fw;
  const dhTilde = new Float64Array(S * DHHV);
  for (let t = 0; t < S; t++) {
    const den = o.normalize ? fw.nOut[t] + o.eps : 1;
    for (let c = 0; c < DHHV; c++) dhTilde[t * DHHV + c] = dh[t * DHHV + c] / den;
  }
  const gates = Array.from({ length: NC }, (_, k) => chunkGates(o.kind, x.i, x.f, k * L, L));
  const intra = gates.map((g, k) => intraChunkGates(o.kind, g, mStates[k], L));
  const dcStates = new Float64Array((NC + 1) * CS);
  if (dcLast) dcStates.set(dcLast, NC * CS);
  for (let k = NC - 1; k >= 0; k--) {
    const decay = Math.exp(gates[k].g + mStates[k] - mStates[k + 1]);
    for (let e = 0; e < CS; e++) dcStates[k * CS + e] = decay * dcStates[(k + 1) * CS + e];
    for (let j = 0; j < L; j++) {
      const t = k * L + j;
      for (let r2 = 0; r2 < DHQK; r2++) {
        const qb = kappa2 * x.q[t * DHQK + r2] * intra[k].bBar[j];
        for (let c = 0; c < DHHV; c++) dcStates[k * CS + r2 * DHHV + c] += qb * dhTilde[t * DHHV + c];
      }
    }
  }
  const dq = new Float64Array(S * DHQK);
  const dk = new Float64Array(S * DHQK);
  const dv = new Float64Array(S * DHHV);
  for (let k = 0; k < NC; k++) {
    const { gate, bBar } = intra[k];
    const cPrev = k * CS;
    const dcNext = (k + 1) * CS;
    for (let j = 0; j < L; j++) {
      const t = k * L + j;
      for (let r2 = 0; r2 < DHQK; r2++) {
        dq[t * DHQK + r2] += kappa2 * bBar[j] * dot(cStates, cPrev + r2 * DHHV, dhTilde, t * DHHV, DHHV);
      }
      for (let l = 0; l <= j; l++) {
        const u = k * L + l;
        const d = gate[j * L + l];
        const p = dot(dhTilde, t * DHHV, x.v, u * DHHV, DHHV) * d;
        const ct = kappa2 * dot(x.q, t * DHQK, x.k, u * DHQK, DHQK) * d;
        for (let r2 = 0; r2 < DHQK; r2++) {
          dq[t * DHQK + r2] += kappa2 * p * x.k[u * DHQK + r2];
          dk[u * DHQK + r2] += kappa2 * p * x.q[t * DHQK + r2];
        }
        for (let c = 0; c < DHHV; c++) dv[u * DHHV + c] += ct * dhTilde[t * DHHV + c];
      }
    }
    for (let l = 0; l < L; l++) {
      const u = k * L + l;
      const aBar = Math.exp(gates[k].a[l] - mStates[k + 1]);
      for (let r2 = 0; r2 < DHQK; r2++) {
        dk[u * DHQK + r2] += aBar * dot(dcStates, dcNext + r2 * DHHV, x.v, u * DHHV, DHHV);
        const kr = aBar * x.k[u * DHQK + r2];
        for (let c = 0; c < DHHV; c++) dv[u * DHHV + c] += kr * dcStates[dcNext + r2 * DHHV + c];
      }
    }
  }
  const shift = o.correctDfForDcLast && dcLast ? dot(dcLast, 0, cStates, NC * CS, CS) : 0;
  const di = new Float64Array(S);
  const df = new Float64Array(S);
  gateGradientsHead(o.kind, x.q, x.k, dq, dk, x.i, x.f, S, DHQK, shift, di, df, 0);
  return { dq, dk, dv, di, df, dcStates };
}
function chunkwiseBackwardCore(x, dh, dcLast, d, init, o) {
  const { B, NH, S, DHQK, DHHV } = d;
  const NC = S / o.chunkSize;
  const CS = DHQK * DHHV;
  const dq = new Float64Array(B * NH * S * DHQK);
  const dk = new Float64Array(B * NH * S * DHQK);
  const dv = new Float64Array(B * NH * S * DHHV);
  const di = new Float64Array(B * NH * S);
  const df = new Float64Array(B * NH * S);
  const dcStates = new Float64Array(B * NH * (NC + 1) * CS);
  for (let bh = 0; bh < B * NH; bh++) {
    const g = chunkwiseBackwardHead(
      chunkHeadInputs(x, d, bh),
      headSlice(dh.data, bh, S * DHHV),
      dcLast ? headSlice(dcLast.data, bh, CS) : void 0,
      S,
      DHQK,
      DHHV,
      chunkHeadStates(init, d, bh),
      o
    );
    setHeadSlice(dq, bh, g.dq);
    setHeadSlice(dk, bh, g.dk);
    setHeadSlice(dv, bh, g.dv);
    setHeadSlice(di, bh, g.di);
    setHeadSlice(df, bh, g.df);
    setHeadSlice(dcStates, bh, g.dcStates);
  }
  const out2 = {
    dq: { shape: [B, NH, S, DHQK], data: dq },
    dk: { shape: [B, NH, S, DHQK], data: dk },
    dv: { shape: [B, NH, S, DHHV], data: dv },
    di: { shape: [B, NH, S], data: di },
    df: { shape: [B, NH, S], data: df },
    dcStates: { shape: [B, NH, (NC + 1) * DHQK, DHHV], data: dcStates }
  };
  if (init) {
    const dc0 = new Float64Array(B * NH * CS);
    for (let bh = 0; bh < B * NH; bh++)
      dc0.set(dcStates.subarray(bh * (NC + 1) * CS, (bh * (NC + 1) + 1) * CS), bh * CS);
    out2.dcInitial = { shape: [B, NH, DHQK, DHHV], data: dc0 };
    out2.dnInitial = { shape: [B, NH, DHQK], data: new Float64Array(B * NH * DHQK) };
    if (o.kind === "exp") out2.dmInitial = { shape: [B, NH, 1], data: new Float64Array(B * NH) };
  }
  return out2;
}
function validateChunkwiseBackwardArgs(args, ctx2, requireM = true) {
  const v = validateChunkwiseArgs(args, ctx2, requireM);
  validateDh(args.dh, v.d, ctx2);
  if (args.dcLast != null) {
    expectShape("dcLast", args.dcLast, [v.d.B, v.d.NH, v.d.DHQK, v.d.DHHV], ["B", "NH", "DHQK", "DHHV"], ctx2);
  }
  const correct = validateFlag("correctDfForDcLast", args.correctDfForDcLast, ctx2, false);
  return { ...v, dcLast: args.dcLast ?? void 0, correct };
}
function mlstmChunkwiseBackward(args) {
  const ctx2 = "mlstmChunkwiseBackward";
  const { d, init, eps, chunkSize, dcLast, correct } = validateChunkwiseBackwardArgs(args, ctx2);
  const { dcStates: _, ...grads } = chunkwiseBackwardCore(args, args.dh, dcLast, d, init, {
    kind: "exp",
    normalize: true,
    eps,
    chunkSize,
    correctDfForDcLast: correct
  });
  return grads;
}

// packages/core-reference/src/packed.ts
function validateSeqStarts2(seqStarts, T2, context, states) {
  return checkSeqStarts(seqStarts, T2, context, states).length - 1;
}
var gcd2 = (a, b) => b ? gcd2(b, a % b) : a;
function validatePacked(args, ctx2) {
  const kind = validateGate(args.gate, ctx2);
  const requireM = kind === "exp";
  const d = validateSequenceInputs(args, ctx2);
  if (d.B !== 1) {
    throw new MlstmArgumentError(
      "q",
      "batch B = 1 with seqStarts (the sequences are packed along the token axis)",
      `B = ${d.B}`,
      ctx2
    );
  }
  const c = args.cInitial;
  const Nstates = c && Array.isArray(c.shape) && c.shape.length === 4 ? c.shape[0] : void 0;
  const N = validateSeqStarts2(args.seqStarts, d.S, ctx2, args.cInitial != null ? Nstates : void 0);
  const has = validateStates2(
    { c: args.cInitial, n: args.nInitial, m: args.mInitial },
    { c: "cInitial", n: "nInitial", m: "mInitial" },
    { ...d, B: N },
    ctx2,
    requireM
  );
  const chunkSize = expectChunkSize(args.chunkSize ?? DEFAULT_CHUNK_SIZE, ctx2);
  const eps = validateEps2(args.eps, ctx2, DEFAULT_EPS2);
  const normalize = kind === "exp" ? true : validateFlag("normalize", args.normalize, ctx2, true);
  return {
    d,
    N,
    starts: Array.from(args.seqStarts),
    init: has ? { c: args.cInitial, n: args.nInitial, m: requireM ? args.mInitial : void 0 } : void 0,
    o: { kind, normalize, eps, chunkSize }
  };
}
function sequence(x, p, s) {
  const [a, b] = [p.starts[s], p.starts[s + 1]];
  const take = (t) => sliceAxis(t, 2, a, b);
  const one = (t) => t ? sliceAxis(t, 0, s, s + 1) : void 0;
  const xs = { q: take(x.q), k: take(x.k), v: take(x.v), i: take(x.i), f: take(x.f) };
  const init = p.init ? { c: one(p.init.c), n: one(p.init.n), m: one(p.init.m) } : void 0;
  const len2 = b - a;
  return {
    xs,
    init,
    d: { ...p.d, S: len2 },
    o: { ...p.o, chunkSize: gcd2(len2, p.o.chunkSize) },
    take,
    one
  };
}
function mlstmChunkwisePacked(args) {
  const ctx2 = "mlstmChunkwisePacked";
  const p = validatePacked(args, ctx2);
  const returnLast = validateFlag("returnLastStates", args.returnLastStates, ctx2, false);
  const hs = [];
  const lasts = [];
  for (let s = 0; s < p.N; s++) {
    const q = sequence(args, p, s);
    const r2 = chunkwiseForwardCore(q.xs, q.d, q.init, q.o);
    hs.push(r2.h);
    if (returnLast) lasts.push(lastStatesOf(r2, { ...q.d, B: 1 }));
  }
  const h = concatAxis(hs, 2);
  if (!returnLast) return { h };
  const c = concatAxis(
    lasts.map((l) => l.c),
    0
  );
  const n = concatAxis(
    lasts.map((l) => l.n),
    0
  );
  if (p.o.kind === "sig") {
    if (!p.o.normalize) n.data.fill(0);
    return { h, lastStates: { c, n } };
  }
  const m = concatAxis(
    lasts.map((l) => l.m),
    0
  );
  return { h, lastStates: { c, n, m } };
}
function mlstmChunkwisePackedBackward(args) {
  const ctx2 = "mlstmChunkwisePackedBackward";
  const p = validatePacked(args, ctx2);
  const { N, d } = p;
  expectShape("dh", args.dh, [1, d.NH, d.S, d.DHHV], ["1", "NH", "T", "DHHV"], ctx2);
  if (args.dcLast != null) {
    expectShape("dcLast", args.dcLast, [N, d.NH, d.DHQK, d.DHHV], ["N", "NH", "DHQK", "DHHV"], ctx2);
  }
  const correct = validateFlag("correctDfForDcLast", args.correctDfForDcLast, ctx2, false);
  const parts = [];
  for (let s = 0; s < N; s++) {
    const q = sequence(args, p, s);
    const g = chunkwiseBackwardCore(q.xs, q.take(args.dh), q.one(args.dcLast ?? void 0), q.d, q.init, {
      ...q.o,
      correctDfForDcLast: correct
    });
    parts.push(g);
  }
  const cat = (key, axis) => concatAxis(
    parts.map((g) => g[key]),
    axis
  );
  const out2 = {
    dq: cat("dq", 2),
    dk: cat("dk", 2),
    dv: cat("dv", 2),
    di: cat("di", 2),
    df: cat("df", 2)
  };
  if (p.init) {
    out2.dcInitial = cat("dcInitial", 0);
    out2.dnInitial = cat("dnInitial", 0);
    if (p.o.kind === "exp") out2.dmInitial = cat("dmInitial", 0);
  }
  return out2;
}

// packages/core-reference/src/arbitrary-length.ts
function arbitraryLengthChunkSizes(chunkSize) {
  const sizes = [];
  for (let c = chunkSize; c >= 16; c = Math.floor(c / 2)) sizes.push(c);
  return sizes;
}
function mlstmChunkwiseArbitraryLength(args) {
  const ctx2 = "mlstmChunkwiseArbitraryLength";
  const d = validateSequenceInputs(args, ctx2);
  const has = validateStates2(
    { c: args.cInitial, n: args.nInitial, m: args.mInitial },
    { c: "cInitial", n: "nInitial", m: "mInitial" },
    d,
    ctx2
  );
  const chunkSize = expectChunkSize(args.chunkSize ?? DEFAULT_CHUNK_SIZE, ctx2);
  const eps = validateEps2(args.eps, ctx2, DEFAULT_EPS2);
  const { B, NH, S, DHQK, DHHV } = d;
  let states = has ? { c: args.cInitial, n: args.nInitial, m: args.mInitial } : {
    c: { shape: [B, NH, DHQK, DHHV], data: new Float64Array(B * NH * DHQK * DHHV) },
    n: { shape: [B, NH, DHQK], data: new Float64Array(B * NH * DHQK) },
    m: { shape: [B, NH, 1], data: new Float64Array(B * NH) }
  };
  if (S === 1) {
    const squeeze = (t) => reshape(t, [B, NH, t.shape[3]]);
    const r2 = mlstmRecurrentStep({
      q: squeeze(args.q),
      k: squeeze(args.k),
      v: squeeze(args.v),
      i: reshape(args.i, [B, NH, 1]),
      f: reshape(args.f, [B, NH, 1]),
      ...states,
      eps
    });
    return { h: reshape(r2.h, [B, NH, 1, DHHV]), lastStates: { c: r2.c, n: r2.n, m: r2.m } };
  }
  const piece = (start2, end) => ({
    q: sliceAxis(args.q, 2, start2, end),
    k: sliceAxis(args.k, 2, start2, end),
    v: sliceAxis(args.v, 2, start2, end),
    i: sliceAxis(args.i, 2, start2, end),
    f: sliceAxis(args.f, 2, start2, end),
    cInitial: states.c,
    nInitial: states.n,
    mInitial: states.m,
    eps,
    returnLastStates: true
  });
  const hs = [];
  let start = 0;
  for (const c of arbitraryLengthChunkSizes(chunkSize)) {
    const remaining = S - start;
    if (remaining < c) continue;
    const end = start + Math.floor(remaining / c) * c;
    const r2 = mlstmChunkwise({ ...piece(start, end), chunkSize: c });
    hs.push(r2.h);
    states = r2.lastStates;
    start = end;
    if (remaining % c === 0) break;
  }
  if (start < S) {
    const r2 = mlstmRecurrentSequence(piece(start, S));
    hs.push(r2.h);
    states = r2.lastStates;
  }
  return { h: hs.length === 1 ? hs[0] : concatAxis(hs, 2), lastStates: states };
}

// packages/core-reference/src/siging/parallel.ts
function options(args, ctx2) {
  return {
    kind: "sig",
    eps: validateEps2(args.eps, ctx2, DEFAULT_EPS2),
    stableF: validateFlag("stableF", args.stableF, ctx2, true),
    normalize: validateFlag("normalize", args.normalize, ctx2, true)
  };
}
function mlstmSigParallel(args) {
  const ctx2 = "mlstmSigParallel";
  const d = validateSequenceInputs(args, ctx2);
  rejectStates(args, ctx2);
  const { h, n } = parallelForwardCore(args, d, options(args, ctx2));
  return { h, n };
}
function mlstmSigParallelBackward(args) {
  const ctx2 = "mlstmSigParallelBackward";
  const d = validateSequenceInputs(args, ctx2);
  rejectStates(args, ctx2);
  validateDh(args.dh, d, ctx2);
  return parallelBackwardCore(args, args.dh, d, options(args, ctx2));
}

// packages/core-reference/src/registry.ts
function parallelKernel(name, gate, fixedStableF) {
  return {
    name,
    gate,
    supportsStates: false,
    forward(args) {
      rejectStates(args, name);
      if (gate === "sig")
        return { h: mlstmSigParallel({ ...args, stableF: fixedStableF ?? args.stableF }).h };
      return { h: mlstmParallel({ ...args, stableF: fixedStableF }).h };
    },
    backward(args) {
      rejectStates(args, name);
      if (gate === "sig") return mlstmSigParallelBackward({ ...args, stableF: fixedStableF ?? args.stableF });
      return mlstmParallelBackward({ ...args, stableF: fixedStableF });
    }
  };
}
var referenceSequenceKernels = {
  "chunkwise--native_custbw": {
    name: "chunkwise--native_custbw",
    gate: "exp",
    supportsStates: true,
    forward: (args) => mlstmChunkwise(args),
    backward: (args) => mlstmChunkwiseBackward(args)
  },
  "parallel--native_custbw": parallelKernel("parallel--native_custbw", "exp", false),
  "parallel--native_stablef_custbw": parallelKernel("parallel--native_stablef_custbw", "exp", true),
  "parallel--native_siging_custbw": parallelKernel("parallel--native_siging_custbw", "sig", void 0)
};

// packages/backend/src/errors.ts
var MlstmBackendConfigError = class extends MlstmArgumentError {
  constructor(field, expected, received, context = "MlstmBackendConfig") {
    super(field, expected, received, context);
    this.name = "MlstmBackendConfigError";
  }
};
var MlstmKernelNotFoundError = class extends MlstmArgumentError {
  available;
  constructor(argument, name, available, context) {
    const hint = typeof name === "string" && name.includes("triton") ? ` (the Triton kernels are called webgpu_* here: try "${name.replace(/triton/g, "webgpu")}", or load an upstream config with fromPythonConfig())` : "";
    super(
      argument,
      `one of ${available.map((n) => `"${n}"`).join(", ")}${hint}`,
      JSON.stringify(name) ?? String(name),
      context
    );
    this.name = "MlstmKernelNotFoundError";
    this.available = available;
  }
};

// packages/backend/src/tensors.ts
function isGpu(t) {
  return t instanceof GpuTensor;
}
async function toCpu(ctx2, t) {
  if (!isGpu(t)) return t;
  if (!ctx2) throw new Error("toCpu: a GpuContext is needed to read a GpuTensor");
  return { shape: [...t.shape], data: await ctx2.read(t) };
}
var FINITE_CHECKED = [
  "q",
  "k",
  "v",
  "i",
  "f",
  "cInitial",
  "nInitial",
  "mInitial",
  "c",
  "n",
  "m",
  "dh",
  "dcLast"
];
async function checkFiniteInputs(ctx2, args, option, context) {
  if (option === false) return;
  for (const name of FINITE_CHECKED) {
    const t = args[name];
    if (t == null) continue;
    if (isGpu(t)) {
      if (option === true && ctx2) checkFinite(name, { shape: t.shape, data: await ctx2.read(t) }, context);
    } else if (ArrayBuffer.isView(t.data)) checkFinite(name, t, context);
  }
}
function toGpu(ctx2, t, dtype2 = "f32") {
  return ctx2.upload(t.data, t.shape, dtype2);
}
var BYTES2 = { f32: 4, f16: 2 };
function seqDims(shape) {
  return { outer: shape[0] * shape[1], S: shape[2], inner: shape.length > 3 ? numel(shape.slice(3)) : 1 };
}
function copyRows2(ctx2, src, dst, blocks2, rowLen, srcStride, srcOff, dstStride, dstOff) {
  const e = BYTES2[src.dtype];
  const vals = [rowLen, srcStride, srcOff, dstStride, dstOff].map((x) => x * e);
  if (vals.some((x) => x % 4 !== 0)) return false;
  if (rowLen === 0 || blocks2 === 0) return true;
  const enc = ctx2.device.createCommandEncoder();
  if (srcStride === rowLen && dstStride === rowLen) {
    enc.copyBufferToBuffer(src.buffer, srcOff * e, dst.buffer, dstOff * e, blocks2 * rowLen * e);
  } else {
    for (let b = 0; b < blocks2; b++) {
      enc.copyBufferToBuffer(
        src.buffer,
        (srcOff + b * srcStride) * e,
        dst.buffer,
        (dstOff + b * dstStride) * e,
        rowLen * e
      );
    }
  }
  ctx2.device.queue.submit([enc.finish()]);
  return true;
}
async function sliceSeq(ctx2, t, start, end) {
  if (!isGpu(t)) return sliceAxis(t, 2, start, end);
  const g = ctx2;
  const { outer, S, inner } = seqDims(t.shape);
  const shape = [...t.shape];
  shape[2] = end - start;
  const out2 = g.empty(shape, t.dtype);
  if (!copyRows2(g, t, out2, outer, (end - start) * inner, S * inner, start * inner, (end - start) * inner, 0)) {
    out2.release();
    const cpu = sliceAxis(await toCpu(g, t), 2, start, end);
    return toGpu(g, cpu, t.dtype);
  }
  return out2;
}
async function concatSeq(ctx2, parts) {
  if (!isGpu(parts[0])) return concatAxis(parts, 2);
  const g = ctx2;
  const gp = parts;
  const { outer, inner } = seqDims(gp[0].shape);
  const total = gp.reduce((a, p) => a + p.shape[2], 0);
  const shape = [...gp[0].shape];
  shape[2] = total;
  const out2 = g.empty(shape, gp[0].dtype);
  let off = 0;
  for (const p of gp) {
    const len2 = p.shape[2] * inner;
    if (!copyRows2(g, p, out2, outer, len2, len2, 0, total * inner, off * inner)) {
      out2.release();
      const cpu = concatAxis(await Promise.all(gp.map((x) => toCpu(g, x))), 2);
      return toGpu(g, cpu, gp[0].dtype);
    }
    off += p.shape[2];
  }
  return out2;
}
async function padSeq(ctx2, t, S) {
  const shape = [...t.shape];
  const s0 = shape[2];
  shape[2] = S - s0;
  if (!isGpu(t)) {
    return concatAxis([t, { shape, data: new Float64Array(numel(shape)) }], 2);
  }
  const g = ctx2;
  const zeros2 = g.zeros(shape, t.dtype);
  try {
    return await concatSeq(g, [t, zeros2]);
  } finally {
    zeros2.release();
  }
}
function reshapeOwned(ctx2, t, shape) {
  if (!isGpu(t)) return { shape: [...shape], data: t.data };
  const g = ctx2;
  const out2 = g.empty(shape, t.dtype);
  const enc = g.device.createCommandEncoder();
  enc.copyBufferToBuffer(t.buffer, 0, out2.buffer, 0, t.byteLength);
  g.device.queue.submit([enc.finish()]);
  t.release();
  return out2;
}
function releaseAll(...ts) {
  for (const t of ts) if (isGpu(t)) t.release();
}

// packages/backend/src/registry.ts
var MLSTM_KERNEL_OPTION_KEYS = [
  "gpu",
  "device",
  "checkFinite"
];
function releaseKernelSaved(saved) {
  if (saved) releaseSaved(saved);
}
var MLSTM_SEQUENCE_KERNELS = [
  "chunkwise--native_custbw",
  "chunkwise--webgpu_limit_chunk",
  "chunkwise--webgpu_xl_chunk",
  "chunkwise--webgpu_xl_chunk_siging",
  "parallel--native_custbw",
  "parallel--native_stablef_custbw",
  "parallel--native_siging_custbw",
  "parallel--webgpu_limit_headdim"
];
var MLSTM_SEQUENCE_LOOP_KERNELS = ["native_sequence__native", "native_sequence__webgpu"];
var MLSTM_STEP_KERNELS = ["native", "webgpu"];
var defaultContext;
function getDefaultGpuContext() {
  if (!defaultContext) {
    defaultContext = getGpuContext();
    defaultContext.catch(() => {
      defaultContext = void 0;
    });
  }
  return defaultContext;
}
async function contextFor(args, options2, context, needGpu) {
  checkOptionKeys(options2, MLSTM_KERNEL_OPTION_KEYS, context);
  const given = options2?.gpu ?? options2?.device;
  if (!given && isGpu(args.q)) {
    throw new KernelArgumentError(
      "options.gpu",
      "the GpuContext that owns the GpuTensor inputs ({ gpu: ctx })",
      "undefined",
      context
    );
  }
  await checkFiniteInputs(given, args, options2?.checkFinite, context);
  return given ?? (needGpu ? getDefaultGpuContext() : void 0);
}
async function argsToCpu(ctx2, args) {
  const out2 = {};
  for (const [k, v] of Object.entries(args)) out2[k] = isGpu(v) ? await toCpu(ctx2, v) : v;
  return out2;
}
function resultToGpu(ctx2, r2, hDtype) {
  if (r2 && typeof r2 === "object" && "data" in r2 && "shape" in r2) return toGpu(ctx2, r2, hDtype);
  if (r2 && typeof r2 === "object") {
    const out2 = {};
    for (const [k, v] of Object.entries(r2)) {
      if (v === void 0) continue;
      const dt = ["h", "dq", "dk", "dv"].includes(k) ? hDtype : "f32";
      out2[k] = resultToGpu(ctx2, v, dt);
    }
    return out2;
  }
  return r2;
}
async function runCpu(args, options2, context, fn) {
  const ctx2 = await contextFor(args, options2, context, false);
  if (!isGpu(args.q)) return fn(args);
  const hDtype = args.q.dtype;
  const r2 = fn(await argsToCpu(ctx2, args));
  return resultToGpu(ctx2, r2, hDtype);
}
function cpuArgs(a) {
  const { dtype: _d, keepSaved: _k, saved: _s, computeDtype: _c, ...rest } = a;
  for (const key of ["cInitial", "nInitial", "mInitial", "dcLast"]) if (rest[key] === null) delete rest[key];
  return rest;
}
function cpuKernel(spec) {
  const ref = referenceSequenceKernels[spec];
  const forward = (args, options2) => runCpu(args, options2, spec, (a) => ref.forward(cpuArgs(a)));
  const backward = (args, options2) => runCpu(args, options2, spec, (a) => {
    const { dcStates: _, ...g } = ref.backward(cpuArgs(a));
    return g;
  });
  return Object.assign(forward, {
    backward,
    specifier: spec,
    platform: "cpu",
    family: spec.startsWith("chunkwise") ? "chunkwise" : "parallel",
    gate: ref.gate
  });
}
function webgpuKernel(spec, fwd, bwd, gate, maxChunkSize) {
  const family = spec.startsWith("chunkwise") ? "chunkwise" : "parallel";
  const clean = (a) => {
    const out2 = { ...a };
    if (family === "parallel") delete out2.chunkSize;
    if (gate === "exp") delete out2.normalize;
    if (isGpu(a.q)) delete out2.dtype;
    return out2;
  };
  const forward = async (args, options2) => {
    const ctx2 = await contextFor(args, options2, spec, true);
    return fwd(ctx2, clean(args));
  };
  const backward = async (args, options2) => {
    const ctx2 = await contextFor(args, options2, spec, true);
    return bwd(ctx2, clean(args));
  };
  return Object.assign(forward, {
    backward,
    specifier: spec,
    platform: "webgpu",
    family,
    gate,
    ...maxChunkSize !== void 0 ? { maxChunkSize } : {}
  });
}
var sequenceKernels = {
  "chunkwise--native_custbw": cpuKernel("chunkwise--native_custbw"),
  "chunkwise--webgpu_limit_chunk": webgpuKernel(
    "chunkwise--webgpu_limit_chunk",
    mlstmChunkwiseLimitChunk,
    mlstmChunkwiseLimitChunkBackward,
    "exp",
    LIMIT_CHUNK.maxChunkSize
  ),
  "chunkwise--webgpu_xl_chunk": webgpuKernel(
    "chunkwise--webgpu_xl_chunk",
    mlstmChunkwiseXlChunk,
    mlstmChunkwiseXlChunkBackward,
    "exp"
  ),
  "chunkwise--webgpu_xl_chunk_siging": webgpuKernel(
    "chunkwise--webgpu_xl_chunk_siging",
    mlstmSigChunkwiseXlChunk,
    mlstmSigChunkwiseXlChunkBackward,
    "sig"
  ),
  "parallel--native_custbw": cpuKernel("parallel--native_custbw"),
  "parallel--native_stablef_custbw": cpuKernel("parallel--native_stablef_custbw"),
  "parallel--native_siging_custbw": cpuKernel("parallel--native_siging_custbw"),
  "parallel--webgpu_limit_headdim": webgpuKernel(
    "parallel--webgpu_limit_headdim",
    mlstmParallelLimitHeaddim,
    mlstmParallelLimitHeaddimBackward,
    "exp"
  )
};
var stepKernels = {
  native: Object.assign(
    (args, options2) => runCpu(
      args,
      options2,
      'step kernel "native"',
      (a) => mlstmRecurrentStep(cpuArgs(a))
    ),
    { specifier: "native", platform: "cpu" }
  ),
  webgpu: Object.assign(
    async (args, options2) => {
      const ctx2 = await contextFor(args, options2, 'step kernel "webgpu"', true);
      const a = { ...args };
      if (isGpu(a.q)) delete a.dtype;
      return mlstmRecurrentStepWebgpu(ctx2, a);
    },
    { specifier: "webgpu", platform: "webgpu" }
  )
};
var sequenceLoopKernels = {
  native_sequence__native: Object.assign(
    (args, options2) => runCpu(args, options2, "native_sequence__native", (a) => {
      const { chunkSize: _c, normalize: _n, ...rest } = cpuArgs(a);
      return mlstmRecurrentSequence(rest);
    }),
    { specifier: "native_sequence__native", platform: "cpu" }
  ),
  native_sequence__webgpu: Object.assign(
    async (args, options2) => {
      const ctx2 = await contextFor(args, options2, "native_sequence__webgpu", true);
      const {
        chunkSize: _c,
        normalize: _n,
        keepSaved: _k,
        computeDtype: _cd,
        ...a
      } = args;
      for (const key of ["cInitial", "nInitial", "mInitial"]) if (a[key] === null) delete a[key];
      if (isGpu(a.q)) delete a.dtype;
      return mlstmRecurrentSequenceWebgpu(ctx2, a);
    },
    { specifier: "native_sequence__webgpu", platform: "webgpu" }
  )
};
function lookup(table2, name, argument, context) {
  if (typeof name === "string" && Object.hasOwn(table2, name)) return table2[name];
  throw new MlstmKernelNotFoundError(argument, name, Object.keys(table2), context);
}
function getMlstmKernel(specifier) {
  return lookup(sequenceKernels, specifier, "specifier", "getMlstmKernel");
}
function getMlstmStepKernel(name) {
  return lookup(stepKernels, name, "name", "getMlstmStepKernel");
}
function getMlstmSequenceKernel(name) {
  return lookup(sequenceLoopKernels, name, "name", "getMlstmSequenceKernel");
}

// packages/backend/src/config.ts
var DEFAULT_MLSTM_BACKEND_CONFIG = Object.freeze({
  chunkwiseKernel: "chunkwise--native_custbw",
  sequenceKernel: "native_sequence__native",
  stepKernel: "native",
  mode: "train",
  chunkSize: 64,
  returnLastStates: true,
  autocastKernelDtype: "f32",
  eps: DEFAULT_EPS2,
  inferenceStateDtype: "f32",
  normalizeSiging: true
});
var MODES = ["train", "train_with_padding", "inference"];
var DTYPES = ["f32", "f16", "bf16"];
var list = (xs) => xs.map((x) => `"${x}"`).join(", ");
var show = (x) => typeof x === "string" ? JSON.stringify(x) : String(x);
function resolveMlstmBackendConfig(config = {}) {
  if (typeof config !== "object" || config === null)
    throw new MlstmBackendConfigError("config", "an object", show(config));
  const known = new Set(Object.keys(DEFAULT_MLSTM_BACKEND_CONFIG));
  for (const key of Object.keys(config)) {
    if (!known.has(key)) {
      throw new MlstmBackendConfigError(
        key,
        `a known field (${[...known].join(", ")}; upstream snake_case configs go through fromPythonConfig())`,
        "an unknown field"
      );
    }
  }
  const c = { ...DEFAULT_MLSTM_BACKEND_CONFIG };
  for (const [key, value] of Object.entries(config))
    if (value !== void 0) c[key] = value;
  const oneOf = (field, allowed) => {
    const v = c[field];
    if (typeof v !== "string" || !allowed.includes(v)) {
      if (field === "chunkwiseKernel" || field === "sequenceKernel" || field === "stepKernel")
        throw new MlstmKernelNotFoundError(field, v, allowed, "MlstmBackendConfig");
      throw new MlstmBackendConfigError(field, `one of ${list(allowed)}`, show(v));
    }
  };
  oneOf("chunkwiseKernel", MLSTM_SEQUENCE_KERNELS);
  oneOf("sequenceKernel", MLSTM_SEQUENCE_LOOP_KERNELS);
  oneOf("stepKernel", MLSTM_STEP_KERNELS);
  oneOf("mode", MODES);
  for (const field of ["autocastKernelDtype", "inferenceStateDtype"]) {
    try {
      c[field] = normalizeDtype(field, c[field], DTYPES, "MlstmBackendConfig");
    } catch {
      throw new MlstmBackendConfigError(
        field,
        `one of ${list(DTYPES)} (or the aliases "float32", "float16", "bfloat16")`,
        show(c[field])
      );
    }
  }
  if (!Number.isInteger(c.chunkSize) || c.chunkSize < 1)
    throw new MlstmBackendConfigError("chunkSize", "a positive integer", show(c.chunkSize));
  const kernel = getMlstmKernel(c.chunkwiseKernel);
  if (kernel.maxChunkSize !== void 0 && c.chunkSize > kernel.maxChunkSize) {
    throw new MlstmBackendConfigError(
      "chunkSize",
      `at most ${kernel.maxChunkSize} for ${c.chunkwiseKernel}`,
      show(c.chunkSize)
    );
  }
  if (typeof c.eps !== "number" || !Number.isFinite(c.eps) || c.eps < 0)
    throw new MlstmBackendConfigError("eps", "a finite number >= 0", show(c.eps));
  for (const f of ["returnLastStates", "normalizeSiging"])
    if (typeof c[f] !== "boolean") throw new MlstmBackendConfigError(f, "a boolean", show(c[f]));
  if (c.returnLastStates && c.chunkwiseKernel.includes("parallel")) {
    throw new MlstmBackendConfigError(
      "returnLastStates",
      `false with a parallel kernel (${c.chunkwiseKernel} has no states)`,
      "true"
    );
  }
  if (c.returnLastStates && c.mode === "train_with_padding") {
    throw new MlstmBackendConfigError(
      "returnLastStates",
      'false in mode "train_with_padding" (padding would corrupt the last states)',
      "true"
    );
  }
  if (c.mode === "inference") checkInferenceKernel(c.chunkwiseKernel);
  return c;
}
function checkInferenceKernel(spec) {
  const k = getMlstmKernel(spec);
  if (k.family !== "chunkwise" || k.gate !== "exp") {
    throw new MlstmBackendConfigError(
      "chunkwiseKernel",
      'a chunkwise mLSTMexp kernel for mode "inference" (chunkwise--native_custbw, chunkwise--webgpu_xl_chunk, chunkwise--webgpu_limit_chunk)',
      show(spec)
    );
  }
}
function gpuDtypeOf(name, shaderF16) {
  return (name === "f16" || name === "float16") && shaderF16 ? "f16" : "f32";
}

// packages/backend/src/packed.ts
var PACKED_KERNELS = [
  "chunkwise--native_custbw",
  "chunkwise--webgpu_xl_chunk",
  "chunkwise--webgpu_xl_chunk_siging"
];
var webgpu = {
  "chunkwise--webgpu_xl_chunk": {
    fw: mlstmChunkwiseXlChunkPacked,
    bw: mlstmChunkwiseXlChunkPackedBackward
  },
  "chunkwise--webgpu_xl_chunk_siging": {
    fw: mlstmSigChunkwiseXlChunkPacked,
    bw: mlstmSigChunkwiseXlChunkPackedBackward
  }
};
var fmt5 = (s) => `(${s.join(", ")})`;
function validatePacked2(kernel, a, context) {
  if (!PACKED_KERNELS.includes(kernel.specifier)) {
    throw new MlstmArgumentError(
      "seqStarts",
      `a chunkwise kernel that takes packed sequences (${PACKED_KERNELS.join(", ")})`,
      `chunkwiseKernel ${kernel.specifier}`,
      context
    );
  }
  const shape = (name, t) => {
    const s = t?.shape;
    if (!Array.isArray(s)) throw new MlstmArgumentError(name, "a tensor", String(t), context);
    return s;
  };
  const qs = shape("q", a.q);
  if (qs.length !== 4 || qs[0] !== 1) {
    throw new MlstmArgumentError(
      "q",
      "shape (1, NH, T, DHQK): with seqStarts the sequences are packed along the token axis",
      `shape ${fmt5(qs)}`,
      context
    );
  }
  const [, NH, T2, DHQK] = qs;
  const DHHV = shape("v", a.v)[3];
  const want = [
    ["k", a.k, [1, NH, T2, DHQK]],
    ["v", a.v, [1, NH, T2, DHHV]],
    ["i", a.i, [1, NH, T2]],
    ["f", a.f, [1, NH, T2]]
  ];
  for (const [name, t, w2] of want) {
    const s = shape(name, t);
    if (s.length !== w2.length || s.some((d, x) => d !== w2[x]))
      throw new MlstmArgumentError(name, `shape ${fmt5(w2)}`, `shape ${fmt5(s)}`, context);
  }
  const c = a.cInitial != null ? shape("cInitial", a.cInitial) : void 0;
  const N = validateSeqStarts2(a.seqStarts, T2, context, c ? c[0] : void 0);
  const names = ["cInitial", "nInitial", "mInitial"];
  const given = names.filter((n) => a[n] != null);
  if (given.length > 0 && given.length < 3) {
    throw new MlstmArgumentError(
      names.find((n) => a[n] == null),
      "all of cInitial, nInitial, mInitial or none",
      "undefined",
      context
    );
  }
  if (given.length === 3) {
    const states = [
      ["cInitial", a.cInitial, [N, NH, DHQK, DHHV]],
      ["nInitial", a.nInitial, [N, NH, DHQK]],
      ["mInitial", a.mInitial, [N, NH, 1]]
    ];
    for (const [name, t, w2] of states) {
      const s = shape(name, t);
      if (s.length !== w2.length || s.some((d, x) => d !== w2[x]))
        throw new MlstmArgumentError(name, `shape (N, \u2026) = ${fmt5(w2)}`, `shape ${fmt5(s)}`, context);
    }
  }
  return N;
}
function kernelArgs(run, a, extra) {
  const out2 = {
    q: a.q,
    k: a.k,
    v: a.v,
    i: a.i,
    f: a.f,
    seqStarts: a.seqStarts,
    chunkSize: run.config.chunkSize,
    eps: run.config.eps,
    ...run.kernel.gate === "sig" ? { normalize: run.config.normalizeSiging } : {},
    ...extra
  };
  if (a.cInitial != null)
    Object.assign(out2, { cInitial: a.cInitial, nInitial: a.nInitial, mInitial: a.mInitial });
  return out2;
}
async function onCpu(run, args, fn) {
  if (!isGpu(args.q)) return fn(args);
  const ctx2 = run.ctx;
  const hDtype = args.q.dtype;
  const cpu = {};
  for (const [k, v] of Object.entries(args)) cpu[k] = isGpu(v) ? await toCpu(ctx2, v) : v;
  const r2 = fn(cpu);
  const up = (x, key) => {
    if (x && typeof x === "object" && "data" in x)
      return toGpu(ctx2, x, ["h", "dq", "dk", "dv"].includes(key) ? hDtype : "f32");
    if (x && typeof x === "object")
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, up(v, k)]));
    return x;
  };
  return up(r2, "");
}
async function packedForward2(run, a, returnLastStates) {
  const args = kernelArgs(run, a, {
    returnLastStates,
    ...run.dtype && !isGpu(a.q) ? { dtype: run.dtype } : {}
  });
  if (run.kernel.platform === "cpu") {
    return onCpu(run, args, (x) => {
      const { dtype: _d, ...rest } = x;
      return mlstmChunkwisePacked(rest);
    });
  }
  return await webgpu[run.kernel.specifier].fw(run.ctx, args);
}
async function packedBackward2(run, a, dh, options2) {
  const args = kernelArgs(run, a, {
    dh,
    ...options2.dcLast != null ? { dcLast: options2.dcLast } : {},
    correctDfForDcLast: options2.correctDfForDcLast,
    ...run.dtype && !isGpu(a.q) ? { dtype: run.dtype } : {}
  });
  if (run.kernel.platform === "cpu") {
    return onCpu(run, args, (x) => {
      const { dtype: _d, ...rest } = x;
      return mlstmChunkwisePackedBackward(rest);
    });
  }
  return await webgpu[run.kernel.specifier].bw(run.ctx, args);
}

// packages/backend/src/backend.ts
var MLSTM_DEVICES = ["webgpu", "cpu", "auto"];
var WEBGPU_DEFAULTS = {
  chunkwiseKernel: "chunkwise--webgpu_xl_chunk",
  sequenceKernel: "native_sequence__webgpu",
  stepKernel: "webgpu"
};
function configForDevice(config, device, strict = true) {
  const given = resolveMlstmBackendConfig(config);
  const out2 = { ...config };
  for (const key of ["chunkwiseKernel", "sequenceKernel", "stepKernel"]) {
    const name = given[key];
    const onGpu = key === "chunkwiseKernel" ? getMlstmKernel(given.chunkwiseKernel).platform === "webgpu" : name.endsWith("webgpu");
    if (config[key] === void 0) {
      if (device === "webgpu") out2[key] = WEBGPU_DEFAULTS[key];
    } else if (strict && onGpu !== (device === "webgpu")) {
      throw new MlstmArgumentError(
        "device",
        `'${onGpu ? "webgpu" : "cpu"}' for ${key} ${JSON.stringify(name)} (or leave ${key} out)`,
        JSON.stringify(device),
        "MlstmBackend"
      );
    }
  }
  return resolveMlstmBackendConfig(out2);
}
var MLSTM_BACKEND_OPTION_KEYS = [
  "gpu",
  "device",
  "checkFinite"
];
var MLSTM_BACKEND_FORWARD_KEYS = [
  "q",
  "k",
  "v",
  "i",
  "f",
  "cInitial",
  "nInitial",
  "mInitial",
  "returnLastStates",
  "mode",
  "seqStarts"
];
var BF16 = new Float32Array(1);
var BF16_BITS = new Uint32Array(BF16.buffer);
function roundToBf16(values) {
  const out2 = new Float32Array(values.length);
  for (let x = 0; x < values.length; x++) {
    BF16[0] = values[x];
    const b = BF16_BITS[0];
    if ((b & 2139095040) === 2139095040) {
      out2[x] = BF16[0];
      continue;
    }
    BF16_BITS[0] = b + 32767 + (b >>> 16 & 1) & 4294901760;
    out2[x] = BF16[0];
  }
  return out2;
}
function likeInput(q, t) {
  if (!t || isGpu(t) || isGpu(q)) return t;
  const want = q.data instanceof Float64Array ? Float64Array : Float32Array;
  const cpu = t;
  if (cpu.data instanceof want) return t;
  return { shape: cpu.shape, data: want.from(cpu.data) };
}
function allLikeInput(q, r2) {
  const out2 = { ...r2 };
  for (const [k, v] of Object.entries(out2))
    if (v && typeof v === "object" && "shape" in v && "data" in v) out2[k] = likeInput(q, v);
  return out2;
}
function toStateDtype(t, dtype2) {
  const data = dtype2 === "f16" || dtype2 === "float16" ? roundToF16(t.data) : dtype2 === "bf16" || dtype2 === "bfloat16" ? roundToBf16(t.data) : Float32Array.from(t.data);
  return { shape: [...t.shape], data };
}
var MlstmBackend = class _MlstmBackend {
  cfg;
  kernel;
  device;
  checkFinite;
  /** `device: 'auto'` not yet decided: the config as given, to place at the first call */
  pendingAuto = null;
  constructor(config = {}, options2 = {}) {
    checkOptionKeys(options2, MLSTM_BACKEND_OPTION_KEYS, "MlstmBackend");
    const d = options2.device;
    const ctxAsDevice = d !== null && typeof d === "object" ? d : void 0;
    const device = ctxAsDevice || d === void 0 ? void 0 : checkOneOf("device", d, MLSTM_DEVICES, "MlstmBackend");
    this.cfg = Object.freeze(
      device === "webgpu" || device === "cpu" ? configForDevice(config, device) : resolveMlstmBackendConfig(config)
    );
    if (device === "auto") this.pendingAuto = { ...config };
    this.kernel = getMlstmKernel(this.cfg.chunkwiseKernel);
    this.device = options2.gpu ?? ctxAsDevice;
    this.checkFinite = options2.checkFinite;
  }
  /**
   * The resolved config: defaults filled in, upstream names mapped, the kernels placed for
   * `device` (with `'auto'`: the config as given until the first call or {@link ready}).
   */
  get config() {
    return this.cfg;
  }
  /**
   * Decides `device: 'auto'` (WebGPU when an adapter opens, else the CPU) and returns the backend;
   * a no-op for every other device. Every call runs it first.
   */
  async ready() {
    const given = this.pendingAuto;
    if (!given) return this;
    this.pendingAuto = null;
    let gpu = true;
    try {
      await this.getDevice();
    } catch {
      gpu = false;
    }
    this.cfg = Object.freeze(configForDevice(given, gpu ? "webgpu" : "cpu", false));
    this.kernel = getMlstmKernel(this.cfg.chunkwiseKernel);
    return this;
  }
  /** The GpuContext in use (creates the default one on first call if none was given). */
  async getDevice() {
    this.device ??= await getDefaultGpuContext();
    return this.device;
  }
  /** Upstream `extra_repr`. */
  toString() {
    return `MlstmBackend(${Object.entries(this.config).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")})`;
  }
  forward(args) {
    const mode = args.mode ?? this.config.mode;
    if (mode === "inference") return this.inference(args);
    if (mode === "train" || mode === "train_with_padding") return this.train({ ...args, mode });
    return Promise.reject(
      new MlstmArgumentError(
        "mode",
        '"train", "train_with_padding" or "inference"',
        String(mode),
        "MlstmBackend.forward"
      )
    );
  }
  /** Packed sequences (`seqStarts`, see {@link MlstmBackendForwardArgs}) in any mode. */
  async packed(args, mode) {
    const context = "MlstmBackend.forward (seqStarts)";
    if (mode === "inference") checkInferenceKernel(this.config.chunkwiseKernel);
    const inputs = { ...args, seqStarts: args.seqStarts };
    validatePacked2(this.kernel, inputs, context);
    const ctx2 = await this.context(args.q, this.kernel.platform === "webgpu");
    const dtype2 = !isGpu(args.q) && ctx2 && this.kernel.platform === "webgpu" ? gpuDtypeOf(this.config.autocastKernelDtype, ctx2.features.shaderF16) : void 0;
    const run = { kernel: this.kernel, config: this.config, ctx: ctx2, dtype: dtype2 };
    if (mode === "inference") {
      const r3 = await packedForward2(run, inputs, true);
      let s = r3.lastStates;
      if (!isGpu(s.c)) {
        const dt = this.config.inferenceStateDtype;
        s = {
          c: toStateDtype(s.c, dt),
          n: toStateDtype(s.n, dt),
          m: toStateDtype(s.m, dt)
        };
      }
      return { mode: "inference", h: r3.h, lastStates: s };
    }
    const returnLastStates = args.returnLastStates ?? this.config.returnLastStates;
    const r2 = await packedForward2(run, inputs, returnLastStates);
    let done = false;
    const backward = async (dh, options2 = {}) => {
      if (done) {
        throw new MlstmArgumentError("backward", "one call per forward", "a second call", context);
      }
      done = true;
      return packedBackward2(run, inputs, dh, options2);
    };
    return {
      mode: "train",
      h: r2.h,
      ...returnLastStates && r2.lastStates ? { lastStates: r2.lastStates } : {},
      backward,
      release: () => {
        done = true;
      }
    };
  }
  /** The options of kernel calls: `device` when the tensors are on the GPU or a WebGPU kernel runs. */
  async context(q, needGpu) {
    if (isGpu(q)) {
      if (!this.device) {
        throw new MlstmArgumentError(
          "gpu",
          "the GpuContext that owns the GpuTensor inputs (new MlstmBackend(config, { gpu: ctx }))",
          "undefined",
          "MlstmBackend.forward"
        );
      }
      return this.device;
    }
    return needGpu ? this.getDevice() : void 0;
  }
  /**
   * Checks the shapes of q, k, v, i, f and of the initial states (all or none) before anything is
   * sliced or padded; throws {@link MlstmArgumentError} naming the argument.
   */
  static dims(args, context) {
    const fmt6 = (s) => `(${s.join(", ")})`;
    const shapeOf = (name, t) => {
      const problem = isGpu(t) ? null : cpuTensorProblem(t);
      if (problem) throw new MlstmArgumentError(name, problem.expected, problem.received, context);
      const shape = t?.shape;
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
        throw new MlstmArgumentError(name, "a tensor (CPU tensor or GpuTensor)", String(t), context);
      }
      return shape;
    };
    const expectShape2 = (name, t, want, dims) => {
      const got = shapeOf(name, t);
      if (got.length !== want.length || got.some((d, x) => d !== want[x]))
        throw new MlstmArgumentError(name, `shape ${dims} = ${fmt6(want)}`, `shape ${fmt6(got)}`, context);
    };
    const qs = shapeOf("q", args.q);
    if (qs.length !== 4)
      throw new MlstmArgumentError("q", "shape (B, NH, S, DHQK)", `shape ${fmt6(qs)}`, context);
    const [B, NH, S, DHQK] = qs;
    expectShape2("k", args.k, [B, NH, S, DHQK], "(B, NH, S, DHQK)");
    const DHHV = shapeOf("v", args.v)[3];
    expectShape2("v", args.v, [B, NH, S, DHHV], "(B, NH, S, DHHV)");
    expectShape2("i", args.i, [B, NH, S], "(B, NH, S)");
    expectShape2("f", args.f, [B, NH, S], "(B, NH, S)");
    const names = ["cInitial", "nInitial", "mInitial"];
    const given = names.filter((n) => args[n] != null);
    if (given.length > 0 && given.length < 3) {
      const missing = names.find((n) => args[n] == null);
      throw new MlstmArgumentError(
        missing,
        "all of cInitial, nInitial, mInitial or none",
        "undefined",
        context
      );
    }
    if (given.length === 3) {
      expectShape2("cInitial", args.cInitial, [B, NH, DHQK, DHHV], "(B, NH, DHQK, DHHV)");
      expectShape2("nInitial", args.nInitial, [B, NH, DHQK], "(B, NH, DHQK)");
      expectShape2("mInitial", args.mInitial, [B, NH, 1], "(B, NH, 1)");
    }
    return { B, NH, S, DHQK, DHHV };
  }
  async train(args) {
    await this.ready();
    const context = "MlstmBackend.train";
    const mode = args.mode ?? this.config.mode;
    if (mode !== "train" && mode !== "train_with_padding")
      throw new MlstmArgumentError("mode", '"train" or "train_with_padding"', JSON.stringify(mode), context);
    checkOptionKeys(args, MLSTM_BACKEND_FORWARD_KEYS, context, "args");
    if (args.seqStarts != null) return await this.packed(args, mode);
    const padding = mode === "train_with_padding";
    const { S } = _MlstmBackend.dims(args, context);
    await checkFiniteInputs(
      this.device,
      args,
      this.checkFinite,
      context
    );
    const kernel = this.kernel;
    const returnLastStates = args.returnLastStates ?? this.config.returnLastStates;
    if (returnLastStates && (padding || kernel.family === "parallel")) {
      throw new MlstmArgumentError(
        "returnLastStates",
        padding ? 'false in mode "train_with_padding" (padding would corrupt the last states)' : `false with a parallel kernel (${kernel.specifier} has no states)`,
        "true",
        context
      );
    }
    const chunkSize = this.config.chunkSize;
    const chunked = kernel.family === "chunkwise";
    if (chunked && !padding && S % chunkSize !== 0) {
      throw new MlstmArgumentError(
        "q",
        `a sequence length S that is a multiple of chunkSize = ${chunkSize} in mode "train" (use mode "train_with_padding" for any S, or mode "inference")`,
        `S = ${S}`,
        context
      );
    }
    const ctx2 = await this.context(args.q, kernel.platform === "webgpu");
    const opts = ctx2 ? { gpu: ctx2, checkFinite: false } : { checkFinite: false };
    const gpuIn = isGpu(args.q);
    const Sp = chunked && padding ? Math.ceil(S / chunkSize) * chunkSize : S;
    const padded = Sp !== S;
    const owned = [];
    const inputs = { q: args.q, k: args.k, v: args.v, i: args.i, f: args.f };
    if (padded) {
      for (const key of ["q", "k", "v", "i", "f"]) {
        inputs[key] = await padSeq(ctx2, args[key], Sp);
        owned.push(inputs[key]);
      }
    }
    const kArgs = {
      ...inputs,
      cInitial: args.cInitial ?? void 0,
      nInitial: args.nInitial ?? void 0,
      mInitial: args.mInitial ?? void 0,
      returnLastStates,
      eps: this.config.eps,
      ...chunked ? { chunkSize } : {},
      ...kernel.gate === "sig" ? { normalize: this.config.normalizeSiging } : {},
      ...kernel.platform === "webgpu" && !gpuIn && ctx2 ? { dtype: gpuDtypeOf(this.config.autocastKernelDtype, ctx2.features.shaderF16) } : {},
      ...kernel.platform === "webgpu" && gpuIn ? { keepSaved: true } : {}
    };
    let r2;
    try {
      r2 = await kernel(kArgs, opts);
    } catch (e) {
      releaseAll(...owned);
      throw e;
    }
    let saved = r2.saved;
    let h = r2.h;
    if (padded) {
      h = await sliceSeq(ctx2, r2.h, 0, S);
      releaseAll(r2.h);
    }
    let done = false;
    const release = () => {
      releaseKernelSaved(saved);
      saved = void 0;
      releaseAll(...owned);
      owned.length = 0;
      done = true;
    };
    const backward = async (dh, options2 = {}) => {
      if (done) {
        throw new MlstmArgumentError(
          "backward",
          "one call per forward (the forward\u2019s saved tensors are freed by the first backward or release())",
          "a second call",
          context
        );
      }
      await checkFiniteInputs(ctx2, { dh, dcLast: options2.dcLast }, this.checkFinite, context);
      let dhp = dh;
      if (padded) dhp = await padSeq(ctx2, dh, Sp);
      try {
        const g = await kernel.backward(
          {
            ...kArgs,
            keepSaved: void 0,
            dh: dhp,
            dcLast: options2.dcLast ?? void 0,
            correctDfForDcLast: options2.correctDfForDcLast,
            saved
          },
          opts
        );
        if (!padded) return allLikeInput(args.q, g);
        const out2 = { ...g };
        for (const key of ["dq", "dk", "dv", "di", "df"]) {
          out2[key] = await sliceSeq(ctx2, g[key], 0, S);
          releaseAll(g[key]);
        }
        return allLikeInput(args.q, out2);
      } finally {
        if (padded) releaseAll(dhp);
        release();
      }
    };
    return {
      mode,
      h: likeInput(args.q, h),
      ...r2.lastStates ? { lastStates: allLikeInput(args.q, r2.lastStates) } : {},
      backward,
      release
    };
  }
  async inference(args) {
    await this.ready();
    const context = "MlstmBackend.inference";
    checkInferenceKernel(this.config.chunkwiseKernel);
    checkOptionKeys(args, MLSTM_BACKEND_FORWARD_KEYS, context, "args");
    if (args.seqStarts != null)
      return await this.packed(args, "inference");
    const { B, NH, S, DHQK, DHHV } = _MlstmBackend.dims(args, context);
    await checkFiniteInputs(
      this.device,
      args,
      this.checkFinite,
      context
    );
    const { eps, chunkSize, stepKernel, sequenceKernel, inferenceStateDtype } = this.config;
    const step = getMlstmStepKernel(stepKernel);
    const loop = getMlstmSequenceKernel(sequenceKernel);
    const kernel = this.kernel;
    const needGpu = kernel.platform === "webgpu" || (S === 1 ? step.platform === "webgpu" : loop.platform === "webgpu");
    const ctx2 = await this.context(args.q, needGpu);
    const opts = ctx2 ? { gpu: ctx2, checkFinite: false } : { checkFinite: false };
    const gpuIn = isGpu(args.q);
    const dtype2 = !gpuIn && ctx2 ? gpuDtypeOf(this.config.autocastKernelDtype, ctx2.features.shaderF16) : void 0;
    const given = args.cInitial != null;
    let states = given ? { c: args.cInitial, n: args.nInitial, m: args.mInitial } : void 0;
    let ownStates = false;
    const setStates = (s) => {
      if (ownStates && states) releaseAll(states.c, states.n, states.m);
      states = { c: s.c, n: s.n, m: s.m };
      ownStates = true;
    };
    const finish = (h) => {
      let s = states;
      if (!isGpu(s.c)) {
        s = {
          c: toStateDtype(s.c, inferenceStateDtype),
          n: toStateDtype(s.n, inferenceStateDtype),
          m: toStateDtype(s.m, inferenceStateDtype)
        };
      }
      return { mode: "inference", h: likeInput(args.q, h), lastStates: s };
    };
    if (S === 1) {
      const squeeze = (t, d) => isGpu(t) ? t.view([B, NH, d]) : { shape: [B, NH, d], data: t.data };
      let zeroStates = [];
      if (!states) {
        const shapes = [
          [B, NH, DHQK, DHHV],
          [B, NH, DHQK],
          [B, NH, 1]
        ];
        zeroStates = shapes.map((s) => gpuIn ? ctx2.zeros(s) : zeros(s));
        states = { c: zeroStates[0], n: zeroStates[1], m: zeroStates[2] };
      }
      try {
        const r2 = await step(
          {
            q: squeeze(args.q, DHQK),
            k: squeeze(args.k, DHQK),
            v: squeeze(args.v, DHHV),
            i: squeeze(args.i, 1),
            f: squeeze(args.f, 1),
            ...states,
            eps,
            ...dtype2 ? { dtype: dtype2 } : {}
          },
          opts
        );
        setStates(r2);
        return finish(reshapeOwned(ctx2, r2.h, [B, NH, 1, DHHV]));
      } finally {
        releaseAll(...zeroStates);
      }
    }
    const hs = [];
    const piece = async (start, end) => {
      const whole = start === 0 && end === S;
      const take = (t) => whole ? Promise.resolve(t) : sliceSeq(ctx2, t, start, end);
      return {
        q: await take(args.q),
        k: await take(args.k),
        v: await take(args.v),
        i: await take(args.i),
        f: await take(args.f),
        whole
      };
    };
    const run = async (start, end, fn) => {
      const p = await piece(start, end);
      try {
        const r2 = await fn({
          q: p.q,
          k: p.k,
          v: p.v,
          i: p.i,
          f: p.f,
          ...states ? { cInitial: states.c, nInitial: states.n, mInitial: states.m } : {},
          eps,
          returnLastStates: true,
          ...dtype2 ? { dtype: dtype2 } : {}
        });
        hs.push(r2.h);
        setStates(r2.lastStates);
      } finally {
        if (!p.whole) releaseAll(p.q, p.k, p.v, p.i, p.f);
      }
    };
    try {
      let start = 0;
      for (const c of arbitraryLengthChunkSizes(chunkSize)) {
        const remaining = S - start;
        if (remaining < c) continue;
        const end = start + Math.floor(remaining / c) * c;
        await run(start, end, (a) => kernel({ ...a, chunkSize: c }, opts));
        start = end;
        if (remaining % c === 0) break;
      }
      if (start < S) await run(start, S, (a) => loop(a, opts));
      const h = hs.length === 1 ? hs[0] : await concatSeq(ctx2, hs);
      if (hs.length > 1) releaseAll(...hs);
      return finish(h);
    } catch (e) {
      releaseAll(...hs);
      if (ownStates && states) releaseAll(states.c, states.n, states.m);
      throw e;
    }
  }
};

// packages/hf-model/src/cell.ts
function makeCpuCell(kind, opts) {
  if (kind === "reference") {
    return async (x, state, seqStarts) => {
      if (seqStarts) {
        const p = mlstmChunkwisePacked({
          ...x,
          ...state ? { cInitial: state.c, nInitial: state.n, mInitial: state.m } : {},
          seqStarts,
          chunkSize: opts.chunkSize,
          eps: opts.eps,
          returnLastStates: true
        });
        return { h: p.h, state: p.lastStates };
      }
      const r2 = mlstmChunkwiseArbitraryLength({
        ...x,
        ...state ? { cInitial: state.c, nInitial: state.n, mInitial: state.m } : {},
        chunkSize: opts.chunkSize,
        eps: opts.eps
      });
      return { h: r2.h, state: r2.lastStates };
    };
  }
  const backend = new MlstmBackend({
    mode: "inference",
    chunkwiseKernel: "chunkwise--native_custbw",
    sequenceKernel: "native_sequence__native",
    stepKernel: "native",
    chunkSize: opts.chunkSize,
    eps: opts.eps,
    autocastKernelDtype: "float32",
    inferenceStateDtype: "float32"
  });
  return async (x, state, seqStarts) => {
    const r2 = await backend.inference({
      ...x,
      ...state ? { cInitial: state.c, nInitial: state.n, mInitial: state.m } : {},
      ...seqStarts ? { seqStarts } : {}
    });
    return { h: r2.h, state: { c: r2.lastStates.c, n: r2.lastStates.n, m: r2.lastStates.m } };
  };
}

// packages/hf-model/src/memory.ts
function estimateMemory(config, opts = {}) {
  const { H, NH, Dqk, Dv, dqk, dv, F, V, blocks: blocks2 } = config.dims;
  const dtype2 = opts.dtype ?? opts.weightDtype ?? "f32";
  const E = dtype2 === "f16" ? 2 : 4;
  const batch = opts.batch ?? 1;
  const seqLen = opts.seqLen ?? 1;
  const bias = config.useBias;
  const perBlock = H * (bias ? 2 : 1) * 2 + // the two RMSNorms
  (2 * Dqk + 2 * Dv) * (H + (bias ? 1 : 0)) + 2 * NH * (H + 1) + Dv * (bias ? 2 : 1) + H * (Dv + (bias ? 1 : 0)) + 2 * F * (H + (bias ? 1 : 0)) + H * (F + (bias ? 1 : 0));
  const lmHead = config.tieWordEmbeddings ? 0 : V * H;
  const parameters = V * H + blocks2 * perBlock + H + lmHead;
  const candidates = [
    ["embedding", V * H],
    ["lm_head", V * H],
    ["qkv_opreact (fused q/k/v/o)", (2 * Dqk + 2 * Dv) * H],
    ["proj_up_gate_z (fused FFN up)", 2 * F * H],
    ["proj_down", H * F]
  ];
  const embF = opts.embeddingDtype ?? defaultTableFormat(dtype2);
  const headF = opts.lmHeadDtype ?? defaultTableFormat(dtype2);
  const stateBytesPerSequence = blocks2 * NH * (dqk * dv + dqk + 1) * 4;
  const quant = dtype2 === "q8" || dtype2 === "q4";
  const shape = {
    cellF16: dtype2 === "f16" || quant,
    f16Inputs: dtype2 === "f16" || quant,
    fusedGate: !quant
  };
  const prefillBytes = prefillBytesPerToken(config, shape);
  const perCall = prefillTokensPerCall(config, { ...shape, prefillChunkSize: opts.prefillChunkSize }).tokens;
  const activationBytes = batch * Math.min(seqLen, perCall) * prefillBytes;
  const quantDown = dtype2 === "q8" || dtype2 === "q4";
  const int8 = (opts.quantDecode ?? "int8") === "int8" && batch < 32 && (quantDown || headF === "q8" || headF === "q4");
  const actWords = int8 ? 12 * Math.ceil(Math.max(H, Dv, F) / 32) : 0;
  const splitProj = quantDown && !int8;
  const decodeWords = 1 + Math.ceil(V / 32) + 2 * H + (2 * Dqk + 2 * Dv + 2 * NH) + (splitProj ? 2 * Dqk + Dv + 2 * NH : 0) + 2 * Dv + 2 * F + V + 4 * NH + (quantDown ? int8 ? 0 : F : batch > 1 ? F : 0) + actWords + 2 * (opts.sampling === "cpu" ? V : 1);
  const decodeBytes = batch * (stateBytesPerSequence + 4 * decodeWords);
  let weightBytes;
  let largestTensor;
  const plain = (f) => f === "f32" || f === "f16";
  if (plain(dtype2) && embF === dtype2 && headF === dtype2) {
    const [name, n] = candidates.reduce((a, b) => b[1] > a[1] ? b : a);
    weightBytes = parameters * E;
    largestTensor = { name, bytes: n * E };
  } else {
    const mats = [
      ["embedding", embF, V, H],
      ["qkv_opreact + ifgate (fused)", dtype2, 2 * Dqk + 2 * Dv + 2 * NH, H],
      ["out_proj", dtype2, H, Dv],
      ["proj_up_gate_z (fused FFN up)", dtype2, 2 * F, H],
      ["proj_down", dtype2, H, F]
    ];
    if (!config.tieWordEmbeddings || headF !== embF) mats.push(["lm_head", headF, V, H]);
    const per = (name) => name === "embedding" || name === "lm_head" ? 1 : blocks2;
    let matParams = 0;
    weightBytes = 0;
    largestTensor = { name: "", bytes: 0 };
    for (const [name, f, r2, c] of mats) {
      const bytes = matrixBytes(f, r2, c);
      matParams += per(name) * r2 * c;
      weightBytes += per(name) * bytes;
      if (bytes > largestTensor.bytes) largestTensor = { name, bytes };
    }
    const extraHead = config.tieWordEmbeddings && headF !== embF ? V * H : 0;
    weightBytes += 4 * (parameters + extraHead - matParams);
  }
  return {
    parameters,
    weightBytes,
    largestTensor,
    stateBytesPerSequence,
    activationBytes,
    prefillBytesPerToken: prefillBytes,
    prefillTokensPerCall: perCall,
    decodeBytes,
    totalBytes: weightBytes + batch * stateBytesPerSequence + Math.max(activationBytes, decodeBytes)
  };
}
var DEFAULT_PREFILL_BUDGET_BYTES = 4 * 2 ** 30;
function prefillBytesPerToken(config, o = {}) {
  const { H, NH, Dqk, Dv, dqk, dv, F, V } = config.dims;
  const L = config.chunkSize;
  const qkv = 2 * Dqk + Dv;
  const dense = 4 * (1 + 2 * H + (2 * Dqk + 2 * Dv + 2 * NH) + Dv + F + (o.fusedGate === false ? 2 * F : 0)) + (o.f16Inputs ? 2 * Math.max(H, Dv, F) : 0);
  const block = 4 * (qkv + 2 * NH + Dv);
  const cell = 4 * 5 * NH + 4 * NH * dqk * (dv + 1) / L + (o.cellF16 ? 2 * (qkv + Dv) : 0);
  const packed = o.packed ? 4 * (qkv + 2 * NH + Dv) : 0;
  const logits = o.allLogits ? 4 * (H + 2 * V) : 0;
  return Math.ceil(dense + block + cell + packed + logits);
}
function prefillTokensPerCall(config, o = {}) {
  const { NH, Dqk, Dv, dqk, dv, F, V, H } = config.dims;
  const B = o.batch ?? 1;
  const L = config.chunkSize;
  const bytesPerToken = prefillBytesPerToken(config, o);
  const bounds = [];
  if (o.prefillChunkSize !== void 0) bounds.push(["prefillChunkSize", o.prefillChunkSize]);
  else {
    const budget = o.budgetBytes ?? DEFAULT_PREFILL_BUDGET_BYTES;
    bounds.push(["budget", Math.max(1, Math.floor(budget / (B * bytesPerToken)))]);
  }
  bounds.push(["max_inference_chunksize", config.maxInferenceChunksize]);
  if (o.limits) {
    const limit = Math.min(o.limits.maxStorageBufferBindingSize, o.limits.maxBufferSize);
    const width = Math.max(
      2 * Dqk + 2 * Dv + 2 * NH,
      o.fusedGate === false ? 2 * F : F,
      H,
      o.allLogits ? V : 0
    );
    const byActs = Math.floor(limit / (4 * B * width));
    if (byActs < 1) {
      throw new ModelTooLargeError(
        `activations of a batch of ${B}`,
        4 * B * width,
        limit,
        "maxStorageBufferBindingSize"
      );
    }
    const byStates = (Math.floor(limit / (4 * B * NH * dqk * dv)) - 1) * L;
    bounds.push(["maxStorageBufferBindingSize", Math.min(byActs, Math.max(byStates, L - 1))]);
  }
  let [limitedBy, tokens] = bounds[0];
  for (const [k, n] of bounds.slice(1)) if (n < tokens) [limitedBy, tokens] = [k, n];
  if (tokens >= L) tokens -= tokens % L;
  if (tokens < 1) {
    throw new ModelTooLargeError(
      `the chunkwise states of a batch of ${B}`,
      4 * B * NH * dqk * dv,
      o.limits.maxStorageBufferBindingSize,
      "maxStorageBufferBindingSize"
    );
  }
  return { tokens, bytesPerToken, callBytes: B * tokens * bytesPerToken, limitedBy };
}
function checkGpuLimits(est, limits) {
  const { name, bytes } = est.largestTensor;
  if (bytes > limits.maxBufferSize) {
    throw new ModelTooLargeError(name, bytes, limits.maxBufferSize, "maxBufferSize");
  }
  if (bytes > limits.maxStorageBufferBindingSize) {
    throw new ModelTooLargeError(
      name,
      bytes,
      limits.maxStorageBufferBindingSize,
      "maxStorageBufferBindingSize"
    );
  }
}

// packages/hf-model/src/sources.ts
var nodeImport = (name) => import(
  /* @vite-ignore */
  name
);
var nodePath = () => nodeImport("node:path");
var nodeFs = () => nodeImport("node:fs");
var nodeFsPromises = () => nodeImport("node:fs/promises");
var nodeOs = () => nodeImport("node:os");
var isNode = () => typeof process !== "undefined" && !!process.versions?.node;
async function toBytes(x) {
  if (typeof x === "string") return new TextEncoder().encode(x);
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  return new Uint8Array(await x.arrayBuffer());
}
var MemoryReader = class {
  constructor(files, opts) {
    this.files = files;
    this.opts = opts;
  }
  files;
  opts;
  description = "in-memory files";
  async text(name) {
    const f = this.files[name];
    return f === void 0 ? null : new TextDecoder().decode(await toBytes(f));
  }
  async binaries(names) {
    const out2 = [];
    const sizes = names.map((n) => {
      const f = this.files[n];
      if (f === void 0) throw new ModelSourceError(n, "not among the files given");
      return typeof f === "string" ? f.length : f instanceof Blob ? f.size : f.byteLength;
    });
    const total = sizes.reduce((a, b) => a + b, 0);
    let loaded = 0;
    for (const [x, n] of names.entries()) {
      out2.push(memorySource(await toBytes(this.files[n])));
      loaded += sizes[x];
      this.opts.onProgress?.({ file: n, loaded, total });
    }
    return out2;
  }
};
var FolderReader = class {
  constructor(dir, opts) {
    this.dir = dir;
    this.opts = opts;
    this.description = `folder ${dir}`;
  }
  dir;
  opts;
  description;
  async path(name) {
    const { join } = await nodePath();
    return join(this.dir, name);
  }
  async text(name) {
    const fs = await nodeFsPromises();
    try {
      return await fs.readFile(await this.path(name), "utf8");
    } catch (e) {
      if (e.code === "ENOENT") return null;
      throw new ModelSourceError(name, e.message);
    }
  }
  async binaries(names) {
    const paths = await Promise.all(names.map((n) => this.path(n)));
    const out2 = [];
    try {
      for (const [x, p] of paths.entries()) out2.push(await fileSource(p, names[x]));
    } catch (e) {
      for (const s of out2) s.close?.();
      throw e;
    }
    const total = out2.reduce((a, s) => a + s.byteLength, 0);
    let loaded = 0;
    const onProgress = this.opts.onProgress;
    if (!onProgress) return out2;
    onProgress({ file: names[0], loaded, total });
    return out2.map((src, x) => {
      let counted = 0;
      const add = (n) => {
        counted += n;
        loaded += n;
        onProgress({ file: names[x], loaded, total });
      };
      return {
        byteLength: src.byteLength,
        read(offset, length) {
          const r2 = src.read(offset, length);
          if (counted + length <= src.byteLength) add(length);
          return r2;
        },
        close() {
          src.close?.();
          if (counted < src.byteLength) add(src.byteLength - counted);
        }
      };
    });
  }
};
async function fileSource(path2, name = path2) {
  const fs = await nodeFs();
  let fd;
  try {
    fd = fs.openSync(path2, "r");
  } catch (e) {
    throw new ModelSourceError(name, `cannot read ${path2} (${e.message})`);
  }
  const size = fs.fstatSync(fd).size;
  let open = true;
  return {
    byteLength: size,
    read(offset, length) {
      if (!open) throw new ModelSourceError(name, "read after the file was closed");
      const out2 = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, out2, done, length - done, offset + done);
        if (n <= 0) throw new ModelSourceError(name, `unexpected end of file at byte ${offset + done}`);
        done += n;
      }
      return out2;
    },
    close() {
      if (open) {
        open = false;
        fs.closeSync(fd);
      }
    }
  };
}
var bytesOf = (x) => x instanceof Uint8Array ? x : x.read(0, x.byteLength);
function hashKey(s) {
  let a = 2166136261;
  let b = 16777619 ^ s.length;
  for (let x = 0; x < s.length; x++) {
    const c = s.charCodeAt(x);
    a = Math.imul(a ^ c, 16777619) >>> 0;
    b = Math.imul(b ^ c, 1540483477) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}
function folderCache(dir) {
  const file = async (key) => {
    const { join } = await nodePath();
    const base = key.split("/").pop()?.replace(/[^\w.-]/g, "_") ?? "file";
    return join(dir, `${hashKey(key)}-${base}`);
  };
  return {
    async get(key) {
      const fs = await nodeFsPromises();
      const f = await file(key);
      if (!await fs.stat(f).catch(() => null)) return null;
      return fileSource(f, key);
    },
    async put(key, chunks) {
      const fs = await nodeFsPromises();
      await fs.mkdir(dir, { recursive: true });
      const f = await file(key);
      const tmp = `${f}.${process.pid}.tmp`;
      const h = await fs.open(tmp, "w");
      try {
        for (const c of chunks) await h.write(c);
      } finally {
        await h.close();
      }
      await fs.rename(tmp, f);
    }
  };
}
function cacheApiCache(name = "mlstm-hf-model") {
  const open = () => globalThis.caches.open(name);
  return {
    async get(key) {
      const r2 = await (await open()).match(key);
      return r2 ? new Uint8Array(await r2.arrayBuffer()) : null;
    },
    async put(key, chunks) {
      await (await open()).put(key, new Response(new Blob(chunks)));
    }
  };
}
async function resolveCache(c) {
  if (c === false) return null;
  if (typeof c === "object" && c !== null) return c;
  if (typeof c === "string") return folderCache(c);
  if (isNode()) {
    const { join } = await nodePath();
    const { homedir } = await nodeOs();
    const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
    return folderCache(join(base, "mlstm-hf-model"));
  }
  if ("caches" in globalThis) return cacheApiCache();
  return null;
}
var UrlReader = class {
  constructor(base, opts) {
    this.base = base;
    this.opts = opts;
    this.description = base;
    this.cachePromise = resolveCache(opts.cache);
  }
  base;
  opts;
  description;
  cachePromise;
  url(name) {
    return this.base.endsWith("/") ? this.base + name : `${this.base}/${name}`;
  }
  fetch(url) {
    const f = this.opts.fetch ?? globalThis.fetch;
    if (!f) throw new ModelSourceError(url, "no fetch() available: pass options.fetch");
    return f(url, { signal: this.opts.signal });
  }
  async text(name) {
    const url = this.url(name);
    const cache = await this.cachePromise;
    const hit = await cache?.get(url);
    if (hit) {
      const text = new TextDecoder().decode(bytesOf(hit));
      if (!(hit instanceof Uint8Array)) hit.close?.();
      return text;
    }
    let r2;
    try {
      r2 = await this.fetch(url);
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new ModelSourceError(name, `fetch ${url} failed (${e.message})`);
    }
    if (r2.status === 404) return null;
    if (!r2.ok) throw new ModelSourceError(name, `GET ${url}: HTTP ${r2.status}`);
    const bytes = new Uint8Array(await r2.arrayBuffer());
    await cache?.put(url, [bytes]);
    return new TextDecoder().decode(bytes);
  }
  async binaries(names) {
    const cache = await this.cachePromise;
    const cached = await Promise.all(names.map((n) => cache?.get(this.url(n)) ?? null));
    const responses = await Promise.all(
      names.map(async (n, x) => {
        if (cached[x]) return null;
        const url = this.url(n);
        let r2;
        try {
          r2 = await this.fetch(url);
        } catch (e) {
          if (e.name === "AbortError") throw e;
          throw new ModelSourceError(n, `fetch ${url} failed (${e.message})`);
        }
        if (!r2.ok) throw new ModelSourceError(n, `GET ${url}: HTTP ${r2.status}`);
        return r2;
      })
    );
    const sizes = names.map((_, x) => {
      if (cached[x]) return cached[x].byteLength;
      const len2 = responses[x].headers.get("content-length");
      return len2 === null ? null : Number(len2);
    });
    const total = sizes.every((s) => s !== null) ? sizes.reduce((a, b) => a + b, 0) : null;
    let loaded = 0;
    const report = (file) => this.opts.onProgress?.({ file, loaded, total });
    const out2 = [];
    for (const [x, n] of names.entries()) {
      const hit = cached[x];
      if (hit) {
        loaded += hit.byteLength;
        report(n);
        out2.push(hit instanceof Uint8Array ? memorySource(hit) : hit);
        continue;
      }
      const r2 = responses[x];
      const expected = sizes[x];
      const chunks = [];
      let got = 0;
      if (r2.body) {
        const reader = r2.body.getReader();
        for (; ; ) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          got += value.byteLength;
          loaded += value.byteLength;
          report(n);
        }
      } else {
        const bytes = new Uint8Array(await r2.arrayBuffer());
        chunks.push(bytes);
        got = bytes.byteLength;
        loaded += got;
        report(n);
      }
      if (expected !== null && got !== expected) {
        throw new ModelSourceError(n, `download truncated: ${got} of ${expected} bytes`);
      }
      await cache?.put(this.url(n), chunks);
      out2.push(chunkedSource(chunks));
    }
    return out2;
  }
};
var REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
async function openSource(source, opts = {}) {
  if (typeof source === "object" && !(source instanceof URL)) {
    if (!source || typeof source.files !== "object") {
      throw new ModelSourceError("(source)", "expected { files: { name: ArrayBuffer | Uint8Array | Blob } }");
    }
    return new MemoryReader(source.files, opts);
  }
  const s = String(source);
  if (/^https?:\/\//.test(s)) return new UrlReader(s, opts);
  if (isNode()) {
    const fs = await nodeFsPromises();
    const st = await fs.stat(s).catch(() => null);
    if (st?.isDirectory()) return new FolderReader(s, opts);
    if (st) throw new ModelSourceError(s, "is not a folder (give the folder that holds config.json)");
  }
  if (REPO_ID.test(s)) {
    const hub = (opts.hubUrl ?? "https://huggingface.co").replace(/\/$/, "");
    const rev = encodeURIComponent(opts.revision ?? "main");
    return new UrlReader(`${hub}/${s}/resolve/${rev}`, opts);
  }
  throw new ModelSourceError(
    s,
    "no such folder, and not an http(s) URL or a Hugging Face repo id (owner/name)"
  );
}

// packages/hf-model/src/sampling.ts
function makeRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = a + 1831565813 >>> 0;
    let t = a;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 8) / 16777216;
  };
}
function drawUniforms(rng, B) {
  return Float32Array.from({ length: B }, () => rng());
}
var DRAW_ONE = 16777216;
var MAX_WEIGHT = 2 ** 31;
var SAMPLER_MAX_VOCAB = 2 ** 17;
var SAMPLER_TABLES = {
  a: Uint32Array.from({ length: 256 }, (_, i) => Math.round(65536 * 2 ** (-i / 256))),
  b: Uint32Array.from({ length: 256 }, (_, i) => Math.round(32768 * 2 ** (-i / 65536)))
};
var f322 = new Float32Array(1);
var u322 = new Uint32Array(f322.buffer);
function canonicalLogitBits(b) {
  if ((b & 2147483647) >>> 0 > 2139095040) return 4286578688;
  if ((b & 2139095040) === 0) return 0;
  return b >>> 0;
}
function canonicalWeightBits(b) {
  if ((b & 2147483647) >>> 0 > 2139095040) return 2139095040;
  if ((b & 2139095040) === 0) return 0;
  return b >>> 0;
}
var bitsOf = (x) => {
  f322[0] = x;
  return u322[0];
};
var f32Of = (b) => {
  u322[0] = b;
  return f322[0];
};
function orderKey(bits) {
  return (bits & 2147483648 ? ~bits : bits | 2147483648) >>> 0;
}
function samplerConstants(o) {
  const temp = o.temperature ?? 0;
  const pen = o.repetitionPenalty ?? 1;
  const flush = (x) => Math.abs(x) < 2 ** -126 ? 0 : x;
  return {
    c: temp > 0 ? flush(Math.fround(Math.LOG2E / temp)) : 0,
    invPen: flush(Math.fround(1 / pen)),
    pen: flush(Math.fround(pen)),
    penalize: pen !== 1,
    topK: o.topK ?? 0,
    q: Math.floor(Math.fround(o.topP ?? 1) * DRAW_ONE)
  };
}
function drawInteger(u) {
  return Math.min(DRAW_ONE - 1, Math.max(0, Math.floor(Math.fround(u) * DRAW_ONE)));
}
function penalisedBits(x, seen, k) {
  let b = canonicalLogitBits(bitsOf(x));
  if (seen && k.penalize) {
    const z = f32Of(b);
    b = canonicalLogitBits(bitsOf(Math.fround(z > 0 ? z * k.invPen : z * k.pen)));
  }
  return b;
}
function tokenWeight(b, maxBits, c) {
  if (b === maxBits) return MAX_WEIGHT;
  const d = f32Of(canonicalWeightBits(bitsOf(Math.fround(f32Of(maxBits) - f32Of(b)))));
  const y = f32Of(canonicalWeightBits(bitsOf(Math.fround(d * c))));
  if (!(y < 32)) return 0;
  const Y = Math.floor(y * 65536);
  const p = SAMPLER_TABLES.a[Y >>> 8 & 255] * SAMPLER_TABLES.b[Y & 255];
  return Math.floor(p / 2 ** (Y >>> 16));
}
function scaleByDraw(r2, S) {
  const hi = Math.floor(S / DRAW_ONE);
  const lo = S - hi * DRAW_ONE;
  return r2 * hi + Math.floor(r2 * lo / DRAW_ONE);
}
function topPThreshold(q, S) {
  const hi = Math.floor(S / DRAW_ONE);
  const lo = S - hi * DRAW_ONE;
  return Math.max(1, q * hi + Math.floor((q * lo + DRAW_ONE - 1) / DRAW_ONE));
}
function sampleToken(logits, off, V, o, seen, u) {
  const k = samplerConstants(o);
  const bits = new Uint32Array(V);
  const keys = new Uint32Array(V);
  let best = 0;
  for (let j = 0; j < V; j++) {
    bits[j] = penalisedBits(logits[off + j], k.penalize && seen(j), k);
    keys[j] = orderKey(bits[j]);
    if (keys[j] > keys[best]) best = j;
  }
  if (!((o.temperature ?? 0) > 0)) return best;
  let n = k.topK > 0 && k.topK < V ? k.topK : V;
  const order = Array.from({ length: V }, (_, j) => j);
  if (n < V || k.q < DRAW_ONE) order.sort((a, b) => keys[b] - keys[a] || a - b);
  const maxBits = bits[best];
  const w2 = new Float64Array(V);
  let S = 0;
  for (let x = 0; x < n; x++) {
    const j = order[x];
    w2[j] = tokenWeight(bits[j], maxBits, k.c);
    S += w2[j];
  }
  if (k.q < DRAW_ONE) {
    const theta = topPThreshold(k.q, S);
    let acc2 = 0;
    let L = 0;
    while (L < n) {
      acc2 += w2[order[L++]];
      if (acc2 >= theta) break;
    }
    n = L;
    S = acc2;
  }
  const kept = new Uint8Array(V);
  for (let x = 0; x < n; x++) kept[order[x]] = 1;
  const t = scaleByDraw(drawInteger(u), S);
  let acc = 0;
  for (let j = 0; j < V; j++) {
    if (!kept[j]) continue;
    acc += w2[j];
    if (acc > t) return j;
  }
  throw new Error("sampleToken: the draw fell past the kept weight (unreachable)");
}

// packages/hf-model/src/gpu/random-init.ts
var isGpuFill = (d) => !(d instanceof Float32Array);
function pcgHash(v) {
  const s = Math.imul(v >>> 0, 747796405) + 2891336453 >>> 0;
  const w2 = Math.imul((s >>> (s >>> 28) + 4 ^ s) >>> 0, 277803737) >>> 0;
  return (w2 >>> 22 ^ w2) >>> 0;
}
function fnv1a(name) {
  let h = 2166136261;
  for (let x = 0; x < name.length; x++) h = Math.imul(h ^ name.charCodeAt(x), 16777619) >>> 0;
  return h >>> 0;
}
var pieceOf = (length, scale, name, seed) => {
  const k0 = pcgHash(seed >>> 0 ^ fnv1a(name));
  return { length, k0, k1: pcgHash(k0), scale: Math.fround(scale) };
};
function pieceValue(p, x) {
  const h = pcgHash(pcgHash(x + p.k0 >>> 0) ^ p.k1);
  return Math.fround(((h >>> 8) / 8388608 - 1) * p.scale);
}
function randomValues(n, scale, name, seed) {
  const p = pieceOf(n, scale, name, seed);
  return Float32Array.from({ length: n }, (_, x) => pieceValue(p, x));
}
var fillParams = defineParams({
  start: "u32",
  count: "u32",
  split: "u32",
  k0a: "u32",
  k1a: "u32",
  scaleA: "f32",
  k0b: "u32",
  k1b: "u32",
  scaleB: "f32"
});
var WG4 = 256;
function fillWgsl(f16) {
  return `${fillParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> out: array<${f16 ? "u32" : "f32"}>;
fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
fn value(g: u32) -> f32 {
  var x = g;
  var k0 = P.k0a;
  var k1 = P.k1a;
  var scale = P.scaleA;
  if (g >= P.split) { x = g - P.split; k0 = P.k0b; k1 = P.k1b; scale = P.scaleB; }
  let h = pcg(pcg(x + k0) ^ k1);
  // (h >> 8) \xB7 2^-23 \u2212 1 is exact in f32 (24 bits); one rounding, of the product with scale
  return (f32(h >> 8u) * 1.1920928955078125e-7 - 1.0) * scale;
}
@compute @workgroup_size(${WG4})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WG4}u + lid;
${f16 ? `  if (2u * i >= P.count) { return; }
  let a = value(P.start + 2u * i);
  let b = select(0.0, value(P.start + 2u * i + 1u), 2u * i + 1u < P.count);
  out[i] = pack2x16float(vec2f(a, b));` : `  if (i >= P.count) { return; }
  out[i] = value(P.start + i);`}
}`;
}
var RandomFill = class _RandomFill {
  constructor(pieces) {
    this.pieces = pieces;
    this.length = pieces.reduce((a, p) => a + p.length, 0);
  }
  pieces;
  length;
  encode(ctx2, batch, out2, start) {
    const count = out2.numel;
    if (start + count > this.length || this.length > 2 ** 32 - 1) {
      throw new RangeError(`random fill: elements [${start}, ${start + count}) of ${this.length}`);
    }
    const [a, b = a] = this.pieces;
    const f16 = out2.dtype === "f16";
    const p = ctx2.pipeline(`hf.random-fill:${out2.dtype}`, () => fillWgsl(f16), ["uniform", "rw"]);
    const threads = f16 ? Math.ceil(count / 2) : count;
    const groups = Math.ceil(threads / WG4);
    const max = ctx2.limits.maxComputeWorkgroupsPerDimension;
    const y = Math.ceil(groups / max);
    batch.dispatch(
      p,
      [out2],
      fillParams.pack({
        start,
        count,
        split: this.pieces.length > 1 ? a.length : this.length,
        k0a: a.k0,
        k1a: a.k1,
        scaleA: a.scale,
        k0b: b.k0,
        k1b: b.k1,
        scaleB: b.scale
      }),
      [Math.ceil(groups / y), y],
      "random fill"
    );
  }
  concat(next) {
    if (!(next instanceof _RandomFill) || this.pieces.length + next.pieces.length > 2) {
      throw new TypeError("random fill: only two single-piece fills can be fused");
    }
    return new _RandomFill([...this.pieces, ...next.pieces]);
  }
};
function randomFill(n, scale, name, seed) {
  return new RandomFill([pieceOf(n, scale, name, seed)]);
}
function placeWeight(ctx2, data, shape, dtype2, start = 0) {
  const n = shape.reduce((x, y) => x * y, 1);
  if (!isGpuFill(data)) return ctx2.upload(data.subarray(start, start + n), shape, dtype2);
  const t = ctx2.empty(shape, dtype2);
  const batch = ctx2.batch();
  data.encode(ctx2, batch, t, start);
  batch.submit();
  return t;
}
var GpuRandomWeights = class extends RandomPieces {
  constructor(config, seed = 1) {
    super(config);
    this.seed = seed;
  }
  seed;
  matrix(n, scale, name) {
    return randomFill(n, scale, name, this.seed);
  }
  vector(n, scale, name) {
    return randomValues(n, scale, name, this.seed);
  }
};

// packages/hf-model/src/gpu/sample.ts
var sampleParams = defineParams({
  V: "u32",
  W: "u32",
  penalize: "u32",
  invPen: "f32",
  pen: "f32",
  c: "f32",
  topK: "u32",
  q: "u32",
  G: "u32",
  chunk: "u32"
});
var WG5 = 256;
var SLICE2 = 4096;
var FINAL_WG = 64;
var seenWords = (V) => Math.ceil(V / 32);
function seenMaskBits(V, rows) {
  const W = seenWords(V);
  const bits = new Uint32Array(rows.length * W);
  rows.forEach((r2, b) => {
    for (const id of r2) {
      if (!Number.isInteger(id) || id < 0 || id >= V) {
        throw new ModelArgumentError("rows", `token ${id} of row ${b} is not an id in [0, ${V})`);
      }
      bits[b * W + (id >>> 5)] |= 1 << (id & 31);
    }
  });
  return bits;
}
var KEYS = (
  /* wgsl */
  `
fn canonLogit(b: u32) -> u32 {
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0xff800000u; }
  if ((b & 0x7f800000u) == 0u) { return 0u; }
  return b;
}
fn toKey(b: u32) -> u32 { return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u); }
fn fromKey(k: u32) -> u32 { return select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u); }
fn keyOf(row: u32, j: u32) -> u32 {
  var b = canonLogit(logits[row * P.V + j]);
  if (P.penalize != 0u && ((seen[row * P.W + (j >> 5u)] >> (j & 31u)) & 1u) != 0u) {
    let z = bitcast<f32>(b);
    b = canonLogit(bitcast<u32>(select(z * P.pen, z * P.invPen, z > 0.0)));
  }
  return toKey(b);
}`
);
var table = (name, v) => `const ${name}_INIT = array<u32, ${v.length}>(${[...v].map((x) => `${x}u`).join(", ")});
var<workgroup> ${name}: array<u32, ${v.length}>;`;
var WEIGHTS = (
  /* wgsl */
  `
${table("TA", SAMPLER_TABLES.a)}
${table("TB", SAMPLER_TABLES.b)}
fn loadTables(lid: u32, size: u32) {
  for (var i = lid; i < 256u; i += size) {
    TA[i] = TA_INIT[i];
    TB[i] = TB_INIT[i];
  }
  workgroupBarrier();
}
fn canonW(b: u32) -> u32 {
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0x7f800000u; }
  if ((b & 0x7f800000u) == 0u) { return 0u; }
  return b;
}
fn weightOf(key: u32, maxKey: u32) -> u32 {
  if (key == maxKey) { return 0x80000000u; }
  let d = bitcast<f32>(canonW(bitcast<u32>(bitcast<f32>(fromKey(maxKey)) - bitcast<f32>(fromKey(key)))));
  let y = bitcast<f32>(canonW(bitcast<u32>(d * P.c)));
  if (!(y < 32.0)) { return 0u; }
  let Y = u32(y * 65536.0);
  return (TA[(Y >> 8u) & 255u] * TB[Y & 255u]) >> (Y >> 16u);
}`
);
var U64 = (
  /* wgsl */
  `
fn add64(a: vec2u, b: vec2u) -> vec2u {
  let lo = a.x + b.x;
  return vec2u(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}
fn ge64(a: vec2u, b: vec2u) -> bool { return a.y > b.y || (a.y == b.y && a.x >= b.x); }
fn mul64(a: u32, b: u32) -> vec2u {
  let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  let mid = p01 + p10;
  let midCarry = select(0u, 0x10000u, mid < p01);
  let lo = p00 + (mid << 16u);
  return vec2u(lo, p11 + (mid >> 16u) + midCarry + select(0u, 1u, lo < p00));
}
// floor (or ceil) of r \xB7 S / 2^24 for r <= 2^24 and S < 2^48 (sampling.ts scaleByDraw / topPThreshold)
fn scaleDraw(r: u32, S: vec2u, up: bool) -> vec2u {
  let hi = (S.y << 8u) | (S.x >> 24u);
  var p = mul64(r, S.x & 0xffffffu);
  if (up) { p = add64(p, vec2u(0xffffffu, 0u)); }
  return add64(mul64(r, hi), vec2u((p.x >> 24u) | (p.y << 8u), 0u));
}`
);
var BINDINGS = (seenAccess, outDecl) => `${sampleParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> logits: array<u32>;
@group(0) @binding(2) var<storage, ${seenAccess}> seen: array<u32>;
${outDecl}`;
var BETTER = (
  /* wgsl */
  `
fn better(a: vec2u, b: vec2u) -> vec2u {
  return select(a, b, b.x > a.x || (b.x == a.x && b.y < a.y));
}`
);
function argmaxPartialWgsl() {
  return `${BINDINGS("read", "@group(0) @binding(3) var<storage, read_write> partial: array<vec2u>;")}
${KEYS}
${BETTER}
var<workgroup> red: array<vec2u, ${WG5}>;
@compute @workgroup_size(${WG5})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x;
  let row = wid.y;
  let j1 = min(P.V, (g + 1u) * ${SLICE2}u);
  var best = vec2u(0u, 0xffffffffu);
  for (var j = g * ${SLICE2}u + lid; j < j1; j += ${WG5}u) { best = better(best, vec2u(keyOf(row, j), j)); }
  red[lid] = best;
  for (var s = ${WG5 / 2}u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) { red[lid] = better(red[lid], red[lid + s]); }
  }
  if (lid == 0u) { partial[row * P.G + g] = red[0]; }
}`;
}
function argmaxFinalWgsl() {
  return `${sampleParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec2u>;
@group(0) @binding(2) var<storage, read_write> seen: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
${BETTER}
var<workgroup> red: array<vec2u, ${FINAL_WG}>;
@compute @workgroup_size(${FINAL_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  var best = vec2u(0u, 0xffffffffu);
  for (var g = lid; g < P.G; g += ${FINAL_WG}u) { best = better(best, partial[row * P.G + g]); }
  red[lid] = best;
  for (var s = ${FINAL_WG / 2}u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) { red[lid] = better(red[lid], red[lid + s]); }
  }
  if (lid == 0u) {
    let j = red[0].y;
    out[row] = j;
    seen[row * P.W + (j >> 5u)] |= 1u << (j & 31u);
  }
}`;
}
var REDUCTIONS = (
  /* wgsl */
  `
var<workgroup> r64: array<vec2u, ${3 * WG5}>;
var<workgroup> r32: array<u32, ${WG5}>;
var<workgroup> total3: array<vec2u, 3>;
var<workgroup> total32: u32;
fn maxAll(v: u32, lid: u32) -> u32 {
  workgroupBarrier();
  r32[lid] = v;
  workgroupBarrier();
  if (lid < 16u) {
    var m = 0u;
    for (var i = 0u; i < 16u; i++) { m = max(m, r32[lid * 16u + i]); }
    r32[lid * 16u] = m;
  }
  workgroupBarrier();
  if (lid == 0u) {
    var m = 0u;
    for (var i = 0u; i < 16u; i++) { m = max(m, r32[i * 16u]); }
    total32 = m;
  }
  return workgroupUniformLoad(&total32);
}
// three sums at once (the candidates of one radix-4 bisection step); r64[c * WG + lid]
fn sumAll3(v: array<vec2u, 3>, lid: u32) -> array<vec2u, 3> {
  workgroupBarrier();
  for (var c = 0u; c < 3u; c++) { r64[c * ${WG5}u + lid] = v[c]; }
  workgroupBarrier();
  if (lid < 48u) {
    let base = (lid / 16u) * ${WG5}u + (lid % 16u) * 16u;
    var s = vec2u(0u, 0u);
    for (var i = 0u; i < 16u; i++) { s = add64(s, r64[base + i]); }
    r64[base] = s;
  }
  workgroupBarrier();
  if (lid < 3u) {
    var s = vec2u(0u, 0u);
    for (var i = 0u; i < 16u; i++) { s = add64(s, r64[lid * ${WG5}u + i * 16u]); }
    total3[lid] = s;
  }
  return workgroupUniformLoad(&total3);
}`
);
var IN_SET = (
  /* wgsl */
  `
fn inSet(k: u32, j: u32, sKey: u32, sBound: u32) -> bool { return k > sKey || (k == sKey && j < sBound); }`
);
var TIE_BOUND = (
  /* wgsl */
  `
var<workgroup> picked: u32;
fn tieBound(row: u32, sKey: u32, prevBound: u32, m: u32, lid: u32) -> u32 {
  let j0 = min(P.V, lid * P.chunk);
  let j1 = min(P.V, j0 + P.chunk);
  var n = 0u;
  for (var j = j0; j < j1; j++) { n += select(0u, 1u, j < prevBound && keyOf(row, j) == sKey); }
  workgroupBarrier();
  r32[lid] = n;
  workgroupBarrier();
  if (lid == 0u) {
    var acc = 0u;
    var c = 0u;
    for (; c < ${WG5 - 1}u; c++) {
      if (acc + r32[c] >= m) { break; }
      acc += r32[c];
    }
    var rank = m - acc;
    var j = c * P.chunk;
    let end = min(P.V, j + P.chunk);
    for (; j < end; j++) {
      if (j < prevBound && keyOf(row, j) == sKey) {
        rank--;
        if (rank == 0u) { break; }
      }
    }
    picked = min(j + 1u, P.V);
  }
  return workgroupUniformLoad(&picked);
}`
);
function sampleWgsl() {
  const ONE = 1 << 24;
  return `${BINDINGS(
    "read_write",
    `@group(0) @binding(3) var<storage, read> draws: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;`
  )}
${KEYS}
${WEIGHTS}
${U64}
${REDUCTIONS}
${IN_SET}
${TIE_BOUND}
const K_BISECT = 0u;
const K_ABOVE = 1u;
const P_SUM = 2u;
const P_BISECT = 3u;
const P_ABOVE = 4u;
const P_TIES = 5u;
const DRAW = 6u;
@compute @workgroup_size(${WG5})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let V = P.V;
  loadTables(lid, ${WG5}u);
  var mk = 0u;
  for (var j = lid; j < V; j += ${WG5}u) { mk = max(mk, keyOf(row, j)); }
  let maxKey = maxAll(mk, lid);

  let topK = P.topK > 0u && P.topK < V;
  let topP = P.q < ${ONE}u;
  var phase = select(select(DRAW, P_SUM, topP), K_BISECT, topK);
  var bit = 30u;
  var lo = 0u;
  var kKey = 0u;
  var kBound = V;
  var pKey = 0u;
  var pBound = V;
  var theta = vec2u(1u, 0u);
  var gAbove = vec2u(0u, 0u);
  var prevBound = V;
  // at most 36 iterations; the bound only guards the device against a hang
  for (var iter = 0u; iter < 64u; iter++) {
    if (phase == DRAW) { break; }
    // a radix-4 bisection step tries the two bits (bit + 1, bit) at once: three candidates
    let c1 = lo | (1u << bit);
    let c2 = lo | (2u << bit);
    let c3 = lo | (3u << bit);
    var part = array<vec2u, 3>(vec2u(0u, 0u), vec2u(0u, 0u), vec2u(0u, 0u));
    for (var j = lid; j < V; j += ${WG5}u) {
      let k = keyOf(row, j);
      let inK = inSet(k, j, kKey, kBound);
      let above = select(0u, 1u, k >= c1) + select(0u, 1u, k >= c2) + select(0u, 1u, k >= c3);
      // add to the first \`cut\` sums
      var add = 1u;
      var cut = 0u;
      switch phase {
        case K_BISECT: { cut = above; }
        case K_ABOVE: { cut = select(0u, 1u, k > kKey); }
        case P_SUM: { if (inK) { add = weightOf(k, maxKey); cut = 1u; } }
        case P_BISECT: { if (inK && above > 0u) { add = weightOf(k, maxKey); cut = above; } }
        case P_ABOVE: { if (inK && k > pKey) { add = weightOf(k, maxKey); cut = 1u; } }
        default: { cut = select(0u, 1u, k == pKey && j < prevBound); }
      }
      for (var c = 0u; c < cut; c++) { part[c] = add64(part[c], vec2u(add, 0u)); }
    }
    let sums = sumAll3(part, lid);
    let tot = sums[0];
    // the next pass; a tie resolution (m > 0) where a boundary key is known
    var m = 0u;
    var tieKey = 0u;
    switch phase {
      case K_BISECT: {
        var c = 0u;
        for (var i = 0u; i < 3u; i++) { c += select(0u, 1u, sums[i].x >= P.topK); }
        lo |= c << bit;
        if (bit == 0u) { kKey = lo; phase = K_ABOVE; } else { bit -= 2u; }
      }
      case K_ABOVE: {
        m = max(P.topK - tot.x, 1u);
        tieKey = kKey;
      }
      case P_SUM: {
        theta = scaleDraw(P.q, tot, true);
        if (theta.x == 0u && theta.y == 0u) { theta = vec2u(1u, 0u); }
        lo = 0u;
        bit = 30u;
        phase = P_BISECT;
      }
      case P_BISECT: {
        var c = 0u;
        for (var i = 0u; i < 3u; i++) { c += select(0u, 1u, ge64(sums[i], theta)); }
        lo |= c << bit;
        if (bit == 0u) {
          pKey = lo;
          prevBound = select(V, kBound, pKey == kKey);
          phase = P_ABOVE;
        } else { bit -= 2u; }
      }
      case P_ABOVE: {
        gAbove = tot;
        phase = P_TIES;
      }
      default: {
        // the fewest ties with gAbove + m \xB7 w(pKey) >= theta (ties weigh the same)
        let wTie = weightOf(pKey, maxKey);
        var mLo = 1u;
        var mHi = max(tot.x, 1u);
        while (mLo < mHi) {
          let mid = (mLo + mHi) / 2u;
          if (ge64(add64(gAbove, mul64(mid, wTie)), theta)) { mHi = mid; } else { mLo = mid + 1u; }
        }
        // (the tables are private variables: the count goes through workgroup memory to stay uniform)
        if (lid == 0u) { picked = mLo; }
        m = workgroupUniformLoad(&picked);
        tieKey = pKey;
      }
    }
    if (m > 0u) {
      let bound = tieBound(row, tieKey, prevBound, m, lid);
      if (phase == K_ABOVE) {
        kBound = bound;
        pKey = kKey;
        pBound = kBound;
        phase = select(DRAW, P_SUM, topP);
      } else {
        pBound = bound;
        phase = DRAW;
      }
    }
  }

  // the draw, in id order over the kept set
  let j0 = min(V, lid * P.chunk);
  let j1 = min(V, j0 + P.chunk);
  var cs = vec2u(0u, 0u);
  for (var j = j0; j < j1; j++) {
    let k = keyOf(row, j);
    if (inSet(k, j, pKey, pBound)) { cs = add64(cs, vec2u(weightOf(k, maxKey), 0u)); }
  }
  workgroupBarrier();
  r64[lid] = cs;
  workgroupBarrier();
  if (lid == 0u) {
    var total = vec2u(0u, 0u);
    for (var c = 0u; c < ${WG5}u; c++) { total = add64(total, r64[c]); }
    let t = scaleDraw(draws[row], total, false);
    var acc = vec2u(0u, 0u);
    var c = 0u;
    for (; c < ${WG5 - 1}u; c++) {
      let next = add64(acc, r64[c]);
      if (!ge64(t, next)) { break; }
      acc = next;
    }
    var j = c * P.chunk;
    let end = min(V, j + P.chunk);
    var pick = V - 1u;
    for (; j < end; j++) {
      let k = keyOf(row, j);
      if (inSet(k, j, pKey, pBound)) {
        acc = add64(acc, vec2u(weightOf(k, maxKey), 0u));
        if (!ge64(t, acc)) { pick = j; break; }
      }
    }
    out[row] = pick;
    seen[row * P.W + (pick >> 5u)] |= 1u << (pick & 31u);
  }
}`;
}
function checkTensor(name, t, numel2, what) {
  if (!(t instanceof GpuTensor)) throw new ModelArgumentError(name, `expected a GpuTensor (${what})`);
  if (t.numel !== numel2 || t.dtype !== "f32") {
    throw new ModelArgumentError(
      name,
      `expected ${numel2} 32-bit elements (${what}), got ${t.numel} ${t.dtype} [${t.shape.join(", ")}]`
    );
  }
}
function validate(ctx2, a) {
  const { B, V, params: p } = a;
  const maxRows = ctx2.limits.maxComputeWorkgroupsPerDimension;
  if (!Number.isInteger(B) || B < 1 || B > maxRows)
    throw new ModelArgumentError("B", `expected an integer in [1, ${maxRows}], got ${B}`);
  if (!Number.isInteger(V) || V < 1 || V > SAMPLER_MAX_VOCAB)
    throw new ModelArgumentError("V", `expected an integer in [1, ${SAMPLER_MAX_VOCAB}], got ${V}`);
  const num = (x) => typeof x === "number" && Number.isFinite(x);
  if (!num(p.temperature) || p.temperature < 0)
    throw new ModelArgumentError("temperature", `expected a finite number >= 0, got ${p.temperature}`);
  if (!Number.isInteger(p.topK) || p.topK < 0)
    throw new ModelArgumentError("topK", `expected an integer >= 0, got ${p.topK}`);
  if (!num(p.topP) || p.topP <= 0 || p.topP > 1)
    throw new ModelArgumentError("topP", `expected a number in (0, 1], got ${p.topP}`);
  if (!num(p.repetitionPenalty) || p.repetitionPenalty <= 0)
    throw new ModelArgumentError(
      "repetitionPenalty",
      `expected a finite number > 0, got ${p.repetitionPenalty}`
    );
  if (!(p.uniforms instanceof Float32Array) || p.uniforms.length !== B)
    throw new ModelArgumentError(
      "uniforms",
      `expected a Float32Array of B = ${B} draws, got ${p.uniforms?.length}`
    );
  for (const [b, u] of p.uniforms.entries()) {
    if (!(u >= 0 && u < 1)) throw new ModelArgumentError("uniforms", `draw ${b} is ${u}, expected [0, 1)`);
  }
  checkTensor("logits", a.logits, B * V, `f32 [B, V] = [${B}, ${V}]`);
  checkTensor("out", a.out, B, `u32 [B] = [${B}]`);
  checkTensor("seen", a.seen, B * seenWords(V), `u32 [B, ceil(V/32)] = [${B}, ${seenWords(V)}]`);
  ctx2.checkBindingSize("logits", a.logits.byteLength, "encodeSampleTokens");
}
function encodeSampleTokens(ctx2, batch, a) {
  validate(ctx2, a);
  const { B, V, params: p } = a;
  const k = samplerConstants(p);
  const G = Math.ceil(V / SLICE2);
  const packed = sampleParams.pack({
    V,
    W: seenWords(V),
    penalize: k.penalize ? 1 : 0,
    invPen: k.invPen,
    pen: k.pen,
    c: k.c,
    topK: k.topK,
    q: k.q,
    G,
    chunk: Math.ceil(V / WG5)
  });
  if (!(p.temperature > 0)) {
    const partial = batch.scratch([B * G * 2], "f32");
    const first = ctx2.pipeline("hf.sample.argmax-partial", argmaxPartialWgsl, [
      "uniform",
      "read",
      "read",
      "rw"
    ]);
    batch.dispatch(first, [a.logits, a.seen, partial], packed, [G, B], "sample argmax (slices)");
    const final = ctx2.pipeline("hf.sample.argmax-final", argmaxFinalWgsl, ["uniform", "read", "rw", "rw"]);
    batch.dispatch(final, [partial, a.seen, a.out], packed, [B], "sample argmax (rows)");
    return { draws: null };
  }
  const draws = batch.scratch([B], "f32");
  writeSampleDraws(ctx2, draws, p.uniforms);
  const pipe = ctx2.pipeline("hf.sample.draw", sampleWgsl, ["uniform", "read", "rw", "read", "rw"]);
  batch.dispatch(pipe, [a.logits, a.seen, draws, a.out], packed, [B], "sample (top-k, top-p, draw)");
  return { draws };
}
function writeSampleDraws(ctx2, draws, uniforms) {
  const r2 = Uint32Array.from(uniforms, drawInteger);
  ctx2.device.queue.writeBuffer(draws.buffer, draws.byteOffset, r2.buffer, r2.byteOffset, r2.byteLength);
}

// packages/hf-model/src/gpu/kernels.ts
var header = (dtype2) => [dtype2 === "f16" ? "enable f16;" : "", `alias elem = ${dtype2};`].join("\n");
function grid(count, max) {
  if (count <= max) return [Math.max(1, count), 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}
var WG6 = 256;
var embedParams = defineParams({ total: "u32", H: "u32", row0: "u32", rows: "u32" });
function encodeEmbedding(ctx2, batch, ids, table2, out2, T2, H, row0 = 0, rows = table2.shape[0]) {
  const p = ctx2.pipeline(
    `hf.embed:${table2.dtype}`,
    () => `${header(table2.dtype)}
${embedParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<elem>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG6})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG6}u + lid;
  if (idx >= P.total) { return; }
  let r = idx / P.H;
  let h = idx % P.H;
  let id = ids[r];
  if (id < P.row0 || id >= P.row0 + P.rows) { return; }
  out[idx] = f32(table[(id - P.row0) * P.H + h]);
}`,
    ["uniform", "read", "read", "rw"]
  );
  const total = T2 * H;
  batch.dispatch(
    p,
    [ids, table2, out2],
    embedParams.pack({ total, H, row0, rows }),
    grid(Math.ceil(total / WG6), ctx2.limits.maxComputeWorkgroupsPerDimension),
    "embedding"
  );
}
var normParams = defineParams({
  rows: "u32",
  H: "u32",
  inStride: "u32",
  inOffset: "u32",
  hasBias: "u32",
  eps: "f32"
});
var NORM_WG = 256;
function encodeRmsNorm(ctx2, batch, x, w2, b, y, o) {
  const at = !!o.rowsAt;
  const p = ctx2.pipeline(
    at ? "hf.rmsnorm.at" : "hf.rmsnorm",
    () => `${normParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
${at ? "@group(0) @binding(5) var<storage, read> rowsAt: array<u32>;\n" : ""}var<workgroup> red: array<f32, ${NORM_WG}>;
@compute @workgroup_size(${NORM_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= P.rows) { return; }
  let src = ${at ? "rowsAt[r]" : "(r * P.inStride + P.inOffset)"} * P.H;
  var s = 0.0;
  // four independent loads per iteration (a single row is latency-bound otherwise)
  for (var h0 = lid; h0 < P.H; h0 += ${4 * NORM_WG}u) {
    for (var j = 0u; j < 4u; j++) {
      let h = h0 + j * ${NORM_WG}u;
      if (h < P.H) { let v = x[src + h]; s += v * v; }
    }
  }
  red[lid] = s;
  workgroupBarrier();
  for (var st = ${NORM_WG / 2}u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] += red[lid + st]; }
    workgroupBarrier();
  }
  let rs = inverseSqrt(red[0] / f32(P.H) + P.eps);
  for (var h0 = lid; h0 < P.H; h0 += ${4 * NORM_WG}u) {
    for (var j = 0u; j < 4u; j++) {
      let h = h0 + j * ${NORM_WG}u;
      if (h < P.H) {
        var v = x[src + h] * rs * w[h];
        if (P.hasBias != 0u) { v += bias[h]; }
        y[r * P.H + h] = v;
      }
    }
  }
}`,
    at ? ["uniform", "read", "read", "read", "rw", "read"] : ["uniform", "read", "read", "read", "rw"]
  );
  batch.dispatch(
    p,
    at ? [x, w2, b ?? w2, y, o.rowsAt] : [x, w2, b ?? w2, y],
    normParams.pack({
      rows: o.rows,
      H: o.H,
      inStride: o.inStride ?? 1,
      inOffset: o.inOffset ?? 0,
      hasBias: b ? 1 : 0,
      eps: o.eps
    }),
    grid(o.rows, ctx2.limits.maxComputeWorkgroupsPerDimension),
    "rmsnorm"
  );
}
var MM_TILED_MIN_ROWS = 32;
function encodeMatmul(ctx2, batch, x, w2, b, y, o) {
  const tiled = o.tiled ?? o.M >= MM_TILED_MIN_ROWS;
  if (tiled) {
    encodeDenseMatmul(ctx2, batch, {
      x,
      w: w2,
      y,
      bias: b,
      M: o.M,
      N: o.N,
      K: o.K,
      accumulate: o.accumulate,
      softcap: o.softcap,
      nOff: o.nOff,
      ldy: o.ldy,
      gate: o.gate,
      castInto: o.x16
    });
    return;
  }
  if (o.gate) throw new Error("encodeMatmul: the SiLU-gated epilogue needs the prefill (tiled) branch");
  encodeGemv(ctx2, batch, x, w2, b, y, o);
}
var prepParams = defineParams({
  B: "u32",
  S: "u32",
  Sp: "u32",
  t0: "u32",
  NH: "u32",
  dqk: "u32",
  dv: "u32",
  P: "u32",
  total: "u32",
  cap: "f32",
  gStride: "u32",
  gOff: "u32"
});
function encodeCellPrep(ctx2, batch, proj, gates, out2, o) {
  const p = ctx2.pipeline(
    "hf.cellprep",
    () => `${prepParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> proj: array<f32>;
@group(0) @binding(2) var<storage, read> gates: array<f32>;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> k: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;
@group(0) @binding(6) var<storage, read_write> ig: array<f32>;
@group(0) @binding(7) var<storage, read_write> fg: array<f32>;
@compute @workgroup_size(${WG6})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG6}u + lid;
  if (idx >= P.total) { return; }
  let Dqk = P.NH * P.dqk;
  let Dv = P.NH * P.dv;
  let cols = 2u * Dqk + Dv + 2u * P.NH;
  let c = idx % cols;
  let rs = idx / cols;          // b * Sp + s
  let b = rs / P.Sp;
  let s = rs % P.Sp;
  let row = b * P.S + P.t0 + s; // source row
  if (c < 2u * Dqk) {
    let cc = c % Dqk;
    let h = cc / P.dqk;
    let d = cc % P.dqk;
    let dst = ((b * P.NH + h) * P.Sp + s) * P.dqk + d;
    let val = proj[row * P.P + c];
    if (c < Dqk) { q[dst] = val; } else { k[dst] = val; }
  } else if (c < 2u * Dqk + Dv) {
    let cc = c - 2u * Dqk;
    let h = cc / P.dv;
    let d = cc % P.dv;
    v[((b * P.NH + h) * P.Sp + s) * P.dv + d] = proj[row * P.P + c];
  } else {
    let g = c - 2u * Dqk - Dv;
    let h = g % P.NH;
    let pre = gates[row * P.gStride + P.gOff + g];
    let capped = P.cap * tanh(clamp(pre / P.cap, -20.0, 20.0));
    let dst = (b * P.NH + h) * P.Sp + s;
    if (g < P.NH) { ig[dst] = capped; } else { fg[dst] = capped; }
  }
}`,
    ["uniform", "read", "read", "rw", "rw", "rw", "rw", "rw"]
  );
  const Dqk = o.NH * o.dqk;
  const Dv = o.NH * o.dv;
  const total = o.B * o.Sp * (2 * Dqk + Dv + 2 * o.NH);
  batch.dispatch(
    p,
    [proj, gates, out2.q, out2.k, out2.v, out2.i, out2.f],
    prepParams.pack({
      B: o.B,
      S: o.S,
      Sp: o.Sp,
      t0: o.t0,
      NH: o.NH,
      dqk: o.dqk,
      dv: o.dv,
      cap: o.cap,
      P: o.stride ?? 2 * Dqk + 2 * Dv,
      total,
      gStride: o.gStride ?? 2 * o.NH,
      gOff: o.gOff ?? 0
    }),
    grid(Math.ceil(total / WG6), ctx2.limits.maxComputeWorkgroupsPerDimension),
    "cell prep"
  );
}
var postParams = defineParams({
  B: "u32",
  S: "u32",
  Sp: "u32",
  t0: "u32",
  NH: "u32",
  dv: "u32",
  P: "u32",
  oOff: "u32",
  hasBias: "u32",
  eps: "f32"
});
var POST_WG = 256;
var CELL_POST_ACTS_MAX_DV = 2048;
function encodeCellPost(ctx2, batch, h, proj, w2, b, out2, o) {
  const acts = o.acts ?? null;
  if (acts) {
    if (o.dv % 32 || o.dv > CELL_POST_ACTS_MAX_DV)
      throw new ModelArgumentError(
        "cell post acts",
        `needs a head width dv that is a multiple of 32 and at most ${CELL_POST_ACTS_MAX_DV}, got ${o.dv}`
      );
    const need = qgemvActsElements(o.B * o.S, o.NH * o.dv);
    if (acts.t.dtype !== "f32" || acts.t.numel < need)
      throw new ModelArgumentError(
        "cell post acts",
        `an f32 scratch of at least ${need} elements, got ${acts.t.numel}`
      );
  }
  const p = ctx2.pipeline(
    acts ? `hf.cellpost.acts:${acts.format}` : "hf.cellpost",
    () => `${postParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> hin: array<f32>;
@group(0) @binding(2) var<storage, read> proj: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
${acts ? `@group(0) @binding(5) var<storage, read_write> acts: array<vec4<u32>>;
var<workgroup> yv: array<f32, ${CELL_POST_ACTS_MAX_DV}>;
${storeActsWgsl(acts.format)}` : "@group(0) @binding(5) var<storage, read_write> out: array<f32>;"}
var<workgroup> red: array<f32, ${POST_WG}>;
fn reduce(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var st = ${POST_WG / 2}u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] += red[lid + st]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn sigm(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
@compute @workgroup_size(${POST_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;   // ((b * Sp + s) * NH + h)
  if (g >= P.B * P.Sp * P.NH) { return; }
  let h = g % P.NH;
  let rs = g / P.NH;
  let b = rs / P.Sp;
  let s = rs % P.Sp;
  let src = ((b * P.NH + h) * P.Sp + s) * P.dv;
  var sum = 0.0;
  for (var d = lid; d < P.dv; d += ${POST_WG}u) { sum += hin[src + d]; }
  let mean = reduce(lid, sum) / f32(P.dv);
  var sq = 0.0;
  for (var d = lid; d < P.dv; d += ${POST_WG}u) { let c = hin[src + d] - mean; sq += c * c; }
  let rstd = inverseSqrt(reduce(lid, sq) / f32(P.dv) + P.eps);
  let row = b * P.S + P.t0 + s;
  let Dv = P.NH * P.dv;
  for (var d = lid; d < P.dv; d += ${POST_WG}u) {
    let c = h * P.dv + d;
    var y = (hin[src + d] - mean) * rstd * w[c];
    if (P.hasBias != 0u) { y += bias[c]; }
${acts ? `    yv[d] = y * sigm(proj[row * P.P + P.oOff + c]);
  }
  // the head's groups of 32 as int8 records of the row (G = Dv / 32 per row)
  workgroupBarrier();
  for (var gi = lid; gi < P.dv / 32u; gi += ${POST_WG}u) {
    var v: array<f32, 32>;
    for (var j = 0u; j < 32u; j++) { v[j] = yv[gi * 32u + j]; }
    storeActs(row * (Dv / 32u) + h * (P.dv / 32u) + gi, v, 0.0);
  }
}` : `    out[row * Dv + c] = y * sigm(proj[row * P.P + P.oOff + c]);
  }
}`}`,
    ["uniform", "read", "read", "read", "read", "rw"]
  );
  const Dqk = o.NH * o.dqk;
  const Dv = o.NH * o.dv;
  batch.dispatch(
    p,
    [h, proj, w2, b ?? w2, acts ? acts.t : out2],
    postParams.pack({
      B: o.B,
      S: o.S,
      Sp: o.Sp,
      t0: o.t0,
      NH: o.NH,
      dv: o.dv,
      P: o.stride ?? 2 * Dqk + 2 * Dv,
      oOff: o.oOff ?? 2 * Dqk + Dv,
      hasBias: b ? 1 : 0,
      eps: o.eps
    }),
    grid(o.B * o.Sp * o.NH, ctx2.limits.maxComputeWorkgroupsPerDimension),
    acts ? `cell post (${acts.format} activations)` : "cell post"
  );
}
var swigluParams = defineParams({ total: "u32", F: "u32" });
function encodeSwiglu(ctx2, batch, u, g, T2, F) {
  const p = ctx2.pipeline(
    "hf.swiglu",
    () => `${swigluParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read_write> g: array<f32>;
@compute @workgroup_size(${WG6})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG6}u + lid;
  if (idx >= P.total) { return; }
  let r = idx / P.F;
  let c = idx % P.F;
  let z = u[r * 2u * P.F + c];
  let e = exp(-abs(z));
  let sg = select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
  g[idx] = z * sg * u[r * 2u * P.F + P.F + c];
}`,
    ["uniform", "read", "rw"]
  );
  const total = T2 * F;
  batch.dispatch(
    p,
    [u, g],
    swigluParams.pack({ total, F }),
    grid(Math.ceil(total / WG6), ctx2.limits.maxComputeWorkgroupsPerDimension),
    "swiglu"
  );
}

// packages/hf-model/src/gpu/qmatmul.ts
function uploadQuant(ctx2, m) {
  const words = (u323) => {
    const t = ctx2.empty([Math.max(1, u323.length)], "f32");
    ctx2.device.queue.writeBuffer(t.buffer, 0, u323.buffer, u323.byteOffset, u323.byteLength);
    return t;
  };
  const even = m.scales.length % 2 === 0 && m.scales.byteOffset % 4 === 0;
  const s16 = even ? m.scales : new Uint16Array(m.scales.length + m.scales.length % 2);
  if (!even) s16.set(m.scales);
  const sc2 = new Uint32Array(s16.buffer, s16.byteOffset, s16.length / 2);
  return { format: m.format, rows: m.rows, cols: m.cols, data: words(m.data), scales: words(sc2) };
}
var qmmParams = defineParams({
  M: "u32",
  N: "u32",
  K: "u32",
  G: "u32",
  hasBias: "u32",
  accumulate: "u32",
  softcap: "f32",
  nOff: "u32",
  ldy: "u32"
});
var QMM_ROWS = 4;
var TEAMS = 4;
var TEAM = 32;
var QMM_TILED_MIN_ROWS = 32;
function quantValueWgsl(format2, w2, j) {
  return format2 === "q4" ? `f32((${w2} >> (4u * (${j}))) & 15u) - 8.0` : `f32((bitcast<i32>(${w2}) << (24u - 8u * (${j}))) >> 24u)`;
}
function dequantWgsl(format2) {
  const common = SCALE_WGSL;
  if (format2 === "q4") {
    return `${common}
// values 0..3 and 4..7 of a word: nibbles stored as q + 8
fn lo4(w: u32) -> vec4<f32> { return vec4<f32>((vec4<u32>(w) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u)) - 8.0; }
fn hi4(w: u32) -> vec4<f32> { return vec4<f32>((vec4<u32>(w) >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u)) - 8.0; }`;
  }
  return `${common}
// the 4 int8 values of a word (two's complement bytes, low byte first)
fn b4(w: u32) -> vec4<f32> { return vec4<f32>((vec4<i32>(bitcast<i32>(w)) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u)); }`;
}
var BINDINGS2 = (xType) => `${qmmParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<${xType}>;
@group(0) @binding(2) var<storage, read> wq: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> scales: array<u32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
fn epilogue(m: u32, n: u32, acc: f32) {
  var v = acc;
  if (P.hasBias != 0u) { v += bias[P.nOff + n]; }
  if (P.softcap > 0.0) { v = P.softcap * tanh(clamp(v / P.softcap, -20.0, 20.0)); }
  let o = m * P.ldy + P.nOff + n;
  if (P.accumulate != 0u) { v += y[o]; }
  y[o] = v;
}`;
function groupDotWgsl(format2, aligned2) {
  const wpg = WORDS_PER_GROUP[format2];
  const xv = aligned2 ? (k) => `x[(m * P.K + ${k}) / 4u]` : (k) => `xs4(m, ${k})`;
  const maskedX = aligned2 ? "" : `
fn xs4(m: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) { if (k + j < P.K) { v[j] = x[m * P.K + k + j]; } }
  return v;
}`;
  const words = Array.from(
    { length: wpg / 4 },
    (_, v) => `  let w${v} = wq[(n * P.G + g) * ${wpg / 4}u + ${v}u];`
  ).join("\n");
  let body;
  if (format2 === "q4") {
    body = `${words}
  var s = 0.0;
  for (var j = 0u; j < 4u; j++) {
    let k = k0 + 8u * j;
    s += dot(lo4(w0[j]), ${xv("k")}) + dot(hi4(w0[j]), ${xv("k + 4u")});
  }`;
  } else {
    body = `${words}
  var s = 0.0;
  for (var j = 0u; j < 4u; j++) {
    s += dot(b4(w0[j]), ${xv("k0 + 4u * j")}) + dot(b4(w1[j]), ${xv("k0 + 16u + 4u * j")});
  }`;
  }
  return `${maskedX}
fn groupDot(n: u32, g: u32, m: u32) -> f32 {
  let k0 = g * 32u;
${body}
  return s * scale(n * P.G + g);
}`;
}
function gemvWgsl2(format2, aligned2) {
  return `${BINDINGS2(aligned2 ? "vec4<f32>" : "f32")}
${dequantWgsl(format2)}
${groupDotWgsl(format2, aligned2)}
var<workgroup> red: array<array<f32, ${QMM_ROWS}>, ${TEAMS * TEAM}>;
@compute @workgroup_size(${TEAMS * TEAM})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let team = lid / ${TEAM}u;
  let lane = lid % ${TEAM}u;
  let n = (wid.x + wid.y * nwg.x) * ${TEAMS}u + team;
  let m0 = wid.z * ${QMM_ROWS}u;
  let rows = min(${QMM_ROWS}u, P.M - m0);
  var acc: array<f32, ${QMM_ROWS}>;
  for (var r = 0u; r < ${QMM_ROWS}u; r++) { acc[r] = 0.0; }
  if (n < P.N) {
    for (var g = lane; g < P.G; g += ${TEAM}u) {
      for (var r = 0u; r < rows; r++) { acc[r] += groupDot(n, g, m0 + r); }
    }
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var st = ${TEAM / 2}u; st > 0u; st >>= 1u) {
    if (lane < st) {
      for (var r = 0u; r < ${QMM_ROWS}u; r++) { red[lid][r] += red[lid + st][r]; }
    }
    workgroupBarrier();
  }
  if (n < P.N && lane < rows) { epilogue(m0 + lane, n, red[team * ${TEAM}u][lane]); }
}`;
}
function gemvSubgroupWgsl(format2, aligned2) {
  return `enable subgroups;
diagnostic(off, subgroup_uniformity);
${BINDINGS2(aligned2 ? "vec4<f32>" : "f32")}
${dequantWgsl(format2)}
${groupDotWgsl(format2, aligned2)}
var<workgroup> slots: atomic<u32>;
@compute @workgroup_size(${TEAMS * TEAM})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) sl: u32, @builtin(subgroup_size) ss: u32) {
  var slot = 0u;
  if (sl == 0u) { slot = atomicAdd(&slots, 1u); }
  slot = subgroupBroadcastFirst(slot);
  let nsg = (${TEAMS * TEAM}u + ss - 1u) / ss;
  let base = (wid.x + wid.y * nwg.x) * ${TEAMS}u;
  let m0 = wid.z * ${QMM_ROWS}u;
  let rows = min(${QMM_ROWS}u, P.M - m0);
  for (var i = slot; i < ${TEAMS}u; i += nsg) {
    let n = base + i;
    if (n >= P.N) { break; }
    var acc: array<f32, ${QMM_ROWS}>;
    for (var r = 0u; r < ${QMM_ROWS}u; r++) { acc[r] = 0.0; }
    for (var g = sl; g < P.G; g += ss) {
      for (var r = 0u; r < rows; r++) { acc[r] += groupDot(n, g, m0 + r); }
    }
    for (var r = 0u; r < ${QMM_ROWS}u; r++) {
      let t = subgroupAdd(acc[r]);
      if (sl == 0u && r < rows) { epilogue(m0 + r, n, t); }
    }
  }
}`;
}
function tiledWgsl(format2) {
  const wpg = WORDS_PER_GROUP[format2];
  const unpack = format2 === "q4" ? `let wv = wq[(gn * P.G + g) * 1u][part];
        let a = lo4(wv); let b = hi4(wv);` : `let w2 = wq[(gn * P.G + g) * 2u + part / 2u];
        let a = b4(w2[(part % 2u) * 2u]); let b = b4(w2[(part % 2u) * 2u + 1u]);`;
  return `${BINDINGS2("f32")}
${dequantWgsl(format2)}
var<workgroup> xs: array<f32, 2048>; // [32 k][64 m]
var<workgroup> ws: array<f32, 2048>; // [32 k][64 n]
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) l3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * 64u;
  let m0 = wid.y * 64u;
  let tm = l3.y * 4u;
  let tn = l3.x * 4u;
  var acc: array<f32, 16>;
  for (var e = 0u; e < 16u; e++) { acc[e] = 0.0; }
  let r = lid / 4u;
  let part = lid % 4u;
  for (var g = 0u; g < P.G; g++) {
    let k0 = g * 32u;
    for (var e = lid; e < 2048u; e += 256u) {
      let kk = e % 32u;
      let mm = e / 32u;
      var xv = 0.0;
      if (m0 + mm < P.M && k0 + kk < P.K) { xv = x[(m0 + mm) * P.K + k0 + kk]; }
      xs[kk * 64u + mm] = xv;
    }
    let gn = n0 + r;
    if (gn < P.N) {
      let s = scale(gn * P.G + g);
      {
        ${unpack}
        for (var j = 0u; j < 4u; j++) {
          ws[(part * 8u + j) * 64u + r] = a[j] * s;
          ws[(part * 8u + 4u + j) * 64u + r] = b[j] * s;
        }
      }
    } else {
      for (var j = 0u; j < 8u; j++) { ws[(part * 8u + j) * 64u + r] = 0.0; }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 32u; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = xs[kk * 64u + tm + i];
        b[i] = ws[kk * 64u + tn + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] += a[i] * b[j]; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let m = m0 + tm + i;
      let n = n0 + tn + j;
      if (m < P.M && n < P.N) { epilogue(m, n, acc[i * 4u + j]); }
    }
  }
}
// ${wpg} words per group`;
}
function encodeQMatmul(ctx2, batch, x, w2, b, y, o) {
  if (o.subgroups && !ctx2.features.subgroups) {
    throw new ModelArgumentError("subgroups", "needs an adapter with the subgroups feature");
  }
  if (o.N !== w2.rows || o.K !== w2.cols) {
    throw new ModelArgumentError("w", `a quantised [${o.N}, ${o.K}] matrix, got [${w2.rows}, ${w2.cols}]`);
  }
  const tiled = o.tiled ?? o.M >= QMM_TILED_MIN_ROWS;
  const params5 = qmmParams.pack({
    M: o.M,
    N: o.N,
    K: o.K,
    G: groupsPerRow(o.K),
    hasBias: b ? 1 : 0,
    accumulate: o.accumulate ? 1 : 0,
    softcap: o.softcap ?? 0,
    nOff: o.nOff ?? 0,
    ldy: o.ldy ?? o.N
  });
  const bufs = [x, w2.data, w2.scales, b ?? x, y];
  const layout = ["uniform", "read", "read", "read", "read", "rw"];
  const maxWg = ctx2.limits.maxComputeWorkgroupsPerDimension;
  if (tiled) {
    const p2 = ctx2.pipeline(`hf.qmatmul.tiled:${w2.format}`, () => tiledWgsl(w2.format), layout);
    batch.dispatch(
      p2,
      bufs,
      params5,
      [Math.ceil(o.N / 64), Math.ceil(o.M / 64)],
      `qmatmul ${w2.format} (tiled)`
    );
    return;
  }
  if (o.acts) {
    const { tiled: _, subgroups: __, acts, ...gemv } = o;
    encodeQGemv(ctx2, batch, x, w2, b, y, { ...gemv, acts });
    return;
  }
  const aligned2 = o.K % 32 === 0;
  const sg = o.subgroups ?? ctx2.features.subgroups;
  const p = ctx2.pipeline(
    `hf.qmatmul.gemv:${w2.format}:${aligned2 ? "a" : "u"}:${sg ? "sg" : "wg"}`,
    () => sg ? gemvSubgroupWgsl(w2.format, aligned2) : gemvWgsl2(w2.format, aligned2),
    layout
  );
  const [gx, gy] = splitWorkgroups2(Math.ceil(o.N / TEAMS), maxWg);
  batch.dispatch(p, bufs, params5, [gx, gy, Math.ceil(o.M / QMM_ROWS)], `qmatmul ${w2.format} (gemv)`);
}
var gatherParams = defineParams({ total: "u32", H: "u32", G: "u32", row0: "u32", rows: "u32" });
var GATHER_WG = 256;
function encodeQEmbedding(ctx2, batch, ids, table2, out2, T2, H, row0 = 0) {
  const wpg = WORDS_PER_GROUP[table2.format];
  const value = quantValueWgsl(table2.format, "w", table2.format === "q4" ? "j % 8u" : "j % 4u");
  const wordOf = table2.format === "q4" ? "j / 8u" : "j / 4u";
  const p = ctx2.pipeline(
    `hf.qembed:${table2.format}`,
    () => `${gatherParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> wq: array<u32>;
@group(0) @binding(3) var<storage, read> scales: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
${SCALE_WGSL}
@compute @workgroup_size(${GATHER_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${GATHER_WG}u + lid;
  if (idx >= P.total) { return; }
  let r = idx / P.H;
  let h = idx % P.H;
  let id = ids[r];
  if (id < P.row0 || id >= P.row0 + P.rows) { return; }
  let gi = (id - P.row0) * P.G + h / 32u;
  let j = h % 32u;
  let w = wq[gi * ${wpg}u + ${wordOf}];
  out[idx] = (${value}) * scale(gi);
}`,
    ["uniform", "read", "read", "read", "rw"]
  );
  const total = T2 * H;
  batch.dispatch(
    p,
    [ids, table2.data, table2.scales, out2],
    gatherParams.pack({ total, H, G: groupsPerRow(H), row0, rows: table2.rows }),
    splitWorkgroups2(Math.ceil(total / GATHER_WG), ctx2.limits.maxComputeWorkgroupsPerDimension),
    `embedding ${table2.format}`
  );
}
var dequantParams = defineParams({ words: "u32", K: "u32", wpr: "u32" });
function encodeDequantize(ctx2, batch, w2, out2) {
  if (out2.numel < w2.rows * w2.cols) {
    throw new ModelArgumentError("out", `at least ${w2.rows * w2.cols} elements, got ${out2.numel}`);
  }
  const per = w2.format === "q4" ? 8 : 4;
  const value = quantValueWgsl(w2.format, "wv", "j");
  const p = ctx2.pipeline(
    `hf.qdequant:${w2.format}:${out2.dtype}`,
    () => `${out2.dtype === "f16" ? "enable f16;" : ""}
${dequantParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> wq: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<${out2.dtype}>;
${SCALE_WGSL}
@compute @workgroup_size(${GATHER_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${GATHER_WG}u + lid;
  if (idx >= P.words) { return; }
  let row = idx / P.wpr;
  let c = idx % P.wpr;                 // word of the row
  let gi = row * (P.wpr / ${WORDS_PER_GROUP[w2.format]}u) + c / ${WORDS_PER_GROUP[w2.format]}u;
  let s = scale(gi);
  let wv = wq[idx];
  let k0 = c * ${per}u;
  for (var j = 0u; j < ${per}u; j++) {
    if (k0 + j < P.K) { out[row * P.K + k0 + j] = ${out2.dtype}((${value}) * s); }
  }
}`,
    ["uniform", "read", "read", "rw"]
  );
  const wpr = wordsPerRow(w2.format, w2.cols);
  const words = w2.rows * wpr;
  batch.dispatch(
    p,
    [w2.data, w2.scales, out2],
    dequantParams.pack({ words, K: w2.cols, wpr }),
    splitWorkgroups2(Math.ceil(words / GATHER_WG), ctx2.limits.maxComputeWorkgroupsPerDimension),
    `dequantize ${w2.format}`
  );
}

// packages/hf-model/src/gpu/decode.ts
var RecordingBatch = class extends DispatchBatch {
  constructor(c) {
    super(c);
    this.c = c;
  }
  c;
  recorded = [];
  scratchTensors = [];
  get size() {
    return this.recorded.length;
  }
  dispatch(pipeline, buffers, params5, workgroups, label = "kernel") {
    const [x, y = 1, z = 1] = workgroups;
    this.recorded.push({ pipeline, buffers: [...buffers], params: params5, workgroups: [x, y, z], label });
    return this;
  }
  scratch(shape, dtype2 = "f32") {
    const t = this.c.empty(shape, dtype2);
    this.scratchTensors.push(t);
    return t;
  }
  submit() {
    throw new Error("RecordingBatch: recorded dispatches are replayed by the decoder");
  }
};
var MAP_READ = 1;
var COPY_DST = 8;
var UNIFORM = 64;
function prepare2(ctx2, rec, uniforms, offset, cached) {
  const align = ctx2.device.limits.minUniformBufferOffsetAlignment;
  const slots = rec.map((d) => d.params ? Math.ceil(d.params.byteLength / align) * align : 0);
  const bytes = new Uint8Array(slots.reduce((a, b) => a + b, 0));
  let off = 0;
  const ready = rec.map((d, x) => {
    const entries = [];
    if (d.params) {
      bytes.set(new Uint8Array(d.params), off);
      entries.push({
        binding: 0,
        resource: { buffer: uniforms, offset: offset + off, size: d.params.byteLength }
      });
    }
    off += slots[x];
    d.buffers.forEach((b, j) => {
      entries.push({
        binding: j + 1,
        resource: b instanceof GpuTensor ? { buffer: b.buffer, offset: b.byteOffset, size: b.byteLength } : { buffer: b }
      });
    });
    const group = cached ? ctx2.bindGroup(d.pipeline, entries) : ctx2.device.createBindGroup({ layout: d.pipeline.getBindGroupLayout(0), entries });
    return { pipeline: d.pipeline, group, workgroups: d.workgroups, label: d.label };
  });
  return { ready, bytes };
}
var STEP_SCRATCH_PER_HEAD2 = 4;
var GpuDecoder = class {
  constructor(ctx2, W, B, states, opts, quantDecode = "f32", denseDecode2 = "gemv") {
    this.ctx = ctx2;
    this.W = W;
    this.B = B;
    this.opts = opts;
    const { cfg } = W;
    const { H, NH, Dqk, Dv, dqk, dv, F, V } = cfg.dims;
    const BH = B * NH;
    const buf = (shape, dtype2 = "f32") => {
      const t = ctx2.empty(shape, dtype2);
      this.owned.push(t);
      return t;
    };
    const words = Math.ceil(V / 32);
    try {
      this.ids = buf([B]);
      this.seen = buf([B, words]);
      const bits = seenMaskBits(V, opts.seen ?? Array.from({ length: B }, () => []));
      ctx2.device.queue.writeBuffer(this.seen.buffer, this.seen.byteOffset, bits);
      const x = buf([B, H]);
      const a = buf([B, H]);
      const P = 2 * Dqk + 2 * Dv;
      const PS = P + 2 * NH;
      const h = buf([BH, 1, dv]);
      const gated = buf([B, Dv]);
      const u = buf([B, 2 * F]);
      this.logits = buf([B, V]);
      const scratch = buf([BH * STEP_SCRATCH_PER_HEAD2]);
      this.sets.push(states, { blocks: [] });
      for (const _ of states.blocks) {
        this.sets[1].blocks.push({
          c: ctx2.empty([B, NH, dqk, dv]),
          n: ctx2.empty([B, NH, dqk]),
          m: ctx2.empty([B, NH, 1])
        });
      }
      const quantDown = W.blocks.some((b) => b.down.w.parts.some((p) => p.q));
      const anyQuant = quantDown || W.lmHead.parts.some((p) => p.q);
      const acts = quantDecode === "int8" && anyQuant && B < QMM_TILED_MIN_ROWS ? buf([qgemvActsElements(B, Math.max(H, Dv, F))]) : null;
      const mu = denseDecode2 === "matrix-units" && B > 1;
      const linears = [...W.blocks.flatMap((b) => [b.proj, b.outProj, b.upGateZ, b.down]), { w: W.lmHead }];
      const x16 = mu && ctx2.features.shaderF16 && linears.some((l) => l.w.parts.some((p) => !p.q)) ? buf([B * Math.max(H, Dv, F)], "f16") : null;
      const g = (quantDown ? !acts : B > 1) ? buf([B, F]) : null;
      const directProj = (l) => l.w.parts.every((p) => p.q ? !!acts : !mu);
      const widths = [Dqk, Dqk, Dv, Dv, NH, NH];
      const starts = [];
      let end = 0;
      for (const w2 of widths) {
        starts.push(end);
        end = Math.ceil((end + B * w2) / 64) * 64;
      }
      const projBlocks = { widths, starts };
      const projB = W.blocks.some((b) => directProj(b.proj)) ? buf([end]) : null;
      const direct = projB && {
        q: projB.subview(starts[0], [BH, 1, dqk]),
        k: projB.subview(starts[1], [BH, 1, dqk]),
        v: projB.subview(starts[2], [BH, 1, dv]),
        i: projB.subview(starts[4], [BH, 1]),
        f: projB.subview(starts[5], [BH, 1])
      };
      const split = W.blocks.some((b) => !directProj(b.proj)) ? {
        proj: buf([B, PS]),
        q: buf([BH, 1, dqk]),
        k: buf([BH, 1, dqk]),
        v: buf([BH, 1, dv]),
        i: buf([BH, 1]),
        f: buf([BH, 1])
      } : null;
      const mm = (xIn, l, y, o, rec) => {
        const quant = l.w.parts.some((p) => p.q);
        if (quant && o.swiglu && !acts) encodeSwiglu(ctx2, rec, xIn, g, B, F);
        for (const [i, p] of l.w.parts.entries()) {
          const po = { M: B, N: p.rows, K: l.in, nOff: p.row0, ldy: l.out };
          if (p.q && acts) {
            const inlineActs = qgemvInlineFits(ctx2, B, l.in);
            const actsReady = !inlineActs && (!!o.actsReady || i > 0);
            encodeQGemv(ctx2, rec, xIn, p.q, l.b, y, { ...po, ...o, acts, actsReady, inlineActs });
          } else if (p.q) {
            const { swiglu: _, norm: __, actsReady: ___, softcapFrom: _c, outBlocks: _b, ...qo } = o;
            encodeQMatmul(ctx2, rec, o.swiglu ? g : xIn, p.q, l.b, y, { ...po, ...qo });
          } else if (mu) {
            encodeMatmul(ctx2, rec, xIn, p.w, l.b, y, {
              ...po,
              accumulate: o.accumulate,
              softcap: o.softcap,
              tiled: true,
              x16
            });
          } else encodeGemv(ctx2, rec, xIn, p.w, l.b, y, { ...po, ...o });
        }
      };
      const foldable = (n, l) => !n.b && l.w.parts.every((p) => p.q ? !!acts : !mu);
      const normThen = (n, l, y, o, rec) => {
        if (foldable(n, l)) mm(x, l, y, { ...o, norm: { w: n.w, eps: cfg.normEps } }, rec);
        else {
          encodeRmsNorm(ctx2, rec, x, n.w, n.b, a, { rows: B, H, eps: cfg.normEps });
          mm(a, l, y, o, rec);
        }
      };
      const record = (par) => {
        const rec = new RecordingBatch(ctx2);
        const src = this.sets[par];
        const dst = this.sets[1 - par];
        for (const p of W.embedding.parts) {
          if (p.q) encodeQEmbedding(ctx2, rec, this.ids, p.q, x, B, H, p.row0);
          else encodeEmbedding(ctx2, rec, this.ids, p.w, x, B, H, p.row0, p.rows);
        }
        const dimsO = { B, S: 1, NH, dqk, dv, cap: cfg.gateSoftCap, stride: PS, gStride: PS, gOff: P };
        let chunk = 1;
        let next = 1;
        for (const [bi, blk] of W.blocks.entries()) {
          if (bi === next && par === 0) {
            this.cuts.push(rec.recorded.length);
            chunk = Math.min(8, 2 * chunk);
            next += chunk;
          }
          const isDirect = directProj(blk.proj);
          let inputs;
          let projOut;
          if (isDirect) {
            const o = { softcap: cfg.gateSoftCap, softcapFrom: P, outBlocks: projBlocks };
            projOut = projB;
            normThen(blk.normMlstm, blk.proj, projOut, o, rec);
            inputs = direct;
          } else {
            const { proj, ...rest } = split;
            projOut = proj;
            inputs = rest;
            normThen(blk.normMlstm, blk.proj, proj, {}, rec);
            encodeCellPrep(ctx2, rec, proj, proj, inputs, { ...dimsO, Sp: 1, t0: 0 });
          }
          encodeRecurrentStep(ctx2, rec, {
            dims: { BH, S: 1, DHQK: dqk, DHHV: dv },
            t: 0,
            dtype: "f32",
            eps: cfg.eps,
            ...inputs,
            state: src.blocks[bi],
            out: { h, ...dst.blocks[bi] },
            scratch
          });
          const q0 = blk.outProj.w.parts[0].q;
          const postActs = acts && !qgemvInlineFits(ctx2, B, Dv) && q0 && blk.outProj.w.parts.every((p) => p.q) && dv % 32 === 0 && dv <= CELL_POST_ACTS_MAX_DV ? { t: acts, format: q0.format } : null;
          encodeCellPost(ctx2, rec, h, projOut, blk.multiheadNorm.w, blk.multiheadNorm.b, gated, {
            ...dimsO,
            ...isDirect ? { stride: Dv, oOff: starts[3] } : {},
            Sp: 1,
            t0: 0,
            eps: cfg.normEps,
            acts: postActs
          });
          mm(gated, blk.outProj, x, { accumulate: true, actsReady: !!postActs }, rec);
          normThen(blk.normFfn, blk.upGateZ, u, {}, rec);
          if (g) {
            encodeSwiglu(ctx2, rec, u, g, B, F);
            mm(g, blk.down, x, { accumulate: true }, rec);
          } else mm(u, blk.down, x, { accumulate: true, swiglu: true }, rec);
        }
        const head = { w: W.lmHead, b: null, out: V, in: H };
        normThen({ w: W.outNorm, b: null }, head, this.logits, { softcap: cfg.outputLogitSoftCap }, rec);
        return rec.recorded;
      };
      let samplerRec = [];
      if (opts.sampling === "gpu") {
        const rec = this.recordSampler(new Float32Array(B));
        this.owned.push(...rec.scratchTensors);
        this.draws = rec.draws;
        samplerRec = rec.recorded;
        this.samplerDispatches = samplerRec.length;
      }
      const recs = [record(0).concat(samplerRec), record(1).concat(samplerRec)];
      const align = ctx2.device.limits.minUniformBufferOffsetAlignment;
      const sizes = recs.map(
        (r2) => r2.reduce((s, d) => s + (d.params ? Math.ceil(d.params.byteLength / align) * align : 0), 0)
      );
      this.uniforms = ctx2.pool.acquire(
        Math.max(16, sizes[0] + sizes[1]),
        UNIFORM | COPY_DST,
        "decode-params"
      );
      let off = 0;
      for (const r2 of recs) {
        const { ready, bytes } = prepare2(ctx2, r2, this.uniforms, off, false);
        ctx2.device.queue.writeBuffer(this.uniforms, off, bytes);
        off += bytes.byteLength;
        this.programs.push(ready);
      }
      this.readBytes = opts.sampling === "gpu" ? 4 * B : this.logits.byteLength;
      for (let s = 0; s < 2; s++)
        this.staging.push(ctx2.pool.acquire(this.readBytes, MAP_READ | COPY_DST, "decode-read"));
    } catch (e) {
      for (const b of this.sets[1]?.blocks ?? []) for (const t of [b.c, b.n, b.m]) t.release();
      this.releaseAll();
      throw e;
    }
  }
  ctx;
  W;
  B;
  opts;
  owned = [];
  ids;
  logits;
  seen;
  /** two state sets: sets[0] = the caller's states (after 0 steps), sets[1] allocated here */
  sets = [];
  programs = [];
  /** dispatch indices at which a step's next command buffer starts (see `chunks`) */
  cuts = [];
  uniforms;
  /** the recorded sampler's draw buffer (sampling with temperature > 0) and its dispatch count */
  draws = null;
  samplerDispatches = 0;
  staging = [];
  pending = [];
  readBytes;
  steps = 0;
  closed = false;
  /** bytes mapped for reading so far (ids only with GPU sampling) */
  bytesRead = 0;
  /** Records the GPU sampler (arguments checked: typed errors before any GPU work). */
  recordSampler(uniforms) {
    const rec = new RecordingBatch(this.ctx);
    const s = this.opts.sample ?? { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };
    const { V } = this.W.cfg.dims;
    try {
      const { draws } = encodeSampleTokens(this.ctx, rec, {
        logits: this.logits,
        B: this.B,
        V,
        out: this.ids,
        seen: this.seen,
        params: { ...s, uniforms }
      });
      return Object.assign(rec, { draws });
    } catch (e) {
      for (const t of rec.scratchTensors) t.release();
      throw e;
    }
  }
  /** The labels of a step's recorded dispatches, in order (without the sampler's): what a token costs. */
  get dispatchLabels() {
    const p = this.programs[0];
    return p.slice(0, p.length - this.samplerDispatches).map((d) => d.label);
  }
  /** Where the next ids are chosen. */
  get sampling() {
    return this.opts.sampling;
  }
  /** Steps submitted so far. */
  get submitted() {
    return this.steps;
  }
  /** Writes the input ids of the next step (the first step, or every step with CPU sampling). */
  writeIds(ids) {
    this.ctx.device.queue.writeBuffer(this.ids.buffer, this.ids.byteOffset, Uint32Array.from(ids));
  }
  /**
   * Encodes and submits one step: the replayed block program, the sampler (GPU sampling, with
   * this step's `uniforms`), and the copy of the ids (or logits) for {@link read}.
   */
  submit(uniforms = new Float32Array(this.B)) {
    const { ctx: ctx2 } = this;
    if (this.closed) throw new Error("GpuDecoder: finished");
    if (this.pending.length >= this.staging.length)
      throw new Error("GpuDecoder: read() the oldest step first");
    ctx2.throwIfLost();
    const all = this.programs[this.steps % 2];
    if (this.draws) writeSampleDraws(ctx2, this.draws, uniforms);
    const bounds = this.opts.chunks ? [0, ...this.cuts, all.length] : [0, all.length];
    let enc = ctx2.device.createCommandEncoder();
    for (let c = 0; c + 1 < bounds.length; c++) {
      if (c > 0) enc = ctx2.device.createCommandEncoder();
      const part = all.slice(bounds[c], bounds[c + 1]);
      if (ctx2.timingPerDispatch) {
        for (const d of part) {
          const pass = enc.beginComputePass({ timestampWrites: ctx2.nextTimestampWrites(d.label) });
          pass.setPipeline(d.pipeline);
          pass.setBindGroup(0, d.group);
          pass.dispatchWorkgroups(...d.workgroups);
          pass.end();
        }
      } else {
        const tw = ctx2.nextTimestampWrites(bounds.length > 2 ? "decode step (part)" : "decode step");
        const pass = enc.beginComputePass(tw ? { timestampWrites: tw } : {});
        let last = null;
        for (let i = 0; i < part.length; i++) {
          const d = part[i];
          if (d.pipeline !== last) {
            last = d.pipeline;
            pass.setPipeline(last);
          }
          pass.setBindGroup(0, d.group);
          const w2 = d.workgroups;
          pass.dispatchWorkgroups(w2[0], w2[1], w2[2]);
        }
        pass.end();
      }
      if (c + 2 < bounds.length) ctx2.device.queue.submit([enc.finish()]);
    }
    const staging = this.staging[this.steps % 2];
    const src = this.opts.sampling === "gpu" ? this.ids : this.logits;
    enc.copyBufferToBuffer(src.buffer, src.byteOffset, staging, 0, this.readBytes);
    ctx2.device.queue.submit([enc.finish()]);
    const mapped = staging.mapAsync(1, 0, this.readBytes);
    mapped.catch(() => {
    });
    this.pending.push({ staging, mapped });
    this.steps++;
  }
  /**
   * Waits for the oldest submitted step and returns what it read back: the B chosen ids (GPU
   * sampling) or the logits `[B, V]` (CPU sampling).
   */
  async read() {
    const p = this.pending.shift();
    if (!p) throw new Error("GpuDecoder: no step submitted");
    const { ctx: ctx2 } = this;
    ctx2.throwIfErrors();
    await p.mapped;
    const copy = p.staging.getMappedRange(0, this.readBytes).slice(0);
    p.staging.unmap();
    this.bytesRead += this.readBytes;
    ctx2.throwIfErrors();
    return this.opts.sampling === "gpu" ? new Uint32Array(copy) : new Float32Array(copy);
  }
  /**
   * Ends the session: returns the states after the first `kept` steps (the caller's set or the
   * other one; steps submitted after those are discarded) and frees everything else.
   */
  finish(kept) {
    if (kept < 0 || kept > this.steps) throw new Error(`GpuDecoder.finish: ${kept} of ${this.steps} steps`);
    const keep = this.sets[kept % 2];
    const drop = this.sets[1 - kept % 2];
    for (const b of drop.blocks) for (const t of [b.c, b.n, b.m]) t.release();
    this.releaseAll();
    return keep;
  }
  releaseAll() {
    this.closed = true;
    for (const p of this.pending) {
      p.staging.unmap();
    }
    this.pending.length = 0;
    for (const t of this.owned) t.release();
    this.owned.length = 0;
    for (const s of this.staging) this.ctx.pool.release(s);
    this.staging.length = 0;
    if (this.uniforms) this.ctx.pool.release(this.uniforms);
  }
};

// packages/hf-model/src/gpu/quantize.ts
var quantizeParams = defineParams({ cols: "u32", G: "u32", groups: "u32", group0: "u32" });
var WG7 = 64;
function quantizeWgsl(format2) {
  const q4 = format2 === "q4";
  const wpg = WORDS_PER_GROUP[format2];
  const per = q4 ? 8 : 4;
  const bits = q4 ? 4 : 8;
  return `${quantizeParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> wq: array<u32>;
@group(0) @binding(3) var<storage, read_write> scales: array<u32>;

// the value of f16 bits (no sign) as f32: exact
fn f16val(b: u32) -> f32 {
  let e = b >> 10u;
  let m = b & 1023u;
  if (e == 0u) { return f32(m) * 5.9604644775390625e-8; }
  return f32(1024u + m) * exp2(f32(i32(e) - 25));
}
// f16 bits of a / D (a \u2265 0, D = ${q4 ? 8 : 127}), round to nearest even, clamped to 65504
fn scaleBits(a: f32) -> u32 {
  let D = ${q4 ? "8.0" : "127.0"};
  if (a > D * 65504.0) { return 0x7bffu; }
  let t = a / D;
  // candidate: the f16 bits of t truncated, one step down
  let fb = bitcast<u32>(t);
  let e = i32((fb >> 23u) & 255u) - 127 + 15;
  var c = 0u;
  if (e >= 1) {
    c = (u32(e) << 10u) | ((fb >> 13u) & 1023u);
  } else if (e > -11) {
    c = ((fb & 0x7fffffu) | 0x800000u) >> u32(14 - e);
  }
  if (c > 0u) { c = c - 1u; }
  for (var it = 0u; it < 4u; it++) {
    if (c >= 0x7bffu) { break; }
    let mid = 0.5 * (f16val(c) + f16val(c + 1u));
    let lim = D * mid;
    if (a > lim || (a == lim && (c & 1u) == 1u)) { c = c + 1u; } else { break; }
  }
  return c;
}
// one group: its f16 scale bits, its words written
fn group(gi: u32) -> u32 {
  let row = gi / P.G;
  let g = gi % P.G;
  let base = (row - P.group0 / P.G) * P.cols + g * 32u; // src holds rows from group0 / G on
  let n = min(32u, P.cols - g * 32u);
  var m = 0.0;
  var am = 0.0;
  for (var j = 0u; j < n; j++) {
    let v = src[base + j];
    if (abs(v) > am) { am = abs(v); m = v; }
  }
  var sb = 0u;
  if (am > 0.0) {
    sb = scaleBits(am);
    ${q4 ? "if (m > 0.0) { sb = sb | 0x8000u; }" : ""}
  }
  let s = f16val(sb & 0x7fffu);
  let neg = (sb & 0x8000u) != 0u;
  let wo = gi * ${wpg}u;
  for (var w = 0u; w < ${wpg}u; w++) {
    var word = 0u;
    for (var j = 0u; j < ${per}u; j++) {
      let k = w * ${per}u + j;
      var q = 0i;
      if (k < n && s > 0.0) {
        let v = src[base + k];
        let a = abs(v);
        var r = min(floor(a / s + 0.5), 200.0);
        if ((r - 0.5) * s > a) { r = r - 1.0; }
        if ((r + 0.5) * s <= a) { r = r + 1.0; }
        q = i32(r);
        if ((v < 0.0) != neg) { q = -q; }
        q = clamp(q, ${q4 ? "-8i, 7i" : "-127i, 127i"});
      }
      word = word | ((bitcast<u32>(q + ${q4 ? 8 : 0}i) & ${q4 ? 15 : 255}u) << (${bits}u * j));
    }
    wq[wo + w] = word;
  }
  return sb;
}
@compute @workgroup_size(${WG7})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WG7}u + lid;
  let g0 = P.group0 + 2u * i;
  if (2u * i >= P.groups) { return; }
  let lo = group(g0);
  var hi = 0u;
  if (2u * i + 1u < P.groups) { hi = group(g0 + 1u); }
  scales[g0 / 2u] = lo | (hi << 16u);
}`;
}
function encodeQuantize(ctx2, batch, src, out2, row0 = 0, rows = Math.floor(src.numel / out2.cols)) {
  const G = groupsPerRow(out2.cols);
  if (src.dtype !== "f32") throw new ModelArgumentError("src", `f32 values, got ${src.dtype}`);
  if (rows < 1 || src.numel < rows * out2.cols || row0 + rows > out2.rows) {
    throw new ModelArgumentError(
      "src",
      `rows [${row0}, ${row0 + rows}) of a [${out2.rows}, ${out2.cols}] matrix, got ${src.numel} values`
    );
  }
  if (row0 * G % 2 !== 0) {
    throw new ModelArgumentError("row0", `row0 \xB7 groups per row even, got ${row0} \xB7 ${G}`);
  }
  const p = ctx2.pipeline(`hf.quantize:${out2.format}`, () => quantizeWgsl(out2.format), [
    "uniform",
    "read",
    "rw",
    "rw"
  ]);
  const groups = rows * G;
  const wgs = Math.ceil(groups / 2 / WG7);
  const max = ctx2.limits.maxComputeWorkgroupsPerDimension;
  const y = Math.ceil(wgs / max);
  batch.dispatch(
    p,
    [src, out2.data, out2.scales],
    quantizeParams.pack({ cols: out2.cols, G, groups, group0: row0 * G }),
    [Math.ceil(wgs / y), y],
    `quantize ${out2.format}`
  );
}

// packages/hf-model/src/gpu/engine.ts
var defaultQuantDecode = (ctx2) => ctx2.features.packedIntegerDot ? "int8" : "f32";
function fuseRows(a, b) {
  const w2 = stackRows(a.w, b.w);
  let bias = null;
  if (a.b || b.b) {
    bias = new Float32Array(a.out + b.out);
    if (a.b) bias.set(a.b, 0);
    if (b.b) bias.set(b.b, a.out);
  }
  return { w: w2, b: bias, out: a.out + b.out, in: a.in };
}
function defaultQuantPrefill(ctx2) {
  return denseMatmulPath(ctx2, { wDtype: "f16", M: 2048, N: 4096, K: 4096 }) === "matrix" ? "dequantize" : "tiles";
}
var QUANTIZE_SCRATCH_ELEMS = 16 * 1024 * 1024;
var STEP_SCRATCH_PER_HEAD3 = 4;
var AUTO_F16_BYTES = 2 * 1024 ** 3;
var GpuEngine = class _GpuEngine {
  constructor(ctx2, cfg, W, quantPrefill, quantDecode, denseDecode2, quantizeScratchElems, prefillChunkSize) {
    this.ctx = ctx2;
    this.cfg = cfg;
    this.quantizeScratchElems = quantizeScratchElems;
    this.prefillChunkSize = prefillChunkSize;
    if (quantDecode === "int8" && !ctx2.features.packedIntegerDot) {
      throw new ModelArgumentError(
        "quantDecode",
        "'int8' needs WGSL's packed 4\xD78-bit integer dot product (packed_4x8_integer_dot_product), which this adapter lacks; use 'f32'"
      );
    }
    this.formats = W.formats;
    this.quantPrefill = quantPrefill;
    this.quantDecode = quantDecode;
    this.denseDecode = denseDecode2;
    const up = (data, shape, dtype2 = "f32") => {
      const t = ctx2.upload(data, shape, dtype2);
      this.owned.push(t);
      return t;
    };
    const limit = ctx2.limits.maxStorageBufferBindingSize;
    const rowParts = (m, name) => {
      const { rows, cols } = m;
      const quant = isQuantFormat(m.format);
      const rowBytes = quant ? 4 * wordsPerRow(m.format, cols) : cols * (m.format === "f16" ? 2 : 4);
      let per = Math.floor(limit / rowBytes);
      if (quant && quantPrefill === "dequantize") {
        per = Math.min(per, Math.floor(limit / (cols * (this.dqDtype === "f16" ? 2 : 4))));
      }
      if (per < 1)
        throw new ModelTooLargeError(`${name} (one row)`, rowBytes, limit, "maxStorageBufferBindingSize");
      const parts = [];
      for (let r0 = 0; r0 < rows; r0 += per) {
        const n = Math.min(per, rows - r0);
        if (quant) {
          let q;
          if (isFilledMatrix(m)) q = this.quantizeFill(m.fill, m.format, r0, n, cols);
          else {
            q = uploadQuant(ctx2, sliceRows(m, r0, r0 + n));
            this.owned.push(q.data, q.scales);
          }
          this.maxQuantElems = Math.max(this.maxQuantElems, n * cols);
          parts.push({ w: null, q, row0: r0, rows: n });
        } else {
          const dtype2 = m.format;
          const w2 = isFilledMatrix(m) ? placeWeight(ctx2, m.fill, [n, cols], dtype2, r0 * cols) : ctx2.upload(m.data.subarray(r0 * cols, (r0 + n) * cols), [n, cols], dtype2);
          this.owned.push(w2);
          parts.push({ w: w2, q: null, row0: r0, rows: n });
        }
      }
      return { parts, rows, cols };
    };
    const lin = (l, name = "linear") => ({
      w: rowParts(l.w, name),
      b: l.b ? up(l.b, [l.out]) : null,
      out: l.out,
      in: l.in
    });
    const norm = (p) => ({
      w: up(p.w, [p.w.length]),
      b: p.b ? up(p.b, [p.b.length]) : null
    });
    const { H } = cfg.dims;
    try {
      this.embedding = rowParts(W.embedding(), "embedding");
      const head = W.head();
      this.lmHead = head.lmHead ? rowParts(head.lmHead, "lm_head") : this.embedding;
      this.outNorm = up(head.outNorm, [H]);
      this.blocks = [];
      for (let i = 0; i < cfg.dims.blocks; i++) {
        const b = W.block(i);
        this.blocks.push({
          normMlstm: norm(b.normMlstm),
          proj: lin(fuseRows(b.qkvo, b.ifGate), `backbone.blocks.${i}.mlstm_layer (q, k, v, o-gate, gates)`),
          multiheadNorm: norm(b.multiheadNorm),
          outProj: lin(b.outProj, `backbone.blocks.${i}.mlstm_layer.out_proj`),
          normFfn: norm(b.normFfn),
          upGateZ: lin(b.upGateZ, `backbone.blocks.${i}.ffn.proj_up_gate_z (gate, up)`),
          down: lin(b.down, `backbone.blocks.${i}.ffn.proj_down`)
        });
      }
    } catch (e) {
      for (const t of this.owned) t.release();
      this.owned.length = 0;
      throw e;
    }
  }
  ctx;
  cfg;
  quantizeScratchElems;
  prefillChunkSize;
  owned = [];
  blocks;
  embedding;
  outNorm;
  lmHead;
  /** the formats the weights were uploaded in */
  formats;
  /** elements of the largest quantised row part (the scratch of the 'dequantize' prefill) */
  maxQuantElems = 0;
  /** how prefills multiply by quantised weights (see {@link QuantPrefill}) */
  quantPrefill;
  /** how decode-sized matmuls multiply by quantised weights (see {@link QuantDecode}) */
  quantDecode;
  /** how the replayed decode of several sequences multiplies by dense weights (see {@link DenseDecode}) */
  denseDecode;
  /** Uploads the weights (validated first by the caller) and returns the engine. */
  static async create(cfg, o) {
    const ctx2 = o.ctx ?? await getDefaultGpuContext();
    let dtype2;
    if (o.dtype === "auto") {
      const big = estimateMemory(cfg, { weightDtype: "f32" }).weightBytes > AUTO_F16_BYTES;
      dtype2 = big && ctx2.features.shaderF16 ? "f16" : "f32";
    } else dtype2 = o.dtype;
    const fit = (f) => f === "f16" && !ctx2.features.shaderF16 ? "f32" : f;
    const r2 = resolveFormats(dtype2, o);
    const formats = {
      linear: fit(r2.linear),
      embedding: fit(r2.embedding),
      lmHead: fit(r2.lmHead)
    };
    if (ctx2.features.shaderF16) await ensureMatrixProbe(ctx2);
    let e;
    try {
      e = new _GpuEngine(
        ctx2,
        cfg,
        o.pieces(formats),
        o.quantPrefill ?? defaultQuantPrefill(ctx2),
        o.quantDecode ?? defaultQuantDecode(ctx2),
        o.denseDecode ?? "gemv",
        o.quantizeScratchElems ?? QUANTIZE_SCRATCH_ELEMS,
        o.prefillChunkSize
      );
      await ctx2.sync();
    } catch (err) {
      e?.dispose();
      throw err;
    }
    return e;
  }
  /** the dtype of the dequantised scratch of the 'dequantize' prefill */
  get dqDtype() {
    return this.ctx.features.shaderF16 ? "f16" : "f32";
  }
  /** The weight dtype a prefill's dense kernel sees for a format (null: the quantised kernel). */
  prefillDtype(f) {
    if (!isQuantFormat(f)) return f;
    return this.quantPrefill === "dequantize" ? this.dqDtype : null;
  }
  /**
   * Rows `[r0, r0 + rows)` of a random matrix, filled in f32 into a scratch buffer and quantised
   * there (./quantize.ts), a bounded number of rows per pass (an even count: whole scale words).
   */
  quantizeFill(fill, format2, r0, rows, cols) {
    const { ctx: ctx2 } = this;
    const data = ctx2.empty([Math.max(1, rows * wordsPerRow(format2, cols))], "f32");
    const scales = ctx2.empty([Math.max(1, Math.ceil(rows * groupsPerRow(cols) / 2))], "f32");
    this.owned.push(data, scales);
    const q = { format: format2, rows, cols, data, scales };
    let step = Math.max(1, Math.floor(this.quantizeScratchElems / cols));
    step = Math.min(rows, step + step % 2);
    const scratch = ctx2.empty([step * cols]);
    try {
      for (let s = 0; s < rows; s += step) {
        const n = Math.min(step, rows - s);
        const src = scratch.subview(0, [n, cols]);
        const batch = ctx2.batch();
        fill.encode(ctx2, batch, src, (r0 + s) * cols);
        encodeQuantize(ctx2, batch, src, q, s, n);
        batch.submit();
      }
    } finally {
      scratch.release();
    }
    return q;
  }
  zeroStates(B) {
    const { NH, dqk, dv, blocks: blocks2 } = this.cfg.dims;
    return {
      blocks: Array.from({ length: blocks2 }, () => ({
        c: this.ctx.zeros([B, NH, dqk, dv]),
        n: this.ctx.zeros([B, NH, dqk]),
        m: this.ctx.zeros([B, NH, 1])
      }))
    };
  }
  /**
   * One forward (see `XlstmForCausalLM.forward`); consumes `states` (released) and returns new ones.
   * With `seqStarts` (N + 1 offsets, B = 1): the `S` tokens are N packed sequences — the dense
   * parts run over all of them at once, the cell through the packed chunkwise kernel (no state
   * crosses a boundary), the states are per sequence `(N, …)`, and `lastOnly` gives the logits of
   * each sequence's last token `(N, V)`.
   *
   * `reserveTokens` (≥ S): the buffers that grow with the tokens are acquired for that many tokens
   * per row and used in part, so that the calls of one prefill split into calls of different
   * lengths get the same buffers back from the pool instead of new ones of other sizes.
   *
   * Memory: the buffers over all tokens live for the whole call; each block's cell inputs and
   * output are released once the block's work is submitted, so a call holds one block's (the
   * pool hands them to the next block), not all blocks' ({@link prefillPlan} counts them).
   */
  async forward(ids, B, S, prev, opts) {
    const { ctx: ctx2, cfg } = this;
    const { H, NH, Dqk, Dv, dqk, dv, F, V } = cfg.dims;
    const T2 = B * S;
    const BH = B * NH;
    const seqStarts = opts.seqStarts ?? null;
    if (seqStarts && (B !== 1 || seqStarts[seqStarts.length - 1] !== S))
      throw new ModelArgumentError(
        "seqStarts",
        `packed forward: expected B = 1 and offsets ending at S = ${S}`
      );
    const N = seqStarts ? seqStarts.length - 1 : B;
    const states = prev ?? this.zeroStates(N);
    const temps = [];
    const tmp = (shape) => {
      const t = ctx2.empty(shape);
      temps.push(t);
      return t;
    };
    const R3 = Math.max(S, opts.reserveTokens ?? S);
    const perTok = (shape, perToken, into, dtype2 = "f32") => {
      const n = shape.reduce((x, y) => x * y, 1);
      const t = ctx2.empty([Math.max(n, B * R3 * perToken)], dtype2);
      into.push(t);
      return t.subview(0, shape);
    };
    const tmpT = (width) => perTok([T2, width], width, temps);
    let act16 = null;
    const dense = [this.formats.linear, this.formats.lmHead].map((f) => this.prefillDtype(f));
    if (T2 >= MM_TILED_MIN_ROWS && dense.some((d) => d && denseMatmulPath(ctx2, { wDtype: d, M: T2, N: H, K: H }) === "matrix")) {
      const w2 = Math.max(H, Dv, F);
      act16 = perTok([T2 * w2], w2, temps, "f16");
    }
    let deferred = [];
    let batch = ctx2.batch();
    const flush = () => {
      batch.submit();
      for (const t of deferred) t.release();
      deferred = [];
      batch = ctx2.batch();
    };
    let dq = null;
    let acts = null;
    const actsFor = (M, K) => {
      const need = qgemvActsElements(M, K);
      if (!acts || acts.numel < need) {
        acts = ctx2.empty([need]);
        temps.push(acts);
      }
      return acts;
    };
    const mm = (xIn, l, y, o) => {
      const x16 = o.M >= MM_TILED_MIN_ROWS ? act16 : null;
      for (const [i, p] of l.w.parts.entries()) {
        const N2 = o.gate ? p.rows / 2 : p.rows;
        const po = { ...o, N: N2, nOff: p.row0, ldy: o.N, x16 };
        if (p.q && this.quantPrefill === "dequantize" && o.M >= MM_TILED_MIN_ROWS) {
          if (!dq) {
            dq = ctx2.empty([this.maxQuantElems], this.dqDtype);
            temps.push(dq);
          }
          const w2 = dq.subview(0, [p.rows, l.in]);
          encodeDequantize(ctx2, batch, p.q, w2);
          encodeMatmul(ctx2, batch, xIn, w2, l.b, y, po);
        } else if (p.q) {
          const { gate: _, x16: __, ...qo } = po;
          const int8 = this.quantDecode === "int8" && o.M < QMM_TILED_MIN_ROWS;
          const acts2 = int8 ? actsFor(o.M, o.K) : null;
          encodeQMatmul(ctx2, batch, xIn, p.q, l.b, y, { ...qo, acts: acts2, actsReady: !!acts2 && i > 0 });
        } else encodeMatmul(ctx2, batch, xIn, p.w, l.b, y, po);
      }
    };
    try {
      const idsT = perTok([T2], 1, temps);
      ctx2.device.queue.writeBuffer(idsT.buffer, idsT.byteOffset, new Uint32Array(ids));
      const x = tmpT(H);
      for (const p of this.embedding.parts) {
        if (p.q) encodeQEmbedding(ctx2, batch, idsT, p.q, x, T2, H, p.row0);
        else encodeEmbedding(ctx2, batch, idsT, p.w, x, T2, H, p.row0, p.rows);
      }
      const a = tmpT(H);
      const P = 2 * Dqk + 2 * Dv;
      const PS = P + 2 * NH;
      const proj = tmpT(PS);
      const gated = tmpT(Dv);
      const g = tmpT(F);
      const fusedGate = T2 >= MM_TILED_MIN_ROWS && this.prefillDtype(this.formats.linear) !== null && this.blocks.every((b) => b.upGateZ.w.parts.length === 1);
      const u = fusedGate ? null : tmpT(2 * F);
      const L = cfg.chunkSize;
      const Sc = seqStarts ? S : S > 1 ? Math.floor(S / L) * L : 0;
      const St = S - Sc;
      const eps = cfg.eps;
      const scratch = St > 0 ? tmp([BH * STEP_SCRATCH_PER_HEAD3]) : null;
      for (const [bi, blk] of this.blocks.entries()) {
        const st = states.blocks[bi];
        encodeRmsNorm(ctx2, batch, x, blk.normMlstm.w, blk.normMlstm.b, a, { rows: T2, H, eps: cfg.normEps });
        mm(a, blk.proj, proj, { M: T2, N: PS, K: H });
        const dimsO = { B, S, NH, dqk, dv, cap: cfg.gateSoftCap, stride: PS, gStride: PS, gOff: P };
        let cur = st;
        if (Sc > 0) {
          const cellIn = [];
          const qc = perTok([B, NH, Sc, dqk], NH * dqk, cellIn);
          const kc = perTok([B, NH, Sc, dqk], NH * dqk, cellIn);
          const vc = perTok([B, NH, Sc, dv], NH * dv, cellIn);
          const ic = perTok([B, NH, Sc], NH, cellIn);
          const fc = perTok([B, NH, Sc], NH, cellIn);
          encodeCellPrep(
            ctx2,
            batch,
            proj,
            proj,
            { q: qc, k: kc, v: vc, i: ic, f: fc },
            { ...dimsO, Sp: Sc, t0: 0 }
          );
          flush();
          const cellArgs = {
            q: qc,
            k: kc,
            v: vc,
            i: ic,
            f: fc,
            cInitial: cur.c,
            nInitial: cur.n,
            mInitial: cur.m,
            chunkSize: L,
            eps,
            returnLastStates: true,
            // f16 weights (also quantised ones dequantised to f16 for the dense GEMM): the cell in
            // f16 too (on the matrix units where the adapter has them); else f32
            computeDtype: this.prefillDtype(this.formats.linear) === "f16" ? "f16" : "f32"
          };
          let r2;
          try {
            r2 = seqStarts ? await mlstmChunkwiseXlChunkPacked(ctx2, { ...cellArgs, seqStarts }) : await mlstmChunkwiseXlChunk(ctx2, cellArgs);
          } finally {
            for (const t of cellIn) t.release();
          }
          deferred.push(cur.c, cur.n, cur.m);
          const ls = r2.lastStates;
          cur = { c: ls.c, n: ls.n, m: ls.m };
          deferred.push(r2.h);
          encodeCellPost(ctx2, batch, r2.h, proj, blk.multiheadNorm.w, blk.multiheadNorm.b, gated, {
            ...dimsO,
            Sp: Sc,
            t0: 0,
            eps: cfg.normEps
          });
        }
        if (St > 0) {
          const tail = (shape) => {
            const t = ctx2.empty(shape);
            deferred.push(t);
            return t;
          };
          const qt = tail([B, NH, St, dqk]);
          const kt = tail([B, NH, St, dqk]);
          const vt = tail([B, NH, St, dv]);
          const it = tail([B, NH, St]);
          const ft = tail([B, NH, St]);
          const ht = tail([B, NH, St, dv]);
          encodeCellPrep(
            ctx2,
            batch,
            proj,
            proj,
            { q: qt, k: kt, v: vt, i: it, f: ft },
            { ...dimsO, Sp: St, t0: Sc }
          );
          const spare = { n: ctx2.empty([B, NH, dqk]), m: ctx2.empty([B, NH, 1]) };
          let src = { n: cur.n, m: cur.m };
          let dst = spare;
          for (let t = 0; t < St; t++) {
            encodeRecurrentStep(ctx2, batch, {
              dims: { BH, S: St, DHQK: dqk, DHHV: dv },
              t,
              dtype: "f32",
              eps,
              q: qt,
              k: kt,
              v: vt,
              i: it,
              f: ft,
              state: { c: cur.c, n: src.n, m: src.m },
              out: { h: ht, c: cur.c, n: dst.n, m: dst.m },
              scratch
            });
            [src, dst] = [dst, src];
          }
          deferred.push(dst.n, dst.m);
          cur = { c: cur.c, n: src.n, m: src.m };
          encodeCellPost(ctx2, batch, ht, proj, blk.multiheadNorm.w, blk.multiheadNorm.b, gated, {
            ...dimsO,
            Sp: St,
            t0: Sc,
            eps: cfg.normEps
          });
        }
        states.blocks[bi] = cur;
        mm(gated, blk.outProj, x, {
          M: T2,
          N: H,
          K: Dv,
          accumulate: true
        });
        encodeRmsNorm(ctx2, batch, x, blk.normFfn.w, blk.normFfn.b, a, { rows: T2, H, eps: cfg.normEps });
        if (u) {
          mm(a, blk.upGateZ, u, { M: T2, N: 2 * F, K: H });
          encodeSwiglu(ctx2, batch, u, g, T2, F);
        } else mm(a, blk.upGateZ, g, { M: T2, N: F, K: H, gate: "silu" });
        mm(g, blk.down, x, { M: T2, N: H, K: F, accumulate: true });
      }
      const rows = opts.lastOnly ? N : T2;
      const z = tmp([rows, H]);
      let rowsAt;
      if (seqStarts && opts.lastOnly) {
        rowsAt = ctx2.empty([N], "f32");
        temps.push(rowsAt);
        ctx2.device.queue.writeBuffer(
          rowsAt.buffer,
          rowsAt.byteOffset,
          Uint32Array.from(seqStarts.subarray(1), (e) => e - 1)
        );
      }
      encodeRmsNorm(ctx2, batch, x, this.outNorm, null, z, {
        rows,
        H,
        eps: cfg.normEps,
        inStride: opts.lastOnly ? S : 1,
        inOffset: opts.lastOnly ? S - 1 : 0,
        rowsAt
      });
      const logits = tmp([rows, V]);
      mm(z, { w: this.lmHead, b: null, out: V, in: H }, logits, {
        M: rows,
        N: V,
        K: H,
        softcap: cfg.outputLogitSoftCap
      });
      flush();
      const out2 = await ctx2.read(logits);
      return { logits: Float32Array.from(out2), states };
    } finally {
      for (const t of deferred) t.release();
      for (const t of temps) t.release();
    }
  }
  /** A decode session of `B` sequences continuing from `states` (see ./decode.ts). */
  decoder(B, states, o) {
    const { cfg, embedding, outNorm, lmHead, blocks: blocks2 } = this;
    return new GpuDecoder(
      this.ctx,
      { cfg, embedding, outNorm, lmHead, blocks: blocks2 },
      B,
      states,
      o,
      this.quantDecode,
      this.denseDecode
    );
  }
  async readStates(s) {
    const out2 = [];
    for (const b of s.blocks) {
      out2.push({ c: await this.ctx.read(b.c), n: await this.ctx.read(b.n), m: await this.ctx.read(b.m) });
    }
    return out2;
  }
  releaseStates(s) {
    for (const b of s.blocks) {
      b.c.release();
      b.n.release();
      b.m.release();
    }
  }
  /** Row parts per weight matrix (1 unless a matrix exceeds maxStorageBufferBindingSize). */
  weightParts() {
    let maxPerLinear = 1;
    for (const b of this.blocks) {
      for (const l of [b.proj, b.outProj, b.upGateZ, b.down]) {
        maxPerLinear = Math.max(maxPerLinear, l.w.parts.length);
      }
    }
    return { embedding: this.embedding.parts.length, lmHead: this.lmHead.parts.length, maxPerLinear };
  }
  /**
   * The most tokens per row of one forward call (longer prompts are split into calls; packed
   * prompts are grouped into calls of at most this many tokens): see {@link prefillPlan}.
   */
  maxTokensPerCall(B, lastOnly, packed = false) {
    return this.prefillPlan(B, lastOnly, packed).tokens;
  }
  /**
   * Tokens per row of one forward call and the bytes it allocates (`prefillTokensPerCall` of
   * ../memory.ts for this engine's kernels): within the activation budget (or `prefillChunkSize`),
   * `max_inference_chunksize`, and the adapter's binding limits (every activation and the chunkwise
   * kernel's per-chunk states in one storage binding).
   */
  prefillPlan(B, lastOnly, packed = false) {
    const { H } = this.cfg.dims;
    const cellDtype = this.prefillDtype(this.formats.linear);
    const dense = [this.formats.linear, this.formats.lmHead].map((f) => this.prefillDtype(f));
    return prefillTokensPerCall(this.cfg, {
      batch: B,
      allLogits: !lastOnly,
      packed,
      cellF16: cellDtype === "f16",
      // as forward's: the f16 copy of the matmul inputs where the dense GEMM runs on the matrix units
      f16Inputs: dense.some(
        (d) => d !== null && denseMatmulPath(this.ctx, { wDtype: d, M: 4096, N: H, K: H }) === "matrix"
      ),
      fusedGate: cellDtype !== null && this.blocks.every((b) => b.upGateZ.w.parts.length === 1),
      limits: this.ctx.limits,
      prefillChunkSize: this.prefillChunkSize
    });
  }
  dispose() {
    for (const t of this.owned) t.release();
    this.owned.length = 0;
  }
};

// node_modules/.pnpm/@huggingface+tokenizers@0.2.0/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs
var DictionarySplitter = class {
  /**
   * @param dictionary The dictionary of words to use for splitting.
   */
  constructor(dictionary) {
    this.trie = this._build_trie(dictionary);
  }
  /**
   * Builds a trie from the given dictionary.
   * @param dictionary The dictionary of words to build the trie from.
   * @returns The root node of the trie.
   * @private
   */
  _build_trie(dictionary) {
    const trie = /* @__PURE__ */ Object.create(null);
    for (const word of dictionary) {
      let node = trie;
      for (let i = 0; i < word.length; ++i) {
        const char = word[i];
        node = node[char] ??= /* @__PURE__ */ Object.create(null);
      }
      node.end = word;
    }
    return trie;
  }
  /**
   * Splits the input text into tokens based on the dictionary.
   * @param text The input text to split.
   * @returns An array of tokens.
   */
  split(text) {
    const result = [];
    const n = text.length;
    let start = 0;
    let i = 0;
    while (i < n) {
      let node = this.trie;
      let match = null;
      let j = i;
      while (j < n && (node = node[text[j]])) {
        if (node.end) {
          match = node.end;
        }
        ++j;
      }
      if (match) {
        if (i > start) {
          result.push(text.slice(start, i));
        }
        result.push(match);
        i += match.length;
        start = i;
      } else {
        ++i;
      }
    }
    if (start < n) {
      result.push(text.slice(start));
    }
    return result;
  }
};
var DictionarySplitter_default = DictionarySplitter;
var AddedToken = class {
  /**
   * Creates a new instance of AddedToken.
   * @param config Added token configuration object.
   */
  constructor(config) {
    this.content = config.content;
    this.id = config.id;
    this.single_word = config.single_word ?? false;
    this.lstrip = config.lstrip ?? false;
    this.rstrip = config.rstrip ?? false;
    this.special = config.special ?? false;
    this.normalized = config.normalized ?? !this.special;
  }
};
var AddedToken_default = AddedToken;
var compile_unicode_regexp = (source, flags) => {
  try {
    return new RegExp(source, flags);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const property_names = /* @__PURE__ */ new Map();
    const rewritten = source.replace(
      /(\\[pP])\{([^}=]+)\}/g,
      (text, p, n, offset) => {
        let preceding_backslashes = 0;
        for (let i = offset - 1; i >= 0 && source[i] === "\\"; --i) {
          ++preceding_backslashes;
        }
        if (preceding_backslashes % 2 === 1) return text;
        let property_name = property_names.get(n);
        if (property_name === void 0) {
          try {
            new RegExp(`\\p{${n}}`, "u");
            property_name = n;
          } catch {
            property_name = `Script=${n}`;
          }
          property_names.set(n, property_name);
        }
        return `${p}{${property_name}}`;
      }
    );
    if (rewritten === source) throw error;
    try {
      return new RegExp(rewritten, flags);
    } catch {
      throw error;
    }
  }
};
var clean_up_tokenization = (text) => text.replace(/ \./g, ".").replace(/ \?/g, "?").replace(/ \!/g, "!").replace(/ ,/g, ",").replace(/ \' /g, "'").replace(/ n't/g, "n't").replace(/ 'm/g, "'m").replace(/ 's/g, "'s").replace(/ 've/g, "'ve").replace(/ 're/g, "'re");
var create_pattern = (pattern, invert = true) => {
  if (pattern.Regex !== void 0) {
    const regex = rewrite_oniguruma_to_js(
      normalize_bloom_split_char_class(pattern.Regex)
    );
    return compile_unicode_regexp(regex, "gu");
  } else if (pattern.String !== void 0) {
    const escaped = escape_reg_exp(pattern.String);
    return new RegExp(invert ? escaped : `(${escaped})`, "gu");
  } else {
    console.warn("Unknown pattern type:", pattern);
    return null;
  }
};
var UNICODE_WORD_CHARS_IN_CLASS = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}";
var UNICODE_WORD_CHARS = `${UNICODE_WORD_CHARS_IN_CLASS}\\u00B2\\u00B3\\u00B9\\u00BC-\\u00BE`;
var UNICODE_WORD_CLASS = `[${UNICODE_WORD_CHARS}]`;
var UNICODE_NON_WORD_CLASS = `[^${UNICODE_WORD_CHARS}]`;
var UNICODE_WORD_BOUNDARY = `(?:(?<!${UNICODE_WORD_CLASS})(?=${UNICODE_WORD_CLASS})|(?<=${UNICODE_WORD_CLASS})(?!${UNICODE_WORD_CLASS}))`;
var UNICODE_NON_WORD_BOUNDARY = `(?:(?<!${UNICODE_WORD_CLASS})(?!${UNICODE_WORD_CLASS})|(?<=${UNICODE_WORD_CLASS})(?=${UNICODE_WORD_CLASS}))`;
var LINE_START_ANCHOR = "(?:(?<![\\s\\S])|(?<=\\n))";
var LINE_END_ANCHOR = "(?:(?=\\n)|(?![\\s\\S]))";
var HEX_DIGIT_CHARS = "0-9A-Fa-f";
var ESCAPE_REWRITES = /* @__PURE__ */ new Map([
  ["A", "(?<![\\s\\S])"],
  ["z", "(?![\\s\\S])"],
  ["Z", "(?=\\n?(?![\\s\\S]))"],
  // \Z permits a single optional final \n (not \r\n)
  ["h", `[${HEX_DIGIT_CHARS}]`],
  ["H", `[^${HEX_DIGIT_CHARS}]`],
  ["w", UNICODE_WORD_CLASS],
  ["W", UNICODE_NON_WORD_CLASS],
  ["d", "\\p{Nd}"],
  ["D", "\\P{Nd}"],
  ["s", "\\p{White_Space}"],
  // JS \s wrongly adds U+FEFF and misses \x85
  ["S", "\\P{White_Space}"],
  ["b", UNICODE_WORD_BOUNDARY],
  ["B", UNICODE_NON_WORD_BOUNDARY],
  ["a", "\\x07"],
  ["e", "\\x1B"]
]);
var CLASS_ESCAPE_REWRITES = /* @__PURE__ */ new Map([
  ["h", HEX_DIGIT_CHARS],
  ["w", UNICODE_WORD_CHARS_IN_CLASS],
  ["d", "\\p{Nd}"],
  ["D", "\\P{Nd}"],
  ["s", "\\p{White_Space}"],
  ["S", "\\P{White_Space}"],
  ["a", "\\x07"],
  ["e", "\\x1B"]
]);
var CLASS_COMPLEMENT_ALTERNATIVES = /* @__PURE__ */ new Map([
  ["W", `[^${UNICODE_WORD_CHARS_IN_CLASS}]`],
  ["H", `[^${HEX_DIGIT_CHARS}]`]
]);
var RAW_WHITESPACE_ESCAPES = /* @__PURE__ */ new Map([
  ["\n", "\\n"],
  ["\r", "\\r"],
  ["	", "\\t"],
  ["\f", "\\f"],
  ["\v", "\\v"]
]);
var POSIX_CLASS_FRAGMENTS = /* @__PURE__ */ new Map([
  ["alpha", "\\p{Alphabetic}"],
  ["alnum", "\\p{Alphabetic}\\p{Nd}"],
  ["digit", "\\p{Nd}"],
  ["lower", "\\p{Lowercase}"],
  ["upper", "\\p{Uppercase}"],
  ["space", "\\p{White_Space}"],
  ["blank", "\\t\\p{Zs}"],
  ["punct", "\\p{P}\\p{S}"],
  ["cntrl", "\\p{Cc}"],
  ["word", UNICODE_WORD_CHARS_IN_CLASS],
  ["xdigit", HEX_DIGIT_CHARS]
]);
var JS_SYNTAX_CHARS = "^$\\.*+?()[]{}|/";
var GROUP_PREFIX_RE = /^\(\?(?:<[=!]|<[A-Za-z_][A-Za-z0-9_]*>|[:=!>])/;
var BRACED_ESCAPE_RE = /^\\([pPxu])\{([^}]*)\}/;
var QUANTIFIER_BRACE_RE = /^\{(\d+(?:,\d*)?|,\d+)\}/;
var POSIX_BRACKET_RE = new RegExp("^\\[:(\\^?)(\\p{Alphabetic}+):\\]", "u");
var EMPTY_NEGATED_POSIX_BRACKET_RE = /^\[:\^:\]/;
var UNSUPPORTED_POSIX_BRACKET_RE = /^\[(?:\.[^\]]*\.\]|=[^\]]*=\])/;
var FIXED_WIDTH_ESCAPE_RE = /^(?:\\x[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\c[A-Za-z])/;
var is_ascii_letter = (char) => char >= "A" && char <= "Z" || char >= "a" && char <= "z";
var character_at = (text, index) => String.fromCodePoint(text.codePointAt(index));
var get_ascii_folded_hex_atom = (hex) => {
  if (!/^[0-9A-Fa-f]{1,8}$/.test(hex)) return null;
  const code_point = Number.parseInt(hex, 16);
  if (code_point > 127) return null;
  const letter = String.fromCharCode(code_point);
  return is_ascii_letter(letter) ? `[${letter.toLowerCase()}${letter.toUpperCase()}]` : null;
};
var normalize_bloom_split_char_class = (regex) => regex.replace(/\[\^\(\\s\|\[([^\]]+)\]\)\]/g, "[^()|\\s$1]");
var ANY_CODE_POINT = "[\\s\\S]";
var MAX_CHARACTER_CLASS_NESTING_DEPTH = 256;
var create_character_class_operand = () => ({
  fragment: "",
  alternatives: [],
  tail: null,
  contains_complex_set: false
});
var throw_character_class_range_error = (index) => {
  throw new SyntaxError(
    `Unsupported range with a set-valued character-class operand at index ${index}`
  );
};
var add_character_class_atom = (operand, atom, index, contains_complex_set = true) => {
  if (operand.tail === "range") throw_character_class_range_error(index);
  operand.alternatives.push(atom);
  operand.tail = "set";
  operand.contains_complex_set = operand.contains_complex_set || contains_complex_set;
};
var append_character_class_fragment = (operand, fragment, set_valued = false, index = -1) => {
  if (set_valued && operand.tail === "range") {
    throw_character_class_range_error(index);
  }
  if (operand.tail === "range") {
    operand.fragment += fragment;
    operand.tail = "complete_range";
    return;
  }
  operand.fragment += fragment;
  operand.tail = set_valued ? "set" : "scalar";
  operand.contains_complex_set = operand.contains_complex_set || set_valued;
};
var rewrite_character_class_escape = (regex, index, operand) => {
  const braced = BRACED_ESCAPE_RE.exec(regex.slice(index));
  if (braced) {
    const [text, kind, body] = braced;
    if (kind === "P" && body === "Word") {
      add_character_class_atom(
        operand,
        `[^${UNICODE_WORD_CHARS_IN_CLASS}]`,
        index
      );
    } else {
      const replacement2 = kind === "x" ? `\\u{${body}}` : kind === "p" && body === "Word" ? UNICODE_WORD_CHARS_IN_CLASS : text;
      append_character_class_fragment(
        operand,
        replacement2,
        kind === "p" || kind === "P",
        index
      );
    }
    return index + text.length;
  }
  const fixed_width = FIXED_WIDTH_ESCAPE_RE.exec(regex.slice(index));
  if (fixed_width) {
    append_character_class_fragment(operand, fixed_width[0]);
    return index + fixed_width[0].length;
  }
  if (index + 1 >= regex.length) {
    throw new SyntaxError(
      `Unterminated escape in character class at index ${index}`
    );
  }
  const next = character_at(regex, index + 1);
  const next_end = index + 1 + next.length;
  const raw_whitespace = RAW_WHITESPACE_ESCAPES.get(next);
  if (raw_whitespace !== void 0) {
    append_character_class_fragment(operand, raw_whitespace);
    return next_end;
  }
  const complement = CLASS_COMPLEMENT_ALTERNATIVES.get(next);
  if (complement !== void 0) {
    add_character_class_atom(operand, complement, index);
    return next_end;
  }
  const rewrite = CLASS_ESCAPE_REWRITES.get(next);
  let replacement;
  let set_valued = false;
  if (rewrite !== void 0) {
    replacement = rewrite;
    set_valued = next !== "a" && next !== "e";
  } else if (/[A-Za-z0-9]/.test(next)) {
    replacement = `\\${next}`;
  } else if (JS_SYNTAX_CHARS.includes(next) || next === "-") {
    replacement = `\\${next}`;
  } else {
    replacement = next;
  }
  append_character_class_fragment(operand, replacement, set_valued, index);
  return next_end;
};
var compile_character_set_union = (pieces) => {
  if (pieces.length === 1) return pieces[0];
  return `(?:(?=(?:${pieces.join("|")}))${ANY_CODE_POINT})`;
};
var compile_character_class_operand = (operand) => {
  const pieces = operand.fragment.length === 0 ? operand.alternatives : [`[${operand.fragment}]`, ...operand.alternatives];
  return compile_character_set_union(pieces);
};
var get_ascii_fold_additions = (positive_atom) => {
  const membership = compile_unicode_regexp(`^(?:${positive_atom})$`, "u");
  let additions = "";
  for (let offset = 0; offset < 26; ++offset) {
    const upper = String.fromCharCode(65 + offset);
    const lower = String.fromCharCode(97 + offset);
    const has_upper = membership.test(upper);
    const has_lower = membership.test(lower);
    if (has_upper !== has_lower) additions += has_upper ? lower : upper;
  }
  return additions;
};
var parse_character_class = (regex, start, ascii_fold, apply_ascii_fold = true, nesting_depth = 1) => {
  if (nesting_depth > MAX_CHARACTER_CLASS_NESTING_DEPTH) {
    throw new SyntaxError(
      `Maximum character-class nesting depth of ${MAX_CHARACTER_CLASS_NESTING_DEPTH} exceeded at index ${start}`
    );
  }
  let i = start + 1;
  const negated = regex[i] === "^";
  if (negated) ++i;
  const first_content_index = i;
  const operands = [create_character_class_operand()];
  let operand = operands[0];
  let contains_nested_negated_complex_set = false;
  while (i < regex.length) {
    const char = character_at(regex, i);
    if (char === "\\") {
      i = rewrite_character_class_escape(regex, i, operand);
      continue;
    }
    if (char === "]") {
      if (i === first_content_index) {
        append_character_class_fragment(operand, "\\]");
        ++i;
        continue;
      }
      if (operand.tail === null) {
        if (operands.length > 1) {
          throw new SyntaxError(
            `Malformed character-class intersection with an empty operand at index ${i}`
          );
        }
        throw new SyntaxError(`Empty character class at index ${start}`);
      }
      const contains_complex_set = operands.some(
        (candidate) => candidate.contains_complex_set
      );
      if (negated && operands.length > 1 && contains_nested_negated_complex_set) {
        throw new SyntaxError(
          `Unsupported outer-negated character-class intersection with a nested negated class containing a Unicode property, POSIX class, or shorthand at index ${start}`
        );
      }
      const first_atom = compile_character_class_operand(operands[0]);
      let positive_atom = first_atom;
      if (operands.length > 1) {
        let lookaheads = "";
        for (let j = 1; j < operands.length; ++j) {
          lookaheads += `(?=${compile_character_class_operand(operands[j])})`;
        }
        positive_atom = `(?:${lookaheads}${first_atom})`;
      }
      const is_direct_class = operands.length === 1 && operand.alternatives.length === 0;
      let direct_fragment = operand.fragment;
      if (ascii_fold && apply_ascii_fold) {
        const additions = get_ascii_fold_additions(positive_atom);
        if (additions.length > 0) {
          if (is_direct_class) {
            direct_fragment += additions;
            positive_atom = `[${direct_fragment}]`;
          } else {
            positive_atom = compile_character_set_union([
              positive_atom,
              `[${additions}]`
            ]);
          }
        }
      }
      const atom = negated ? is_direct_class ? `[^${direct_fragment}]` : `(?:(?!${positive_atom})${ANY_CODE_POINT})` : positive_atom;
      return {
        atom,
        end: i + 1,
        negated,
        contains_complex_set,
        contains_nested_negated_complex_set
      };
    }
    if (regex.startsWith("&&", i)) {
      if (operand.tail === null) {
        throw new SyntaxError(
          `Malformed character-class intersection with an empty operand at index ${i}`
        );
      }
      operand = create_character_class_operand();
      operands.push(operand);
      i += 2;
      continue;
    }
    if (char === "[") {
      const suffix = regex.slice(i);
      if (EMPTY_NEGATED_POSIX_BRACKET_RE.test(suffix)) {
        throw new SyntaxError(
          `Malformed empty negated POSIX character class at index ${i}`
        );
      }
      const posix = POSIX_BRACKET_RE.exec(suffix);
      if (posix) {
        const [, posix_negated, name] = posix;
        const fragment = POSIX_CLASS_FRAGMENTS.get(name);
        if (fragment === void 0) {
          throw new SyntaxError(
            `Unsupported POSIX character class "${name}" at index ${i}`
          );
        }
        if (ascii_fold && posix_negated && (name === "lower" || name === "upper")) {
          throw new SyntaxError(
            `Unsupported negated POSIX ${name} class inside an inline case-insensitive group`
          );
        }
        if (posix_negated) {
          add_character_class_atom(operand, `[^${fragment}]`, i);
        } else {
          append_character_class_fragment(operand, fragment, true, i);
        }
        i += posix[0].length;
        continue;
      }
      if (UNSUPPORTED_POSIX_BRACKET_RE.test(suffix)) {
        throw new SyntaxError(
          `Unsupported POSIX collating or equivalence bracket expression at index ${i}`
        );
      }
      const nested = parse_character_class(
        regex,
        i,
        ascii_fold,
        false,
        nesting_depth + 1
      );
      add_character_class_atom(
        operand,
        nested.atom,
        i,
        nested.contains_complex_set
      );
      contains_nested_negated_complex_set ||= nested.contains_nested_negated_complex_set || nested.negated && nested.contains_complex_set;
      i = nested.end;
      continue;
    }
    if (char === "-") {
      const is_terminal_literal = regex[i + 1] === "]" || regex.startsWith("&&", i + 1);
      if (operand.tail === "set" && !is_terminal_literal) {
        throw_character_class_range_error(i);
      }
      if (operand.tail === null || operand.tail === "range" || operand.tail === "complete_range" || is_terminal_literal) {
        append_character_class_fragment(operand, "\\-");
      } else {
        operand.fragment += "-";
        operand.tail = "range";
      }
      ++i;
      continue;
    }
    append_character_class_fragment(
      operand,
      char === "^" && operand.fragment.length === 0 ? "\\^" : char
    );
    i += char.length;
  }
  throw new SyntaxError(
    `${operands.length > 1 ? "Unterminated character-class intersection" : "Unterminated character class"} at index ${start}`
  );
};
var rewrite_oniguruma_to_js = (regex) => {
  let out2 = "";
  let atom_start = -1;
  let last_was_quantifier = false;
  let ascii_fold = false;
  const group_states = [];
  const emit_atom = (text) => {
    atom_start = out2.length;
    out2 += text;
    last_was_quantifier = false;
  };
  for (let i = 0; i < regex.length; ) {
    const char = character_at(regex, i);
    if (char === "\\") {
      const braced = BRACED_ESCAPE_RE.exec(regex.slice(i));
      if (braced) {
        const [text, kind, body] = braced;
        let replacement2 = text;
        if (kind === "x") {
          const code_point_escape = `\\u{${body}}`;
          replacement2 = ascii_fold ? get_ascii_folded_hex_atom(body) ?? code_point_escape : code_point_escape;
        } else if (body === "Word") {
          replacement2 = kind === "p" ? UNICODE_WORD_CLASS : UNICODE_NON_WORD_CLASS;
        }
        emit_atom(replacement2);
        i += text.length;
        continue;
      }
      const fixed_width = FIXED_WIDTH_ESCAPE_RE.exec(regex.slice(i));
      if (fixed_width) {
        const text = fixed_width[0];
        const replacement2 = ascii_fold && text[1] !== "c" ? get_ascii_folded_hex_atom(text.slice(2)) ?? text : text;
        emit_atom(replacement2);
        i += text.length;
        continue;
      }
      if (i + 1 >= regex.length) {
        out2 += char;
        break;
      }
      const next = character_at(regex, i + 1);
      i += 1 + next.length;
      if (next === "G") {
        continue;
      }
      const raw_whitespace = RAW_WHITESPACE_ESCAPES.get(next);
      if (raw_whitespace !== void 0) {
        emit_atom(raw_whitespace);
        continue;
      }
      const rewrite = ESCAPE_REWRITES.get(next);
      let replacement;
      if (rewrite !== void 0) {
        replacement = rewrite;
      } else if (/[A-Za-z0-9]/.test(next)) {
        replacement = `\\${next}`;
      } else if (JS_SYNTAX_CHARS.includes(next)) {
        replacement = `\\${next}`;
      } else {
        replacement = next;
      }
      emit_atom(replacement);
      continue;
    }
    switch (char) {
      case "[": {
        const parsed = parse_character_class(regex, i, ascii_fold);
        emit_atom(parsed.atom);
        i = parsed.end;
        continue;
      }
      case "]":
        emit_atom("\\]");
        ++i;
        continue;
      case ".":
        emit_atom("[^\\n]");
        ++i;
        continue;
      case "^":
        emit_atom(LINE_START_ANCHOR);
        ++i;
        continue;
      case "$":
        emit_atom(LINE_END_ANCHOR);
        ++i;
        continue;
      case "(": {
        const inline_case_insensitive = regex.startsWith("(?i:", i);
        const source_prefix = inline_case_insensitive ? "(?i:" : GROUP_PREFIX_RE.exec(regex.slice(i))?.[0] ?? "(";
        const output_prefix = inline_case_insensitive ? "(?:" : source_prefix === "(?>" ? "(?:" : source_prefix;
        group_states.push([out2.length, ascii_fold]);
        if (inline_case_insensitive) ascii_fold = true;
        out2 += output_prefix;
        last_was_quantifier = false;
        i += source_prefix.length;
        continue;
      }
      case ")":
        out2 += char;
        [atom_start, ascii_fold] = group_states.pop() ?? [-1, false];
        last_was_quantifier = false;
        ++i;
        continue;
      case "|":
        out2 += char;
        atom_start = -1;
        last_was_quantifier = false;
        ++i;
        continue;
      case "{": {
        const quant = QUANTIFIER_BRACE_RE.exec(regex.slice(i));
        if (!quant || atom_start < 0) {
          emit_atom("\\{");
          ++i;
          continue;
        }
        const body = quant[1].startsWith(",") ? `0${quant[1]}` : quant[1];
        i += quant[0].length;
        const following = regex[i];
        if (following === "+" || following === "*") {
          out2 = `${out2.slice(0, atom_start)}(?:${out2.slice(atom_start)}{${body}})${following}`;
          ++i;
        } else {
          out2 += `{${body}}`;
        }
        last_was_quantifier = true;
        continue;
      }
      case "}":
        emit_atom("\\}");
        ++i;
        continue;
      case "+":
        if (last_was_quantifier) {
          ++i;
          continue;
        }
        out2 += char;
        last_was_quantifier = true;
        ++i;
        continue;
      case "*":
      case "?":
        out2 += char;
        last_was_quantifier = true;
        ++i;
        continue;
      default:
        emit_atom(
          ascii_fold && is_ascii_letter(char) ? `[${char.toLowerCase()}${char.toUpperCase()}]` : char
        );
        i += char.length;
        continue;
    }
  }
  return out2;
};
var escape_reg_exp = (string) => string.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
var fuse_unk = (arr, tokens_to_ids, unk_token_id) => {
  const fused = [];
  let i = 0;
  while (i < arr.length) {
    fused.push(arr[i]);
    const token_id = tokens_to_ids.get(arr[i]) ?? unk_token_id;
    if (token_id !== unk_token_id) {
      ++i;
      continue;
    }
    while (++i < arr.length && (tokens_to_ids.get(arr[i]) ?? unk_token_id) === unk_token_id) {
      if (tokens_to_ids.get(fused.at(-1)) !== unk_token_id) {
        fused[fused.length - 1] += arr[i];
      }
    }
  }
  return fused;
};
var is_chinese_char = (cp) => cp >= 19968 && cp <= 40959 || cp >= 13312 && cp <= 19903 || cp >= 131072 && cp <= 173791 || cp >= 173824 && cp <= 177983 || cp >= 177984 && cp <= 178207 || cp >= 178208 && cp <= 183983 || cp >= 63744 && cp <= 64255 || cp >= 194560 && cp <= 195103;
var is_integral_number = (x) => Number.isInteger(x) || typeof x === "bigint";
var len = (s) => {
  let length = 0;
  for (const c of s) ++length;
  return length;
};
var lowercase_and_remove_accents = (text) => remove_accents(text.toLowerCase());
var merge_arrays = (...arrs) => Array.prototype.concat.apply([], arrs);
var object_to_map = (obj) => new Map(Object.entries(obj));
var regex_split = (text, regex) => {
  const result = [];
  let prev = 0;
  for (const match of text.matchAll(regex)) {
    const full_match = match[0];
    if (prev < match.index) {
      result.push(text.slice(prev, match.index));
    }
    if (full_match.length > 0) {
      result.push(full_match);
    }
    prev = match.index + full_match.length;
  }
  if (prev < text.length) {
    result.push(text.slice(prev));
  }
  return result;
};
var remove_accents = (text) => text.replace(new RegExp("\\p{M}", "gu"), "");
var validate_object = (obj, name, required_keys = []) => {
  if (!obj || Array.isArray(obj) || typeof obj !== "object") {
    return `${name} must be a valid object`;
  }
  for (const key of required_keys) {
    if (!(key in obj)) {
      return `${name} must contain a "${key}" property`;
    }
  }
  return null;
};
var whitespace_split = (text) => text.match(/\S+/g) || [];
var Callable = class {
  /**
   * Creates a new instance of the Callable class.
   */
  constructor() {
    const closure = function(...args) {
      return closure._call(...args);
    };
    return Object.setPrototypeOf(closure, new.target.prototype);
  }
};
var Callable_default = Callable;
var Normalizer = class extends Callable_default {
  /**
   * @param config The configuration object for the normalizer.
   */
  constructor(config) {
    super();
    this.config = config;
  }
  /**
   * Alias for {@link Normalizer#normalize}.
   * @param text The text to normalize.
   * @returns The normalized text.
   */
  _call(text) {
    return this.normalize(text);
  }
};
var Normalizer_default = Normalizer;
var BertNormalizer = class extends Normalizer_default {
  /**
   * Adds whitespace around any CJK (Chinese, Japanese, or Korean) character in the input text.
   *
   * @param text The input text to tokenize.
   * @returns The tokenized text with whitespace added around CJK characters.
   */
  tokenize_chinese_chars(text) {
    const output = [];
    for (let i = 0; i < text.length; ++i) {
      const char = text[i];
      const cp = char.charCodeAt(0);
      if (is_chinese_char(cp)) {
        output.push(" ");
        output.push(char);
        output.push(" ");
      } else {
        output.push(char);
      }
    }
    return output.join("");
  }
  /**
   * Strips accents from the given text.
   * @param text The text to strip accents from.
   * @returns The text with accents removed.
   */
  strip_accents(text) {
    return text.normalize("NFD").replace(new RegExp("\\p{Mn}", "gu"), "");
  }
  /**
   * Checks whether `char` is a control character.
   * @param char The character to check.
   * @returns Whether `char` is a control character.
   */
  is_control(char) {
    switch (char) {
      case "	":
      case "\n":
      case "\r":
        return false;
      default:
        return new RegExp("^\\p{Cc}|\\p{Cf}|\\p{Co}|\\p{Cs}$", "u").test(char);
    }
  }
  /**
   * Performs invalid character removal and whitespace cleanup on text.
   * @param text The text to clean.
   * @returns The cleaned text.
   */
  clean_text(text) {
    const output = [];
    for (const char of text) {
      const cp = char.charCodeAt(0);
      if (cp === 0 || cp === 65533 || this.is_control(char)) {
        continue;
      }
      if (/^\s$/.test(char)) {
        output.push(" ");
      } else {
        output.push(char);
      }
    }
    return output.join("");
  }
  /**
   * Normalizes the given text based on the configuration.
   * @param text The text to normalize.
   * @returns The normalized text.
   */
  normalize(text) {
    if (this.config.clean_text) {
      text = this.clean_text(text);
    }
    if (this.config.handle_chinese_chars) {
      text = this.tokenize_chinese_chars(text);
    }
    if (this.config.lowercase) {
      text = text.toLowerCase();
      if (this.config.strip_accents !== false) {
        text = this.strip_accents(text);
      }
    } else if (this.config.strip_accents) {
      text = this.strip_accents(text);
    }
    return text;
  }
};
var BertNormalizer_default = BertNormalizer;
var Precompiled = class extends Normalizer_default {
  /**
   * Create a new instance of Precompiled normalizer.
   * @param config The configuration object.
   */
  constructor(config) {
    super(config);
    this.charsmap = config.precompiled_charsmap ?? null;
  }
  /**
   * Normalizes the given text by applying the precompiled charsmap.
   * @param text The text to normalize.
   * @returns The normalized text.
   */
  normalize(text) {
    text = text.replace(
      /[\u0001-\u0008\u000B\u000E-\u001F\u007F\u008F\u009F]/gm,
      ""
    );
    text = text.replace(
      /[\u0009\u000A\u000C\u000D\u00A0\u1680\u2000-\u200F\u2028\u2029\u202F\u205F\u2581\u3000\uFEFF\uFFFD]/gm,
      " "
    );
    if (text.includes("\uFF5E")) {
      const parts = text.split("\uFF5E");
      text = parts.map((part) => part.normalize("NFKC")).join("\uFF5E");
    } else {
      text = text.normalize("NFKC");
    }
    return text;
  }
};
var Precompiled_default = Precompiled;
var Sequence = class extends Normalizer_default {
  /**
   * Create a new instance of NormalizerSequence.
   * @param config The configuration object.
   */
  constructor(config) {
    super(config);
    this.normalizers = (config.normalizers ?? []).map(
      (x) => create_normalizer_default(x)
    );
  }
  /**
   * Apply a sequence of Normalizers to the input text.
   * @param text The text to normalize.
   * @returns The normalized text.
   */
  normalize(text) {
    return this.normalizers.reduce((t, normalizer) => {
      return normalizer ? normalizer.normalize(t) : t;
    }, text);
  }
};
var Sequence_default = Sequence;
var Replace = class extends Normalizer_default {
  /**
   * @param config The configuration object for the normalizer.
   */
  constructor(config) {
    super(config);
    this.pattern = create_pattern(this.config.pattern ?? {});
  }
  /**
   * Normalize the input text by replacing the pattern with the content.
   * @param text The input text to be normalized.
   * @returns The normalized text after replacing the pattern with the content.
   */
  normalize(text) {
    return this.pattern === null ? text : text.replaceAll(this.pattern, this.config.content ?? "");
  }
};
var Replace_default = Replace;
var UnicodeNormalizer = class extends Normalizer_default {
  constructor() {
    super(...arguments);
    this.form = "NFC";
  }
  /**
   * Normalize the input text by applying Unicode normalization.
   * @param text The input text to be normalized.
   * @returns The normalized text.
   */
  normalize(text) {
    text = text.normalize(this.form);
    return text;
  }
};
var UnicodeNormalizer_default = UnicodeNormalizer;
var NFC = class extends UnicodeNormalizer_default {
  constructor() {
    super(...arguments);
    this.form = "NFC";
  }
};
var NFC_default = NFC;
var NFD = class extends UnicodeNormalizer_default {
  constructor() {
    super(...arguments);
    this.form = "NFD";
  }
};
var NFD_default = NFD;
var NFKC = class extends UnicodeNormalizer_default {
  constructor() {
    super(...arguments);
    this.form = "NFKC";
  }
};
var NFKC_default = NFKC;
var NFKD = class extends UnicodeNormalizer_default {
  constructor() {
    super(...arguments);
    this.form = "NFKD";
  }
};
var NFKD_default = NFKD;
var Strip = class extends Normalizer_default {
  /**
   * Strip leading and/or trailing whitespace from the input text.
   * @param text The input text.
   * @returns The normalized text.
   */
  normalize(text) {
    if (this.config.strip_left && this.config.strip_right) {
      text = text.trim();
    } else {
      if (this.config.strip_left) {
        text = text.trimStart();
      }
      if (this.config.strip_right) {
        text = text.trimEnd();
      }
    }
    return text;
  }
};
var Strip_default = Strip;
var StripAccents = class extends Normalizer_default {
  /**
   * Remove all accents from the text.
   * @param text The input text.
   * @returns The normalized text without accents.
   */
  normalize(text) {
    return remove_accents(text);
  }
};
var StripAccents_default = StripAccents;
var Lowercase = class extends Normalizer_default {
  /**
   * Lowercases the input string.
   * @param {string} text The text to normalize.
   * @returns {string} The normalized text.
   */
  normalize(text) {
    return text.toLowerCase();
  }
};
var Lowercase_default = Lowercase;
var Prepend = class extends Normalizer_default {
  /**
   * Prepends the input string.
   * @param text The text to normalize.
   * @returns The normalized text.
   */
  normalize(text) {
    text = this.config.prepend + text;
    return text;
  }
};
var Prepend_default = Prepend;
function create_normalizer(config) {
  if (config === null) return null;
  switch (config.type) {
    case "BertNormalizer":
      return new BertNormalizer_default(config);
    case "Precompiled":
      return new Precompiled_default(config);
    case "Sequence":
      return new Sequence_default(config);
    case "Replace":
      return new Replace_default(config);
    case "NFC":
      return new NFC_default(config);
    case "NFD":
      return new NFD_default(config);
    case "NFKC":
      return new NFKC_default(config);
    case "NFKD":
      return new NFKD_default(config);
    case "Strip":
      return new Strip_default(config);
    case "StripAccents":
      return new StripAccents_default(config);
    case "Lowercase":
      return new Lowercase_default(config);
    case "Prepend":
      return new Prepend_default(config);
    default:
      throw new Error(`Unknown Normalizer type: ${config.type}`);
  }
}
var create_normalizer_default = create_normalizer;
var PreTokenizer = class extends Callable_default {
  /**
   * Tokenizes the given text into pre-tokens.
   * @param text The text or array of texts to pre-tokenize.
   * @param options Additional options for the pre-tokenization logic.
   * @returns An array of pre-tokens.
   */
  pre_tokenize(text, options2) {
    return (Array.isArray(text) ? text.map((x) => this.pre_tokenize_text(x, options2)) : this.pre_tokenize_text(text, options2)).flat();
  }
  /**
   * Alias for {@link PreTokenizer#pre_tokenize}.
   * @param text The text or array of texts to pre-tokenize.
   * @param options Additional options for the pre-tokenization logic.
   * @returns An array of pre-tokens.
   */
  _call(text, options2) {
    return this.pre_tokenize(text, options2);
  }
};
var PreTokenizer_default = PreTokenizer;
var BYTES_TO_UNICODE = (() => {
  const bs = [
    ...Array.from(
      { length: "~".charCodeAt(0) - "!".charCodeAt(0) + 1 },
      (_, i) => i + "!".charCodeAt(0)
    ),
    ...Array.from(
      { length: "\xAC".charCodeAt(0) - "\xA1".charCodeAt(0) + 1 },
      (_, i) => i + "\xA1".charCodeAt(0)
    ),
    ...Array.from(
      { length: "\xFF".charCodeAt(0) - "\xAE".charCodeAt(0) + 1 },
      (_, i) => i + "\xAE".charCodeAt(0)
    )
  ];
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; ++b) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n += 1;
    }
  }
  const ccs = cs.map((n2) => String.fromCharCode(n2));
  return Object.fromEntries(bs.map((b, i) => [b, ccs[i]]));
})();
var reverse_dictionary = (data) => Object.fromEntries(Object.entries(data).map(([key, value]) => [value, key]));
var UNICODE_TO_BYTES = reverse_dictionary(BYTES_TO_UNICODE);
var PUNCTUATION_REGEX = "\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E";
var ByteLevel = class extends PreTokenizer_default {
  /**
   * Creates a new instance of the `ByteLevelPreTokenizer` class.
   * @param config The configuration object.
   */
  constructor(config) {
    super();
    this.config = config;
    this.add_prefix_space = this.config.add_prefix_space ?? false;
    this.trim_offsets = this.config.trim_offsets ?? false;
    this.use_regex = this.config.use_regex ?? true;
    this.pattern = new RegExp("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", "gu");
    this.byte_encoder = BYTES_TO_UNICODE;
    this.text_encoder = new TextEncoder();
  }
  /**
   * Tokenizes a single piece of text using byte-level tokenization.
   * @param text The text to tokenize.
   * @param options Additional options for the pre-tokenization logic.
   * @returns An array of tokens.
   */
  pre_tokenize_text(text, options2) {
    if (this.add_prefix_space && !text.startsWith(" ")) {
      text = " " + text;
    }
    const tokens = this.use_regex ? text.match(this.pattern) || [] : [text];
    return tokens.map(
      (token) => Array.from(
        this.text_encoder.encode(token),
        (byte) => this.byte_encoder[byte]
      ).join("")
    );
  }
};
var ByteLevel_default = ByteLevel;
var Whitespace = class extends PreTokenizer_default {
  /**
   * Pre-tokenizes the input text by splitting it on word boundaries.
   * @param text The text to be pre-tokenized.
   * @param options Additional options for the pre-tokenization logic.
   * @returns An array of tokens produced by splitting the input text on whitespace.
   */
  pre_tokenize_text(text, options2) {
    return text.match(/\w+|[^\w\s]+/g) || [];
  }
};
var Whitespace_default = Whitespace;
var Metaspace = class extends PreTokenizer_default {
  /**
   * @param config The configuration object for the MetaspacePreTokenizer.
   */
  constructor(config) {
    super();
    this.replacement = config.replacement ?? "\u2581";
    this.str_rep = config.str_rep || this.replacement;
    this.prepend_scheme = config.prepend_scheme ?? "always";
  }
  /**
   * This method takes a string, replaces spaces with the replacement character,
   * adds a prefix space if requested, and returns a new list of tokens.
   * @param text The text to pre-tokenize.
   * @param options The options for the pre-tokenization.
   * @returns A new list of pre-tokenized tokens.
   */
  pre_tokenize_text(text, options2) {
    const { section_index = void 0 } = options2 ?? {};
    let normalized = text.replaceAll(" ", this.str_rep);
    if (
      // We add a prefix space if:
      //  (1) The normalized token does not already start with the replacement character.
      !normalized.startsWith(this.replacement) && // and (2) either:
      //  (a) prepend_scheme is 'always'
      //  (b) prepend_scheme is 'first' and this is the first section
      (this.prepend_scheme === "always" || this.prepend_scheme === "first" && section_index === 0)
    ) {
      normalized = this.str_rep + normalized;
    }
    return [normalized];
  }
};
var Metaspace_default = Metaspace;
var Split = class extends PreTokenizer_default {
  /**
   * @param config The configuration options for the pre-tokenizer.
   */
  constructor(config) {
    super();
    this.config = config;
    this.pattern = create_pattern(
      this.config.pattern ?? {},
      this.config.invert ?? true
    );
  }
  /**
   * Tokenizes text by splitting it using the given pattern.
   * @param text The text to tokenize.
   * @returns An array of tokens.
   */
  pre_tokenize_text(text) {
    if (this.pattern === null) {
      return [];
    }
    if (this.config.invert) {
      return (text.match(this.pattern) || []).filter((x) => x);
    } else if (this.config.behavior?.toLowerCase() === "removed") {
      return text.split(this.pattern).filter((x) => x);
    } else {
      return regex_split(text, this.pattern);
    }
  }
};
var Split_default = Split;
var Punctuation = class extends PreTokenizer_default {
  /**
   * @param config The configuration options for the pre-tokenizer.
   */
  constructor(config) {
    super();
    this.config = config;
    this.pattern = new RegExp(
      `[^${PUNCTUATION_REGEX}]+|[${PUNCTUATION_REGEX}]+`,
      "gu"
    );
  }
  /**
   * Tokenizes text by splitting it using the given pattern.
   * @param text The text to tokenize.
   * @returns An array of tokens.
   */
  pre_tokenize_text(text) {
    return text.match(this.pattern) || [];
  }
};
var Punctuation_default = Punctuation;
var Digits = class extends PreTokenizer_default {
  /**
   * @param config The configuration options for the pre-tokenizer.
   */
  constructor(config) {
    super();
    this.config = config;
    const digit_pattern = `[^\\d]+|\\d${this.config.individual_digits ? "" : "+"}`;
    this.pattern = new RegExp(digit_pattern, "gu");
  }
  /**
   * Tokenizes text by splitting it using the given pattern.
   * @param text The text to tokenize.
   * @returns An array of tokens.
   */
  pre_tokenize_text(text) {
    return text.match(this.pattern) || [];
  }
};
var Digits_default = Digits;
var BertPreTokenizer = class extends PreTokenizer_default {
  /**
   * A PreTokenizer that splits text into wordpieces using a basic tokenization scheme
   * similar to that used in the original implementation of BERT.
   */
  constructor() {
    super();
    this.pattern = new RegExp(
      `[^\\s${PUNCTUATION_REGEX}]+|[${PUNCTUATION_REGEX}]`,
      "gu"
    );
  }
  /**
   * Tokenizes a single text using the BERT pre-tokenization scheme.
   *
   * @param text The text to tokenize.
   * @param options Additional options for the pre-tokenization logic.
   * @returns An array of tokens.
   */
  pre_tokenize_text(text, options2) {
    return text.trim().match(this.pattern) || [];
  }
};
var BertPreTokenizer_default = BertPreTokenizer;
var Replace2 = class extends PreTokenizer_default {
  /**
   * @param config The configuration options for the pre-tokenizer.
   */
  constructor(config) {
    super();
    this.config = config;
    this.pattern = create_pattern(this.config.pattern ?? {});
    this.content = this.config.content ?? "";
  }
  /**
   * Pre-tokenizes the input text by replacing certain characters.
   * @param text The text to be pre-tokenized.
   * @returns An array of tokens produced by replacing certain characters.
   */
  pre_tokenize_text(text) {
    if (this.pattern === null) {
      return [text];
    }
    return [text.replaceAll(this.pattern, this.config.content ?? "")];
  }
};
var Replace_default2 = Replace2;
var Sequence2 = class extends PreTokenizer_default {
  /**
   * Creates an instance of PreTokenizerSequence.
   * @param config The configuration object for the pre-tokenizer sequence.
   */
  constructor(config) {
    super();
    this.tokenizers = (config.pretokenizers ?? []).map(
      (x) => create_pre_tokenizer_default(x)
    );
  }
  /**
   * Applies each pre-tokenizer in the sequence to the input text in turn.
   * @param text The text to pre-tokenize.
   * @param options Additional options for the pre-tokenization logic.
   * @returns The pre-tokenized text.
   */
  pre_tokenize_text(text, options2) {
    return this.tokenizers.reduce(
      (pre_tokenized_text, tokenizer) => {
        return tokenizer ? tokenizer.pre_tokenize(pre_tokenized_text, options2) : pre_tokenized_text;
      },
      [text]
    );
  }
};
var Sequence_default2 = Sequence2;
var WhitespaceSplit = class extends PreTokenizer_default {
  /**
   * Pre-tokenizes the input text by splitting it on whitespace characters.
   * @param text The text to be pre-tokenized.
   * @returns An array of tokens produced by splitting the input text on whitespace.
   */
  pre_tokenize_text(text) {
    return whitespace_split(text);
  }
};
var WhitespaceSplit_default = WhitespaceSplit;
var FixedLength = class extends PreTokenizer_default {
  /**
   * @param config The configuration options for the pre-tokenizer.
   */
  constructor(config) {
    super();
    this.config = config;
    this._length = config.length;
  }
  /**
   * Pre-tokenizes the input text by splitting it into fixed-length tokens.
   * @param text The text to be pre-tokenized.
   * @returns An array of tokens produced by splitting the input text into fixed-length tokens.
   */
  pre_tokenize_text(text) {
    const tokens = [];
    for (let i = 0; i < text.length; i += this._length) {
      tokens.push(text.slice(i, i + this._length));
    }
    return tokens;
  }
};
var FixedLength_default = FixedLength;
function create_pre_tokenizer(config) {
  if (config === null) return null;
  switch (config.type) {
    case "BertPreTokenizer":
      return new BertPreTokenizer_default();
    case "Sequence":
      return new Sequence_default2(config);
    case "Whitespace":
      return new Whitespace_default();
    case "WhitespaceSplit":
      return new WhitespaceSplit_default();
    case "Metaspace":
      return new Metaspace_default(config);
    case "ByteLevel":
      return new ByteLevel_default(config);
    case "Split":
      return new Split_default(config);
    case "Punctuation":
      return new Punctuation_default(config);
    case "Digits":
      return new Digits_default(config);
    case "Replace":
      return new Replace_default2(config);
    case "FixedLength":
      return new FixedLength_default(config);
    default:
      throw new Error(`Unknown PreTokenizer type: ${config.type}`);
  }
}
var create_pre_tokenizer_default = create_pre_tokenizer;
var TokenizerModel = class extends Callable_default {
  /**
   * Creates a new instance of TokenizerModel.
   * @param config The configuration object for the TokenizerModel.
   */
  constructor(config) {
    super();
    this.config = config;
    this.vocab = [];
    this.tokens_to_ids = /* @__PURE__ */ new Map();
    this.unk_token_id = void 0;
    this.unk_token = void 0;
    this.end_of_word_suffix = void 0;
    this.fuse_unk = this.config.fuse_unk ?? false;
  }
  /**
   * Internal function to call the TokenizerModel instance.
   * @param tokens The tokens to encode.
   * @returns The encoded tokens.
   */
  _call(tokens) {
    let result = this.encode(tokens);
    if (this.fuse_unk) {
      result = fuse_unk(result, this.tokens_to_ids, this.unk_token_id);
    }
    return result;
  }
};
var TokenizerModel_default = TokenizerModel;
var WordPieceTokenizer = class extends TokenizerModel_default {
  /**
   * @param config The configuration object.
   */
  constructor(config) {
    super(config);
    this.max_input_chars_per_word = 100;
    this.tokens_to_ids = object_to_map(config.vocab);
    this.unk_token_id = this.tokens_to_ids.get(config.unk_token);
    this.unk_token = config.unk_token;
    this.max_input_chars_per_word = config.max_input_chars_per_word ?? 100;
    this.vocab = new Array(this.tokens_to_ids.size);
    for (const [key, value] of this.tokens_to_ids) {
      this.vocab[value] = key;
    }
  }
  /**
   * Encodes an array of tokens using WordPiece encoding.
   * @param tokens The tokens to encode.
   * @returns An array of encoded tokens.
   */
  encode(tokens) {
    const output_tokens = [];
    for (const token of tokens) {
      const chars = [...token];
      if (chars.length > this.max_input_chars_per_word) {
        output_tokens.push(this.unk_token);
        continue;
      }
      let is_unknown = false;
      let start = 0;
      const sub_tokens = [];
      while (start < chars.length) {
        let end = chars.length;
        let current_substring = null;
        while (start < end) {
          let substr = chars.slice(start, end).join("");
          if (start > 0) {
            substr = this.config.continuing_subword_prefix + substr;
          }
          if (this.tokens_to_ids.has(substr)) {
            current_substring = substr;
            break;
          }
          --end;
        }
        if (current_substring === null) {
          is_unknown = true;
          break;
        }
        sub_tokens.push(current_substring);
        start = end;
      }
      if (is_unknown) {
        output_tokens.push(this.unk_token);
      } else {
        output_tokens.push(...sub_tokens);
      }
    }
    return output_tokens;
  }
};
var WordPiece_default = WordPieceTokenizer;
var CharTrieNode = class _CharTrieNode {
  /**
   * Create a new CharTrieNode.
   * @param is_leaf Whether the node is a leaf node or not.
   * @param children A map containing the node's children, where the key is a character and the value is a `CharTrieNode`.
   */
  constructor(is_leaf, children) {
    this.is_leaf = is_leaf;
    this.children = children;
  }
  /**
   * Returns a new `CharTrieNode` instance with default values.
   * @returns A new `CharTrieNode` instance with `is_leaf` set to `false` and an empty `children` map.
   */
  static default() {
    return new _CharTrieNode(false, /* @__PURE__ */ new Map());
  }
};
var CharTrie = class {
  constructor() {
    this.root = CharTrieNode.default();
  }
  /**
   * Adds one or more `texts` to the trie.
   * @param texts The strings to add to the trie.
   */
  extend(texts) {
    for (const text of texts) {
      this.push(text);
    }
  }
  /**
   * Adds text to the trie.
   * @param text The string to add to the trie.
   */
  push(text) {
    let node = this.root;
    for (const ch of text) {
      let child = node.children.get(ch);
      if (child === void 0) {
        child = CharTrieNode.default();
        node.children.set(ch, child);
      }
      node = child;
    }
    node.is_leaf = true;
  }
  /**
   * Searches the trie for stored strings that match `chars` starting at `start`.
   * @param chars The input characters to search.
   * @param start The index to start searching from.
   * @yields Each stored string that is a prefix of `chars` starting at `start`.
   */
  *common_prefix_search(chars, start = 0) {
    let node = this.root;
    if (node === void 0) return;
    let prefix = "";
    for (let i = start; i < chars.length; ++i) {
      const ch = chars[i];
      prefix += ch;
      node = node.children.get(ch);
      if (node === void 0) return;
      if (node.is_leaf) {
        yield prefix;
      }
    }
  }
};
var CharTrie_default = CharTrie;
var TokenLatticeNode = class _TokenLatticeNode {
  /**
   * Represents a node in a token lattice for a given sentence.
   * @param token_id The ID of the token associated with this node.
   * @param node_id The ID of this node.
   * @param pos The starting position of the token in the sentence.
   * @param length The length of the token.
   * @param score The score associated with the token.
   */
  constructor(token_id, node_id, pos, length, score) {
    this.token_id = token_id;
    this.node_id = node_id;
    this.pos = pos;
    this.length = length;
    this.score = score;
    this.prev = null;
    this.backtrace_score = 0;
  }
  /**
   * Returns a clone of this node.
   * @returns A clone of this node.
   */
  clone() {
    const n = new _TokenLatticeNode(
      this.token_id,
      this.node_id,
      this.pos,
      this.length,
      this.score
    );
    n.prev = this.prev;
    n.backtrace_score = this.backtrace_score;
    return n;
  }
};
var TokenLattice = class {
  /**
   * Creates a new TokenLattice instance.
   *
   * @param sentence The input sentence to be tokenized.
   * @param bos_token_id The beginning-of-sequence token ID.
   * @param eos_token_id The end-of-sequence token ID.
   */
  constructor(sentence, bos_token_id, eos_token_id) {
    this.chars = Array.from(sentence);
    this.len = this.chars.length;
    this.bos_token_id = bos_token_id;
    this.eos_token_id = eos_token_id;
    this.nodes = [];
    this.begin_nodes = Array.from(
      { length: this.len + 1 },
      () => []
    );
    this.end_nodes = Array.from({ length: this.len + 1 }, () => []);
    const bos = new TokenLatticeNode(this.bos_token_id ?? 0, 0, 0, 0, 0);
    const eos = new TokenLatticeNode(
      this.eos_token_id ?? 0,
      1,
      this.len,
      0,
      0
    );
    this.nodes.push(bos.clone());
    this.nodes.push(eos.clone());
    this.begin_nodes[this.len].push(eos);
    this.end_nodes[0].push(bos);
  }
  /**
   * Inserts a new token node into the token lattice.
   *
   * @param pos The starting position of the token.
   * @param length The length of the token.
   * @param score The score of the token.
   * @param token_id The token ID of the token.
   */
  insert(pos, length, score, token_id) {
    const node_id = this.nodes.length;
    const node = new TokenLatticeNode(token_id, node_id, pos, length, score);
    this.begin_nodes[pos].push(node);
    this.end_nodes[pos + length].push(node);
    this.nodes.push(node);
  }
  /**
   * Implements the Viterbi algorithm to compute the most likely sequence of tokens.
   *
   * @returns The most likely sequence of tokens.
   */
  viterbi() {
    const len2 = this.len;
    let pos = 0;
    while (pos <= len2) {
      if (this.begin_nodes[pos].length == 0) {
        return [];
      }
      for (let rnode of this.begin_nodes[pos]) {
        rnode.prev = null;
        let best_score = 0;
        let best_node = null;
        for (let lnode of this.end_nodes[pos]) {
          const score = lnode.backtrace_score + rnode.score;
          if (best_node === null || score > best_score) {
            best_node = lnode.clone();
            best_score = score;
          }
        }
        if (best_node !== null) {
          rnode.prev = best_node;
          rnode.backtrace_score = best_score;
        } else {
          return [];
        }
      }
      ++pos;
    }
    const results = [];
    const root = this.begin_nodes[len2][0];
    const prev = root.prev;
    if (prev === null) {
      return [];
    }
    let node = prev.clone();
    while (node.prev !== null) {
      results.push(node.clone());
      const n = node.clone();
      node = n.prev.clone();
    }
    results.reverse();
    return results;
  }
  /**
   * Get the text piece for a given node.
   * @param node The node to get the piece for.
   * @returns The array of nodes representing the most likely sequence of tokens.
   */
  piece(node) {
    return this.chars.slice(node.pos, node.pos + node.length).join("");
  }
  /**
   * @returns The most likely sequence of tokens.
   */
  tokens() {
    const nodes = this.viterbi();
    return nodes.map((x) => this.piece(x));
  }
  /**
   * @returns The most likely sequence of token ids.
   */
  token_ids() {
    const nodes = this.viterbi();
    return nodes.map((x) => x.token_id);
  }
};
var TokenLattice_default = TokenLattice;
function min(arr) {
  if (arr.length === 0) throw new Error("Array must not be empty");
  let min_value = arr[0];
  let index_of_min = 0;
  for (let i = 1; i < arr.length; ++i) {
    if (arr[i] < min_value) {
      min_value = arr[i];
      index_of_min = i;
    }
  }
  return [min_value, index_of_min];
}
var Unigram = class extends TokenizerModel_default {
  /**
   * Create a new Unigram tokenizer model.
   * @param config The configuration object for the Unigram model.
   * @param eos_token
   */
  constructor(config, eos_token) {
    super(config);
    const vocab_size = config.vocab.length;
    this.vocab = new Array(vocab_size);
    this.scores = new Array(vocab_size);
    for (let i = 0; i < vocab_size; ++i) {
      [this.vocab[i], this.scores[i]] = config.vocab[i];
    }
    this.unk_token_id = config.unk_id;
    this.unk_token = this.vocab[config.unk_id];
    this.tokens_to_ids = new Map(this.vocab.map((x, i) => [x, i]));
    this.bos_token = " ";
    this.bos_token_id = this.tokens_to_ids.get(this.bos_token);
    this.eos_token = eos_token;
    this.eos_token_id = this.tokens_to_ids.get(this.eos_token);
    this.unk_token = this.vocab[this.unk_token_id];
    this.min_score = min(this.scores)[0];
    this.unk_score = this.min_score - 10;
    this.scores[this.unk_token_id] = this.unk_score;
    this.trie = new CharTrie_default();
    this.trie.extend(this.vocab);
    this.fuse_unk = true;
  }
  /**
   * Populates lattice nodes.
   * @param lattice The token lattice to populate with nodes.
   */
  populate_nodes(lattice) {
    const chars = lattice.chars;
    const mblen = 1;
    let begin_pos = 0;
    while (begin_pos < chars.length) {
      let has_single_node = false;
      const prefixed_tokens = this.trie.common_prefix_search(chars, begin_pos);
      for (const token of prefixed_tokens) {
        const token_id = this.tokens_to_ids.get(token);
        const token_score = this.scores[token_id];
        const n = len(token);
        lattice.insert(begin_pos, n, token_score, token_id);
        if (!has_single_node && n === mblen) {
          has_single_node = true;
        }
      }
      if (!has_single_node) {
        lattice.insert(begin_pos, mblen, this.unk_score, this.unk_token_id);
      }
      begin_pos += mblen;
    }
  }
  /**
   * Encodes an array of tokens into an array of subtokens using the unigram model.
   *
   * @param normalized The normalized string.
   * @returns An array of subtokens obtained by encoding the input tokens using the unigram model.
   */
  tokenize(normalized) {
    const lattice = new TokenLattice_default(
      normalized,
      this.bos_token_id,
      this.eos_token_id
    );
    this.populate_nodes(lattice);
    return lattice.tokens();
  }
  /**
   * Encodes an array of tokens using Unigram encoding.
   * @param tokens The tokens to encode.
   * @returns An array of encoded tokens.
   */
  encode(tokens) {
    const to_return = [];
    for (const token of tokens) {
      const tokenized = this.tokenize(token);
      to_return.push(...tokenized);
    }
    return to_return;
  }
};
var Unigram_default = Unigram;
var PriorityQueue = class {
  /**
   * Create a new PriorityQueue.
   * @param comparator Comparator function to determine priority. Defaults to a MaxHeap.
   * @param max_size Maximum size of the queue. Defaults to Infinity.
   */
  constructor(comparator = (a, b) => a > b, max_size = Infinity) {
    this._heap = [];
    this._comparator = comparator;
    this._max_size = max_size;
  }
  /**
   * The size of the queue
   */
  get size() {
    return this._heap.length;
  }
  /**
   * Check if the queue is empty.
   * @returns `true` if the queue is empty, `false` otherwise.
   */
  is_empty() {
    return this.size === 0;
  }
  /**
   * Return the element with the highest priority in the queue.
   * @returns The highest priority element in the queue.
   */
  peek() {
    return this._heap[0];
  }
  /**
   * Add one or more elements to the queue.
   * @param values The values to push into the queue.
   * @returns The new size of the queue.
   */
  push(...values) {
    return this.extend(values);
  }
  /**
   * Add multiple elements to the queue.
   * @param values The values to push into the queue.
   * @returns The new size of the queue.
   */
  extend(values) {
    for (const value of values) {
      if (this.size < this._max_size) {
        this._heap.push(value);
        this._sift_up();
      } else {
        const smallest = this._smallest();
        if (this._comparator(value, this._heap[smallest])) {
          this._heap[smallest] = value;
          this._sift_up_from(smallest);
        }
      }
    }
    return this.size;
  }
  /**
   * Remove and return the element with the highest priority in the queue.
   * @returns The element with the highest priority in the queue.
   */
  pop() {
    const popped_value = this.peek();
    const bottom = this.size - 1;
    if (bottom > 0) {
      this._swap(0, bottom);
    }
    this._heap.pop();
    this._sift_down();
    return popped_value;
  }
  /**
   * Replace the element with the highest priority in the queue with a new value.
   * @param value The new value.
   * @returns The replaced value.
   */
  replace(value) {
    const replaced_value = this.peek();
    this._heap[0] = value;
    this._sift_down();
    return replaced_value;
  }
  /**
   * Compute the index for the parent of the node at index `i`.
   * @param i The index of the node to get the parent of.
   * @returns The index of the parent node.
   * @private
   */
  _parent(i) {
    return (i + 1 >>> 1) - 1;
  }
  /**
   * Compute the index for the left child of the node at index `i`.
   * @param i The index of the node to get the left child of.
   * @returns The index of the left child.
   * @private
   */
  _left(i) {
    return (i << 1) + 1;
  }
  /**
   * Compute the index for the right child of the node at index `i`.
   * @param i The index of the node to get the right child of.
   * @returns The index of the right child.
   * @private
   */
  _right(i) {
    return i + 1 << 1;
  }
  /**
   * Check if the element at index `i` is greater than the element at index `j`.
   * @param i The index of the first element to compare.
   * @param j The index of the second element to compare.
   * @returns `true` if the element at index `i` is greater than the element at index `j`, `false` otherwise.
   * @private
   */
  _greater(i, j) {
    return this._comparator(this._heap[i], this._heap[j]);
  }
  /**
   * Swap the elements at indices `i` and `j`.
   * @param i The index of the first element to swap.
   * @param j The index of the second element to swap.
   * @private
   */
  _swap(i, j) {
    const temp = this._heap[i];
    this._heap[i] = this._heap[j];
    this._heap[j] = temp;
  }
  /**
   * Maintain the heap property by updating positions in the heap,
   * starting at the last element and moving up the heap.
   * @private
   */
  _sift_up() {
    this._sift_up_from(this.size - 1);
  }
  /**
   * Helper function to sift up from a given node.
   * @param node The index of the node to start sifting up from.
   */
  _sift_up_from(node) {
    while (node > 0 && this._greater(node, this._parent(node))) {
      this._swap(node, this._parent(node));
      node = this._parent(node);
    }
  }
  /**
   * Maintain the heap property by updating positions in the heap,
   * starting at the first element and moving down the heap.
   * @private
   */
  _sift_down() {
    let node = 0;
    while (this._left(node) < this.size && this._greater(this._left(node), node) || this._right(node) < this.size && this._greater(this._right(node), node)) {
      const max_child = this._right(node) < this.size && this._greater(this._right(node), this._left(node)) ? this._right(node) : this._left(node);
      this._swap(node, max_child);
      node = max_child;
    }
  }
  /**
   * Get the index of the smallest element in the heap. Since we use an array-based heap,
   * the index can be computed without needing to traverse the heap.
   * @private
   */
  _smallest() {
    return 2 ** Math.floor(Math.log2(this.size)) - 1;
  }
};
var PriorityQueue_default = PriorityQueue;
var LRUCache = class {
  /**
   * Creates an LRUCache instance.
   * @param capacity The maximum number of items the cache can hold.
   */
  constructor(capacity) {
    this.capacity = capacity;
    this.cache = /* @__PURE__ */ new Map();
  }
  /**
   * Retrieves the value associated with the given key and marks the key as recently used.
   * @param key The key to retrieve.
   * @returns The value associated with the key, or undefined if the key does not exist.
   */
  get(key) {
    if (!this.cache.has(key)) return void 0;
    const value = this.cache.get(key);
    this.cache.delete(key);
    this.cache.set(key, value);
    return value;
  }
  /**
   * Inserts or updates the key-value pair in the cache.
   * If the key already exists, it is updated and marked as recently used.
   * If the cache exceeds its capacity, the least recently used item is evicted.
   * @param key The key to add or update.
   * @param value The value to associate with the key.
   */
  put(key, value) {
    if (this.cache.has(key)) {
      this.cache.delete(key);
    }
    this.cache.set(key, value);
    if (this.cache.size > this.capacity) {
      this.cache.delete(this.cache.keys().next().value);
    }
  }
  /**
   * Clears the cache.
   */
  clear() {
    this.cache.clear();
  }
};
var LRUCache_default = LRUCache;
var BPE = class extends TokenizerModel_default {
  /**
   * Create a BPE instance.
   * @param config The configuration object for BPE.
   */
  constructor(config) {
    super(config);
    this.tokens_to_ids = object_to_map(config.vocab);
    this.unk_token_id = this.tokens_to_ids.get(config.unk_token);
    this.unk_token = config.unk_token;
    this.vocab = new Array(this.tokens_to_ids.size);
    for (const [key, value] of this.tokens_to_ids) {
      this.vocab[value] = key;
    }
    const use_new_merge_format = Array.isArray(config.merges[0]);
    this.merges = use_new_merge_format ? config.merges : config.merges.map(
      (x) => x.split(" ", 2)
    );
    this.bpe_ranks = new Map(this.merges.map((x, i) => [JSON.stringify(x), i]));
    this.end_of_word_suffix = config.end_of_word_suffix;
    this.continuing_subword_suffix = config.continuing_subword_suffix ?? null;
    this.byte_fallback = this.config.byte_fallback ?? false;
    if (this.byte_fallback) {
      this.text_encoder = new TextEncoder();
    }
    this.ignore_merges = this.config.ignore_merges ?? false;
    this.max_length_to_cache = 256;
    this.cache_capacity = 1e4;
    this.cache = new LRUCache_default(this.cache_capacity);
  }
  /**
   * Clears the cache.
   */
  clear_cache() {
    this.cache.clear();
  }
  /**
   * Apply Byte-Pair-Encoding (BPE) to a given token. Efficient heap-based priority
   * queue implementation adapted from https://github.com/belladoreai/llama-tokenizer-js.
   * @param token The token to encode.
   * @returns The BPE encoded tokens.
   */
  bpe(token) {
    if (token.length === 0) {
      return [];
    }
    const cached = this.cache.get(token);
    if (cached !== void 0) {
      return cached;
    }
    const word = Array.from(token);
    if (this.end_of_word_suffix) {
      word[word.length - 1] += this.end_of_word_suffix;
    }
    let result = [];
    if (word.length > 1) {
      const queue = new PriorityQueue_default((a, b) => a.score < b.score);
      let starting_node = {
        token: word[0],
        bias: 0,
        prev: null,
        next: null
      };
      let previous_node = starting_node;
      for (let i = 1; i < word.length; ++i) {
        const current_node = {
          bias: i / word.length,
          // Add fractional component to break ties
          token: word[i],
          prev: previous_node,
          next: null
        };
        previous_node.next = current_node;
        this.add_node(queue, previous_node);
        previous_node = current_node;
      }
      while (!queue.is_empty()) {
        const node = queue.pop();
        if (node.deleted || !node.next || node.next.deleted) continue;
        node.deleted = true;
        node.next.deleted = true;
        if (node.prev) {
          const new_previous_node = { ...node.prev };
          node.prev.deleted = true;
          node.prev = new_previous_node;
          if (new_previous_node.prev) {
            new_previous_node.prev.next = new_previous_node;
          } else {
            starting_node = new_previous_node;
          }
        }
        const merged = {
          token: node.token + node.next.token,
          bias: node.bias,
          prev: node.prev,
          next: node.next.next
        };
        if (merged.prev) {
          merged.prev.next = merged;
          this.add_node(queue, merged.prev);
        } else {
          starting_node = merged;
        }
        if (merged.next) {
          merged.next.prev = merged;
          this.add_node(queue, merged);
        }
      }
      for (let current_node = starting_node; current_node !== null; current_node = current_node.next) {
        result.push(current_node.token);
      }
    } else {
      result = word;
    }
    if (this.continuing_subword_suffix) {
      for (let i = 0; i < result.length - 1; ++i) {
        result[i] += this.continuing_subword_suffix;
      }
    }
    if (token.length < this.max_length_to_cache) {
      this.cache.put(token, result);
    }
    return result;
  }
  /**
   * Helper function to add a node to the priority queue.
   * @param queue
   * @param node
   */
  add_node(queue, node) {
    const rank = this.bpe_ranks.get(
      JSON.stringify([node.token, node.next.token])
    );
    if (rank !== void 0) {
      node.score = rank + node.bias;
      queue.push(node);
    }
  }
  /**
   * Encodes the input sequence of tokens using the BPE algorithm and returns the resulting subword tokens.
   * @param tokens The input sequence of tokens to encode.
   * @returns The resulting subword tokens after applying the BPE algorithm to the input sequence of tokens.
   */
  encode(tokens) {
    const output_tokens = [];
    for (const token of tokens) {
      if (this.ignore_merges && this.tokens_to_ids.has(token)) {
        output_tokens.push(token);
        continue;
      }
      const bpe_token_list = this.bpe(token);
      for (const t of bpe_token_list) {
        if (this.tokens_to_ids.has(t)) {
          output_tokens.push(t);
        } else if (this.byte_fallback) {
          const byte_tokens = Array.from(this.text_encoder.encode(t)).map(
            (x) => `<0x${x.toString(16).toUpperCase().padStart(2, "0")}>`
          );
          if (byte_tokens.every((x) => this.tokens_to_ids.has(x))) {
            output_tokens.push(...byte_tokens);
          } else if (this.unk_token != null) {
            output_tokens.push(this.unk_token);
          }
        } else if (this.unk_token != null) {
          output_tokens.push(this.unk_token);
        }
      }
    }
    return output_tokens;
  }
};
var BPE_default = BPE;
var Legacy = class extends TokenizerModel_default {
  /**
   * Create a Legacy tokenizer model instance.
   * @param config The configuration object for Legacy tokenizer model.
   * @param more_config Additional configuration object for the Legacy tokenizer model.
   */
  constructor(config, more_config) {
    super(config);
    const vocab = config.vocab;
    this.tokens_to_ids = object_to_map(
      more_config.target_lang ? vocab[more_config.target_lang] : vocab
    );
    this.bos_token = more_config.bos_token;
    this.bos_token_id = this.tokens_to_ids.get(this.bos_token);
    this.eos_token = more_config.eos_token;
    this.eos_token_id = this.tokens_to_ids.get(this.eos_token);
    this.pad_token = more_config.pad_token;
    this.pad_token_id = this.tokens_to_ids.get(this.pad_token);
    this.unk_token = more_config.unk_token;
    this.unk_token_id = this.tokens_to_ids.get(this.unk_token);
    this.vocab = new Array(this.tokens_to_ids.size);
    for (const [key, value] of this.tokens_to_ids) {
      this.vocab[value] = key;
    }
  }
  encode(tokens) {
    return tokens;
  }
};
var Legacy_default = Legacy;
function create_tokenizer_model(model_config, config) {
  switch (model_config.type) {
    case "WordPiece":
      return new WordPiece_default(model_config);
    case "Unigram":
      return new Unigram_default(model_config, config.eos_token);
    case "BPE":
      return new BPE_default(model_config);
    default:
      if (model_config.vocab) {
        if (Array.isArray(model_config.vocab)) {
          return new Unigram_default(model_config, config.eos_token);
        } else if (Object.hasOwn(model_config, "continuing_subword_prefix") && Object.hasOwn(model_config, "unk_token")) {
          if (Object.hasOwn(model_config, "merges")) {
            return new BPE_default(model_config);
          } else {
            return new WordPiece_default(model_config);
          }
        } else {
          return new Legacy_default(model_config, {
            target_lang: config.target_lang,
            bos_token: config.bos_token,
            eos_token: config.eos_token,
            pad_token: config.pad_token,
            unk_token: config.unk_token
          });
        }
      }
      throw new Error(
        `Unknown TokenizerModel type: ${model_config?.type}`
      );
  }
}
var create_tokenizer_model_default = create_tokenizer_model;
var PostProcessor = class extends Callable_default {
  /**
   * @param config The configuration for the post-processor.
   */
  constructor(config) {
    super();
    this.config = config;
  }
  /**
   * Alias for {@link PostProcessor#post_process}.
   * @param tokens The text or array of texts to post-process.
   * @param args Additional arguments required by the post-processing logic.
   * @returns The post-processed tokens.
   */
  _call(tokens, ...args) {
    return this.post_process(tokens, ...args);
  }
};
var PostProcessor_default = PostProcessor;
var TemplateProcessing = class extends PostProcessor_default {
  /**
   * Replaces special tokens in the template with actual tokens.
   * @param tokens The list of tokens for the first sequence.
   * @param tokens_pair The list of tokens for the second sequence (optional).
   * @param add_special_tokens Whether to add the special tokens to the beginning and end of the input.
   * @returns An object containing the list of tokens with the special tokens replaced with actual tokens.
   */
  post_process(tokens, tokens_pair = null, add_special_tokens = true) {
    const type = tokens_pair === null ? this.config.single : this.config.pair;
    let processed_tokens = [];
    let types = [];
    for (const item of type) {
      if ("SpecialToken" in item) {
        if (add_special_tokens) {
          processed_tokens.push(item.SpecialToken.id);
          types.push(item.SpecialToken.type_id);
        }
      } else if ("Sequence" in item) {
        if (item.Sequence.id === "A") {
          processed_tokens = merge_arrays(processed_tokens, tokens);
          types = merge_arrays(
            types,
            new Array(tokens.length).fill(item.Sequence.type_id)
          );
        } else if (item.Sequence.id === "B") {
          processed_tokens = merge_arrays(processed_tokens, tokens_pair);
          types = merge_arrays(
            types,
            new Array(tokens_pair.length).fill(item.Sequence.type_id)
          );
        }
      }
    }
    return { tokens: processed_tokens, token_type_ids: types };
  }
};
var TemplateProcessing_default = TemplateProcessing;
var ByteLevel2 = class extends PostProcessor_default {
  /**
   * Post process the given tokens.
   * @param tokens The list of tokens for the first sequence.
   * @param tokens_pair The list of tokens for the second sequence (optional).
   * @returns An object containing the post-processed tokens.
   */
  post_process(tokens, tokens_pair = null) {
    return { tokens, tokens_pair };
  }
};
var ByteLevel_default2 = ByteLevel2;
var BertProcessing = class extends PostProcessor_default {
  /**
   * @param config The configuration for the post-processor.
   * @param config.cls The special tokens to add to the beginning of the input.
   * @param config.sep The special tokens to add to the end of the input.
   */
  constructor(config) {
    super(config);
    this.sep = config.sep;
    this.cls = config.cls;
  }
  /**
   * Adds the special tokens to the beginning and end of the input.
   * @param tokens The input tokens.
   * @param tokens_pair An optional second set of input tokens.
   * @param add_special_tokens Whether to add the special tokens to the beginning and end of the input.
   * @returns The post-processed tokens with the special tokens added to the beginning and end.
   */
  post_process(tokens, tokens_pair = null, add_special_tokens = true) {
    if (add_special_tokens) {
      tokens = merge_arrays([this.cls[0]], tokens, [this.sep[0]]);
    }
    let token_type_ids = new Array(tokens.length).fill(0);
    if (tokens_pair) {
      const middle = [];
      const after = add_special_tokens ? [this.sep[0]] : [];
      tokens = merge_arrays(tokens, middle, tokens_pair, after);
      token_type_ids = merge_arrays(
        token_type_ids,
        new Array(tokens_pair.length + middle.length + after.length).fill(1)
      );
    }
    return { tokens, token_type_ids };
  }
};
var BertProcessing_default = BertProcessing;
var RobertaProcessing = class extends PostProcessor_default {
  /**
   * @param config The configuration for the post-processor.
   * @param config.cls The special tokens to add to the beginning of the input.
   * @param config.sep The special tokens to add to the end of the input.
   */
  constructor(config) {
    super(config);
    this.sep = config.sep;
    this.cls = config.cls;
  }
  /**
   * Adds the special tokens to the beginning and end of the input.
   * @param tokens The input tokens.
   * @param tokens_pair An optional second set of input tokens.
   * @param add_special_tokens Whether to add the special tokens to the beginning and end of the input.
   * @returns The post-processed tokens with the special tokens added to the beginning and end.
   */
  post_process(tokens, tokens_pair, add_special_tokens = true) {
    if (add_special_tokens) {
      tokens = merge_arrays([this.cls[0]], tokens, [this.sep[0]]);
    }
    let token_type_ids = new Array(tokens.length).fill(0);
    if (tokens_pair) {
      const middle = add_special_tokens ? [this.sep[0]] : [];
      const after = add_special_tokens ? [this.sep[0]] : [];
      tokens = merge_arrays(tokens, middle, tokens_pair, after);
      token_type_ids = merge_arrays(
        token_type_ids,
        new Array(tokens_pair.length + middle.length + after.length).fill(1)
      );
    }
    return { tokens, token_type_ids };
  }
};
var RobertaProcessing_default = RobertaProcessing;
var Sequence3 = class extends PostProcessor_default {
  /**
   * Creates a new instance of Sequence post-processor.
   * @param config The configuration object.
   */
  constructor(config) {
    super(config);
    this.processors = (config.processors ?? []).map((x) => create_post_processor_default(x));
  }
  /**
   * Post process the given tokens.
   * @param tokens The list of tokens for the first sequence.
   * @param tokens_pair The list of tokens for the second sequence (optional).
   * @param add_special_tokens Whether to add the special tokens to the beginning and end of the input.
   * @returns An object containing the post-processed tokens.
   */
  post_process(tokens, tokens_pair = null, add_special_tokens = true) {
    let processed_tokens = { tokens, tokens_pair };
    for (const processor of this.processors) {
      processed_tokens = processor.post_process(
        processed_tokens.tokens,
        processed_tokens.tokens_pair,
        add_special_tokens
      );
    }
    return processed_tokens;
  }
};
var Sequence_default3 = Sequence3;
function create_post_processor(config) {
  if (config === null) return null;
  switch (config.type) {
    case "TemplateProcessing":
      return new TemplateProcessing_default(config);
    case "ByteLevel":
      return new ByteLevel_default2(config);
    case "BertProcessing":
      return new BertProcessing_default(config);
    case "RobertaProcessing":
      return new RobertaProcessing_default(config);
    case "Sequence":
      return new Sequence_default3(config);
    default:
      throw new Error(`Unknown PostProcessor type: ${config.type}`);
  }
}
var create_post_processor_default = create_post_processor;
var Decoder = class extends Callable_default {
  /**
   * Creates an instance of `Decoder`.
   * @param config The configuration object.
   **/
  constructor(config) {
    super();
    this.config = config;
    this.added_tokens = [];
    this.end_of_word_suffix = null;
    this.trim_offsets = "trim_offsets" in config ? config.trim_offsets : false;
  }
  /**
   * Calls the `decode` method.
   *
   * @param tokens The list of tokens.
   * @returns The decoded string.
   */
  _call(tokens) {
    return this.decode(tokens);
  }
  /**
   * Decodes a list of tokens.
   * @param tokens The list of tokens.
   * @returns The decoded string.
   */
  decode(tokens) {
    return this.decode_chain(tokens).join("");
  }
};
var Decoder_default = Decoder;
var ByteLevel3 = class extends Decoder_default {
  /**
   * Create a `ByteLevelDecoder` object.
   */
  constructor(config) {
    super(config);
    this.byte_decoder = UNICODE_TO_BYTES;
    this.text_decoder = new TextDecoder("utf-8", {
      fatal: false,
      // eslint-disable-next-line @typescript-eslint/naming-convention
      ignoreBOM: true
    });
    this.end_of_word_suffix = null;
  }
  /**
   * Convert an array of tokens to string by decoding each byte.
   * @param tokens Array of tokens to be decoded.
   * @returns The decoded string.
   */
  convert_tokens_to_string(tokens) {
    const text = tokens.join("");
    const byte_array = new Uint8Array(
      [...text].map((c) => this.byte_decoder[c])
    );
    return this.text_decoder.decode(byte_array);
  }
  decode_chain(tokens) {
    const sub_texts = [];
    let current_sub_text = [];
    for (const token of tokens) {
      if (this.added_tokens.find((x) => x.content === token) !== void 0) {
        if (current_sub_text.length > 0) {
          sub_texts.push(this.convert_tokens_to_string(current_sub_text));
          current_sub_text = [];
        }
        sub_texts.push(token);
      } else {
        current_sub_text.push(token);
      }
    }
    if (current_sub_text.length > 0) {
      sub_texts.push(this.convert_tokens_to_string(current_sub_text));
    }
    return sub_texts;
  }
};
var ByteLevel_default3 = ByteLevel3;
var WordPiece = class extends Decoder_default {
  /**
   * Creates a new instance of WordPieceDecoder.
   * @param config The configuration object.
   */
  constructor(config) {
    super(config);
    this.cleanup = config.cleanup;
  }
  decode_chain(tokens) {
    return tokens.map((token, i) => {
      if (i !== 0) {
        const prefix = this.config.prefix;
        if (prefix && token.startsWith(prefix)) {
          token = token.replace(prefix, "");
        } else {
          token = " " + token;
        }
      }
      if (this.cleanup) {
        token = clean_up_tokenization(token);
      }
      return token;
    });
  }
};
var WordPiece_default2 = WordPiece;
var Metaspace2 = class extends Decoder_default {
  /**
   * Constructs a new MetaspaceDecoder object.
   * @param config The configuration object for the MetaspaceDecoder.
   */
  constructor(config) {
    super(config);
    this.replacement = config.replacement ?? "\u2581";
  }
  decode_chain(tokens) {
    const result = [];
    for (let i = 0; i < tokens.length; ++i) {
      let normalized = tokens[i].replaceAll(this.replacement, " ");
      if (i == 0 && normalized.startsWith(" ")) {
        normalized = normalized.substring(1);
      }
      result.push(normalized);
    }
    return result;
  }
};
var Metaspace_default2 = Metaspace2;
var BPE2 = class extends Decoder_default {
  constructor(config) {
    super(config);
    this.suffix = config.suffix ?? "";
  }
  decode_chain(tokens) {
    return tokens.map((token, i) => {
      return token.replaceAll(this.suffix, i === tokens.length - 1 ? "" : " ");
    });
  }
};
var BPE_default2 = BPE2;
var CTC = class extends Decoder_default {
  constructor(config) {
    super(config);
    this.pad_token = config.pad_token ?? "";
    this.word_delimiter_token = config.word_delimiter_token ?? "";
    this.cleanup = config.cleanup;
  }
  /**
   * Converts a connectionist-temporal-classification (CTC) output tokens into a single string.
   * @param tokens Array of tokens to be decoded.
   * @returns The decoded string.
   */
  convert_tokens_to_string(tokens) {
    if (tokens.length === 0) return "";
    const grouped_tokens = [tokens[0]];
    for (let i = 1; i < tokens.length; ++i) {
      if (tokens[i] !== grouped_tokens.at(-1)) {
        grouped_tokens.push(tokens[i]);
      }
    }
    const filtered_tokens = grouped_tokens.filter(
      (token) => token !== this.pad_token
    );
    let text = filtered_tokens.join("");
    if (this.cleanup) {
      text = clean_up_tokenization(text).replaceAll(this.word_delimiter_token, " ").trim();
    }
    return text;
  }
  decode_chain(tokens) {
    return [this.convert_tokens_to_string(tokens)];
  }
};
var CTC_default = CTC;
var Sequence4 = class extends Decoder_default {
  /**
   * Creates a new instance of DecoderSequence.
   * @param config The configuration object.
   */
  constructor(config) {
    super(config);
    this.decoders = (config.decoders ?? []).map((x) => create_decoder_default(x));
  }
  decode_chain(tokens) {
    return this.decoders.reduce((toks, decoder) => {
      return decoder.decode_chain(toks);
    }, tokens);
  }
};
var Sequence_default4 = Sequence4;
var Replace3 = class extends Decoder_default {
  /**
   * @param config The configuration object for the decoder.
   */
  constructor(config) {
    super(config);
    this.pattern = create_pattern(this.config.pattern);
  }
  decode_chain(tokens) {
    const content = this.config.content ?? "";
    const pattern = this.pattern;
    return pattern === null ? tokens : tokens.map((token) => token.replaceAll(pattern, content));
  }
};
var Replace_default3 = Replace3;
var Fuse = class extends Decoder_default {
  decode_chain(tokens) {
    return [tokens.join("")];
  }
};
var Fuse_default = Fuse;
var Strip2 = class extends Decoder_default {
  constructor(config) {
    super(config);
    this.content = config.content ?? "";
    this.start = config.start ?? 0;
    this.stop = config.stop ?? 0;
  }
  decode_chain(tokens) {
    return tokens.map((token) => {
      let start_cut = 0;
      for (let i = 0; i < this.start; ++i) {
        if (token[i] === this.content) {
          start_cut = i + 1;
          continue;
        } else {
          break;
        }
      }
      let stop_cut = token.length;
      for (let i = 0; i < this.stop; ++i) {
        const index = token.length - i - 1;
        if (token[index] === this.content) {
          stop_cut = index;
          continue;
        } else {
          break;
        }
      }
      return token.slice(start_cut, stop_cut);
    });
  }
};
var Strip_default2 = Strip2;
var ByteFallback = class extends Decoder_default {
  constructor(config) {
    super(config);
    this.text_decoder = new TextDecoder();
  }
  decode_chain(tokens) {
    const new_tokens = [];
    let previous_byte_tokens = [];
    for (const token of tokens) {
      let bytes = null;
      if (token.length === 6 && token.startsWith("<0x") && token.endsWith(">")) {
        const byte = parseInt(token.slice(3, 5), 16);
        if (!isNaN(byte)) {
          bytes = byte;
        }
      }
      if (bytes !== null) {
        previous_byte_tokens.push(bytes);
      } else {
        if (previous_byte_tokens.length > 0) {
          const string = this.text_decoder.decode(
            Uint8Array.from(previous_byte_tokens)
          );
          new_tokens.push(string);
          previous_byte_tokens = [];
        }
        new_tokens.push(token);
      }
    }
    if (previous_byte_tokens.length > 0) {
      const string = this.text_decoder.decode(
        Uint8Array.from(previous_byte_tokens)
      );
      new_tokens.push(string);
      previous_byte_tokens = [];
    }
    return new_tokens;
  }
};
var ByteFallback_default = ByteFallback;
function create_decoder(config) {
  if (config === null) return null;
  switch (config.type) {
    case "ByteLevel":
      return new ByteLevel_default3(config);
    case "WordPiece":
      return new WordPiece_default2(config);
    case "Metaspace":
      return new Metaspace_default2(config);
    case "BPEDecoder":
      return new BPE_default2(config);
    case "CTC":
      return new CTC_default(config);
    case "Sequence":
      return new Sequence_default4(config);
    case "Replace":
      return new Replace_default3(config);
    case "Fuse":
      return new Fuse_default(config);
    case "Strip":
      return new Strip_default2(config);
    case "ByteFallback":
      return new ByteFallback_default(config);
    default:
      throw new Error(`Unknown Decoder type: ${config.type}`);
  }
}
var create_decoder_default = create_decoder;
var Tokenizer = class {
  constructor(tokenizer, config) {
    const tokenizer_error = validate_object(tokenizer, "Tokenizer", [
      "model",
      "decoder",
      "post_processor",
      "pre_tokenizer",
      "normalizer"
    ]);
    if (tokenizer_error) {
      throw new Error(tokenizer_error);
    }
    const config_error = validate_object(config, "Config");
    if (config_error) {
      throw new Error(config_error);
    }
    this.tokenizer = tokenizer;
    this.config = config;
    this.normalizer = create_normalizer_default(this.tokenizer.normalizer);
    this.pre_tokenizer = create_pre_tokenizer_default(this.tokenizer.pre_tokenizer);
    this.model = create_tokenizer_model_default(this.tokenizer.model, this.config);
    this.post_processor = create_post_processor_default(this.tokenizer.post_processor);
    this.decoder = create_decoder_default(this.tokenizer.decoder);
    this.special_tokens = [];
    this.all_special_ids = [];
    this.added_tokens = [];
    const unnormalized_contents = [];
    const normalized_contents = [];
    this.added_tokens_map = /* @__PURE__ */ new Map();
    for (const added_token of this.tokenizer.added_tokens) {
      const token = new AddedToken_default(added_token);
      this.added_tokens.push(token);
      this.model.tokens_to_ids.set(token.content, token.id);
      this.model.vocab[token.id] = token.content;
      if (token.special) {
        this.special_tokens.push(token.content);
        this.all_special_ids.push(token.id);
      }
      this.added_tokens_map.set(token.content, token);
      if (token.normalized && this.normalizer !== null) {
        const normalized_content = this.normalizer(token.content);
        normalized_contents.push(normalized_content);
        this.added_tokens_map.set(normalized_content, token);
      } else {
        unnormalized_contents.push(token.content);
      }
    }
    (this.config.additional_special_tokens ?? []).forEach((token) => {
      if (!this.special_tokens.includes(token)) this.special_tokens.push(token);
    });
    if (this.decoder) {
      this.decoder.added_tokens = this.added_tokens;
      this.decoder.end_of_word_suffix = this.model.end_of_word_suffix;
    }
    this.splitter_unnormalized = new DictionarySplitter_default(unnormalized_contents);
    this.splitter_normalized = new DictionarySplitter_default(normalized_contents);
    this.remove_space = this.config.remove_space;
    this.clean_up_tokenization_spaces = this.config.clean_up_tokenization_spaces ?? true;
    this.do_lowercase_and_remove_accent = this.config.do_lowercase_and_remove_accent ?? false;
  }
  // Implementation
  encode(text, {
    text_pair = null,
    add_special_tokens = true,
    return_token_type_ids = null
  } = {}) {
    const { tokens, token_type_ids } = this.tokenize_helper(text, {
      text_pair,
      add_special_tokens
    });
    const input_ids = tokens.map(
      (t) => this.added_tokens_map.get(t)?.id ?? this.model.tokens_to_ids.get(t) ?? this.model.unk_token_id
    );
    const result = {
      ids: input_ids,
      tokens,
      attention_mask: new Array(input_ids.length).fill(1)
    };
    if (return_token_type_ids && token_type_ids) {
      result.token_type_ids = token_type_ids;
    }
    return result;
  }
  decode(token_ids, options2 = {}) {
    if (!Array.isArray(token_ids) || token_ids.length === 0 || !is_integral_number(token_ids[0])) {
      throw Error("token_ids must be a non-empty array of integers.");
    }
    let tokens = token_ids.map(
      (i) => this.model.vocab[Number(i)] ?? this.model.unk_token
    );
    if (options2.skip_special_tokens) {
      tokens = tokens.filter((x) => !this.special_tokens.includes(x));
    }
    let decoded = this.decoder ? this.decoder(tokens) : tokens.join(" ");
    if (this.decoder && this.decoder.end_of_word_suffix) {
      decoded = decoded.replaceAll(this.decoder.end_of_word_suffix, " ");
      if (options2.skip_special_tokens) {
        decoded = decoded.trim();
      }
    }
    if (options2.clean_up_tokenization_spaces ?? this.clean_up_tokenization_spaces) {
      decoded = clean_up_tokenization(decoded);
    }
    return decoded;
  }
  /**
   * Converts a string into a sequence of tokens.
   * @param text The sequence to be encoded.
   * @param options An optional object containing the following properties:
   * @returns The list of tokens.
   */
  tokenize(text, { text_pair = null, add_special_tokens = false } = {}) {
    return this.tokenize_helper(text, { text_pair, add_special_tokens }).tokens;
  }
  encode_text(text) {
    if (text === null) {
      return null;
    }
    const sections = this.splitter_unnormalized.split(text);
    sections.forEach((section, i) => {
      const added_token = this.added_tokens_map.get(section);
      if (added_token) {
        if (added_token.lstrip && i > 0) {
          sections[i - 1] = sections[i - 1].trimEnd();
        }
        if (added_token.rstrip && i < sections.length - 1) {
          sections[i + 1] = sections[i + 1].trimStart();
        }
      }
    });
    return sections.flatMap((processed_text, section_index) => {
      if (processed_text.length === 0) {
        return [];
      }
      if (this.added_tokens_map.has(processed_text)) {
        return [processed_text];
      }
      if (this.remove_space === true) {
        processed_text = processed_text.trim().split(/\s+/).join(" ");
      }
      if (this.do_lowercase_and_remove_accent) {
        processed_text = lowercase_and_remove_accents(processed_text);
      }
      if (this.normalizer !== null) {
        processed_text = this.normalizer(processed_text);
      }
      if (processed_text.length === 0) {
        return [];
      }
      const subsections = this.splitter_normalized.split(processed_text);
      subsections.forEach((subsection, j) => {
        const added_token = this.added_tokens_map.get(subsection);
        if (added_token) {
          if (added_token.lstrip && j > 0) {
            subsections[j - 1] = subsections[j - 1].trimEnd();
          }
          if (added_token.rstrip && j < subsections.length - 1) {
            subsections[j + 1] = subsections[j + 1].trimStart();
          }
        }
      });
      return subsections.flatMap((subsection) => {
        if (subsection.length === 0) {
          return [];
        }
        if (this.added_tokens_map.has(subsection)) {
          return [subsection];
        }
        const section_tokens = this.pre_tokenizer !== null ? this.pre_tokenizer(subsection, {
          section_index
        }) : [subsection];
        return this.model(section_tokens);
      });
    });
  }
  tokenize_helper(text, { text_pair = null, add_special_tokens = true }) {
    const tokens1 = this.encode_text(text);
    const tokens2 = this.encode_text(text_pair || null);
    return this.post_processor ? this.post_processor(tokens1, tokens2, add_special_tokens) : { tokens: merge_arrays(tokens1 ?? [], tokens2 ?? []) };
  }
  /**
   * Converts a token string to its corresponding token ID.
   * @param token The token string to convert.
   * @returns The token ID, or undefined if the token is not in the vocabulary.
   */
  token_to_id(token) {
    return this.model.tokens_to_ids.get(token);
  }
  /**
   * Converts a token ID to its corresponding token string.
   * @param id The token ID to convert.
   * @returns The token string, or undefined if the ID is not in the vocabulary.
   */
  id_to_token(id) {
    return this.model.vocab[id];
  }
  /**
   * Returns a mapping of token IDs to AddedToken objects for all added tokens.
   * @returns A Map where keys are token IDs and values are AddedToken objects.
   */
  get_added_tokens_decoder() {
    const decoder = /* @__PURE__ */ new Map();
    for (const token of this.added_tokens) {
      decoder.set(token.id, token);
    }
    return decoder;
  }
  /**
   * Get the underlying vocabulary
   * @param with_added_tokens Whether to include the added tokens
   * @returns The vocabulary
   */
  get_vocab(with_added_tokens = true) {
    const vocab = /* @__PURE__ */ new Map();
    for (let i = 0; i < this.model.vocab.length; ++i) {
      const token = this.model.vocab[i];
      if (with_added_tokens || !this.added_tokens_map.has(token)) {
        vocab.set(token, i);
      }
    }
    return vocab;
  }
};
var Tokenizer_default = Tokenizer;

// node_modules/.pnpm/@huggingface+jinja@0.5.11/node_modules/@huggingface/jinja/dist/index.js
var __defProp = Object.defineProperty;
var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;
var __publicField = (obj, key, value) => {
  __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);
  return value;
};
var TOKEN_TYPES = Object.freeze({
  Text: "Text",
  // The text between Jinja statements or expressions
  NumericLiteral: "NumericLiteral",
  // e.g., 123, 1.0
  StringLiteral: "StringLiteral",
  // 'string'
  Identifier: "Identifier",
  // Variables, functions, statements, booleans, etc.
  Equals: "Equals",
  // =
  OpenParen: "OpenParen",
  // (
  CloseParen: "CloseParen",
  // )
  OpenStatement: "OpenStatement",
  // {%
  CloseStatement: "CloseStatement",
  // %}
  OpenExpression: "OpenExpression",
  // {{
  CloseExpression: "CloseExpression",
  // }}
  OpenSquareBracket: "OpenSquareBracket",
  // [
  CloseSquareBracket: "CloseSquareBracket",
  // ]
  OpenCurlyBracket: "OpenCurlyBracket",
  // {
  CloseCurlyBracket: "CloseCurlyBracket",
  // }
  Comma: "Comma",
  // ,
  Dot: "Dot",
  // .
  Colon: "Colon",
  // :
  Pipe: "Pipe",
  // |
  CallOperator: "CallOperator",
  // ()
  AdditiveBinaryOperator: "AdditiveBinaryOperator",
  // + - ~
  MultiplicativeBinaryOperator: "MultiplicativeBinaryOperator",
  // * / // %
  ExponentiationBinaryOperator: "ExponentiationBinaryOperator",
  // **
  ComparisonBinaryOperator: "ComparisonBinaryOperator",
  // < > <= >= == !=
  UnaryOperator: "UnaryOperator",
  // ! - +
  Comment: "Comment"
  // {# ... #}
});
var Token = class {
  /**
   * Constructs a new Token.
   * @param {string} value The raw value as seen inside the source code.
   * @param {TokenType} type The type of token.
   */
  constructor(value, type) {
    this.value = value;
    this.type = type;
  }
};
function isWord(char) {
  return /\w/.test(char);
}
function isInteger(char) {
  return /[0-9]/.test(char);
}
function isWhitespace(char) {
  return /\s/.test(char);
}
var ORDERED_MAPPING_TABLE = [
  // Control sequences
  ["{%", TOKEN_TYPES.OpenStatement],
  ["%}", TOKEN_TYPES.CloseStatement],
  ["{{", TOKEN_TYPES.OpenExpression],
  ["}}", TOKEN_TYPES.CloseExpression],
  // Single character tokens
  ["(", TOKEN_TYPES.OpenParen],
  [")", TOKEN_TYPES.CloseParen],
  ["{", TOKEN_TYPES.OpenCurlyBracket],
  ["}", TOKEN_TYPES.CloseCurlyBracket],
  ["[", TOKEN_TYPES.OpenSquareBracket],
  ["]", TOKEN_TYPES.CloseSquareBracket],
  [",", TOKEN_TYPES.Comma],
  [".", TOKEN_TYPES.Dot],
  [":", TOKEN_TYPES.Colon],
  ["|", TOKEN_TYPES.Pipe],
  // Comparison operators
  ["<=", TOKEN_TYPES.ComparisonBinaryOperator],
  [">=", TOKEN_TYPES.ComparisonBinaryOperator],
  ["==", TOKEN_TYPES.ComparisonBinaryOperator],
  ["!=", TOKEN_TYPES.ComparisonBinaryOperator],
  ["<", TOKEN_TYPES.ComparisonBinaryOperator],
  [">", TOKEN_TYPES.ComparisonBinaryOperator],
  // Arithmetic operators
  ["+", TOKEN_TYPES.AdditiveBinaryOperator],
  ["-", TOKEN_TYPES.AdditiveBinaryOperator],
  ["~", TOKEN_TYPES.AdditiveBinaryOperator],
  ["**", TOKEN_TYPES.ExponentiationBinaryOperator],
  // NOTE: must come before "*" so that "**" is matched first
  ["*", TOKEN_TYPES.MultiplicativeBinaryOperator],
  ["//", TOKEN_TYPES.MultiplicativeBinaryOperator],
  // NOTE: must come before "/" so that "//" is matched first
  ["/", TOKEN_TYPES.MultiplicativeBinaryOperator],
  ["%", TOKEN_TYPES.MultiplicativeBinaryOperator],
  // Assignment operator
  ["=", TOKEN_TYPES.Equals]
];
var ESCAPE_CHARACTERS = /* @__PURE__ */ new Map([
  ["n", "\n"],
  // New line
  ["t", "	"],
  // Horizontal tab
  ["r", "\r"],
  // Carriage return
  ["b", "\b"],
  // Backspace
  ["f", "\f"],
  // Form feed
  ["v", "\v"],
  // Vertical tab
  ["'", "'"],
  // Single quote
  ['"', '"'],
  // Double quote
  ["\\", "\\"]
  // Backslash
]);
function preprocess(template, options2 = {}) {
  if (template.endsWith("\n")) {
    template = template.slice(0, -1);
  }
  if (options2.lstrip_blocks) {
    template = template.replace(/^[ \t]*({[#%-])/gm, "$1");
  }
  if (options2.trim_blocks) {
    template = template.replace(/([#%-]})\n/g, "$1");
  }
  return template.replace(
    /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs,
    (_, before, lstrip, rstrip, after) => (lstrip ? "" : before) + (rstrip ? "" : after)
  );
}
function tokenize(source, options2 = {}) {
  const tokens = [];
  const src = preprocess(source, options2);
  let cursorPosition = 0;
  let curlyBracketDepth = 0;
  const consumeWhile = (predicate) => {
    let str2 = "";
    while (predicate(src[cursorPosition])) {
      if (src[cursorPosition] === "\\") {
        ++cursorPosition;
        if (cursorPosition >= src.length) {
          throw new SyntaxError("Unexpected end of input");
        }
        const escaped = src[cursorPosition++];
        if (escaped === "x" || escaped === "u") {
          const length = escaped === "x" ? 2 : 4;
          const hex = src.slice(cursorPosition, cursorPosition + length);
          if (hex.length !== length || /[^0-9a-f]/i.test(hex)) {
            throw new SyntaxError(`Invalid hexadecimal escape sequence: \\${escaped}${hex}`);
          }
          str2 += String.fromCharCode(parseInt(hex, 16));
          cursorPosition += length;
          continue;
        }
        const unescaped = ESCAPE_CHARACTERS.get(escaped);
        if (unescaped === void 0) {
          throw new SyntaxError(`Unexpected escaped character: ${escaped}`);
        }
        str2 += unescaped;
        continue;
      }
      str2 += src[cursorPosition++];
      if (cursorPosition >= src.length) {
        throw new SyntaxError("Unexpected end of input");
      }
    }
    return str2;
  };
  const stripTrailingWhitespace = () => {
    const lastToken = tokens.at(-1);
    if (lastToken && lastToken.type === TOKEN_TYPES.Text) {
      lastToken.value = lastToken.value.trimEnd();
      if (lastToken.value === "") {
        tokens.pop();
      }
    }
  };
  const skipLeadingWhitespace = () => {
    while (cursorPosition < src.length && isWhitespace(src[cursorPosition])) {
      ++cursorPosition;
    }
  };
  main:
    while (cursorPosition < src.length) {
      const lastTokenType = tokens.at(-1)?.type;
      if (lastTokenType === void 0 || lastTokenType === TOKEN_TYPES.CloseStatement || lastTokenType === TOKEN_TYPES.CloseExpression || lastTokenType === TOKEN_TYPES.Comment) {
        let text = "";
        while (cursorPosition < src.length && // Keep going until we hit the next Jinja statement or expression
        !(src[cursorPosition] === "{" && (src[cursorPosition + 1] === "%" || src[cursorPosition + 1] === "{" || src[cursorPosition + 1] === "#"))) {
          text += src[cursorPosition++];
        }
        if (text.length > 0) {
          tokens.push(new Token(text, TOKEN_TYPES.Text));
          continue;
        }
      }
      if (src[cursorPosition] === "{" && src[cursorPosition + 1] === "#") {
        cursorPosition += 2;
        const stripBefore = src[cursorPosition] === "-";
        if (stripBefore) {
          ++cursorPosition;
        }
        let comment = "";
        while (src[cursorPosition] !== "#" || src[cursorPosition + 1] !== "}") {
          if (cursorPosition + 2 >= src.length) {
            throw new SyntaxError("Missing end of comment tag");
          }
          comment += src[cursorPosition++];
        }
        const stripAfter = comment.endsWith("-");
        if (stripAfter) {
          comment = comment.slice(0, -1);
        }
        if (stripBefore) {
          stripTrailingWhitespace();
        }
        tokens.push(new Token(comment, TOKEN_TYPES.Comment));
        cursorPosition += 2;
        if (stripAfter) {
          skipLeadingWhitespace();
        }
        continue;
      }
      if (src.slice(cursorPosition, cursorPosition + 3) === "{%-") {
        stripTrailingWhitespace();
        tokens.push(new Token("{%", TOKEN_TYPES.OpenStatement));
        cursorPosition += 3;
        continue;
      }
      if (src.slice(cursorPosition, cursorPosition + 3) === "{{-") {
        stripTrailingWhitespace();
        tokens.push(new Token("{{", TOKEN_TYPES.OpenExpression));
        curlyBracketDepth = 0;
        cursorPosition += 3;
        continue;
      }
      consumeWhile(isWhitespace);
      if (src.slice(cursorPosition, cursorPosition + 3) === "-%}") {
        tokens.push(new Token("%}", TOKEN_TYPES.CloseStatement));
        cursorPosition += 3;
        skipLeadingWhitespace();
        continue;
      }
      if (src.slice(cursorPosition, cursorPosition + 3) === "-}}") {
        tokens.push(new Token("}}", TOKEN_TYPES.CloseExpression));
        cursorPosition += 3;
        skipLeadingWhitespace();
        continue;
      }
      const char = src[cursorPosition];
      if (char === "-" || char === "+") {
        const lastTokenType2 = tokens.at(-1)?.type;
        if (lastTokenType2 === TOKEN_TYPES.Text || lastTokenType2 === void 0) {
          throw new SyntaxError(`Unexpected character: ${char}`);
        }
        switch (lastTokenType2) {
          case TOKEN_TYPES.Identifier:
          case TOKEN_TYPES.NumericLiteral:
          case TOKEN_TYPES.StringLiteral:
          case TOKEN_TYPES.CloseParen:
          case TOKEN_TYPES.CloseSquareBracket:
            break;
          default: {
            ++cursorPosition;
            let num = consumeWhile(isInteger);
            if (num.length > 0 && src[cursorPosition] === "." && isInteger(src[cursorPosition + 1])) {
              ++cursorPosition;
              const frac = consumeWhile(isInteger);
              num = `${num}.${frac}`;
            }
            tokens.push(
              new Token(`${char}${num}`, num.length > 0 ? TOKEN_TYPES.NumericLiteral : TOKEN_TYPES.UnaryOperator)
            );
            continue;
          }
        }
      }
      for (const [seq, type] of ORDERED_MAPPING_TABLE) {
        if (seq === "}}" && curlyBracketDepth > 0) {
          continue;
        }
        const slice2 = src.slice(cursorPosition, cursorPosition + seq.length);
        if (slice2 === seq) {
          tokens.push(new Token(seq, type));
          if (type === TOKEN_TYPES.OpenExpression) {
            curlyBracketDepth = 0;
          } else if (type === TOKEN_TYPES.OpenCurlyBracket) {
            ++curlyBracketDepth;
          } else if (type === TOKEN_TYPES.CloseCurlyBracket) {
            --curlyBracketDepth;
          }
          cursorPosition += seq.length;
          continue main;
        }
      }
      if (char === "'" || char === '"') {
        ++cursorPosition;
        const str2 = consumeWhile((c) => c !== char);
        tokens.push(new Token(str2, TOKEN_TYPES.StringLiteral));
        ++cursorPosition;
        continue;
      }
      if (isInteger(char)) {
        let num = consumeWhile(isInteger);
        if (tokens.at(-1)?.type !== TOKEN_TYPES.Dot && src[cursorPosition] === "." && isInteger(src[cursorPosition + 1])) {
          ++cursorPosition;
          const frac = consumeWhile(isInteger);
          num = `${num}.${frac}`;
        }
        tokens.push(new Token(num, TOKEN_TYPES.NumericLiteral));
        continue;
      }
      if (isWord(char)) {
        const word = consumeWhile(isWord);
        tokens.push(new Token(word, TOKEN_TYPES.Identifier));
        continue;
      }
      throw new SyntaxError(`Unexpected character: ${char}`);
    }
  return tokens;
}
var Statement = class {
  type = "Statement";
};
var Program = class extends Statement {
  constructor(body) {
    super();
    this.body = body;
  }
  type = "Program";
};
var If = class extends Statement {
  constructor(test, body, alternate) {
    super();
    this.test = test;
    this.body = body;
    this.alternate = alternate;
  }
  type = "If";
};
var For = class extends Statement {
  constructor(loopvar, iterable, body, defaultBlock) {
    super();
    this.loopvar = loopvar;
    this.iterable = iterable;
    this.body = body;
    this.defaultBlock = defaultBlock;
  }
  type = "For";
};
var Break = class extends Statement {
  type = "Break";
};
var Continue = class extends Statement {
  type = "Continue";
};
var SetStatement = class extends Statement {
  constructor(assignee, value, body) {
    super();
    this.assignee = assignee;
    this.value = value;
    this.body = body;
  }
  type = "Set";
};
var Macro = class extends Statement {
  constructor(name, args, body) {
    super();
    this.name = name;
    this.args = args;
    this.body = body;
  }
  type = "Macro";
};
var Comment = class extends Statement {
  constructor(value) {
    super();
    this.value = value;
  }
  type = "Comment";
};
var Expression = class extends Statement {
  type = "Expression";
};
var MemberExpression = class extends Expression {
  constructor(object, property, computed) {
    super();
    this.object = object;
    this.property = property;
    this.computed = computed;
  }
  type = "MemberExpression";
};
var CallExpression = class extends Expression {
  constructor(callee, args) {
    super();
    this.callee = callee;
    this.args = args;
  }
  type = "CallExpression";
};
var Identifier = class extends Expression {
  /**
   * @param {string} value The name of the identifier
   */
  constructor(value) {
    super();
    this.value = value;
  }
  type = "Identifier";
};
var Literal = class extends Expression {
  constructor(value) {
    super();
    this.value = value;
  }
  type = "Literal";
};
var IntegerLiteral = class extends Literal {
  type = "IntegerLiteral";
};
var FloatLiteral = class extends Literal {
  type = "FloatLiteral";
};
var StringLiteral = class extends Literal {
  type = "StringLiteral";
};
var ArrayLiteral = class extends Literal {
  type = "ArrayLiteral";
};
var TupleLiteral = class extends Literal {
  type = "TupleLiteral";
};
var ObjectLiteral = class extends Literal {
  type = "ObjectLiteral";
};
var BinaryExpression = class extends Expression {
  constructor(operator, left, right) {
    super();
    this.operator = operator;
    this.left = left;
    this.right = right;
  }
  type = "BinaryExpression";
};
var FilterExpression = class extends Expression {
  constructor(operand, filter) {
    super();
    this.operand = operand;
    this.filter = filter;
  }
  type = "FilterExpression";
};
var FilterStatement = class extends Statement {
  constructor(filter, body) {
    super();
    this.filter = filter;
    this.body = body;
  }
  type = "FilterStatement";
};
var SelectExpression = class extends Expression {
  constructor(lhs, test) {
    super();
    this.lhs = lhs;
    this.test = test;
  }
  type = "SelectExpression";
};
var TestExpression = class extends Expression {
  constructor(operand, negate, test) {
    super();
    this.operand = operand;
    this.negate = negate;
    this.test = test;
  }
  type = "TestExpression";
};
var UnaryExpression = class extends Expression {
  constructor(operator, argument) {
    super();
    this.operator = operator;
    this.argument = argument;
  }
  type = "UnaryExpression";
};
var SliceExpression = class extends Expression {
  constructor(start = void 0, stop = void 0, step = void 0) {
    super();
    this.start = start;
    this.stop = stop;
    this.step = step;
  }
  type = "SliceExpression";
};
var KeywordArgumentExpression = class extends Expression {
  constructor(key, value) {
    super();
    this.key = key;
    this.value = value;
  }
  type = "KeywordArgumentExpression";
};
var SpreadExpression = class extends Expression {
  constructor(argument) {
    super();
    this.argument = argument;
  }
  type = "SpreadExpression";
};
var KeywordSpreadExpression = class extends Expression {
  constructor(argument) {
    super();
    this.argument = argument;
  }
  type = "KeywordSpreadExpression";
};
var CallStatement = class extends Statement {
  constructor(call, callerArgs, body) {
    super();
    this.call = call;
    this.callerArgs = callerArgs;
    this.body = body;
  }
  type = "CallStatement";
};
var Ternary = class extends Expression {
  constructor(condition, trueExpr, falseExpr) {
    super();
    this.condition = condition;
    this.trueExpr = trueExpr;
    this.falseExpr = falseExpr;
  }
  type = "Ternary";
};
function parse(tokens) {
  const program = new Program([]);
  let current = 0;
  function expect(type, error) {
    const prev = tokens[current++];
    if (!prev || prev.type !== type) {
      throw new Error(`Parser Error: ${error}. ${prev.type} !== ${type}.`);
    }
    return prev;
  }
  function expectIdentifier(name) {
    if (!isIdentifier(name)) {
      throw new SyntaxError(`Expected ${name}`);
    }
    ++current;
  }
  function parseAny() {
    switch (tokens[current].type) {
      case TOKEN_TYPES.Comment:
        return new Comment(tokens[current++].value);
      case TOKEN_TYPES.Text:
        return parseText();
      case TOKEN_TYPES.OpenStatement:
        return parseJinjaStatement();
      case TOKEN_TYPES.OpenExpression:
        return parseJinjaExpression();
      default:
        throw new SyntaxError(`Unexpected token type: ${tokens[current].type}`);
    }
  }
  function is(...types) {
    return current + types.length <= tokens.length && types.every((type, i) => type === tokens[current + i].type);
  }
  function isStatement(...names) {
    return tokens[current]?.type === TOKEN_TYPES.OpenStatement && tokens[current + 1]?.type === TOKEN_TYPES.Identifier && names.includes(tokens[current + 1]?.value);
  }
  function isIdentifier(...names) {
    return current + names.length <= tokens.length && names.every((name, i) => tokens[current + i].type === "Identifier" && name === tokens[current + i].value);
  }
  function parseText() {
    return new StringLiteral(expect(TOKEN_TYPES.Text, "Expected text token").value);
  }
  function parseJinjaStatement() {
    expect(TOKEN_TYPES.OpenStatement, "Expected opening statement token");
    if (tokens[current].type !== TOKEN_TYPES.Identifier) {
      throw new SyntaxError(`Unknown statement, got ${tokens[current].type}`);
    }
    const name = tokens[current].value;
    let result;
    switch (name) {
      case "set":
        ++current;
        result = parseSetStatement();
        break;
      case "if":
        ++current;
        result = parseIfStatement();
        expect(TOKEN_TYPES.OpenStatement, "Expected {% token");
        expectIdentifier("endif");
        expect(TOKEN_TYPES.CloseStatement, "Expected %} token");
        break;
      case "macro":
        ++current;
        result = parseMacroStatement();
        expect(TOKEN_TYPES.OpenStatement, "Expected {% token");
        expectIdentifier("endmacro");
        expect(TOKEN_TYPES.CloseStatement, "Expected %} token");
        break;
      case "for":
        ++current;
        result = parseForStatement();
        expect(TOKEN_TYPES.OpenStatement, "Expected {% token");
        expectIdentifier("endfor");
        expect(TOKEN_TYPES.CloseStatement, "Expected %} token");
        break;
      case "call": {
        ++current;
        let callerArgs = null;
        if (is(TOKEN_TYPES.OpenParen)) {
          callerArgs = parseArgs("parameters");
        }
        const callee = parsePrimaryExpression();
        if (callee.type !== "Identifier") {
          throw new SyntaxError(`Expected identifier following call statement`);
        }
        const callArgs = parseArgs("call");
        expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
        const body = [];
        while (!isStatement("endcall")) {
          body.push(parseAny());
        }
        expect(TOKEN_TYPES.OpenStatement, "Expected '{%'");
        expectIdentifier("endcall");
        expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
        const callExpr = new CallExpression(callee, callArgs);
        result = new CallStatement(callExpr, callerArgs, body);
        break;
      }
      case "break":
        ++current;
        expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
        result = new Break();
        break;
      case "continue":
        ++current;
        expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
        result = new Continue();
        break;
      case "filter": {
        ++current;
        let filterNode = parsePrimaryExpression();
        if (filterNode instanceof Identifier && is(TOKEN_TYPES.OpenParen)) {
          filterNode = parseCallExpression(filterNode);
        }
        expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
        const filterBody = [];
        while (!isStatement("endfilter")) {
          filterBody.push(parseAny());
        }
        expect(TOKEN_TYPES.OpenStatement, "Expected '{%'");
        expectIdentifier("endfilter");
        expect(TOKEN_TYPES.CloseStatement, "Expected '%}'");
        result = new FilterStatement(filterNode, filterBody);
        break;
      }
      default:
        throw new SyntaxError(`Unknown statement type: ${name}`);
    }
    return result;
  }
  function parseJinjaExpression() {
    expect(TOKEN_TYPES.OpenExpression, "Expected opening expression token");
    const result = parseExpression();
    expect(TOKEN_TYPES.CloseExpression, "Expected closing expression token");
    return result;
  }
  function parseSetStatement() {
    const left = parseExpressionSequence();
    let value = null;
    const body = [];
    if (is(TOKEN_TYPES.Equals)) {
      ++current;
      value = parseExpressionSequence();
    } else {
      expect(TOKEN_TYPES.CloseStatement, "Expected %} token");
      while (!isStatement("endset")) {
        body.push(parseAny());
      }
      expect(TOKEN_TYPES.OpenStatement, "Expected {% token");
      expectIdentifier("endset");
    }
    expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
    return new SetStatement(left, value, body);
  }
  function parseIfStatement() {
    const test = parseExpression();
    expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
    const body = [];
    const alternate = [];
    while (!isStatement("elif", "else", "endif")) {
      body.push(parseAny());
    }
    if (isStatement("elif")) {
      ++current;
      ++current;
      const result = parseIfStatement();
      alternate.push(result);
    } else if (isStatement("else")) {
      ++current;
      ++current;
      expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
      while (!isStatement("endif")) {
        alternate.push(parseAny());
      }
    }
    return new If(test, body, alternate);
  }
  function parseMacroStatement() {
    const name = parsePrimaryExpression();
    if (name.type !== "Identifier") {
      throw new SyntaxError(`Expected identifier following macro statement`);
    }
    const args = parseArgs("parameters");
    expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
    const body = [];
    while (!isStatement("endmacro")) {
      body.push(parseAny());
    }
    return new Macro(name, args, body);
  }
  function parseExpressionSequence(primary = false) {
    const fn = primary ? parsePrimaryExpression : parseExpression;
    const expressions = [fn()];
    const isTuple = is(TOKEN_TYPES.Comma);
    while (isTuple) {
      ++current;
      expressions.push(fn());
      if (!is(TOKEN_TYPES.Comma)) {
        break;
      }
    }
    return isTuple ? new TupleLiteral(expressions) : expressions[0];
  }
  function parseForStatement() {
    const loopVariable = parseExpressionSequence(true);
    if (!(loopVariable instanceof Identifier || loopVariable instanceof TupleLiteral)) {
      throw new SyntaxError(`Expected identifier/tuple for the loop variable, got ${loopVariable.type} instead`);
    }
    if (!isIdentifier("in")) {
      throw new SyntaxError("Expected `in` keyword following loop variable");
    }
    ++current;
    const iterable = parseExpression();
    expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
    const body = [];
    while (!isStatement("endfor", "else")) {
      body.push(parseAny());
    }
    const alternative = [];
    if (isStatement("else")) {
      ++current;
      ++current;
      expect(TOKEN_TYPES.CloseStatement, "Expected closing statement token");
      while (!isStatement("endfor")) {
        alternative.push(parseAny());
      }
    }
    return new For(loopVariable, iterable, body, alternative);
  }
  function parseExpression() {
    return parseIfExpression();
  }
  function parseIfExpression() {
    const a = parseLogicalOrExpression();
    if (isIdentifier("if")) {
      ++current;
      const test = parseLogicalOrExpression();
      if (isIdentifier("else")) {
        ++current;
        const falseExpr = parseIfExpression();
        return new Ternary(test, a, falseExpr);
      } else {
        return new SelectExpression(a, test);
      }
    }
    return a;
  }
  function parseLogicalOrExpression() {
    let left = parseLogicalAndExpression();
    while (isIdentifier("or")) {
      const operator = tokens[current];
      ++current;
      const right = parseLogicalAndExpression();
      left = new BinaryExpression(operator, left, right);
    }
    return left;
  }
  function parseLogicalAndExpression() {
    let left = parseLogicalNegationExpression();
    while (isIdentifier("and")) {
      const operator = tokens[current];
      ++current;
      const right = parseLogicalNegationExpression();
      left = new BinaryExpression(operator, left, right);
    }
    return left;
  }
  function parseLogicalNegationExpression() {
    let right;
    while (isIdentifier("not")) {
      const operator = tokens[current];
      ++current;
      const arg2 = parseLogicalNegationExpression();
      right = new UnaryExpression(operator, arg2);
    }
    return right ?? parseComparisonExpression();
  }
  function parseComparisonExpression() {
    let left = parseAdditiveExpression();
    while (true) {
      let operator;
      if (isIdentifier("not", "in")) {
        operator = new Token("not in", TOKEN_TYPES.Identifier);
        current += 2;
      } else if (isIdentifier("in")) {
        operator = tokens[current++];
      } else if (is(TOKEN_TYPES.ComparisonBinaryOperator)) {
        operator = tokens[current++];
      } else {
        break;
      }
      const right = parseAdditiveExpression();
      left = new BinaryExpression(operator, left, right);
    }
    return left;
  }
  function parseAdditiveExpression() {
    let left = parseMultiplicativeExpression();
    while (is(TOKEN_TYPES.AdditiveBinaryOperator)) {
      const operator = tokens[current];
      ++current;
      const right = parseMultiplicativeExpression();
      left = new BinaryExpression(operator, left, right);
    }
    return left;
  }
  function parseCallMemberExpression() {
    const member = parseMemberExpression(parsePrimaryExpression());
    if (is(TOKEN_TYPES.OpenParen)) {
      return parseCallExpression(member);
    }
    return member;
  }
  function parseCallExpression(callee) {
    let expression = new CallExpression(callee, parseArgs("call"));
    expression = parseMemberExpression(expression);
    if (is(TOKEN_TYPES.OpenParen)) {
      expression = parseCallExpression(expression);
    }
    return expression;
  }
  function parseArgs(mode) {
    expect(TOKEN_TYPES.OpenParen, "Expected opening parenthesis for arguments list");
    const args = parseArgumentsList(mode);
    expect(TOKEN_TYPES.CloseParen, "Expected closing parenthesis for arguments list");
    return args;
  }
  function parseArgumentsList(mode) {
    const args = [];
    const parameterNames = /* @__PURE__ */ new Set();
    let sawKeywordOrDefault = false;
    let sawSpreadArgument = false;
    while (!is(TOKEN_TYPES.CloseParen)) {
      const isKeywordSpread = is(TOKEN_TYPES.ExponentiationBinaryOperator);
      const isPositionalSpread = is(TOKEN_TYPES.MultiplicativeBinaryOperator) && tokens[current].value === "*";
      if (mode === "parameters" && (isKeywordSpread || isPositionalSpread)) {
        throw new SyntaxError("Argument unpacking is not allowed in parameter declarations");
      }
      if (isKeywordSpread) {
        ++current;
        args.push(new KeywordSpreadExpression(parseExpression()));
        if (is(TOKEN_TYPES.Comma)) {
          ++current;
        }
        if (!is(TOKEN_TYPES.CloseParen)) {
          throw new SyntaxError("Expected closing parenthesis: `**` must be applied to the final argument");
        }
        break;
      }
      let argument;
      if (isPositionalSpread) {
        if (sawSpreadArgument) {
          throw new SyntaxError("Only one `*` argument unpacking is allowed");
        }
        sawSpreadArgument = true;
        ++current;
        const expr = parseExpression();
        argument = new SpreadExpression(expr);
      } else {
        argument = parseExpression();
        if (is(TOKEN_TYPES.Equals)) {
          ++current;
          if (!(argument instanceof Identifier)) {
            throw new SyntaxError(
              mode === "parameters" ? "Expected identifier for parameter declaration" : "Expected identifier for keyword argument"
            );
          }
          const value = parseExpression();
          argument = new KeywordArgumentExpression(argument, value);
        }
        if (mode === "parameters") {
          if (!(argument instanceof Identifier || argument instanceof KeywordArgumentExpression)) {
            throw new SyntaxError("Expected identifier for parameter declaration");
          }
          const parameterName = argument instanceof Identifier ? argument.value : argument.key.value;
          if (parameterNames.has(parameterName)) {
            throw new SyntaxError(`Duplicate parameter name: ${parameterName}`);
          }
          parameterNames.add(parameterName);
        }
        if (argument instanceof KeywordArgumentExpression) {
          sawKeywordOrDefault = true;
        } else if (sawKeywordOrDefault) {
          throw new SyntaxError(
            mode === "call" ? "Positional arguments must come before keyword arguments" : "Non-default argument follows default argument"
          );
        } else if (sawSpreadArgument) {
          throw new SyntaxError("Positional arguments must not follow `*` argument unpacking");
        }
      }
      args.push(argument);
      if (is(TOKEN_TYPES.Comma)) {
        ++current;
      }
    }
    return args;
  }
  function parseMemberExpressionArgumentsList() {
    const slices = [];
    let isSlice = false;
    while (!is(TOKEN_TYPES.CloseSquareBracket)) {
      if (is(TOKEN_TYPES.Colon)) {
        slices.push(void 0);
        ++current;
        isSlice = true;
      } else {
        slices.push(parseExpression());
        if (is(TOKEN_TYPES.Colon)) {
          ++current;
          isSlice = true;
        }
      }
    }
    if (slices.length === 0) {
      throw new SyntaxError(`Expected at least one argument for member/slice expression`);
    }
    if (isSlice) {
      if (slices.length > 3) {
        throw new SyntaxError(`Expected 0-3 arguments for slice expression`);
      }
      return new SliceExpression(...slices);
    }
    return slices[0];
  }
  function parseMemberExpression(object) {
    while (is(TOKEN_TYPES.Dot) || is(TOKEN_TYPES.OpenSquareBracket)) {
      const operator = tokens[current];
      ++current;
      let property;
      const computed = operator.type === TOKEN_TYPES.OpenSquareBracket;
      if (computed) {
        property = parseMemberExpressionArgumentsList();
        expect(TOKEN_TYPES.CloseSquareBracket, "Expected closing square bracket");
      } else {
        property = parsePrimaryExpression();
        if (property.type !== "Identifier" && property.type !== "IntegerLiteral") {
          throw new SyntaxError(`Expected identifier or integer following dot operator`);
        }
      }
      object = new MemberExpression(object, property, computed);
    }
    return object;
  }
  function parseMultiplicativeExpression() {
    let left = parsePowerExpression();
    while (is(TOKEN_TYPES.MultiplicativeBinaryOperator)) {
      const operator = tokens[current++];
      const right = parsePowerExpression();
      left = new BinaryExpression(operator, left, right);
    }
    return left;
  }
  function parsePowerExpression() {
    let left = parseTestExpression();
    while (is(TOKEN_TYPES.ExponentiationBinaryOperator)) {
      const operator = tokens[current++];
      const right = parseTestExpression();
      left = new BinaryExpression(operator, left, right);
    }
    return left;
  }
  function parseTestExpression() {
    let operand = parseFilterExpression();
    while (isIdentifier("is")) {
      ++current;
      const negate = isIdentifier("not");
      if (negate) {
        ++current;
      }
      const filter = parsePrimaryExpression();
      if (!(filter instanceof Identifier)) {
        throw new SyntaxError(`Expected identifier for the test`);
      }
      operand = new TestExpression(operand, negate, filter);
    }
    return operand;
  }
  function parseFilterExpression() {
    let operand = parseUnarySignExpression();
    while (is(TOKEN_TYPES.Pipe)) {
      ++current;
      let filter = parsePrimaryExpression();
      if (!(filter instanceof Identifier)) {
        throw new SyntaxError(`Expected identifier for the filter`);
      }
      if (is(TOKEN_TYPES.OpenParen)) {
        filter = parseCallExpression(filter);
      }
      operand = new FilterExpression(operand, filter);
    }
    return operand;
  }
  function parseUnarySignExpression() {
    const token = tokens[current];
    if (token && (token.type === TOKEN_TYPES.UnaryOperator || token.type === TOKEN_TYPES.AdditiveBinaryOperator) && (token.value === "-" || token.value === "+")) {
      const operator = tokens[current++];
      const argument = parseUnarySignExpression();
      return new UnaryExpression(operator, argument);
    }
    return parseCallMemberExpression();
  }
  function parsePrimaryExpression() {
    const token = tokens[current++];
    switch (token.type) {
      case TOKEN_TYPES.NumericLiteral: {
        const num = token.value;
        return num.includes(".") ? new FloatLiteral(Number(num)) : new IntegerLiteral(Number(num));
      }
      case TOKEN_TYPES.StringLiteral: {
        let value = token.value;
        while (is(TOKEN_TYPES.StringLiteral)) {
          value += tokens[current++].value;
        }
        return new StringLiteral(value);
      }
      case TOKEN_TYPES.Identifier:
        return new Identifier(token.value);
      case TOKEN_TYPES.OpenParen: {
        const expression = parseExpressionSequence();
        expect(TOKEN_TYPES.CloseParen, "Expected closing parenthesis, got ${tokens[current].type} instead.");
        return expression;
      }
      case TOKEN_TYPES.OpenSquareBracket: {
        const values = [];
        while (!is(TOKEN_TYPES.CloseSquareBracket)) {
          values.push(parseExpression());
          if (is(TOKEN_TYPES.Comma)) {
            ++current;
          }
        }
        ++current;
        return new ArrayLiteral(values);
      }
      case TOKEN_TYPES.OpenCurlyBracket: {
        const values = /* @__PURE__ */ new Map();
        while (!is(TOKEN_TYPES.CloseCurlyBracket)) {
          const key = parseExpression();
          expect(TOKEN_TYPES.Colon, "Expected colon between key and value in object literal");
          const value = parseExpression();
          values.set(key, value);
          if (is(TOKEN_TYPES.Comma)) {
            ++current;
          }
        }
        ++current;
        return new ObjectLiteral(values);
      }
      default:
        throw new SyntaxError(`Unexpected token: ${token.type}`);
    }
  }
  while (current < tokens.length) {
    program.body.push(parseAny());
  }
  return program;
}
function range2(start, stop, step = 1) {
  if (stop === void 0) {
    stop = start;
    start = 0;
  }
  if (step === 0) {
    throw new Error("range() step must not be zero");
  }
  const result = [];
  if (step > 0) {
    for (let i = start; i < stop; i += step) {
      result.push(i);
    }
  } else {
    for (let i = start; i > stop; i += step) {
      result.push(i);
    }
  }
  return result;
}
function slice(array, start, stop, step = 1) {
  const direction = Math.sign(step);
  if (direction >= 0) {
    start = (start ??= 0) < 0 ? Math.max(array.length + start, 0) : Math.min(start, array.length);
    stop = (stop ??= array.length) < 0 ? Math.max(array.length + stop, 0) : Math.min(stop, array.length);
  } else {
    start = (start ??= array.length - 1) < 0 ? Math.max(array.length + start, -1) : Math.min(start, array.length - 1);
    stop = (stop ??= -1) < -1 ? Math.max(array.length + stop, -1) : Math.min(stop, array.length - 1);
  }
  const result = [];
  for (let i = start; direction * i < direction * stop; i += step) {
    result.push(array[i]);
  }
  return result;
}
function titleCase(value) {
  return value.replace(/\b\w/g, (c) => c.toUpperCase());
}
function strftime_now(format2) {
  return strftime(/* @__PURE__ */ new Date(), format2);
}
function strftime(date, format2) {
  const monthFormatterLong = new Intl.DateTimeFormat(void 0, { month: "long" });
  const monthFormatterShort = new Intl.DateTimeFormat(void 0, { month: "short" });
  const pad2 = (n) => n < 10 ? "0" + n : n.toString();
  return format2.replace(/%[YmdbBHM%]/g, (token) => {
    switch (token) {
      case "%Y":
        return date.getFullYear().toString();
      case "%m":
        return pad2(date.getMonth() + 1);
      case "%d":
        return pad2(date.getDate());
      case "%b":
        return monthFormatterShort.format(date);
      case "%B":
        return monthFormatterLong.format(date);
      case "%H":
        return pad2(date.getHours());
      case "%M":
        return pad2(date.getMinutes());
      case "%%":
        return "%";
      default:
        return token;
    }
  });
}
function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
function replace(str2, oldvalue, newvalue, count) {
  if (count === 0) {
    return str2;
  }
  let remaining = count == null || count < 0 ? Infinity : count;
  const pattern = oldvalue.length === 0 ? new RegExp("(?=)", "gu") : new RegExp(escapeRegExp(oldvalue), "gu");
  return str2.replaceAll(pattern, (match) => {
    if (remaining > 0) {
      --remaining;
      return newvalue;
    }
    return match;
  });
}
var BreakControl = class extends Error {
};
var ContinueControl = class extends Error {
};
var EMPTY_BUILTINS = /* @__PURE__ */ new Map();
var RuntimeValue = class {
  type = "RuntimeValue";
  value;
  /**
   * A collection of built-in functions for this type.
   */
  get builtins() {
    return EMPTY_BUILTINS;
  }
  /**
   * Creates a new RuntimeValue.
   */
  constructor(value = void 0) {
    this.value = value;
  }
  /**
   * Determines truthiness or falsiness of the runtime value.
   * This function should be overridden by subclasses if it has custom truthiness criteria.
   * @returns {BooleanValue} BooleanValue(true) if the value is truthy, BooleanValue(false) otherwise.
   */
  __bool__() {
    return new BooleanValue(!!this.value);
  }
  toString() {
    return String(this.value);
  }
};
var IntegerValue = class extends RuntimeValue {
  type = "IntegerValue";
};
var FloatValue = class extends RuntimeValue {
  type = "FloatValue";
  toString() {
    if (Object.is(this.value, -0)) {
      return "-0.0";
    }
    return this.value % 1 === 0 ? this.value.toFixed(1) : this.value.toString();
  }
};
var StringValue = class extends RuntimeValue {
  type = "StringValue";
  _builtins;
  get builtins() {
    return this._builtins ??= /* @__PURE__ */ new Map([
      [
        "upper",
        new FunctionValue(() => {
          return new StringValue(this.value.toUpperCase());
        })
      ],
      [
        "lower",
        new FunctionValue(() => {
          return new StringValue(this.value.toLowerCase());
        })
      ],
      [
        "strip",
        new FunctionValue(() => {
          return new StringValue(this.value.trim());
        })
      ],
      [
        "title",
        new FunctionValue(() => {
          return new StringValue(titleCase(this.value));
        })
      ],
      [
        "capitalize",
        new FunctionValue(() => {
          return new StringValue(this.value.charAt(0).toUpperCase() + this.value.slice(1));
        })
      ],
      ["length", new IntegerValue(this.value.length)],
      [
        "rstrip",
        new FunctionValue(() => {
          return new StringValue(this.value.trimEnd());
        })
      ],
      [
        "lstrip",
        new FunctionValue(() => {
          return new StringValue(this.value.trimStart());
        })
      ],
      [
        "startswith",
        new FunctionValue((args) => {
          if (args.length === 0) {
            throw new Error("startswith() requires at least one argument");
          }
          const pattern = args[0];
          if (pattern instanceof StringValue) {
            return new BooleanValue(this.value.startsWith(pattern.value));
          } else if (pattern instanceof ArrayValue) {
            for (const item of pattern.value) {
              if (!(item instanceof StringValue)) {
                throw new Error("startswith() tuple elements must be strings");
              }
              if (this.value.startsWith(item.value)) {
                return new BooleanValue(true);
              }
            }
            return new BooleanValue(false);
          }
          throw new Error("startswith() argument must be a string or tuple of strings");
        })
      ],
      [
        "endswith",
        new FunctionValue((args) => {
          if (args.length === 0) {
            throw new Error("endswith() requires at least one argument");
          }
          const pattern = args[0];
          if (pattern instanceof StringValue) {
            return new BooleanValue(this.value.endsWith(pattern.value));
          } else if (pattern instanceof ArrayValue) {
            for (const item of pattern.value) {
              if (!(item instanceof StringValue)) {
                throw new Error("endswith() tuple elements must be strings");
              }
              if (this.value.endsWith(item.value)) {
                return new BooleanValue(true);
              }
            }
            return new BooleanValue(false);
          }
          throw new Error("endswith() argument must be a string or tuple of strings");
        })
      ],
      [
        "split",
        // follows Python's `str.split(sep=None, maxsplit=-1)` function behavior
        // https://docs.python.org/3.13/library/stdtypes.html#str.split
        new FunctionValue((args) => {
          const sep = args[0] ?? new NullValue();
          if (!(sep instanceof StringValue || sep instanceof NullValue)) {
            throw new Error("sep argument must be a string or null");
          }
          const maxsplit = args[1] ?? new IntegerValue(-1);
          if (!(maxsplit instanceof IntegerValue)) {
            throw new Error("maxsplit argument must be a number");
          }
          let result = [];
          if (sep instanceof NullValue) {
            const text = this.value.trimStart();
            for (const { 0: match, index } of text.matchAll(/\S+/g)) {
              if (maxsplit.value !== -1 && result.length >= maxsplit.value && index !== void 0) {
                result.push(match + text.slice(index + match.length));
                break;
              }
              result.push(match);
            }
          } else {
            if (sep.value === "") {
              throw new Error("empty separator");
            }
            result = this.value.split(sep.value);
            if (maxsplit.value !== -1 && result.length > maxsplit.value) {
              result.push(result.splice(maxsplit.value).join(sep.value));
            }
          }
          return new ArrayValue(result.map((part) => new StringValue(part)));
        })
      ],
      [
        "replace",
        new FunctionValue((args) => {
          if (args.length < 2) {
            throw new Error("replace() requires at least two arguments");
          }
          const oldValue = args[0];
          const newValue = args[1];
          if (!(oldValue instanceof StringValue && newValue instanceof StringValue)) {
            throw new Error("replace() arguments must be strings");
          }
          let count;
          if (args.length > 2) {
            if (args[2].type === "KeywordArgumentsValue") {
              count = args[2].value.get("count") ?? new NullValue();
            } else {
              count = args[2];
            }
          } else {
            count = new NullValue();
          }
          if (!(count instanceof IntegerValue || count instanceof NullValue)) {
            throw new Error("replace() count argument must be a number or null");
          }
          return new StringValue(replace(this.value, oldValue.value, newValue.value, count.value));
        })
      ]
    ]);
  }
};
var BooleanValue = class extends RuntimeValue {
  type = "BooleanValue";
};
var NON_ASCII_CHARS = /[\x7f-\uffff]/g;
function makeAsciiSafe(str2) {
  return str2.replace(NON_ASCII_CHARS, (char) => "\\u" + char.charCodeAt(0).toString(16).padStart(4, "0"));
}
function toJSON(input, options2 = {}, depth = 0, convertUndefinedToNull = true) {
  const { indent = null, ensureAscii = false, separators = null, sortKeys = false } = options2;
  let itemSeparator;
  let keySeparator;
  if (separators) {
    [itemSeparator, keySeparator] = separators;
  } else if (indent) {
    itemSeparator = ",";
    keySeparator = ": ";
  } else {
    itemSeparator = ", ";
    keySeparator = ": ";
  }
  switch (input.type) {
    case "NullValue":
      return "null";
    case "UndefinedValue":
      return convertUndefinedToNull ? "null" : "undefined";
    case "IntegerValue":
    case "FloatValue":
    case "BooleanValue":
      return JSON.stringify(input.value);
    case "StringValue": {
      let result = JSON.stringify(input.value);
      if (ensureAscii) {
        result = makeAsciiSafe(result);
      }
      return result;
    }
    case "ArrayValue":
    case "NamespaceValue":
    case "ObjectValue": {
      const indentValue = indent ? " ".repeat(indent) : "";
      const basePadding = "\n" + indentValue.repeat(depth);
      const childrenPadding = basePadding + indentValue;
      if (input.type === "ArrayValue") {
        const core = input.value.map((x) => toJSON(x, options2, depth + 1, convertUndefinedToNull));
        return indent && core.length > 0 ? `[${childrenPadding}${core.join(`${itemSeparator}${childrenPadding}`)}${basePadding}]` : `[${core.join(itemSeparator)}]`;
      } else {
        let entries = Array.from(input.value.entries());
        if (sortKeys) {
          entries = entries.sort(([a], [b]) => a.localeCompare(b));
        }
        const core = entries.map(([key, value]) => {
          let keyStr = JSON.stringify(key);
          if (ensureAscii) {
            keyStr = makeAsciiSafe(keyStr);
          }
          const v = `${keyStr}${keySeparator}${toJSON(value, options2, depth + 1, convertUndefinedToNull)}`;
          return indent ? `${childrenPadding}${v}` : v;
        });
        return indent && core.length > 0 ? `{${core.join(itemSeparator)}${basePadding}}` : `{${core.join(itemSeparator)}}`;
      }
    }
    default:
      throw new Error(`Cannot convert to JSON: ${input.type}`);
  }
}
var ObjectValue = class extends RuntimeValue {
  type = "ObjectValue";
  _builtins;
  /**
   * NOTE: necessary to override since all JavaScript arrays are considered truthy,
   * while only non-empty Python arrays are consider truthy.
   *
   * e.g.,
   *  - JavaScript:  {} && 5 -> 5
   *  - Python:      {} and 5 -> {}
   */
  __bool__() {
    return new BooleanValue(this.value.size > 0);
  }
  get builtins() {
    return this._builtins ??= /* @__PURE__ */ new Map([
      [
        "get",
        new FunctionValue(([key, defaultValue]) => {
          if (!(key instanceof StringValue)) {
            throw new Error(`Object key must be a string: got ${key.type}`);
          }
          return this.value.get(key.value) ?? defaultValue ?? new NullValue();
        })
      ],
      ["items", new FunctionValue(() => this.items())],
      ["keys", new FunctionValue(() => this.keys())],
      ["values", new FunctionValue(() => this.values())],
      [
        "dictsort",
        new FunctionValue((args) => {
          let kwargs = /* @__PURE__ */ new Map();
          const positionalArgs = args.filter((arg2) => {
            if (arg2 instanceof KeywordArgumentsValue) {
              kwargs = arg2.value;
              return false;
            }
            return true;
          });
          const caseSensitive = positionalArgs.at(0) ?? kwargs.get("case_sensitive") ?? new BooleanValue(false);
          if (!(caseSensitive instanceof BooleanValue)) {
            throw new Error("case_sensitive must be a boolean");
          }
          const by = positionalArgs.at(1) ?? kwargs.get("by") ?? new StringValue("key");
          if (!(by instanceof StringValue)) {
            throw new Error("by must be a string");
          }
          if (!["key", "value"].includes(by.value)) {
            throw new Error("by must be either 'key' or 'value'");
          }
          const reverse = positionalArgs.at(2) ?? kwargs.get("reverse") ?? new BooleanValue(false);
          if (!(reverse instanceof BooleanValue)) {
            throw new Error("reverse must be a boolean");
          }
          const items = Array.from(this.value.entries()).map(([key, value]) => new ArrayValue([new StringValue(key), value])).sort((a, b) => {
            const index = by.value === "key" ? 0 : 1;
            const aVal = a.value[index];
            const bVal = b.value[index];
            const result = compareRuntimeValues(aVal, bVal, caseSensitive.value);
            return reverse.value ? -result : result;
          });
          return new ArrayValue(items);
        })
      ]
    ]);
  }
  items() {
    return new ArrayValue(
      Array.from(this.value.entries()).map(([key, value]) => new ArrayValue([new StringValue(key), value]))
    );
  }
  keys() {
    return new ArrayValue(Array.from(this.value.keys()).map((key) => new StringValue(key)));
  }
  values() {
    return new ArrayValue(Array.from(this.value.values()));
  }
  toString() {
    return toJSON(this, {}, 0, false);
  }
};
var KeywordArgumentsValue = class extends ObjectValue {
  type = "KeywordArgumentsValue";
};
var NamespaceValue = class extends RuntimeValue {
  type = "NamespaceValue";
  toString() {
    return toJSON(this, {}, 0, false);
  }
};
var ArrayValue = class extends RuntimeValue {
  type = "ArrayValue";
  _builtins;
  get builtins() {
    return this._builtins ??= /* @__PURE__ */ new Map([["length", new IntegerValue(this.value.length)]]);
  }
  /**
   * NOTE: necessary to override since all JavaScript arrays are considered truthy,
   * while only non-empty Python arrays are consider truthy.
   *
   * e.g.,
   *  - JavaScript:  [] && 5 -> 5
   *  - Python:      [] and 5 -> []
   */
  __bool__() {
    return new BooleanValue(this.value.length > 0);
  }
  toString() {
    return toJSON(this, {}, 0, false);
  }
};
var TupleValue = class extends ArrayValue {
  type = "TupleValue";
};
var FunctionValue = class extends RuntimeValue {
  type = "FunctionValue";
};
var NullValue = class extends RuntimeValue {
  type = "NullValue";
};
var UndefinedValue = class extends RuntimeValue {
  type = "UndefinedValue";
};
function normalizeNamespaceEntry(pair) {
  let values;
  if (pair instanceof ArrayValue) {
    values = pair.value;
  } else if (pair instanceof StringValue) {
    values = Array.from(pair.value, (char) => new StringValue(char));
  }
  if (!values || values.length !== 2) {
    throw new Error("namespace expected an object or an iterable of [key, value] pairs");
  }
  const [key, value] = values;
  if (!(key instanceof StringValue)) {
    throw new Error("namespace keys must be strings");
  }
  return [key, value];
}
var _Environment = class {
  constructor(parent) {
    this.parent = parent;
  }
  /**
   * The variables declared in this environment.
   */
  variables = /* @__PURE__ */ new Map([
    [
      "namespace",
      new FunctionValue((args) => {
        const positional = args.slice();
        let kwargs;
        if (positional.at(-1) instanceof KeywordArgumentsValue) {
          kwargs = positional.pop();
        }
        if (positional.length > 1) {
          throw new Error(`namespace expected at most 1 argument, got ${positional.length}`);
        }
        const entries = /* @__PURE__ */ new Map();
        if (positional.length === 1) {
          const source = positional[0];
          if (source instanceof ObjectValue) {
            for (const [key, value] of source.value) {
              entries.set(key, value);
            }
          } else if (source instanceof ArrayValue) {
            for (const pair of source.value) {
              const [key, value] = normalizeNamespaceEntry(pair);
              entries.set(key.value, value);
            }
          } else {
            throw new Error(`'${source.type}' object is not iterable`);
          }
        }
        if (kwargs) {
          for (const [key, value] of kwargs.value) {
            entries.set(key, value);
          }
        }
        return new NamespaceValue(entries);
      })
    ]
  ]);
  tests = _Environment.TESTS;
  /**
   * Set the value of a variable in the current environment.
   */
  set(name, value) {
    return this.declareVariable(name, convertToRuntimeValues(value));
  }
  declareVariable(name, value) {
    if (this.variables.has(name)) {
      throw new SyntaxError(`Variable already declared: ${name}`);
    }
    this.variables.set(name, value);
    return value;
  }
  // private assignVariable(name: string, value: AnyRuntimeValue): AnyRuntimeValue {
  // 	const env = this.resolve(name);
  // 	env.variables.set(name, value);
  // 	return value;
  // }
  /**
   * Set variable in the current scope.
   * See https://jinja.palletsprojects.com/en/3.0.x/templates/#assignments for more information.
   */
  setVariable(name, value) {
    this.variables.set(name, value);
    return value;
  }
  /**
   * Resolve the environment in which the variable is declared.
   * @param {string} name The name of the variable.
   * @returns {Environment} The environment in which the variable is declared.
   */
  resolve(name) {
    if (this.variables.has(name)) {
      return this;
    }
    if (this.parent) {
      return this.parent.resolve(name);
    }
    throw new Error(`Unknown variable: ${name}`);
  }
  lookupVariable(name) {
    try {
      return this.resolve(name).variables.get(name) ?? new UndefinedValue();
    } catch {
      return new UndefinedValue();
    }
  }
};
var Environment = _Environment;
__publicField(Environment, "TESTS", /* @__PURE__ */ new Map([
  ["boolean", (operand) => operand.type === "BooleanValue"],
  ["callable", (operand) => operand instanceof FunctionValue],
  [
    "odd",
    (operand) => {
      if (!(operand instanceof IntegerValue)) {
        throw new Error(`cannot odd on ${operand.type}`);
      }
      return operand.value % 2 !== 0;
    }
  ],
  [
    "even",
    (operand) => {
      if (!(operand instanceof IntegerValue)) {
        throw new Error(`cannot even on ${operand.type}`);
      }
      return operand.value % 2 === 0;
    }
  ],
  ["false", (operand) => operand.type === "BooleanValue" && !operand.value],
  ["true", (operand) => operand.type === "BooleanValue" && operand.value],
  ["none", (operand) => operand.type === "NullValue"],
  ["string", (operand) => operand.type === "StringValue"],
  ["number", (operand) => operand instanceof IntegerValue || operand instanceof FloatValue],
  ["integer", (operand) => operand instanceof IntegerValue],
  ["iterable", (operand) => operand.type === "ArrayValue" || operand.type === "StringValue"],
  ["mapping", (operand) => operand instanceof ObjectValue],
  [
    "sequence",
    (operand) => operand instanceof ArrayValue || operand instanceof ObjectValue || operand instanceof StringValue
  ],
  [
    "lower",
    (operand) => {
      const str2 = operand.value;
      return operand.type === "StringValue" && str2 === str2.toLowerCase();
    }
  ],
  [
    "upper",
    (operand) => {
      const str2 = operand.value;
      return operand.type === "StringValue" && str2 === str2.toUpperCase();
    }
  ],
  ["none", (operand) => operand.type === "NullValue"],
  ["defined", (operand) => operand.type !== "UndefinedValue"],
  ["undefined", (operand) => operand.type === "UndefinedValue"],
  ["equalto", (a, b) => a.value === b.value],
  ["eq", (a, b) => a.value === b.value]
]));
function setupGlobals(env) {
  env.set("false", false);
  env.set("true", true);
  env.set("none", null);
  env.set("raise_exception", (args) => {
    throw new Error(args);
  });
  env.set("range", range2);
  env.set("strftime_now", strftime_now);
  env.set("True", true);
  env.set("False", false);
  env.set("None", null);
}
function isAttributeContainer(value) {
  return value instanceof ObjectValue || value instanceof NamespaceValue;
}
function isNumericLikeValue(value) {
  return value instanceof IntegerValue || value instanceof FloatValue || value instanceof BooleanValue;
}
function getNumericValue(value) {
  return value instanceof BooleanValue ? Number(value.value) : value.value;
}
function getAttributeValue(item, attributePath) {
  const parts = attributePath.split(".");
  let value = item;
  for (const part of parts) {
    if (isAttributeContainer(value)) {
      value = value.value.get(part) ?? new UndefinedValue();
    } else if (value instanceof ArrayValue) {
      const index = parseInt(part, 10);
      if (!isNaN(index) && index >= 0 && index < value.value.length) {
        value = value.value[index];
      } else {
        return new UndefinedValue();
      }
    } else {
      return new UndefinedValue();
    }
  }
  return value;
}
function compareRuntimeValues(a, b, caseSensitive = false) {
  if (a instanceof NullValue && b instanceof NullValue) {
    return 0;
  }
  if (a instanceof NullValue || b instanceof NullValue) {
    throw new Error(`Cannot compare ${a.type} with ${b.type}`);
  }
  if (a instanceof UndefinedValue && b instanceof UndefinedValue) {
    return 0;
  }
  if (a instanceof UndefinedValue || b instanceof UndefinedValue) {
    throw new Error(`Cannot compare ${a.type} with ${b.type}`);
  }
  if (isNumericLikeValue(a) && isNumericLikeValue(b)) {
    const aNum = getNumericValue(a);
    const bNum = getNumericValue(b);
    return aNum < bNum ? -1 : aNum > bNum ? 1 : 0;
  }
  if (a.type !== b.type) {
    throw new Error(`Cannot compare different types: ${a.type} and ${b.type}`);
  }
  switch (a.type) {
    case "StringValue": {
      let aStr = a.value;
      let bStr = b.value;
      if (!caseSensitive) {
        aStr = aStr.toLowerCase();
        bStr = bStr.toLowerCase();
      }
      return aStr < bStr ? -1 : aStr > bStr ? 1 : 0;
    }
    default:
      throw new Error(`Cannot compare type: ${a.type}`);
  }
}
function getParameterDescriptor(argument) {
  if (argument.type === "Identifier") {
    return { name: argument.value };
  }
  const keywordArgument = argument;
  return { name: keywordArgument.key.value, defaultValue: keywordArgument.value };
}
function isSpecialMacroArgument(name) {
  return name === "kwargs" || name === "varargs";
}
function findAccessedSpecialMacroArguments(parameters, body) {
  const declared = /* @__PURE__ */ new Set();
  const accessed = /* @__PURE__ */ new Set();
  const declareName = (name) => {
    if (isSpecialMacroArgument(name)) {
      declared.add(name);
    }
  };
  const declareTarget = (target) => {
    if (target.type === "Identifier") {
      declareName(target.value);
    } else if (target.type === "TupleLiteral") {
      for (const item of target.value) {
        declareTarget(item);
      }
    }
  };
  const declareArgument = (argument) => {
    declareName(getParameterDescriptor(argument).name);
  };
  const visitArgumentDefaults = (args) => {
    for (const argument of args) {
      const parameter = getParameterDescriptor(argument);
      if (parameter.defaultValue) {
        visit(parameter.defaultValue);
      }
    }
  };
  const visitFilter = (filter) => {
    if (filter.type === "CallExpression") {
      visit(filter.args);
    }
  };
  const visit = (node) => {
    if (Array.isArray(node)) {
      for (const item of node) {
        visit(item);
      }
      return;
    }
    if (node instanceof Map) {
      for (const [key, value] of node) {
        visit(key);
        visit(value);
      }
      return;
    }
    if (!(node instanceof Statement)) {
      return;
    }
    switch (node.type) {
      case "For": {
        const statement = node;
        declareTarget(statement.loopvar);
        if (statement.iterable.type === "SelectExpression") {
          const iterable = statement.iterable;
          visit(iterable.lhs);
          visit(statement.body);
          visit(statement.defaultBlock);
          visit(iterable.test);
          return;
        }
        visit(statement.iterable);
        visit(statement.body);
        visit(statement.defaultBlock);
        return;
      }
      case "Set": {
        const statement = node;
        declareTarget(statement.assignee);
        visit(statement.value);
        visit(statement.body);
        return;
      }
      case "Macro": {
        const statement = node;
        for (const argument of statement.args) {
          declareArgument(argument);
        }
        visitArgumentDefaults(statement.args);
        visit(statement.body);
        return;
      }
      case "CallStatement": {
        const statement = node;
        visit(statement.call);
        for (const argument of statement.callerArgs ?? []) {
          declareArgument(argument);
        }
        visitArgumentDefaults(statement.callerArgs ?? []);
        visit(statement.body);
        return;
      }
      case "FilterStatement": {
        const statement = node;
        visit(statement.body);
        visitFilter(statement.filter);
        return;
      }
      case "Identifier": {
        const name = node.value;
        if (isSpecialMacroArgument(name) && !declared.has(name)) {
          accessed.add(name);
        }
        return;
      }
      case "MemberExpression": {
        const expression = node;
        visit(expression.object);
        if (expression.computed) {
          visit(expression.property);
        }
        return;
      }
      case "FilterExpression": {
        const expression = node;
        visit(expression.operand);
        visitFilter(expression.filter);
        return;
      }
      case "TestExpression":
        visit(node.operand);
        return;
      case "SelectExpression": {
        const expression = node;
        visit(expression.test);
        visit(expression.lhs);
        return;
      }
      case "KeywordArgumentExpression":
        visit(node.value);
        return;
      default:
        for (const child of Object.values(node)) {
          visit(child);
        }
    }
  };
  for (const parameter of parameters) {
    declareArgument(parameter);
  }
  visit(body);
  return accessed;
}
var Interpreter = class {
  global;
  constructor(env) {
    this.global = env ?? new Environment();
  }
  /**
   * Run the program.
   */
  run(program) {
    return this.evaluate(program, this.global);
  }
  /**
   * Evaluates expressions following the binary operation type.
   */
  evaluateBinaryExpression(node, environment) {
    const left = this.evaluate(node.left, environment);
    switch (node.operator.value) {
      case "and":
        return left.__bool__().value ? this.evaluate(node.right, environment) : left;
      case "or":
        return left.__bool__().value ? left : this.evaluate(node.right, environment);
    }
    const right = this.evaluate(node.right, environment);
    switch (node.operator.value) {
      case "==":
        return new BooleanValue(left.value == right.value);
      case "!=":
        return new BooleanValue(left.value != right.value);
    }
    if (left instanceof UndefinedValue || right instanceof UndefinedValue) {
      if (right instanceof UndefinedValue && ["in", "not in"].includes(node.operator.value)) {
        return new BooleanValue(node.operator.value === "not in");
      }
      throw new Error(`Cannot perform operation ${node.operator.value} on undefined values`);
    } else if (left instanceof NullValue || right instanceof NullValue) {
      throw new Error("Cannot perform operation on null values");
    } else if (node.operator.value === "~") {
      return new StringValue(left.value.toString() + right.value.toString());
    } else if (node.operator.value === "**" && isNumericLikeValue(left) && isNumericLikeValue(right)) {
      const a = getNumericValue(left);
      const b = getNumericValue(right);
      if (a === 0 && b < 0) {
        throw new Error("0.0 cannot be raised to a negative power");
      }
      const result = a ** b;
      if (!Number.isFinite(result)) {
        throw new Error("Exponentiation result is not a finite real number");
      }
      const isFloat = left instanceof FloatValue || right instanceof FloatValue || b < 0;
      return isFloat ? new FloatValue(result) : new IntegerValue(result);
    } else if ((left instanceof IntegerValue || left instanceof FloatValue) && (right instanceof IntegerValue || right instanceof FloatValue)) {
      const a = left.value, b = right.value;
      switch (node.operator.value) {
        case "+":
        case "-":
        case "*": {
          const res = node.operator.value === "+" ? a + b : node.operator.value === "-" ? a - b : a * b;
          const isFloat = left instanceof FloatValue || right instanceof FloatValue;
          return isFloat ? new FloatValue(res) : new IntegerValue(res);
        }
        case "/":
          return new FloatValue(a / b);
        case "//": {
          const res = Math.floor(a / b);
          const isFloat = left instanceof FloatValue || right instanceof FloatValue;
          return isFloat ? new FloatValue(res) : new IntegerValue(res);
        }
        case "%": {
          const rem = a % b;
          const isFloat = left instanceof FloatValue || right instanceof FloatValue;
          return isFloat ? new FloatValue(rem) : new IntegerValue(rem);
        }
        case "<":
          return new BooleanValue(a < b);
        case ">":
          return new BooleanValue(a > b);
        case ">=":
          return new BooleanValue(a >= b);
        case "<=":
          return new BooleanValue(a <= b);
      }
    } else if (left instanceof ArrayValue && right instanceof ArrayValue) {
      switch (node.operator.value) {
        case "+":
          return new ArrayValue(left.value.concat(right.value));
      }
    } else if (right instanceof ArrayValue) {
      const member = right.value.find((x) => x.value === left.value) !== void 0;
      switch (node.operator.value) {
        case "in":
          return new BooleanValue(member);
        case "not in":
          return new BooleanValue(!member);
      }
    }
    if (left instanceof StringValue || right instanceof StringValue) {
      switch (node.operator.value) {
        case "+":
          return new StringValue(left.value.toString() + right.value.toString());
      }
    }
    if (left instanceof StringValue && right instanceof StringValue) {
      switch (node.operator.value) {
        case "in":
          return new BooleanValue(right.value.includes(left.value));
        case "not in":
          return new BooleanValue(!right.value.includes(left.value));
      }
    }
    if (left instanceof StringValue && right instanceof ObjectValue) {
      switch (node.operator.value) {
        case "in":
          return new BooleanValue(right.value.has(left.value));
        case "not in":
          return new BooleanValue(!right.value.has(left.value));
      }
    }
    throw new SyntaxError(`Unknown operator "${node.operator.value}" between ${left.type} and ${right.type}`);
  }
  evaluateArguments(args, environment) {
    const positionalArguments = [];
    const keywordArguments = /* @__PURE__ */ new Map();
    const addKeywordArgument = (key, value) => {
      if (keywordArguments.has(key)) {
        throw new Error(`Got multiple values for keyword argument '${key}'`);
      }
      keywordArguments.set(key, value);
    };
    for (const argument of args) {
      if (argument.type === "SpreadExpression") {
        const spreadNode = argument;
        const val = this.evaluate(spreadNode.argument, environment);
        if (!(val instanceof ArrayValue)) {
          throw new Error(`Cannot unpack non-iterable type: ${val.type}`);
        }
        for (const item of val.value) {
          positionalArguments.push(item);
        }
      } else if (argument.type !== "KeywordArgumentExpression" && argument.type !== "KeywordSpreadExpression") {
        positionalArguments.push(this.evaluate(argument, environment));
      }
    }
    for (const argument of args) {
      if (argument.type === "KeywordArgumentExpression") {
        const kwarg = argument;
        addKeywordArgument(kwarg.key.value, this.evaluate(kwarg.value, environment));
      } else if (argument.type === "KeywordSpreadExpression") {
        const spreadNode = argument;
        const val = this.evaluate(spreadNode.argument, environment);
        if (!(val instanceof ObjectValue)) {
          throw new Error(`Argument after ** must be a mapping, not ${val.type}`);
        }
        for (const [key, value] of val.value) {
          addKeywordArgument(key, value);
        }
      }
    }
    return [positionalArguments, keywordArguments];
  }
  applyFilter(operand, filterNode, environment) {
    if (filterNode.type === "Identifier") {
      const filter = filterNode;
      if (filter.value === "safe") {
        return operand;
      }
      if (filter.value === "tojson") {
        return new StringValue(toJSON(operand, {}));
      }
      if (operand instanceof ArrayValue) {
        switch (filter.value) {
          case "list":
            return operand;
          case "first":
            return operand.value[0];
          case "last":
            return operand.value[operand.value.length - 1];
          case "length":
            return new IntegerValue(operand.value.length);
          case "reverse":
            return new ArrayValue(operand.value.slice().reverse());
          case "sort": {
            return new ArrayValue(operand.value.slice().sort((a, b) => compareRuntimeValues(a, b, false)));
          }
          case "join":
            return new StringValue(operand.value.map((x) => x.value).join(""));
          case "string":
            return new StringValue(toJSON(operand, {}, 0, false));
          case "unique": {
            const seen = /* @__PURE__ */ new Set();
            const output = [];
            for (const item of operand.value) {
              if (!seen.has(item.value)) {
                seen.add(item.value);
                output.push(item);
              }
            }
            return new ArrayValue(output);
          }
          default:
            throw new Error(`Unknown ArrayValue filter: ${filter.value}`);
        }
      } else if (operand instanceof StringValue) {
        switch (filter.value) {
          case "length":
          case "upper":
          case "lower":
          case "title":
          case "capitalize": {
            const builtin = operand.builtins.get(filter.value);
            if (builtin instanceof FunctionValue) {
              return builtin.value(
                /* no arguments */
                [],
                environment
              );
            } else if (builtin instanceof IntegerValue) {
              return builtin;
            } else {
              throw new Error(`Unknown StringValue filter: ${filter.value}`);
            }
          }
          case "trim":
            return new StringValue(operand.value.trim());
          case "indent":
            return new StringValue(
              operand.value.split("\n").map(
                (x, i) => (
                  // By default, don't indent the first line or empty lines
                  i === 0 || x.length === 0 ? x : "    " + x
                )
              ).join("\n")
            );
          case "join":
          case "string":
            return operand;
          case "int": {
            const val = parseInt(operand.value, 10);
            return new IntegerValue(isNaN(val) ? 0 : val);
          }
          case "float": {
            const val = parseFloat(operand.value);
            return new FloatValue(isNaN(val) ? 0 : val);
          }
          default:
            throw new Error(`Unknown StringValue filter: ${filter.value}`);
        }
      } else if (operand instanceof IntegerValue || operand instanceof FloatValue) {
        switch (filter.value) {
          case "abs":
            return operand instanceof IntegerValue ? new IntegerValue(Math.abs(operand.value)) : new FloatValue(Math.abs(operand.value));
          case "int":
            return new IntegerValue(Math.floor(operand.value));
          case "float":
            return new FloatValue(operand.value);
          case "string":
            return new StringValue(operand.toString());
          default:
            throw new Error(`Unknown NumericValue filter: ${filter.value}`);
        }
      } else if (operand instanceof ObjectValue) {
        switch (filter.value) {
          case "items":
            return new ArrayValue(
              Array.from(operand.value.entries()).map(([key, value]) => new ArrayValue([new StringValue(key), value]))
            );
          case "length":
            return new IntegerValue(operand.value.size);
          default: {
            const builtin = operand.builtins.get(filter.value);
            if (builtin) {
              if (builtin instanceof FunctionValue) {
                return builtin.value([], environment);
              }
              return builtin;
            }
            throw new Error(`Unknown ObjectValue filter: ${filter.value}`);
          }
        }
      } else if (operand instanceof BooleanValue) {
        switch (filter.value) {
          case "bool":
            return new BooleanValue(operand.value);
          case "int":
            return new IntegerValue(operand.value ? 1 : 0);
          case "float":
            return new FloatValue(operand.value ? 1 : 0);
          case "string":
            return new StringValue(operand.value ? "true" : "false");
          default:
            throw new Error(`Unknown BooleanValue filter: ${filter.value}`);
        }
      }
      throw new Error(`Cannot apply filter "${filter.value}" to type: ${operand.type}`);
    } else if (filterNode.type === "CallExpression") {
      const filter = filterNode;
      if (filter.callee.type !== "Identifier") {
        throw new Error(`Unknown filter: ${filter.callee.type}`);
      }
      const filterName = filter.callee.value;
      if (filterName === "tojson") {
        const [, kwargs] = this.evaluateArguments(filter.args, environment);
        const indent = kwargs.get("indent") ?? new NullValue();
        if (!(indent instanceof IntegerValue || indent instanceof NullValue)) {
          throw new Error("If set, indent must be a number");
        }
        const ensureAscii = kwargs.get("ensure_ascii") ?? new BooleanValue(false);
        if (!(ensureAscii instanceof BooleanValue)) {
          throw new Error("If set, ensure_ascii must be a boolean");
        }
        const sortKeys = kwargs.get("sort_keys") ?? new BooleanValue(false);
        if (!(sortKeys instanceof BooleanValue)) {
          throw new Error("If set, sort_keys must be a boolean");
        }
        const separatorsArg = kwargs.get("separators") ?? new NullValue();
        let separators = null;
        if (separatorsArg instanceof ArrayValue || separatorsArg instanceof TupleValue) {
          if (separatorsArg.value.length !== 2) {
            throw new Error("separators must be a tuple of two strings");
          }
          const [itemSep, keySep] = separatorsArg.value;
          if (!(itemSep instanceof StringValue) || !(keySep instanceof StringValue)) {
            throw new Error("separators must be a tuple of two strings");
          }
          separators = [itemSep.value, keySep.value];
        } else if (!(separatorsArg instanceof NullValue)) {
          throw new Error("If set, separators must be a tuple of two strings");
        }
        return new StringValue(
          toJSON(operand, {
            indent: indent.value,
            ensureAscii: ensureAscii.value,
            sortKeys: sortKeys.value,
            separators
          })
        );
      } else if (filterName === "join") {
        let value;
        if (operand instanceof StringValue) {
          value = Array.from(operand.value);
        } else if (operand instanceof ArrayValue) {
          value = operand.value.map((x) => x.value);
        } else {
          throw new Error(`Cannot apply filter "${filterName}" to type: ${operand.type}`);
        }
        const [args, kwargs] = this.evaluateArguments(filter.args, environment);
        const separator = args.at(0) ?? kwargs.get("separator") ?? new StringValue("");
        if (!(separator instanceof StringValue)) {
          throw new Error("separator must be a string");
        }
        return new StringValue(value.join(separator.value));
      } else if (filterName === "int" || filterName === "float") {
        const [args, kwargs] = this.evaluateArguments(filter.args, environment);
        const defaultValue = args.at(0) ?? kwargs.get("default") ?? (filterName === "int" ? new IntegerValue(0) : new FloatValue(0));
        if (operand instanceof StringValue) {
          const val = filterName === "int" ? parseInt(operand.value, 10) : parseFloat(operand.value);
          return isNaN(val) ? defaultValue : filterName === "int" ? new IntegerValue(val) : new FloatValue(val);
        } else if (operand instanceof IntegerValue || operand instanceof FloatValue) {
          return operand;
        } else if (operand instanceof BooleanValue) {
          return filterName === "int" ? new IntegerValue(operand.value ? 1 : 0) : new FloatValue(operand.value ? 1 : 0);
        } else {
          throw new Error(`Cannot apply filter "${filterName}" to type: ${operand.type}`);
        }
      } else if (filterName === "default") {
        const [args, kwargs] = this.evaluateArguments(filter.args, environment);
        const defaultValue = args[0] ?? new StringValue("");
        const booleanValue = args[1] ?? kwargs.get("boolean") ?? new BooleanValue(false);
        if (!(booleanValue instanceof BooleanValue)) {
          throw new Error("`default` filter flag must be a boolean");
        }
        if (operand instanceof UndefinedValue || booleanValue.value && !operand.__bool__().value) {
          return defaultValue;
        }
        return operand;
      }
      if (operand instanceof ArrayValue) {
        switch (filterName) {
          case "sort": {
            const [args, kwargs] = this.evaluateArguments(filter.args, environment);
            const reverse = args.at(0) ?? kwargs.get("reverse") ?? new BooleanValue(false);
            if (!(reverse instanceof BooleanValue)) {
              throw new Error("reverse must be a boolean");
            }
            const caseSensitive = args.at(1) ?? kwargs.get("case_sensitive") ?? new BooleanValue(false);
            if (!(caseSensitive instanceof BooleanValue)) {
              throw new Error("case_sensitive must be a boolean");
            }
            const attribute = args.at(2) ?? kwargs.get("attribute") ?? new NullValue();
            if (!(attribute instanceof StringValue || attribute instanceof IntegerValue || attribute instanceof NullValue)) {
              throw new Error("attribute must be a string, integer, or null");
            }
            const getSortValue = (item) => {
              if (attribute instanceof NullValue) {
                return item;
              }
              const attrPath = attribute instanceof IntegerValue ? String(attribute.value) : attribute.value;
              return getAttributeValue(item, attrPath);
            };
            return new ArrayValue(
              operand.value.slice().sort((a, b) => {
                const aVal = getSortValue(a);
                const bVal = getSortValue(b);
                const result = compareRuntimeValues(aVal, bVal, caseSensitive.value);
                return reverse.value ? -result : result;
              })
            );
          }
          case "selectattr":
          case "rejectattr": {
            const select = filterName === "selectattr";
            if (operand.value.some((item) => !isAttributeContainer(item))) {
              throw new Error(`\`${filterName}\` can only be applied to array of objects`);
            }
            if (filter.args.some((x) => x.type !== "StringLiteral")) {
              throw new Error(`arguments of \`${filterName}\` must be strings`);
            }
            const [attr, testName, value] = filter.args.map((x) => this.evaluate(x, environment));
            let testFunction;
            if (testName) {
              const test = environment.tests.get(testName.value);
              if (!test) {
                throw new Error(`Unknown test: ${testName.value}`);
              }
              testFunction = test;
            } else {
              testFunction = (...x) => x[0].__bool__().value;
            }
            const filtered = operand.value.filter((item) => {
              const a = item.value.get(attr.value);
              const result = a ? testFunction(a, value) : false;
              return select ? result : !result;
            });
            return new ArrayValue(filtered);
          }
          case "map": {
            const [, kwargs] = this.evaluateArguments(filter.args, environment);
            if (kwargs.has("attribute")) {
              const attr = kwargs.get("attribute");
              if (!(attr instanceof StringValue)) {
                throw new Error("attribute must be a string");
              }
              const defaultValue = kwargs.get("default");
              const mapped = operand.value.map((item) => {
                if (!isAttributeContainer(item)) {
                  throw new Error("items in map must be an object");
                }
                const value = getAttributeValue(item, attr.value);
                return value instanceof UndefinedValue ? defaultValue ?? new UndefinedValue() : value;
              });
              return new ArrayValue(mapped);
            } else {
              throw new Error("`map` expressions without `attribute` set are not currently supported.");
            }
          }
        }
        throw new Error(`Unknown ArrayValue filter: ${filterName}`);
      } else if (operand instanceof StringValue) {
        switch (filterName) {
          case "indent": {
            const [args, kwargs] = this.evaluateArguments(filter.args, environment);
            const width = args.at(0) ?? kwargs.get("width") ?? new IntegerValue(4);
            if (!(width instanceof IntegerValue)) {
              throw new Error("width must be a number");
            }
            const first = args.at(1) ?? kwargs.get("first") ?? new BooleanValue(false);
            const blank = args.at(2) ?? kwargs.get("blank") ?? new BooleanValue(false);
            const lines = operand.value.split("\n");
            const indent = " ".repeat(width.value);
            const indented = lines.map(
              (x, i) => !first.value && i === 0 || !blank.value && x.length === 0 ? x : indent + x
            );
            return new StringValue(indented.join("\n"));
          }
          case "replace": {
            const replaceFn = operand.builtins.get("replace");
            if (!(replaceFn instanceof FunctionValue)) {
              throw new Error("replace filter not available");
            }
            const [args, kwargs] = this.evaluateArguments(filter.args, environment);
            return replaceFn.value([...args, new KeywordArgumentsValue(kwargs)], environment);
          }
        }
        throw new Error(`Unknown StringValue filter: ${filterName}`);
      } else if (operand instanceof ObjectValue) {
        const builtin = operand.builtins.get(filterName);
        if (builtin && builtin instanceof FunctionValue) {
          const [args, kwargs] = this.evaluateArguments(filter.args, environment);
          if (kwargs.size > 0) {
            args.push(new KeywordArgumentsValue(kwargs));
          }
          return builtin.value(args, environment);
        }
        throw new Error(`Unknown ObjectValue filter: ${filterName}`);
      } else {
        throw new Error(`Cannot apply filter "${filterName}" to type: ${operand.type}`);
      }
    }
    throw new Error(`Unknown filter: ${filterNode.type}`);
  }
  /**
   * Evaluates expressions following the filter operation type.
   */
  evaluateFilterExpression(node, environment) {
    const operand = this.evaluate(node.operand, environment);
    return this.applyFilter(operand, node.filter, environment);
  }
  /**
   * Evaluates expressions following the test operation type.
   */
  evaluateTestExpression(node, environment) {
    const operand = this.evaluate(node.operand, environment);
    const test = environment.tests.get(node.test.value);
    if (!test) {
      throw new Error(`Unknown test: ${node.test.value}`);
    }
    const result = test(operand);
    return new BooleanValue(node.negate ? !result : result);
  }
  /**
   * Evaluates expressions following the select operation type.
   */
  evaluateSelectExpression(node, environment) {
    const predicate = this.evaluate(node.test, environment);
    if (!predicate.__bool__().value) {
      return new UndefinedValue();
    }
    return this.evaluate(node.lhs, environment);
  }
  /**
   * Evaluates expressions following the unary operation type.
   */
  evaluateUnaryExpression(node, environment) {
    const argument = this.evaluate(node.argument, environment);
    switch (node.operator.value) {
      case "not":
        return new BooleanValue(!argument.__bool__().value);
      case "+":
      case "-": {
        const sign = node.operator.value === "-" ? -1 : 1;
        if (argument instanceof IntegerValue || argument instanceof FloatValue || argument instanceof BooleanValue) {
          const value = argument instanceof BooleanValue ? argument.value ? 1 : 0 : argument.value;
          const result = sign * value;
          return argument instanceof FloatValue ? new FloatValue(result) : new IntegerValue(result);
        }
        throw new SyntaxError(`Unknown operator "${node.operator.value}" for ${argument.type}`);
      }
      default:
        throw new SyntaxError(`Unknown operator: ${node.operator.value}`);
    }
  }
  evaluateTernaryExpression(node, environment) {
    const cond = this.evaluate(node.condition, environment);
    return cond.__bool__().value ? this.evaluate(node.trueExpr, environment) : this.evaluate(node.falseExpr, environment);
  }
  evalProgram(program, environment) {
    return this.evaluateBlock(program.body, environment);
  }
  evaluateBlock(statements, environment) {
    let result = "";
    for (const statement of statements) {
      const lastEvaluated = this.evaluate(statement, environment);
      if (lastEvaluated.type !== "NullValue" && lastEvaluated.type !== "UndefinedValue") {
        result += lastEvaluated.toString();
      }
    }
    return new StringValue(result);
  }
  evaluateIdentifier(node, environment) {
    return environment.lookupVariable(node.value);
  }
  evaluateCallExpression(expr, environment) {
    const [args, kwargs] = this.evaluateArguments(expr.args, environment);
    if (kwargs.size > 0) {
      args.push(new KeywordArgumentsValue(kwargs));
    }
    const fn = this.evaluate(expr.callee, environment);
    if (fn.type !== "FunctionValue") {
      throw new Error(`Cannot call something that is not a function: got ${fn.type}`);
    }
    return fn.value(args, environment);
  }
  evaluateSliceExpression(object, expr, environment) {
    if (!(object instanceof ArrayValue || object instanceof StringValue)) {
      throw new Error("Slice object must be an array or string");
    }
    const start = this.evaluate(expr.start, environment);
    const stop = this.evaluate(expr.stop, environment);
    const step = this.evaluate(expr.step, environment);
    if (!(start instanceof IntegerValue || start instanceof UndefinedValue)) {
      throw new Error("Slice start must be numeric or undefined");
    }
    if (!(stop instanceof IntegerValue || stop instanceof UndefinedValue)) {
      throw new Error("Slice stop must be numeric or undefined");
    }
    if (!(step instanceof IntegerValue || step instanceof UndefinedValue)) {
      throw new Error("Slice step must be numeric or undefined");
    }
    if (object instanceof ArrayValue) {
      return new ArrayValue(slice(object.value, start.value, stop.value, step.value));
    } else {
      return new StringValue(slice(Array.from(object.value), start.value, stop.value, step.value).join(""));
    }
  }
  evaluateMemberExpression(expr, environment) {
    const object = this.evaluate(expr.object, environment);
    let property;
    if (expr.computed) {
      if (expr.property.type === "SliceExpression") {
        return this.evaluateSliceExpression(object, expr.property, environment);
      } else {
        property = this.evaluate(expr.property, environment);
      }
    } else if (expr.property.type === "IntegerLiteral") {
      property = new IntegerValue(expr.property.value);
    } else {
      property = new StringValue(expr.property.value);
    }
    let value;
    if (isAttributeContainer(object)) {
      if (!(property instanceof StringValue)) {
        throw new Error(`Cannot access property with non-string: got ${property.type}`);
      }
      value = object.value.get(property.value) ?? (object instanceof ObjectValue ? object.builtins.get(property.value) : void 0);
    } else if (object instanceof ArrayValue || object instanceof StringValue) {
      if (property instanceof IntegerValue) {
        if (object instanceof StringValue) {
          const character = object.value.at(property.value);
          value = character === void 0 ? void 0 : new StringValue(character);
        } else {
          value = object.value.at(property.value);
        }
      } else if (property instanceof StringValue) {
        value = object.builtins.get(property.value);
      } else {
        throw new Error(`Cannot access property with non-string/non-number: got ${property.type}`);
      }
    } else {
      if (!(property instanceof StringValue)) {
        throw new Error(`Cannot access property with non-string: got ${property.type}`);
      }
      value = object.builtins.get(property.value);
    }
    return value instanceof RuntimeValue ? value : new UndefinedValue();
  }
  evaluateSet(node, environment) {
    const rhs = node.value ? this.evaluate(node.value, environment) : this.evaluateBlock(node.body, environment);
    if (node.assignee.type === "Identifier") {
      const variableName = node.assignee.value;
      environment.setVariable(variableName, rhs);
    } else if (node.assignee.type === "TupleLiteral") {
      const tuple = node.assignee;
      if (!(rhs instanceof ArrayValue)) {
        throw new Error(`Cannot unpack non-iterable type in set: ${rhs.type}`);
      }
      const arr = rhs.value;
      if (arr.length !== tuple.value.length) {
        throw new Error(`Too ${tuple.value.length > arr.length ? "few" : "many"} items to unpack in set`);
      }
      for (let i = 0; i < tuple.value.length; ++i) {
        const elem = tuple.value[i];
        if (elem.type !== "Identifier") {
          throw new Error(`Cannot unpack to non-identifier in set: ${elem.type}`);
        }
        environment.setVariable(elem.value, arr[i]);
      }
    } else if (node.assignee.type === "MemberExpression") {
      const member = node.assignee;
      const object = this.evaluate(member.object, environment);
      if (!(object instanceof NamespaceValue)) {
        throw new Error("cannot assign attribute on non-namespace object");
      }
      if (member.property.type !== "Identifier") {
        throw new Error("Cannot assign to member with non-identifier property");
      }
      object.value.set(member.property.value, rhs);
    } else {
      throw new Error(`Invalid LHS inside assignment expression: ${JSON.stringify(node.assignee)}`);
    }
    return new NullValue();
  }
  evaluateIf(node, environment) {
    const test = this.evaluate(node.test, environment);
    return this.evaluateBlock(test.__bool__().value ? node.body : node.alternate, environment);
  }
  evaluateFor(node, environment) {
    const scope = new Environment(environment);
    let test, iterable;
    if (node.iterable.type === "SelectExpression") {
      const select = node.iterable;
      iterable = this.evaluate(select.lhs, scope);
      test = select.test;
    } else {
      iterable = this.evaluate(node.iterable, scope);
    }
    if (!(iterable instanceof ArrayValue || iterable instanceof ObjectValue)) {
      throw new Error(`Expected iterable or object type in for loop: got ${iterable.type}`);
    }
    if (iterable instanceof ObjectValue) {
      iterable = iterable.keys();
    }
    const items = [];
    const scopeUpdateFunctions = [];
    for (let i = 0; i < iterable.value.length; ++i) {
      const loopScope = new Environment(scope);
      const current = iterable.value[i];
      let scopeUpdateFunction;
      if (node.loopvar.type === "Identifier") {
        scopeUpdateFunction = (scope2) => scope2.setVariable(node.loopvar.value, current);
      } else if (node.loopvar.type === "TupleLiteral") {
        const loopvar = node.loopvar;
        if (current.type !== "ArrayValue") {
          throw new Error(`Cannot unpack non-iterable type: ${current.type}`);
        }
        const c = current;
        if (loopvar.value.length !== c.value.length) {
          throw new Error(`Too ${loopvar.value.length > c.value.length ? "few" : "many"} items to unpack`);
        }
        scopeUpdateFunction = (scope2) => {
          for (let j = 0; j < loopvar.value.length; ++j) {
            if (loopvar.value[j].type !== "Identifier") {
              throw new Error(`Cannot unpack non-identifier type: ${loopvar.value[j].type}`);
            }
            scope2.setVariable(loopvar.value[j].value, c.value[j]);
          }
        };
      } else {
        throw new Error(`Invalid loop variable(s): ${node.loopvar.type}`);
      }
      if (test) {
        scopeUpdateFunction(loopScope);
        const testValue = this.evaluate(test, loopScope);
        if (!testValue.__bool__().value) {
          continue;
        }
      }
      items.push(current);
      scopeUpdateFunctions.push(scopeUpdateFunction);
    }
    let result = "";
    let noIteration = true;
    for (let i = 0; i < items.length; ++i) {
      const loop = /* @__PURE__ */ new Map([
        ["index", new IntegerValue(i + 1)],
        ["index0", new IntegerValue(i)],
        ["revindex", new IntegerValue(items.length - i)],
        ["revindex0", new IntegerValue(items.length - i - 1)],
        ["first", new BooleanValue(i === 0)],
        ["last", new BooleanValue(i === items.length - 1)],
        ["length", new IntegerValue(items.length)],
        ["previtem", i > 0 ? items[i - 1] : new UndefinedValue()],
        ["nextitem", i < items.length - 1 ? items[i + 1] : new UndefinedValue()]
      ]);
      scope.setVariable("loop", new ObjectValue(loop));
      scopeUpdateFunctions[i](scope);
      try {
        const evaluated = this.evaluateBlock(node.body, scope);
        result += evaluated.value;
      } catch (err) {
        if (err instanceof ContinueControl) {
          continue;
        }
        if (err instanceof BreakControl) {
          break;
        }
        throw err;
      }
      noIteration = false;
    }
    if (noIteration) {
      const defaultEvaluated = this.evaluateBlock(node.defaultBlock, scope);
      result += defaultEvaluated.value;
    }
    return new StringValue(result);
  }
  /**
   * Bind every parameter name and special argument before evaluating defaults,
   * preventing unbound parameters from resolving in an outer scope.
   */
  bindMacroArguments(displayName, parameters, specialArguments, args, scope) {
    const positionalArguments = args.slice();
    let keywordArguments = /* @__PURE__ */ new Map();
    if (positionalArguments.at(-1) instanceof KeywordArgumentsValue) {
      keywordArguments = new Map(positionalArguments.pop().value);
    }
    const pendingDefaults = [];
    for (let i = 0; i < parameters.length; ++i) {
      const { name, defaultValue } = getParameterDescriptor(parameters[i]);
      let value = positionalArguments[i];
      if (value === void 0 && keywordArguments.has(name)) {
        value = keywordArguments.get(name);
        keywordArguments.delete(name);
      }
      if (value === void 0 && defaultValue !== void 0) {
        pendingDefaults.push([name, defaultValue]);
      }
      scope.setVariable(name, value ?? new UndefinedValue());
    }
    if (specialArguments.has("kwargs")) {
      scope.setVariable("kwargs", new ObjectValue(keywordArguments));
    } else if (keywordArguments.size > 0) {
      throw new Error(`macro ${displayName} takes no keyword argument '${keywordArguments.keys().next().value}'`);
    }
    if (specialArguments.has("varargs")) {
      scope.setVariable("varargs", new ArrayValue(positionalArguments.slice(parameters.length)));
    } else if (positionalArguments.length > parameters.length) {
      throw new Error(`macro ${displayName} takes not more than ${parameters.length} argument(s)`);
    }
    for (const [name, defaultValue] of pendingDefaults) {
      scope.setVariable(name, this.evaluate(defaultValue, scope));
    }
  }
  /**
   * See https://jinja.palletsprojects.com/en/3.1.x/templates/#macros for more information.
   */
  evaluateMacro(node, environment) {
    const specialArguments = findAccessedSpecialMacroArguments(node.args, node.body);
    environment.setVariable(
      node.name.value,
      new FunctionValue((args, scope) => {
        const macroScope = new Environment(scope);
        this.bindMacroArguments(`'${node.name.value}'`, node.args, specialArguments, args, macroScope);
        return this.evaluateBlock(node.body, macroScope);
      })
    );
    return new NullValue();
  }
  evaluateCallStatement(node, environment) {
    const parameters = node.callerArgs ?? [];
    const specialArguments = findAccessedSpecialMacroArguments(parameters, node.body);
    const callerFn = new FunctionValue((callerArguments) => {
      const callBlockEnv = new Environment(environment);
      this.bindMacroArguments("None", parameters, specialArguments, callerArguments, callBlockEnv);
      return this.evaluateBlock(node.body, callBlockEnv);
    });
    const [macroArgs, macroKwargs] = this.evaluateArguments(node.call.args, environment);
    macroArgs.push(new KeywordArgumentsValue(macroKwargs));
    const fn = this.evaluate(node.call.callee, environment);
    if (fn.type !== "FunctionValue") {
      throw new Error(`Cannot call something that is not a function: got ${fn.type}`);
    }
    const newEnv = new Environment(environment);
    newEnv.setVariable("caller", callerFn);
    return fn.value(macroArgs, newEnv);
  }
  evaluateFilterStatement(node, environment) {
    const rendered = this.evaluateBlock(node.body, environment);
    return this.applyFilter(rendered, node.filter, environment);
  }
  evaluate(statement, environment) {
    if (!statement) {
      return new UndefinedValue();
    }
    switch (statement.type) {
      case "Program":
        return this.evalProgram(statement, environment);
      case "Set":
        return this.evaluateSet(statement, environment);
      case "If":
        return this.evaluateIf(statement, environment);
      case "For":
        return this.evaluateFor(statement, environment);
      case "Macro":
        return this.evaluateMacro(statement, environment);
      case "CallStatement":
        return this.evaluateCallStatement(statement, environment);
      case "Break":
        throw new BreakControl();
      case "Continue":
        throw new ContinueControl();
      case "IntegerLiteral":
        return new IntegerValue(statement.value);
      case "FloatLiteral":
        return new FloatValue(statement.value);
      case "StringLiteral":
        return new StringValue(statement.value);
      case "ArrayLiteral":
        return new ArrayValue(statement.value.map((x) => this.evaluate(x, environment)));
      case "TupleLiteral":
        return new TupleValue(statement.value.map((x) => this.evaluate(x, environment)));
      case "ObjectLiteral": {
        const mapping = /* @__PURE__ */ new Map();
        for (const [key, value] of statement.value) {
          const evaluatedKey = this.evaluate(key, environment);
          if (!(evaluatedKey instanceof StringValue)) {
            throw new Error(`Object keys must be strings: got ${evaluatedKey.type}`);
          }
          mapping.set(evaluatedKey.value, this.evaluate(value, environment));
        }
        return new ObjectValue(mapping);
      }
      case "Identifier":
        return this.evaluateIdentifier(statement, environment);
      case "CallExpression":
        return this.evaluateCallExpression(statement, environment);
      case "MemberExpression":
        return this.evaluateMemberExpression(statement, environment);
      case "UnaryExpression":
        return this.evaluateUnaryExpression(statement, environment);
      case "BinaryExpression":
        return this.evaluateBinaryExpression(statement, environment);
      case "FilterExpression":
        return this.evaluateFilterExpression(statement, environment);
      case "FilterStatement":
        return this.evaluateFilterStatement(statement, environment);
      case "TestExpression":
        return this.evaluateTestExpression(statement, environment);
      case "SelectExpression":
        return this.evaluateSelectExpression(statement, environment);
      case "Ternary":
        return this.evaluateTernaryExpression(statement, environment);
      case "Comment":
        return new NullValue();
      default:
        throw new SyntaxError(`Unknown node type: ${statement.type}`);
    }
  }
};
function convertToRuntimeValues(input) {
  switch (typeof input) {
    case "number":
      return Number.isInteger(input) ? new IntegerValue(input) : new FloatValue(input);
    case "string":
      return new StringValue(input);
    case "boolean":
      return new BooleanValue(input);
    case "undefined":
      return new UndefinedValue();
    case "object":
      if (input === null) {
        return new NullValue();
      } else if (Array.isArray(input)) {
        return new ArrayValue(input.map(convertToRuntimeValues));
      } else {
        return new ObjectValue(
          new Map(Object.entries(input).map(([key, value]) => [key, convertToRuntimeValues(value)]))
        );
      }
    case "function":
      return new FunctionValue((args, _scope) => {
        const result = input(...args.map((x) => x.value)) ?? null;
        return convertToRuntimeValues(result);
      });
    default:
      throw new Error(`Cannot convert to runtime value: ${input}`);
  }
}
var NEWLINE = "\n";
var OPEN_STATEMENT = "{%- ";
var CLOSE_STATEMENT = " -%}";
var PRECEDENCE = Object.freeze({
  CONDITIONAL: 0,
  // a if b else c
  LOGICAL_OR: 1,
  // or
  LOGICAL_AND: 2,
  // and
  LOGICAL_NOT: 3,
  // not a
  COMPARISON: 4,
  // == != < <= > >= in, not in
  ADDITIVE: 5,
  // + -
  MULTIPLICATIVE: 6,
  // * / // %
  EXPONENTIATION: 7,
  // **
  TEST: 8,
  // is
  FILTER: 9,
  // |
  UNARY_SIGN: 10,
  // -a +a
  ATOM: 11
  // literals, identifiers, calls, member accesses
});
function getBinaryOperatorPrecedence(expr) {
  switch (expr.operator.type) {
    case "ExponentiationBinaryOperator":
      return PRECEDENCE.EXPONENTIATION;
    case "MultiplicativeBinaryOperator":
      return PRECEDENCE.MULTIPLICATIVE;
    case "AdditiveBinaryOperator":
      return PRECEDENCE.ADDITIVE;
    case "ComparisonBinaryOperator":
      return PRECEDENCE.COMPARISON;
    case "Identifier":
      if (expr.operator.value === "and") {
        return PRECEDENCE.LOGICAL_AND;
      }
      if (expr.operator.value === "in" || expr.operator.value === "not in") {
        return PRECEDENCE.COMPARISON;
      }
      return PRECEDENCE.LOGICAL_OR;
  }
  return PRECEDENCE.LOGICAL_OR;
}
function getPrecedence(node) {
  switch (node.type) {
    case "SelectExpression":
    case "Ternary":
      return PRECEDENCE.CONDITIONAL;
    case "BinaryExpression":
      return getBinaryOperatorPrecedence(node);
    case "UnaryExpression":
      return node.operator.value === "not" ? PRECEDENCE.LOGICAL_NOT : PRECEDENCE.UNARY_SIGN;
    case "TestExpression":
      return PRECEDENCE.TEST;
    case "FilterExpression":
      return PRECEDENCE.FILTER;
    default:
      return PRECEDENCE.ATOM;
  }
}
function formatOperand(node, minPrecedence) {
  const expr = formatExpression(node);
  return getPrecedence(node) < minPrecedence ? `(${expr})` : expr;
}
function format(program, indent = "	") {
  const indentStr = typeof indent === "number" ? " ".repeat(indent) : indent;
  const body = formatStatements(program.body, 0, indentStr);
  return body.replace(/\n$/, "");
}
function createStatement(...text) {
  return OPEN_STATEMENT + text.join(" ") + CLOSE_STATEMENT;
}
function formatStatements(stmts, depth, indentStr) {
  return stmts.map((stmt) => formatStatement(stmt, depth, indentStr)).join(NEWLINE);
}
function formatExpressionList(expressions) {
  return expressions.map((expression) => formatExpression(expression)).join(", ");
}
function formatStatement(node, depth, indentStr) {
  const pad = indentStr.repeat(depth);
  switch (node.type) {
    case "Program":
      return formatStatements(node.body, depth, indentStr);
    case "If":
      return formatIf(node, depth, indentStr);
    case "For":
      return formatFor(node, depth, indentStr);
    case "Set":
      return formatSet(node, depth, indentStr);
    case "Macro":
      return formatMacro(node, depth, indentStr);
    case "Break":
      return pad + createStatement("break");
    case "Continue":
      return pad + createStatement("continue");
    case "CallStatement":
      return formatCallStatement(node, depth, indentStr);
    case "FilterStatement":
      return formatFilterStatement(node, depth, indentStr);
    case "Comment":
      return pad + "{# " + node.value + " #}";
    default:
      return pad + "{{- " + formatExpression(node) + " -}}";
  }
}
function formatIf(node, depth, indentStr) {
  const pad = indentStr.repeat(depth);
  const clauses = [];
  let current = node;
  while (current) {
    clauses.push({ test: current.test, body: current.body });
    if (current.alternate.length === 1 && current.alternate[0].type === "If") {
      current = current.alternate[0];
    } else {
      break;
    }
  }
  let out2 = pad + createStatement("if", formatExpression(clauses[0].test)) + NEWLINE + formatStatements(clauses[0].body, depth + 1, indentStr);
  for (let i = 1; i < clauses.length; ++i) {
    out2 += NEWLINE + pad + createStatement("elif", formatExpression(clauses[i].test)) + NEWLINE + formatStatements(clauses[i].body, depth + 1, indentStr);
  }
  if (current && current.alternate.length > 0) {
    out2 += NEWLINE + pad + createStatement("else") + NEWLINE + formatStatements(current.alternate, depth + 1, indentStr);
  }
  out2 += NEWLINE + pad + createStatement("endif");
  return out2;
}
function formatFor(node, depth, indentStr) {
  const pad = indentStr.repeat(depth);
  let formattedIterable = "";
  if (node.iterable.type === "SelectExpression") {
    const n = node.iterable;
    formattedIterable = `${formatExpression(n.lhs)} if ${formatExpression(n.test)}`;
  } else {
    formattedIterable = formatExpression(node.iterable);
  }
  let out2 = pad + createStatement("for", formatExpression(node.loopvar), "in", formattedIterable) + NEWLINE + formatStatements(node.body, depth + 1, indentStr);
  if (node.defaultBlock.length > 0) {
    out2 += NEWLINE + pad + createStatement("else") + NEWLINE + formatStatements(node.defaultBlock, depth + 1, indentStr);
  }
  out2 += NEWLINE + pad + createStatement("endfor");
  return out2;
}
function formatSet(node, depth, indentStr) {
  const pad = indentStr.repeat(depth);
  const left = formatExpression(node.assignee);
  const right = node.value ? formatExpression(node.value) : "";
  const value = pad + createStatement("set", `${left}${node.value ? " = " + right : ""}`);
  if (node.body.length === 0) {
    return value;
  }
  return value + NEWLINE + formatStatements(node.body, depth + 1, indentStr) + NEWLINE + pad + createStatement("endset");
}
function formatMacro(node, depth, indentStr) {
  const pad = indentStr.repeat(depth);
  const args = formatExpressionList(node.args);
  return pad + createStatement("macro", `${node.name.value}(${args})`) + NEWLINE + formatStatements(node.body, depth + 1, indentStr) + NEWLINE + pad + createStatement("endmacro");
}
function formatCallStatement(node, depth, indentStr) {
  const pad = indentStr.repeat(depth);
  const params5 = node.callerArgs && node.callerArgs.length > 0 ? `(${formatExpressionList(node.callerArgs)})` : "";
  const callExpr = formatExpression(node.call);
  let out2 = pad + createStatement(`call${params5}`, callExpr) + NEWLINE;
  out2 += formatStatements(node.body, depth + 1, indentStr) + NEWLINE;
  out2 += pad + createStatement("endcall");
  return out2;
}
function formatFilterStatement(node, depth, indentStr) {
  const pad = indentStr.repeat(depth);
  const spec = node.filter.type === "Identifier" ? node.filter.value : formatExpression(node.filter);
  let out2 = pad + createStatement("filter", spec) + NEWLINE;
  out2 += formatStatements(node.body, depth + 1, indentStr) + NEWLINE;
  out2 += pad + createStatement("endfilter");
  return out2;
}
function formatExpression(node) {
  switch (node.type) {
    case "SpreadExpression": {
      const n = node;
      return `*${formatExpression(n.argument)}`;
    }
    case "KeywordSpreadExpression": {
      const n = node;
      return `**${formatExpression(n.argument)}`;
    }
    case "Identifier":
      return node.value;
    case "IntegerLiteral":
      return `${node.value}`;
    case "FloatLiteral": {
      const value = node.value;
      if (Object.is(value, -0)) {
        return "-0.0";
      }
      return value % 1 === 0 ? value.toFixed(1) : value.toString();
    }
    case "StringLiteral":
      return JSON.stringify(node.value);
    case "BinaryExpression": {
      const n = node;
      const thisPrecedence = getBinaryOperatorPrecedence(n);
      const left = formatOperand(n.left, thisPrecedence);
      const right = formatOperand(n.right, thisPrecedence + 1);
      return `${left} ${n.operator.value} ${right}`;
    }
    case "UnaryExpression": {
      const n = node;
      const operandPrecedence = n.argument.type === "UnaryExpression" ? getPrecedence(n) : PRECEDENCE.ATOM;
      return n.operator.value + (n.operator.value === "not" ? " " : "") + formatOperand(n.argument, operandPrecedence);
    }
    case "CallExpression": {
      const n = node;
      const args = formatExpressionList(n.args);
      return `${formatExpression(n.callee)}(${args})`;
    }
    case "MemberExpression": {
      const n = node;
      const obj = formatOperand(n.object, PRECEDENCE.ATOM);
      let prop = formatExpression(n.property);
      if (!n.computed && n.property.type !== "Identifier" && n.property.type !== "IntegerLiteral") {
        prop = `(${prop})`;
      }
      return n.computed ? `${obj}[${prop}]` : `${obj}.${prop}`;
    }
    case "FilterExpression": {
      const n = node;
      const operand = formatOperand(n.operand, PRECEDENCE.FILTER);
      if (n.filter.type === "CallExpression") {
        return `${operand} | ${formatExpression(n.filter)}`;
      }
      return `${operand} | ${n.filter.value}`;
    }
    case "SelectExpression": {
      const n = node;
      return `${formatOperand(n.lhs, PRECEDENCE.LOGICAL_OR)} if ${formatOperand(n.test, PRECEDENCE.LOGICAL_OR)}`;
    }
    case "TestExpression": {
      const n = node;
      return `${formatOperand(n.operand, PRECEDENCE.TEST)} is${n.negate ? " not" : ""} ${n.test.value}`;
    }
    case "ArrayLiteral":
    case "TupleLiteral": {
      const elems = formatExpressionList(node.value);
      const brackets = node.type === "ArrayLiteral" ? "[]" : "()";
      return `${brackets[0]}${elems}${brackets[1]}`;
    }
    case "ObjectLiteral": {
      const entries = Array.from(node.value.entries()).map(
        ([k, v]) => `${formatExpression(k)}: ${formatExpression(v)}`
      );
      return `{${entries.join(", ")}}`;
    }
    case "SliceExpression": {
      const n = node;
      const s = n.start ? formatExpression(n.start) : "";
      const t = n.stop ? formatExpression(n.stop) : "";
      const st = n.step ? `:${formatExpression(n.step)}` : "";
      return `${s}:${t}${st}`;
    }
    case "KeywordArgumentExpression": {
      const n = node;
      return `${n.key.value}=${formatExpression(n.value)}`;
    }
    case "Ternary": {
      const n = node;
      return `${formatOperand(n.trueExpr, PRECEDENCE.LOGICAL_OR)} if ${formatOperand(
        n.condition,
        PRECEDENCE.LOGICAL_OR
      )} else ${formatOperand(n.falseExpr, PRECEDENCE.CONDITIONAL)}`;
    }
    default:
      throw new Error(`Unknown expression type: ${node.type}`);
  }
}
var Template = class {
  parsed;
  /**
   * @param {string} template The template string
   */
  constructor(template) {
    const tokens = tokenize(template, {
      lstrip_blocks: true,
      trim_blocks: true
    });
    this.parsed = parse(tokens);
  }
  render(items) {
    const env = new Environment();
    setupGlobals(env);
    if (items) {
      for (const [key, value] of Object.entries(items)) {
        env.set(key, value);
      }
    }
    const interpreter = new Interpreter(env);
    const result = interpreter.run(this.parsed);
    return result.value;
  }
  format(options2) {
    return format(this.parsed, options2?.indent || "	");
  }
};

// packages/hf-model/src/chat-template.ts
var tokenText = (t) => typeof t === "string" ? t : t && typeof t === "object" && "content" in t ? String(t.content) : void 0;
var ChatTemplate = class _ChatTemplate {
  /** @param source the Jinja text; `tokenizerConfig` supplies the special tokens */
  constructor(source, tokenizerConfig = {}) {
    this.source = source;
    this.tokenizerConfig = tokenizerConfig;
    this.template = new Template(source);
  }
  source;
  tokenizerConfig;
  template;
  /** The template of a tokenizer config (`chat_template` as a string), or null when it has none. */
  static fromTokenizerConfig(config) {
    return typeof config.chat_template === "string" ? new _ChatTemplate(config.chat_template, config) : null;
  }
  /** The prompt text of `messages` (`add_generation_prompt` default true). */
  render(messages, opts = {}) {
    const c = this.tokenizerConfig;
    return this.template.render({
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: opts.add_generation_prompt ?? true,
      bos_token: tokenText(c.bos_token) ?? "",
      eos_token: tokenText(c.eos_token) ?? "",
      pad_token: tokenText(c.pad_token) ?? "",
      unk_token: tokenText(c.unk_token) ?? ""
    });
  }
};

// packages/hf-model/src/tokenizer.ts
var XlstmTokenizer = class {
  tok;
  /** `tokenizer_config.json` as loaded (special tokens, `chat_template`, …) */
  config;
  template;
  constructor(tokenizerJson, tokenizerConfig = {}) {
    this.tok = new Tokenizer_default(tokenizerJson, tokenizerConfig);
    this.config = { ...tokenizerConfig };
  }
  /** The config's `chat_template` (parsed on first use), or null when it has none. */
  get chatTemplate() {
    if (this.template === void 0) this.template = ChatTemplate.fromTokenizerConfig(this.config);
    return this.template;
  }
  /** Token ids of `text` (no BOS/EOS added). */
  encode(text) {
    if (text === "") return [];
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }
  /** Text of `ids` (special tokens kept unless `skipSpecialTokens`). */
  decode(ids, opts = {}) {
    if (ids.length === 0) return "";
    return this.tok.decode([...ids], {
      skip_special_tokens: opts.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: false
    });
  }
  /** Id of a token string (e.g. `<|endoftext|>`), or undefined. */
  tokenToId(token) {
    const e = this.tok.encode(token, { add_special_tokens: false }).ids;
    return e.length === 1 ? e[0] : void 0;
  }
};

// packages/hf-model/src/options.ts
var SOURCE_OPTION_KEYS = ["fetch", "revision", "hubUrl", "cache", "onProgress", "signal"];
var LOAD_OPTION_KEYS = [
  ...SOURCE_OPTION_KEYS,
  "device",
  "gpu",
  "dtype",
  "embeddingDtype",
  "lmHeadDtype",
  "quantPrefill",
  "quantDecode",
  "denseDecode",
  "prefillChunkSize",
  "weightDtype",
  "tokenizer",
  "cpuCell"
];
var RANDOM_OPTION_KEYS = [
  ...LOAD_OPTION_KEYS.filter((k) => k !== "tokenizer"),
  "seed",
  "init"
];
var FORWARD_OPTION_KEYS = ["cache", "lastOnly", "activations"];
var SAMPLING_OPTION_KEYS = ["temperature", "topK", "topP", "repetitionPenalty"];
var GENERATE_OPTION_KEYS = [
  ...SAMPLING_OPTION_KEYS,
  "maxNewTokens",
  "seed",
  "stopTokens",
  "addBos",
  "onToken",
  "signal",
  "cache",
  "sampling"
];
var DEVICES = ["webgpu", "cpu", "auto"];
var DTYPES2 = ["f32", "f16", "q8", "q4", "auto"];
var QUANT_PREFILLS = ["tiles", "dequantize"];
var QUANT_DECODES = ["int8", "f32"];
var DENSE_DECODES = ["gemv", "matrix-units"];
var WEIGHT_DTYPES = ["f32", "f16", "auto"];
var CPU_CELLS = ["backend", "reference"];
function checkLoadOptions(opts, keys, context) {
  checkOptionKeys(opts, keys, context);
  return loadOptionValues(opts, context);
}
function loadOptionValues(opts, context) {
  const o = opts ?? {};
  if (o.cpuCell !== void 0) checkOneOf("cpuCell", o.cpuCell, CPU_CELLS, context);
  const formats = DTYPES2.filter((d) => d !== "auto");
  const opt = (k, valid) => o[k] === void 0 ? void 0 : normalizeDtype(k, o[k], valid, context);
  if (o.quantPrefill !== void 0) checkOneOf("quantPrefill", o.quantPrefill, QUANT_PREFILLS, context);
  if (o.quantDecode !== void 0) checkOneOf("quantDecode", o.quantDecode, QUANT_DECODES, context);
  if (o.denseDecode !== void 0) checkOneOf("denseDecode", o.denseDecode, DENSE_DECODES, context);
  const chunk = o.prefillChunkSize;
  if (chunk !== void 0 && !(typeof chunk === "number" && Number.isInteger(chunk) && chunk >= 1))
    throw new ModelArgumentError("prefillChunkSize", `expected an integer >= 1, got ${String(chunk)}`);
  return {
    device: checkOneOf("device", o.device, DEVICES, context, "auto"),
    weightDtype: normalizeDtype("weightDtype", o.weightDtype, WEIGHT_DTYPES, context, "auto"),
    dtype: opt("dtype", DTYPES2) ?? opt("weightDtype", WEIGHT_DTYPES),
    embeddingDtype: opt("embeddingDtype", formats),
    lmHeadDtype: opt("lmHeadDtype", formats),
    prefillChunkSize: chunk
  };
}

// packages/hf-model/src/batch.ts
async function* streamBatch(model, prompts, opts = {}) {
  if (!Array.isArray(prompts) || prompts.length === 0)
    throw new ModelArgumentError("prompts", "expected a non-empty list of prompts");
  const maxNew = opts.maxNewTokens ?? 32;
  if (!Number.isInteger(maxNew) || maxNew < 0)
    throw new ModelArgumentError("maxNewTokens", `expected an integer >= 0, got ${maxNew}`);
  const tok = model.tokenizer;
  const bos = model.config.bosTokenId;
  const rows = prompts.map((p, b) => {
    let ids;
    if (typeof p === "string") {
      if (!tok)
        throw new ModelArgumentError("prompts", "text needs a tokenizer (no tokenizer.json was loaded)");
      ids = tok.encode(p);
    } else if (Array.isArray(p)) ids = [...p];
    else throw new ModelArgumentError("prompts", `prompt ${b} is neither text nor a list of token ids`);
    if ((opts.addBos ?? true) && bos !== null && ids[0] !== bos) ids.unshift(bos);
    if (ids.length === 0) throw new ModelArgumentError("prompts", `prompt ${b} has no tokens`);
    return ids;
  });
  const { packedPrefill: packedOpt, ...rest } = opts;
  const packed = packedOpt !== false;
  const r2 = yield* model._streamRows(rows, { ...rest, addBos: false }, packed ? "packed" : "each");
  return { ...r2, prefillTokens: rows.reduce((a, x) => a + x.length, 0), packedPrefill: packed };
}
async function generateBatch(model, prompts, opts = {}) {
  const it = streamBatch(model, prompts, opts);
  for (; ; ) {
    const r2 = await it.next();
    if (r2.done) return r2.value;
  }
}

// packages/hf-model/src/state.ts
var STATE_FORMAT_VERSION = 1;
var MAGIC = "XLSTMST\0";
var StateSnapshotError = class extends ModelArgumentError {
  problem;
  constructor(problem, message) {
    super("state", message);
    this.name = "StateSnapshotError";
    this.problem = problem;
  }
};
function canonical(x) {
  if (Array.isArray(x)) return `[${x.map(canonical).join(",")}]`;
  if (x && typeof x === "object") {
    const o = x;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== void 0).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(x);
}
async function configHash(config) {
  const bytes = new TextEncoder().encode(canonical(config.raw));
  const digest = await globalThis.crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
function encodeState(header2, states) {
  const json = new TextEncoder().encode(JSON.stringify(header2));
  const headerEnd = 16 + json.length;
  const dataStart = Math.ceil(headerEnd / 8) * 8;
  const E = header2.dtype === "f16" ? 2 : 4;
  const per = states.length ? states[0].c.length + states[0].n.length + states[0].m.length : 0;
  const out2 = new Uint8Array(dataStart + states.length * per * E);
  const dv = new DataView(out2.buffer);
  for (let x = 0; x < 8; x++) out2[x] = MAGIC.charCodeAt(x);
  dv.setUint32(8, header2.version, true);
  dv.setUint32(12, json.length, true);
  out2.set(json, 16);
  let at = dataStart;
  for (const s of states) {
    for (const a of [s.c, s.n, s.m]) {
      const bytes = header2.dtype === "f16" ? new Uint8Array(packF16(a).buffer, 0, a.length * 2) : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      out2.set(bytes, at);
      at += a.length * E;
    }
  }
  return out2;
}
function readStateHeader(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length < 16) {
    throw new StateSnapshotError("format", "expected the bytes of a state snapshot (Uint8Array)");
  }
  for (let x = 0; x < 8; x++) {
    if (bytes[x] !== MAGIC.charCodeAt(x))
      throw new StateSnapshotError("format", "not a state snapshot (bad magic bytes)");
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== STATE_FORMAT_VERSION) {
    throw new StateSnapshotError(
      "version",
      `snapshot format version ${version}; this version of @mlstm/hf-model reads version ${STATE_FORMAT_VERSION}`
    );
  }
  const len2 = dv.getUint32(12, true);
  if (16 + len2 > bytes.length) throw new StateSnapshotError("format", "truncated header");
  let h;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + len2)));
  } catch {
    throw new StateSnapshotError("format", "the header is not valid JSON");
  }
  const ints = ["batch", "blocks", "NH", "dqk", "dv", "seqlenOffset"];
  if (h.version !== version || typeof h.configHash !== "string" || h.dtype !== "f32" && h.dtype !== "f16" || ints.some((k) => !Number.isInteger(h[k]) || h[k] < 0)) {
    throw new StateSnapshotError("format", "the header lacks a field or has a bad value");
  }
  return h;
}
function decodeStateArrays(bytes, h) {
  const len2 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12, true);
  const dataStart = Math.ceil((16 + len2) / 8) * 8;
  const E = h.dtype === "f16" ? 2 : 4;
  const sizes = [h.batch * h.NH * h.dqk * h.dv, h.batch * h.NH * h.dqk, h.batch * h.NH];
  const total = h.blocks * (sizes[0] + sizes[1] + sizes[2]);
  if (bytes.length !== dataStart + total * E) {
    throw new StateSnapshotError(
      "shape",
      `expected ${dataStart + total * E} bytes for the shapes of the header, got ${bytes.length}`
    );
  }
  const data = bytes.slice(dataStart);
  const out2 = [];
  let at = 0;
  const take = (n) => {
    const a = E === 2 ? unpackF16(new Uint16Array(data.buffer, at * 2, n)) : new Float32Array(data.buffer.slice(at * 4, (at + n) * 4));
    at += n;
    return a;
  };
  for (let b = 0; b < h.blocks; b++) out2.push({ c: take(sizes[0]), n: take(sizes[1]), m: take(sizes[2]) });
  return out2;
}
async function saveState(model, cache, opts = {}) {
  const dtype2 = opts.dtype ?? "f32";
  if (dtype2 !== "f32" && dtype2 !== "f16")
    throw new ModelArgumentError("dtype", `expected 'f32' or 'f16', got ${dtype2}`);
  if (!cache?.belongsTo?.(model)) throw new ModelArgumentError("cache", "belongs to another model");
  const { NH, dqk, dv, blocks: blocks2 } = model.config.dims;
  const header2 = {
    version: STATE_FORMAT_VERSION,
    configHash: await configHash(model.config),
    dtype: dtype2,
    batch: cache.batch,
    blocks: blocks2,
    NH,
    dqk,
    dv,
    seqlenOffset: cache.seqlenOffset
  };
  return encodeState(header2, await cache.readStates());
}
async function restoreState(model, bytes, opts = {}) {
  const h = readStateHeader(bytes);
  const want = await configHash(model.config);
  if (h.configHash !== want) {
    throw new StateSnapshotError(
      "model",
      `the snapshot is the state of another model configuration (config hash ${h.configHash.slice(0, 12)}\u2026, this model ${want.slice(0, 12)}\u2026)`
    );
  }
  const { NH, dqk, dv, blocks: blocks2 } = model.config.dims;
  if (h.NH !== NH || h.dqk !== dqk || h.dv !== dv || h.blocks !== blocks2 || h.batch < 1) {
    throw new StateSnapshotError(
      "shape",
      `header shapes (blocks ${h.blocks}, NH ${h.NH}, dqk ${h.dqk}, dv ${h.dv}, batch ${h.batch}) do not fit this model`
    );
  }
  const arrays = decodeStateArrays(bytes, h);
  if (opts.into && !opts.into.belongsTo(model))
    throw new ModelArgumentError("into", "belongs to another model");
  if (opts.into && opts.into.batch !== h.batch) {
    throw new ModelArgumentError("into", `has batch ${opts.into.batch}, the snapshot has ${h.batch}`);
  }
  const cache = opts.into ?? model.newCache(h.batch);
  model._writeStates(cache, arrays, h.seqlenOffset);
  return cache;
}

// packages/hf-model/src/model.ts
function packRows(rows) {
  const seqStarts = new Int32Array(rows.length + 1);
  rows.forEach((r2, b) => {
    seqStarts[b + 1] = seqStarts[b] + r2.length;
  });
  return { seqStarts, ids: Int32Array.from(rows.flat()) };
}
var longestRow = (rows) => Math.max(...rows.map((x) => x.length));
var XlstmCache = class {
  /** @internal use `model.newCache(batch)` */
  constructor(model, batch) {
    this.model = model;
    this.batch = batch;
  }
  model;
  batch;
  /** tokens processed so far */
  seqlenOffset = 0;
  /** @internal engine-specific states; null = zeros */
  states = null;
  /** Copies the states out (float32). */
  async readStates() {
    return this.model._readStates(this);
  }
  /** Back to zero states (frees GPU buffers). */
  reset() {
    this.model._releaseStates(this);
    this.seqlenOffset = 0;
  }
  /** Frees GPU buffers (the cache can be used again: it restarts from zeros). */
  release() {
    this.reset();
  }
  /** @internal */
  belongsTo(m) {
    return m === this.model;
  }
};
function stopSets(st, B, fallback) {
  const perRow = Array.isArray(st) && st.length > 0 && Array.isArray(st[0]);
  if (perRow && st.length !== B)
    throw new ModelArgumentError("stopTokens", `expected one list per prompt (${B}), got ${st.length}`);
  return Array.from(
    { length: B },
    (_, b) => new Set(perRow ? st[b] : st ?? fallback())
  );
}
function abortError(signal) {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}
var XlstmForCausalLM = class _XlstmForCausalLM {
  config;
  /** the decoded weights (CPU path only; on WebGPU they live on the GPU and this is null) */
  weights;
  tokenizer;
  device;
  /** stop ids from generation_config.json / config (informational; see `GenerateOptions.stopTokens`) */
  eosTokenIds;
  /** the formats of the weights (on the CPU path: the formats whose dequantised values it computes with) */
  formats;
  gpu;
  cpuCell;
  constructor(config, weights, tokenizer, gpu, eos, cellKind = "backend", formats = ALL_F32) {
    this.config = config;
    this.formats = gpu?.formats ?? formats;
    this.weights = weights;
    this.tokenizer = tokenizer;
    this.gpu = gpu;
    this.device = gpu ? "webgpu" : "cpu";
    this.eosTokenIds = eos;
    this.cpuCell = gpu ? null : makeCpuCell(cellKind, { chunkSize: config.chunkSize, eps: config.eps });
  }
  /**
   * Loads a model: `source` is a local folder (Node), an http(s) URL of a folder, a Hugging Face
   * repo id (`owner/name`), or `{ files: { 'config.json': …, 'model.safetensors': … } }`.
   */
  static async fromPretrained(source, opts = {}) {
    checkLoadOptions(opts, LOAD_OPTION_KEYS, "XlstmForCausalLM.fromPretrained");
    opts.signal?.throwIfAborted();
    const reader = await openSource(source, opts);
    const cfgText = await reader.text("config.json");
    if (cfgText === null) throw new ModelArgumentError("source", `no config.json in ${reader.description}`);
    const config = parseXlstmConfig(cfgText);
    const indexText = await reader.text("model.safetensors.index.json");
    const files = indexText ? shardFiles(indexText) : ["model.safetensors"];
    opts.signal?.throwIfAborted();
    const buffers = await reader.binaries(files);
    try {
      opts.signal?.throwIfAborted();
      const store = mergeStores(buffers.map((b, x) => parseSafetensorsFile(b, files[x])));
      return await _XlstmForCausalLM.fromStoreAndFiles(config, store, opts, reader);
    } finally {
      for (const b of buffers) b.close?.();
    }
  }
  static async fromStoreAndFiles(config, store, opts, reader) {
    let tokenizer = null;
    if (opts.tokenizer !== false) {
      const tj = await reader.text("tokenizer.json");
      if (tj) {
        const tc = await reader.text("tokenizer_config.json");
        tokenizer = new XlstmTokenizer(JSON.parse(tj), tc ? JSON.parse(tc) : {});
      }
    }
    const gen = await reader.text("generation_config.json");
    let eos = config.eosTokenId;
    if (gen) {
      const g = JSON.parse(gen);
      if (typeof g.eos_token_id === "number") eos = [g.eos_token_id];
      else if (Array.isArray(g.eos_token_id)) eos = g.eos_token_id;
    }
    return _XlstmForCausalLM.fromStore(config, store, { ...opts, tokenizer: void 0 }, tokenizer, eos);
  }
  /** Builds a model from a parsed config and checkpoint tensors (no tokenizer unless given). */
  static async fromStore(config, store, opts = {}, tokenizer = null, eos) {
    checkLoadOptions(opts, LOAD_OPTION_KEYS, "XlstmForCausalLM.fromStore");
    const cfg = "dims" in config ? config : parseXlstmConfig(config);
    const loader = new WeightLoader(cfg, store);
    loader.validate();
    const src = {
      f32: loader,
      packed: (f) => loader.packed(f),
      stored: loader.storedFormats()
    };
    return _XlstmForCausalLM.fromPieces(cfg, src, opts, tokenizer, eos);
  }
  /**
   * A model of `config`'s shapes with random weights (benchmarks without a download, e.g. the
   * xLSTM-7B shape in f16 on the GPU); no tokenizer. On WebGPU the weights are generated on the GPU
   * by default (`init: 'gpu'`: a hashed generator in a kernel, same distributions, other values than
   * the CPU's for the same seed; with `dtype` q8 / q4 filled in f32 and quantised on the GPU, bit for
   * bit as `quantize` would); `init: 'cpu'` uploads the CPU generator's weights (the same model as on
   * the CPU path).
   */
  static async fromRandom(config, opts = {}) {
    checkLoadOptions(opts, RANDOM_OPTION_KEYS, "XlstmForCausalLM.fromRandom");
    const cfg = "dims" in config ? config : parseXlstmConfig(config);
    const init = opts.init ?? "gpu";
    if (init !== "gpu" && init !== "cpu")
      throw new ModelArgumentError("init", `expected 'gpu' or 'cpu', got ${init}`);
    const seed = opts.seed ?? 1;
    const packed = (f) => packPieces(cfg, new RandomWeights(cfg, seed), f);
    const src = {
      f32: new RandomWeights(cfg, seed),
      packed,
      // on the GPU: filled in place (dense) or filled and quantised on the GPU (q8 / q4)
      gpuPacked: init === "gpu" ? (f) => fillPieces(cfg, new GpuRandomWeights(cfg, seed), f) : packed,
      stored: null
    };
    return _XlstmForCausalLM.fromPieces(cfg, src, opts, null);
  }
  /**
   * `src.gpuPacked`: what the WebGPU engine builds from (default: `src.packed`, which with `src.f32`
   * is also the CPU fallback).
   */
  static async fromPieces(cfg, src, opts, tokenizer, eos) {
    const v = loadOptionValues(opts, "XlstmForCausalLM");
    const asked = v.dtype;
    const dtype2 = asked ?? src.stored?.linear ?? "auto";
    const sub = {
      embeddingDtype: v.embeddingDtype ?? (asked ? void 0 : src.stored?.embedding),
      lmHeadDtype: v.lmHeadDtype ?? (asked ? void 0 : src.stored?.lmHead)
    };
    const cpuFormats = resolveFormats(dtype2 === "auto" ? "f32" : dtype2, sub);
    let gpu = null;
    const want = v.device;
    if (want !== "cpu") {
      try {
        gpu = await GpuEngine.create(cfg, {
          ctx: opts.gpu,
          dtype: dtype2,
          ...sub,
          pieces: src.gpuPacked ?? src.packed,
          quantPrefill: opts.quantPrefill,
          quantDecode: opts.quantDecode,
          denseDecode: opts.denseDecode,
          prefillChunkSize: v.prefillChunkSize
        });
      } catch (e) {
        if (want === "webgpu" || e.name === "ModelTooLargeError") throw e;
        gpu = null;
      }
    }
    const dense = Object.values(cpuFormats).every((f) => f === "f32");
    const weights = gpu ? null : assembleWeights(cfg, dense ? src.f32 : unpackPieces(src.packed(cpuFormats)));
    return new _XlstmForCausalLM(
      cfg,
      weights,
      tokenizer,
      gpu,
      eos ?? cfg.eosTokenId,
      opts.cpuCell,
      cpuFormats
    );
  }
  /** Memory estimate for this model's config. */
  static estimateMemory = estimateMemory;
  static checkGpuLimits = checkGpuLimits;
  /**
   * Reads and parses only `config.json` of a source (e.g. to call {@link estimateMemory} before
   * downloading the weights).
   */
  static async loadConfig(source, opts = {}) {
    const reader = await openSource(source, opts);
    const text = await reader.text("config.json");
    if (text === null) throw new ModelArgumentError("source", `no config.json in ${reader.description}`);
    return parseXlstmConfig(text);
  }
  /** Memory needed for `batch` sequences of `seqLen` tokens per forward. */
  memoryEstimate(opts = {}) {
    const f = this.formats;
    return estimateMemory(this.config, {
      dtype: this.gpu ? f.linear : "f32",
      embeddingDtype: this.gpu ? f.embedding : "f32",
      lmHeadDtype: this.gpu ? f.lmHead : "f32",
      ...this.gpu ? { quantDecode: this.gpu.quantDecode } : {},
      ...opts
    });
  }
  /** Format of the block weights on the GPU (null on the CPU path; see {@link formats}). */
  get weightDtype() {
    return this.gpu?.formats.linear ?? null;
  }
  /**
   * WebGPU only (null on the CPU): how the weights were split to fit the adapter's
   * maxStorageBufferBindingSize, the most tokens per row one GPU forward call takes with every
   * position's logits (`maxTokensPerCall`; longer prompts are pushed through in segments), and
   * the prefill calls of `generate` / `generateBatch` (last logits only): `prefill` for `batch`
   * rows of one prompt length, `packedPrefill` for prompts of different lengths packed together —
   * tokens per call, estimated bytes per token and per call, and the bound that set the tokens
   * (`'budget'`, `'prefillChunkSize'`, `'max_inference_chunksize'` or `'maxStorageBufferBindingSize'`),
   * and how quantised and dense weights are multiplied (`quantPrefill`, `quantDecode`, `denseDecode`).
   */
  gpuLayout(batch = 1) {
    if (!this.gpu) return null;
    return {
      weightParts: this.gpu.weightParts(),
      maxTokensPerCall: this.gpu.maxTokensPerCall(batch, false),
      quantPrefill: this.gpu.quantPrefill,
      quantDecode: this.gpu.quantDecode,
      denseDecode: this.gpu.denseDecode,
      prefill: this.gpu.prefillPlan(batch, true),
      packedPrefill: this.gpu.prefillPlan(1, true, true)
    };
  }
  /**
   * How a packed prefill (`generateBatch`, `generate` with prompts of different lengths) splits
   * prompts of these lengths into forward calls, in order: consecutive prompts share a call while
   * their tokens fit `gpuLayout().packedPrefill.tokens`; a longer prompt has calls of its own
   * (`segments`, carrying the state). On the CPU: one call for all.
   */
  packedPrefillCalls(lengths) {
    if (!this.gpu)
      return [{ first: 0, end: lengths.length, tokens: lengths.reduce((a, n) => a + n, 0), segments: 1 }];
    const cap = this.gpu.maxTokensPerCall(1, true, true);
    const seg = Math.min(this.config.maxInferenceChunksize, this.gpu.maxTokensPerCall(1, true));
    const out2 = [];
    for (let b0 = 0; b0 < lengths.length; ) {
      if (lengths[b0] > cap) {
        out2.push({ first: b0, end: b0 + 1, tokens: lengths[b0], segments: Math.ceil(lengths[b0] / seg) });
        b0++;
        continue;
      }
      let b1 = b0;
      let tokens = 0;
      while (b1 < lengths.length && lengths[b1] <= cap && tokens + lengths[b1] <= cap)
        tokens += lengths[b1++];
      out2.push({ first: b0, end: b1, tokens, segments: 1 });
      b0 = b1;
    }
    return out2;
  }
  /** A fresh zero cache for `batch` sequences. */
  newCache(batch = 1) {
    if (!Number.isInteger(batch) || batch < 1)
      throw new ModelArgumentError("batch", `expected an integer >= 1, got ${batch}`);
    return new XlstmCache(this, batch);
  }
  normalizeIds(input) {
    let rows;
    if (input instanceof Int32Array) rows = [input];
    else if (Array.isArray(input) && input.length > 0 && Array.isArray(input[0])) rows = input;
    else rows = [input];
    const B = rows.length;
    const S = rows[0]?.length ?? 0;
    if (B === 0 || S === 0) throw new ModelArgumentError("inputIds", "expected at least one token");
    const V = this.config.vocabSize;
    const ids = new Int32Array(B * S);
    rows.forEach((r2, b) => {
      if (r2.length !== S) {
        throw new ModelArgumentError(
          "inputIds",
          `rows must have equal lengths (row 0 has ${S}, row ${b} has ${r2.length}); xLSTM ignores attention masks, so run ragged prompts separately`
        );
      }
      for (let t = 0; t < S; t++) {
        const v = r2[t];
        if (!Number.isInteger(v) || v < 0 || v >= V) {
          throw new ModelArgumentError("inputIds", `token ${v} at [${b}, ${t}] is not an id in [0, ${V})`);
        }
        ids[b * S + t] = v;
      }
    });
    return { ids, B, S };
  }
  /**
   * One forward over `inputIds` (`[S]` or `[B][S]`) from `cache` (default zeros). The cache is
   * updated in place and returned; logits are soft-capped float32 `[B, S, V]`.
   */
  async forward(inputIds, opts = {}) {
    checkOptionKeys(opts, FORWARD_OPTION_KEYS, "XlstmForCausalLM.forward");
    const { ids, B, S } = this.normalizeIds(inputIds);
    const cache = opts.cache ?? this.newCache(B);
    if (!cache.belongsTo(this)) throw new ModelArgumentError("cache", "belongs to another model");
    if (cache.batch !== B)
      throw new ModelArgumentError("cache", `has batch ${cache.batch}, the input has ${B} rows`);
    if (opts.activations && this.gpu) {
      throw new ModelArgumentError("activations", 'are only available on the CPU path (device: "cpu")');
    }
    const V = this.config.vocabSize;
    const seg = Math.min(
      this.config.maxInferenceChunksize,
      this.gpu?.maxTokensPerCall(B, !!opts.lastOnly) ?? S
    );
    const reserve = Math.min(S, seg);
    const outS = opts.lastOnly ? 1 : S;
    const logits = new Float32Array(B * outS * V);
    for (let s0 = 0; s0 < S; s0 += seg) {
      const len2 = Math.min(seg, S - s0);
      const last = s0 + len2 === S;
      const part = new Int32Array(B * len2);
      for (let b = 0; b < B; b++) part.set(ids.subarray(b * S + s0, b * S + s0 + len2), b * len2);
      const r2 = await this.runEngine(part, B, len2, cache, !!opts.lastOnly, opts.activations, reserve);
      if (opts.lastOnly) {
        if (last) logits.set(r2);
      } else {
        for (let b = 0; b < B; b++) logits.set(r2.subarray(b * len2 * V, (b + 1) * len2 * V), (b * S + s0) * V);
      }
    }
    return { logits, shape: [B, outS, V], cache };
  }
  async runEngine(ids, B, S, cache, lastOnly, sink, reserveTokens) {
    if (this.gpu) {
      const r3 = await this.gpu.forward(ids, B, S, cache.states, {
        lastOnly,
        reserveTokens
      });
      cache.states = r3.states;
      cache.seqlenOffset += S;
      return r3.logits;
    }
    const r2 = await forwardCpu(
      this.config,
      this.weights,
      this.cpuCell,
      ids,
      B,
      S,
      cache.states,
      {
        lastOnly,
        sink
      }
    );
    cache.states = r2.states;
    cache.seqlenOffset += S;
    return r2.logits;
  }
  /** @internal */
  async _readStates(cache) {
    const { NH, dqk, dv, blocks: blocks2 } = this.config.dims;
    const B = cache.batch;
    if (!cache.states) {
      return Array.from({ length: blocks2 }, () => ({
        c: new Float32Array(B * NH * dqk * dv),
        n: new Float32Array(B * NH * dqk),
        m: new Float32Array(B * NH)
      }));
    }
    if (this.gpu) return this.gpu.readStates(cache.states);
    return cache.states.map((s) => ({
      c: Float32Array.from(s.c.data),
      n: Float32Array.from(s.n.data),
      m: Float32Array.from(s.m.data)
    }));
  }
  /**
   * Generates for a list of prompts of different lengths (text or ids), each row with its own stop
   * tokens (`stopTokens: [[…], […]]`); the prompts are prefilled in one packed forward where the
   * model has one (CPU), then decode together. See `batch.ts`.
   */
  generateBatch(prompts, opts) {
    return generateBatch(this, prompts, opts);
  }
  /** The streaming form of {@link generateBatch}: one event per step with every row's new token. */
  streamBatch(prompts, opts) {
    return streamBatch(this, prompts, opts);
  }
  /**
   * The state of `cache` as bytes: a versioned header (config hash, dtype, shapes, tokens seen)
   * and the per-block C, n, m (see `state.ts`). Restore with {@link restoreState}.
   */
  saveState(cache, opts) {
    return saveState(this, cache, opts);
  }
  /**
   * A cache holding a snapshot of {@link saveState} (or `opts.into`, overwritten). A snapshot of
   * another model configuration or format version raises `StateSnapshotError`, nothing written.
   */
  restoreState(bytes, opts) {
    return restoreState(this, bytes, opts);
  }
  /** @internal replaces the states of `cache` (float32 arrays per block, as `readStates` gives). */
  _writeStates(cache, arrays, seqlenOffset) {
    const { NH, dqk, dv } = this.config.dims;
    const B = cache.batch;
    const shapes = { c: [B, NH, dqk, dv], n: [B, NH, dqk], m: [B, NH, 1] };
    let next;
    if (this.gpu) {
      const ctx2 = this.gpu.ctx;
      next = {
        blocks: arrays.map((a) => ({
          c: ctx2.upload(a.c, shapes.c),
          n: ctx2.upload(a.n, shapes.n),
          m: ctx2.upload(a.m, shapes.m)
        }))
      };
    } else {
      next = arrays.map((a) => ({
        c: { shape: shapes.c, data: Float32Array.from(a.c) },
        n: { shape: shapes.n, data: Float32Array.from(a.n) },
        m: { shape: shapes.m, data: Float32Array.from(a.m) }
      }));
    }
    this._releaseStates(cache);
    cache.states = next;
    cache.seqlenOffset = seqlenOffset;
  }
  /**
   * @internal one batch cache holding the rows of `caches` in order (copies; the inputs are left
   * as they were). On WebGPU the states are copied on the GPU, without a read-back.
   */
  _stackCaches(caches) {
    const { NH, dqk, dv } = this.config.dims;
    const B = caches.reduce((a, c) => a + c.batch, 0);
    const out2 = this.newCache(B);
    out2.seqlenOffset = Math.max(...caches.map((c) => c.seqlenOffset));
    if (caches.every((c) => c.states === null)) return out2;
    const shapes = { c: [B, NH, dqk, dv], n: [B, NH, dqk], m: [B, NH, 1] };
    const keys = ["c", "n", "m"];
    const blocks2 = this.config.dims.blocks;
    if (this.gpu) {
      const ctx2 = this.gpu.ctx;
      const enc = ctx2.device.createCommandEncoder();
      const next2 = { blocks: [] };
      for (let b = 0; b < blocks2; b++) {
        const blk = { c: ctx2.zeros(shapes.c), n: ctx2.zeros(shapes.n), m: ctx2.zeros(shapes.m) };
        for (const k of keys) {
          let at = blk[k].byteOffset;
          for (const c of caches) {
            const src = c.states?.blocks[b][k];
            const bytes = blk[k].byteLength / B * c.batch;
            if (src) enc.copyBufferToBuffer(src.buffer, src.byteOffset, blk[k].buffer, at, bytes);
            at += bytes;
          }
        }
        next2.blocks.push(blk);
      }
      ctx2.device.queue.submit([enc.finish()]);
      out2.states = next2;
      return out2;
    }
    const next = [];
    for (let b = 0; b < blocks2; b++) {
      const blk = {
        c: { shape: shapes.c, data: new Float64Array(B * NH * dqk * dv) },
        n: { shape: shapes.n, data: new Float64Array(B * NH * dqk) },
        m: { shape: shapes.m, data: new Float64Array(B * NH) }
      };
      for (const k of keys) {
        let at = 0;
        for (const c of caches) {
          const per = blk[k].data.length / B;
          const src = c.states?.[b][k];
          if (src) blk[k].data.set(src.data, at);
          at += per * c.batch;
        }
      }
      next.push(blk);
    }
    out2.states = next;
    return out2;
  }
  /** The logits of each row's last token and a batch cache: rows packed, or each alone (stacked). */
  async prefillRows(rows, how, signal) {
    if (how === "packed") return this._prefillPacked(rows);
    const V = this.config.vocabSize;
    const logits = new Float32Array(rows.length * V);
    const ones = [];
    try {
      for (const [b, ids] of rows.entries()) {
        if (signal?.aborted) throw abortError(signal);
        const one = this.newCache(1);
        ones.push(one);
        const r2 = await this.forward(ids, { cache: one, lastOnly: true });
        logits.set(r2.logits, b * V);
      }
      return { logits, cache: this._stackCaches(ones) };
    } finally {
      for (const one of ones) one.release();
    }
  }
  /**
   * @internal N prompts of any lengths prefilled packed (the cell takes `seqStarts`, every other
   * layer works token by token): the logits of each prompt's last token `[N, V]` and a batch-N
   * cache. CPU: one forward; WebGPU: as few calls as the binding limits allow.
   */
  async _prefillPacked(rows) {
    const V = this.config.vocabSize;
    rows.forEach((r3, b) => {
      if (r3.length === 0) throw new ModelArgumentError("inputIds", `prompt ${b} has no tokens`);
      for (const [t, v] of r3.entries())
        if (!Number.isInteger(v) || v < 0 || v >= V)
          throw new ModelArgumentError("inputIds", `token ${v} at [${b}, ${t}] is not an id in [0, ${V})`);
    });
    if (this.gpu) return this.prefillPackedGpu(rows);
    const { seqStarts, ids } = packRows(rows);
    const r2 = await forwardCpu(this.config, this.weights, this.cpuCell, ids, 1, ids.length, null, {
      lastOnly: true,
      seqStarts
    });
    const cache = this.newCache(rows.length);
    cache.states = r2.states;
    cache.seqlenOffset = longestRow(rows);
    return { logits: r2.logits, cache };
  }
  /**
   * The WebGPU packed prefill: the calls of {@link packedPrefillCalls} — consecutive prompts
   * packed into one call (dense parts over all of a call's tokens, the cell through the packed
   * chunkwise kernel); a prompt longer than a call alone, in segments. The packed calls' buffers
   * are sized for the largest of them (reused from call to call); the calls' caches are stacked
   * in order.
   */
  async prefillPackedGpu(rows) {
    const gpu = this.gpu;
    const V = this.config.vocabSize;
    const calls = this.packedPrefillCalls(rows.map((r2) => r2.length));
    const reserve = Math.max(...calls.map((c) => c.segments === 1 ? c.tokens : 0));
    const logits = new Float32Array(rows.length * V);
    const caches = [];
    try {
      for (const call of calls) {
        if (call.segments > 1) {
          const one = this.newCache(1);
          caches.push(one);
          const r3 = await this.forward(rows[call.first], { cache: one, lastOnly: true });
          logits.set(r3.logits, call.first * V);
          continue;
        }
        const part = rows.slice(call.first, call.end);
        const { seqStarts, ids } = packRows(part);
        const c = this.newCache(part.length);
        caches.push(c);
        const r2 = await gpu.forward(ids, 1, call.tokens, null, {
          lastOnly: true,
          seqStarts,
          reserveTokens: reserve
        });
        c.states = r2.states;
        c.seqlenOffset = longestRow(part);
        logits.set(r2.logits, call.first * V);
      }
      if (caches.length === 1) return { logits, cache: caches.pop() };
      return { logits, cache: this._stackCaches(caches) };
    } finally {
      for (const c of caches) c.release();
    }
  }
  /** @internal */
  _releaseStates(cache) {
    if (cache.states && this.gpu) this.gpu.releaseStates(cache.states);
    cache.states = null;
  }
  prepareInput(input, addBos) {
    const encode = (text) => {
      if (!this.tokenizer)
        throw new ModelArgumentError("input", "text needs a tokenizer (no tokenizer.json was loaded)");
      return this.tokenizer.encode(text);
    };
    let rows;
    if (typeof input === "string") rows = [encode(input)];
    else if (input.length > 0 && typeof input[0] !== "number")
      rows = input.map((p, b) => {
        if (typeof p === "string") return encode(p);
        if (Array.isArray(p)) return [...p];
        throw new ModelArgumentError("input", `prompt ${b} is neither text nor a list of token ids`);
      });
    else rows = [[...input]];
    const bos = this.config.bosTokenId;
    if (addBos && bos !== null) rows = rows.map((r2) => r2[0] === bos ? r2 : [bos, ...r2]);
    return rows;
  }
  /** Default stop ids: the tokenizer's `<|endoftext|>`, else `bos_token_id` (spec §7). */
  defaultStopTokens() {
    const eot = this.tokenizer?.tokenToId("<|endoftext|>");
    if (eot !== void 0) return [eot];
    return this.config.bosTokenId !== null ? [this.config.bosTokenId] : [];
  }
  /**
   * Streams generated tokens: prefill the prompt (one forward), then one cached single-token
   * forward per new token. Yields one {@link TokenEvent} per step; abortable with `signal`.
   * A list of prompts of different lengths goes through {@link streamBatch}'s path (no `cache`).
   */
  async *stream(input, opts = {}) {
    checkOptionKeys(opts, GENERATE_OPTION_KEYS, "XlstmForCausalLM.generate");
    const rows = this.prepareInput(input, opts.addBos ?? (opts.cache?.seqlenOffset ?? 0) === 0);
    const ragged = rows.some((r2) => r2.length !== rows[0].length);
    if (ragged && opts.cache)
      throw new ModelArgumentError(
        "cache",
        "prompts of different lengths start from fresh states: pass no cache (or equal-length rows)"
      );
    return yield* this._streamRows(rows, opts, ragged ? "packed" : null);
  }
  /**
   * @internal The generation of token `rows` (BOS handled by the caller): `prefill` null = one
   * forward of the equal-length rows from `opts.cache`; `'packed'` = the rows (any lengths) packed
   * from fresh states ({@link _prefillPacked}); `'each'` = each row alone, the states stacked.
   * Then the same decode for every case (WebGPU: the replayed step).
   */
  async *_streamRows(rows, opts, prefill2) {
    checkOptionKeys(opts, GENERATE_OPTION_KEYS, "XlstmForCausalLM.generate");
    const maxNew = opts.maxNewTokens ?? 32;
    if (!Number.isInteger(maxNew) || maxNew < 0) {
      throw new ModelArgumentError("maxNewTokens", `expected an integer >= 0, got ${maxNew}`);
    }
    for (const [k, v, ok] of [
      ["temperature", opts.temperature, (x) => x >= 0],
      ["topK", opts.topK, (x) => Number.isInteger(x) && x >= 0],
      ["topP", opts.topP, (x) => x > 0 && x <= 1],
      ["repetitionPenalty", opts.repetitionPenalty, (x) => x > 0]
    ]) {
      if (v !== void 0 && (typeof v !== "number" || !ok(v))) {
        throw new ModelArgumentError(k, `invalid value ${v}`);
      }
    }
    const sampling = opts.sampling ?? "auto";
    if (!["auto", "gpu", "cpu"].includes(sampling)) {
      throw new ModelArgumentError("sampling", `expected 'auto', 'gpu' or 'cpu', got ${String(sampling)}`);
    }
    const signal = opts.signal;
    const B = rows.length;
    const stop = stopSets(opts.stopTokens, B, () => this.defaultStopTokens());
    const rng = makeRng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
    const draw = () => drawUniforms(rng, B);
    const history = rows.map((r2) => [...r2]);
    const seen = rows.map((r2) => new Set(r2));
    const generated = rows.map(() => []);
    const done = rows.map(() => false);
    const reason = rows.map(() => "length");
    const texts = rows.map(() => "");
    const V = this.config.vocabSize;
    const choose = (logits2, u) => rows.map((_, b) => sampleToken(logits2, b * V, V, opts, (j) => seen[b].has(j), u[b]));
    const emit = (step, chosen) => {
      const tokens = [];
      const finished = [];
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          tokens.push(-1);
          finished.push(false);
          continue;
        }
        const t = chosen[b];
        const sb = seen[b];
        tokens.push(t);
        history[b].push(t);
        sb.add(t);
        generated[b].push(t);
        const hit = stop[b].has(t);
        if (hit) {
          done[b] = true;
          reason[b] = "stop";
        }
        finished.push(hit);
      }
      let text;
      if (this.tokenizer) {
        text = rows.map((_, b) => {
          if (tokens[b] < 0) return "";
          const full = this.tokenizer.decode(generated[b]);
          if (full.endsWith("\uFFFD") && !done[b] && step < maxNew - 1) return "";
          const delta = full.slice(texts[b].length);
          texts[b] = full;
          return delta;
        });
      }
      const ev = { step, tokens, finished, ...text ? { text } : {} };
      opts.onToken?.(ev);
      return ev;
    };
    if (signal?.aborted) throw abortError(signal);
    let logits;
    let cache;
    if (prefill2) ({ logits, cache } = await this.prefillRows(rows, prefill2, signal));
    else {
      cache = opts.cache ?? this.newCache(B);
      ({ logits } = await this.forward(rows, { cache, lastOnly: true }));
    }
    if (!this.gpu) {
      for (let step = 0; step < maxNew; step++) {
        if (signal?.aborted) throw abortError(signal);
        const chosen = choose(logits, draw());
        yield emit(step, chosen);
        if (done.every(Boolean) || step === maxNew - 1) break;
        if (signal?.aborted) throw abortError(signal);
        const next = rows.map((_, b) => [done[b] ? history[b][history[b].length - 1] : chosen[b]]);
        ({ logits } = await this.forward(next, { cache, lastOnly: true }));
      }
    } else if (maxNew > 0) {
      const first = choose(logits, draw());
      yield emit(0, first);
      if (!done.every(Boolean) && maxNew > 1)
        yield* this.decodeGpu(cache, first, maxNew, sampling, opts, {
          draw,
          choose,
          emit,
          done,
          history,
          signal
        });
    }
    return {
      tokens: generated,
      ...this.tokenizer ? { text: generated.map((g) => this.tokenizer.decode(g)) } : {},
      stopReason: reason,
      cache
    };
  }
  /**
   * The WebGPU decode loop after the first token (see ./gpu/decode.ts): with GPU sampling one
   * step is kept in flight ahead of the read-back of the ids; with CPU sampling each step reads
   * back the logits. The cache ends with the states after the last token fed (the last chosen
   * token is not fed, as on the CPU path).
   */
  async *decodeGpu(cache, first, maxNew, sampling, opts, s) {
    const B = first.length;
    const sample = {
      temperature: opts.temperature ?? 0,
      topK: opts.topK ?? 0,
      topP: opts.topP ?? 1,
      repetitionPenalty: opts.repetitionPenalty ?? 1
    };
    const states = cache.states;
    let dec;
    if (sampling === "cpu") dec = this.gpu.decoder(B, states, { sampling: "cpu" });
    else {
      try {
        dec = this.gpu.decoder(B, states, { sampling: "gpu", sample, seen: s.history });
      } catch (e) {
        if (sampling === "gpu" || !(e instanceof ModelArgumentError)) throw e;
        dec = this.gpu.decoder(B, states, { sampling: "cpu" });
      }
    }
    let kept = 0;
    try {
      dec.writeIds(first);
      if (dec.sampling === "gpu") {
        dec.submit(s.draw());
        for (let step = 1; step < maxNew; step++) {
          if (s.signal?.aborted) throw abortError(s.signal);
          if (step + 1 < maxNew) dec.submit(s.draw());
          const ids = await dec.read();
          kept = step;
          yield s.emit(step, ids);
          if (s.done.every(Boolean)) break;
        }
      } else {
        for (let step = 1; step < maxNew; step++) {
          if (s.signal?.aborted) throw abortError(s.signal);
          dec.submit();
          const logits = await dec.read();
          kept = step;
          const chosen = s.choose(logits, s.draw());
          yield s.emit(step, chosen);
          if (s.done.every(Boolean)) break;
          if (step + 1 < maxNew) dec.writeIds(chosen);
        }
      }
    } finally {
      cache.states = dec.finish(kept);
      cache.seqlenOffset += kept;
    }
  }
  /** Generates up to `maxNewTokens` per row (greedy by default); see {@link stream}. */
  async generate(input, opts = {}) {
    const it = this.stream(input, opts);
    for (; ; ) {
      const r2 = await it.next();
      if (r2.done) return r2.value;
    }
  }
  /** Frees GPU weights (the model is unusable afterwards on WebGPU). */
  dispose() {
    this.gpu?.dispose();
  }
};

// packages/hf-model/bench/decode-device.ts
var argv = process.argv.slice(2);
var arg = (k, d) => argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1] : d;
var blocks = Number(arg("blocks", "4"));
var batches = arg("batches", "1,8,32").split(",").map(Number);
var steps = Number(arg("steps", "48"));
var repeatTo = Number(arg("repeat-to", "0"));
var skip = new Set(arg("skip", "").split(","));
var prefillLens = arg("prefill", "").split(",").filter(Boolean).map(Number);
if (prefillLens.some((P) => !Number.isInteger(P) || P < 1))
  throw new Error(`--prefill: comma-separated prompt lengths, got ${arg("prefill", "")}`);
var dtype = arg("dtype", "f16");
if (!["f16", "q8", "q4"].includes(dtype)) throw new Error(`--dtype: f16, q8 or q4, got ${dtype}`);
var denseDecode = arg("dense-decode", "gemv");
if (!["gemv", "matrix-units"].includes(denseDecode))
  throw new Error(`--dense-decode: gemv or matrix-units, got ${denseDecode}`);
var small = argv.includes("--small");
var sc = small ? 16 : 1;
var out = {};
var log = (...a) => console.log(...a);
var median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
async function gpuMs(ctx2, reps, run) {
  ctx2.beginGpuTiming(reps + 4);
  for (let r2 = 0; r2 < reps; r2++) run(r2);
  return ctx2.endGpuTiming();
}
var fillParams2 = defineParams({ n: "u32", seed: "u32" });
function fillF16(ctx2, t, seed) {
  const p = ctx2.pipeline(
    "bench.fill16",
    () => `${fillParams2.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> w: array<u32>;
fn h(x: u32) -> u32 { var v = x * 747796405u + 2891336453u; v = ((v >> ((v >> 28u) + 4u)) ^ v) * 277803737u; return (v >> 22u) ^ v; }
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = g.x; i < P.n; i += stride) {
    let a = h(i ^ P.seed);
    let f = vec2<f32>(f32(a & 0xffffu), f32(a >> 16u)) / 32768.0 - 1.0;
    w[i] = pack2x16float(f * 0.02);
  }
}`,
    ["uniform", "rw"]
  );
  const b = ctx2.batch();
  b.dispatch(p, [t], fillParams2.pack({ n: t.byteLength / 4, seed }), [4096]);
  b.submit();
}
async function bandwidth(ctx2) {
  const bytes = 2 ** 30 / sc;
  const n4 = bytes / 16;
  const a = ctx2.empty([bytes / 4]);
  const b = ctx2.empty([bytes / 4]);
  const prm = defineParams({ n: "u32", pad: "u32" });
  const copy = ctx2.pipeline(
    "bench.copy",
    () => `${prm.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = g.x; i < P.n; i += stride) { y[i] = x[i]; }
}`,
    ["uniform", "read", "rw"]
  );
  const read = ctx2.pipeline(
    "bench.read",
    () => `${prm.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  var acc = vec4<u32>(0u);
  for (var i = g.x; i < P.n; i += stride) { acc ^= x[i]; }
  if (all(acc == vec4<u32>(1u, 2u, 3u, 4u))) { y[g.x] = acc; }
}`,
    ["uniform", "read", "rw"]
  );
  const res = {};
  for (const [name, p, moved] of [
    ["copy", copy, 2 * bytes],
    ["read", read, bytes]
  ]) {
    for (const wgs of [2112, 8448]) {
      const run = () => {
        const bt = ctx2.batch();
        bt.dispatch(p, [a, b], prm.pack({ n: n4, pad: 0 }), [wgs]);
        bt.submit();
      };
      await gpuMs(ctx2, 2, run);
      const ms = median(await gpuMs(ctx2, 9, run));
      res[`${name}_wg${wgs}_GBps`] = moved / ms / 1e6;
    }
  }
  await ctx2.sync();
  const t0 = performance.now();
  for (let r2 = 0; r2 < 10; r2++) {
    const enc = ctx2.device.createCommandEncoder();
    enc.copyBufferToBuffer(a.buffer, 0, b.buffer, 0, bytes);
    ctx2.device.queue.submit([enc.finish()]);
  }
  await ctx2.sync();
  res.copyBufferToBuffer_GBps = 10 * 2 * bytes / (performance.now() - t0) / 1e6;
  a.release();
  b.release();
  return res;
}
async function gemvSweep(ctx2) {
  const shapes = [
    { name: "proj", N: 12304, K: 4096 },
    { name: "out_proj", N: 4096, K: 4096 },
    { name: "up_gate", N: 21888, K: 4096 },
    { name: "down(swiglu)", N: 4096, K: 10944, swiglu: true },
    { name: "down", N: 4096, K: 10944 },
    { name: "lm_head", N: 50304, K: 4096 }
  ].map((s) => ({ ...s, N: Math.ceil(s.N / sc), K: s.K / (small ? 4 : 1) }));
  const rows = [];
  for (const s of shapes) {
    const ws = Array.from({ length: 4 }, (_, i) => {
      const t = ctx2.empty([s.N, s.K], "f16");
      fillF16(ctx2, t, 17 + i);
      return t;
    });
    for (const M of [1, 8]) {
      const x = ctx2.upload(
        Float32Array.from({ length: M * s.K * (s.swiglu ? 2 : 1) }, (_, i) => Math.sin(i) * 0.5),
        [M * s.K * (s.swiglu ? 2 : 1)]
      );
      const y = ctx2.empty([M, s.N]);
      const def = gemvConfig(ctx2, "f16", M, s.N, s.K);
      const variants = [{}];
      for (const rg of [1, 2, 4, 8]) for (const nr of M === 1 ? [1, 2, 4] : [2, 4]) variants.push({ rg, nr });
      if (!skip.has("wgred")) variants.push({ subgroups: false });
      let best = 0;
      for (const v of variants) {
        const cfg = { ...def, ...v };
        const run = (r2) => {
          const bt = ctx2.batch();
          encodeGemv(ctx2, bt, x, ws[r2 % 4], null, y, { M, N: s.N, K: s.K, swiglu: s.swiglu, config: cfg });
          bt.submit();
        };
        try {
          await gpuMs(ctx2, 4, run);
          const ms = median(await gpuMs(ctx2, 16, run));
          const gbps = s.N * s.K * 2 / ms / 1e6;
          best = Math.max(best, gbps);
          rows.push({
            shape: s.name,
            M,
            ...cfg,
            default: Object.keys(v).length === 0,
            us: ms * 1e3,
            GBps: gbps
          });
        } catch (e) {
          rows.push({ shape: s.name, M, ...cfg, error: String(e) });
        }
      }
      if (s.name === "out_proj") {
        const bt = ctx2.batch();
        encodeGemv(ctx2, bt, x, ws[0], null, y, { M, N: s.N, K: s.K, config: def });
        bt.submit();
        const [got, w2, xv] = [await ctx2.read(y), await ctx2.read(ws[0]), await ctx2.read(x)];
        let err = 0;
        let scale = 0;
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < s.N; n++) {
            let acc = 0;
            for (let k = 0; k < s.K; k++) acc += xv[m * s.K + k] * w2[n * s.K + k];
            err = Math.max(err, Math.abs(acc - got[m * s.N + n]));
            scale = Math.max(scale, Math.abs(acc));
          }
        }
        log(`gemv check out_proj M${M}: max abs error ${err.toExponential(2)} (max |y| ${scale.toFixed(3)})`);
        rows.push({ shape: s.name, M, check: "max abs error vs float64", err, scale });
      }
      const d = rows.find((r2) => r2.shape === s.name && r2.M === M && r2.default);
      log(
        `gemv ${s.name} M${M}: default ${d?.GBps?.toFixed(0)} GB/s (${d?.us?.toFixed(1)} us), best ${best.toFixed(0)}`
      );
      x.release();
      y.release();
    }
    for (const t of ws) t.release();
  }
  return rows;
}
async function loadModel(ctx2) {
  const t0 = performance.now();
  const m = await XlstmForCausalLM.fromRandom(
    small ? { embedding_dim: 256, num_heads: 2, vocab_size: 1e3, num_blocks: blocks, num_hidden_layers: blocks } : { num_blocks: blocks, num_hidden_layers: blocks },
    dtype === "f16" ? { device: "webgpu", gpu: ctx2, weightDtype: "f16", denseDecode } : { device: "webgpu", gpu: ctx2, dtype, denseDecode }
  );
  const loadS = (performance.now() - t0) / 1e3;
  log(
    `model of the 7B widths, ${blocks} blocks, ${dtype}, denseDecode ${denseDecode}: loaded in ${loadS.toFixed(1)} s`
  );
  const eng = m.gpu;
  if (repeatTo > blocks) {
    const distinct = eng.blocks.slice();
    while (eng.blocks.length < repeatTo) eng.blocks.push(distinct[eng.blocks.length % distinct.length]);
    m.config.dims.blocks = repeatTo;
    log(`running ${repeatTo} blocks (the ${blocks} loaded ones repeated)`);
  }
  return { m, loadS };
}
var prompt = (V, B, P) => Array.from({ length: B }, (_, b) => Array.from({ length: P }, (_2, t) => (t * 131 + b * 7 + 3) % V));
async function decode(ctx2, m, loadS) {
  const nb = m.config.dims.blocks;
  const V = m.config.vocabSize;
  const res = [];
  const engine = m.gpu;
  for (const B of batches) {
    ctx2.pool.resetPeak?.();
    (await m.generate(prompt(V, B, 16), { maxNewTokens: 24, stopTokens: [], addBos: false })).cache.release();
    for (const sampling of B === 1 ? ["gpu", "cpu"] : ["gpu"]) {
      const times = [];
      const r2 = await m.generate(prompt(V, B, 16), {
        maxNewTokens: steps,
        stopTokens: [],
        addBos: false,
        sampling,
        onToken: () => times.push(performance.now())
      });
      r2.cache.release();
      const n = times.length - 3;
      const ms = (times[times.length - 1] - times[2]) / n;
      res.push({ B, sampling, msPerStep: ms, tokPerS: B * 1e3 / ms });
      log(
        `generate B${B} ${sampling} sampling: ${ms.toFixed(2)} ms/step, ${(B * 1e3 / ms).toFixed(1)} tok/s`
      );
    }
    for (const chunks of [false, true]) {
      const c = m.newCache(B);
      await m.forward(prompt(V, B, 16), { cache: c, lastOnly: true });
      const d = engine.decoder(B, c.states, { sampling: "gpu", chunks });
      d.writeIds(new Array(B).fill(1));
      d.submit();
      let t0 = 0;
      const n = steps;
      for (let j = 0; j < n; j++) {
        if (j === 3) t0 = performance.now();
        d.submit();
        await d.read();
      }
      const ms = (performance.now() - t0) / (n - 3);
      await d.read();
      c.states = d.finish(n + 1);
      c.release();
      res.push({ B, loop: "decoder, one step ahead", chunks, msPerStep: ms, tokPerS: B * 1e3 / ms });
      log(
        `decoder loop B${B} chunks ${chunks}: ${ms.toFixed(2)} ms/step, ${(B * 1e3 / ms).toFixed(1)} tok/s`
      );
    }
    const cache = m.newCache(B);
    await m.forward(prompt(V, B, 16), { cache, lastOnly: true });
    const dec = engine.decoder(B, cache.states, { sampling: "gpu" });
    dec.writeIds(new Array(B).fill(1));
    for (let r2 = 0; r2 < 3; r2++) {
      dec.submit();
      await dec.read();
    }
    const enc = [];
    ctx2.beginGpuTiming(40);
    for (let r2 = 0; r2 < 20; r2++) {
      const a = performance.now();
      dec.submit();
      enc.push(performance.now() - a);
      await dec.read();
    }
    const stepMs = median(await ctx2.endGpuTiming());
    ctx2.beginGpuTiming(2e3, { perDispatch: true });
    dec.submit();
    await dec.read();
    const per = await ctx2.endGpuTimingLabelled();
    const byLabel = {};
    for (const e of per) byLabel[e.label] = (byLabel[e.label] ?? 0) + e.ms;
    const dispatches = per.length;
    const head = (byLabel.embedding ?? 0) + (byLabel["sample (argmax)"] ?? 0);
    const last = per.filter((e) => e.label === "gemv").at(-1)?.ms ?? 0;
    const lastNorm = per.filter((e) => e.label === "rmsnorm").at(-1)?.ms ?? 0;
    const headMs = head + last + lastNorm;
    const perBlockPass = (stepMs - headMs) / nb;
    const est32 = headMs + 32 * perBlockPass;
    dec.finish(0);
    cache.release();
    res.push({
      B,
      gpuStepMs: stepMs,
      cpuEncodeMs: median(enc),
      dispatches,
      byLabelMs: byLabel,
      headMs,
      perBlockMs: perBlockPass,
      est32BlocksMs: est32,
      est32TokPerS: B * 1e3 / est32,
      peakPoolMiB: ctx2.pool.stats.peakLiveBytes / 2 ** 20
    });
    log(
      `B${B}: GPU ${stepMs.toFixed(3)} ms/step (${nb} blocks, one pass), encode ${median(enc).toFixed(3)} ms CPU, ${dispatches} dispatches; head ${headMs.toFixed(3)} ms, per block ${perBlockPass.toFixed(3)} ms \u2192 32 blocks \u2248 ${est32.toFixed(2)} ms = ${(B * 1e3 / est32).toFixed(1)} tok/s`
    );
    log("  per kernel (ms, separate passes):", JSON.stringify(byLabel));
  }
  return { loadS, rows: res };
}
var BLOCK_MATMULS = ["proj (q/k/v/o-gate/gates)", "out_proj", "FFN up/gate (SiLU-gated)", "FFN down"];
async function prefill(ctx2, m, lens) {
  const nb = m.config.dims.blocks;
  const rows = [];
  for (const P of lens) {
    const ids = prompt(m.config.vocabSize, 1, P);
    const run = async () => {
      const c = m.newCache(1);
      try {
        await m.forward(ids, { cache: c, lastOnly: true });
      } finally {
        c.release();
      }
    };
    for (let r2 = 0; r2 < 2; r2++) await run();
    const wall = [];
    for (let r2 = 0; r2 < 5; r2++) {
      const t0 = performance.now();
      await run();
      wall.push(performance.now() - t0);
    }
    const wallMs = median(wall);
    const gpu = [];
    let passes = 0;
    for (let r2 = 0; r2 < 3; r2++) {
      ctx2.beginGpuTiming(2048);
      await run();
      const t = await ctx2.endGpuTiming();
      passes = t.length;
      gpu.push(t.reduce((a, b) => a + b, 0));
    }
    const gpuMs2 = median(gpu);
    const byLabel = {};
    const counts = {};
    let dispatches = 0;
    let perKernel = "";
    try {
      ctx2.beginGpuTiming(2048, { perDispatch: true });
      await run();
      const per = await ctx2.endGpuTimingLabelled();
      dispatches = per.length;
      let dense = 0;
      for (const e of per) {
        let label = e.label;
        if (label.startsWith("dense matmul")) {
          label = dense < 4 * nb ? `${label}: ${BLOCK_MATMULS[dense % 4]}` : `${label}: head`;
          dense++;
        }
        byLabel[label] = (byLabel[label] ?? 0) + e.ms;
        counts[label] = (counts[label] ?? 0) + 1;
      }
    } catch (e) {
      perKernel = `per-kernel breakdown not taken: ${e.message.slice(0, 200)}`;
    }
    const sumPer = Object.values(byLabel).reduce((a, b) => a + b, 0);
    rows.push({ P, wallMs, wallAll: wall, gpuMs: gpuMs2, passes, dispatches, byLabelMs: byLabel, counts });
    log(
      `prefill P ${P} (B 1, ${nb} blocks): TTFT ${wallMs.toFixed(2)} ms wall, GPU ${gpuMs2.toFixed(2)} ms in ${passes} passes (GPU idle ${(wallMs - gpuMs2).toFixed(2)} ms), ${dispatches} dispatches, ${(P / (wallMs / 1e3)).toFixed(0)} tok/s`
    );
    if (perKernel) log(`  ${perKernel}`);
    else {
      log(`  per kernel (ms over ${nb} blocks, one pass per dispatch, sum ${sumPer.toFixed(2)} ms; count):`);
      for (const [k, v] of Object.entries(byLabel).sort((a, b) => b[1] - a[1]))
        log(`    ${k.padEnd(52)} ${v.toFixed(3).padStart(9)} ms  ${(100 * v / sumPer).toFixed(1).padStart(5)} %  \xD7${counts[k]}`);
    }
  }
  return rows;
}
var ctx = await getGpuContext();
log(ctx.describe());
out.adapter = ctx.describe();
if (!skip.has("bw")) {
  out.bandwidth = await bandwidth(ctx);
  log("bandwidth", JSON.stringify(out.bandwidth));
}
if (!skip.has("gemv")) out.gemv = await gemvSweep(ctx);
if (!skip.has("decode") || prefillLens.length) {
  const { m, loadS } = await loadModel(ctx);
  if (!skip.has("decode")) out.decode = await decode(ctx, m, loadS);
  if (prefillLens.length) out.prefill = await prefill(ctx, m, prefillLens);
  m.dispose();
}
var path = arg("out", "");
if (path) writeFileSync(path, JSON.stringify(out, null, 1));
ctx.destroy();
