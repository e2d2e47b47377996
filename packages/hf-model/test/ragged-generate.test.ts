/**
 * `generate` / `stream` with a list of prompts of different lengths: routed to the batch path
 * (packed prefill, then one decode of all rows) with the
 * result shape of `generate`; equal-length lists stay on the one-forward-per-step path.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type GenerateResult, ModelArgumentError, type TokenEvent, XlstmForCausalLM } from '../src/index.js';
import { modelDir } from './helpers.js';

describe.each(['cpu', 'webgpu'] as const)('generate with prompts of different lengths (%s)', (device) => {
  let m: XlstmForCausalLM;
  beforeAll(async () => {
    m = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device });
  });
  afterAll(() => m.dispose());

  test('ragged id rows and texts: greedy rows = each prompt alone; the result shape of generate', async () => {
    const cases: { name: string; prompts: (string | number[])[] }[] = [
      {
        name: 'ids',
        prompts: [
          [0, 5, 9],
          [0, 200, 17, 33, 71, 8, 99, 140, 3],
          [0, 44],
        ],
      },
      { name: 'texts', prompts: ['short', 'a much longer prompt than the first'] },
      { name: 'texts and ids', prompts: ['The matrix memory', [7, 7]] },
    ];
    for (const { name, prompts } of cases) {
      const alone: GenerateResult[] = [];
      for (const p of prompts) alone.push(await m.generate(p, { maxNewTokens: 7, stopTokens: [] }));
      const events: TokenEvent[] = [];
      const r = await m.generate(prompts, {
        maxNewTokens: 7,
        stopTokens: [],
        onToken: (e) => events.push(e),
      });
      expect(r.tokens, name).toEqual(alone.map((a) => a.tokens[0]));
      expect(r.text, name).toEqual(alone.map((a) => a.text![0]));
      expect(r.stopReason, name).toEqual(prompts.map(() => 'length'));
      expect(Object.keys(r).sort(), name).toEqual(['cache', 'stopReason', 'text', 'tokens']);
      expect(r.cache.batch, name).toBe(prompts.length);
      expect(
        events.map((e) => e.tokens),
        name,
      ).toEqual(Array.from({ length: 7 }, (_, s) => alone.map((a) => a.tokens[0][s])));
      r.cache.release();
      for (const a of alone) a.cache.release();
    }
  });

  test('stream: the same events and result; a row stops on its own stop token', async () => {
    const prompts = [
      [0, 5, 9],
      [0, 200, 17, 33, 71, 8, 99, 140, 3],
      [0, 44],
    ];
    const full = await m.generate(prompts, { maxNewTokens: 8, stopTokens: [] });
    full.cache.release();
    // stop at row 1's 3rd token: row 1 ends there (stop), the rows that never produce it go on
    const stopAt = full.tokens[1][2];
    const it = m.stream(prompts, { maxNewTokens: 8, stopTokens: [stopAt] });
    const events: TokenEvent[] = [];
    let r: IteratorResult<TokenEvent, Awaited<ReturnType<XlstmForCausalLM['generate']>>>;
    for (r = await it.next(); !r.done; r = await it.next()) events.push(r.value);
    const res = r.value;
    for (const [b, row] of full.tokens.entries()) {
      const at = row.indexOf(stopAt);
      expect(res.tokens[b]).toEqual(at < 0 ? row : row.slice(0, at + 1));
      expect(res.stopReason[b]).toBe(at < 0 ? 'length' : 'stop');
    }
    expect(events.map((e) => e.tokens.filter((t) => t >= 0).length).reduce((a, n) => a + n, 0)).toBe(
      res.tokens.reduce((a, t) => a + t.length, 0),
    );
    res.cache.release();
  });

  test('stop tokens per row (ragged and equal-length lists); a count that does not match is refused', async () => {
    for (const prompts of [
      [
        [0, 5, 9],
        [0, 200, 17, 33, 71, 8, 99, 140, 3],
        [0, 44],
      ],
      [
        [0, 5, 9],
        [0, 7, 1],
        [0, 44, 2],
      ],
    ]) {
      const full = await m.generate(prompts, { maxNewTokens: 8, stopTokens: [] });
      full.cache.release();
      // row 1 stops at its 3rd token, the others have no stop ids
      const stopAt = full.tokens[1][2];
      const r = await m.generate(prompts, { maxNewTokens: 8, stopTokens: [[], [stopAt], []] });
      const at = full.tokens[1].indexOf(stopAt);
      expect(r.tokens).toEqual([full.tokens[0], full.tokens[1].slice(0, at + 1), full.tokens[2]]);
      expect(r.stopReason).toEqual(['length', 'stop', 'length']);
      r.cache.release();
      await expect(m.generate(prompts, { stopTokens: [[1], [2]] })).rejects.toThrow(/stopTokens/);
    }
  });

  test('equal-length lists keep the one-forward path; a cache with ragged prompts is refused', async () => {
    const r = await m.generate(
      [
        [0, 5, 9],
        [0, 7, 1],
      ],
      { maxNewTokens: 3, stopTokens: [] },
    );
    expect(r.tokens.map((t) => t.length)).toEqual([3, 3]);
    await expect(
      m.generate(
        [
          [0, 5],
          [0, 7, 1],
        ],
        { cache: r.cache },
      ),
    ).rejects.toThrow(ModelArgumentError);
    r.cache.release();
    await expect(m.generate([[0, 5], 'x', 3 as unknown as number[]])).rejects.toThrow(/prompt 2/);
  });
});
