/**
 * GPU test project of hf-model's decode kernels: the int8-activation GEMV over quantised weights
 * (gpu/gemv.ts, encodeQGemv) at the xLSTM-7B matrix shapes and on odd shapes, against its CPU
 * twin (test/qgemv-reference.ts), with every reduction the adapter offers; the decode step's
 * fusions at the 7B shapes — the RMSNorm folded into the GEMVs (dense f16 and int8), the
 * projection written as the cell's input blocks with the gates soft-capped, and the cell output
 * kernel writing out_proj's int8 activations — against float64 references / the unfused kernels;
 * the dense matmul of `denseDecode: 'matrix-units'` at decode rows; and the prefill of an f16 model
 * at the 7B widths with f16 activations (no conversion passes) against the conversion path, bit
 * for bit. Bundled into one .mjs
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
import { denseMatmulPath, getGpuContext } from '@mlstm/kernels-webgpu';
import {
  encodeGemv,
  encodeQGemv,
  type GemvConfig,
  gemvConfig,
  qgemvActsElements,
  qgemvInlineFits,
} from '../src/gpu/gemv.js';
import { encodeMatmul } from '../src/gpu/kernels.js';
import { type QuantGpuMatrix, uploadQuant } from '../src/gpu/qmatmul.js';
import { XlstmForCausalLM } from '../src/index.js';
import { dequantize, type QuantFormat, quantize, sliceRows, wordsPerRow } from '../src/quant/formats.js';
import { type Case, cellPostActsPair, inputRows, normInput, references } from '../test/qgemv-reference.js';

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
    `gpu-tests: ${passed} passed, ${failed} failed, 0 skipped (hf-model decode kernels; ${ctx.adapterInfo.vendor} ${ctx.adapterInfo.architecture} ${ctx.adapterInfo.description})`,
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
async function runCase(
  format: QuantFormat,
  c: Case,
  swiglu: boolean,
  configs: Partial<GemvConfig>[],
  norm = false,
  inline = false,
) {
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
  // the folded RMSNorm: x ⊙ w_norm quantised, 1/rms per row applied by the GEMV
  const nw = rnd(K, 2);
  const normed = norm ? normInput(x, nw, M, K, 1e-6) : null;
  const xin = normed ? normed.xin : inputRows(x, M, K, swiglu);
  const ref = references(xin, wd, c.bias ? b : null, y0, { ...c, rowScale: normed?.rowScale });
  const nwg = ctx.upload(nw, [K]);
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
          norm: norm ? { w: nwg, eps: 1e-6 } : null,
          inlineActs: inline,
        });
      }
      batch.submit();
      const got = await ctx.read(yg);
      yg.release();
      const label = `${format} M ${M} N ${N} K ${K} swiglu ${swiglu} norm ${norm} inline ${inline} ${JSON.stringify(config)}`;
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
    for (const t of [nwg, bg, xg, acts, ...parts.flatMap((p) => [p.q.data, p.q.scales])]) t.release();
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
  for (const M of [1, 8]) {
    check(
      `${format} qkv + gates [12304, 4096], M ${M}, RMSNorm folded into the quantiser = the int8 reference`,
      async () => {
        await runCase(format, { M, N: 12304, K: 4096, bias: false, cap: 0, acc: false }, false, [{}], true);
      },
    );
  }
  // B 1 decoding: each workgroup quantises x itself (inlineActs), with the norm / SwiGLU input
  for (const [name, N, K, swiglu] of SEVEN_B) {
    check(
      `${format} ${name} [${N}, ${K}], M 1, activations quantised in the workgroup = the int8 reference`,
      async () => {
        assert.ok(qgemvInlineFits(ctx, 1, K), `1 row of ${K} does not fit the workgroup memory`);
        const cap = name.startsWith('lm_head') ? 30 : 0;
        const c = { M: 1, N, K, bias: false, cap, acc: name === 'out_proj' };
        const norm = name.startsWith('qkv') || name.startsWith('up') || name.startsWith('lm_head');
        await runCase(format, c, swiglu, [{}], norm, true);
      },
    );
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
      await runCase(format, { M, N, K, bias: true, cap: 3, acc: true }, false, configs, true);
      if (qgemvInlineFits(ctx, M, K)) {
        for (const swiglu of [false, true])
          await runCase(format, { M, N, K, bias: true, cap: 3, acc: true }, swiglu, configs, !swiglu, true);
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

// the decode step's projection at the 7B shape: dense f16 GEMV with the RMSNorm folded in, the
// output written as the cell's input blocks (q, k, v, o, input gates, forget gates) and only the
// gates soft-capped, against a float64 loop
for (const M of [1, 8]) {
  check(
    `f16 qkv + gates [12304, 4096], M ${M}: folded RMSNorm, input blocks, capped gates = float64`,
    async () => {
      const [NH, Dqk, Dv, K] = [8, 2048, 4096, 4096];
      const widths = [Dqk, Dqk, Dv, Dv, NH, NH];
      const N = widths.reduce((a, v) => a + v, 0);
      const starts: number[] = [];
      let end = 0;
      for (const w of widths) {
        starts.push(end);
        end = Math.ceil((end + M * w) / 64) * 64;
      }
      const capFrom = 2 * Dqk + 2 * Dv;
      const cap = 15;
      const w = rnd(N * K, 1 / Math.sqrt(K));
      const wg = ctx.upload(w, [N, K], 'f16');
      const wq = await ctx.read(wg); // the f16 values as the GPU holds them
      const x = rnd(M * K, 3);
      const nw = rnd(K, 2);
      const xg = ctx.upload(x, [M, K]);
      const nwg = ctx.upload(nw, [K]);
      const yg = ctx.zeros([end]);
      const batch = ctx.batch();
      encodeGemv(ctx, batch, xg, wg, null, yg, {
        M,
        N,
        K,
        softcap: cap,
        softcapFrom: capFrom,
        outBlocks: { widths, starts },
        norm: { w: nwg, eps: 1e-6 },
      });
      batch.submit();
      const got = await ctx.read(yg);
      let worstRel = 0;
      for (let m = 0; m < M; m++) {
        let ss = 0;
        for (let k = 0; k < K; k++) ss += x[m * K + k] ** 2;
        const r = 1 / Math.sqrt(ss / K + 1e-6);
        let c0 = 0;
        widths.forEach((wd, j) => {
          for (let c = c0; c < c0 + wd; c++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc += x[m * K + k] * r * nw[k] * wq[c * K + k];
            if (c >= capFrom) acc = cap * Math.tanh(acc / cap);
            const v = got[starts[j] + m * wd + (c - c0)];
            // f32 sums of 4 096 products (|y| ≲ 3) in another order: 2e-5 + 1e-5·|y|
            const d = Math.abs(v - acc);
            worstRel = Math.max(worstRel, d / (2e-5 + 1e-5 * Math.abs(acc)));
            assert.ok(d < 2e-5 + 1e-5 * Math.abs(acc), `M ${M} column ${c}: ${v} vs ${acc}`);
          }
          c0 += wd;
        });
      }
      worst[`f16 proj blocks M ${M}`] = Number(worstRel.toFixed(3));
      for (const t of [wg, xg, nwg, yg]) t.release();
    },
  );
}

// the cell output at the 7B head shape writing out_proj's int8 activations itself = the cell
// output, then the activation quantiser (bit for bit, through the same q4 / q8 GEMV)
for (const format of ['q4', 'q8'] as const) {
  check(
    `${format} cell output with int8 activations [NH 8, dv 512], B 1 and 8 = cell output + quantiser`,
    async () => {
      for (const B of [1, 8]) {
        const { ys } = await cellPostActsPair(ctx, format, { B, NH: 8, dqk: 256, dv: 512, N: 4096 }, rnd);
        assert.ok(ys[0].some((v) => v !== 0));
        for (let i = 0; i < ys[0].length; i++) assert.equal(ys[1][i], ys[0][i], `B ${B} [${i}]`);
      }
    },
  );
}

// denseDecode 'matrix-units': the decode's dense matmul at the 7B widths for B 3, 8 and 31 — f32 x
// converted into the decoder's f16 scratch, the default (16- / 32-row) tiles on the matrix units,
// bias and residual accumulation — against a float64 product of the f16-rounded x and W (what
// remains is the f32 summation order over 4 096 products: ~1e-6 relative; 1e-4 of the largest
// output catches any tile, staging or epilogue error)
check(
  "denseDecode 'matrix-units': the decode's dense matmul (f32 x → f16 scratch, 16/32-row tiles) = float64",
  async () => {
    const K = 4096;
    const N = 12304;
    assert.equal(
      denseMatmulPath(ctx, { wDtype: 'f16', M: 8, N, K }),
      'matrix',
      'no matrix units on this adapter',
    );
    const w = ctx.upload(rnd(N * K, 1 / Math.sqrt(K)), [N, K], 'f16');
    const wh = await ctx.read(w);
    const b = rnd(N);
    const bg = ctx.upload(b, [N]);
    const x16 = ctx.empty([31 * K], 'f16');
    try {
      for (const M of [3, 8, 31]) {
        const x = rnd(M * K, 2);
        const y0 = rnd(M * N);
        const xg = ctx.upload(x, [M, K]);
        const xr = ctx.upload(x, [M, K], 'f16'); // the f16 values the matmul multiplies
        const xh = await ctx.read(xr);
        xr.release();
        const yg = ctx.upload(y0, [M, N]);
        const batch = ctx.batch();
        encodeMatmul(ctx, batch, xg, w, bg, yg, { M, N, K, accumulate: true, tiled: true, x16 });
        batch.submit();
        const got = await ctx.read(yg);
        let scale = 0;
        let err = 0;
        for (let m = 0; m < M; m++)
          for (let n = 0; n < N; n += 7) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc += xh[m * K + k] * wh[n * K + k];
            const want = y0[m * N + n] + acc + b[n];
            scale = Math.max(scale, Math.abs(want));
            err = Math.max(err, Math.abs(got[m * N + n] - want));
          }
        worst[`dense decode M ${M}`] = Number((err / scale).toExponential(2));
        assert.ok(err / scale < 1e-4, `M ${M}: max |Δ| / max |y| = ${(err / scale).toExponential(2)}`);
        for (const t of [xg, yg]) t.release();
      }
    } finally {
      for (const t of [w, bg, x16]) t.release();
    }
  },
);

// The prefill of an f16 model (7B widths, 2 blocks, random weights made on the GPU) with the cell's
// q, k, v written in f16 by the cell-input kernel and h read in f16 by the post-processing, and (on
// the matrix units) the RMSNorms, the post-processing and the gated matmul writing the matmuls' x
// in f16, against the
// same model on a context that counts f16 saturations (which keeps the conversion passes): the same
// values go into the same kernels, so the logits must agree bit for bit; and the dispatches show
// which conversions are gone.
check(
  'prefill, f16 model at the 7B widths: f16 activations without conversion passes = with them, bit for bit',
  async () => {
    const counting = await getGpuContext({ countF16Saturation: true });
    const cfg = { num_blocks: 2, num_hidden_layers: 2 };
    const opts = { device: 'webgpu', weightDtype: 'f16', seed: 3 } as const;
    const a = await XlstmForCausalLM.fromRandom(cfg, { ...opts, gpu: ctx });
    const b = await XlstmForCausalLM.fromRandom(cfg, { ...opts, gpu: counting });
    try {
      // 200 tokens: 3 chunks of 64 through the chunkwise cell, 8 recurrent steps
      const ids = [Array.from({ length: 200 }, (_, i) => (i * 131 + 7) % a.config.vocabSize)];
      const run = async (m: XlstmForCausalLM, c: typeof ctx) => {
        c.beginGpuTiming(2048, { perDispatch: true });
        const r = await m.forward(ids, { lastOnly: true });
        const labels = (await c.endGpuTimingLabelled()).map((e) => e.label);
        r.cache.release();
        return { logits: r.logits, labels };
      };
      const [fast, slow] = [await run(a, ctx), await run(b, counting)];
      assert.ok(fast.logits.every(Number.isFinite), 'non-finite logits');
      let diff = 0;
      for (let i = 0; i < fast.logits.length; i++) if (fast.logits[i] !== slow.logits[i]) diff++;
      worst['prefill f16 cell I/O: differing logits'] = diff;
      assert.equal(diff, 0, `${diff} of ${fast.logits.length} logits differ`);
      const count = (l: string[], what: string) => l.filter((x) => x === what).length;
      // per block, through the conversion passes: q, k, v to f16 and h back; on the matrix units
      // also the x of each of the 4 matmuls. Without them: none
      const matrix = denseMatmulPath(ctx, { wDtype: 'f16', M: 200, N: 4096, K: 4096 }) === 'matrix';
      const blocks = 2;
      assert.equal(a.gpuLayout()!.prefillActivations, matrix ? 'f16' : 'f32', 'gpuLayout of the fast model');
      assert.equal(b.gpuLayout()!.prefillActivations, 'f32', 'gpuLayout of the counting model');
      assert.equal(count(fast.labels, 'cast f16→f32'), 0, 'h conversions of the fast prefill');
      assert.equal(count(fast.labels, 'cast f32→f16'), 0, 'conversions of the fast prefill');
      assert.equal(count(slow.labels, 'cast f16→f32'), blocks, 'h conversions of the counting prefill');
      assert.equal(
        count(slow.labels, 'cast f32→f16'),
        (3 + (matrix ? 4 : 0)) * blocks,
        'conversions of the counting prefill',
      );
    } finally {
      a.dispose();
      b.dispose();
      counting.destroy();
    }
  },
);
