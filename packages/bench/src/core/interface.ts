/**
 * `BenchmarkInterface` (upstream `benchmarks/interface.py`): set parameters, `setup()` prepares
 * inputs, `benchmarkFn()` is the function under test, `runBenchmark()` does the warm-up and the
 * timed repetitions and aggregates (median or mean). Any error → runtime NaN, memory −1, and the
 * message is kept.
 */
import type { ParamDict } from './config.js';
import type { KernelSpec } from './kernel-spec.js';

/** Measures one call of the function under test. */
export interface Timer {
  /** what the number means: `timestamp-query`, `wall+sync`, `cpu`, `reference` … */
  readonly method: string;
  /** ms of one call (may run `fn` several times and divide) */
  time(fn: () => Promise<void>): Promise<number>;
}

/** Reads and resets a peak-memory counter (bytes). */
export interface MemoryMeter {
  reset(): void;
  peakBytes(): number;
}

export interface Stats {
  min: number;
  max: number;
  mean: number;
  median: number;
}

export interface RuntimeResult {
  /** headline runtime in ms (the aggregation of `runtimes`); NaN on error */
  runtimeMs: number;
  /** peak memory in bytes during a repetition (max over repetitions); −1 on error or unknown */
  peakMemoryBytes: number;
  runtimeStats: Stats;
  runtimes: number[];
  /** how the runtime was measured */
  timing: string;
  error?: string;
}

export function stats(xs: readonly number[]): Stats {
  if (xs.length === 0) return { min: NaN, max: NaN, mean: NaN, median: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return {
    min: s[0],
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2,
  };
}

/** A wall-clock timer for synchronous-completion functions (CPU work, or fn awaits the GPU itself). */
export class WallTimer implements Timer {
  readonly method: string;
  constructor(
    method = 'wall',
    private readonly callsPerSample = 1,
  ) {
    this.method = callsPerSample > 1 ? `${method} (${callsPerSample} calls)` : method;
  }
  async time(fn: () => Promise<void>): Promise<number> {
    const t0 = performance.now();
    for (let c = 0; c < this.callsPerSample; c++) await fn();
    return (performance.now() - t0) / this.callsPerSample;
  }
}

/** The result of a cell that could not run. */
export function failedResult(e: unknown, timing = 'n/a'): RuntimeResult {
  return {
    runtimeMs: NaN,
    peakMemoryBytes: -1,
    runtimeStats: stats([]),
    runtimes: [],
    timing,
    error: (e as Error)?.message ?? String(e),
  };
}

export abstract class BenchmarkInterface {
  warmup = 10;
  rep = 30;
  aggregation: 'median' | 'mean' = 'median';
  /** the spec and parameters this benchmark was created for (recorded in results) */
  spec?: KernelSpec;
  params: ParamDict = {};

  /** Sets fields from a dict; a key the benchmark does not have → error (as upstream). */
  setParams(p: ParamDict): void {
    for (const [k, v] of Object.entries(p)) {
      if (!(k in this)) throw new Error(`${this.constructor.name} has no parameter '${k}'`);
      (this as unknown as Record<string, unknown>)[k] = v;
    }
  }

  /** Prepares inputs (not timed). */
  abstract setup(): Promise<void>;
  /** The function under test: one call. */
  abstract benchmarkFn(): Promise<void>;
  /** How a call is timed. */
  abstract timer(): Timer;
  /** Peak memory meter (default: none → −1). */
  memoryMeter(): MemoryMeter | null {
    return null;
  }
  /** Frees inputs (after the repetitions, also after errors). */
  async teardown(): Promise<void> {}

  async runBenchmark(): Promise<RuntimeResult> {
    let timing = 'n/a';
    try {
      await this.setup();
      const timer = this.timer();
      timing = timer.method;
      const mem = this.memoryMeter();
      // warm-up (the first call compiles pipelines / creates sessions)
      for (let w = 0; w < this.warmup; w++) await timer.time(() => this.benchmarkFn());
      const runtimes: number[] = [];
      let peak = mem ? 0 : -1;
      for (let r = 0; r < this.rep; r++) {
        mem?.reset();
        runtimes.push(await timer.time(() => this.benchmarkFn()));
        if (mem) peak = Math.max(peak, mem.peakBytes());
      }
      const st = stats(runtimes);
      return {
        runtimeMs: this.aggregation === 'median' ? st.median : st.mean,
        peakMemoryBytes: peak,
        runtimeStats: st,
        runtimes,
        timing,
      };
    } catch (e) {
      return failedResult(e, timing);
    } finally {
      try {
        await this.teardown();
      } catch {
        // teardown errors must not hide the result
      }
    }
  }
}

/** Creates the benchmark of one cell (upstream `BenchmarkCreator`). */
export type BenchmarkCreator = (
  spec: KernelSpec,
  params: ParamDict,
) => BenchmarkInterface | Promise<BenchmarkInterface>;
