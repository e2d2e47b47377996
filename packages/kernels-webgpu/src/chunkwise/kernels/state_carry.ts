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
 * 16 bytes of the state of one b·head (eight f16 of C, or four n), the loads of 4 chunks issued
 * before their stores: memory-bound, coalesced. DHQK must be a multiple of 4 (the matrix-unit path
 * needs 64).
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
  count: 'u32', // invocations: NB · E / 4
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

/** The parameters of a carry dispatch (one invocation per 4 words of a head's slot). */
export function carryLaunch(
  NB: number,
  NC: number,
  DHQK: number,
  DHHV: number,
  direction: 'fw' | 'bw',
  hasInit: boolean,
): { params: ArrayBuffer; invocations: number } {
  if (DHQK % 4 !== 0) throw new Error(`state carry: DHQK = ${DHQK} is not a multiple of 4`);
  const DYX = DHQK * DHHV;
  const E = DYX / 2 + (direction === 'fw' ? DHQK : 0);
  const invocations = (NB * E) / 4;
  return {
    params: carryParams.pack({ NC, DYX, DY: DHQK, E, count: invocations, NB, hasInit: hasInit ? 1 : 0 }),
    invocations,
  };
}

export function carryKey(direction: 'fw' | 'bw', variant: Variant): string {
  return `state-carry:${direction}:${variant}`;
}

const range4 = [0, 1, 2, 3];

const WORD_HELPERS = `// 16 bytes of a slot: eight f16 of C (words w … w+3 < DYX/2) or four n values (f32 bits)
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

/**
 * The entry of both kernels of this file: one invocation per 16 bytes of a head's slot, and the
 * vec4 index `at + slot · perSlot` of those bytes in slot `slot`.
 */
const ELEMENTWISE_ENTRY = `@compute @workgroup_size(${CARRY_WG})
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
    (P.NB * (P.NC + 1u) * half + w - half) / 4u,  // n section (+ slot · DY / 4)
    w / 4u,                                       // C section (+ slot · half / 4)
    isC);
  let perSlot = select(P.DY / 4u, half / 4u, isC);`;

/** The carried state (c0, c1) in f32 to \`last\`: C (all heads) then n (all heads); bw: dC. */
const STORE_LAST = `  if (isC) {
    let o = bnh * P.DYX + 2u * w;
    for (var e = 0u; e < 4u; e++) { last[o + e] = c0[e]; last[o + 4u + e] = c1[e]; }
  } else {
    let o = P.NB * P.DYX + bnh * P.DY + w - half;
    for (var e = 0u; e < 4u; e++) { last[o + e] = c0[e]; }
  }`;

export function carryWgsl(direction: 'fw' | 'bw', variant: Variant): string {
  const fw = direction === 'fw';
  const exp = variant === 'exp';
  const gamma = (k: string) =>
    exp
      ? `exp(chunkv[bnh * P.NC + ${k}] + chunkv[2u * P.NB * P.NC + mBase + ${k}] - chunkv[2u * P.NB * P.NC + mBase + ${k} + 1u])`
      : `exp(chunkv[bnh * P.NC + ${k}])`;
  // 4 chunks per iteration with their 4 loads issued first (a load cannot move above the store of
  // the previous chunk by itself: same buffer), then the remainder one by one
  const slot = (k: string) => (fw ? `mBase + ${k} + 1u` : `mBase + ${k}`);
  const chunk = (j: string) => (fw ? j : `(P.NC - 1u - ${j})`);
  const step = (j: string, x: string) => `{
      let gm = ${gamma(chunk(j))};
      let v = unpackWords(${x}, isC);
      c0 = fma(vec4<f32>(gm), c0, v[0]);
      c1 = fma(vec4<f32>(gm), c1, v[1]);
      states16[at(${slot(chunk(j))})] = packWords(c0, c1, isC);
    }`;
  return /* wgsl */ `enable f16;
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
  states16[at + (${fw ? 'mBase' : 'mBase + P.NC'}) * perSlot] = packWords(c0, c1, isC);
  var j = 0u;
  for (; j + 4u <= P.NC; j += 4u) {
${range4.map((u) => `    let x${u} = states16[at + (${slot(chunk(`(j + ${u}u)`))}) * perSlot];`).join('\n')}
${range4.map((u) => `    ${step(`(j + ${u}u)`, `x${u}`).replace(/at\((.*)\)\] = packWords/, 'at + ($1) * perSlot] = packWords')}`).join('\n')}
  }
  for (; j < P.NC; j++) {
    let x = states16[at + (${slot(chunk('j'))}) * perSlot];
    ${step('j', 'x').replace(/at\((.*)\)\] = packWords/, 'at + ($1) * perSlot] = packWords')}
  }
  // the final state in f32: C (all heads) then n (all heads); bw: dC_0
${STORE_LAST}
}
`;
}

export const boundsParams = defineParams({
  NC: 'u32',
  DYX: 'u32',
  DY: 'u32',
  E: 'u32',
  count: 'u32',
  NB: 'u32',
  segs: 'u32', // segments per head (> 1)
  writeLast: 'u32',
});

/** The parameters of a segment-boundary dispatch (one invocation per 4 words of a head's slot). */
export function boundsLaunch(
  NB: number,
  NC: number,
  DHQK: number,
  DHHV: number,
  direction: 'fw' | 'bw',
  segs: number,
  writeLast: boolean,
): { params: ArrayBuffer; invocations: number } {
  const DYX = DHQK * DHHV;
  const E = DYX / 2 + (direction === 'fw' ? DHQK : 0);
  const invocations = (NB * E) / 4;
  return {
    params: boundsParams.pack({
      NC,
      DYX,
      DY: DHQK,
      E,
      count: invocations,
      NB,
      segs,
      writeLast: writeLast ? 1 : 0,
    }),
    invocations,
  };
}

export function boundsKey(direction: 'fw' | 'bw'): string {
  return `state-bounds:${direction}`;
}

/**
 * The carry across segments, after the carrying chunk products walked each head's chunks in
 * \`segs\` segments of W = NC / segs chunks, every segment but the exact one (the first, fw; the
 * last, bw) from a zero state, leaving local states L. \`gammas[slot]\` holds the product of γ from
 * the segment's start to that slot. Element-wise, sequential over the slots after (fw) or before
 * (bw) the exact segment, in f32 from the f16 local states, in place:
 *
 * - fw: `C_j = L_j + Γ_j · C_{sW}` for the slots j of segment s ≥ 1 (sW < j ≤ (s+1)W);
 * - bw: `dC_j = L_j + Γ_j · dC_{(s+1)W}` for the slots j of segment s ≤ segs − 2.
 *
 * This reads and writes (segs − 1)/segs of the stack. The last state (fw: C_NC then n_NC; bw:
 * dC_0) goes to \`last\` in f32 when asked.
 *
 * Bindings: gammas | last states16.
 */
export function boundsWgsl(direction: 'fw' | 'bw'): string {
  const fw = direction === 'fw';
  // slot j := L_j + g · B, and B moves on at a segment's boundary slot
  const step = (j: string, x: string, g: string) => `{
      let v = unpackWords(${x}, isC);
      c0 = fma(vec4<f32>(${g}), b0, v[0]);
      c1 = fma(vec4<f32>(${g}), b1, v[1]);
      states16[at + (mBase + ${j}) * perSlot] = packWords(c0, c1, isC);
      if (${j} % W == 0u) { b0 = c0; b1 = c1; } // the next segment's boundary
    }`;
  return /* wgsl */ `enable f16;
${boundsParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> gammas: array<f32>;
@group(0) @binding(2) var<storage, read_write> last: array<f32>;
@group(0) @binding(3) var<storage, read_write> states16: array<vec4<u32>>;

${WORD_HELPERS}
${ELEMENTWISE_ENTRY}
  let W = P.NC / P.segs;
  // B: the true state at the current segment's boundary (first: the exact segment's far end)
  var v = unpackWords(states16[at + (mBase + ${fw ? 'W' : '(P.segs - 1u) * W'}) * perSlot], isC);
  var b0 = v[0];
  var b1 = v[1];
  var c0 = b0;
  var c1 = b1;
  let n = (P.segs - 1u) * W;
  var t = 0u;
  // 4 slots per iteration with their loads issued first (a load cannot move above the previous
  // slot's store by itself: same buffer), then the remainder one by one
  for (; t + 4u <= n; t += 4u) {
${range4
  .map(
    (u) => `    let j${u} = ${fw ? `W + 1u + t + ${u}u` : `n - 1u - t - ${u}u`};
    let x${u} = states16[at + (mBase + j${u}) * perSlot];
    let g${u} = gammas[mBase + j${u}];`,
  )
  .join('\n')}
${range4.map((u) => `    ${step(`j${u}`, `x${u}`, `g${u}`)}`).join('\n')}
  }
  for (; t < n; t++) {
    let j = ${fw ? 'W + 1u + t' : 'n - 1u - t'};
    ${step('j', 'states16[at + (mBase + j) * perSlot]', 'gammas[mBase + j]')}
  }
  if (P.writeLast != 0u) {
${STORE_LAST}
  }
}
`;
}
