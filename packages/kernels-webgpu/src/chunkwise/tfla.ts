/**
 * Encodes the TFLA forward and backward passes (spec §5) into a {@link DispatchBatch}. All
 * chunkwise families and the fused parallel kernel are configurations of these two functions:
 *
 * - `xl_chunk` (mLSTMexp) and `xl_chunk_siging` (mLSTMsig): chunk size free (default 128),
 *   sequence and head dimensions tiled inside each chunk;
 * - `limit_chunk`: chunk ≤ 64 with one tile covering the whole chunk;
 * - `parallel` (`limit_headdim`): a single chunk spanning the sequence and no state term.
 *
 * Forward: gate vectors → boundary stabilisers m_k → state recurrence (C_k, n_k) →
 * intra/inter outputs (h, n_out, m_comb). Backward: gate vectors and m_k again (cheap), the dC
 * recurrence, the dQ, dK, dV kernels and the gate gradients.
 */
import type { DispatchBatch, GpuContext } from '../device/context.js';
import type { GpuDtype, GpuTensor } from '../device/tensor.js';
import { chooseIntraTiles, chooseScanTile, isSoftwareAdapter } from '../heuristics.js';
import { encodeCopyBlocks } from '../util/copy.js';
import type { SequenceDims } from '../validate.js';
import { cdiv, splitWorkgroups } from '../wgsl/common.js';
import {
  GATE_TOKENS_PER_WG,
  GATE_WG,
  gateGradsChunkSumsWgsl,
  gateGradsFinishWgsl,
  gateGradsLocalWgsl,
  gateGradsVector,
  gateParams,
  gateVectorsSerialWgsl,
  gateVectorsWgsl,
  maxStatesWgsl,
  stateDotWgsl,
} from './kernels/gates.js';
import {
  type IntraRole,
  type IntraTiles,
  intraKey,
  intraParams,
  NO_ZERO_SLOT,
  intraWgsl,
  type Variant,
} from './kernels/intra.js';
import {
  CHUNKS_PER_PRODUCT_WORKGROUP,
  chunkProductKey,
  chunkProductsFit,
  chunkProductWgsl,
  chunkProductWorkgroupBytes as chunkProductWorkgroupBytesNeeded,
  carryingScan,
} from './kernels/chunk_products.js';
import {
  SGMAT_ROWS,
  sgmatIntraFits,
  sgmatKey,
  sgmatTileX,
  sgmatUnsupportedReason,
  sgmatWalksRowTiles,
  sgmatWgsl,
  sgmatWorkgroupBytes,
} from './kernels/intra_sgmat.js';
import {
  boundsKey,
  boundsLaunch,
  boundsWgsl,
  CARRY_WG,
  carryKey,
  carryLaunch,
  carryWgsl,
  states16Size,
} from './kernels/state_carry.js';
import { scanKey, scanParams, scanWgsl } from './kernels/state_scan.js';
import { DEFAULT_KERNEL_TUNING, type ResolvedTuning } from '../tuning.js';

export interface TflaOptions {
  variant: Variant;
  /** mLSTMsig: divide by max(|n·q|, 1) (mLSTMexp always normalises) */
  normalize: boolean;
  /** chunk length; with `inter: false` it must equal S */
  chunkSize: number;
  eps: number;
  dtype: GpuDtype;
  /** false: a single chunk without state term (the fused parallel kernel) */
  inter: boolean;
  /** limit_chunk: one row/token tile per chunk */
  wholeChunkTiles?: boolean;
  /** tile override (tests and benchmarks); default from the heuristics module */
  tiles?: {
    intra?: IntraTiles;
    scan?: number;
    /** matrix-unit kernels: output columns per workgroup (a multiple of 64 dividing the head dim) */
    matrixX?: number;
  };
  /**
   * f16 only: run the intra-chunk kernels and the state scans on the adapter's matrix units
   * (subgroup matrices, f16 operands, f32 accumulation) where the adapter has them (f16→f32
   * 16×16×16, 32-lane subgroups) and the shape fits (chunk a multiple of 64, head dims multiples
   * of 64). Default: on. `false` forces the register-tiled kernels.
   */
  subgroupMatrix?: boolean;
  /** kernel variants (resolved: defaults, the context's, the call's); default {@link DEFAULT_KERNEL_TUNING} */
  tuning?: ResolvedTuning;
}

/**
 * Gate quantities, packed so that no kernel needs more than 8 storage buffers (WebGPU's default
 * `maxStorageBuffersPerShaderStage`; SwiftShader allows 10):
 * `gates` = b | u | pmax, each (B·NH·S); `chunkv` = g (B·NH·NC) | pmax_L (B·NH·NC) | m (B·NH·(NC+1)),
 * the boundary stabilisers (unused for mLSTMsig).
 */
export interface TflaGates {
  gates: GpuTensor;
  chunkv: GpuTensor;
}

/** What the forward leaves for the backward, for one group of heads. */
export interface TflaGroupSaved {
  gates: TflaGates;
  /**
   * register-tiled path: the boundary states, all C_k (B·NH·(NC+1)·DHQK·DHHV) then all n_k
   * (B·NH·(NC+1)·DHQK); null for the parallel kernel and on the matrix-unit path.
   */
  states: GpuTensor | null;
  /** n_out (without eps) then m_comb, (B·NH·S) each */
  nm: GpuTensor;
  /** matrix-unit path: the boundary states as the f16 stack the intra kernels read (state_carry.ts) */
  states16?: GpuTensor | null;
  /** matrix-unit path: the last state in f32, C_NC (B·NH·DHQK·DHHV) then n_NC (B·NH·DHQK) */
  last?: GpuTensor | null;
  /** the forward had no initial state: C_0 = 0, and the intra kernels skip chunk 0's inter term */
  zeroInitial?: boolean;
}

/**
 * What a forward call leaves for its backward (`keepSaved: true`), per group of heads (large
 * problems run in head groups that fit `maxStorageBufferBindingSize`). Release with {@link releaseSaved}.
 */
export interface TflaSaved {
  groups: { start: number; count: number; data: TflaGroupSaved }[];
  /** the storage type the forward ran in */
  dtype: GpuDtype;
}

/** The tensors a forward kept (for the backward, or until the last states are copied out). */
export function groupSavedTensors(s: TflaGroupSaved): (GpuTensor | null | undefined)[] {
  return [s.gates.gates, s.gates.chunkv, s.states, s.nm, s.states16, s.last];
}

export function releaseGroupSaved(s: TflaGroupSaved): void {
  for (const t of groupSavedTensors(s)) t?.release();
}

/** Releases the tensors a forward kept for the backward. */
export function releaseSaved(s: TflaSaved): void {
  for (const g of s.groups) releaseGroupSaved(g.data);
}

const READ = 'read' as const;
const RW = 'rw' as const;

function kappa(d: SequenceDims) {
  return 1 / Math.sqrt(d.DHQK);
}

/** Gate vectors and (mLSTMexp) boundary stabilisers. */
export function encodeGates(
  ctx: GpuContext,
  batch: DispatchBatch,
  d: SequenceDims,
  i: GpuTensor,
  f: GpuTensor,
  mInitial: GpuTensor | undefined,
  o: TflaOptions,
): TflaGates {
  const BNH = d.B * d.NH;
  const L = o.chunkSize;
  const NC = d.S / L;
  const T = BNH * d.S;
  const gates = ctx.empty([3 * T]);
  const chunkv = ctx.empty([2 * BNH * NC + BNH * (NC + 1)]);
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  const count = BNH * NC;
  const packed = { T, NB: BNH };
  // chunkwise calls: a workgroup per chunk (scans); the parallel kernel: an invocation per head, in order
  const scanned = o.inter;
  batch.dispatch(
    ctx.pipeline(
      `gates:vectors:${o.variant}:${scanned ? 'scan' : 'serial'}`,
      () => (scanned ? gateVectorsWgsl(o.variant) : gateVectorsSerialWgsl(o.variant)),
      ['uniform', READ, READ, RW, RW],
    ),
    [i, f, gates, chunkv],
    gateParams.pack({ S: d.S, L, NC, D: 0, count, hasInit: 0, useCorr: 0, ...packed }),
    splitWorkgroups(scanned ? count : cdiv(count, GATE_WG), maxWg),
    'gate vectors',
  );
  if (o.variant === 'exp') {
    batch.dispatch(
      ctx.pipeline('gates:maxStates', maxStatesWgsl, ['uniform', READ, RW]),
      [mInitial ?? batch.scratch([1]), chunkv],
      gateParams.pack({ S: d.S, L, NC, D: 0, count: BNH, hasInit: mInitial ? 1 : 0, useCorr: 0, ...packed }),
      splitWorkgroups(BNH, maxWg),
      'max states',
    );
  }
  return { gates, chunkv };
}

interface RoleDims {
  DY: number;
  DX: number;
  DI: number;
}

function roleDims(role: IntraRole, d: SequenceDims): RoleDims {
  switch (role) {
    case 'fw':
      return { DY: d.DHQK, DX: d.DHHV, DI: d.DHQK };
    case 'dq':
      return { DY: d.DHHV, DX: d.DHQK, DI: d.DHHV };
    case 'dk':
      return { DY: d.DHHV, DX: d.DHQK, DI: d.DHHV };
    case 'dv':
      return { DY: d.DHQK, DX: d.DHHV, DI: d.DHQK };
  }
}

function encodeIntra(
  ctx: GpuContext,
  batch: DispatchBatch,
  role: IntraRole,
  d: SequenceDims,
  inputs: GpuTensor[],
  outputs: GpuTensor[],
  o: TflaOptions,
  useSgmat: boolean,
  zeroState: boolean,
  /** dQ, dK on the matrix units: also each row's dot with this tensor's row, into `out` */
  rowDots?: { with: GpuTensor; out: GpuTensor },
): void {
  const L = o.chunkSize;
  const NC = d.S / L;
  const rd = roleDims(role, d);
  const layout = [
    'uniform',
    ...inputs.map(() => READ),
    ...outputs.map(() => RW),
    ...(rowDots ? [READ, RW] : []),
  ] as const;
  const { tiles, walkRows } = intraPlan(ctx, role, d, o, useSgmat);
  const bX = tiles.bX;
  const cfg = { role, variant: o.variant, normalize: o.normalize, inter: o.inter, dtype: o.dtype, tiles };
  const nRowTiles = cdiv(L, tiles.bR);
  const mcfg = { ...cfg, bX, walkRows, rowDots: !!rowDots };
  const pipeline = useSgmat
    ? ctx.pipeline(sgmatKey(mcfg), () => sgmatWgsl(mcfg), layout)
    : ctx.pipeline(intraKey(cfg), () => intraWgsl(cfg), layout);
  const nXTiles = cdiv(rd.DX, tiles.bX);
  const count = d.B * d.NH * NC * (walkRows ? 1 : nRowTiles) * nXTiles;
  const k = kappa(d);
  batch.dispatch(
    pipeline,
    [...inputs, ...outputs, ...(rowDots ? [rowDots.with, rowDots.out] : [])],
    intraParams.pack({
      S: d.S,
      L,
      NC,
      ...rd,
      nRowTiles,
      nXTiles,
      count,
      zeroSlot: zeroState ? (role === 'dk' || role === 'dv' ? NC : 0) : NO_ZERO_SLOT,
      T: d.B * d.NH * d.S,
      NB: d.B * d.NH,
      gateScale: role === 'dq' ? 1 : k,
      outScale: role === 'dq' ? k : 1,
      eps: o.eps,
    }),
    splitWorkgroups(count, ctx.limits.maxComputeWorkgroupsPerDimension),
    `intra ${role}`,
  );
}

/**
 * The tiles of one intra kernel of a call: the matrix-unit kernels' 64-row tiles and column tile
 * (`tiles.matrixX` where it divides the output columns, else {@link sgmatTileX}) and whether
 * their workgroups walk the row tiles of their chunk; or the register tiles (`tiles.intra`, else
 * the heuristics').
 */
export function intraPlan(
  ctx: GpuContext,
  role: IntraRole,
  d: SequenceDims,
  o: TflaOptions,
  useSgmat: boolean,
): { tiles: IntraTiles; walkRows: boolean } {
  const rd = roleDims(role, d);
  if (useSgmat) {
    const bX = matrixTileX(rd.DX, o);
    const nRowTiles = cdiv(o.chunkSize, SGMAT_ROWS);
    return {
      tiles: { bR: SGMAT_ROWS, bT: SGMAT_ROWS, bX, bY: 16 },
      walkRows: sgmatWalksRowTiles(role, o.inter, nRowTiles),
    };
  }
  const tiles =
    o.tiles?.intra ??
    chooseIntraTiles(
      o.chunkSize,
      rd.DX,
      ctx.limits,
      o.wholeChunkTiles,
      isSoftwareAdapter(ctx.adapterInfo),
      role,
    );
  return { tiles, walkRows: false };
}

interface ScanBuffers {
  /** k (fw) or q (bw) */
  a: GpuTensor;
  /** v (fw) or dh (bw) */
  b: GpuTensor;
  gates: TflaGates;
  /** bw: n_out | m_comb of the forward */
  nm?: GpuTensor;
  /** fw: C_0 and n_0; bw: dC_last */
  init?: GpuTensor;
  nInit?: GpuTensor;
  /** register-tiled path: the f32 state stack written, (B·NH·(NC+1)) states (fw: then the n section) */
  out?: GpuTensor;
  /** matrix-unit path: the f16 state stack ({@link states16Size}) and the f32 final state */
  out16?: GpuTensor;
  last?: GpuTensor;
}

export function matrixTileX(DX: number, o: TflaOptions): number {
  const x = o.tiles?.matrixX;
  return x && x % 64 === 0 && DX % x === 0 ? x : sgmatTileX(DX);
}

/**
 * Whether a call runs on the matrix units (subgroup matrices), and why (or why not): f16, not
 * turned off, the adapter and device have them and the context's probe compiled them, no
 * register-tile override, and every kernel of the call takes the shape — all or nothing, since
 * the matrix-unit intra kernels read the f16 state copy that only the matrix-unit scan writes.
 */
export function matrixPathDecision(
  ctx: GpuContext,
  d: SequenceDims,
  o: TflaOptions,
): { use: boolean; reason: string } {
  const no = (reason: string) => ({ use: false, reason });
  if (o.dtype !== 'f16') return no('the call computes in f32 (the matrix units take f16 operands)');
  if (o.subgroupMatrix === false) return no('subgroupMatrix: false was passed');
  const unsupported = sgmatUnsupportedReason(ctx.features);
  if (unsupported) return no(unsupported);
  const probe = ctx.matrixPathOf?.features === ctx.features ? ctx.matrixPath : null;
  if (probe && (probe.state === 'failed' || probe.state === 'unsupported'))
    return no(`the matrix-path probe failed on this device: ${probe.reason}`);
  if (o.tiles?.intra)
    return no('a tiles.intra override was passed (register tiles; the matrix units use their own)');
  if (o.tiles?.scan) return no('a tiles.scan override was passed (the register-tiled scan)');
  const ws = ctx.limits.maxComputeWorkgroupStorageSize;
  if (o.inter && !chunkProductsFit(o.chunkSize, d.DHQK, d.DHHV, ws))
    return no(
      `the matrix-unit scan needs chunk and DHQK multiples of 64, DHHV a multiple of 64 and ${chunkProductWorkgroupBytesNeeded()} bytes of workgroup memory (chunk ${o.chunkSize}, DHQK ${d.DHQK}, DHHV ${d.DHHV}, ${ws} bytes)`,
    );
  for (const r of ['fw', 'dq', 'dk', 'dv'] as IntraRole[]) {
    if (!sgmatIntraFits(o.chunkSize, roleDims(r, d), o.inter, ws))
      return no(
        `the matrix-unit intra kernels need the chunk (here ${o.chunkSize}) and head dimensions (DHQK ${d.DHQK}, DHHV ${d.DHHV}) to be multiples of 64, and ${sgmatWorkgroupBytes()} bytes of workgroup memory (${ws})`,
      );
  }
  return {
    use: true,
    reason:
      probe?.state === 'ready'
        ? 'f16 on an adapter with f16→f32 16×16×16 subgroup matrices and 32-lane subgroups; the probe compiled; the shape fits'
        : 'f16 on an adapter with f16→f32 16×16×16 subgroup matrices and 32-lane subgroups; the shape fits (the first f16 call probes the pipelines)',
  };
}

/** {@link matrixPathDecision}'s verdict alone. */
export function useMatrixPath(ctx: GpuContext, d: SequenceDims, o: TflaOptions): boolean {
  return matrixPathDecision(ctx, d, o).use;
}

function encodeScan(
  ctx: GpuContext,
  batch: DispatchBatch,
  direction: 'fw' | 'bw',
  d: SequenceDims,
  s: ScanBuffers,
  o: TflaOptions,
): void {
  const L = o.chunkSize;
  const NC = d.S / L;
  const BNH = d.B * d.NH;
  // (a 16×16 block: the carrying chunk products load the initial state with a matrix load, whose
  // binding must hold one)
  const dummy = s.init && s.nInit ? null : batch.scratch([256]);
  const init = s.init ?? dummy!;
  const nInit = s.nInit ?? dummy!;
  const shared = {
    S: d.S,
    L,
    NC,
    DY: d.DHQK,
    DX: d.DHHV,
    T: BNH * d.S,
    NB: BNH,
    scale: kappa(d),
    eps: o.eps,
    writeLast: 0,
    segs: 1,
  };
  if (s.out16) {
    const nYTiles = d.DHQK / 64;
    const layout = carryingScan(BNH, d.DHQK, d.DHHV, NC, o.tuning ?? DEFAULT_KERNEL_TUNING);
    if (layout) {
      // matrix units, one kernel: each workgroup walks the chunks of its head (or of a segment of
      // them), carrying the states
      const { bX: fX, segs } = layout;
      const cfg = { direction, variant: o.variant, normalize: o.normalize, bX: fX, carry: true };
      const count = BNH * nYTiles * (d.DHHV / fX) * segs;
      const inputs = [
        s.a,
        s.b,
        s.gates.gates,
        s.gates.chunkv,
        ...(direction === 'bw' ? [s.nm!, init] : [init, nInit]),
      ];
      // segmented: Γ per state slot, and the last state comes from the pass across the segments
      const gammas = segs > 1 ? batch.scratch([BNH * (NC + 1)]) : null;
      batch.dispatch(
        ctx.pipeline(chunkProductKey(cfg), () => chunkProductWgsl(cfg), [
          'uniform',
          ...inputs.map(() => READ),
          RW,
          RW,
          RW,
        ]),
        [
          ...inputs,
          // (a 16×16 f32 block at least: the kernel stores the last state with matrix stores)
          s.last && !gammas ? s.last : batch.scratch([256]),
          gammas ?? batch.scratch([1]),
          s.out16,
        ],
        scanParams.pack({
          ...shared,
          nYTiles,
          nXTiles: d.DHHV / fX,
          hasInit: s.init ? 1 : 0,
          writeLast: s.last && !gammas ? 1 : 0,
          segs,
          count,
        }),
        splitWorkgroups(count, ctx.limits.maxComputeWorkgroupsPerDimension),
        `chunk products ${direction}`,
      );
      if (gammas) {
        const bounds = boundsLaunch(BNH, NC, d.DHQK, d.DHHV, direction, segs, !!s.last);
        batch.dispatch(
          ctx.pipeline(boundsKey(direction), () => boundsWgsl(direction), ['uniform', READ, RW, RW]),
          [gammas, s.last ?? batch.scratch([1]), s.out16],
          bounds.params,
          splitWorkgroups(cdiv(bounds.invocations, CARRY_WG), ctx.limits.maxComputeWorkgroupsPerDimension),
          `segment bounds ${direction}`,
        );
      }
      return;
    }
    // matrix units: every chunk's product in parallel, then the element-wise carry
    const bX = matrixTileX(d.DHHV, o);
    const walk = CHUNKS_PER_PRODUCT_WORKGROUP;
    const cfg = { direction, variant: o.variant, normalize: o.normalize, bX, chunksPerWorkgroup: walk };
    const inputs = [s.a, s.b, s.gates.gates, s.gates.chunkv, ...(direction === 'bw' ? [s.nm!] : [])];
    const nXTiles = d.DHHV / bX;
    const count = BNH * Math.ceil(NC / walk) * nYTiles * nXTiles;
    batch.dispatch(
      ctx.pipeline(chunkProductKey(cfg), () => chunkProductWgsl(cfg), [
        'uniform',
        ...inputs.map(() => READ),
        RW,
      ]),
      [...inputs, s.out16],
      scanParams.pack({ ...shared, nYTiles, nXTiles, hasInit: 0, count }),
      splitWorkgroups(count, ctx.limits.maxComputeWorkgroupsPerDimension),
      `chunk products ${direction}`,
    );
    const carry = carryLaunch(BNH, NC, d.DHQK, d.DHHV, direction, !!s.init);
    batch.dispatch(
      ctx.pipeline(carryKey(direction, o.variant), () => carryWgsl(direction, o.variant), [
        'uniform',
        READ,
        READ,
        READ,
        RW,
        RW,
      ]),
      [
        s.gates.chunkv,
        init,
        nInit,
        s.last ?? batch.scratch([BNH * d.DHQK * (d.DHHV + (direction === 'fw' ? 1 : 0))]),
        s.out16,
      ],
      carry.params,
      splitWorkgroups(cdiv(carry.invocations, CARRY_WG), ctx.limits.maxComputeWorkgroupsPerDimension),
      `state carry ${direction}`,
    );
    return;
  }
  const bS = o.tiles?.scan ?? chooseScanTile(d.DHQK, d.DHHV, ctx.limits, isSoftwareAdapter(ctx.adapterInfo));
  const cfg = { direction, variant: o.variant, normalize: o.normalize, dtype: o.dtype, bS };
  const buffers =
    direction === 'fw'
      ? [s.a, s.b, s.gates.gates, s.gates.chunkv, init, nInit, s.out!]
      : [s.a, s.b, s.gates.gates, s.gates.chunkv, s.nm!, init, s.out!];
  const layout = ['uniform', ...Array(buffers.length - 1).fill(READ), RW];
  const pipeline = ctx.pipeline(scanKey(cfg), () => scanWgsl(cfg), layout);
  const nYTiles = cdiv(d.DHQK, bS);
  const nXTiles = cdiv(d.DHHV, bS);
  const count = BNH * nYTiles * nXTiles;
  batch.dispatch(
    pipeline,
    buffers,
    scanParams.pack({ ...shared, nYTiles, nXTiles, hasInit: s.init ? 1 : 0, count }),
    splitWorkgroups(count, ctx.limits.maxComputeWorkgroupsPerDimension),
    `state scan ${direction}`,
  );
}

export interface TflaForwardInputs {
  q: GpuTensor;
  k: GpuTensor;
  v: GpuTensor;
  i: GpuTensor;
  f: GpuTensor;
  cInitial?: GpuTensor;
  nInitial?: GpuTensor;
  mInitial?: GpuTensor;
}

export interface TflaForwardResult {
  h: GpuTensor;
  saved: TflaGroupSaved;
}

/** Encodes the forward pass. The caller owns `h` and `saved` (see {@link releaseSaved}). */
export function encodeTflaForward(
  ctx: GpuContext,
  batch: DispatchBatch,
  d: SequenceDims,
  t: TflaForwardInputs,
  o: TflaOptions,
  out: { h?: GpuTensor; needLast?: boolean } = {},
): TflaForwardResult {
  const L = o.chunkSize;
  const NC = d.S / L;
  const gates = encodeGates(ctx, batch, d, t.i, t.f, t.cInitial ? t.mInitial : undefined, o);
  const BNH = d.B * d.NH;
  const matrix = useMatrixPath(ctx, d, o);
  let states: GpuTensor | null = null;
  let states16: GpuTensor | null = null;
  let last: GpuTensor | null = null;
  if (o.inter) {
    if (matrix) {
      states16 = ctx.empty([states16Size(BNH, NC, d.DHQK, d.DHHV, 'fw')], 'f16');
      // the last state in f32: for returned last states and the backward's dC_last correction
      if (out.needLast !== false) last = ctx.empty([BNH * d.DHQK * (d.DHHV + 1)]);
    } else states = ctx.empty([BNH * (NC + 1) * d.DHQK * (d.DHHV + 1)]);
    encodeScan(
      ctx,
      batch,
      'fw',
      d,
      {
        a: t.k,
        b: t.v,
        gates,
        init: t.cInitial,
        nInit: t.nInitial,
        out: states ?? undefined,
        out16: states16 ?? undefined,
        last: last ?? undefined,
      },
      o,
    );
  }
  const h = out.h ?? ctx.empty([d.B, d.NH, d.S, d.DHHV], o.dtype);
  const nm = ctx.empty([2 * BNH * d.S]);
  const inputs = [t.q, t.k, t.v, gates.gates, gates.chunkv];
  if (o.inter) inputs.push(matrix ? states16! : states!);
  encodeIntra(ctx, batch, 'fw', d, inputs, [h, nm], o, matrix, !t.cInitial);
  return { h, saved: { gates, states, nm, states16, last, zeroInitial: !t.cInitial } };
}

/** Copies the last boundary states (c, n, m) out of the saved stacks. */
export function encodeLastStates(
  ctx: GpuContext,
  batch: DispatchBatch,
  d: SequenceDims,
  saved: TflaGroupSaved,
  o: TflaOptions,
  out: { c?: GpuTensor; n?: GpuTensor; m?: GpuTensor } = {},
): { c: GpuTensor; n: GpuTensor; m: GpuTensor } {
  const NC = d.S / o.chunkSize;
  const BNH = d.B * d.NH;
  const c = out.c ?? ctx.empty([d.B, d.NH, d.DHQK, d.DHHV]);
  const n = out.n ?? ctx.empty([d.B, d.NH, d.DHQK]);
  const m = out.m ?? ctx.empty([d.B, d.NH, 1]);
  const cs = d.DHQK * d.DHHV;
  const nBase = BNH * (NC + 1) * cs; // the n section of the packed states
  const mBase = 2 * BNH * NC; // the m section of the packed chunk scalars
  if (saved.last) {
    // matrix-unit path: C_NC of every head, then n_NC of every head
    encodeCopyBlocks(ctx, batch, saved.last, c, 1, BNH * cs, 0, 0);
    encodeCopyBlocks(ctx, batch, saved.last, n, 1, BNH * d.DHQK, 0, BNH * cs);
  } else {
    encodeCopyBlocks(ctx, batch, saved.states!, c, BNH, cs, (NC + 1) * cs, NC * cs);
    encodeCopyBlocks(ctx, batch, saved.states!, n, BNH, d.DHQK, (NC + 1) * d.DHQK, nBase + NC * d.DHQK);
  }
  encodeCopyBlocks(ctx, batch, saved.gates.chunkv, m, BNH, 1, NC + 1, mBase + NC);
  return { c, n, m };
}

export interface TflaBackwardInputs extends TflaForwardInputs {
  dh: GpuTensor;
  /** gradient of the returned last c state (seeds the dC recurrence) */
  dcLast?: GpuTensor;
}

export interface TflaGradients {
  dq: GpuTensor;
  dk: GpuTensor;
  dv: GpuTensor;
  di: GpuTensor;
  df: GpuTensor;
  /** gradient of c_initial (B, NH, DHQK, DHHV) when initial states were given */
  dcInitial?: GpuTensor;
}

/**
 * Encodes the backward pass from the forward's `saved` tensors. `correctDf` adds
 * ⟨dC_last, C_last⟩ to every dλ (spec §4.5); false reproduces the upstream kernels.
 */
export function encodeTflaBackward(
  ctx: GpuContext,
  batch: DispatchBatch,
  d: SequenceDims,
  t: TflaBackwardInputs,
  saved: TflaGroupSaved,
  o: TflaOptions & { correctDf?: boolean },
  out: Partial<TflaGradients> = {},
): TflaGradients {
  const L = o.chunkSize;
  const NC = d.S / L;
  const BNH = d.B * d.NH;
  const { gates, nm } = saved;
  // with states, the forward decided: its matrix-unit path leaves the f16 state stack, which only
  // the matrix-unit kernels read
  const matrix = o.inter ? !!saved.states16 : useMatrixPath(ctx, d, o);
  let dcStates: GpuTensor | null = null;
  let dcStates16: GpuTensor | null = null;
  let dcFirst: GpuTensor | null = null; // matrix-unit path: dC_0 in f32
  if (o.inter) {
    if (matrix) {
      dcStates16 = batch.scratch([states16Size(BNH, NC, d.DHQK, d.DHHV, 'bw')], 'f16');
      // dC_0 in f32, for the gradient of an initial state
      if (t.cInitial) dcFirst = batch.scratch([BNH * d.DHQK * d.DHHV]);
    } else dcStates = batch.scratch([d.B, d.NH, NC + 1, d.DHQK, d.DHHV]);
    encodeScan(
      ctx,
      batch,
      'bw',
      d,
      {
        a: t.q,
        b: t.dh,
        gates,
        nm,
        init: t.dcLast,
        out: dcStates ?? undefined,
        out16: dcStates16 ?? undefined,
        last: dcFirst ?? undefined,
      },
      o,
    );
  }
  const cIn = matrix ? saved.states16! : saved.states!;
  const dcIn = matrix ? dcStates16! : dcStates!;
  const dq = out.dq ?? ctx.empty([d.B, d.NH, d.S, d.DHQK], o.dtype);
  const dk = out.dk ?? ctx.empty([d.B, d.NH, d.S, d.DHQK], o.dtype);
  const dv = out.dv ?? ctx.empty([d.B, d.NH, d.S, d.DHHV], o.dtype);
  const gatesIn = [gates.gates, gates.chunkv];
  const di = out.di ?? ctx.empty([d.B, d.NH, d.S]);
  const df = out.df ?? ctx.empty([d.B, d.NH, d.S]);
  const dfTmp = batch.scratch([d.B, d.NH, d.S]);
  // the matrix-unit dQ and dK kernels leave q·dq in dfTmp and k·dk in di when their tiles span
  // DHQK (the gate gradients' per-token terms; saves reading q, k, dq, dk once more)
  const rowDots = matrix && matrixTileX(d.DHQK, o) === d.DHQK;
  encodeIntra(
    ctx,
    batch,
    'dq',
    d,
    [t.dh, t.v, t.k, ...gatesIn, ...(o.inter ? [cIn] : []), nm],
    [dq],
    o,
    matrix,
    saved.zeroInitial ?? !t.cInitial,
    rowDots ? { with: t.q, out: dfTmp } : undefined,
  );
  encodeIntra(
    ctx,
    batch,
    'dk',
    d,
    [t.v, t.dh, t.q, ...gatesIn, ...(o.inter ? [dcIn] : []), nm],
    [dk],
    o,
    matrix,
    !t.dcLast,
    rowDots ? { with: t.k, out: di } : undefined,
  );
  encodeIntra(
    ctx,
    batch,
    'dv',
    d,
    [t.k, t.q, t.dh, ...gatesIn, ...(o.inter ? [dcIn] : []), nm],
    [dv],
    o,
    matrix,
    !t.dcLast,
  );
  // gate gradients
  const totals = batch.scratch([d.B, d.NH, NC]);
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  const count = BNH * NC;
  const gp = { S: d.S, L, NC, D: d.DHQK, count, hasInit: 0, useCorr: 0, T: BNH * d.S, NB: BNH };
  if (!rowDots) {
    const vec = gateGradsVector(o.dtype, d.DHQK);
    batch.dispatch(
      ctx.pipeline(
        `gates:gradsLocal:${o.variant}:${o.dtype}:${vec}`,
        () => gateGradsLocalWgsl(o.variant, o.dtype, vec),
        ['uniform', READ, READ, READ, READ, READ, RW, RW],
      ),
      [t.q, t.k, dq, dk, t.i, di, dfTmp],
      gateParams.pack({ ...gp, count: BNH * d.S }),
      splitWorkgroups(cdiv(BNH * d.S, GATE_TOKENS_PER_WG), maxWg),
      'gate grads (tokens)',
    );
  }
  // (with the row dots, the chunk sums also make the per-token terms)
  batch.dispatch(
    rowDots
      ? ctx.pipeline(`gates:gradsChunkSums:dots:${o.variant}`, () => gateGradsChunkSumsWgsl(o.variant), [
          'uniform',
          RW,
          RW,
          READ,
          RW,
        ])
      : ctx.pipeline('gates:gradsChunkSums', () => gateGradsChunkSumsWgsl(), ['uniform', RW, RW]),
    rowDots ? [dfTmp, totals, t.i, di] : [dfTmp, totals],
    gateParams.pack(gp),
    splitWorkgroups(count, maxWg),
    'gate grads (chunk sums)',
  );
  let corr: GpuTensor;
  const useCorr = !!(o.correctDf && t.dcLast && o.inter);
  if (useCorr) {
    corr = batch.scratch([BNH]);
    batch.dispatch(
      ctx.pipeline('gates:stateDot', stateDotWgsl, ['uniform', READ, READ, RW]),
      [t.dcLast!, saved.last ?? saved.states!, corr],
      // the matrix-unit path keeps only the last state (slot 0 of a one-slot stack)
      gateParams.pack({ ...gp, D: d.DHQK * d.DHHV, NC: saved.last ? 0 : NC, count: BNH }),
      splitWorkgroups(BNH, maxWg),
      'state dot',
    );
  } else corr = batch.scratch([1]);
  batch.dispatch(
    ctx.pipeline('gates:gradsFinish', gateGradsFinishWgsl, ['uniform', READ, READ, READ, READ, RW]),
    [t.f, totals, dfTmp, corr, df],
    gateParams.pack({ ...gp, useCorr: useCorr ? 1 : 0 }),
    splitWorkgroups(count, maxWg),
    'gate grads (finish)',
  );
  let dcInitial: GpuTensor | undefined;
  if (o.inter && t.cInitial) {
    dcInitial = out.dcInitial ?? ctx.empty([d.B, d.NH, d.DHQK, d.DHHV]);
    const cs = d.DHQK * d.DHHV;
    if (dcFirst) encodeCopyBlocks(ctx, batch, dcFirst, dcInitial, 1, BNH * cs, 0, 0);
    else encodeCopyBlocks(ctx, batch, dcStates!, dcInitial, BNH, cs, (NC + 1) * cs, 0);
  }
  return { dq, dk, dv, di, df, dcInitial };
}
