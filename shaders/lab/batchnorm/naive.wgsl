// Lab baseline (kernels/lab/batchnorm): the training forward in two obvious kernels over the [N, C, S]
// view of the input. bn_stats_naive: one invocation per channel walks its N*S values twice (mean, then
// the biased variance) and updates the running estimates; bn_normalize_naive: one invocation per
// element, its channel recomputed from the index.

const WG = 64u;

struct Params {
  N: u32,
  C: u32,
  S: u32,
  M: f32,          // values per channel, N * S
  eps: f32,
  momentum: f32,
  unbias: f32,     // M / (M - 1)
}

@group(0) @binding(0) var<uniform> p: Params;

fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

@group(0) @binding(1) var<storage, read> st_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> st_mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> st_var: array<f32>;
@group(0) @binding(4) var<storage, read_write> st_running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> st_running_var: array<f32>;

@compute @workgroup_size(WG)
fn bn_stats_naive(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let c = linear_id(wid, nwg, lid);
  if (c >= p.C) { return; }
  var sum = 0.0;
  for (var n = 0u; n < p.N; n++) {
    for (var s = 0u; s < p.S; s++) { sum += st_x[(n * p.C + c) * p.S + s]; }
  }
  let mean = sum / p.M;
  var sq = 0.0;
  for (var n = 0u; n < p.N; n++) {
    for (var s = 0u; s < p.S; s++) {
      let d = st_x[(n * p.C + c) * p.S + s] - mean;
      sq += d * d;
    }
  }
  let variance = sq / p.M;
  st_mean[c] = mean;
  st_var[c] = variance;
  st_running_mean[c] = (1.0 - p.momentum) * st_running_mean[c] + p.momentum * mean;
  st_running_var[c] = (1.0 - p.momentum) * st_running_var[c] + p.momentum * variance * p.unbias;
}

@group(0) @binding(1) var<storage, read> nm_x: array<f32>;
@group(0) @binding(2) var<storage, read> nm_mean: array<f32>;
@group(0) @binding(3) var<storage, read> nm_var: array<f32>;
@group(0) @binding(4) var<storage, read> nm_gamma: array<f32>;
@group(0) @binding(5) var<storage, read> nm_beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> nm_y: array<f32>;

@compute @workgroup_size(WG)
fn bn_normalize_naive(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= p.N * p.C * p.S) { return; }
  let c = (i / p.S) % p.C;
  nm_y[i] = (nm_x[i] - nm_mean[c]) / sqrt(nm_var[c] + p.eps) * nm_gamma[c] + nm_beta[c];
}
