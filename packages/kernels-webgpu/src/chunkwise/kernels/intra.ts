/**
 * The tiled intra-chunk kernel of TFLA (spec §5.3–5.6), generated for its four uses:
 *
 * | role | rows r | loop tokens t | A = P·Qᵀ over Y | B (X cols) | inter term                 |
 * |------|--------|---------------|-----------------|------------|----------------------------|
 * | `fw` | query j| key l ≤ j     | q·k   (DHQK)    | v (DHHV)   | q̄_j · C_{k-1}   (+ q̄·n)    |
 * | `dq` | query j| key l ≤ j     | dh·v  (DHHV)    | k (DHQK)   | dĥ_j · C_{k-1}ᵀ            |
 * | `dk` | key l  | query j ≥ l   | v·dh  (DHHV)    | q (DHQK)   | ā_l v_l · dC_kᵀ            |
 * | `dv` | key l  | query j ≥ l   | k·q   (DHQK)    | dh (DHHV)  | ā_l k_l · dC_k             |
 *
 * Out[r, x] = Σ_t (A[r,t] · G[r,t]) B[t, x] + interScale_r · Σ_y I[r, y] State[y, x].
 * The gate G for a (query j, key l) pair is `scale · exp(u_l + rowLog_j) · invN_j` with the
 * per-token gate vectors of {@link ./gates.ts}: `u_l = ĩ_l − b_l` (sig: `logsigmoid(ĩ_l) − b_l`),
 * `rowLog_j = −max(m_{k−1}, pmax_j)` (sig: `b_j`), `invN_j = 1/(n_j + eps)` in the backward.
 * Because the intra row maximum of the stabiliser is a prefix maximum (`b_j + pmax_j`), no online
 * max rescaling is needed: every exponent is ≤ 0 by construction.
 *
 * Tiling: a workgroup of 16×16 threads owns a `bR × bX` output tile of one chunk; it loops
 * over `bT`-token tiles (only those on the causal side), builds the gated score tile in
 * workgroup memory from `bY`-deep slices of P and Q, then multiplies it into B.
 */
import type { GpuDtype } from '../../device/tensor.js';
import { defineParams } from '../../device/params.js';
import { wgslHeader } from '../../wgsl/common.js';

export type IntraRole = 'fw' | 'dq' | 'dk' | 'dv';
export type Variant = 'exp' | 'sig';

export interface IntraTiles {
  /** rows per workgroup (multiple of 16) */
  bR: number;
  /** loop-token tile (multiple of 16) */
  bT: number;
  /** output columns per workgroup (multiple of 16) */
  bX: number;
  /** depth of the staged P/Q/B slices */
  bY: number;
}

export interface IntraConfig {
  role: IntraRole;
  variant: Variant;
  /** sig only: divide by the normaliser (fw) / use 1/(n+eps) (bw) */
  normalize: boolean;
  /** add the inter-chunk (state) term */
  inter: boolean;
  dtype: GpuDtype;
  tiles: IntraTiles;
}

export const NO_ZERO_SLOT = 0xffffffff;

export const intraParams = defineParams({
  S: 'u32', // sequence length (tokens per (b, head))
  L: 'u32', // chunk length
  NC: 'u32', // chunks
  DY: 'u32', // depth of A = P·Qᵀ
  DX: 'u32', // output columns
  DI: 'u32', // depth of the inter product
  nRowTiles: 'u32',
  nXTiles: 'u32',
  count: 'u32', // total workgroups = BNH · NC · nRowTiles · nXTiles
  // the state slot (within a head) known to be zero — no initial state (fw, dQ: slot 0) or no
  // dC_last (dK, dV: slot NC) — whose chunk skips the inter term (matrix units); NO_ZERO_SLOT: none
  zeroSlot: 'u32',
  T: 'u32', // tokens of all heads (B·NH·S): section size of the packed gate vectors and n/m outputs
  NB: 'u32', // heads (B·NH)
  gateScale: 'f32',
  outScale: 'f32',
  eps: 'f32',
});

const TR = 16;
const TC = 16;

/** Bytes of workgroup memory the kernel needs for these tiles. */
export function intraWorkgroupBytes(t: IntraTiles): number {
  return 4 * (t.bR * t.bY + t.bT * t.bY + t.bR * t.bT + t.bY * t.bX + 4 * t.bR + 3 * t.bT);
}

export function intraKey(c: IntraConfig): string {
  const t = c.tiles;
  return `intra:${c.role}:${c.variant}:${c.normalize ? 'n' : 'nn'}:${c.inter ? 'i' : 'ni'}:${c.dtype}:${t.bR}x${t.bT}x${t.bX}x${t.bY}`;
}

/**
 * Bindings (after the params at 0), in order:
 * fw: q k v gates chunkv [states] | h nm
 * dq: dh v k gates chunkv [states] nm | dq
 * dk: v dh q gates chunkv [dcStates] nm | dk
 * dv: k q dh gates chunkv [dcStates] nm | dv
 * with the packed buffers of tfla.ts: `gates` = b | u | pmax (T each), `chunkv` = g | pmax_L |
 * m, `states` = all C_k then all n_k, `nm` = n_out | m_comb (T each). At most 8 storage
 * buffers: WebGPU's default `maxStorageBuffersPerShaderStage`.
 */
/**
 * What distinguishes the four roles, as WGSL fragments shared by the register-tiled kernel and
 * the matrix-unit kernel of {@link ./intra_sgmat.ts} (the math is written once, here).
 */
export interface IntraRoleSpec {
  /** the tensors playing P (rows × Y), Q (loop tokens × Y), B (loop tokens × X); I = P */
  names: [string, string, string];
  /** loop tokens t ≤ row r (fw, dq) rather than t ≥ r (dk, dv) */
  lower: boolean;
  /** storage declarations of bindings 1… */
  decl: string;
  outName: string;
  stateName: string;
  /** state element (y, x) of the inter product, as an index relative to the chunk's state */
  stateIndex: string;
  /** the inter product reads the state transposed (dq, dk) */
  stateTransposed: boolean;
  /** boundary slot of the state relative to `chunk` (dk, dv read dC_k of the chunk's end) */
  stateSlot: string;
  /** per-token vectors (needs `tok`, `mPrev`, `noInterMax`) */
  rowLogExpr: string;
  invNExpr: string;
  /** gate of (row rr, loop token tt) from the row vectors rU/rLog/rInv and token vectors tU/tLog/tInv */
  gateExpr: (rr: string, tt: string) => string;
  /** per-row factor of the inter term (needs `mPrev`, `mNext`, `gChunk`) */
  interScaleExpr: (rr: string) => string;
}

export function intraRoleSpec(
  c: Pick<IntraConfig, 'role' | 'variant' | 'normalize' | 'inter'>,
  /** storage types of the q/k/v/h-like tensors and of the state stack (vectorised views) */
  types: { elem: string; state: string; b?: string } = { elem: 'elem', state: 'f32' },
): IntraRoleSpec {
  const lower = c.role === 'fw' || c.role === 'dq';
  const exp = c.variant === 'exp';
  const bw = c.role !== 'fw';
  // which tensors play P (rows, depth Y), Q (loop tokens, depth Y), B (loop tokens, X), I (rows, depth DI)
  const names = {
    fw: ['q', 'k', 'v'],
    dq: ['dh', 'v', 'k'],
    dk: ['v', 'dh', 'q'],
    dv: ['k', 'q', 'dh'],
  }[c.role] as [string, string, string];
  const stateName = c.role === 'fw' || c.role === 'dq' ? 'cStates' : 'dcStates';
  const stateTransposed = c.role === 'dq' || c.role === 'dk';
  let binding = 1;
  const decl: string[] = [];
  const ro = (name: string, type: string) =>
    decl.push(`@group(0) @binding(${binding++}) var<storage, read> ${name}: array<${type}>;`);
  const rw = (name: string, type: string) =>
    decl.push(`@group(0) @binding(${binding++}) var<storage, read_write> ${name}: array<${type}>;`);
  ro(names[0], types.elem);
  ro(names[1], types.elem);
  ro(names[2], types.b ?? types.elem);
  ro('gates', 'f32');
  ro('chunkv', 'f32');
  if (c.inter) ro(stateName, types.state);
  if (bw) ro('nm', 'f32');
  if (c.role === 'fw') {
    rw('h', types.elem);
    rw('nm', 'f32');
  } else rw(`${c.role}Out`, types.elem);
  return {
    names,
    lower,
    decl: decl.join('\n'),
    outName: c.role === 'fw' ? 'h' : `${c.role}Out`,
    stateName,
    // State element (y, x) for the inter product: C[y][x] (DHQK × DHHV) or its transpose
    stateIndex: stateTransposed ? '(x * P.DI + y)' : '(y * P.DX + x)',
    stateTransposed,
    stateSlot: c.role === 'dk' || c.role === 'dv' ? '1u' : '0u',
    rowLogExpr: exp
      ? 'select(-max(mPrev, gates[2u * P.T + tok]), -gates[2u * P.T + tok], noInterMax)'
      : 'gates[tok]',
    invNExpr: bw && (exp || c.normalize) ? '1.0 / (nm[tok] + P.eps)' : '1.0',
    gateExpr: (rr, tt) =>
      lower
        ? `P.gateScale * exp(tU[${tt}] + rLog[${rr}]) * rInv[${rr}]`
        : `P.gateScale * exp(rU[${rr}] + tLog[${tt}]) * tInv[${tt}]`,
    interScaleExpr: (rr) =>
      c.role === 'fw'
        ? `P.gateScale * exp(mPrev + rLog[${rr}])`
        : c.role === 'dq'
          ? `exp(mPrev + rLog[${rr}]) * rInv[${rr}]`
          : `exp(gChunk + rU[${rr}] - mNext)`,
  };
}

export function intraWgsl(c: IntraConfig): string {
  const { bR, bT, bX, bY } = c.tiles;
  const rR = bR / TR;
  const rT = bT / TC;
  const rX = bX / TC;
  const spec = intraRoleSpec(c);
  const { lower, names, outName } = spec;
  const exp = c.variant === 'exp';
  const rowLogExpr = spec.rowLogExpr;
  const invNExpr = spec.invNExpr;
  return /* wgsl */ `
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
  let noInterMax = ${c.inter ? 'false' : 'true'};
  let mPrev = ${exp && c.inter ? 'chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk]' : '0.0'};
  let mNext = ${exp && c.inter ? 'chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk + 1u]' : '0.0'};
  ${c.role === 'dk' || c.role === 'dv' ? 'let gChunk = chunkv[bnh * P.NC + chunk];' : ''}

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
  ${c.role === 'fw' ? 'var den: f32 = 0.0;' : ''}

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
    // A = P_rows · Q_tokensᵀ over Y
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
    // gate, causal mask → sS
    for (var i = 0u; i < ${rR}u; i++) {
      let rr = ty + ${TR}u * i;
      let r = r0 + rr;
      for (var j = 0u; j < ${rT}u; j++) {
        let tt = tx + ${TC}u * j;
        let t = t0 + tt;
        var g = 0.0;
        if (r < P.L && t < P.L && ${lower ? 't <= r' : 't >= r'}) {
          g = ${spec.gateExpr('rr', 'tt')};
        }
        sS[rr * bT + tt] = a[i * ${rT}u + j] * g;
      }
    }
    workgroupBarrier();
    ${
      c.role === 'fw'
        ? `if (lid < bR) {
      for (var tt = 0u; tt < bT; tt++) { den += sS[lid * bT + tt]; }
    }`
        : ''
    }
    // Out += S · B over the tile's tokens, B staged bY tokens at a time
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
${c.inter ? interBlock(c, spec, rR, rX) : ''}
${epilogue(c, rR, rX, outName)}
}
`;
}

function interBlock(c: IntraConfig, spec: IntraRoleSpec, rR: number, rX: number): string {
  const { bR, bX, bY } = c.tiles;
  const { stateName, stateIndex } = spec;
  // I operand: fw → q (depth DHQK = DY), dq → dh (DHHV = DY), dk → v (DHHV), dv → k (DHQK)
  const iName = spec.names[0];
  const scale = spec.interScaleExpr('rr');
  return `
  // inter-chunk term: rowScale_r · Σ_y I[r, y] · State[y, x]
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
    ${
      c.role === 'fw'
        ? `// denominator: q̄_r · n_{k-1}
    if (lid < bR) {
      let r = r0 + lid;
      if (r < P.L) {
        let nBase = (bnh * (P.NC + 1u) + chunk) * P.DI;
        var qn = 0.0;
        for (var y = 0u; y < P.DI; y++) { qn = fma(f32(${iName}[(seq0 + r) * P.DI + y]), cStates[P.NB * (P.NC + 1u) * P.DI * P.DX + nBase + y], qn); }
        den += P.gateScale * exp(mPrev + rLog[lid]) * qn;
      }
    }`
        : ''
    }
  }`;
}

function epilogue(c: IntraConfig, rR: number, rX: number, outName: string): string {
  const exp = c.variant === 'exp';
  if (c.role !== 'fw') {
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
  // n_out = max(|den|, lower bound): exp(-mComb) for mLSTMexp, 1 for mLSTMsig; every x-tile
  // workgroup has its own copy of the row sums, x-tile 0 stores n_out and mComb for the backward
  return `
  workgroupBarrier();
  if (lid < bR) {
    let r = r0 + lid;
    ${exp ? 'let mC = gates[seq0 + min(r, P.L - 1u)] - rLog[lid];' : 'let mC = 0.0;'}
    let nO = ${normalised ? `max(abs(den), ${exp ? 'exp(-mC)' : '1.0'})` : '1.0'};
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
    let inv = ${normalised ? '1.0 / (rDen[rr] + P.eps)' : '1.0'};
    for (var j = 0u; j < ${rX}u; j++) {
      let x = x0 + tx + ${TC}u * j;
      if (x < P.DX) { h[(seq0 + r) * P.DX + x] = elem(acc[i * ${rX}u + j] * inv); }
    }
  }`;
}
