/**
 * `pipeline('text-generation', source, { device, dtype, progress_callback })` in the shape of
 * transformers.js: a callable that takes text (or a list of texts, or chat messages) and
 * generation options by their transformers names, and returns `[{ generated_text }]`. Chat
 * messages go through the tokenizer config's `chat_template` (Jinja, via `@huggingface/jinja`).
 */
import { generateBatch } from './batch.js';
import { ChatTemplate } from './chat-template.js';
import { ModelArgumentError } from './errors.js';
import { type LoadOptions, type TokenEvent, XlstmForCausalLM } from './model.js';
import type { WeightFormat } from './quant/formats.js';
import type { SamplingOptions } from './sampling.js';
import { type ModelSource, openSource } from './sources.js';

/** Progress reports, as transformers.js's `progress_callback` receives them. */
export type PipelineProgress =
  | {
      status: 'progress';
      name: string;
      file: string;
      loaded: number;
      total: number | null;
      progress: number | null;
    }
  | { status: 'ready'; task: 'text-generation'; model: string };

/** Options of {@link pipeline} (transformers.js names; the rest as `XlstmForCausalLM.fromPretrained`). */
export interface PipelineOptions
  extends Omit<LoadOptions, 'device' | 'dtype' | 'weightDtype' | 'onProgress'> {
  /** 'webgpu', 'cpu' or 'auto' (default) */
  device?: 'webgpu' | 'cpu' | 'auto';
  /** weights on the GPU: 'fp32', 'fp16', 'q8', 'q4' or 'auto' (default; 'f32' / 'f16' accepted too) */
  dtype?: 'fp32' | 'fp16' | 'f32' | 'f16' | 'q8' | 'q4' | 'auto';
  progress_callback?: (p: PipelineProgress) => void;
}

/** A chat message (`role`, `content`), as chat templates take them. */
export interface Message {
  role: string;
  content: string;
}

/**
 * Receives the text as it is generated: `put(text)` per new piece, `end()` once. `skip_prompt`
 * (default false) leaves the prompt out, as transformers.js's `TextStreamer`.
 */
export class TextStreamer {
  readonly skip_prompt: boolean;
  private readonly callback: (text: string) => void;
  constructor(opts: { skip_prompt?: boolean; callback_function?: (text: string) => void } = {}) {
    this.skip_prompt = opts.skip_prompt ?? false;
    this.callback = opts.callback_function ?? ((t) => void globalThis.process?.stdout?.write?.(t));
  }
  put(text: string): void {
    if (text) this.callback(text);
  }
  end(): void {
    this.callback('');
  }
}

/** Generation options by their transformers names. */
export interface TextGenerationConfig {
  /** default 20 (transformers' `max_length`-free default for new tokens in pipelines is 20) */
  max_new_tokens?: number;
  /** false (default): greedy; true: sample with temperature / top_k / top_p */
  do_sample?: boolean;
  /** default 1 (when sampling) */
  temperature?: number;
  /** default 50 (when sampling; 0 = all) */
  top_k?: number;
  /** default 1 */
  top_p?: number;
  /** default 1 (off) */
  repetition_penalty?: number;
  /** stop ids (default: the model's `eos_token_id`s); a list of lists gives one per prompt */
  eos_token_id?: number | number[] | number[][];
  /** text inputs: prepend the prompt to `generated_text` (default true, as transformers) */
  return_full_text?: boolean;
  /** chat messages: append the assistant prompt of the template (default true) */
  add_generation_prompt?: boolean;
  streamer?: TextStreamer;
  /** the sampler's seed (default random) */
  seed?: number;
  signal?: AbortSignal;
}

type Output = { generated_text: string | Message[] };

/** The callable pipeline. */
export interface TextGenerationPipeline {
  (input: string, config?: TextGenerationConfig): Promise<{ generated_text: string }[]>;
  (input: Message[], config?: TextGenerationConfig): Promise<{ generated_text: Message[] }[]>;
  (input: string[], config?: TextGenerationConfig): Promise<{ generated_text: string }[][]>;
  readonly task: 'text-generation';
  readonly model: XlstmForCausalLM;
  /** the tokenizer config's `chat_template`, if any */
  readonly chatTemplate: string | null;
  /** the prompt text of chat messages (through the chat template) */
  applyChatTemplate(messages: Message[], opts?: { add_generation_prompt?: boolean }): string;
  /** streams the generated text of one prompt, piece by piece */
  stream(input: string | Message[], config?: TextGenerationConfig): AsyncGenerator<string, Output[]>;
  dispose(): void;
}

const DTYPES: Record<string, WeightFormat | 'auto'> = {
  fp32: 'f32',
  f32: 'f32',
  fp16: 'f16',
  f16: 'f16',
  q8: 'q8',
  q4: 'q4',
  auto: 'auto',
};

function sampling(c: TextGenerationConfig): SamplingOptions {
  for (const [k, v, ok] of [
    ['max_new_tokens', c.max_new_tokens, (x: number) => Number.isInteger(x) && x >= 0],
    ['temperature', c.temperature, (x: number) => x > 0],
    ['top_k', c.top_k, (x: number) => Number.isInteger(x) && x >= 0],
    ['top_p', c.top_p, (x: number) => x > 0 && x <= 1],
    ['repetition_penalty', c.repetition_penalty, (x: number) => x > 0],
  ] as const) {
    if (v !== undefined && (typeof v !== 'number' || !ok(v)))
      throw new ModelArgumentError(k, `invalid value ${v}`);
  }
  const pen = c.repetition_penalty;
  if (!c.do_sample) return { temperature: 0, ...(pen !== undefined ? { repetitionPenalty: pen } : {}) };
  return {
    temperature: c.temperature ?? 1,
    topK: c.top_k ?? 50,
    topP: c.top_p ?? 1,
    ...(pen !== undefined ? { repetitionPenalty: pen } : {}),
  };
}

/**
 * A text-generation pipeline (transformers.js shape) on an xLSTM model.
 *
 * ```ts
 * const generator = await pipeline('text-generation', 'NX-AI/xLSTM-7b', { device: 'webgpu', dtype: 'fp16' });
 * const [{ generated_text }] = await generator('The matrix memory', { max_new_tokens: 32 });
 * for await (const piece of generator.stream('Once upon a time', { do_sample: true })) write(piece);
 * ```
 */
export async function pipeline(
  task: 'text-generation',
  source: ModelSource | XlstmForCausalLM,
  options: PipelineOptions = {},
): Promise<TextGenerationPipeline> {
  if (task !== 'text-generation')
    throw new ModelArgumentError('task', `expected 'text-generation', got ${JSON.stringify(task)}`);
  const { device, dtype, progress_callback, ...load } = options;
  const weightDtype = DTYPES[dtype ?? 'auto'];
  if (!weightDtype) {
    throw new ModelArgumentError(
      'dtype',
      `expected 'fp32', 'fp16', 'q8', 'q4' or 'auto', got ${JSON.stringify(dtype)}`,
    );
  }
  const name =
    source instanceof XlstmForCausalLM
      ? 'model'
      : typeof source === 'object' && 'files' in source
        ? 'files'
        : String(source);
  let model: XlstmForCausalLM;
  let tokConfig: Record<string, unknown> = {};
  if (source instanceof XlstmForCausalLM) {
    model = source;
    tokConfig = { ...model.tokenizer?.config };
  } else {
    model = await XlstmForCausalLM.fromPretrained(source, {
      ...load,
      device: device ?? 'auto',
      dtype: weightDtype,
      onProgress: progress_callback
        ? (p) =>
            progress_callback({
              status: 'progress',
              name,
              file: p.file,
              loaded: p.loaded,
              total: p.total,
              progress: p.total ? (100 * p.loaded) / p.total : null,
            })
        : undefined,
    });
    const text = await (await openSource(source, load)).text('tokenizer_config.json');
    if (text) tokConfig = JSON.parse(text) as Record<string, unknown>;
  }
  if (!model.tokenizer)
    throw new ModelArgumentError('source', 'the text-generation pipeline needs tokenizer.json');
  const tok = model.tokenizer;
  const template = ChatTemplate.fromTokenizerConfig(tokConfig);
  const chatTemplate = template?.source ?? null;

  const applyChatTemplate = (messages: Message[], o: { add_generation_prompt?: boolean } = {}) => {
    if (!template) {
      throw new ModelArgumentError(
        'input',
        'chat messages need a chat_template in tokenizer_config.json (this model has none; pass text)',
      );
    }
    return template.render(messages, o);
  };

  const isChat = (x: unknown): x is Message[] =>
    Array.isArray(x) && x.length > 0 && typeof x[0] === 'object' && x[0] !== null && 'role' in x[0];
  const stops = (c: TextGenerationConfig): number[] | number[][] => {
    const e = c.eos_token_id;
    if (e === undefined) return model.eosTokenIds;
    return typeof e === 'number' ? [e] : e;
  };
  const promptOf = (input: string | Message[], c: TextGenerationConfig) =>
    isChat(input) ? applyChatTemplate(input, c) : input;
  const outputOf = (
    input: string | Message[],
    prompt: string,
    reply: string,
    c: TextGenerationConfig,
  ): Output =>
    isChat(input)
      ? { generated_text: [...input, { role: 'assistant', content: reply }] }
      : { generated_text: (c.return_full_text ?? true) ? prompt + reply : reply };
  const replyText = (ids: number[], stop: Set<number>) =>
    tok.decode(ids.length && stop.has(ids[ids.length - 1]) ? ids.slice(0, -1) : ids, {
      skipSpecialTokens: true,
    });

  async function* stream(
    input: string | Message[],
    c: TextGenerationConfig = {},
  ): AsyncGenerator<string, Output[]> {
    if (typeof input !== 'string' && !isChat(input))
      throw new ModelArgumentError('input', 'expected text or chat messages');
    const prompt = promptOf(input, c);
    const stop = stops(c);
    if (Array.isArray(stop[0]))
      throw new ModelArgumentError('eos_token_id', 'one list of ids for one prompt');
    const stopIds = stop as number[];
    if (c.streamer && !c.streamer.skip_prompt) c.streamer.put(prompt);
    const it = model.stream(prompt, {
      ...sampling(c),
      maxNewTokens: c.max_new_tokens ?? 20,
      stopTokens: stopIds,
      seed: c.seed,
      signal: c.signal,
    });
    const stopSet = new Set(stopIds);
    for (;;) {
      const r = await it.next();
      if (r.done) {
        r.value.cache.release();
        c.streamer?.end();
        return [outputOf(input, prompt, replyText(r.value.tokens[0], stopSet), c)];
      }
      const e = r.value as TokenEvent;
      const piece = e.finished[0] && stopSet.has(e.tokens[0]) ? '' : (e.text?.[0] ?? '');
      if (piece) {
        c.streamer?.put(piece);
        yield piece;
      }
    }
  }

  async function run(
    input: string | string[] | Message[],
    c: TextGenerationConfig = {},
  ): Promise<Output[] | Output[][]> {
    if (Array.isArray(input) && !isChat(input)) {
      if (!input.every((x) => typeof x === 'string'))
        throw new ModelArgumentError('input', 'expected text, a list of texts, or chat messages');
      if (c.streamer)
        throw new ModelArgumentError('streamer', 'streams one prompt at a time (call per prompt)');
      const stop = stops(c);
      const r = await generateBatch(model, input, {
        ...sampling(c),
        maxNewTokens: c.max_new_tokens ?? 20,
        stopTokens: stop,
        seed: c.seed,
        signal: c.signal,
      });
      r.cache.release();
      return input.map((p, b) => {
        const s = new Set(Array.isArray(stop[0]) ? (stop as number[][])[b] : (stop as number[]));
        return [outputOf(p, p, replyText(r.tokens[b], s), c)];
      });
    }
    const it = stream(input as string | Message[], c);
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
    }
  }

  const p = Object.assign(run, {
    task: 'text-generation' as const,
    model,
    chatTemplate,
    applyChatTemplate,
    stream,
    dispose: () => model.dispose(),
  });
  progress_callback?.({ status: 'ready', task: 'text-generation', model: name });
  return p as unknown as TextGenerationPipeline;
}
