import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GpuContext, getGpuContext, KernelArgumentError, packF16, unpackF16 } from '../src/index.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await getGpuContext();
});
afterAll(() => ctx?.destroy());

describe('device', () => {
  it('reports adapter, features and limits', () => {
    const text = ctx.describe();
    console.log(text);
    expect(text).toMatch(/adapter: /);
    expect(ctx.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
  });

  it('round-trips f32 and f16 tensors through the pool without leaking', async () => {
    const before = ctx.pool.stats.liveBytes;
    const data = Float32Array.from({ length: 37 }, (_, x) => x * 0.25 - 3);
    const t = ctx.upload(data, [37]);
    expect(Array.from(await ctx.read(t))).toEqual(Array.from(data));
    t.release();
    if (ctx.features.shaderF16) {
      const h = ctx.upload(data, [37], 'f16');
      expect(Array.from(await ctx.read(h))).toEqual(Array.from(unpackF16(packF16(data), 37)));
      h.release();
    }
    expect(ctx.pool.stats.liveBytes).toBe(before);
  });

  it('rejects a released tensor and a wrong data length', () => {
    const t = ctx.zeros([4]);
    t.release();
    expect(() => t.buffer).toThrow(KernelArgumentError);
    expect(() => ctx.upload([1, 2, 3], [4])).toThrow(/data: expected 4 elements/);
  });
});
