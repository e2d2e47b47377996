/**
 * Selection of the matrix-unit (subgroup-matrix) path with a way back: the one-time probe that
 * compiles the matrix pipelines in an error scope, the fallback to the register-tiled kernels when
 * it fails, and `explainPlan`. CI's lavapipe has no subgroup matrices, so the context is seen
 * here with the features of an H100 (`Object.create`, as in sgmat.test.ts): the probe then really
 * compiles the matrix WGSL on lavapipe, which rejects it — the failure a user meets on a Dawn,
 * browser or driver that does not take these builtins — and the calls must still compute.
 */
import { mlstmChunkwise, mlstmChunkwiseBackward, type Tensor } from '@mlstm/core-reference';
import { Rng } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../src/device/context.js';
import {
  ensureMatrixProbe,
  explainPlan,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  XL_CHUNK,
} from '../src/index.js';
import { LIMIT_HEADDIM } from '../src/parallel/limit_headdim.js';
import { openGpuContext, withLimits } from './helpers.js';
import { stubSubgroupMatrix } from './sgmat-stub.js';
import { expectNear, randomProblem, roundedToF16 } from './tfla-helpers.js';

const ctx = await openGpuContext();
const h100 = {
  subgroupMatrix: true,
  subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 }],
  subgroupMinSize: 32,
  subgroupMaxSize: 32,
  shaderF16: true,
  subgroups: true,
};

/** The context seen with an H100's features and workgroup memory, and these creation options. */
function asH100(options: Record<string, unknown> = {}): GpuContext {
  const base = Object.create(ctx, {
    features: { value: { ...ctx.features, ...h100 } },
    createdWith: { value: { ...ctx.createdWith, ...options } },
  });
  return withLimits(base, { maxComputeWorkgroupStorageSize: 49152 });
}

const shape = { B: 1, NH: 2, S: 128, DHQK: 64, DHHV: 64 };
const canF16 = ctx.features.shaderF16 && ctx.features.subgroups;

describe.skipIf(!canF16)('matrix path: probe and fallback', () => {
  it('before any f16 call the plan says the probe has not run, and picks the matrix units from the features', () => {
    const fake = asH100();
    const plan = explainPlan(fake, XL_CHUNK, shape, { dtype: 'f16', chunkSize: 64 });
    expect(plan.matrixPath.state).toBe('unprobed');
    expect(plan.path).toBe('matrix-units');
    expect(plan.reason).toMatch(/first f16 call probes/);
    expect(plan.scan.kind).toMatch(/carrying|products\+carry/);
    expect(plan.intra.map((x) => x.tiles.bR)).toEqual([64, 64, 64, 64]);
  });
  it('bad arguments raise their typed error before the probe compiles anything', async () => {
    const fake = asH100();
    const p = roundedToF16(randomProblem(new Rng(8), shape));
    await expect(mlstmChunkwiseXlChunk(fake, { ...p.x, chunkSize: 48, dtype: 'f16' })).rejects.toThrow(
      /chunkSize/,
    );
    await expect(
      mlstmChunkwiseXlChunk(fake, { ...p.x, chunkSize: 64, dtype: 'f16', tuning: { scan: 'fast' as never } }),
    ).rejects.toThrow(/tuning\.scan/);
    expect(fake.matrixPath.state).not.toBe('failed');
    expect(fake.matrixPathOf?.features === fake.features).toBe(false);
  });
  it('a probe that fails records why, and an f16 call runs the register-tiled kernels and is right', async () => {
    const fake = asH100();
    const status = await ensureMatrixProbe(fake);
    // lavapipe has no chromium-experimental-subgroup-matrix: its compiler rejects the matrix WGSL
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(/matrix probe/);
    expect(fake.matrixPath).toEqual(status);
    const plan = explainPlan(fake, XL_CHUNK, shape, { dtype: 'f16', chunkSize: 64 });
    expect(plan.path).toBe('register-tiles');
    expect(plan.reason).toMatch(/probe failed/);
    expect(plan.scan.kind).toBe('register-tiled');

    const p = roundedToF16(randomProblem(new Rng(9), shape, { states: true }));
    const args = { ...p.x, ...p.states!, chunkSize: 64, returnLastStates: true, dtype: 'f16' as const };
    const ref = mlstmChunkwise(args);
    const out = await mlstmChunkwiseXlChunk(fake, args);
    // f16 storage, f32 accumulation (tolerances of tfla-sweep.test.ts)
    expectNear(out.h, ref.h, 2e-3, 'h');
    const g = await mlstmChunkwiseXlChunkBackward(fake, { ...args, dh: p.dh });
    const refB = mlstmChunkwiseBackward({ ...args, dh: p.dh }) as unknown as Record<string, Tensor>;
    for (const n of ['dq', 'dk', 'dv', 'di'] as const) expectNear(g[n], refB[n], 1e-2, n);
  });
  it('the probe compiles what it is given (matrixProbeWgsl), and a broken shader fails it', async () => {
    // with stand-in builtins the WGSL gets past the compiler's extension check, and fails only on
    // lavapipe's 32 KiB of workgroup memory (the kernels need 46 KiB): the rewrite was applied
    const stub = await ensureMatrixProbe(asH100({ matrixProbeWgsl: stubSubgroupMatrix }));
    expect(stub.state).toBe('failed');
    expect(stub.reason).toMatch(/workgroup storage/);
    const broken = asH100({ matrixProbeWgsl: (c: string) => `${c}\nfn broken( {` });
    const st = await ensureMatrixProbe(broken);
    expect(st.state).toBe('failed');
    expect(explainPlan(broken, XL_CHUNK, shape, { dtype: 'f16' }).path).toBe('register-tiles');
    // a second call does not probe again
    expect(await ensureMatrixProbe(broken)).toBe(st);
    // the real context (lavapipe) is untouched by its views' probes
    expect(ctx.matrixPath.state).not.toBe('ready');
  });
});

describe('explainPlan: which path, tiles and scan, and why', () => {
  const fake = asH100();
  it('says why the matrix units are not used', () => {
    const f16 = { dtype: 'f16' as const, chunkSize: 64 };
    expect(explainPlan(fake, XL_CHUNK, shape, { chunkSize: 64 }).reason).toMatch(/f32/);
    expect(explainPlan(fake, XL_CHUNK, shape, { ...f16, subgroupMatrix: false }).reason).toMatch(
      /subgroupMatrix: false/,
    );
    // a register-tile override turns the matrix units off, and the plan says so
    const tiles = { intra: { bR: 32, bT: 32, bX: 64, bY: 16 } };
    const t = explainPlan(fake, XL_CHUNK, shape, { ...f16, tiles });
    expect(t.path).toBe('register-tiles');
    expect(t.reason).toMatch(/tiles\.intra override/);
    expect(t.intra[0].tiles).toEqual(tiles.intra);
    expect(explainPlan(fake, XL_CHUNK, shape, { ...f16, tiles: { scan: 32 } }).reason).toMatch(/tiles\.scan/);
    expect(explainPlan(fake, XL_CHUNK, { ...shape, DHQK: 48 }, f16).reason).toMatch(/multiples of 64/);
    expect(explainPlan(fake, XL_CHUNK, shape, { dtype: 'f16', chunkSize: 32 }).reason).toMatch(
      /multiples of 64/,
    );
    expect(explainPlan(ctx, XL_CHUNK, shape, f16).path).toBe(
      ctx.features.subgroupMatrix ? explainPlan(ctx, XL_CHUNK, shape, f16).path : 'register-tiles',
    );
  });
  it('reports the scan layout the tuning gives (forced segments, the products plus the carry)', () => {
    const s = { ...shape, S: 1024 };
    const seg = explainPlan(fake, XL_CHUNK, s, {
      dtype: 'f16',
      chunkSize: 64,
      tuning: { scanSegments: 4, scanTileX: 64 },
    });
    expect(seg.scan).toEqual({ kind: 'carrying', tileX: 64, segments: 4 });
    const prod = explainPlan(fake, XL_CHUNK, s, {
      dtype: 'f16',
      chunkSize: 64,
      tuning: { scan: 'products' },
    });
    expect(prod.scan).toEqual({ kind: 'products+carry', tileX: 64 });
    expect(explainPlan(fake, LIMIT_HEADDIM, s, { dtype: 'f16' }).scan).toEqual({ kind: 'none' });
  });
  it('a tuning with an unknown field or value is a typed error naming it', () => {
    expect(() => explainPlan(fake, XL_CHUNK, shape, { tuning: { scanSegments: -1 } })).toThrow(
      /tuning\.scanSegments/,
    );
    expect(() => explainPlan(fake, XL_CHUNK, shape, { tuning: { nope: 1 } as never })).toThrow(
      /tuning\.nope/,
    );
  });
});
