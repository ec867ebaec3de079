// Batch normalization per channel over (N, H, W). The host views the input as [N, C, S] (S = H*W, or 1
// for [N, C]); each kernel runs one workgroup per channel, which walks that channel's M = N*S values.
//
//   bn_stats           mean and biased variance (two passes: the variance sums (x - mean)^2, so no
//                      E[x^2] - E[x]^2 cancellation in f32); bn_stats_running also updates the running
//                      estimates in place: running = (1 - momentum) running + momentum batch (unbiased
//                      variance). Folded in, not a kernel of its own: one dispatch fewer per BN layer.
//                      (Folding the normalization in as well did not pay: the lab kernel at the end.)
//   bn_normalize       y = (x - mean) / sqrt(var + eps) * gamma + beta  (batch or running statistics)
//   bn_normalize_fq    the same, and in its epilogue the next quantized layer's activation fake quant
//                      q = clamp(round(y / s), qmin, qmax) * s (one scale, no zero point, half to even,
//                      as fq_forward_tensor): y and q in one pass (y is what the STE's backward reads).
//                      1.8-2.0x faster than bn_normalize + fq_forward_tensor (kernels/lab/fake_quant).
//   bn_backward        dgamma = sum(g xhat), dbeta = sum(g), and dx; in TRAINING mode mean and var are
//                      functions of x:  dx = gamma / sqrt(var + eps) * (g - dbeta / M - xhat dgamma / M)
//                      in eval mode they are constants:  dx = gamma / sqrt(var + eps) * g
//
// Each kernel has a `_vec4` twin, used when S % 4 == 0: it reads and writes vec4s (the host passes
// S / 4 as S), which ran the backward 2x faster on lavapipe than scalar loads.

override TRAINING: bool = true;

const WG = 16u;   // small on purpose: see the note in kernels/batchnorm.ts

struct Params {
  N: u32,
  C: u32,
  S: u32,          // plane length in elements of the kernel's type (f32 or vec4)
  M: f32,          // values per channel, N * H * W
  eps: f32,
  momentum: f32,
  unbias: f32,     // M / (M - 1): biased to unbiased variance for the running estimate
  qmin: f32,       // bn_normalize_fq: the next layer's activation grid
  qmax: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

fn channel_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// Sum across the workgroup; every invocation gets the result. Called in uniform control flow.
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

fn hsum(v: vec4<f32>) -> f32 {
  return v.x + v.y + v.z + v.w;
}

// ---- the channel walk ----------------------------------------------------------------------------
// Invocation lid visits the channel's flat indices k = lid, lid + WG, ... < N*S in memory order.
// Element k sits at (k / S) * C*S + c*S + k % S; the offset is stepped, not recomputed, because
// lavapipe has no vector integer division and a division per element costs more than the whole loop body.
struct Walk {
  k: u32,         // flat index within the channel
  s: u32,         // k % S
  at: u32,        // element offset in the tensor
  step_s: u32,    // WG % S
  step_at: u32,   // (WG / S) * C*S + WG % S
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
  if ((*w).s >= p.S) {   // crossed into the next sample's plane
    (*w).s -= p.S;
    (*w).at += (p.C - 1u) * p.S;
  }
}

fn walk_len() -> u32 {
  return p.N * p.S;
}

// ---- per-channel coefficients, shared by the scalar and vec4 kernels --------------------------------
fn inv_std(v: f32) -> f32 {
  return 1.0 / sqrt(v + p.eps);
}

// dx = a g + b (x - mean) + d
struct DxCoefficients { a: f32, b: f32, d: f32 }

fn dx_coefficients(gamma: f32, istd: f32, dgamma: f32, dbeta: f32) -> DxCoefficients {
  let a = gamma * istd;
  if (!TRAINING) { return DxCoefficients(a, 0.0, 0.0); }
  // -a * xhat * dgamma / M  with  xhat = (x - mean) * istd
  return DxCoefficients(a, -a * istd * dgamma / p.M, -a * dbeta / p.M);
}

// ---- statistics ----------------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> st_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> st_mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> st_var: array<f32>;
@group(0) @binding(4) var<storage, read_write> st_running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> st_running_var: array<f32>;

// mean and biased variance of channel c, in every invocation (uniform control flow)
fn channel_stats(c: u32, lid: u32) -> vec2<f32> {
  var sum = 0.0;
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) { sum += st_x[w.at]; }
  let mean = wg_sum(sum, lid) / p.M;
  var sq = 0.0;
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) {
    let d = st_x[w.at] - mean;
    sq += d * d;
  }
  return vec2<f32>(mean, wg_sum(sq, lid) / p.M);
}

@group(0) @binding(1) var<storage, read> st4_x: array<vec4<f32>>;

fn channel_stats_vec4(c: u32, lid: u32) -> vec2<f32> {
  var sum = vec4<f32>(0.0);
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) { sum += st4_x[w.at]; }
  let mean = wg_sum(hsum(sum), lid) / p.M;
  var sq = vec4<f32>(0.0);
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) {
    let d = st4_x[w.at] - mean;
    sq += d * d;
  }
  return vec2<f32>(mean, wg_sum(hsum(sq), lid) / p.M);
}

fn write_stats(c: u32, s: vec2<f32>) {
  st_mean[c] = s.x;
  st_var[c] = s.y;
}

fn update_running(c: u32, s: vec2<f32>) {
  let keep = 1.0 - p.momentum;
  st_running_mean[c] = keep * st_running_mean[c] + p.momentum * s.x;
  st_running_var[c] = keep * st_running_var[c] + p.momentum * s.y * p.unbias;
}

@compute @workgroup_size(WG)
fn bn_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }   // uniform per workgroup
  let s = channel_stats(c, lid);
  if (lid == 0u) { write_stats(c, s); }
}

@compute @workgroup_size(WG)
fn bn_stats_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let s = channel_stats_vec4(c, lid);
  if (lid == 0u) { write_stats(c, s); }
}

@compute @workgroup_size(WG)
fn bn_stats_running(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let s = channel_stats(c, lid);
  if (lid == 0u) {
    write_stats(c, s);
    update_running(c, s);
  }
}

@compute @workgroup_size(WG)
fn bn_stats_running_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let s = channel_stats_vec4(c, lid);
  if (lid == 0u) {
    write_stats(c, s);
    update_running(c, s);
  }
}

// ---- normalization -------------------------------------------------------------------------------
// (x - mean) first: folding the mean into a shift (x * scale + shift) loses digits when |mean| >> std.
@group(0) @binding(1) var<storage, read> nm_x: array<f32>;
@group(0) @binding(2) var<storage, read> nm_mean: array<f32>;
@group(0) @binding(3) var<storage, read> nm_var: array<f32>;
@group(0) @binding(4) var<storage, read> nm_gamma: array<f32>;
@group(0) @binding(5) var<storage, read> nm_beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> nm_y: array<f32>;

// Channel c's normalization as y = (x - mean) * scale + beta, for every normalize kernel.
struct Affine { mean: f32, scale: f32, beta: f32 }

fn channel_affine(c: u32) -> Affine {
  return Affine(nm_mean[c], nm_gamma[c] * inv_std(nm_var[c]), nm_beta[c]);
}

@compute @workgroup_size(WG)
fn bn_normalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let a = channel_affine(c);
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) { nm_y[w.at] = (nm_x[w.at] - a.mean) * a.scale + a.beta; }
}

@group(0) @binding(1) var<storage, read> nm4_x: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> nm4_y: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn bn_normalize_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let a = channel_affine(c);
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) { nm4_y[w.at] = (nm4_x[w.at] - a.mean) * a.scale + a.beta; }
}

// ---- normalization with activation fake quantization in the epilogue -------------------------------
@group(0) @binding(6) var<storage, read> fq_scale: array<f32>;
@group(0) @binding(7) var<storage, read_write> fq_y: array<f32>;
@group(0) @binding(8) var<storage, read_write> fq_q: array<f32>;

@compute @workgroup_size(WG)
fn bn_normalize_fq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let a = channel_affine(c);
  let s = fq_scale[0];
  let inv = 1.0 / s;
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) {
    let y = (nm_x[w.at] - a.mean) * a.scale + a.beta;
    fq_y[w.at] = y;
    fq_q[w.at] = clamp(round(y * inv), p.qmin, p.qmax) * s;
  }
}

@group(0) @binding(7) var<storage, read_write> fq4_y: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> fq4_q: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn bn_normalize_fq_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let a = channel_affine(c);
  let s = fq_scale[0];
  let inv = 1.0 / s;
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) {
    let y = (nm4_x[w.at] - a.mean) * a.scale + a.beta;
    fq4_y[w.at] = y;
    fq4_q[w.at] = clamp(round(y * inv), vec4<f32>(p.qmin), vec4<f32>(p.qmax)) * s;
  }
}

// ---- backward: both reductions, then dx in a second walk over the same (cached) channel -----------
@group(0) @binding(1) var<storage, read> bw_x: array<f32>;
@group(0) @binding(2) var<storage, read> bw_g: array<f32>;
@group(0) @binding(3) var<storage, read> bw_mean: array<f32>;
@group(0) @binding(4) var<storage, read> bw_var: array<f32>;
@group(0) @binding(5) var<storage, read> bw_gamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> bw_dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> bw_dgamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> bw_dbeta: array<f32>;

@compute @workgroup_size(WG)
fn bn_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let mean = bw_mean[c];
  let istd = inv_std(bw_var[c]);
  var sum_g = 0.0;
  var sum_g_xhat = 0.0;
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) {
    let g = bw_g[w.at];
    sum_g += g;
    sum_g_xhat += g * (bw_x[w.at] - mean) * istd;
  }
  let dbeta = wg_sum(sum_g, lid);
  let dgamma = wg_sum(sum_g_xhat, lid);
  if (lid == 0u) {
    bw_dgamma[c] = dgamma;
    bw_dbeta[c] = dbeta;
  }
  let k = dx_coefficients(bw_gamma[c], istd, dgamma, dbeta);
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) {
    bw_dx[w.at] = k.a * bw_g[w.at] + k.b * (bw_x[w.at] - mean) + k.d;
  }
}

@group(0) @binding(1) var<storage, read> bw4_x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bw4_g: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> bw4_dx: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn bn_backward_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let mean = bw_mean[c];
  let istd = inv_std(bw_var[c]);
  var sum_g = vec4<f32>(0.0);
  var sum_g_xhat = vec4<f32>(0.0);
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) {
    let g = bw4_g[w.at];
    sum_g += g;
    sum_g_xhat += g * (bw4_x[w.at] - mean) * istd;
  }
  let dbeta = wg_sum(hsum(sum_g), lid);
  let dgamma = wg_sum(hsum(sum_g_xhat), lid);
  if (lid == 0u) {
    bw_dgamma[c] = dgamma;
    bw_dbeta[c] = dbeta;
  }
  let k = dx_coefficients(bw_gamma[c], istd, dgamma, dbeta);
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) {
    bw4_dx[w.at] = k.a * bw4_g[w.at] + k.b * (bw4_x[w.at] - mean) + k.d;
  }
}

// ---- lab only: the training forward fused into one kernel -----------------------------------------
// Statistics, running update, then the normalization walk over the channel the workgroup just read.
// One dispatch instead of two, yet 1.2-1.3x slower than bn_stats_running + bn_normalize on lavapipe
// where channels are long (8x64x56x56, 32x16x32x32), 1.14x faster on 32x128x2x2 where the dispatch is
// most of the cost (bench/batchnorm.bench.ts runs both, interleaved): not worth a second path.
// x at binding 1 (st4_x, which channel_stats_vec4 reads).
@group(0) @binding(2) var<storage, read> tr_gamma: array<f32>;
@group(0) @binding(3) var<storage, read> tr_beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> tr_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> tr_var: array<f32>;
@group(0) @binding(6) var<storage, read_write> tr_running_mean: array<f32>;
@group(0) @binding(7) var<storage, read_write> tr_running_var: array<f32>;
@group(0) @binding(8) var<storage, read_write> tr4_y: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn bn_train_fused_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
  let c = channel_id(wid, nwg);
  if (c >= p.C) { return; }
  let s = channel_stats_vec4(c, lid);
  if (lid == 0u) {
    tr_mean[c] = s.x;
    tr_var[c] = s.y;
    let keep = 1.0 - p.momentum;
    tr_running_mean[c] = keep * tr_running_mean[c] + p.momentum * s.x;
    tr_running_var[c] = keep * tr_running_var[c] + p.momentum * s.y * p.unbias;
  }
  let scale = tr_gamma[c] * inv_std(s.y);
  let beta = tr_beta[c];
  for (var w = walk_start(c, lid); w.k < walk_len(); walk_next(&w)) { tr4_y[w.at] = (st4_x[w.at] - s.x) * scale + beta; }
}
