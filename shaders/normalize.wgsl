// L2 normalization along one axis: y = x / max(|x|, eps), as torch.nn.functional.normalize.
// Rows as in softmax.wgsl: the input viewed as [outer, L, inner], one workgroup per row.
// Backward: |x| > eps: dx = (g - y (y.g)) / |x|;  otherwise the divisor is the constant eps: dx = g / eps.
// row_angles: the angle between rows of a and b ([rows, L], inner = 1) as 2 atan2(|â - b̂|, |â + b̂|)
// with â = a / max(|a|, eps), in one dispatch where the composition of ops takes ~15 (RCM's angles).

const WG = 64u;

struct Params {
  rows: u32,
  L: u32,
  inner: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

var<workgroup> red: array<f32, WG>;

fn row_base(r: u32) -> u32 {
  return (r / p.inner) * p.L * p.inner + (r % p.inner);
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

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> norms: array<f32>;

@compute @workgroup_size(WG)
fn l2_normalize_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  let base = row_base(min(r, p.rows - 1u));
  var s = 0.0;
  for (var l = lid; l < p.L; l += WG) { let v = x[base + l * p.inner]; s += v * v; }
  let norm = sqrt(wg_sum(s, lid));
  if (r >= p.rows) { return; }
  let inv = 1.0 / max(norm, p.eps);
  for (var l = lid; l < p.L; l += WG) { let i = base + l * p.inner; y[i] = x[i] * inv; }
  if (lid == 0u) { norms[r] = norm; }
}

@group(0) @binding(1) var<storage, read> by: array<f32>;
@group(0) @binding(2) var<storage, read> bnorms: array<f32>;
@group(0) @binding(3) var<storage, read> bg: array<f32>;
@group(0) @binding(4) var<storage, read_write> bdx: array<f32>;

@compute @workgroup_size(WG)
fn l2_normalize_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  let base = row_base(min(r, p.rows - 1u));
  var s = 0.0;
  for (var l = lid; l < p.L; l += WG) { let i = base + l * p.inner; s += by[i] * bg[i]; }
  let yg = wg_sum(s, lid);
  if (r >= p.rows) { return; }
  let norm = bnorms[r];
  for (var l = lid; l < p.L; l += WG) {
    let i = base + l * p.inner;
    if (norm > p.eps) { bdx[i] = (bg[i] - by[i] * yg) / norm; } else { bdx[i] = bg[i] / p.eps; }
  }
}

@group(0) @binding(1) var<storage, read> ra: array<f32>;
@group(0) @binding(2) var<storage, read> rb: array<f32>;
@group(0) @binding(3) var<storage, read_write> angles: array<f32>;

@compute @workgroup_size(WG)
fn row_angles(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  let base = min(r, p.rows - 1u) * p.L;
  var sa = 0.0;
  var sb = 0.0;
  for (var l = lid; l < p.L; l += WG) { let a = ra[base + l]; let b = rb[base + l]; sa += a * a; sb += b * b; }
  let ia = 1.0 / max(sqrt(wg_sum(sa, lid)), p.eps);
  let ib = 1.0 / max(sqrt(wg_sum(sb, lid)), p.eps);
  var dd = 0.0;
  var ss = 0.0;
  for (var l = lid; l < p.L; l += WG) {
    let a = ra[base + l] * ia;
    let b = rb[base + l] * ib;
    dd += (a - b) * (a - b);
    ss += (a + b) * (a + b);
  }
  let d = sqrt(wg_sum(dd, lid));
  let s = sqrt(wg_sum(ss, lid));
  if (r >= p.rows || lid != 0u) { return; }
  angles[r] = 2.0 * atan2(d, s);
}
