/**
 * The packed prefill of prompts of different lengths (`generateBatch`'s first step): on WebGPU the
 * prompts go through the blocks together — matmuls over all tokens, the cell through the packed
 * chunkwise kernel — and each prompt's last logits and states equal that prompt prefilled alone.
 * Also split into several calls (a small per-call token cap, or the `prefillChunkSize` load
 * option) with prompts longer than one call: the same logits and states as one call; then the rows
 * decode on the replayed GPU step like any batch. Memory: a call holds one block's cell tensors
 * (its peak stays within `prefillBytesPerToken` × tokens, whatever the depth), the calls of a
 * split prefill reuse one set of buffers, nothing leaks.
 */
import { type GpuContext, getGpuContext, sizeClass } from '@mlstm/kernels-webgpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BlockStateArrays, XlstmForCausalLM } from '../src/index.js';
import { mapAsyncBytes, maxAbsDiff, modelDir } from './helpers.js';

// lengths around the fixture's chunk size (16): shorter than a chunk, whole chunks, chunks + a tail
const LENGTHS = [1, 17, 40, 5, 33, 16, 2];

function prompts(V: number): number[][] {
  let s = 99;
  return LENGTHS.map((n) =>
    Array.from({ length: n }, () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % V;
    }),
  );
}

describe('packed prefill on WebGPU = each prompt alone', () => {
  let m: XlstmForCausalLM;
  beforeAll(async () => {
    m = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device: 'webgpu', dtype: 'f32' });
  });
  afterAll(() => m.dispose());

  async function check(rows: number[][], model = m) {
    const V = m.config.vocabSize;
    const packed = await model._prefillPacked(rows);
    expect(packed).not.toBeNull();
    const { logits, cache } = packed!;
    expect(cache.batch).toBe(rows.length);
    const states = await cache.readStates();
    for (const [b, row] of rows.entries()) {
      const alone = await m.forward([row], { lastOnly: true });
      // f32 kernels: the packed kernel pads sequences at the front with neutral tokens (same math)
      expect(
        maxAbsDiff(logits.subarray(b * V, (b + 1) * V), alone.logits),
        `logits of prompt ${b}`,
      ).toBeLessThan(2e-4);
      const own = await alone.cache.readStates();
      for (const [blk, st] of own.entries()) {
        for (const k of ['c', 'n', 'm'] as const) {
          const per = st[k].length;
          const got = states[blk][k].subarray(b * per, (b + 1) * per);
          expect(maxAbsDiff(got, st[k]), `block ${blk} ${k} of prompt ${b}`).toBeLessThan(2e-4);
        }
      }
      alone.cache.release();
    }
    cache.release();
  }

  test('one call: logits of every prompt and its states', async () => {
    await check(prompts(m.config.vocabSize));
  });

  test('several calls (a 40-token cap per call), one prompt longer than a call', async () => {
    const engine = (m as unknown as { gpu: { maxTokensPerCall: (B: number, last: boolean) => number } }).gpu;
    const own = engine.maxTokensPerCall;
    engine.maxTokensPerCall = () => 40;
    try {
      const rows = prompts(m.config.vocabSize);
      rows.splice(2, 0, rows[2].concat(rows[4])); // 73 tokens: prefilled alone, in segments
      await check(rows);
    } finally {
      engine.maxTokensPerCall = own;
    }
  });

  test('ragged lists decode on the replayed GPU step: only the ids read back per token; seeded = the CPU device', async () => {
    const rows = prompts(m.config.vocabSize).slice(0, 3);
    const B = rows.length;
    const V = m.config.vocabSize;
    const device = (m as unknown as { gpu: { ctx: { device: GPUDevice } } }).gpu.ctx.device;
    const o = { maxNewTokens: 6, stopTokens: [], addBos: false, seed: 5, temperature: 0.8, topK: 20 };
    let g!: Awaited<ReturnType<XlstmForCausalLM['generate']>>;
    const reads = await mapAsyncBytes(device, async () => {
      g = await m.generate(rows, o);
    });
    // the packed prefill's last logits once, then B ids per decode step
    expect(reads.slice(-5)).toEqual(Array(5).fill(4 * B));
    expect(reads.filter((n) => n === 4 * B * V)).toHaveLength(1);
    // the same seeded tokens as the CPU path (one uniform per row and step on both)
    const cpu = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device: 'cpu' });
    const c = await cpu.generate(rows, o);
    expect(g.tokens).toEqual(c.tokens);
    g.cache.release();
    c.cache.release();
    cpu.dispose();
  });

  test('generateBatch reports the packed prefill on WebGPU', async () => {
    const r = await m.generateBatch(prompts(m.config.vocabSize).slice(0, 3), {
      maxNewTokens: 2,
      stopTokens: [],
      addBos: false,
    });
    expect(r.packedPrefill).toBe(true);
    expect(r.prefillTokens).toBe(LENGTHS[0] + LENGTHS[1] + LENGTHS[2]);
    r.cache.release();
  });
});

/** The largest difference between two models' per-block states. */
function statesDiff(a: BlockStateArrays[], b: BlockStateArrays[]): number {
  let d = 0;
  for (const [blk, st] of a.entries())
    for (const k of ['c', 'n', 'm'] as const) d = Math.max(d, maxAbsDiff(st[k], b[blk][k]));
  return d;
}

describe('prefillChunkSize: a prefill in several calls = one call', () => {
  let one: XlstmForCausalLM;
  let split: XlstmForCausalLM;
  beforeAll(async () => {
    const dir = modelDir('single');
    one = await XlstmForCausalLM.fromPretrained(dir, { device: 'webgpu', dtype: 'f32' });
    split = await XlstmForCausalLM.fromPretrained(dir, {
      device: 'webgpu',
      dtype: 'f32',
      prefillChunkSize: 32,
    });
  });
  afterAll(() => {
    one.dispose();
    split.dispose();
  });

  test('the bound and the calls it gives', () => {
    expect(one.gpuLayout()!.packedPrefill.tokens).toBeGreaterThanOrEqual(LENGTHS.reduce((a, n) => a + n, 0));
    expect(one.packedPrefillCalls(LENGTHS)).toHaveLength(1);
    const layout = split.gpuLayout()!;
    expect(layout.packedPrefill).toMatchObject({ tokens: 32, limitedBy: 'prefillChunkSize' });
    expect(layout.prefill.tokens).toBe(32);
    expect(layout.packedPrefill.callBytes).toBe(32 * layout.packedPrefill.bytesPerToken);
    // LENGTHS = 1, 17, 40, 5, 33, 16, 2: prompts of 40 and 33 tokens in two calls each
    expect(split.packedPrefillCalls(LENGTHS)).toEqual([
      { first: 0, end: 2, tokens: 18, segments: 1 },
      { first: 2, end: 3, tokens: 40, segments: 2 },
      { first: 3, end: 4, tokens: 5, segments: 1 },
      { first: 4, end: 5, tokens: 33, segments: 2 },
      { first: 5, end: 7, tokens: 18, segments: 1 },
    ]);
  });

  test('packed: the logits and states of 7 calls = those of one call, and of each prompt alone', async () => {
    const rows = prompts(one.config.vocabSize);
    const a = await one._prefillPacked(rows);
    const b = await split._prefillPacked(rows);
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(2e-4);
    expect(statesDiff(await a.cache.readStates(), await b.cache.readStates())).toBeLessThan(2e-4);
    expect([b.cache.batch, b.cache.seqlenOffset]).toEqual([rows.length, 40]);
    a.cache.release();
    b.cache.release();
    // the greedy tokens of generateBatch
    const o = { maxNewTokens: 4, stopTokens: [], addBos: false };
    const ga = await one.generateBatch(rows, o);
    const gb = await split.generateBatch(rows, o);
    expect(gb.tokens).toEqual(ga.tokens);
    ga.cache.release();
    gb.cache.release();
  });

  test('one long prompt: calls of 32 tokens carrying the state = one call', async () => {
    const row = prompts(one.config.vocabSize).flat().slice(0, 100); // 32 + 32 + 32 + 4
    const a = await one.forward(row);
    const b = await split.forward(row);
    expect(b.logits.length).toBe(100 * one.config.vocabSize);
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(2e-4);
    expect(statesDiff(await a.cache.readStates(), await b.cache.readStates())).toBeLessThan(2e-4);
    a.cache.release();
    b.cache.release();
  });
});

describe('memory of the WebGPU prefill', () => {
  // the fixture's widths, 8 blocks: a call that held every block's cell tensors would be far over
  // the estimate (8 × 1 552 B per token more)
  const cfg = { embedding_dim: 128, num_heads: 2, num_blocks: 8, vocab_size: 512, chunk_size: 16 };
  // a context of its own: the pool's counts are this file's
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = await getGpuContext();
  });
  afterAll(() => ctx?.destroy());
  const load = (o: { prefillChunkSize?: number } = {}) =>
    XlstmForCausalLM.fromRandom(cfg, { device: 'webgpu', gpu: ctx, dtype: 'f32', seed: 4, ...o });
  const ids = (lengths: number[]) =>
    lengths.map((n, b) => Array.from({ length: n }, (_, t) => (t * 131 + b * 7 + 3) % 512));
  /** bytes of the states of `rows` sequences as the pool allocates them (size classes) */
  const stateBytes = (m: XlstmForCausalLM, rows: number) => {
    const { NH, dqk, dv, blocks } = m.config.dims;
    return (
      blocks * [rows * NH * dqk * dv, rows * NH * dqk, rows * NH].reduce((a, n) => a + sizeClass(4 * n), 0)
    );
  };

  test("a forward holds one block's cell tensors: its peak is within the call's estimate", async () => {
    const m = await load();
    try {
      const S = 256;
      const plan = m.gpuLayout()!.prefill;
      expect(plan.tokens).toBeGreaterThanOrEqual(S); // one call
      const [row] = ids([S]);
      (await m.forward(row, { lastOnly: true })).cache.release(); // pipelines compiled
      const before = ctx.pool.stats.liveBytes;
      ctx.pool.resetPeak();
      const r = await m.forward(row, { lastOnly: true });
      const peak = ctx.pool.stats.peakLiveBytes - before;
      r.cache.release();
      expect(ctx.pool.stats.liveBytes).toBe(before);
      // the activations (size classes: up to 1/8 more), the zero and the new states, small buffers
      const bound = (S * plan.bytesPerToken * 9) / 8 + 2 * stateBytes(m, 1) + 64 * 1024;
      expect(peak).toBeLessThanOrEqual(bound);
      const { NH, Dqk, Dv, blocks } = m.config.dims;
      expect(S * (blocks - 1) * 4 * (2 * Dqk + Dv + 2 * NH + Dv)).toBeGreaterThan(bound - peak);
    } finally {
      m.dispose();
    }
  });

  test('a packed prefill in several calls: the calls reuse one set of buffers, the peak is one call plus the states, no leak', async () => {
    const m = await load({ prefillChunkSize: 64 });
    const engine = (m as unknown as { gpu: { forward: (...a: unknown[]) => Promise<unknown> } }).gpu;
    const own = engine.forward;
    try {
      const rows = ids(Array(10).fill(16)); // calls of 4, 4 and 2 prompts: 64, 64 and 32 tokens
      expect(m.packedPrefillCalls(rows.map((r) => r.length)).map((c) => c.tokens)).toEqual([64, 64, 32]);
      (await m._prefillPacked(rows)).cache.release(); // pipelines compiled
      ctx.pool.trim(); // nothing cached: the first call creates its buffers
      const created: number[] = [];
      engine.forward = async (...a: unknown[]) => {
        const s0 = ctx.pool.stats;
        const r = await own.apply(engine, a);
        const s1 = ctx.pool.stats;
        // the pool destroys nothing below its cache limit: new bytes = growth of live + cached
        created.push(s1.liveBytes + s1.cachedBytes - (s0.liveBytes + s0.cachedBytes));
        return r;
      };
      const before = ctx.pool.stats.liveBytes;
      ctx.pool.resetPeak();
      const r = await m._prefillPacked(rows);
      const peak = ctx.pool.stats.peakLiveBytes - before;
      r.cache.release();
      expect(ctx.pool.stats.liveBytes).toBe(before);
      expect(created).toHaveLength(3);
      // the second call (same shapes) gets every activation buffer back from the pool: it creates
      // only the states it returns (the first call's are still held, for the batch cache)
      expect(created[1]).toBe(stateBytes(m, 4));
      expect(created[0]).toBeGreaterThan(2 * created[1]);
      // one call's activations, the calls' states and the stacked batch cache
      const plan = m.gpuLayout()!.packedPrefill;
      const bound = (64 * plan.bytesPerToken * 9) / 8 + 2 * stateBytes(m, 10) + 64 * 1024;
      expect(peak).toBeLessThanOrEqual(bound);
    } finally {
      engine.forward = own;
      m.dispose();
    }
  });
});

describe('packed prefill of an f16 model: the cell takes f16 q, k, v', () => {
  test('= the same prefill through the conversion passes (a counting context), bit for bit; = each prompt alone within f16', async (t) => {
    const plain = await getGpuContext();
    if (!plain.features.shaderF16) {
      plain.destroy();
      return t.skip();
    }
    const counting = await getGpuContext({ countF16Saturation: true });
    const opts = { device: 'webgpu', weightDtype: 'f16' } as const;
    const a = await XlstmForCausalLM.fromPretrained(modelDir('single'), { ...opts, gpu: plain });
    const b = await XlstmForCausalLM.fromPretrained(modelDir('single'), { ...opts, gpu: counting });
    try {
      const rows = prompts(a.config.vocabSize);
      const [pa, pb] = [await a._prefillPacked(rows), await b._prefillPacked(rows)];
      expect(Array.from(pa!.logits)).toEqual(Array.from(pb!.logits));
      const V = a.config.vocabSize;
      for (const [i, row] of rows.entries()) {
        const alone = await a.forward([row], { lastOnly: true });
        // f16 cell: the packed kernel's front padding changes which f16 roundings happen where; a
        // rounding is 2⁻¹¹ relative, ~2e-3 of these logits (|logit| ≤ 4): observed ≤ 1.8e-3
        expect(maxAbsDiff(pa!.logits.subarray(i * V, (i + 1) * V), alone.logits), `prompt ${i}`).toBeLessThan(
          5e-3,
        );
        alone.cache.release();
      }
      pa!.cache.release();
      pb!.cache.release();
    } finally {
      a.dispose();
      b.dispose();
      plain.destroy();
      counting.destroy();
    }
  });
});
