/**
 * Micro-benchmark of the subgroup-matrix operand paths on a real GPU (run on the H100 machine):
 * how fast the 16×16×16 f16→f32 matrix products run when their operands come from workgroup
 * memory (row- or column-major) or straight from storage, in the register layout of the TFLA
 * kernels (8 subgroups, each 32 rows × 64 columns: 2 left and 4 right loads per 8 products).
 * It tells which layouts the kernels should stage their operands in.
 *
 *   node matrix-loads.mjs [--no-robustness] [--out results.json]
 */
import { writeFileSync } from 'node:fs';
import { defineParams, getGpuContext } from '../src/index.js';
import { matrixLoadsWgsl, type OperandSource } from './matrix-loads-wgsl.js';

const argv = process.argv.slice(2);
const outPath = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : undefined;
const ctx = await getGpuContext({ disableRobustness: argv.includes('--no-robustness') });
console.log(ctx.describe());
console.log(`robustness ${argv.includes('--no-robustness') ? 'off' : 'on'}`);

const params = defineParams({ iters: 'u32', step: 'u32', never: 'u32', pad: 'u32' });
const WGS = 1056; // 8 per SM of an H100
const ITERS = 2048;
const flops = WGS * ITERS * 8 * 8 * 2 * 16 * 16 * 16;

const src = ctx.empty([64 * 4096], 'f16');
const sink = ctx.empty([16 * 16 * 8]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(left: OperandSource, right: OperandSource, opts: { hoist?: boolean; barrier?: boolean }) {
  const key = `matrix-loads:${left}:${right}:${opts.hoist ? 'h' : ''}:${opts.barrier ? 'b' : ''}`;
  const p = ctx.pipeline(key, () => matrixLoadsWgsl(left, right, opts), ['uniform', 'read', 'rw']);
  const ts: number[] = [];
  for (let r = 0; r < 7; r++) {
    ctx.beginGpuTiming(4);
    ctx
      .batch()
      .dispatch(p, [src, sink], params.pack({ iters: ITERS, step: 1, never: 0, pad: 0 }), [WGS])
      .submit();
    const t = await ctx.endGpuTiming();
    if (r >= 2) ts.push(t.reduce((a, b) => a + b, 0));
  }
  return median(ts);
}

const results: Record<string, unknown>[] = [];
const sources: OperandSource[] = ['shared-row', 'shared-col', 'storage-row', 'storage-col'];
console.log('\nGPU ms (median of 5) and TFLOP/s of 8 products per 2 left + 4 right loads, per operand path');
for (const [left, right, opts] of [
  ['shared-row', 'shared-row', { hoist: true }],
  ...sources.flatMap((l) => sources.map((r) => [l, r, {}])),
  ['shared-row', 'storage-row', { barrier: true }],
  ['shared-row', 'shared-row', { barrier: true }],
  ['shared-block', 'shared-block', {}],
  ['shared-block', 'shared-block', { barrier: true }],
] as [OperandSource, OperandSource, { hoist?: boolean; barrier?: boolean }][]) {
  const ms = await time(left, right, opts);
  const tflops = flops / (ms * 1e-3) / 1e12;
  const name = `left ${left.padEnd(11)} right ${right.padEnd(11)}${opts.hoist ? ' (loads hoisted: products only)' : ''}${opts.barrier ? ' (+ workgroupBarrier per step)' : ''}`;
  console.log(`  ${name.padEnd(80)} ${ms.toFixed(3)} ms  ${tflops.toFixed(1)} TFLOP/s`);
  results.push({ left, right, ...opts, ms, tflops });
}
if (outPath) writeFileSync(outPath, JSON.stringify({ adapter: ctx.describe(), results }, null, 2));
src.release();
sink.release();
