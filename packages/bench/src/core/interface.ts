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
  /**
   * Warm-up of this cell: calls made before the timed repetitions (the fixed `warmup` calls plus the
   * stability batches), and whether two consecutive batch medians agreed within the tolerance
   * (`null`: stability warm-up off for this cell).
   */
  warmupCalls?: number;
  stable?: boolean | null;
  error?: string;
}

/** A stability warm-up policy (see {@link WARMUP_POLICY}). */
export interface WarmupPolicy {
  tolerance: number;
  batch: number;
  maxCalls: number;
  maxMs: number;
}

/** The warm-up policy every benchmark uses unless its parameters change it (recorded in run.json). */
export const WARMUP_POLICY: Readonly<WarmupPolicy> = Object.freeze({
  /** relative difference of two consecutive batch medians under which timings count as stable */
  tolerance: 0.02,
  /** timed calls per batch */
  batch: 3,
  /** at most this many stability calls per cell… */
  maxCalls: 30,
  /** …and at most this long (ms) */
  maxMs: 5000,
});

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
  /**
   * Stability warm-up after the `warmup` calls: batches of `warmup_batch` calls until two
   * consecutive batch medians differ by at most `warmup_tolerance` (relative), capped at
   * `warmup_max_calls` calls and `warmup_max_ms`. A cell that reaches the cap is recorded as
   * unstable (`stable: false`). `warmup_tolerance = 0` turns it off.
   */
  warmup_tolerance: number = WARMUP_POLICY.tolerance;
  warmup_batch: number = WARMUP_POLICY.batch;
  warmup_max_calls: number = WARMUP_POLICY.maxCalls;
  warmup_max_ms: number = WARMUP_POLICY.maxMs;
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

  /**
   * Batches of `warmup_batch` timed calls until two consecutive batch medians agree within
   * `warmup_tolerance`, or the cap is reached. Returns the calls made and whether it settled.
   */
  protected async warmUntilStable(timer: Timer): Promise<{ calls: number; stable: boolean | null }> {
    if (!(this.warmup_tolerance > 0) || this.warmup_batch < 1) return { calls: 0, stable: null };
    const t0 = performance.now();
    let calls = 0;
    let previous = Number.NaN;
    while (calls + this.warmup_batch <= this.warmup_max_calls) {
      const batch: number[] = [];
      for (let c = 0; c < this.warmup_batch; c++) batch.push(await timer.time(() => this.benchmarkFn()));
      calls += this.warmup_batch;
      const median = stats(batch).median;
      if (relDiff(median, previous) <= this.warmup_tolerance) return { calls, stable: true };
      previous = median;
      if (performance.now() - t0 > this.warmup_max_ms) break;
    }
    return { calls, stable: false };
  }

  async runBenchmark(): Promise<RuntimeResult> {
    let timing = 'n/a';
    try {
      await this.setup();
      const timer = this.timer();
      timing = timer.method;
      const mem = this.memoryMeter();
      // warm-up (the first call compiles pipelines / creates sessions), then until stable
      for (let w = 0; w < this.warmup; w++) await timer.time(() => this.benchmarkFn());
      const warm = await this.warmUntilStable(timer);
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
        warmupCalls: this.warmup + warm.calls,
        stable: warm.stable,
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

/** Relative difference of two positive numbers (∞ when either is not finite). */
function relDiff(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Number.POSITIVE_INFINITY;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), Number.MIN_VALUE);
}

/** Creates the benchmark of one cell (upstream `BenchmarkCreator`). */
export type BenchmarkCreator = (
  spec: KernelSpec,
  params: ParamDict,
) => BenchmarkInterface | Promise<BenchmarkInterface>;
