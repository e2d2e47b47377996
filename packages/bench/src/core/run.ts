/**
 * The benchmark loops and their recording (upstream `run_benchmark.py`):
 * {@link runBenchmarks} → one row per parameter combination with `P--<param>`, `R--<spec>` (ms),
 * `M--<spec>` (bytes) columns (+ `T--<spec>`: how it was timed, and the adapter);
 * {@link runAndRecordBenchmarks} → `<output>/<benchmarkName>/` with `config.yaml`,
 * `results.csv` (rewritten after every row), `results.json`, runtime and memory SVG plots.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchmarkConfig, ParamDict, ParamValue } from './config.js';
import { type BenchmarkCreator, failedResult, type RuntimeResult } from './interface.js';
import { type KernelSpec, shortParamName } from './kernel-spec.js';
import { type LinePoint, linePlotSvg } from './plot.js';

export const PARAM_PREFIX = 'P--';
export const RUNTIME_PREFIX = 'R--';
export const MEMORY_PREFIX = 'M--';
export const TIMING_PREFIX = 'T--';

export type ResultRow = Record<string, ParamValue | null>;

export interface ProgressEvent {
  done: number;
  total: number;
  spec: KernelSpec;
  params: ParamDict;
  result?: RuntimeResult;
}

export interface RunOptions {
  /** called before (no result) and after (with result) every cell */
  onProgress?: (e: ProgressEvent) => void;
  /** written into every row's `adapter` column */
  adapter?: string;
  /** CSV rewritten after every row here (optional) */
  csvPath?: string;
  /** log lines (errors of cells) */
  log?: (line: string) => void;
}

/** One cell's detail, kept next to the rows (results.json). */
export interface CellRecord {
  spec: string;
  label: string;
  params: ParamDict;
  result: RuntimeResult;
}

export interface BenchmarkRunResult {
  config: BenchmarkConfig;
  rows: ResultRow[];
  cells: CellRecord[];
}

/** Outer loop over parameter dicts, inner loop over kernel specs (upstream order). */
export async function runBenchmarks(
  config: BenchmarkConfig,
  creator: BenchmarkCreator,
  opts: RunOptions = {},
): Promise<BenchmarkRunResult> {
  const paramDicts = config.getParamDicts();
  const total = paramDicts.length * config.kernelSpecs.length;
  const rows: ResultRow[] = [];
  const cells: CellRecord[] = [];
  let done = 0;
  for (const params of paramDicts) {
    const row: ResultRow = {};
    for (const [k, v] of Object.entries(params)) row[PARAM_PREFIX + k] = v;
    for (const spec of config.kernelSpecs) {
      opts.onProgress?.({ done, total, spec, params });
      let result: RuntimeResult;
      try {
        const bench = await creator(spec, params);
        bench.spec = spec;
        bench.params = params;
        if (config.warmup !== undefined) bench.warmup = config.warmup;
        if (config.rep !== undefined) bench.rep = config.rep;
        if (config.aggregation) bench.aggregation = config.aggregation;
        // the spec's own parameters last (they may override warmup / rep, as upstream's set_params)
        bench.setParams(spec.additionalParams);
        result = await bench.runBenchmark();
      } catch (e) {
        result = failedResult(e);
      }
      const name = spec.toString();
      row[RUNTIME_PREFIX + name] = result.runtimeMs;
      row[MEMORY_PREFIX + name] = result.peakMemoryBytes;
      row[TIMING_PREFIX + name] = result.timing;
      if (result.error && !result.error.startsWith('skipped:'))
        opts.log?.(`[${config.benchmarkName}] ${name} ${JSON.stringify(params)}: ${result.error}`);
      cells.push({ spec: name, label: spec.displayName, params, result });
      done++;
      opts.onProgress?.({ done, total, spec, params, result });
    }
    if (opts.adapter !== undefined) row.adapter = opts.adapter;
    rows.push(row);
    if (opts.csvPath) writeFileSync(opts.csvPath, toCsv(rows));
  }
  return { config, rows, cells };
}

function csvCell(v: ParamValue | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV of rows (union of columns, first-seen order). */
export function toCsv(rows: readonly ResultRow[]): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const lines = [cols.map(csvCell).join(',')];
  for (const r of rows) lines.push(cols.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}

/** Minimal CSV parser for the files {@link toCsv} writes (quoted fields supported). */
export function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let q = false;
  for (let x = 0; x < text.length; x++) {
    const ch = text[x];
    if (q) {
      if (ch === '"' && text[x + 1] === '"') {
        cell += '"';
        x++;
      } else if (ch === '"') q = false;
      else cell += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      out.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell || row.length) {
    row.push(cell);
    out.push(row);
  }
  return out;
}

/** `YYYY-MM-DD_HH-MM-SS[__suffix]` folder under `outputDir` (created). */
export function setupOutputFolder(
  outputDir = './outputs_kernel_benchmarks',
  nameSuffix?: string,
  now = new Date(),
): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}-${p(now.getUTCMonth() + 1)}-${p(now.getUTCDate())}_${p(now.getUTCHours())}-${p(now.getUTCMinutes())}-${p(now.getUTCSeconds())}`;
  const dir = join(outputDir, nameSuffix ? `${stamp}__${nameSuffix}` : stamp);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Series points of one prefix (R-- or M--) against the x-axis parameter. */
export function seriesPoints(res: BenchmarkRunResult, prefix: string): LinePoint[] {
  const x = res.config.xAxisParam;
  if (!x) return [];
  const pts: LinePoint[] = [];
  for (const spec of res.config.kernelSpecs) {
    const col = prefix + spec.toString();
    for (const row of res.rows) {
      const xv = Number(row[PARAM_PREFIX + x]);
      const yv = Number(row[col]);
      if (Number.isFinite(xv) && Number.isFinite(yv) && yv >= 0)
        pts.push({ x: xv, y: yv, series: plotLabel(spec) });
    }
  }
  return pts;
}

export interface RecordOptions extends RunOptions {
  /** write SVG plots (default true) */
  plots?: boolean;
}

/**
 * Creates `<outputFolder>/<benchmarkName>/` (must not exist), saves `config.yaml`, runs,
 * saves `results.csv` + `results.json` and the runtime and memory plots.
 */
export async function runAndRecordBenchmarks(
  config: BenchmarkConfig,
  creator: BenchmarkCreator,
  outputFolder: string,
  opts: RecordOptions = {},
): Promise<BenchmarkRunResult & { folder: string }> {
  const folder = join(outputFolder, config.benchmarkName);
  if (existsSync(folder)) throw new Error(`output folder ${folder} exists already`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.yaml'), config.toYaml());
  const res = await runBenchmarks(config, creator, { ...opts, csvPath: join(folder, 'results.csv') });
  writeFileSync(join(folder, 'results.csv'), toCsv(res.rows));
  writeFileSync(
    join(folder, 'results.json'),
    `${JSON.stringify({ benchmarkName: config.benchmarkName, adapter: opts.adapter, cells: res.cells }, null, 1)}\n`,
  );
  if ((opts.plots ?? true) && config.xAxisParam) {
    const base = { xTitle: config.xAxisParam };
    const title = config.getPlotTitle();
    const subtitle = opts.adapter ? `adapter: ${opts.adapter}` : undefined;
    writeFileSync(
      join(folder, `plot_${config.benchmarkName}_runtime.svg`),
      await linePlotSvg(seriesPoints(res, RUNTIME_PREFIX), { ...base, title, subtitle, yTitle: 'Time [ms]' }),
    );
    writeFileSync(
      join(folder, `plot_${config.benchmarkName}_memory.svg`),
      await linePlotSvg(seriesPoints(res, MEMORY_PREFIX), {
        ...base,
        title,
        yTitle: 'Memory [bytes]',
        yLog: false,
      }),
    );
  }
  return { ...res, folder };
}

const SHORT_KERNEL: Record<string, string> = {
  'chunkwise--webgpu_xl_chunk': 'xl',
  'chunkwise--webgpu_limit_chunk': 'limit',
  'chunkwise--webgpu_xl_chunk_siging': 'sig',
  'parallel--webgpu_limit_headdim': 'par',
  'step--webgpu': 'step',
  'ort--parallel_stablef': 'ORT-par',
  'ort--recurrent_loop': 'ORT-loop',
  'ort--attention': 'ORT-attn',
  'triton-live--xl_chunk': 'Triton-live',
  'triton-live--torch_sdpa': 'SDPA-live',
  'cpu--core_reference_chunkwise': 'CPU-ref',
  'reference--triton_xl_chunk': 'Triton*',
  'reference--triton_step': 'Triton*',
};

/** A short column name for tables: `xl f16 cs128`, `ORT-par f32`, `Triton*` (* measured elsewhere). */
export function shortLabel(spec: KernelSpec): string {
  const viaBackend = spec.kernelName.startsWith('backend:');
  const base = SHORT_KERNEL[viaBackend ? spec.kernelName.slice('backend:'.length) : spec.kernelName];
  if (!base) return spec.displayName;
  const k = viaBackend ? `be:${base}` : base;
  if (k.startsWith('Triton') || k === 'CPU-ref' || k === 'ORT-loop' || k === 'SDPA-live') return k;
  const cs = spec.additionalParams.chunk_size;
  return `${k} ${dtypeLabel(spec)}${cs !== undefined ? ` cs${cs}` : ''}`;
}

/** `f16`, `f32`, or `f32→f16` for f32 tensors computed in f16 (`compute_dtype`). */
function dtypeLabel(spec: KernelSpec): string {
  const own = spec.dtype === 'float16' ? 'f16' : 'f32';
  const compute = spec.additionalParams.compute_dtype;
  return compute && compute !== spec.dtype ? `${own}→${compute === 'float16' ? 'f16' : 'f32'}` : own;
}

/** The legend label of a spec: its `label`, or `WebGPU xl_chunk f16 cs128` for this repo's kernels. */
export function plotLabel(spec: KernelSpec): string {
  if (spec.label) return spec.label;
  const m = /^(?:backend:)?(?:chunkwise|parallel|step)--webgpu_?(.*)$/.exec(spec.kernelName);
  if (!m) return spec.toString();
  const extra = Object.entries(spec.additionalParams)
    .filter(([k]) => k !== 'compute_dtype')
    .map(([k, v]) => (k === 'chunk_size' ? `cs${v}` : `${shortParamName(k)}=${v}`))
    .join(' ');
  const name = m[1] || spec.kernelName.split('--')[0];
  const via = spec.kernelName.startsWith('backend:') ? ' (backend)' : '';
  return `WebGPU${via} ${name} ${dtypeLabel(spec)}${spec.fwbw ? ' fw+bw' : ''}${extra ? ` ${extra}` : ''}`;
}

/** A plain-text table of a run (runtime columns), for logs and the CLI summary. */
export function formatTable(res: BenchmarkRunResult, prefix = RUNTIME_PREFIX, digits = 3): string {
  const x = res.config.xAxisParam;
  const paramCols = x
    ? [PARAM_PREFIX + x]
    : Object.keys(res.rows[0] ?? {}).filter((k) => k.startsWith(PARAM_PREFIX));
  const specCols = res.config.kernelSpecs.map((s) => prefix + s.toString());
  const header = [
    ...paramCols.map((c) => c.slice(PARAM_PREFIX.length)),
    ...res.config.kernelSpecs.map(shortLabel),
  ];
  const body = res.rows.map((r) => [
    ...paramCols.map((c) => String(r[c])),
    ...specCols.map((c) => {
      const v = Number(r[c]);
      return Number.isFinite(v) && v >= 0 ? v.toPrecision(digits) : '—';
    }),
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...body.map((b) => b[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => c.padStart(widths[j])).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}
