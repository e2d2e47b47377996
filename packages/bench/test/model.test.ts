/**
 * The `model` suite on whatever WebGPU adapter dawn.node finds (Mesa lavapipe in CI): the tiny
 * fixture model through the recording path — TTFT, decode and packed-prefill rows, tokens/s
 * columns, plots; the packed prompts' lengths sum to the asked tokens.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GpuContext } from '@mlstm/kernels-webgpu';
import { XMLValidator } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  listSuites,
  MODEL_PRESETS,
  ModelPackedBenchmark,
  modelConfigs,
  modelSlug,
  openGpuContext,
  parseCsv,
  runSuites,
  TOKENS_PER_S_PREFIX,
} from '../src/index.js';

let ctx: GpuContext | undefined;
let why = '';
beforeAll(async () => {
  try {
    ctx = await openGpuContext();
  } catch (e) {
    why = (e as Error).message;
  }
});

describe('model suite configs', () => {
  it('is registered and builds a TTFT and a decode config per model, and the 7B packed prefill', () => {
    expect(listSuites().map((s) => s.name)).toContain('model');
    const full = modelConfigs({ preset: 'full' });
    expect(full.map((c) => c.benchmarkName)).toEqual([
      'model_tiny_ttft',
      'model_tiny_decode',
      'model_7b_ttft',
      'model_7b_decode',
      'model_7b_packed',
    ]);
    const ttft7b = full[2];
    expect(ttft7b.varyParams.prompt_length).toEqual([128, 2048, 8192]);
    expect(ttft7b.kernelSpecs.map((s) => s.additionalParams)).toEqual([
      { model: '7b', blocks: 32, batch_size: 1 },
    ]);
    expect(full[3].varyParams.batch_size).toEqual([1, 8, 32]);
    // issue 18: 65 536 tokens in prompts of 512…8 192 tokens, and as equal prompts of 8 192
    expect(full[4].varyParams.packed_tokens).toEqual([65536]);
    expect(full[4].fixedParams).toEqual({ min_length: 512, max_length: 8192 });
    expect(full[4].kernelSpecs.map((s) => s.additionalParams.lengths)).toEqual(['random', 'equal']);
    // --no-packed
    expect(modelConfigs({ preset: 'full', packedTokens: [] }).map((c) => c.benchmarkName)).not.toContain(
      'model_7b_packed',
    );
    expect(MODEL_PRESETS.tiny.blocks).toBeLessThanOrEqual(2);
    expect(modelSlug('/data/models/xlstm-7b/')).toBe('models_xlstm-7b');
  });
});

describe('model suite, tiny preset (real run)', () => {
  it('records TTFT, decode and packed-prefill rows, tokens/s and plots for the tiny model', async (t) => {
    if (!ctx) t.skip(`no WebGPU adapter: ${why}`);
    const out = mkdtempSync(join(tmpdir(), 'mlstm-bench-model-'));
    const res = await runSuites({
      ctx,
      suites: ['model'],
      preset: 'tiny',
      models: ['tiny'],
      promptLens: [16, 40],
      modelBatchSizes: [1, 2],
      decodeSteps: 2,
      packedTokens: [48, 70],
      rep: 1,
      outputDir: out,
      suffix: 'model',
      log: () => {},
    });
    expect(res.results.map((r) => r.config.benchmarkName)).toEqual([
      'model_tiny_ttft',
      'model_tiny_decode',
      'model_tiny_packed',
    ]);
    for (const r of res.results) {
      const csv = parseCsv(readFileSync(join(r.folder, 'results.csv'), 'utf8'));
      const header = csv[0];
      const cols = (prefix: string) => header.flatMap((h, j) => (h.startsWith(prefix) ? [j] : []));
      const decode = r.config.benchmarkName.endsWith('_decode');
      const packed = r.config.benchmarkName.endsWith('_packed');
      expect(csv.length - 1).toBe(2); // two prompt lengths / two batch sizes / two packed sizes
      // TTFT: B 1 and 2; decode: one series; packed: random and equal lengths
      expect(cols('R--model--').length).toBe(decode ? 1 : 2);
      expect(cols('M--model--').length).toBe(decode ? 1 : 2);
      if (decode || packed) expect(cols(TOKENS_PER_S_PREFIX).length).toBe(decode ? 1 : 2);
      for (const row of csv.slice(1)) {
        for (const j of [...cols('R--'), ...cols('M--'), ...cols(TOKENS_PER_S_PREFIX)]) {
          const v = Number(row[j]);
          expect(Number.isFinite(v), `${header[j]} = ${row[j]}`).toBe(true);
          expect(v).toBeGreaterThan(0);
        }
        expect(row[header.indexOf('adapter')]).toBe(res.adapter);
      }
      const plots = [
        `plot_${r.config.benchmarkName}_runtime.svg`,
        `plot_${r.config.benchmarkName}_memory.svg`,
      ];
      if (decode || packed) plots.push(`plot_${r.config.benchmarkName}_tokens_per_s.svg`);
      for (const p of plots)
        expect(XMLValidator.validate(readFileSync(join(r.folder, p), 'utf8'))).toBe(true);
      for (const c of r.cells) expect(c.result.error).toBeUndefined();
    }
    const cell = new ModelPackedBenchmark({} as never, {} as never, 'float32');
    cell.setParams({ packed_tokens: 65536, min_length: 512, max_length: 8192, lengths: 'random' });
    const lens = cell.promptLengths();
    expect(lens.reduce((a, n) => a + n, 0)).toBe(65536);
    expect(Math.min(...lens.slice(0, -1))).toBeGreaterThanOrEqual(512);
    expect(Math.max(...lens)).toBeLessThanOrEqual(8192);
    expect(new Set(lens).size).toBeGreaterThan(4);
    cell.setParams({ lengths: 'equal' });
    expect(cell.promptLengths()).toEqual(Array(8).fill(8192));
    const summary = readFileSync(join(res.folder, 'summary.md'), 'utf8');
    expect(summary).toContain('model_tiny_ttft');
    expect(JSON.parse(readFileSync(join(res.folder, 'run.json'), 'utf8')).adapter).toBe(res.adapter);
  });
});

describe('model suite, packed prefill in several calls', () => {
  it('times every call of the prefill: tokens/s = packed_tokens over the whole prefill; T-- names the calls', async (t) => {
    if (!ctx) t.skip(`no WebGPU adapter: ${why}`);
    const out = mkdtempSync(join(tmpdir(), 'mlstm-bench-packed-'));
    const res = await runSuites({
      ctx,
      suites: ['model'],
      preset: 'tiny',
      models: ['tiny'],
      promptLens: [16],
      modelBatchSizes: [1],
      decodeSteps: 1,
      packedTokens: [48],
      prefillChunkSize: 16,
      rep: 1,
      outputDir: out,
      suffix: 'packed-calls',
      log: () => {},
    });
    const packed = res.results.find((r) => r.config.benchmarkName === 'model_tiny_packed')!;
    for (const c of packed.cells) expect(c.result.error).toBeUndefined();
    expect(packed.config.kernelSpecs.map((s) => s.additionalParams.prefill_chunk_size)).toEqual([16, 16]);
    const csv = parseCsv(readFileSync(join(packed.folder, 'results.csv'), 'utf8'));
    const [header, row] = csv;
    for (const spec of packed.config.kernelSpecs) {
      const name = spec.toString();
      const ms = Number(row[header.indexOf(`R--${name}`)]);
      const tps = Number(row[header.indexOf(`${TOKENS_PER_S_PREFIX}${name}`)]);
      expect(tps).toBeCloseTo((48 * 1000) / ms, 6);
      // prompts of 4…24 tokens (random) or 24 (equal) in calls of at most 16 tokens
      const timing = row[header.indexOf(`T--${name}`)];
      const calls = Number(/in (\d+) forward calls of <= (\d+) tokens/.exec(timing)?.[1]);
      expect(calls, timing).toBeGreaterThan(1);
      expect(timing).toContain('of <= 16 tokens');
    }
    // the calls as the benchmark counts them (segments of a prompt longer than a call included)
    const cell = new ModelPackedBenchmark({} as never, {} as never, 'float32');
    cell.setParams({ packed_tokens: 48, min_length: 24, max_length: 24, lengths: 'equal' });
    (cell as unknown as { lm: unknown }).lm = {
      packedPrefillCalls: (l: number[]) =>
        l.map((n, b) => ({ first: b, end: b + 1, tokens: n, segments: 2 })),
      gpuLayout: () => ({ prefill: { tokens: 16 } }),
    };
    expect(cell.prefillCalls()).toEqual({ calls: 4, maxTokens: 16 });
  });
});
