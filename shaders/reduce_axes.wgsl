// Sum, mean or max over a run of adjacent axes (TF Sum / Mean / Max, Keras GlobalMaxPooling2D),
// and the gradients. The input is viewed as [outer, extent, inner] row-major, the reduced axes
// being the middle one (NHWC over [1, 2]: outer = N, extent = H * W, inner = C); the output is
// [outer, inner]. One invocation per output element; consecutive invocations take consecutive
// inner indices, i.e. neighbouring addresses.
//   forward:            output[o, j] = sum / mean / max over r of input[o, r, j]    (REDUCTION 0 / 1 / 2)
//   backward_broadcast: input_grad[o, r, j] = output_grad[o, j]           (sum)
//                                           = output_grad[o, j] / extent  (mean)
//   backward_max:       input_grad[o, r, j] = output_grad[o, j] / ties if input[o, r, j] == output[o, j], else 0,
//                       ties = how many r hold the maximum: TensorFlow's reduce_max gradient
//                       (math_grad.py _MinOrMaxGrad: indicators / num_selected) splits dy equally
//                       among tied maxima. (TF.js's tf.max gradient gives each tie the whole dy; max
//                       pooling sends it to one argmax: pool.wgsl. Neither rule applies here.)
// Bindings (params in every entry):
//   forward:            input (read), output (read_write)
//   backward_broadcast: output_grad (read), input_grad (read_write)
//   backward_max:       input (read), output (read_write, only read), output_grad (read), input_grad (read_write)

override WORKGROUP_SIZE: u32 = 64;
// 0: sum, 1: mean, 2: max (forward); 0 or 1 (backward_broadcast)
override REDUCTION: u32 = 0;

struct Params {
  outer: u32,
  extent: u32,
  inner: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<storage, read> output_grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> input_grad: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn invocation(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

// index of input[o, 0, j] for output element i = o * inner + j
fn first_input(i: u32) -> u32 {
  let o = i / params.inner;
  let j = i % params.inner;
  return o * params.extent * params.inner + j;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = invocation(gid, groups);
  if (i >= params.outer * params.inner) {
    return;
  }
  let first = first_input(i);
  var result = input[first];
  for (var r = 1u; r < params.extent; r++) {
    let value = input[first + r * params.inner];
    if (REDUCTION == 2u) {
      result = max(result, value);
    } else {
      result += value;
    }
  }
  if (REDUCTION == 1u) {
    result /= f32(params.extent);
  }
  output[i] = result;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_broadcast(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = invocation(gid, groups);
  if (index >= arrayLength(&input_grad)) {
    return;
  }
  // input element [o, r, j] reads output element [o, j]
  let j = index % params.inner;
  let o = index / (params.extent * params.inner);
  var g = output_grad[o * params.inner + j];
  if (REDUCTION == 1u) {
    g /= f32(params.extent);
  }
  input_grad[index] = g;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_max(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = invocation(gid, groups);
  if (i >= params.outer * params.inner) {
    return;
  }
  let first = first_input(i);
  let best = output[i];
  var ties = 0u;
  for (var r = 0u; r < params.extent; r++) {
    ties += select(0u, 1u, input[first + r * params.inner] == best);
  }
  let share = output_grad[i] / f32(max(ties, 1u));
  for (var r = 0u; r < params.extent; r++) {
    let at = first + r * params.inner;
    input_grad[at] = select(0.0, share, input[at] == best);
  }
}
