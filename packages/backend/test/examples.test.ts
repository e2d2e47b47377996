/**
 * The README's three usage examples (files under examples/, shown verbatim in README.md) run as
 * tests, so that the documentation cannot rot.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main as option1 } from '../examples/option1-backend.js';
import { main as option2 } from '../examples/option2-direct-kernel.js';
import { main as option3 } from '../examples/option3-registry.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const finite = (a: ArrayLike<number>) => Array.from(a).every(Number.isFinite);

describe('README examples', () => {
  it('README.md shows every example file verbatim', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const file of ['option1-backend.ts', 'option2-direct-kernel.ts', 'option3-registry.ts']) {
      const code = readFileSync(join(root, 'examples', file), 'utf8');
      expect(readme, `README.md must contain examples/${file} verbatim`).toContain(code.trimEnd());
    }
  });

  it('Option 1: MlstmBackend (train + backward, inference prefill + one step)', async () => {
    const r = await option1();
    expect([...r.h.shape]).toEqual([1, 2, 96, 32]);
    expect([...r.grads.df.shape]).toEqual([1, 2, 96]);
    expect([...r.prefill.h.shape]).toEqual([1, 2, 96, 32]);
    expect([...r.next.h.shape]).toEqual([1, 2, 1, 32]);
    expect([...r.next.lastStates.c.shape]).toEqual([1, 2, 16, 32]);
    expect(finite(r.next.h.data) && finite(r.grads.dq.data)).toBe(true);
  });

  it('Option 2: a kernel imported from @mlstm/kernels-webgpu', async () => {
    const r = await option2();
    expect([...r.shape]).toEqual([1, 2, 128, 32]);
    expect(finite(r.hValues)).toBe(true);
  });

  it('Option 3: kernels by specifier, CPU and WebGPU interchangeable', async () => {
    const r = await option3();
    // same math, float64 vs float32 (see fixtures.test.ts for the tolerance reasoning)
    expect(r.maxDiff).toBeLessThan(1e-4);
    expect(r.maxDiff).toBeGreaterThan(0);
    expect([...r.grads.dk.shape]).toEqual([1, 2, 64, 16]);
  });
});
