/**
 * Line charts as SVG, drawn with vega-lite → vega, rendered headless in Node (`View.toSVG()`:
 * no browser, no canvas; text widths are estimated).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface LinePoint {
  x: number;
  y: number;
  series: string;
}

export interface LinePlotOptions {
  title: string;
  /** a second title line (e.g. the adapter) */
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  /** log scales: 'auto' picks log when the values span more than a factor of 10 */
  xLog?: boolean | 'auto';
  yLog?: boolean | 'auto';
  width?: number;
  height?: number;
}

function useLog(values: number[], opt: boolean | 'auto' | undefined, factor = 10): boolean {
  if (opt !== undefined && opt !== 'auto') return opt;
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (pos.length < 2 || pos.length !== values.length) return false;
  return Math.max(...pos) / Math.min(...pos) >= factor;
}

/** A vega-lite spec of one line per series (points with NaN/−1 values are left out). */
export function linePlotSpec(points: readonly LinePoint[], o: LinePlotOptions): TopLevelSpec {
  const data = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y >= 0);
  const xLog = useLog(
    data.map((p) => p.x),
    o.xLog,
    4,
  );
  const yLog = useLog(
    data.map((p) => p.y),
    o.yLog,
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title, anchor: 'start', ...(o.subtitle ? { subtitle: o.subtitle } : {}) },
    width: o.width ?? 560,
    height: o.height ?? 340,
    background: 'white',
    data: { values: data.map((p) => ({ ...p })) },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: o.xTitle,
        scale: xLog ? { type: 'log', base: 2 } : { zero: false },
        axis: xLog ? { values: [...new Set(data.map((p) => p.x))].sort((a, b) => a - b) } : {},
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: o.yTitle,
        scale: yLog ? { type: 'log' } : { zero: true },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        legend: { orient: 'right', labelLimit: 600 },
      },
    },
  } as TopLevelSpec;
}

/** Renders a vega-lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile(spec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function linePlotSvg(points: readonly LinePoint[], o: LinePlotOptions): Promise<string> {
  return renderSvg(linePlotSpec(points, o));
}
