import { describe, expect, it } from 'vitest';
import { main as packedSequences } from '../examples/packed-sequences.js';

describe('docs examples: sequences', () => {
  it('packed-sequences: one packed call == separate calls; per-sequence last states', async () => {
    const r = await packedSequences();
    expect(r.lastStateShape).toEqual([3, 2, 16, 16]);
    expect(r.maxDiff).toBeLessThan(1e-9); // float64 CPU kernels: only the summation order differs
  });
});
