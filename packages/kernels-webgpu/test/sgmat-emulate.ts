/**
 * A working stand-in for Dawn's subgroup-matrix builtins, so that the matrix-unit kernels can be
 * run — not only compiled — on adapters without them (CI's lavapipe), and their staging, tiling
 * and epilogues checked against a CPU product.
 *
 * - Every invocation holds a whole 16×16 matrix as an `array<f32, 256>` and computes it in full:
 *   the real builtins' values are uniform across the subgroup, so every lane holding all of them
 *   is a faithful model. Operands come from f16 values (exact in f32), products are summed in f32
 *   (another order than the hardware's); results must be f32 (an f16 result type is refused).
 * - Loads read the 256 elements at `offset + row·stride + column` (column-major: the transpose)
 *   through the same pointer the kernel passes, so padding, block and offset errors show; stores
 *   write them back (every lane the same values).
 * - A subgroup is 32 consecutive invocations (`subgroup_id = local index / 32`, lane = the rest),
 *   whatever the adapter's subgroup size; kernels that use other subgroup operations are refused.
 *
 * Slow — each product is 4 096 multiply-adds in every invocation — so tests keep shapes small.
 */
import { callArgs, replaceCalls } from './sgmat-stub.js';

interface Root {
  space: string;
  type: string;
  elem: string;
}

const MATRIX_TYPE = /subgroup_matrix_(left|right|result)<\s*(\w+)\s*,\s*(\d+)\s*,\s*(\d+)\s*>/g;

function roots(code: string): Map<string, Root> {
  const out = new Map<string, Root>();
  for (const m of code.matchAll(/var<\s*(workgroup|storage)\s*(?:,\s*(\w+))?\s*>\s+(\w+)\s*:\s*([^;]+);/g)) {
    const [, space, access, name, type] = m;
    const elem = /array<\s*(f16|f32)\s*[,>]/.exec(type)?.[1];
    if (!elem) continue; // not an array of scalars: no matrix can be loaded from it
    out.set(name, {
      space: space === 'workgroup' ? 'workgroup' : `storage, ${access ?? 'read'}`,
      type: type.trim(),
      elem,
    });
  }
  return out;
}

/** `&name[index]` or `&name` → the root variable and the index (if any). */
function pointer(arg: string): { name: string; index: string | null } {
  const m = /^&\s*\(?\s*(\w+)\s*(?:\[([\s\S]*)\])?\s*\)?$/.exec(arg.trim());
  if (!m) throw new Error(`emulateSubgroupMatrix: unsupported matrix pointer ${arg}`);
  return { name: m[1], index: m[2] ?? null };
}

/** The WGSL with the subgroup-matrix extension replaced by working emulations. */
export function emulateSubgroupMatrix(code: string): string {
  let s = code
    .replace(/enable\s+chromium_experimental_subgroup_matrix\s*;/, '')
    .replace(/diagnostic\(off,\s*chromium_experimental\.subgroup_matrix_uniformity\);/g, '');
  const other = /\bsubgroup(?!Matrix)[A-Z]\w*\s*\(/.exec(s);
  if (other) throw new Error(`emulateSubgroupMatrix: ${other[0]} is not emulated`);
  for (const m of s.matchAll(MATRIX_TYPE)) {
    if (m[3] !== '16' || m[4] !== '16') throw new Error(`emulateSubgroupMatrix: only 16×16 (${m[0]})`);
    if (m[1] === 'result' && m[2] !== 'f32')
      throw new Error(`emulateSubgroupMatrix: f32 results only (${m[0]})`);
    if (m[1] !== 'result' && m[2] !== 'f16')
      throw new Error(`emulateSubgroupMatrix: f16 operands only (${m[0]})`);
  }
  s = s.replace(MATRIX_TYPE, 'SgMat');
  const vars = roots(s);
  const helpers = new Map<string, string>();
  const helper = (kind: 'load' | 'store', name: string, indexed: boolean) => {
    const root = vars.get(name);
    if (!root) throw new Error(`emulateSubgroupMatrix: no array variable ${name}`);
    const fn = `sg_${kind}_${name}`;
    if (helpers.has(fn)) return fn;
    const at = (e: string) => (indexed ? `(*p)[b][${e}]` : `(*p)[${e}]`);
    const args = `p: ptr<${root.space}, ${root.type}>${indexed ? ', b: u32' : ''}, off: u32, m: ptr<function, SgMat>, cm: bool, stride: u32`;
    const where = 'off + select(r * stride + c, c * stride + r, cm)';
    helpers.set(
      fn,
      `fn ${fn}(${args}) {
  for (var r = 0u; r < sgemu16; r++) {
    for (var c = 0u; c < sgemu16; c++) { ${kind === 'load' ? `(*m)[r * 16u + c] = f32(${at(where)})` : `${at(where)} = ${root.elem}((*m)[r * 16u + c])`}; }
  }
}`,
    );
    return fn;
  };
  const call = (kind: 'load' | 'store', p: string, off: string, m: string, cm: string, stride: string) => {
    const { name, index } = pointer(p);
    return `${helper(kind, name, index !== null)}(&${name}, ${index !== null ? `${index}, ` : ''}${off}, &${m}, ${cm}, ${stride})`;
  };
  // Matrices live in function variables and go to the helpers by pointer: passed by value, each
  // 256-element array would be copied element by element at every call (slow to compile).
  // `let m = subgroupMatrixLoad<…>(…);` → a load into `sgemu_m`, declared once at the top of main
  const loaded = new Set<string>();
  s = s.replace(/let\s+(\w+)\s*=\s*subgroupMatrixLoad<SgMat>\s*\(/g, (_m, name: string) => {
    loaded.add(name);
    return `sgemu_LOAD_${name}(`;
  });
  for (const name of loaded)
    s = replaceCalls(s, `sgemu_LOAD_${name}`, ([p, off, cm, stride]) =>
      call('load', p, off, `sgemu_${name}`, cm, stride),
    );
  const mat = (a: string) => (loaded.has(a) ? `sgemu_${a}` : a);
  // `acc = subgroupMatrixMultiplyAccumulate(a, b, acc);` → in place
  s = s.replace(
    /(\w+)\s*=\s*subgroupMatrixMultiplyAccumulate\s*\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(\w+)\s*\)/g,
    (all, acc: string, a: string, b: string, c: string) => {
      if (c !== acc) throw new Error(`emulateSubgroupMatrix: only in-place accumulation (${all})`);
      return `sgMma(&${acc}, &${mat(a)}, &${mat(b)})`;
    },
  );
  // `var acc = SgMat();` → a zero matrix
  s = s.replace(/var\s+(\w+)\s*=\s*SgMat\s*\(\s*\)/g, 'var $1: SgMat');
  s = replaceCalls(s, 'subgroupMatrixStore', ([p, off, m, cm, stride]) => {
    if (!/^\w+$/.test(m)) throw new Error(`emulateSubgroupMatrix: stores of named matrices only (${m})`);
    return call('store', p, off, mat(m), cm, stride);
  });
  const left = /subgroupMatrix\w*|subgroup_matrix\w*/.exec(s);
  if (left) throw new Error(`emulateSubgroupMatrix: ${left[0]} is not emulated`);

  // subgroups of 32 consecutive invocations, from the local index
  const main = s.indexOf('fn main(');
  if (main < 0) throw new Error('emulateSubgroupMatrix: no fn main');
  const { args: params, end } = callArgs(s, s.indexOf('(', main));
  const named = (builtin: string) =>
    params.map((q) => new RegExp(`@builtin\\(${builtin}\\)\\s*(\\w+)`).exec(q)?.[1]).find(Boolean);
  const sgName = named('subgroup_id');
  const laneName = named('subgroup_invocation_id');
  const sizeName = named('subgroup_size');
  let lid = named('local_invocation_index');
  let nwg = named('num_workgroups');
  const kept = params.filter((q) => !/@builtin\(subgroup_(id|invocation_id|size)\)/.test(q));
  if (!lid) {
    lid = 'sgemu_lid';
    kept.push(`@builtin(local_invocation_index) ${lid}: u32`);
  }
  if (!nwg) {
    nwg = 'sgemu_nwg';
    kept.push(`@builtin(num_workgroups) ${nwg}: vec3u`);
  }
  const body = s.indexOf('{', end);
  const lets = [
    // 16, but not known to the compiler (a dispatch has < 65 536 workgroups along z), so that it
    // keeps the emulation's loops as loops instead of unrolling 4 096 multiply-adds per product
    `sgemu16 = 16u + ${nwg}.z / 65536u;`,
    ...[...loaded].map((m) => `var sgemu_${m}: SgMat;`),
    sgName ? `let ${sgName} = ${lid} / 32u;` : '',
    laneName ? `let ${laneName} = ${lid} % 32u;` : '',
    sizeName ? `let ${sizeName} = 32u;` : '',
  ].join(' ');
  s = `${s.slice(0, main)}fn main(${kept.join(', ')})${s.slice(end, body + 1)}\n  ${lets}${s.slice(body + 1)}`;
  s = s.replace(/enable\s+subgroups\s*;/, '');

  const lib = `alias SgMat = array<f32, 256>;
var<private> sgemu16: u32 = 16u;
fn sgMma(c: ptr<function, SgMat>, a: ptr<function, SgMat>, b: ptr<function, SgMat>) {
  for (var i = 0u; i < sgemu16; i++) {
    for (var n = 0u; n < sgemu16; n++) {
      var acc = (*c)[i * 16u + n];
      for (var k = 0u; k < sgemu16; k++) { acc += (*a)[i * 16u + k] * (*b)[k * 16u + n]; }
      (*c)[i * 16u + n] = acc;
    }
  }
}
${[...helpers.values()].join('\n')}
`;
  // after the enable directives (WGSL wants them first)
  const enables = [...s.matchAll(/^enable [^;]*;$/gm)];
  const at = enables.length
    ? enables[enables.length - 1].index + enables[enables.length - 1][0].length + 1
    : 0;
  return s.slice(0, at) + lib + s.slice(at);
}
