// Weight gradient of conv2d (NCHW): dw[o, c, ky, kx] = sum over (n, oy, ox) of
//   dy[n, o, oy, ox] * x[n, c, oy*stride + ky - pad, ox*stride + kx - pad]
// a GEMM [O] x [C*kh*kw] whose reduction runs over all N*Ho*Wo output pixels: far too few outputs
// for small layers to fill the device and far too long a loop, so it is split (split-K):
//   conv2d_dw_partial: workgroup (x: weight columns, y: output channels, z: split) sums the dy rows
//     (n, oy) of its split into partial[z, o, c*kh*kw + tap];
//   conv2d_dw_reduce (conv2d_portable.wgsl): dw = the sum of the partials over z, in a fixed order.
// A workgroup owns TM output channels (the same for all its invocations) and WG*TN weight columns
// (c, ky, kx) (each invocation TN of them, strided by WG; each gathers its x pixel). As in conv2d.wgsl
// the shared operand, dy, is loaded once per subgroup (lane l: channel m0 + b*SG + l) and handed to
// every lane by subgroupShuffle. Barrier-free, like matmul.wgsl. conv2d_portable.wgsl holds the
// fallback without subgroups. Dispatch: kernels/conv2d.ts.

enable subgroups;

const TM: u32 = 32u;  // output channels per workgroup, a multiple of SG
const TN: u32 = 2u;   // weight columns per invocation
const WG: u32 = 64u;  // invocations per workgroup
const SG: u32 = 8u;   // lanes that share one dy load (the subgroup must have at least SG)
const UNROLL: u32 = 4u; // pixels per loop iteration (1: no unrolling)

struct Params {
  batch: u32, channels: u32, in_h: u32, in_w: u32,  // x [N, C, H, W]
  out_channels: u32, out_h: u32, out_w: u32,        // dy [N, O, Ho, Wo]
  kh: u32, kw: u32,
  stride_h: u32, stride_w: u32,
  pad_h: u32, pad_w: u32,
  rows_per_split: u32,  // (n, oy) rows of dy summed by one split
  splits: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;  // [splits, O, C*kh*kw]

@compute @workgroup_size(WG)
fn conv2d_dw_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_invocation_id) sg_lane: u32) {
  let taps = p.kh * p.kw;
  let columns = p.channels * taps;
  let in_hw = p.in_h * p.in_w;
  let out_hw = p.out_h * p.out_w;

  // This invocation's TN weight columns; x[n, c, iy, ix] = x[n*C*H*W + col_base + iy*W + ix].
  var col_base: array<u32, TN>;
  var ky: array<u32, TN>;
  var kx: array<u32, TN>;
  for (var j = 0u; j < TN; j++) {
    let col = min(wid.x * (WG * TN) + j * WG + lid.x, columns - 1u);
    let c = col / taps;
    let tap = col - c * taps;
    ky[j] = tap / p.kw;
    kx[j] = tap - ky[j] * p.kw;
    col_base[j] = c * in_hw;
  }
  let m0 = wid.y * TM;
  var dy_row: array<u32, TM / SG>;  // lane l loads channel m0 + b*SG + l, shared with all lanes
  for (var b = 0u; b < TM / SG; b++) { dy_row[b] = min(m0 + b * SG + sg_lane, p.out_channels - 1u) * out_hw; }

  var acc: array<array<f32, TN>, TM>;
  let row_end = min((wid.z + 1u) * p.rows_per_split, p.batch * p.out_h);
  for (var row = wid.z * p.rows_per_split; row < row_end; row++) {
    let n = row / p.out_h;
    let oy = row - n * p.out_h;
    let dy_base = n * p.out_channels * out_hw + oy * p.out_w;
    // Each column's x row for this dy row; a row outside the image contributes zeros.
    var x_row: array<u32, TN>;
    var row_inside: array<bool, TN>;
    for (var j = 0u; j < TN; j++) {
      let iy = i32(oy * p.stride_h + ky[j]) - i32(p.pad_h);
      row_inside[j] = u32(iy) < p.in_h;
      x_row[j] = n * p.channels * in_hw + col_base[j] + select(0u, u32(iy) * p.in_w, row_inside[j]);
    }
    // UNROLL pixels per iteration: accumulators are loop-carried once per UNROLL FMAs (see
    // conv2d.wgsl). Pixels past the row end read x = 0.
    for (var ox0 = 0u; ox0 < p.out_w; ox0 += UNROLL) {
      var v: array<array<f32, TN>, UNROLL>;
      var gl: array<array<f32, TM / SG>, UNROLL>;
      for (var u = 0u; u < UNROLL; u++) {
        let ox = min(ox0 + u, p.out_w - 1u);
        for (var j = 0u; j < TN; j++) {
          let ix = i32(ox * p.stride_w + kx[j]) - i32(p.pad_w);
          let inside = row_inside[j] && u32(ix) < p.in_w && ox0 + u < p.out_w;
          v[u][j] = select(0.0, x[x_row[j] + select(0u, u32(ix), inside)], inside);
        }
        for (var b = 0u; b < TM / SG; b++) { gl[u][b] = dy[dy_base + dy_row[b] + ox]; }
      }
      for (var b = 0u; b < TM / SG; b++) {
        for (var i = 0u; i < SG; i++) {
          for (var j = 0u; j < TN; j++) {
            var a = acc[b * SG + i][j];
            for (var u = 0u; u < UNROLL; u++) { a = fma(subgroupShuffle(gl[u][b], i), v[u][j], a); }
            acc[b * SG + i][j] = a;
          }
        }
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let o = m0 + i;
    if (o >= p.out_channels) { break; }
    for (var j = 0u; j < TN; j++) {
      let col = wid.x * (WG * TN) + j * WG + lid.x;
      if (col < columns) { partial[(wid.z * p.out_channels + o) * columns + col] = acc[i][j]; }
    }
  }
}
