/**
 * Kernel work off the main thread: the playground's single runs (WebGPU kernel vs CPU reference)
 * and the benchmark page's sweep (@mlstm/bench).
 */
import { getMlstmKernel, type MlstmKernelResult } from '@mlstm/backend';
import {
  type BenchmarkConfig,
  type BenchEnv,
  consttokenConfigs,
  createBenchmarkCreator,
  type Dtype,
  type Preset,
  runBenchmarks,
  toCsv,
} from '@mlstm/bench';
import type { Tensor } from '@mlstm/core-reference';
import { Rng, randomMlstmInputs } from '@mlstm/core-reference/testing';
import { type GpuContext, getGpuContext, roundToF16 } from '@mlstm/kernels-webgpu';
import { serve } from '../rpc.js';
import {
  referenceFor,
  type KernelRunArgs,
  type KernelRunResult,
  type BenchRunArgs,
  type BenchRunResult,
} from './protocol.js';

let ctxPromise: Promise<GpuContext> | undefined;
function gpu(): Promise<GpuContext> {
  if (!ctxPromise) {
    ctxPromise = getGpuContext({ powerPreference: 'high-performance' });
    ctxPromise.catch(() => {
      ctxPromise = undefined;
    });
  }
  return ctxPromise;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let x = 0; x < a.length; x++) m = Math.max(m, Math.abs(a[x]));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let x = 0; x < a.length; x++) {
    const d = Math.abs(a[x] - b[x]);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

async function runKernel(a: KernelRunArgs, progress: (d: unknown) => void): Promise<KernelRunResult> {
  const kernel = getMlstmKernel(a.specifier);
  const dims = { B: a.B, NH: a.NH, S: a.S, DHQK: a.DHQK, DHHV: a.DHHV };
  progress({ stage: 'inputs' });
  const inputs = randomMlstmInputs(new Rng(a.seed), dims, { kind: 'f32' });
  const onGpu = kernel.platform === 'webgpu';
  const ctx = onGpu ? await gpu() : undefined;
  const dtype = onGpu ? a.dtype : 'f32';
  if (dtype === 'f16' && !ctx!.features.shaderF16)
    throw new Error('this adapter has no shader-f16: choose dtype f32');
  const states = kernel.family === 'chunkwise' && kernel.gate === 'exp';
  const args = {
    ...inputs,
    chunkSize: kernel.family === 'chunkwise' ? a.chunkSize : undefined,
    returnLastStates: states,
    dtype,
  };
  const call = () =>
    kernel(args as never, ctx ? { gpu: ctx } : {}) as unknown as Promise<MlstmKernelResult<Tensor>>;
  // first call: compiles the pipelines (timed separately)
  progress({ stage: 'compile' });
  let t0 = performance.now();
  await call();
  const firstMs = performance.now() - t0;
  progress({ stage: 'run' });
  const timestamps = !!ctx?.features.timestampQuery;
  const runs: number[] = [];
  const wall: number[] = [];
  let result!: MlstmKernelResult<Tensor>;
  for (let r = 0; r < a.reps; r++) {
    if (timestamps) ctx!.beginGpuTiming(1024);
    t0 = performance.now();
    result = await call();
    wall.push(performance.now() - t0);
    if (timestamps) runs.push((await ctx!.endGpuTiming()).reduce((s, x) => s + x, 0));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const out: KernelRunResult = {
    specifier: a.specifier,
    platform: kernel.platform,
    dtype,
    adapter: ctx
      ? ctx.adapterInfo.description || `${ctx.adapterInfo.vendor} ${ctx.adapterInfo.architecture}`
      : 'CPU',
    gpuMs: timestamps ? median(runs) : null,
    wallMs: median(wall),
    firstCallMs: firstMs,
    timing: timestamps
      ? 'timestamp-query (sum of compute passes, median)'
      : 'wall clock incl. upload/read-back (median)',
    hSample: Array.from(result.h.data.slice(0, 8)),
    reference: null,
  };
  const ref = referenceFor(a.specifier);
  const work = a.B * a.NH * a.S * (Math.min(a.S, 256) * (a.DHQK + a.DHHV) + a.DHQK * a.DHHV);
  if (a.compare && ref && work <= 2 ** 27) {
    progress({ stage: 'reference' });
    // the reference sees what the GPU saw: f16-rounded q, k, v for f16 runs
    const round = (t: Tensor): Tensor => (dtype === 'f16' ? { shape: t.shape, data: roundToF16(t.data) } : t);
    const refArgs = {
      ...inputs,
      q: round(inputs.q),
      k: round(inputs.k),
      v: round(inputs.v),
      chunkSize: ref.startsWith('chunkwise') ? Math.min(a.chunkSize, 64) : undefined,
      returnLastStates: states,
    };
    t0 = performance.now();
    const want = (await getMlstmKernel(ref)(refArgs as never)) as unknown as MlstmKernelResult<Tensor>;
    const refMs = performance.now() - t0;
    const hErr = maxAbsDiff(result.h.data, want.h.data);
    const hScale = maxAbs(want.h.data);
    const errs: { name: string; maxAbs: number; maxRef: number; rel: number }[] = [
      { name: 'h', maxAbs: hErr, maxRef: hScale, rel: hErr / Math.max(hScale, 1e-30) },
    ];
    if (states && result.lastStates && want.lastStates) {
      for (const s of ['c', 'n', 'm'] as const) {
        const g = result.lastStates[s];
        const w = want.lastStates[s];
        if (!g || !w) continue;
        const e = maxAbsDiff(g.data, w.data);
        const sc = maxAbs(w.data);
        errs.push({ name: `last ${s}`, maxAbs: e, maxRef: sc, rel: e / Math.max(sc, 1) });
      }
    }
    const tolerance = dtype === 'f16' ? 5e-3 : 1e-4;
    const worst = Math.max(...errs.map((e) => e.rel));
    out.reference = {
      specifier: ref,
      ms: refMs,
      errors: errs,
      maxRelError: worst,
      tolerance,
      pass: worst <= tolerance,
    };
  }
  return out;
}

let benchAbort = false;

async function runBench(a: BenchRunArgs, progress: (d: unknown) => void): Promise<BenchRunResult> {
  benchAbort = false;
  const ctx = await gpu();
  // onnxruntime-web finds its wasm itself (the build emits it as an asset of ORT's bundle)
  const env: BenchEnv = { gpu: async () => ctx, timing: 'auto' };
  const configs: BenchmarkConfig[] = consttokenConfigs({
    preset: a.preset as Preset,
    modes: a.modes,
    dtypes: a.dtypes as Dtype[],
    tokens: a.tokens,
    seqLens: a.seqLens,
    numHeads: a.numHeads,
    headDimQk: a.headDimQk,
    headDimV: a.headDimV,
    kernels: a.kernels,
    peers: [
      ...(a.cpuPeer ? (['cpu'] as const) : []),
      ...(a.attentionPeer ? (['ort-attention'] as const) : []),
    ],
    warmup: a.warmup,
    rep: a.rep,
  });
  const creator = createBenchmarkCreator(env);
  const adapter = [ctx.adapterInfo.vendor, ctx.adapterInfo.architecture, ctx.adapterInfo.description]
    .filter(Boolean)
    .join(' / ');
  const out: BenchRunResult = { adapter, runs: [] };
  let done = 0;
  const total = configs.reduce((s, c) => s + c.getParamDicts().length * c.kernelSpecs.length, 0);
  for (const config of configs) {
    const guarded = (async (spec, params) => {
      if (benchAbort) throw new Error('skipped: stopped by the user');
      const b = await creator(spec, params);
      // software adapters (preset tiny): the numbers only illustrate, no stability warm-up; real
      // GPUs keep the bench package's policy (batches until two medians agree within 2 %)
      if (a.preset === 'tiny') b.warmup_tolerance = 0;
      return b;
    }) as typeof creator;
    const res = await runBenchmarks(config, guarded, {
      adapter,
      onProgress: (e) => {
        if (e.result) done++;
        progress({
          done,
          total,
          benchmark: config.benchmarkName,
          spec: e.spec.displayName,
          params: e.params,
          runtimeMs: e.result?.runtimeMs,
          error: e.result?.error,
        });
      },
    });
    out.runs.push({
      benchmarkName: config.benchmarkName,
      title: config.getPlotTitle(),
      xAxisParam: config.xAxisParam ?? 'sequence_length',
      csv: toCsv(res.rows),
      errors: res.cells
        .filter((c) => c.result.error)
        .map((c) => `${c.label} ${JSON.stringify(c.params)}: ${c.result.error}`),
    });
  }
  return out;
}

serve({
  info: async () => {
    const ctx = await gpu();
    return {
      describe: ctx.describe(),
      features: ctx.features,
      adapter: ctx.adapterInfo,
      maxStorageBuffersPerShaderStage: ctx.limits.maxStorageBuffersPerShaderStage,
    };
  },
  kernel: runKernel,
  bench: runBench,
  stopBench: () => {
    benchAbort = true;
  },
});
