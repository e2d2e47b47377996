/**
 * Model page: an xLSTM checkpoint (the tiny fixture model served with the app, a URL / Hugging
 * Face repo id, or local files) loaded by @mlstm/hf-model in a Web Worker; download progress, a
 * memory estimate, streamed text with a stop button, tokens per second; and a chat whose state
 * is kept across turns (each turn prefills only its own text) and saved in IndexedDB.
 */
import type { MemoryEstimate } from '@mlstm/hf-model';
import { WorkerClient } from '../rpc.js';
import type {
  ChatArgs,
  ChatDone,
  ChatOpened,
  ChatProgress,
  GenerateArgs,
  GenerateDone,
  LoadArgs,
  LoadDone,
  ModelProgress,
} from '../workers/model-protocol.js';
import { bindingLimitHint, bytes, errorText, field, fmt, h, numberInput, select, table } from '../ui.js';

let client: WorkerClient | undefined;
function worker(): WorkerClient {
  client ??= new WorkerClient(
    new Worker(new URL('../workers/model.worker.ts', import.meta.url), { type: 'module' }),
  );
  return client;
}

export function render(root: HTMLElement): void {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const tinyUrl = new URL('models/xlstm-tiny', location.href.split('#')[0]).href;

  // ---- loading ----
  const sourceKind = select(
    'md-source',
    [
      ['tiny', 'tiny fixture xLSTM (served with this app, random weights)'],
      ['url', 'a URL of a model folder, or a Hugging Face repo id'],
      ['files', 'local files (config.json, model.safetensors, tokenizer.json …)'],
    ],
    params.get('source') ?? 'tiny',
  );
  const url = h('input', {
    id: 'md-url',
    type: 'text',
    size: 60,
    value: params.get('url') ?? 'NX-AI/xLSTM-7b',
  });
  const files = h('input', { id: 'md-files', type: 'file', multiple: true });
  const device = select('md-device', ['auto', 'webgpu', 'cpu'], params.get('device') ?? 'auto');
  const weightDtype = select('md-wdtype', ['auto', 'f32', 'f16', 'q8', 'q4'], 'auto');
  const cache = h('input', { id: 'md-cache', type: 'checkbox' });
  const load = h('button', { id: 'md-load' }, 'Load');
  const bar = h('progress', { id: 'md-progress', max: 1, value: 0 });
  const loadStatus = h('p', { id: 'md-load-status', class: 'muted' }, 'No model loaded.');
  const estimate = h('div', { id: 'md-estimate' });
  const urlRow = h('div', { class: 'row' }, field('URL or repo id', url));
  const filesRow = h('div', { class: 'row' }, field('files (pick all of a model folder)', files));
  const syncSource = () => {
    urlRow.hidden = sourceKind.value !== 'url';
    filesRow.hidden = sourceKind.value !== 'files';
    cache.checked = sourceKind.value === 'url';
    cache.disabled = sourceKind.value === 'files';
  };
  sourceKind.addEventListener('change', syncSource);
  syncSource();

  // ---- generation ----
  const promptKind = select(
    'md-prompt-kind',
    [
      ['text', 'text'],
      ['ids', 'token ids (comma-separated)'],
    ],
    params.get('ids') ? 'ids' : 'text',
  );
  const prompt = h('textarea', { id: 'md-prompt', rows: 3, cols: 80 });
  prompt.value = params.get('ids') ?? params.get('prompt') ?? 'The matrix memory';
  const maxNew = numberInput('md-max', Number(params.get('max') ?? 48), 1, 4096);
  const temperature = numberInput('md-temp', Number(params.get('temperature') ?? 0), 0, 5, 0.05);
  const topK = numberInput('md-topk', 0, 0);
  const topP = numberInput('md-topp', 1, 0.01, 1, 0.01);
  const seed = numberInput('md-seed', 42, 0);
  const stopEot = h('input', { id: 'md-stop-eot', type: 'checkbox', checked: params.get('stopEot') !== '0' });
  const gen = h('button', { id: 'md-generate', disabled: true }, 'Generate');
  const stop = h('button', { id: 'md-stop', disabled: true }, 'Stop');
  const out = h('pre', { class: 'out', id: 'md-output' });
  const ids = h('p', { class: 'muted', id: 'md-token-ids' });
  const stats = h('p', { id: 'md-stats' });

  // ---- chat ----
  const chatLog = h('div', { id: 'md-chat-log', class: 'chat-log' });
  const chatInput = h('input', {
    id: 'md-chat-input',
    type: 'text',
    size: 60,
    value: params.get('chat') ?? '',
  });
  const chatSend = h('button', { id: 'md-chat-send', disabled: true }, 'Send');
  const chatReset = h('button', { id: 'md-chat-reset', disabled: true }, 'New conversation');
  const chatStats = h('p', { id: 'md-chat-stats', class: 'muted' }, 'Load a model with a tokenizer to chat.');
  const chatLine = (role: string, content: string) =>
    h('p', { class: `chat-${role}` }, h('b', {}, `${role}: `), h('span', {}, content));
  const showChat = (o: ChatOpened) => {
    chatLog.replaceChildren(...o.messages.map((m) => chatLine(m.role, m.content)));
    chatStats.dataset.seen = String(o.tokensSeen);
    chatStats.dataset.restored = String(o.restored);
    chatStats.textContent = o.restored
      ? `Conversation restored from IndexedDB: ${o.messages.length} messages, ${o.tokensSeen} tokens in the state (not re-read).`
      : `New conversation.${o.note ? ` ${o.note}` : ''}`;
  };

  let loaded: LoadDone | null = null;

  load.addEventListener('click', async () => {
    let source: LoadArgs['source'];
    if (sourceKind.value === 'tiny') source = { kind: 'url', url: tinyUrl, listing: `${tinyUrl}/files.json` };
    else if (sourceKind.value === 'url') source = { kind: 'url', url: url.value.trim() };
    else {
      const list = [...(files.files ?? [])];
      if (!list.length) {
        loadStatus.textContent = 'Choose the files of a model first.';
        return;
      }
      source = { kind: 'files', files: list };
    }
    const args: LoadArgs = {
      source,
      device: device.value as LoadArgs['device'],
      weightDtype: weightDtype.value as LoadArgs['weightDtype'],
      cache: cache.checked,
      estimateSeqLen: 512,
    };
    load.disabled = true;
    gen.disabled = true;
    loaded = null;
    root.dataset.state = 'loading';
    bar.value = 0;
    estimate.replaceChildren();
    loadStatus.textContent = 'Reading config.json…';
    try {
      loaded = await worker().call<LoadDone>('load', args, (d) => {
        const p = d as ModelProgress;
        if (p.kind === 'estimate')
          estimate.replaceChildren(
            estimateCard([p.f32, p.f16, p.q8, p.q4], p.dims, p.seqLen, p.maxStorageBufferBindingSize),
          );
        else if (p.kind === 'download') {
          if (p.total) {
            bar.max = p.total;
            bar.value = p.loaded;
          }
          loadStatus.textContent = `Loading ${p.file}: ${bytes(p.loaded)}${p.total ? ` of ${bytes(p.total)}` : ''}`;
        }
      });
      bar.max = 1;
      bar.value = 1;
      loadStatus.replaceChildren(
        h('span', { class: 'ok' }, 'Loaded '),
        `${loaded.blocks} blocks, hidden ${loaded.hidden}, vocabulary ${loaded.vocabSize}, on `,
        h('b', { id: 'md-device-used' }, loaded.device),
        ` in ${fmt(loaded.loadMs)} ms${loaded.tokenizer ? '' : ' — no tokenizer.json: give prompts as token ids'}.`,
      );
      if (!loaded.tokenizer) promptKind.value = 'ids';
      gen.disabled = false;
      if (loaded.tokenizer) {
        showChat(await worker().call<ChatOpened>('chatOpen', null));
        chatSend.disabled = false;
        chatReset.disabled = false;
      }
      root.dataset.state = 'loaded';
      if (params.get('run') === '1') gen.click();
    } catch (e) {
      loadStatus.replaceChildren(h('span', { class: 'bad' }, errorText(e)));
      root.dataset.state = 'error';
    } finally {
      load.disabled = false;
    }
  });

  gen.addEventListener('click', async () => {
    let promptIds: number[] | null = null;
    if (promptKind.value === 'ids') {
      promptIds = prompt.value
        .split(/[\s,[\]]+/)
        .filter(Boolean)
        .map(Number);
      if (promptIds.some((x) => !Number.isInteger(x) || x < 0 || (loaded && x >= loaded.vocabSize))) {
        stats.replaceChildren(
          h('span', { class: 'bad' }, 'token ids must be integers in [0, vocabulary size)'),
        );
        return;
      }
    }
    const args: GenerateArgs = {
      prompt: prompt.value,
      promptIds,
      maxNewTokens: Number(maxNew.value),
      temperature: Number(temperature.value),
      topK: Number(topK.value),
      topP: Number(topP.value),
      seed: Number(seed.value),
      stopAtEndOfText: stopEot.checked,
    };
    gen.disabled = true;
    load.disabled = true;
    stop.disabled = false;
    root.dataset.state = 'generating';
    out.replaceChildren(
      h('span', { class: 'muted' }, promptIds ? `[${promptIds.join(', ')}]` : prompt.value),
    );
    const gotText = h('span', { id: 'md-generated' });
    out.append(gotText);
    const tokenIds: number[] = [];
    ids.textContent = '';
    stats.textContent = 'prefill…';
    try {
      const r = await worker().call<GenerateDone>('generate', args, (d) => {
        const p = d as ModelProgress;
        if (p.kind !== 'token') return;
        tokenIds.push(p.token);
        gotText.textContent += p.text;
        ids.textContent = `generated ids: ${tokenIds.join(', ')}`;
        stats.textContent = `${tokenIds.length} tokens · time to first token ${fmt(p.ttftMs)} ms${
          p.tokPerS ? ` · ${fmt(p.tokPerS)} tokens/s` : ''
        }`;
      });
      ids.textContent = `generated ids: ${r.tokens.join(', ')}`;
      ids.dataset.tokens = r.tokens.join(',');
      stats.replaceChildren(
        r.stopped ? h('span', { class: 'bad', id: 'md-stopped' }, 'Stopped. ') : '',
        `${r.tokens.length} tokens on ${r.device} · time to first token (prefill) ${fmt(r.ttftMs)} ms · `,
        h('b', { id: 'md-tps' }, r.tokPerS ? `${fmt(r.tokPerS)} tokens/s` : '—'),
        ' decoding · total ',
        `${fmt(r.totalMs)} ms`,
      );
      root.dataset.state = 'done';
    } catch (e) {
      stats.replaceChildren(h('span', { class: 'bad' }, errorText(e)));
      const hint = bindingLimitHint(
        e,
        `Prompts shorter than the model's chunk size skip the chunkwise kernel; or load the model with device "cpu".`,
      );
      if (hint) stats.append(hint);
      root.dataset.state = 'error';
    } finally {
      gen.disabled = false;
      load.disabled = false;
      stop.disabled = true;
    }
  });
  chatSend.addEventListener('click', async () => {
    const message = chatInput.value.trim();
    if (!message) return;
    const args: ChatArgs = {
      message,
      maxNewTokens: Number(maxNew.value),
      temperature: Number(temperature.value),
      seed: Number(seed.value),
      stopAtEndOfText: stopEot.checked,
    };
    chatSend.disabled = true;
    gen.disabled = true;
    root.dataset.state = 'generating';
    chatLog.append(chatLine('user', message));
    const reply = h('span', {});
    chatLog.append(h('p', { class: 'chat-assistant' }, h('b', {}, 'assistant: '), reply));
    chatInput.value = '';
    try {
      const r = await worker().call<ChatDone>('chat', args, (d) => {
        reply.textContent += (d as ChatProgress).text;
      });
      reply.textContent = r.reply;
      chatStats.dataset.prefill = String(r.prefillTokens);
      chatStats.dataset.seen = String(r.tokensSeen);
      chatStats.dataset.turns = String(r.turns);
      chatStats.textContent = `Turn ${r.turns}: prefilled ${r.prefillTokens} tokens (this turn only); the state holds ${r.tokensSeen} tokens of conversation; snapshot saved to IndexedDB (${bytes(r.savedBytes)}).`;
      root.dataset.state = 'done';
    } catch (e) {
      chatStats.replaceChildren(h('span', { class: 'bad' }, errorText(e)));
      root.dataset.state = 'error';
    } finally {
      chatSend.disabled = false;
      gen.disabled = false;
    }
  });
  chatInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') chatSend.click();
  });
  chatReset.addEventListener('click', async () => {
    showChat(await worker().call<ChatOpened>('chatReset', null));
  });
  stop.addEventListener('click', () => {
    worker().send('stop');
    stop.disabled = true;
  });

  root.append(
    h('h2', {}, 'xLSTM text generation'),
    h(
      'p',
      { class: 'muted' },
      '@mlstm/hf-model in a Web Worker: WebGPU when there is an adapter (else the CPU path). The tiny fixture model has random weights, so its text is gibberish; its greedy tokens match transformers exactly.',
    ),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, '1. Load a checkpoint'),
      h(
        'div',
        { class: 'grid' },
        field('source', sourceKind),
        field('device', device),
        field(
          'GPU weight dtype',
          weightDtype,
          'f16 needs shader-f16; q8 / q4 quantise while loading (groups of 32, f16 scales)',
        ),
        h('label', { class: 'inline' }, cache, 'cache downloads (Cache API)'),
      ),
      urlRow,
      filesRow,
      h('div', { class: 'row' }, load),
      bar,
      loadStatus,
      estimate,
    ),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, '2. Generate'),
      h('div', { class: 'row' }, field('prompt as', promptKind)),
      prompt,
      h(
        'div',
        { class: 'grid' },
        field('max new tokens', maxNew),
        field('temperature', temperature, '0 = greedy'),
        field('top-k', topK, '0 = off'),
        field('top-p', topP),
        field('seed', seed),
        h('label', { class: 'inline' }, stopEot, 'stop at end-of-text'),
      ),
      h('div', { class: 'row' }, gen, stop),
      out,
      stats,
      ids,
    ),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, '3. Chat'),
      h(
        'p',
        { class: 'muted' },
        'The recurrent state is kept across turns: each turn prefills only its own text, never the history, and the state (a fixed size, whatever the length of the conversation) is saved in IndexedDB after every turn, so a reload continues the conversation. Uses the generation settings above.',
      ),
      chatLog,
      h('div', { class: 'row' }, chatInput, chatSend, chatReset),
      chatStats,
    ),
  );
  if (params.get('run') === '1') load.click();
}

/** The estimate per weight format: f32, f16, q8 (f16 tables), q4 (q8 tables). */
function estimateCard(
  est: [MemoryEstimate, MemoryEstimate, MemoryEstimate, MemoryEstimate],
  dims: Record<string, number>,
  seqLen: number,
  maxBinding: number | null,
): HTMLElement {
  const [f32, f16] = est;
  const row = (name: string, get: (e: MemoryEstimate) => number) => [name, ...est.map((e) => bytes(get(e)))];
  return h(
    'div',
    { id: 'md-estimate-card' },
    h('h3', {}, 'Memory estimate (before loading)'),
    h(
      'p',
      { class: 'muted' },
      `${f32.parameters.toLocaleString('en')} parameters · ${dims.blocks} blocks · hidden ${dims.H} · ${dims.NH} heads · vocabulary ${dims.V}`,
    ),
    table(
      ['', 'f32 weights', 'f16 weights', 'q8 weights', 'q4 weights'],
      [
        row('weights', (e) => e.weightBytes),
        row('largest tensor', (e) => e.largestTensor.bytes),
        row('recurrent state per sequence (f32)', (e) => e.stateBytesPerSequence),
        row(`activations of a ${seqLen}-token prompt`, (e) => e.activationBytes),
        row('total (batch 1)', (e) => e.totalBytes),
      ],
      [false, true, true, true, true],
    ),
    maxBinding === null
      ? ''
      : h(
          'p',
          { class: 'muted', id: 'md-binding' },
          `Adapter binding limit (maxStorageBufferBindingSize) ${bytes(maxBinding)}: `,
          f32.largestTensor.bytes <= maxBinding
            ? 'every weight matrix fits one binding.'
            : f16.largestTensor.bytes <= maxBinding
              ? 'f16 weights fit one binding each; f32 weights larger than the limit are uploaded in row parts.'
              : 'the largest weight matrices are uploaded in row parts (one dispatch per part).',
        ),
  );
}
