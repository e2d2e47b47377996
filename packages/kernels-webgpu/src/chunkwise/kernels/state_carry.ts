/**
 * The carry of the matrix-unit state scan (second half after {@link ./chunk_products.ts}):
 * element-wise over the state, sequential over chunks, in place on the f16 state stack
 * (`states16`) that the chunk products filled with the per-chunk products:
 *
 * - forward: C_0 = the initial state or 0; `C_{k+1} = γ_k C_k + ΔC_k` (ΔC_k in slot k+1), the n
 *   section alike;
 * - backward: dC_NC = dC_last (or 0); `dC_k = γ_k dC_{k+1} + ΔdC_k` (ΔdC_k in slot k) for k = NC−1 … 0,
 *
 * with `γ_k = exp(g_k + m_k − m_{k+1})` (m ≡ 0 for mLSTMsig), carried in f32. One invocation per
 * 32-bit word of the state of one b·head (two f16 of C, or one n): memory-bound, coalesced.
 * DHQK·DHHV must be even.
 *
 * `states16` holds every C (or dC) element rounded to f16 (clamped to ±65504, the f16 range),
 * then (fw) the n section as f32 split into two f16 halves (`bitcast`), so that one
 * `array<f16>` binding carries both; the matrix-unit intra kernels read their state operand from
 * it. The final state (fw: C_NC then n_NC; bw: dC_0) is also written in f32 to `last`, for the
 * returned last states, dC_initial and the df correction.
 *
 * Bindings: chunkv cInit nInit | last states16 (fw); chunkv dcLast (unused) | last states16 (bw).
 */
import { defineParams } from '../../device/params.js';
import type { Variant } from './intra.js';

export const carryParams = defineParams({
  NC: 'u32',
  DYX: 'u32', // DHQK · DHHV
  DY: 'u32', // DHQK
  E: 'u32', // 32-bit words per head and slot: DYX / 2 (+ DY for the forward's n)
  count: 'u32', // NB · E
  NB: 'u32',
  hasInit: 'u32',
});

export const CARRY_WG = 256;

/** f16 elements of the `states16` stack: all C slots, then (fw) the n slots as f16 pairs. */
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

const range4 = [0, 1, 2, 3];

export function carryWgsl(direction: 'fw' | 'bw', variant: Variant): string {
  const fw = direction === 'fw';
  const exp = variant === 'exp';
  const gamma = (k: string) =>
    exp
      ? `exp(chunkv[bnh * P.NC + ${k}] + chunkv[2u * P.NB * P.NC + mBase + ${k}] - chunkv[2u * P.NB * P.NC + mBase + ${k} + 1u])`
      : `exp(chunkv[bnh * P.NC + ${k}])`;
  // one invocation per 32-bit word of a slot: two f16 of C, or (fw) one n value (f32 bits); 4
  // chunks per iteration with their 4 loads issued first (a load cannot move above the store of
  // the previous chunk by itself: same buffer), then the remainder one by one
  const slot = (k: string) => (fw ? `mBase + ${k} + 1u` : `mBase + ${k}`);
  const chunk = (j: string) => (fw ? j : `(P.NC - 1u - ${j})`);
  const loop = `var j = 0u;
  for (; j + 4u <= P.NC; j += 4u) {
${range4.map((u) => `    let x${u} = getWord(${slot(chunk(`(j + ${u}u)`))}, w);`).join('\n')}
${range4
  .map(
    (u) => `    cur = fma(vec2<f32>(${gamma(chunk(`(j + ${u}u)`))}), cur, x${u});
    putWord(${slot(chunk(`(j + ${u}u)`))}, w, cur);`,
  )
  .join('\n')}
  }
  for (; j < P.NC; j++) {
    cur = fma(vec2<f32>(${gamma(chunk('j'))}), cur, getWord(${slot(chunk('j'))}, w));
    putWord(${slot(chunk('j'))}, w, cur);
  }`;
  return /* wgsl */ `enable f16;
${carryParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> chunkv: array<f32>;
@group(0) @binding(2) var<storage, read> init: array<f32>;
@group(0) @binding(3) var<storage, read> nInit: array<f32>;
@group(0) @binding(4) var<storage, read_write> last: array<f32>;
@group(0) @binding(5) var<storage, read_write> states16: array<u32>;

// word w of a slot: w < DYX/2 → C elements 2w, 2w+1 (f16); else n element w − DYX/2 (f32 bits)
fn getWord(slot: u32, w: u32) -> vec2<f32> {
  let half = P.DYX / 2u;
  if (w < half) { return vec2<f32>(bitcast<vec2<f16>>(states16[slot * half + w])); }
  return vec2<f32>(bitcast<f32>(states16[P.NB * (P.NC + 1u) * half + slot * P.DY + w - half]), 0.0);
}

fn putWord(slot: u32, w: u32, v: vec2<f32>) {
  let half = P.DYX / 2u;
  if (w < half) {
    states16[slot * half + w] = bitcast<u32>(vec2<f16>(clamp(v, vec2<f32>(-65504.0), vec2<f32>(65504.0))));
  } else {
    states16[P.NB * (P.NC + 1u) * half + slot * P.DY + w - half] = bitcast<u32>(v.x);
  }
}

@compute @workgroup_size(${CARRY_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${CARRY_WG}u + lid;
  if (idx >= P.count) { return; }
  let bnh = idx / P.E;
  let w = idx % P.E;
  let half = P.DYX / 2u;
  let mBase = bnh * (P.NC + 1u);
  var cur = vec2<f32>(0.0);
  if (P.hasInit != 0u) {
    if (w < half) {
      cur = vec2<f32>(init[bnh * P.DYX + 2u * w], init[bnh * P.DYX + 2u * w + 1u]);
    } else {
      cur = vec2<f32>(nInit[bnh * P.DY + w - half], 0.0);
    }
  }
  putWord(${fw ? 'mBase' : 'mBase + P.NC'}, w, cur);
  ${loop}
  // the final state in f32: C (all heads) then n (all heads); bw: dC_0
  if (w < half) {
    last[bnh * P.DYX + 2u * w] = cur.x;
    last[bnh * P.DYX + 2u * w + 1u] = cur.y;
  } else {
    last[P.NB * P.DYX + bnh * P.DY + w - half] = cur.x;
  }
}
`;
}
