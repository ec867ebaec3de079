// 2-D convolution, NCHW, as barrier-free implicit GEMMs (no im2col buffer). Dispatch: kernels/conv2d.ts.
//
// conv2d_igemm: forward y = conv(x, w) (+ bias), and with BACKWARD_INPUT the input gradient dx from dy.
//   GEMM view: out[m, pixel] = sum_{tap, ci} W[m, ci, tap] * img[ci, pixel shifted by tap].
//   forward: m = o, ci = c, img = x;   dx: m = c, ci = o, img = dy, W = w transposed (strides swapped).
//   A workgroup owns TM output channels (the same for all its invocations) and WG*TN output pixels
//   (each invocation TN of them, strided by WG so that neighbouring lanes gather neighbouring pixels).
//   Every storage load costs lavapipe a scalar loop over the SIMD lanes, even at an address that all
//   lanes share, so the weights are loaded once per subgroup: lane l loads the weight of channel
//   m0 + b*SG + l and subgroupShuffle hands it to every lane (SG = 8 channels for one load).
//   Needs subgroups of at least SG lanes; conv2d_portable.wgsl is the fallback.
//   The dx of a strided conv is split into stride_h*stride_w parity classes of input pixels (wid.z):
//   inside a class the taps that reach a pixel are the same for every pixel, so no lane wastes FMAs
//   on taps that do not divide the stride, and pixels that no tap reaches are written as zeros.
// The weight gradient is in conv2d_dw.wgsl. Barrier-free, like matmul.wgsl.

enable subgroups;

override BACKWARD_INPUT: bool = false;
override HAS_BIAS: bool = false;
override EPILOGUE: u32 = 0u;  // 0 none, 1 PReLU, 2 residual add (see epilogue)
const TM: u32 = 32u;  // output channels per workgroup, a multiple of SG
const TN: u32 = 2u;   // output pixels per invocation
const WG: u32 = 64u;  // invocations per workgroup
const SG: u32 = 8u;   // lanes that share one weight load (the subgroup must have at least SG)
const UNROLL: u32 = 4u; // channels per loop iteration (1: no unrolling)

struct Params {
  batch: u32,
  in_channels: u32,    // channels summed over: C (forward) or O (dx)
  in_h: u32, in_w: u32, // the gathered image: x (forward) or dy (dx)
  out_channels: u32,   // O (forward) or C (dx)
  out_h: u32, out_w: u32, // the written image
  kh: u32, kw: u32,
  stride_h: u32, stride_w: u32,
  pad_h: u32, pad_w: u32,
  w_stride_m: u32,     // weight stride between output channels m
  w_stride_ci: u32,    // weight stride between summed channels ci
  w_stride_tap: u32,   // weight stride between taps ky*kw + kx
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> img: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> epi: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

// EPILOGUE (forward only) transforms each output as it is stored, so that an inference forward
// skips the elementwise pass that would follow: 1 PReLU with a slope per output channel (epi [O]),
// 2 plus a residual of the output's shape (epi [N, O, Ho, Wo]). Bit for bit the unfused ops' result.
fn epilogue(v: f32, m: u32, at: u32) -> f32 {
  if (EPILOGUE == 1u) { return select(epi[m] * v, v, v > 0.0); }
  if (EPILOGUE == 2u) { return v + epi[at]; }
  return v;
}

// One axis of a parity class: which taps reach its pixels and where they read.
struct Axis {
  q_count: u32,  // pixels of the class along this axis
  tap0: u32,     // first tap (ky or kx)
  taps: u32,     // number of taps
  tap_step: u32, // tap increment
  scale: i32,    // image coordinate = scale * q + shift0 + shift_step * t  (t-th tap)
  shift0: i32,
  shift_step: i32,
  out_scale: u32, // written coordinate = r + out_scale * q
}

fn axis(r: u32, out_size: u32, k: u32, stride: u32, pad: u32) -> Axis {
  if (!BACKWARD_INPUT) {
    // forward: in = stride * q + tap - pad
    return Axis(out_size, 0u, k, 1u, i32(stride), -i32(pad), 1, 1u);
  }
  // dx: pixel i = r + stride * q receives dy[(i + pad - tap) / stride] from the taps tap = i + pad (mod stride)
  let tap0 = (r + pad) % stride;
  let taps = select(0u, (k - tap0 + stride - 1u) / stride, tap0 < k);
  let q_count = select(0u, (out_size - r + stride - 1u) / stride, r < out_size);
  return Axis(q_count, tap0, taps, stride, 1, i32((r + pad - tap0) / stride), -1, stride);
}

@compute @workgroup_size(WG)
fn conv2d_igemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_invocation_id) sg_lane: u32) {
  let classes_w = select(1u, p.stride_w, BACKWARD_INPUT);
  let ay = axis(wid.z / classes_w, p.out_h, p.kh, p.stride_h, p.pad_h);
  let ax = axis(wid.z % classes_w, p.out_w, p.kw, p.stride_w, p.pad_w);
  let ry = wid.z / classes_w;
  let rx = wid.z % classes_w;
  let class_pixels = ay.q_count * ax.q_count;
  let pixels = p.batch * class_pixels;
  let in_hw = p.in_h * p.in_w;

  // This invocation's TN pixels: batch index and lattice coordinates.
  var n: array<u32, TN>;
  var qy: array<u32, TN>;
  var qx: array<u32, TN>;
  var live: array<bool, TN>;
  for (var j = 0u; j < TN; j++) {
    let pixel = wid.x * (WG * TN) + j * WG + lid.x;
    live[j] = pixel < pixels;
    let pix = select(0u, pixel, live[j]);
    n[j] = pix / max(class_pixels, 1u);
    let rem = pix - n[j] * class_pixels;
    qy[j] = rem / ax.q_count;
    qx[j] = rem - qy[j] * ax.q_count;
  }

  let m0 = wid.y * TM;
  var w_row: array<u32, TM / SG>;   // lane l loads row m0 + b*SG + l, shared with all lanes
  for (var b = 0u; b < TM / SG; b++) { w_row[b] = min(m0 + b * SG + sg_lane, p.out_channels - 1u) * p.w_stride_m; }

  var acc: array<array<f32, TN>, TM>;
  if (HAS_BIAS) {
    for (var i = 0u; i < TM; i++) {
      let b = bias[min(m0 + i, p.out_channels - 1u)];
      for (var j = 0u; j < TN; j++) { acc[i][j] = b; }
    }
  }

  for (var ty = 0u; ty < ay.taps; ty++) {
    let ky = ay.tap0 + ty * ay.tap_step;
    for (var tx = 0u; tx < ax.taps; tx++) {
      let kx = ax.tap0 + tx * ax.tap_step;
      // Where each pixel reads for this tap; outside the image it reads a valid address and uses 0.
      var offset: array<u32, TN>;
      var inside: array<bool, TN>;
      for (var j = 0u; j < TN; j++) {
        let iy = ay.scale * i32(qy[j]) + ay.shift0 + ay.shift_step * i32(ty);
        let ix = ax.scale * i32(qx[j]) + ax.shift0 + ax.shift_step * i32(tx);
        inside[j] = live[j] && u32(iy) < p.in_h && u32(ix) < p.in_w;
        offset[j] = n[j] * p.in_channels * in_hw + select(0u, u32(iy) * p.in_w + u32(ix), inside[j]);
      }
      let w_tap = (ky * p.kw + kx) * p.w_stride_tap;
      // UNROLL channels per iteration: lavapipe blends every loop-carried value with the execution
      // mask, so the accumulators are carried once per UNROLL FMAs. Channels past the end read 0.
      for (var ci = 0u; ci < p.in_channels; ci += UNROLL) {
        var v: array<array<f32, TN>, UNROLL>;         // this invocation's pixels
        var wl: array<array<f32, TM / SG>, UNROLL>;   // this lane's share of the weights
        for (var u = 0u; u < UNROLL; u++) {
          let c = min(ci + u, p.in_channels - 1u);
          let real = ci + u < p.in_channels;
          for (var j = 0u; j < TN; j++) { v[u][j] = select(0.0, img[offset[j] + c * in_hw], inside[j] && real); }
          for (var b = 0u; b < TM / SG; b++) { wl[u][b] = select(0.0, wt[w_row[b] + w_tap + c * p.w_stride_ci], real); }
        }
        for (var b = 0u; b < TM / SG; b++) {
          for (var i = 0u; i < SG; i++) {
            for (var j = 0u; j < TN; j++) {
              var a = acc[b * SG + i][j];
              for (var u = 0u; u < UNROLL; u++) { a = fma(subgroupShuffle(wl[u][b], i), v[u][j], a); }
              acc[b * SG + i][j] = a;
            }
          }
        }
      }
    }
  }

  let out_hw = p.out_h * p.out_w;
  for (var j = 0u; j < TN; j++) {
    if (!live[j]) { continue; }
    let oy = ry + ay.out_scale * qy[j];
    let ox = rx + ax.out_scale * qx[j];
    let base = n[j] * p.out_channels * out_hw + oy * p.out_w + ox;
    for (var i = 0u; i < TM; i++) {
      let at = base + (m0 + i) * out_hw;
      if (m0 + i < p.out_channels) { out[at] = epilogue(acc[i][j], m0 + i, at); }
    }
  }
}
