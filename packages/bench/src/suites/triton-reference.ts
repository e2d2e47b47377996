/**
 * Upstream Triton numbers measured on an H100 (issue 5; TFLA paper rerun): bf16, chunk 128,
 * const-token B·S = 65 536, NH 16, DHQK 128, DHHV 256; and the 7B-layer step kernel
 * (NH 8, DHQK 256, DHHV 512). Shown as a labelled reference series, never re-measured here.
 */
export const TRITON_LABEL = 'Triton (H100, measured elsewhere)';

const S = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
const zip = (vals: number[]) => Object.fromEntries(S.map((s, x) => [s, vals[x]]));

/** ms per 65 536 tokens, forward (xl_chunk, bf16, cs 128). */
export const TRITON_CONSTTOKEN_FW: Record<number, number> = zip([
  3.78, 3.75, 3.71, 3.69, 3.69, 3.72, 3.72, 4.68,
]);
/** ms per 65 536 tokens, forward + backward. */
export const TRITON_CONSTTOKEN_FWBW: Record<number, number> = zip([
  12.3, 12.2, 12.2, 12.1, 12.2, 12.2, 12.3, 14.8,
]);
/** ms per step, 7B layer, bf16, by batch size. */
export const TRITON_STEP: Record<number, number> = { 1: 0.072, 64: 0.191 };
