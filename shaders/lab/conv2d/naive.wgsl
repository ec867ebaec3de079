// Lab v1: direct convolution, one invocation per output element, no register tile (the obvious loop).
// conv2d_fwd_naive: y[n,o,oy,ox];  conv2d_dx_naive: dx[n,c,iy,ix] gathers every tap that divides the
// stride;  conv2d_dw_naive: dw[o,c,ky,kx] sums all N*Ho*Wo pixels in one invocation.

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  O: u32, Ho: u32, Wo: u32,
  kh: u32, kw: u32,
  sh: u32, sw: u32, ph: u32, pw: u32,
  _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;  // fwd: x, dx: dy, dw: dy
@group(0) @binding(2) var<storage, read> b: array<f32>;  // fwd: w, dx: w,  dw: x
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn linear(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 64u; }

@compute @workgroup_size(64)
fn conv2d_fwd_naive(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.N * p.O * p.Ho * p.Wo) { return; }
  let ox = i % p.Wo;
  let oy = (i / p.Wo) % p.Ho;
  let o = (i / (p.Wo * p.Ho)) % p.O;
  let n = i / (p.Wo * p.Ho * p.O);
  var s = 0.0;
  for (var c = 0u; c < p.C; c++) {
    for (var ky = 0u; ky < p.kh; ky++) {
      let iy = i32(oy * p.sh + ky) - i32(p.ph);
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      for (var kx = 0u; kx < p.kw; kx++) {
        let ix = i32(ox * p.sw + kx) - i32(p.pw);
        if (ix < 0 || ix >= i32(p.W)) { continue; }
        s += a[((n * p.C + c) * p.H + u32(iy)) * p.W + u32(ix)] * b[((o * p.C + c) * p.kh + ky) * p.kw + kx];
      }
    }
  }
  out[i] = s;
}

@compute @workgroup_size(64)
fn conv2d_dx_naive(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.N * p.C * p.H * p.W) { return; }
  let ix = i % p.W;
  let iy = (i / p.W) % p.H;
  let c = (i / (p.W * p.H)) % p.C;
  let n = i / (p.W * p.H * p.C);
  var s = 0.0;
  for (var o = 0u; o < p.O; o++) {
    for (var ky = 0u; ky < p.kh; ky++) {
      let ty = i32(iy + p.ph) - i32(ky);   // = oy * sh
      if (ty < 0 || ty % i32(p.sh) != 0 || ty / i32(p.sh) >= i32(p.Ho)) { continue; }
      for (var kx = 0u; kx < p.kw; kx++) {
        let tx = i32(ix + p.pw) - i32(kx);
        if (tx < 0 || tx % i32(p.sw) != 0 || tx / i32(p.sw) >= i32(p.Wo)) { continue; }
        s += a[((n * p.O + o) * p.Ho + u32(ty) / p.sh) * p.Wo + u32(tx) / p.sw] * b[((o * p.C + c) * p.kh + ky) * p.kw + kx];
      }
    }
  }
  out[i] = s;
}

@compute @workgroup_size(64)
fn conv2d_dw_naive(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.O * p.C * p.kh * p.kw) { return; }
  let kx = i % p.kw;
  let ky = (i / p.kw) % p.kh;
  let c = (i / (p.kw * p.kh)) % p.C;
  let o = i / (p.kw * p.kh * p.C);
  var s = 0.0;
  for (var n = 0u; n < p.N; n++) {
    for (var oy = 0u; oy < p.Ho; oy++) {
      let iy = i32(oy * p.sh + ky) - i32(p.ph);
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      for (var ox = 0u; ox < p.Wo; ox++) {
        let ix = i32(ox * p.sw + kx) - i32(p.pw);
        if (ix < 0 || ix >= i32(p.W)) { continue; }
        s += a[((n * p.O + o) * p.Ho + oy) * p.Wo + ox] * b[((n * p.C + c) * p.H + u32(iy)) * p.W + u32(ix)];
      }
    }
  }
  out[i] = s;
}
