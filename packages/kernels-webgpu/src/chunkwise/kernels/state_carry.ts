/**
 * The carry of the matrix-unit state scan (second half after {@link ./chunk_products.ts}):
 * element-wise over the state, sequential over chunks. It reads the per-chunk products from the
 * f32 stack and writes the states to their f16 copy (below); in the f32 stack it overwrites only
 * the final slot (the last state, fw; dC_0, bw), which is all that is read from it afterwards —
 * the other slots keep the products.
 *
 * - forward: C_0 = the initial state or 0; `C_{k+1} = γ_k C_k + ΔC_k` (ΔC_k in slot k+1), the n
 *   section alike;
 * - backward: dC_NC = dC_last (or 0); `dC_k = γ_k dC_{k+1} + ΔdC_k` (ΔdC_k in slot k) for k = NC−1 … 0,
 *
 * with `γ_k = exp(g_k + m_k − m_{k+1})` (m ≡ 0 for mLSTMsig). One invocation per state element
 * of one b·head: memory-bound, coalesced.
 *
 * It also writes the f16 copy the matrix-unit intra kernels read their state operand from
 * (`states16`): every C (or dC) element rounded to f16 (clamped to ±65504, the f16 range), then
 * (fw) the n section as f32 split into two f16 halves (`bitcast`), so one `array<f16>` binding
 * carries both.
 *
 * Bindings: chunkv cInit nInit | states states16 (fw); chunkv dcLast (unused) | states states16 (bw).
 */
import { defineParams } from '../../device/params.js';
import type { Variant } from './intra.js';

export const carryParams = defineParams({
  NC: 'u32',
  DYX: 'u32', // DHQK · DHHV
  DY: 'u32', // DHQK
  E: 'u32', // elements per head: DYX (+ DY for the forward's n)
  count: 'u32', // NB · E
  NB: 'u32',
  hasInit: 'u32',
});

export const CARRY_WG = 256;

/** f16 elements of the `states16` copy: all C slots, then (fw) the n slots as f16 pairs. */
export function states16Size(
  NB: number,
  NC: number,
  DHQK: number,
  DHHV: number,
  direction: 'fw' | 'bw',
): number {
  return NB * (NC + 1) * (DHQK * DHHV + (direction === 'fw' ? 2 * DHQK : 0));
}

export function carryKey(direction: 'fw' | 'bw', variant: Variant): string {
  return `state-carry:${direction}:${variant}`;
}

export function carryWgsl(direction: 'fw' | 'bw', variant: Variant): string {
  const fw = direction === 'fw';
  const exp = variant === 'exp';
  const gamma = (k: string) =>
    exp
      ? `exp(chunkv[bnh * P.NC + ${k}] + chunkv[2u * P.NB * P.NC + mBase + ${k}] - chunkv[2u * P.NB * P.NC + mBase + ${k} + 1u])`
      : `exp(chunkv[bnh * P.NC + ${k}])`;
  return /* wgsl */ `enable f16;
${carryParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> chunkv: array<f32>;
@group(0) @binding(2) var<storage, read> init: array<f32>;
@group(0) @binding(3) var<storage, read> nInit: array<f32>;
@group(0) @binding(4) var<storage, read_write> states: array<f32>;
@group(0) @binding(5) var<storage, read_write> states16: array<f16>;

fn put16(slot: u32, e: u32, v: f32) {
  if (e < P.DYX) {
    states16[slot * P.DYX + e] = f16(clamp(v, -65504.0, 65504.0));
  } else {
    let at = P.NB * (P.NC + 1u) * P.DYX + 2u * (slot * P.DY + e - P.DYX);
    let h2 = bitcast<vec2<f16>>(v);
    states16[at] = h2.x;
    states16[at + 1u] = h2.y;
  }
}

@compute @workgroup_size(${CARRY_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${CARRY_WG}u + lid;
  if (idx >= P.count) { return; }
  let bnh = idx / P.E;
  let e = idx % P.E;
  let mBase = bnh * (P.NC + 1u);
  // state e of slot s: C elements (DYX per slot), then (fw) the n section (DY per slot)
  let isN = e >= P.DYX;
  let base = select(mBase * P.DYX + e, P.NB * (P.NC + 1u) * P.DYX + mBase * P.DY + (e - P.DYX), isN);
  let stride = select(P.DYX, P.DY, isN);
  var cur = 0.0;
  if (P.hasInit != 0u) {
    if (isN) { cur = nInit[bnh * P.DY + (e - P.DYX)]; } else { cur = init[bnh * P.DYX + e]; }
  }
${
  fw
    ? `  put16(mBase, e, cur);
  for (var k = 0u; k < P.NC; k++) {
    let at = base + (k + 1u) * stride;
    cur = fma(${gamma('k')}, cur, states[at]);
    put16(mBase + k + 1u, e, cur);
  }
  states[base + P.NC * stride] = cur;`
    : `  put16(mBase + P.NC, e, cur);
  for (var j = 0u; j < P.NC; j++) {
    let k = P.NC - 1u - j;
    let at = base + k * stride;
    cur = fma(${gamma('k')}, cur, states[at]);
    put16(mBase + k, e, cur);
  }
  states[base] = cur;`
}
}
`;
}
