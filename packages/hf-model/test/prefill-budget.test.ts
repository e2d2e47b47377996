/**
 * The per-call token bound of the WebGPU prefill (`prefillTokensPerCall`, `src/memory.ts`): the
 * arithmetic for the xLSTM-7B config in f16 on the H100's limits, where a 65 536-token packed
 * prefill ran out of device memory (80 GB) before the bound existed. CPU only.
 */
import { describe, expect, test } from 'vitest';
import {
  DEFAULT_PREFILL_BUDGET_BYTES,
  estimateMemory,
  ModelArgumentError,
  ModelTooLargeError,
  parseXlstmConfig,
  prefillBytesPerToken,
  prefillTokensPerCall,
  XlstmForCausalLM,
} from '../src/index.js';

/** the H100 under Dawn/Vulkan (docs/benchmarks/h100-bench/run.json) */
const H100 = { maxStorageBufferBindingSize: 2147483644, maxBufferSize: 2 ** 40 };
/** what the engine runs for f16 weights on an adapter with matrix units */
const F16 = { cellF16: true, f16Inputs: true, fusedGate: true };

describe('prefill tokens per call: xLSTM-7B in f16', () => {
  const c = parseXlstmConfig({}); // the 7B defaults
  const { H, NH, Dqk, Dv, dqk, dv, F } = c.dims;

  test('bytes per token, term by term (independent of the number of blocks)', () => {
    expect([H, NH, Dqk, Dv, dqk, dv, F, c.chunkSize]).toEqual([4096, 8, 2048, 4096, 256, 512, 10944, 64]);
    // ids, x, a, the fused projection (+ gates), the gated cell output, the SwiGLU output, f16 matmul inputs
    const dense = 4 * (1 + 2 * 4096 + (2 * 2048 + 2 * 4096 + 16) + 4096 + 10944) + 2 * 10944;
    // one block's q, k, v, i, f and h
    const block = 4 * (2 * 2048 + 4096 + 16 + 4096);
    // the chunkwise call: gates and m/n, per-chunk states (f32), f16 copies of q, k, v, h
    const cell = 4 * 5 * 8 + (4 * 8 * 256 * 513) / 64 + 2 * (2 * 2048 + 4096 + 4096);
    // packed: padded copies of q, k, v, i, f, h
    const packed = 4 * (2 * 2048 + 4096 + 16 + 4096);
    expect([dense, block, cell, packed]).toEqual([164036, 49216, 90400, 49216]);
    expect(prefillBytesPerToken(c, { ...F16, packed: true })).toBe(dense + block + cell + packed);
    expect(prefillBytesPerToken(c, F16)).toBe(dense + block + cell);
    // a forward holds one block's cell tensors whatever the depth (before: all 32 blocks' until its end)
    const deep = parseXlstmConfig({ num_blocks: 64, num_hidden_layers: 64 });
    expect(prefillBytesPerToken(deep, { ...F16, packed: true })).toBe(
      prefillBytesPerToken(c, { ...F16, packed: true }),
    );
  });

  test('a packed call: 12 160 tokens, under 4 GiB of activations; one prompt: 14 144 tokens', () => {
    const packed = prefillTokensPerCall(c, { ...F16, packed: true, limits: H100 });
    expect(packed).toEqual({
      tokens: 12160,
      bytesPerToken: 352868,
      callBytes: 12160 * 352868,
      limitedBy: 'budget',
    });
    expect(packed.tokens).toBeGreaterThanOrEqual(8192);
    expect(packed.tokens).toBeLessThanOrEqual(16384);
    expect(packed.tokens % c.chunkSize).toBe(0);
    expect(packed.callBytes).toBeLessThanOrEqual(DEFAULT_PREFILL_BUDGET_BYTES);
    expect(packed.callBytes).toBeLessThan(4.3e9);
    const plain = prefillTokensPerCall(c, { ...F16, limits: H100 });
    expect([plain.tokens, plain.bytesPerToken, plain.limitedBy]).toEqual([14144, 303652, 'budget']);
    expect(plain.callBytes).toBeLessThanOrEqual(DEFAULT_PREFILL_BUDGET_BYTES);
    // 65 536 tokens of prompts of 512…8 192 tokens: at least 6 calls, each under the budget; before,
    // calls of max_inference_chunksize = 16 384 tokens held every block's cell tensors: ~30 GB each
    expect(Math.ceil(65536 / packed.tokens)).toBe(6);
    const before = 16384 * (164036 + 32 * 49216 + 90400 + 49216);
    expect(before).toBeGreaterThan(30e9);
    // batch rows share the budget; every position's logits (forward without lastOnly) cost 402 KB per token more
    expect(prefillTokensPerCall(c, { ...F16, batch: 8, limits: H100 }).tokens).toBe(1728);
    const all = prefillTokensPerCall(c, { ...F16, allLogits: true, limits: H100 });
    expect(all.bytesPerToken - plain.bytesPerToken).toBe(4 * (4096 + 2 * 50304));
    expect(all.callBytes).toBeLessThanOrEqual(DEFAULT_PREFILL_BUDGET_BYTES);
  });

  test('prefillChunkSize, max_inference_chunksize and the binding limits bound it too', () => {
    const o = { ...F16, packed: true, limits: H100 };
    expect(prefillTokensPerCall(c, { ...o, prefillChunkSize: 8192 })).toMatchObject({
      tokens: 8192,
      limitedBy: 'prefillChunkSize',
    });
    // not a multiple of the chunk size: whole chunks
    expect(prefillTokensPerCall(c, { ...o, prefillChunkSize: 1000 }).tokens).toBe(960);
    expect(prefillTokensPerCall(c, { ...o, prefillChunkSize: 10 }).tokens).toBe(10);
    expect(prefillTokensPerCall(c, { ...o, prefillChunkSize: 1e6 })).toMatchObject({
      tokens: 16384,
      limitedBy: 'max_inference_chunksize',
    });
    // WebGPU's default limits (128 MiB bindings): the chunkwise kernel's per-chunk states of every
    // head in one binding (31 chunks; the [T, 12 304] projection alone would allow 2 727 tokens)
    const small = { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 };
    expect(prefillTokensPerCall(c, { ...o, limits: small })).toMatchObject({
      tokens: 1984,
      limitedBy: 'maxStorageBufferBindingSize',
    });
    // a budget below one token still gives one; a binding below one token's activations throws
    expect(prefillTokensPerCall(c, { ...o, budgetBytes: 1 }).tokens).toBe(1);
    expect(() =>
      prefillTokensPerCall(c, { ...o, limits: { maxStorageBufferBindingSize: 4096, maxBufferSize: 4096 } }),
    ).toThrow(ModelTooLargeError);
  });

  test('estimateMemory: activations of the prefill in calls, bytes per token and tokens per call', () => {
    const e = estimateMemory(c, { dtype: 'f16', seqLen: 65536 });
    expect(e.prefillBytesPerToken).toBe(303652);
    expect(e.prefillTokensPerCall).toBe(14144);
    expect(e.activationBytes).toBe(14144 * 303652);
    expect(estimateMemory(c, { dtype: 'f16', seqLen: 2048 }).activationBytes).toBe(2048 * 303652);
    expect(estimateMemory(c, { dtype: 'f16', seqLen: 65536, prefillChunkSize: 4096 }).activationBytes).toBe(
      4096 * 303652,
    );
    // q8 / q4: the larger of the two quantPrefill modes (f16 cell and inputs, an unfused [T, 2F] product)
    expect(estimateMemory(c, { dtype: 'q4' }).prefillBytesPerToken).toBe(303652 + 8 * 10944);
  });

  test('the load option is checked', async () => {
    for (const bad of [0, -1, 1.5, '4096']) {
      await expect(
        XlstmForCausalLM.fromRandom(
          { embedding_dim: 64, num_heads: 2, num_blocks: 1, vocab_size: 64 },
          { device: 'cpu', prefillChunkSize: bad as number },
        ),
      ).rejects.toThrow(ModelArgumentError);
    }
  });
});
