/**
 * Every configuration of the matrix-unit (subgroup-matrix) path's WGSL generators, as data: the
 * intra kernels (role × variant × chunkwise/parallel × column tile × row walk × row dots), the
 * chunk products (direction × variant × column tile × chunks per workgroup × carrying) and the
 * element-wise carries of the matrix-unit scan. The stand-in compile test (sgmat.test.ts) and the
 * WGSL snapshots (wgsl-snapshots.test.ts) both walk this list.
 */
import { type ChunkProductConfig, chunkProductWgsl } from '../src/chunkwise/kernels/chunk_products.js';
import type { IntraRole, Variant } from '../src/chunkwise/kernels/intra.js';
import { type SgmatIntraConfig, sgmatWgsl } from '../src/chunkwise/kernels/intra_sgmat.js';
import { boundsWgsl, carryWgsl } from '../src/chunkwise/kernels/state_carry.js';

export interface MatrixPathConfig {
  /** a file-name-safe name of the configuration */
  name: string;
  /** a readable description (test names) */
  title: string;
  /** whether the kernel uses the subgroup-matrix builtins (else it compiles as it is) */
  matrix: boolean;
  wgsl: () => string;
}

const roles: IntraRole[] = ['fw', 'dq', 'dk', 'dv'];
export const variants: [Variant, boolean][] = [
  ['exp', true],
  ['sig', true],
  ['sig', false],
];
const vName = (variant: Variant, normalize: boolean) => `${variant}${normalize ? '' : '-nonorm'}`;

export function intraConfigs(): SgmatIntraConfig[] {
  const out: SgmatIntraConfig[] = [];
  for (const role of roles) {
    for (const [variant, normalize] of variants) {
      for (const inter of [true, false]) {
        for (const [bX, walkRows, rowDots] of [
          [256, false, false],
          [192, false, false],
          [128, false, false],
          [64, false, false],
          [256, true, false],
          [128, true, false],
          ...(role === 'dq' || role === 'dk'
            ? ([
                [128, true, true],
                [64, false, true],
              ] as const)
            : []),
        ] as const) {
          out.push({ role, variant, normalize, inter, bX, walkRows, rowDots });
        }
      }
    }
  }
  return out;
}

export function chunkProductConfigs(): ChunkProductConfig[] {
  const out: ChunkProductConfig[] = [];
  for (const direction of ['fw', 'bw'] as const) {
    for (const [variant, normalize] of variants) {
      for (const [bX, chunksPerWorkgroup, carry] of [
        [256, 1, false],
        [192, 1, false],
        [128, 1, false],
        [64, 1, false],
        [256, 2, false],
        [128, 2, false],
        [256, 1, true],
        [128, 1, true],
      ] as const) {
        out.push({ direction, variant, normalize, bX, chunksPerWorkgroup, carry });
      }
    }
  }
  return out;
}

export function intraName(c: SgmatIntraConfig): string {
  return `intra-${c.role}-${vName(c.variant, c.normalize)}-${c.inter ? 'chunkwise' : 'parallel'}-x${c.bX}${c.walkRows ? '-walk' : ''}${c.rowDots ? '-dots' : ''}`;
}

export function chunkProductName(c: ChunkProductConfig): string {
  return `products-${c.direction}-${vName(c.variant, c.normalize)}-x${c.bX}-${c.carry ? 'carry' : `walk${c.chunksPerWorkgroup ?? 1}`}`;
}

/** Every configuration of the matrix-unit path's generators. */
export function matrixPathConfigs(): MatrixPathConfig[] {
  const out: MatrixPathConfig[] = [];
  for (const c of intraConfigs()) {
    out.push({
      name: intraName(c),
      title: `intra ${c.role} ${c.variant}${c.normalize ? '' : ' (no normalize)'} ${c.inter ? 'chunkwise' : 'parallel'} bX=${c.bX}${c.walkRows ? ' (walks the row tiles)' : ''}${c.rowDots ? ' with row dots' : ''}`,
      matrix: true,
      wgsl: () => sgmatWgsl(c),
    });
  }
  for (const c of chunkProductConfigs()) {
    const walk = c.chunksPerWorkgroup ?? 1;
    out.push({
      name: chunkProductName(c),
      title: `chunk products ${c.direction} ${c.variant}${c.normalize ? '' : ' (no normalize)'} bX=${c.bX}${walk > 1 ? `, ${walk} chunks per workgroup` : ''}${c.carry ? ', carrying the states' : ''}`,
      matrix: true,
      wgsl: () => chunkProductWgsl(c),
    });
  }
  for (const direction of ['fw', 'bw'] as const) {
    for (const variant of ['exp', 'sig'] as Variant[]) {
      out.push({
        name: `carry-${direction}-${variant}`,
        title: `state carry ${direction} ${variant}`,
        matrix: false,
        wgsl: () => carryWgsl(direction, variant),
      });
    }
    out.push({
      name: `bounds-${direction}`,
      title: `segment bounds ${direction}`,
      matrix: false,
      wgsl: () => boundsWgsl(direction),
    });
  }
  return out;
}
