/**
 * Release dry run: `changeset version` in a temporary clone of HEAD (tools/release-dry-run.sh)
 * bumps every package named in a pending changeset and writes its CHANGELOG.md entry.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** packages named in the committed-or-not pending changesets (front matter `'@mlstm/x': minor`) */
function pendingPackages(): string[] {
  const dir = join(root, '.changeset');
  const names = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    const front = readFileSync(join(dir, f), 'utf8').split('---')[1] ?? '';
    for (const m of front.matchAll(/['"]?(@mlstm\/[\w-]+)['"]?\s*:\s*(patch|minor|major)/g)) names.add(m[1]);
  }
  return [...names];
}

it('changeset version works in a clean clone and writes a changelog per pending package', () => {
  const out = execFileSync('bash', [join(root, 'tools', 'release-dry-run.sh')], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(out).toContain('--- versions');
  for (const name of pendingPackages()) {
    const short = name.split('/')[1];
    expect(out, `${name}: CHANGELOG.md written`).toContain(`== packages/${short}/CHANGELOG.md\n# ${name}`);
  }
});
