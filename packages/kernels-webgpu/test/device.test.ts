import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BufferPool,
  type GpuContext,
  GpuDeviceLostError,
  getGpuContext,
  KernelArgumentError,
  packF16,
  unpackF16,
} from '../src/index.js';

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

  it('takes further Dawn toggles, enabled or (!name) disabled, in a context of its own that computes', async () => {
    const other = await getGpuContext({
      dawnToggles: ['enable_integer_range_analysis_in_robustness', '!vulkan_use_buffer_robust_access_2'],
    });
    try {
      expect(other.device).not.toBe(ctx.device);
      const pipeline = other.pipeline(
        'test:double',
        () => `@group(0) @binding(0) var<uniform> n: vec4u;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < n.x) { x[g.x] = 2.0 * x[g.x]; }
}`,
        ['uniform', 'rw'],
      );
      const t = other.upload(
        Float32Array.from({ length: 100 }, (_, i) => i),
        [100],
      );
      other
        .batch()
        .dispatch(pipeline, [t], new Uint32Array([100, 0, 0, 0]).buffer, [2])
        .submit();
      const got = await other.read(t);
      t.release();
      expect(Array.from(got)).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i));
    } finally {
      other.destroy();
    }
  });

  it('pool: by default keeps released buffers up to the peak working set; a fixed bound destroys beyond it', () => {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
    const run = (pool: BufferPool) => {
      // a "call" with a working set larger than the fixed bound below, done twice
      for (let rep = 0; rep < 2; rep++) {
        const bufs = [pool.acquire(4096, usage), pool.acquire(8192, usage), pool.acquire(16384, usage)];
        for (const b of bufs) pool.release(b);
      }
      return pool.stats;
    };
    const adaptive = run(new BufferPool(ctx.device));
    expect(adaptive.buffersCreated).toBe(3); // the second call reuses all three
    expect(adaptive.reuses).toBe(3);
    const bounded = new BufferPool(ctx.device, 12288);
    const stats = run(bounded);
    expect(stats.buffersCreated).toBeGreaterThan(3); // re-created: the bound is below the working set
    expect(stats.cachedBytes).toBeLessThanOrEqual(12288);
    expect(bounded.cacheLimit).toBe(12288);
    bounded.trim();
  });

  it('pool: over the limit, the least recently released buffers are evicted, not the current working set', () => {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
    const pool = new BufferPool(ctx.device, 12288);
    pool.release(pool.acquire(8192, usage)); // an earlier call's size stays cached…
    const call = () => {
      const bufs = [pool.acquire(4096, usage), pool.acquire(4096, usage)];
      for (const b of bufs) pool.release(b);
    };
    call(); // …until this call's buffers need the room
    const before = pool.stats;
    call();
    call();
    expect(pool.stats.buffersCreated).toBe(before.buffersCreated); // both calls fully reused
    expect(pool.stats.reuses).toBe(before.reuses + 4);
    expect(pool.stats.cachedBytes).toBe(8192);
    pool.trim();
  });

  it('rejects a released tensor and a wrong data length', () => {
    const t = ctx.zeros([4]);
    t.release();
    expect(() => t.buffer).toThrow(KernelArgumentError);
    expect(() => ctx.upload([1, 2, 3], [4])).toThrow(/data: expected 4 elements/);
  });
});

describe('GPU timing', () => {
  it('measures every submitted pass with timestamp-query (a typed error without the feature)', async () => {
    if (!ctx.features.timestampQuery) {
      expect(() => ctx.beginGpuTiming()).toThrow(KernelArgumentError);
      return;
    }
    const pipeline = ctx.pipeline(
      'test:busy',
      () => `@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  var a = x[g.x];
  for (var r = 0u; r < 2000u; r++) { a = fma(a, 0.999, 0.001); }
  x[g.x] = a;
}`,
      ['uniform', 'rw'],
    );
    const buf = ctx.zeros([64 * 64]);
    ctx.beginGpuTiming(8);
    for (let r = 0; r < 3; r++) ctx.batch().dispatch(pipeline, [buf], new ArrayBuffer(16), [64]).submit();
    const times = await ctx.endGpuTiming();
    expect(times).toHaveLength(3);
    for (const t of times) expect(t).toBeGreaterThan(0);
    // per-dispatch timing: one labelled pass per dispatch
    ctx.beginGpuTiming(8, { perDispatch: true });
    ctx
      .batch()
      .dispatch(pipeline, [buf], new ArrayBuffer(16), [64], 'a')
      .dispatch(pipeline, [buf], new ArrayBuffer(16), [64], 'b')
      .submit();
    const labelled = await ctx.endGpuTimingLabelled();
    expect(labelled.map((e) => e.label)).toEqual(['a', 'b']);
    // more passes than the session holds: a typed error, not a partial sum
    ctx.beginGpuTiming(1);
    for (let r = 0; r < 2; r++) ctx.batch().dispatch(pipeline, [buf], new ArrayBuffer(16), [64]).submit();
    await expect(ctx.endGpuTiming()).rejects.toThrow(/maxPasses: expected at least 2/);
    const x = await ctx.read(buf);
    expect(x[0]).toBeCloseTo(1 - 0.999 ** 14000, 4); // seven dispatches of 2000 steps each
    buf.release();
  });
});

describe('device loss', () => {
  it('surfaces as GpuDeviceLostError (no hang) and the context can be recreated', async () => {
    const own = await getGpuContext();
    const t = own.upload([1, 2, 3, 4], [4]);
    own.device.destroy();
    await own.device.lost;
    await expect(own.read(t)).rejects.toBeInstanceOf(GpuDeviceLostError);
    expect(() => own.empty([4])).toThrow(GpuDeviceLostError);
    expect(own.lost).toBe(true);
    await own.recreate();
    expect(own.lost).toBe(false);
    expect(own.pool.stats.liveBytes).toBe(0);
    const u = own.upload([5, 6], [2]);
    expect(Array.from(await own.read(u))).toEqual([5, 6]);
    own.destroy();
  });
});
