/** The README example (examples/stream-tiny.ts, shown verbatim in README.md) runs as a test. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { main } from '../examples/stream-tiny.js';
import { modelDir } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('README.md shows examples/stream-tiny.ts verbatim', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const code = readFileSync(join(root, 'examples', 'stream-tiny.ts'), 'utf8');
  expect(readme).toContain(code.trimEnd());
});

test('the example streams text from the tiny model folder', async () => {
  const chunks: string[] = [];
  const text = await main(modelDir('single'), (s) => chunks.push(s));
  expect(chunks[0]).toBe('The matrix memory');
  expect(text.length).toBeGreaterThan(0);
  expect(chunks.slice(1, -1).join('')).toBe(text);
});
