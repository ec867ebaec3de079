// Uniform fake quantization (quantize, then de-quantize back to f32), as torch.fake_quantize_*_affine:
//   u = x * (1 / s)                 (torch multiplies by the reciprocal too)
//   r = round(u)                    half to even (WGSL round, torch.round), or half away from zero
//   q = clamp(r + z, qmin, qmax)    the integer code; z is the zero point (0 when symmetric)
//   y = (q - z) * s
// The tensor is viewed as [N, C, S] around its channel axis; a per-tensor scale is C = 1 (N = 1, S = n).
// scale and zero point are [C]; the zero point holds integers stored as f32.
//
// Backward (straight-through estimators), with "inside" meaning qmin <= u + z <= qmax (LSQ's rule on the
// unrounded code; torch's fake_quantize tests the rounded code, which differs only in the half-step margins):
//   dx     = g inside, 0 outside (CLIPPED_STE), or g everywhere (identity STE)
//   dscale = sum of g * (r - u inside, q - z outside)            LSQ (Esser et al. 2020), times grad_scale
//            sum of g * (0 inside,     q - z outside)            PACT-style (STEP_GRAD_INSIDE = false)
//
//   fq_forward_tensor    y, C = 1: grid-stride
//   fq_forward_channel   y: one workgroup per channel
//   fq_backward_tensor   dx, and per-lane partial sums of dscale (C = 1; the host adds them)
//   fq_backward_channel  dx, dscale[c]: one workgroup per channel
//   fq_minmax_channel    the fused weight quantizer: per channel min/max -> scale, zero point -> y,
//                        one workgroup per channel, one dispatch (the unfused path takes five)
// NOTE: no kernel divides per element. Channel kernels walk plane by plane (n, then s); on lavapipe an
// index division per element (scalar on the CPU's vector lanes) halved the per-channel throughput, and
// reloading the scale inside the grid-stride loop made the per-tensor kernel ~30% slower.

override ROUND_HALF_AWAY: bool = false;
override HAS_ZERO_POINT: bool = false;
override CLIPPED_STE: bool = true;
override STEP_GRAD_INSIDE: bool = true;
// fq_minmax_channel: symmetric (z = 0, s = max|x| / qmax) or asymmetric (s = (max - min) / (qmax - qmin)).
override SYMMETRIC: bool = true;

const WG = 256u;   // grid-stride kernels, as elementwise.wgsl
const CWG = 16u;   // channel kernels: as batchnorm.wgsl, small workgroups measured fastest on lavapipe
                   // (backward of [512,512,3,3]: 27 ms at 64, 12 ms at 16)
// Smallest scale the minmax quantizer produces: torch's eps for float32 (an all-zero channel gets it).
const MIN_SCALE = 1.1920929e-7;

struct Params {
  N: u32,
  C: u32,
  S: u32,
  n: u32,           // N * C * S
  qmin: f32,
  qmax: f32,
  grad_scale: f32,
  _pad: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

fn round_code(u: f32) -> f32 {
  if (ROUND_HALF_AWAY) {
    // NOTE: not floor(|u| + 0.5): that addition rounds 0.49999997 up to 1.
    let t = trunc(u);
    return select(t, t + sign(u), abs(u - t) >= 0.5);
  }
  return round(u);
}

struct Code {
  u: f32,        // x / s, unrounded
  r: f32,        // rounded
  q: f32,        // clamped code, zero point added
  inside: bool,  // qmin <= u + z <= qmax
}

fn code(x: f32, inv: f32, z: f32) -> Code {
  let u = x * inv;
  let r = round_code(u);
  let v = u + z;
  return Code(u, r, clamp(r + z, p.qmin, p.qmax), v >= p.qmin && v <= p.qmax);
}

/** d y / d s for one element, before grad_scale. */
fn step_grad(k: Code, z: f32) -> f32 {
  if (k.inside) { return select(0.0, k.r - k.u, STEP_GRAD_INSIDE); }
  return k.q - z;
}

fn grad_x(k: Code, g: f32) -> f32 {
  return select(g, select(0.0, g, k.inside), CLIPPED_STE);
}

fn first_element(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

fn grid_stride(nwg: vec3<u32>) -> u32 {
  return nwg.x * nwg.y * WG;
}

// ---- forward -------------------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> fw_x: array<f32>;
@group(0) @binding(2) var<storage, read> fw_scale: array<f32>;
@group(0) @binding(3) var<storage, read> fw_zp: array<f32>;     // the scale stands in without a zero point
@group(0) @binding(4) var<storage, read_write> fw_y: array<f32>;

@compute @workgroup_size(WG)
fn fq_forward_tensor(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let s = fw_scale[0];
  let inv = 1.0 / s;
  let z = select(0.0, fw_zp[0], HAS_ZERO_POINT);
  for (var i = first_element(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) {
    fw_y[i] = (code(fw_x[i], inv, z).q - z) * s;
  }
}

@compute @workgroup_size(CWG)
fn fq_forward_channel(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.C) { return; }
  let s = fw_scale[c];
  let inv = 1.0 / s;
  let z = select(0.0, fw_zp[c], HAS_ZERO_POINT);
  for (var n = 0u; n < p.N; n++) {
    let plane = (n * p.C + c) * p.S;
    for (var j = lid; j < p.S; j += CWG) {
      fw_y[plane + j] = (code(fw_x[plane + j], inv, z).q - z) * s;
    }
  }
}

// ---- backward, per-tensor scale ------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> bt_x: array<f32>;
@group(0) @binding(2) var<storage, read> bt_scale: array<f32>;
@group(0) @binding(3) var<storage, read> bt_zp: array<f32>;
@group(0) @binding(4) var<storage, read> bt_g: array<f32>;
@group(0) @binding(5) var<storage, read_write> bt_dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> bt_partial: array<f32>;   // [workgroups * WG], one per lane

@compute @workgroup_size(WG)
fn fq_backward_tensor(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let s = bt_scale[0];
  let inv = 1.0 / s;
  let z = select(0.0, bt_zp[0], HAS_ZERO_POINT);
  var acc = 0.0;
  for (var i = first_element(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) {
    let k = code(bt_x[i], inv, z);
    let g = bt_g[i];
    bt_dx[i] = grad_x(k, g);
    acc += g * step_grad(k, z);
  }
  // NOTE: one partial sum per lane and no barrier: a 256-wide tree of barriers made this kernel 5x
  // slower than the forward on lavapipe; the host's reduction adds the partials.
  bt_partial[first_element(wid, nwg, lid)] = acc;
}

// ---- backward, per-channel scale -----------------------------------------------------------------
@group(0) @binding(1) var<storage, read> bc_x: array<f32>;
@group(0) @binding(2) var<storage, read> bc_scale: array<f32>;
@group(0) @binding(3) var<storage, read> bc_zp: array<f32>;
@group(0) @binding(4) var<storage, read> bc_g: array<f32>;
@group(0) @binding(5) var<storage, read_write> bc_dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> bc_dscale: array<f32>;   // [C]

var<workgroup> red: array<f32, CWG>;

fn workgroup_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = CWG / 2u; s > 0u; s /= 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let out = red[0];
  workgroupBarrier();
  return out;
}

@compute @workgroup_size(CWG)
fn fq_backward_channel(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.C) { return; }   // uniform per workgroup: the barriers below stay uniform
  let s = bc_scale[c];
  let inv = 1.0 / s;
  let z = select(0.0, bc_zp[c], HAS_ZERO_POINT);
  var acc = 0.0;
  for (var n = 0u; n < p.N; n++) {
    let plane = (n * p.C + c) * p.S;
    for (var j = lid; j < p.S; j += CWG) {
      let kk = code(bc_x[plane + j], inv, z);
      let g = bc_g[plane + j];
      bc_dx[plane + j] = grad_x(kk, g);
      acc += g * step_grad(kk, z);
    }
  }
  let total = workgroup_sum(acc, lid);
  if (lid == 0u) { bc_dscale[c] = total * p.grad_scale; }
}

// ---- fused min/max weight quantizer ----------------------------------------------------------------
@group(0) @binding(1) var<storage, read> mm_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> mm_y: array<f32>;
@group(0) @binding(3) var<storage, read_write> mm_scale: array<f32>;   // [C]
@group(0) @binding(4) var<storage, read_write> mm_zp: array<f32>;      // [C]

var<workgroup> red_lo: array<f32, CWG>;
var<workgroup> red_hi: array<f32, CWG>;

@compute @workgroup_size(CWG)
fn fq_minmax_channel(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.C) { return; }
  // Range includes 0 (torch's MinMaxObserver), so an exact zero stays representable.
  var lo = 0.0;
  var hi = 0.0;
  for (var n = 0u; n < p.N; n++) {
    let plane = (n * p.C + c) * p.S;
    for (var j = lid; j < p.S; j += CWG) {
      let x = mm_x[plane + j];
      lo = min(lo, x);
      hi = max(hi, x);
    }
  }
  red_lo[lid] = lo;
  red_hi[lid] = hi;
  workgroupBarrier();
  for (var w = CWG / 2u; w > 0u; w /= 2u) {
    if (lid < w) {
      red_lo[lid] = min(red_lo[lid], red_lo[lid + w]);
      red_hi[lid] = max(red_hi[lid], red_hi[lid + w]);
    }
    workgroupBarrier();
  }
  lo = red_lo[0];
  hi = red_hi[0];
  var s: f32;
  var z = 0.0;
  if (SYMMETRIC) {
    // Unsigned (qmin = 0) grids spend no level on negative values.
    let amax = select(max(-lo, hi), hi, p.qmin >= 0.0);
    s = max(amax / p.qmax, MIN_SCALE);
  } else {
    s = max((hi - lo) / (p.qmax - p.qmin), MIN_SCALE);
    z = clamp(p.qmin - round(lo / s), p.qmin, p.qmax);
  }
  let inv = 1.0 / s;
  for (var n = 0u; n < p.N; n++) {
    let plane = (n * p.C + c) * p.S;
    for (var j = lid; j < p.S; j += CWG) {
      mm_y[plane + j] = (code(mm_x[plane + j], inv, z).q - z) * s;
    }
  }
  if (lid == 0u) {
    mm_scale[c] = s;
    mm_zp[c] = z;
  }
}

// ---- DoReFa weights (Zhou et al. 2016), given t = tanh(w) and m = max|t| ([1]) ----------------------
//   y  = 2 q s - 1,  q = clamp(round((t / (2m) + 1/2) / s), 0, qmax),  s = 1 / qmax ([1], from the
//        host: export checks the codes against that exact float, and a GPU's division may be 2.5 ULP off)
//   dw = (1 - t^2) (g / m - [|t| = m] sign(t) S / (m^2 T))    identity STE through the rounding;
//        S = sum of g t, T = how many |t| equal m (max's gradient is shared among ties, as torch.amax)
//   dorefa_forward        y (grid-stride)
//   dorefa_backward_sums  per-lane partial sums of g t and of [|t| = m] (the host adds them)
//   dorefa_backward       dw
// The composition of generic ops it replaces takes 8 dispatches forward and about 20 backward.
@group(0) @binding(1) var<storage, read> df_t: array<f32>;
@group(0) @binding(2) var<storage, read> df_m: array<f32>;
@group(0) @binding(3) var<storage, read> df_s: array<f32>;
@group(0) @binding(4) var<storage, read_write> df_y: array<f32>;

@compute @workgroup_size(WG)
fn dorefa_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let two_m = 2.0 * df_m[0];
  let s = df_s[0];
  let inv = 1.0 / s;                  // as fq_forward_tensor: multiply by the reciprocal
  for (var i = first_element(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) {
    let q = clamp(round_code((df_t[i] / two_m + 0.5) * inv), 0.0, p.qmax);
    df_y[i] = 2.0 * (q * s) - 1.0;
  }
}

@group(0) @binding(1) var<storage, read> ds_t: array<f32>;
@group(0) @binding(2) var<storage, read> ds_m: array<f32>;
@group(0) @binding(3) var<storage, read> ds_g: array<f32>;
@group(0) @binding(4) var<storage, read_write> ds_partial: array<f32>;   // [lanes, 2]: sum g t, ties

@compute @workgroup_size(WG)
fn dorefa_backward_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32) {
  let m = ds_m[0];
  var dot = 0.0;
  var ties = 0.0;
  let lane = first_element(wid, nwg, lid);
  for (var i = lane; i < p.n; i += grid_stride(nwg)) {
    let t = ds_t[i];
    dot += ds_g[i] * t;
    ties += select(0.0, 1.0, abs(t) == m);
  }
  ds_partial[2u * lane] = dot;
  ds_partial[2u * lane + 1u] = ties;
}

@group(0) @binding(1) var<storage, read> db_t: array<f32>;
@group(0) @binding(2) var<storage, read> db_m: array<f32>;
@group(0) @binding(3) var<storage, read> db_g: array<f32>;
@group(0) @binding(4) var<storage, read> db_sums: array<f32>;   // [2]: S, T
@group(0) @binding(5) var<storage, read_write> db_dw: array<f32>;

@compute @workgroup_size(WG)
fn dorefa_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let m = db_m[0];
  let through_max = db_sums[0] / (m * m * db_sums[1]);
  for (var i = first_element(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) {
    let t = db_t[i];
    let dt = db_g[i] / m - select(0.0, sign(t) * through_max, abs(t) == m);
    db_dw[i] = (1.0 - t * t) * dt;
  }
}
