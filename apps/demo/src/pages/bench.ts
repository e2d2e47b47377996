/**
 * Benchmark page: the const-token sweep of @mlstm/bench at sizes suited to the adapter (in the
 * kernel worker, with progress), plotted with the bench package's plots; and a viewer for results
 * CSVs of the bench CLI — a file, a URL, or the committed results under docs/benchmarks/.
 */
import { kernelWorker } from '../workers/kernel-client.js';
import type { BenchProgress, BenchRunArgs, BenchRunResult } from '../workers/protocol.js';
import { defaultXParam, plotSvg, points, type ResultsTable, readResultsCsv, specLabel } from '../plot.js';
import { errorText, field, fmt, h, numberInput, select, table } from '../ui.js';

const KERNELS: [string, string, number | null][] = [
  ['chunkwise--webgpu_xl_chunk', 'xl_chunk (cs 128)', 128],
  ['chunkwise--webgpu_limit_chunk', 'limit_chunk (cs 64)', 64],
  ['chunkwise--webgpu_xl_chunk_siging', 'xl_chunk_siging (cs 128, no normaliser)', 128],
  ['parallel--webgpu_limit_headdim', 'parallel limit_headdim', null],
];
/** storage buffers the chunkwise kernels bind in one stage */
/** storage buffers the chunkwise kernels bind in one stage (WebGPU's default limit is 8) */
const CHUNKWISE_BINDINGS = 8;

interface Info {
  features: { shaderF16: boolean };
  adapter: { vendor: string; architecture: string; description: string; isFallbackAdapter: boolean };
  maxStorageBuffersPerShaderStage: number;
}

export function render(root: HTMLElement): void {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  root.append(h('h2', {}, 'Benchmarks'));

  // ---- run a sweep -------------------------------------------------------------------------
  const preset = select('bn-preset', [
    ['tiny', 'tiny (software adapters: B·S 256, NH 2, DHQK 16, DHHV 32)'],
    ['default', 'default (a laptop GPU: B·S 16384, NH 16, DHQK 128, DHHV 256)'],
    ['full', "full (the paper's sweep: B·S 65536 — big GPUs only)"],
  ]);
  const tokens = numberInput('bn-tokens', 256);
  const seqLens = h('input', { id: 'bn-seqlens', type: 'text', value: '64, 128, 256' });
  const NH = numberInput('bn-nh', 2);
  const DQK = numberInput('bn-dqk', 16);
  const DV = numberInput('bn-dv', 32);
  const rep = numberInput('bn-rep', 3);
  const fw = h('input', { id: 'bn-fw', type: 'checkbox', checked: true });
  const fwbw = h('input', { id: 'bn-fwbw', type: 'checkbox' });
  const f32 = h('input', { id: 'bn-f32', type: 'checkbox', checked: true });
  const f16 = h('input', { id: 'bn-f16', type: 'checkbox' });
  const cpu = h('input', { id: 'bn-cpu', type: 'checkbox', checked: true });
  // the attention a web app's transformer would run, on the same adapter (loads onnxruntime-web)
  const attn = h('input', { id: 'bn-attn', type: 'checkbox' });
  const kernelBoxes = KERNELS.map(([k, label]) => ({
    k,
    box: h('input', { type: 'checkbox', 'data-kernel': k, checked: true }),
    label,
  }));
  const run = h('button', { id: 'bn-run' }, 'Run sweep');
  const stop = h('button', { id: 'bn-stop', disabled: true }, 'Stop');
  const bar = h('progress', { id: 'bn-progress', max: 1, value: 0 });
  const status = h('p', { id: 'bn-status', class: 'muted' }, 'Asking the kernel worker for the adapter…');
  const advice = h('p', { id: 'bn-advice' });
  const runOut = h('div', { id: 'bn-run-out' });

  const applyPreset = () => {
    const p = preset.value;
    const v =
      p === 'tiny'
        ? { t: 256, s: '64, 128, 256', nh: 2, dqk: 16, dv: 32, rep: 3 }
        : p === 'default'
          ? { t: 16384, s: '512, 1024, 2048, 4096', nh: 16, dqk: 128, dv: 256, rep: 10 }
          : {
              t: 65536,
              s: '512, 1024, 2048, 4096, 8192, 16384, 32768, 65536',
              nh: 16,
              dqk: 128,
              dv: 256,
              rep: 10,
            };
    tokens.value = String(v.t);
    seqLens.value = v.s;
    NH.value = String(v.nh);
    DQK.value = String(v.dqk);
    DV.value = String(v.dv);
    rep.value = String(v.rep);
    cpu.checked = p === 'tiny';
  };
  preset.addEventListener('change', applyPreset);

  kernelWorker()
    .call<Info>('info', null)
    .then((info) => {
      const a = info.adapter;
      const software =
        a.isFallbackAdapter ||
        /swiftshader|llvmpipe|lavapipe|software|cpu/i.test(`${a.architecture} ${a.description}`);
      preset.value = params.get('preset') ?? (software ? 'tiny' : 'default');
      applyPreset();
      const notes: string[] = [
        software
          ? 'Software adapter: the tiny preset (every pipeline compiles in about a second, kernels are slow).'
          : 'Hardware adapter: the default preset (about a minute on a laptop GPU).',
      ];
      if (!info.features.shaderF16) {
        f16.checked = false;
        f16.disabled = true;
        notes.push('No shader-f16: f32 only.');
      }
      if (info.maxStorageBuffersPerShaderStage < CHUNKWISE_BINDINGS) {
        for (const kb of kernelBoxes) if (kb.k.startsWith('chunkwise')) kb.box.checked = false;
        notes.push(
          `This adapter allows ${info.maxStorageBuffersPerShaderStage} storage buffers per shader stage; the chunkwise kernels bind ${CHUNKWISE_BINDINGS}, so only the parallel kernel is selected.`,
        );
      }
      advice.textContent = notes.join(' ');
      status.textContent = `Adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ')}`;
      if (params.get('attn') === '1') attn.checked = true;
      if (params.get('run') === '1') run.click();
    })
    .catch((e) => {
      status.replaceChildren(h('span', { class: 'bad' }, `No WebGPU device: ${errorText(e)}`));
      run.disabled = true;
    });

  stop.addEventListener('click', () => {
    kernelWorker().send('stopBench');
    stop.disabled = true;
    status.textContent = 'Stopping after the current cell…';
  });

  run.addEventListener('click', async () => {
    const modes = [fw.checked && 'fw', fwbw.checked && 'fwbw'].filter(Boolean) as ('fw' | 'fwbw')[];
    const dtypes = [f32.checked && 'float32', f16.checked && 'float16'].filter(Boolean) as string[];
    const kernels = kernelBoxes
      .filter((kb) => kb.box.checked)
      .map((kb) => {
        const cs = KERNELS.find(([k]) => k === kb.k)![2];
        return cs ? `${kb.k}:${cs}` : kb.k;
      });
    if (!modes.length || !dtypes.length || (!kernels.length && !cpu.checked && !attn.checked)) {
      status.textContent = 'Choose at least one mode, dtype and kernel.';
      return;
    }
    const args: BenchRunArgs = {
      preset: preset.value,
      modes,
      dtypes,
      tokens: Number(tokens.value),
      seqLens: seqLens.value
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number),
      numHeads: Number(NH.value),
      headDimQk: Number(DQK.value),
      headDimV: Number(DV.value),
      kernels: kernels.length ? kernels : undefined,
      cpuPeer: cpu.checked,
      attentionPeer: attn.checked,
      warmup: 1,
      rep: Number(rep.value),
    };
    run.disabled = true;
    stop.disabled = false;
    root.dataset.state = 'running';
    runOut.replaceChildren();
    const log = h('pre', { class: 'out', id: 'bn-log' });
    runOut.append(log);
    const t0 = performance.now();
    try {
      const res = await kernelWorker().call<BenchRunResult>('bench', args, (d) => {
        const p = d as BenchProgress;
        bar.max = p.total;
        bar.value = p.done;
        const ps = Object.entries(p.params)
          .filter(([k]) => ['sequence_length', 'batch_size'].includes(k))
          .map(([k, v]) => `${k === 'sequence_length' ? 'S' : 'B'}=${v}`)
          .join(' ');
        status.textContent = `${p.done} / ${p.total} cells · ${p.benchmark} · ${p.spec} · ${ps} · ${((performance.now() - t0) / 1000).toFixed(1)} s`;
        if (p.runtimeMs !== undefined)
          log.textContent += `${p.benchmark} ${ps.padEnd(14)} ${specLabel(p.spec).padEnd(40)} ${
            p.error ? p.error : `${fmt(p.runtimeMs)} ms`
          }\n`;
      });
      status.textContent = `Done: ${res.runs.length} benchmark(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s.`;
      for (const r of res.runs) {
        const t = readResultsCsv(r.csv);
        const card = await resultsCard(t, `${r.title} — this browser`, r.benchmarkName);
        const blob = URL.createObjectURL(new Blob([r.csv], { type: 'text/csv' }));
        card.append(
          h(
            'p',
            {},
            h(
              'a',
              { href: blob, download: `${r.benchmarkName}.csv`, class: 'bn-download' },
              `Download ${r.benchmarkName}.csv`,
            ),
          ),
        );
        if (r.errors.length)
          card.append(
            h(
              'details',
              {},
              h('summary', {}, `${r.errors.length} cell(s) failed or skipped`),
              h('pre', { class: 'out' }, r.errors.join('\n')),
            ),
          );
        runOut.append(card);
      }
      root.dataset.state = 'done';
    } catch (e) {
      status.replaceChildren(h('span', { class: 'bad' }, errorText(e)));
      root.dataset.state = 'error';
    } finally {
      run.disabled = false;
      stop.disabled = true;
    }
  });

  root.append(
    h(
      'div',
      { class: 'card' },
      h('h3', {}, 'Run the const-token sweep here'),
      h(
        'p',
        { class: 'muted' },
        'B·S fixed, S swept (upstream consttoken suite), inputs random on the GPU; GPU time from timestamp-query where the adapter has it. Runs in a Web Worker.',
      ),
      h(
        'div',
        { class: 'grid' },
        field('preset', preset),
        field('tokens B·S', tokens),
        field('sequence lengths S', seqLens),
        field('heads NH', NH),
        field('DHQK', DQK),
        field('DHHV', DV),
        field('repetitions', rep),
      ),
      h(
        'div',
        { class: 'row' },
        'kernels:',
        kernelBoxes.map((kb) => h('label', { class: 'inline' }, kb.box, kb.label)),
        h('label', { class: 'inline' }, cpu, 'CPU reference (peer)'),
        h('label', { class: 'inline' }, attn, 'ORT-web attention, causal (peer, forward)'),
      ),
      h(
        'div',
        { class: 'row' },
        h('label', { class: 'inline' }, fw, 'forward'),
        h('label', { class: 'inline' }, fwbw, 'forward + backward'),
        h('label', { class: 'inline' }, f32, 'float32'),
        h('label', { class: 'inline' }, f16, 'float16'),
      ),
      advice,
      h('div', { class: 'row' }, run, stop),
      bar,
      status,
      runOut,
    ),
  );

  // ---- view results CSVs -------------------------------------------------------------------------
  const file = h('input', { id: 'bn-file', type: 'file', accept: '.csv,text/csv' });
  const url = h('input', { id: 'bn-url', type: 'url', placeholder: 'https://…/results.csv', size: 50 });
  const loadUrl = h('button', { id: 'bn-load-url' }, 'Load URL');
  const committed = select('bn-committed', [['', '(loading the list…)']]);
  const viewStatus = h('p', { id: 'bn-view-status', class: 'muted' });
  const viewOut = h('div', { id: 'bn-view-out' });

  const show = async (text: string, name: string) => {
    viewStatus.textContent = `Loading ${name}…`;
    try {
      const t = readResultsCsv(text);
      viewOut.replaceChildren(await resultsCard(t, name, name));
      viewStatus.textContent = `${name}: ${t.rows.length} rows, ${t.specs.length} kernel columns.`;
      root.dataset.view = 'done';
    } catch (e) {
      viewStatus.replaceChildren(h('span', { class: 'bad' }, `${name}: ${errorText(e)}`));
      root.dataset.view = 'error';
    }
  };
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (f) await show(await f.text(), f.name);
  });
  loadUrl.addEventListener('click', async () => {
    try {
      const r = await fetch(url.value);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      await show(await r.text(), url.value);
    } catch (e) {
      viewStatus.replaceChildren(h('span', { class: 'bad' }, `${url.value}: ${errorText(e)}`));
    }
  });
  committed.addEventListener('change', async () => {
    if (!committed.value) return;
    const r = await fetch(`benchmarks/${committed.value}`);
    await show(await r.text(), `docs/benchmarks/${committed.value}`);
  });
  fetch('benchmarks/index.json')
    .then((r) => r.json() as Promise<{ file: string; started: string | null }[]>)
    .then((list) => {
      // newest run first (the server sorts by the run's start time); the first one is marked and shown
      committed.replaceChildren(
        h(
          'option',
          { value: '' },
          list.length
            ? `— ${list.length} committed result file(s), newest first —`
            : '(no results CSV committed under docs/benchmarks/ yet)',
        ),
        ...list.map((e, x) =>
          h(
            'option',
            { value: e.file },
            `${e.file}${e.started ? ` — ${e.started.slice(0, 16).replace('T', ' ')} UTC` : ''}${x === 0 ? ' (newest)' : ''}`,
          ),
        ),
      );
      committed.dataset.count = String(list.length);
      committed.dataset.newest = list[0]?.file ?? '';
      if (list.length && params.get('view') !== 'none') {
        committed.value = list[0].file;
        committed.dispatchEvent(new Event('change'));
      }
    })
    .catch(() => committed.replaceChildren(h('option', { value: '' }, '(no list of committed results)')));

  root.append(
    h(
      'div',
      { class: 'card' },
      h('h3', {}, 'View results (CSV of the bench CLI)'),
      h(
        'p',
        { class: 'muted' },
        'A results.csv written by `pnpm bench` (mlstm-bench), e.g. the H100 results committed under docs/benchmarks/.',
      ),
      h('div', { class: 'row' }, field('committed results', committed)),
      h('div', { class: 'row' }, field('a file', file), field('or a URL', url), loadUrl),
      viewStatus,
      viewOut,
    ),
  );
}

/** A card with the runtime plot, the memory plot (if recorded) and the table. */
async function resultsCard(t: ResultsTable, title: string, id: string): Promise<HTMLElement> {
  const x = defaultXParam(t);
  const card = h('div', { class: 'card results', 'data-results': id });
  const xSel = select(`x-${id}`, t.params, x);
  const plots = h('div', {});
  const draw = async () => {
    const xp = xSel.value;
    const runtime = await plotSvg(points(t, xp, 'R--'), {
      title,
      subtitle: t.adapter ? `adapter: ${t.adapter}` : undefined,
      xTitle: xp,
      yTitle: 'Time [ms]',
    });
    const mem = points(t, xp, 'M--');
    const divs = [h('div', { class: 'plot plot-runtime' })];
    divs[0].innerHTML = runtime;
    if (mem.some((p) => p.y > 0)) {
      const d = h('div', { class: 'plot plot-memory' });
      d.innerHTML = await plotSvg(mem, {
        title: `${title}: peak memory`,
        xTitle: xp,
        yTitle: 'Memory [bytes]',
      });
      divs.push(d);
    }
    plots.replaceChildren(...divs);
  };
  xSel.addEventListener('change', () => void draw());
  await draw();
  const shown = t.params.filter((p) => new Set(t.rows.map((r) => r[`P--${p}`])).size > 1 || p === x);
  card.append(
    h('div', { class: 'row' }, field('x axis', xSel)),
    plots,
    h(
      'details',
      {},
      h('summary', {}, 'table (ms)'),
      table(
        [...shown, ...t.specs.map(specLabel)],
        t.rows.map((r) => [
          ...shown.map((p) => r[`P--${p}`]),
          ...t.specs.map((s) => {
            const v = Number(r[`R--${s}`]);
            return r[`R--${s}`] === '' || !Number.isFinite(v) || v < 0 ? '—' : fmt(v);
          }),
        ]),
        [...shown.map(() => true), ...t.specs.map(() => true)],
      ),
    ),
  );
  return card;
}
