/**
 * GPU timing for kernels-webgpu calls.
 *
 * {@link TimestampTimer}: a `ctx.beginGpuTiming()` / `ctx.endGpuTiming()` session of
 * kernels-webgpu around one call: every batch the call submits writes `timestamp-query`
 * timestamps at the begin and end of its compute pass (unquantised under Node); the call's GPU
 * time is the sum over its passes.
 *
 * {@link SyncWallTimer}: the fallback without `timestamp-query`: N calls, then
 * `onSubmittedWorkDone`, wall clock / N.
 */
import type { GpuContext } from '@mlstm/kernels-webgpu';
import type { MemoryMeter, Timer } from './interface.js';

export class TimestampTimer implements Timer {
  readonly method = 'timestamp-query';

  /** @param maxPasses passes one timed call may submit */
  constructor(
    private readonly ctx: GpuContext,
    private readonly maxPasses = 256,
  ) {
    if (!ctx.features.timestampQuery) throw new Error('TimestampTimer: the device has no timestamp-query');
  }

  /** Runs `fn` inside a timing session; the summed GPU time of its passes in ms. */
  async time(fn: () => Promise<void>): Promise<number> {
    const { ctx } = this;
    ctx.beginGpuTiming(this.maxPasses);
    try {
      await fn();
    } catch (e) {
      await ctx.endGpuTiming().catch(() => []);
      throw e;
    }
    const passes = await ctx.endGpuTiming();
    return passes.reduce((a, b) => a + b, 0);
  }
}

/** Wall clock over `callsPerSample` calls, then `ctx.sync()` (onSubmittedWorkDone). */
export class SyncWallTimer implements Timer {
  readonly method: string;
  constructor(
    private readonly ctx: GpuContext,
    private readonly callsPerSample = 4,
  ) {
    this.method = `wall+onSubmittedWorkDone (${callsPerSample} calls)`;
  }
  async time(fn: () => Promise<void>): Promise<number> {
    await this.ctx.sync();
    const t0 = performance.now();
    for (let c = 0; c < this.callsPerSample; c++) await fn();
    await this.ctx.sync();
    return (performance.now() - t0) / this.callsPerSample;
  }
}

/** The best timer the context offers (`timing: 'auto' | 'timestamp' | 'wall'`). */
export function gpuTimer(
  ctx: GpuContext,
  timing: 'auto' | 'timestamp' | 'wall' = 'auto',
  wallCalls = 4,
): Timer {
  if (timing !== 'wall' && ctx.features.timestampQuery) return cachedTimestampTimer(ctx);
  if (timing === 'timestamp') throw new Error('timestamp-query is not available on this adapter');
  return new SyncWallTimer(ctx, wallCalls);
}

function cachedTimestampTimer(ctx: GpuContext): TimestampTimer {
  return new TimestampTimer(ctx);
}

/** Peak of the kernels' buffer pool (`ctx.pool.stats.peakLiveBytes`). */
export function poolMemoryMeter(ctx: GpuContext): MemoryMeter {
  return {
    reset: () => ctx.pool.resetPeak(),
    peakBytes: () => ctx.pool.stats.peakLiveBytes,
  };
}
