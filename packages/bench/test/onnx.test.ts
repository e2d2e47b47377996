/**
 * The in-repo ONNX graphs against @mlstm/core-reference, on onnxruntime-web's wasm CPU EP (runs
 * everywhere, no GPU), and on its WebGPU EP when dawn.node finds an adapter (lavapipe in CI).
 */
import { mlstmParallel, mlstmRecurrentSequence, type Tensor } from '@mlstm/core-reference';
import { Rng, randomMlstmInputs } from '@mlstm/core-reference/testing';
import { f32ToF16Bits, f16BitsToF32 } from '@mlstm/kernels-webgpu';
import { describe, expect, it } from 'vitest';
import { buildParallelStablefGraph, buildRecurrentLoopGraph } from '../src/index.js';
import { onnxModelType } from '../src/onnx/proto.js';
import { createSession, loadOrt, type OrtProvider } from '../src/peers/ort.js';

const d = { B: 2, NH: 2, S: 24, DHQK: 8, DHHV: 12 };

function inputs(seed: number) {
  return randomMlstmInputs(new Rng(seed), d, { kind: 'f32', fOffset: 2 }) as Record<
    'q' | 'k' | 'v' | 'i' | 'f',
    Tensor
  >;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let x = 0; x < a.length; x++) m = Math.max(m, Math.abs(a[x] - b[x]));
  return m;
}

async function run(
  model: Uint8Array,
  x: Record<string, Tensor>,
  ep: OrtProvider,
  half = false,
): Promise<Float32Array> {
  const ort = await loadOrt();
  const s = await createSession(ort, model, ep);
  const feeds: Record<string, unknown> = {};
  for (const [n, t] of Object.entries(x)) {
    const isQkv = n === 'q' || n === 'k' || n === 'v';
    feeds[n] =
      half && isQkv
        ? new ort.Tensor(
            'float16',
            Uint16Array.from(t.data, (v) => f32ToF16Bits(v)),
            t.shape,
          )
        : new ort.Tensor('float32', Float32Array.from(t.data), t.shape);
  }
  const out = await s.run(feeds as never);
  const h = out.h;
  expect(h.dims).toEqual([d.B, d.NH, d.S, d.DHHV]);
  if (h.type === 'float16') return Float32Array.from(h.data as Uint16Array, (b) => f16BitsToF32(b));
  return h.data as Float32Array;
}

describe('ONNX graphs (built in code)', () => {
  it('encode a valid ModelProto (opset 18, IR 8)', () => {
    const bytes = buildParallelStablefGraph(d);
    const m = onnxModelType().decode(bytes).toJSON() as {
      irVersion?: string;
      ir_version?: string;
      opset_import: { version: string }[];
      graph: { node: { op_type: string }[]; input: unknown[] };
    };
    expect(String(m.ir_version)).toBe('8');
    expect(String(m.opset_import[0].version)).toBe('18');
    const ops = new Set(m.graph.node.map((n) => n.op_type));
    for (const op of ['MatMul', 'CumSum', 'Exp', 'Max', 'ReduceMax', 'Where']) expect(ops.has(op)).toBe(true);
    expect(m.graph.input).toHaveLength(5);
    const loop = onnxModelType().decode(buildRecurrentLoopGraph(d)).toJSON() as {
      graph: { node: { op_type: string }[] };
    };
    expect(loop.graph.node.some((n) => n.op_type === 'Loop')).toBe(true);
  });

  it('parallel stablef graph = core-reference parallel (wasm EP, f32)', async () => {
    const x = inputs(1);
    const h = await run(buildParallelStablefGraph(d), x, 'wasm');
    expect(maxAbsDiff(h, mlstmParallel(x).h.data)).toBeLessThan(1e-4);
  });

  it('parallel stablef graph, f16 q/k/v (wasm EP) ≈ core-reference', async () => {
    const x = inputs(2);
    const h = await run(buildParallelStablefGraph(d, { dtype: 'float16' }), x, 'wasm', true);
    expect(maxAbsDiff(h, mlstmParallel(x).h.data)).toBeLessThan(2e-2);
  });

  it('recurrent Loop graph = core-reference recurrent sequence (wasm EP)', async () => {
    const x = inputs(3);
    const h = await run(buildRecurrentLoopGraph(d), x, 'wasm');
    expect(maxAbsDiff(h, mlstmRecurrentSequence(x).h.data)).toBeLessThan(1e-4);
  });
});

describe('ORT peer benchmarks (wasm EP, no GPU needed)', () => {
  it('OrtParallelBenchmark and OrtLoopBenchmark run and time', async () => {
    const { OrtLoopBenchmark, OrtParallelBenchmark } = await import('../src/index.js');
    const env = {
      gpu: () => Promise.reject(new Error('no GPU here')),
      timing: 'auto' as const,
      ortProvider: 'wasm' as const,
    };
    const p = new OrtParallelBenchmark(env, 'float32', false);
    p.setParams({
      batch_size: 2,
      sequence_length: 32,
      num_heads: 2,
      head_dim_qk: 8,
      head_dim_v: 8,
      warmup: 1,
      rep: 2,
    });
    const r = await p.runBenchmark();
    expect(r.error).toBeUndefined();
    expect(r.runtimeMs).toBeGreaterThan(0);
    expect(r.timing).toContain('ORT wasm EP');
    const l = new OrtLoopBenchmark(env, false);
    l.setParams({
      batch_size: 4,
      sequence_length: 16,
      num_heads: 1,
      head_dim_qk: 8,
      head_dim_v: 8,
      warmup: 0,
      rep: 1,
    });
    const rl = await l.runBenchmark();
    expect(rl.runtimeMs).toBeGreaterThan(0);
    expect(rl.timing).toContain('× 4');
    const fwbw = await new OrtParallelBenchmark(env, 'float32', true).runBenchmark();
    expect(fwbw.error).toMatch(/^skipped: ORT baseline is forward only/);
  });
});
