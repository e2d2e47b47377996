import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  BenchmarkConfig,
  BenchmarkInterface,
  type KernelSpec,
  parseCsv,
  runAndRecordBenchmarks,
  runBenchmarks,
  setupOutputFolder,
  stats,
  type Timer,
  toCsv,
} from '../src/index.js';

/** A fake benchmark: runtime = S / 100 · factor ms, memory = S bytes; counts its calls. */
class FakeBenchmark extends BenchmarkInterface {
  sequence_length = 0;
  batch_size = 0;
  factor = 1;
  fail = false;
  calls = 0;
  setups = 0;
  teardowns = 0;
  private peak = 0;
  async setup() {
    this.setups++;
    if (this.fail) throw new Error('out of memory (fake)');
  }
  async benchmarkFn() {
    this.calls++;
    this.peak = this.sequence_length;
  }
  timer(): Timer {
    let n = 0;
    return {
      method: 'fake',
      time: async (fn) => {
        await fn();
        n++;
        return (this.sequence_length / 100) * this.factor + (n % 3) * 0.001;
      },
    };
  }
  override memoryMeter() {
    return { reset: () => (this.peak = 0), peakBytes: () => this.peak };
  }
  override async teardown() {
    this.teardowns++;
  }
}

function config() {
  return new BenchmarkConfig({
    benchmarkName: 'fake',
    varyType: 'sequence',
    varyParams: { sequence_length: [128, 256, 512], batch_size: [4, 2, 1] },
    fixedParams: {},
    kernelSpecs: [
      { kernelName: 'fast', additionalParams: { factor: 1 } },
      { kernelName: 'slow', dtype: 'float16', additionalParams: { factor: 10 }, label: 'Slow one' },
      { kernelName: 'broken', additionalParams: { fail: true } },
    ],
    xAxisParam: 'sequence_length',
    warmup: 2,
    rep: 5,
  });
}

const made: FakeBenchmark[] = [];
const creator = (_spec: KernelSpec, params: Record<string, unknown>) => {
  const b = new FakeBenchmark();
  b.setParams(params as never);
  made.push(b);
  return b;
};

describe('stats', () => {
  it('median / mean / min / max', () => {
    expect(stats([3, 1, 2])).toEqual({ min: 1, max: 3, mean: 2, median: 2 });
    expect(stats([4, 1, 2, 3]).median).toBe(2.5);
    expect(Number.isNaN(stats([]).median)).toBe(true);
  });
});

describe('runBenchmarks on a fake benchmark', () => {
  it('loops params × specs, warms up, repeats, aggregates, records errors as NaN / -1', async () => {
    made.length = 0;
    const logs: string[] = [];
    const events: number[] = [];
    const res = await runBenchmarks(config(), creator, {
      log: (l) => logs.push(l),
      onProgress: (e) => e.result && events.push(e.done),
      adapter: 'fake adapter',
    });
    expect(made).toHaveLength(9);
    // 2 warm-up + 2 stability batches of 3 (equal medians: stable) + 5 repetitions
    expect(made[0].calls).toBe(13);
    expect(res.cells[0].result).toMatchObject({ warmupCalls: 8, stable: true });
    expect(made.every((b) => b.teardowns === 1)).toBe(true);
    expect(events).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(res.rows).toHaveLength(3);
    const r0 = res.rows[0];
    expect(r0['P--sequence_length']).toBe(128);
    expect(r0['R--fast__float32__fw__f-1']).toBeCloseTo(1.28, 2);
    expect(r0['R--slow__float16__fw__f-10']).toBeCloseTo(12.8, 1);
    expect(r0['M--fast__float32__fw__f-1']).toBe(128);
    expect(Number.isNaN(r0['R--broken__float32__fw__f-true'] as number)).toBe(true);
    expect(r0['M--broken__float32__fw__f-true']).toBe(-1);
    expect(r0.adapter).toBe('fake adapter');
    expect(logs.some((l) => l.includes('out of memory (fake)'))).toBe(true);
    const broken = res.cells.find((c) => c.spec.startsWith('broken'));
    expect(broken?.result.error).toContain('out of memory');
  });

  it('mean aggregation and unknown parameters', async () => {
    const b = new FakeBenchmark();
    b.aggregation = 'mean';
    b.sequence_length = 100;
    b.rep = 3;
    b.warmup = 0;
    const r = await b.runBenchmark();
    expect(r.runtimeMs).toBeCloseTo(r.runtimes.reduce((a, x) => a + x, 0) / 3, 9);
    expect(() => b.setParams({ nope: 1 })).toThrow(/no parameter 'nope'/);
  });
});

describe('runAndRecordBenchmarks', () => {
  it('writes config.yaml, results.csv and well-formed SVG plots', async () => {
    const out = setupOutputFolder(
      mkdtempSync(join(tmpdir(), 'mlstm-bench-')),
      'test',
      new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    );
    expect(out).toMatch(/2026-01-02_03-04-05__test$/);
    const res = await runAndRecordBenchmarks(config(), creator, out, { adapter: 'fake, "quoted" adapter' });
    const folder = res.folder;
    // config round-trips
    const cfg = BenchmarkConfig.fromFile(join(folder, 'config.yaml'));
    expect(cfg.toJSON()).toEqual(config().toJSON());
    // CSV: header + 3 rows, P--/R--/M-- columns, quoted adapter
    const csv = parseCsv(readFileSync(join(folder, 'results.csv'), 'utf8'));
    expect(csv).toHaveLength(4);
    const header = csv[0];
    expect(header.filter((h) => h.startsWith('P--'))).toEqual(['P--sequence_length', 'P--batch_size']);
    expect(header.filter((h) => h.startsWith('R--'))).toHaveLength(3);
    expect(header.filter((h) => h.startsWith('M--'))).toHaveLength(3);
    const col = header.indexOf('adapter');
    expect(csv[1][col]).toBe('fake, "quoted" adapter');
    expect(csv.every((r) => r.length === header.length)).toBe(true);
    expect(toCsv(res.rows)).toBe(readFileSync(join(folder, 'results.csv'), 'utf8'));
    // SVG plots parse as XML and contain the series labels
    for (const kind of ['runtime', 'memory']) {
      const svg = readFileSync(join(folder, `plot_fake_${kind}.svg`), 'utf8');
      expect(XMLValidator.validate(svg)).toBe(true);
      const doc = new XMLParser({ ignoreAttributes: false }).parse(svg);
      expect(doc.svg['@_xmlns']).toBe('http://www.w3.org/2000/svg');
      expect(svg).toContain('Slow one');
      expect(svg).toContain(kind === 'runtime' ? 'Time [ms]' : 'Memory [bytes]');
    }
    const json = JSON.parse(readFileSync(join(folder, 'results.json'), 'utf8'));
    expect(json.cells).toHaveLength(9);
    await expect(runAndRecordBenchmarks(config(), creator, out)).rejects.toThrow(/exists/);
  });
});

describe('consttokenHeadline', () => {
  it('puts ours next to Triton and ORT per S, with ratios', async () => {
    const { consttokenConfigs, consttokenHeadline, RUNTIME_PREFIX } = await import('../src/index.js');
    const [cfg] = consttokenConfigs({
      preset: 'full',
      modes: ['fw'],
      dtypes: ['float16'],
      seqLens: [512, 1024],
    });
    const xl = cfg.kernelSpecs.find((s) => s.kernelName === 'chunkwise--webgpu_xl_chunk')!;
    const tri = cfg.kernelSpecs.find((s) => s.kernelName === 'reference--triton_xl_chunk')!;
    const rows = [512, 1024].map((S) => ({
      'P--sequence_length': S,
      [RUNTIME_PREFIX + xl.toString()]: 37.8,
      [RUNTIME_PREFIX + tri.toString()]: 3.78,
    }));
    const md = consttokenHeadline([{ config: cfg, rows, cells: [] }]);
    expect(md).toContain('| S | xl f16 cs128 fw | Triton* fw | xl f16 / Triton fw |');
    expect(md).toContain('| 512 | 37.8 | 3.78 | 10.0× |');
  });
});

describe('headline names only the series it has', () => {
  it('no Triton column, no Triton note', async () => {
    const { consttokenConfigs, consttokenHeadline, RUNTIME_PREFIX } = await import('../src/index.js');
    const [cfg] = consttokenConfigs({ preset: 'full', modes: ['fw'], dtypes: ['float16'], seqLens: [512] });
    const xl = cfg.kernelSpecs.find((s) => s.kernelName === 'chunkwise--webgpu_xl_chunk')!;
    const tri = cfg.kernelSpecs.find((s) => s.kernelName === 'reference--triton_xl_chunk')!;
    // the Triton numbers exist only at the paper's sizes: NaN here
    const rows = [
      {
        'P--sequence_length': 512,
        [RUNTIME_PREFIX + xl.toString()]: 4,
        [RUNTIME_PREFIX + tri.toString()]: NaN,
      },
    ];
    const md = consttokenHeadline([{ config: cfg, rows, cells: [] }]);
    expect(md).toContain('| S | xl f16 cs128 fw |');
    expect(md).not.toMatch(/Triton/);
  });
});

/** A benchmark whose calls get faster until call `settleAt`, then stay put (a GPU clocking up). */
class DriftingBenchmark extends BenchmarkInterface {
  calls = 0;
  constructor(private readonly settleAt: number) {
    super();
  }
  async setup() {}
  async benchmarkFn() {
    this.calls++;
  }
  timer(): Timer {
    return {
      method: 'fake',
      time: async (fn) => {
        await fn();
        return this.calls < this.settleAt ? 10 - this.calls * 0.3 : 1;
      },
    };
  }
}

describe('warm-up until stable', () => {
  it.each([
    // settles at call 10: batches (1-3) (4-6) (7-9) drift, (10-12) (13-15) equal → stable after 15
    [10, 30, { warmupCalls: 1 + 15, stable: true }, 1],
    // never settles within 12 calls: recorded as unstable
    [100, 12, { warmupCalls: 1 + 12, stable: false }, 10 - 14 * 0.3],
  ])('settleAt %i, maxCalls %i', async (settleAt, maxCalls, expected, firstRep) => {
    const b = new DriftingBenchmark(settleAt);
    b.warmup = 1;
    b.rep = 3;
    b.warmup_max_calls = maxCalls;
    const r = await b.runBenchmark();
    expect(r).toMatchObject(expected);
    expect(r.runtimes[0]).toBeCloseTo(firstRep, 9);
  });

  it('tolerance 0 turns it off (stable: null)', async () => {
    const b = new DriftingBenchmark(100);
    b.warmup = 2;
    b.rep = 1;
    b.warmup_tolerance = 0;
    expect(await b.runBenchmark()).toMatchObject({ warmupCalls: 2, stable: null });
    expect(b.calls).toBe(3);
  });
});
