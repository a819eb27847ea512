// Gradient ascent on a batch of images for feature visualization (Erhan et al. 2009, "Visualizing
// higher-layer features of a deep network"), with the regularizers of Yosinski et al. 2015
// ("Understanding neural networks through deep visualization": L2 decay, periodic blur, jitter)
// and Mahendran & Vedaldi 2015 / Olah et al. 2017 (total variation). Images are NHWC
// [N, H, W, C], one image per optimized unit; E = H * W * C elements per image.
//   roll:         output[n, y, x, c] = input[n, (y - shift_y) mod H, (x - shift_x) mod W, c]
//                 The jitter. Rolling is a permutation, so its adjoint (applied to the gradient)
//                 is the roll by minus the shift; `update` reads the gradient through it.
//   norm_partial: partial[n, b] = sum_{e in block b} gradient[n, e]^2, blocks of `block` elements
//   norm_finish:  inv_norm[n] = 1 / max(sqrt(sum_b partial[n, b] / E), 1e-20)   (1 / RMS per image)
//   update:       with g = roll(gradient, gradient_shift) * inv_norm[n] and d = x - center,
//                 x' = clamp(x + lr * (g - l2 * d - l1 * sign(d) - tv * dTV/dx), low, high)
//                 TV(x) = sum_{n,y,x,c} (x[y+1,x] - x[y,x])^2 + (x[y,x+1] - x[y,x])^2 over in-image
//                 pairs (the V^beta regularizer of Mahendran & Vedaldi 2015 with beta = 2), so
//                 dTV/dx[y,x] = 2 * sum over the (up to 4) neighbours q of (x[y,x] - x[q]).
//   clip:         image_next = clamp(image, low, high)   (the start images; update_params)
//   channel_mean: means[offset + n] = scale * sum_s activation[n, s, targets[n]], the activation
//                 viewed as [N, S, C] (S = positions; 1 for logits): a unit's mean activation
//                 (scale 1 / S) or a class logit (scale 1). One invocation per image.
// Targets are f32 (exact below 2^24), as in shaders/attribution.wgsl.
// Bindings: roll          input (read), output (read_write), roll_params
//           norm_partial  gradient (read), partial (read_write), norm_params
//           norm_finish   partial, inv_norm (read_write), norm_params
//           update        image (read), gradient (read), inv_norm, image_next (read_write), update_params
//           clip          image (read), image_next (read_write), update_params
//           channel_mean  activation (read), targets (read), means (read_write), mean_params

override WORKGROUP_SIZE: u32 = 64;

struct RollParams {
  /** [N, H, W, C] */
  shape: vec4u,
  /** output[y, x] = input[y - shift_y, x - shift_x], wrapping around. */
  shift_y: i32,
  shift_x: i32,
}

struct NormParams {
  /** E, elements per image. */
  elements: u32,
  /** Elements summed by one invocation of norm_partial. */
  block: u32,
  /** ceil(E / block): partial sums per image. */
  blocks: u32,
}

struct UpdateParams {
  shape: vec4u,
  /** The roll that maps the gradient of the jittered image back onto the image: minus the jitter. */
  gradient_shift_y: i32,
  gradient_shift_x: i32,
  learning_rate: f32,
  l2: f32,
  l1: f32,
  total_variation: f32,
  /** The point decay pulls towards: the middle of the input range. */
  center: f32,
  low: f32,
  high: f32,
}

struct MeanParams {
  spatial: u32,
  channels: u32,
  count: u32,
  /** Index of means[] where image 0 of this batch goes. */
  offset: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<storage, read> gradient: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
@group(0) @binding(4) var<storage, read_write> inv_norm: array<f32>;
@group(0) @binding(5) var<storage, read> image: array<f32>;
@group(0) @binding(6) var<storage, read_write> image_next: array<f32>;
@group(0) @binding(7) var<storage, read> activation: array<f32>;
@group(0) @binding(8) var<storage, read> targets: array<f32>;
@group(0) @binding(9) var<storage, read_write> means: array<f32>;
@group(0) @binding(10) var<uniform> roll_params: RollParams;
@group(0) @binding(11) var<uniform> norm_params: NormParams;
@group(0) @binding(12) var<uniform> update_params: UpdateParams;
@group(0) @binding(13) var<uniform> mean_params: MeanParams;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

/** a mod m in 0..m-1 for negative a too (WGSL's % keeps the dividend's sign). */
fn wrap(a: i32, m: u32) -> u32 {
  let mi = i32(m);
  return u32(((a % mi) + mi) % mi);
}

/** Index of the element that lands on element i of [N, H, W, C] when rolling by (shift_y, shift_x). */
fn roll_source(i: u32, shape: vec4u, shift_y: i32, shift_x: i32) -> u32 {
  let c = i % shape.w;
  let x = (i / shape.w) % shape.z;
  let y = (i / (shape.w * shape.z)) % shape.y;
  let n = i / (shape.w * shape.z * shape.y);
  let sy = wrap(i32(y) - shift_y, shape.y);
  let sx = wrap(i32(x) - shift_x, shape.z);
  return ((n * shape.y + sy) * shape.z + sx) * shape.w + c;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn roll(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&output)) {
    return;
  }
  output[i] = input[roll_source(i, roll_params.shape, roll_params.shift_y, roll_params.shift_x)];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn norm_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&partial)) {
    return;
  }
  let n = i / norm_params.blocks;
  let b = i % norm_params.blocks;
  let first = b * norm_params.block;
  let last = min(first + norm_params.block, norm_params.elements);
  let base = n * norm_params.elements;
  var total = 0.0;
  for (var e = first; e < last; e++) {
    let g = gradient[base + e];
    total += g * g;
  }
  partial[i] = total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn norm_finish(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = linear_index(gid, groups);
  if (n >= arrayLength(&inv_norm)) {
    return;
  }
  var total = 0.0;
  for (var b = 0u; b < norm_params.blocks; b++) {
    total += partial[n * norm_params.blocks + b];
  }
  // an all-zero gradient (a unit that no pixel reaches) stays zero: 0 * 1e20 = 0
  inv_norm[n] = 1.0 / max(sqrt(total / f32(norm_params.elements)), 1e-20);
}

/** 2 * sum over the in-image 4-neighbours q of (x[i] - x[q]): d/dx[i] of the beta = 2 total variation. */
fn total_variation_gradient(i: u32, shape: vec4u) -> f32 {
  let channels = shape.w;
  let row = channels * shape.z;
  let x = (i / channels) % shape.z;
  let y = (i / row) % shape.y;
  let v = image[i];
  var total = 0.0;
  if (y > 0u) {
    total += v - image[i - row];
  }
  if (y + 1u < shape.y) {
    total += v - image[i + row];
  }
  if (x > 0u) {
    total += v - image[i - channels];
  }
  if (x + 1u < shape.z) {
    total += v - image[i + channels];
  }
  return 2.0 * total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&image_next)) {
    return;
  }
  let p = update_params;
  let n = i / (p.shape.y * p.shape.z * p.shape.w);
  let g = gradient[roll_source(i, p.shape, p.gradient_shift_y, p.gradient_shift_x)] * inv_norm[n];
  let x = image[i];
  let d = x - p.center;
  let ascent = g - p.l2 * d - p.l1 * sign(d) - p.total_variation * total_variation_gradient(i, p.shape);
  image_next[i] = clamp(x + p.learning_rate * ascent, p.low, p.high);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn clip(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&image_next)) {
    return;
  }
  image_next[i] = clamp(image[i], update_params.low, update_params.high);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn channel_mean(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = linear_index(gid, groups);
  if (n >= mean_params.count) {
    return;
  }
  let channel = u32(targets[n]);
  var total = 0.0;
  for (var s = 0u; s < mean_params.spatial; s++) {
    total += activation[(n * mean_params.spatial + s) * mean_params.channels + channel];
  }
  means[mean_params.offset + n] = mean_params.scale * total;
}
