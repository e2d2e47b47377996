/**
 * Tile sizes per adapter and shape, in one place (spec §5.7 for the upstream rules). WebGPU
 * adapters differ mainly in workgroup memory (16 KiB guaranteed, 32 KiB on lavapipe, 48 KiB
 * on NVIDIA under Vulkan) — the tiles shrink until they fit.
 */
import { type IntraTiles, intraWorkgroupBytes } from './chunkwise/kernels/intra.js';
import { scanWorkgroupBytes } from './chunkwise/kernels/state_scan.js';
import { nextPow2 } from './wgsl/common.js';
import {
  DENSE_SGMAT_DEFAULT,
  type DenseSgmatTiles,
  denseSgmatTilesProblem,
  denseSgmatWorkgroupBytes,
} from './dense/kernels/matmul_sgmat.js';

/** Default chunk size of `chunkwise--webgpu_xl_chunk` (upstream: 128). */
export const XL_CHUNK_DEFAULT_CHUNK_SIZE = 128;
/** Default chunk size of `chunkwise--webgpu_limit_chunk` (upstream: 64). */
export const LIMIT_CHUNK_DEFAULT_CHUNK_SIZE = 64;
/** Largest chunk size of `chunkwise--webgpu_limit_chunk` (one tile covers the whole chunk). */
export const LIMIT_CHUNK_MAX_CHUNK_SIZE = 64;

export interface LimitsLike {
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
}

/**
 * CPU-emulated adapters (Mesa lavapipe, SwiftShader) compile WGSL through LLVM, and the time
 * grows steeply with the unrolled register tiles (measured on lavapipe: the forward intra
 * kernel takes 1.4 s to compile with 16×16 tiles, 9 s with 32×32, 19 s with 32×64). There,
 * speed is not the point, so the kernels use the smallest tiles.
 */
export function isSoftwareAdapter(info: {
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}): boolean {
  const text = `${info.architecture ?? ''} ${info.description ?? ''}`.toLowerCase();
  return !!info.isFallbackAdapter || /software|llvmpipe|lavapipe|swiftshader/.test(text);
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * Tiles of the intra-chunk kernel for chunk length `L`, product depth `DY` and `DX` output
 * columns. `wholeChunk` (limit_chunk) makes one row/token tile cover the chunk.
 */
export function chooseIntraTiles(
  L: number,
  DX: number,
  limits: LimitsLike,
  wholeChunk = false,
  software = false,
  role: 'fw' | 'dq' | 'dk' | 'dv' = 'fw',
): IntraTiles {
  if (software) return { bR: 16, bT: 16, bX: 16, bY: 16 };
  // H100, register-tiled f32 (second sweep, scripts/device-check.ts --tiles): the forward is
  // fastest with 64-token tiles and 256 columns (fw 27.4 ms vs 30.2 with 32 × 128), the backward
  // roles are not (fw+bw 110 vs 97 ms when they use them too)
  if (role === 'fw' && !wholeChunk && L >= 64) {
    const big: IntraTiles = { bR: 64, bT: 64, bX: clamp(nextPow2(DX), 16, 256), bY: 16 };
    if (intraWorkgroupBytes(big) <= limits.maxComputeWorkgroupStorageSize) return big;
  }
  // H100 (Dawn/Vulkan), xl_chunk const-token S = 8192, f16, fw / fw+bw ms by (bR = bT, bX):
  // (64, 64) 48.9 / 153; (32, 64) 34.8 / 115; (32, 128) 30.6 / 98; (32, 256) 38.5 / 150;
  // (16, 128) 30.5 / 112; (64, 128) 35.8 / 111 — 32-token tiles with 128 output columns win.
  const seq = clamp(nextPow2(L), 16, wholeChunk ? 64 : 32);
  const tiles: IntraTiles = { bR: seq, bT: seq, bX: clamp(nextPow2(DX), 16, 128), bY: 16 };
  if (wholeChunk && L > 64) throw new RangeError(`whole-chunk tiles need L <= 64, got ${L}`);
  while (intraWorkgroupBytes(tiles) > limits.maxComputeWorkgroupStorageSize) {
    if (tiles.bX > 64) tiles.bX /= 2;
    else if (tiles.bX > 32) tiles.bX /= 2;
    else if (!wholeChunk && tiles.bT > 16) {
      tiles.bT /= 2;
      tiles.bR /= 2;
    } else if (tiles.bX > 16) tiles.bX /= 2;
    else break;
  }
  return tiles;
}

/** Edge of the square state tile of the inter-chunk recurrences. */
export function chooseScanTile(DHQK: number, DHHV: number, limits: LimitsLike, software = false): number {
  if (software) return 16;
  let bS = clamp(nextPow2(Math.max(DHQK, DHHV)), 16, 64);
  while (bS > 16 && scanWorkgroupBytes(bS) > limits.maxComputeWorkgroupStorageSize) bS /= 2;
  return bS;
}

/** Workgroups a dense call should have before its tiles stop shrinking ({@link chooseDenseTiles}). */
export const DENSE_FILL_WORKGROUPS = 256;
/** Below this many workgroups of its first tiles a dense call shrinks them ({@link chooseDenseTiles}). */
export const DENSE_SHRINK_BELOW = 64;

/**
 * Tiles of the matrix-unit dense matmul for an `M × N` output (`gated`: N outputs from 2N rows of
 * W). H100 (Dawn/Vulkan), xLSTM-7B prefill shapes, f16 W (packages/bench/scripts/gemm-device.ts;
 * docs/benchmarks): 128 × 128 outputs with 64-deep single-buffered slices were the fastest of the
 * variants tried (x f32 119–142 TFLOP/s, x f16 136–166), ahead of 128 × 256 × 32 (118–146 /
 * 126–160) and double-buffered 128 × 128 × 32 (98–114 / 108–126). Smaller workgroup memory:
 * 32-deep slices.
 *
 * A call with few rows (a short prompt, a batch of sequences decoding together) would get only a
 * few large tiles: at M 128 the xLSTM-7B out_proj and down projections are 32 workgroups of
 * 128 × 128, a quarter of an H100's 132 multiprocessors, each walking all of K alone. Where the
 * first tiles give fewer than {@link DENSE_SHRINK_BELOW} workgroups, the tiles shrink — 64 × 128,
 * 32 × 128, 32 × 64 over 4 subgroups (16 × 128, 16 × 64 at most 16 rows) — until the call has
 * {@link DENSE_FILL_WORKGROUPS}, or to the candidate with the most. Measured on the H100
 * (2026-12-08, gemm-device.ts `--variants short`, M 128): out_proj 0.43 → 0.24 ms and down
 * 1.26 → 0.67 ms with 32 × 64; but the projection (97 workgroups of 128 × 128: 0.14 ms) and the
 * gated FFN (171: 1.01 ms) were slower with smaller tiles (0.21–0.25 and 1.13–1.70 ms), hence
 * the threshold.
 */
export function chooseDenseTiles(M: number, N: number, limits: LimitsLike, gated = false): DenseSgmatTiles {
  const sg4 = (bm: number, bn: number, wm: number): DenseSgmatTiles => ({
    bm,
    bn,
    bk: 64,
    wm,
    stages: 1,
    subgroups: 4,
  });
  // 16-row tiles stage too little for 128 invocations with 32-deep slices (under 48 KiB), and the
  // gated epilogue cannot take 16 × 64: the 32-row ones follow them (taken at M ≤ 16 only where
  // they give more workgroups — their narrower columns — or the 16-row ones do not fit)
  const rows32 = [sg4(32, 128, 2), sg4(32, 64, 2)];
  const candidates: DenseSgmatTiles[] =
    M <= 16
      ? [sg4(16, 128, 1), sg4(16, 64, 1), ...rows32]
      : M <= 32
        ? rows32
        : [{ ...DENSE_SGMAT_DEFAULT }, sg4(64, 128, 2), ...rows32];
  const mem = limits.maxComputeWorkgroupStorageSize;
  let best: DenseSgmatTiles | undefined;
  let bestCount = 0;
  for (const [x, c] of candidates.entries()) {
    const t = denseSgmatWorkgroupBytes(c) > mem ? { ...c, bk: 32 } : c;
    if (denseSgmatTilesProblem(t, gated, mem)) continue;
    const count = Math.ceil(M / t.bm) * Math.ceil(N / (gated ? t.bn / 2 : t.bn));
    if (count >= (x === 0 ? DENSE_SHRINK_BELOW : DENSE_FILL_WORKGROUPS)) return t;
    if (!best || count > bestCount) {
      best = t;
      bestCount = count;
    }
  }
  // (none fits: the default, which the call then refuses for the register tiles)
  return best ?? { ...DENSE_SGMAT_DEFAULT, bk: 32 };
}
