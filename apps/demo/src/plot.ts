/**
 * Plots of benchmark results with @mlstm/bench's own plotting (vega-lite → vega → SVG), from a
 * results CSV as the bench CLI writes it: `P--<param>` columns, `R--<spec>` runtimes (ms),
 * `M--<spec>` memory (bytes), `T--<spec>` timing method, `adapter`.
 */
import { type LinePoint, linePlotSpec, parseCsv, renderSvg } from '@mlstm/bench';

export interface ResultsTable {
  header: string[];
  rows: Record<string, string>[];
  params: string[];
  /** spec column names without the prefix */
  specs: string[];
  adapter: string;
}

export function readResultsCsv(text: string): ResultsTable {
  const cells = parseCsv(text.replace(/\r\n/g, '\n')).filter((r) => r.length > 1 || (r[0] ?? '') !== '');
  if (cells.length < 2) throw new Error('the CSV has no data rows');
  const header = cells[0];
  const rows = cells.slice(1).map((r) => Object.fromEntries(header.map((c, j) => [c, r[j] ?? ''])));
  const params = header.filter((c) => c.startsWith('P--')).map((c) => c.slice(3));
  const specs = header.filter((c) => c.startsWith('R--')).map((c) => c.slice(3));
  if (specs.length === 0)
    throw new Error('no runtime columns (R--<kernel spec>): is this a results.csv of the bench CLI?');
  const adapters = [...new Set(rows.map((r) => r.adapter).filter(Boolean))];
  return { header, rows, params, specs, adapter: adapters.join('; ') };
}

/** The parameter to put on the x axis: sequence_length or batch_size if they vary, else the first that varies. */
export function defaultXParam(t: ResultsTable): string {
  const varies = (p: string) => new Set(t.rows.map((r) => r[`P--${p}`])).size > 1;
  for (const p of ['sequence_length', 'batch_size', 'head_dim_v'])
    if (t.params.includes(p) && varies(p)) return p;
  return t.params.find(varies) ?? t.params[0] ?? '';
}

/** `chunkwise--webgpu_xl_chunk__float16__fw__cs-128` → `xl_chunk f16 fw cs-128`. */
export function specLabel(spec: string): string {
  const [kernel, dtype, mode, extra] = spec.split('__');
  const k =
    kernel === 'cpu--core_reference_chunkwise'
      ? 'CPU reference'
      : kernel === 'ort--attention'
        ? 'ORT-web attention'
        : kernel.replace(/^(chunkwise|parallel|step)--webgpu_?/, '').replace(/^reference--/, 'ref ') ||
          kernel;
  // warm-up / repetition counts are not part of what was measured
  const rest = extra
    ?.split('_')
    .filter((e) => !/^[wr]-\d+$/.test(e))
    .join(' ');
  const d = dtype === 'float16' ? 'f16' : dtype === 'float32' ? 'f32' : (dtype ?? '');
  return [k, d, mode === 'fwbw' ? 'fw+bw' : mode, rest].filter(Boolean).join(' ');
}

export function points(t: ResultsTable, x: string, prefix: 'R--' | 'M--'): LinePoint[] {
  const out: LinePoint[] = [];
  for (const spec of t.specs) {
    for (const r of t.rows) {
      const xv = Number(r[`P--${x}`]);
      const yv = Number(r[prefix + spec]);
      if (Number.isFinite(xv) && Number.isFinite(yv) && yv >= 0)
        out.push({ x: xv, y: yv, series: specLabel(spec) });
    }
  }
  return out;
}

export async function plotSvg(
  pts: LinePoint[],
  o: { title: string; xTitle: string; yTitle: string; subtitle?: string },
): Promise<string> {
  const spec = linePlotSpec(pts, { ...o, width: 620, height: 320 }) as unknown as Record<string, unknown>;
  if (o.subtitle) {
    const t = spec.title;
    spec.title =
      typeof t === 'string'
        ? { text: t, subtitle: o.subtitle, anchor: 'start' }
        : { ...(t as object), subtitle: o.subtitle };
  }
  return renderSvg(spec as unknown as Parameters<typeof renderSvg>[0]);
}
