/** Messages between the model page and its worker. */
import type { MemoryEstimate } from '@mlstm/hf-model';

export interface LoadArgs {
  /** `listing`: a files.json of the folder (the served tiny model): only listed files are requested */
  source: { kind: 'url'; url: string; listing?: string } | { kind: 'files'; files: File[] };
  device: 'auto' | 'webgpu' | 'cpu';
  /** the model's `dtype` option: weight format of the blocks (q8 / q4 quantise on load) */
  weightDtype: 'auto' | 'f32' | 'f16' | 'q8' | 'q4';
  cache: boolean;
  /** tokens of one forward in the estimate of activations */
  estimateSeqLen: number;
}

export interface LoadDone {
  device: string;
  loadMs: number;
  tokenizer: boolean;
  eosTokenIds: number[];
  vocabSize: number;
  blocks: number;
  hidden: number;
}

export interface GenerateArgs {
  prompt: string;
  /** token ids instead of text (no tokenizer needed) */
  promptIds: number[] | null;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stopAtEndOfText: boolean;
}

export interface GenerateDone {
  tokens: number[];
  text: string;
  stopped: boolean;
  ttftMs: number;
  tokPerS: number | null;
  totalMs: number;
  device: string;
}

export type ModelProgress =
  | {
      kind: 'estimate';
      f32: MemoryEstimate;
      f16: MemoryEstimate;
      /** q8 / q4 blocks with their default tables (f16 / q8) */
      q8: MemoryEstimate;
      q4: MemoryEstimate;
      dims: Record<string, number>;
      seqLen: number;
      /** the adapter's binding limit (null without WebGPU or on the CPU path) */
      maxStorageBufferBindingSize: number | null;
    }
  | { kind: 'download'; file: string; loaded: number; total: number | null }
  | { kind: 'token'; step: number; token: number; text: string; ttftMs: number; tokPerS: number | null };

/** One chat turn: the message, generation options. */
export interface ChatArgs {
  message: string;
  maxNewTokens: number;
  temperature: number;
  seed: number;
  stopAtEndOfText: boolean;
}

/** What a chat turn reports: its reply and how many tokens it pushed through the model. */
export interface ChatDone {
  reply: string;
  /** this turn's prefill (its own text only: the history is in the saved state) */
  prefillTokens: number;
  /** tokens the state has absorbed (the whole conversation) */
  tokensSeen: number;
  /** completed turns of the session */
  turns: number;
  /** bytes of the state snapshot saved to IndexedDB after the turn */
  savedBytes: number;
}

/** The chat session as the worker holds it (after load / open). */
export interface ChatOpened {
  messages: { role: string; content: string }[];
  tokensSeen: number;
  /** restored from IndexedDB, or why a stored one was discarded */
  restored: boolean;
  note: string;
}

export type ChatProgress = { kind: 'chat-token'; text: string };
