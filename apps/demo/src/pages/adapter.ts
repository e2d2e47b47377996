/** Adapter page: is there WebGPU, which adapter, its features and limits — and what to do if not. */
import { getGpuContext } from '@mlstm/kernels-webgpu';
import { errorText, h, table } from '../ui.js';

const KEY_FEATURES: [string, string][] = [
  ['shader-f16', 'f16 storage and arithmetic (kernels run in f32 without it)'],
  ['subgroups', 'subgroup operations'],
  ['chromium-experimental-subgroup-matrix', 'subgroup matrices (tensor-core style MMA)'],
  ['timestamp-query', 'GPU timestamps (kernel times on the GPU itself)'],
];

const KEY_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'minStorageBufferOffsetAlignment',
];

/** What to do without WebGPU, tailored a little to what we can see. */
export function noWebGpuHelp(reason: string): HTMLElement {
  const ua = navigator.userAgent;
  const tips: (string | Node)[] = [];
  if (!window.isSecureContext)
    tips.push(
      'This page is not a secure context: WebGPU needs https:// or http://localhost / http://127.0.0.1. Open the demo through `pnpm demo` on this machine or serve it over https.',
    );
  if (/Firefox\//.test(ua))
    tips.push(
      'Firefox: WebGPU is on by default from version 141 on Windows; elsewhere set dom.webgpu.enabled in about:config.',
    );
  else if (/Safari\//.test(ua) && !/Chrome\//.test(ua))
    tips.push(
      'Safari: WebGPU is on by default from Safari 26 (macOS Tahoe / iOS 26); earlier: Develop → Feature Flags → WebGPU.',
    );
  else
    tips.push(
      'Chrome / Edge 113+ have WebGPU on Windows, macOS and ChromeOS. On Linux enable chrome://flags/#enable-unsafe-webgpu (and chrome://flags/#enable-vulkan), or start Chromium with --enable-unsafe-webgpu.',
    );
  tips.push(
    'Check chrome://gpu (or edge://gpu): "WebGPU: Hardware accelerated". A blocklisted GPU driver or remote desktop can disable it; --enable-unsafe-webgpu and --ignore-gpu-blocklist override that.',
    'No GPU at all? Chromium runs WebGPU on its software adapter (SwiftShader) with --enable-unsafe-webgpu: slow, but every page of this demo works (f32 only).',
    'The model page can still run without WebGPU: it falls back to the CPU path of @mlstm/hf-model.',
  );
  return h(
    'div',
    { class: 'card warn', id: 'no-webgpu' },
    h('h3', {}, 'WebGPU is not available'),
    h('p', {}, reason),
    h(
      'ul',
      {},
      tips.map((t) => h('li', {}, t)),
    ),
  );
}

export async function render(root: HTMLElement): Promise<void> {
  const status = h('p', { id: 'adapter-status' }, 'Requesting a WebGPU adapter…');
  root.append(h('h2', {}, 'WebGPU adapter'), status);
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) {
    status.textContent = 'navigator.gpu is missing.';
    root.append(noWebGpuHelp('This browser exposes no navigator.gpu.'));
    root.dataset.state = 'no-webgpu';
    return;
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    status.textContent = errorText(e);
  }
  if (!adapter) {
    status.textContent = 'requestAdapter() returned no adapter.';
    root.append(
      noWebGpuHelp('navigator.gpu exists, but requestAdapter() found no adapter (disabled or blocklisted).'),
    );
    root.dataset.state = 'no-webgpu';
    return;
  }
  const info = adapter.info;
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  status.replaceChildren(
    h('span', { class: 'ok' }, 'WebGPU is available. '),
    fallback
      ? h('span', { class: 'bad' }, 'This is a software (fallback) adapter: expect slow kernels.')
      : '',
  );
  root.append(
    h(
      'div',
      { class: 'card' },
      h('h3', {}, 'Adapter'),
      table(
        ['', ''],
        [
          ['vendor', info.vendor || '—'],
          ['architecture', info.architecture || '—'],
          ['device', info.device || '—'],
          ['description', info.description || '—'],
          ['fallback adapter', fallback ? 'yes' : 'no'],
          [
            'subgroup sizes',
            `${(info as { subgroupMinSize?: number }).subgroupMinSize ?? '?'}–${(info as { subgroupMaxSize?: number }).subgroupMaxSize ?? '?'}`,
          ],
        ],
      ),
    ),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, 'Features the kernels use'),
      table(
        ['feature', 'present', 'used for'],
        KEY_FEATURES.map(([f, why]) => [
          f,
          h(
            'span',
            { class: adapter.features.has(f) ? 'ok' : 'bad', 'data-feature': f },
            adapter.features.has(f) ? 'yes' : 'no',
          ),
          why,
        ]),
      ),
      h('h3', {}, `All adapter features (${adapter.features.size})`),
      h(
        'div',
        { class: 'chips', id: 'feature-list' },
        [...adapter.features].sort().map((f) => h('span', { class: 'on' }, f)),
      ),
    ),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, 'Limits'),
      table(
        ['limit', 'adapter'],
        KEY_LIMITS.map((l) => [l, String((adapter.limits as unknown as Record<string, number>)[l] ?? '—')]),
        [false, true],
      ),
      h(
        'details',
        {},
        h('summary', {}, 'every limit'),
        table(
          ['limit', 'adapter'],
          Object.keys(Object.getPrototypeOf(adapter.limits))
            .filter((k) => typeof (adapter.limits as unknown as Record<string, unknown>)[k] === 'number')
            .sort()
            .map((k) => [k, String((adapter.limits as unknown as Record<string, number>)[k])]),
          [false, true],
        ),
      ),
    ),
  );
  // The device the kernels get (what getGpuContext requested), as the library prints it.
  const ctxCard = h('div', { class: 'card' }, h('h3', {}, 'Kernel device (getGpuContext)'), 'opening…');
  root.append(ctxCard);
  try {
    const ctx = await getGpuContext({ powerPreference: 'high-performance' });
    ctxCard.replaceChildren(
      h('h3', {}, 'Kernel device (getGpuContext)'),
      h('pre', { class: 'out', id: 'ctx-describe' }, ctx.describe()),
      h(
        'p',
        { class: 'muted' },
        ctx.features.shaderF16
          ? 'f16 kernels are available.'
          : 'No shader-f16: every kernel runs in f32 (choose dtype f32 in the playground).',
      ),
      ctx.limits.maxStorageBuffersPerShaderStage < 8
        ? h(
            'p',
            { class: 'bad', id: 'binding-limit' },
            `maxStorageBuffersPerShaderStage is ${ctx.limits.maxStorageBuffersPerShaderStage}, below WebGPU's default of 8 that the mLSTM kernels are built for: some kernels may fail on this adapter.`,
          )
        : '',
    );
    ctx.destroy();
    root.dataset.state = 'done';
  } catch (e) {
    ctxCard.append(h('p', { class: 'bad' }, errorText(e)));
    root.dataset.state = 'error';
  }
}
