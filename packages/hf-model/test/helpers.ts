/**
 * Test helpers: the tiny xLSTM fixtures of `<repo>/fixtures/xlstm-tiny/` (transformers 5.17.0
 * outputs for random tiny models, see its README.txt) and small comparison utilities.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@mlstm/core-reference';
import { readSafetensors } from '@mlstm/core-reference/testing';

export type Variant = 'single' | 'fused';

export function fixtureRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const c = join(dir, 'fixtures', 'xlstm-tiny');
    if (existsSync(join(c, 'single', 'fixtures.json'))) return c;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('fixtures/xlstm-tiny not found above the test folder');
    dir = parent;
  }
}

export const modelDir = (v: Variant) => join(fixtureRoot(), v, 'model');

export interface TinyFixture {
  tensors: Record<string, Tensor>;
  json: {
    checks: Record<string, unknown>;
    tokenizer_cases: { index: number; text: string; ids: number[]; decoded: string }[];
    chunk_size: number;
    split_at: number;
  };
}

const cache = new Map<Variant, TinyFixture>();

export function loadFixture(v: Variant): TinyFixture {
  let f = cache.get(v);
  if (!f) {
    const dir = join(fixtureRoot(), v);
    f = {
      tensors: readSafetensors(readFileSync(join(dir, 'fixtures.safetensors'))).tensors,
      json: JSON.parse(readFileSync(join(dir, 'fixtures.json'), 'utf8')),
    };
    cache.set(v, f);
  }
  return f;
}

/** Rows of an integer id tensor `[B, L]`. */
export function idsOf(t: Tensor): number[][] {
  const [B, L] = t.shape;
  return Array.from({ length: B }, (_, b) =>
    Array.from(t.data.subarray(b * L, (b + 1) * L), (x) => Math.round(x)),
  );
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let x = 0; x < a.length; x++) {
    const d = Math.abs(a[x] - b[x]);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

/** max |a − b| / (max |b| + tiny): a relative error on the tensor's scale. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let x = 0; x < b.length; x++) s = Math.max(s, Math.abs(b[x]));
  return maxAbsDiff(a, b) / (s + 1e-12);
}

export const CASES = ['len1', 'len7', 'len16', 'len37', 'len64', 'batch2_len21', 'text'] as const;
export const GEN_PROMPTS = ['len7', 'len37', 'text'] as const;

/** The tensors of a fixture checkpoint as float32 (for building modified checkpoints in memory). */
export async function checkpointTensors(
  v: Variant,
): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
  const { decodeEntry, parseSafetensorsFile } = await import('../src/index.js');
  const store = parseSafetensorsFile(readFileSync(join(modelDir(v), 'model.safetensors')));
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, e] of store.tensors) out[k] = { shape: e.shape, data: decodeEntry(e) };
  return out;
}

export function configJson(v: Variant): Record<string, unknown> {
  return JSON.parse(readFileSync(join(modelDir(v), 'config.json'), 'utf8'));
}

/** Names of every bias a use_bias=True checkpoint has (spec §4) with their lengths. */
export function biasNames(blocks: number, dims: { H: number; Dqk: number; Dv: number; F: number }) {
  const out: [string, number][] = [];
  for (let i = 0; i < blocks; i++) {
    const p = `backbone.blocks.${i}.`;
    out.push(
      [`${p}mlstm_layer.q.bias`, dims.Dqk],
      [`${p}mlstm_layer.k.bias`, dims.Dqk],
      [`${p}mlstm_layer.v.bias`, dims.Dv],
      [`${p}mlstm_layer.ogate_preact.bias`, dims.Dv],
      [`${p}mlstm_layer.out_proj.bias`, dims.H],
      [`${p}mlstm_layer.multihead_norm.bias`, dims.Dv],
      [`${p}norm_mlstm.bias`, dims.H],
      [`${p}norm_ffn.bias`, dims.H],
      [`${p}ffn.proj_up_gate.bias`, dims.F],
      [`${p}ffn.proj_up.bias`, dims.F],
      [`${p}ffn.proj_down.bias`, dims.H],
    );
  }
  return out;
}

/**
 * Records the byte count of every `mapAsync` on `device`'s buffers while `run` runs (the GPU→CPU
 * read-backs); the spy is removed afterwards, also when `run` throws.
 */
export async function mapAsyncBytes(device: GPUDevice, run: () => Promise<void>): Promise<number[]> {
  const probe = device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const proto = Object.getPrototypeOf(probe) as GPUBuffer;
  probe.destroy();
  const original = proto.mapAsync;
  const reads: number[] = [];
  proto.mapAsync = function (this: GPUBuffer, mode: number, offset?: number, size?: number) {
    reads.push(size ?? this.size - (offset ?? 0));
    return original.call(this, mode, offset, size);
  };
  try {
    await run();
  } finally {
    proto.mapAsync = original;
  }
  return reads;
}
