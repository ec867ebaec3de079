// Lab: the transposed arrangement: invocations (SIMD lanes) run over output channels o, and a
// workgroup's TM pixels (forward) or TM weight columns (dw) are uniform, so the x loads and their
// padding checks are scalar while the per-lane operand is the weight (forward) or dy (dw).
// conv2d_fwd_lanes_o: y = conv(x, wT), wT = w permuted to [C, kh, kw, O] (lanes read neighbours).
// conv2d_dw_lanes_o: partial[z, o, c*kh*kw + tap] over the (n, oy) rows of split z (split-K).

const TM: u32 = 16u;  // pixels (forward) or weight columns (dw) per workgroup, uniform
const TN: u32 = 4u;   // output channels per invocation, strided by WG
const WG: u32 = 16u;

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  O: u32, Ho: u32, Wo: u32,
  kh: u32, kw: u32,
  sh: u32, sw: u32, ph: u32, pw: u32,
  rows_per_split: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;   // fwd: wT [C*kh*kw, O];  dw: dy [N, O, Ho, Wo]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn conv2d_fwd_lanes_o(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let hw = p.H * p.W;
  let out_hw = p.Ho * p.Wo;
  let pixels = p.N * out_hw;
  let taps = p.kh * p.kw;
  var n: array<u32, TM>;
  var oy: array<u32, TM>;
  var ox: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let pix = min(wid.x * TM + i, pixels - 1u);
    n[i] = pix / out_hw;
    oy[i] = (pix - n[i] * out_hw) / p.Wo;
    ox[i] = pix - n[i] * out_hw - oy[i] * p.Wo;
  }
  var o: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { o[j] = min(wid.y * (WG * TN) + j * WG + lid.x, p.O - 1u); }

  var acc: array<array<f32, TN>, TM>;
  for (var ky = 0u; ky < p.kh; ky++) {
    for (var kx = 0u; kx < p.kw; kx++) {
      var off: array<u32, TM>;
      var inside: array<bool, TM>;
      for (var i = 0u; i < TM; i++) {
        let iy = i32(oy[i] * p.sh + ky) - i32(p.ph);
        let ix = i32(ox[i] * p.sw + kx) - i32(p.pw);
        inside[i] = u32(iy) < p.H && u32(ix) < p.W;
        off[i] = n[i] * p.C * hw + select(0u, u32(iy) * p.W + u32(ix), inside[i]);
      }
      var w_row = (ky * p.kw + kx) * p.O;
      for (var c = 0u; c < p.C; c++) {
        var wv: array<f32, TN>;
        for (var j = 0u; j < TN; j++) { wv[j] = b[w_row + o[j]]; }
        for (var i = 0u; i < TM; i++) {
          let xv = select(0.0, x[off[i]], inside[i]);
          off[i] += hw;
          for (var j = 0u; j < TN; j++) { acc[i][j] = fma(xv, wv[j], acc[i][j]); }
        }
        w_row += taps * p.O;
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    if (wid.x * TM + i >= pixels) { break; }
    for (var j = 0u; j < TN; j++) {
      let oc = wid.y * (WG * TN) + j * WG + lid.x;
      if (oc < p.O) { out[(n[i] * p.O + oc) * out_hw + oy[i] * p.Wo + ox[i]] = acc[i][j]; }
    }
  }
}

@compute @workgroup_size(WG)
fn conv2d_dw_lanes_o(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let hw = p.H * p.W;
  let out_hw = p.Ho * p.Wo;
  let taps = p.kh * p.kw;
  let columns = p.C * taps;
  var c_base: array<u32, TM>;
  var ky: array<u32, TM>;
  var kx: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let col = min(wid.x * TM + i, columns - 1u);
    let c = col / taps;
    ky[i] = (col - c * taps) / p.kw;
    kx[i] = col - c * taps - ky[i] * p.kw;
    c_base[i] = c * hw;
  }
  var dy_o: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { dy_o[j] = min(wid.y * (WG * TN) + j * WG + lid.x, p.O - 1u) * out_hw; }

  var acc: array<array<f32, TM>, TN>;
  let row_end = min((wid.z + 1u) * p.rows_per_split, p.N * p.Ho);
  for (var row = wid.z * p.rows_per_split; row < row_end; row++) {
    let n = row / p.Ho;
    let oy = row - n * p.Ho;
    let dy_base = n * p.O * out_hw + oy * p.Wo;
    var x_row: array<u32, TM>;
    var row_inside: array<bool, TM>;
    for (var i = 0u; i < TM; i++) {
      let iy = i32(oy * p.sh + ky[i]) - i32(p.ph);
      row_inside[i] = u32(iy) < p.H;
      x_row[i] = n * p.C * hw + c_base[i] + select(0u, u32(iy) * p.W, row_inside[i]);
    }
    for (var ox = 0u; ox < p.Wo; ox++) {
      var g: array<f32, TN>;
      for (var j = 0u; j < TN; j++) { g[j] = b[dy_base + dy_o[j] + ox]; }
      for (var i = 0u; i < TM; i++) {
        let ix = i32(ox * p.sw + kx[i]) - i32(p.pw);
        let inside = row_inside[i] && u32(ix) < p.W;
        let xv = select(0.0, x[x_row[i] + select(0u, u32(ix), inside)], inside);
        for (var j = 0u; j < TN; j++) { acc[j][i] = fma(xv, g[j], acc[j][i]); }
      }
    }
  }
  for (var j = 0u; j < TN; j++) {
    let o = wid.y * (WG * TN) + j * WG + lid.x;
    if (o >= p.O) { break; }
    for (var i = 0u; i < TM; i++) {
      let col = wid.x * TM + i;
      if (col < columns) { out[(wid.z * p.O + o) * columns + col] = acc[j][i]; }
    }
  }
}
