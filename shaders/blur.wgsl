// Separable Gaussian blur of NHWC images along one axis (run twice: rows, then columns).
//   output[n, y, x, c] = sum_t w(t) input[n, y + t, x, c] / sum_t w(t)  (axis 0, likewise axis 1)
// with w(t) = exp(-t^2 / (2 sigma^2)) for |t| <= radius, summed over in-bounds taps only so that
// borders keep their brightness. Used for IG's blurred baseline and for the periodic blur that
// regularises feature visualization.
// Bindings: input (read), output (read_write), params (shape as [N, H, W, C], axis, sigma, radius).

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  shape: vec4u,
  axis: u32,
  radius: u32,
  sigma: f32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn blur_axis(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= arrayLength(&output)) {
    return;
  }
  let channels = params.shape.w;
  let width = params.shape.z;
  let height = params.shape.y;
  let x = (i / channels) % width;
  let y = (i / (channels * width)) % height;
  // moving one step along the axis moves this many elements
  let step = select(channels, channels * width, params.axis == 0u);
  let position = i32(select(x, y, params.axis == 0u));
  let extent = i32(select(width, height, params.axis == 0u));
  let radius = i32(params.radius);
  var total = 0.0;
  var norm = 0.0;
  for (var t = -radius; t <= radius; t++) {
    let p = position + t;
    if (p >= 0 && p < extent) {
      let w = exp(-f32(t * t) / (2.0 * params.sigma * params.sigma));
      total += w * input[u32(i32(i) + t * i32(step))];
      norm += w;
    }
  }
  output[i] = total / norm;
}
