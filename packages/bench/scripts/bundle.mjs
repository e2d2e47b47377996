// Bundles the CLI into one ESM file for machines without node_modules (the GPU machine's kit):
// dist/bundle/mlstm-bench.mjs with the workspace packages, vega, zod, commander, protobufjs and
// onnxruntime-web's JS inlined, `webgpu` (dawn.node) external, plus onnxruntime-web's one wasm
// file (the WebGPU build's) beside it, raw and xz-compressed (the kit carries the .xz), and the
// triton-live peer's timing script (triton_live.py, found beside the bundle).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bundle');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'src/cli.ts')],
  outfile: join(out, 'mlstm-bench.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@mlstm/source'],
  external: ['webgpu'],
  banner: {
    js: "import { createRequire as __mlstmCreateRequire } from 'node:module'; const require = __mlstmCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
const req = createRequire(join(root, 'package.json'));
const wasm = req.resolve('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm');
const wasmOut = join(out, 'ort-wasm-simd-threaded.asyncify.wasm');
copyFileSync(wasm, wasmOut);
execFileSync('xz', ['-T2', '-6', '-k', '-f', wasmOut]);
copyFileSync(join(root, 'scripts', 'triton_live.py'), join(out, 'triton_live.py'));
const mb = (f) => (statSync(f).size / 2 ** 20).toFixed(1);
console.log(`dist/bundle/mlstm-bench.mjs ${mb(join(out, 'mlstm-bench.mjs'))} MiB`);
console.log(
  `dist/bundle/ort-wasm-simd-threaded.asyncify.wasm ${mb(wasmOut)} MiB (.xz ${mb(`${wasmOut}.xz`)} MiB)`,
);
