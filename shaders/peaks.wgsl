// Device roofline probes: an FMA-throughput kernel and a copy-bandwidth kernel.

const WG = 256u;

struct Params {
  n: u32,          // vec4 elements (copy) or invocations (fma)
  iterations: u32,
  a: f32,
  b: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

// ---- FMA throughput: 8 independent vec4 chains per invocation hide the FMA latency -----------------
// (measured here: 8 vec4 chains beat 8 scalar chains by 1.5x on lavapipe)
@group(0) @binding(1) var<storage, read_write> fma_out: array<f32>;

@compute @workgroup_size(WG)
fn fma_peak(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let seed = f32(i) * 1e-7;
  var a0 = vec4<f32>(seed); var a1 = a0 + 1.0; var a2 = a0 + 2.0; var a3 = a0 + 3.0;
  var a4 = a0 + 4.0; var a5 = a0 + 5.0; var a6 = a0 + 6.0; var a7 = a0 + 7.0;
  let m = vec4<f32>(p.a);
  let c = vec4<f32>(p.b);
  for (var k = 0u; k < p.iterations; k++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
  }
  let s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  // Written only when impossible in practice, so the compiler cannot drop the chains.
  if (i < p.n && s.x == 1.2345e-30) { fma_out[i % arrayLength(&fma_out)] = s.y + s.z + s.w; }
}

// ---- copy bandwidth: read + write one vec4 per invocation -----------------------------------------
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn copy_peak(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { dst[i] = src[i]; }
}
