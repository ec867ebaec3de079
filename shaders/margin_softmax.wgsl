// Angular-margin softmax cross-entropy on cosine logits, fused: ArcFace, CosFace and the combined form
//   target logit  phi = cos(m1 * theta + m2) - m3      theta = acos(cos_y), per-sample m2 allowed
//   other logits  cos_j
//   loss_i = logsumexp_j(s * l_ij) - s * phi_i
// When m1 * theta + m2 would pass pi (the margin would stop being monotonic), phi falls back to
// cos_y - mm - m3 with th = cos((pi - m2) / m1), mm = sin(pi - m2) * m2 (ArcFace's th/mm rule, per sample).
// Gradient of phi is exact:  d phi / d cos = m1 * sin(m1 theta + m2) / sin(theta)  (1 in the fall-back),
// with the divisor sin(theta) kept >= sqrt(EPS) so cos = +-1 stays finite.
// Cosines arrive as [N, C]; one workgroup per row.

const WG = 64u;
const PI = 3.14159265358979;
const EPS = 1e-6;

struct Params {
  rows: u32,
  classes: u32,
  s: f32,
  m1: f32,
  m3: f32,
  scale: f32,       // backward: 1/N of the mean
  _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;
var<workgroup> red_idx: array<u32, WG>;

fn wg_max(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k /= 2u) {
    if (lid < k) { red[lid] = max(red[lid], red[lid + k]); }
    workgroupBarrier();
  }
  let out = red[0];
  workgroupBarrier();
  return out;
}

fn wg_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k /= 2u) {
    if (lid < k) { red[lid] = red[lid] + red[lid + k]; }
    workgroupBarrier();
  }
  let out = red[0];
  workgroupBarrier();
  return out;
}

// Index of the largest value (lowest index on ties).
fn wg_argmax(v: f32, i: u32, lid: u32) -> u32 {
  red[lid] = v;
  red_idx[lid] = i;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k /= 2u) {
    if (lid < k) {
      let a = red[lid];
      let b = red[lid + k];
      if (b > a || (b == a && red_idx[lid + k] < red_idx[lid])) { red[lid] = b; red_idx[lid] = red_idx[lid + k]; }
    }
    workgroupBarrier();
  }
  let out = red_idx[0];
  workgroupBarrier();
  return out;
}

fn neg_inf() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

fn nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

struct Target {
  phi: f32,
  dphi: f32,    // d phi / d cos_y
  dphi_dm: f32, // d phi / d m2 (RCM lets gradients reach a per-sample margin)
}

fn target_logit(c: f32, m2: f32) -> Target {
  let cc = clamp(c, -1.0, 1.0);
  let sin_exact = sqrt(max(1.0 - cc * cc, 0.0));
  let sin_theta = max(sin_exact, sqrt(EPS));   // only ever a divisor
  // atan2 rather than acos: lavapipe's acos loses ~1e-4 near |cos| = 1, which s amplifies
  let theta = atan2(sin_exact, cc);
  let th = cos((PI - m2) / p.m1);
  if (cc > th) {
    if (p.m1 == 1.0) {
      // cos(theta + m2) by the angle-sum identity: no acos, whose error near |cos| = 1 the scale s amplifies
      let cos_a = cc * cos(m2) - sin_exact * sin(m2);
      let sin_a = sin_exact * cos(m2) + cc * sin(m2);
      return Target(cos_a - p.m3, sin_a / sin_theta, -sin_a);
    }
    let a = p.m1 * theta + m2;
    return Target(cos(a) - p.m3, p.m1 * sin(a) / sin_theta, -sin(a));
  }
  let mm = sin(PI - m2) * m2;
  // d mm / d m2 = -cos(pi - m2) m2 + sin(pi - m2)
  return Target(c - mm - p.m3, 1.0, cos(PI - m2) * m2 - sin(PI - m2));
}

// ---- forward: per-row loss, log-sum-exp, phi and its derivative, plain-cosine correctness ----------
@group(0) @binding(1) var<storage, read> cosines: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> margins: array<f32>;      // m2 per row
@group(0) @binding(4) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> row_stats: array<vec4<f32>>; // (lse, phi, dphi, dphi_dm)
@group(0) @binding(6) var<storage, read_write> row_correct: array<f32>;     // plain-cosine argmax == label

@compute @workgroup_size(WG)
fn margin_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  let row = min(r, p.rows - 1u);
  let base = row * p.classes;
  let label = labels[row];
  let valid = label >= 0 && u32(label) < p.classes;
  let y = select(0u, u32(label), valid);
  let t = target_logit(cosines[base + y], margins[row]);

  var m = neg_inf();
  var best = neg_inf();
  var best_i = 0u;
  for (var j = lid; j < p.classes; j += WG) {
    let c = cosines[base + j];
    let l = select(c, t.phi, j == y) * p.s;
    m = max(m, l);
    if (c > best) { best = c; best_i = j; }
  }
  m = wg_max(m, lid);
  let arg = wg_argmax(best, best_i, lid);
  var total = 0.0;
  for (var j = lid; j < p.classes; j += WG) {
    let l = select(cosines[base + j], t.phi, j == y) * p.s;
    total += exp(l - m);
  }
  total = wg_sum(total, lid);
  if (r >= p.rows || lid != 0u) { return; }
  let lse = m + log(total);
  row_loss[r] = select(nan(), lse - t.phi * p.s, valid);
  row_stats[r] = vec4<f32>(lse, t.phi, t.dphi, t.dphi_dm);
  row_correct[r] = select(0.0, 1.0, valid && arg == y);
}

// ---- backward: dcos_ij = g * scale * s * (softmax_ij - [j == y]) * (j == y ? dphi : 1) ------------
// and, at the target element of each row, dm2_i = g * scale * s * (softmax_iy - 1) * dphi/dm2.
@group(0) @binding(1) var<storage, read> b_cosines: array<f32>;
@group(0) @binding(2) var<storage, read> b_labels: array<i32>;
@group(0) @binding(3) var<storage, read> b_stats: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> b_g: array<f32>;
@group(0) @binding(5) var<storage, read_write> b_dcos: array<f32>;
@group(0) @binding(6) var<storage, read_write> b_dmargin: array<f32>;

@compute @workgroup_size(WG)
fn margin_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.rows * p.classes) { return; }
  let row = i / p.classes;
  let j = i % p.classes;
  let stats = b_stats[row];
  let is_target = i32(j) == b_labels[row];
  let l = select(b_cosines[i], stats.y, is_target) * p.s;
  let softmax = exp(l - stats.x);
  let dl = softmax - select(0.0, 1.0, is_target);
  let upstream = b_g[0] * p.scale * p.s * dl;
  b_dcos[i] = upstream * select(1.0, stats.z, is_target);
  if (is_target) { b_dmargin[row] = upstream * stats.w; }
}
