/**
 * ChatSession on the tiny fixture model (CPU): the second turn prefills only its own tokens and
 * replies as a single generation over the whole conversation would; a session saved to Node file
 * storage and reopened continues exactly as one that never stopped; a stored session of another
 * model is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ChatSession, fileStateStorage, StateSnapshotError, XlstmForCausalLM } from '../src/index.js';
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
