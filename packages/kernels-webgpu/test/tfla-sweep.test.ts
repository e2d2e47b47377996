/**
 * Randomized sweep of the TFLA kernel families against their core-reference twins (float64):
 * xl_chunk, limit_chunk and xl_chunk_siging against the chunkwise reference with the same chunk
 * size (same stabiliser convention, so the comparison is tight), the fused parallel kernel
 * against the stabilised parallel reference.
 *
 * Tolerances, relative to the largest magnitude of the expected tensor (see expectNear):
 * - f32 forward (h, last states): 2e-4. f32 arithmetic (2^-24 ≈ 6e-8) accumulated over up to
 *   L·D ≈ 10^4 products, plus exp() of gate sums (WGSL's exp is accurate to a few ulp). Typical
 *   errors are ~1e-6; the bound is set by the cases with input gates around +4, where
 *   h = num / max(|n·q̂|, e^{-m}) has a cancelling denominator (condition number ~10²; worst seen
 *   6e-5). An indexing or formula error is O(1).
 * - f32 backward: 5e-4. df is a reverse cumulative sum over the whole sequence of differences
 *   q·dq − k·dk of large, nearly cancelling terms (its scale is the summed magnitude
 *   Σ_t Σ_d |q·dq| + |k·dk|, since df can vanish exactly, e.g. for S = 1), and dC is accumulated
 *   over every chunk.
 * - f16 storage (q, k, v, dh, h, dq, dk, dv in f16, f32 accumulation): the reference runs on
 *   f16-rounded inputs, so only the f16 rounding of the outputs (2^-11 ≈ 4.9e-4 relative) and of
 *   dq/dk before the gate-gradient sums remains: 2e-3 forward, 1e-2 backward.
 */
import {
  mlstmChunkwise,
  mlstmChunkwiseBackward,
  mlstmParallel,
  mlstmParallelBackward,
  mlstmSigChunkwise,
  mlstmSigChunkwiseBackward,
  type Tensor,
} from '@mlstm/core-reference';
import { Rng } from '@mlstm/core-reference/testing';
import { describe, it } from 'vitest';
import {
  type BackwardFn,
  type ForwardFn,
  mlstmChunkwiseLimitChunk,
  mlstmChunkwiseLimitChunkBackward,
  mlstmChunkwiseXlChunk,
  mlstmChunkwiseXlChunkBackward,
  mlstmParallelLimitHeaddim,
  mlstmParallelLimitHeaddimBackward,
  mlstmSigChunkwiseXlChunk,
  mlstmSigChunkwiseXlChunkBackward,
} from '../src/index.js';
import { f16TestName, openGpuContext } from './helpers.js';
import { expectNear, type Problem, randomProblem, roundedToF16 } from './tfla-helpers.js';

const ctx = await openGpuContext();

const TOL = { f32: { fw: 2e-4, bw: 5e-4 }, f16: { fw: 2e-3, bw: 1e-2 } };

type Family = 'xl_chunk' | 'limit_chunk' | 'siging' | 'siging_nonorm' | 'parallel';

const gpu: Record<Family, { fw: ForwardFn; bw: BackwardFn }> = {
  xl_chunk: { fw: mlstmChunkwiseXlChunk, bw: mlstmChunkwiseXlChunkBackward },
  limit_chunk: { fw: mlstmChunkwiseLimitChunk, bw: mlstmChunkwiseLimitChunkBackward },
  siging: { fw: mlstmSigChunkwiseXlChunk, bw: mlstmSigChunkwiseXlChunkBackward },
  siging_nonorm: { fw: mlstmSigChunkwiseXlChunk, bw: mlstmSigChunkwiseXlChunkBackward },
  parallel: { fw: mlstmParallelLimitHeaddim, bw: mlstmParallelLimitHeaddimBackward },
};

interface Case {
  name: string;
  p: Problem;
  chunkSize: number;
}

function reference(fam: Family, c: Case, p: Problem) {
  const common = { ...p.x, ...(p.states ?? {}), eps: 1e-6 };
  switch (fam) {
    case 'xl_chunk':
    case 'limit_chunk': {
      const fw = mlstmChunkwise({ ...common, chunkSize: c.chunkSize, returnLastStates: true });
      const bw = mlstmChunkwiseBackward({ ...common, chunkSize: c.chunkSize, dh: p.dh, dcLast: p.dcLast });
      return {
        h: fw.h,
        last: fw.lastStates as unknown as Record<string, Tensor>,
        grads: bw as unknown as Record<string, Tensor>,
      };
    }
    case 'siging':
    case 'siging_nonorm': {
      const normalize = fam === 'siging';
      const fw = mlstmSigChunkwise({ ...common, chunkSize: c.chunkSize, returnLastStates: true, normalize });
      const bw = mlstmSigChunkwiseBackward({
        ...common,
        chunkSize: c.chunkSize,
        dh: p.dh,
        dcLast: p.dcLast,
        normalize,
      });
      return {
        h: fw.h,
        last: fw.lastStates as unknown as Record<string, Tensor>,
        grads: bw as unknown as Record<string, Tensor>,
      };
    }
    case 'parallel': {
      const fw = mlstmParallel({ ...p.x, eps: 1e-6 });
      const bw = mlstmParallelBackward({ ...p.x, eps: 1e-6, dh: p.dh });
      return { h: fw.h, last: undefined, grads: bw as unknown as Record<string, Tensor> };
    }
  }
}

/** Σ_t Σ_d (|q·dq| + |k·dk|) per head, maximised: the magnitude the df suffix sums are built from. */
function dfScale(p: Problem, g: Record<string, Tensor>): number {
  const [B, NH, S, D] = p.x.q.shape;
  let best = 0;
  for (let bh = 0; bh < B * NH; bh++) {
    let s = 0;
    for (let t = 0; t < S; t++) {
      for (let x = 0; x < D; x++) {
        const e = (bh * S + t) * D + x;
        s += Math.abs(p.x.q.data[e] * g.dq.data[e]) + Math.abs(p.x.k.data[e] * g.dk.data[e]);
      }
    }
    best = Math.max(best, s);
  }
  return best;
}

async function check(fam: Family, c: Case, dtype: 'f32' | 'f16') {
  const p = dtype === 'f16' ? roundedToF16(c.p) : c.p;
  const ref = reference(fam, c, p);
  const tol = TOL[dtype];
  const chunked = fam !== 'parallel';
  const args = {
    ...p.x,
    ...(p.states ?? {}),
    ...(chunked ? { chunkSize: c.chunkSize, returnLastStates: true } : {}),
    ...(fam.startsWith('siging') ? { normalize: fam === 'siging' } : {}),
    dtype,
  };
  const out = await gpu[fam].fw(ctx, args);
  expectNear(out.h, ref.h, tol.fw, `${c.name} h`);
  if (ref.last) {
    for (const [k, v] of Object.entries(ref.last)) {
      if (k === 'm' && fam.startsWith('siging')) continue;
      expectNear((out.lastStates as unknown as Record<string, Tensor>)[k], v, tol.fw, `${c.name} last ${k}`);
    }
  }
  const g = await gpu[fam].bw(ctx, { ...args, dh: p.dh, dcLast: p.dcLast });
  for (const k of ['dq', 'dk', 'dv', 'di', 'df', 'dcInitial'] as const) {
    const e = ref.grads[k];
    if (!e) continue;
    // df = suffix sums of (q·dq − k·dk): its rounding scales with the summed magnitudes
    const scale = k === 'df' ? dfScale(p, ref.grads) : 0;
    expectNear((g as unknown as Record<string, Tensor>)[k], e, tol.bw, `${c.name} ${k}`, scale);
  }
}

function sweep(fam: Family, seed: number, count: number): Case[] {
  const rng = new Rng(seed);
  const cases: Case[] = [];
  const qk = [1, 3, 5, 8, 16, 17, 32, 48];
  const hv = [1, 2, 7, 16, 24, 33, 64];
  const chunks =
    fam === 'limit_chunk'
      ? [4, 8, 16, 32, 64, 12]
      : fam === 'parallel'
        ? [0]
        : [4, 8, 16, 32, 64, 128, 12, 40];
  for (let x = 0; x < count; x++) {
    const chunkSize = rng.pick(chunks);
    const S = fam === 'parallel' ? rng.int(1, 100) : chunkSize * rng.int(1, chunkSize >= 64 ? 2 : 4);
    const d = { B: rng.int(1, 2), NH: rng.int(1, 3), S, DHQK: rng.pick(qk), DHHV: rng.pick(hv) };
    const states = fam !== 'parallel' && rng.uniform() < 0.5;
    const dcLast = fam !== 'parallel' && rng.uniform() < 0.3;
    const strong = rng.uniform() < 0.2;
    const p = randomProblem(rng, d, {
      states,
      dcLast,
      iOffset: strong ? 4 : 0,
      fOffset: rng.pick([0, 3, 6]),
    });
    const name = `B${d.B} NH${d.NH} S${S} QK${d.DHQK} V${d.DHHV}${chunkSize ? ` L${chunkSize}` : ''}${states ? ' +states' : ''}${dcLast ? ' +dcLast' : ''}${strong ? ' +igate4' : ''}`;
    cases.push({ name, p, chunkSize: chunkSize || S });
  }
  return cases;
}

const families: [Family, number][] = [
  ['xl_chunk', 11],
  ['limit_chunk', 12],
  ['siging', 13],
  ['siging_nonorm', 14],
  ['parallel', 15],
];

for (const [fam, seed] of families) {
  describe(`${fam} vs core-reference (f32, random shapes)`, () => {
    const count = fam === 'siging_nonorm' ? 25 : 55;
    for (const c of sweep(fam, seed, count)) {
      it(c.name, () => check(fam, c, 'f32'));
    }
  });
  describe(f16TestName(ctx, `${fam} vs core-reference (f16 storage, f32 accumulation)`), () => {
    for (const c of sweep(fam, seed + 100, 8)) {
      it.skipIf(!ctx.features.shaderF16)(c.name, () => check(fam, c, 'f16'));
    }
  });
}
