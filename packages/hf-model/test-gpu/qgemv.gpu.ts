/**
 * GPU test project of hf-model's decode kernels over quantised weights: the int8-activation GEMV
 * (gpu/gemv.ts, encodeQGemv) at the xLSTM-7B matrix shapes and on odd shapes, against its CPU
 * twin (test/qgemv-reference.ts), with every reduction the adapter offers. Bundled into one .mjs
 * (`pnpm bundle:device`; Node's built-in test runner, since vitest cannot be bundled).
 *
 * No test is ever skipped: an adapter without WGSL's packed 4×8-bit dot product fails the first
 * test. The process exits non-zero on any failure (node:test sets the exit code), and the last
 * line is a summary: `gpu-tests: N passed, N failed, 0 skipped (…)`.
 *
 *   node qgemv.gpu.mjs
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { getGpuContext } from '@mlstm/kernels-webgpu';
import { encodeQGemv, type GemvConfig, gemvConfig, qgemvActsElements } from '../src/gpu/gemv.js';
import { type QuantGpuMatrix, uploadQuant } from '../src/gpu/qmatmul.js';
import { dequantize, type QuantFormat, quantize, sliceRows, wordsPerRow } from '../src/quant/formats.js';
import { type Case, inputRows, references } from '../test/qgemv-reference.js';

const ctx = await getGpuContext();
console.log(ctx.describe());

let passed = 0;
let failed = 0;
const worst: Record<string, number> = {};
function check(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    try {
      await fn();
      passed++;
    } catch (e) {
      failed++;
      throw e;
    }
  });
}
after(() => {
  console.log(JSON.stringify({ worst }));
  console.log(
    `gpu-tests: ${passed} passed, ${failed} failed, 0 skipped (hf-model int8 GEMV; ${ctx.adapterInfo.vendor} ${ctx.adapterInfo.architecture} ${ctx.adapterInfo.description})`,
  );
});

let seed = 7;
const rnd = (n: number, scale = 1) =>
  Float32Array.from(
    { length: n },
    () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2 * scale,
  );

check('the adapter has the packed 4×8-bit integer dot product', async () => {
  assert.ok(ctx.features.packedIntegerDot, 'WGSL language feature packed_4x8_integer_dot_product missing');
});

/**
 * One case: every listed config against the int8 reference (exact integer dots; f32 sums of the
 * scaled group terms in another order: 1e-4 + 2e-5·|y|) and within the bound of rounding x.
 */
async function runCase(format: QuantFormat, c: Case, swiglu: boolean, configs: Partial<GemvConfig>[]) {
  const { M, N, K } = c;
  const w = quantize(format, rnd(N * K, 1 / Math.sqrt(K)), N, K);
  const wd = dequantize(w);
  // row parts that each fit one storage binding, as the model splits its weights (the q8 lm_head
  // exceeds a 128 MiB binding); each part writes its columns of y (nOff, ldy)
  const per = Math.floor(ctx.limits.maxStorageBufferBindingSize / (4 * wordsPerRow(format, K)));
  const parts: { q: QuantGpuMatrix; row0: number }[] = [];
  for (let r0 = 0; r0 < N; r0 += per)
    parts.push({ q: uploadQuant(ctx, sliceRows(w, r0, Math.min(N, r0 + per))), row0: r0 });
  const b = rnd(N);
  const y0 = rnd(M * N);
  const x = rnd(M * K * (swiglu ? 2 : 1), 2);
  const xin = inputRows(x, M, K, swiglu);
  const ref = references(xin, wd, c.bias ? b : null, y0, c);
  const bg = ctx.upload(b, [N]);
  const xg = ctx.upload(x, [M, K * (swiglu ? 2 : 1)]);
  const acts = ctx.empty([qgemvActsElements(M, K)]);
  try {
    for (const config of configs) {
      const yg = ctx.upload(y0, [M, N]);
      const batch = ctx.batch();
      for (const p of parts) {
        encodeQGemv(ctx, batch, xg, p.q, c.bias ? bg : null, yg, {
          M,
          N: p.q.rows,
          K,
          nOff: p.row0,
          ldy: N,
          softcap: c.cap,
          accumulate: c.acc,
          swiglu,
          acts,
          config,
        });
      }
      batch.submit();
      const got = await ctx.read(yg);
      yg.release();
      const label = `${format} M ${M} N ${N} K ${K} swiglu ${swiglu} ${JSON.stringify(config)}`;
      let e8 = 0;
      for (let i = 0; i < M * N; i++) {
        const d8 = Math.abs(got[i] - ref.int8[i]);
        e8 = Math.max(e8, d8 / (1e-4 + 2e-5 * Math.abs(ref.int8[i])));
        assert.ok(Number.isFinite(got[i]), `${label} [${i}] not finite`);
        assert.ok(
          d8 < 1e-4 + 2e-5 * Math.abs(ref.int8[i]),
          `${label} [${i}]: ${got[i]} vs int8 reference ${ref.int8[i]}`,
        );
        assert.ok(
          Math.abs(got[i] - ref.exact[i]) <= ref.bound[i] * 1.001 + 1e-4,
          `${label} [${i}]: ${got[i]} vs f32 activations ${ref.exact[i]} beyond the x-rounding bound ${ref.bound[i]}`,
        );
      }
      worst[label] = Number(e8.toFixed(3));
    }
  } finally {
    for (const t of [bg, xg, acts, ...parts.flatMap((p) => [p.q.data, p.q.scales])]) t.release();
  }
}

// the xLSTM-7B matrices (H 4096, q/k/v/o + gates 12 304 rows, up/gate 21 888, down K 10 944,
// lm_head 50 304) at the decode batch sizes 1 (all) and 8 (those up to 2^26 weights), and odd shapes
const SEVEN_B: [string, number, number, boolean][] = [
  ['qkv + gates', 12304, 4096, false],
  ['out_proj', 4096, 4096, false],
  ['up/gate', 21888, 4096, false],
  ['down (SwiGLU input)', 4096, 10944, true],
  ['lm_head (soft cap)', 50304, 4096, false],
];
for (const format of ['q4', 'q8'] as const) {
  for (const [name, N, K, swiglu] of SEVEN_B) {
    // M 8 where the matrix is small enough for the float64 reference to stay quick
    for (const M of N * K <= 2 ** 26 ? [1, 8] : [1]) {
      check(`${format} ${name} [${N}, ${K}], M ${M}: default config = the int8 reference`, async () => {
        const cap = name.startsWith('lm_head') ? 30 : 0;
        await runCase(format, { M, N, K, bias: false, cap, acc: name === 'out_proj' }, swiglu, [{}]);
      });
    }
  }
  check(`${format} odd shapes: every reduction, bias, cap, accumulation, SwiGLU`, async () => {
    const sub = ctx.features.subgroups;
    const configs: Partial<GemvConfig>[] = [
      {},
      { subgroups: false },
      { subgroups: false, rg: 32, nr: 1, mt: 1 },
      ...(sub
        ? [
            { subgroups: true, rg: 2, nr: 4, mt: 4 },
            { subgroups: true, rg: 8, nr: 1, mt: 2 },
          ]
        : []),
    ];
    for (const [M, N, K] of [
      [1, 7, 5],
      [3, 301, 100],
      [8, 70, 200],
      [13, 41, 33],
      [31, 129, 4100],
    ] as const) {
      for (const swiglu of [false, true]) {
        await runCase(format, { M, N, K, bias: true, cap: 3, acc: true }, swiglu, configs);
      }
    }
  });
}

check('the default configs at the 7B shapes stay within the workgroup (rg·mt·nr ≤ 256)', async () => {
  for (const [, N, K] of SEVEN_B) {
    for (const M of [1, 4, 8, 16, 31]) {
      const c = gemvConfig(ctx, 'q4', M, N, K);
      assert.ok(c.rg * c.mt * c.nr <= 256, JSON.stringify({ N, K, M, c }));
    }
  }
});
