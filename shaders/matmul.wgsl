// Batched matmul C[b] = op(A[b]) * op(B[b]), op = identity or transpose (override constants).
// Barrier-free register blocking: each invocation accumulates a TM x TN block of C in registers,
// reading A and B straight from storage (no workgroup memory, no barriers): on a CPU adapter the
// caches do the tiling, and this measured faster than shared-memory tiling (see kernels/matmul.ts).
// Rows and columns of an invocation are strided by the workgroup size, so neighbouring invocations
// (SIMD lanes on a CPU, a warp on a GPU) read neighbouring columns of B.
//
// A: [batch_a, M, K] (or [batch_a, K, M] when TRANS_A), B: [batch_b, K, N] (or [.., N, K]), C: [batch, M, N].
// A batch stride of 0 broadcasts that operand over the batch.

override TRANS_A: bool = false;
override TRANS_B: bool = false;
const TM: u32 = 4u;     // rows of C per invocation
const TN: u32 = 4u;     // columns of C per invocation
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
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn load_a(base: u32, m: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[base + k * p.M + m]; }
  return a[base + m * p.K + k];
}

fn load_b(base: u32, k: u32, n: u32) -> f32 {
  if (TRANS_B) { return b[base + n * p.K + k]; }
  return b[base + k * p.N + n];
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
  let a_base = batch * p.a_batch_stride;
  let b_base = batch * p.b_batch_stride;
  let row0 = wid.y * (WG_Y * TM) + lid.y;
  let col0 = wid.x * (WG_X * TN) + lid.x;

  // Out-of-range rows/columns read a clamped, valid element; their results are never stored.
  var rows: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { rows[i] = min(row0 + i * WG_Y, p.M - 1u); }
  var cols: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { cols[j] = min(col0 + j * WG_X, p.N - 1u); }

  var acc: array<array<f32, TN>, TM>;
  for (var k = 0u; k < p.K; k++) {
    var bk: array<f32, TN>;
    for (var j = 0u; j < TN; j++) { bk[j] = load_b(b_base, k, cols[j]); }
    for (var i = 0u; i < TM; i++) {
      let aik = load_a(a_base, rows[i], k);
      for (var j = 0u; j < TN; j++) { acc[i][j] = fma(aik, bk[j], acc[i][j]); }
    }
  }

  let c_base = batch * p.M * p.N;
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i * WG_Y;
    if (row >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let col = col0 + j * WG_X;
      if (col < p.N) { c[c_base + row * p.N + col] = acc[i][j]; }
    }
  }
}
