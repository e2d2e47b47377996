import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readSafetensors } from '@mlstm/core-reference/testing';
import { XlstmTokenizer } from '@mlstm/hf-model';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  artifactsDir,
  CHROMIUM,
  consoleErrors,
  CHROMIUM_ARGS,
  repoDir,
  type Harness,
  openPage,
  screenshot,
  startHarness,
  waitState,
} from './harness.js';

let hns: Harness;

beforeAll(async () => {
  hns = await startHarness();
});

afterAll(async () => {
  await hns?.close();
});

describe('demo in headless Chromium (SwiftShader WebGPU)', () => {
  test('adapter page shows the adapter, its features and limits', async () => {
    const { page, log } = await openPage(hns, 'adapter');
    await waitState(page, log);
    const text = await page.innerText('#app');
    expect(text).toContain('WebGPU is available');
    expect(text).toMatch(/swiftshader/i);
    expect(text).toContain('maxStorageBufferBindingSize');
    // SwiftShader has no shader-f16: the page says so
    expect(await page.getAttribute('[data-feature="shader-f16"]', 'class')).toBe('bad');
    expect(await page.innerText('#ctx-describe')).toMatch(/^adapter: .*swiftshader/im);
    await screenshot(page, 'adapter');
    await page.close();
  });

  test('kernel playground: parallel limit_headdim (f32) matches the CPU reference', async () => {
    const { page, log } = await openPage(
      hns,
      'playground?kernel=parallel--webgpu_limit_headdim&B=1&NH=2&S=128&DHQK=32&DHHV=64&run=1',
    );
    await waitState(page, log, 90_000);
    const verdict = page.locator('#pg-verdict');
    const rel = Number(await verdict.getAttribute('data-max-rel-error'));
    const tol = Number(await verdict.getAttribute('data-tolerance'));
    expect(tol).toBe(1e-4);
    expect(rel).toBeGreaterThan(0); // a real comparison happened (f32 GPU vs float64 CPU)
    expect(rel).toBeLessThan(tol);
    expect(await verdict.innerText()).toContain('PASS');
    // SwiftShader has timestamp-query: the GPU time is a number of milliseconds
    expect(await page.innerText('#pg-gpu-ms')).toMatch(/^[0-9.e-]+ ms$/);
    await screenshot(page, 'playground');
    await page.close();
  });

  test('kernel playground: chunkwise xl_chunk matches the CPU reference (f32)', async () => {
    const { page, log } = await openPage(
      hns,
      'playground?kernel=chunkwise--webgpu_xl_chunk&S=128&chunk=64&run=1',
    );
    await page.waitForFunction(
      () => ['done', 'error'].includes(document.getElementById('app')!.dataset.state!),
      undefined,
      {
        timeout: 90_000,
      },
    );
    // every chunkwise kernel binds at most 8 storage buffers, so it runs on SwiftShader (10) too
    expect(await page.getAttribute('#app', 'data-state'), log.join('\n')).toBe('done');
    const verdict = page.locator('#pg-verdict');
    expect(Number(await verdict.getAttribute('data-max-rel-error'))).toBeLessThan(1e-4);
    await screenshot(page, 'playground-xl-chunk');
    await page.close();
  });

  test('benchmark page: the ORT-web attention peer runs beside the kernels on the same adapter', async () => {
    const { page, log } = await openPage(hns, 'bench?run=1&attn=1&view=none');
    await waitState(page, log, 180_000);
    const runLog = await page.innerText('#bn-log');
    expect(runLog).toMatch(/ORT-web attention MHA causal f32[^\n]*\s[0-9.e+-]+ ms/);
    expect(runLog).not.toMatch(/Error/);
    expect(await page.locator('#bn-run-out .plot-runtime').innerHTML()).toContain('ORT-web attention');
    const csv = await page.evaluate(async () => {
      const a = document.querySelector<HTMLAnchorElement>('#bn-run-out a.bn-download')!;
      return (await fetch(a.href)).text();
    });
    const rows = csv.trim().split('\n');
    const col = rows[0].split(',').findIndex((h) => h.startsWith('R--ort--attention__float32__fw'));
    expect(col).toBeGreaterThan(0);
    for (const r of rows.slice(1)) expect(Number(r.split(',')[col])).toBeGreaterThan(0);
    await screenshot(page, 'bench-attention');
    await page.close();
  });

  test('benchmark page: runs a const-token sweep with progress, plots it, and re-loads its CSV', async () => {
    const { page, log } = await openPage(hns, 'bench?run=1');
    await waitState(page, log, 90_000);
    // every cell of the WebGPU kernel ran (no failures) and the progress bar is full
    const bar = page.locator('#bn-progress');
    expect(Number(await bar.getAttribute('value'))).toBe(Number(await bar.getAttribute('max')));
    const runLog = await page.innerText('#bn-log');
    expect(runLog).toMatch(/limit_headdim f32 fw\s+[0-9.e+-]+ ms/);
    expect(runLog).toMatch(/xl_chunk[^\n]*\s[0-9.e+-]+ ms/);
    expect(runLog).not.toMatch(/Error/);
    const svg = page.locator('#bn-run-out .plot-runtime svg');
    await expect.poll(() => svg.count()).toBe(1);
    expect(await page.locator('#bn-run-out .plot-runtime').innerHTML()).toContain('limit_headdim f32 fw');
    // the CSV this run produced goes back in through the viewer's file input
    const csv = await page.evaluate(async () => {
      const a = document.querySelector<HTMLAnchorElement>('#bn-run-out a.bn-download')!;
      return (await fetch(a.href)).text();
    });
    expect(csv.split('\n')[0]).toMatch(
      /^P--.*P--sequence_length.*R--parallel--webgpu_limit_headdim__float32__fw/,
    );
    const file = join(artifactsDir, 'consttoken_fw.csv');
    writeFileSync(file, csv);
    await page.setInputFiles('#bn-file', file);
    await page.waitForFunction(() => document.getElementById('app')!.dataset.view === 'done', undefined, {
      timeout: 30_000,
    });
    // the chunkwise kernels fit SwiftShader's limits too: xl_chunk, limit_chunk, siging, parallel + the CPU reference
    expect(await page.innerText('#bn-view-status')).toMatch(/consttoken_fw\.csv: 3 rows, 5 kernel columns/);
    expect(await page.locator('#bn-view-out .plot-runtime svg').count()).toBe(1);
    // committed results: every docs/benchmarks/**/*.csv is listed, and an H100 one (else the first) is plotted on load
    const committed = readdirSync(process.env.DEMO_BENCHMARKS_DIR ?? join(repoDir, 'docs/benchmarks'), {
      recursive: true,
    })
      .map(String)
      .filter((f) => f.endsWith('.csv'));
    expect(Number(await page.getAttribute('#bn-committed', 'data-count'))).toBe(committed.length);
    await screenshot(page, 'bench');
    if (committed.length) {
      const page2 = (await openPage(hns, 'bench')).page;
      await page2.waitForFunction(() => document.getElementById('app')!.dataset.view === 'done', undefined, {
        timeout: 30_000,
      });
      expect(await page2.locator('#bn-view-out .plot-runtime svg').count()).toBe(1);
      expect(await page2.innerText('#bn-view-status')).toMatch(/^docs\/benchmarks\/.*\.csv: \d+ rows/);
      // the newest run is listed first, marked, and the one shown: its run.json has the latest start
      const dir = process.env.DEMO_BENCHMARKS_DIR ?? join(repoDir, 'docs/benchmarks');
      const started = (f: string) => {
        for (let d = dirname(join(dir, f)); d.startsWith(dir); d = dirname(d)) {
          try {
            return String(JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')).started ?? '');
          } catch {
            if (d === dir) break;
          }
        }
        return '';
      };
      const newest = [...committed].sort(
        (a, b) => started(b).localeCompare(started(a)) || a.localeCompare(b),
      )[0];
      expect(await page2.getAttribute('#bn-committed', 'data-newest')).toBe(newest);
      expect(await page2.locator('#bn-committed').inputValue()).toBe(newest);
      expect(await page2.locator('#bn-committed option').nth(1).innerText()).toMatch(/\(newest\)$/);
      await screenshot(page2, 'bench-committed');
      await page2.close();
    }
    await page.close();
  });

  test('model page: the tiny fixture model streams its known greedy tokens, tokens/s, stop', async () => {
    // the fixture's greedy continuation (transformers, float32): 16 tokens after the len7 prompt
    const fx = readSafetensors(
      readFileSync(join(repoDir, 'fixtures/xlstm-tiny/single/fixtures.safetensors')),
    ).tensors;
    const promptIds = Array.from(fx['gen.len7.prompt'].data);
    const want = Array.from(fx['gen.len7.tokens'].data);
    expect(want).toHaveLength(16);
    const { page, log } = await openPage(
      hns,
      `model?source=tiny&ids=${promptIds.join(',')}&max=16&stopEot=0&run=1`,
    );
    await waitState(page, log, 90_000);
    const got = (await page.getAttribute('#md-token-ids', 'data-tokens'))!.split(',').map(Number);
    expect(got).toEqual(want);
    expect(await page.innerText('#md-device-used')).toBe('webgpu');
    expect(await page.innerText('#md-tps')).toMatch(/^[0-9.e+]+ tokens\/s$/);
    // the memory estimate was shown before loading (tiny model: 2 blocks, H 128, V 512)
    expect(await page.innerText('#md-estimate-card')).toMatch(/parameters · 2 blocks · hidden 128/);
    expect(await page.innerText('#md-binding')).toContain('every weight matrix fits one binding');
    await screenshot(page, 'model');

    // text prompt through the tokenizer, long generation, stopped with the button
    await page.selectOption('#md-prompt-kind', 'text');
    await page.fill('#md-prompt', 'The matrix memory');
    await page.fill('#md-max', '2000');
    await page.click('#md-generate');
    await page.waitForFunction(
      () => (document.getElementById('md-generated')?.textContent ?? '').length > 8,
      undefined,
      {
        timeout: 30_000,
      },
    );
    await page.click('#md-stop');
    await waitState(page, log, 30_000);
    expect(await page.innerText('#md-stats')).toContain('Stopped.');
    const n = (await page.getAttribute('#md-token-ids', 'data-tokens'))!.split(',').length;
    expect(n).toBeLessThan(2000);
    await screenshot(page, 'model-stopped');
    await page.close();
  });

  test('adapter page without WebGPU explains what to do', async () => {
    // the same Chromium without --enable-unsafe-webgpu: navigator.gpu exists, requestAdapter() gives null
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${hns.url}#/adapter`);
      await page.waitForFunction(
        () => document.getElementById('app')!.dataset.state === 'no-webgpu',
        undefined,
        {
          timeout: 30_000,
        },
      );
      const help = await page.innerText('#no-webgpu');
      expect(help).toContain('WebGPU is not available');
      expect(help).toContain('--enable-unsafe-webgpu');
      await screenshot(page, 'adapter-no-webgpu');
    } finally {
      await browser.close();
    }
  });

  test('model page: local files on the CPU path give the fixture greedy tokens of a 37-token prompt', async () => {
    const fx = readSafetensors(
      readFileSync(join(repoDir, 'fixtures/xlstm-tiny/single/fixtures.safetensors')),
    ).tensors;
    const promptIds = Array.from(fx['gen.len37.prompt'].data);
    const want = Array.from(fx['gen.len37.tokens'].data);
    const { page, log } = await openPage(
      hns,
      `model?source=files&device=cpu&ids=${promptIds.join(',')}&max=16&stopEot=0`,
    );
    const dir = join(repoDir, 'fixtures/xlstm-tiny/single/model');
    await page.setInputFiles(
      '#md-files',
      [
        'config.json',
        'model.safetensors',
        'tokenizer.json',
        'tokenizer_config.json',
        'generation_config.json',
      ].map((f) => join(dir, f)),
    );
    await page.click('#md-load');
    await page.waitForFunction(() => document.getElementById('app')!.dataset.state === 'loaded', undefined, {
      timeout: 30_000,
    });
    expect(await page.innerText('#md-device-used')).toBe('cpu');
    await page.click('#md-generate');
    await waitState(page, log, 60_000);
    const got = (await page.getAttribute('#md-token-ids', 'data-tokens'))!.split(',').map(Number);
    expect(got).toEqual(want);
    await screenshot(page, 'model-cpu-files');
    await page.close();
  });

  test('model page chat: turn 2 prefills only its own text; a reload restores the conversation from IndexedDB', async () => {
    const dir = join(repoDir, 'fixtures/xlstm-tiny/single/model');
    const tok = new XlstmTokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')));
    // what each turn should push through the model: BOS + its own text on turn 1; afterwards the
    // previous reply's last token (generated, not yet fed) + its own text — never the history
    const turn = (text: string, first: boolean) =>
      1 + tok.encode(`${first ? '' : '\n'}User: ${text}\nAssistant:`).length;
    const { page, log } = await openPage(hns, 'model?source=tiny&device=cpu&max=8&stopEot=0');
    const loadModel = async () => {
      await page.click('#md-load');
      await page.waitForFunction(
        () => document.getElementById('app')!.dataset.state === 'loaded',
        undefined,
        {
          timeout: 60_000,
        },
      );
    };
    const send = async (text: string) => {
      await page.fill('#md-chat-input', text);
      await page.click('#md-chat-send');
      await waitState(page, log, 60_000);
      const d = await page.evaluate(() => ({ ...document.getElementById('md-chat-stats')!.dataset }));
      return { prefill: Number(d.prefill), seen: Number(d.seen), turns: Number(d.turns) };
    };
    await loadModel();
    expect(await page.getAttribute('#md-chat-stats', 'data-restored')).toBe('false');
    const t1 = await send('Hello there');
    expect(t1.prefill).toBe(turn('Hello there', true));
    const t2 = await send('and the gates?');
    expect(t2.prefill).toBe(turn('and the gates?', false));
    expect(t2.seen).toBeGreaterThan(t1.seen + t2.prefill); // the state holds the whole conversation
    expect(t2.turns).toBe(2);
    expect(await page.locator('#md-chat-log p').count()).toBe(4);
    await screenshot(page, 'model-chat');

    // a reload: the conversation comes back from IndexedDB and continues without re-reading it
    await page.reload();
    await loadModel();
    expect(await page.getAttribute('#md-chat-stats', 'data-restored')).toBe('true');
    expect(Number(await page.getAttribute('#md-chat-stats', 'data-seen'))).toBe(t2.seen);
    expect(await page.locator('#md-chat-log p').count()).toBe(4);
    const t3 = await send('third turn');
    expect(t3.prefill).toBe(turn('third turn', false));
    expect(t3.turns).toBe(3);
    await page.click('#md-chat-reset');
    await page.waitForFunction(() => document.getElementById('md-chat-stats')!.dataset.restored === 'false');
    expect(await page.locator('#md-chat-log p').count()).toBe(0);
    await page.close();
  });

  // runs last: every page opened above, the model and bench pages included
  test('no console errors on any page (no 404: favicon, optional model files)', () => {
    expect(consoleErrors).toEqual([]);
  });
});
