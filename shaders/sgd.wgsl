// SGD with momentum, dampening, weight decay and Nesterov, in place, as torch.optim.SGD defines it:
//   d = g + wd * w
//   buf = first ? d : momentum * buf + (1 - dampening) * d
//   d = nesterov ? d + momentum * buf : buf          (when momentum != 0)
//   w = w - lr * d

const WG = 256u;

struct Params {
  n: u32,
  first: u32,        // 1 on the first step: the momentum buffer starts as d
  lr: f32,
  momentum: f32,
  dampening: f32,
  weight_decay: f32,
  nesterov: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;

@compute @workgroup_size(WG)
fn sgd_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  var d = grad[i] + p.weight_decay * weight[i];
  if (p.momentum != 0.0) {
    var b = d;
    if (p.first == 0u) { b = p.momentum * buf[i] + (1.0 - p.dampening) * d; }
    buf[i] = b;
    d = select(b, d + p.momentum * b, p.nesterov != 0u);
  }
  weight[i] = weight[i] - p.lr * d;
}
