/** Kernel playground: one kernel call on random inputs, GPU time and error against the CPU reference. */
import { getAvailableMlstmKernels } from '@mlstm/backend';
import { kernelWorker } from '../workers/kernel-client.js';
import type { KernelRunArgs, KernelRunResult } from '../workers/protocol.js';
import { bindingLimitHint, errorText, field, fmt, h, numberInput, select, table } from '../ui.js';

export function render(root: HTMLElement): void {
  const specs = getAvailableMlstmKernels().sequence;
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const num = (k: string, d: number) => Number(params.get(k) ?? d);
  const spec = select('pg-spec', specs, params.get('kernel') ?? 'chunkwise--webgpu_xl_chunk');
  const B = numberInput('pg-B', num('B', 1));
  const NH = numberInput('pg-NH', num('NH', 2));
  const S = numberInput('pg-S', num('S', 128));
  const DHQK = numberInput('pg-DHQK', num('DHQK', 32));
  const DHHV = numberInput('pg-DHHV', num('DHHV', 64));
  const dtype = select('pg-dtype', ['f32', 'f16'], params.get('dtype') ?? 'f32');
  const chunk = select('pg-chunk', ['16', '32', '64', '128', '256'], params.get('chunk') ?? '64');
  const reps = numberInput('pg-reps', num('reps', 3), 1, 100);
  const seed = numberInput('pg-seed', num('seed', 1), 0);
  const compare = h('input', { id: 'pg-compare', type: 'checkbox', checked: true });
  const run = h('button', { id: 'pg-run' }, 'Run');
  const status = h('p', { id: 'pg-status', class: 'muted' }, 'Ready.');
  const out = h('div', { id: 'pg-result' });

  const syncControls = () => {
    const s = spec.value;
    const chunked = s.startsWith('chunkwise');
    chunk.disabled = !chunked;
    dtype.disabled = s.includes('native');
    if (s === 'chunkwise--webgpu_limit_chunk' && Number(chunk.value) > 64) chunk.value = '64';
  };
  spec.addEventListener('change', syncControls);
  syncControls();

  // f16 only where the adapter has it (the worker opens the device once)
  let ran = false;
  kernelWorker()
    .call<{ features: { shaderF16: boolean }; describe: string }>('info', null)
    .then((info) => {
      if (!info.features.shaderF16) {
        dtype.value = 'f32';
        (dtype.querySelector('option[value="f16"]') as HTMLOptionElement).disabled = true;
        dtype.title = 'this adapter has no shader-f16';
      }
      if (!ran) status.textContent = `Ready. ${info.describe.split('\n')[0]}`;
    })
    .catch((e) => {
      status.replaceChildren(
        h('span', { class: 'bad' }, `No WebGPU device: ${errorText(e)}. `),
        'CPU kernels (native_*) still run.',
      );
    });

  run.addEventListener('click', async () => {
    const args: KernelRunArgs = {
      specifier: spec.value,
      B: Number(B.value),
      NH: Number(NH.value),
      S: Number(S.value),
      DHQK: Number(DHQK.value),
      DHHV: Number(DHHV.value),
      dtype: dtype.value as 'f32' | 'f16',
      chunkSize: Number(chunk.value),
      seed: Number(seed.value),
      reps: Number(reps.value),
      compare: compare.checked,
    };
    run.disabled = true;
    ran = true;
    root.dataset.state = 'running';
    out.replaceChildren();
    const t0 = performance.now();
    try {
      const r = await kernelWorker().call<KernelRunResult>('kernel', args, (p) => {
        status.textContent = `${(p as { stage: string }).stage}… (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
      });
      status.textContent = `Done in ${((performance.now() - t0) / 1000).toFixed(1)} s.`;
      out.replaceChildren(showResult(args, r));
      root.dataset.state = 'done';
    } catch (e) {
      status.replaceChildren(h('span', { class: 'bad', id: 'pg-error' }, errorText(e)));
      const hint = bindingLimitHint(
        e,
        'parallel--webgpu_limit_headdim and the CPU kernels (native_*) run here.',
      );
      if (hint) {
        hint.id = 'pg-hint';
        status.append(hint);
      }
      root.dataset.state = 'error';
    } finally {
      run.disabled = false;
    }
  });

  root.append(
    h('h2', {}, 'Kernel playground'),
    h(
      'p',
      { class: 'muted' },
      'Runs one kernel from the registry (getMlstmKernel) on seeded random inputs q, k, v, i ~ N(0,1), f ~ 3 + N(0,1) of shape (B, NH, S, D), in a Web Worker. ',
      'WebGPU kernels are compared with the float64 CPU reference of core-reference for sizes where that is cheap.',
    ),
    h(
      'div',
      { class: 'card' },
      h(
        'div',
        { class: 'grid' },
        field('kernel specifier', spec),
        field('batch B', B),
        field('heads NH', NH),
        field('sequence S', S),
        field('head dim q/k DHQK', DHQK),
        field('head dim v DHHV', DHHV),
        field('dtype (q, k, v, h)', dtype),
        field('chunk size', chunk, 'must divide S'),
        field('timed repetitions', reps),
        field('seed', seed),
        h('label', { class: 'inline' }, compare, 'compare with CPU reference'),
      ),
      h('div', { class: 'row' }, run),
      status,
    ),
    out,
  );
  if (params.get('run') === '1') run.click();
}

function showResult(a: KernelRunArgs, r: KernelRunResult): HTMLElement {
  const rows: (string | Node)[][] = [
    ['kernel', r.specifier],
    [
      'shape',
      `B ${a.B}, NH ${a.NH}, S ${a.S}, DHQK ${a.DHQK}, DHHV ${a.DHHV}${r.specifier.startsWith('chunkwise') ? `, chunk ${a.chunkSize}` : ''}`,
    ],
    ['dtype', r.dtype],
    ['device', r.adapter],
    [
      'GPU time',
      h('span', { id: 'pg-gpu-ms' }, r.gpuMs === null ? '— (no timestamp-query)' : `${fmt(r.gpuMs)} ms`),
    ],
    ['wall time per call', `${fmt(r.wallMs)} ms (incl. upload and read-back)`],
    ['first call', `${fmt(r.firstCallMs)} ms (incl. pipeline compilation)`],
    ['timing', r.timing],
    ['h[0..8]', r.hSample.map((x) => x.toFixed(4)).join(', ')],
  ];
  const card = h('div', { class: 'card' }, h('h3', {}, 'Result'), table(['', ''], rows));
  if (r.reference) {
    const ref = r.reference;
    card.append(
      h('h3', {}, `Against the CPU reference ${ref.specifier} (${fmt(ref.ms)} ms)`),
      table(
        ['output', 'max |Δ|', 'max |reference|', 'relative'],
        ref.errors.map((e) => [e.name, fmt(e.maxAbs), fmt(e.maxRef), fmt(e.rel)]),
        [false, true, true, true],
      ),
      h(
        'p',
        {
          id: 'pg-verdict',
          class: ref.pass ? 'ok' : 'bad',
          'data-max-rel-error': String(ref.maxRelError),
          'data-tolerance': String(ref.tolerance),
          'data-pass': String(ref.pass),
        },
        `${ref.pass ? 'PASS' : 'FAIL'}: max relative error ${fmt(ref.maxRelError)} (tolerance ${fmt(ref.tolerance)} for ${r.dtype}; relative to the largest |reference| value, states to max(1, that))`,
      ),
    );
  } else if (a.compare) {
    card.append(
      h(
        'p',
        { class: 'muted', id: 'pg-verdict' },
        'No reference comparison (CPU kernel, or too large to check cheaply).',
      ),
    );
  }
  return card;
}
