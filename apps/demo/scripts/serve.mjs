// `pnpm demo`: serve the built app (dist/) on 127.0.0.1 and print the URL. WebGPU needs a secure
// context: http://127.0.0.1 / localhost count as one. PORT=… to choose the port; HOST=0.0.0.0 only
// behind https (other machines reach it over plain http, where browsers hide WebGPU).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 4173);
const server = await preview({
  root,
  configFile: join(root, 'vite.config.ts'),
  logLevel: 'warn',
  preview: { host, port, strictPort: false, open: false },
});
const url = server.resolvedUrls?.local[0] ?? `http://${host}:${port}/`;
console.log(`\nmLSTM demo: ${url}\n`);
console.log('  pages: #/adapter  #/playground  #/bench  #/model');
console.log('  needs a browser with WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+); Ctrl-C to stop\n');
