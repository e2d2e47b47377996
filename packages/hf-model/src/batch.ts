/**
 * Generation for a list of prompts of different lengths: the prompts are prefilled packed (the
 * mLSTM cell takes `seqStarts`; every other layer works token by token) — one forward on the CPU
 * path, as few as the binding limits allow on WebGPU — into one batch cache; then the rows decode
 * together — one forward of B tokens per step — each with its own stop tokens.
 */
import { ModelArgumentError } from './errors.js';
import {
  type GenerateOptions,
  type GenerateResult,
  stopSets,
  type TokenEvent,
  type XlstmCache,
  type XlstmForCausalLM,
} from './model.js';
import { chooseToken, makeRng } from './sampling.js';

/** Options of {@link streamBatch}: as `generate` (stop tokens for all rows or per row), without a cache. */
export interface BatchGenerateOptions extends Omit<GenerateOptions, 'cache'> {
  /** prefill the prompts packed (the cell takes sequence offsets; CPU and WebGPU; default true): else one prompt at a time */
  packedPrefill?: boolean;
}

/** What a batch generation reports besides the tokens. */
export interface BatchGenerateResult extends GenerateResult {
  /** tokens pushed through the prefills (the sum of the prompt lengths) */
  prefillTokens: number;
  /** whether the prompts were prefilled in one packed forward */
  packedPrefill: boolean;
}

/**
 * Streams the generation of a list of prompts (text or token ids, any lengths): one
 * {@link TokenEvent} per step with every row's new token (`-1` once a row has stopped).
 */
export async function* streamBatch(
  model: XlstmForCausalLM,
  prompts: readonly (string | readonly number[])[],
  opts: BatchGenerateOptions = {},
): AsyncGenerator<TokenEvent, BatchGenerateResult> {
  if (!Array.isArray(prompts) || prompts.length === 0)
    throw new ModelArgumentError('prompts', 'expected a non-empty list of prompts');
  const maxNew = opts.maxNewTokens ?? 32;
  if (!Number.isInteger(maxNew) || maxNew < 0)
    throw new ModelArgumentError('maxNewTokens', `expected an integer >= 0, got ${maxNew}`);
  const tok = model.tokenizer;
  const bos = model.config.bosTokenId;
  const rows = prompts.map((p, b) => {
    let ids: number[];
    if (typeof p === 'string') {
      if (!tok)
        throw new ModelArgumentError('prompts', 'text needs a tokenizer (no tokenizer.json was loaded)');
      ids = tok.encode(p);
    } else if (Array.isArray(p)) ids = [...p];
    else throw new ModelArgumentError('prompts', `prompt ${b} is neither text nor a list of token ids`);
    if ((opts.addBos ?? true) && bos !== null && ids[0] !== bos) ids.unshift(bos);
    if (ids.length === 0) throw new ModelArgumentError('prompts', `prompt ${b} has no tokens`);
    return ids;
  });
  const B = rows.length;
  const stops = stopSets(opts.stopTokens, B, () => model.defaultStopTokens());
  const signal = opts.signal;
  const abort = () => signal?.reason ?? new DOMException('The operation was aborted.', 'AbortError');
  const V = model.config.vocabSize;
  const rng = makeRng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));

  // one packed prefill where the model has it (CPU), else each prompt from zeros with its states
  // stacked into one batch cache
  if (signal?.aborted) throw abort();
  let logits: Float32Array;
  let cache: XlstmCache;
  const packed = opts.packedPrefill === false ? null : await model._prefillPacked(rows);
  if (packed) ({ logits, cache } = packed);
  else {
    logits = new Float32Array(B * V);
    const ones: XlstmCache[] = [];
    try {
      for (const [b, ids] of rows.entries()) {
        if (signal?.aborted) throw abort();
        const one = model.newCache(1);
        ones.push(one);
        const r = await model.forward(ids, { cache: one, lastOnly: true });
        logits.set(r.logits, b * V);
      }
      cache = model._stackCaches(ones);
    } finally {
      for (const one of ones) one.release();
    }
  }

  const history = rows.map((r) => [...r]);
  const generated: number[][] = rows.map(() => []);
  const done = rows.map(() => false);
  const reason: ('stop' | 'length')[] = rows.map(() => 'length');
  const texts = rows.map(() => '');
  try {
    for (let step = 0; step < maxNew; step++) {
      if (signal?.aborted) throw abort();
      const tokens: number[] = [];
      const finished: boolean[] = [];
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          tokens.push(-1);
          finished.push(false);
          continue;
        }
        const t = chooseToken(logits, b * V, V, opts, history[b], rng);
        tokens.push(t);
        history[b].push(t);
        generated[b].push(t);
        const hit = stops[b].has(t);
        if (hit) {
          done[b] = true;
          reason[b] = 'stop';
        }
        finished.push(hit);
      }
      let text: string[] | undefined;
      if (tok) {
        text = rows.map((_, b) => {
          if (tokens[b] < 0) return '';
          const full = tok.decode(generated[b]);
          if (full.endsWith('\uFFFD') && !done[b] && step < maxNew - 1) return '';
          const delta = full.slice(texts[b].length);
          texts[b] = full;
          return delta;
        });
      }
      const ev: TokenEvent = { step, tokens, finished, ...(text ? { text } : {}) };
      opts.onToken?.(ev);
      yield ev;
      if (done.every(Boolean) || step === maxNew - 1) break;
      // stopped rows keep a valid token flowing (their outputs are ignored)
      const next = rows.map((_, b) => [done[b] ? history[b][history[b].length - 1] : tokens[b]]);
      ({ logits } = await model.forward(next, { cache, lastOnly: true }));
    }
  } catch (e) {
    cache.release();
    throw e;
  }
  return {
    tokens: generated,
    ...(tok ? { text: generated.map((g) => tok.decode(g)) } : {}),
    stopReason: reason,
    cache,
    prefillTokens: rows.reduce((a, r) => a + r.length, 0),
    packedPrefill: packed !== null,
  };
}

/** Generates for a list of prompts of different lengths (see {@link streamBatch}). */
export async function generateBatch(
  model: XlstmForCausalLM,
  prompts: readonly (string | readonly number[])[],
  opts: BatchGenerateOptions = {},
): Promise<BatchGenerateResult> {
  const it = streamBatch(model, prompts, opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}
