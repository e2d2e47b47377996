/**
 * The model suite's quantised weight formats (`--dtypes f16,q8,q4`): one series per format, the
 * format handed to the model as the `weights` parameter, and a real run of the tiny model in q4.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GpuContext } from '@mlstm/kernels-webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli.js';
import { modelConfigs, openGpuContext, parseCsv } from '../src/index.js';

let ctx: GpuContext | undefined;
let why = '';
beforeAll(async () => {
  try {
    ctx = await openGpuContext();
  } catch (e) {
    why = (e as Error).message;
  }
});

describe('model suite, quantised weights', () => {
  it('builds one series per float dtype and per quantised format', () => {
    const [ttft, decode] = modelConfigs({ preset: 'tiny', dtypes: ['float16'], weightQuants: ['q8', 'q4'] });
    expect(decode.kernelSpecs.map((s) => s.label)).toEqual(['tiny f16', 'tiny q8', 'tiny q4']);
    expect(decode.kernelSpecs.map((s) => s.additionalParams.weights)).toEqual([undefined, 'q8', 'q4']);
    expect(ttft.kernelSpecs.length).toBe(3 * batchesOf(ttft));
    // quantised formats alone: no float series
    const [, only] = modelConfigs({ preset: 'tiny', weightQuants: ['q4'] });
    expect(only.kernelSpecs.map((s) => s.label)).toEqual(['tiny q4']);
  });

  it('--quant-decode: one series per quantised format and activation kind, handed to the model', () => {
    const [, decode] = modelConfigs({ preset: 'tiny', weightQuants: ['q4'], quantDecodes: ['int8', 'f32'] });
    expect(decode.kernelSpecs.map((s) => s.label)).toEqual(['tiny q4 int8', 'tiny q4 f32']);
    expect(
      decode.kernelSpecs.map((s) => [s.additionalParams.weights, s.additionalParams.quant_decode]),
    ).toEqual([
      ['q4', 'int8'],
      ['q4', 'f32'],
    ]);
    const p = buildProgram().exitOverride();
    p.parse(['node', 'mlstm-bench', '--dtypes', 'q4', '--quant-decode', 'int8,f32'], { from: 'node' });
    expect(p.opts().quantDecode).toEqual(['int8', 'f32']);
    expect(() =>
      buildProgram()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parse(['node', 'mlstm-bench', '--quant-decode', 'int4'], { from: 'node' }),
    ).toThrow(/unknown --quant-decode 'int4'/);
  });

  it('--dense-decode reaches the model configs (dense_decode) and rejects unknown modes', () => {
    const p = buildProgram().exitOverride();
    p.parse(['node', 'mlstm-bench', '--suite', 'model', '--dense-decode', 'matrix-units'], { from: 'node' });
    expect(p.opts().denseDecode).toBe('matrix-units');
    const cfgs = modelConfigs({ preset: 'tiny', denseDecode: 'matrix-units' });
    for (const c of cfgs)
      for (const s of c.kernelSpecs)
        expect(s.additionalParams?.dense_decode, c.benchmarkName).toBe('matrix-units');
    expect(() =>
      buildProgram()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parse(['node', 'mlstm-bench', '--dense-decode', 'wmma'], { from: 'node' }),
    ).toThrow(/unknown --dense-decode 'wmma'/);
  });

  it('the CLI takes q8 / q4 in --dtypes and rejects others', () => {
    const p = buildProgram().exitOverride();
    p.parse(['node', 'mlstm-bench', '--suite', 'model', '--dtypes', 'f16,q4'], { from: 'node' });
    expect(p.opts().dtypes).toEqual(['float16', 'q4']);
    expect(() =>
      buildProgram()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parse(['node', 'mlstm-bench', '--dtypes', 'q3'], { from: 'node' }),
    ).toThrow(/unknown dtype 'q3'/);
  });

  it('runs the tiny model with q4 weights (decode rows with finite tokens/s)', async (t) => {
    if (!ctx) t.skip(`no WebGPU adapter: ${why}`);
    const { runSuites } = await import('../src/index.js');
    const res = await runSuites({
      ctx,
      suites: ['model'],
      preset: 'tiny',
      models: ['tiny'],
      weightQuants: ['q4'],
      quantDecodes: ['int8', 'f32'],
      promptLens: [16],
      modelBatchSizes: [1],
      decodeSteps: 2,
      rep: 1,
      outputDir: mkdtempSync(join(tmpdir(), 'mlstm-bench-q4-')),
      suffix: 'q4',
      log: () => {},
    });
    for (const r of res.results) {
      for (const c of r.cells) expect(c.result.error).toBeUndefined();
      const csv = parseCsv(readFileSync(join(r.folder, 'results.csv'), 'utf8'));
      expect(csv[0].some((h) => h.includes('q4'))).toBe(true);
      expect(csv[0].some((h) => h.includes('int8'))).toBe(true);
    }
  });
});

function batchesOf(c: ReturnType<typeof modelConfigs>[number]): number {
  return new Set(c.kernelSpecs.map((s) => s.additionalParams.batch_size)).size;
}
