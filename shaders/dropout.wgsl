// Inverted dropout with a counter-based RNG: element i is kept iff hash(seed, i) >= threshold, where
// threshold = p * 2^32, and a kept element is scaled by 1 / (1 - p). The mask is a pure function of
// (seed, i): the backward regenerates it rather than storing it, so dx = dropout(g) with the same seed.
//
// A few workgroups stride over the tensor: on lavapipe one invocation per element costs several times
// more than a loop in each invocation (the per-invocation overhead dominates so light a body).

const WG = 64u;

struct Params {
  n: u32,
  seed: u32,
  threshold: u32,
  scale: f32,     // 1 / (1 - p)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// PCG-RXS-M-XS hash (Jarzynski & Olano, "Hash Functions for GPU Rendering", JCGT 2020).
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Hashing the index before mixing in the seed's key makes two seeds' masks unrelated (a key added to or
// xor-ed into the raw index would only shift or swap positions of the same mask).
fn random_bits(i: u32, key: u32) -> u32 {
  return pcg(pcg(i) ^ key);
}

@compute @workgroup_size(WG)
fn dropout(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let key = pcg(p.seed);
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    y[i] = select(0.0, x[i] * p.scale, random_bits(i, key) >= p.threshold);
  }
}
