// Kernel lab (kernels/lab/matmul/), variant "reg_vec4": barrier-free register blocking with vec4 loads,
// in the style of tfjs-backend-webgpu's vec4 matmul. Each invocation computes TM rows x 4*TN4 columns:
// one vec4 of A holds 4 steps of K of a row, one vec4 of B 4 neighbouring columns of a row of B.
// Needs A and B untransposed (those are the contiguous directions), K % 4 == 0 and N % 4 == 0 (rows must
// start on a vec4).
override TRANS_A: bool = false;  // must stay false: A is read along K
override TRANS_B: bool = false;  // must stay false: B is read along N
const TM: u32 = 8u;
const TN4: u32 = 2u;
const WG_X: u32 = 8u;
const WG_Y: u32 = 8u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  a_batch_stride: u32,
  b_batch_stride: u32,
  _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
  let K4 = p.K / 4u;
  let N4 = p.N / 4u;
  let a_base = batch * p.a_batch_stride / 4u;
  let b_base = batch * p.b_batch_stride / 4u;
  let row0 = wid.y * (WG_Y * TM) + lid.y;
  let col0 = wid.x * (WG_X * TN4) + lid.x;  // in vec4s

  var rows: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { rows[i] = a_base + min(row0 + i * WG_Y, p.M - 1u) * K4; }
  var cols: array<u32, TN4>;
  for (var j = 0u; j < TN4; j++) { cols[j] = b_base + min(col0 + j * WG_X, N4 - 1u); }

  var acc: array<array<vec4<f32>, TN4>, TM>;
  for (var k4 = 0u; k4 < K4; k4++) {
    var bk: array<array<vec4<f32>, TN4>, 4>;
    for (var q = 0u; q < 4u; q++) {
      for (var j = 0u; j < TN4; j++) { bk[q][j] = b[cols[j] + (k4 * 4u + q) * N4]; }
    }
    for (var i = 0u; i < TM; i++) {
      let ak = a[rows[i] + k4];
      for (var j = 0u; j < TN4; j++) {
        acc[i][j] += ak.x * bk[0][j] + ak.y * bk[1][j] + ak.z * bk[2][j] + ak.w * bk[3][j];
      }
    }
  }

  let c_base = batch * p.M * N4;
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i * WG_Y;
    if (row >= p.M) { break; }
    for (var j = 0u; j < TN4; j++) {
      let col = col0 + j * WG_X;
      if (col < N4) { c[c_base + row * N4 + col] = acc[i][j]; }
    }
  }
}
