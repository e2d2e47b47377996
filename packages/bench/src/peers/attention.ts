/**
 * {@link OrtAttentionBenchmark}: causal softmax attention through onnxruntime-web — the attention a
 * web app's transformer would run — as a const-token peer of the mLSTM kernels (issue 21). The
 * graph is one `com.microsoft.MultiHeadAttention` node with `unidirectional = 1` (it runs on the
 * WebGPU EP, dawn.node over lavapipe included, and on the wasm EP); `impl: 'matmul'` builds it from
 * plain ops instead (see `onnx/attention-graphs.ts`). Inputs and outputs are GPU buffers on ORT's
 * device (WebGPU EP), the batch split so that one sub-batch's (NH, S, S) scores in float32 stay
 * within `max_sub_batch_bytes`, as for the mLSTM parallel graph.
 */
import { f32ToF16Bits } from '@mlstm/kernels-webgpu';
import { BenchmarkInterface, type MemoryMeter, type Timer, WallTimer } from '../core/interface.js';
import type { Dtype } from '../core/kernel-spec.js';
import { type AttentionImpl, buildCausalAttentionGraph } from '../onnx/attention-graphs.js';
import { type BenchEnv, SkipBenchmark } from '../suites/common.js';
import { createSession, loadOrt, type OrtSession } from './ort.js';

/** uniform(−1, 1) inputs (xorshift; timing only, values do not matter) */
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

/** Live and peak bytes of the GPU buffers created on one device (ORT's). */
interface BufferTracker {
  live: number;
  peak: number;
}
const trackers = new WeakMap<GPUDevice, BufferTracker>();

/**
 * Counts the buffers created on `device` from now on (ORT's WebGPU EP creates its buffers through
 * the device's `createBuffer`): live bytes go up there and down at `destroy()`. ORT keeps freed
 * buffers in its own cache, so the peak is what ORT holds on the GPU, cache included.
 */
export function trackDeviceBuffers(device: GPUDevice): BufferTracker {
  let t = trackers.get(device);
  if (t) return t;
  const tracker: BufferTracker = { live: 0, peak: 0 };
  t = tracker;
  trackers.set(device, tracker);
  const create = device.createBuffer.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor) => {
    const buf = create(desc);
    const size = Number(desc.size);
    tracker.live += size;
    tracker.peak = Math.max(tracker.peak, tracker.live);
    const destroy = buf.destroy.bind(buf);
    let gone = false;
    buf.destroy = () => {
      if (!gone) tracker.live -= size;
      gone = true;
      destroy();
    };
    return buf;
  };
  return tracker;
}

// one session per graph for the whole run (ORT's WebGPU device lives with its sessions)
const sessions = new Map<string, OrtSession>();

export class OrtAttentionBenchmark extends BenchmarkInterface {
  batch_size = 1;
  sequence_length = 128;
  num_heads = 1;
  head_dim_qk = 16;
  head_dim_v = 16;
  /** const-token parameters the suite passes along (unused here) */
  chunk_size = 0;
  tokens = 0;
  embedding_dim = 0;
  /** cells with a longer sequence are skipped */
  max_sequence_length = Number.POSITIVE_INFINITY;
  /** bytes one sub-batch's float32 (NH, S, S) scores may take */
  max_sub_batch_bytes = 2 ** 28;
  /** `mha`: com.microsoft.MultiHeadAttention (unidirectional); `matmul`: plain ops */
  impl: AttentionImpl = 'mha';
  private ep: 'webgpu' | 'wasm';
  private session!: OrtSession;
  private feeds: Record<string, unknown> = {};
  private nSub = 1;
  private device: GPUDevice | undefined;
  private buffers: GPUBuffer[] = [];
  private tracker: BufferTracker | undefined;

  constructor(
    private readonly env: BenchEnv,
    readonly dtype: Dtype,
    readonly fwbw: boolean,
  ) {
    super();
    this.ep = env.ortProvider ?? 'webgpu';
  }

  async setup(): Promise<void> {
    if (this.fwbw) throw new SkipBenchmark('ORT attention is forward only (no training graph)');
    if (this.dtype === 'bfloat16') throw new SkipBenchmark('ORT WebGPU EP: float32 or float16 only');
    if (this.impl !== 'mha' && this.impl !== 'matmul')
      throw new SkipBenchmark(`impl must be 'mha' or 'matmul', got '${this.impl}'`);
    const S = this.sequence_length;
    if (S > this.max_sequence_length)
      throw new SkipBenchmark(`S = ${S} > max_sequence_length ${this.max_sequence_length}`);
    const NH = this.num_heads;
    let sub = Math.max(1, Math.floor(this.max_sub_batch_bytes / (NH * S * S * 4)));
    sub = Math.min(sub, this.batch_size);
    while (this.batch_size % sub !== 0) sub--;
    this.nSub = this.batch_size / sub;
    const d = { B: sub, NH, S, DHQK: this.head_dim_qk, DHHV: this.head_dim_v };
    const ort = await loadOrt({ wasmDir: this.env.ortWasmDir });
    const dtype = this.dtype;
    const key = `attn:${this.impl}:${this.ep}:${dtype}:${JSON.stringify(d)}`;
    let s = sessions.get(key);
    if (!s) {
      s = await createSession(ort, buildCausalAttentionGraph(d, { dtype, impl: this.impl }), this.ep, {
        gpuOutputs: true,
      });
      sessions.set(key, s);
    }
    this.session = s;
    this.device = this.ep === 'webgpu' ? ((await ort.env.webgpu.device) as GPUDevice) : undefined;
    // from here on (inputs included, as the kernels' pool peak)
    this.tracker = this.device ? trackDeviceBuffers(this.device) : undefined;
    const shapes: Record<string, number[]> = {
      q: [sub, S, NH * d.DHQK],
      k: [sub, S, NH * d.DHQK],
      v: [sub, S, NH * d.DHHV],
    };
    let seed = 21;
    const half = dtype === 'float16';
    for (const [name, shape] of Object.entries(shapes)) {
      const data = randomData(
        shape.reduce((a, b) => a * b, 1),
        seed++,
      );
      const bytes = half ? Uint16Array.from(data, (x) => f32ToF16Bits(x)) : data;
      if (this.device) {
        const buf = this.device.createBuffer({
          size: Math.ceil(bytes.byteLength / 4) * 4,
          // STORAGE | COPY_SRC | COPY_DST
          usage: 0x80 | 0x04 | 0x08,
        });
        this.device.queue.writeBuffer(buf, 0, bytes.buffer as ArrayBuffer, 0, bytes.byteLength);
        this.buffers.push(buf);
        this.feeds[name] = ort.Tensor.fromGpuBuffer(buf as never, { dataType: dtype, dims: shape } as never);
      } else {
        this.feeds[name] = half
          ? new ort.Tensor('float16', bytes as Uint16Array, shape)
          : new ort.Tensor('float32', bytes as Float32Array, shape);
      }
    }
  }

  async benchmarkFn(): Promise<void> {
    for (let b = 0; b < this.nSub; b++) {
      const out = await this.session.run(this.feeds as never);
      (out.o as unknown as { dispose?: () => void }).dispose?.();
    }
    if (this.device) await this.device.queue.onSubmittedWorkDone();
  }

  timer(): Timer {
    const where = this.ep === 'webgpu' ? 'ORT WebGPU EP, GPU buffers' : 'ORT wasm EP';
    const op = this.impl === 'mha' ? 'MultiHeadAttention' : 'MatMul+Softmax';
    return new WallTimer(`wall (${where}, ${op}, ${this.nSub} sub-batch run${this.nSub > 1 ? 's' : ''})`);
  }

  /** GPU bytes ORT's device holds (buffers created through `createBuffer`, ORT's cache included); none on wasm. */
  override memoryMeter(): MemoryMeter | null {
    const t = this.tracker;
    if (!t) return null;
    return {
      reset: () => {
        t.peak = t.live;
      },
      peakBytes: () => t.peak,
    };
  }

  override async teardown(): Promise<void> {
    for (const b of this.buffers) b.destroy();
    this.buffers = [];
    this.feeds = {};
  }
}
