// Lab variant (kernels/lab/elementwise): contiguous operands of a size divisible by 4, read and written
// as vec4s in the production kernels' grid-stride loop (a few looping workgroups). On lavapipe every
// storage load is a loop over the SIMD lanes; a vec4 load shares that work across 4 floats.

const WG = 256u;

struct Params {
  n4: u32,   // elements / 4
}

@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> ux: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> uy: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn relu_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  for (var i = (wid.x + wid.y * nwg.x) * WG + lid; i < p.n4; i += nwg.x * nwg.y * WG) {
    uy[i] = max(ux[i], vec4<f32>(0.0));
  }
}

@group(0) @binding(1) var<storage, read> ba: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bb: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> bc: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn add_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  for (var i = (wid.x + wid.y * nwg.x) * WG + lid; i < p.n4; i += nwg.x * nwg.y * WG) {
    bc[i] = ba[i] + bb[i];
  }
}
