/**
 * Next-token sampling on the GPU: the logits never leave the device, only the sampled ids (u32,
 * read by the next step's embedding) are written. The arithmetic is the one defined in
 * `../sampling.ts` (canonical f32 logits, reciprocal-product repetition penalty, integer token
 * weights from two tables, exact integer sums and thresholds), so the GPU and the CPU sampler pick
 * the same token for the same logits and uniform draw, with no tolerance.
 *
 * - Greedy (`temperature` 0): a two-level argmax over `(key, id)` (lowest id on ties): partial
 *   maxima of 4 096-token slices, then one small workgroup per row.
 * - Sampling: one workgroup per row. The top-k boundary and the top-p boundary are found without a
 *   sort, by a bisection over the 32-bit order keys of the penalised logits, two bits per pass (a
 *   count, or a two-limb weight sum, per candidate, reduced over the workgroup); ties at a
 *   boundary are resolved by id through per-thread chunk counts. The draw walks the kept set in id order: chunk weight sums,
 *   one scan, one chunk walked.
 *
 * A kept set is always "key > κ, or key = κ and id < bound": a prefix of the order (key descending,
 * id ascending).
 *
 * Use in a decode loop: `seen = createSeenMask(ctx, V, promptRows)` once; per step
 * `encodeSampleTokens(ctx, batch, { logits, B, V, out, seen, params: { …options, uniforms:
 * drawUniforms(rng, B) } })` with `rng = makeRng(seed)`, exactly as `XlstmForCausalLM.stream` draws
 * (one uniform per row and step, stopped rows included), so both paths give the same tokens.
 *
 * Cost: greedy reads the logits once. Sampling with top-k and top-p runs one workgroup per row over
 * about 40 passes of the row (two 16-step bisections), plain temperature sampling 2 passes.
 */
import { type DispatchBatch, defineParams, type GpuContext, GpuTensor } from '@mlstm/kernels-webgpu';
import { ModelArgumentError } from '../errors.js';
import { drawInteger, SAMPLER_MAX_VOCAB, SAMPLER_TABLES, samplerConstants } from '../sampling.js';

/** Sampling parameters of {@link encodeSampleTokens} (the same for every row). */
export interface GpuSampleParams {
  /** 0 = greedy; > 0 samples */
  temperature: number;
  /** keep the k most likely tokens (0 = all) */
  topK: number;
  /** nucleus mass in (0, 1] (1 = all) */
  topP: number;
  /** > 0; 1 = off */
  repetitionPenalty: number;
  /** one draw in [0, 1) per row (the CPU's seeded generator; greedy ignores them) */
  uniforms: Float32Array;
}

const sampleParams = defineParams({
  V: 'u32',
  W: 'u32',
  penalize: 'u32',
  invPen: 'f32',
  pen: 'f32',
  c: 'f32',
  topK: 'u32',
  q: 'u32',
  G: 'u32',
  chunk: 'u32',
});

/** invocations of the per-row kernels */
const WG = 256;
/** tokens per workgroup of the greedy kernel's first level */
const SLICE = 4096;
/** invocations of the greedy kernel's second level */
const FINAL_WG = 64;

/** u32 words of one row of the seen-token bitmask. */
export const seenWords = (V: number): number => Math.ceil(V / 32);

/** The seen-token bitmask `[B, ceil(V/32)]` of `rows` (bit `id % 32` of word `id / 32`). */
export function seenMaskBits(V: number, rows: readonly (readonly number[])[]): Uint32Array {
  const W = seenWords(V);
  const bits = new Uint32Array(rows.length * W);
  rows.forEach((r, b) => {
    for (const id of r) {
      if (!Number.isInteger(id) || id < 0 || id >= V) {
        throw new ModelArgumentError('rows', `token ${id} of row ${b} is not an id in [0, ${V})`);
      }
      bits[b * W + (id >>> 5)] |= 1 << (id & 31);
    }
  });
  return bits;
}

/**
 * A GPU seen-token bitmask (u32 words, tensor shape `[B, ceil(V/32)]`) holding the ids of `rows`
 * (the prompts); {@link encodeSampleTokens} adds every sampled token. Release it when done.
 */
export function createSeenMask(ctx: GpuContext, V: number, rows: readonly (readonly number[])[]): GpuTensor {
  const bits = seenMaskBits(V, rows);
  const t = ctx.empty([rows.length, seenWords(V)], 'f32');
  ctx.device.queue.writeBuffer(t.buffer, t.byteOffset, bits.buffer, bits.byteOffset, bits.byteLength);
  return t;
}

// ------------------------------------------------------------------------------------------------
// WGSL stages

/** Canonical logit bits, order keys and the penalised key of a token (sampling.ts steps 1-3). */
const KEYS = /* wgsl */ `
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
}`;

// The tables live in workgroup memory, filled once per workgroup (loadTables): a dynamically
// indexed 'const' array is materialised at every use, and private copies per invocation are slow
// to build on software adapters.
const table = (name: string, v: Uint32Array) =>
  `const ${name}_INIT = array<u32, ${v.length}>(${[...v].map((x) => `${x}u`).join(', ')});
var<workgroup> ${name}: array<u32, ${v.length}>;`;

/** The integer weight of a token (sampling.ts step 4), with its two tables. */
const WEIGHTS = /* wgsl */ `
${table('TA', SAMPLER_TABLES.a)}
${table('TB', SAMPLER_TABLES.b)}
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
}`;

/** Two-limb (lo, hi) unsigned arithmetic for exact weight sums and thresholds. */
const U64 = /* wgsl */ `
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
// floor (or ceil) of r · S / 2^24 for r <= 2^24 and S < 2^48 (sampling.ts scaleByDraw / topPThreshold)
fn scaleDraw(r: u32, S: vec2u, up: bool) -> vec2u {
  let hi = (S.y << 8u) | (S.x >> 24u);
  var p = mul64(r, S.x & 0xffffffu);
  if (up) { p = add64(p, vec2u(0xffffffu, 0u)); }
  return add64(mul64(r, hi), vec2u((p.x >> 24u) | (p.y << 8u), 0u));
}`;

const BINDINGS = (seenAccess: 'read' | 'read_write', outDecl: string) => `${sampleParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> logits: array<u32>;
@group(0) @binding(2) var<storage, ${seenAccess}> seen: array<u32>;
${outDecl}`;

/** (key, id) of the better token: larger key, then lower id. */
const BETTER = /* wgsl */ `
fn better(a: vec2u, b: vec2u) -> vec2u {
  return select(a, b, b.x > a.x || (b.x == a.x && b.y < a.y));
}`;

/** Greedy, first level: the best (key, id) of each 4 096-token slice of each row. */
function argmaxPartialWgsl(): string {
  return `${BINDINGS('read', '@group(0) @binding(3) var<storage, read_write> partial: array<vec2u>;')}
${KEYS}
${BETTER}
var<workgroup> red: array<vec2u, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x;
  let row = wid.y;
  let j1 = min(P.V, (g + 1u) * ${SLICE}u);
  var best = vec2u(0u, 0xffffffffu);
  for (var j = g * ${SLICE}u + lid; j < j1; j += ${WG}u) { best = better(best, vec2u(keyOf(row, j), j)); }
  red[lid] = best;
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) { red[lid] = better(red[lid], red[lid + s]); }
  }
  if (lid == 0u) { partial[row * P.G + g] = red[0]; }
}`;
}

/** Greedy, second level: the best of a row's partials; writes the id and sets its seen bit. */
function argmaxFinalWgsl(): string {
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

/**
 * Workgroup reductions (max of u32; three sums of two-limb values) in two levels (16 groups of 16),
 * so that each costs few barriers; every invocation gets the result.
 */
const REDUCTIONS = /* wgsl */ `
var<workgroup> r64: array<vec2u, ${3 * WG}>;
var<workgroup> r32: array<u32, ${WG}>;
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
  for (var c = 0u; c < 3u; c++) { r64[c * ${WG}u + lid] = v[c]; }
  workgroupBarrier();
  if (lid < 48u) {
    let base = (lid / 16u) * ${WG}u + (lid % 16u) * 16u;
    var s = vec2u(0u, 0u);
    for (var i = 0u; i < 16u; i++) { s = add64(s, r64[base + i]); }
    r64[base] = s;
  }
  workgroupBarrier();
  if (lid < 3u) {
    var s = vec2u(0u, 0u);
    for (var i = 0u; i < 16u; i++) { s = add64(s, r64[lid * ${WG}u + i * 16u]); }
    total3[lid] = s;
  }
  return workgroupUniformLoad(&total3);
}`;

/** Membership of the kept set "key > sKey, or key = sKey and id < sBound". */
const IN_SET = /* wgsl */ `
fn inSet(k: u32, j: u32, sKey: u32, sBound: u32) -> bool { return k > sKey || (k == sKey && j < sBound); }`;

/**
 * The id bound of the set "key > sKey, or key = sKey and id < bound" holding exactly the first `m`
 * (≥ 1) tokens of key sKey (among those with id < prevBound): per-thread chunk counts, then one
 * invocation finds the chunk and walks it.
 */
const TIE_BOUND = /* wgsl */ `
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
    for (; c < ${WG - 1}u; c++) {
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
}`;

/**
 * Sampling: one workgroup per row (steps 4-7 of sampling.ts). The boundary searches run as one loop
 * of passes (a state machine with one reduction site), which keeps the shader's barriers few:
 * - top-k: bisection (radix 4: 16 passes of three candidates) for the largest key kKey with
 *   count(key ≥ kKey) ≥ topK; count(key > kKey);
 *   the ties of kKey by id;
 * - top-p: the kept weight S and θ; bisection for the largest key pKey whose kept weight at or above
 *   it reaches θ; the weight above pKey and the ties of pKey; the fewest ties that reach θ, by id.
 */
function sampleWgsl(): string {
  const ONE = 1 << 24;
  return `${BINDINGS(
    'read_write',
    `@group(0) @binding(3) var<storage, read> draws: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;`,
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
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let V = P.V;
  loadTables(lid, ${WG}u);
  var mk = 0u;
  for (var j = lid; j < V; j += ${WG}u) { mk = max(mk, keyOf(row, j)); }
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
    for (var j = lid; j < V; j += ${WG}u) {
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
        // the fewest ties with gAbove + m · w(pKey) >= theta (ties weigh the same)
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
    for (var c = 0u; c < ${WG}u; c++) { total = add64(total, r64[c]); }
    let t = scaleDraw(draws[row], total, false);
    var acc = vec2u(0u, 0u);
    var c = 0u;
    for (; c < ${WG - 1}u; c++) {
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

// ------------------------------------------------------------------------------------------------

function checkTensor(name: string, t: unknown, numel: number, what: string): void {
  if (!(t instanceof GpuTensor)) throw new ModelArgumentError(name, `expected a GpuTensor (${what})`);
  if (t.numel !== numel || t.dtype !== 'f32') {
    throw new ModelArgumentError(
      name,
      `expected ${numel} 32-bit elements (${what}), got ${t.numel} ${t.dtype} [${t.shape.join(', ')}]`,
    );
  }
}

/** Checks every argument of {@link encodeSampleTokens}; typed errors naming the argument. */
function validate(
  ctx: GpuContext,
  a: { logits: GpuTensor; B: number; V: number; out: GpuTensor; seen: GpuTensor; params: GpuSampleParams },
): void {
  const { B, V, params: p } = a;
  const maxRows = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (!Number.isInteger(B) || B < 1 || B > maxRows)
    throw new ModelArgumentError('B', `expected an integer in [1, ${maxRows}], got ${B}`);
  if (!Number.isInteger(V) || V < 1 || V > SAMPLER_MAX_VOCAB)
    throw new ModelArgumentError('V', `expected an integer in [1, ${SAMPLER_MAX_VOCAB}], got ${V}`);
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  if (!num(p.temperature) || p.temperature < 0)
    throw new ModelArgumentError('temperature', `expected a finite number >= 0, got ${p.temperature}`);
  if (!Number.isInteger(p.topK) || p.topK < 0)
    throw new ModelArgumentError('topK', `expected an integer >= 0, got ${p.topK}`);
  if (!num(p.topP) || p.topP <= 0 || p.topP > 1)
    throw new ModelArgumentError('topP', `expected a number in (0, 1], got ${p.topP}`);
  if (!num(p.repetitionPenalty) || p.repetitionPenalty <= 0)
    throw new ModelArgumentError(
      'repetitionPenalty',
      `expected a finite number > 0, got ${p.repetitionPenalty}`,
    );
  if (!(p.uniforms instanceof Float32Array) || p.uniforms.length !== B)
    throw new ModelArgumentError(
      'uniforms',
      `expected a Float32Array of B = ${B} draws, got ${p.uniforms?.length}`,
    );
  for (const [b, u] of p.uniforms.entries()) {
    if (!(u >= 0 && u < 1)) throw new ModelArgumentError('uniforms', `draw ${b} is ${u}, expected [0, 1)`);
  }
  checkTensor('logits', a.logits, B * V, `f32 [B, V] = [${B}, ${V}]`);
  checkTensor('out', a.out, B, `u32 [B] = [${B}]`);
  checkTensor('seen', a.seen, B * seenWords(V), `u32 [B, ceil(V/32)] = [${B}, ${seenWords(V)}]`);
  ctx.checkBindingSize('logits', a.logits.byteLength, 'encodeSampleTokens');
}

/**
 * Samples the next token of each row on the GPU from `logits` `[B, V]` (f32) into `out` (u32
 * `[B]`), and sets the sampled token's bit in `seen` (u32 `[B, ceil(V/32)]`, see
 * {@link createSeenMask}). Same tokens as the CPU's `sampleToken` for the same logits, options and
 * draws. Arguments are checked before any GPU work (`ModelArgumentError` naming the argument).
 */
export function encodeSampleTokens(
  ctx: GpuContext,
  batch: DispatchBatch,
  a: {
    logits: GpuTensor;
    B: number;
    V: number;
    out: GpuTensor;
    seen: GpuTensor;
    params: GpuSampleParams;
  },
): { draws: GpuTensor | null } {
  validate(ctx, a);
  const { B, V, params: p } = a;
  const k = samplerConstants(p);
  const G = Math.ceil(V / SLICE);
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
    chunk: Math.ceil(V / WG),
  });
  if (!(p.temperature > 0)) {
    const partial = batch.scratch([B * G * 2], 'f32');
    const first = ctx.pipeline('hf.sample.argmax-partial', argmaxPartialWgsl, [
      'uniform',
      'read',
      'read',
      'rw',
    ]);
    batch.dispatch(first, [a.logits, a.seen, partial], packed, [G, B], 'sample argmax (slices)');
    const final = ctx.pipeline('hf.sample.argmax-final', argmaxFinalWgsl, ['uniform', 'read', 'rw', 'rw']);
    batch.dispatch(final, [partial, a.seen, a.out], packed, [B], 'sample argmax (rows)');
    return { draws: null };
  }
  const draws = batch.scratch([B], 'f32');
  writeSampleDraws(ctx, draws, p.uniforms);
  const pipe = ctx.pipeline('hf.sample.draw', sampleWgsl, ['uniform', 'read', 'rw', 'read', 'rw']);
  batch.dispatch(pipe, [a.logits, a.seen, draws, a.out], packed, [B], 'sample (top-k, top-p, draw)');
  return { draws };
}

/**
 * Writes one draw per row (`uniforms` in [0, 1), the CPU's seeded generator) into the `draws`
 * buffer that {@link encodeSampleTokens} returned: a recorded sampler replayed with new draws.
 * (A queue write lands after the submissions before it, so a step in flight keeps its draws.)
 */
export function writeSampleDraws(ctx: GpuContext, draws: GpuTensor, uniforms: Float32Array): void {
  const r = Uint32Array.from(uniforms, drawInteger);
  ctx.device.queue.writeBuffer(draws.buffer, draws.byteOffset, r.buffer, r.byteOffset, r.byteLength);
}
