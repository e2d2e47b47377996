/**
 * `encodeMlstmChunkwiseXlChunk`: the chunkwise forward encoded into the caller's batch. The same
 * kernels as the async call, in the same order, on the same inputs, so the results must be
 * identical bit for bit (f32, and computeDtype f16 with f32 or f16 inputs); one submission for the
 * caller's whole batch; intermediates released after it; typed errors before any GPU work.
 */
import { mlstmChunkwise } from '@mlstm/core-reference';
import { Rng } from '@mlstm/core-reference/testing';
import { describe, expect, it } from 'vitest';
import {
  encodeMlstmChunkwiseXlChunk,
  type GpuDtype,
  type GpuTensor,
  KernelArgumentError,
  mlstmChunkwiseXlChunk,
} from '../src/index.js';
import { f16TestName, openGpuContext, readTensor, uploadTensor } from './helpers.js';
import { expectNear, randomProblem } from './tfla-helpers.js';

const ctx = await openGpuContext();
const d = { B: 2, NH: 3, S: 40, DHQK: 16, DHHV: 24 };
const p = randomProblem(new Rng(77), d, { states: true });

const upload = (dtype: GpuDtype) => ({
  q: uploadTensor(ctx, p.x.q, dtype),
  k: uploadTensor(ctx, p.x.k, dtype),
  v: uploadTensor(ctx, p.x.v, dtype),
  i: uploadTensor(ctx, p.x.i),
  f: uploadTensor(ctx, p.x.f),
  cInitial: uploadTensor(ctx, p.states!.cInitial),
  nInitial: uploadTensor(ctx, p.states!.nInitial),
  mInitial: uploadTensor(ctx, p.states!.mInitial),
});
const release = (o: object) => {
  for (const t of Object.values(o))
    if (t && typeof (t as GpuTensor).release === 'function') (t as GpuTensor).release();
};
/** counts queue submissions while `fn` runs */
async function countSubmits<T>(fn: () => Promise<T> | T): Promise<{ value: T; submits: number }> {
  const q = ctx.device.queue as unknown as { submit: (b: unknown) => void };
  const orig = q.submit;
  let submits = 0;
  q.submit = (b: unknown) => {
    submits++;
    orig.call(ctx.device.queue, b);
  };
  try {
    return { value: await fn(), submits };
  } finally {
    q.submit = orig;
  }
}

const cases: { io: GpuDtype; compute?: 'f16' }[] = [
  { io: 'f32' },
  { io: 'f32', compute: 'f16' },
  { io: 'f16' },
];
describe('the chunkwise forward encoded into a caller batch', () => {
  for (const c of cases) {
    const f16 = c.io === 'f16' || c.compute === 'f16';
    it.skipIf(f16 && !ctx.features.shaderF16)(
      f16TestName(
        ctx,
        `${c.io} inputs${c.compute ? `, computeDtype ${c.compute}` : ''}: = the async call, bit for bit; one submission; no leak`,
      ),
      async () => {
        const a = upload(c.io);
        const opts = { chunkSize: 8, returnLastStates: true, computeDtype: c.compute };
        const want = await mlstmChunkwiseXlChunk(ctx, { ...a, ...opts });
        const live = ctx.pool.stats.liveBytes;
        const { value: got, submits } = await countSubmits(() => {
          const batch = ctx.batch();
          const r = encodeMlstmChunkwiseXlChunk(ctx, batch, { ...a, ...opts });
          batch.submit();
          return r;
        });
        expect(submits).toBe(1);
        expect(got.h.dtype).toBe(c.io);
        expect(got.h.shape).toEqual([d.B, d.NH, d.S, d.DHHV]);
        expect(Array.from(await ctx.read(got.h))).toEqual(Array.from(await ctx.read(want.h)));
        for (const n of ['c', 'n', 'm'] as const)
          expect(Array.from(await ctx.read(got.lastStates![n]!)), n).toEqual(
            Array.from(await ctx.read(want.lastStates![n]!)),
          );
        // and right against the reference (the f32 case; the f16 ones are the async call's, tested elsewhere)
        if (!f16) {
          const ref = mlstmChunkwise({ ...p.x, ...p.states, chunkSize: 8, returnLastStates: true });
          expectNear(await readTensor(ctx, got.h), ref.h, 1e-4, 'h');
        }
        // what the caller owns: h and the three states; everything else went with the submit
        for (const t of [got.h, got.lastStates!.c, got.lastStates!.n, got.lastStates!.m!]) t.release();
        expect(ctx.pool.stats.liveBytes).toBe(live);
        release(want.lastStates!);
        want.h.release();
        release(a);
      },
    );
  }

  it('a later dispatch of the same batch reads h (the cell and its post-processing in one submission)', async () => {
    const a = upload('f32');
    const batch = ctx.batch();
    const r = encodeMlstmChunkwiseXlChunk(ctx, batch, { ...a, chunkSize: 8 });
    // a second encoded call on h as its v: only right if the first one's h is written before
    const b = { ...a, v: r.h, cInitial: undefined, nInitial: undefined, mInitial: undefined };
    const r2 = encodeMlstmChunkwiseXlChunk(ctx, batch, { ...b, chunkSize: 8 });
    batch.submit();
    const ref1 = mlstmChunkwise({
      ...p.x,
      chunkSize: 8,
      cInitial: p.states!.cInitial,
      nInitial: p.states!.nInitial,
      mInitial: p.states!.mInitial,
    });
    const ref2 = mlstmChunkwise({ ...p.x, v: ref1.h, chunkSize: 8 });
    expectNear(await readTensor(ctx, r2.h), ref2.h, 1e-4, 'h of the second call');
    r.h.release();
    r2.h.release();
    release(a);
  });

  it('bad input: typed errors naming the argument, nothing encoded or allocated', () => {
    const a = upload('f32');
    const live = ctx.pool.stats.liveBytes;
    const batch = ctx.batch();
    const expectArg = (fn: () => unknown, argument: string) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(KernelArgumentError);
        expect((e as KernelArgumentError).argument).toBe(argument);
        return;
      }
      throw new Error(`no error for ${argument}`);
    };
    // a CPU tensor
    expectArg(() => encodeMlstmChunkwiseXlChunk(ctx, batch, { ...a, q: p.x.q as unknown as GpuTensor }), 'q');
    // the backward's saved tensors
    expectArg(() => encodeMlstmChunkwiseXlChunk(ctx, batch, { ...a, keepSaved: true }), 'keepSaved');
    // the usual validation: a chunk size that does not divide S
    expectArg(() => encodeMlstmChunkwiseXlChunk(ctx, batch, { ...a, chunkSize: 7 }), 'chunkSize');
    // more than one binding's worth (chunk states 9 600 bytes per head, 6 heads): the async call splits it into head groups, the encoded one refuses
    const small = Object.create(ctx, {
      limits: { value: { ...ctx.limits, maxStorageBufferBindingSize: 20_000 } },
    }) as typeof ctx;
    expectArg(() => encodeMlstmChunkwiseXlChunk(small, batch, { ...a, chunkSize: 8 }), 'q');
    expect(batch.size).toBe(0);
    expect(ctx.pool.stats.liveBytes).toBe(live);
    release(a);
  });
});
