/** A few DOM helpers (no UI framework: four small pages do not need one). */
type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else if (k in el && typeof v !== 'string') (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** A labelled input. */
export function field(label: string, input: HTMLElement, hint?: string): HTMLLabelElement {
  return h('label', {}, label, input, hint ? h('span', { class: 'muted' }, hint) : null);
}

export function numberInput(id: string, value: number, min = 1, max?: number, step = 1): HTMLInputElement {
  return h('input', { id, type: 'number', value: String(value), min, max, step });
}

export function select(
  id: string,
  options: (string | [string, string])[],
  value?: string,
): HTMLSelectElement {
  const s = h(
    'select',
    { id },
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o];
      return h('option', { value: v }, text);
    }),
  );
  if (value !== undefined) s.value = value;
  return s;
}

export function table(
  head: string[],
  rows: (string | number | Node)[][],
  numeric: boolean[] = [],
): HTMLTableElement {
  return h(
    'table',
    {},
    head.some((c) => c)
      ? h(
          'thead',
          {},
          h(
            'tr',
            {},
            head.map((c) => h('th', {}, c)),
          ),
        )
      : null,
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          r.map((c, j) => h('td', { class: numeric[j] ? 'num' : undefined }, c)),
        ),
      ),
    ),
  );
}

export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e3 && a < 1e7) return Math.round(x).toString();
  return a >= 1e7 || a < 1e-3 ? x.toExponential(2) : x.toPrecision(digits);
}

export function bytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${u[i]}`;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** An explanation for the WebGPU validation error of a kernel that binds more storage buffers than the adapter allows. */
export function bindingLimitHint(e: unknown, alternatives: string): HTMLElement | null {
  const m = /number of storage buffers \((\d+)\).*maximum per-stage limit \((\d+)\)/.exec(String(e));
  if (!m) return null;
  return h(
    'p',
    { class: 'binding-hint' },
    `A kernel binds ${m[1]} storage buffers in one shader stage, but this adapter allows only ${m[2]} (maxStorageBuffersPerShaderStage). `,
    `It needs an adapter that allows at least ${m[1]} (see the Adapter page for this one's limits). `,
    alternatives,
  );
}
