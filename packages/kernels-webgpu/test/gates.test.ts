/**
 * Gate kernels run on their own against float64 twins or the kernels they replace: the max-plus scan
 * of the chunk-boundary stabilisers and the forget-gate gradient's sums (every chunkwise path), and
 * the per-token gate-gradient terms
 * from the row dots of the matrix-unit dQ/dK kernels (the matrix units themselves need the H100).
 */
import { Rng } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import {
  GATE_TOKENS_PER_WG,
  gateGradsChunkSumsWgsl,
  gateGradsFinishWgsl,
  gateGradsLocalWgsl,
  gateParams,
  maxStatesWgsl,
} from '../src/chunkwise/kernels/gates.js';
import type { Variant } from '../src/chunkwise/kernels/intra.js';
import { cdiv } from '../src/wgsl/common.js';
import { openGpuContext } from './helpers.js';

const ctx = await openGpuContext();

describe('chunk-boundary stabilisers by a max-plus scan', () => {
  for (const NC of [1, 5, 64, 65, 150, 1000]) {
    for (const hasInit of [false, true]) {
      it(`NC ${NC}${hasInit ? ', with m_0' : ''}: the serial recurrence m_{k+1} = g_k + max(m_k, pmax_k)`, async () => {
        const rng = new Rng(NC + (hasInit ? 1 : 0));
        const NB = 3;
        // chunkv = g (NB·NC, log forget gates ≤ 0) | pmax_L (NB·NC) | m (NB·(NC+1), written)
        const chunkv = new Float32Array(2 * NB * NC + NB * (NC + 1));
        for (let x = 0; x < NB * NC; x++) {
          chunkv[x] = -Math.abs(rng.normal()) * 3;
          chunkv[NB * NC + x] = rng.normal() * 4;
        }
        const mInit = Float32Array.from({ length: NB }, () => rng.normal() * 5);
        const want = new Float64Array(NB * (NC + 1));
        for (let b = 0; b < NB; b++) {
          let m = hasInit ? mInit[b] : 0;
          want[b * (NC + 1)] = m;
          for (let k = 0; k < NC; k++) {
            m = chunkv[b * NC + k] + Math.max(m, chunkv[NB * NC + b * NC + k]);
            want[b * (NC + 1) + k + 1] = m;
          }
        }
        const tC = ctx.upload(chunkv, [chunkv.length]);
        const tM = ctx.upload(mInit, [NB]);
        ctx
          .batch()
          .dispatch(
            ctx.pipeline('test:maxStates', maxStatesWgsl, ['uniform', 'read', 'rw']),
            [tM, tC],
            gateParams.pack({
              S: NC,
              L: 1,
              NC,
              D: 0,
              count: NB,
              T: NB * NC,
              NB,
              hasInit: hasInit ? 1 : 0,
              useCorr: 0,
            }),
            [NB, 1],
          )
          .submit();
        const got = (await ctx.read(tC)).subarray(2 * NB * NC);
        for (const t of [tC, tM]) t.release();
        let worst = 0;
        let scale = 0;
        for (let x = 0; x < want.length; x++) {
          worst = Math.max(worst, Math.abs(got[x] - want[x]));
          scale = Math.max(scale, Math.abs(want[x]));
        }
        // f32 sums in another association than the serial walk: a few ulps of |m| (≤ ~3·NC)
        expect(worst).toBeLessThanOrEqual(scale * 2e-6 + 1e-6);
      });
    }
  }
});

describe('gate-gradient token terms from the row dots of the matrix-unit dQ and dK kernels', () => {
  // The matrix-unit dQ/dK epilogues leave q·dq (in dfTmp) and k·dk (in di) per token; the chunk-sums
  // kernel with \`fromDots\` must then give exactly what the token kernel followed by the plain
  // chunk-sums kernel computes from the four tensors.
  for (const variant of ['exp', 'sig'] as Variant[]) {
    it(`${variant}: the same di, in-chunk sums and chunk totals as the token kernel`, async () => {
      const rng = new Rng(variant === 'exp' ? 3 : 4);
      const [NC, L] = [3, 100];
      const T = NC * L;
      const D = 32;
      const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
      const [q, k, dq, dk] = [rand(T * D), rand(T * D), rand(T * D), rand(T * D)];
      const gi = rand(T);
      const up = (x: Float32Array) => ctx.upload(x, [x.length]);
      const tokenParams = gateParams.pack({ S: T, L, NC, D, count: T, T, NB: 1, hasInit: 0, useCorr: 0 });
      const chunkParams = gateParams.pack({ S: T, L, NC, D, count: NC, T, NB: 1, hasInit: 0, useCorr: 0 });
      // the token kernel on the four tensors, then the plain chunk sums
      const tens = [q, k, dq, dk].map(up);
      const tI = up(gi);
      const [diRef, dfRef, totRef] = [ctx.zeros([T]), ctx.zeros([T]), ctx.zeros([NC])];
      ctx
        .batch()
        .dispatch(
          ctx.pipeline(`test:gradsLocal:${variant}`, () => gateGradsLocalWgsl(variant, 'f32', 4), [
            'uniform',
            'read',
            'read',
            'read',
            'read',
            'read',
            'rw',
            'rw',
          ]),
          [...tens, tI, diRef, dfRef],
          tokenParams,
          [cdiv(T, GATE_TOKENS_PER_WG), 1],
        )
        .dispatch(
          ctx.pipeline('test:gradsChunkSums', () => gateGradsChunkSumsWgsl(), ['uniform', 'rw', 'rw']),
          [dfRef, totRef],
          chunkParams,
          [NC, 1],
        )
        .submit();
      // the row dots (float64 here), then the chunk sums that make the token terms themselves
      const rowDot = (a: Float32Array, b: Float32Array) =>
        Float32Array.from({ length: T }, (_, t) => {
          let s = 0;
          for (let e = 0; e < D; e++) s += a[t * D + e] * b[t * D + e];
          return s;
        });
      const di = up(rowDot(k, dk));
      const dfTmp = up(rowDot(q, dq));
      const totals = ctx.zeros([NC]);
      ctx
        .batch()
        .dispatch(
          ctx.pipeline(`test:gradsChunkSums:dots:${variant}`, () => gateGradsChunkSumsWgsl(variant), [
            'uniform',
            'rw',
            'rw',
            'read',
            'rw',
          ]),
          [dfTmp, totals, tI, di],
          chunkParams,
          [NC, 1],
        )
        .submit();
      const [wantDi, wantDf, wantTot, gotDi, gotDf, gotTot] = await Promise.all(
        [diRef, dfRef, totRef, di, dfTmp, totals].map((t) => ctx.read(t)),
      );
      for (const t of [...tens, tI, diRef, dfRef, totRef, di, dfTmp, totals]) t.release();
      // dots of 32 products of N(0,1) values (|·| ≲ 20) in other f32 summation orders differ by
      // ≲ 1e-5; the in-chunk sums add up to 100 of them (|·| ≲ 300)
      for (let t = 0; t < T; t++) {
        expect(Math.abs(gotDi[t] - wantDi[t])).toBeLessThan(1e-4);
        expect(Math.abs(gotDf[t] - wantDf[t])).toBeLessThan(2e-3);
      }
      for (let c = 0; c < NC; c++) expect(Math.abs(gotTot[c] - wantTot[c])).toBeLessThan(2e-3);
      // and the test can tell a wrong kernel: the sig gate factor is not 1
      if (variant === 'sig') expect(gotDi.some((x, t) => Math.abs(x - rowDot(k, dk)[t]) > 1e-2)).toBe(true);
    });
  }
});

describe('forget-gate gradient: in-chunk suffix sums and the later chunks’ totals', () => {
  for (const [NC, L, useCorr] of [
    [3, 16, false],
    [150, 200, true],
    [70, 1, false],
  ] as const) {
    it(`${NC} chunks of ${L} tokens${useCorr ? ', with the dC_last correction' : ''}: the serial float64 sums`, async () => {
      const rng = new Rng(NC * 1000 + L);
      const NB = 2;
      const S = NC * L;
      const term = Float32Array.from({ length: NB * S }, () => rng.normal());
      const gf = Float32Array.from({ length: NB * S }, () => rng.normal() * 2);
      const corr = Float32Array.from({ length: NB }, () => rng.normal());
      // df_t = (Σ_{u ≥ t} term_u + corr) · σ(−f̃_t), the sums over the whole sequence of the head
      const want = new Float64Array(NB * S);
      for (let b = 0; b < NB; b++) {
        let acc = useCorr ? corr[b] : 0;
        for (let t = S - 1; t >= 0; t--) {
          acc += term[b * S + t];
          want[b * S + t] = acc / (1 + Math.exp(gf[b * S + t]));
        }
      }
      const gp = { S, L, NC, D: 0, count: NB * NC, T: NB * S, NB, hasInit: 0, useCorr: useCorr ? 1 : 0 };
      const tTerm = ctx.upload(term, [NB * S]);
      const tTotals = ctx.zeros([NB * NC]);
      const tF = ctx.upload(gf, [NB * S]);
      const tCorr = ctx.upload(corr, [NB]);
      const tDf = ctx.zeros([NB * S]);
      ctx
        .batch()
        .dispatch(
          ctx.pipeline('test:gradsChunkSums', () => gateGradsChunkSumsWgsl(), ['uniform', 'rw', 'rw']),
          [tTerm, tTotals],
          gateParams.pack(gp),
          [NB * NC, 1],
        )
        .dispatch(
          ctx.pipeline('test:gradsFinish', gateGradsFinishWgsl, [
            'uniform',
            'read',
            'read',
            'read',
            'read',
            'rw',
          ]),
          [tF, tTotals, tTerm, tCorr, tDf],
          gateParams.pack(gp),
          [NB * NC, 1],
        )
        .submit();
      const got = await ctx.read(tDf);
      for (const t of [tTerm, tTotals, tF, tCorr, tDf]) t.release();
      let worst = 0;
      for (let x = 0; x < want.length; x++) worst = Math.max(worst, Math.abs(got[x] - want[x]));
      // f32 sums of up to 30 000 N(0,1) terms (|Σ| ≲ 500) in another order: ≲ 1e-4 absolute
      expect(worst).toBeLessThan(2e-4);
    });
  }
});
