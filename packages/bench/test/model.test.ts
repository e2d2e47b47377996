/**
 * The `model` suite on whatever WebGPU adapter dawn.node finds (Mesa lavapipe in CI): the tiny
 * fixture model through the recording path — TTFT and decode rows, tokens/s columns, plots.
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
  it('is registered and builds a TTFT and a decode config per model', () => {
    expect(listSuites().map((s) => s.name)).toContain('model');
    const full = modelConfigs({ preset: 'full' });
    expect(full.map((c) => c.benchmarkName)).toEqual([
      'model_tiny_ttft',
      'model_tiny_decode',
      'model_7b_ttft',
      'model_7b_decode',
    ]);
    const ttft7b = full[2];
    expect(ttft7b.varyParams.prompt_length).toEqual([128, 2048, 8192]);
    expect(ttft7b.kernelSpecs.map((s) => s.additionalParams)).toEqual([
      { model: '7b', blocks: 32, batch_size: 1 },
    ]);
    expect(full[3].varyParams.batch_size).toEqual([1, 8, 32]);
    expect(MODEL_PRESETS.tiny.blocks).toBeLessThanOrEqual(2);
    expect(modelSlug('/data/models/xlstm-7b/')).toBe('models_xlstm-7b');
  });
});

describe('model suite, tiny preset (real run)', () => {
  it('records TTFT and decode rows, tokens/s and plots for the tiny model', async (t) => {
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
      rep: 1,
      outputDir: out,
      suffix: 'model',
      log: () => {},
    });
    expect(res.results.map((r) => r.config.benchmarkName)).toEqual(['model_tiny_ttft', 'model_tiny_decode']);
    for (const r of res.results) {
      const csv = parseCsv(readFileSync(join(r.folder, 'results.csv'), 'utf8'));
      const header = csv[0];
      const cols = (prefix: string) => header.flatMap((h, j) => (h.startsWith(prefix) ? [j] : []));
      const decode = r.config.benchmarkName.endsWith('_decode');
      expect(csv.length - 1).toBe(2); // two prompt lengths / two batch sizes
      expect(cols('R--model--').length).toBe(decode ? 1 : 2);
      expect(cols('M--model--').length).toBe(decode ? 1 : 2);
      if (decode) expect(cols(TOKENS_PER_S_PREFIX).length).toBe(1);
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
      if (decode) plots.push(`plot_${r.config.benchmarkName}_tokens_per_s.svg`);
      for (const p of plots)
        expect(XMLValidator.validate(readFileSync(join(r.folder, p), 'utf8'))).toBe(true);
      for (const c of r.cells) expect(c.result.error).toBeUndefined();
    }
    const summary = readFileSync(join(res.folder, 'summary.md'), 'utf8');
    expect(summary).toContain('model_tiny_ttft');
    expect(JSON.parse(readFileSync(join(res.folder, 'run.json'), 'utf8')).adapter).toBe(res.adapter);
  });
});
