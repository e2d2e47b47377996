/**
 * The `triton-live` peer: on a machine with python3, torch (CUDA), triton and the upstream
 * `mlstm_kernels` package, the bench runs `scripts/triton_live.py` once for every planned cell
 * and records its timings as measured series (upstream `chunkwise--triton_xl_chunk` and torch's
 * causal `scaled_dot_product_attention`, fw and fw+bw). Without them every live cell is skipped
 * with the reason, and the Triton numbers are the labelled constants ("measured elsewhere").
 *
 * {@link tritonLiveCommand} builds the command line, {@link parseTritonLiveOutput} reads the
 * script's JSON lines, {@link TritonLiveRunner} runs it once per bench run and hands each cell
 * its number, {@link TritonLiveBenchmark} is the cell.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlstmArgumentError } from '@mlstm/core-reference';
import { z } from 'zod';
import { BenchmarkInterface, type Timer } from '../core/interface.js';
import { SkipBenchmark } from '../suites/common.js';

export interface TritonLiveCell {
  S: number;
  B: number;
  NH: number;
  DHQK: number;
  DHHV: number;
}
export type TritonLiveMode = 'fw' | 'fwbw';
/** `xl_chunk`: upstream chunkwise--triton_xl_chunk; `sdpa`: torch SDPA, `is_causal=True` */
export type TritonLiveKernel = 'xl_chunk' | 'sdpa';
/** The kernel names the script prints, by {@link TritonLiveKernel}. */
export const TRITON_LIVE_KERNEL_NAME: Record<TritonLiveKernel, string> = {
  xl_chunk: 'chunkwise--triton_xl_chunk',
  sdpa: 'torch_sdpa',
};

export interface TritonLiveOptions {
  /** the Python interpreter (default `python3`) */
  python?: string;
  /** folder holding the upstream `mlstm_kernels/` package (prepended to PYTHONPATH) */
  mlstmKernelsPath?: string;
  /** the timing script (default: `scripts/triton_live.py` of this package) */
  script?: string;
  dtype?: 'bfloat16' | 'float16' | 'float32';
  chunkSize?: number;
  /** `triton.testing.do_bench` warm-up and repetition times [ms] */
  warmupMs?: number;
  repMs?: number;
  /** the whole script run is stopped after this many seconds (default 540) */
  timeoutS?: number;
}

/**
 * The timing script: `$MLSTM_BENCH_TRITON_SCRIPT`, else `triton_live.py` beside the running module
 * (the bundle ships it), else the package's `scripts/triton_live.py` (two folders above src/peers
 * and dist/peers).
 */
export function defaultTritonLiveScript(): string | undefined {
  const env = process.env.MLSTM_BENCH_TRITON_SCRIPT;
  if (env) return env;
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    for (const p of [join(here, 'triton_live.py'), join(here, '..', '..', 'scripts', 'triton_live.py')])
      if (existsSync(p)) return resolve(p);
  } catch {
    // not a file URL (browser bundle)
  }
  return undefined;
}

export interface TritonLiveCommand {
  command: string;
  args: string[];
  /** variables added to the environment of the run */
  env: Record<string, string>;
}

const positiveInt = (name: string, v: number) => {
  if (!Number.isInteger(v) || v <= 0)
    throw new MlstmArgumentError(name, 'a positive integer', String(v), 'tritonLiveCommand');
};

/**
 * The command line that times `cells` × `kernels` × `modes` in one Python process. The upstream
 * kernels compile with `DISABLE_LLVM_OPT=1` (Triton 3.6 hits an LLVM assertion otherwise).
 */
export function tritonLiveCommand(
  cells: readonly TritonLiveCell[],
  modes: readonly TritonLiveMode[],
  kernels: readonly TritonLiveKernel[],
  o: TritonLiveOptions = {},
): TritonLiveCommand {
  if (cells.length === 0)
    throw new MlstmArgumentError('cells', 'at least one cell', '[]', 'tritonLiveCommand');
  for (const c of cells) for (const k of ['S', 'B', 'NH', 'DHQK', 'DHHV'] as const) positiveInt(k, c[k]);
  for (const m of modes)
    if (m !== 'fw' && m !== 'fwbw')
      throw new MlstmArgumentError('modes', "'fw' or 'fwbw'", `'${m}'`, 'tritonLiveCommand');
  for (const k of kernels)
    if (!(k in TRITON_LIVE_KERNEL_NAME))
      throw new MlstmArgumentError('kernels', "'xl_chunk' or 'sdpa'", `'${k}'`, 'tritonLiveCommand');
  const script = o.script ?? defaultTritonLiveScript();
  if (!script)
    throw new MlstmArgumentError(
      'script',
      'the path of triton_live.py (or MLSTM_BENCH_TRITON_SCRIPT)',
      'none found',
      'tritonLiveCommand',
    );
  const args = [script];
  for (const c of cells) args.push('--cell', `${c.S},${c.B},${c.NH},${c.DHQK},${c.DHHV}`);
  args.push('--modes', [...new Set(modes)].join(','), '--kernels', [...new Set(kernels)].join(','));
  args.push('--dtype', o.dtype ?? 'bfloat16', '--chunk-size', String(o.chunkSize ?? 128));
  if (o.warmupMs !== undefined) args.push('--warmup', String(o.warmupMs));
  if (o.repMs !== undefined) args.push('--rep', String(o.repMs));
  const env: Record<string, string> = { DISABLE_LLVM_OPT: '1' };
  if (o.mlstmKernelsPath) {
    const prev = process.env.PYTHONPATH;
    env.PYTHONPATH = prev ? `${o.mlstmKernelsPath}${delimiter}${prev}` : o.mlstmKernelsPath;
  }
  return { command: o.python ?? 'python3', args, env };
}

const recordSchema = z.object({
  kernel: z.string(),
  mode: z.enum(['fw', 'fwbw']),
  S: z.number().int().positive(),
  B: z.number().int().positive(),
  NH: z.number().int().positive(),
  DHQK: z.number().int().positive(),
  DHHV: z.number().int().positive(),
  dtype: z.string(),
  ms: z.number().positive().optional(),
  error: z.string().optional(),
});
export type TritonLiveRecord = z.infer<typeof recordSchema>;

/**
 * The script's records: one JSON object per line. Other lines (warnings Python prints to stdout)
 * are ignored; a JSON object that is not a record, or a record with neither `ms` nor `error`, is
 * an error naming the line.
 */
export function parseTritonLiveOutput(text: string): TritonLiveRecord[] {
  const out: TritonLiveRecord[] = [];
  text.split(/\r?\n/).forEach((line, n) => {
    const t = line.trim();
    if (!t.startsWith('{')) return;
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch {
      return; // a Python dict repr or a log line that starts with a brace
    }
    const r = recordSchema.safeParse(obj);
    if (!r.success)
      throw new MlstmArgumentError(
        `line ${n + 1}`,
        `a triton_live record (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message})`,
        t.slice(0, 120),
        'parseTritonLiveOutput',
      );
    if (r.data.ms === undefined && r.data.error === undefined)
      throw new MlstmArgumentError(
        `line ${n + 1}`,
        "a record with 'ms' or 'error'",
        t.slice(0, 120),
        'parseTritonLiveOutput',
      );
    out.push(r.data);
  });
  return out;
}

/** The key of one measured number. */
export function tritonLiveKey(kernel: string, mode: TritonLiveMode, c: TritonLiveCell): string {
  return `${kernel}|${mode}|${c.S},${c.B},${c.NH},${c.DHQK},${c.DHHV}`;
}

/** Whether python3 can import torch (with CUDA), triton and mlstm_kernels; `reason` when not. */
export function tritonLiveAvailable(o: TritonLiveOptions = {}): { ok: true } | { ok: false; reason: string } {
  const cmd = tritonLiveCommand([{ S: 1, B: 1, NH: 1, DHQK: 1, DHHV: 1 }], ['fw'], ['xl_chunk'], {
    ...o,
    script: o.script ?? defaultTritonLiveScript() ?? '-',
  });
  if (!existsSync(cmd.args[0])) return { ok: false, reason: `script ${cmd.args[0]} not found` };
  const probe =
    'import torch, triton, mlstm_kernels; assert torch.cuda.is_available(), "torch sees no CUDA device"';
  const r = spawnSync(cmd.command, ['-c', probe], {
    env: { ...process.env, ...cmd.env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) return { ok: false, reason: `${cmd.command} not runnable (${r.error.message})` };
  if (r.status !== 0) {
    const last = (r.stderr ?? '').trim().split('\n').pop() ?? `exit ${r.status}`;
    const where = o.mlstmKernelsPath ? `PYTHONPATH ${o.mlstmKernelsPath}` : 'no --mlstm-kernels-path';
    return {
      ok: false,
      reason: `${cmd.command} cannot import torch/triton/mlstm_kernels (${where}): ${last}`,
    };
  }
  return { ok: true };
}

/** Plans the live cells of a run, runs the script once on the first lookup, and answers per cell. */
export class TritonLiveRunner {
  private readonly cells = new Map<string, TritonLiveCell>();
  private readonly modes = new Set<TritonLiveMode>();
  private readonly kernels = new Set<TritonLiveKernel>();
  private result: Promise<Map<string, TritonLiveRecord> | string> | undefined;

  constructor(
    readonly options: TritonLiveOptions = {},
    private readonly log: (line: string) => void = (l) => console.error(l),
  ) {}

  /** Adds a cell to the one script run (call before the first {@link lookup}). */
  plan(kernel: TritonLiveKernel, mode: TritonLiveMode, c: TritonLiveCell): void {
    this.cells.set(`${c.S},${c.B},${c.NH},${c.DHQK},${c.DHHV}`, c);
    this.modes.add(mode);
    this.kernels.add(kernel);
  }

  /** ms of one cell; throws SkipBenchmark with the reason when it has no number. */
  async lookup(kernel: TritonLiveKernel, mode: TritonLiveMode, c: TritonLiveCell): Promise<number> {
    this.plan(kernel, mode, c);
    this.result ??= this.runOnce();
    const res = await this.result;
    if (typeof res === 'string') throw new SkipBenchmark(res);
    const rec = res.get(tritonLiveKey(TRITON_LIVE_KERNEL_NAME[kernel], mode, c));
    if (!rec) throw new SkipBenchmark('triton-live: the script printed no record for this cell');
    if (rec.ms === undefined) throw new Error(`triton-live: ${rec.error}`);
    return rec.ms;
  }

  private async runOnce(): Promise<Map<string, TritonLiveRecord> | string> {
    const avail = tritonLiveAvailable(this.options);
    if (!avail.ok) {
      const msg = `triton-live: ${avail.reason}; the Triton series stays the labelled constants (measured elsewhere)`;
      this.log(msg);
      return msg;
    }
    const cmd = tritonLiveCommand([...this.cells.values()], [...this.modes], [...this.kernels], this.options);
    this.log(`triton-live: ${cmd.command} ${cmd.args.join(' ')}`);
    const { stdout, stderr, code } = await new Promise<{
      stdout: string;
      stderr: string;
      code: number | null;
    }>((res) => {
      const p = spawn(cmd.command, cmd.args, { env: { ...process.env, ...cmd.env } });
      let out = '';
      let err = '';
      p.stdout.on('data', (b) => {
        out += b;
      });
      p.stderr.on('data', (b) => {
        err += b;
      });
      const timer = setTimeout(() => p.kill('SIGTERM'), (this.options.timeoutS ?? 540) * 1000);
      p.on('error', (e) => {
        clearTimeout(timer);
        res({ stdout: out, stderr: `${err}\n${e.message}`, code: -1 });
      });
      p.on('close', (c) => {
        clearTimeout(timer);
        res({ stdout: out, stderr: err, code: c });
      });
    });
    let records: TritonLiveRecord[];
    try {
      records = parseTritonLiveOutput(stdout);
    } catch (e) {
      return `triton-live: ${(e as Error).message}`;
    }
    if (code !== 0) {
      const tail = stderr.trim().split('\n').slice(-3).join(' / ');
      const how =
        code === null ? `was stopped after ${this.options.timeoutS ?? 540} s` : `exited with ${code}`;
      this.log(`triton-live: the script ${how} after ${records.length} records: ${tail}`);
      if (records.length === 0) return `triton-live: the script ${how}: ${tail}`;
    }
    const map = new Map<string, TritonLiveRecord>();
    for (const r of records) map.set(tritonLiveKey(r.kernel, r.mode, r), r);
    return map;
  }
}

/** One live cell: the number the runner measured for its shape. */
export class TritonLiveBenchmark extends BenchmarkInterface {
  batch_size = 1;
  sequence_length = 128;
  num_heads = 1;
  head_dim_qk = 16;
  head_dim_v = 16;
  /** const-token parameters the suite passes along (unused here) */
  chunk_size = 0;
  tokens = 0;
  embedding_dim = 0;
  private value = NaN;

  constructor(
    private readonly runner: TritonLiveRunner | undefined,
    readonly kernel: TritonLiveKernel,
    readonly fwbw: boolean,
  ) {
    super();
    // one do_bench median per cell, measured by the script
    this.warmup = 0;
    this.rep = 1;
    this.warmup_tolerance = 0;
  }

  /** The cell's shape in the script's terms. */
  cell(): TritonLiveCell {
    return {
      S: this.sequence_length,
      B: this.batch_size,
      NH: this.num_heads,
      DHQK: this.head_dim_qk,
      DHHV: this.head_dim_v,
    };
  }

  async setup(): Promise<void> {
    if (!this.runner) throw new SkipBenchmark('triton-live: no runner in this environment');
    this.value = await this.runner.lookup(this.kernel, this.fwbw ? 'fwbw' : 'fw', this.cell());
  }
  async benchmarkFn(): Promise<void> {}
  timer(): Timer {
    const what = this.kernel === 'xl_chunk' ? 'upstream Triton xl_chunk' : 'torch SDPA causal';
    return { method: `triton.testing.do_bench median (${what}, same call)`, time: async () => this.value };
  }
}
