import type { Tensor } from '../tensor.js';
import { numel } from '../tensor.js';

/**
 * A small seeded generator (mulberry32 for uniforms, Box–Muller for normals):
 * the same seed gives the same tensors on every platform.
 */
export class Rng {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }

  /** One element of a list. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.uniform() * items.length)];
  }
}

/** A tensor of `offset + scale · N(0, 1)` values, float64 unless `f32` is asked for. */
export function randn(
  rng: Rng,
  shape: readonly number[],
  opts: { scale?: number; offset?: number; kind?: 'f32' | 'f64' } = {},
): Tensor {
  const { scale = 1, offset = 0, kind = 'f64' } = opts;
  const n = numel(shape);
  const data = kind === 'f32' ? new Float32Array(n) : new Float64Array(n);
  for (let x = 0; x < n; x++) data[x] = offset + scale * rng.normal();
  return { shape: [...shape], data };
}

/** Random mLSTM inputs in the upstream test convention: q, k, v, i ~ N(0,1), f ~ fOffset + N(0,1). */
export function randomMlstmInputs(
  rng: Rng,
  d: { B: number; NH: number; S: number; DHQK: number; DHHV: number },
  opts: { iOffset?: number; fOffset?: number; kind?: 'f32' | 'f64' } = {},
): { q: Tensor; k: Tensor; v: Tensor; i: Tensor; f: Tensor } {
  const { iOffset = 0, fOffset = 3, kind = 'f64' } = opts;
  return {
    q: randn(rng, [d.B, d.NH, d.S, d.DHQK], { kind }),
    k: randn(rng, [d.B, d.NH, d.S, d.DHQK], { kind }),
    v: randn(rng, [d.B, d.NH, d.S, d.DHHV], { kind }),
    i: randn(rng, [d.B, d.NH, d.S], { offset: iOffset, kind }),
    f: randn(rng, [d.B, d.NH, d.S], { offset: fOffset, kind }),
  };
}
