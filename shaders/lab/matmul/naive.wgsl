// Kernel lab (kernels/lab/matmul/), variant "naive": one output per invocation, A and B read straight from
// storage. The baseline every other variant is measured against.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
const WG_X: u32 = 8u;
const WG_Y: u32 = 8u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  a_batch_stride: u32,
  b_batch_stride: u32,
  _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y;
  let col = gid.x;
  let batch = gid.z;
  if (row >= p.M || col >= p.N) { return; }
  let a_base = batch * p.a_batch_stride;
  let b_base = batch * p.b_batch_stride;
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) {
    let av = select(a[a_base + row * p.K + k], a[a_base + k * p.M + row], TRANS_A);
    let bv = select(b[b_base + k * p.N + col], b[b_base + col * p.K + k], TRANS_B);
    s += av * bv;
  }
  c[batch * p.M * p.N + row * p.N + col] = s;
}
