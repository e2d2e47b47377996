/**
 * The xLSTM model off the main thread: @mlstm/hf-model's loading (URL / Hub id / dropped files),
 * memory estimate, streaming generation with stop, tokens per second.
 */
import {
  ChatSession,
  estimateMemory,
  indexedDbStateStorage,
  type LoadProgress,
  type ModelSource,
  parseXlstmConfig,
  type TokenEvent,
  XlstmForCausalLM,
} from '@mlstm/hf-model';
import { serve } from '../rpc.js';
import type {
  ChatArgs,
  ChatDone,
  ChatOpened,
  ChatProgress,
  GenerateArgs,
  GenerateDone,
  LoadArgs,
  LoadDone,
  ModelProgress,
} from './model-protocol.js';

let model: XlstmForCausalLM | null = null;
let generation: AbortController | null = null;
let chat: ChatSession | null = null;

/** Where the chat state is kept between visits (one session per browser profile). */
const CHAT_DB = 'mlstm-demo-chat';
const CHAT_KEY = 'model-page';

async function configText(a: LoadArgs): Promise<string> {
  if (a.source.kind === 'files') {
    const f = a.source.files.find((x) => x.name === 'config.json');
    if (!f) throw new Error('config.json is missing among the chosen files');
    return f.text();
  }
  const base = /^https?:\/\//.test(a.source.url)
    ? a.source.url.replace(/\/$/, '')
    : `https://huggingface.co/${a.source.url}/resolve/main`;
  const r = await fetch(`${base}/config.json`);
  if (!r.ok) throw new Error(`${base}/config.json: HTTP ${r.status}`);
  return r.text();
}

/**
 * A fetch that answers "404" itself for files a folder's listing does not name, so that the loader's
 * probes of optional files (model.safetensors.index.json …) cause no failed request in the console.
 */
async function listedFetch(listingUrl: string): Promise<typeof fetch> {
  const r = await fetch(listingUrl);
  if (!r.ok) return fetch;
  const files = new Set((await r.json()) as string[]);
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const name = decodeURIComponent(url.split('?')[0].split('/').pop() ?? '');
    if (!files.has(name)) return Promise.resolve(new Response(null, { status: 404 }));
    return fetch(input, init);
  };
}

async function load(a: LoadArgs, progress: (d: ModelProgress) => void): Promise<LoadDone> {
  generation?.abort();
  chat?.dispose();
  chat = null;
  model?.dispose();
  model = null;
  const t0 = performance.now();
  // the estimate first (config.json only), so that a too-large model is visible before the download
  const cfg = parseXlstmConfig(await configText(a));
  const est = (dtype: 'f32' | 'f16' | 'q8' | 'q4') =>
    estimateMemory(cfg, { dtype, batch: 1, seqLen: a.estimateSeqLen });
  let maxBinding: number | null = null;
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (a.device !== 'cpu' && gpu) {
    const adapter = await gpu.requestAdapter().catch(() => null);
    maxBinding = adapter?.limits.maxStorageBufferBindingSize ?? null;
  }
  progress({
    kind: 'estimate',
    maxStorageBufferBindingSize: maxBinding,
    f32: est('f32'),
    f16: est('f16'),
    q8: est('q8'),
    q4: est('q4'),
    dims: { ...cfg.dims },
    seqLen: a.estimateSeqLen,
  });
  let source: ModelSource;
  if (a.source.kind === 'files') {
    const files: Record<string, Blob> = {};
    for (const f of a.source.files) files[f.name] = f;
    source = { files };
  } else source = a.source.url;
  model = await XlstmForCausalLM.fromPretrained(source, {
    ...(a.source.kind === 'url' && a.source.listing ? { fetch: await listedFetch(a.source.listing) } : {}),
    device: a.device,
    dtype: a.weightDtype,
    cache: a.cache,
    onProgress: (p: LoadProgress) => progress({ kind: 'download', ...p }),
  });
  return {
    device: model.device,
    loadMs: performance.now() - t0,
    tokenizer: !!model.tokenizer,
    eosTokenIds: model.eosTokenIds,
    vocabSize: model.config.vocabSize,
    blocks: model.config.dims.blocks,
    hidden: model.config.hiddenSize,
  };
}

/** A macrotask break: lets the `stop` message in even when a CPU forward never yields. */
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

async function generate(a: GenerateArgs, progress: (d: ModelProgress) => void): Promise<GenerateDone> {
  if (!model) throw new Error('no model loaded');
  generation?.abort();
  const ctrl = new AbortController();
  generation = ctrl;
  let prompt: string | number[];
  if (a.promptIds) prompt = a.promptIds;
  else {
    if (!model.tokenizer)
      throw new Error('this checkpoint has no tokenizer.json: give the prompt as token ids');
    prompt = a.prompt;
  }
  const t0 = performance.now();
  let tFirst = 0;
  const tokens: number[] = [];
  let text = '';
  let stopped = false;
  try {
    const it = model.stream(prompt, {
      maxNewTokens: a.maxNewTokens,
      temperature: a.temperature,
      topK: a.topK || undefined,
      topP: a.topP < 1 ? a.topP : undefined,
      seed: a.seed,
      stopTokens: a.stopAtEndOfText ? undefined : [],
      signal: ctrl.signal,
    });
    for await (const ev of it as AsyncGenerator<TokenEvent>) {
      const now = performance.now();
      if (ev.step === 0) tFirst = now;
      tokens.push(ev.tokens[0]);
      text += ev.text?.[0] ?? '';
      const decodeS = (now - tFirst) / 1000;
      progress({
        kind: 'token',
        step: ev.step,
        token: ev.tokens[0],
        text: ev.text?.[0] ?? '',
        ttftMs: tFirst - t0,
        tokPerS: ev.step > 0 ? ev.step / decodeS : null,
      });
      await tick();
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
    stopped = true;
  } finally {
    if (generation === ctrl) generation = null;
  }
  const end = performance.now();
  return {
    tokens,
    text,
    stopped,
    ttftMs: tFirst ? tFirst - t0 : end - t0,
    // decode rate: tokens after the first over the time after the first
    tokPerS: tokens.length > 1 ? (tokens.length - 1) / ((end - tFirst) / 1000) : null,
    totalMs: end - t0,
    device: model.device,
  };
}

/**
 * Opens the chat session of the loaded model: from IndexedDB when a session is stored there (a
 * stored session of another model is refused by the snapshot's config hash, and dropped).
 */
async function chatOpen(): Promise<ChatOpened> {
  if (!model) throw new Error('no model loaded');
  if (!model.tokenizer) throw new Error('the chat needs a tokenizer (this checkpoint has no tokenizer.json)');
  const storage = indexedDbStateStorage(CHAT_DB);
  let note = '';
  chat?.dispose();
  try {
    chat = await ChatSession.open(model, { storage, key: CHAT_KEY });
  } catch (e) {
    note = `a stored conversation could not be restored (${(e as Error).message}); starting a new one`;
    await storage.delete(CHAT_KEY);
    chat = await ChatSession.open(model, { storage, key: CHAT_KEY });
  }
  return { messages: chat.messages, tokensSeen: chat.tokensSeen, restored: chat.messages.length > 0, note };
}

async function chatTurn(a: ChatArgs, progress: (d: ChatProgress) => void): Promise<ChatDone> {
  if (!chat) await chatOpen();
  const session = chat!;
  const r = await session.send(a.message, {
    maxNewTokens: a.maxNewTokens,
    temperature: a.temperature,
    seed: a.seed,
    stopTokens: a.stopAtEndOfText ? undefined : [],
    onToken: (e: TokenEvent) => {
      if (e.text?.[0]) progress({ kind: 'chat-token', text: e.text[0] });
    },
  });
  const bytes = await session.toBytes();
  await indexedDbStateStorage(CHAT_DB).set(CHAT_KEY, bytes);
  return {
    reply: r.text,
    prefillTokens: r.prefillTokens,
    tokensSeen: session.tokensSeen,
    turns: session.messages.filter((m) => m.role === 'assistant').length,
    savedBytes: bytes.length,
  };
}

serve({
  load: load as never,
  generate: generate as never,
  chatOpen: chatOpen as never,
  chat: chatTurn as never,
  chatReset: async () => {
    await chat?.reset(true);
    return chatOpen();
  },
  stop: () => generation?.abort(),
});
