/**
 * The forward intra-chunk kernel of TFLA (role `fw` of {@link ./intra.ts}) on subgroup matrices
 * (Dawn's `chromium-experimental-subgroup-matrix`, f16 operands → f32 accumulators, 16×16×16):
 * the matrix-unit path for f16 storage. Same math, same bindings and parameters as the
 * register-tiled kernel, which stays the fallback for adapters without subgroup matrices.
 *
 * A workgroup of 4 subgroups owns 64 query rows × 64 output columns of one chunk; subgroup s
 * owns rows 16s…16s+15. Per 64-token key tile: S = Q·Kᵀ on the matrix units (Q and K staged
 * as f16 in 32-deep slices), the gate D' applied element-wise in f32 through workgroup memory,
 * then Out += f16(S ⊙ D')·V. The state term q̄·C_{k−1} accumulates into the same matrices
 * (q̄ rows pre-scaled, C staged as f16). The epilogue normalises in f32.
 *
 * Status (H100, Dawn/Vulkan, 2026-11-26): correct (max error 5e-4 of max|h| with f16 storage,
 * like the register-tiled path) but slower — xl_chunk fw 65.5 ms vs 29.2 ms at const-token
 * S = 512 — so it is opt-in (`subgroupMatrix: true`). Suspects: the element-wise gate pass and
 * row sums through workgroup memory, 2-byte global loads, 4 output-column tiles each recomputing
 * Q·Kᵀ, and only 4 subgroups per workgroup. Dawn warns that these builtins are deprecated
 * (renamed upstream); this file is the only place that spells them.
 */
import type { GpuDtype } from '../../device/tensor.js';
import { wgslHeader } from '../../wgsl/common.js';
import { type IntraConfig, type IntraTiles, intraParams } from './intra.js';

/** Fixed tiles of the subgroup-matrix kernel. */
export const SGMAT_TILES: IntraTiles = { bR: 64, bT: 64, bX: 64, bY: 32 };
export const SGMAT_THREADS = 128;

export function sgmatWorkgroupBytes(): number {
  return 2 * (64 * 32 * 2) + 4 * 64 * 64 + 2 * 64 * 64 + 2 * 64 * 64 + 4 * 64 * 5;
}

/** Whether the adapter can run this kernel (f16→f32 16×16×16 config, subgroups dividing 128). */
export function sgmatSupported(
  f: {
    subgroupMatrix: boolean;
    subgroupMatrixConfigs: {
      componentType: string;
      resultComponentType: string;
      M: number;
      N: number;
      K: number;
    }[];
    subgroupMaxSize: number;
    shaderF16: boolean;
  },
  maxWorkgroupBytes: number,
): boolean {
  return (
    f.subgroupMatrix &&
    f.shaderF16 &&
    f.subgroupMaxSize > 0 &&
    SGMAT_THREADS % f.subgroupMaxSize === 0 &&
    SGMAT_THREADS / f.subgroupMaxSize === 4 &&
    sgmatWorkgroupBytes() <= maxWorkgroupBytes &&
    f.subgroupMatrixConfigs.some(
      (c) =>
        c.componentType === 'f16' &&
        c.resultComponentType === 'f32' &&
        c.M === 16 &&
        c.N === 16 &&
        c.K === 16,
    )
  );
}

export function sgmatKey(c: Pick<IntraConfig, 'variant' | 'normalize' | 'inter'>): string {
  return `intra-sgmat:fw:${c.variant}:${c.normalize ? 'n' : 'nn'}:${c.inter ? 'i' : 'ni'}`;
}

const L = 'subgroup_matrix_left<f16, 16, 16>';
const R = 'subgroup_matrix_right<f16, 16, 16>';
const ACC = 'subgroup_matrix_result<f32, 16, 16>';
const J = [0, 1, 2, 3];

/** Bindings as the `fw` role of intra.ts: q k v gates chunkv [states] | h nm. */
export function sgmatWgsl(c: Pick<IntraConfig, 'variant' | 'normalize' | 'inter'>): string {
  const exp = c.variant === 'exp';
  const normalised = exp || c.normalize;
  const dtype: GpuDtype = 'f16';
  let b = 1;
  const decl: string[] = [];
  const ro = (n: string, t: string) =>
    decl.push(`@group(0) @binding(${b++}) var<storage, read> ${n}: array<${t}>;`);
  const rw = (n: string, t: string) =>
    decl.push(`@group(0) @binding(${b++}) var<storage, read_write> ${n}: array<${t}>;`);
  ro('q', 'elem');
  ro('k', 'elem');
  ro('v', 'elem');
  ro('gates', 'f32');
  ro('chunkv', 'f32');
  if (c.inter) ro('cStates', 'f32');
  rw('h', 'elem');
  rw('nm', 'f32');
  const rowLog = exp
    ? `select(-max(mPrev, gates[2u * P.T + tok]), -gates[2u * P.T + tok], ${c.inter ? 'false' : 'true'})`
    : 'gates[tok]';
  return /* wgsl */ `enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium_experimental.subgroup_matrix_uniformity);
${wgslHeader(dtype)}
${intraParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${decl.join('\n')}

var<workgroup> sQ: array<f16, ${64 * 32}>;  // [r][kk], stride 32
var<workgroup> sK: array<f16, ${64 * 32}>;  // [t][kk], stride 32
var<workgroup> sS: array<f32, ${64 * 64}>;  // scores [r][t]; epilogue [r][x]
var<workgroup> sP: array<f16, ${64 * 64}>;  // gated scores [r][t]
var<workgroup> sV: array<f16, ${64 * 64}>;  // V [t][x] or a state slice [kk][x], stride 64
var<workgroup> rLog: array<f32, 64>;
var<workgroup> rScale: array<f32, 64>;
var<workgroup> rDen: array<f32, 64>;
var<workgroup> tU: array<f32, 64>;

@compute @workgroup_size(${SGMAT_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
  let xTile = flat % P.nXTiles;
  let rest = flat / P.nXTiles;
  let rTile = rest % P.nRowTiles;
  let rest2 = rest / P.nRowTiles;
  let chunk = rest2 % P.NC;
  let bnh = rest2 / P.NC;
  let r0 = rTile * 64u;
  let x0 = xTile * 64u;
  let seq0 = bnh * P.S + chunk * P.L;
  let mPrev = ${exp && c.inter ? 'chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk]' : '0.0'};
  let row0 = sg * 16u;

  if (lid < 64u) {
    let r = r0 + lid;
    if (r < P.L) {
      let tok = seq0 + r;
      let rl = ${rowLog};
      rLog[lid] = rl;
      rScale[lid] = P.gateScale * exp(mPrev + rl);
    } else {
      rLog[lid] = 0.0;
      rScale[lid] = 0.0;
    }
  }
  var den = 0.0;
${J.map((j) => `  var acc${j} = ${ACC}();`).join('\n')}
  let rEnd = min(r0 + 64u, P.L);
  for (var t0 = 0u; t0 < rEnd; t0 += 64u) {
    workgroupBarrier();
    if (lid < 64u) {
      let t = t0 + lid;
      tU[lid] = select(0.0, gates[P.T + seq0 + min(t, P.L - 1u)], t < P.L);
    }
${J.map((j) => `    var s${j} = ${ACC}();`).join('\n')}
    for (var k0 = 0u; k0 < P.DY; k0 += 32u) {
      workgroupBarrier();
      for (var e = lid; e < ${64 * 32}u; e += ${SGMAT_THREADS}u) {
        let rr = e / 32u; let kk = e % 32u;
        let r = r0 + rr; let t = t0 + rr; let y = k0 + kk;
        sQ[e] = select(f16(0.0), q[(seq0 + min(r, P.L - 1u)) * P.DY + min(y, P.DY - 1u)], r < P.L && y < P.DY);
        sK[e] = select(f16(0.0), k[(seq0 + min(t, P.L - 1u)) * P.DY + min(y, P.DY - 1u)], t < P.L && y < P.DY);
      }
      workgroupBarrier();
      for (var kk = 0u; kk < 32u; kk += 16u) {
        let a = subgroupMatrixLoad<${L}>(&sQ, row0 * 32u + kk, false, 32u);
${J.map((j) => `        s${j} = subgroupMatrixMultiplyAccumulate(a, subgroupMatrixLoad<${R}>(&sK, ${j * 16}u * 32u + kk, true, 32u), s${j});`).join('\n')}
      }
    }
${J.map((j) => `    subgroupMatrixStore(&sS, row0 * 64u + ${j * 16}u, s${j}, false, 64u);`).join('\n')}
    workgroupBarrier();
    // gate D' (causal), f32 → row sums (denominator) and f16 copy for the matrix units
    for (var e = lid; e < ${64 * 64}u; e += ${SGMAT_THREADS}u) {
      let rr = e / 64u; let tt = e % 64u;
      let r = r0 + rr; let t = t0 + tt;
      var val = 0.0;
      if (r < P.L && t < P.L && t <= r) { val = sS[e] * P.gateScale * exp(tU[tt] + rLog[rr]); }
      sS[e] = val;
      sP[e] = f16(val);
    }
    for (var e = lid; e < ${64 * 64}u; e += ${SGMAT_THREADS}u) {
      let tt = e / 64u; let xx = e % 64u;
      let t = t0 + tt; let x = x0 + xx;
      sV[e] = select(f16(0.0), v[(seq0 + min(t, P.L - 1u)) * P.DX + min(x, P.DX - 1u)], t < P.L && x < P.DX);
    }
    workgroupBarrier();
    if (lid < 64u) {
      for (var tt = 0u; tt < 64u; tt++) { den += sS[lid * 64u + tt]; }
    }
    for (var tt = 0u; tt < 64u; tt += 16u) {
      let a = subgroupMatrixLoad<${L}>(&sP, row0 * 64u + tt, false, 64u);
${J.map((j) => `      acc${j} = subgroupMatrixMultiplyAccumulate(a, subgroupMatrixLoad<${R}>(&sV, tt * 64u + ${j * 16}u, false, 64u), acc${j});`).join('\n')}
    }
  }
${
  c.inter
    ? `  // state term: q̄ · C_{k-1} (q̄ = scale_r · q_r, C staged as f16), same accumulators
  let sBase = (bnh * (P.NC + 1u) + chunk) * P.DI * P.DX;
  for (var k0 = 0u; k0 < P.DI; k0 += 32u) {
    workgroupBarrier();
    for (var e = lid; e < ${64 * 32}u; e += ${SGMAT_THREADS}u) {
      let rr = e / 32u; let kk = e % 32u;
      let r = r0 + rr; let y = k0 + kk;
      var val = 0.0;
      if (r < P.L && y < P.DI) { val = rScale[rr] * f32(q[(seq0 + r) * P.DI + y]); }
      sQ[e] = f16(val);
    }
    for (var e = lid; e < ${32 * 64}u; e += ${SGMAT_THREADS}u) {
      let kk = e / 64u; let xx = e % 64u;
      let y = k0 + kk; let x = x0 + xx;
      var val = 0.0;
      if (y < P.DI && x < P.DX) { val = cStates[sBase + y * P.DX + x]; }
      sV[e] = f16(val);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 32u; kk += 16u) {
      let a = subgroupMatrixLoad<${L}>(&sQ, row0 * 32u + kk, false, 32u);
${J.map((j) => `      acc${j} = subgroupMatrixMultiplyAccumulate(a, subgroupMatrixLoad<${R}>(&sV, kk * 64u + ${j * 16}u, false, 64u), acc${j});`).join('\n')}
    }
  }
  if (lid < 64u) {
    let r = r0 + lid;
    if (r < P.L) {
      let nBase = (bnh * (P.NC + 1u) + chunk) * P.DI;
      var qn = 0.0;
      for (var y = 0u; y < P.DI; y++) { qn = fma(f32(q[(seq0 + r) * P.DI + y]), cStates[P.NB * (P.NC + 1u) * P.DI * P.DX + nBase + y], qn); }
      den += rScale[lid] * qn;
    }
  }`
    : ''
}
  workgroupBarrier();
${J.map((j) => `  subgroupMatrixStore(&sS, row0 * 64u + ${j * 16}u, acc${j}, false, 64u);`).join('\n')}
  if (lid < 64u) {
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
  for (var e = lid; e < ${64 * 64}u; e += ${SGMAT_THREADS}u) {
    let rr = e / 64u; let xx = e % 64u;
    let r = r0 + rr; let x = x0 + xx;
    if (r < P.L && x < P.DX) {
      h[(seq0 + r) * P.DX + x] = elem(sS[e] * ${normalised ? '(1.0 / (rDen[rr] + P.eps))' : '1.0'});
    }
  }
}
`;
}
