/**
 * The transformers.js-shaped pipeline and ragged batch generation on the tiny fixture models
 * (CPU; one batch case on WebGPU). Greedy outputs are compared with `model.generate` of each
 * prompt alone, so a row that leaked state from another or lost its prefill would differ.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  generateBatch,
  ModelArgumentError,
  type PipelineProgress,
  pipeline,
  TextStreamer,
  XlstmForCausalLM,
} from '../src/index.js';
import { modelDir } from './helpers.js';

let model: XlstmForCausalLM;
beforeAll(async () => {
  model = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device: 'cpu' });
});

const prompts = [
  [0, 5, 9],
  [0, 200, 17, 33, 71, 8, 99, 140, 3],
  [0, 44],
];

describe.each(['cpu', 'webgpu'] as const)(
  'generateBatch (%s): prompts of different lengths decode together',
  (device) => {
    let m: XlstmForCausalLM;
    beforeAll(async () => {
      m = device === 'cpu' ? model : await XlstmForCausalLM.fromPretrained(modelDir('single'), { device });
    });
    afterAll(() => {
      if (m !== model) m.dispose();
    });

    test('each row = its prompt generated alone; per-row stop tokens', async () => {
      const alone = [];
      for (const p of prompts)
        alone.push((await m.generate(p, { maxNewTokens: 10, stopTokens: [] })).tokens[0]);
      const r = await m.generateBatch(prompts, { maxNewTokens: 10, stopTokens: [] });
      expect(r.tokens).toEqual(alone);
      expect(r.prefillTokens).toBe(prompts.reduce((a, p) => a + p.length, 0));
      r.cache.release();
      // row 1 stops at its 4th token, the others run on
      const stopAt = alone[1][3];
      const first = alone[1].indexOf(stopAt);
      const s = await generateBatch(m, prompts, { maxNewTokens: 10, stopTokens: [[], [stopAt], []] });
      expect(s.tokens[1]).toEqual(alone[1].slice(0, first + 1));
      expect(s.stopReason[1]).toBe('stop');
      expect(s.tokens[0]).toEqual(alone[0]);
      expect(s.tokens[2]).toEqual(alone[2]);
      s.cache.release();
    });
  },
);

test('packed prefill with the core-reference cell (float64 states) and a long prompt over several chunks', async () => {
  const ref = await XlstmForCausalLM.fromPretrained(modelDir('single'), {
    device: 'cpu',
    cpuCell: 'reference',
  });
  const long = Array.from({ length: 150 }, (_, t) => (t * 37 + 11) % 500);
  const rows = [[0, 3], long, [0, 9, 9, 9, 400]];
  const alone = [];
  for (const p of rows)
    alone.push((await ref.generate(p, { maxNewTokens: 6, stopTokens: [], addBos: false })).tokens[0]);
  const r = await generateBatch(ref, rows, { maxNewTokens: 6, stopTokens: [], addBos: false });
  expect(r.packedPrefill).toBe(true);
  expect(r.tokens).toEqual(alone);
  r.cache.release();
});

describe('pipeline("text-generation")', () => {
  test('text in → [{ generated_text }] with the prompt; greedy = model.generate; progress and ready reported', async () => {
    const events: PipelineProgress[] = [];
    const gen = await pipeline('text-generation', modelDir('single'), {
      device: 'cpu',
      dtype: 'fp32',
      progress_callback: (p) => events.push(p),
    });
    expect(events.at(-1)).toMatchObject({ status: 'ready', task: 'text-generation' });
    const prompt = 'The matrix memory';
    const out = await gen(prompt, { max_new_tokens: 8 });
    const ref = await model.generate(prompt, { maxNewTokens: 8, stopTokens: model.eosTokenIds });
    const stopped = ref.stopReason[0] === 'stop' ? ref.tokens[0].slice(0, -1) : ref.tokens[0];
    const reply = model.tokenizer!.decode(stopped, { skipSpecialTokens: true });
    expect(out).toEqual([{ generated_text: prompt + reply }]);
    expect(await gen(prompt, { max_new_tokens: 8, return_full_text: false })).toEqual([
      { generated_text: reply },
    ]);

    // streaming: the async iterator and a streamer see the same text
    const pieces: string[] = [];
    for await (const piece of gen.stream(prompt, { max_new_tokens: 8 })) pieces.push(piece);
    expect(pieces.join('')).toBe(reply);
    let streamed = '';
    await gen(prompt, {
      max_new_tokens: 8,
      streamer: new TextStreamer({ callback_function: (t) => (streamed += t) }),
    });
    expect(streamed).toBe(prompt + reply);

    // sampling by transformers names: a seed reproduces, options are checked
    const a = await gen(prompt, {
      max_new_tokens: 8,
      do_sample: true,
      temperature: 0.9,
      top_k: 20,
      top_p: 0.95,
      seed: 7,
    });
    const b = await gen(prompt, {
      max_new_tokens: 8,
      do_sample: true,
      temperature: 0.9,
      top_k: 20,
      top_p: 0.95,
      seed: 7,
    });
    expect(a).toEqual(b);
    await expect(gen(prompt, { top_p: 2 })).rejects.toBeInstanceOf(ModelArgumentError);
    await expect(gen([{ role: 'user', content: 'hi' }])).rejects.toBeInstanceOf(ModelArgumentError);

    // a list of prompts of different lengths
    const texts = ['Hi', 'The state of the matrix memory of xLSTM'];
    const many = await gen(texts, { max_new_tokens: 6, repetition_penalty: 1.2 });
    for (const [x, t] of texts.entries())
      expect(many[x]).toEqual(await gen(t, { max_new_tokens: 6, repetition_penalty: 1.2 }));
  });

  test('chat messages go through the tokenizer config chat_template', async () => {
    const dir = modelDir('single');
    const files: Record<string, Uint8Array | string> = {};
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'generation_config.json'])
      files[f] = new Uint8Array(readFileSync(join(dir, f)));
    const template =
      '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}';
    files['tokenizer_config.json'] = JSON.stringify({
      ...JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
      chat_template: template,
    });
    const gen = await pipeline('text-generation', { files }, { device: 'cpu' });
    expect(gen.chatTemplate).toBe(template);
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is an mLSTM?' },
    ];
    const text = gen.applyChatTemplate(messages);
    expect(text).toBe('system: Be brief.\nuser: What is an mLSTM?\nassistant:');
    const [out] = await gen(messages, { max_new_tokens: 6 });
    const [plain] = await gen(text, { max_new_tokens: 6, return_full_text: false });
    expect(out.generated_text).toEqual([...messages, { role: 'assistant', content: plain.generated_text }]);
  });

  test('bad task or dtype → ModelArgumentError before loading', async () => {
    await expect(pipeline('translation' as never, modelDir('single'))).rejects.toBeInstanceOf(
      ModelArgumentError,
    );
    await expect(
      pipeline('text-generation', modelDir('single'), { dtype: 'q3' as never }),
    ).rejects.toBeInstanceOf(ModelArgumentError);
  });
});
