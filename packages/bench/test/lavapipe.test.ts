/**
 * A tiny real run on whatever WebGPU adapter dawn.node finds (Mesa lavapipe in CI): the kernels'
 * suites through the recording path, timestamp-query timing, and the ORT WebGPU EP peer.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mlstmParallel, type Tensor } from '@mlstm/core-reference';
import { Rng, randomMlstmInputs } from '@mlstm/core-reference/testing';
import type { GpuContext } from '@mlstm/kernels-webgpu';
import { XMLValidator } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildParallelStablefGraph, openGpuContext, parseCsv, runSuites } from '../src/index.js';
import { createSession, loadOrt } from '../src/peers/ort.js';

let ctx: GpuContext | undefined;
let why = '';
beforeAll(async () => {
  try {
    ctx = await openGpuContext();
  } catch (e) {
    why = (e as Error).message;
  }
});

describe('tiny real run', () => {
  it('consttoken (fw, fwbw) + step on the GPU, recorded', async (t) => {
    if (!ctx) t.skip(`no WebGPU adapter: ${why}`);
    const out = mkdtempSync(join(tmpdir(), 'mlstm-bench-real-'));
    const res = await runSuites({
      ctx,
      suites: ['consttoken', 'step'],
      preset: 'tiny',
      modes: ['fw', 'fwbw'],
      seqLens: [64, 128],
      tokens: 128,
      numHeads: 1,
      headDimQk: 16,
      headDimV: 16,
      batchSizes: [2],
      kernels: ['chunkwise--webgpu_xl_chunk:64', 'backend:chunkwise--webgpu_xl_chunk:64'],
      peers: ['triton', 'cpu'],
      warmup: 0,
      warmupPolicy: { maxCalls: 6 }, // keep the test short: at most two stability batches
      rep: 2,
      outputDir: out,
      suffix: 'lavapipe',
      log: () => {},
    });
    expect(res.results.map((r) => r.config.benchmarkName)).toEqual([
      'consttoken_fw',
      'consttoken_fwbw',
      'step',
    ]);
    for (const r of res.results) {
      const csv = parseCsv(readFileSync(join(r.folder, 'results.csv'), 'utf8'));
      const header = csv[0];
      const rCols = header
        .map((h, j) => [h, j] as const)
        .filter(([h]) => h.startsWith('R--chunkwise') || h.startsWith('R--step'));
      expect(rCols.length).toBeGreaterThan(0);
      for (const row of csv.slice(1)) {
        for (const [, j] of rCols) expect(Number(row[j])).toBeGreaterThan(0);
        expect(row[header.indexOf('adapter')]).toBe(res.adapter);
      }
      const svg = readFileSync(join(r.folder, `plot_${r.config.benchmarkName}_runtime.svg`), 'utf8');
      expect(XMLValidator.validate(svg)).toBe(true);
      // GPU memory of the kernel cells is the pool's peak (inputs included)
      const kernelCell = r.cells.find((c) => c.spec.startsWith('chunkwise') || c.spec.startsWith('step'));
      expect(kernelCell?.result.peakMemoryBytes).toBeGreaterThan(0);
      expect(kernelCell?.result.timing).toContain(ctx!.features.timestampQuery ? 'timestamp-query' : 'wall');
    }
    // the Triton reference numbers only exist for the paper's shape: skipped here
    const tri = res.results[0].cells.find((c) => c.spec.startsWith('reference--triton'));
    expect(tri?.result.error).toMatch(/^skipped/);
    expect(res.summary).toContain('xl f32 cs64');
    // the same kernel through @mlstm/backend's registry ran too
    const viaBackend = res.results[0].cells.find((c) => c.spec.startsWith('backend:'));
    expect(viaBackend?.result.runtimeMs).toBeGreaterThan(0);
  });

  it('skips the cells after the time budget (recorded, not failed)', async (t) => {
    if (!ctx) t.skip(`no WebGPU adapter: ${why}`);
    const res = await runSuites({
      ctx,
      suites: ['step'],
      preset: 'tiny',
      timeBudgetS: 0,
      outputDir: mkdtempSync(join(tmpdir(), 'mlstm-bench-budget-')),
      log: () => {},
    });
    const cells = res.results[0].cells;
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) expect(c.result.error).toBe('skipped: time budget exhausted');
  });

  it('onnxruntime-web WebGPU EP runs the parallel graph and matches core-reference', async (t) => {
    if (!ctx) t.skip(`no WebGPU adapter: ${why}`);
    const d = { B: 1, NH: 2, S: 16, DHQK: 8, DHHV: 8 };
    const x = randomMlstmInputs(new Rng(5), d, { kind: 'f32' }) as Record<string, Tensor>;
    const ort = await loadOrt();
    let s: Awaited<ReturnType<typeof createSession>>;
    try {
      s = await createSession(ort, buildParallelStablefGraph(d), 'webgpu');
    } catch (e) {
      t.skip(`ORT WebGPU EP unavailable here: ${(e as Error).message}`);
      return;
    }
    const feeds: Record<string, unknown> = {};
    for (const [n, v] of Object.entries(x))
      feeds[n] = new ort.Tensor('float32', Float32Array.from(v.data), v.shape);
    const out = await s.run(feeds as never);
    const h = out.h.data as Float32Array;
    const ref = mlstmParallel(x as never).h.data;
    let m = 0;
    for (let j = 0; j < h.length; j++) m = Math.max(m, Math.abs(h[j] - ref[j]));
    expect(m).toBeLessThan(1e-4);
  });
});
