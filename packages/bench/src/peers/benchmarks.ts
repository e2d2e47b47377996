/**
 * Peer baselines in the same run as the WebGPU kernels:
 * - {@link OrtParallelBenchmark}: the stabilised parallel ONNX graph on onnxruntime-web's WebGPU
 *   EP, inputs/outputs as GPU buffers on ORT's device, the batch split so that the S×S tensors
 *   stay within `max_sub_batch_bytes` (as the measurement in onnxruntime-web-in-node.md);
 * - {@link OrtLoopBenchmark}: the per-token `Loop` graph on the wasm CPU EP (the WebGPU EP has no
 *   Loop kernel), measured at `measure_batch` sequences and scaled to the cell's batch;
 * - {@link CpuReferenceBenchmark}: @mlstm/core-reference's chunkwise forward (small sizes only);
 * - {@link ReferenceNumbersBenchmark}: numbers measured elsewhere (upstream Triton on an H100).
 */
import { mlstmChunkwise, mlstmSigChunkwise } from '@mlstm/core-reference';
import { f32ToF16Bits } from '@mlstm/kernels-webgpu';
import { BenchmarkInterface, type Timer, WallTimer } from '../core/interface.js';
import type { Dtype } from '../core/kernel-spec.js';
import { buildParallelStablefGraph, buildRecurrentLoopGraph } from '../onnx/mlstm-graphs.js';
import { type BenchEnv, SkipBenchmark } from '../suites/common.js';
import { createSession, loadOrt, type OrtSession } from './ort.js';

type Ort = Awaited<ReturnType<typeof loadOrt>>;

/** A fast uniform(−1, 1) fill (timing inputs only; values do not matter). */
function randomData(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let x = 0; x < n; x++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[x] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return a;
}

const sessions = new Map<string, OrtSession>();
async function cachedSession(
  ort: Ort,
  key: string,
  make: () => Uint8Array,
  ep: 'webgpu' | 'wasm',
  gpuOutputs = false,
): Promise<OrtSession> {
  let s = sessions.get(key);
  if (!s) {
    s = await createSession(ort, make(), ep, { gpuOutputs });
    sessions.set(key, s);
  }
  return s;
}

interface SeqParams {
  batch_size: number;
  sequence_length: number;
  num_heads: number;
  head_dim_qk: number;
  head_dim_v: number;
}

abstract class SeqPeer extends BenchmarkInterface implements SeqParams {
  batch_size = 1;
  sequence_length = 128;
  num_heads = 1;
  head_dim_qk = 16;
  head_dim_v = 16;
  chunk_size = 0;
  tokens = 0;
  embedding_dim = 0;
  /** cells with a longer sequence are skipped */
  max_sequence_length = Number.POSITIVE_INFINITY;
}

export class OrtParallelBenchmark extends SeqPeer {
  /** bytes one S×S float32 tensor of a sub-batch may take */
  max_sub_batch_bytes = 2 ** 28;
  ep: 'webgpu' | 'wasm' = 'webgpu';
  private ort!: Ort;
  private session!: OrtSession;
  private feeds: Record<string, unknown> = {};
  private nSub = 1;
  private device: GPUDevice | undefined;
  private buffers: GPUBuffer[] = [];
  private gpuIo = false;

  constructor(
    private readonly env: BenchEnv,
    readonly dtype: Dtype,
    readonly fwbw: boolean,
  ) {
    super();
    this.ep = env.ortProvider ?? 'webgpu';
  }

  async setup(): Promise<void> {
    if (this.fwbw) throw new SkipBenchmark('ORT baseline is forward only (no training graph)');
    if (this.dtype === 'bfloat16') throw new SkipBenchmark('ORT WebGPU EP: float32 or float16 only');
    const dtype = this.dtype;
    const S = this.sequence_length;
    if (S > this.max_sequence_length)
      throw new SkipBenchmark(`S = ${S} > max_sequence_length ${this.max_sequence_length}`);
    const NH = this.num_heads;
    let sub = Math.max(1, Math.floor(this.max_sub_batch_bytes / (NH * S * S * 4)));
    while (this.batch_size % sub !== 0) sub--;
    this.nSub = this.batch_size / sub;
    const d = { B: sub, NH, S, DHQK: this.head_dim_qk, DHHV: this.head_dim_v };
    this.ort = await loadOrt({ wasmDir: this.env.ortWasmDir });
    const key = `par:${this.ep}:${this.dtype}:${JSON.stringify(d)}`;
    this.session = await cachedSession(
      this.ort,
      key,
      () => buildParallelStablefGraph(d, { dtype }),
      this.ep,
      true,
    );
    const shapes: Record<string, number[]> = {
      q: [sub, NH, S, d.DHQK],
      k: [sub, NH, S, d.DHQK],
      v: [sub, NH, S, d.DHHV],
      i: [sub, NH, S],
      f: [sub, NH, S],
    };
    const ort = this.ort;
    this.gpuIo = false;
    if (this.ep === 'webgpu') {
      this.device = (await ort.env.webgpu.device) as GPUDevice;
      this.gpuIo = true;
    }
    let seed = 11;
    for (const [name, shape] of Object.entries(shapes)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = randomData(n, seed++);
      const half = this.dtype === 'float16' && name !== 'i' && name !== 'f';
      if (this.gpuIo && this.device) {
        const bytes = half ? Uint16Array.from(data, (x) => f32ToF16Bits(x)) : data;
        const size = Math.ceil(bytes.byteLength / 4) * 4;
        const buf = this.device.createBuffer({ size, usage: 0x80 | 0x04 | 0x08 });
        this.device.queue.writeBuffer(buf, 0, bytes.buffer as ArrayBuffer, 0, bytes.byteLength);
        this.buffers.push(buf);
        this.feeds[name] = ort.Tensor.fromGpuBuffer(
          buf as never,
          {
            dataType: half ? 'float16' : 'float32',
            dims: shape,
          } as never,
        );
      } else {
        this.feeds[name] = half
          ? new ort.Tensor(
              'float16',
              Uint16Array.from(data, (x) => f32ToF16Bits(x)),
              shape,
            )
          : new ort.Tensor('float32', data, shape);
      }
    }
  }

  async benchmarkFn(): Promise<void> {
    for (let b = 0; b < this.nSub; b++) {
      const out = await this.session.run(this.feeds as never);
      (out.h as unknown as { dispose?: () => void }).dispose?.();
    }
    if (this.device) await this.device.queue.onSubmittedWorkDone();
  }

  timer(): Timer {
    const where = this.ep === 'webgpu' ? 'ORT WebGPU EP, GPU buffers' : 'ORT wasm EP';
    return new WallTimer(`wall (${where}, ${this.nSub} sub-batch run${this.nSub > 1 ? 's' : ''})`);
  }

  override async teardown(): Promise<void> {
    for (const b of this.buffers) b.destroy();
    this.buffers = [];
    this.feeds = {};
  }
}

/** The per-token Loop graph on the wasm CPU EP, measured at `measure_batch` and scaled. */
export class OrtLoopBenchmark extends SeqPeer {
  measure_batch = 1;
  private ort!: Ort;
  private session!: OrtSession;
  private feeds: Record<string, unknown> = {};

  constructor(
    private readonly env: BenchEnv,
    readonly fwbw: boolean,
  ) {
    super();
  }

  async setup(): Promise<void> {
    if (this.fwbw) throw new SkipBenchmark('ORT Loop baseline is forward only');
    const S = this.sequence_length;
    if (S > this.max_sequence_length)
      throw new SkipBenchmark(`S = ${S} > max_sequence_length ${this.max_sequence_length}`);
    const mb = Math.min(this.measure_batch, this.batch_size);
    const d = { B: mb, NH: this.num_heads, S, DHQK: this.head_dim_qk, DHHV: this.head_dim_v };
    this.ort = await loadOrt({ wasmDir: this.env.ortWasmDir });
    this.session = await cachedSession(
      this.ort,
      `loop:${JSON.stringify(d)}`,
      () => buildRecurrentLoopGraph(d),
      'wasm',
    );
    const shapes: Record<string, number[]> = {
      q: [mb, d.NH, S, d.DHQK],
      k: [mb, d.NH, S, d.DHQK],
      v: [mb, d.NH, S, d.DHHV],
      i: [mb, d.NH, S],
      f: [mb, d.NH, S],
    };
    let seed = 3;
    for (const [name, shape] of Object.entries(shapes)) {
      this.feeds[name] = new this.ort.Tensor(
        'float32',
        randomData(
          shape.reduce((a, b) => a * b, 1),
          seed++,
        ),
        shape,
      );
    }
  }

  async benchmarkFn(): Promise<void> {
    await this.session.run(this.feeds as never);
  }

  timer(): Timer {
    const mb = Math.min(this.measure_batch, this.batch_size);
    const scale = this.batch_size / mb;
    const inner = new WallTimer(`wall (ORT wasm CPU EP, B=${mb} measured × ${scale})`);
    return { method: inner.method, time: async (fn) => (await inner.time(fn)) * scale };
  }

  override async teardown(): Promise<void> {
    this.feeds = {};
  }
}

/** core-reference's chunkwise forward (float64 math on the CPU). */
export class CpuReferenceBenchmark extends SeqPeer {
  /** cells with more than this many B·NH·S·DHQK·DHHV multiply-adds are skipped */
  max_work = 2 ** 26;
  normalize: boolean | undefined = undefined;
  private x: Record<string, { shape: number[]; data: Float32Array }> = {};

  constructor(
    readonly variant: 'exp' | 'sig',
    readonly fwbw: boolean,
  ) {
    super();
  }

  async setup(): Promise<void> {
    if (this.fwbw) throw new SkipBenchmark('CPU reference: forward only');
    const { batch_size: B, num_heads: NH, sequence_length: S, head_dim_qk: DQK, head_dim_v: DV } = this;
    const work = B * NH * S * DQK * DV;
    if (work > this.max_work) throw new SkipBenchmark(`CPU reference: ${work} > max_work ${this.max_work}`);
    const mk = (shape: number[], seed: number) => ({
      shape,
      data: randomData(
        shape.reduce((a, b) => a * b, 1),
        seed,
      ),
    });
    this.x = {
      q: mk([B, NH, S, DQK], 1),
      k: mk([B, NH, S, DQK], 2),
      v: mk([B, NH, S, DV], 3),
      i: mk([B, NH, S], 4),
      f: mk([B, NH, S], 5),
    };
  }

  async benchmarkFn(): Promise<void> {
    const cs = this.chunk_size > 0 ? Math.min(this.chunk_size, this.sequence_length) : undefined;
    const a = { ...this.x, chunkSize: cs } as never;
    if (this.variant === 'sig')
      mlstmSigChunkwise({ ...(a as object), normalize: this.normalize ?? true } as never);
    else mlstmChunkwise(a);
  }

  timer(): Timer {
    return new WallTimer('wall (CPU, core-reference float64)');
  }
}

/** Fixed numbers measured elsewhere, looked up by one parameter (NaN where there is none). */
export class ReferenceNumbersBenchmark extends BenchmarkInterface {
  constructor(
    private readonly key: string,
    private readonly table: Record<number, number>,
    private readonly source: string,
  ) {
    super();
    this.warmup = 0;
    this.rep = 1;
    this.warmup_tolerance = 0; // a number from a table: nothing to warm up
  }
  private value = NaN;
  async setup(): Promise<void> {
    const x = Number(this.params[this.key]);
    const v = this.table[x];
    if (v === undefined) throw new SkipBenchmark(`no reference number at ${this.key} = ${x}`);
    this.value = v;
  }
  async benchmarkFn(): Promise<void> {}
  timer(): Timer {
    return { method: this.source, time: async () => this.value };
  }
  override setParams(): void {
    // reference numbers take no parameters
  }
}
