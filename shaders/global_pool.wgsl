// Global average pooling: the mean over all spatial positions of each image and channel
// (Keras GlobalAveragePooling2D; graph models' Mean over axes [1, 2]), and its gradient.
//   forward:  output[n, c] = sum over s of input[n, s, c] / spatial
//   backward: input_grad[n, s, c] = output_grad[n, c] / spatial   (broadcast over s)
// Layouts: input, input_grad [N, H, W, C] viewed as [N, spatial = H * W, C]; output, output_grad [N, C].
// Bindings (params in both entries):
//   forward:  input (read), output (read_write)
//   backward: output_grad (read), input_grad (read_write)

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  spatial: u32,
  channels: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<storage, read> output_grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> input_grad: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= arrayLength(&output)) {
    return;
  }
  let n = i / params.channels;
  let c = i % params.channels;
  // consecutive invocations read consecutive channels of the same position
  let first = n * params.spatial * params.channels + c;
  var sum = 0.0;
  for (var s = 0u; s < params.spatial; s++) {
    sum += input[first + s * params.channels];
  }
  output[i] = sum / f32(params.spatial);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= arrayLength(&input_grad)) {
    return;
  }
  let n = i / (params.spatial * params.channels);
  let c = i % params.channels;
  input_grad[i] = output_grad[n * params.channels + c] / f32(params.spatial);
}
