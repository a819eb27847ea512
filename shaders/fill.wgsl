// fill: output[i] = value for every element.
// Bindings: output (read_write f32, any shape, bound to exactly its elements), params.value.
// Used for zero-initialisation and for NaN-poisoning outputs in tests.

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  value: f32,
}

@group(0) @binding(0) var<storage, read_write> output: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = params.value;
  }
}
