/** Build + preview server + headless Chromium for the e2e tests. */
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';

export const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = resolve(appDir, '../..');
export const artifactsDir = join(appDir, 'test-artifacts');

/** Chromium flags: WebGPU on SwiftShader (headless, no GPU), no network chatter. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Harness {
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(artifactsDir, { recursive: true });
  // under node_modules: ignored by git and biome, and apart from the dist/ of `pnpm demo`
  const outDir = join(appDir, 'node_modules/.e2e-dist');
  await build({
    root: appDir,
    configFile: join(appDir, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  const server: PreviewServer = await preview({
    root: appDir,
    configFile: join(appDir, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const addr = server.httpServer.address() as AddressInfo;
  const url = `http://127.0.0.1:${addr.port}/`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * Every console error and uncaught exception of every page opened with {@link openPage} (failed
 * requests such as a 404 appear here as console errors), with the page's route: the last test of
 * the suite asserts that the list is empty.
 */
export const consoleErrors: string[] = [];

/** A page that records console errors and uncaught exceptions (the tests show them on failure). */
export async function openPage(hns: Harness, hash: string): Promise<{ page: Page; log: string[] }> {
  const page = await hns.browser.newPage({ viewport: { width: 1200, height: 900 } });
  const log: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') log.push(`[${m.type()}] ${m.text()}`);
    if (m.type() === 'error') {
      const where = m.location()?.url ? ` (${m.location().url})` : '';
      consoleErrors.push(`#/${hash}: ${m.text()}${where}`);
    }
  });
  page.on('pageerror', (e) => {
    log.push(`[pageerror] ${e.message}`);
    consoleErrors.push(`#/${hash}: uncaught ${e.message}`);
  });
  await page.goto(`${hns.url}#/${hash}`);
  return { page, log };
}

/** Waits for `#app[data-state]` to become done (or error: then fails with the page's log). */
export async function waitState(page: Page, log: string[], timeout = 60_000): Promise<string> {
  const handle = await page
    .waitForFunction(
      () => {
        const s = document.getElementById('app')?.dataset.state;
        return s === 'done' || s === 'error' || s === 'no-webgpu' ? s : null;
      },
      undefined,
      { timeout, polling: 200 },
    )
    .catch(async (e) => {
      throw new Error(
        `${(e as Error).message}\npage text:\n${await page.innerText('#app')}\nlog:\n${log.join('\n')}`,
      );
    });
  const state = (await handle.jsonValue()) as string;
  if (state !== 'done')
    throw new Error(`page state ${state}\n${await page.innerText('#app')}\nlog:\n${log.join('\n')}`);
  return state;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const file = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
