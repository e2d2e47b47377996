/**
 * WGSL snapshots of the matrix-unit (subgroup-matrix) path. CI's lavapipe cannot run these
 * kernels, so a change of their generators would otherwise pass CI unseen: every configuration
 * of sgmat-configs.ts is compared with the committed snapshot, and the test fails until the
 * snapshots are updated on purpose (`pnpm test:wgsl-snapshots -u`, see CONTRIBUTING.md — and then
 * the GPU test project, `pnpm test:gpu`, is run on a GPU with subgroup matrices).
 *
 * Lean: the kernels of the default configuration (xl_chunk, mLSTMexp, chunk 128, DHQK 128,
 * DHHV 256: the const-token setup) are stored whole, so a change shows as a diff; every
 * configuration is in `matrix-path.sha256` as its SHA-256 and length, so a change anywhere fails.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { matrixPathConfigs } from './sgmat-configs.js';

/** The configurations the default xl_chunk call (const-token shape) compiles, stored whole. */
const WHOLE = [
  'intra-fw-exp-chunkwise-x256-walk',
  'intra-dq-exp-chunkwise-x128-walk-dots',
  'intra-dk-exp-chunkwise-x128-walk-dots',
  'intra-dv-exp-chunkwise-x256',
  'products-fw-exp-x256-carry',
  'products-bw-exp-x256-carry',
  'products-fw-exp-x256-walk2',
  'products-bw-exp-x256-walk2',
];

const configs = matrixPathConfigs();

describe('matrix-unit path: generated WGSL matches the committed snapshots', () => {
  it('names every configuration once, and the whole-file set exists', () => {
    const names = configs.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const w of WHOLE) expect(names).toContain(w);
  });
  it('every configuration: SHA-256 and length (matrix-path.sha256)', async () => {
    const lines = configs.map((c) => {
      const code = c.wgsl();
      return `${createHash('sha256').update(code).digest('hex')} ${String(code.length).padStart(6)} ${c.name}`;
    });
    await expect(`${lines.join('\n')}\n`).toMatchFileSnapshot('./wgsl/matrix-path.sha256');
  });
  for (const name of WHOLE) {
    it(`whole WGSL of ${name}`, async () => {
      const c = configs.find((x) => x.name === name)!;
      await expect(c.wgsl()).toMatchFileSnapshot(`./wgsl/${name}.wgsl`);
    });
  }
});
