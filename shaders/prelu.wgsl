// PReLU with a learnable slope per channel (axis 1) or one shared slope:
//   y = max(0, x) + a[c] * min(0, x)
// The host views the input as [N, C, S]; one workgroup per channel walks the channel's N*S elements
// (the walk of batchnorm.wgsl), so the slope is read once per workgroup and never indexed by division.
//
//   prelu_forward    y
//   prelu_forward_fq y, and in its epilogue the next quantized layer's activation fake quant
//                    q = clamp(round(y / s), qmin, qmax) * s (as batchnorm.wgsl's bn_normalize_fq)
//   prelu_backward   dx = g where x > 0, else a g (PyTorch's choice at 0);
//                    dslope[c] = sum over the channel of g * min(0, x) (the host sums these for a shared slope)
// Each has a `_vec4` twin for planes with S % 4 == 0 (the host then passes S / 4 as S), as batchnorm.wgsl.

const WG = 16u;   // as batchnorm.wgsl: small workgroups measured fastest on lavapipe

struct Params {
  N: u32,
  C: u32,
  S: u32,         // plane length in elements of the kernel's type (f32 or vec4)
  slopes: u32,    // C, or 1 for a shared slope
  qmin: f32,      // prelu_forward_fq: the next layer's activation grid
  qmax: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

fn channel_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn wg_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let out = red[0];
  workgroupBarrier();
  return out;
}

// The channel walk (as in batchnorm.wgsl): flat indices k = lid, lid + WG, ... < N*S, offsets stepped.
struct Walk {
  k: u32,
  s: u32,
  at: u32,
  step_s: u32,
  step_at: u32,
}

fn walk_start(c: u32, lid: u32) -> Walk {
  let s = lid % p.S;
  let plane = p.C * p.S;
  return Walk(lid, s, (lid / p.S) * plane + c * p.S + s, WG % p.S, (WG / p.S) * plane + WG % p.S);
}

fn walk_next(w: ptr<function, Walk>) {
  (*w).k += WG;
  (*w).s += (*w).step_s;
  (*w).at += (*w).step_at;
  if ((*w).s >= p.S) {
    (*w).s -= p.S;
    (*w).at += (p.C - 1u) * p.S;
  }
}

fn count() -> u32 {
  return p.N * p.S;
}

// ---- forward -------------------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> fw_x: array<f32>;
@group(0) @binding(2) var<storage, read> fw_slope: array<f32>;
@group(0) @binding(3) var<storage, read_write> fw_y: array<f32>;

@compute @workgroup_size(WG)
fn prelu_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let a = fw_slope[min(c, p.slopes - 1u)];
  for (var w = walk_start(c, lid); w.k < count(); walk_next(&w)) {
    let x = fw_x[w.at];
    fw_y[w.at] = select(a * x, x, x > 0.0);
  }
}

@group(0) @binding(1) var<storage, read> fw4_x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> fw4_y: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn prelu_forward_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let a = fw_slope[min(c, p.slopes - 1u)];
  for (var w = walk_start(c, lid); w.k < count(); walk_next(&w)) {
    let x = fw4_x[w.at];
    fw4_y[w.at] = select(a * x, x, x > vec4<f32>(0.0));
  }
}

@group(0) @binding(3) var<storage, read> fq_scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> fq_y: array<f32>;
@group(0) @binding(5) var<storage, read_write> fq_q: array<f32>;

@compute @workgroup_size(WG)
fn prelu_forward_fq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let a = fw_slope[min(c, p.slopes - 1u)];
  let s = fq_scale[0];
  let inv = 1.0 / s;
  for (var w = walk_start(c, lid); w.k < count(); walk_next(&w)) {
    let x = fw_x[w.at];
    let y = select(a * x, x, x > 0.0);
    fq_y[w.at] = y;
    fq_q[w.at] = clamp(round(y * inv), p.qmin, p.qmax) * s;
  }
}

@group(0) @binding(4) var<storage, read_write> fq4_y: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> fq4_q: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn prelu_forward_fq_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let a = fw_slope[min(c, p.slopes - 1u)];
  let s = fq_scale[0];
  let inv = 1.0 / s;
  for (var w = walk_start(c, lid); w.k < count(); walk_next(&w)) {
    let x = fw4_x[w.at];
    let y = select(a * x, x, x > vec4<f32>(0.0));
    fq4_y[w.at] = y;
    fq4_q[w.at] = clamp(round(y * inv), vec4<f32>(p.qmin), vec4<f32>(p.qmax)) * s;
  }
}

// ---- backward ------------------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> bw_x: array<f32>;
@group(0) @binding(2) var<storage, read> bw_slope: array<f32>;
@group(0) @binding(3) var<storage, read> bw_g: array<f32>;
@group(0) @binding(4) var<storage, read_write> bw_dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> bw_dslope: array<f32>;   // [C], per channel of the view

@compute @workgroup_size(WG)
fn prelu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let a = bw_slope[min(c, p.slopes - 1u)];
  var dslope = 0.0;
  for (var w = walk_start(c, lid); w.k < count(); walk_next(&w)) {
    let x = bw_x[w.at];
    let g = bw_g[w.at];
    bw_dx[w.at] = select(a * g, g, x > 0.0);
    dslope += g * min(x, 0.0);
  }
  dslope = wg_sum(dslope, lid);
  if (lid == 0u) { bw_dslope[c] = dslope; }
}

@group(0) @binding(1) var<storage, read> bw4_x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bw4_g: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> bw4_dx: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn prelu_backward_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let a = bw_slope[min(c, p.slopes - 1u)];
  var dslope = vec4<f32>(0.0);
  for (var w = walk_start(c, lid); w.k < count(); walk_next(&w)) {
    let x = bw4_x[w.at];
    let g = bw4_g[w.at];
    bw4_dx[w.at] = select(a * g, g, x > vec4<f32>(0.0));
    dslope += g * min(x, vec4<f32>(0.0));
  }
  let total = wg_sum(dslope.x + dslope.y + dslope.z + dslope.w, lid);
  if (lid == 0u) { bw_dslope[c] = total; }
}
