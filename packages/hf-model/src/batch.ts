/**
 * Generation for a list of prompts of different lengths: the prompts are prefilled packed (the
 * mLSTM cell takes `seqStarts`; every other layer works token by token) — one forward on the CPU
 * path, as few as the binding limits allow on WebGPU — into one batch cache; then the rows decode
 * together as in `generate` (WebGPU: the replayed step, GPU sampling), each with its own stop
 * tokens.
 */
import { ModelArgumentError } from './errors.js';
import type { GenerateOptions, GenerateResult, TokenEvent, XlstmForCausalLM } from './model.js';

/** Options of {@link streamBatch}: as `generate` (stop tokens for all rows or per row), without a cache. */
export interface BatchGenerateOptions extends Omit<GenerateOptions, 'cache'> {
  /** prefill the prompts packed (the cell takes sequence offsets; CPU and WebGPU; default true): else one prompt at a time */
  packedPrefill?: boolean;
}

/** What a batch generation reports besides the tokens. */
export interface BatchGenerateResult extends GenerateResult {
  /** tokens pushed through the prefills (the sum of the prompt lengths) */
  prefillTokens: number;
  /** whether the prompts were prefilled packed (else one at a time: `packedPrefill: false`) */
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
  const { packedPrefill: packedOpt, ...rest } = opts;
  const packed = packedOpt !== false;
  const r = yield* model._streamRows(rows, { ...rest, addBos: false }, packed ? 'packed' : 'each');
  return { ...r, prefillTokens: rows.reduce((a, x) => a + x.length, 0), packedPrefill: packed };
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
