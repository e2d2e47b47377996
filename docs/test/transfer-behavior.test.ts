import { describe, expect, it } from 'vitest';
import { computeGainMetric, main, mlstmCellFunc } from '../examples/transfer-behavior.js';

const rand = (shape: number[], seed: number) => {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return { shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next) };
};

describe('transfer behaviour (spec §11)', () => {
  const x = {
    q: rand([1, 2, 128, 8], 1),
    k: rand([1, 2, 128, 8], 2),
    v: rand([1, 2, 128, 8], 3),
    i: rand([1, 2, 128], 4),
    f: rand([1, 2, 128], 5),
  };

  it('tb__mlstmexp--paper is the registry parallel kernel (mk__) before the norm', () => {
    const tb = mlstmCellFunc('tb__mlstmexp--paper', 'none', x).before;
    const mk = mlstmCellFunc('mk__parallel--native_stablef_custbw', 'none', x).before;
    let d = 0;
    for (let j = 0; j < tb.data.length; j++) d = Math.max(d, Math.abs(tb.data[j] - mk.data[j]));
    expect(d).toBeLessThan(1e-10);
  });

  it('norms: RMS rows have unit RMS, layer rows zero mean; S < 128 is rejected', () => {
    const { after } = mlstmCellFunc('tb__mlstmsig--max_sum_abs_1', 'rms', x, { normEps: 0 });
    const row = after.data.subarray(8, 16);
    expect(Math.sqrt(Array.from(row, (b) => b * b).reduce((a, b) => a + b, 0) / 8)).toBeCloseTo(1, 10);
    const layer = mlstmCellFunc('tb__mlstmexp--denom_one-2', 'layer', x).after.data.subarray(0, 8);
    expect(Array.from(layer).reduce((a, b) => a + b, 0)).toBeCloseTo(0, 10);
    expect(() => mlstmCellFunc('tb__mlstmexp--paper', 'rms', { ...x, q: rand([1, 1, 64, 8], 1) })).toThrow(
      /128/,
    );
    expect(computeGainMetric(x.v, 'abs_max_mean-v', x)).toBe(1);
  });

  it('the gate-offset sweep: the gain varies over offsets before the norm and is bounded after it', async () => {
    const r = await main({
      igateOffsets: [-12, -2, 8],
      fgateOffsets: [-5, 3, 12],
      S: 128,
      DHQK: 16,
      DHHV: 16,
    });
    const before = r.before.flat();
    const after = r.after.flat();
    expect(Math.max(...before) / Math.min(...before)).toBeGreaterThan(10);
    // after an RMS norm the per-token abs max is at most sqrt(DHHV) = 4 (relative to v's ≈ 2.5)
    for (const g of after) expect(g).toBeLessThan(4);
    expect(Math.max(...after) / Math.min(...after)).toBeLessThan(Math.max(...before) / Math.min(...before));
  });
});
