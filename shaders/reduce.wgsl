// Reductions over any set of axes: sum and max (mean = sum * scale). The host splits the input's
// dimensions into kept ones (one output each) and reduced ones (walked per output), coalescing
// adjacent dimensions first, so a BatchNorm-style reduction over (N,H,W) of NCHW arrives as
// kept [C] and reduced [N, H*W].
//   reduce_thread:    one invocation per output; for short reductions.
//   reduce_workgroup: one workgroup per output, a strided loop then a tree in workgroup memory.

override OP: u32 = 0u;   // 0 sum, 1 max

const WG: u32 = 256u;   // a power of two (the tree below halves it); the host may template another

struct Params {
  n_out: u32,
  n_red: u32,
  kept_rank: u32,
  red_rank: u32,
  scale: f32,          // multiplies a sum (1/n for mean)
  _pad0: u32, _pad1: u32, _pad2: u32,
  kept_shape: array<vec4<u32>, 2>,
  kept_strides: array<vec4<u32>, 2>,
  red_shape: array<vec4<u32>, 2>,
  red_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

fn kept_offset(o: u32) -> u32 {
  var rem = o;
  var off = 0u;
  for (var d = i32(p.kept_rank) - 1; d >= 0; d--) {
    let size = dim(p.kept_shape, u32(d));
    off += (rem % size) * dim(p.kept_strides, u32(d));
    rem /= size;
  }
  return off;
}

fn red_offset(r: u32) -> u32 {
  if (p.red_rank == 1u) { return r * p.red_strides[0].x; }
  var rem = r;
  var off = 0u;
  for (var d = i32(p.red_rank) - 1; d >= 0; d--) {
    let size = dim(p.red_shape, u32(d));
    off += (rem % size) * dim(p.red_strides, u32(d));
    rem /= size;
  }
  return off;
}

fn identity() -> f32 {
  var neg_inf_bits = 0xff800000u;   // a var: a const bitcast to -inf is a shader-creation error
  if (OP == 1u) { return bitcast<f32>(neg_inf_bits); }
  return 0.0;
}

fn combine(a: f32, b: f32) -> f32 {
  if (OP == 1u) { return max(a, b); }
  return a + b;
}

fn finish(v: f32) -> f32 {
  if (OP == 0u) { return v * p.scale; }
  return v;
}

@compute @workgroup_size(WG)
fn reduce_thread(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let o = (wid.x + wid.y * nwg.x) * WG + lid;
  if (o >= p.n_out) { return; }
  let base = kept_offset(o);
  var acc = identity();
  for (var r = 0u; r < p.n_red; r++) {
    acc = combine(acc, x[base + red_offset(r)]);
  }
  y[o] = finish(acc);
}

@compute @workgroup_size(WG)
fn reduce_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * nwg.x;   // uniform across the workgroup: the barriers below are safe
  let base = kept_offset(o);
  var acc = identity();
  for (var r = lid; r < p.n_red; r += WG) {
    acc = combine(acc, x[base + red_offset(r)]);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { partial[lid] = combine(partial[lid], partial[lid + stride]); }
    workgroupBarrier();
  }
  if (lid == 0u && o < p.n_out) { y[o] = finish(partial[0]); }
}
