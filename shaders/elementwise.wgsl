// Elementwise kernels on flat f32 arrays; the per-channel ones view the input as NHWC (or any rank)
// with the channel as the last, fastest axis, so element i has channel i % channels.
//   add:           output[i] = a[i] + b[i]                          (gradient accumulation)
//   multiply:      output[i] = a[i] * b[i]                          (dy * x before a channel sum)
//   channel_affine output[i] = input[i] * scale[c] + shift[c]       (folded batch norm)
//   channel_scale  output[i] = input[i] * scale[c]                  (its input gradient: dy * scale)
// Bindings: add, multiply     a (read), b (read), output (read_write)
//           channel_affine    input (read), scale (read, [C]), shift (read, [C]), output (read_write), params
//           channel_scale     input (read), scale (read, [C]), output (read_write), params

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  channels: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<storage, read> input: array<f32>;
@group(0) @binding(4) var<storage, read> scale: array<f32>;
@group(0) @binding(5) var<storage, read> shift: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = a[i] + b[i];
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn multiply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = a[i] * b[i];
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn channel_affine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    let c = i % params.channels;
    output[i] = fma(input[i], scale[c], shift[c]);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn channel_scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = input[i] * scale[i % params.channels];
  }
}
