import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Harness, openPage, screenshot, startHarness, waitState } from './harness.js';

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

  test('kernel playground: chunkwise xl_chunk matches the reference, or explains the adapter limit', async () => {
    const { page, log } = await openPage(
      hns,
      'playground?kernel=chunkwise--webgpu_xl_chunk&S=128&chunk=64&run=1',
    );
    const limit = await page.evaluate(
      async () => (await navigator.gpu.requestAdapter())!.limits.maxStorageBuffersPerShaderStage,
    );
    await page.waitForFunction(
      () => ['done', 'error'].includes(document.getElementById('app')!.dataset.state!),
      undefined,
      {
        timeout: 90_000,
      },
    );
    const state = await page.getAttribute('#app', 'data-state');
    if (state === 'done') {
      const verdict = page.locator('#pg-verdict');
      expect(Number(await verdict.getAttribute('data-max-rel-error'))).toBeLessThan(1e-4);
    } else {
      // the chunkwise kernels bind 12 storage buffers; SwiftShader in Chromium allows 10
      expect(limit, log.join('\n')).toBeLessThan(12);
      expect(await page.innerText('#pg-hint')).toContain(`allows only ${limit}`);
    }
    await screenshot(page, 'playground-xl-chunk');
    await page.close();
  });
});
