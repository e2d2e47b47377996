/**
 * State snapshots on the tiny fixture models, CPU and WebGPU: generate, save, restore into a new
 * cache (and through bytes only), continue 64 tokens — exactly the tokens of an uninterrupted run
 * (greedy, so any change of the state shows as another token sooner or later; f32 snapshots are
 * bit-exact copies of the float32 states). Bad snapshots raise StateSnapshotError and leave the
 * target cache untouched.
 */
import { parseXlstmConfig } from '../src/config.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  configHash,
  STATE_FORMAT_VERSION,
  StateSnapshotError,
  XlstmForCausalLM,
  type XlstmCache,
} from '../src/index.js';
import { modelDir } from './helpers.js';

const FIRST = 16;
const CONTINUE = 64;
const prompt = [0, 17, 250, 3, 99, 42, 7];

describe.each(['cpu', 'webgpu'] as const)('%s: save → restore → continue', (device) => {
  let model: XlstmForCausalLM;
  let other: XlstmForCausalLM;
  beforeAll(async () => {
    model = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device });
    other = await XlstmForCausalLM.fromPretrained(modelDir('fused'), { device });
  });
  afterAll(() => {
    model?.dispose();
    other?.dispose();
  });

  test(`continuing ${CONTINUE} tokens from a restored state = the uninterrupted run (f32, and f16 sizes)`, async () => {
    const whole = await model.generate(prompt, { maxNewTokens: FIRST + CONTINUE, stopTokens: [] });
    const first = await model.generate(prompt, { maxNewTokens: FIRST, stopTokens: [] });
    expect(first.tokens[0]).toEqual(whole.tokens[0].slice(0, FIRST));
    const bytes = await model.saveState(first.cache);
    first.cache.release();
    const { NH, dqk, dv, blocks } = model.config.dims;
    const floats = blocks * NH * (dqk * dv + dqk + 1);
    expect(bytes.length).toBeGreaterThan(floats * 4);
    expect(bytes.length).toBeLessThan(floats * 4 + 512); // the tensors plus a small header
    const half = await model.saveState(await model.restoreState(bytes), { dtype: 'f16' });
    expect(half.length).toBeLessThan(floats * 2 + 512);

    const restored = await model.restoreState(bytes);
    expect(restored.seqlenOffset).toBe(prompt.length + FIRST - 1);
    // the last generated token has not been fed yet: it is the next input
    const rest = await model.generate([first.tokens[0][FIRST - 1]], {
      cache: restored,
      maxNewTokens: CONTINUE,
      stopTokens: [],
    });
    expect(rest.tokens[0]).toEqual(whole.tokens[0].slice(FIRST));
    restored.release();
    whole.cache.release();
  });

  test('another model configuration, another version, or not a snapshot → StateSnapshotError, target untouched', async () => {
    const r = await model.generate(prompt, { maxNewTokens: 4, stopTokens: [] });
    const bytes = await model.saveState(r.cache);
    const before = await r.cache.readStates();
    const expectRefused = async (b: Uint8Array, cache: XlstmCache, m: XlstmForCausalLM, problem: string) => {
      await expect(m.restoreState(b, { into: cache })).rejects.toSatisfy(
        (e) => e instanceof StateSnapshotError && e.problem === problem,
      );
    };
    // a model of another configuration (the fused fixture)
    const target = (await other.generate(prompt, { maxNewTokens: 2, stopTokens: [] })).cache;
    const targetBefore = await target.readStates();
    expect(await configHash(other.config)).not.toBe(await configHash(model.config));
    await expectRefused(bytes, target, other, 'model');
    expect(await target.readStates()).toEqual(targetBefore);
    // another format version
    const v2 = bytes.slice();
    new DataView(v2.buffer).setUint32(8, STATE_FORMAT_VERSION + 1, true);
    await expectRefused(v2, r.cache, model, 'version');
    await expectRefused(bytes.slice(0, bytes.length - 4), r.cache, model, 'shape');
    await expectRefused(new Uint8Array(64), r.cache, model, 'format');
    expect(await r.cache.readStates()).toEqual(before);
    target.release();
    r.cache.release();
  });
});

test('configHash: same config in another key order hashes the same; another value differs', async () => {
  const a = parseXlstmConfig({ vocab_size: 64, hidden_size: 32, num_heads: 4, num_blocks: 1 });
  const b = parseXlstmConfig({ num_blocks: 1, num_heads: 4, hidden_size: 32, vocab_size: 64 });
  const c = parseXlstmConfig({ num_blocks: 1, num_heads: 4, hidden_size: 32, vocab_size: 65 });
  expect(await configHash(a)).toBe(await configHash(b));
  expect(await configHash(a)).not.toBe(await configHash(c));
});
