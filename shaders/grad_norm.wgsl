// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_; src/optim/clip.ts), with a fixed
// summation order (no atomics: training stays reproducible):
//   grad_sum_squares  one workgroup per gradient: partial[slot] = sum of g^2
//   grad_clip_coef    one invocation: norm = sqrt(partial[0] + ... + partial[P-1]), in that order;
//                     coef = min(1, max_norm / (norm + 1e-6))
//   grad_scale        out = g * coef (a new tensor: a leaf gradient may share storage with another's)
// Each has a `_vec4` twin for sizes that are multiples of 4 (lavapipe's storage loads are per-lane
// loops; a vec4 load shares one across 4 floats), and the vec4 kernels a `_multi` one that takes
// several gradients per dispatch (workgroup row wid.y = gradient; as many as the 16 storage bindings
// of a stage allow): a dispatch costs more than a small gradient's work. Dispatch and CPU reference:
// kernels/grad_norm.ts.

requires unrestricted_pointer_parameters;  // the _multi kernels pass any gradient's buffer to one loop

const WG = 64u;

const SQ_SLOTS = 15u;     // gradients per grad_sum_squares_multi (+ partial: 16 bindings)
const SCALE_SLOTS = 7u;   // gradients per grad_scale_multi (in, out, + coef: 15 bindings)

struct Params {
  n: u32,          // elements of the gradient (vec4s in the _vec4 kernels); grad_clip_coef: P
  slot: u32,       // grad_sum_squares: where its sum goes (the _multi kernel: the first slot)
  max_norm: f32,
  _pad: u32,
  multi_n: array<vec4<u32>, 4>,  // the _multi kernels: vec4s of gradient i at [i / 4][i % 4]
}

@group(0) @binding(0) var<uniform> p: Params;

// ---- sum of squares, one workgroup walking the whole gradient --------------------------------------
var<workgroup> red: array<f32, WG>;

fn workgroup_sum_to(slot: u32, v: f32, lid: u32) {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { sq_partial[slot] = red[0]; }
}

@group(0) @binding(1) var<storage, read> sq_g: array<f32>;
@group(0) @binding(2) var<storage, read_write> sq_partial: array<f32>;

@compute @workgroup_size(WG)
fn grad_sum_squares(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.n; i += WG) {
    let g = sq_g[i];
    s += g * g;
  }
  workgroup_sum_to(p.slot, s, lid);
}

@group(0) @binding(1) var<storage, read> sq4_g: array<vec4<f32>>;

// This invocation's share of the sum of squares of g's n vec4s.
fn squares4(g: ptr<storage, array<vec4<f32>>, read>, n: u32, lid: u32) -> f32 {
  var s = vec4<f32>(0.0);
  for (var i = lid; i < n; i += WG) {
    let v = (*g)[i];
    s += v * v;
  }
  return s.x + s.y + s.z + s.w;
}

@compute @workgroup_size(WG)
fn grad_sum_squares_vec4(@builtin(local_invocation_index) lid: u32) {
  workgroup_sum_to(p.slot, squares4(&sq4_g, p.n, lid), lid);
}

// SQ_SLOTS gradients at bindings 1-15, partial at 16.
@group(0) @binding(1) var<storage, read> q0: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> q1: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> q2: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> q3: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> q4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> q5: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> q6: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> q7: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> q8: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read> q9: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read> q10: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read> q11: array<vec4<f32>>;
@group(0) @binding(13) var<storage, read> q12: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read> q13: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read> q14: array<vec4<f32>>;
@group(0) @binding(16) var<storage, read_write> mq_partial: array<f32>;

@compute @workgroup_size(WG)
fn grad_sum_squares_multi(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = p.multi_n[wid.y / 4u][wid.y % 4u];
  var s = 0.0;
  switch wid.y {
    case 0u: { s = squares4(&q0, n, lid); }
    case 1u: { s = squares4(&q1, n, lid); }
    case 2u: { s = squares4(&q2, n, lid); }
    case 3u: { s = squares4(&q3, n, lid); }
    case 4u: { s = squares4(&q4, n, lid); }
    case 5u: { s = squares4(&q5, n, lid); }
    case 6u: { s = squares4(&q6, n, lid); }
    case 7u: { s = squares4(&q7, n, lid); }
    case 8u: { s = squares4(&q8, n, lid); }
    case 9u: { s = squares4(&q9, n, lid); }
    case 10u: { s = squares4(&q10, n, lid); }
    case 11u: { s = squares4(&q11, n, lid); }
    case 12u: { s = squares4(&q12, n, lid); }
    case 13u: { s = squares4(&q13, n, lid); }
    default: { s = squares4(&q14, n, lid); }
  }
  red[lid] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { red[lid] = red[lid] + red[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { mq_partial[p.slot + wid.y] = red[0]; }
}

// ---- the norm and the scale factor -----------------------------------------------------------------
@group(0) @binding(1) var<storage, read> cf_partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> cf_norm: array<f32>;  // [1]
@group(0) @binding(3) var<storage, read_write> cf_coef: array<f32>;  // [1]

@compute @workgroup_size(1)
fn grad_clip_coef() {
  var total = 0.0;
  for (var i = 0u; i < p.n; i++) { total += cf_partial[i]; }
  let norm = sqrt(total);
  cf_norm[0] = norm;
  cf_coef[0] = min(1.0, p.max_norm / (norm + 1e-6));
}

// ---- scaling: a few looping workgroups (kernels/grad_norm.ts) --------------------------------------
@group(0) @binding(1) var<storage, read> sc_g: array<f32>;
@group(0) @binding(2) var<storage, read> sc_coef: array<f32>;
@group(0) @binding(3) var<storage, read_write> sc_out: array<f32>;

@compute @workgroup_size(WG)
fn grad_scale(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let coef = sc_coef[0];
  for (var i = wid.x * WG + lid; i < p.n; i += nwg.x * WG) { sc_out[i] = sc_g[i] * coef; }
}

@group(0) @binding(1) var<storage, read> sc4_g: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> sc4_out: array<vec4<f32>>;

fn scale4(g: ptr<storage, array<vec4<f32>>, read>, out: ptr<storage, array<vec4<f32>>, read_write>, n: u32, coef: f32, start: u32, stride: u32) {
  for (var i = start; i < n; i += stride) { (*out)[i] = (*g)[i] * coef; }
}

@compute @workgroup_size(WG)
fn grad_scale_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  scale4(&sc4_g, &sc4_out, p.n, sc_coef[0], wid.x * WG + lid, nwg.x * WG);
}

// SCALE_SLOTS gradients at bindings 1-7, coef at 8, the outputs at 9-15.
@group(0) @binding(1) var<storage, read> s0: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> s1: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> s2: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> s3: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> s4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> s5: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> s6: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> ms_coef: array<f32>;
@group(0) @binding(9) var<storage, read_write> o0: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> o1: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read_write> o2: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read_write> o3: array<vec4<f32>>;
@group(0) @binding(13) var<storage, read_write> o4: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read_write> o5: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read_write> o6: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn grad_scale_multi(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let n = p.multi_n[wid.y / 4u][wid.y % 4u];
  let coef = ms_coef[0];
  let start = wid.x * WG + lid;
  let stride = nwg.x * WG;
  switch wid.y {
    case 0u: { scale4(&s0, &o0, n, coef, start, stride); }
    case 1u: { scale4(&s1, &o1, n, coef, start, stride); }
    case 2u: { scale4(&s2, &o2, n, coef, start, stride); }
    case 3u: { scale4(&s3, &o3, n, coef, start, stride); }
    case 4u: { scale4(&s4, &o4, n, coef, start, stride); }
    case 5u: { scale4(&s5, &o5, n, coef, start, stride); }
    default: { scale4(&s6, &o6, n, coef, start, stride); }
  }
}
