// Softmax and log-softmax along one axis, their backward, and cross-entropy with integer labels.
// The host views the input as [outer, L, inner] (the axis in the middle); a row is one (outer, inner)
// pair with L elements at stride `inner`. One workgroup per row: strided partial results, then a tree.

override LOG: bool = false;   // log-softmax instead of softmax

const WG = 64u;

struct Params {
  rows: u32,
  L: u32,
  inner: u32,
  scale: f32,     // cross-entropy: 1/N of the mean
}

@group(0) @binding(0) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

fn row_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn row_base(r: u32) -> u32 {
  return (r / p.inner) * p.L * p.inner + (r % p.inner);
}

// Reductions across the workgroup; every invocation gets the result. Called in uniform control flow.
fn wg_max(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let out = red[0];
  workgroupBarrier();
  return out;
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

fn neg_inf() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

// ---- softmax / log-softmax forward ---------------------------------------------------------------
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn softmax_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let r = row_id(wid, nwg);
  let base = row_base(min(r, p.rows - 1u));
  var m = neg_inf();
  for (var l = lid; l < p.L; l += WG) { m = max(m, x[base + l * p.inner]); }
  m = wg_max(m, lid);
  var s = 0.0;
  for (var l = lid; l < p.L; l += WG) { s += exp(x[base + l * p.inner] - m); }
  s = wg_sum(s, lid);
  if (r >= p.rows) { return; }
  let log_s = log(s);
  for (var l = lid; l < p.L; l += WG) {
    let i = base + l * p.inner;
    if (LOG) { y[i] = x[i] - m - log_s; } else { y[i] = exp(x[i] - m) / s; }
  }
}

// ---- backward: softmax dx = y (g - sum(g y));  log-softmax dx = g - exp(y) sum(g) ------------------
@group(0) @binding(1) var<storage, read> by: array<f32>;
@group(0) @binding(2) var<storage, read> bg: array<f32>;
@group(0) @binding(3) var<storage, read_write> bdx: array<f32>;

@compute @workgroup_size(WG)
fn softmax_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let r = row_id(wid, nwg);
  let base = row_base(min(r, p.rows - 1u));
  var s = 0.0;
  for (var l = lid; l < p.L; l += WG) {
    let i = base + l * p.inner;
    if (LOG) { s += bg[i]; } else { s += bg[i] * by[i]; }
  }
  s = wg_sum(s, lid);
  if (r >= p.rows) { return; }
  for (var l = lid; l < p.L; l += WG) {
    let i = base + l * p.inner;
    if (LOG) { bdx[i] = bg[i] - exp(by[i]) * s; } else { bdx[i] = by[i] * (bg[i] - s); }
  }
}

// ---- cross-entropy with integer labels: logits [N, C] (inner = 1), labels [N] ----------------------
// Forward writes the per-row loss (lse - x[label]; NaN for a label outside [0, C)) and the row's
// log-sum-exp, which the backward reuses.
@group(0) @binding(1) var<storage, read> ce_x: array<f32>;
@group(0) @binding(2) var<storage, read> ce_labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> ce_loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> ce_lse: array<f32>;

fn nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

@compute @workgroup_size(WG)
fn cross_entropy_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let r = row_id(wid, nwg);
  let base = min(r, p.rows - 1u) * p.L;
  var m = neg_inf();
  for (var l = lid; l < p.L; l += WG) { m = max(m, ce_x[base + l]); }
  m = wg_max(m, lid);
  var s = 0.0;
  for (var l = lid; l < p.L; l += WG) { s += exp(ce_x[base + l] - m); }
  s = wg_sum(s, lid);
  if (r >= p.rows || lid != 0u) { return; }
  let lse = m + log(s);
  let label = ce_labels[r];
  ce_lse[r] = lse;
  if (label < 0 || u32(label) >= p.L) { ce_loss[r] = nan(); } else { ce_loss[r] = lse - ce_x[base + u32(label)]; }
}

// dlogits[n, c] = g * scale * (softmax(x)[n, c] - [c == label_n]); one invocation per element.
@group(0) @binding(1) var<storage, read> cb_x: array<f32>;
@group(0) @binding(2) var<storage, read> cb_labels: array<i32>;
@group(0) @binding(3) var<storage, read> cb_lse: array<f32>;
@group(0) @binding(4) var<storage, read> cb_g: array<f32>;
@group(0) @binding(5) var<storage, read_write> cb_dx: array<f32>;

@compute @workgroup_size(WG)
fn cross_entropy_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.rows * p.L) { return; }
  let n = i / p.L;
  let c = i % p.L;
  let is_label = select(0.0, 1.0, i32(c) == cb_labels[n]);
  cb_dx[i] = cb_g[0] * p.scale * (exp(cb_x[i] - cb_lse[n]) - is_label);
}
