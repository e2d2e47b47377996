/**
 * Runs suites end to end: opens the GPU, picks the preset (tiny on software adapters), creates the
 * run folder (`<out>/<timestamp>[__suffix]/`), records every config, writes `run.json` (adapter,
 * features, options) and `summary.md` (the runtime tables).
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatDenseTiles, type GpuContext, heuristics, type KernelTuning } from '@mlstm/kernels-webgpu';
import type { BenchmarkConfig } from './core/config.js';
import {
  type BenchmarkCreator,
  BenchmarkInterface,
  type Timer,
  WallTimer,
  WARMUP_POLICY,
  type WarmupPolicy,
} from './core/interface.js';
import {
  type BenchmarkRunResult,
  formatTable,
  MEMORY_PREFIX,
  plotLabel,
  type ProgressEvent,
  runAndRecordBenchmarks,
  RUNTIME_PREFIX,
  seriesPoints,
  setupOutputFolder,
  shortLabel,
} from './core/run.js';
import type { TopLevelSpec } from 'vega-lite';
import { type LinePoint, linePlotSpec, renderSvg } from './core/plot.js';
import { adapterName, openGpuContext } from './gpu.js';
import { type TritonLiveOptions, TritonLiveRunner } from './peers/triton-live.js';
import { type BenchEnv, lazyGpu, SkipBenchmark } from './suites/common.js';
import {
  createBenchmarkCreator,
  getSuite,
  type Preset,
  type SuiteDefinition,
  type SuiteOptions,
} from './suites/suites.js';

export interface RunSuitesOptions extends Omit<SuiteOptions, 'preset'> {
  suites: string[];
  /** options of the GPU context opened when `ctx` is not given (`tuning`: kernel variants of the whole run) */
  gpu?: { disableRobustness?: boolean; tuning?: KernelTuning };
  preset?: Preset | 'auto';
  /** extra configs to run (e.g. from --config files), with the built-in creator */
  configs?: BenchmarkConfig[];
  outputDir?: string;
  suffix?: string;
  timing?: BenchEnv['timing'];
  ortWasmDir?: string;
  ortProvider?: 'webgpu' | 'wasm';
  /** the `triton-live` peer: interpreter, path of the upstream mlstm_kernels package, script */
  tritonLive?: TritonLiveOptions;
  onProgress?: (e: ProgressEvent & { config: string }) => void;
  log?: (line: string) => void;
  /** cells that would start after this many seconds are skipped (recorded as `skipped: time budget`) */
  timeBudgetS?: number;
  /** changes to the stability warm-up of every cell (default {@link WARMUP_POLICY}; `tolerance: 0` turns it off) */
  warmupPolicy?: Partial<WarmupPolicy>;
  /** use this context instead of opening one (tests); `null`: run as on a machine without an adapter */
  ctx?: GpuContext | null;
}

export interface RunSuitesResult {
  folder: string;
  adapter: string;
  preset: Preset;
  results: (BenchmarkRunResult & { folder: string })[];
  summary: string;
}

/** Whether a kernel spec needs a WebGPU adapter (everything but the CPU peers and the reference numbers). */
export function needsGpu(kernelName: string, ortProvider?: 'webgpu' | 'wasm'): boolean {
  if (kernelName.startsWith('cpu--') || kernelName.startsWith('reference--')) return false;
  if (kernelName.startsWith('triton-live--')) return false; // Python + CUDA, not WebGPU
  if (kernelName === 'ort--recurrent_loop') return false; // wasm
  if (kernelName.startsWith('ort--')) return ortProvider !== 'wasm';
  return true;
}

/** Stands in for a cell that would start after the time budget. */
class BudgetExhausted extends BenchmarkInterface {
  override setParams(): void {}
  async setup(): Promise<void> {
    throw new SkipBenchmark('time budget exhausted');
  }
  async benchmarkFn(): Promise<void> {}
  timer(): Timer {
    return new WallTimer();
  }
}

export async function runSuites(o: RunSuitesOptions): Promise<RunSuitesResult> {
  const log = o.log ?? ((l: string) => console.error(l));
  let ctx: GpuContext | undefined = o.ctx ?? undefined;
  let gpuError: Error | undefined = o.ctx === null ? new Error('no adapter (ctx: null)') : undefined;
  if (!ctx) {
    try {
      if (gpuError) throw gpuError;
      ctx = await openGpuContext(o.gpu);
    } catch (e) {
      gpuError = e as Error;
      log(
        `no WebGPU adapter: ${gpuError.message}\n` +
          'Running only the series that need no GPU (the CPU reference, ORT on wasm); the WebGPU series are left out.',
      );
    }
  }
  // kernel variants of the run are part of what every result was measured on
  const tiles = ctx?.tuning.denseTiles;
  const adapter = ctx
    ? `${adapterName(ctx)}${tiles ? ` (dense tiles ${formatDenseTiles(tiles)})` : ''}`
    : 'no WebGPU adapter';
  let preset: Preset = o.preset && o.preset !== 'auto' ? o.preset : 'default';
  if ((!o.preset || o.preset === 'auto') && (!ctx || heuristics.isSoftwareAdapter(ctx.adapterInfo)))
    preset = 'tiny';
  const env: BenchEnv = {
    gpu: lazyGpu(async () => {
      if (!ctx) throw gpuError ?? new Error('no GPU');
      return ctx;
    }),
    timing: o.timing ?? 'auto',
    ortWasmDir: o.ortWasmDir,
    ortProvider: o.ortProvider,
    tritonLive: new TritonLiveRunner(o.tritonLive, log),
  };
  const sopts: SuiteOptions = { ...o, preset };
  const builtin = createBenchmarkCreator(env);
  const jobs: { config: BenchmarkConfig; creator: BenchmarkCreator; suite?: SuiteDefinition }[] = [];
  const suites = o.suites.map(getSuite);
  for (const suite of suites) {
    const creator = suite.creator ? suite.creator(env) : builtin;
    for (const config of suite.configs(sopts)) jobs.push({ config, creator, suite });
  }
  for (const config of o.configs ?? []) jobs.push({ config, creator: builtin });
  if (!ctx) {
    // no adapter: keep the series that run without one, drop configs left with none
    for (let j = jobs.length - 1; j >= 0; j--) {
      const specs = jobs[j].config.kernelSpecs.filter((k) => !needsGpu(k.kernelName, o.ortProvider));
      if (specs.length === 0) jobs.splice(j, 1);
      else if (specs.length < jobs[j].config.kernelSpecs.length)
        jobs[j].config = jobs[j].config.withKernelSpecs(specs);
    }
  }
  // the triton-live cells of the whole run go to one Python process
  for (const { config } of jobs)
    for (const spec of config.kernelSpecs) {
      if (!spec.kernelName.startsWith('triton-live--')) continue;
      const kernel = spec.kernelName === 'triton-live--xl_chunk' ? 'xl_chunk' : 'sdpa';
      for (const p of config.getParamDicts())
        env.tritonLive?.plan(kernel, spec.fwbw ? 'fwbw' : 'fw', {
          S: Number(p.sequence_length),
          B: Number(p.batch_size),
          NH: Number(p.num_heads),
          DHQK: Number(p.head_dim_qk),
          DHHV: Number(p.head_dim_v),
        });
    }
  const policy = { ...WARMUP_POLICY, ...o.warmupPolicy };
  // absolute: `pnpm bench` runs in packages/bench while the user stands elsewhere
  const folder = resolve(setupOutputFolder(o.outputDir ?? './outputs_kernel_benchmarks', o.suffix));
  const runInfo: Record<string, unknown> = {
    adapter,
    describe: ctx?.describe(),
    adapterInfo: ctx?.adapterInfo,
    features: ctx?.features,
    preset,
    options: {
      ...o,
      ctx: undefined,
      onProgress: undefined,
      log: undefined,
      configs: o.configs?.map((c) => c.toJSON()),
    },
    node: process.version,
    started: new Date().toISOString(),
    warmupPolicy: {
      ...policy,
      description:
        "each cell: the config's fixed warm-up calls, then batches of `batch` timed calls until two consecutive batch medians differ by at most `tolerance`, capped at `maxCalls` calls and `maxMs`; a cell that reaches the cap is listed in `unstable`",
    },
  };
  const writeRunInfo = () => writeFileSync(join(folder, 'run.json'), `${JSON.stringify(runInfo, null, 1)}\n`);
  writeRunInfo();
  const results: RunSuitesResult['results'] = [];
  const deadline =
    o.timeBudgetS !== undefined ? performance.now() + o.timeBudgetS * 1000 : Number.POSITIVE_INFINITY;
  const withBudget =
    (creator: BenchmarkCreator): BenchmarkCreator =>
    async (spec, params) => {
      if (performance.now() > deadline) return new BudgetExhausted();
      const b = await creator(spec, params);
      // what the run's options change of the policy (a benchmark's own choice stays otherwise);
      // a spec's own parameters, set after this, still override it
      const w = o.warmupPolicy ?? {};
      if (w.tolerance !== undefined) b.warmup_tolerance = w.tolerance;
      if (w.batch !== undefined) b.warmup_batch = w.batch;
      if (w.maxCalls !== undefined) b.warmup_max_calls = w.maxCalls;
      if (w.maxMs !== undefined) b.warmup_max_ms = w.maxMs;
      return b;
    };
  try {
    for (const { config, creator, suite } of jobs) {
      const r = await runAndRecordBenchmarks(config, withBudget(creator), folder, {
        adapter,
        log,
        onProgress: (e) => o.onProgress?.({ ...e, config: config.benchmarkName }),
      });
      await suite?.afterConfig?.(r, adapter);
      results.push(r);
    }
  } finally {
    for (const suite of new Set(suites)) await suite.close?.(env);
  }
  runInfo.unstable = unstableCells(results);
  runInfo.finished = new Date().toISOString();
  writeRunInfo();
  const headlinePlot = consttokenHeadlinePlotSpec(results, adapter);
  try {
    if (headlinePlot)
      writeFileSync(join(folder, 'plot_consttoken_headline.svg'), await renderSvg(headlinePlot));
  } catch (e) {
    // a figure must not cost the run's results
    log(`headline figure not drawn: ${(e as Error).message}`);
  }
  const summary = summarize(results, adapter, policy);
  writeFileSync(join(folder, 'summary.md'), summary);
  return { folder, adapter, preset, results, summary };
}

/** The headline's series, in column order (short labels). */
const HEADLINE_SERIES = [
  'xl f32 cs128',
  'xl f32→f16 cs128',
  'xl f16 cs128',
  'sig f16 cs128',
  'Triton*',
  'Triton-live',
  'SDPA-live',
  'ORT-attn f32',
  'ORT-attn f16',
  'ORT-par f32',
  'ORT-par f16',
  'ORT-loop',
];

/**
 * A ratio of the headline: one decimal from 1 up (`2.7`, `21.4`), two significant digits below 1
 * (`0.89`, `0.047`), so that a ratio under 0.05 does not print as `0.0`.
 */
function formatRatio(q: number): string {
  return Math.abs(q) >= 1 ? q.toFixed(1) : q.toPrecision(2);
}

/**
 * The headline of a const-token run as a markdown table: per S, ours (xl_chunk / siging, f32 /
 * f16) next to the Triton reference (constants, and live when measured), torch SDPA, ORT's causal
 * attention and the ORT mLSTM graphs, fw and fw+bw, with ours/reference ratios.
 */
export function consttokenHeadline(results: BenchmarkRunResult[]): string {
  const byMode = new Map(
    results
      .filter((r) => r.config.benchmarkName.startsWith('consttoken_'))
      .map((r) => [r.config.benchmarkName.slice('consttoken_'.length), r]),
  );
  if (byMode.size === 0) return '';
  const cols: { mode: string; label: string; col: string }[] = [];
  for (const [mode, r] of byMode) {
    for (const w of HEADLINE_SERIES) {
      const spec = r.config.kernelSpecs.find((k) => shortLabel(k) === w);
      if (spec && r.rows.some((row) => Number.isFinite(Number(row[RUNTIME_PREFIX + spec.toString()]))))
        cols.push({
          mode,
          label: `${w} ${mode === 'fwbw' ? 'fw+bw' : 'fw'}`,
          col: RUNTIME_PREFIX + spec.toString(),
        });
    }
  }
  if (cols.length === 0) return '';
  const seqs = [
    ...new Set([...byMode.values()].flatMap((r) => r.rows.map((row) => Number(row['P--sequence_length'])))),
  ].sort((a, b) => a - b);
  const cell = (mode: string, S: number, col: string) => {
    const row = byMode.get(mode)?.rows.find((x) => Number(x['P--sequence_length']) === S);
    const v = Number(row?.[col]);
    return Number.isFinite(v) && v >= 0 ? v : NaN;
  };
  const fmt = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toPrecision(3)) : '—');
  const ratios: { label: string; mode: string; ours: string; ref: string }[] = [];
  // ours (xl f16) over each reference present: Triton constants, live Triton, live SDPA, ORT attention
  const refs: [prefix: string, name: string][] = [
    ['Triton* ', 'Triton'],
    ['Triton-live ', 'Triton-live'],
    ['SDPA-live ', 'SDPA-live'],
    ['ORT-attn f16 ', 'ORT-attn f16'],
  ];
  for (const mode of byMode.keys()) {
    const ours = cols.find((c) => c.mode === mode && c.label.startsWith('xl f16'));
    if (!ours) continue;
    for (const [prefix, name] of refs) {
      const ref = cols.find((c) => c.mode === mode && c.label.startsWith(prefix));
      if (ref)
        ratios.push({
          label: `xl f16 / ${name} ${mode === 'fwbw' ? 'fw+bw' : 'fw'}`,
          mode,
          ours: ours.col,
          ref: ref.col,
        });
    }
  }
  const header = ['S', ...cols.map((c) => c.label), ...ratios.map((r) => r.label)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const S of seqs) {
    const vals = cols.map((c) => fmt(cell(c.mode, S, c.col)));
    const rs = ratios.map((r) => {
      const q = cell(r.mode, S, r.ours) / cell(r.mode, S, r.ref);
      return Number.isFinite(q) ? `${formatRatio(q)}×` : '—';
    });
    lines.push(`| ${[String(S), ...vals, ...rs].join(' | ')} |`);
  }
  // name only the series the table has
  const notes = [
    cols.some((c) => c.label.startsWith('Triton*'))
      ? 'Triton* = upstream, bf16, H100, measured elsewhere'
      : '',
    cols.some((c) => c.label.startsWith('Triton-live') || c.label.startsWith('SDPA-live'))
      ? 'Triton-live / SDPA-live = upstream xl_chunk / torch causal SDPA, bf16, measured in this call'
      : '',
    cols.some((c) => c.label.startsWith('ORT-attn'))
      ? 'ORT-attn = causal softmax attention on onnxruntime-web'
      : '',
  ].filter(Boolean);
  const note = notes.length ? ` (${notes.join('; ')})` : '';
  return `## Const-token headline [ms per pass]${note}\n\n${lines.join('\n')}\n`;
}

/**
 * The headline as one figure, the layout of the paper's plot: forward on the left, forward +
 * backward on the right, ms per pass over S, one line per headline series present (ours,
 * Triton constants / live, torch SDPA, ORT attention, the ORT mLSTM graphs). `undefined` without
 * const-token results.
 */
export function consttokenHeadlinePlotSpec(
  results: BenchmarkRunResult[],
  adapter: string,
): TopLevelSpec | undefined {
  const panels: [mode: string, title: string][] = [
    ['fw', 'forward'],
    ['fwbw', 'forward + backward'],
  ];
  const points: (LinePoint & { panel: string })[] = [];
  for (const [mode, panel] of panels) {
    const r = results.find((x) => x.config.benchmarkName === `consttoken_${mode}`);
    if (!r) continue;
    const keep = new Set(
      r.config.kernelSpecs.filter((k) => HEADLINE_SERIES.includes(shortLabel(k))).map((k) => plotLabel(k)),
    );
    // one colour per kernel across both panels: the panel says the mode
    for (const p of seriesPoints(r, RUNTIME_PREFIX))
      if (keep.has(p.series)) points.push({ ...p, series: p.series.replace(' fw+bw', ''), panel });
  }
  if (points.length === 0) return undefined;
  const spec = linePlotSpec(points, {
    title: 'Const-token: ours vs attention vs Triton',
    subtitle: adapter,
    xTitle: 'sequence length S',
    yTitle: 'Time [ms]',
    width: 420,
  }) as TopLevelSpec & { encoding: Record<string, unknown> };
  spec.encoding.column = {
    field: 'panel',
    type: 'nominal',
    title: null,
    sort: panels.map(([, t]) => t),
  };
  return spec;
}

/** The cells whose timings did not settle within the warm-up cap (see {@link WARMUP_POLICY}). */
export function unstableCells(
  results: BenchmarkRunResult[],
): { config: string; spec: string; params: Record<string, unknown>; warmupCalls?: number }[] {
  return results.flatMap((r) =>
    r.cells
      .filter((c) => c.result.stable === false)
      .map((c) => ({
        config: r.config.benchmarkName,
        spec: c.spec,
        params: c.params,
        warmupCalls: c.result.warmupCalls,
      })),
  );
}

/** The warm-up section of the summary: the policy and the cells that did not settle. */
function warmupSection(results: BenchmarkRunResult[], p: WarmupPolicy): string {
  const unstable = unstableCells(results);
  const lines = [
    `## Warm-up\n\nEach cell: the config's warm-up calls, then batches of ${p.batch} calls until two consecutive batch medians agree within ${p.tolerance * 100} % (at most ${p.maxCalls} calls, ${p.maxMs / 1000} s).`,
    unstable.length
      ? `\n**${unstable.length} cell(s) did not settle** (their numbers are less reliable):\n\n${unstable
          .map((u) => `- ${u.config} ${u.spec} ${JSON.stringify(u.params)} (${u.warmupCalls} warm-up calls)`)
          .join('\n')}`
      : '\nEvery timed cell settled.',
  ];
  return `${lines.join('\n')}\n`;
}

/** Markdown-ish summary: the const-token headline, runtime (ms) and peak memory (MiB) tables per config. */
export function summarize(
  results: BenchmarkRunResult[],
  adapter: string,
  policy: WarmupPolicy = WARMUP_POLICY,
): string {
  const parts = [`# mlstm-bench results\n\nadapter: ${adapter}\n`];
  const headline = consttokenHeadline(results);
  if (headline) parts.push(headline);
  parts.push(warmupSection(results, policy));
  for (const r of results) {
    parts.push(`## ${r.config.getPlotTitle()} — runtime [ms]\n\n\`\`\`\n${formatTable(r)}\n\`\`\`\n`);
    const mem = {
      ...r,
      rows: r.rows.map((row) => {
        const o = { ...row };
        for (const k of Object.keys(o))
          if (k.startsWith(MEMORY_PREFIX) && Number(o[k]) >= 0) o[k] = Number(o[k]) / 2 ** 20;
        return o;
      }),
    };
    parts.push(
      `## ${r.config.benchmarkName} — peak GPU pool memory [MiB]\n\n\`\`\`\n${formatTable(mem, MEMORY_PREFIX, 4)}\n\`\`\`\n`,
    );
  }
  return parts.join('\n');
}
