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
  DI: u32,
  nRowTiles: u32,
  nXTiles: u32,
  count: u32,
  zeroSlot: u32,
  T: u32,
  NB: u32,
  gateScale: f32,
  outScale: f32,
  eps: f32,
}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read> gates: array<f32>;
@group(0) @binding(5) var<storage, read> chunkv: array<f32>;
@group(0) @binding(6) var<storage, read> cStates: array<vec4<u32>>;
@group(0) @binding(7) var<storage, read_write> h: array<vec4<u32>>;
@group(0) @binding(8) var<storage, read_write> nm: array<f32>;


var<workgroup> sB: array<array<f16, 1152>, 12>;   // see the layout note in intra_sgmat.ts
var<workgroup> sS: array<array<f32, 256>, 16>;
var<workgroup> rU: array<f32, 64>;
var<workgroup> rLog: array<f32, 64>;
var<workgroup> rInv: array<f32, 64>;
var<workgroup> rFac: array<f32, 64>;
var<workgroup> tU: array<f32, 64>;
var<workgroup> tLog: array<f32, 64>;
var<workgroup> tInv: array<f32, 64>;
var<workgroup> rDen: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
  let xTile = flat % P.nXTiles;
  let rest = flat / P.nXTiles;
  let chunk = rest % P.NC;
  let bnh = rest / P.NC;
  for (var rTile = 0u; rTile < P.nRowTiles; rTile++) {
  workgroupBarrier(); // the previous row tile's epilogue is done with rFac and the scratch
  let r0 = rTile * 64u;
  let seq0 = bnh * P.S + chunk * P.L;          // first token of the chunk
  let rg = sg / 4u;                            // row blocks 2rg, 2rg + 1 (32 rows)
  let cg = sg % 4u;                            // column group (QK: token block)
  let rb0 = 2u * rg;
  let rb1 = rb0 + 1u;
  let xw = xTile * 256u;                     // the workgroup's first output column
  let noInterMax = false;
  let mPrev = chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk];
  let mNext = chunkv[2u * P.NB * P.NC + bnh * (P.NC + 1u) + chunk + 1u];
  let gChunk = chunkv[bnh * P.NC + chunk];
  // the fw normaliser's inter part: 4 invocations per row
  let slRow = lid / 4u;
  // staging of a 64 × 64 slice: rows sRow and sRow + 32, 8 elements from sY8
  let sRow = lid / 8u;
  let sY8 = (lid % 8u) * 8u;

  let interOn = chunk + 0u != P.zeroSlot;
  let sBase = (bnh * (P.NC + 1u) + chunk + 0u) * P.DI * P.DX;
  var sv0 = vec4<u32>(); var sv1 = vec4<u32>(); var sv2 = vec4<u32>(); var sv3 = vec4<u32>();
  var wi0 = vec4<u32>();
  var wi1 = vec4<u32>();
  var qn = 0.0;
  if (interOn) {
sv0 = cStates[(sBase + (0u + (lid + 0u) / 32u) * P.DX + xw + ((lid + 0u) % 32u) * 8u) / 8u];
sv1 = cStates[(sBase + (0u + (lid + 256u) / 32u) * P.DX + xw + ((lid + 256u) % 32u) * 8u) / 8u];
sv2 = cStates[(sBase + (0u + (lid + 512u) / 32u) * P.DX + xw + ((lid + 512u) % 32u) * 8u) / 8u];
sv3 = cStates[(sBase + (0u + (lid + 768u) / 32u) * P.DX + xw + ((lid + 768u) % 32u) * 8u) / 8u];
  wi0 = q[((seq0 + r0 + sRow) * P.DI + 0u + sY8) / 8u];
  wi1 = q[((seq0 + r0 + sRow + 32u) * P.DI + 0u + sY8) / 8u];
    let nBase = P.NB * (P.NC + 1u) * P.DI * P.DX + 2u * (bnh * (P.NC + 1u) + chunk) * P.DI;
    let quarter = P.DI / 4u;
    for (var y = (lid % 4u) * quarter; y < (lid % 4u + 1u) * quarter; y += 8u) {
      let w = q[((seq0 + r0 + slRow) * P.DI + y) / 8u];
      let qv = array<vec2<f32>, 4>(vec2<f32>(bitcast<vec2<f16>>(w.x)), vec2<f32>(bitcast<vec2<f16>>(w.y)),
                                   vec2<f32>(bitcast<vec2<f16>>(w.z)), vec2<f32>(bitcast<vec2<f16>>(w.w)));
      // n_y … n_{y+7}: 8 f32 = two vec4 of the f16 view
      let n0 = bitcast<vec4<f32>>(cStates[(nBase + 2u * y) / 8u]);
      let n1 = bitcast<vec4<f32>>(cStates[(nBase + 2u * y) / 8u + 1u]);
      qn += dot(vec4<f32>(qv[0], qv[1]), n0) + dot(vec4<f32>(qv[2], qv[3]), n1);
    }
  }
  var mRow = 0.0; // fw: the row max state, for the epilogue (loaded with the row vectors)
  if (lid < 64u) {
    let tok = seq0 + r0 + lid;
    rU[lid] = gates[P.T + tok];
    rLog[lid] = select(-max(mPrev, gates[2u * P.T + tok]), -gates[2u * P.T + tok], noInterMax);
    rInv[lid] = 1.0;
    mRow = gates[tok];
  }
  workgroupBarrier();

  var a0_0 = subgroup_matrix_result<f32, 16, 16>();
  var a0_1 = subgroup_matrix_result<f32, 16, 16>();
  var a0_2 = subgroup_matrix_result<f32, 16, 16>();
  var a0_3 = subgroup_matrix_result<f32, 16, 16>();
  var a1_0 = subgroup_matrix_result<f32, 16, 16>();
  var a1_1 = subgroup_matrix_result<f32, 16, 16>();
  var a1_2 = subgroup_matrix_result<f32, 16, 16>();
  var a1_3 = subgroup_matrix_result<f32, 16, 16>();
  var den = 0.0; // fw: partial row sum of row lid / 4

  // inter-chunk term: factor_r · Σ_y I[r, y] · State[y, x]; I pre-scaled and staged 64 deep
  // (P half), the state 32 rows at a time (Q half), both one slice ahead in registers
  if (interOn) {
  if (lid < 64u) { rFac[lid] = P.gateScale * exp(mPrev + rLog[lid]); }

  for (var y0 = 0u; y0 < P.DI; y0 += 64u) {
    // rows y0 + 0 … of the state
    workgroupBarrier();
    {
      let sc0 = rFac[sRow]; let sc1 = rFac[sRow + 32u];
      {
        let at = (sRow % 16u) * 72u + sY8;
        { let f2 = vec2<f32>(bitcast<vec2<f16>>(wi0.x)) * sc0; sB[0u + sRow / 16u][at + 0u] = f16(f2.x); sB[0u + sRow / 16u][at + 1u] = f16(f2.y); }
        { let f2 = vec2<f32>(bitcast<vec2<f16>>(wi0.y)) * sc0; sB[0u + sRow / 16u][at + 2u] = f16(f2.x); sB[0u + sRow / 16u][at + 3u] = f16(f2.y); }
        { let f2 = vec2<f32>(bitcast<vec2<f16>>(wi0.z)) * sc0; sB[0u + sRow / 16u][at + 4u] = f16(f2.x); sB[0u + sRow / 16u][at + 5u] = f16(f2.y); }
        { let f2 = vec2<f32>(bitcast<vec2<f16>>(wi0.w)) * sc0; sB[0u + sRow / 16u][at + 6u] = f16(f2.x); sB[0u + sRow / 16u][at + 7u] = f16(f2.y); }
        { let f2 = vec2<f32>(bitcast<vec2<f16>>(wi1.x)) * sc1; sB[2u + sRow / 16u][at + 0u] = f16(f2.x); sB[2u + sRow / 16u][at + 1u] = f16(f2.y); }
        { let f2 = vec2<f32>(bitcast<vec2<f16>>(wi1.y)) * sc1; sB[2u + sRow / 16u][at + 2u] = f16(f2.x); sB[2u + sRow / 16u][at + 3u] = f16(f2.y); }
        { let f2 = vec2<f32>(bitcast<vec2<f16>>(wi1.z)) * sc1; sB[2u + sRow / 16u][at + 4u] = f16(f2.x); sB[2u + sRow / 16u][at + 5u] = f16(f2.y); }
        { let f2 = vec2<f32>(bitcast<vec2<f16>>(wi1.w)) * sc1; sB[2u + sRow / 16u][at + 6u] = f16(f2.x); sB[2u + sRow / 16u][at + 7u] = f16(f2.y); }
      }
    }
{ let k = (lid + 0u) / 32u; let x8 = ((lid + 0u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(sv0.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv0.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv0.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv0.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 256u) / 32u; let x8 = ((lid + 256u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(sv1.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv1.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv1.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv1.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 512u) / 32u; let x8 = ((lid + 512u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(sv2.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv2.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv2.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv2.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 768u) / 32u; let x8 = ((lid + 768u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(sv3.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv3.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv3.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv3.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
    workgroupBarrier();
    if (y0 + 64u < P.DI) {
      wi0 = q[((seq0 + r0 + sRow) * P.DI + y0 + 64u + sY8) / 8u];
      wi1 = q[((seq0 + r0 + sRow + 32u) * P.DI + y0 + 64u + sY8) / 8u];
    }
    if (y0 + 32u < P.DI) {
sv0 = cStates[(sBase + (y0 + 32u + (lid + 0u) / 32u) * P.DX + xw + ((lid + 0u) % 32u) * 8u) / 8u];
sv1 = cStates[(sBase + (y0 + 32u + (lid + 256u) / 32u) * P.DX + xw + ((lid + 256u) % 32u) * 8u) / 8u];
sv2 = cStates[(sBase + (y0 + 32u + (lid + 512u) / 32u) * P.DX + xw + ((lid + 512u) % 32u) * 8u) / 8u];
sv3 = cStates[(sBase + (y0 + 32u + (lid + 768u) / 32u) * P.DX + xw + ((lid + 768u) % 32u) * 8u) / 8u];
    }
    {
      let l0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 0u, false, 72u);
      let l1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 0u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 0u, false, 72u);
        a0_0 = subgroupMatrixMultiplyAccumulate(l0, r, a0_0);
        a1_0 = subgroupMatrixMultiplyAccumulate(l1, r, a1_0); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 16u, false, 72u);
        a0_1 = subgroupMatrixMultiplyAccumulate(l0, r, a0_1);
        a1_1 = subgroupMatrixMultiplyAccumulate(l1, r, a1_1); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 32u, false, 72u);
        a0_2 = subgroupMatrixMultiplyAccumulate(l0, r, a0_2);
        a1_2 = subgroupMatrixMultiplyAccumulate(l1, r, a1_2); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 48u, false, 72u);
        a0_3 = subgroupMatrixMultiplyAccumulate(l0, r, a0_3);
        a1_3 = subgroupMatrixMultiplyAccumulate(l1, r, a1_3); }
    }
    {
      let l0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 16u, false, 72u);
      let l1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 16u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 0u, false, 72u);
        a0_0 = subgroupMatrixMultiplyAccumulate(l0, r, a0_0);
        a1_0 = subgroupMatrixMultiplyAccumulate(l1, r, a1_0); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 16u, false, 72u);
        a0_1 = subgroupMatrixMultiplyAccumulate(l0, r, a0_1);
        a1_1 = subgroupMatrixMultiplyAccumulate(l1, r, a1_1); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 32u, false, 72u);
        a0_2 = subgroupMatrixMultiplyAccumulate(l0, r, a0_2);
        a1_2 = subgroupMatrixMultiplyAccumulate(l1, r, a1_2); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 48u, false, 72u);
        a0_3 = subgroupMatrixMultiplyAccumulate(l0, r, a0_3);
        a1_3 = subgroupMatrixMultiplyAccumulate(l1, r, a1_3); }
    }
    // rows y0 + 32 … of the state
    workgroupBarrier();
{ let k = (lid + 0u) / 32u; let x8 = ((lid + 0u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(sv0.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv0.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv0.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv0.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 256u) / 32u; let x8 = ((lid + 256u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(sv1.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv1.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv1.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv1.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 512u) / 32u; let x8 = ((lid + 512u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(sv2.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv2.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv2.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv2.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 768u) / 32u; let x8 = ((lid + 768u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(sv3.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv3.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv3.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(sv3.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
    workgroupBarrier();
    if (y0 + 64u < P.DI) {
sv0 = cStates[(sBase + (y0 + 64u + (lid + 0u) / 32u) * P.DX + xw + ((lid + 0u) % 32u) * 8u) / 8u];
sv1 = cStates[(sBase + (y0 + 64u + (lid + 256u) / 32u) * P.DX + xw + ((lid + 256u) % 32u) * 8u) / 8u];
sv2 = cStates[(sBase + (y0 + 64u + (lid + 512u) / 32u) * P.DX + xw + ((lid + 512u) % 32u) * 8u) / 8u];
sv3 = cStates[(sBase + (y0 + 64u + (lid + 768u) / 32u) * P.DX + xw + ((lid + 768u) % 32u) * 8u) / 8u];
    }
    {
      let l0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 32u, false, 72u);
      let l1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 32u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 0u, false, 72u);
        a0_0 = subgroupMatrixMultiplyAccumulate(l0, r, a0_0);
        a1_0 = subgroupMatrixMultiplyAccumulate(l1, r, a1_0); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 16u, false, 72u);
        a0_1 = subgroupMatrixMultiplyAccumulate(l0, r, a0_1);
        a1_1 = subgroupMatrixMultiplyAccumulate(l1, r, a1_1); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 32u, false, 72u);
        a0_2 = subgroupMatrixMultiplyAccumulate(l0, r, a0_2);
        a1_2 = subgroupMatrixMultiplyAccumulate(l1, r, a1_2); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 48u, false, 72u);
        a0_3 = subgroupMatrixMultiplyAccumulate(l0, r, a0_3);
        a1_3 = subgroupMatrixMultiplyAccumulate(l1, r, a1_3); }
    }
    {
      let l0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 48u, false, 72u);
      let l1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 48u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 0u, false, 72u);
        a0_0 = subgroupMatrixMultiplyAccumulate(l0, r, a0_0);
        a1_0 = subgroupMatrixMultiplyAccumulate(l1, r, a1_0); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 16u, false, 72u);
        a0_1 = subgroupMatrixMultiplyAccumulate(l0, r, a0_1);
        a1_1 = subgroupMatrixMultiplyAccumulate(l1, r, a1_1); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 32u, false, 72u);
        a0_2 = subgroupMatrixMultiplyAccumulate(l0, r, a0_2);
        a1_2 = subgroupMatrixMultiplyAccumulate(l1, r, a1_2); }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 48u, false, 72u);
        a0_3 = subgroupMatrixMultiplyAccumulate(l0, r, a0_3);
        a1_3 = subgroupMatrixMultiplyAccumulate(l1, r, a1_3); }
    }
  }
  den += rFac[slRow] * qn;
  }
  // intra-chunk term over the causal side's 64-token tiles
  for (var t0 = 0u; t0 <= r0; t0 += 64u) {
    workgroupBarrier();
    // scores A = P·Qᵀ: this subgroup's blocks (rb0, cg) and (rb1, cg), over 64-deep slices
    // staged one ahead in registers; the first slices are loaded before the token vectors, and
    // those by every invocation (stored by the first 64), so that all latencies overlap
    var wp0 = q[((seq0 + r0 + sRow) * P.DY + 0u + sY8) / 8u];
    var wp1 = q[((seq0 + r0 + sRow + 32u) * P.DY + 0u + sY8) / 8u];
    var wq0 = k[((seq0 + t0 + sRow) * P.DY + 0u + sY8) / 8u];
    var wq1 = k[((seq0 + t0 + sRow + 32u) * P.DY + 0u + sY8) / 8u];
    {
      let tok = seq0 + t0 + lid % 64u;
      let u = gates[P.T + tok];
      let lg = select(-max(mPrev, gates[2u * P.T + tok]), -gates[2u * P.T + tok], noInterMax);
      let inv = 1.0;
      if (lid < 64u) {
        tU[lid] = u;
        tLog[lid] = lg;
        tInv[lid] = inv;
      }
    }
    let diag = t0 == r0;
    let skip0 = (diag && cg > rb0);
    let skip1 = (diag && cg > rb1);
    var s0 = subgroup_matrix_result<f32, 16, 16>();
    var s1 = subgroup_matrix_result<f32, 16, 16>();
    for (var y0 = 0u; y0 < P.DY; y0 += 64u) {
      workgroupBarrier();
      {
        let at = (sRow % 16u) * 72u + sY8;
        { let h2 = bitcast<vec2<f16>>(wp0.x); sB[0u + sRow / 16u][at + 0u] = h2.x; sB[0u + sRow / 16u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wp0.y); sB[0u + sRow / 16u][at + 2u] = h2.x; sB[0u + sRow / 16u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wp0.z); sB[0u + sRow / 16u][at + 4u] = h2.x; sB[0u + sRow / 16u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wp0.w); sB[0u + sRow / 16u][at + 6u] = h2.x; sB[0u + sRow / 16u][at + 7u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wp1.x); sB[2u + sRow / 16u][at + 0u] = h2.x; sB[2u + sRow / 16u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wp1.y); sB[2u + sRow / 16u][at + 2u] = h2.x; sB[2u + sRow / 16u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wp1.z); sB[2u + sRow / 16u][at + 4u] = h2.x; sB[2u + sRow / 16u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wp1.w); sB[2u + sRow / 16u][at + 6u] = h2.x; sB[2u + sRow / 16u][at + 7u] = h2.y; }
      }
      {
        let at = (sRow % 16u) * 72u + sY8;
        { let h2 = bitcast<vec2<f16>>(wq0.x); sB[4u + sRow / 16u][at + 0u] = h2.x; sB[4u + sRow / 16u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wq0.y); sB[4u + sRow / 16u][at + 2u] = h2.x; sB[4u + sRow / 16u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wq0.z); sB[4u + sRow / 16u][at + 4u] = h2.x; sB[4u + sRow / 16u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wq0.w); sB[4u + sRow / 16u][at + 6u] = h2.x; sB[4u + sRow / 16u][at + 7u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wq1.x); sB[6u + sRow / 16u][at + 0u] = h2.x; sB[6u + sRow / 16u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wq1.y); sB[6u + sRow / 16u][at + 2u] = h2.x; sB[6u + sRow / 16u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wq1.z); sB[6u + sRow / 16u][at + 4u] = h2.x; sB[6u + sRow / 16u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(wq1.w); sB[6u + sRow / 16u][at + 6u] = h2.x; sB[6u + sRow / 16u][at + 7u] = h2.y; }
      }
      workgroupBarrier();
      if (y0 + 64u < P.DY) {
        wp0 = q[((seq0 + r0 + sRow) * P.DY + y0 + 64u + sY8) / 8u];
        wp1 = q[((seq0 + r0 + sRow + 32u) * P.DY + y0 + 64u + sY8) / 8u];
        wq0 = k[((seq0 + t0 + sRow) * P.DY + y0 + 64u + sY8) / 8u];
        wq1 = k[((seq0 + t0 + sRow + 32u) * P.DY + y0 + 64u + sY8) / 8u];
      }
      {
        // right (y, t) = Q[t][y]: column-major
        let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 0u, true, 72u);
        if (!skip0) { s0 = subgroupMatrixMultiplyAccumulate(subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 0u, false, 72u), r, s0); }
        if (!skip1) { s1 = subgroupMatrixMultiplyAccumulate(subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 0u, false, 72u), r, s1); }
      }
      {
        // right (y, t) = Q[t][y]: column-major
        let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 16u, true, 72u);
        if (!skip0) { s0 = subgroupMatrixMultiplyAccumulate(subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 16u, false, 72u), r, s0); }
        if (!skip1) { s1 = subgroupMatrixMultiplyAccumulate(subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 16u, false, 72u), r, s1); }
      }
      {
        // right (y, t) = Q[t][y]: column-major
        let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 32u, true, 72u);
        if (!skip0) { s0 = subgroupMatrixMultiplyAccumulate(subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 32u, false, 72u), r, s0); }
        if (!skip1) { s1 = subgroupMatrixMultiplyAccumulate(subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 32u, false, 72u), r, s1); }
      }
      {
        // right (y, t) = Q[t][y]: column-major
        let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 48u, true, 72u);
        if (!skip0) { s0 = subgroupMatrixMultiplyAccumulate(subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 48u, false, 72u), r, s0); }
        if (!skip1) { s1 = subgroupMatrixMultiplyAccumulate(subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 48u, false, 72u), r, s1); }
      }
    }
    // the first B slice of this tile, loaded while the scores are gated
    var bv0 = vec4<u32>(); var bv1 = vec4<u32>(); var bv2 = vec4<u32>(); var bv3 = vec4<u32>();
bv0 = v[((seq0 + t0 + 0u + (lid + 0u) / 32u) * P.DX + xw + ((lid + 0u) % 32u) * 8u) / 8u];
bv1 = v[((seq0 + t0 + 0u + (lid + 256u) / 32u) * P.DX + xw + ((lid + 256u) % 32u) * 8u) / 8u];
bv2 = v[((seq0 + t0 + 0u + (lid + 512u) / 32u) * P.DX + xw + ((lid + 512u) % 32u) * 8u) / 8u];
bv3 = v[((seq0 + t0 + 0u + (lid + 768u) / 32u) * P.DX + xw + ((lid + 768u) % 32u) * 8u) / 8u];
    subgroupMatrixStore(&sS[rb0 * 4u + cg], 0u, s0, false, 16u);
    subgroupMatrixStore(&sS[rb1 * 4u + cg], 0u, s1, false, 16u);
    workgroupBarrier();
    // gate and causal mask, f32 (4 invocations per row, 16 tokens each); the gated scores go to
    // the P half
    {
      let rr = lid / 4u;
      let r = r0 + rr;
      let tb = lid % 4u;
      for (var c = 0u; c < 16u; c++) {
        let tt = tb * 16u + c;
        let t = t0 + tt;
        var val = 0.0;
        if (t <= r) { val = sS[(rr / 16u) * 4u + tb][(rr % 16u) * 16u + c] * P.gateScale * exp(tU[tt] + rLog[rr]) * rInv[rr]; }
        den += val;
        sB[rr / 16u][(rr % 16u) * 72u + tt] = f16(val);
      }
    }
    // Out += (A ⊙ G) · B, B staged 16 rows at a time (Q half), one slice ahead in registers
    workgroupBarrier();
    {
{ let k = (lid + 0u) / 32u; let x8 = ((lid + 0u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv0.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 256u) / 32u; let x8 = ((lid + 256u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv1.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 512u) / 32u; let x8 = ((lid + 512u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv2.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 768u) / 32u; let x8 = ((lid + 768u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv3.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
      workgroupBarrier();
bv0 = v[((seq0 + t0 + 32u + (lid + 0u) / 32u) * P.DX + xw + ((lid + 0u) % 32u) * 8u) / 8u];
bv1 = v[((seq0 + t0 + 32u + (lid + 256u) / 32u) * P.DX + xw + ((lid + 256u) % 32u) * 8u) / 8u];
bv2 = v[((seq0 + t0 + 32u + (lid + 512u) / 32u) * P.DX + xw + ((lid + 512u) % 32u) * 8u) / 8u];
bv3 = v[((seq0 + t0 + 32u + (lid + 768u) / 32u) * P.DX + xw + ((lid + 768u) % 32u) * 8u) / 8u];
      {
        let skipA = (diag && 0u > rb0);
        let skipB = (diag && 0u > rb1);
        if (!(skipA && skipB)) {
      let l0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 0u, false, 72u);
      let l1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 0u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 0u, false, 72u);
        if (!skipA) { a0_0 = subgroupMatrixMultiplyAccumulate(l0, r, a0_0); }
        if (!skipB) { a1_0 = subgroupMatrixMultiplyAccumulate(l1, r, a1_0); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 16u, false, 72u);
        if (!skipA) { a0_1 = subgroupMatrixMultiplyAccumulate(l0, r, a0_1); }
        if (!skipB) { a1_1 = subgroupMatrixMultiplyAccumulate(l1, r, a1_1); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 32u, false, 72u);
        if (!skipA) { a0_2 = subgroupMatrixMultiplyAccumulate(l0, r, a0_2); }
        if (!skipB) { a1_2 = subgroupMatrixMultiplyAccumulate(l1, r, a1_2); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 48u, false, 72u);
        if (!skipA) { a0_3 = subgroupMatrixMultiplyAccumulate(l0, r, a0_3); }
        if (!skipB) { a1_3 = subgroupMatrixMultiplyAccumulate(l1, r, a1_3); } }
        }
      }
      {
        let skipA = (diag && 1u > rb0);
        let skipB = (diag && 1u > rb1);
        if (!(skipA && skipB)) {
      let l0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 16u, false, 72u);
      let l1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 16u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 0u, false, 72u);
        if (!skipA) { a0_0 = subgroupMatrixMultiplyAccumulate(l0, r, a0_0); }
        if (!skipB) { a1_0 = subgroupMatrixMultiplyAccumulate(l1, r, a1_0); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 16u, false, 72u);
        if (!skipA) { a0_1 = subgroupMatrixMultiplyAccumulate(l0, r, a0_1); }
        if (!skipB) { a1_1 = subgroupMatrixMultiplyAccumulate(l1, r, a1_1); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 32u, false, 72u);
        if (!skipA) { a0_2 = subgroupMatrixMultiplyAccumulate(l0, r, a0_2); }
        if (!skipB) { a1_2 = subgroupMatrixMultiplyAccumulate(l1, r, a1_2); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 48u, false, 72u);
        if (!skipA) { a0_3 = subgroupMatrixMultiplyAccumulate(l0, r, a0_3); }
        if (!skipB) { a1_3 = subgroupMatrixMultiplyAccumulate(l1, r, a1_3); } }
        }
      }
    }
    {
      workgroupBarrier();
{ let k = (lid + 0u) / 32u; let x8 = ((lid + 0u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv0.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv0.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 256u) / 32u; let x8 = ((lid + 256u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv1.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv1.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 512u) / 32u; let x8 = ((lid + 512u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv2.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv2.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
{ let k = (lid + 768u) / 32u; let x8 = ((lid + 768u) % 32u) * 8u; let at = (k % 16u) * 72u + x8 % 64u; { let h2 = bitcast<vec2<f16>>(bv3.x); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 0u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 1u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.y); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 2u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 3u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.z); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 4u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 5u] = h2.y; }
        { let h2 = bitcast<vec2<f16>>(bv3.w); sB[4u + (k / 16u) * 4u + x8 / 64u][at + 6u] = h2.x; sB[4u + (k / 16u) * 4u + x8 / 64u][at + 7u] = h2.y; } }
      workgroupBarrier();

      {
        let skipA = (diag && 2u > rb0);
        let skipB = (diag && 2u > rb1);
        if (!(skipA && skipB)) {
      let l0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 32u, false, 72u);
      let l1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 32u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 0u, false, 72u);
        if (!skipA) { a0_0 = subgroupMatrixMultiplyAccumulate(l0, r, a0_0); }
        if (!skipB) { a1_0 = subgroupMatrixMultiplyAccumulate(l1, r, a1_0); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 16u, false, 72u);
        if (!skipA) { a0_1 = subgroupMatrixMultiplyAccumulate(l0, r, a0_1); }
        if (!skipB) { a1_1 = subgroupMatrixMultiplyAccumulate(l1, r, a1_1); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 32u, false, 72u);
        if (!skipA) { a0_2 = subgroupMatrixMultiplyAccumulate(l0, r, a0_2); }
        if (!skipB) { a1_2 = subgroupMatrixMultiplyAccumulate(l1, r, a1_2); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[4u + cg], 48u, false, 72u);
        if (!skipA) { a0_3 = subgroupMatrixMultiplyAccumulate(l0, r, a0_3); }
        if (!skipB) { a1_3 = subgroupMatrixMultiplyAccumulate(l1, r, a1_3); } }
        }
      }
      {
        let skipA = (diag && 3u > rb0);
        let skipB = (diag && 3u > rb1);
        if (!(skipA && skipB)) {
      let l0 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb0], 48u, false, 72u);
      let l1 = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>>(&sB[rb1], 48u, false, 72u);
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 0u, false, 72u);
        if (!skipA) { a0_0 = subgroupMatrixMultiplyAccumulate(l0, r, a0_0); }
        if (!skipB) { a1_0 = subgroupMatrixMultiplyAccumulate(l1, r, a1_0); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 16u, false, 72u);
        if (!skipA) { a0_1 = subgroupMatrixMultiplyAccumulate(l0, r, a0_1); }
        if (!skipB) { a1_1 = subgroupMatrixMultiplyAccumulate(l1, r, a1_1); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 32u, false, 72u);
        if (!skipA) { a0_2 = subgroupMatrixMultiplyAccumulate(l0, r, a0_2); }
        if (!skipB) { a1_2 = subgroupMatrixMultiplyAccumulate(l1, r, a1_2); } }
      { let r = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>>(&sB[8u + cg], 48u, false, 72u);
        if (!skipA) { a0_3 = subgroupMatrixMultiplyAccumulate(l0, r, a0_3); }
        if (!skipB) { a1_3 = subgroupMatrixMultiplyAccumulate(l1, r, a1_3); } }
        }
      }
    }
  }

  // per-row output factor
  rDen[lid] = den;
  workgroupBarrier();
  if (lid < 64u) {
    let r = r0 + lid;
    let d = rDen[4u * lid] + rDen[4u * lid + 1u] + rDen[4u * lid + 2u] + rDen[4u * lid + 3u];
    let mC = mRow - rLog[lid];
    let nO = max(abs(d), exp(-mC));
    rFac[lid] = 1.0 / (nO + P.eps);
    if (xTile == 0u) {
      nm[seq0 + r] = nO;
      nm[P.T + seq0 + r] = mC;
    }
  }
  // epilogue: two accumulators at a time → the subgroup's two 16×16 f32 scratch blocks → scaled
  // f16, 8 per 16-byte store (2 lanes per row)
  let eRow = lane / 2u;
  let eCol = (lane % 2u) * 8u;
  let xc = cg * 64u;                 // the subgroup's first column within the tile
  subgroupMatrixStore(&sS[sg * 2u + 0u], 0u, a0_0, false, 16u);
  subgroupMatrixStore(&sS[sg * 2u + 1u], 0u, a0_1, false, 16u);
  workgroupBarrier();
  {
    let fac = rFac[rb0 * 16u + eRow];
    let e0 = eRow * 16u + eCol;
    let o = (seq0 + r0 + rb0 * 16u + eRow) * P.DX + xw + xc + 0u + eCol;
    let v0 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 0u]), f16(fac * sS[sg * 2u + 0u][e0 + 1u]));
    let v1 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 2u]), f16(fac * sS[sg * 2u + 0u][e0 + 3u]));
    let v2 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 4u]), f16(fac * sS[sg * 2u + 0u][e0 + 5u]));
    let v3 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 6u]), f16(fac * sS[sg * 2u + 0u][e0 + 7u]));
    h[o / 8u] = vec4<u32>(bitcast<u32>(v0), bitcast<u32>(v1), bitcast<u32>(v2), bitcast<u32>(v3));

  }
  {
    let fac = rFac[rb0 * 16u + eRow];
    let e0 = eRow * 16u + eCol;
    let o = (seq0 + r0 + rb0 * 16u + eRow) * P.DX + xw + xc + 16u + eCol;
    let v0 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 0u]), f16(fac * sS[sg * 2u + 1u][e0 + 1u]));
    let v1 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 2u]), f16(fac * sS[sg * 2u + 1u][e0 + 3u]));
    let v2 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 4u]), f16(fac * sS[sg * 2u + 1u][e0 + 5u]));
    let v3 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 6u]), f16(fac * sS[sg * 2u + 1u][e0 + 7u]));
    h[o / 8u] = vec4<u32>(bitcast<u32>(v0), bitcast<u32>(v1), bitcast<u32>(v2), bitcast<u32>(v3));

  }
  workgroupBarrier();
  subgroupMatrixStore(&sS[sg * 2u + 0u], 0u, a0_2, false, 16u);
  subgroupMatrixStore(&sS[sg * 2u + 1u], 0u, a0_3, false, 16u);
  workgroupBarrier();
  {
    let fac = rFac[rb0 * 16u + eRow];
    let e0 = eRow * 16u + eCol;
    let o = (seq0 + r0 + rb0 * 16u + eRow) * P.DX + xw + xc + 32u + eCol;
    let v0 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 0u]), f16(fac * sS[sg * 2u + 0u][e0 + 1u]));
    let v1 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 2u]), f16(fac * sS[sg * 2u + 0u][e0 + 3u]));
    let v2 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 4u]), f16(fac * sS[sg * 2u + 0u][e0 + 5u]));
    let v3 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 6u]), f16(fac * sS[sg * 2u + 0u][e0 + 7u]));
    h[o / 8u] = vec4<u32>(bitcast<u32>(v0), bitcast<u32>(v1), bitcast<u32>(v2), bitcast<u32>(v3));

  }
  {
    let fac = rFac[rb0 * 16u + eRow];
    let e0 = eRow * 16u + eCol;
    let o = (seq0 + r0 + rb0 * 16u + eRow) * P.DX + xw + xc + 48u + eCol;
    let v0 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 0u]), f16(fac * sS[sg * 2u + 1u][e0 + 1u]));
    let v1 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 2u]), f16(fac * sS[sg * 2u + 1u][e0 + 3u]));
    let v2 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 4u]), f16(fac * sS[sg * 2u + 1u][e0 + 5u]));
    let v3 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 6u]), f16(fac * sS[sg * 2u + 1u][e0 + 7u]));
    h[o / 8u] = vec4<u32>(bitcast<u32>(v0), bitcast<u32>(v1), bitcast<u32>(v2), bitcast<u32>(v3));

  }
  workgroupBarrier();
  subgroupMatrixStore(&sS[sg * 2u + 0u], 0u, a1_0, false, 16u);
  subgroupMatrixStore(&sS[sg * 2u + 1u], 0u, a1_1, false, 16u);
  workgroupBarrier();
  {
    let fac = rFac[rb1 * 16u + eRow];
    let e0 = eRow * 16u + eCol;
    let o = (seq0 + r0 + rb1 * 16u + eRow) * P.DX + xw + xc + 0u + eCol;
    let v0 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 0u]), f16(fac * sS[sg * 2u + 0u][e0 + 1u]));
    let v1 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 2u]), f16(fac * sS[sg * 2u + 0u][e0 + 3u]));
    let v2 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 4u]), f16(fac * sS[sg * 2u + 0u][e0 + 5u]));
    let v3 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 6u]), f16(fac * sS[sg * 2u + 0u][e0 + 7u]));
    h[o / 8u] = vec4<u32>(bitcast<u32>(v0), bitcast<u32>(v1), bitcast<u32>(v2), bitcast<u32>(v3));

  }
  {
    let fac = rFac[rb1 * 16u + eRow];
    let e0 = eRow * 16u + eCol;
    let o = (seq0 + r0 + rb1 * 16u + eRow) * P.DX + xw + xc + 16u + eCol;
    let v0 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 0u]), f16(fac * sS[sg * 2u + 1u][e0 + 1u]));
    let v1 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 2u]), f16(fac * sS[sg * 2u + 1u][e0 + 3u]));
    let v2 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 4u]), f16(fac * sS[sg * 2u + 1u][e0 + 5u]));
    let v3 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 6u]), f16(fac * sS[sg * 2u + 1u][e0 + 7u]));
    h[o / 8u] = vec4<u32>(bitcast<u32>(v0), bitcast<u32>(v1), bitcast<u32>(v2), bitcast<u32>(v3));

  }
  workgroupBarrier();
  subgroupMatrixStore(&sS[sg * 2u + 0u], 0u, a1_2, false, 16u);
  subgroupMatrixStore(&sS[sg * 2u + 1u], 0u, a1_3, false, 16u);
  workgroupBarrier();
  {
    let fac = rFac[rb1 * 16u + eRow];
    let e0 = eRow * 16u + eCol;
    let o = (seq0 + r0 + rb1 * 16u + eRow) * P.DX + xw + xc + 32u + eCol;
    let v0 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 0u]), f16(fac * sS[sg * 2u + 0u][e0 + 1u]));
    let v1 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 2u]), f16(fac * sS[sg * 2u + 0u][e0 + 3u]));
    let v2 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 4u]), f16(fac * sS[sg * 2u + 0u][e0 + 5u]));
    let v3 = vec2<f16>(f16(fac * sS[sg * 2u + 0u][e0 + 6u]), f16(fac * sS[sg * 2u + 0u][e0 + 7u]));
    h[o / 8u] = vec4<u32>(bitcast<u32>(v0), bitcast<u32>(v1), bitcast<u32>(v2), bitcast<u32>(v3));

  }
  {
    let fac = rFac[rb1 * 16u + eRow];
    let e0 = eRow * 16u + eCol;
    let o = (seq0 + r0 + rb1 * 16u + eRow) * P.DX + xw + xc + 48u + eCol;
    let v0 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 0u]), f16(fac * sS[sg * 2u + 1u][e0 + 1u]));
    let v1 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 2u]), f16(fac * sS[sg * 2u + 1u][e0 + 3u]));
    let v2 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 4u]), f16(fac * sS[sg * 2u + 1u][e0 + 5u]));
    let v3 = vec2<f16>(f16(fac * sS[sg * 2u + 1u][e0 + 6u]), f16(fac * sS[sg * 2u + 1u][e0 + 7u]));
    h[o / 8u] = vec4<u32>(bitcast<u32>(v0), bitcast<u32>(v1), bitcast<u32>(v2), bitcast<u32>(v3));

  }

  }
}
