// Kernel lab (kernels/lab/matmul/), variant "tiled": the classic GPU GEMM. The workgroup stages a
// BM x BK tile of A and a BK x BN tile of B in workgroup memory, waits at a barrier, and each invocation
// accumulates TM x TN outputs (rows and columns strided by the workgroup size) from the staged tiles.
// On llvmpipe a barrier splits the shader into coroutines and workgroup-memory reads are still per-lane
// loads, so this measures slower than the barrier-free kernels there.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
const TM: u32 = 4u;
const TN: u32 = 4u;
const WG_X: u32 = 8u;
const WG_Y: u32 = 8u;
const BK: u32 = 32u;
const BM: u32 = WG_Y * TM;
const BN: u32 = WG_X * TN;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  a_batch_stride: u32,
  b_batch_stride: u32,
  _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> a_tile: array<f32, BM * BK>;  // [m][k]
var<workgroup> b_tile: array<f32, BK * BN>;  // [k][n]

// op(A)[m, k] and op(B)[k, n], zero outside the matrix (the tiles overhang the edges).
fn load_a(base: u32, m: u32, k: u32) -> f32 {
  let at = select(base + min(m, p.M - 1u) * p.K + min(k, p.K - 1u), base + min(k, p.K - 1u) * p.M + min(m, p.M - 1u), TRANS_A);
  return select(0.0, a[at], m < p.M && k < p.K);
}

fn load_b(base: u32, k: u32, n: u32) -> f32 {
  let at = select(base + min(k, p.K - 1u) * p.N + min(n, p.N - 1u), base + min(n, p.N - 1u) * p.K + min(k, p.K - 1u), TRANS_B);
  return select(0.0, b[at], k < p.K && n < p.N);
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(local_invocation_index) li: u32) {
  let batch = wid.z;
  let a_base = batch * p.a_batch_stride;
  let b_base = batch * p.b_batch_stride;
  let tile_row = wid.y * BM;
  let tile_col = wid.x * BN;

  var acc: array<array<f32, TN>, TM>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var e = li; e < BM * BK; e += WG_X * WG_Y) { a_tile[e] = load_a(a_base, tile_row + e / BK, k0 + e % BK); }
    for (var e = li; e < BK * BN; e += WG_X * WG_Y) { b_tile[e] = load_b(b_base, k0 + e / BN, tile_col + e % BN); }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var bk: array<f32, TN>;
      for (var j = 0u; j < TN; j++) { bk[j] = b_tile[kk * BN + lid.x + j * WG_X]; }
      for (var i = 0u; i < TM; i++) {
        let aik = a_tile[(lid.y + i * WG_Y) * BK + kk];
        for (var j = 0u; j < TN; j++) { acc[i][j] += aik * bk[j]; }
      }
    }
    workgroupBarrier();
  }

  let c_base = batch * p.M * p.N;
  for (var i = 0u; i < TM; i++) {
    let row = tile_row + lid.y + i * WG_Y;
    if (row >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let col = tile_col + lid.x + j * WG_X;
      if (col < p.N) { c[c_base + row * p.N + col] = acc[i][j]; }
    }
  }
}
