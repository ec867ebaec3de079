// Batched matmul C[b] = op(A[b]) * op(B[b]), op = identity or transpose.
// The portable kernel: it needs no optional feature. Adapters with 8-lane subgroups (lavapipe) run the
// faster shaders/matmul_subgroup.wgsl for most shapes; the table in kernels/matmul.ts says which runs when,
// and kernels/lab/matmul/ holds the variants that were measured against each other.
// Barrier-free register blocking: each invocation accumulates a TM x TN block of C in registers,
// reading A and B straight from storage (no workgroup memory, no barriers): on a CPU adapter the
// caches do the tiling, and this measured faster than shared-memory tiling (kernels/lab/matmul/).
// Rows and columns of an invocation are strided by the workgroup size, so neighbouring invocations
// (SIMD lanes on a CPU, a warp on a GPU) read neighbouring columns of B.
// Transposes are strides in the uniforms, not pipeline constants: one pipeline serves every layout.

const TM: u32 = 4u;     // rows of C per invocation
const TN: u32 = 4u;     // columns of C per invocation
const WG_X: u32 = 8u;
const WG_Y: u32 = 8u;

// op(A)[m, k] = a[batch * a_batch + m * a_m + k * a_k], op(B)[k, n] = b[batch * b_batch + k * b_k + n * b_n],
// C[m, n] = c[batch * M * N + m * c_m + n * c_n]. A batch stride of 0 broadcasts that operand.
struct Params {
  M: u32, N: u32, K: u32,
  a_batch: u32, a_m: u32, a_k: u32,
  b_batch: u32, b_k: u32, b_n: u32,
  c_m: u32, c_n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
  let row0 = wid.y * (WG_Y * TM) + lid.y;
  let col0 = wid.x * (WG_X * TN) + lid.x;

  // Out-of-range rows/columns read a clamped, valid element; their results are never stored.
  var a_rows: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { a_rows[i] = batch * p.a_batch + min(row0 + i * WG_Y, p.M - 1u) * p.a_m; }
  var b_cols: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { b_cols[j] = batch * p.b_batch + min(col0 + j * WG_X, p.N - 1u) * p.b_n; }

  var acc: array<array<f32, TN>, TM>;
  for (var k = 0u; k < p.K; k++) {
    let ka = k * p.a_k;
    let kb = k * p.b_k;
    var bk: array<f32, TN>;
    for (var j = 0u; j < TN; j++) { bk[j] = b[b_cols[j] + kb]; }
    for (var i = 0u; i < TM; i++) {
      let aik = a[a_rows[i] + ka];
      for (var j = 0u; j < TN; j++) { acc[i][j] += aik * bk[j]; }
    }
  }

  let c_base = batch * p.M * p.N;
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i * WG_Y;
    if (row >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let col = col0 + j * WG_X;
      if (col < p.N) { c[c_base + row * p.c_m + col * p.c_n] = acc[i][j]; }
    }
  }
}
