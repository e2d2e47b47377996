/**
 * Generation on the CPU path: greedy tokens of transformers (cached and uncached decoding agree),
 * the step logits, sampling options, stop tokens, streaming (callback and async iterator),
 * abort, batches; the tokenizer against the fixture encodings.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { argmax, chooseToken, makeRng, ModelArgumentError, XlstmForCausalLM } from '../src/index.js';
import { GEN_PROMPTS, idsOf, loadFixture, maxAbsDiff, modelDir } from './helpers.js';

const fx = loadFixture('single');
const V = 512;
let model: XlstmForCausalLM;
beforeAll(async () => {
  model = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device: 'cpu' });
});

describe('greedy generation matches transformers', () => {
  test.each(GEN_PROMPTS)('prompt %s: tokens, step logits, uncached decode', async (p) => {
    const prompt = idsOf(fx.tensors[`gen.${p}.prompt`])[0];
    const want = idsOf(fx.tensors[`gen.${p}.tokens`])[0];
    const r = await model.generate(prompt, { maxNewTokens: 16, stopTokens: [] });
    expect(r.tokens[0]).toEqual(want);
    expect(r.stopReason).toEqual(['length']);
    expect(r.cache.seqlenOffset).toBe(prompt.length + 15);
    expect(idsOf(fx.tensors[`gen.${p}.tokens_nocache`])[0]).toEqual(want);

    // the logits of each step (prefill last position, then one cached step per token)
    const cache = model.newCache(1);
    const step = new Float32Array(16 * V);
    let out = await model.forward(prompt, { cache, lastOnly: true });
    for (let j = 0; j < 16; j++) {
      step.set(out.logits, j * V);
      if (j < 15) out = await model.forward([want[j]], { cache, lastOnly: true });
    }
    expect(maxAbsDiff(step, fx.tensors[`gen.${p}.step_logits`].data)).toBeLessThan(1e-4);

    // uncached: the whole sequence each step
    const seq = [...prompt];
    for (let j = 0; j < 4; j++) {
      const full = await model.forward(seq, { lastOnly: true });
      seq.push(argmax(full.logits));
    }
    expect(seq.slice(prompt.length)).toEqual(want.slice(0, 4));
  });

  test('hf generate() tokens (stops at eos 2 when produced)', async () => {
    for (const p of GEN_PROMPTS) {
      const prompt = idsOf(fx.tensors[`gen.${p}.prompt`])[0];
      const hf = idsOf(fx.tensors[`gen.${p}.tokens_hf_generate`])[0];
      const r = await model.generate(prompt, { maxNewTokens: 16, stopTokens: model.eosTokenIds });
      expect(r.tokens[0]).toEqual(hf);
    }
  });
});

describe('tokenizer (tokenizer.json through @huggingface/tokenizers)', () => {
  test('encodings and round trips of the fixture strings', () => {
    const tok = model.tokenizer!;
    for (const c of fx.json.tokenizer_cases) {
      expect(tok.encode(c.text)).toEqual(c.ids);
      expect(Array.from(fx.tensors[`tokenizer.case${c.index}.ids`].data)).toEqual(c.ids);
      expect(tok.decode(c.ids)).toBe(c.decoded);
    }
    expect(tok.tokenToId('<|endoftext|>')).toBe(0);
    expect(model.defaultStopTokens()).toEqual([0]);
  });

  test('text prompt: BOS prepended, same tokens as the fixture text prompt, streamed text', async () => {
    const prompt = idsOf(fx.tensors['gen.text.prompt'])[0];
    expect(prompt[0]).toBe(0);
    const text = model.tokenizer!.decode(prompt.slice(1));
    const chunks: string[] = [];
    const r = await model.generate(text, {
      maxNewTokens: 16,
      stopTokens: [],
      onToken: (e) => chunks.push(e.text![0]),
    });
    expect(r.tokens[0]).toEqual(idsOf(fx.tensors['gen.text.tokens'])[0]);
    expect(chunks.join('')).toBe(r.text![0]);
    expect(r.text![0]).toBe(model.tokenizer!.decode(r.tokens[0]));
    // addBos: false keeps the prompt as given
    const noBos = await model.generate([5, 6, 7], { maxNewTokens: 1, addBos: false, stopTokens: [] });
    expect(noBos.cache.seqlenOffset).toBe(3);
    const withBos = await model.generate([5, 6, 7], { maxNewTokens: 1, stopTokens: [] });
    expect(withBos.cache.seqlenOffset).toBe(4);
    // continuing a cache: no BOS in the middle of a sequence; same tokens as one long prompt (the last
    // generated token is not in the cache yet: only tokens fed to the model are)
    const cont = await model.generate([8, 9], { maxNewTokens: 3, stopTokens: [], cache: withBos.cache });
    expect(cont.cache.seqlenOffset).toBe(4 + 2 + 2);
    const whole = await model.generate([0, 5, 6, 7, 8, 9], { maxNewTokens: 3, stopTokens: [] });
    expect(cont.tokens).toEqual(whole.tokens);
  });
});

describe('sampling, stopping, streaming', () => {
  const prompt = () => idsOf(fx.tensors['gen.len7.prompt'])[0];

  test('seeded sampling is reproducible; seeds differ; topK = 1 is greedy', async () => {
    const o = { maxNewTokens: 12, temperature: 1.5, stopTokens: [] };
    const a = await model.generate(prompt(), { ...o, seed: 1 });
    const b = await model.generate(prompt(), { ...o, seed: 1 });
    const c = await model.generate(prompt(), { ...o, seed: 2 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
    const k1 = await model.generate(prompt(), { ...o, topK: 1, seed: 3 });
    expect(k1.tokens[0]).toEqual(idsOf(fx.tensors['gen.len7.tokens'])[0].slice(0, 12));
    const p0 = await model.generate(prompt(), { ...o, topP: 1e-9, seed: 4 });
    expect(p0.tokens).toEqual(k1.tokens);
  });

  test('chooseToken: top-k / top-p support, temperature, repetition penalty', () => {
    const logits = new Float32Array([1, 3, 2, 0, -1]);
    const rng = makeRng(7);
    const seen = new Set<number>();
    for (let x = 0; x < 400; x++) seen.add(chooseToken(logits, 0, 5, { temperature: 1, topK: 2 }, [], rng));
    expect([...seen].sort()).toEqual([1, 2]);
    seen.clear();
    // top-p 0.85 keeps the tokens of probability 0.636 + 0.234 (≥ 0.85), never the others
    for (let x = 0; x < 400; x++)
      seen.add(chooseToken(logits, 0, 5, { temperature: 1, topP: 0.85 }, [], rng));
    expect([...seen].sort()).toEqual([1, 2]);
    // penalty: positive logits divided, negative multiplied (transformers' rule)
    expect(chooseToken(new Float32Array([2.9, 3]), 0, 2, { repetitionPenalty: 2 }, [1], rng)).toBe(0);
    expect(chooseToken(new Float32Array([-1, -0.6]), 0, 2, { repetitionPenalty: 2 }, [1], rng)).toBe(0);
    expect(chooseToken(new Float32Array([2.9, 3]), 0, 2, {}, [1], rng)).toBe(1);
    // low temperature concentrates on the argmax
    let hits = 0;
    for (let x = 0; x < 200; x++)
      hits += chooseToken(logits, 0, 5, { temperature: 0.05 }, [], rng) === 1 ? 1 : 0;
    expect(hits).toBe(200);
  });

  test('a huge repetition penalty never repeats a token of the prompt or the continuation', async () => {
    const p = prompt();
    const pen = await model.generate(p, { maxNewTokens: 16, stopTokens: [], repetitionPenalty: 1e6 });
    const all = [...p, ...pen.tokens[0]];
    expect(new Set(all).size).toBe(new Set(p).size + 16);
  });

  test('stop tokens end a row (token included, stopReason stop)', async () => {
    const want = idsOf(fx.tensors['gen.len37.tokens'])[0];
    const stopAt = want.findIndex((t, j) => want.indexOf(t) === j && j >= 3);
    const r = await model.generate(idsOf(fx.tensors['gen.len37.prompt'])[0], {
      maxNewTokens: 16,
      stopTokens: [want[stopAt]],
    });
    expect(r.tokens[0]).toEqual(want.slice(0, stopAt + 1));
    expect(r.stopReason).toEqual(['stop']);
  });

  test('async iterator and onToken see the same events; the iterator returns the result', async () => {
    const viaCb: number[] = [];
    const viaIt: number[] = [];
    const it = model.stream(prompt(), {
      maxNewTokens: 5,
      stopTokens: [],
      onToken: (e) => viaCb.push(e.tokens[0]),
    });
    let res = await it.next();
    while (!res.done) {
      viaIt.push(res.value.tokens[0]);
      expect(res.value.step).toBe(viaIt.length - 1);
      res = await it.next();
    }
    expect(viaIt).toEqual(viaCb);
    expect(res.value.tokens[0]).toEqual(viaIt);
    // for-await works too
    const got: number[] = [];
    for await (const e of model.stream(prompt(), { maxNewTokens: 3, stopTokens: [] })) got.push(e.tokens[0]);
    expect(got).toEqual(viaIt.slice(0, 3));
  });

  test('AbortSignal stops generation with an AbortError', async () => {
    const ac = new AbortController();
    let n = 0;
    const p = model.generate(prompt(), {
      maxNewTokens: 50,
      stopTokens: [],
      signal: ac.signal,
      onToken: () => {
        if (++n === 3) ac.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(n).toBe(3);
    const pre = new AbortController();
    pre.abort();
    await expect(model.generate(prompt(), { signal: pre.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  test('batch of 2 equals each row alone (greedy and seeded); finished rows report -1', async () => {
    const p1 = idsOf(fx.tensors['gen.len7.prompt'])[0];
    const p2 = idsOf(fx.tensors['input_ids.batch2_len21'])[1].slice(0, 7);
    const both = await model.generate([p1, p2], { maxNewTokens: 8, stopTokens: [] });
    const one = await model.generate(p1, { maxNewTokens: 8, stopTokens: [] });
    const two = await model.generate(p2, { maxNewTokens: 8, stopTokens: [] });
    expect(both.tokens).toEqual([one.tokens[0], two.tokens[0]]);
    // stop row 0 early: it reports -1 afterwards while row 1 goes on
    const events: number[][] = [];
    const stop = one.tokens[0][1];
    expect(two.tokens[0]).not.toContain(stop);
    expect(one.tokens[0][0]).not.toBe(stop);
    const r = await model.generate([p1, p2], {
      maxNewTokens: 8,
      stopTokens: [stop],
      onToken: (e) => events.push(e.tokens),
    });
    expect(r.tokens[0]).toEqual(one.tokens[0].slice(0, 2));
    expect(r.tokens[1]).toEqual(two.tokens[0]);
    expect(events[2][0]).toBe(-1);
    expect(r.stopReason).toEqual(['stop', 'length']);
  });

  test('argument errors', async () => {
    await expect(model.generate([1, 2], { maxNewTokens: -1 })).rejects.toThrow(ModelArgumentError);
    await expect(model.generate([1, 2], { topP: 0 })).rejects.toThrow(/topP/);
    await expect(model.forward([[1, 2], [3]])).rejects.toThrow(/equal lengths/);
    await expect(model.forward([1, 512])).rejects.toThrow(/not an id/);
    await expect(model.forward([])).rejects.toThrow(ModelArgumentError);
    await expect(model.forward([1], { cache: model.newCache(2) })).rejects.toThrow(/batch 2/);
  });
});
