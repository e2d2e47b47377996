/**
 * Gate kernels of the chunkwise algorithm (spec §5.1, §5.2, §4.2), all f32:
 *
 * - `gateVectors`: per token `b_j` (in-chunk inclusive cumsum of logsigmoid(f̃)),
 *   `u_j = ĩ_j − b_j` (mLSTMsig: `logsigmoid(ĩ_j) − b_j`) and the prefix maximum
 *   `pmax_j = max_{l≤j} u_l`; per chunk `g_k = b_L` and `pmax_L`. One workgroup per (b·head, chunk)
 *   with workgroup scans (chunkwise calls), or one invocation walking the tokens in order (the
 *   parallel kernel: see {@link gateVectorsSerialWgsl}).
 * - `maxStates` (mLSTMexp only): the chunk-boundary stabiliser
 *   `m_k = g_k + max(m_{k−1}, pmax_L)`, `m_0` = the initial m or 0. One invocation per b·head.
 * - `gateGradsLocal` / `gateGradsChunkSums` / `gateGradsFinish`: `dĩ = Σ k⊙dk` (sig: `· σ(−ĩ)`) and
 *   `df̃_r = [Σ_{t≥r} (q_t·dq_t − k_t·dk_t) (+ ⟨dC_last, C_last⟩)] · σ(−f̃_r)`: per-token dot
 *   products (16 invocations per token), then a two-level reverse scan (in-chunk, then across
 *   chunk totals).
 * - `stateDot`: per b·head Frobenius product ⟨dC_last, C_last⟩ for the optional df correction (§4.5).
 */
import { defineParams } from '../../device/params.js';
import type { GpuDtype } from '../../device/tensor.js';
import { NEG_LARGE, wgslHeader } from '../../wgsl/common.js';
import type { Variant } from './intra.js';

export const GATE_WG = 64;

export const gateParams = defineParams({
  S: 'u32',
  L: 'u32',
  NC: 'u32',
  D: 'u32', // DHQK (gate grads) / DHQK·DHHV (stateDot)
  count: 'u32',
  T: 'u32', // tokens of all heads of the call (B·NH·S): section size of the packed gate vectors
  NB: 'u32', // heads (B·NH): the packed chunk scalars hold g, pmax_L (NB·NC each) then m (NB·(NC+1))
  hasInit: 'u32',
  useCorr: 'u32',
});

const flatIndex = `let idx = (wid.x + wid.y * nwg.x) * ${GATE_WG}u + lid;`;
const entry = `@compute @workgroup_size(${GATE_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32)`;

/** This invocation's run of a chunk's tokens, [r0, r1): ⌈L / {@link GATE_WG}⌉ consecutive tokens. */
const runOfChunk = `let per = (P.L + ${GATE_WG - 1}u) / ${GATE_WG}u;
  let r0 = min(lid * per, P.L);
  let r1 = min(r0 + per, P.L);`;

/** One workgroup of {@link GATE_WG} per (b·head, chunk), the chunk's index from the workgroup id. */
const chunkEntry = `@compute @workgroup_size(${GATE_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = wid.x + wid.y * nwg.x;
  if (idx >= P.count) { return; }
  let bnh = idx / P.NC;
  let chunk = idx % P.NC;`;

/**
 * Inclusive Hillis–Steele scan of `sc[0 … GATE_WG)` with operator `op` and its identity; `reverse`
 * scans from the end (suffix scan).
 */
const wgScan = (op: (a: string, b: string) => string, identity: string, reverse = false) =>
  `for (var off = 1u; off < ${GATE_WG}u; off *= 2u) {
    let other = ${
      reverse
        ? `select(${identity}, sc[min(lid + off, ${GATE_WG - 1}u)], lid + off < ${GATE_WG}u)`
        : `select(${identity}, sc[max(lid, off) - off], lid >= off)`
    };
    workgroupBarrier();
    sc[lid] = ${op('sc[lid]', 'other')};
    workgroupBarrier();
  }`;

/** The bindings of both gate-vector kernels. */
const GATE_VECTOR_BINDINGS = `@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> gi: array<f32>;
@group(0) @binding(2) var<storage, read> gf: array<f32>;
@group(0) @binding(3) var<storage, read_write> gates: array<f32>;
@group(0) @binding(4) var<storage, read_write> chunkv: array<f32>;`;

/** The log input gate of token `t` (mLSTMexp: ĩ; mLSTMsig: logsigmoid(ĩ)). */
const logInputGate = (variant: Variant, t: string) =>
  variant === 'exp' ? `gi[${t}]` : `logsigmoid(gi[${t}])`;

/**
 * Bindings: i f | gates (b | u | pmax, T each) chunkv (g | pmax_L | m). One workgroup of
 * {@link GATE_WG} per (b·head, chunk): each invocation takes a run of consecutive tokens, and the
 * in-chunk cumulative sum (b) and prefix maximum (pmax) are completed with workgroup scans of the
 * runs' totals (coalesced, and no invocation walks a whole chunk).
 */
export function gateVectorsWgsl(variant: Variant): string {
  return `${wgslHeader('f32')}
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
  ${wgScan((x, y) => `${x} + ${y}`, '0.0')}
  var b = sc[lid] - run;
  let total = sc[${GATE_WG - 1}u];
  workgroupBarrier();
  var runMax = ${NEG_LARGE};
  for (var r = r0; r < r1; r++) {
    let tok = first + r;
    b += logsigmoid(gf[tok]);
    let u = ${logInputGate(variant, 'tok')} - b;
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

/**
 * Bindings as {@link gateVectorsWgsl}: one invocation per (b·head, chunk) walking the chunk's
 * tokens in order. Kept for the parallel kernel (one chunk of length S), whose F_t − F_s by
 * subtraction of these sums is sensitive to their summation order (the upstream fixtures are
 * matched to this order within 2e-5·S/256).
 */
export function gateVectorsSerialWgsl(variant: Variant): string {
  return `${wgslHeader('f32')}
${gateParams.wgsl()}
${GATE_VECTOR_BINDINGS}
${entry} {
  ${flatIndex}
  if (idx >= P.count) { return; }
  let bnh = idx / P.NC;
  let chunk = idx % P.NC;
  var b = 0.0;
  var pm = ${NEG_LARGE};
  for (var r = 0u; r < P.L; r++) {
    let tok = bnh * P.S + chunk * P.L + r;
    b += logsigmoid(gf[tok]);
    let u = ${logInputGate(variant, 'tok')} - b;
    pm = max(pm, u);
    gates[tok] = b;
    gates[P.T + tok] = u;
    gates[2u * P.T + tok] = pm;
  }
  chunkv[idx] = b;
  chunkv[P.NB * P.NC + idx] = pm;
}`;
}

/**
 * Bindings: mInit | chunkv (reads g, pmax_L; writes m: B·NH × (NC+1)). The chunk-boundary
 * stabilisers `m_{k+1} = g_k + max(m_k, pmax_k)`, one workgroup of {@link GATE_WG} per b·head: each
 * step is the max-plus map `x ↦ max(x + A, B)` with (A, B) = (g_k, pmax_k + g_k), and such maps
 * compose as `(A1, B1) then (A2, B2) = (A1 + A2, max(B1 + A2, B2))`; each invocation composes a run
 * of consecutive chunks, a workgroup scan gives each run its starting m, and the run is walked
 * again. (One invocation walking all chunks took 0.062 ms at 256 chunks per head on the H100.)
 */
export function maxStatesWgsl(): string {
  return `${wgslHeader('f32')}
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
  // this run's map (identity: A = 0, B = −∞)
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

/** Tokens per workgroup of {@link gateGradsLocalWgsl} (16 invocations per token). */
export const GATE_TOKENS_PER_WG = 16;

/**
 * Bindings: q k dq dk i | di dfTmp. `dĩ = k·dk` (sig: `· σ(−ĩ)`) and the token's term
 * `q·dq − k·dk` of dλ (into dfTmp; {@link gateGradsChunkSumsWgsl} turns it into in-chunk suffix
 * sums). A workgroup of 256 handles 16 tokens, 16 invocations per token reading consecutive
 * elements (coalesced), reduced through workgroup memory.
 */
/**
 * Elements per load of the gate-gradient token kernel: 16-byte loads (8 f16 or 4 f32) when the
 * head dimension allows them, else one element.
 */
export function gateGradsVector(dtype: GpuDtype, D: number): 1 | 4 | 8 {
  const v = dtype === 'f16' ? 8 : 4;
  return D % v === 0 ? v : 1;
}

export function gateGradsLocalWgsl(variant: Variant, dtype: GpuDtype, vec: 1 | 4 | 8 = 1): string {
  // one load of `vec` elements: vec4<u32> holds 8 f16, vec4<f32> 4 f32
  const type = vec === 1 ? 'elem' : vec === 8 ? 'vec4<u32>' : 'vec4<f32>';
  const dot = (a: string, b: string) =>
    vec === 1
      ? `f32(${a}) * f32(${b})`
      : vec === 4
        ? `dot(${a}, ${b})`
        : `dot(vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(${a}.x)), vec2<f32>(bitcast<vec2<f16>>(${a}.y))), vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(${b}.x)), vec2<f32>(bitcast<vec2<f16>>(${b}.y)))) + dot(vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(${a}.z)), vec2<f32>(bitcast<vec2<f16>>(${a}.w))), vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(${b}.z)), vec2<f32>(bitcast<vec2<f16>>(${b}.w))))`;
  return `${wgslHeader(dtype)}
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
      qdq += ${dot('q[e]', 'dq[e]')};
      kdk += ${dot('k[e]', 'dk[e]')};
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
    di[t] = ${variant === 'exp' ? 'sk' : 'sk * sigmoid(-gi[t])'};
  }
}`;
}

/**
 * Bindings: | dfTmp (in place: in-chunk suffix sums) totals [, then with \`fromDots\`: i | di]. One
 * workgroup per (b·head, chunk): each invocation sums a run of consecutive tokens, a workgroup
 * suffix scan of the runs' sums gives each run its start, and the run is walked back (coalesced;
 * one invocation walking a chunk took 0.03 ms at S 8192 on the H100).
 *
 * \`fromDots\` (the variant): the per-token terms come from the row dots of the matrix-unit dQ and dK
 * kernels (intra_sgmat.ts \`rowDots\`) in place of {@link gateGradsLocalWgsl}: on entry \`dfTmp\` holds
 * q·dq and \`di\` holds k·dk; the first walk makes the term \`q·dq − k·dk\` and leaves \`di = k·dk\`
 * (sig: \`· σ(−ĩ)\`), in the same pass over the tokens (H100: one dispatch of 0.019 ms fewer).
 */
export function gateGradsChunkSumsWgsl(fromDots?: Variant): string {
  return `${wgslHeader('f32')}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> dfTmp: array<f32>;
@group(0) @binding(2) var<storage, read_write> totals: array<f32>;
${
  fromDots
    ? `@group(0) @binding(3) var<storage, read> gi: array<f32>;
@group(0) @binding(4) var<storage, read_write> di: array<f32>;`
    : ''
}
var<workgroup> sc: array<f32, ${GATE_WG}>;
${chunkEntry}
  ${runOfChunk}
  let first = bnh * P.S + chunk * P.L;
  var s = 0.0;
  for (var r = r0; r < r1; r++) {
${
  fromDots
    ? `    let t = first + r;
    let kdk = di[t];
    let v = dfTmp[t] - kdk;
    dfTmp[t] = v;
    ${fromDots === 'exp' ? '' : 'di[t] = kdk * sigmoid(-gi[t]);'}
    s += v;`
    : '    s += dfTmp[first + r];'
}
  }
  // inclusive suffix scan of the runs' sums
  sc[lid] = s;
  workgroupBarrier();
  ${wgScan((x, y) => `${x} + ${y}`, '0.0', true)}
  var acc = select(0.0, sc[min(lid + 1u, ${GATE_WG - 1}u)], lid + 1u < ${GATE_WG}u);
  for (var r = r1; r > r0; r--) {
    acc += dfTmp[first + r - 1u];
    dfTmp[first + r - 1u] = acc;
  }
  if (lid == 0u) { totals[idx] = sc[0]; }
}`;
}

/**
 * Bindings: f totals dfTmp corr | df. One workgroup per (b·head, chunk): the later chunks' totals
 * reduced in workgroup memory, then each invocation finishes a run of tokens.
 */
export function gateGradsFinishWgsl(): string {
  return `${wgslHeader('f32')}
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

/** Bindings: a b | out (one value per b·head). One workgroup of 256 per b·head; `a`,`b` hold (NC+1) states, the last is used. */
export function stateDotWgsl(): string {
  return `${wgslHeader('f32')}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> dcLast: array<f32>;
@group(0) @binding(2) var<storage, read> cStates: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bnh = wid.x + wid.y * nwg.x; // one workgroup per b·head, flat over a 2-D dispatch
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
