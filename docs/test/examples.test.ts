import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main as checkAdapter } from '../examples/check-adapter.js';
import { main as inferenceStates } from '../examples/inference-states.js';
import { main as training } from '../examples/training.js';

describe('docs examples', () => {
  it('check-adapter: an adapter (lavapipe in CI) or the CPU fallback', async () => {
    const r = await checkAdapter();
    expect(r.kernel).toMatch(/^chunkwise--/);
    if (r.adapter !== 'none') expect(r.maxBinding).toBeGreaterThanOrEqual(128 * 2 ** 20);
  });

  it('training: GPU forward + backward matches the float64 reference; train_with_padding', async () => {
    const r = await training();
    expect(r.hShape).toEqual([2, 2, 128, 32]);
    expect(r.relMaxDiff).toBeLessThan(1e-4); // f32 kernels vs float64 (backend tests: 2e-5 class)
    expect(r.paddedDfShape).toEqual([1, 1, 100]);
  });

  it('inference-states: whole prompt == prefill + steps', async () => {
    const r = await inferenceStates();
    expect(r.steps).toBe(1 + 77 - 40);
    expect(r.stateShapes).toEqual([
      [1, 2, 16, 16],
      [1, 2, 16],
      [1, 2, 1],
    ]);
    expect(r.maxDiff).toBeLessThan(1e-5); // states handed over as float32
  });
});

describe('docs examples (packages)', () => {
  it('custom-benchmark: Step 1–3 write config.yaml, results.csv and plots', async () => {
    const { main } = await import('../examples/custom-benchmark.js');
    const out = mkdtempSync(join(tmpdir(), 'docs-bench-'));
    try {
      const r = await main(out);
      expect(r.rows).toHaveLength(2);
      const files = readdirSync(r.folder).sort();
      expect(files).toEqual(expect.arrayContaining(['config.yaml', 'results.csv', 'results.json']));
      expect(files.some((f) => f.endsWith('_runtime.svg'))).toBe(true);
      for (const c of r.cells) expect(c.result.error, c.spec).toBeUndefined();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('model-random: cache hand-over equals one call; greedy generation', async () => {
    const { main } = await import('../examples/model-random.js');
    const r = await main();
    expect(r.logitsShape).toEqual([1, 1, 256]);
    expect(r.maxDiff).toBeLessThan(1e-3);
    expect(r.tokens).toHaveLength(8);
  });

  it('troubleshooting: f16 choice, argument error, lost device recreated', async () => {
    const { main } = await import('../examples/troubleshooting.js');
    const r = await main();
    expect(r.argumentError).toBe('chunkSize');
    expect(r.lost).toBe(true);
    expect(r.hShape).toEqual([1, 2, 64, 16]);
  });
});
