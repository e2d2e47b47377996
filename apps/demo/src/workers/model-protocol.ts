/** Messages between the model page and its worker. */
import type { MemoryEstimate } from '@mlstm/hf-model';

export interface LoadArgs {
  /** `listing`: a files.json of the folder (the served tiny model): only listed files are requested */
  source: { kind: 'url'; url: string; listing?: string } | { kind: 'files'; files: File[] };
  device: 'auto' | 'webgpu' | 'cpu';
  weightDtype: 'auto' | 'f32' | 'f16';
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
      dims: Record<string, number>;
      seqLen: number;
      /** the adapter's binding limit (null without WebGPU or on the CPU path) */
      maxStorageBufferBindingSize: number | null;
    }
  | { kind: 'download'; file: string; loaded: number; total: number | null }
  | { kind: 'token'; step: number; token: number; text: string; ttftMs: number; tokPerS: number | null };
