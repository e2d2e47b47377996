// Bundles every script of a GPU-machine measurement into dist/device/ (one .mjs each, the workspace
// packages inlined, `webgpu` external), plus the bench CLI's bundle, its ORT wasm (.xz) and the
// triton-live script, and tools/device/measure.sh. Copy dist/device/* into the device kit and run
// measure.sh there (see CONTRIBUTING.md, "The GPU-machine workflow").
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'dist/device');
mkdirSync(out, { recursive: true });
const entries = {
  'device-check': 'packages/kernels-webgpu/scripts/device-check.ts',
  'packed-bench': 'packages/kernels-webgpu/scripts/packed-bench.ts',
  'matrix-path.gpu': 'packages/kernels-webgpu/test-gpu/matrix-path.gpu.ts',
  'qgemv.gpu': 'packages/hf-model/test-gpu/qgemv.gpu.ts',
  'fastpath-check': 'packages/hf-model/scripts/fastpath-check.ts',
  'quant-layer-check': 'packages/hf-model/scripts/quant-layer-check.ts',
  'decode-device': 'packages/hf-model/bench/decode-device.ts',
  'gemm-device': 'packages/bench/scripts/gemm-device.ts',
};
for (const [name, src] of Object.entries(entries)) {
  await build({
    entryPoints: [join(root, src)],
    outfile: join(out, `${name}.mjs`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@mlstm/source'],
    external: ['webgpu'],
    logLevel: 'warning',
  });
}
execFileSync('pnpm', ['--filter', '@mlstm/bench', 'bundle'], { cwd: root, stdio: 'ignore' });
const bench = join(root, 'packages/bench/dist/bundle');
for (const f of ['mlstm-bench.mjs', 'ort-wasm-simd-threaded.asyncify.wasm.xz', 'triton_live.py'])
  copyFileSync(join(bench, f), join(out, f));
copyFileSync(join(root, 'tools/device/measure.sh'), join(out, 'measure.sh'));
console.log(`dist/device: ${Object.keys(entries).join(', ')}, mlstm-bench, measure.sh`);
