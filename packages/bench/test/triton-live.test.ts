/**
 * The triton-live peer without Python: the command line built for given shapes, the parser on a
 * sample of the script's output, the runner against a stand-in interpreter (a shell script that
 * prints the sample), and the fallback when no interpreter is there.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  consttokenConfigs,
  defaultTritonLiveScript,
  parseTritonLiveOutput,
  runSuites,
  stepConfigs,
  TritonLiveBenchmark,
  TritonLiveRunner,
  tritonLiveCommand,
} from '../src/index.js';
import { buildProgram } from '../src/cli.js';

const SAMPLE = readFileSync(join(__dirname, 'fixtures', 'triton-live-sample.txt'), 'utf8');
const cell = (S: number) => ({ S, B: 65536 / S, NH: 16, DHQK: 128, DHHV: 256 });

/** A stand-in for python3: `-c …` (the import probe) succeeds; a script run logs its argv and env, prints the sample. */
function fakePython(hang = false): { python: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'triton-live-'));
  const sample = join(dir, 'sample.txt');
  writeFileSync(sample, SAMPLE);
  const log = join(dir, 'argv.txt');
  const python = join(dir, 'python3');
  writeFileSync(
    python,
    `#!/bin/sh\nif [ "$1" = "-c" ]; then exit 0; fi\necho "DISABLE_LLVM_OPT=$DISABLE_LLVM_OPT PYTHONPATH=$PYTHONPATH $*" > '${log}'\ncat '${sample}'\n${hang ? 'exec sleep 30\n' : ''}`,
  );
  chmodSync(python, 0o755);
  return { python, log };
}

describe('tritonLiveCommand', () => {
  it('one process for every cell, kernel and mode, with the upstream package on PYTHONPATH', () => {
    const prev = process.env.PYTHONPATH;
    delete process.env.PYTHONPATH;
    try {
      const c = tritonLiveCommand([cell(512), cell(65536)], ['fw', 'fwbw', 'fw'], ['xl_chunk', 'sdpa'], {
        script: '/kit/triton_live.py',
        mlstmKernelsPath: '/kit/upstream',
        warmupMs: 10,
        repMs: 50,
      });
      expect(c.command).toBe('python3');
      expect(c.args).toEqual([
        '/kit/triton_live.py',
        '--cell',
        '512,128,16,128,256',
        '--cell',
        '65536,1,16,128,256',
        '--modes',
        'fw,fwbw',
        '--kernels',
        'xl_chunk,sdpa',
        '--dtype',
        'bfloat16',
        '--chunk-size',
        '128',
        '--warmup',
        '10',
        '--rep',
        '50',
      ]);
      expect(c.env).toEqual({ DISABLE_LLVM_OPT: '1', PYTHONPATH: '/kit/upstream' });
    } finally {
      if (prev !== undefined) process.env.PYTHONPATH = prev;
    }
  });

  it('finds the packaged script by default, and uses the given interpreter', () => {
    const script = defaultTritonLiveScript();
    expect(script).toMatch(/triton_live\.py$/);
    expect(readFileSync(script!, 'utf8')).toContain('scaled_dot_product_attention');
    const c = tritonLiveCommand([cell(1024)], ['fw'], ['sdpa'], { python: '/usr/bin/python3.12' });
    expect(c.command).toBe('/usr/bin/python3.12');
    expect(c.args[0]).toBe(script);
    expect(c.env.PYTHONPATH).toBe(process.env.PYTHONPATH);
  });

  it.each([
    { cells: [], modes: ['fw'], kernels: ['sdpa'], err: /cells: expected at least one cell/ },
    {
      cells: [{ ...cell(512), S: 0 }],
      modes: ['fw'],
      kernels: ['sdpa'],
      err: /S: expected a positive integer, got 0/,
    },
    { cells: [cell(512)], modes: ['bw'], kernels: ['sdpa'], err: /modes: expected 'fw' or 'fwbw', got 'bw'/ },
    { cells: [cell(512)], modes: ['fw'], kernels: ['flash'], err: /kernels: expected 'xl_chunk' or 'sdpa'/ },
  ])('rejects bad arguments: $err', ({ cells, modes, kernels, err }) => {
    expect(() => tritonLiveCommand(cells, modes as never, kernels as never, { script: 'x.py' })).toThrow(err);
  });
});

describe('parseTritonLiveOutput', () => {
  it('reads the records of the sample, skipping warning and comment lines', () => {
    const r = parseTritonLiveOutput(SAMPLE);
    expect(r).toHaveLength(8);
    expect(r[0]).toEqual({
      kernel: 'chunkwise--triton_xl_chunk',
      mode: 'fw',
      dtype: 'bfloat16',
      ...cell(512),
      ms: 3.78,
    });
    expect(r.filter((x) => x.error)).toHaveLength(1);
    expect(r[7].error).toMatch(/OutOfMemoryError/);
    expect(parseTritonLiveOutput('')).toEqual([]);
  });

  it.each([
    { line: '{"kernel": "torch_sdpa", "mode": "fw"}', err: /line 1: expected a triton_live record \(S:/ },
    {
      line: '{"kernel": "torch_sdpa", "mode": "bw", "dtype": "bfloat16", "S": 1, "B": 1, "NH": 1, "DHQK": 1, "DHHV": 1, "ms": 1}',
      err: /mode/,
    },
    {
      line: '{"kernel": "torch_sdpa", "mode": "fw", "dtype": "bfloat16", "S": 1, "B": 1, "NH": 1, "DHQK": 1, "DHHV": 1}',
      err: /'ms' or 'error'/,
    },
  ])('rejects a malformed record: $err', ({ line, err }) => {
    expect(() => parseTritonLiveOutput(line)).toThrow(err);
  });
});

describe('TritonLiveRunner', () => {
  it('runs the script once for all planned cells and answers each cell', async () => {
    const { python, log } = fakePython();
    const lines: string[] = [];
    const runner = new TritonLiveRunner(
      { python, mlstmKernelsPath: '/up', script: defaultTritonLiveScript() },
      (l) => lines.push(l),
    );
    for (const S of [512, 1024])
      for (const k of ['xl_chunk', 'sdpa'] as const) runner.plan(k, 'fwbw', cell(S));
    expect(await runner.lookup('xl_chunk', 'fw', cell(512))).toBe(3.78);
    expect(await runner.lookup('sdpa', 'fw', cell(1024))).toBe(1.1);
    expect(await runner.lookup('xl_chunk', 'fwbw', cell(1024))).toBe(12.2);
    await expect(runner.lookup('sdpa', 'fwbw', cell(1024))).rejects.toThrow(/triton-live: OutOfMemoryError/);
    await expect(runner.lookup('sdpa', 'fw', cell(2048))).rejects.toThrow(
      /skipped: .*no record for this cell/,
    );
    const argv = readFileSync(log, 'utf8');
    expect(argv).toMatch(/^DISABLE_LLVM_OPT=1 PYTHONPATH=\/up/);
    expect(argv).toContain(
      '--cell 512,128,16,128,256 --cell 1024,64,16,128,256 --modes fwbw,fw --kernels xl_chunk,sdpa',
    );
    expect(lines.filter((l) => l.startsWith('triton-live: '))).toHaveLength(1); // the command, once
  });

  it('a run past the timeout is stopped; the records printed until then are kept', async () => {
    const { python } = fakePython(true);
    const lines: string[] = [];
    const runner = new TritonLiveRunner({ python, timeoutS: 1 }, (l) => lines.push(l));
    const t0 = performance.now();
    expect(await runner.lookup('xl_chunk', 'fw', cell(512))).toBe(3.78);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(lines.some((l) => /the script was stopped after 1 s after 8 records/.test(l))).toBe(true);
  });

  it('without an interpreter: every cell skipped with the reason, said once', async () => {
    const lines: string[] = [];
    const runner = new TritonLiveRunner({ python: '/nonexistent/python3' }, (l) => lines.push(l));
    const b = new TritonLiveBenchmark(runner, 'xl_chunk', false);
    b.setParams({ batch_size: 128, sequence_length: 512, num_heads: 16, head_dim_qk: 128, head_dim_v: 256 });
    const r = await b.runBenchmark();
    expect(r.error).toMatch(/^skipped: triton-live: \/nonexistent\/python3 not runnable/);
    expect(r.error).toMatch(/labelled constants/);
    await expect(runner.lookup('sdpa', 'fw', cell(512))).rejects.toThrow(/not runnable/);
    expect(lines).toHaveLength(1);
  });
});

describe('--peers triton-live, ort-attention', () => {
  it('the CLI accepts the new peers and rejects unknown ones', () => {
    const o = buildProgram()
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .parse([
        'node',
        'mlstm-bench',
        '--peers',
        'ort-attention,triton-live',
        '--mlstm-kernels-path',
        '/up',
        '--triton-timeout',
        '300',
        '--attention-impl',
        'matmul',
      ])
      .opts();
    expect(o.peers).toEqual(['ort-attention', 'triton-live']);
    expect(o.mlstmKernelsPath).toBe('/up');
    expect(o.tritonTimeout).toBe(300);
    expect(o.attentionImpl).toBe('matmul');
    expect(() =>
      buildProgram()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parse(['node', 'mlstm-bench', '--peers', 'flash']),
    ).toThrow(/unknown peer 'flash'/);
  });

  it('consttoken: live series fw and fw+bw beside the constants; ORT attention per dtype, fw only', () => {
    const [fw, fwbw] = consttokenConfigs({
      preset: 'full',
      modes: ['fw', 'fwbw'],
      dtypes: ['float32', 'float16'],
      peers: ['ort-attention', 'triton-live'],
    });
    const names = (c: typeof fw) =>
      c.kernelSpecs.map((s) => `${s.kernelName}:${s.dtype}`).filter((n) => !n.startsWith('chunkwise'));
    expect(names(fw)).toEqual([
      'reference--triton_xl_chunk:bfloat16',
      'triton-live--xl_chunk:bfloat16',
      'triton-live--torch_sdpa:bfloat16',
      'ort--attention:float32',
      'ort--attention:float16',
    ]);
    expect(names(fwbw)).toEqual([
      'reference--triton_xl_chunk:bfloat16',
      'triton-live--xl_chunk:bfloat16',
      'triton-live--torch_sdpa:bfloat16',
    ]);
    // the step suite has no live series: triton-live keeps its labelled constants
    const [step] = stepConfigs({ preset: 'full', peers: ['triton-live'] });
    expect(step.kernelSpecs.map((k) => k.kernelName)).toContain('reference--triton_step');
  });

  it('a run with the stand-in interpreter records the live series and names them in the headline', async () => {
    const { python } = fakePython();
    const res = await runSuites({
      ctx: null, // no WebGPU: the live series need none
      suites: ['consttoken'],
      preset: 'full',
      modes: ['fw', 'fwbw'],
      seqLens: [512, 1024],
      peers: ['triton-live'],
      tritonLive: { python },
      outputDir: mkdtempSync(join(tmpdir(), 'triton-live-run-')),
      log: () => {},
    });
    const fw = res.results[0];
    const live = fw.cells.filter((c) => c.spec.startsWith('triton-live--'));
    expect(live.map((c) => c.result.runtimeMs)).toEqual([3.78, 0.62, 3.75, 1.1]); // per S: xl_chunk, SDPA;
    expect(live[0].result.timing).toContain('do_bench');
    const oom = res.results[1].cells.find(
      (c) => c.spec.startsWith('triton-live--torch_sdpa') && c.params.sequence_length === 1024,
    );
    expect(oom?.result.error).toMatch(/OutOfMemoryError/);
    expect(res.summary).toContain('| S | Triton* fw | Triton-live fw | SDPA-live fw |');
    expect(res.summary).toContain('| 512 | 3.78 | 3.78 | 0.620 |');
    expect(res.summary).toMatch(
      /Triton-live \/ SDPA-live = upstream xl_chunk \/ torch causal SDPA, bf16, measured in this call/,
    );
    // the headline figure: forward left, forward + backward right, the live series in both
    const svg = readFileSync(join(res.folder, 'plot_consttoken_headline.svg'), 'utf8');
    expect(XMLValidator.validate(svg)).toBe(true);
    for (const text of [
      'forward',
      'forward + backward',
      'Triton xl_chunk (live, bf16)',
      'torch SDPA causal (live, bf16)',
    ])
      expect(svg).toContain(`>${text}<`);
    expect(svg.indexOf('>forward<')).toBeLessThan(svg.indexOf('>forward + backward<'));
  });
});

/** Stand-ins for torch, triton and mlstm_kernels: record the calls, return fixed times (no GPU). */
const STUBS: Record<string, string> = {
  'torch/__init__.py': `
import types
calls = []
class T:
    def __init__(self, shape): self.shape = shape
    def __add__(self, o): return self
    def requires_grad_(self, g): self.grad = g; return self
    def backward(self, do): calls.append(("backward", self.shape))
def randn(*shape, device=None, dtype=None):
    if shape[0] * shape[2] > 10**6: raise RuntimeError("CUDA out of memory. Tried to allocate a lot\\nmore")
    return T(shape)
bfloat16 = "bf16"; float16 = "f16"; float32 = "f32"
cuda = types.SimpleNamespace(empty_cache=lambda: None)
def _sdpa(q, k, v, is_causal=False):
    assert is_causal
    return T(v.shape)
nn = types.SimpleNamespace(functional=types.SimpleNamespace(scaled_dot_product_attention=_sdpa))
`,
  'triton/__init__.py': 'from . import testing\n',
  'triton/testing.py': `
def do_bench(fn, warmup=25, rep=100):
    fn()
    return 1.25 if warmup == 7 else 9.0
`,
  'mlstm_kernels/__init__.py': '',
  'mlstm_kernels/torch/__init__.py': `
import torch
def get_mlstm_kernel(name):
    assert name == "chunkwise--triton_xl_chunk"
    def k(q, k, v, i, f, chunk_size=64, return_last_states=True):
        assert chunk_size == 128 and return_last_states is False
        return torch.T(v.shape)
    return k
`,
};

describe('scripts/triton_live.py with stand-in modules', () => {
  it('prints one record per cell, kernel and mode that the parser reads; a failing cell gives its error', (t) => {
    if (spawnSync('python3', ['--version']).status !== 0) t.skip('no python3 here');
    const dir = mkdtempSync(join(tmpdir(), 'triton-live-stubs-'));
    for (const [f, text] of Object.entries(STUBS)) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), text);
    }
    const cells = [cell(512), { S: 65536, B: 32, NH: 16, DHQK: 128, DHHV: 256 }]; // the second "runs out of memory"
    const cmd = tritonLiveCommand(cells, ['fw', 'fwbw'], ['xl_chunk', 'sdpa'], {
      mlstmKernelsPath: dir,
      warmupMs: 7,
    });
    const r = spawnSync(cmd.command, cmd.args, { env: { ...process.env, ...cmd.env }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const recs = parseTritonLiveOutput(r.stdout);
    expect(recs.map((x) => `${x.kernel} ${x.mode} ${x.S} ${x.ms ?? x.error}`)).toEqual([
      'chunkwise--triton_xl_chunk fw 512 1.25',
      'chunkwise--triton_xl_chunk fwbw 512 1.25',
      'torch_sdpa fw 512 1.25',
      'torch_sdpa fwbw 512 1.25',
      'chunkwise--triton_xl_chunk fw 65536 RuntimeError: CUDA out of memory. Tried to allocate a lot',
      'chunkwise--triton_xl_chunk fwbw 65536 RuntimeError: CUDA out of memory. Tried to allocate a lot',
      'torch_sdpa fw 65536 RuntimeError: CUDA out of memory. Tried to allocate a lot',
      'torch_sdpa fwbw 65536 RuntimeError: CUDA out of memory. Tried to allocate a lot',
    ]);
    expect(recs[0]).toMatchObject({ dtype: 'bfloat16', B: 128, NH: 16, DHQK: 128, DHHV: 256 });
  });
});
