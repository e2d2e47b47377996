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

describe('an f16 cell takes its q, k, v in f16 from the prep', () => {
  test('the same logits, bit for bit, as through the conversion passes (which a counting context keeps)', async (t) => {
    if (!ctx.features.shaderF16) return t.skip();
    const plain = await getGpuContext();
    const files = {
      'config.json': JSON.stringify(configJson('single')),
      'model.safetensors': writeSafetensorsF32(await checkpointTensors('single')),
    };
    const opts = { device: 'webgpu', weightDtype: 'f16' } as const;
    const [a, b] = [
      await XlstmForCausalLM.fromPretrained({ files }, { ...opts, gpu: plain }),
      await XlstmForCausalLM.fromPretrained({ files }, { ...opts, gpu: ctx }),
    ];
    try {
      // 70 tokens: whole chunks through the chunkwise cell, the rest by recurrent steps
      const ids = [Array.from({ length: 70 }, (_, i) => (i * 37 + 11) % a.config.vocabSize)];
      const run = async (m: XlstmForCausalLM, c: GpuContext) => {
        c.beginGpuTiming(2048, { perDispatch: true });
        const r = await m.forward(ids);
        const labels = (await c.endGpuTimingLabelled()).map((e) => e.label);
        r.cache.release();
        return { logits: r.logits, labels };
      };
      const [fast, counted] = [await run(a, plain), await run(b, ctx)];
      // the matmuls' x: f16 only where every matmul runs on the matrix units (not on lavapipe),
      // never on a counting context
      const mu = plain.features.subgroupMatrix ? 'f16' : 'f32';
      expect(a.gpuLayout()!.prefillActivations).toBe(mu);
      expect(b.gpuLayout()!.prefillActivations).toBe('f32');
      expect(Array.from(fast.logits)).toEqual(Array.from(counted.logits));
      const count = (l: string[], what: string) => l.filter((x) => x === what).length;
      const blocks = a.config.dims.blocks;
      // through the conversion passes: q, k, v to f16 and h back, per block; from the prep: none
      expect(count(counted.labels, 'cast f32→f16')).toBe(3 * blocks);
      expect(count(counted.labels, 'cast f16→f32')).toBe(blocks);
      expect(count(fast.labels, 'cast f32→f16')).toBe(0);
      expect(count(fast.labels, 'cast f16→f32')).toBe(0);
    } finally {
      a.dispose();
      b.dispose();
      plain.destroy();
    }
  });
});
