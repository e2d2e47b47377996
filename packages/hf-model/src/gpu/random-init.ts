/**
 * Random weights built on the GPU: every weight matrix is filled in place by a kernel from a
 * counter-based hash (no host values, no upload), so `fromRandom` of the xLSTM-7B shape costs
 * milliseconds of GPU time instead of minutes of CPU random numbers and f16 packing.
 *
 * Value `x` of a tensor is `(2u − 1) · scale` (f32), `u = (h >> 8) / 2²⁴`, `h = pcg(pcg(x + k₀) ^ k₁)`
 * with `pcg` the PCG-RXS-M-XS output hash and `k₀ = pcg(seed ^ fnv1a(name))`, `k₁ = pcg(k₀)`:
 * uniform in ±scale like the CPU's {@link RandomWeights}, deterministic for a seed, independent of
 * the order in which tensors are built, and different per tensor name and per seed. It is **not**
 * the CPU generator's sequence: a model built on the GPU has other weights than a CPU model of the
 * same seed (`fromRandom(…, { init: 'cpu' })` uploads the CPU's weights instead).
 */
import { type DispatchBatch, defineParams, type GpuContext, type GpuTensor } from '@mlstm/kernels-webgpu';
import type { XlstmConfig } from '../config.js';
import { RandomPieces } from '../weights.js';

/** A weight matrix the engine places on the GPU: host values, or a fill encoded in place. */
export type WeightData = Float32Array | GpuFill;

/** A tensor described by how to generate it on the GPU. */
export interface GpuFill {
  /** elements of the whole tensor */
  readonly length: number;
  /** Encodes the generation of elements `[start, start + out.numel)` into `out` (f32 or f16). */
  encode(ctx: GpuContext, batch: DispatchBatch, out: GpuTensor, start: number): void;
  /** the rows of this tensor followed by those of `next` (fused projections) */
  concat(next: GpuFill): GpuFill;
}

export const isGpuFill = (d: WeightData): d is GpuFill => !(d instanceof Float32Array);

/** PCG-RXS-M-XS 32-bit output hash (the kernel's twin). */
export function pcgHash(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** FNV-1a of a tensor name (its stream). */
function fnv1a(name: string): number {
  let h = 0x811c9dc5;
  for (let x = 0; x < name.length; x++) h = Math.imul(h ^ name.charCodeAt(x), 0x01000193) >>> 0;
  return h >>> 0;
}

interface Piece {
  length: number;
  k0: number;
  k1: number;
  scale: number;
}

const pieceOf = (length: number, scale: number, name: string, seed: number): Piece => {
  const k0 = pcgHash((seed >>> 0) ^ fnv1a(name));
  return { length, k0, k1: pcgHash(k0), scale: Math.fround(scale) };
};

/** Value `x` of a piece (the kernel's twin, bit for bit in f32). */
function pieceValue(p: Piece, x: number): number {
  const h = pcgHash(pcgHash((x + p.k0) >>> 0) ^ p.k1);
  return Math.fround(((h >>> 8) / 8388608 - 1) * p.scale);
}

/** The host values of `n` elements of a hashed tensor (biases; tests). */
export function randomValues(n: number, scale: number, name: string, seed: number): Float32Array {
  const p = pieceOf(n, scale, name, seed);
  return Float32Array.from({ length: n }, (_, x) => pieceValue(p, x));
}

const fillParams = defineParams({
  start: 'u32',
  count: 'u32',
  split: 'u32',
  k0a: 'u32',
  k1a: 'u32',
  scaleA: 'f32',
  k0b: 'u32',
  k1b: 'u32',
  scaleB: 'f32',
});
const WG = 256;

/**
 * The fill kernel: element `i` of `out` is value `start + i` of a tensor of one or two pieces
 * (`split` = the first piece's length). f16 tensors are written two values per u32 word.
 */
function fillWgsl(f16: boolean): string {
  return `${fillParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> out: array<${f16 ? 'u32' : 'f32'}>;
fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
fn value(g: u32) -> f32 {
  var x = g;
  var k0 = P.k0a;
  var k1 = P.k1a;
  var scale = P.scaleA;
  if (g >= P.split) { x = g - P.split; k0 = P.k0b; k1 = P.k1b; scale = P.scaleB; }
  let h = pcg(pcg(x + k0) ^ k1);
  // (h >> 8) · 2^-23 − 1 is exact in f32 (24 bits); one rounding, of the product with scale
  return (f32(h >> 8u) * 1.1920928955078125e-7 - 1.0) * scale;
}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
${
  f16
    ? `  if (2u * i >= P.count) { return; }
  let a = value(P.start + 2u * i);
  let b = select(0.0, value(P.start + 2u * i + 1u), 2u * i + 1u < P.count);
  out[i] = pack2x16float(vec2f(a, b));`
    : `  if (i >= P.count) { return; }
  out[i] = value(P.start + i);`
}
}`;
}

/** A hashed random tensor of one or two pieces (two: the rows of two fused projections). */
class RandomFill implements GpuFill {
  readonly length: number;
  constructor(private readonly pieces: readonly Piece[]) {
    this.length = pieces.reduce((a, p) => a + p.length, 0);
  }

  encode(ctx: GpuContext, batch: DispatchBatch, out: GpuTensor, start: number): void {
    const count = out.numel;
    if (start + count > this.length || this.length > 2 ** 32 - 1) {
      throw new RangeError(`random fill: elements [${start}, ${start + count}) of ${this.length}`);
    }
    const [a, b = a] = this.pieces;
    const f16 = out.dtype === 'f16';
    const p = ctx.pipeline(`hf.random-fill:${out.dtype}`, () => fillWgsl(f16), ['uniform', 'rw']);
    const threads = f16 ? Math.ceil(count / 2) : count;
    const groups = Math.ceil(threads / WG);
    const max = ctx.limits.maxComputeWorkgroupsPerDimension;
    const y = Math.ceil(groups / max);
    batch.dispatch(
      p,
      [out],
      fillParams.pack({
        start,
        count,
        split: this.pieces.length > 1 ? a.length : this.length,
        k0a: a.k0,
        k1a: a.k1,
        scaleA: a.scale,
        k0b: b.k0,
        k1b: b.k1,
        scaleB: b.scale,
      }),
      [Math.ceil(groups / y), y],
      'random fill',
    );
  }

  concat(next: GpuFill): GpuFill {
    if (!(next instanceof RandomFill) || this.pieces.length + next.pieces.length > 2) {
      throw new TypeError('random fill: only two single-piece fills can be fused');
    }
    return new RandomFill([...this.pieces, ...next.pieces]);
  }
}

/** The GPU fill of the hashed tensor `name` (`n` values uniform in ±`scale`). */
export function randomFill(n: number, scale: number, name: string, seed: number): GpuFill {
  return new RandomFill([pieceOf(n, scale, name, seed)]);
}

/** Host arrays concatenated, or GPU fills fused (the rows of `a`, then those of `b`). */
export function concatWeights(a: WeightData, b: WeightData): WeightData {
  if (isGpuFill(a) && isGpuFill(b)) return a.concat(b);
  if (isGpuFill(a) || isGpuFill(b)) throw new TypeError('cannot fuse host weights with GPU fills');
  const w = new Float32Array(a.length + b.length);
  w.set(a, 0);
  w.set(b, a.length);
  return w;
}

/**
 * A weight tensor of `shape` holding elements `[start, start + numel)` of `data`: uploaded (host
 * values) or generated in place (one submission).
 */
export function placeWeight(
  ctx: GpuContext,
  data: WeightData,
  shape: readonly number[],
  dtype: 'f32' | 'f16',
  start = 0,
): GpuTensor {
  const n = shape.reduce((x, y) => x * y, 1);
  if (!isGpuFill(data)) return ctx.upload(data.subarray(start, start + n), shape, dtype);
  const t = ctx.empty(shape, dtype);
  const batch = ctx.batch();
  data.encode(ctx, batch, t, start);
  batch.submit();
  return t;
}

/**
 * Random weights of a config's shapes generated on the GPU (see the module comment): the same
 * distributions and scales as {@link RandomWeights}; bias vectors and norms (small) on the host.
 */
export class GpuRandomWeights extends RandomPieces<GpuFill> {
  constructor(
    config: XlstmConfig,
    private readonly seed = 1,
  ) {
    super(config);
  }

  protected matrix(n: number, scale: number, name: string): GpuFill {
    return randomFill(n, scale, name, this.seed);
  }

  protected vector(n: number, scale: number, name: string): Float32Array {
    return randomValues(n, scale, name, this.seed);
  }
}
