/**
 * The inter-chunk recurrences of TFLA (spec §5.2 and §4.4), one generator for both:
 *
 * - forward (`fw`): `C_k = γ_k C_{k−1} + Σ_l ā_l k_l v_lᵀ`, `n_k = γ_k n_{k−1} + Σ_l ā_l k_l`
 *   with `γ_k = exp(g_k + m_{k−1} − m_k)`, `ā_l = exp(g_k + u_l − m_k)`; stores every state
 *   `C_0 … C_NC` (float32) for the intra kernels.
 * - backward (`bw`): `dC_{k−1} = γ_k dC_k + Σ_j w_j q_j dh_jᵀ` with
 *   `w_j = κ exp(m_{k−1} + rowLog_j) / (n_j + eps)`, walking the chunks in reverse from
 *   `dC_NC = dC_last` (or 0); stores every `dC_k`.
 *
 * mLSTMsig uses the same code with m ≡ 0. A workgroup of 16×16 threads owns a `bS × bS`
 * tile of the (DHQK × DHHV) state of one b·head and keeps it in registers while it walks the
 * chunks; tokens are staged 16 at a time in workgroup memory. The workgroups of all tiles of all
 * heads are one flat index spread over a 2-D dispatch (`count` of them), so that more than
 * 65 535 heads·tiles fit the per-dimension workgroup limit.
 */
import { defineParams } from '../../device/params.js';
import type { GpuDtype } from '../../device/tensor.js';
import { wgslHeader } from '../../wgsl/common.js';
import type { Variant } from './intra.js';

/** Parameters of both state scans: this kernel and the matrix-unit chunk products. */
export const scanParams = defineParams({
  S: 'u32',
  L: 'u32',
  NC: 'u32',
  DY: 'u32', // DHQK
  DX: 'u32', // DHHV
  nYTiles: 'u32',
  nXTiles: 'u32',
  hasInit: 'u32', // register-tiled scan, carrying chunk products
  writeLast: 'u32', // carrying chunk products: store the last state
  segs: 'u32', // carrying chunk products: segments per head (NC a multiple)
  count: 'u32', // workgroups (flat index of a 2-D dispatch; padding workgroups return)
  T: 'u32', // tokens of all heads (section size of the packed gate vectors)
  NB: 'u32', // heads (B·NH)
  scale: 'f32', // κ (bw)
  eps: 'f32',
});

export interface ScanConfig {
  direction: 'fw' | 'bw';
  variant: Variant;
  normalize: boolean;
  dtype: GpuDtype;
  /** state tile edge (multiple of 16) */
  bS: number;
}

const BTOK = 16;

export function scanKey(c: ScanConfig): string {
  return `scan:${c.direction}:${c.variant}:${c.normalize ? 'n' : 'nn'}:${c.dtype}:${c.bS}`;
}

export function scanWorkgroupBytes(bS: number): number {
  return 4 * 2 * BTOK * bS;
}

/**
 * Per-token weight of the A row of a chunk's product (needs `tok`, `g`, `mPrev`, `mNext`):
 * fw `ā_l = exp(g_k + u_l − m_k)`, bw `w_j = κ exp(m_{k−1} + rowLog_j) / (n_j + eps)`. Shared with
 * the matrix-unit chunk products of chunk_products.ts.
 */
export function scanTokenWeight(c: Pick<ScanConfig, 'direction' | 'variant' | 'normalize'>): string {
  const exp = c.variant === 'exp';
  return c.direction === 'fw'
    ? 'exp(g + gates[P.T + tok] - mNext)'
    : `P.scale * exp(mPrev + ${exp ? '-max(mPrev, gates[2u * P.T + tok])' : 'gates[tok]'}) * ${
        exp || c.normalize ? '(1.0 / (nm[tok] + P.eps))' : '1.0'
      }`;
}

/**
 * Bindings: fw: k v gates chunkv cInit nInit | states (all C_k, then all n_k)
 *           bw: q dh gates chunkv nm dcLast | dcStates
 */
export function scanWgsl(c: ScanConfig): string {
  const { bS } = c;
  const r = bS / 16;
  const fw = c.direction === 'fw';
  const exp = c.variant === 'exp';
  const decl = fw
    ? `@group(0) @binding(1) var<storage, read> A: array<elem>;      // k
@group(0) @binding(2) var<storage, read> Bm: array<elem>;     // v
@group(0) @binding(3) var<storage, read> gates: array<f32>;
@group(0) @binding(4) var<storage, read> chunkv: array<f32>;
@group(0) @binding(5) var<storage, read> sInit: array<f32>;
@group(0) @binding(6) var<storage, read> nInit: array<f32>;
@group(0) @binding(7) var<storage, read_write> states: array<f32>;`
    : `@group(0) @binding(1) var<storage, read> A: array<elem>;      // q
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
  var st: array<f32, ${r * r}>;
  for (var i = 0u; i < ${r}u; i++) {
    for (var j = 0u; j < ${r}u; j++) {
      let y = y0 + ty + 16u * i; let x = x0 + tx + 16u * j;
      var val = 0.0;
      if (P.hasInit != 0u && y < P.DY && x < P.DX) { val = sInit[bnh * DYX + y * P.DX + x]; }
      st[i * ${r}u + j] = val;
    }
  }
  ${
    fw
      ? `let ownsN = xTile == 0u && lid < bS && y0 + lid < P.DY;
  var nv = 0.0;
  if (ownsN && P.hasInit != 0u) { nv = nInit[bnh * P.DY + y0 + lid]; }`
      : ''
  }
  for (var step = 0u; step <= P.NC; step++) {
    // boundary index of the state held now: fw walks 0..NC, bw walks NC..0
    let kb = ${fw ? 'step' : 'P.NC - step'};
    let sBase = (mBase + kb) * DYX;
    for (var i = 0u; i < ${r}u; i++) {
      for (var j = 0u; j < ${r}u; j++) {
        let y = y0 + ty + 16u * i; let x = x0 + tx + 16u * j;
        if (y < P.DY && x < P.DX) { states[sBase + y * P.DX + x] = st[i * ${r}u + j]; }
      }
    }
    ${fw ? 'if (ownsN) { states[P.NB * (P.NC + 1u) * P.DY * P.DX + (mBase + kb) * P.DY + y0 + lid] = nv; }' : ''}
    if (step == P.NC) { break; }
    // the chunk between boundaries kPrev and kPrev + 1
    let chunk = ${fw ? 'kb' : 'kb - 1u'};
    let mPrev = ${exp ? 'chunkv[2u * P.NB * P.NC + mBase + chunk]' : '0.0'};
    let mNext = ${exp ? 'chunkv[2u * P.NB * P.NC + mBase + chunk + 1u]' : '0.0'};
    let g = chunkv[bnh * P.NC + chunk];
    let gamma = exp(g + mPrev - mNext);
    for (var e = 0u; e < ${r * r}u; e++) { st[e] *= gamma; }
    ${fw ? 'nv *= gamma;' : ''}
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
        var av: array<f32, ${r}>;
        for (var i = 0u; i < ${r}u; i++) { av[i] = sA[tt * bS + ty + 16u * i]; }
        for (var j = 0u; j < ${r}u; j++) {
          let bv = sB[tt * bS + tx + 16u * j];
          for (var i = 0u; i < ${r}u; i++) { st[i * ${r}u + j] = fma(av[i], bv, st[i * ${r}u + j]); }
        }
      }
      ${fw ? 'if (ownsN) { for (var tt = 0u; tt < ' + BTOK + 'u; tt++) { nv += sA[tt * bS + lid]; } }' : ''}
    }
  }
}`;
}
