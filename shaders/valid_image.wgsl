// Maps unconstrained values onto valid images, optionally mixing channels first: lucid's
// `to_valid_rgb` (Olah et al. 2017, "Feature Visualization", Distill: the image is optimized in
// a decorrelated colour space and squashed by a sigmoid), with the sigmoid stretched onto the
// model's input range [low, high]:
//   forward:   u[p, c] = sum_d mixing[c, d] t[p, d],   image[p, c] = low + (high - low) sigmoid(u[p, c])
//   backward:  dt[p, d] = sum_c mixing[c, d] (high - low) s (1 - s) dimage[p, c],  s = sigmoid(u[p, c])
// p runs over the N * H * W pixels of NHWC tensors [N, H, W, C]; mixing is [C, C] row-major (the
// colour-decorrelation matrix, or the identity). The backward recomputes u from t (the forward's
// input) instead of inverting the output, so s (1 - s) keeps full precision where the sigmoid
// saturates. The sigmoid is smooth: no non-differentiable points.
// One invocation per element (C is 1 or 3 for images, so the O(C^2) work per element is small).
// Bindings: forward   values (read), mixing (read), image (read_write), params
//           backward  values (read), mixing (read), image_gradient (read), values_gradient (read_write), params

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  channels: u32,
  low: f32,
  high: f32,
}

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read> mixing: array<f32>;
@group(0) @binding(2) var<storage, read_write> image: array<f32>;
@group(0) @binding(3) var<storage, read> image_gradient: array<f32>;
@group(0) @binding(4) var<storage, read_write> values_gradient: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

/** u[p, c] for the pixel whose first element is `base`. */
fn mixed(base: u32, c: u32) -> f32 {
  var total = 0.0;
  for (var d = 0u; d < params.channels; d++) {
    total += mixing[c * params.channels + d] * values[base + d];
  }
  return total;
}

fn sigmoid(u: f32) -> f32 {
  return 1.0 / (1.0 + exp(-u));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&image)) {
    return;
  }
  let c = i % params.channels;
  image[i] = params.low + (params.high - params.low) * sigmoid(mixed(i - c, c));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&values_gradient)) {
    return;
  }
  let d = i % params.channels;
  let base = i - d;
  var total = 0.0;
  for (var c = 0u; c < params.channels; c++) {
    let s = sigmoid(mixed(base, c));
    total += mixing[c * params.channels + d] * s * (1.0 - s) * image_gradient[base + c];
  }
  values_gradient[i] = (params.high - params.low) * total;
}
