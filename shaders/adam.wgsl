// Adam / AdamW, in place (torch.optim.Adam and AdamW rules):
//   Adam:  g = g + wd * w                       (L2 penalty through the gradient)
//   AdamW: w = w * (1 - lr * wd)                (decoupled decay)
//   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//   w = w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

const WG = 256u;

struct Params {
  n: u32,
  decoupled: u32,   // 1: AdamW
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weight_decay: f32,
  bias_correction1: f32,   // 1 - b1^t
  bias_correction2: f32,   // 1 - b2^t
  _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(WG)
fn adam_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  var w = weight[i];
  var g = grad[i];
  if (p.decoupled != 0u) { w = w * (1.0 - p.lr * p.weight_decay); } else { g = g + p.weight_decay * w; }
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  weight[i] = w - p.lr * (mi / p.bias_correction1) / (sqrt(vi / p.bias_correction2) + p.eps);
}
