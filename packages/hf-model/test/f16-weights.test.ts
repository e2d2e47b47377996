/**
 * f16 weight storage follows the kernels' f16 policy: a checkpoint weight beyond ±65 504 (possible
 * in BF16 / F32 checkpoints) is saturated, not stored as Inf, and a context created with
 * `countF16Saturation` counts it; f32 storage keeps it (README: Limits).
 */
import { type GpuContext, getGpuContext } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeSafetensorsF32, XlstmForCausalLM } from '../src/index.js';
import { checkpointTensors, configJson } from './helpers.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await getGpuContext({ countF16Saturation: true });
});
afterAll(() => ctx?.destroy());

describe('f16 weights and the saturation counter', () => {
  // [weightDtype, saturations counted]: 3 embedding values beyond the f16 range, one exactly at it
  test.for([
    ['f16', 3],
    ['f32', 0],
  ] as const)('weightDtype %s counts %i', async ([weightDtype, want], t) => {
    if (weightDtype === 'f16' && !ctx.features.shaderF16) return t.skip();
    const w = await checkpointTensors('single');
    const name = Object.keys(w).find((n) => n.endsWith('embeddings.weight') || n === 'embedding.weight');
    expect(name).toBeDefined();
    const e = w[name as string].data;
    [e[0], e[1], e[2], e[3]] = [1e5, -2e5, 65505, 65504];
    const files = {
      'config.json': JSON.stringify(configJson('single')),
      'model.safetensors': writeSafetensorsF32(w),
    };
    ctx.resetF16Saturations();
    const m = await XlstmForCausalLM.fromPretrained({ files }, { device: 'webgpu', gpu: ctx, weightDtype });
    try {
      expect(m.weightDtype).toBe(weightDtype);
      expect(await ctx.f16Saturations()).toBe(want);
    } finally {
      m.dispose();
    }
  });
});
