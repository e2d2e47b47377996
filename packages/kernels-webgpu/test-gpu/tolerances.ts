/**
 * Tolerances of the f16 matrix-unit (subgroup-matrix) path against the float64 reference, as
 * max |Δ| / max |reference| per tensor (the largest magnitude sets the scale: f16 and f32
 * accumulation errors scale with the terms summed, not with each element).
 *
 * The reference runs on the f16-rounded inputs, so what remains is the kernels' own rounding:
 * - f16 outputs (h, dq, dk, dv): half an ulp, 2⁻¹¹ ≈ 4.9e-4 relative;
 * - the f16 copy of every chunk state C_k (and dC_k) that the intra kernels read: 2⁻¹¹ relative on
 *   the inter-chunk term, compounding over the chunks only through the f32 carry (states are
 *   carried in f32, rounded once per slot);
 * - the gated scores rounded to f16 before their product with V (2⁻¹¹ relative per term);
 * - backward: dq and dk rounded to f16 before the gate gradients' row dots, and df a reverse
 *   cumulative sum of nearly cancelling terms.
 * Seen on the H100: device-check --matrix-check (three shapes) h 8.4e-4, gradients 3.4e-3; the
 * GPU test project (results/) h ≤ 5.3e-4, gradients ≤ 2.7e-3 (df; the others ≤ 7e-4), and against
 * the register-tiled path h ≤ 8.8e-4, gradients ≤ 3.9e-3. The bounds leave a factor of ~3 (fw)
 * and ~4 (bw) over the worst seen; an indexing or formula error is O(1).
 */
export const MATRIX_TOL = { fw: 3e-3, bw: 1.5e-2 };

/**
 * Matrix-unit path against the register-tiled path in f16 on the same inputs: both round their
 * outputs to f16, and only the matrix path rounds the states and gated scores, so the bound is
 * that of the matrix path against the reference.
 */
export const PATHS_TOL = MATRIX_TOL;
