/**
 * The matrix-unit (subgroup-matrix) path. CI's lavapipe has no subgroup matrices, so here:
 * - the generated WGSL of every matrix-unit kernel configuration (sgmat-configs.ts) is compiled by
 *   the adapter's WGSL compiler with the subgroup-matrix builtins replaced by plain stand-in
 *   functions (catches every type, name and binding error outside the builtins themselves);
 *   wgsl-snapshots.test.ts compares the same WGSL with the committed snapshots;
 * - the element-wise state carry (no matrix units) runs for real against a float64 twin;
 * - the selection rules (adapter features, shapes, tuning).
 * Numerical correctness of the matrix-unit kernels is checked on a GPU with subgroup matrices by
 * the GPU test project (test-gpu/matrix-path.gpu.ts, `pnpm test:gpu`).
 */
import { Rng } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import { carryingScan } from '../src/chunkwise/kernels/chunk_products.js';
import type { Variant } from '../src/chunkwise/kernels/intra.js';
import {
  sgmatIntraFits,
  sgmatSupported,
  sgmatTileX,
  sgmatUnsupportedReason,
  sgmatWalksRowTiles,
  sgmatWgsl,
} from '../src/chunkwise/kernels/intra_sgmat.js';
import {
  boundsKey,
  boundsLaunch,
  boundsWgsl,
  CARRY_WG,
  carryKey,
  carryLaunch,
  carryWgsl,
  states16Size,
} from '../src/chunkwise/kernels/state_carry.js';
import { packF16, unpackF16 } from '../src/index.js';
import { cdiv } from '../src/wgsl/common.js';
import { openGpuContext, withLimits } from './helpers.js';
import { useMatrixPath } from '../src/chunkwise/tfla.js';
import { matrixLoadsWgsl, type OperandSource } from '../scripts/matrix-loads-wgsl.js';
import { matrixPathConfigs } from './sgmat-configs.js';
import { stubSubgroupMatrix } from './sgmat-stub.js';

const operandSources: OperandSource[] = ['shared-row', 'shared-col', 'storage-row', 'storage-col'];

const ctx = await openGpuContext();

async function compileErrors(code: string): Promise<string[]> {
  // in an error scope: a broken module must not surface later as the context's uncaptured error
  ctx.device.pushErrorScope('validation');
  const module = ctx.device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  await ctx.device.popErrorScope();
  return info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
}

const canCompile = ctx.features.shaderF16 && ctx.features.subgroups;

describe.skipIf(!canCompile)('matrix-unit kernels: WGSL compiles with stand-in builtins', () => {
  it('the stand-in rewrite leaves no subgroup-matrix builtin behind', () => {
    const code = stubSubgroupMatrix(
      sgmatWgsl({ role: 'fw', variant: 'exp', normalize: true, inter: true, bX: 256 }),
    );
    expect(code).not.toMatch(/subgroup_matrix|subgroupMatrix/);
    expect(code).toContain('sgMma(');
  });
  for (const c of matrixPathConfigs().filter((x) => x.matrix)) {
    it(c.title, async () => {
      expect(await compileErrors(stubSubgroupMatrix(c.wgsl()))).toEqual([]);
    });
  }
  for (const left of operandSources) {
    for (const right of operandSources) {
      it(`operand-path micro-benchmark: left ${left}, right ${right}`, async () => {
        expect(await compileErrors(stubSubgroupMatrix(matrixLoadsWgsl(left, right)))).toEqual([]);
      });
    }
  }
  it('operand-path micro-benchmark: hoisted loads, barrier per step', async () => {
    for (const opts of [{ hoist: true }, { barrier: true }])
      expect(
        await compileErrors(stubSubgroupMatrix(matrixLoadsWgsl('shared-row', 'storage-row', opts))),
      ).toEqual([]);
    expect(await compileErrors(stubSubgroupMatrix(matrixLoadsWgsl('shared-block', 'shared-block')))).toEqual(
      [],
    );
  });
  it('a broken kernel is reported (the check can fail)', async () => {
    const code = sgmatWgsl({ role: 'dk', variant: 'exp', normalize: true, inter: true, bX: 128 });
    expect(code).toContain('let rg = sg / 4u;');
    const broken = stubSubgroupMatrix(code).replace('let rg = sg / 4u;', 'let rg = sg / 4.0;');
    expect((await compileErrors(broken)).length).toBeGreaterThan(0);
  });
});

describe('matrix-unit path: selection rules', () => {
  const h100 = {
    subgroupMatrix: true,
    subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 }],
    subgroupMinSize: 32,
    subgroupMaxSize: 32,
    shaderF16: true,
    subgroups: true,
  };
  it('needs f16→f32 16×16×16 matrices, shader-f16, the subgroups feature and 32-lane subgroups', () => {
    expect(sgmatSupported(h100)).toBe(true);
    expect(sgmatSupported({ ...h100, subgroups: false })).toBe(false);
    expect(sgmatUnsupportedReason({ ...h100, subgroups: false })).toMatch(/subgroups feature/);
    expect(sgmatUnsupportedReason({ ...h100, subgroupMinSize: 16 })).toMatch(/exactly 32/);
    expect(sgmatSupported({ ...h100, subgroupMatrix: false })).toBe(false);
    expect(sgmatSupported({ ...h100, shaderF16: false })).toBe(false);
    expect(sgmatSupported({ ...h100, subgroupMinSize: 16 })).toBe(false);
    expect(sgmatSupported({ ...h100, subgroupMaxSize: 64, subgroupMinSize: 64 })).toBe(false);
    expect(
      sgmatSupported({
        ...h100,
        subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 }],
      }),
    ).toBe(false);
    expect(sgmatSupported(ctx.features)).toBe(ctx.features.subgroupMatrix && sgmatSupported(ctx.features));
  });
  it('a call takes the matrix units only in f16, when asked, on such an adapter, for shapes that fit', () => {
    const fake = withLimits(Object.create(ctx, { features: { value: { ...ctx.features, ...h100 } } }), {
      maxComputeWorkgroupStorageSize: 49152,
    });
    const d = { B: 1, NH: 2, S: 512, DHQK: 128, DHHV: 256 };
    const o = {
      variant: 'exp' as const,
      normalize: true,
      chunkSize: 128,
      eps: 1e-6,
      dtype: 'f16' as const,
      inter: true,
    };
    expect(useMatrixPath(fake, d, o)).toBe(true);
    expect(useMatrixPath(ctx, d, o)).toBe(sgmatSupported(ctx.features));
    expect(useMatrixPath(fake, d, { ...o, dtype: 'f32' })).toBe(false);
    expect(useMatrixPath(fake, d, { ...o, subgroupMatrix: false })).toBe(false);
    expect(useMatrixPath(fake, d, { ...o, tiles: { intra: { bR: 32, bT: 32, bX: 128, bY: 16 } } })).toBe(
      false,
    );
    expect(useMatrixPath(fake, d, { ...o, chunkSize: 96, inter: true })).toBe(false);
    expect(useMatrixPath(fake, { ...d, DHQK: 96 }, o)).toBe(false);
    // the parallel kernel (one chunk, no states) needs no chunk products
    expect(useMatrixPath(fake, { ...d, DHQK: 64 }, { ...o, chunkSize: 512, inter: false })).toBe(true);
  });
  it('workgroups walk the row tiles of a chunk for fw, dQ, dK of chunkwise calls with ≤ 2 row tiles', () => {
    expect(sgmatWalksRowTiles('fw', true, 2)).toBe(true);
    expect(sgmatWalksRowTiles('dq', true, 1)).toBe(true);
    expect(sgmatWalksRowTiles('dk', true, 2)).toBe(true);
    expect(sgmatWalksRowTiles('dv', true, 2)).toBe(false);
    expect(sgmatWalksRowTiles('fw', false, 2)).toBe(false); // the parallel kernel
    expect(sgmatWalksRowTiles('fw', true, 4)).toBe(false); // chunk 256
  });
  it('runs the scan as one carrying kernel, in segments when the heads alone give too few workgroups', () => {
    // const-token suite (65 536 tokens, NH 16, 128 × 256, chunk 128): S 8192 → 128 heads → 256 workgroups
    expect(carryingScan(128, 128, 256, 64)).toEqual({ bX: 256, segs: 1 });
    expect(carryingScan(64, 128, 256, 128)).toEqual({ bX: 256, segs: 1 }); // S 16 384: 128 workgroups
    expect(carryingScan(32, 128, 256, 256)).toEqual({ bX: 256, segs: 2 }); // S 32 768
    expect(carryingScan(16, 128, 256, 512)).toEqual({ bX: 256, segs: 4 }); // S 65 536
    expect(carryingScan(2048, 128, 256, 4)).toEqual({ bX: 256, segs: 1 }); // S 512
    // too few chunks to split: the products plus the carry
    expect(carryingScan(1, 128, 256, 16)).toBeNull();
    expect(carryingScan(512, 64, 128, 8)).toBeNull(); // DHHV not a multiple of the tile
    expect(carryingScan(4096, 96, 256, 8)).toBeNull();
  });
  it("the scan layout follows the call's tuning (immutable options, no module state)", () => {
    expect(carryingScan(128, 128, 256, 64, { scan: 'products' })).toBeNull();
    expect(carryingScan(1, 128, 256, 16, { scan: 'carrying' })).toEqual({ bX: 256, segs: 1 });
    expect(carryingScan(128, 128, 256, 64, { scanSegments: 4 })).toEqual({ bX: 256, segs: 4 });
    expect(carryingScan(128, 128, 256, 6, { scanSegments: 4 })).toBeNull(); // 6 chunks in 4 segments
    expect(carryingScan(128, 128, 256, 64, { scanTileX: 128 })).toEqual({ bX: 128, segs: 1 });
    expect(carryingScan(32, 128, 256, 256, { maxScanSegments: 0 })).toBeNull();
    // the defaults are those of a call without tuning
    expect(carryingScan(32, 128, 256, 256, {})).toEqual(carryingScan(32, 128, 256, 256));
  });
  it('takes chunks of multiples of 64 and head dimensions of multiples of 64', () => {
    expect(sgmatTileX(256)).toBe(256);
    expect(sgmatTileX(512)).toBe(256);
    expect(sgmatTileX(96)).toBe(0);
    expect(sgmatTileX(192)).toBe(192);
    expect(sgmatTileX(320)).toBe(64);
    expect(sgmatTileX(48)).toBe(0);
    const dims = { DY: 128, DX: 256, DI: 128 };
    expect(sgmatIntraFits(128, dims, true, 49152)).toBe(true);
    expect(sgmatIntraFits(96, dims, true, 49152)).toBe(false);
    expect(sgmatIntraFits(128, { ...dims, DX: 48 }, true, 49152)).toBe(false);
    expect(sgmatIntraFits(128, { ...dims, DI: 48 }, true, 49152)).toBe(false);
    expect(sgmatIntraFits(128, { ...dims, DI: 48 }, false, 49152)).toBe(true);
    expect(sgmatIntraFits(128, { ...dims, DY: 96 }, true, 49152)).toBe(false);
    expect(sgmatIntraFits(128, dims, true, 16384)).toBe(false);
  });
});

describe('state carry (element-wise half of the matrix-unit scan)', () => {
  for (const direction of ['fw', 'bw'] as const) {
    for (const variant of ['exp', 'sig'] as Variant[]) {
      for (const hasInit of [false, true]) {
        it(`${direction} ${variant}${hasInit ? ' with initial state' : ''} matches the float64 recurrence`, async () => {
          const rng = new Rng(11);
          const [NB, NC, DY, DX] = [3, 5, 4, 6];
          const DYX = DY * DX;
          const E = DYX + (direction === 'fw' ? DY : 0);
          const nSlots = NB * (NC + 1);
          const u = () => rng.uniform() * 2 - 1;
          // chunkv = g (NB·NC) | pmax_L (NB·NC, unused) | m (NB·(NC+1))
          const chunkv = Float32Array.from({ length: 2 * NB * NC + NB * (NC + 1) }, u);
          const init = Float32Array.from({ length: NB * DYX }, u);
          const nInit = Float32Array.from({ length: NB * DY }, u);
          // the f16 stack as the chunk products leave it: ΔC in f16, then (fw) Δn as f32 bits in f16 pairs
          const dC = unpackF16(packF16(Float32Array.from({ length: nSlots * DYX }, u)));
          const dn = Float32Array.from({ length: direction === 'fw' ? nSlots * DY : 0 }, u);
          const raw = new Uint16Array(states16Size(NB, NC, DY, DX, direction));
          raw.set(packF16(dC).subarray(0, dC.length));
          raw.set(new Uint16Array(dn.buffer), nSlots * DYX);
          const gamma = (b: number, k: number) => {
            const g = chunkv[b * NC + k];
            if (variant === 'sig') return Math.exp(g);
            const m = (j: number) => chunkv[2 * NB * NC + b * (NC + 1) + j];
            return Math.exp(g + m(k) - m(k + 1));
          };
          // float64 twin: every slot's state, and the final one
          const states = new Float64Array(nSlots * E);
          const final = new Float64Array(NB * E);
          for (let b = 0; b < NB; b++) {
            for (let e = 0; e < E; e++) {
              const isN = e >= DYX;
              const input = (slot: number) =>
                isN ? dn[(b * (NC + 1) + slot) * DY + e - DYX] : dC[(b * (NC + 1) + slot) * DYX + e];
              let cur = hasInit ? (isN ? nInit[b * DY + e - DYX] : init[b * DYX + e]) : 0;
              const put = (slot: number) => {
                states[(b * (NC + 1) + slot) * E + e] = cur;
              };
              if (direction === 'fw') {
                put(0);
                for (let k = 0; k < NC; k++) {
                  cur = gamma(b, k) * cur + input(k + 1);
                  put(k + 1);
                }
              } else {
                put(NC);
                for (let k = NC - 1; k >= 0; k--) {
                  cur = gamma(b, k) * cur + input(k);
                  put(k);
                }
              }
              final[isN ? NB * DYX + b * DY + e - DYX : b * DYX + e] = cur;
            }
          }
          // the raw f16 stack travels as an f32 tensor of the same bytes (bindings are untyped)
          const t16 = ctx.upload(new Float32Array(raw.buffer), [raw.length / 2]);
          const launch = carryLaunch(NB, NC, DY, DX, direction, hasInit);
          const tChunkv = ctx.upload(chunkv, [chunkv.length]);
          const tInit = ctx.upload(init, [init.length]);
          const tNInit = ctx.upload(nInit, [nInit.length]);
          const tLast = ctx.zeros([NB * E]);
          ctx
            .batch()
            .dispatch(
              ctx.pipeline(carryKey(direction, variant), () => carryWgsl(direction, variant), [
                'uniform',
                'read',
                'read',
                'read',
                'rw',
                'rw',
              ]),
              [tChunkv, tInit, tNInit, tLast, t16],
              launch.params,
              [cdiv(launch.invocations, CARRY_WG), 1],
            )
            .submit();
          const got16 = new Uint16Array((await ctx.read(t16)).buffer);
          const last = await ctx.read(tLast);
          for (const t of [tChunkv, tInit, tNInit, t16, tLast]) t.release();
          const gotC = unpackF16(got16.subarray(0, nSlots * DYX));
          const gotN = new Float32Array(new Uint16Array(got16.subarray(nSlots * DYX)).buffer);
          let scale = 0;
          for (const x of states) scale = Math.max(scale, Math.abs(x));
          let worst16 = 0;
          let worst32 = 0;
          for (let b = 0; b < NB; b++) {
            for (let slot = 0; slot <= NC; slot++) {
              for (let e = 0; e < E; e++) {
                const want = states[(b * (NC + 1) + slot) * E + e];
                if (e < DYX) {
                  const got = gotC[(b * (NC + 1) + slot) * DYX + e];
                  // beyond the f16 rounding (half an ulp, 2⁻¹¹ relative), what is left is f32 error
                  worst16 = Math.max(worst16, Math.abs(got - want) - 2 ** -11 * Math.abs(want));
                } else {
                  worst32 = Math.max(worst32, Math.abs(gotN[(b * (NC + 1) + slot) * DY + e - DYX] - want));
                }
              }
            }
          }
          for (let x = 0; x < final.length; x++) worst32 = Math.max(worst32, Math.abs(last[x] - final[x]));
          // C in f16: round-to-nearest of the f32 state (≤ 2⁻¹¹ relative) plus the f32 error below
          expect(worst16 / scale).toBeLessThan(1e-6);
          // f32 (n bits, final state): an fma chain of NC = 5 steps with |γ| ≤ e², a few ulps
          expect(worst32 / scale).toBeLessThan(1e-6);
        });
      }
    }
  }
});

describe('carry across the segments of the segmented carrying scan (element-wise)', () => {
  for (const direction of ['fw', 'bw'] as const) {
    for (const segs of [2, 4]) {
      it(`${direction}, ${segs} segments: every slot of the inexact segments gets the float64 recurrence`, async () => {
        const rng = new Rng(segs * 7 + (direction === 'fw' ? 1 : 2));
        const [NB, W, DY, DX] = [3, 3, 4, 8];
        const NC = segs * W;
        const DYX = DY * DX;
        const E = DYX + (direction === 'fw' ? DY : 0);
        const nSlots = NB * (NC + 1);
        const u = () => rng.uniform() * 2 - 1;
        // the local states as the carrying kernel leaves them: C in f16, then (fw) n as f32 bits
        const C = unpackF16(packF16(Float32Array.from({ length: nSlots * DYX }, u)));
        const n = Float32Array.from({ length: direction === 'fw' ? nSlots * DY : 0 }, u);
        const raw = new Uint16Array(states16Size(NB, NC, DY, DX, direction));
        raw.set(packF16(C).subarray(0, C.length));
        raw.set(new Uint16Array(n.buffer), nSlots * DYX);
        const gammas = Float32Array.from({ length: nSlots }, () => rng.uniform() * 1.5);
        // float64 twin
        const want = new Float64Array(nSlots * E);
        const final = new Float64Array(NB * E);
        for (let b = 0; b < NB; b++) {
          for (let e = 0; e < E; e++) {
            const isN = e >= DYX;
            const at = (slot: number) => (b * (NC + 1) + slot) * E + e;
            const local = (slot: number) =>
              isN ? n[(b * (NC + 1) + slot) * DY + e - DYX] : C[(b * (NC + 1) + slot) * DYX + e];
            for (let slot = 0; slot <= NC; slot++) want[at(slot)] = local(slot);
            // the slots after (fw) / before (bw) the exact segment, in recurrence order
            const order =
              direction === 'fw'
                ? Array.from({ length: (segs - 1) * W }, (_, t) => W + 1 + t)
                : Array.from({ length: (segs - 1) * W }, (_, t) => (segs - 1) * W - 1 - t);
            let bound = local(direction === 'fw' ? W : (segs - 1) * W);
            let cur = bound;
            for (const slot of order) {
              cur = local(slot) + gammas[b * (NC + 1) + slot] * bound;
              want[at(slot)] = cur;
              if (slot % W === 0) bound = cur;
            }
            final[isN ? NB * DYX + b * DY + e - DYX : b * DYX + e] = cur;
          }
        }
        const t16 = ctx.upload(new Float32Array(raw.buffer), [raw.length / 2]);
        const tG = ctx.upload(gammas, [gammas.length]);
        const tLast = ctx.zeros([NB * E]);
        const launch = boundsLaunch(NB, NC, DY, DX, direction, segs, true);
        ctx
          .batch()
          .dispatch(
            ctx.pipeline(boundsKey(direction), () => boundsWgsl(direction), ['uniform', 'read', 'rw', 'rw']),
            [tG, tLast, t16],
            launch.params,
            [cdiv(launch.invocations, CARRY_WG), 1],
          )
          .submit();
        const got16 = new Uint16Array((await ctx.read(t16)).buffer);
        const last = await ctx.read(tLast);
        for (const t of [t16, tG, tLast]) t.release();
        const gotC = unpackF16(got16.subarray(0, nSlots * DYX));
        const gotN = new Float32Array(new Uint16Array(got16.subarray(nSlots * DYX)).buffer);
        let worst = 0;
        for (let b = 0; b < NB; b++)
          for (let slot = 0; slot <= NC; slot++)
            for (let e = 0; e < E; e++) {
              const w = want[(b * (NC + 1) + slot) * E + e];
              const got =
                e < DYX ? gotC[(b * (NC + 1) + slot) * DYX + e] : gotN[(b * (NC + 1) + slot) * DY + e - DYX];
              // C in f16: half an ulp (2⁻¹¹ relative) of rounding; n in f32
              worst = Math.max(worst, Math.abs(got - w) - (e < DYX ? 2 ** -11 * Math.abs(w) : 0));
            }
        for (let x = 0; x < final.length; x++) worst = Math.max(worst, Math.abs(last[x] - final[x]));
        // a few f32 ulps: values |·| ≲ 10 after up to 9 fma steps with |Γ| ≤ 1.5
        expect(worst).toBeLessThan(1e-5);
      });
    }
  }
});
