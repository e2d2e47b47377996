enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium_experimental.subgroup_matrix_uniformity);
enable f16;
alias elem = f16;

fn logsigmoid(x: f32) -> f32 {
  // min(x, 0) - log1p(exp(-|x|)); log(1 + y) is exact enough in f32 for y = exp(-|x|) <= 1
  return min(x, 0.0) - log(1.0 + exp(-abs(x)));
}
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
struct Params {
  S: u32,
  L: u32,
  NC: u32,
  DY: u32,
  DX: u32,
  nYTiles: u32,
  nXTiles: u32,
  hasInit: u32,
  writeLast: u32,
  segs: u32,
  count: u32,
  T: u32,
  NB: u32,
  scale: f32,
  eps: f32,
}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> Bm: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> gates: array<f32>;
@group(0) @binding(4) var<storage, read> chunkv: array<f32>;
@group(0) @binding(5) var<storage, read> nm: array<f32>;
@group(0) @binding(6) var<storage, read_write> states16: array<vec4<u32>>;

var<workgroup> sA: array<array<f16, 1152>, 4>;   // weighted A: block = 16 state rows, [row][token]
var<workgroup> sV: array<array<f16, 1152>, 8>;   // B slice: block = the columns of a subgroup column group
var<workgroup> sE: array<array<f32, 256>, 16>;   // epilogue: 2 16×16 blocks per subgroup

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
  let xTile = flat % P.nXTiles;
  let rest = flat / P.nXTiles;
  let yTile = rest % P.nYTiles;
  let rest2 = rest / P.nYTiles;
  let y0 = yTile * 64u;
  let rb0 = 2u * (sg / 4u);
  let rb1 = rb0 + 1u;
  let cg = sg % 4u;
  let xw = xTile * 256u;
  let xc = cg * 64u;
  // A staging: token sTok of a 32-token half, rows sY8 … sY8 + 7 (fw: n sums them per subgroup)
  let sTok = lane;
  let sY8 = sg * 8u;
  // the epilogue's element of a 16×16 block: row eRow, columns eCol … eCol + 7
  let eRow = lane / 2u;
  let eCol = (lane % 2u) * 8u;
  let e0 = eRow * 16u + eCol;
  let nGroups = (P.NC + 1u) / 2u;
  let bnh = rest2 / nGroups;
  let mBase = bnh * (P.NC + 1u);
  for (var it = 0u; it < 2u; it++) {
  let chunk = (rest2 % nGroups) * 2u + it;
  if (chunk >= P.NC) { break; }
  workgroupBarrier(); // the previous chunk's epilogue is done with the scratch
  let seq0 = bnh * P.S + chunk * P.L;
  let mPrev = chunkv[2u * P.NB * P.NC + mBase + chunk];
  let mNext = chunkv[2u * P.NB * P.NC + mBase + chunk + 1u];
  let g = chunkv[bnh * P.NC + chunk];
  var a0_0 = subgroup_matrix_result<f32, 16, 16>();
  var a0_1 = subgroup_matrix_result<f32, 16, 16>();
  var a0_2 = subgroup_matrix_result<f32, 16, 16>();
  var a0_3 = subgroup_matrix_result<f32, 16, 16>();
  var a1_0 = subgroup_matrix_result<f32, 16, 16>();
  var a1_1 = subgroup_matrix_result<f32, 16, 16>();
  var a1_2 = subgroup_matrix_result<f32, 16, 16>();
  var a1_3 = subgroup_matrix_result<f32, 16, 16>();


  for (var l0 = 0u; l0 < P.L; l0 += 64u) {
    {
    // tokens l0 + 0 …: loaded right before they are stored (holding them across the
    // products of the previous slice costs registers, and was slower on the H100)
    let w0 = A[((seq0 + l0 + sTok + 0u) * P.DY + y0 + sY8) / 8u];
    let w1 = A[((seq0 + l0 + sTok + 32u) * P.DY + y0 + sY8) / 8u];
    var bv0 = vec4<u32>(); var bv1 = vec4<u32>(); var bv2 = vec4<u32>(); var bv3 = vec4<u32>();
bv0 = Bm[((seq0 + l0 + 0u + (lid + 0u) / 32u) * P.DX + xw + ((lid + 0u) % 32u) * 8u) / 8u];
bv1 = Bm[((seq0 + l0 + 0u + (lid + 256u) / 32u) * P.DX + xw + ((lid + 256u) % 32u) * 8u) / 8u];
bv2 = Bm[((seq0 + l0 + 0u + (lid + 512u) / 32u) * P.DX + xw + ((lid + 512u) % 32u) * 8u) / 8u];
bv3 = Bm[((seq0 + l0 + 0u + (lid + 768u) / 32u) * P.DX + xw + ((lid + 768u) % 32u) * 8u) / 8u];
    workgroupBarrier();
{
      let tok = seq0 + l0 + sTok + 0u;
      let sc = P.scale * exp(mPrev + -max(mPrev, gates[2u * P.T + tok])) * (1.0 / (nm[tok] + P.eps));
      let col = sTok + 0u;
      { let h2 = vec2<f16>(vec2<f32>(bitcast<vec2<f16>>(w0.x)) * sc); sA[sY8 / 16u][(sY8 % 16u + 0u) * 72u + col] = h2.x; sA[sY8 / 16u][(sY8 % 16u + 1u) * 72u + col] = h2.y; }
      { let h2 = vec2<f16>(vec2<f32>(bitcast<vec2<f16>>(w0.y)) * sc); sA[sY8 / 16u][(sY8 % 16u + 2u) * 72u + col] = h2.x; sA[sY8 / 16u][(sY8 % 16u + 3u) * 72u + col] = h2.y; }
      { let h2 = vec2<f16>(vec2<f32>(bitcast<vec2<f16>>(w0.z)) * sc); sA[sY8 / 16u][(sY8 % 16u + 4u) * 72u + col] = h2.x; sA[sY8 / 16u][(sY8 % 16u + 5u) * 72u + col] = h2.y; }
      { let h2 = vec2<f16>(vec2<f32>(bitcast<vec2<f16>>(w0.w)) * sc); sA[sY8 / 16u][(sY8 % 16u + 6u) * 72u + col] = h2.x; sA[sY8 / 16u][(sY8 % 16u + 7u) * 72u + col] = h2.y; }
    }
{
      let tok = seq0 + l0 + sTok + 32u;
      let sc = P.scale * exp(mPrev + -max(mPrev, gates[2u * P.T + tok])) * (1.0 / (nm[tok] + P.eps));
      let col = sTok + 32u;
      { let h2 = vec2<f16>(vec2<f32>(bitcast<vec2<f16>>(w1.x)) * sc); sA[sY8 / 16u][(sY8 % 16u + 0u) * 72u + col] = h2.x; sA[sY8 / 16u][(sY8 % 16u + 1u) * 72u + col] = h2.y; }
      { let h2 = vec2<f16>(vec2<f32>(bitcast<vec2<f16>>(w1.y)) * sc); sA[sY8 / 16u][(sY8 % 16u + 2u) * 72u + col] = h2.x; sA[sY8 / 16u][(sY8 % 16u + 3u) * 72u + col] = h2.y; }
      { let h2 = vec2<f16>(vec2<f32>(bitcast<vec2<f16>>(w1.z)) * sc); sA[sY8 / 16u][(sY8 % 16u + 4u) * 72u + col] = h2.x; sA[sY8 / 16u][(sY8 % 16u + 5u) * 72u + col] = h2.y; }
      { let h2 = vec2<f16>(vec2<f32>(bitcast<vec2<f16>>(w1.w)) * sc); sA[sY8 / 16u][(sY8 % 16u + 6u) * 72u + col] = h2.x; sA[sY8 / 16u][(sY8 % 16u + 7u) * 72u + col] = h2.y; }
    }
{ let k = (lid + 0u) / 32u; let x8 = ((lid + 0u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv0.x); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.y); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.z); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.w); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 256u) / 32u; let x8 = ((lid + 256u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv1.x); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.y); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.z); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.w); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 512u) / 32u; let x8 = ((lid + 512u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv2.x); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.y); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.z); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.w); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 768u) / 32u; let x8 = ((lid + 768u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv3.x); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.y); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.z); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.w); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
    workgroupBarrier();
    {
      let m0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sA[rb0], 0u, false, 72u);
      let m1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sA[rb1], 0u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[0u + cg], 0u, false, 72u);
        a0_0 = subgroupMatrixMultiplyAccumulate(m0, r, a0_0);
        a1_0 = subgroupMatrixMultiplyAccumulate(m1, r, a1_0); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[0u + cg], 16u, false, 72u);
        a0_1 = subgroupMatrixMultiplyAccumulate(m0, r, a0_1);
        a1_1 = subgroupMatrixMultiplyAccumulate(m1, r, a1_1); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[0u + cg], 32u, false, 72u);
        a0_2 = subgroupMatrixMultiplyAccumulate(m0, r, a0_2);
        a1_2 = subgroupMatrixMultiplyAccumulate(m1, r, a1_2); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[0u + cg], 48u, false, 72u);
        a0_3 = subgroupMatrixMultiplyAccumulate(m0, r, a0_3);
        a1_3 = subgroupMatrixMultiplyAccumulate(m1, r, a1_3); }
    }
    {
      let m0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sA[rb0], 16u, false, 72u);
      let m1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sA[rb1], 16u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[4u + cg], 0u, false, 72u);
        a0_0 = subgroupMatrixMultiplyAccumulate(m0, r, a0_0);
        a1_0 = subgroupMatrixMultiplyAccumulate(m1, r, a1_0); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[4u + cg], 16u, false, 72u);
        a0_1 = subgroupMatrixMultiplyAccumulate(m0, r, a0_1);
        a1_1 = subgroupMatrixMultiplyAccumulate(m1, r, a1_1); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[4u + cg], 32u, false, 72u);
        a0_2 = subgroupMatrixMultiplyAccumulate(m0, r, a0_2);
        a1_2 = subgroupMatrixMultiplyAccumulate(m1, r, a1_2); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[4u + cg], 48u, false, 72u);
        a0_3 = subgroupMatrixMultiplyAccumulate(m0, r, a0_3);
        a1_3 = subgroupMatrixMultiplyAccumulate(m1, r, a1_3); }
    }
    }
    {
    // tokens l0 + 32 …: loaded right before they are stored (holding them across the
    // products of the previous slice costs registers, and was slower on the H100)
    var bv0 = vec4<u32>(); var bv1 = vec4<u32>(); var bv2 = vec4<u32>(); var bv3 = vec4<u32>();
bv0 = Bm[((seq0 + l0 + 32u + (lid + 0u) / 32u) * P.DX + xw + ((lid + 0u) % 32u) * 8u) / 8u];
bv1 = Bm[((seq0 + l0 + 32u + (lid + 256u) / 32u) * P.DX + xw + ((lid + 256u) % 32u) * 8u) / 8u];
bv2 = Bm[((seq0 + l0 + 32u + (lid + 512u) / 32u) * P.DX + xw + ((lid + 512u) % 32u) * 8u) / 8u];
bv3 = Bm[((seq0 + l0 + 32u + (lid + 768u) / 32u) * P.DX + xw + ((lid + 768u) % 32u) * 8u) / 8u];
    workgroupBarrier();
{ let k = (lid + 0u) / 32u; let x8 = ((lid + 0u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv0.x); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.y); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.z); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.w); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 256u) / 32u; let x8 = ((lid + 256u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv1.x); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.y); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.z); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.w); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 512u) / 32u; let x8 = ((lid + 512u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv2.x); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.y); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.z); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.w); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 768u) / 32u; let x8 = ((lid + 768u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv3.x); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.y); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.z); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.w); sV[0u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sV[0u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
    workgroupBarrier();
    {
      let m0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sA[rb0], 32u, false, 72u);
      let m1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sA[rb1], 32u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[0u + cg], 0u, false, 72u);
        a0_0 = subgroupMatrixMultiplyAccumulate(m0, r, a0_0);
        a1_0 = subgroupMatrixMultiplyAccumulate(m1, r, a1_0); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[0u + cg], 16u, false, 72u);
        a0_1 = subgroupMatrixMultiplyAccumulate(m0, r, a0_1);
        a1_1 = subgroupMatrixMultiplyAccumulate(m1, r, a1_1); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[0u + cg], 32u, false, 72u);
        a0_2 = subgroupMatrixMultiplyAccumulate(m0, r, a0_2);
        a1_2 = subgroupMatrixMultiplyAccumulate(m1, r, a1_2); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[0u + cg], 48u, false, 72u);
        a0_3 = subgroupMatrixMultiplyAccumulate(m0, r, a0_3);
        a1_3 = subgroupMatrixMultiplyAccumulate(m1, r, a1_3); }
    }
    {
      let m0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sA[rb0], 48u, false, 72u);
      let m1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sA[rb1], 48u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[4u + cg], 0u, false, 72u);
        a0_0 = subgroupMatrixMultiplyAccumulate(m0, r, a0_0);
        a1_0 = subgroupMatrixMultiplyAccumulate(m1, r, a1_0); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[4u + cg], 16u, false, 72u);
        a0_1 = subgroupMatrixMultiplyAccumulate(m0, r, a0_1);
        a1_1 = subgroupMatrixMultiplyAccumulate(m1, r, a1_1); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[4u + cg], 32u, false, 72u);
        a0_2 = subgroupMatrixMultiplyAccumulate(m0, r, a0_2);
        a1_2 = subgroupMatrixMultiplyAccumulate(m1, r, a1_2); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sV[4u + cg], 48u, false, 72u);
        a0_3 = subgroupMatrixMultiplyAccumulate(m0, r, a0_3);
        a1_3 = subgroupMatrixMultiplyAccumulate(m1, r, a1_3); }
    }
    }
  }
  // epilogue: two accumulators at a time through the subgroup's scratch blocks, 8 f16 (4 u32)
  // per lane and row
  let slot = mBase + chunk + 0u;
  subgroupMatrixStore(&sE[sg * 2u + 0u], 0u, a0_0, false, 16u);
  subgroupMatrixStore(&sE[sg * 2u + 1u], 0u, a0_1, false, 16u);
  workgroupBarrier();
  states16[((slot * P.DY + y0 + rb0 * 16u + eRow) * P.DX + xw + xc + 0u + eCol) / 8u] = vec4<u32>(bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 2u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 2u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 4u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 4u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 6u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 6u + 1u], -65504.0, 65504.0)))));
  states16[((slot * P.DY + y0 + rb0 * 16u + eRow) * P.DX + xw + xc + 16u + eCol) / 8u] = vec4<u32>(bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 2u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 2u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 4u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 4u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 6u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 6u + 1u], -65504.0, 65504.0)))));
  workgroupBarrier();
  subgroupMatrixStore(&sE[sg * 2u + 0u], 0u, a0_2, false, 16u);
  subgroupMatrixStore(&sE[sg * 2u + 1u], 0u, a0_3, false, 16u);
  workgroupBarrier();
  states16[((slot * P.DY + y0 + rb0 * 16u + eRow) * P.DX + xw + xc + 32u + eCol) / 8u] = vec4<u32>(bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 2u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 2u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 4u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 4u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 6u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 6u + 1u], -65504.0, 65504.0)))));
  states16[((slot * P.DY + y0 + rb0 * 16u + eRow) * P.DX + xw + xc + 48u + eCol) / 8u] = vec4<u32>(bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 2u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 2u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 4u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 4u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 6u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 6u + 1u], -65504.0, 65504.0)))));
  workgroupBarrier();
  subgroupMatrixStore(&sE[sg * 2u + 0u], 0u, a1_0, false, 16u);
  subgroupMatrixStore(&sE[sg * 2u + 1u], 0u, a1_1, false, 16u);
  workgroupBarrier();
  states16[((slot * P.DY + y0 + rb1 * 16u + eRow) * P.DX + xw + xc + 0u + eCol) / 8u] = vec4<u32>(bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 2u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 2u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 4u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 4u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 6u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 6u + 1u], -65504.0, 65504.0)))));
  states16[((slot * P.DY + y0 + rb1 * 16u + eRow) * P.DX + xw + xc + 16u + eCol) / 8u] = vec4<u32>(bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 2u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 2u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 4u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 4u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 6u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 6u + 1u], -65504.0, 65504.0)))));
  workgroupBarrier();
  subgroupMatrixStore(&sE[sg * 2u + 0u], 0u, a1_2, false, 16u);
  subgroupMatrixStore(&sE[sg * 2u + 1u], 0u, a1_3, false, 16u);
  workgroupBarrier();
  states16[((slot * P.DY + y0 + rb1 * 16u + eRow) * P.DX + xw + xc + 32u + eCol) / 8u] = vec4<u32>(bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 2u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 2u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 4u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 4u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 0u][e0 + 6u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 0u][e0 + 6u + 1u], -65504.0, 65504.0)))));
  states16[((slot * P.DY + y0 + rb1 * 16u + eRow) * P.DX + xw + xc + 48u + eCol) / 8u] = vec4<u32>(bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 2u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 2u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 4u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 4u + 1u], -65504.0, 65504.0)))), bitcast<u32>(vec2<f16>(f16(clamp(sE[sg * 2u + 1u][e0 + 6u], -65504.0, 65504.0)), f16(clamp(sE[sg * 2u + 1u][e0 + 6u + 1u], -65504.0, 65504.0)))));


  }

}
