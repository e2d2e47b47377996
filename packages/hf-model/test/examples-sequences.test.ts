/** The pipeline / chat example (examples/pipeline-tiny.ts, shown in docs/guide/model.md) runs as a test. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { main } from '../examples/pipeline-tiny.js';
import { XlstmTokenizer } from '../src/index.js';
import { modelDir } from './helpers.js';

test('pipeline-tiny: generated text, streamed text, chat turns that prefill only their own text, resumed from a file', async () => {
  const chats = mkdtempSync(join(tmpdir(), 'mlstm-chats-'));
  try {
    const r = await main(modelDir('single'), chats);
    expect(r.generated_text.startsWith('The matrix memory')).toBe(true);
    expect(r.streamed.length).toBeGreaterThan(0);
    // turn 1: BOS + its text; later turns: one pending token + their own text, not the history
    const tok = new XlstmTokenizer(
      JSON.parse(readFileSync(join(modelDir('single'), 'tokenizer.json'), 'utf8')),
    );
    const own = (text: string, first: boolean) =>
      1 + tok.encode(`${first ? '' : '\n'}User: ${text}\nAssistant:`).length;
    expect(r.prefill).toEqual([
      own('Hello!', true),
      own('Tell me about gates.', false),
      own('And the memory?', false),
    ]);
    expect(r.messages).toBe(6);
  } finally {
    rmSync(chats, { recursive: true, force: true });
  }
});
