/**
 * tools/device/measure.sh, the one-call measurement runner for the GPU machine: its argument
 * handling and its deadline rule (a step starts only while it can still finish), checked without
 * a GPU — with no time left every step is reported as skipped, in priority order.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'device', 'measure.sh');
const run = (args: string[], env: Record<string, string>) =>
  spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

/** The steps before the prefill breakdown, in priority order. */
const FIRST_STEPS = [
  'GPU test project',
  'hf-model GPU test project (int8 GEMV)',
  'dense matmul tile sweep (M 2048)',
  'model f16 (TTFT, decode, packed prefill)',
  'model f16 decode on the matrix units (B 8, 32)',
  'model q8, q4 (int8 activations)',
];

it('without time left every step is skipped, in priority order; optional steps follow their flags', () => {
  const OUT = mkdtempSync(join(tmpdir(), 'measure-'));
  const plain = run([], { DEADLINE: '0', OUT });
  expect(plain.status).toBe(0);
  const skipped = [...plain.stdout.matchAll(/^== (.*): skipped/gm)].map((m) => m[1]);
  expect(skipped).toEqual([
    // (with --baseline: the transformers baseline after the model f16 step)
    ...FIRST_STEPS,
    // (the sweep's best tiles, when not the default, add a model prefill with them here)
    'prefill breakdown f16 (128, 2048 tokens, 32 blocks)',
    'dense matmul at short prompts (M 128, 512)',
    'dense matmul at decode sizes (M 8, 16)',
    'dense matmul without robustness (M 2048)',
    // (a `decode-device-before.mjs` beside the script adds the 'before' runs)
    'decode step breakdown f16 after (32 blocks)',
    'decode step breakdown q4 after (32 blocks)',
    'packed kernels',
    'fast path vs CPU (7B widths, 2 blocks)',
    'q8 / q4 layer error and speed',
  ]);
  const all = run(['--baseline', 'b.py', '--mlstm-kernels-path', OUT], { DEADLINE: '0', OUT });
  expect(all.stdout).toMatch(/== transformers baseline: skipped/);
  expect(all.stdout).toMatch(/== const-token suite with ORT attention and live Triton: skipped/);
});

it('--start-at goes on where an earlier call stopped; a name that matches no step is an error', () => {
  const OUT = mkdtempSync(join(tmpdir(), 'measure-'));
  const r = run(['--start-at', 'prefill breakdown', '--best-tiles', '128x128x64:wm2:s1:rot'], {
    DEADLINE: '0',
    OUT,
  });
  expect(r.status).toBe(0);
  const before = [...r.stdout.matchAll(/^== (.*): skipped \(before --start-at\)/gm)].map((m) => m[1]);
  expect(before).toEqual([
    ...FIRST_STEPS,
    // the tiles given, not the default: the prefill with them is a step (before the start too)
    'model f16 prefill with tiles 128x128x64:wm2:s1:rot',
  ]);
  // from the named step on, the deadline rule as usual
  // (`-1s` where the shell's clock ticked over a second while it ran)
  expect(r.stdout).toMatch(
    /== prefill breakdown f16 \(128, 2048 tokens, 32 blocks\): skipped \(-?\d+s left\)/,
  );
  const bad = run(['--start-at', 'no such step'], { DEADLINE: '0', OUT });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/no step's name contains --start-at 'no such step'/);
});

it('refuses an unknown argument and a missing OUT', () => {
  const OUT = mkdtempSync(join(tmpdir(), 'measure-'));
  const bad = run(['--baselin', 'x'], { DEADLINE: '0', OUT });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/unknown argument --baselin/);
  const env = { ...process.env, DEADLINE: '0' } as Record<string, string>;
  delete env.OUT;
  const noOut = spawnSync('bash', [script], { encoding: 'utf8', env });
  expect(noOut.status).not.toBe(0);
  expect(noOut.stderr).toMatch(/set OUT/);
});
