// Lab: batch norm's normalization with the next layer's activation fake quantization in its epilogue,
// writing q only (2 passes over memory; production's bn_normalize_fq in shaders/batchnorm.wgsl writes y
// and q, 3 passes, because the STE's backward reads y). Using it would need batch norm's backward to
// recompute y from x. The channel walk and arithmetic are bn_normalize_fq's.

const WG = 16u;

struct Params {
  N: u32,
  C: u32,
  S: u32,      // plane length in vec4s
  eps: f32,
  qmin: f32,
  qmax: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> variance: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read> scale: array<f32>;

// The channel walk of shaders/batchnorm.wgsl: flat index k within the channel, its offset stepped.
struct Walk { k: u32, s: u32, at: u32, step_s: u32, step_at: u32 }

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

struct Affine { mean: f32, scale: f32, beta: f32 }

fn affine(c: u32) -> Affine {
  return Affine(mean[c], gamma[c] * (1.0 / sqrt(variance[c] + p.eps)), beta[c]);
}

fn fake_quant(y: vec4<f32>, s: f32, inv: f32) -> vec4<f32> {
  return clamp(round(y * inv), vec4<f32>(p.qmin), vec4<f32>(p.qmax)) * s;
}

@group(0) @binding(7) var<storage, read_write> q_only: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn bn_fq_q_only_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.C) { return; }
  let a = affine(c);
  let s = scale[0];
  let inv = 1.0 / s;
  for (var w = walk_start(c, lid); w.k < p.N * p.S; walk_next(&w)) {
    q_only[w.at] = fake_quant((x[w.at] - a.mean) * a.scale + a.beta, s, inv);
  }
}
