#!/usr/bin/env node
/**
 * `mlstm-bench`: runs benchmark suites and writes CSV + SVG into a timestamped folder.
 *
 *   mlstm-bench --suite consttoken --fwbw
 *   mlstm-bench --suite consttoken,step --preset full --modes fw,fwbw --dtypes f32,f16 --out results
 *   mlstm-bench --config my-benchmark.yaml
 *   mlstm-bench --suite model --preset full --model 7b   # TTFT, decode tokens/s, memory of the 7B shape
 */
import { parseDenseTiles } from '@mlstm/kernels-webgpu';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { BenchmarkConfig } from './core/config.js';
import type { Dtype } from './core/kernel-spec.js';
import { runSuites } from './runner.js';
import { listSuites, type Mode, PEERS, type Peer, type Preset, type WeightQuant } from './suites/suites.js';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const intList = (v: string) =>
  list(v).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`'${s}' is not a positive integer`);
    return n;
  });
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`'${v}' is not a non-negative integer`);
  return n;
};
const dtypes = (v: string): (Dtype | WeightQuant)[] =>
  list(v).map((d) => {
    if (d === 'f32' || d === 'float32') return 'float32';
    if (d === 'f16' || d === 'float16') return 'float16';
    if (d === 'q8' || d === 'q4') return d;
    throw new InvalidArgumentError(`unknown dtype '${d}' (f32, f16; the model suite also q8, q4)`);
  });
const quantDecodes = (v: string): ('int8' | 'f32')[] =>
  list(v).map((d) => {
    if (d === 'int8' || d === 'f32') return d;
    throw new InvalidArgumentError(`unknown --quant-decode '${d}' (int8, f32)`);
  });
const peerList = (v: string): string[] =>
  list(v).map((p) => {
    if (p !== 'none' && !(PEERS as readonly string[]).includes(p))
      throw new InvalidArgumentError(`unknown peer '${p}' (${PEERS.join(', ')}, or none)`);
    return p;
  });
const floats = (d?: (Dtype | WeightQuant)[]) => {
  const f = d?.filter((x): x is Dtype => x !== 'q8' && x !== 'q4');
  return f?.length ? f : undefined;
};

export function buildProgram(): Command {
  return new Command('mlstm-bench')
    .description(
      'Benchmarks of the WebGPU mLSTM kernels (const-token, head-dim, step) with ORT / CPU / Triton peers, and of hf-model (model)',
    )
    .option('-s, --suite <names>', 'suites, comma-separated (consttoken, headdim, step, gemm, model)', list, [
      'consttoken',
    ])
    .addOption(
      new Option('-p, --preset <preset>', 'sizes: tiny (software adapters), default (laptop), full (paper)')
        .choices(['auto', 'tiny', 'default', 'full'])
        .default('auto'),
    )
    .option('--fw', 'forward only (default)')
    .option('--fwbw', 'forward + backward')
    .option('--modes <modes>', 'fw,fwbw (overrides --fw/--fwbw)', list)
    .option('--dtypes <dtypes>', 'f32,f16 (the model suite also q8,q4: quantised weights)', dtypes)
    .option('--seq-lens <list>', 'consttoken sequence lengths', intList)
    .option('--tokens <n>', 'consttoken tokens per point (B·S)', int)
    .option('--num-heads <n>', 'heads', int)
    .option('--head-dim-qk <n>', 'DHQK', int)
    .option('--head-dim-v <n>', 'DHHV', int)
    .option('--batch-sizes <list>', 'step suite batch sizes', intList)
    .option('--model <list>', 'model suite: tiny, 7b (random weights, xLSTM-7B shape), or folders', list)
    .option('--prompt-lens <list>', 'model suite: prompt lengths of the time to first token', intList)
    .option('--model-batch-sizes <list>', 'model suite: batch sizes', intList)
    .option('--decode-steps <n>', 'model suite: decode steps per repetition', int)
    .option('--decode-prompt <n>', 'model suite: prompt length before the decode steps', int)
    .option('--model-blocks <n>', 'model suite: blocks of the 7B-shaped model (32 = xLSTM-7B)', int)
    .option(
      '--packed-tokens <list>',
      'model suite: tokens per packed-prefill batch of prompts of different lengths',
      intList,
    )
    .option('--no-packed', 'model suite: leave out the packed-prefill config')
    .option(
      '--quant-decode <list>',
      "model suite, q8/q4: decode-sized matmuls with 'int8' or 'f32' activations, one series each (default: the model's default)",
      quantDecodes,
    )
    .option(
      '--dense-decode <mode>',
      "model suite: hf-model's denseDecode, how the decode of several sequences multiplies dense weights (gemv, matrix-units)",
      (v: string) => {
        if (v !== 'gemv' && v !== 'matrix-units')
          throw new InvalidArgumentError(`unknown --dense-decode '${v}' (gemv, matrix-units)`);
        return v;
      },
    )
    .option(
      '--prefill-chunk-size <n>',
      "model suite: most tokens per prefill call (hf-model's prefillChunkSize; default: its activation budget)",
      int,
    )
    .option(
      '--kernels <list>',
      'kernel specifiers, optionally :chunk_size (chunkwise--webgpu_xl_chunk:256,...)',
      list,
    )
    .option('--peers <list>', `peer baselines: ${PEERS.join(', ')}, or 'none'`, peerList)
    .option('--ort-max-seq-len <n>', 'longest S of the ORT parallel baseline', int)
    .option('--attention-max-seq-len <n>', 'longest S of the ort-attention peer (default: every S)', int)
    .addOption(
      new Option(
        '--attention-impl <impl>',
        'ort-attention graph: mha (com.microsoft.MultiHeadAttention) or matmul (plain ops)',
      ).choices(['mha', 'matmul']),
    )
    .option('--python <cmd>', 'triton-live: the Python interpreter', 'python3')
    .option(
      '--mlstm-kernels-path <dir>',
      "triton-live: folder holding upstream's mlstm_kernels/ package (default $MLSTM_KERNELS_PATH)",
    )
    .option(
      '--triton-timeout <seconds>',
      'triton-live: stop the Python run after this many seconds (default 540)',
      int,
    )
    .option(
      '--triton-script <file>',
      "triton-live: the timing script (default: the package's scripts/triton_live.py)",
    )
    .addOption(
      new Option('--ort-ep <ep>', 'ORT execution provider of the parallel graph').choices(['webgpu', 'wasm']),
    )
    .option('--ort-wasm-dir <dir>', "folder with onnxruntime-web's ort-wasm-simd-threaded.asyncify.wasm")
    .option('--warmup <n>', 'warm-up calls', int)
    .option('--rep <n>', 'timed repetitions', int)
    .option(
      '--warmup-tolerance <percent>',
      'stability warm-up: batch medians must agree within this many percent (0 = off; default 2)',
      Number,
    )
    .option('--warmup-max-calls <n>', 'stability warm-up: at most this many calls per cell (default 30)', int)
    .addOption(
      new Option('--timing <how>', 'GPU timing').choices(['auto', 'timestamp', 'wall']).default('auto'),
    )
    .option('-c, --config <files>', 'extra benchmark configs (YAML/JSON), comma-separated', list)
    .option(
      '-o, --out <dir>',
      'output folder (a timestamped run folder is made inside)',
      './outputs_kernel_benchmarks',
    )
    .option('--suffix <name>', 'suffix of the run folder name')
    .option(
      '--time-budget <seconds>',
      'skip the remaining cells after this many seconds (recorded as skipped)',
      int,
    )
    .option('--no-progress', 'no progress bar (one line per cell)')
    .option(
      '--dense-tiles <tiles>',
      "tiles of the dense matmul on the matrix units for every call of the run, model prefill included (e.g. '128x128x64:wm2:s1:rot'; default: the heuristics')",
      (v: string) => {
        try {
          return parseDenseTiles(v);
        } catch (e) {
          throw new InvalidArgumentError((e as Error).message);
        }
      },
    )
    .option(
      '--unsafe-no-robustness',
      "Node: turn off Dawn's bounds-checking robustness pass (faster kernels; browsers always keep it on)",
    )
    .option('--list', 'list the suites and exit');
}

export async function main(argv = process.argv): Promise<number> {
  const program = buildProgram();
  // `pnpm bench -- --suite …` forwards the separators literally: drop bare `--`
  argv = [...argv.slice(0, 2), ...argv.slice(2).filter((a) => a !== '--')];
  program.parse(argv);
  const o = program.opts();
  if (o.list) {
    for (const s of listSuites()) console.log(`${s.name.padEnd(12)} ${s.description}`);
    return 0;
  }
  const modes: Mode[] = o.modes ?? (o.fw && o.fwbw ? ['fw', 'fwbw'] : o.fwbw ? ['fwbw'] : ['fw']);
  for (const m of modes)
    if (m !== 'fw' && m !== 'fwbw') throw new InvalidArgumentError(`unknown mode '${m}'`);
  const peers: Peer[] | undefined = o.peers ? (o.peers.includes('none') ? [] : o.peers) : undefined;
  const tty = !!process.stderr.isTTY && o.progress !== false;
  const bar = tty
    ? new SingleBar({
        format: ' {bar} {value}/{total} | {config} | {cell}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
      })
    : undefined;
  let started = false;
  const t0 = performance.now();
  const suites = o.config && !argv.some((a) => a === '-s' || a.startsWith('--suite')) ? [] : o.suite;
  const res = await runSuites({
    gpu: {
      disableRobustness: !!o.unsafeNoRobustness,
      ...(o.denseTiles ? { tuning: { denseTiles: o.denseTiles } } : {}),
    },
    suites,
    preset: o.preset as Preset | 'auto',
    modes,
    dtypes: floats(o.dtypes),
    weightQuants: o.dtypes?.filter((x: string): x is WeightQuant => x === 'q8' || x === 'q4'),
    quantDecodes: o.quantDecode,
    seqLens: o.seqLens,
    tokens: o.tokens,
    numHeads: o.numHeads,
    headDimQk: o.headDimQk,
    headDimV: o.headDimV,
    batchSizes: o.batchSizes,
    models: o.model,
    promptLens: o.promptLens,
    modelBatchSizes: o.modelBatchSizes,
    decodeSteps: o.decodeSteps,
    decodePrompt: o.decodePrompt,
    modelBlocks: o.modelBlocks,
    packedTokens: o.packed === false ? [] : o.packedTokens,
    prefillChunkSize: o.prefillChunkSize,
    denseDecode: o.denseDecode,
    kernels: o.kernels,
    peers,
    ortMaxSeqLen: o.ortMaxSeqLen,
    attentionMaxSeqLen: o.attentionMaxSeqLen,
    attentionImpl: o.attentionImpl,
    tritonLive: {
      python: o.python,
      mlstmKernelsPath: o.mlstmKernelsPath ?? process.env.MLSTM_KERNELS_PATH,
      script: o.tritonScript,
      timeoutS: o.tritonTimeout,
    },
    ortProvider: o.ortEp,
    ortWasmDir: o.ortWasmDir,
    warmup: o.warmup,
    rep: o.rep,
    warmupPolicy: {
      ...(o.warmupTolerance !== undefined ? { tolerance: o.warmupTolerance / 100 } : {}),
      ...(o.warmupMaxCalls !== undefined ? { maxCalls: o.warmupMaxCalls } : {}),
    },
    timing: o.timing,
    configs: (o.config ?? []).map((f: string) => BenchmarkConfig.fromFile(f)),
    timeBudgetS: o.timeBudget,
    outputDir: o.out,
    suffix: o.suffix,
    log: (l) => {
      if (bar && started) bar.stop();
      started = false;
      console.error(l);
    },
    onProgress: (e) => {
      const cell = `${e.spec.displayName} ${Object.entries(e.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`;
      if (bar) {
        if (!started) {
          bar.start(e.total, e.done, { config: e.config, cell });
          started = true;
        }
        bar.setTotal(e.total);
        bar.update(e.done, { config: e.config, cell });
        if (e.result && e.done === e.total) {
          bar.stop();
          started = false;
        }
      } else if (e.result) {
        const r = e.result;
        const v = Number.isFinite(r.runtimeMs) ? `${r.runtimeMs.toPrecision(4)} ms` : (r.error ?? 'NaN');
        console.error(`[${e.config} ${e.done}/${e.total}] ${cell}: ${v}`);
      }
    },
  });
  if (bar && started) bar.stop();
  console.log(res.summary);
  console.log(
    `preset ${res.preset}; results in ${res.folder} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  return 0;
}

const isMain = (() => {
  try {
    const self = new URL(import.meta.url).pathname;
    const arg = process.argv[1] ?? '';
    return (
      self === arg || arg.endsWith('cli.js') || arg.endsWith('mlstm-bench.mjs') || arg.endsWith('mlstm-bench')
    );
  } catch {
    return false;
  }
})();

if (isMain) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      const debug = !!process.env.MLSTM_BENCH_DEBUG;
      console.error(e instanceof Error ? (debug ? (e.stack ?? e.message) : `mlstm-bench: ${e.message}`) : e);
      process.exit(1);
    },
  );
}
