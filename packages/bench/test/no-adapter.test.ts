/**
 * A run on a machine without a WebGPU adapter (`ctx: null` stands in for it): one message, the
 * series that need no GPU still run, the output folder is absolute, and run.json / summary.md
 * record the warm-up policy and the cells that did not settle.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { needsGpu, runSuites } from '../src/index.js';

describe('bench without an adapter', () => {
  it('says so once, runs the CPU reference, writes absolute paths and the warm-up record', async () => {
    const logs: string[] = [];
    const out = relative(process.cwd(), mkdtempSync(join(tmpdir(), 'mlstm-bench-noadapter-')));
    const res = await runSuites({
      ctx: null,
      suites: ['consttoken'],
      preset: 'tiny',
      modes: ['fw'],
      seqLens: [32, 64],
      tokens: 64,
      numHeads: 1,
      headDimQk: 8,
      headDimV: 8,
      peers: ['cpu', 'ort', 'triton'],
      outputDir: out,
      log: (l) => logs.push(l),
    });
    expect(logs.filter((l) => /no WebGPU adapter/.test(l))).toHaveLength(1);
    expect(logs.join('\n')).toMatch(/Running only the series that need no GPU/);
    expect(logs).toHaveLength(1); // no per-cell errors
    expect(isAbsolute(res.folder)).toBe(true);
    const [r] = res.results;
    expect(r.config.kernelSpecs.map((k) => k.kernelName).sort()).toEqual([
      'cpu--core_reference_chunkwise',
      'reference--triton_xl_chunk',
    ]);
    const cpu = r.cells.filter((c) => c.spec.startsWith('cpu--'));
    expect(cpu).toHaveLength(2);
    for (const c of cpu) {
      expect(Number.isFinite(c.result.runtimeMs)).toBe(true);
      // warmed up: the fixed call, then at least two stability batches
      expect(c.result.warmupCalls).toBeGreaterThanOrEqual(1 + 6);
      expect(typeof c.result.stable).toBe('boolean');
    }
    const run = JSON.parse(readFileSync(join(res.folder, 'run.json'), 'utf8'));
    expect(run.warmupPolicy).toMatchObject({ tolerance: 0.02, batch: 3 });
    expect(Array.isArray(run.unstable)).toBe(true);
    const summary = readFileSync(join(res.folder, 'summary.md'), 'utf8');
    expect(summary).toMatch(/## Warm-up/);
    expect(summary).not.toMatch(/Triton\* = upstream/); // no Triton number at these sizes
  });

  it.each([
    ['cpu--core_reference_chunkwise', undefined, false],
    ['reference--triton_xl_chunk', undefined, false],
    ['ort--recurrent_loop', undefined, false],
    ['ort--parallel_stablef', 'wasm', false],
    ['ort--parallel_stablef', 'webgpu', true],
    ['chunkwise--webgpu_xl_chunk', undefined, true],
  ] as const)('needsGpu(%s, %s) = %s', (name, ep, want) => {
    expect(needsGpu(name, ep)).toBe(want);
  });
});
