/**
 * The documentation cannot rot:
 *  - no page carries an inline TypeScript/JavaScript snippet: code comes from example files through
 *    VitePress `<<<` includes, and every included file is run by a test (docs/test/examples.test.ts
 *    or the package's own tests);
 *  - the site builds (VitePress; dead links fail the build) and the API reference generates
 *    (TypeDoc + typedoc-plugin-markdown) for every package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(docs, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const PACKAGES = ['core-reference', 'kernels-webgpu', 'backend', 'bench', 'hf-model'];

/** Markdown pages of the site (generated API pages and measured results excluded). */
function pages(dir = docs): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const rel = relative(docs, p);
    if (['api', 'benchmarks', 'node_modules', '.vitepress', 'examples', 'test'].includes(rel)) continue;
    if (statSync(p).isDirectory()) out.push(...pages(p));
    else if (name.endsWith('.md')) out.push(p);
  }
  return out;
}

/** Page text with `<!--@include: file-->` expanded (as VitePress does). */
function pageText(file: string): string {
  return readFileSync(file, 'utf8').replace(/<!--@include:\s*(.+?)\s*-->/g, (_, f: string) =>
    readFileSync(resolve(dirname(file), f), 'utf8'),
  );
}

function includes(file: string) {
  const found: { path: string; region?: string }[] = [];
  for (const m of pageText(file).matchAll(/^<<<\s+@\/(\S+?)(?:#(\w+))?(?:\{\w+\})?\s*$/gm)) {
    found.push({ path: resolve(docs, m[1]), region: m[2] });
  }
  return found;
}

/** Is this example file run by a test? docs/examples: imported by docs/test; packages: by its tests. */
function testedBy(path: string): string | undefined {
  const base = path.split('/').pop()!.replace(/\.ts$/, '');
  const testDirs = path.startsWith(join(docs, 'examples'))
    ? [join(docs, 'test')]
    : [join(root, 'packages', relative(join(root, 'packages'), path).split('/')[0], 'test')];
  for (const dir of testDirs) {
    for (const t of readdirSync(dir).filter((f) => f.endsWith('.test.ts'))) {
      const text = readFileSync(join(dir, t), 'utf8');
      if (text.includes(`/examples/${base}.js'`) || text.includes(`/examples/${base}.ts'`)) return t;
    }
  }
  return undefined;
}

describe('docs snippets', () => {
  const all = pages();

  it('the guide exists', () => {
    const names = all.map((p) => relative(docs, p)).sort();
    for (const p of [
      'index.md',
      'contributing.md',
      'guide/overview.md',
      'guide/installation.md',
      'guide/usage.md',
      'guide/training.md',
      'guide/inference.md',
      'guide/model.md',
      'guide/benchmarks.md',
      'guide/results.md',
      'guide/troubleshooting.md',
      'guide/transfer-behavior.md',
    ])
      expect(names).toContain(p);
  });

  it('no inline TypeScript/JavaScript code in any page: snippets are included example files', () => {
    for (const p of all) {
      const fences = [...pageText(p).matchAll(/^\s*```\s*(ts|typescript|js|javascript|mjs|tsx)\b/gm)];
      expect(
        fences.length,
        `${relative(docs, p)} has an inline code block; put it in docs/examples/ and include it`,
      ).toBe(0);
    }
  });

  it('every included file exists, its region exists, and a test runs it', () => {
    let count = 0;
    for (const p of all) {
      for (const inc of includes(p)) {
        count++;
        expect(existsSync(inc.path), `${relative(docs, p)} includes missing ${inc.path}`).toBe(true);
        if (inc.region) expect(readFileSync(inc.path, 'utf8')).toContain(`// #region ${inc.region}`);
        expect(
          testedBy(inc.path),
          `${relative(root, inc.path)} is shown in the docs but no test imports it`,
        ).toBeDefined();
      }
    }
    expect(count).toBeGreaterThanOrEqual(10);
  });

  it('every file in docs/examples is shown somewhere and tested', () => {
    const shown = new Set(all.flatMap((p) => includes(p).map((i) => i.path)));
    for (const f of readdirSync(join(docs, 'examples')).filter((f) => f.endsWith('.ts'))) {
      const path = join(docs, 'examples', f);
      expect(shown.has(path), `docs/examples/${f} is not included by any page`).toBe(true);
      expect(testedBy(path), `docs/examples/${f} is not run by a test`).toBeDefined();
    }
  });
});

describe('docs site', () => {
  it('the examples and their tests type-check (what the pages show compiles)', () => {
    try {
      execFileSync(bin('tsc'), ['-p', 'docs/tsconfig.json'], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
    } catch (e) {
      throw new Error(`tsc -p docs/tsconfig.json:\n${(e as { stdout?: string }).stdout ?? e}`);
    }
  });

  it('VitePress builds the guide (dead links fail the build)', () => {
    const out = mkdtempSync(join(tmpdir(), 'mlstm-docs-'));
    try {
      execFileSync(bin('vitepress'), ['build', 'docs'], {
        cwd: root,
        env: { ...process.env, MLSTM_DOCS_NO_API: '1', MLSTM_DOCS_OUT_DIR: out, NO_COLOR: '1' },
        stdio: 'pipe',
      });
      for (const page of [
        'index',
        'guide/overview',
        'guide/usage',
        'guide/troubleshooting',
        'contributing',
        'benchmarks/README',
      ])
        expect(existsSync(join(out, `${page}.html`)), page).toBe(true);
      // an included example really is in the page
      expect(readFileSync(join(out, 'guide/benchmarks.html'), 'utf8')).toContain('XlChunkForward');
      expect(readFileSync(join(out, 'guide/usage.html'), 'utf8')).toContain('getAvailableMlstmKernels');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('TypeDoc generates the API reference of every package', () => {
    const out = mkdtempSync(join(tmpdir(), 'mlstm-api-'));
    try {
      execFileSync(bin('typedoc'), ['--options', 'docs/typedoc.json', '--out', out], {
        cwd: root,
        stdio: 'pipe',
      });
      for (const p of PACKAGES) expect(existsSync(join(out, '@mlstm', p, 'index.md')), p).toBe(true);
      expect(readFileSync(join(out, '@mlstm', 'backend', 'index.md'), 'utf8')).toContain('MlstmBackend');
      expect(existsSync(join(out, 'typedoc-sidebar.json'))).toBe(true);
      // sub-path exports are documented too (@mlstm/core-reference/testing, /testing/node)
      expect(existsSync(join(out, '@mlstm', 'core-reference', 'testing', 'node', 'index.md'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/** Every Markdown file of the repository (node_modules, build output, changelogs left out). */
function repoMarkdown(dir = root): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (['node_modules', 'dist', '.git', '.turbo', 'api', 'test-artifacts'].includes(name)) continue;
    if (name.startsWith('outputs_')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...repoMarkdown(p));
    else if (name.endsWith('.md') && name !== 'CHANGELOG.md') out.push(p);
  }
  return out;
}

/** Source and doc files where a path outside the repository must not be cited. */
function repoTextFiles(dir = root): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (['node_modules', 'dist', '.git', '.turbo', 'api', 'test-artifacts', 'fixtures'].includes(name))
      continue;
    if (name.startsWith('outputs_') || ['pnpm-lock.yaml', '.vitest-report.json'].includes(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...repoTextFiles(p));
    else if (/\.(md|ts|mjs|js|sh|json|yaml|yml)$/.test(name)) out.push(p);
  }
  return out;
}

/** Top-level folders of the repository: a backticked `packages/…` path in a page must exist. */
const REPO_DIRS = ['packages/', 'apps/', 'docs/', 'tools/', 'fixtures/', '.ci/', '.changeset/'];

describe('links and paths in the docs exist in the repository', () => {
  it('no file cites a path outside the repository (shared/docs, shared/device, /work/…)', () => {
    const bad: string[] = [];
    for (const f of repoTextFiles()) {
      if (f === fileURLToPath(import.meta.url)) continue;
      const lines = readFileSync(f, 'utf8').split('\n');
      lines.forEach((line, x) => {
        if (/(^|[\s`'"(/])(\.\.\/)*shared\/(docs|device|fixtures)\b|\/work\/(shared|main|wt)\b/.test(line))
          bad.push(`${relative(root, f)}:${x + 1}: ${line.trim().slice(0, 100)}`);
      });
    }
    expect(bad, bad.join('\n')).toEqual([]);
  });

  it('every relative Markdown link and every backticked repository path names a file that exists', () => {
    const bad: string[] = [];
    let checked = 0;
    for (const f of repoMarkdown()) {
      const text = readFileSync(f, 'utf8').replace(/^```[\s\S]*?^```/gm, ''); // not inside code blocks
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1].split('#')[0];
        // /api/… pages are generated by TypeDoc (checked by the API reference test above)
        if (!target || /^(https?:|mailto:|data:)/.test(target) || target.startsWith('/api/')) continue;
        checked++;
        const base = target.startsWith('/') ? docs : dirname(f);
        const p = resolve(base, target.replace(/^\//, ''));
        if (![p, `${p}.md`, join(p, 'index.md'), join(p, 'README.md')].some((c) => existsSync(c)))
          bad.push(`${relative(root, f)}: link ${m[1]}`);
      }
      for (const m of text.matchAll(/`([\w./-]+)`/g)) {
        const path = m[1];
        if (!REPO_DIRS.some((d) => path.startsWith(d)) || /\/dist\/|\.\.\.|\/$/.test(path)) continue;
        checked++;
        if (!existsSync(join(root, path))) bad.push(`${relative(root, f)}: path \`${path}\``);
      }
    }
    expect(bad, bad.join('\n')).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });
});
