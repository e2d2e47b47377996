import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitepress';

// The API sidebar is written by TypeDoc (`pnpm docs:api`, typedoc-vitepress-theme).
const here = dirname(fileURLToPath(import.meta.url));
const apiSidebarFile = join(here, '..', 'api', 'typedoc-sidebar.json');
// One entry per package (its index page lists every export): the full tree in every page's
// sidebar would make each of the ~400 API pages carry the whole index (≈ 80 MB of HTML).
const apiSidebar = existsSync(apiSidebarFile)
  ? (JSON.parse(readFileSync(apiSidebarFile, 'utf8')) as { text: string; link: string }[]).map(
      ({ text, link }) => ({
        text,
        link,
      }),
    )
  : [];

// MLSTM_DOCS_NO_API=1 builds the guide pages only (the CI test; the API pages take a minute)
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by docs/test/site.test.ts
const noApi = process.env.MLSTM_DOCS_NO_API === '1';

export default defineConfig({
  title: '@mlstm',
  srcExclude: ['examples/**', 'test/**', ...(noApi ? ['api/**'] : [])],
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: set by docs/test/site.test.ts
  outDir: process.env.MLSTM_DOCS_OUT_DIR || undefined,
  description: 'mLSTM / xLSTM kernels (Tiled Flash Linear Attention) for WebGPU, in TypeScript',
  cleanUrls: true,
  lastUpdated: false,
  // no network at build time: no remote fonts or search index services
  head: [],
  // docs/benchmarks/README.md (results, written for browsing the repository) links raw result
  // files (logs, JSON, CSV) and raw-data folders (`./h100-bench/`), which are not pages
  ignoreDeadLinks: [
    /\.(log|json|csv|svg|yaml|txt)$/,
    /^\.\.\/shared\//,
    /^\.\.\/\.\.\//,
    (url: string) => url.startsWith('./') && url.endsWith('/index'),
    ...(noApi ? [/^\/api\//] : []),
  ],
  themeConfig: {
    search: { provider: 'local' },
    nav: [
      { text: 'Guide', link: '/guide/overview' },
      { text: 'API', link: '/api/' },
      { text: 'Results', link: '/benchmarks/README' },
      { text: 'Contributing', link: '/contributing' },
    ],
    sidebar: {
      '/api/': [{ text: 'API reference', link: '/api/', items: apiSidebar }],
      '/': [
        {
          text: 'Guide',
          items: [
            { text: 'Overview', link: '/guide/overview' },
            { text: 'Installation', link: '/guide/installation' },
            { text: 'Usage: three ways', link: '/guide/usage' },
            { text: 'Training', link: '/guide/training' },
            { text: 'Inference and states', link: '/guide/inference' },
            { text: 'The model package', link: '/guide/model' },
            { text: 'Benchmarks: the library', link: '/guide/benchmarks' },
            { text: 'Results', link: '/guide/results' },
            { text: 'Transfer behaviour', link: '/guide/transfer-behavior' },
            { text: 'Troubleshooting', link: '/guide/troubleshooting' },
          ],
        },
        {
          text: 'Reference',
          items: [
            { text: 'API (all packages)', link: '/api/' },
            { text: 'Contributing', link: '/contributing' },
          ],
        },
      ],
    },
    outline: { level: [2, 3] },
  },
});
