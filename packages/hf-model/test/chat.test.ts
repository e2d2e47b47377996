/**
 * ChatSession on the tiny fixture model (CPU): the second turn prefills only its own tokens and
 * replies as a single generation over the whole conversation would; a session saved to Node file
 * storage and reopened continues exactly as one that never stopped; a stored session of another
 * model is refused; with a tokenizer config that has a `chat_template`, turns are rendered through
 * it and each turn feeds only what follows the text the state holds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ChatSession,
  fileStateStorage,
  pipeline,
  StateSnapshotError,
  XlstmForCausalLM,
} from '../src/index.js';
import { modelDir } from './helpers.js';

const folder = mkdtempSync(join(tmpdir(), 'mlstm-chat-'));
let model: XlstmForCausalLM;
beforeAll(async () => {
  model = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device: 'cpu' });
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const gen = { maxNewTokens: 12, stopTokens: [] as number[] };

describe('ChatSession', () => {
  test('turn 2 prefills only its own tokens and replies as one generation over the whole history', async () => {
    const chat = await ChatSession.open(model, { generation: gen });
    const tok = model.tokenizer!;
    const r1 = await chat.send('The matrix memory');
    const p1 = [0, ...tok.encode('User: The matrix memory\nAssistant:')];
    expect(r1.prefillTokens).toBe(p1.length);
    const turn2 = tok.encode('\nUser: and the gates?\nAssistant:');
    const r2 = await chat.send('and the gates?');
    // the previous reply's last token (generated, not yet fed) + this turn's text, no history
    expect(r2.prefillTokens).toBe(1 + turn2.length);
    expect(chat.prefillTokens).toBe(p1.length + 1 + turn2.length);
    expect(chat.tokensSeen).toBe(p1.length + r1.tokens.length + turn2.length + r2.tokens.length - 1);
    // reference: the whole conversation prefilled at once
    const whole = await model.generate([...p1, ...r1.tokens, ...turn2], { ...gen, addBos: false });
    expect(r2.tokens).toEqual(whole.tokens[0]);
    expect(chat.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    chat.dispose();
  });

  test('a turn aborted mid-reply leaves the session consistent with its state', async () => {
    const chat = await ChatSession.open(model, { generation: gen });
    const tok = model.tokenizer!;
    const ctrl = new AbortController();
    const seen: number[] = [];
    await expect(
      chat.send('The matrix memory', {
        signal: ctrl.signal,
        onToken: (e) => {
          seen.push(e.tokens[0]);
          if (seen.length === 3) ctrl.abort();
        },
      }),
    ).rejects.toBeDefined();
    expect(chat.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    const r2 = await chat.send('and the gates?');
    const p1 = [0, ...tok.encode('User: The matrix memory\nAssistant:')];
    const turn2 = tok.encode('\nUser: and the gates?\nAssistant:');
    const whole = await model.generate([...p1, ...seen, ...turn2], { ...gen, addBos: false });
    expect(r2.tokens).toEqual(whole.tokens[0]);
    chat.dispose();
  });

  test('saved to a file and reopened: the next turn is the one of a session that never stopped', async () => {
    const storage = fileStateStorage(folder);
    const a = await ChatSession.open(model, { storage, key: 'alice', generation: gen });
    await a.send('Hello there');
    await a.save();
    const third = await a.send('Tell me more');
    const b = await ChatSession.open(model, { storage, key: 'alice', generation: gen });
    expect(b.messages).toHaveLength(2);
    const resumed = await b.send('Tell me more');
    expect(resumed.tokens).toEqual(third.tokens);
    expect(resumed.prefillTokens).toBe(third.prefillTokens);
    expect(await storage.get('nobody')).toBeNull();
    await b.reset(true);
    expect(await storage.get('alice')).toBeNull();
    a.dispose();
    b.dispose();
  });

  test('a stored session of another model configuration is refused (StateSnapshotError)', async () => {
    const storage = fileStateStorage(folder);
    const a = await ChatSession.open(model, { storage, key: 'other', generation: gen });
    await a.send('Hi');
    await a.save();
    const fused = await XlstmForCausalLM.fromPretrained(modelDir('fused'), { device: 'cpu' });
    await expect(ChatSession.open(fused, { storage, key: 'other' })).rejects.toBeInstanceOf(
      StateSnapshotError,
    );
    a.dispose();
  });
});

describe('ChatSession with a chat_template in the tokenizer config', () => {
  const template =
    '{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}';
  let tm: XlstmForCausalLM;
  beforeAll(async () => {
    const dir = modelDir('single');
    const files: Record<string, Uint8Array | string> = {};
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'generation_config.json'])
      files[f] = new Uint8Array(readFileSync(join(dir, f)));
    files['tokenizer_config.json'] = JSON.stringify({
      ...JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
      chat_template: template,
    });
    tm = await XlstmForCausalLM.fromPretrained({ files }, { device: 'cpu' });
  });

  test('turns rendered by the template; turn 2 feeds only its new text and replies as one generation', async () => {
    expect(tm.tokenizer!.chatTemplate?.source).toBe(template);
    // the pipeline shares the rendering, also when given the model instance
    const p = await pipeline('text-generation', tm);
    expect(p.chatTemplate).toBe(template);
    expect(p.applyChatTemplate([{ role: 'user', content: 'x' }])).toBe('<user>x\n<assistant>');
    const tok = tm.tokenizer!;
    const chat = await ChatSession.open(tm, { generation: gen, system: 'Be brief.' });
    expect(chat.template).not.toBeNull();
    const r1 = await chat.send('The matrix memory');
    const text1 = '<system>Be brief.\n<user>The matrix memory\n<assistant>';
    const p1 = [0, ...tok.encode(text1)];
    expect(r1.prefillTokens).toBe(p1.length);
    const r2 = await chat.send('and the gates?');
    // the template renders the reply then the new turn: only the new turn is fed
    const turn2 = tok.encode('\n<user>and the gates?\n<assistant>');
    expect(r2.prefillTokens).toBe(1 + turn2.length);
    const whole = await tm.generate([...p1, ...r1.tokens, ...turn2], { ...gen, addBos: false });
    expect(r2.tokens).toEqual(whole.tokens[0]);
    expect(chat.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
    chat.dispose();
  });

  test('a reply that ends on a stop token the template leaves out: the turn starts after it', async () => {
    const tok = tm.tokenizer!;
    const probe = await ChatSession.open(tm, { generation: gen });
    const first = await probe.send('Hello');
    probe.dispose();
    const stop = first.tokens[2];
    const cut = first.tokens.indexOf(stop);
    const chat = await ChatSession.open(tm, { generation: { ...gen, stopTokens: [stop] } });
    const r1 = await chat.send('Hello');
    expect(r1.stopReason).toBe('stop');
    expect(r1.tokens).toEqual(first.tokens.slice(0, cut + 1));
    expect(r1.text).toBe(tok.decode(r1.tokens.slice(0, -1)));
    const r2 = await chat.send('Again');
    // the stop token was fed (pending), the template's text goes on after the reply without it
    expect(r2.prefillTokens).toBe(1 + tok.encode('\n<user>Again\n<assistant>').length);
    chat.dispose();
  });

  test('format or chatTemplate: false keeps the plain turns', async () => {
    const tok = tm.tokenizer!;
    const chat = await ChatSession.open(tm, { generation: gen, chatTemplate: false });
    expect(chat.template).toBeNull();
    const r = await chat.send('The matrix memory');
    expect(r.prefillTokens).toBe(1 + tok.encode('User: The matrix memory\nAssistant:').length);
    chat.dispose();
    const custom = await ChatSession.open(tm, { generation: gen, format: (m) => `> ${m.content}\n` });
    expect(custom.template).toBeNull();
    expect((await custom.send('hi')).prefillTokens).toBe(1 + tok.encode('> hi\n').length);
    custom.dispose();
  });
});
