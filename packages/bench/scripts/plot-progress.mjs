// Plots a performance-progress CSV (one row per change: step, fw_ms, fwbw_ms and optional
// register_* / triton_* columns) as an SVG line chart, with the bench's own plotting
// (vega-lite, headless); the CSV is read with vega's loader (already a dependency).
//
//   pnpm --filter @mlstm/bench plot:progress <progress.csv> <out.svg> [title]
import { readFileSync, writeFileSync } from 'node:fs';
import { read } from 'vega';
import { linePlotSvg } from '../dist/index.js';

const [csvPath, svgPath, title = 'TFLA xl_chunk f16, const-token S 8192 (H100)'] = process.argv.slice(2);
if (!csvPath || !svgPath) {
  console.error('usage: plot-progress.mjs <progress.csv> <out.svg> [title]');
  process.exit(2);
}
const rows = read(readFileSync(csvPath, 'utf8'), { type: 'csv', parse: 'auto' });
const series = {
  fw_ms: 'ours fw',
  fwbw_ms: 'ours fw+bw',
  register_fw_ms: 'register-tiled fw (same run)',
  register_fwbw_ms: 'register-tiled fw+bw (same run)',
  triton_fw_ms: 'Triton fw',
  triton_fwbw_ms: 'Triton fw+bw',
};
const points = [];
for (const row of rows) {
  for (const [col, name] of Object.entries(series)) {
    if (typeof row[col] === 'number') points.push({ x: row.step, y: row[col], series: name });
  }
}
const svg = await linePlotSvg(points, {
  title,
  subtitle: 'GPU ms per pass (median), by change — see the CSV for what each step changed',
  xTitle: 'step',
  yTitle: 'ms',
  xLog: false,
  yLog: true,
});
writeFileSync(svgPath, svg);
console.log(`${svgPath}: ${points.length} points`);
