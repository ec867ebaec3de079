// 3x3 convolution, padding 1, NCHW, stride 1 or 2 (ResNet's 3x3 convs, most of its FLOPs), for output
// widths divisible by 4 (stride 2: input width = 2 x output width): forward y = conv(x, w) (+ bias);
// at stride 1 also, with BACKWARD_INPUT, the input gradient dx from dy (the same stencil with the taps
// mirrored); and the weight gradient. Dispatch: kernels/conv2d.ts (the `direct` kernels, directApplies).
//
// conv2d.wgsl's implicit GEMM gathers every (pixel, tap) from memory: 9 scalar loads per pixel and
// input channel, each a per-lane loop on lavapipe. Here an invocation owns a quad, 4 neighbouring
// output pixels of one row, and TM output channels (vec4 accumulators). Per input channel and kernel
// row it loads the input the quad needs as vec4s: at stride 1 one vec4 v and the pixels just left and
// right of it, at stride 2 two vec4s v, v1 and the pixel left of them. Those neighbours come from the
// lanes beside it (subgroupShuffle: the lanes of a subgroup hold consecutive quads), and from memory
// only at a subgroup's edge inside a row. Three windows of 4 pixels (window) feed the row's 3 taps.
// The weights are loaded once per subgroup and shared by subgroupShuffle, as in conv2d.wgsl (lane l
// loads output channel m0 + b*SG + l).
//   forward: out[m, y, x] += w[m, ci, sy, sx] * img[ci, S*y + sy - 1, S*x + sx - 1]   (S = STRIDE)
//   dx:      the same windows meet the mirrored tap (2 - sy, 2 - sx); img = dy, out = dx, m = c, ci = o
//
// conv2d_dw_3x3: the weight gradient's split-K partial sums (conv2d_dw.wgsl's job for other convs),
// partial[z, o, c*9 + ky*3 + kx] = sum over the (n, y) rows of split z and all x of
// dy[n, o, y, x] * x[n, c, S*y + ky - 1, S*x + kx - 1]. An invocation owns the 3 columns (c, ky, 0..2)
// and walks each dy row a quad at a time: the x vec4s and their neighbours (scalar loads: the lanes
// beside it hold other channels) give the three windows, a vec4 of dy (loaded by lane l for output
// channel m0 + b*SG + l, shared by subgroupShuffle) meets each in a dot product.

enable subgroups;

override BACKWARD_INPUT: bool = false;
override HAS_BIAS: bool = false;
override EPILOGUE: u32 = 0u;  // 0 none, 1 PReLU, 2 residual add (see epilogue4)
override STRIDE: u32 = 1u;  // 1 or 2
const TM: u32 = 16u;  // output channels per workgroup, a multiple of SG
const WG: u32 = 32u;  // invocations (quads) per workgroup
const SG: u32 = 8u;   // lanes that share one weight load (the subgroup must have at least SG)

// The 4-pixel windows of taps kx = 0, 1, 2 for a quad: stride 1 from [l, v, r], stride 2 from [l, v, v1].
fn windows(l: f32, v: vec4<f32>, v1: vec4<f32>, r: f32) -> array<vec4<f32>, 3> {
  if (STRIDE == 1u) { return array<vec4<f32>, 3>(vec4<f32>(l, v.xyz), v, vec4<f32>(v.yzw, r)); }
  return array<vec4<f32>, 3>(vec4<f32>(l, v.y, v.w, v1.y), vec4<f32>(v.x, v.z, v1.x, v1.z), vec4<f32>(v.y, v.w, v1.y, v1.w));
}

struct Params {
  batch: u32,
  in_channels: u32,          // channels summed over: C (forward) or O (dx)
  in_h: u32, in_w: u32,      // the image read: x (forward) or dy (dx)
  out_channels: u32,         // O (forward) or C (dx)
  out_h: u32, out_w: u32,    // the image written; out_w % 4 == 0
  w_stride_m: u32,           // weight stride between output channels m
  w_stride_ci: u32,          // weight stride between summed channels ci
  w_stride_tap: u32,         // weight stride between taps ky*3 + kx
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> img: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> epi: array<f32>;          // EPILOGUE 1: the slopes [O]
@group(0) @binding(5) var<storage, read> epi4: array<vec4<f32>>;   // EPILOGUE 2: the residual, by quads (one load, not 4)
@group(0) @binding(6) var<storage, read_write> out: array<vec4<f32>>;

// EPILOGUE (forward only) transforms each output as it is stored, so that an inference forward
// skips the elementwise pass that would follow: 1 PReLU with a slope per output channel (epi [O]),
// 2 plus a residual of the output's shape (epi4 [N, O, Ho, Wo]). Bit for bit the unfused ops' result.
fn epilogue4(v: vec4<f32>, m: u32, quad: u32) -> vec4<f32> {
  if (EPILOGUE == 1u) { return select(epi[m] * v, v, v > vec4<f32>(0.0)); }
  if (EPILOGUE == 2u) { return v + epi4[quad]; }
  return v;
}

@compute @workgroup_size(WG)
fn conv2d_3x3(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  let row_quads = p.out_w / 4u;
  let plane = p.out_h * row_quads;           // output quads (vec4s) per channel plane
  let quads = p.batch * plane;
  let q_raw = wid.x * WG + lid.x;
  let live = q_raw < quads;
  let q = min(q_raw, quads - 1u);             // lanes past the end compute on a valid quad, write nothing
  let n = q / plane;
  let rem = q - n * plane;
  let oy = rem / row_quads;
  let qx = rem - oy * row_quads;

  // Which neighbour pixels the lanes beside this one hold (a quad at a row's end has none: padding).
  let left_lane = max(sg_lane, 1u) - 1u;
  let right_lane = min(sg_lane + 1u, sg_size - 1u);
  let has_left = qx > 0u;
  let has_right = qx + 1u < row_quads;
  let q_left = subgroupShuffle(q, left_lane);
  let q_right = subgroupShuffle(q, right_lane);
  let left_from_lane = sg_lane > 0u && q_left + 1u == q;
  let right_from_lane = sg_lane + 1u < sg_size && q_right == q + 1u;

  let m0 = wid.y * TM;
  var w_row: array<u32, TM / SG>;
  for (var b = 0u; b < TM / SG; b++) { w_row[b] = min(m0 + b * SG + sg_lane, p.out_channels - 1u) * p.w_stride_m; }

  var acc: array<vec4<f32>, TM>;
  if (HAS_BIAS) {
    for (var i = 0u; i < TM; i++) { acc[i] = vec4<f32>(bias[min(m0 + i, p.out_channels - 1u)]); }
  }

  let in_row = p.in_w / 4u;                   // vec4s per input row
  let in_plane = p.in_h * in_row;
  let img_base = n * p.in_channels * in_plane + STRIDE * qx;
  for (var ci = 0u; ci < p.in_channels; ci++) {
    var wl: array<array<f32, TM / SG>, 9>;   // this lane's share of the 9 taps' weights
    for (var t = 0u; t < 9u; t++) {
      for (var b = 0u; b < TM / SG; b++) { wl[t][b] = wt[w_row[b] + ci * p.w_stride_ci + t * p.w_stride_tap]; }
    }
    for (var sy = 0u; sy < 3u; sy++) {
      let iy = i32(STRIDE * oy + sy) - 1;
      let row_inside = u32(iy) < p.in_h;
      let at = img_base + ci * in_plane + select(0u, u32(iy), row_inside) * in_row;
      let v = select(vec4<f32>(0.0), img[at], row_inside);
      var v1 = v;
      if (STRIDE == 2u) { v1 = select(vec4<f32>(0.0), img[at + 1u], row_inside); }
      var l = subgroupShuffle(v1.w, left_lane);
      var r = subgroupShuffle(v.x, right_lane);
      if (has_left && !left_from_lane) { l = select(0.0, img[at - 1u].w, row_inside); }
      if (STRIDE == 1u && has_right && !right_from_lane) { r = select(0.0, img[at + 1u].x, row_inside); }
      var win = windows(select(0.0, l, has_left), v, v1, select(0.0, r, has_right));
      for (var sx = 0u; sx < 3u; sx++) {
        let t = select(sy * 3u + sx, 8u - sy * 3u - sx, BACKWARD_INPUT);
        for (var b = 0u; b < TM / SG; b++) {
          for (var i = 0u; i < SG; i++) {
            acc[b * SG + i] = fma(vec4<f32>(subgroupShuffle(wl[t][b], i)), win[sx], acc[b * SG + i]);
          }
        }
      }
    }
  }

  if (!live) { return; }
  let out_base = n * p.out_channels * plane + rem;
  for (var i = 0u; i < TM; i++) {
    let quad = out_base + (m0 + i) * plane;
    if (m0 + i < p.out_channels) { out[quad] = epilogue4(acc[i], m0 + i, quad); }
  }
}

// ---- weight gradient -----------------------------------------------------------------------------
struct DwParams {
  batch: u32, channels: u32, h: u32, w: u32,  // x [N, C, H, W]
  out_channels: u32, out_h: u32, out_w: u32,  // dy [N, O, Ho, Wo]; out_w % 4 == 0
  _kh: u32, _kw: u32, _stride_h: u32, _stride_w: u32, _pad_h: u32, _pad_w: u32,
  rows_per_split: u32,  // (n, y) rows of dy summed by one split
  splits: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> dp: DwParams;
@group(0) @binding(1) var<storage, read> dw_x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dw_x: array<f32>;       // the same buffer, read by float
@group(0) @binding(3) var<storage, read> dw_dy4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dw_partial: array<f32>;  // [splits, O, C*9]

@compute @workgroup_size(WG)
fn conv2d_dw_3x3(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                 @builtin(subgroup_invocation_id) sg_lane: u32) {
  let pairs = dp.channels * 3u;                 // (c, ky): an invocation's 3 columns
  let pair = min(wid.x * WG + lid.x, pairs - 1u);
  let c = pair / 3u;
  let ky = pair - c * 3u;
  let row_quads = dp.out_w / 4u;
  let dy_plane = dp.out_h * row_quads;          // vec4s per dy channel plane
  let x_row = dp.w / 4u;
  let x_plane = dp.h * x_row;
  let m0 = wid.y * TM;
  var dy_chan: array<u32, TM / SG>;             // lane l loads output channel m0 + b*SG + l
  for (var b = 0u; b < TM / SG; b++) { dy_chan[b] = min(m0 + b * SG + sg_lane, dp.out_channels - 1u) * dy_plane; }

  var acc: array<vec3<f32>, TM>;               // columns kx = 0, 1, 2 of output channel m0 + i
  let row_end = min((wid.z + 1u) * dp.rows_per_split, dp.batch * dp.out_h);
  for (var row = wid.z * dp.rows_per_split; row < row_end; row++) {
    let n = row / dp.out_h;
    let y = row - n * dp.out_h;
    let iy = i32(STRIDE * y + ky) - 1;
    let inside = u32(iy) < dp.h;               // a row outside the image contributes zeros
    let x_at = (n * dp.channels + c) * x_plane + select(0u, u32(iy), inside) * x_row;
    let dy_at = n * dp.out_channels * dy_plane + y * row_quads;
    for (var qx = 0u; qx < row_quads; qx++) {
      let at = x_at + STRIDE * qx;               // the quad's first x vec4
      let v = select(vec4<f32>(0.0), dw_x4[at], inside);
      var v1 = v;
      if (STRIDE == 2u) { v1 = select(vec4<f32>(0.0), dw_x4[at + 1u], inside); }
      let has_left = inside && qx > 0u;
      let has_right = STRIDE == 1u && inside && qx + 1u < row_quads;
      let l = select(0.0, dw_x[select(4u * at, 4u * at - 1u, has_left)], has_left);
      let r = select(0.0, dw_x[select(4u * at, 4u * at + 4u, has_right)], has_right);
      let win = windows(l, v, v1, r);
      var d: array<vec4<f32>, TM / SG>;
      for (var b = 0u; b < TM / SG; b++) { d[b] = dw_dy4[dy_at + dy_chan[b] + qx]; }
      for (var b = 0u; b < TM / SG; b++) {
        for (var i = 0u; i < SG; i++) {
          let g = subgroupShuffle(d[b], i);
          acc[b * SG + i] += vec3<f32>(dot(g, win[0]), dot(g, win[1]), dot(g, win[2]));
        }
      }
    }
  }

  if (wid.x * WG + lid.x >= pairs) { return; }
  let columns = dp.channels * 9u;
  for (var i = 0u; i < TM; i++) {
    let o = m0 + i;
    if (o >= dp.out_channels) { break; }
    let at = (wid.z * dp.out_channels + o) * columns + pair * 3u;
    dw_partial[at] = acc[i].x;
    dw_partial[at + 1u] = acc[i].y;
    dw_partial[at + 2u] = acc[i].z;
  }
}
