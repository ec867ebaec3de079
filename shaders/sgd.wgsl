// SGD with momentum, dampening, weight decay and Nesterov, in place, as torch.optim.SGD defines it:
//   d = g + wd * w
//   buf = first ? d : momentum * buf + (1 - dampening) * d
//   d = nesterov ? d + momentum * buf : buf          (when momentum != 0)
//   w = w - lr * d
// sgd_step_vec4 runs when the parameter's size is a multiple of 4 (every conv and linear weight):
// lavapipe pays a per-lane loop for each storage load, and a vec4 load shares it across 4 floats.
// sgd_step_multi updates SLOTS such parameters in one dispatch (workgroup row wid.y = parameter): the
// optimizer's ~94 dispatches per step cost more than the 14 MB they move. All walk their elements in
// a grid-stride loop: a few looping workgroups, not one per WG elements (a [128,128,3,3] weight took
// 576 workgroups and ~1.9 ms). Numbers: kernels/sgd.ts.

requires unrestricted_pointer_parameters;  // walk4 takes the buffers of any parameter

const WG = 64u;
const SLOTS = 5u;  // parameters per sgd_step_multi: 3 buffers each, 15 of a stage's 16 storage bindings

struct Hyper {
  lr: f32,
  momentum: f32,
  dampening: f32,
  weight_decay: f32,
  nesterov: u32,
  first: u32,        // 1 on the first step: the momentum buffer starts as d
}

struct Updated { w: vec4<f32>, buf: vec4<f32> }

// One update on 4 lanes at once (the scalar kernel uses .x).
fn update(h: Hyper, g: vec4<f32>, w: vec4<f32>, buf: vec4<f32>) -> Updated {
  var d = g + h.weight_decay * w;
  var b = buf;
  if (h.momentum != 0.0) {
    b = select(h.momentum * buf + (1.0 - h.dampening) * d, d, h.first != 0u);
    d = select(b, d + h.momentum * b, h.nesterov != 0u);
  }
  return Updated(w - h.lr * d, b);
}

// Elements start, start + stride, ... < n (vec4s) of one parameter.
fn walk4(h: Hyper, grad: ptr<storage, array<vec4<f32>>, read>, weight: ptr<storage, array<vec4<f32>>, read_write>,
         buf: ptr<storage, array<vec4<f32>>, read_write>, n: u32, start: u32, stride: u32) {
  for (var i = start; i < n; i += stride) {
    var b = vec4<f32>(0.0);   // the momentum buffer is read only when it holds something
    if (h.momentum != 0.0 && h.first == 0u) { b = (*buf)[i]; }
    let u = update(h, (*grad)[i], (*weight)[i], b);
    if (h.momentum != 0.0) { (*buf)[i] = u.buf; }
    (*weight)[i] = u.w;
  }
}

// ---- one parameter ---------------------------------------------------------------------------------
struct Params {
  n: u32,            // elements (vec4s in sgd_step_vec4)
  first: u32,
  lr: f32,
  momentum: f32,
  dampening: f32,
  weight_decay: f32,
  nesterov: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

fn hyper() -> Hyper {
  return Hyper(p.lr, p.momentum, p.dampening, p.weight_decay, p.nesterov, p.first);
}

fn first_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;

@compute @workgroup_size(WG)
fn sgd_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let h = hyper();
  for (var i = first_index(wid, nwg, lid); i < p.n; i += nwg.x * nwg.y * WG) {
    var b = 0.0;
    if (h.momentum != 0.0 && h.first == 0u) { b = buf[i]; }
    let u = update(h, vec4<f32>(grad[i]), vec4<f32>(weight[i]), vec4<f32>(b));
    if (h.momentum != 0.0) { buf[i] = u.buf.x; }
    weight[i] = u.w.x;
  }
}

@group(0) @binding(1) var<storage, read> grad4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> weight4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> buf4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn sgd_step_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  walk4(hyper(), &grad4, &weight4, &buf4, p.n, first_index(wid, nwg, lid), nwg.x * nwg.y * WG);
}

// ---- SLOTS parameters, all sizes multiples of 4 ------------------------------------------------------
struct MultiParams {
  lr: f32,
  momentum: f32,
  dampening: f32,
  nesterov: u32,
  slot: array<vec4<u32>, SLOTS>,  // per parameter: vec4s, first, bitcast weight decay, unused
}

@group(0) @binding(0) var<uniform> mp: MultiParams;
// The gradients come first (read-only), then each parameter's weight and momentum buffer.
@group(0) @binding(1) var<storage, read> g0: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g1: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> g2: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> g3: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> g4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> w0: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> b0: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> w1: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read_write> b1: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> w2: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read_write> b2: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read_write> w3: array<vec4<f32>>;
@group(0) @binding(13) var<storage, read_write> b3: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read_write> w4: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read_write> b4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn sgd_step_multi(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let s = mp.slot[wid.y];
  let h = Hyper(mp.lr, mp.momentum, mp.dampening, bitcast<f32>(s.z), mp.nesterov, s.y);
  let start = wid.x * WG + lid;
  let stride = nwg.x * WG;
  switch wid.y {
    case 0u: { walk4(h, &g0, &w0, &b0, s.x, start, stride); }
    case 1u: { walk4(h, &g1, &w1, &b1, s.x, start, stride); }
    case 2u: { walk4(h, &g2, &w2, &b2, s.x, start, stride); }
    case 3u: { walk4(h, &g3, &w3, &b3, s.x, start, stride); }
    default: { walk4(h, &g4, &w4, &b4, s.x, start, stride); }
  }
}
