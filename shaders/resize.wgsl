// Image resizing as TensorFlow computes it (ResizeBilinear, ResizeNearestNeighbor) and the two
// gradients (ResizeBilinearGrad, ResizeNearestNeighborGrad), for every align_corners /
// half_pixel_centers combination. Source coordinates follow tensorflow/core/kernels/image/
// resize_bilinear_op.cc and resize_nearest_neighbor_op.cc in float32, as TF does:
//   scale (host, rounded to f32)  = (in - 1) / (out - 1) if ALIGN_CORNERS and out > 1, else in / out
//   bilinear:  src(o) = (o + 0.5) * scale - 0.5 with HALF_PIXEL_CENTERS (HalfPixelScaler), else o * scale;
//              top = max(floor(src), 0), bottom = min(ceil(src), in - 1), lerp = src - floor(src);
//              value = top_row + (bottom_row - top_row) * y_lerp, each row top_left + (top_right - top_left) * x_lerp
//   nearest:   f(o) = (o + 0.5) * scale with HALF_PIXEL_CENTERS (HalfPixelScalerForNN: no -0.5), else o * scale;
//              src(o) = min(ALIGN_CORNERS ? roundf(f) : floor(f), in - 1)  (roundf: halves away from zero)
// Backward is a scatter in TF (each output pixel adds its weighted gradient to the 1 or 4 input
// pixels it read). Here it is the same sum as a gather, without atomics: one invocation per input
// element visits the output rows and columns whose sources can reach it and adds
// output_grad * weight with the forward's exact weights. The source coordinate is monotone in the
// output index, so those rows form one contiguous range, found by inverting it with a one-pixel
// margin (source_range); the weights, recomputed per row, decide exactly.
// Both ops are linear in the input, so there is no non-differentiable point: the bilinear weights
// depend only on the shapes, and nearest sends each output's gradient to the one pixel it copied
// (TF's rule; where two sources tie, the forward's rounding picks one and so does the gradient).
// Layouts NHWC: input [N, H, W, C], output [N, OH, OW, C]; one invocation per element of the
// result, 1-D grid folded into x and y.
// Bindings: bilinear, nearest                    input (read), output (read_write), params
//           bilinear_backward, nearest_backward  output_grad (read), input_grad (read_write), params

override WORKGROUP_SIZE: u32 = 64;
override ALIGN_CORNERS: bool = false;
override HALF_PIXEL_CENTERS: bool = false;

struct Params {
  channels: u32,
  /** (width, height) of the image before resizing. */
  in_size: vec2u,
  /** (width, height) after resizing. */
  out_size: vec2u,
  /** (x, y) source pixels per output pixel, as above. */
  scale: vec2f,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<storage, read> output_grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> input_grad: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

/** NHWC element i of an image of `size` (width, height): (n, y, x, c). */
fn decode(i: u32, size: vec2u) -> vec4u {
  let c = i % params.channels;
  let pixel = i / params.channels;
  let x = pixel % size.x;
  let row = pixel / size.x;
  return vec4u(row / size.y, row % size.y, x, c);
}

/** One axis of a bilinear tap: the two source indices and the weight of the second. */
struct Lerp {
  low: u32,
  high: u32,
  frac: f32,
}

fn bilinear_axis(o: u32, scale: f32, in_size: u32) -> Lerp {
  var src = f32(o) * scale;
  if (HALF_PIXEL_CENTERS) {
    src = (f32(o) + 0.5) * scale - 0.5;
  }
  let low = floor(src);
  // negative src (half-pixel, upsampling) clamps to row 0 on both taps
  return Lerp(u32(max(low, 0.0)), min(u32(max(ceil(src), 0.0)), in_size - 1u), src - low);
}

fn nearest_axis(o: u32, scale: f32, in_size: u32) -> u32 {
  var f = f32(o) * scale;
  if (HALF_PIXEL_CENTERS) {
    f = (f32(o) + 0.5) * scale;
  }
  var src = floor(f);
  // roundf: f - floor(f) is exact, so ties (.5) go up, i.e. away from zero for f >= 0
  if (ALIGN_CORNERS && f - src >= 0.5) {
    src += 1.0;
  }
  return min(u32(src), in_size - 1u);
}

/**
 * Output indices [first, last] whose source along one axis may touch input index i: the source
 * lies within one pixel of i (bilinear) or rounds to it (nearest), so o * scale + shift in
 * (i - 1, i + 1) with shift = src(0); one more index either way covers float rounding. Sources
 * lie in (-1, in_size) (at most half a pixel before the first centre, before the last edge), so
 * the taps clamped onto the first and last pixel are inside the same bounds.
 */
fn source_range(i: u32, out_size: u32, scale: f32, shift: f32) -> vec2u {
  if (scale == 0.0) {
    return vec2u(0u, out_size - 1u); // one input pixel (align_corners): every output reads it
  }
  let first = max(floor((f32(i) - 1.0 - shift) / scale) - 1.0, 0.0);
  let last = clamp(ceil((f32(i) + 1.0 - shift) / scale) + 1.0, 0.0, f32(out_size - 1u));
  return vec2u(u32(first), u32(last));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn bilinear(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&output)) {
    return;
  }
  let p = params;
  let o = decode(i, p.out_size);
  let y = bilinear_axis(o.y, p.scale.y, p.in_size.y);
  let x = bilinear_axis(o.z, p.scale.x, p.in_size.x);
  let image = o.x * p.in_size.y;
  let top = (image + y.low) * p.in_size.x;
  let bottom = (image + y.high) * p.in_size.x;
  let top_left = input[(top + x.low) * p.channels + o.w];
  let top_right = input[(top + x.high) * p.channels + o.w];
  let bottom_left = input[(bottom + x.low) * p.channels + o.w];
  let bottom_right = input[(bottom + x.high) * p.channels + o.w];
  let top_value = top_left + (top_right - top_left) * x.frac;
  let bottom_value = bottom_left + (bottom_right - bottom_left) * x.frac;
  output[i] = top_value + (bottom_value - top_value) * y.frac;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn nearest(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&output)) {
    return;
  }
  let p = params;
  let o = decode(i, p.out_size);
  let y = nearest_axis(o.y, p.scale.y, p.in_size.y);
  let x = nearest_axis(o.z, p.scale.x, p.in_size.x);
  output[i] = input[((o.x * p.in_size.y + y) * p.in_size.x + x) * p.channels + o.w];
}

/** The weight output index o's bilinear taps along one axis give input index i (both taps may be i). */
fn bilinear_weight(i: u32, o: u32, scale: f32, in_size: u32) -> f32 {
  let t = bilinear_axis(o, scale, in_size);
  return select(0.0, 1.0 - t.frac, t.low == i) + select(0.0, t.frac, t.high == i);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn bilinear_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&input_grad)) {
    return;
  }
  let p = params;
  let e = decode(i, p.in_size);
  let shift = select(vec2f(0.0), 0.5 * p.scale - vec2f(0.5), HALF_PIXEL_CENTERS);
  let rows = source_range(e.y, p.out_size.y, p.scale.y, shift.y);
  let columns = source_range(e.z, p.out_size.x, p.scale.x, shift.x);
  var sum = 0.0;
  for (var oy = rows.x; oy <= rows.y; oy++) {
    let wy = bilinear_weight(e.y, oy, p.scale.y, p.in_size.y);
    if (wy == 0.0) {
      continue;
    }
    let row = (e.x * p.out_size.y + oy) * p.out_size.x;
    var row_sum = 0.0;
    for (var ox = columns.x; ox <= columns.y; ox++) {
      let wx = bilinear_weight(e.z, ox, p.scale.x, p.in_size.x);
      row_sum += wx * output_grad[(row + ox) * p.channels + e.w];
    }
    sum += wy * row_sum;
  }
  input_grad[i] = sum;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn nearest_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&input_grad)) {
    return;
  }
  let p = params;
  let e = decode(i, p.in_size);
  let shift = select(vec2f(0.0), 0.5 * p.scale, HALF_PIXEL_CENTERS);
  let rows = source_range(e.y, p.out_size.y, p.scale.y, shift.y);
  let columns = source_range(e.z, p.out_size.x, p.scale.x, shift.x);
  var sum = 0.0;
  for (var oy = rows.x; oy <= rows.y; oy++) {
    if (nearest_axis(oy, p.scale.y, p.in_size.y) != e.y) {
      continue;
    }
    let row = (e.x * p.out_size.y + oy) * p.out_size.x;
    for (var ox = columns.x; ox <= columns.y; ox++) {
      if (nearest_axis(ox, p.scale.x, p.in_size.x) == e.z) {
        sum += output_grad[(row + ox) * p.channels + e.w];
      }
    }
  }
  input_grad[i] = sum;
}
