import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { estimateMemory, mapKernelName, parseXlstmConfig, roundUp, XlstmConfigError } from '../src/index.js';
import { modelDir } from './helpers.js';

function configError(raw: Record<string, unknown>): XlstmConfigError {
  try {
    parseXlstmConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(XlstmConfigError);
    return e as XlstmConfigError;
  }
  throw new Error(`no error for ${JSON.stringify(raw)}`);
}

describe('parseXlstmConfig', () => {
  test('defaults are transformers 5.17 (xLSTM-7B dims, 6,865,424,896 parameters)', () => {
    const c = parseXlstmConfig({});
    expect(c.dims).toEqual({
      H: 4096,
      NH: 8,
      Dqk: 2048,
      Dv: 4096,
      dqk: 256,
      dv: 512,
      F: 10944,
      V: 50304,
      blocks: 32,
    });
    expect(c.chunkSize).toBe(64);
    expect(c.eps).toBe(1e-6);
    expect(c.normEps).toBe(1e-6);
    expect(c.gateSoftCap).toBe(15);
    expect(c.outputLogitSoftCap).toBe(30);
    expect(c.weightMode).toBe('single');
    expect(c.useBias).toBe(false);
    expect([c.bosTokenId, c.padTokenId, c.eosTokenId]).toEqual([0, 1, [2]]);
    expect(c.maxInferenceChunksize).toBe(16384);
    // the parameter count of the 7B model built on torch's meta device (spec §1)
    expect(estimateMemory(c).parameters).toBe(6_865_424_896);
    expect(estimateMemory(c, { weightDtype: 'f16' }).weightBytes).toBe(2 * 6_865_424_896);
    expect(estimateMemory(c).stateBytesPerSequence).toBe(32 * 8 * (256 * 512 + 256 + 1) * 4);
    // decoding holds a second state set per sequence plus its step buffers (< 1 MB per sequence)
    for (const batch of [1, 4]) {
      const e = estimateMemory(c, { dtype: 'f16', batch });
      expect(e.decodeBytes - batch * e.stateBytesPerSequence).toBeGreaterThan(0);
      expect(e.decodeBytes - batch * e.stateBytesPerSequence).toBeLessThan(batch * 1e6);
      expect(e.totalBytes).toBe(e.weightBytes + batch * e.stateBytesPerSequence + e.decodeBytes);
    }
  });

  test('the fixture config.json', () => {
    const c = parseXlstmConfig(readFileSync(join(modelDir('single'), 'config.json'), 'utf8'));
    expect(c.dims).toEqual({ H: 128, NH: 2, Dqk: 64, Dv: 128, dqk: 32, dv: 64, F: 384, V: 512, blocks: 2 });
    expect(c.chunkSize).toBe(16);
  });

  test('NX-AI names (embedding_dim, num_blocks) alone; unknown keys tolerated; Triton kernels mapped', () => {
    const c = parseXlstmConfig({
      embedding_dim: 256,
      num_blocks: 3,
      num_heads: 4,
      force_bos_token_insert: true,
      some_future_key: [1, 2],
      chunkwise_kernel: 'chunkwise--triton_xl_chunk',
      sequence_kernel: 'native_sequence__triton',
      step_kernel: 'triton',
    });
    expect(c.hiddenSize).toBe(256);
    expect(c.numBlocks).toBe(3);
    expect(c.dims.F).toBe(roundUp(256 * 2.667, 64));
    expect(c.kernels).toEqual({
      chunkwise: 'chunkwise--webgpu_xl_chunk',
      sequence: 'native_sequence__webgpu',
      step: 'webgpu',
    });
    expect(c.raw.force_bos_token_insert).toBe(true);
    expect(mapKernelName('chunkwise--native_autograd')).toBe('chunkwise--native_autograd');
  });

  test('round_up with a fractional argument (7B: 4096·2.667 → 10944)', () => {
    expect(roundUp(4096 * 2.667, 64)).toBe(10944);
    expect(roundUp(128 * 2.667, 64)).toBe(384);
    expect(roundUp(64, 64)).toBe(64);
  });

  test('eos_token_id as a list or null; null output cap = no cap', () => {
    expect(parseXlstmConfig({ eos_token_id: [0, 2] }).eosTokenId).toEqual([0, 2]);
    expect(parseXlstmConfig({ eos_token_id: null }).eosTokenId).toEqual([]);
    expect(parseXlstmConfig({ output_logit_soft_cap: null }).outputLogitSoftCap).toBeNull();
  });

  test('bad values name the key', () => {
    expect(configError({ num_heads: '8' }).key).toBe('num_heads');
    expect(configError({ num_heads: 0 }).key).toBe('num_heads');
    expect(configError({ weight_mode: 'sharded' }).key).toBe('weight_mode');
    expect(configError({ ffn_proj_factor: -1 }).key).toBe('ffn_proj_factor');
    expect(configError({ gate_soft_cap: null }).key).toBe('gate_soft_cap');
    expect(configError({ use_bias: 'no' }).key).toBe('use_bias');
    expect(configError({ mode: 'eval' }).key).toBe('mode');
    expect(configError({ model_type: 'llama' }).key).toBe('model_type');
    expect(configError({ hidden_size: 128, embedding_dim: 256 }).key).toBe('embedding_dim');
    expect(configError({ num_hidden_layers: 2, num_blocks: 3 }).key).toBe('num_blocks');
    expect(configError({ hidden_size: 96, num_heads: 5 }).key).toBe('qk_dim_factor');
    expect(configError({ vocab_size: 1.5 }).key).toBe('vocab_size');
    expect(configError({ eos_token_id: ['x'] }).key).toBe('eos_token_id');
    const e = configError({ chunk_size: -4 });
    expect(e.message).toContain('chunk_size');
    expect(() => parseXlstmConfig('{not json')).toThrow(XlstmConfigError);
  });
});
