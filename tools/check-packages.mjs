#!/usr/bin/env node
/**
 * Packaging check of the publishable packages, as a user would meet them:
 *
 *  1. build (`tsc --build`, project references) and `pnpm pack` each package into a temp dir;
 *  2. `publint` and `@arethetypeswrong/cli` (profile `esm-only`: the packages are ESM-only by
 *     design, so the node10 / require() rows are not errors) on every tarball;
 *  3. a scratch project installs the tarballs with `npm install --offline` (no registry: the
 *     checked packages depend only on each other and on @huggingface/tokenizers and @huggingface/jinja, packed from this
 *     repository's copy; `webgpu`, an optional peer, is linked from it) and
 *     - imports every export in Node ESM and runs a CPU kernel through the backend,
 *     - type-checks a consumer file with `tsc` (moduleResolution nodenext, types from dist),
 *     - bundles a browser entry that imports `@mlstm/kernels-webgpu` with esbuild
 *       (platform browser), checks that no Node built-in is left in the bundle, and runs the
 *       bundle in a page-like `node:vm` context (no `process`, `navigator.gpu` from dawn.node)
 *       against core-reference (skip with --no-gpu);
 *  4. the first example of each package's README (read from the installed package) runs in that
 *     npm project, and again in a pnpm project per package whose only dependency is that package
 *     (`pnpm install --offline`; pnpm exposes no transitive dependency, so a README import of a
 *     package the user did not install fails as it would for them). Examples that need an
 *     adapter are skipped with --no-gpu.
 *
 *   node tools/check-packages.mjs [--keep] [--no-build] [--no-gpu] [packages…]
 *
 * Exits 1 on the first failing package check; prints one line per check. Run by
 * tools/test/packages.test.ts in `pnpm test`.
 */
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

/**
 * Packages installed with npm (offline) into one scratch project: their dependencies are each
 * other, @huggingface/tokenizers and @huggingface/jinja (packed from this repository's copy). @mlstm/bench has many
 * third-party dependencies: it is installed with pnpm only (overrides point at this repository's
 * copies). Every package gets a pnpm scratch project of its own.
 */
export const OFFLINE_PACKAGES = ['core-reference', 'kernels-webgpu', 'backend', 'hf-model'];
export const LINT_ONLY_PACKAGES = ['bench'];
/** Third-party dependencies of OFFLINE_PACKAGES, packed from the copies this repository installed. */
const NPM_THIRD_PARTY = { '@huggingface/tokenizers': 'hf-model', '@huggingface/jinja': 'hf-model' };

function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', npm_config_update_notifier: 'false' },
      ...opts,
    });
  } catch (e) {
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${e.status}):\n${out}`);
  }
}

function manifest(pkg) {
  return JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
}

/** Static checks of the packaging fields (what publint does not insist on). */
export function checkFields(pkg) {
  const m = manifest(pkg);
  const problems = [];
  for (const f of [
    'description',
    'license',
    'repository',
    'engines',
    'exports',
    'types',
    'files',
    'keywords',
  ]) {
    if (m[f] === undefined) problems.push(`missing "${f}"`);
  }
  if (m.type !== 'module') problems.push('"type" must be "module"');
  if (m.sideEffects !== false) problems.push('"sideEffects" must be false (tree-shaking)');
  if (m.license !== 'MIT') problems.push('"license" must be MIT');
  if (m.repository?.directory !== `packages/${pkg}`) problems.push('"repository.directory" is wrong');
  if (!m.engines?.node) problems.push('"engines.node" missing');
  for (const [sub, cond] of Object.entries(m.exports ?? {})) {
    const keys = Object.keys(cond);
    if (!keys.includes('types') || !keys.includes('default'))
      problems.push(`exports["${sub}"] lacks types/default`);
    if (keys.indexOf('types') > keys.indexOf('default'))
      problems.push(`exports["${sub}"]: "types" must come first`);
  }
  if (m.types && m.types !== m.exports?.['.']?.types)
    problems.push('"types" differs from exports["."].types');
  return problems;
}

export function build(pkgs) {
  const configs = pkgs.map((p) => join('packages', p, 'tsconfig.json'));
  run(bin('tsc'), ['--build', ...configs], { cwd: root });
}

/** `pnpm pack` each package into `dir`; returns { pkg: tarballPath }. */
export function pack(pkgs, dir) {
  const out = {};
  for (const p of pkgs) {
    const before = new Set(readdirSync(dir));
    run('pnpm', ['pack', '--pack-destination', dir], { cwd: join(root, 'packages', p) });
    const added = readdirSync(dir).filter((f) => !before.has(f) && f.endsWith('.tgz'));
    if (added.length !== 1) throw new Error(`pnpm pack of ${p} produced ${added.join(', ') || 'nothing'}`);
    out[p] = join(dir, added[0]);
  }
  return out;
}

/** What a tarball holds: README, LICENSE, the built entry points; no tests, no bundles, small. */
export function checkContents(pkg, tarball) {
  const listing = run('tar', ['tzvf', tarball]).trim().split('\n');
  const files = listing.map((l) => l.split(/\s+/).pop());
  const bytes = listing.reduce((a, l) => a + Number(l.split(/\s+/)[2] || 0), 0);
  const problems = [];
  for (const f of [
    'package/package.json',
    'package/README.md',
    'package/LICENSE',
    'package/dist/index.js',
    'package/dist/index.d.ts',
  ])
    if (!files.includes(f)) problems.push(`missing ${f}`);
  const tests = files.filter((f) => /\.test\.[cm]?[jt]s$|^package\/test\//.test(f));
  if (tests.length) problems.push(`test files packed: ${tests.slice(0, 3).join(', ')}`);
  if (bytes > 4 * 2 ** 20) problems.push(`unpacked size ${(bytes / 2 ** 20).toFixed(1)} MiB > 4 MiB`);
  if (problems.length) throw new Error(`@mlstm/${pkg} tarball: ${problems.join('; ')}`);
  return { files: files.length, bytes };
}

export function lint(tarball) {
  const publint = run(bin('publint'), ['run', '--strict', tarball]);
  const attw = run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii']);
  return { publint, attw };
}

/** npm-install the tarballs into a fresh scratch project and exercise them. */
export function scratchInstall(tarballs, dir, { runGpu = true, thirdParty = {} } = {}) {
  mkdirSync(dir, { recursive: true });
  const deps = Object.fromEntries(Object.entries(tarballs).map(([p, t]) => [manifest(p).name, `file:${t}`]));
  for (const [name, t] of Object.entries(thirdParty)) deps[name] = `file:${t}`;
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'scratch-consumer', private: true, type: 'module', dependencies: deps }, null, 2),
  );
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=peer'], {
    cwd: dir,
  });
  // the user's `npm install webgpu`, stood in for by this repository's copy (no registry here)
  symlinkSync(installedDir('kernels-webgpu', 'webgpu'), join(dir, 'node_modules', 'webgpu'), 'dir');

  // Node ESM: every export resolves, and a kernel runs (CPU: no adapter needed here)
  writeFileSync(
    join(dir, 'consumer.mjs'),
    `import * as ref from '@mlstm/core-reference';
import * as testing from '@mlstm/core-reference/testing';
import * as testingNode from '@mlstm/core-reference/testing/node';
import * as kernels from '@mlstm/kernels-webgpu';
import { MlstmBackend, getAvailableMlstmKernels, getMlstmKernel } from '@mlstm/backend';

const rand = (...shape) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() - 0.5) });
const [B, NH, S, D] = [1, 2, 32, 8];
const args = { q: rand(B, NH, S, D), k: rand(B, NH, S, D), v: rand(B, NH, S, D), i: rand(B, NH, S), f: rand(B, NH, S), chunkSize: 16 };
const viaRegistry = await getMlstmKernel('chunkwise--native_custbw')(args);
const { chunkSize, ...inputs } = args; // the backend takes chunkSize from its config (an unknown key is an error)
const viaBackend = await new MlstmBackend({ mode: 'inference', chunkSize }).inference(inputs);
const direct = ref.mlstmChunkwise({ ...args });
let maxDiff = 0;
for (let x = 0; x < direct.h.data.length; x++) maxDiff = Math.max(maxDiff, Math.abs(direct.h.data[x] - viaRegistry.h.data[x]), Math.abs(direct.h.data[x] - viaBackend.h.data[x]));
console.log(JSON.stringify({
  exports: { ref: Object.keys(ref).length, testing: Object.keys(testing).length, testingNode: Object.keys(testingNode).length, kernels: Object.keys(kernels).length },
  hasGetGpuContext: typeof kernels.getGpuContext === 'function',
  kernels: getAvailableMlstmKernels().sequence.length,
  maxDiff,
}));
`,
  );
  const nodeResult = JSON.parse(
    run(process.execPath, ['consumer.mjs'], { cwd: dir }).trim().split('\n').pop(),
  );

  // TypeScript consumer: the published .d.ts resolve under nodenext
  writeFileSync(
    join(dir, 'consumer-types.ts'),
    `import { MlstmBackend, type MlstmBackendConfig } from '@mlstm/backend';
import { type CpuTensor, getGpuContext, type GpuTensor, mlstmChunkwiseXlChunk } from '@mlstm/kernels-webgpu';
import { mlstmChunkwise, type Tensor } from '@mlstm/core-reference';
import { Rng, randomMlstmInputs } from '@mlstm/core-reference/testing';
const config: Partial<MlstmBackendConfig> = { chunkwiseKernel: 'chunkwise--webgpu_xl_chunk', mode: 'inference' };
export const backend = new MlstmBackend(config);
export const x = randomMlstmInputs(new Rng(1), { B: 1, NH: 1, S: 16, DHQK: 4, DHHV: 4 });
export const h: Tensor = mlstmChunkwise({ ...x, chunkSize: 16 }).h;
export async function gpu(t: CpuTensor): Promise<GpuTensor> {
  const ctx = await getGpuContext();
  const { h } = await mlstmChunkwiseXlChunk(ctx, { q: ctx.upload(t.data, t.shape), k: ctx.upload(t.data, t.shape), v: ctx.upload(t.data, t.shape), i: ctx.upload(t.data, t.shape.slice(0, 3)), f: ctx.upload(t.data, t.shape.slice(0, 3)) });
  return h;
}
`,
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        lib: ['ES2023', 'DOM'],
        types: [],
      },
      files: ['consumer-types.ts'],
    }),
  );
  run(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: dir });

  // Browser: esbuild bundle of an entry importing @mlstm/kernels-webgpu
  writeFileSync(
    join(dir, 'browser-entry.js'),
    `import { getGpuContext, mlstmChunkwiseXlChunk } from '@mlstm/kernels-webgpu';
export async function run(q, k, v, i, f) {
  const ctx = await getGpuContext();
  const { h } = await mlstmChunkwiseXlChunk(ctx, { q, k, v, i, f, chunkSize: 16 });
  ctx.destroy();
  return h;
}
`,
  );
  const esbuildOut = run(
    bin('esbuild'),
    [
      'browser-entry.js',
      '--bundle',
      '--platform=browser',
      '--format=esm',
      '--target=es2022',
      '--minify',
      '--metafile=meta.json',
      '--outfile=bundle.js',
      '--log-level=warning',
    ],
    { cwd: dir },
  );
  const bundle = readFileSync(join(dir, 'bundle.js'), 'utf8');
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
  const inputs = Object.keys(meta.inputs);
  const nodeBuiltins = inputs.filter((f) => f.startsWith('node:') || /(^|\/)(fs|path|url)$/.test(f));
  // kernels-webgpu imports only the shared errors and checks of core-reference, never its math
  const coreInBundle = inputs
    .filter((f) => f.includes('core-reference'))
    .map((f) => f.slice(f.indexOf('core-reference/') + 'core-reference/'.length))
    .sort();
  const browser = {
    bytes: bundle.length,
    inputs: inputs.length,
    nodeBuiltins,
    coreInBundle,
    warnings: esbuildOut.trim(),
  };
  if (runGpu) browser.run = runBrowserBundle(dir);
  return { node: nodeResult, browser };
}

/**
 * Runs the browser bundle in a `node:vm` context that looks like a browser page (no `process`,
 * `navigator.gpu` from dawn.node), so the kernels take their browser code path, and compares the
 * result with core-reference. Runs in a child process (a GPU crash must not take the caller down).
 */
function runBrowserBundle(dir) {
  const webgpu = createRequire(join(root, 'packages', 'kernels-webgpu', 'package.json')).resolve('webgpu');
  writeFileSync(
    join(dir, 'run-browser-bundle.mjs'),
    `import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { mlstmChunkwise } from '@mlstm/core-reference';
const { create, globals } = (await import(${JSON.stringify(pathToFileURL(webgpu).href)})).default ?? (await import(${JSON.stringify(pathToFileURL(webgpu).href)}));
const gpu = create([]);
globalThis.__keepGpuAlive = gpu; // dawn.node: keep create()'s object reachable
// the ESM bundle's final export statement becomes an assignment readable from outside the context
const code = readFileSync('bundle.js', 'utf8').replace(/export\\s*\\{([^}]*)\\};?\\s*$/, (_, names) =>
  'globalThis.__exports = {' + names.split(',').map((n) => { const [a, b] = n.trim().split(/\\s+as\\s+/); return (b ?? a) + ':' + a; }).join(',') + '};');
const page = vm.createContext({ navigator: { gpu }, ...globals, console, setTimeout, clearTimeout, queueMicrotask, performance,
  Float32Array, Float64Array, Uint32Array, Uint16Array, Int32Array, Uint8Array, ArrayBuffer, DataView });
vm.runInContext(code, page);
const rand = (...shape) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() - 0.5) });
const [B, NH, S, D] = [1, 2, 32, 8];
const x = { q: rand(B, NH, S, D), k: rand(B, NH, S, D), v: rand(B, NH, S, D), i: rand(B, NH, S), f: rand(B, NH, S) };
const h = await page.__exports.run(x.q, x.k, x.v, x.i, x.f);
const ref = mlstmChunkwise({ ...x, chunkSize: 16 }).h;
let maxDiff = 0, maxRef = 0;
for (let j = 0; j < ref.data.length; j++) { maxDiff = Math.max(maxDiff, Math.abs(h.data[j] - ref.data[j])); maxRef = Math.max(maxRef, Math.abs(ref.data[j])); }
console.log(JSON.stringify({ processInPage: typeof page.process, shape: [...h.shape], relMaxDiff: maxDiff / maxRef }));
process.exit(0);
`,
  );
  return JSON.parse(run(process.execPath, ['run-browser-bundle.mjs'], { cwd: dir }).trim().split('\n').pop());
}

/** The first ```ts / ```js block of a README (the example a user copies first), or null. */
export function firstExample(readme) {
  const m = /```(?:ts|typescript|js|javascript)\n([\s\S]*?)```/.exec(readme);
  return m ? m[1] : null;
}

/**
 * How each package's first README example is run in a scratch project: `main` arguments when the
 * example exports `main`, and whether it needs a WebGPU adapter. @mlstm/bench's README starts
 * with repository commands (`pnpm bench -- …`); a user's first command is its CLI: `mlstm-bench --list`.
 */
const EXAMPLES = {
  'core-reference': { gpu: false },
  'kernels-webgpu': { gpu: true },
  backend: { gpu: true },
  'hf-model': { gpu: false, args: [join(root, 'fixtures', 'xlstm-tiny', 'single', 'model')] },
  bench: { gpu: false, cli: ['mlstm-bench', '--list'] },
};

/** The real directory of a third-party dependency as installed in this repository for `pkg`. */
function installedDir(pkg, dep) {
  return realpathSync(join(root, 'packages', pkg, 'node_modules', dep));
}

/**
 * Runs the first README example of every package in `pkgs`, as installed in the scratch project
 * `dir` (the README is read from the installed package: what a user sees). TypeScript is turned
 * into JavaScript by esbuild without bundling, so every import resolves from the scratch project.
 * Returns { pkg: 'ok' | 'skipped (…)' }.
 */
export function runFirstExamples(dir, pkgs, { runGpu = true } = {}) {
  const out = {};
  for (const p of pkgs) {
    const how = EXAMPLES[p];
    if (how.gpu && !runGpu) {
      out[p] = 'skipped (needs an adapter: --no-gpu)';
      continue;
    }
    if (how.cli) {
      const [name, ...args] = how.cli;
      run(join(dir, 'node_modules', '.bin', name), args, { cwd: dir, timeout: 60_000 });
      out[p] = 'ok';
      continue;
    }
    const readme = readFileSync(join(dir, 'node_modules', manifest(p).name, 'README.md'), 'utf8');
    const code = firstExample(readme);
    if (!code) throw new Error(`@mlstm/${p}: README.md has no ts/js example`);
    writeFileSync(join(dir, `example-${p}.ts`), code);
    run(
      bin('esbuild'),
      [
        `example-${p}.ts`,
        '--format=esm',
        '--platform=node',
        '--target=node20',
        `--outfile=example-${p}.mjs`,
        '--log-level=warning',
      ],
      { cwd: dir },
    );
    writeFileSync(
      join(dir, `run-example-${p}.mjs`),
      `const m = await import('./example-${p}.mjs');
if (typeof m.main === 'function') await m.main(...${JSON.stringify(how.args ?? [])});
process.exit(0);
`,
    );
    run(process.execPath, [`run-example-${p}.mjs`], { cwd: dir, timeout: 60_000 });
    out[p] = 'ok';
  }
  return out;
}

/**
 * pnpm: one scratch project per package, whose only dependency is that package (+ `webgpu` where
 * the package uses it), installed with `pnpm install --offline`. pnpm links only direct
 * dependencies into node_modules, so a README import of a package the user did not install (e.g.
 * `@mlstm/kernels-webgpu` in the backend's example) fails here as it fails for a user. The tarballs'
 * dependencies on each other and on third-party packages are pinned by `overrides` (the tarballs,
 * and the directories this repository installed), so no registry is asked. The `webgpu` build is
 * approved in pnpm-workspace.yaml, as the READMEs tell pnpm users to do.
 * Returns { pkg: scratchDir }.
 */
export function pnpmScratchInstall(tarballs, dir) {
  const names = Object.fromEntries(Object.keys(tarballs).map((p) => [manifest(p).name, p]));
  const overrides = {};
  for (const [name, p] of Object.entries(names)) overrides[name] = `file:${tarballs[p]}`;
  for (const p of Object.keys(tarballs)) {
    for (const dep of Object.keys(manifest(p).dependencies ?? {}))
      if (!(dep in names)) overrides[dep] ??= `link:${installedDir(p, dep)}`;
  }
  const webgpu = `link:${installedDir('kernels-webgpu', 'webgpu')}`;
  overrides.webgpu = webgpu;
  const yaml = [
    'allowBuilds:',
    '  webgpu: true',
    'overrides:',
    ...Object.entries(overrides).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`),
    '',
  ].join('\n');
  const dirs = {};
  for (const p of Object.keys(tarballs)) {
    const m = manifest(p);
    const d = join(dir, p);
    mkdirSync(d, { recursive: true });
    const usesWebgpu = 'webgpu' in { ...m.dependencies, ...m.peerDependencies };
    const deps = { [m.name]: `file:${tarballs[p]}`, ...(usesWebgpu ? { webgpu } : {}) };
    writeFileSync(
      join(d, 'package.json'),
      JSON.stringify(
        { name: `scratch-pnpm-${p}`, private: true, type: 'module', dependencies: deps },
        null,
        2,
      ),
    );
    writeFileSync(join(d, 'pnpm-workspace.yaml'), yaml);
    run('pnpm', ['install', '--offline', '--config.confirmModulesPurge=false'], { cwd: d });
    dirs[p] = d;
  }
  return dirs;
}

const fmtExamples = (r) =>
  Object.entries(r)
    .map(([p, v]) => `@mlstm/${p} ${v}`)
    .join(', ');

export function checkAll({
  packages = [...OFFLINE_PACKAGES, ...LINT_ONLY_PACKAGES],
  keep = false,
  doBuild = true,
  runGpu = true,
  log = console.log,
} = {}) {
  const tmp = mkdtempSync(join(tmpdir(), 'mlstm-pack-'));
  const report = { tmp, packages: {}, scratch: undefined, examples: undefined };
  try {
    const present = packages.filter((p) => {
      try {
        manifest(p);
        return true;
      } catch {
        return false;
      }
    });
    for (const p of present) {
      const problems = checkFields(p);
      if (problems.length) throw new Error(`@mlstm/${p} package.json: ${problems.join('; ')}`);
      log(`fields     @mlstm/${p}: ok`);
    }
    if (doBuild) build(present);
    log(`build      ${present.join(', ')}: ok`);
    const packDir = join(tmp, 'tarballs');
    mkdirSync(packDir);
    const tarballs = pack(present, packDir);
    for (const p of present) {
      const contents = checkContents(p, tarballs[p]);
      log(
        `contents   @mlstm/${p}: ${contents.files} files, ${(contents.bytes / 1024).toFixed(0)} KiB unpacked, ok`,
      );
      const { publint, attw } = lint(tarballs[p]);
      report.packages[p] = { tarball: tarballs[p], contents, publint: publint.trim(), attw: attw.trim() };
      log(`publint    @mlstm/${p}: ok`);
      log(`attw       @mlstm/${p} (esm-only): ok`);
    }
    const offline = Object.fromEntries(
      OFFLINE_PACKAGES.filter((p) => tarballs[p]).map((p) => [p, tarballs[p]]),
    );
    if (Object.keys(offline).length === OFFLINE_PACKAGES.length) {
      const thirdParty = {};
      for (const [dep, p] of Object.entries(NPM_THIRD_PARTY)) {
        const before = new Set(readdirSync(packDir));
        run('npm', ['pack', installedDir(p, dep), '--ignore-scripts', '--pack-destination', packDir], {
          cwd: tmp,
        });
        thirdParty[dep] = join(
          packDir,
          readdirSync(packDir).find((f) => !before.has(f)),
        );
      }
      report.scratch = scratchInstall(offline, join(tmp, 'scratch'), { runGpu, thirdParty });
      log(
        `install    ${OFFLINE_PACKAGES.map((p) => `@mlstm/${p}`).join(' + ')} from tarballs, Node ESM import + run: ok`,
      );
      log(`tsc        consumer types from the tarballs: ok`);
      log(`esbuild    browser bundle of @mlstm/kernels-webgpu: ${report.scratch.browser.bytes} bytes, ok`);
      const r = report.scratch.browser.run;
      if (r) {
        if (r.processInPage !== 'undefined' || !(r.relMaxDiff < 1e-4))
          throw new Error(`browser bundle run: ${JSON.stringify(r)}`);
        log(
          `browser    bundle run in a page-like context on navigator.gpu: rel. max |Δ| vs reference ${r.relMaxDiff.toExponential(1)}, ok`,
        );
      }
      report.examples = { npm: runFirstExamples(join(tmp, 'scratch'), OFFLINE_PACKAGES, { runGpu }) };
      log(`examples   npm: first README example of ${fmtExamples(report.examples.npm)}`);
    }
    if (present.length === OFFLINE_PACKAGES.length + LINT_ONLY_PACKAGES.length) {
      const dirs = pnpmScratchInstall(tarballs, join(tmp, 'scratch-pnpm'));
      log(`install    pnpm --offline, one project per package (only it as a dependency): ok`);
      report.examples.pnpm = {};
      for (const [p, d] of Object.entries(dirs))
        Object.assign(report.examples.pnpm, runFirstExamples(d, [p], { runGpu }));
      log(`examples   pnpm: first README example of ${fmtExamples(report.examples.pnpm)}`);
    }
    return report;
  } finally {
    if (!keep) rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const pkgs = argv.filter((a) => !a.startsWith('--'));
  try {
    const r = checkAll({
      packages: pkgs.length ? pkgs : undefined,
      keep: argv.includes('--keep'),
      doBuild: !argv.includes('--no-build'),
      runGpu: !argv.includes('--no-gpu'),
    });
    if (r.scratch) console.log(JSON.stringify(r.scratch, null, 2));
    if (argv.includes('--keep')) console.log(`kept ${r.tmp}`);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
