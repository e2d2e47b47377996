/**
 * WGSL of the operand-path micro-benchmark (matrix-loads.ts); a module of its own so that the
 * tests can compile every variant on CI's adapter with stand-in builtins.
 */
import { range } from '../src/chunkwise/kernels/sgmat_common.js';
import { LEFT, RESULT, RIGHT, SGMAT_ENABLE } from '../src/chunkwise/kernels/sgmat_builtins.js';

/**
 * Where an operand comes from: workgroup memory or storage, row- or column-major; `shared-block`:
 * workgroup memory as an array of fixed-size blocks addressed at literal offsets (the steps are
 * unrolled), which lets robustness prove the loads in bounds at compile time.
 */
export type OperandSource = 'shared-row' | 'shared-col' | 'storage-row' | 'storage-col' | 'shared-block';

const S = 72; // padded row stride of the workgroup arrays (as in the TFLA kernels)
const G = 256; // row stride of the storage operands

/**
 * One workgroup of 8 subgroups; per step each subgroup loads 2 left and 4 right 16×16 f16
 * matrices (at a depth `kk` the compiler cannot predict) and does 8 products into its 32 × 64
 * f32 accumulators. `hoist`: the operands are loaded once, before the loop (products only);
 * `barrier`: a workgroup barrier ends every step.
 */
export function matrixLoadsWgsl(
  left: OperandSource,
  right: OperandSource,
  opts: { hoist?: boolean; barrier?: boolean } = {},
): string {
  const blocked = left === 'shared-block' || right === 'shared-block';
  const leftLoad = (i: number, kk = 'kk') => {
    const m = `(2u * (sg / 4u) + ${i}u) * 16u`;
    switch (left) {
      case 'shared-block':
        return `&sLb[2u * (sg / 4u) + ${i}u], ${kk}, false, ${S}u`;
      case 'shared-row':
        return `&sL, ${m} * ${S}u + ${kk}, false, ${S}u`;
      case 'shared-col':
        return `&sL, ${kk} * ${S}u + ${m}, true, ${S}u`;
      case 'storage-row':
        return `&src, gBase + ${m} * ${G}u + ${kk}, false, ${G}u`;
      case 'storage-col':
        return `&src, gBase + ${kk} * ${G}u + ${m}, true, ${G}u`;
    }
  };
  const rightLoad = (j: number, kk = 'kk') => {
    const nShared = `${16 * j}u`;
    const nStorage = `(sg % 4u) * 64u + ${16 * j}u`;
    switch (right) {
      case 'shared-block':
        return `&sRb[${j}u], ${kk} * 24u, false, 24u`;
      case 'shared-row':
        return `&sR, ${kk} * ${S}u + ${nShared}, false, ${S}u`;
      case 'shared-col':
        return `&sR, ${nShared} * ${S}u + ${kk}, true, ${S}u`;
      case 'storage-row':
        return `&src, gBase + ${kk} * ${G}u + ${nStorage}, false, ${G}u`;
      case 'storage-col':
        return `&src, gBase + (${nStorage}) * ${G}u + ${kk}, true, ${G}u`;
    }
  };
  const I = [0, 1];
  const J = range(4);
  // blocked: 4 steps per iteration at literal depths 0, 16, 32, 48
  const blockedStep = (k: number) => `    {
${I.map((i) => `      let l${i} = subgroupMatrixLoad<${LEFT}>(${leftLoad(i, `${16 * k}u`)});`).join('\n')}
${J.map((j) => `      let r${j} = subgroupMatrixLoad<${RIGHT}>(${rightLoad(j, `${16 * k}u`)});`).join('\n')}
${I.flatMap((i) => J.map((j) => `      a${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, a${i}_${j});`)).join('\n')}
${opts.barrier ? '      workgroupBarrier();' : ''}
    }`;
  const loads = [
    ...I.map((i) => `let l${i} = subgroupMatrixLoad<${LEFT}>(${leftLoad(i)});`),
    ...J.map((j) => `let r${j} = subgroupMatrixLoad<${RIGHT}>(${rightLoad(j)});`),
  ];
  const products = I.flatMap((i) =>
    J.map((j) => `a${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, a${i}_${j});`),
  );
  return /* wgsl */ `${SGMAT_ENABLE}
enable f16;
struct Params { iters: u32, step: u32, never: u32, pad: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f16>;
@group(0) @binding(2) var<storage, read_write> sink: array<f32>;
var<workgroup> sL: array<f16, ${64 * S}>;
var<workgroup> sR: array<f16, ${64 * S}>;
${
  blocked
    ? `var<workgroup> sLb: array<array<f16, ${16 * S}>, 4>;
var<workgroup> sRb: array<array<f16, ${64 * 24}>, 4>;`
    : ''
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_id) sg: u32) {
  for (var e = lid; e < ${64 * S}u; e += 256u) { sL[e] = src[e]; sR[e] = src[e + 8192u]; }
${
  blocked
    ? `  for (var e = lid; e < ${16 * S * 4}u; e += 256u) { sLb[e / ${16 * S}u][e % ${16 * S}u] = src[e]; }
  for (var e = lid; e < ${64 * 24 * 4}u; e += 256u) { sRb[e / ${64 * 24}u][e % ${64 * 24}u] = src[e + 8192u]; }`
    : ''
}
  workgroupBarrier();
  let gBase = (wid.x % 4u) * ${G * G}u;
${I.flatMap((i) => J.map((j) => `  var a${i}_${j} = ${RESULT}();`)).join('\n')}
${opts.hoist ? `  let kk = 0u;\n${loads.map((l) => `  ${l}`).join('\n')}` : ''}
  for (var it = 0u; it < ${blocked ? 'P.iters / 4u' : 'P.iters'}; it++) {
${blocked ? range(4).map(blockedStep).join('\n') : ''}
${opts.hoist || blocked ? '' : `    let kk = ((it * P.step) % 4u) * 16u;\n${loads.map((l) => `    ${l}`).join('\n')}`}
${blocked ? '' : products.map((l) => `    ${l}`).join('\n')}
${opts.barrier && !blocked ? '    workgroupBarrier();' : ''}
  }
  if (P.never == 1u) {
${I.flatMap((i) => J.map((j) => `    subgroupMatrixStore(&sink, ${(i * 4 + j) * 256}u, a${i}_${j}, false, 16u);`)).join('\n')}
  }
}
`;
}
