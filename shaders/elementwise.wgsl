// Elementwise kernels: unary (optionally reading a strided/broadcast view), binary with NumPy
// broadcasting, and fill. The op is an override constant, so each op compiles to its own pipeline
// with the switch folded away. Grid-stride loops (one element per step, 4 on the vec4 path); shapes
// arrive in the uniform.
//
// Dimensions are coalesced on the host (src: kernels/elementwise.ts), so RANK is usually 1-3.

override OP: u32 = 0u;
// How an element id i becomes an operand's index (the host picks the cheapest that fits every operand):
//   0 contiguous: the operands are shaped like the output, index = i (the fast path)
//   1 repeat: index = (i / inner) % period per operand (*_repeat), one division and one modulo by
//     uniforms: a scalar (period 1), a per-channel bias over NCHW (inner H*W, period C), a row or a
//     column of a matrix, and contiguous operands beside them (inner 1, period n)
//   2 strided: the walk over the coalesced shape with per-dimension strides (permutes, the rest)
override INDEXING: u32 = 0u;

const WG = 256u;

struct Params {
  n: u32,
  rank: u32,
  s0: f32,          // scalar operands: pow's exponent, clamp's bounds, affine's scale/shift
  s1: f32,
  a_repeat: vec2<u32>,             // INDEXING 1: (inner, period) of operand a (unary: x)
  b_repeat: vec2<u32>,
  shape: array<vec4<u32>, 2>,      // output shape, up to rank 8
  a_strides: array<vec4<u32>, 2>,  // element strides of operand a read as the output shape (0 = broadcast)
  b_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;

fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

// Grid-stride loops: the host launches a bounded number of workgroups and each invocation walks the
// elements first, first + stride, ... On lavapipe one workgroup per 256 elements measured several
// times slower than a few dozen workgroups that loop (per-workgroup launch cost on the CPU).
fn first_element(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

fn grid_stride(nwg: vec3<u32>) -> u32 {
  return nwg.x * nwg.y * WG;
}

fn repeat_index(i: u32, r: vec2<u32>) -> u32 {
  if (r.x == 1u && r.y == p.n) { return i; }   // a contiguous operand: no division (a uniform branch)
  return (i / r.x) % r.y;
}

fn nan() -> f32 {
  var bits = 0x7fc00000u;   // a var: a const bitcast to NaN is a shader-creation error
  return bitcast<f32>(bits);
}

// ---- unary ---------------------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> ux: array<f32>;
@group(0) @binding(2) var<storage, read_write> uy: array<f32>;

fn pow_scalar(x: f32, e: f32) -> f32 {
  if (e == 0.0) { return 1.0; }              // torch: x**0 == 1, even for 0 and NaN
  let m = pow(abs(x), e);
  if (x >= 0.0) { return m; }
  if (fract(e) != 0.0) { return nan(); }     // negative base, fractional exponent
  return select(m, -m, fract(e * 0.5) != 0.0);  // odd integer exponent keeps the sign
}

fn unary_op(x: f32) -> f32 {
  switch OP {
    case 0u: { return -x; }                             // neg
    case 1u: { return exp(x); }                         // exp
    case 2u: { return log(x); }                         // log
    case 3u: { return sqrt(x); }                        // sqrt
    case 4u: { return max(x, 0.0); }                    // relu
    case 5u: { return pow_scalar(x, p.s0); }            // pow by a scalar
    case 6u: { return min(max(x, p.s0), p.s1); }        // clamp
    case 7u: { return p.s0 * x + p.s1; }                // affine (scale, shift)
    case 8u: { return abs(x); }                         // abs
    case 9u: { return tanh(x); }                        // tanh
    case 10u: { return 1.0 / (1.0 + exp(-x)); }         // sigmoid
    case 11u: { return x; }                             // copy (with INDEXING 1 or 2: expand / permute)
    case 12u: { return sign(x); }                       // sign
    default: { return nan(); }
  }
}

@compute @workgroup_size(WG)
fn unary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  for (var i = first_element(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) {
    var src = i;
    if (INDEXING == 1u) { src = repeat_index(i, p.a_repeat); }
    if (INDEXING == 2u) {
      var rem = i;
      src = 0u;
      for (var d = i32(p.rank) - 1; d >= 0; d--) {
        let size = dim(p.shape, u32(d));
        src += (rem % size) * dim(p.a_strides, u32(d));
        rem /= size;
      }
    }
    uy[i] = unary_op(ux[src]);
  }
}

// ---- binary --------------------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> ba: array<f32>;
@group(0) @binding(2) var<storage, read> bb: array<f32>;
@group(0) @binding(3) var<storage, read_write> bc: array<f32>;

fn binary_op(a: f32, b: f32) -> f32 {
  switch OP {
    case 0u: { return a + b; }                                        // add
    case 1u: { return a - b; }                                        // sub
    case 2u: { return a * b; }                                        // mul
    case 3u: { return a / b; }                                        // div
    case 4u: { return max(a, b); }                                    // maximum
    case 5u: { return min(a, b); }                                    // minimum
    case 6u: { return select(0.0, 1.0, a == b); }                     // eq
    case 7u: { return select(0.0, 1.0, a > b); }                      // gt
    case 8u: { return select(0.0, a, b > 0.0); }                      // relu_grad(g, x)
    case 9u: { return select(0.0, a, b >= p.s0 && b <= p.s1); }       // clamp_grad(g, x)
    case 10u: { return atan2(a, b); }                                 // atan2(y, x)
    default: { return nan(); }
  }
}

@compute @workgroup_size(WG)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  for (var i = first_element(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) {
    var ia = i;
    var ib = i;
    if (INDEXING == 1u) {
      ia = repeat_index(i, p.a_repeat);
      ib = repeat_index(i, p.b_repeat);
    }
    if (INDEXING == 2u) {
      var rem = i;
      ia = 0u;
      ib = 0u;
      for (var d = i32(p.rank) - 1; d >= 0; d--) {
        let size = dim(p.shape, u32(d));
        let c = rem % size;
        rem /= size;
        ia += c * dim(p.a_strides, u32(d));
        ib += c * dim(p.b_strides, u32(d));
      }
    }
    bc[i] = binary_op(ba[ia], bb[ib]);
  }
}

// ---- contiguous by vec4 (INDEXING 0, n % 4 == 0): one load per 4 elements, a loop over the SIMD
// lanes on lavapipe either way, so a quarter of the loads (kernels/lab/elementwise: 1.4-1.5x). p.n
// still counts floats. The bindings are those above, typed vec4 (each entry point uses its own).
@group(0) @binding(1) var<storage, read> ux4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> uy4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn unary_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  for (var i = first_element(wid, nwg, lid); i < p.n / 4u; i += grid_stride(nwg)) {
    let x = ux4[i];
    uy4[i] = vec4<f32>(unary_op(x.x), unary_op(x.y), unary_op(x.z), unary_op(x.w));
  }
}

@group(0) @binding(1) var<storage, read> ba4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bb4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> bc4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn binary_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  for (var i = first_element(wid, nwg, lid); i < p.n / 4u; i += grid_stride(nwg)) {
    let a = ba4[i];
    let b = bb4[i];
    bc4[i] = vec4<f32>(binary_op(a.x, b.x), binary_op(a.y, b.y), binary_op(a.z, b.z), binary_op(a.w, b.w));
  }
}

// ---- fill ----------------------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read_write> fy: array<f32>;

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  for (var i = first_element(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { fy[i] = p.s0; }
}
