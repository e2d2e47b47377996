/**
 * The `gemm` suite: its configs (the xLSTM-7B projections from hf-model's default config) and a
 * real tiny-preset run on whatever adapter dawn.node finds (lavapipe in CI: the matrix-unit
 * series is recorded as skipped there, the register-tiled one gets times and TFLOP/s).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GpuContext } from '@mlstm/kernels-webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  gemmConfigs,
  gemmFlops,
  listSuites,
  openGpuContext,
  parseCsv,
  runSuites,
  TFLOPS_PREFIX,
  xlstm7bGemmShapes,
} from '../src/index.js';
import { buildProgram } from '../src/cli.js';

let ctx: GpuContext | undefined;
let why = '';
beforeAll(async () => {
  try {
    ctx = await openGpuContext();
  } catch (e) {
    why = (e as Error).message;
  }
});

describe('gemm suite configs', () => {
  it('the 7B projections as the engine fuses them, at M 2048 and 8192', () => {
    expect(listSuites().map((s) => s.name)).toContain('gemm');
    expect(xlstm7bGemmShapes().map((s) => [s.name, s.N, s.K, s.gated])).toEqual([
      ['qkvo+gates', 2 * 2048 + 2 * 4096 + 16, 4096, false],
      ['out_proj', 4096, 4096, false],
      ['ffn_up_gate_silu', 10944, 4096, true],
      ['ffn_down', 4096, 10944, false],
      ['lm_head', 50304, 4096, false],
    ]);
    const full = gemmConfigs({ preset: 'full' });
    expect(full.map((c) => c.benchmarkName)).toEqual(['gemm_M2048', 'gemm_M8192']);
    expect(full[0].kernelSpecs.map((s) => s.kernelName)).toEqual([
      'gemm--webgpu_matrix',
      'gemm--webgpu_tiled',
    ]);
    // the gated projection counts both halves of W
    expect(gemmFlops(2, { N: 3, K: 5, gated: true })).toBe(2 * 2 * 5 * 6);
  });
});

describe('--dense-tiles', () => {
  it('the CLI reads tiles for the whole run (context tuning) and rejects malformed ones', () => {
    const p = buildProgram().exitOverride();
    p.parse(['node', 'mlstm-bench', '--suite', 'gemm', '--dense-tiles', '128x128x64:wm2:s1:rot'], {
      from: 'node',
    });
    expect(p.opts().denseTiles).toEqual({ bm: 128, bn: 128, bk: 64, wm: 2, stages: 1, rotateStores: true });
    expect(() =>
      buildProgram()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parse(['node', 'mlstm-bench', '--dense-tiles', '128x128'], { from: 'node' }),
    ).toThrow(/denseTiles/);
  });
});

describe('gemm suite, tiny preset (real run)', () => {
  it('records times and TFLOP/s of the register-tiled path; the matrix path where the adapter has it', async (t) => {
    if (!ctx) t.skip(`no WebGPU adapter: ${why}`);
    if (!ctx!.features.shaderF16) t.skip('no shader-f16 (the suite runs f16 weights)');
    const out = mkdtempSync(join(tmpdir(), 'mlstm-bench-gemm-'));
    const res = await runSuites({
      ctx,
      suites: ['gemm'],
      preset: 'tiny',
      rep: 1,
      outputDir: out,
      log: () => {},
    });
    expect(res.results.map((r) => r.config.benchmarkName)).toEqual(['gemm_M96']);
    const r = res.results[0];
    const csv = parseCsv(readFileSync(join(r.folder, 'results.csv'), 'utf8'));
    const header = csv[0];
    const col = (prefix: string) => header.findIndex((h) => h.startsWith(prefix));
    const tiled = col(`${TFLOPS_PREFIX}gemm--webgpu_tiled__float16`);
    const matrix = col(`${TFLOPS_PREFIX}gemm--webgpu_matrix__float16`);
    expect(tiled).toBeGreaterThan(0);
    expect(matrix).toBeGreaterThan(0);
    expect(csv.length - 1).toBe(2);
    for (const row of csv.slice(1)) {
      expect(Number(row[tiled])).toBeGreaterThan(0);
      if (!ctx!.features.subgroupMatrix) expect(row[matrix]).toMatch(/NaN|^$/);
    }
  });
});
