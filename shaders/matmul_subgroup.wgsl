// Batched matmul C[b] = op(A[b]) * op(B[b]) for adapters with 8-lane subgroups (Mesa llvmpipe/lavapipe:
// one subgroup = one 256-bit SIMD register). The portable kernel is shaders/matmul.wgsl; which kernel runs
// which shape is the table in kernels/matmul.ts, and the variants behind these choices are in
// kernels/lab/matmul/. What llvmpipe does that shapes this kernel (read from its generated assembly):
// - Every storage-buffer load inside a loop becomes a loop over the 8 lanes with a bounds check per lane
//   (~10 instructions per float), even when all lanes read the same address. A subgroupBroadcast is 1-2
//   vector instructions. So the 8 lanes load 8 different rows of A and share them by broadcast, instead of
//   each lane loading all TM rows itself.
// - An accumulator updated inside a loop is blended with the loop's execution mask and, past 32 vector
//   registers, spilled to the stack: ~5 instructions per multiply-add. Unrolling K by KU pays the blend and
//   the spill once per KU multiply-adds.
// - fma() is split into a multiply and an add anyway, so the kernel writes `s += x * y`.
// Each workgroup computes TM rows x (WG * TN) columns of C; each invocation TM x TN outputs, its columns
// strided by WG so that neighbouring lanes read neighbouring columns of B. No workgroup memory, no barriers.
// Transposes are strides in the uniforms, not pipeline constants: one compiled pipeline (seconds of LLVM
// time on lavapipe for this unrolled body) serves every layout.
enable subgroups;

const TM: u32 = 16u;    // rows of C per workgroup, a multiple of the subgroup size
const TN: u32 = 8u;     // columns of C per invocation
const WG: u32 = 16u;    // invocations per workgroup, a multiple of the subgroup size
const KU: u32 = 2u;     // K steps per loop iteration
const LANES: u32 = 8u;  // subgroup size this kernel is written for (see lanes())

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
// The same buffer as `b`, read 4 columns at a time by matmul_vec4 (an entry point uses one or the other).
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// The value of `v` in each of the 8 lanes, in every lane (the lane index must be a constant).
fn lanes(v: f32) -> array<f32, LANES> {
  return array<f32, LANES>(
    subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u),
    subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u));
}

// Offsets of the rows of A this lane loads: lane l loads rows row0 + l, row0 + 8 + l, ...
fn a_row_offsets(batch: u32, row0: u32, lane: u32) -> array<u32, TM / LANES> {
  var offsets: array<u32, TM / LANES>;
  for (var r = 0u; r < TM / LANES; r++) {
    // Rows and columns past the edge read a clamped, valid element; their results are never stored.
    offsets[r] = batch * p.a_batch + min(row0 + r * LANES + lane, p.M - 1u) * p.a_m;
  }
  return offsets;
}

// op(A)[row0 + i, k0 + kk] for the KU steps from k0, the same in every lane. Steps past K (in the last
// iteration) read step K-1 and count as zero, for A here and for B in the callers.
fn a_steps(a_rows: array<u32, TM / LANES>, k0: u32) -> array<array<f32, TM>, KU> {
  var vals: array<array<f32, TM>, KU>;
  for (var kk = 0u; kk < KU; kk++) {
    let ka = min(k0 + kk, p.K - 1u) * p.a_k;
    for (var r = 0u; r < TM / LANES; r++) {
      let row_vals = lanes(select(0.0, a[a_rows[r] + ka], k0 + kk < p.K));
      for (var l = 0u; l < LANES; l++) { vals[kk][r * LANES + l] = row_vals[l]; }
    }
  }
  return vals;
}

// Column j of this invocation: strided by WG, so that neighbouring lanes hold neighbouring columns.
fn column(wid: vec3<u32>, lid: vec3<u32>, j: u32) -> u32 {
  return wid.x * (WG * TN) + j * WG + lid.x;
}

@compute @workgroup_size(WG)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(subgroup_invocation_id) lane: u32) {
  let batch = wid.z;
  let row0 = wid.y * TM;
  let a_rows = a_row_offsets(batch, row0, lane);
  var b_cols: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { b_cols[j] = batch * p.b_batch + min(column(wid, lid, j), p.N - 1u) * p.b_n; }

  var acc: array<array<f32, TN>, TM>;
  for (var k0 = 0u; k0 < p.K; k0 += KU) {
    let a_vals = a_steps(a_rows, k0);
    var b_vals: array<array<f32, TN>, KU>;  // op(B)[k0 + kk, column j]
    for (var kk = 0u; kk < KU; kk++) {
      let kb = min(k0 + kk, p.K - 1u) * p.b_k;
      for (var j = 0u; j < TN; j++) { b_vals[kk][j] = select(0.0, b[b_cols[j] + kb], k0 + kk < p.K); }
    }
    // Innermost over kk: each accumulator is loaded, updated KU times, and stored once.
    for (var i = 0u; i < TM; i++) {
      for (var j = 0u; j < TN; j++) {
        var s = acc[i][j];
        for (var kk = 0u; kk < KU; kk++) { s += a_vals[kk][i] * b_vals[kk][j]; }
        acc[i][j] = s;
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    if (row >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let col = column(wid, lid, j);
      if (col < p.N) { c[batch * p.M * p.N + row * p.c_m + col * p.c_n] = acc[i][j]; }
    }
  }
}

// The same product with B read as vec4: columns 4g..4g+3 of group g in one load, which shares the per-lane
// address work of llvmpipe's loads (~20% faster in the lab). Needs op(B)'s rows contiguous and 16-byte
// aligned: b_n == 1 and b_k, b_batch multiples of 4 (kernels/matmul.ts checks). TN is a multiple of 4.
@compute @workgroup_size(WG)
fn matmul_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(subgroup_invocation_id) lane: u32) {
  let batch = wid.z;
  let row0 = wid.y * TM;
  let a_rows = a_row_offsets(batch, row0, lane);
  let N4 = p.N / 4u;
  // Group g of this invocation holds columns 4 * (wid.x * WG * TN/4 + g * WG + lid.x) + 0..3.
  var b_groups: array<u32, TN / 4u>;
  for (var g = 0u; g < TN / 4u; g++) {
    b_groups[g] = (batch * p.b_batch) / 4u + min(wid.x * (WG * TN / 4u) + g * WG + lid.x, N4 - 1u);
  }

  var acc: array<array<vec4<f32>, TN / 4u>, TM>;
  for (var k0 = 0u; k0 < p.K; k0 += KU) {
    let a_vals = a_steps(a_rows, k0);
    var b_vals: array<array<vec4<f32>, TN / 4u>, KU>;
    for (var kk = 0u; kk < KU; kk++) {
      let kb = min(k0 + kk, p.K - 1u) * (p.b_k / 4u);
      for (var g = 0u; g < TN / 4u; g++) { b_vals[kk][g] = select(vec4(0.0), b4[b_groups[g] + kb], k0 + kk < p.K); }
    }
    for (var i = 0u; i < TM; i++) {
      for (var g = 0u; g < TN / 4u; g++) {
        var s = acc[i][g];
        for (var kk = 0u; kk < KU; kk++) { s += a_vals[kk][i] * b_vals[kk][g]; }
        acc[i][g] = s;
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    if (row >= p.M) { break; }
    for (var g = 0u; g < TN / 4u; g++) {
      let col = 4u * (wid.x * (WG * TN / 4u) + g * WG + lid.x);
      let at = batch * p.M * p.N + row * p.c_m + col * p.c_n;
      for (var q = 0u; q < 4u; q++) {
        if (col + q < p.N) { c[at + q * p.c_n] = acc[i][g][q]; }
      }
    }
  }
}
