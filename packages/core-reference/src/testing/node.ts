/**
 * Node-only helpers to load the upstream golden vectors in `fixtures/mlstm-kernels/`
 * (import from `@mlstm/core-reference/testing/node`; uses `node:fs`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '../tensor.js';
import { readSafetensors } from './safetensors.js';

/** Parameters of a fixture case, as in `manifest.json`. */
export interface MlstmFixtureParams {
  B: number;
  NH: number;
  S: number;
  DHQK: number;
  DHHV: number;
  chunk_size: number;
  seed: number;
  i_offset: number;
  f_offset: number;
  f_scale: number;
  initial_states: boolean;
  eps: number;
  notes: string;
}

/** The upstream library's self-consistency on a case (max |Δ| between its own forms; null = not run). */
export type MlstmFixtureChecks = Record<string, number | null>;

/** One loaded fixture case. */
export interface MlstmFixture {
  name: string;
  params: MlstmFixtureParams;
  /** every tensor of the case (float32 data, as stored) */
  tensors: Record<string, Tensor>;
  checks: MlstmFixtureChecks;
}

interface Manifest {
  generator: string;
  cases: Record<
    string,
    { params: MlstmFixtureParams; tensors: Record<string, number[]>; checks: MlstmFixtureChecks }
  >;
}

const FIXTURE_DIR = join('fixtures', 'mlstm-kernels');

/**
 * The folder `<repoRoot>/fixtures/mlstm-kernels`, found by walking up from this module's location
 * (works from `src/` under vitest and from `dist/` after a build).
 */
export function mlstmFixtureDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, FIXTURE_DIR);
    if (existsSync(join(candidate, 'manifest.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `mLSTM fixtures not found: no ${FIXTURE_DIR}/manifest.json in any folder above ${fileURLToPath(import.meta.url)}. ` +
          'Run from a clone of the repository (the fixtures live at <repo>/fixtures/mlstm-kernels).',
      );
    }
    dir = parent;
  }
}

let manifestCache: Manifest | undefined;

function manifest(): Manifest {
  manifestCache ??= JSON.parse(readFileSync(join(mlstmFixtureDir(), 'manifest.json'), 'utf8')) as Manifest;
  return manifestCache;
}

/** Names of every fixture case in the manifest (e.g. `small`, `medium`, `ragged`, `states`, …). */
export function listMlstmFixtureCases(): string[] {
  return Object.keys(manifest().cases);
}

/**
 * Loads a fixture case: parameters and checks from the manifest, tensors from `<case>.safetensors`.
 * Throws with the list of cases for an unknown name, and if a tensor's shape differs from the manifest.
 */
export function loadMlstmFixture(caseName: string): MlstmFixture {
  const m = manifest();
  const entry = m.cases[caseName];
  if (!entry) {
    throw new Error(
      `unknown mLSTM fixture case "${caseName}"; available: ${Object.keys(m.cases).join(', ')}`,
    );
  }
  const file = join(mlstmFixtureDir(), `${caseName}.safetensors`);
  if (!existsSync(file)) throw new Error(`mLSTM fixture file missing: ${file}`);
  const { tensors } = readSafetensors(readFileSync(file));
  for (const [name, shape] of Object.entries(entry.tensors)) {
    const t = tensors[name];
    if (!t)
      throw new Error(`fixture ${caseName}: tensor ${name} listed in manifest.json is missing from ${file}`);
    if (t.shape.length !== shape.length || t.shape.some((dim, x) => dim !== shape[x])) {
      throw new Error(`fixture ${caseName}: tensor ${name} has shape [${t.shape}], manifest says [${shape}]`);
    }
  }
  return { name: caseName, params: entry.params, tensors, checks: entry.checks };
}
