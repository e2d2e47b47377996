import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

/**
 * Files served with the app under `/<prefix>/…` (dev and preview from disk, build: copied into dist):
 * the tiny fixture model and the committed benchmark results.
 */
const MOUNTS: { prefix: string; dir: string; filter: (file: string) => boolean }[] = [
  { prefix: 'models/xlstm-tiny', dir: join(repo, 'fixtures/xlstm-tiny/single/model'), filter: () => true },
  {
    prefix: 'benchmarks',
    // DEMO_BENCHMARKS_DIR: another folder of results (e.g. a fresh `pnpm bench` output)
    dir: process.env.DEMO_BENCHMARKS_DIR
      ? resolve(process.env.DEMO_BENCHMARKS_DIR)
      : join(repo, 'docs/benchmarks'),
    filter: (f) => f.endsWith('.csv'),
  },
];

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** The start time of the bench run a results file belongs to: `started` of the nearest run.json above it. */
function runStarted(dir: string, file: string): string | null {
  for (let d = dirname(join(dir, file)); d.startsWith(dir); d = dirname(d)) {
    const run = join(d, 'run.json');
    if (existsSync(run)) {
      try {
        const started = (JSON.parse(readFileSync(run, 'utf8')) as { started?: unknown }).started;
        return typeof started === 'string' ? started : null;
      } catch {
        return null;
      }
    }
    if (d === dir) break;
  }
  return null;
}

/**
 * `benchmarks/index.json`: the CSV files under docs/benchmarks with the start time of their run
 * (`{ file, started }`), newest first (files without a date last, by name).
 */
function benchmarkIndex(): string {
  const m = MOUNTS[1];
  const entries = listFiles(m.dir)
    .filter(m.filter)
    .map((file) => ({ file, started: runStarted(m.dir, file) }));
  entries.sort((a, b) => (b.started ?? '').localeCompare(a.started ?? '') || a.file.localeCompare(b.file));
  return JSON.stringify(entries);
}

/** `<mount>/files.json`: the files of the tiny model, so the loader asks only for files that exist. */
function modelFiles(): string {
  const m = MOUNTS[0];
  return JSON.stringify(listFiles(m.dir).filter(m.filter));
}

const TYPES: Record<string, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  safetensors: 'application/octet-stream',
  txt: 'text/plain; charset=utf-8',
};

function serveMounts(): Plugin {
  const middleware = (req: { url?: string }, res: ServerResponse, next: () => void): void => {
    const url = decodeURIComponent((req.url ?? '').split('?')[0]);
    if (url === '/benchmarks/index.json' || url === `/${MOUNTS[0].prefix}/files.json`) {
      res.setHeader('Content-Type', TYPES.json);
      res.end(url === '/benchmarks/index.json' ? benchmarkIndex() : modelFiles());
      return;
    }
    for (const m of MOUNTS) {
      const pre = `/${m.prefix}/`;
      if (!url.startsWith(pre)) continue;
      const rel = url.slice(pre.length);
      const file = resolve(m.dir, rel);
      if (!file.startsWith(m.dir) || !m.filter(rel) || !existsSync(file) || !statSync(file).isFile()) {
        // a plain 404 (no SPA fallback to index.html): loaders probe optional files such as
        // model.safetensors.index.json
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      res.setHeader('Content-Type', TYPES[rel.split('.').pop() ?? ''] ?? 'application/octet-stream');
      res.setHeader('Content-Length', String(statSync(file).size));
      createReadStream(file).pipe(res);
      return;
    }
    next();
  };
  return {
    name: 'mlstm-demo-mounts',
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      // dist has the copies; serving from disk keeps the preview of a stale build honest too
      server.middlewares.use(middleware);
    },
    generateBundle() {
      for (const m of MOUNTS) {
        for (const f of listFiles(m.dir).filter(m.filter)) {
          this.emitFile({
            type: 'asset',
            fileName: `${m.prefix}/${f}`,
            source: readFileSync(join(m.dir, f)),
          });
        }
      }
      this.emitFile({ type: 'asset', fileName: 'benchmarks/index.json', source: benchmarkIndex() });
      this.emitFile({ type: 'asset', fileName: `${MOUNTS[0].prefix}/files.json`, source: modelFiles() });
    },
  };
}

const nodeShim = resolve(here, 'src/shims/node.ts');

export default defineConfig({
  root: here,
  // hash routing: one index.html; unknown paths are 404s, not index.html
  appType: 'mpa',
  // the workspace packages are used from their TypeScript sources (no `pnpm build` needed first)
  resolve: {
    conditions: ['@mlstm/source'],
    alias: [
      // @mlstm/bench's Node-only helpers (writing result folders, onnxruntime in Node) import these;
      // the browser never calls them
      { find: /^node:(fs|fs\/promises|path|module|v8|url|os|child_process)$/, replacement: nodeShim },
    ],
  },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  server: { host: '127.0.0.1', fs: { allow: [repo] } },
  preview: { host: '127.0.0.1' },
  plugins: [serveMounts()],
});
