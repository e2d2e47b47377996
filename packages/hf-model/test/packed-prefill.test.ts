/**
 * The packed prefill of prompts of different lengths (`generateBatch`'s first step): on WebGPU the
 * prompts go through the blocks together — matmuls over all tokens, the cell through the packed
 * chunkwise kernel — and each prompt's last logits and states equal that prompt prefilled alone.
 * Also split into several calls (a small per-call token cap) with a prompt longer than one call;
 * then the rows decode on the replayed GPU step like any batch.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { XlstmForCausalLM } from '../src/index.js';
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

  async function check(rows: number[][]) {
    const V = m.config.vocabSize;
    const packed = await m._prefillPacked(rows);
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
