// Transfer-behaviour analysis (upstream utils/analysis/transfer_behavior, spec §11) on core-reference:
// how the gate pre-activation offsets change the output "gain" of an mLSTM cell, before and after the norm.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  getReferenceKernel,
  logsigmoid,
  type ReferenceSequenceKernelName,
  type Tensor,
} from '@mlstm/core-reference';
import { Rng } from '@mlstm/core-reference/testing';

// #region cell
/** `mk__<registry kernel>` or `tb__<mlstmexp|mlstmsig>--<paper|max_sum_abs_1[-c]|sum_abs|sum|denom_one[-c]>` */
export type CellSpecifier = string;
export type NormSpecifier = 'rms' | 'layer' | 'none';

/**
 * One mLSTM cell followed by a norm over the head dimension (fp64, no learnable scale).
 * Returns `{ after, before }` = upstream's `(h_after_norm, h_before_norm)`, both `(B, NH, S, DHHV)`.
 */
export function mlstmCellFunc(
  cell: CellSpecifier,
  norm: NormSpecifier,
  x: { q: Tensor; k: Tensor; v: Tensor; i: Tensor; f: Tensor },
  { normEps = 1e-6, backendEps = 1e-6 } = {},
): { after: Tensor; before: Tensor } {
  const [B, NH, S, DQK] = x.q.shape;
  const DV = x.v.shape[3];
  if (S < 128) throw new RangeError('transfer behaviour: S must be ≥ 128 (as upstream)');
  let before: Tensor;
  if (cell.startsWith('mk__')) {
    const kernel = getReferenceKernel(cell.slice(4) as ReferenceSequenceKernelName);
    before = kernel.forward({ ...x, eps: backendEps, chunkSize: 64 }).h;
  } else {
    const m = /^tb__(mlstmexp|mlstmsig)--(paper|max_sum_abs_1|sum_abs|sum|denom_one)(?:-([\d.e+-]+))?$/.exec(
      cell,
    );
    if (!m) throw new Error(`unknown cell specifier '${cell}'`);
    const [, variant, mode, cStr] = m;
    const c = cStr === undefined ? 1 : Number(cStr);
    const out = new Float64Array(B * NH * S * DV);
    const scale = 1 / Math.sqrt(DQK);
    for (let bh = 0; bh < B * NH; bh++) {
      const F = new Float64Array(S + 1); // cumulative log forget gates
      for (let t = 0; t < S; t++) F[t + 1] = F[t] + logsigmoid(x.f.data[bh * S + t]);
      const logD = new Float64Array(S);
      for (let t = 0; t < S; t++) {
        let mt = -Infinity;
        for (let s = 0; s <= t; s++) {
          const ig = x.i.data[bh * S + s];
          logD[s] = F[t + 1] - F[s + 1] + (variant === 'mlstmexp' ? ig : logsigmoid(ig));
          mt = Math.max(mt, logD[s]);
        }
        if (variant === 'mlstmsig') mt = 0; // no max-stabiliser for the sigmoid input gate
        let sum = 0;
        const num = new Float64Array(DV);
        for (let s = 0; s <= t; s++) {
          let qk = 0;
          for (let d = 0; d < DQK; d++)
            qk += x.q.data[(bh * S + t) * DQK + d] * x.k.data[(bh * S + s) * DQK + d];
          const w = qk * scale * Math.exp(logD[s] - mt);
          sum += w;
          for (let d = 0; d < DV; d++) num[d] += w * x.v.data[(bh * S + s) * DV + d];
        }
        let den: number;
        if (mode === 'paper' && variant === 'mlstmsig')
          den = 1; // mLSTMsig: no normaliser
        else if (mode === 'paper') den = Math.max(Math.abs(sum), Math.exp(-mt)) + backendEps;
        else if (mode === 'max_sum_abs_1') den = Math.max(Math.abs(sum), c) + backendEps;
        else if (mode === 'sum_abs') den = Math.abs(sum) + backendEps;
        else if (mode === 'sum') den = sum + backendEps;
        else den = c + backendEps; // denom_one
        for (let d = 0; d < DV; d++) out[(bh * S + t) * DV + d] = num[d] / den;
      }
    }
    before = { shape: [B, NH, S, DV], data: out };
  }
  return { after: applyNorm(before, norm, normEps), before };
}

/** Σ of an array (typed arrays of either kind) */
const total = (a: ArrayLike<number>) => {
  let t = 0;
  for (let j = 0; j < a.length; j++) t += a[j];
  return t;
};

function applyNorm(h: Tensor, norm: NormSpecifier, eps: number): Tensor {
  if (norm === 'none') return h;
  const D = h.shape[h.shape.length - 1];
  const out = new Float64Array(h.data.length);
  for (let r = 0; r < h.data.length / D; r++) {
    const row = h.data.subarray(r * D, (r + 1) * D);
    const mean = norm === 'layer' ? total(row) / D : 0;
    let sq = 0;
    for (const v of row) sq += (v - mean) ** 2;
    const inv = 1 / Math.sqrt(sq / D + eps);
    for (let d = 0; d < D; d++) out[r * D + d] = (row[d] - mean) * inv;
  }
  return { shape: h.shape, data: out };
}
// #endregion cell

// #region metric
/** `max_mean` | `abs_max_mean` | `std_mean`, optionally `-v` / `-q` / `-k`: divided by the same statistic of that input. */
export type GainMetric = string;

/** Per token: max / max |·| / std over the feature dimension; then the mean over (B, NH, S). */
function statistic(t: Tensor, kind: string): number {
  const D = t.shape[t.shape.length - 1];
  const rows = t.data.length / D;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const row = t.data.subarray(r * D, (r + 1) * D);
    if (kind === 'max_mean') sum += Math.max(...row);
    else if (kind === 'abs_max_mean') sum += Math.max(...Array.from(row, Math.abs));
    else if (kind === 'std_mean') {
      const mean = total(row) / D;
      sum += Math.sqrt(total(Array.from(row, (b) => (b - mean) ** 2)) / D);
    } else throw new Error(`unknown gain metric '${kind}'`);
  }
  return sum / rows;
}

export function computeGainMetric(
  h: Tensor,
  metric: GainMetric,
  inputs: Record<'q' | 'k' | 'v', Tensor>,
): number {
  const [kind, by] = metric.split('-') as [string, 'q' | 'k' | 'v' | undefined];
  const value = statistic(h, kind);
  return by ? value / statistic(inputs[by], kind) : value;
}
// #endregion metric

// #region sweep
export interface SweepOptions {
  cell?: CellSpecifier;
  norm?: NormSpecifier;
  metric?: GainMetric;
  igateOffsets?: number[];
  fgateOffsets?: number[];
  S?: number;
  DHQK?: number;
  DHHV?: number;
  /** std of q, k, v (paper: 1) */
  qkvStd?: number;
  normEps?: number;
  backendEps?: number;
  seed?: number;
}

const linspace = (a: number, b: number, n: number) =>
  Array.from({ length: n }, (_, j) => a + ((b - a) * j) / (n - 1));

/**
 * Input-gate offsets × forget-gate offsets (pre-activations = offset + 0, upstream's default init);
 * returns the gain before and after the norm, `[igate][fgate]`. The paper's setting: S 512,
 * DHQK = DHHV = 128, igate linspace(−12, 8, 200), fgate linspace(−5, 12, 200), RMS norm.
 */
export function makeGateOffsetSweep(o: SweepOptions = {}) {
  const {
    cell = 'tb__mlstmexp--paper',
    norm = 'rms',
    metric = 'abs_max_mean-v',
    igateOffsets = linspace(-12, 8, 5),
    fgateOffsets = linspace(-5, 12, 5),
    S = 128,
    DHQK = 16,
    DHHV = 16,
    qkvStd = 1,
    normEps = 1e-6,
    backendEps = 1e-6,
    seed = 0,
  } = o;
  const rng = new Rng(seed);
  const randn = (shape: number[]): Tensor => ({
    shape,
    data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * qkvStd),
  });
  const q = randn([1, 1, S, DHQK]);
  const k = randn([1, 1, S, DHQK]);
  const v = randn([1, 1, S, DHHV]);
  const gate = (offset: number): Tensor => ({ shape: [1, 1, S], data: new Float64Array(S).fill(offset) });
  const before: number[][] = [];
  const after: number[][] = [];
  for (const io of igateOffsets) {
    const rowB: number[] = [];
    const rowA: number[] = [];
    for (const fo of fgateOffsets) {
      const h = mlstmCellFunc(cell, norm, { q, k, v, i: gate(io), f: gate(fo) }, { normEps, backendEps });
      rowB.push(computeGainMetric(h.before, metric, { q, k, v }));
      rowA.push(computeGainMetric(h.after, metric, { q, k, v }));
    }
    before.push(rowB);
    after.push(rowA);
  }
  return { cell, norm, metric, igateOffsets, fgateOffsets, before, after };
}
// #endregion sweep

// #region plot
/** A heat map (log10 of the gain; green > 1, pink < 1 as upstream's PiYG) as a standalone SVG. */
export function heatmapSvg(values: number[][], xs: number[], ys: number[], title: string): string {
  const cw = Math.max(4, Math.floor(400 / xs.length));
  const ch = Math.max(4, Math.floor(400 / ys.length));
  const colour = (g: number) => {
    const t = Math.max(-1, Math.min(1, Math.log10(Math.max(g, 1e-12)) / 2)); // ±2 decades saturate
    const mix = (a: number[], b: number[], u: number) => a.map((x, j) => Math.round(x + (b[j] - x) * u));
    const [r, gg, b] =
      t >= 0 ? mix([247, 247, 247], [39, 100, 25], t) : mix([247, 247, 247], [142, 1, 82], -t);
    return `rgb(${r},${gg},${b})`;
  };
  const cells = ys.flatMap((_, yi) =>
    xs.map(
      (_, xi) =>
        `<rect x="${60 + xi * cw}" y="${30 + (ys.length - 1 - yi) * ch}" width="${cw}" height="${ch}" fill="${colour(values[yi][xi])}"/>`,
    ),
  );
  const w = 80 + xs.length * cw;
  const h = 70 + ys.length * ch;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">
<text x="60" y="18">${title}</text>${cells.join('')}
<text x="60" y="${h - 20}">forget-gate offset ${xs[0]} … ${xs[xs.length - 1]} →</text>
<text x="12" y="${30 + (ys.length * ch) / 2}" transform="rotate(-90 12 ${30 + (ys.length * ch) / 2})">input-gate offset ↑</text>
</svg>\n`;
}
// #endregion plot

// #region main
export async function main(opts: SweepOptions = {}, svgPrefix?: string) {
  const r = makeGateOffsetSweep(opts);
  const fmt = (x: number) => x.toExponential(1).padStart(9);
  console.log(
    `${r.cell}, norm ${r.norm}, gain ${r.metric} (rows: input-gate offset, columns: forget-gate offset)`,
  );
  console.log(`${'ig \\ fg'.padStart(9)}${r.fgateOffsets.map((x) => x.toFixed(1).padStart(9)).join('')}`);
  for (const [j, row] of r.before.entries())
    console.log(`${r.igateOffsets[j].toFixed(1).padStart(9)}${row.map(fmt).join('')}   before norm`);
  for (const [j, row] of r.after.entries())
    console.log(`${r.igateOffsets[j].toFixed(1).padStart(9)}${row.map(fmt).join('')}   after norm`);
  if (svgPrefix) {
    for (const which of ['before', 'after'] as const)
      writeFileSync(
        `${svgPrefix}_${which}.svg`,
        heatmapSvg(
          r[which],
          r.fgateOffsets,
          r.igateOffsets,
          `${r.cell} ${which} ${r.norm} norm: ${r.metric}`,
        ),
      );
  }
  return r;
}

// as a script (bundled, see `pnpm analysis:transfer`): [cell] [norm] [grid points] [svg prefix]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [cell, norm, n, svg] = process.argv.slice(2);
  const points = Number(n ?? 9);
  await main(
    {
      cell: cell ?? 'tb__mlstmexp--paper',
      norm: (norm ?? 'rms') as NormSpecifier,
      igateOffsets: linspace(-12, 8, points),
      fgateOffsets: linspace(-5, 12, points),
    },
    svg,
  );
}
// #endregion main
