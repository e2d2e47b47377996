/**
 * Stand-ins for Dawn's subgroup-matrix builtins, so that any WGSL compiler (CI's lavapipe has no
 * subgroup matrices) can compile the matrix-unit kernels: catches every type, name and binding
 * error outside the builtins themselves. Used by the sgmat and dense tests.
 */

/** Splits the top-level comma-separated arguments of the call whose '(' is at `open`; returns them and the index after ')'. */
export function callArgs(code: string, open: number): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < code.length; i++) {
    const ch = code[i];
    if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth === 0) {
        args.push(code.slice(start, i).trim());
        return { args, end: i + 1 };
      }
    } else if (ch === ',' && depth === 1) {
      args.push(code.slice(start, i).trim());
      start = i + 1;
    }
  }
  throw new Error('unbalanced call');
}

export function replaceCalls(code: string, name: string, make: (args: string[]) => string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const i = code.indexOf(name, at);
    if (i < 0) return out + code.slice(at);
    const open = code.indexOf('(', i);
    const { args, end } = callArgs(code, open);
    out += code.slice(at, i) + make(args);
    at = end;
  }
}

/** The WGSL with the subgroup-matrix extension replaced by stand-ins any WGSL compiler takes. */
export function stubSubgroupMatrix(code: string): string {
  let s = code
    .replace('enable chromium_experimental_subgroup_matrix;', '')
    .replace(/diagnostic\(off, chromium_experimental\.subgroup_matrix_uniformity\);/, '')
    .replace(/subgroup_matrix_(left|right|result)<[^>]*>/g, 'SgMat');
  s = replaceCalls(s, 'subgroupMatrixLoad<SgMat>', ([p, off, cm, stride]) => {
    return `sgLoad(f32(${p.replace(/^&/, '')}[${off}]), ${cm}, ${stride})`;
  });
  s = replaceCalls(s, 'subgroupMatrixMultiplyAccumulate', (a) => `sgMma(${a.join(', ')})`);
  s = replaceCalls(s, 'subgroupMatrixScalarMultiply', ([m, x]) => `(${m} * ${x})`);
  s = replaceCalls(
    s,
    'subgroupMatrixStore',
    ([p, off, m, cm, stride]) => `${p.replace(/^&/, '')}[${off}] = sgStore(${m}, ${cm}, ${stride})`,
  );
  const stubs = `alias SgMat = vec4<f32>;
fn sgLoad(x: f32, cm: bool, stride: u32) -> SgMat { return vec4<f32>(x, select(0.0, 1.0, cm), f32(stride), 0.0); }
fn sgMma(a: SgMat, b: SgMat, c: SgMat) -> SgMat { return a * b + c; }
fn sgStore(m: SgMat, cm: bool, stride: u32) -> f32 { return m.x + select(0.0, 1.0, cm) + f32(stride); }
`;
  // after the enable directives (WGSL wants them first)
  const enables = [...s.matchAll(/^enable [^;]*;$/gm)];
  const at = enables.length
    ? enables[enables.length - 1].index + enables[enables.length - 1][0].length + 1
    : 0;
  return s.slice(0, at) + stubs + s.slice(at);
}
