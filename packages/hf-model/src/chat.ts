/**
 * A chat session that keeps the model's recurrent state across turns: each turn prefills only
 * its own tokens (the history is in the state, never re-read), and the session — state snapshot,
 * messages — can be persisted to a {@link StateStorage}: a folder in Node
 * ({@link fileStateStorage}), IndexedDB in browsers ({@link indexedDbStateStorage}).
 */
import type { ChatTemplate } from './chat-template.js';
import { ModelArgumentError } from './errors.js';
import {
  type GenerateOptions,
  stopSets,
  type TokenEvent,
  type XlstmCache,
  type XlstmForCausalLM,
} from './model.js';
import { StateSnapshotError } from './state.js';

/** Where sessions are kept: bytes by key. */
export interface StateStorage {
  get(key: string): Promise<Uint8Array | null>;
  set(key: string, bytes: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}

const nodeImport = <T>(name: string): Promise<T> => import(/* @vite-ignore */ name) as Promise<T>;

const safeKey = (key: string) => {
  if (typeof key !== 'string' || !/^[\w.-]{1,128}$/.test(key) || key.startsWith('.'))
    throw new ModelArgumentError(
      'key',
      `expected 1-128 characters of [A-Za-z0-9_.-], got ${JSON.stringify(key)}`,
    );
  return key;
};

/** Node: one file per key (`<folder>/<key>.xlstm-chat`), written atomically (temp file + rename). */
export function fileStateStorage(folder: string): StateStorage {
  const paths = async (key: string) => {
    const path = await nodeImport<typeof import('node:path')>('node:path');
    return path.join(folder, `${safeKey(key)}.xlstm-chat`);
  };
  const fs = () => nodeImport<typeof import('node:fs/promises')>('node:fs/promises');
  return {
    async get(key) {
      try {
        return new Uint8Array(await (await fs()).readFile(await paths(key)));
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return null;
        throw e;
      }
    },
    async set(key, bytes) {
      const f = await fs();
      const file = await paths(key);
      await f.mkdir(folder, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await f.writeFile(tmp, bytes);
      await f.rename(tmp, file);
    },
    async delete(key) {
      await (await fs()).rm(await paths(key), { force: true });
    },
  };
}

/** Browsers: an IndexedDB object store (`database`, store `sessions`), values as bytes. */
export function indexedDbStateStorage(database = 'mlstm-chat'): StateStorage {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb)
    throw new ModelArgumentError('storage', 'IndexedDB is not available here (use fileStateStorage in Node)');
  const open = () =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const req = idb.open(database, 1);
      req.onupgradeneeded = () => req.result.createObjectStore('sessions');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  const run = async <T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<T> => {
    const db = await open();
    try {
      return await new Promise<T>((resolve, reject) => {
        const req = fn(db.transaction('sessions', mode).objectStore('sessions'));
        req.onsuccess = () => resolve(req.result as T);
        req.onerror = () => reject(req.error);
      });
    } finally {
      db.close();
    }
  };
  return {
    async get(key) {
      const v = await run<ArrayBuffer | Uint8Array | undefined>('readonly', (s) => s.get(safeKey(key)));
      return v ? new Uint8Array(v instanceof Uint8Array ? v : new Uint8Array(v)) : null;
    },
    async set(key, bytes) {
      await run('readwrite', (s) => s.put(bytes.slice(), safeKey(key)));
    },
    async delete(key) {
      await run('readwrite', (s) => s.delete(safeKey(key)));
    },
  };
}

/** One message of a conversation. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * How a new message becomes prompt text when the tokenizer config has no `chat_template` (default:
 * `"User: …\nAssistant:"` for user messages, `"System: …\n"` for system ones). Given only the new
 * message: the history is in the state.
 */
export type TurnFormatter = (message: ChatMessage, isFirst: boolean) => string;

const defaultFormat: TurnFormatter = (m, first) => {
  const who = m.role === 'user' ? 'User' : m.role === 'system' ? 'System' : 'Assistant';
  const lead = first ? '' : '\n';
  return m.role === 'user' ? `${lead}${who}: ${m.content}\nAssistant:` : `${lead}${who}: ${m.content}\n`;
};

export interface ChatSessionOptions {
  /** where {@link ChatSession.save} keeps the session (with `key`) */
  storage?: StateStorage;
  /** the session's key in `storage` (default 'default') */
  key?: string;
  /**
   * prompt text of a new message. Default: the tokenizer config's `chat_template` when it has one
   * (see {@link ChatSession.send}), else the plain format of {@link TurnFormatter}
   */
  format?: TurnFormatter;
  /** use the tokenizer config's `chat_template` when there is one and no `format` is given (default true) */
  chatTemplate?: boolean;
  /** messages that start the conversation (prefilled with the first turn) */
  system?: string;
  /** generation defaults of every turn (greedy, 128 tokens, the model's stop tokens) */
  generation?: Omit<GenerateOptions, 'cache' | 'addBos'>;
}

/** What one turn produced. */
export interface ChatReply {
  text: string;
  tokens: number[];
  stopReason: 'stop' | 'length';
  /** tokens this turn pushed through the model before generating (its own prompt only) */
  prefillTokens: number;
}

const SESSION_MAGIC = 'XLSTMCHAT1';

/**
 * A conversation with a model, its state carried from turn to turn.
 *
 * ```ts
 * const chat = await ChatSession.open(model, { storage: fileStateStorage('.chats'), key: 'alice' });
 * const r = await chat.send('Hello!', { onToken: (e) => write(e.text![0]) });
 * await chat.save(); // state + messages; ChatSession.open(model, same options) resumes it
 * ```
 */
export class ChatSession {
  readonly messages: ChatMessage[] = [];
  /** tokens fed through the model by prefills so far (all turns) */
  prefillTokens = 0;
  private cache: XlstmCache | null = null;
  /** generated tokens not yet fed to the model (the last token of the previous reply) */
  private pending: number[] = [];
  private readonly format: TurnFormatter;
  /** the tokenizer config's chat template, when turns are rendered through it */
  readonly template: ChatTemplate | null;
  /** template path: the text the state holds once `pending` is fed (rendered prompts + replies) */
  private absorbed = '';

  private constructor(
    readonly model: XlstmForCausalLM,
    private readonly opts: ChatSessionOptions,
  ) {
    if (!model.tokenizer) throw new ModelArgumentError('model', 'a chat session needs a tokenizer');
    this.format = opts.format ?? defaultFormat;
    this.template = opts.format || opts.chatTemplate === false ? null : model.tokenizer.chatTemplate;
  }

  /** A session: resumed from `storage` when it holds `key`, else new. */
  static async open(model: XlstmForCausalLM, opts: ChatSessionOptions = {}): Promise<ChatSession> {
    const s = new ChatSession(model, opts);
    if (opts.storage) {
      const bytes = await opts.storage.get(opts.key ?? 'default');
      if (bytes) await s.load(bytes);
    }
    if (s.messages.length === 0 && opts.system) s.messages.push({ role: 'system', content: opts.system });
    return s;
  }

  /** The model state's token count (0 before the first turn). */
  get tokensSeen(): number {
    return this.cache?.seqlenOffset ?? 0;
  }

  /**
   * Sends a user message; the reply is generated from the carried state (only this turn is
   * prefilled). With a chat template, the whole conversation is rendered and the turn feeds what
   * follows the text the state already holds (the rendered prompts and the generated replies); where
   * the template renders earlier turns differently (e.g. it leaves out a stop token the model
   * produced), the turn starts after the longest common prefix.
   */
  async send(
    content: string,
    opts: Omit<GenerateOptions, 'cache' | 'addBos'> & { onToken?: (e: TokenEvent) => void } = {},
  ): Promise<ChatReply> {
    if (typeof content !== 'string') throw new ModelArgumentError('content', 'expected a string');
    const tok = this.model.tokenizer!;
    const fresh = this.cache === null;
    const unsent = this.messages.filter((m) => m.role === 'system' && fresh);
    const msg: ChatMessage = { role: 'user', content };
    let text = '';
    let rendered = '';
    if (this.template) {
      rendered = this.template.render([...this.messages, msg], { add_generation_prompt: true });
      const held = fresh ? '' : this.absorbed;
      let at = 0;
      while (at < held.length && at < rendered.length && held[at] === rendered[at]) at++;
      text = rendered.slice(at);
    } else {
      [...unsent, msg].forEach((m, x) => {
        text += this.format(m, fresh && x === 0);
      });
    }
    const bos = this.model.config.bosTokenId;
    const turn = tok.encode(text);
    const addBos = fresh && bos !== null && turn[0] !== bos;
    const ids = [...(addBos ? [bos] : []), ...this.pending, ...turn];
    this.cache ??= this.model.newCache(1);
    const cache = this.cache;
    const before = cache.seqlenOffset;
    const g = { maxNewTokens: 128, ...this.opts.generation, ...opts };
    const seen: number[] = [];
    const onToken = (e: TokenEvent) => {
      if (e.tokens[0] >= 0) seen.push(e.tokens[0]);
      g.onToken?.(e);
    };
    // what the state has absorbed decides what the next turn must feed first: the reply tokens
    // generated but not yet fed (normally its last one; none when an abort came after a feed)
    const settle = (tokens: number[]) => {
      const fed = cache.seqlenOffset - before - ids.length;
      this.pending = tokens.slice(Math.max(0, fed));
      this.prefillTokens += ids.length;
      if (this.template) this.absorbed = rendered + tok.decode(tokens);
    };
    let r: Awaited<ReturnType<XlstmForCausalLM['generate']>>;
    try {
      r = await this.model.generate(ids, { ...g, onToken, cache, addBos: false });
    } catch (e) {
      // aborted or failed mid-reply: keep the session consistent with the state (partial reply)
      if (cache.seqlenOffset > before) {
        settle(seen);
        this.messages.push(msg, { role: 'assistant', content: tok.decode(seen) });
      }
      throw e;
    }
    const tokens = r.tokens[0];
    settle(tokens);
    const stops = stopSets(g.stopTokens, 1, () => this.model.defaultStopTokens())[0];
    const shown =
      r.stopReason[0] === 'stop' && stops.has(tokens[tokens.length - 1]) ? tokens.slice(0, -1) : tokens;
    const reply = tok.decode(shown);
    this.messages.push(msg, { role: 'assistant', content: reply });
    return { text: reply, tokens, stopReason: r.stopReason[0], prefillTokens: ids.length };
  }

  /** The session as bytes: messages, pending tokens and the state snapshot. */
  async toBytes(): Promise<Uint8Array> {
    const state = this.cache ? await this.model.saveState(this.cache) : new Uint8Array(0);
    const meta = new TextEncoder().encode(
      JSON.stringify({
        messages: this.messages,
        pending: this.pending,
        prefillTokens: this.prefillTokens,
        absorbed: this.absorbed,
      }),
    );
    const out = new Uint8Array(SESSION_MAGIC.length + 8 + meta.length + state.length);
    for (let x = 0; x < SESSION_MAGIC.length; x++) out[x] = SESSION_MAGIC.charCodeAt(x);
    const dv = new DataView(out.buffer);
    dv.setUint32(SESSION_MAGIC.length, meta.length, true);
    dv.setUint32(SESSION_MAGIC.length + 4, state.length, true);
    out.set(meta, SESSION_MAGIC.length + 8);
    out.set(state, SESSION_MAGIC.length + 8 + meta.length);
    return out;
  }

  /** Persists the session to its storage (under its key). */
  async save(): Promise<void> {
    if (!this.opts.storage)
      throw new ModelArgumentError('storage', 'no storage was given to ChatSession.open');
    await this.opts.storage.set(this.opts.key ?? 'default', await this.toBytes());
  }

  /** Replaces this session's conversation by a saved one (checked completely before anything changes). */
  private async load(bytes: Uint8Array): Promise<void> {
    const bad = (why: string) => new StateSnapshotError('format', `not a saved chat session: ${why}`);
    if (bytes.length < SESSION_MAGIC.length + 8) throw bad('too short');
    for (let x = 0; x < SESSION_MAGIC.length; x++)
      if (bytes[x] !== SESSION_MAGIC.charCodeAt(x)) throw bad('bad magic');
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const metaLen = dv.getUint32(SESSION_MAGIC.length, true);
    const stateLen = dv.getUint32(SESSION_MAGIC.length + 4, true);
    const m0 = SESSION_MAGIC.length + 8;
    if (m0 + metaLen + stateLen !== bytes.length) throw bad('sizes do not add up');
    const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(m0, m0 + metaLen))) as {
      messages: ChatMessage[];
      pending: number[];
      prefillTokens: number;
      absorbed?: string;
    };
    const cache = stateLen ? await this.model.restoreState(bytes.subarray(m0 + metaLen)) : null;
    this.cache?.release();
    this.cache = cache;
    this.messages.splice(0, this.messages.length, ...meta.messages);
    this.pending = meta.pending;
    this.prefillTokens = meta.prefillTokens;
    this.absorbed =
      meta.absorbed ??
      (this.template && cache ? this.template.render(meta.messages, { add_generation_prompt: false }) : '');
  }

  /** Forgets the conversation (and deletes it from storage when `fromStorage`). */
  async reset(fromStorage = false): Promise<void> {
    this.cache?.release();
    this.cache = null;
    this.pending = [];
    this.prefillTokens = 0;
    this.absorbed = '';
    this.messages.length = 0;
    if (this.opts.system) this.messages.push({ role: 'system', content: this.opts.system });
    if (fromStorage && this.opts.storage) await this.opts.storage.delete(this.opts.key ?? 'default');
  }

  /** Frees the state (GPU buffers). */
  dispose(): void {
    this.cache?.release();
    this.cache = null;
  }
}
