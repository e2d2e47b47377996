/**
 * The ort-attention peer: the causal attention graphs (com.microsoft.MultiHeadAttention with
 * `unidirectional`, and plain MatMul + Softmax + mask) against a CPU softmax-attention reference,
 * on onnxruntime-web's wasm EP (everywhere) and its WebGPU EP when dawn.node finds an adapter
 * (lavapipe in CI); the benchmark class's cells, skips and recorded refusals.
 */
import { f16BitsToF32, f32ToF16Bits } from '@mlstm/kernels-webgpu';
import { describe, expect, it } from 'vitest';
import {
  type AttentionGraphDims,
  type AttentionImpl,
  buildCausalAttentionGraph,
  causalAttentionReference,
  OrtAttentionBenchmark,
} from '../src/index.js';
import { onnxModelType } from '../src/onnx/proto.js';
import { createSession, loadOrt, type OrtProvider } from '../src/peers/ort.js';

function uniform(n: number, seed: number, half: boolean): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    const x = (s / 2147483648) * 2 - 1;
    // f16 cases: the reference sees exactly the f16 values the graph gets
    return half ? f16BitsToF32(f32ToF16Bits(x)) : x;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let x = 0; x < a.length; x++) m = Math.max(m, Math.abs(a[x] - b[x]));
  return m;
}

// Tolerances (max |graph − reference|, outputs are convex mixes of v ∈ (−1, 1)):
// f32: float32 dot products and exp over ≤ 33 keys (observed ~1e-7); 1e-5 leaves room.
// f16: the output, the scores and the probabilities are rounded to f16 (2⁻¹¹ relative; scores
// up to √DHQK ≈ 4 in size) — observed ≤ 7e-4 on lavapipe; 3e-3.
const TOL = { float32: 1e-5, float16: 3e-3 } as const;

const SHAPES: AttentionGraphDims[] = [
  { B: 1, NH: 1, S: 1, DHQK: 4, DHHV: 4 }, // one token: o = v
  { B: 2, NH: 3, S: 17, DHQK: 8, DHHV: 12 }, // odd S, DHQK ≠ DHHV (the mLSTM layout's 1:2)
  { B: 1, NH: 2, S: 33, DHQK: 16, DHHV: 16 },
];

async function runGraph(
  d: AttentionGraphDims,
  impl: AttentionImpl,
  dtype: 'float32' | 'float16',
  ep: OrtProvider,
  seed: number,
): Promise<{ got: Float32Array; want: Float32Array }> {
  const half = dtype === 'float16';
  const nq = d.B * d.S * d.NH * d.DHQK;
  const q = uniform(nq, seed, half);
  const k = uniform(nq, seed + 1, half);
  const v = uniform(d.B * d.S * d.NH * d.DHHV, seed + 2, half);
  const ort = await loadOrt();
  const s = await createSession(ort, buildCausalAttentionGraph(d, { impl, dtype }), ep);
  const t = (x: Float32Array, w: number) =>
    half
      ? new ort.Tensor(
          'float16',
          Uint16Array.from(x, (y) => f32ToF16Bits(y)),
          [d.B, d.S, w],
        )
      : new ort.Tensor('float32', x, [d.B, d.S, w]);
  const out = await s.run({
    q: t(q, d.NH * d.DHQK),
    k: t(k, d.NH * d.DHQK),
    v: t(v, d.NH * d.DHHV),
  } as never);
  expect(out.o.dims).toEqual([d.B, d.S, d.NH * d.DHHV]);
  const data = await out.o.getData();
  const got = half ? Float32Array.from(data as Uint16Array, (b) => f16BitsToF32(b)) : (data as Float32Array);
  return { got, want: causalAttentionReference(d, q, k, v) };
}

describe('causalAttentionReference (the CPU twin)', () => {
  it('one token returns v; a future key or value changes no earlier output', () => {
    const d = { B: 1, NH: 2, S: 6, DHQK: 4, DHHV: 3 };
    const q = uniform(48, 1, false);
    const k = uniform(48, 2, false);
    const v = uniform(36, 3, false);
    const o = causalAttentionReference(d, q, k, v);
    // t = 0 attends to itself only
    for (let h = 0; h < 2; h++) for (let j = 0; j < 3; j++) expect(o[h * 3 + j]).toBeCloseTo(v[h * 3 + j], 6);
    const k2 = k.slice();
    const v2 = v.slice();
    for (let j = 5 * 8; j < 6 * 8; j++) k2[j] += 5; // the last token's keys
    for (let j = 5 * 6; j < 6 * 6; j++) v2[j] -= 3;
    const o2 = causalAttentionReference(d, q, k2, v2);
    expect(maxAbsDiff(o.subarray(0, 5 * 6), o2.subarray(0, 5 * 6))).toBe(0);
    expect(maxAbsDiff(o.subarray(5 * 6), o2.subarray(5 * 6))).toBeGreaterThan(1e-3);
  });

  it('rejects inputs of the wrong size, naming them', () => {
    const d = { B: 1, NH: 1, S: 2, DHQK: 2, DHHV: 2 };
    expect(() =>
      causalAttentionReference(d, new Float32Array(4), new Float32Array(4), new Float32Array(3)),
    ).toThrow(/v must hold B·S·NH·DHHV = 4/);
    expect(() => buildCausalAttentionGraph({ ...d, S: 0 })).toThrow(/S must be a positive integer/);
  });
});

describe('causal attention graphs', () => {
  it('mha: one com.microsoft.MultiHeadAttention node, unidirectional; matmul: opset-18 ops only', () => {
    const d = SHAPES[1];
    type M = {
      opset_import: { domain?: string; version: string | number }[];
      graph: { node: { op_type: string; domain?: string; attribute: { name: string; i?: unknown }[] }[] };
    };
    const mha = onnxModelType().decode(buildCausalAttentionGraph(d)).toJSON() as M;
    expect(mha.graph.node).toHaveLength(1);
    expect(mha.graph.node[0].op_type).toBe('MultiHeadAttention');
    expect(mha.graph.node[0].domain).toBe('com.microsoft');
    const attrs = Object.fromEntries(mha.graph.node[0].attribute.map((a) => [a.name, String(a.i ?? '')]));
    expect(attrs).toMatchObject({ num_heads: '3', unidirectional: '1' });
    expect(mha.opset_import.map((o) => o.domain ?? '')).toEqual(['', 'com.microsoft']);
    const mm = onnxModelType()
      .decode(buildCausalAttentionGraph(d, { impl: 'matmul' }))
      .toJSON() as M;
    const ops = new Set(mm.graph.node.map((n) => n.op_type));
    for (const op of ['MatMul', 'Softmax', 'Where', 'Reshape', 'Transpose']) expect(ops.has(op)).toBe(true);
    expect(mm.graph.node.every((n) => !n.domain)).toBe(true);
    expect(mm.opset_import).toHaveLength(1);
  });

  const cases = (['mha', 'matmul'] as const).flatMap((impl) =>
    (['float32', 'float16'] as const).flatMap((dtype) =>
      SHAPES.map((d, x) => ({ impl, dtype, d, seed: 10 * x + 1 })),
    ),
  );

  it.each(cases)(
    'wasm EP: $impl $dtype $d.B×$d.NH×$d.S ($d.DHQK/$d.DHHV) ≈ reference',
    async ({ impl, dtype, d, seed }) => {
      const { got, want } = await runGraph(d, impl, dtype, 'wasm', seed);
      expect(maxAbsDiff(got, want)).toBeLessThan(TOL[dtype]);
    },
  );

  it.for(cases.filter((c) => c.d.S === 17))(
    'WebGPU EP: $impl $dtype $d.B×$d.NH×$d.S ≈ reference',
    async ({ impl, dtype, d, seed }, t) => {
      const { openGpuContext } = await import('../src/index.js');
      try {
        await openGpuContext();
      } catch (e) {
        t.skip(`no WebGPU adapter: ${(e as Error).message}`);
      }
      const { got, want } = await runGraph(d, impl, dtype, 'webgpu', seed);
      expect(maxAbsDiff(got, want)).toBeLessThan(TOL[dtype]);
    },
  );
});

describe('OrtAttentionBenchmark', () => {
  const env = {
    gpu: () => Promise.reject(new Error('no GPU here')),
    timing: 'auto' as const,
    ortProvider: 'wasm' as const,
  };
  const params = {
    batch_size: 4,
    sequence_length: 16,
    num_heads: 2,
    head_dim_qk: 8,
    head_dim_v: 16,
    warmup: 1,
    rep: 2,
  };

  it.each([
    { impl: 'mha', dtype: 'float32', sub: 1 },
    { impl: 'matmul', dtype: 'float16', sub: 1 },
    // scores of 2 × 16 × 16 × 4 B = 2 KiB per sequence: a 4 KiB cap splits B = 4 into 2 runs
    { impl: 'mha', dtype: 'float16', sub: 2, cap: 4096 },
  ] as const)(
    'times $impl $dtype (wasm EP), $sub sub-batch run(s)',
    async ({ impl, dtype, sub, ...rest }) => {
      const b = new OrtAttentionBenchmark(env, dtype, false);
      b.setParams({ ...params, impl, ...('cap' in rest ? { max_sub_batch_bytes: rest.cap } : {}) });
      const r = await b.runBenchmark();
      expect(r.error).toBeUndefined();
      expect(r.runtimeMs).toBeGreaterThan(0);
      expect(r.timing).toContain('ORT wasm EP');
      expect(r.timing).toContain(impl === 'mha' ? 'MultiHeadAttention' : 'MatMul+Softmax');
      expect(r.timing).toContain(`${sub} sub-batch run`);
    },
  );

  it.each([
    { why: /forward only/, dtype: 'float32', fwbw: true, p: {} },
    { why: /float32 or float16 only/, dtype: 'bfloat16', fwbw: false, p: {} },
    { why: /S = 16 > max_sequence_length 8/, dtype: 'float32', fwbw: false, p: { max_sequence_length: 8 } },
    { why: /impl must be 'mha' or 'matmul'/, dtype: 'float32', fwbw: false, p: { impl: 'flash' } },
  ] as const)('skips with the reason: $why', async ({ why, dtype, fwbw, p }) => {
    const b = new OrtAttentionBenchmark(env, dtype, fwbw);
    b.setParams({ ...params, ...(p as Record<string, string | number>) });
    const r = await b.runBenchmark();
    expect(r.error).toMatch(/^skipped: /);
    expect(r.error).toMatch(why);
    expect(Number.isNaN(r.runtimeMs)).toBe(true);
  });

  it('a shape ORT refuses is recorded with ORT’s message, not thrown', async () => {
    // S = 40 000 on the wasm EP: the (S, S) scores overflow ORT's size arithmetic at run time
    // ("Integer overflow"); the cell keeps ORT's message, and nothing is allocated
    const b = new OrtAttentionBenchmark(env, 'float32', false);
    b.setParams({
      ...params,
      batch_size: 1,
      sequence_length: 40_000,
      head_dim_qk: 4,
      head_dim_v: 4,
      warmup: 0,
    });
    b.warmup_tolerance = 0;
    const r = await b.runBenchmark();
    expect(r.error).toMatch(/OrtRun|overflow/i);
    expect(r.error).not.toMatch(/^skipped/);
    expect(Number.isNaN(r.runtimeMs)).toBe(true);
  });
});

describe('headline with the ORT attention series', () => {
  it('names ORT-attn and gives ours over it per S', async () => {
    const { consttokenConfigs, consttokenHeadline, RUNTIME_PREFIX } = await import('../src/index.js');
    const [cfg] = consttokenConfigs({
      preset: 'full',
      modes: ['fw'],
      dtypes: ['float16'],
      seqLens: [512, 1024],
      peers: ['ort-attention'],
    });
    const xl = cfg.kernelSpecs.find((s) => s.kernelName === 'chunkwise--webgpu_xl_chunk')!;
    const attn = cfg.kernelSpecs.find((s) => s.kernelName === 'ort--attention')!;
    expect(attn.label).toBe('ORT-web attention MHA causal f16');
    const rows = [
      {
        'P--sequence_length': 512,
        [RUNTIME_PREFIX + xl.toString()]: 20,
        [RUNTIME_PREFIX + attn.toString()]: 10,
      },
      {
        'P--sequence_length': 1024,
        [RUNTIME_PREFIX + xl.toString()]: 20,
        [RUNTIME_PREFIX + attn.toString()]: NaN,
      },
    ];
    const md = consttokenHeadline([{ config: cfg, rows, cells: [] }]);
    expect(md).toContain('| S | xl f16 cs128 fw | ORT-attn f16 fw | xl f16 / ORT-attn f16 fw |');
    expect(md).toContain('| 512 | 20.0 | 10.0 | 2.0× |');
    expect(md).toContain('| 1024 | 20.0 | — | — |');
    expect(md).toContain('ORT-attn = causal softmax attention on onnxruntime-web');
    expect(md).not.toMatch(/Triton/);
  });
});

describe('headline ratios below 1', () => {
  it('keep two significant digits: a ratio under 0.05 is not printed as 0.0×', async () => {
    const { consttokenConfigs, consttokenHeadline, RUNTIME_PREFIX } = await import('../src/index.js');
    const [cfg] = consttokenConfigs({
      preset: 'full',
      modes: ['fw'],
      dtypes: ['float16'],
      seqLens: [512, 1024, 65536],
      peers: ['ort-attention'],
    });
    const xl = cfg.kernelSpecs.find((s) => s.kernelName === 'chunkwise--webgpu_xl_chunk')!;
    const attn = cfg.kernelSpecs.find((s) => s.kernelName === 'ort--attention')!;
    const row = (S: number, ours: number, ort: number) => ({
      'P--sequence_length': S,
      [RUNTIME_PREFIX + xl.toString()]: ours,
      [RUNTIME_PREFIX + attn.toString()]: ort,
    });
    const rows = [
      row(512, 3.313312, 70.81855), // the H100 run of 2026-12-07: 3.31 ms against ORT's 70.8 ms
      row(1024, 3.313856, 3.5),
      row(65536, 3.623312, 0.5),
    ];
    const md = consttokenHeadline([{ config: cfg, rows, cells: [] }]);
    expect(md).toContain('| S | xl f16 cs128 fw | ORT-attn f16 fw | xl f16 / ORT-attn f16 fw |');
    expect(md).toContain('| 512 | 3.31 | 70.8 | 0.047× |');
    expect(md).toContain('| 1024 | 3.31 | 3.50 | 0.95× |');
    // from 1 up: one decimal, as before
    expect(md).toContain('| 65536 | 3.62 | 0.500 | 7.2× |');
    expect(md).not.toContain('0.0×');
  });
});

describe('OrtAttentionBenchmark on the WebGPU EP', () => {
  it('times with GPU buffers and measures the GPU memory ORT holds', async (t) => {
    const { openGpuContext } = await import('../src/index.js');
    try {
      await openGpuContext();
    } catch (e) {
      t.skip(`no WebGPU adapter: ${(e as Error).message}`);
    }
    const env = { gpu: () => Promise.reject(new Error('unused')), timing: 'auto' as const };
    const b = new OrtAttentionBenchmark(env, 'float32', false);
    const p = { batch_size: 2, sequence_length: 32, num_heads: 2, head_dim_qk: 8, head_dim_v: 16 };
    b.setParams({ ...p, warmup: 1, rep: 2, warmup_tolerance: 0 });
    const r = await b.runBenchmark();
    expect(r.error).toBeUndefined();
    expect(r.timing).toContain('ORT WebGPU EP, GPU buffers');
    // at least q, k, v and o (f32) are on ORT's device during a call
    const io = 4 * p.batch_size * p.sequence_length * p.num_heads * (2 * p.head_dim_qk + 2 * p.head_dim_v);
    expect(r.peakMemoryBytes).toBeGreaterThanOrEqual(io);
  });
});

describe('headline figure', () => {
  it('forward left, forward + backward right; one series name per kernel in both panels', async () => {
    const { consttokenConfigs, consttokenHeadlinePlotSpec, RUNTIME_PREFIX } = await import('../src/index.js');
    const cfgs = consttokenConfigs({
      preset: 'full',
      modes: ['fwbw', 'fw'],
      dtypes: ['float16'],
      seqLens: [512, 1024],
      peers: ['ort-attention'],
    });
    const results = cfgs.map((config) => {
      const cols = config.kernelSpecs.filter(
        (k) => k.kernelName === 'chunkwise--webgpu_xl_chunk' || k.kernelName === 'ort--attention',
      );
      const rows = [512, 1024].map((S) => ({
        'P--sequence_length': S,
        ...Object.fromEntries(cols.map((k) => [RUNTIME_PREFIX + k.toString(), S / 100])),
      }));
      return { config, rows, cells: [] };
    });
    const spec = consttokenHeadlinePlotSpec(results, 'test adapter') as unknown as {
      data: { values: { series: string; panel: string; x: number }[] };
      encoding: { column: { sort: string[] } };
    };
    expect(spec.encoding.column.sort).toEqual(['forward', 'forward + backward']);
    const byPanel = (p: string) => [
      ...new Set(spec.data.values.filter((v) => v.panel === p).map((v) => v.series)),
    ];
    expect(byPanel('forward')).toEqual(['WebGPU xl_chunk f16 cs128', 'ORT-web attention MHA causal f16']);
    expect(byPanel('forward + backward')).toEqual(['WebGPU xl_chunk f16 cs128']); // ORT attention: fw only
    expect(consttokenHeadlinePlotSpec([], 'x')).toBeUndefined();
  });
});
