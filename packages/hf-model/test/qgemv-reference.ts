/**
 * The CPU twin of the int8-activation GEMV (gpu/gemv.ts, encodeQGemv), shared by the vitest tests
 * and the GPU test project (test-gpu/qgemv.gpu.ts): the reference activation quantiser and the
 * reference dequantiser, summed in float64. Also the fused-against-unfused case of the cell output
 * kernel writing int8 activations, which both run.
 */
import type { GpuContext } from '@mlstm/kernels-webgpu';
import { encodeQGemv, qgemvActsElements } from '../src/gpu/gemv.js';
import { encodeCellPost } from '../src/gpu/kernels.js';
import { uploadQuant } from '../src/gpu/qmatmul.js';
import {
  GROUP_SIZE,
  groupsPerRow,
  type QuantFormat,
  quantize,
  quantizeActivations,
} from '../src/quant/formats.js';

const silu = (z: number) => z / (1 + Math.exp(-z));

/** The GEMV's input rows: x, or silu(u[:, :K])·u[:, K:] (in f32 like the GPU). */
export function inputRows(x: Float32Array, M: number, K: number, swiglu: boolean): Float32Array {
  if (!swiglu) return x;
  const out = new Float32Array(M * K);
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) out[m * K + k] = Math.fround(silu(x[m * 2 * K + k]) * x[m * 2 * K + K + k]);
  return out;
}

export interface Case {
  M: number;
  N: number;
  K: number;
  bias: boolean;
  cap: number;
  acc: boolean;
  /** per x row, a factor on the product before bias / cap / y0 (the folded RMSNorm's 1/rms) */
  rowScale?: ArrayLike<number>;
}

/**
 * The folded RMSNorm's input and factor: `x ⊙ w` rounded to f32 (what the activation quantiser
 * quantises) and per row `1 / sqrt(mean(x²) + eps)` in float64.
 */
export function normInput(x: Float32Array, nw: Float32Array, M: number, K: number, eps: number) {
  const xin = new Float32Array(M * K);
  const rowScale = new Float64Array(M);
  for (let m = 0; m < M; m++) {
    let ss = 0;
    for (let k = 0; k < K; k++) {
      ss += x[m * K + k] ** 2;
      xin[m * K + k] = Math.fround(x[m * K + k] * nw[k]);
    }
    rowScale[m] = 1 / Math.sqrt(ss / K + eps);
  }
  return { xin, rowScale };
}

/**
 * float64 of what the kernel computes: per group, (Σ q_w·q_x)·s_w·s_x from the reference
 * quantisers, plus bias, cap, y0. Also the f32-activation product and the bound on their distance:
 * |Δ| ≤ Σ_groups (s_x / 2)·Σ|w| (each x moves by at most half its step).
 */
export function references(
  xin: Float32Array,
  wd: Float32Array,
  b: Float32Array | null,
  y0: Float32Array,
  c: Case,
) {
  const { M, N, K } = c;
  const G = groupsPerRow(K);
  const a = quantizeActivations(xin, M, K);
  const int8 = new Float64Array(M * N);
  const exact = new Float64Array(M * N);
  const bound = new Float64Array(M * N);
  const post = (v: number, m: number, n: number) => {
    let t = v * (c.rowScale ? c.rowScale[m] : 1) + (b ? b[n] : 0);
    if (c.cap > 0) t = c.cap * Math.tanh(t / c.cap);
    return t + (c.acc ? y0[m * N + n] : 0);
  };
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s8 = 0;
      let se = 0;
      let bd = 0;
      for (let g = 0; g < G; g++) {
        const sx = a.scales[m * G + g];
        let d = 0;
        let wabs = 0;
        for (let j = 0; j < GROUP_SIZE && g * GROUP_SIZE + j < K; j++) {
          const k = g * GROUP_SIZE + j;
          d += wd[n * K + k] * a.q[(m * G + g) * GROUP_SIZE + j];
          se += wd[n * K + k] * xin[m * K + k];
          wabs += Math.abs(wd[n * K + k]);
        }
        s8 += d * sx;
        bd += (sx / 2) * wabs;
      }
      int8[m * N + n] = post(s8, m, n);
      exact[m * N + n] = post(se, m, n);
      bound[m * N + n] = bd * (c.rowScale ? c.rowScale[m] : 1);
    }
  }
  return { int8, exact, bound };
}

/**
 * The cell output (multi-head norm × output gate) of one decode step into a quantised GEMV of N
 * rows, twice: the cell output kernel, the activation quantiser and the GEMV; then the cell output
 * kernel writing the int8 activations itself and the GEMV reading them. Returns both outputs and
 * the dispatches of each (the same WGSL quantises the same f32 values: equal bit for bit).
 */
export async function cellPostActsPair(
  ctx: GpuContext,
  format: QuantFormat,
  d: { B: number; NH: number; dqk: number; dv: number; N: number },
  rnd: (n: number, scale?: number) => Float32Array,
): Promise<{ ys: Float32Array[]; dispatches: number[] }> {
  const { B, NH, dqk, dv, N } = d;
  const Dv = NH * dv;
  const PS = 2 * NH * dqk + 2 * Dv + 2 * NH;
  const w = uploadQuant(ctx, quantize(format, rnd(N * Dv, 1 / Math.sqrt(Dv)), N, Dv));
  const h = ctx.upload(rnd(B * NH * dv, 2), [B * NH, 1, dv]);
  const proj = ctx.upload(rnd(B * PS, 3), [B, PS]);
  const nw = ctx.upload(rnd(Dv), [Dv]);
  const gated = ctx.empty([B, Dv]);
  const acts = ctx.empty([qgemvActsElements(B, Dv)]);
  const dims = { B, S: 1, Sp: 1, t0: 0, NH, dqk, dv, eps: 1e-5, stride: PS };
  const ys: Float32Array[] = [];
  const dispatches: number[] = [];
  try {
    for (const fused of [false, true]) {
      const y = ctx.zeros([B, N]);
      const batch = ctx.batch();
      encodeCellPost(ctx, batch, h, proj, nw, null, gated, {
        ...dims,
        acts: fused ? { t: acts, format } : null,
      });
      encodeQGemv(ctx, batch, gated, w, null, y, { M: B, N, K: Dv, acts, actsReady: fused });
      dispatches.push(batch.size);
      batch.submit();
      ys.push(await ctx.read(y));
      y.release();
    }
  } finally {
    for (const t of [h, proj, nw, gated, acts, w.data, w.scales]) t.release();
  }
  return { ys, dispatches };
}
