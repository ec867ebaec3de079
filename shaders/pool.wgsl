// 2-D max pooling over NCHW planes (implicit -inf padding, dilation 1, floor output size), and its
// backward. One workgroup per (n, c) plane; its invocations stride over the plane's positions.
//
//   maxpool_forward    y[oh, ow] = max over the window; argmax = h * W + w of the first maximum in window
//                      order (row by row), as PyTorch's indices
//   maxpool_backward   dx[h, w] = sum of g[oh, ow] over the windows whose argmax is (h, w): a gather over
//                      the few windows that contain (h, w), so overlapping windows need no atomics

const WG = 64u;

struct Params {
  H: u32,
  W: u32,
  Ho: u32,
  Wo: u32,
  kh: u32,
  kw: u32,
  sh: u32,
  sw: u32,
  ph: u32,
  pw: u32,
  planes: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

fn plane_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn neg_inf() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

// ---- forward -------------------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> fw_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> fw_y: array<f32>;
@group(0) @binding(3) var<storage, read_write> fw_argmax: array<i32>;

@compute @workgroup_size(WG)
fn maxpool_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let plane = plane_id(wid, nwg);
  if (plane >= p.planes) { return; }
  let x_base = plane * p.H * p.W;
  let y_base = plane * p.Ho * p.Wo;
  for (var k = lid; k < p.Ho * p.Wo; k += WG) {
    let h0 = i32((k / p.Wo) * p.sh) - i32(p.ph);
    let w0 = i32((k % p.Wo) * p.sw) - i32(p.pw);
    var best = neg_inf();
    var best_at = -1;
    for (var h = max(h0, 0); h < min(h0 + i32(p.kh), i32(p.H)); h++) {
      for (var w = max(w0, 0); w < min(w0 + i32(p.kw), i32(p.W)); w++) {
        let at = h * i32(p.W) + w;
        let v = fw_x[x_base + u32(at)];
        // Strictly greater: ties keep the first in window order. The first element always counts, so a
        // window of -inf still points at a real input.
        if (v > best || best_at < 0) {
          best = v;
          best_at = at;
        }
      }
    }
    fw_y[y_base + k] = best;
    fw_argmax[y_base + k] = best_at;
  }
}

// ---- backward ------------------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> bw_g: array<f32>;
@group(0) @binding(2) var<storage, read> bw_argmax: array<i32>;
@group(0) @binding(3) var<storage, read_write> bw_dx: array<f32>;

// The output rows (or columns) whose window covers input row h: o*stride - pad <= h < o*stride - pad + k.
fn covering(h: u32, k: u32, stride: u32, pad: u32, n_out: u32) -> vec2<u32> {
  let lo_num = i32(h + pad) - i32(k) + 1;          // o >= lo_num / stride, rounded up
  let lo = select(0u, (u32(lo_num) + stride - 1u) / stride, lo_num > 0);
  let hi = min((h + pad) / stride + 1u, n_out);    // exclusive
  return vec2<u32>(lo, hi);
}

@compute @workgroup_size(WG)
fn maxpool_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let plane = plane_id(wid, nwg);
  if (plane >= p.planes) { return; }
  let x_base = plane * p.H * p.W;
  let y_base = plane * p.Ho * p.Wo;
  for (var k = lid; k < p.H * p.W; k += WG) {
    let h = k / p.W;
    let w = k % p.W;
    let rows = covering(h, p.kh, p.sh, p.ph, p.Ho);
    let cols = covering(w, p.kw, p.sw, p.pw, p.Wo);
    var dx = 0.0;
    for (var oh = rows.x; oh < rows.y; oh++) {
      for (var ow = cols.x; ow < cols.y; ow++) {
        let o = y_base + oh * p.Wo + ow;
        if (bw_argmax[o] == i32(k)) { dx += bw_g[o]; }
      }
    }
    bw_dx[x_base + k] = dx;
  }
}
