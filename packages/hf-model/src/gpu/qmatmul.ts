/**
 * Matmul and embedding gather over quantised weights (q8, q4; layout in ../quant/formats.ts),
 * dequantised inside the kernel: `y (+)= x·Wᵀ + b` with W `[N, K]` as packed u32 words and f16
 * scales (two per u32 word, read with `unpack2x16float`, so no `shader-f16` is needed).
 *
 * - Decode (M below {@link QMM_TILED_MIN_ROWS}): 32 invocations per weight row (a subgroup where
 *   the adapter has subgroups, else a team whose partial sums meet in workgroup memory), each
 *   reading whole groups as `vec4<u32>` (q4: one load per group of 32, q8: two), dequantising in
 *   registers and multiplying up to {@link QMM_ROWS} rows of x. Every weight byte is read once per
 *   {@link QMM_ROWS} rows of x.
 * - Decode with int8 activations: where the caller passes an activation scratch (`acts`), the
 *   decode rows go through {@link encodeQGemv} instead (x quantised per group of 32, packed int8
 *   dot products; see ./gemv.ts).
 * - Prefill: 64×64 output tiles; per group of 32 along K the weight tile is dequantised into
 *   workgroup memory (each invocation unpacks 8 values), then multiplied like the dense tiled kernel.
 *
 * K need not be a multiple of 32: the padded values of the last group are zero and the x reads
 * past K are masked (the `aligned` variant, K % 32 = 0, skips the masks and reads x as vec4).
 */
import { type DispatchBatch, defineParams, type GpuContext, type GpuTensor } from '@mlstm/kernels-webgpu';
import { ModelArgumentError } from '../errors.js';
import { encodeQGemv, SCALE_WGSL, splitWorkgroups } from './gemv.js';
import {
  groupsPerRow,
  type QuantFormat,
  type QuantMatrix,
  WORDS_PER_GROUP,
  wordsPerRow,
} from '../quant/formats.js';

/** A quantised matrix on the GPU: packed words and the f16 scales two per u32 word. */
export interface QuantGpuMatrix {
  format: QuantFormat;
  rows: number;
  cols: number;
  data: GpuTensor;
  scales: GpuTensor;
}

/** Uploads a quantised matrix as it is (bit for bit; the scales padded to whole words). */
export function uploadQuant(ctx: GpuContext, m: QuantMatrix): QuantGpuMatrix {
  const words = (u32: Uint32Array) => {
    const t = ctx.empty([Math.max(1, u32.length)], 'f32');
    ctx.device.queue.writeBuffer(t.buffer, 0, u32.buffer as ArrayBuffer, u32.byteOffset, u32.byteLength);
    return t;
  };
  // two f16 scales per word: a copy when the count is odd (a zero pads it) or the view is unaligned
  const even = m.scales.length % 2 === 0 && m.scales.byteOffset % 4 === 0;
  const s16 = even ? m.scales : new Uint16Array(m.scales.length + (m.scales.length % 2));
  if (!even) s16.set(m.scales);
  const sc = new Uint32Array(s16.buffer as ArrayBuffer, s16.byteOffset, s16.length / 2);
  return { format: m.format, rows: m.rows, cols: m.cols, data: words(m.data), scales: words(sc) };
}

/** Reads a quantised matrix back (tests: bit-identical round trips). */
export async function readQuant(ctx: GpuContext, m: QuantGpuMatrix): Promise<QuantMatrix> {
  const G = groupsPerRow(m.cols);
  const data = new Uint32Array(
    (await ctx.read(m.data)).buffer.slice(0, 4 * m.rows * wordsPerRow(m.format, m.cols)),
  );
  const s = new Uint16Array((await ctx.read(m.scales)).buffer);
  return { format: m.format, rows: m.rows, cols: m.cols, data, scales: s.slice(0, m.rows * G) };
}

const qmmParams = defineParams({
  M: 'u32',
  N: 'u32',
  K: 'u32',
  G: 'u32',
  hasBias: 'u32',
  accumulate: 'u32',
  softcap: 'f32',
  nOff: 'u32',
  ldy: 'u32',
});

/** Rows of x per workgroup of the decode kernel. */
export const QMM_ROWS = 4;
/** Weight rows per workgroup of the decode kernel (a team of 32 invocations each). */
const TEAMS = 4;
const TEAM = 32;
/** Rows at or above which {@link encodeQMatmul} uses the tiled kernel. */
export const QMM_TILED_MIN_ROWS = 32;

/** WGSL expression: value `j` of the quantised word `w` (q4: nibble j stored as q + 8; q8: byte j, two's complement). */
function quantValueWgsl(format: QuantFormat, w: string, j: string): string {
  return format === 'q4'
    ? `f32((${w} >> (4u * (${j}))) & 15u) - 8.0`
    : `f32((bitcast<i32>(${w}) << (24u - 8u * (${j}))) >> 24u)`;
}

function dequantWgsl(format: QuantFormat): string {
  const common = SCALE_WGSL;
  if (format === 'q4') {
    return `${common}
// values 0..3 and 4..7 of a word: nibbles stored as q + 8
fn lo4(w: u32) -> vec4<f32> { return vec4<f32>((vec4<u32>(w) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u)) - 8.0; }
fn hi4(w: u32) -> vec4<f32> { return vec4<f32>((vec4<u32>(w) >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u)) - 8.0; }`;
  }
  return `${common}
// the 4 int8 values of a word (two's complement bytes, low byte first)
fn b4(w: u32) -> vec4<f32> { return vec4<f32>((vec4<i32>(bitcast<i32>(w)) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u)); }`;
}

const BINDINGS = (xType: string) => `${qmmParams.wgsl()}
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

/**
 * The dot product of group `g` of weight row `n` with row `m` of x (x as vec4 when aligned, else
 * scalar with the reads past K masked), times the group's scale.
 */
function groupDotWgsl(format: QuantFormat, aligned: boolean): string {
  const wpg = WORDS_PER_GROUP[format];
  const xv = aligned ? (k: string) => `x[(m * P.K + ${k}) / 4u]` : (k: string) => `xs4(m, ${k})`;
  const maskedX = aligned
    ? ''
    : `
fn xs4(m: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) { if (k + j < P.K) { v[j] = x[m * P.K + k + j]; } }
  return v;
}`;
  const words = Array.from(
    { length: wpg / 4 },
    (_, v) => `  let w${v} = wq[(n * P.G + g) * ${wpg / 4}u + ${v}u];`,
  ).join('\n');
  let body: string;
  if (format === 'q4') {
    body = `${words}
  var s = 0.0;
  for (var j = 0u; j < 4u; j++) {
    let k = k0 + 8u * j;
    s += dot(lo4(w0[j]), ${xv('k')}) + dot(hi4(w0[j]), ${xv('k + 4u')});
  }`;
  } else {
    body = `${words}
  var s = 0.0;
  for (var j = 0u; j < 4u; j++) {
    s += dot(b4(w0[j]), ${xv('k0 + 4u * j')}) + dot(b4(w1[j]), ${xv('k0 + 16u + 4u * j')});
  }`;
  }
  return `${maskedX}
fn groupDot(n: u32, g: u32, m: u32) -> f32 {
  let k0 = g * 32u;
${body}
  return s * scale(n * P.G + g);
}`;
}

function gemvWgsl(format: QuantFormat, aligned: boolean): string {
  return `${BINDINGS(aligned ? 'vec4<f32>' : 'f32')}
${dequantWgsl(format)}
${groupDotWgsl(format, aligned)}
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

/**
 * The decode kernel with subgroup sums: each subgroup takes weight rows of its own (a slot from a
 * workgroup counter, so nothing depends on how invocations map to subgroups or on the subgroup
 * size), its lanes stride over the row's groups, `subgroupAdd` gives the row's sums.
 */
function gemvSubgroupWgsl(format: QuantFormat, aligned: boolean): string {
  return `enable subgroups;
diagnostic(off, subgroup_uniformity);
${BINDINGS(aligned ? 'vec4<f32>' : 'f32')}
${dequantWgsl(format)}
${groupDotWgsl(format, aligned)}
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

/** 64×64 tiles; per group of 32 along K, x and the dequantised W tile pass through workgroup memory. */
function tiledWgsl(format: QuantFormat): string {
  const wpg = WORDS_PER_GROUP[format];
  // invocation t unpacks 8 values of weight row t / 4: part t % 4 of its group
  const unpack =
    format === 'q4'
      ? `let wv = wq[(gn * P.G + g) * 1u][part];
        let a = lo4(wv); let b = hi4(wv);`
      : `let w2 = wq[(gn * P.G + g) * 2u + part / 2u];
        let a = b4(w2[(part % 2u) * 2u]); let b = b4(w2[(part % 2u) * 2u + 1u]);`;
  return `${BINDINGS('f32')}
${dequantWgsl(format)}
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

/**
 * `y[M, N] = x[M, K]·Wᵀ (+ b)` with W quantised, then the soft cap and accumulation of
 * `encodeMatmul` (same options). Below {@link QMM_TILED_MIN_ROWS} rows the decode kernel, from
 * there on the tiled one; `tiled` forces one.
 */
export function encodeQMatmul(
  ctx: GpuContext,
  batch: DispatchBatch,
  x: GpuTensor,
  w: QuantGpuMatrix,
  b: GpuTensor | null,
  y: GpuTensor,
  o: {
    M: number;
    N: number;
    K: number;
    accumulate?: boolean;
    softcap?: number | null;
    tiled?: boolean;
    /** decode kernel: subgroup sums (default: where the adapter has subgroups) */
    subgroups?: boolean;
    /**
     * decode rows (not `tiled`): the int8-activation GEMV of ./gemv.ts with this scratch
     * (`qgemvActsElements(M, K)` f32 elements); null / absent: the f32-activation kernel
     */
    acts?: GpuTensor | null;
    /** `acts` already hold this x (an earlier row part of the same matrix) */
    actsReady?: boolean;
    nOff?: number;
    ldy?: number;
  },
): void {
  if (o.subgroups && !ctx.features.subgroups) {
    throw new ModelArgumentError('subgroups', 'needs an adapter with the subgroups feature');
  }
  if (o.N !== w.rows || o.K !== w.cols) {
    throw new ModelArgumentError('w', `a quantised [${o.N}, ${o.K}] matrix, got [${w.rows}, ${w.cols}]`);
  }
  const tiled = o.tiled ?? o.M >= QMM_TILED_MIN_ROWS;
  const params = qmmParams.pack({
    M: o.M,
    N: o.N,
    K: o.K,
    G: groupsPerRow(o.K),
    hasBias: b ? 1 : 0,
    accumulate: o.accumulate ? 1 : 0,
    softcap: o.softcap ?? 0,
    nOff: o.nOff ?? 0,
    ldy: o.ldy ?? o.N,
  });
  const bufs = [x, w.data, w.scales, b ?? x, y];
  const layout = ['uniform', 'read', 'read', 'read', 'read', 'rw'] as const;
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (tiled) {
    const p = ctx.pipeline(`hf.qmatmul.tiled:${w.format}`, () => tiledWgsl(w.format), layout);
    batch.dispatch(
      p,
      bufs,
      params,
      [Math.ceil(o.N / 64), Math.ceil(o.M / 64)],
      `qmatmul ${w.format} (tiled)`,
    );
    return;
  }
  if (o.acts) {
    const { tiled: _, subgroups: __, acts, ...gemv } = o;
    encodeQGemv(ctx, batch, x, w, b, y, { ...gemv, acts });
    return;
  }
  const aligned = o.K % 32 === 0;
  const sg = o.subgroups ?? ctx.features.subgroups;
  const p = ctx.pipeline(
    `hf.qmatmul.gemv:${w.format}:${aligned ? 'a' : 'u'}:${sg ? 'sg' : 'wg'}`,
    () => (sg ? gemvSubgroupWgsl(w.format, aligned) : gemvWgsl(w.format, aligned)),
    layout,
  );
  const [gx, gy] = splitWorkgroups(Math.ceil(o.N / TEAMS), maxWg);
  batch.dispatch(p, bufs, params, [gx, gy, Math.ceil(o.M / QMM_ROWS)], `qmatmul ${w.format} (gemv)`);
}

const gatherParams = defineParams({ total: 'u32', H: 'u32', G: 'u32', row0: 'u32', rows: 'u32' });
const GATHER_WG = 256;

/** `out[r, :] = dequant(table[ids[r], :])` for ids in `[row0, row0 + rows)` (a quantised embedding's row part). */
export function encodeQEmbedding(
  ctx: GpuContext,
  batch: DispatchBatch,
  ids: GpuTensor,
  table: QuantGpuMatrix,
  out: GpuTensor,
  T: number,
  H: number,
  row0 = 0,
): void {
  const wpg = WORDS_PER_GROUP[table.format];
  const value = quantValueWgsl(table.format, 'w', table.format === 'q4' ? 'j % 8u' : 'j % 4u');
  const wordOf = table.format === 'q4' ? 'j / 8u' : 'j / 4u';
  const p = ctx.pipeline(
    `hf.qembed:${table.format}`,
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
    ['uniform', 'read', 'read', 'read', 'rw'],
  );
  const total = T * H;
  batch.dispatch(
    p,
    [ids, table.data, table.scales, out],
    gatherParams.pack({ total, H, G: groupsPerRow(H), row0, rows: table.rows }),
    splitWorkgroups(Math.ceil(total / GATHER_WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    `embedding ${table.format}`,
  );
}

const dequantParams = defineParams({ words: 'u32', K: 'u32', wpr: 'u32' });

/**
 * Writes the dequantised matrix `[rows, cols]` into `out` (f16 or f32, row-major; the padding of
 * the last group is dropped): one invocation per packed word. For a prefill through a dense GEMM
 * kernel (the dequantised weights live in one scratch buffer for one matmul at a time).
 */
export function encodeDequantize(
  ctx: GpuContext,
  batch: DispatchBatch,
  w: QuantGpuMatrix,
  out: GpuTensor,
): void {
  if (out.numel < w.rows * w.cols) {
    throw new ModelArgumentError('out', `at least ${w.rows * w.cols} elements, got ${out.numel}`);
  }
  const per = w.format === 'q4' ? 8 : 4;
  const value = quantValueWgsl(w.format, 'wv', 'j');
  const p = ctx.pipeline(
    `hf.qdequant:${w.format}:${out.dtype}`,
    () => `${out.dtype === 'f16' ? 'enable f16;' : ''}
${dequantParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> wq: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<${out.dtype}>;
${SCALE_WGSL}
@compute @workgroup_size(${GATHER_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${GATHER_WG}u + lid;
  if (idx >= P.words) { return; }
  let row = idx / P.wpr;
  let c = idx % P.wpr;                 // word of the row
  let gi = row * (P.wpr / ${WORDS_PER_GROUP[w.format]}u) + c / ${WORDS_PER_GROUP[w.format]}u;
  let s = scale(gi);
  let wv = wq[idx];
  let k0 = c * ${per}u;
  for (var j = 0u; j < ${per}u; j++) {
    if (k0 + j < P.K) { out[row * P.K + k0 + j] = ${out.dtype}((${value}) * s); }
  }
}`,
    ['uniform', 'read', 'read', 'rw'],
  );
  const wpr = wordsPerRow(w.format, w.cols);
  const words = w.rows * wpr;
  batch.dispatch(
    p,
    [w.data, w.scales, out],
    dequantParams.pack({ words, K: w.cols, wpr }),
    splitWorkgroups(Math.ceil(words / GATHER_WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    `dequantize ${w.format}`,
  );
}
