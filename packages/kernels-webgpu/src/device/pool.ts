/**
 * A pool of GPUBuffers in size classes. Released buffers are kept for reuse (up to a
 * cache limit) instead of being destroyed, which makes repeated kernel calls allocation-free.
 * Over the limit, the least recently released buffers go first, so that the working set of the
 * current calls stays cached when earlier calls used other sizes.
 * `liveBytes` counts buffers handed out and not yet released: the leak tests read it.
 */
import { MlstmOutOfMemoryError } from '../errors.js';

export interface PoolStats {
  /** bytes of buffers currently acquired (by size class) */
  liveBytes: number;
  /** highest `liveBytes` since creation or the last `resetPeak()` */
  peakLiveBytes: number;
  /** bytes of released buffers kept for reuse */
  cachedBytes: number;
  /** number of GPUBuffers created so far */
  buffersCreated: number;
  /** number of acquisitions served from the cache */
  reuses: number;
}

/** Rounds a byte size up to its size class: multiples of 256 B up to 4 KiB, then 8 steps per power of two. */
export function sizeClass(bytes: number): number {
  const b = Math.max(4, Math.ceil(bytes));
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const p = 2 ** Math.floor(Math.log2(b));
  const step = p / 8;
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  /** cached buffers in release order (oldest first), for eviction */
  private readonly lru = new Map<GPUBuffer, { key: string; size: number }>();
  private readonly owned = new Map<GPUBuffer, { key: string; size: number }>();
  private live = 0;
  private peak = 0;
  private cached = 0;
  private created = 0;
  private reused = 0;

  /**
   * @param device the device that creates the buffers
   * @param maxCachedBytes released buffers beyond this many bytes are destroyed. Default: the
   *   largest number of bytes ever live at once (at least 1 GiB), so that repeating a call of the
   *   same shapes never re-creates buffers while the pool never holds more than the program's own
   *   peak working set. (A fixed bound below one call's working set makes every call re-create —
   *   and WebGPU zero-fill — its largest buffers: measured on an H100, +25–55 % GPU time.)
   */
  constructor(
    private device: GPUDevice,
    readonly maxCachedBytes?: number,
  ) {}

  /** The largest number of bytes ever live at once (not reset by {@link resetPeak}). */
  private highWater = 0;

  /** The current bound on cached bytes (see the constructor). */
  get cacheLimit(): number {
    return this.maxCachedBytes ?? Math.max(2 ** 30, this.highWater);
  }

  /** A buffer of at least `bytes` bytes with exactly `usage`. */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    const size = sizeClass(bytes);
    const key = `${usage}:${size}`;
    const list = this.free.get(key);
    let buffer = list?.pop();
    if (buffer) {
      this.lru.delete(buffer);
      this.cached -= size;
      this.reused++;
    } else {
      try {
        buffer = this.device.createBuffer({ size, usage, label });
      } catch (e) {
        // dawn.node and browsers throw RangeError/TypeError for a size they cannot allocate
        if (e instanceof RangeError || e instanceof TypeError)
          throw new MlstmOutOfMemoryError(
            `cannot allocate a GPU buffer of ${size} bytes${label ? ` (${label})` : ''}: ${e.message}`,
          );
        throw e;
      }
      this.created++;
    }
    this.owned.set(buffer, { key, size });
    this.live += size;
    if (this.live > this.peak) this.peak = this.live;
    if (this.live > this.highWater) this.highWater = this.live;
    return buffer;
  }

  /** Gives a buffer back. Releasing a buffer twice, or one the pool did not make, throws. */
  release(buffer: GPUBuffer): void {
    const info = this.owned.get(buffer);
    if (!info) throw new Error('BufferPool.release: buffer is not live in this pool (released twice?)');
    this.owned.delete(buffer);
    this.live -= info.size;
    if (info.size > this.cacheLimit) {
      buffer.destroy();
      return;
    }
    // evict the least recently released buffers until this one fits
    for (const [old, o] of this.lru) {
      if (this.cached + info.size <= this.cacheLimit) break;
      this.lru.delete(old);
      const list = this.free.get(o.key)!;
      list.splice(list.indexOf(old), 1);
      this.cached -= o.size;
      old.destroy();
    }
    let list = this.free.get(info.key);
    if (!list) this.free.set(info.key, (list = []));
    list.push(buffer);
    this.lru.set(buffer, info);
    this.cached += info.size;
  }

  /** Destroys every cached (released) buffer. Live buffers are untouched. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.lru.clear();
    this.cached = 0;
  }

  resetPeak(): void {
    this.peak = this.live;
  }

  get stats(): PoolStats {
    return {
      liveBytes: this.live,
      peakLiveBytes: this.peak,
      cachedBytes: this.cached,
      buffersCreated: this.created,
      reuses: this.reused,
    };
  }

  /** Forgets everything (after device loss: the old buffers are gone with the device). */
  reset(device: GPUDevice): void {
    this.device = device;
    this.free.clear();
    this.owned.clear();
    this.live = this.peak = this.cached = 0;
  }
}
