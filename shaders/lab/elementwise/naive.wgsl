// Lab baseline (kernels/lab/elementwise): one invocation per output element, no grid-stride loop, and
// the broadcast index computed over the full rank (up to 4, no coalescing) for every element, even when
// the operands are contiguous. add (binary, NumPy broadcasting) and relu (unary).

const WG = 64u;

struct Params {
  n: u32,
  rank: u32,
  _pad0: u32,
  _pad1: u32,
  shape: vec4<u32>,       // output shape, up to rank 4
  a_strides: vec4<u32>,   // element strides of a (x) read as the output shape; 0 = broadcast
  b_strides: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;

fn element(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

// Offset of output element i in an operand with the given strides.
fn offset(i: u32, strides: vec4<u32>) -> u32 {
  var rem = i;
  var off = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let size = p.shape[d];
    off += (rem % size) * strides[d];
    rem /= size;
  }
  return off;
}

@group(0) @binding(1) var<storage, read> ux: array<f32>;
@group(0) @binding(2) var<storage, read_write> uy: array<f32>;

@compute @workgroup_size(WG)
fn relu_naive(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, nwg, lid);
  if (i >= p.n) { return; }
  uy[i] = max(ux[offset(i, p.a_strides)], 0.0);
}

@group(0) @binding(1) var<storage, read> ba: array<f32>;
@group(0) @binding(2) var<storage, read> bb: array<f32>;
@group(0) @binding(3) var<storage, read_write> bc: array<f32>;

@compute @workgroup_size(WG)
fn add_naive(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, nwg, lid);
  if (i >= p.n) { return; }
  bc[i] = ba[offset(i, p.a_strides)] + bb[offset(i, p.b_strides)];
}
