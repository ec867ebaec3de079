// The conv2d kernels for adapters without subgroups (or with subgroups narrower than 8 lanes):
// shaders/conv2d.wgsl and shaders/conv2d_dw.wgsl explain the algorithms; here every invocation loads
// the weights (conv2d_igemm) or dy values (conv2d_dw_partial) it needs itself instead of sharing one
// load per subgroup. Also the split-K sum conv2d_dw_reduce, which both paths use.
// Dispatch: kernels/conv2d.ts. The two halves bind different structs at the same slots (each entry
// point uses only its own).

override BACKWARD_INPUT: bool = false;
override HAS_BIAS: bool = false;
override EPILOGUE: u32 = 0u;  // 0 none, 1 PReLU, 2 residual add (see epilogue)
const TM: u32 = 8u;   // output channels per workgroup (conv2d_igemm) or dw rows (conv2d_dw_partial)
const TN: u32 = 4u;   // output pixels (conv2d_igemm) or weight columns (conv2d_dw_partial) per invocation
const WG: u32 = 64u;  // invocations per workgroup

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
fn conv2d_igemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
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
  var w_row: array<u32, TM>;   // clamped rows: out-of-range channels compute garbage that is never stored
  for (var i = 0u; i < TM; i++) { w_row[i] = min(m0 + i, p.out_channels - 1u) * p.w_stride_m; }

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
      var w_off = (ky * p.kw + kx) * p.w_stride_tap;
      for (var ci = 0u; ci < p.in_channels; ci++) {
        var v: array<f32, TN>;
        for (var j = 0u; j < TN; j++) {
          v[j] = select(0.0, img[offset[j]], inside[j]);
          offset[j] += in_hw;
        }
        for (var i = 0u; i < TM; i++) {
          let wv = wt[w_row[i] + w_off];
          for (var j = 0u; j < TN; j++) { acc[i][j] = fma(wv, v[j], acc[i][j]); }
        }
        w_off += p.w_stride_ci;
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

// ---- weight gradient: see conv2d_dw.wgsl ----

struct DwParams {
  batch: u32, channels: u32, in_h: u32, in_w: u32,  // x [N, C, H, W]
  out_channels: u32, out_h: u32, out_w: u32,        // dy [N, O, Ho, Wo]
  kh: u32, kw: u32,
  stride_h: u32, stride_w: u32,
  pad_h: u32, pad_w: u32,
  rows_per_split: u32,  // (n, oy) rows of dy summed by one split
  splits: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> q: DwParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;  // [splits, O, C*kh*kw]

@compute @workgroup_size(WG)
fn conv2d_dw_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let taps = q.kh * q.kw;
  let columns = q.channels * taps;
  let in_hw = q.in_h * q.in_w;
  let out_hw = q.out_h * q.out_w;

  // This invocation's TN weight columns; x[n, c, iy, ix] = x[n*C*H*W + col_base + iy*W + ix].
  var col_base: array<u32, TN>;
  var ky: array<u32, TN>;
  var kx: array<u32, TN>;
  for (var j = 0u; j < TN; j++) {
    let col = min(wid.x * (WG * TN) + j * WG + lid.x, columns - 1u);
    let c = col / taps;
    let tap = col - c * taps;
    ky[j] = tap / q.kw;
    kx[j] = tap - ky[j] * q.kw;
    col_base[j] = c * in_hw;
  }
  let m0 = wid.y * TM;
  var dy_row: array<u32, TM>;  // clamped: out-of-range channels compute garbage that is never stored
  for (var i = 0u; i < TM; i++) { dy_row[i] = min(m0 + i, q.out_channels - 1u) * out_hw; }

  var acc: array<array<f32, TN>, TM>;
  let row_end = min((wid.z + 1u) * q.rows_per_split, q.batch * q.out_h);
  for (var row = wid.z * q.rows_per_split; row < row_end; row++) {
    let n = row / q.out_h;
    let oy = row - n * q.out_h;
    let dy_base = n * q.out_channels * out_hw + oy * q.out_w;
    // Each column's x row for this dy row; a row outside the image contributes zeros.
    var x_row: array<u32, TN>;
    var row_inside: array<bool, TN>;
    for (var j = 0u; j < TN; j++) {
      let iy = i32(oy * q.stride_h + ky[j]) - i32(q.pad_h);
      row_inside[j] = u32(iy) < q.in_h;
      x_row[j] = n * q.channels * in_hw + col_base[j] + select(0u, u32(iy) * q.in_w, row_inside[j]);
    }
    for (var ox = 0u; ox < q.out_w; ox++) {
      var v: array<f32, TN>;
      for (var j = 0u; j < TN; j++) {
        let ix = i32(ox * q.stride_w + kx[j]) - i32(q.pad_w);
        let inside = row_inside[j] && u32(ix) < q.in_w;
        v[j] = select(0.0, x[x_row[j] + select(0u, u32(ix), inside)], inside);
      }
      for (var i = 0u; i < TM; i++) {
        let g = dy[dy_base + dy_row[i] + ox];
        for (var j = 0u; j < TN; j++) { acc[i][j] = fma(g, v[j], acc[i][j]); }
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let o = m0 + i;
    if (o >= q.out_channels) { break; }
    for (var j = 0u; j < TN; j++) {
      let col = wid.x * (WG * TN) + j * WG + lid.x;
      if (col < columns) { partial[(wid.z * q.out_channels + o) * columns + col] = acc[i][j]; }
    }
  }
}

// dw[i] = sum_z partial[z, i]; one invocation per weight element (the grid folds into y past 65535).
const REDUCE_WG: u32 = 64u;
@group(0) @binding(1) var<storage, read> parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(REDUCE_WG)
fn conv2d_dw_reduce(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let count = q.out_channels * q.channels * q.kh * q.kw;
  let i = gid.x + gid.y * nwg.x * REDUCE_WG;
  if (i >= count) { return; }
  var s = 0.0;
  for (var z = 0u; z < q.splits; z++) { s += parts[z * count + i]; }
  dw[i] = s;
}
