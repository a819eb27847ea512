// Depthwise 2-D convolution (TensorFlow DepthwiseConv2dNative) and its two gradients.
// Each input channel c is convolved with its own M filters; output channel co = c * M + m.
//   forward:         output[n, oy, ox, c*M+m] = act(bias[c*M+m] + sum_{ky,kx} weights[ky, kx, c, m]
//                      * input[n, oy*stride.y - pad.y + ky*dilation.y, ox*stride.x - pad.x + kx*dilation.x, c])
//                    (input rows/columns outside the image are the implicit zero padding)
//   backward_input:  input_grad[n, iy, ix, c] = sum over (m, ky, kx, and the output pixel whose
//                      window puts tap (ky, kx) on (iy, ix)) of output_grad * weights  (gather, no atomics)
//   backward_filter: weights_grad[ky, kx, c, m] = sum_{n, oy, ox} input[n, iy, ix, c] * output_grad[n, oy, ox, c*M+m]
// output_grad here is the gradient of the convolution's (pre-activation) output; the fused
// activation's backward runs before these (shaders/activation.wgsl).
// Layouts: input NHWC [N, H, W, C]; weights [KH, KW, C, M]; bias [C*M]; output [N, OH, OW, C*M].
// ACTIVATION: 0 linear, 1 relu, 2 relu6, 3 sigmoid (same codes as shaders/activation.wgsl).
// One invocation per element of the entry point's result; 1-D grid folded into x and y.
// Bindings: forward         input, weights (read), output (read_write), params
//           forward_bias    input, weights, bias (read), output (read_write), params
//           backward_input  output_grad, weights (read), input_grad (read_write), params
//           backward_filter input, output_grad (read), weights_grad (read_write), params
// Pairs in params are (x, y) = (width, height).

override WORKGROUP_SIZE: u32 = 64;
override ACTIVATION: u32 = 0u;

struct Params {
  batch: u32,
  channels: u32,
  multiplier: u32,
  in_size: vec2u,
  out_size: vec2u,
  kernel_size: vec2u,
  stride: vec2u,
  dilation: vec2u,
  // zero columns left of / rows above the input (TF 'same' puts the odd one at the bottom/right)
  pad_before: vec2u,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
@group(0) @binding(4) var<storage, read> output_grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> input_grad: array<f32>;
@group(0) @binding(6) var<storage, read_write> weights_grad: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

fn activate(x: f32) -> f32 {
  switch ACTIVATION {
    case 1u: { return max(x, 0.0); }
    case 2u: { return clamp(x, 0.0, 6.0); }
    case 3u: { return 1.0 / (1.0 + exp(-x)); }
    default: { return x; }
  }
}

/** Pre-activation, pre-bias sum for output element i. */
fn convolve(i: u32) -> f32 {
  let out_channels = params.channels * params.multiplier;
  let co = i % out_channels;
  let ox = (i / out_channels) % params.out_size.x;
  let oy = (i / (out_channels * params.out_size.x)) % params.out_size.y;
  let n = i / (out_channels * params.out_size.x * params.out_size.y);
  let c = co / params.multiplier;
  let m = co % params.multiplier;
  let in_size = vec2i(params.in_size);
  // top-left tap of the window in input coordinates (negative inside the padding)
  let origin = vec2i(vec2u(ox, oy) * params.stride) - vec2i(params.pad_before);
  var sum = 0.0;
  for (var ky = 0u; ky < params.kernel_size.y; ky++) {
    let iy = origin.y + i32(ky * params.dilation.y);
    if (iy < 0 || iy >= in_size.y) {
      continue;
    }
    for (var kx = 0u; kx < params.kernel_size.x; kx++) {
      let ix = origin.x + i32(kx * params.dilation.x);
      if (ix < 0 || ix >= in_size.x) {
        continue;
      }
      let x = input[((n * params.in_size.y + u32(iy)) * params.in_size.x + u32(ix)) * params.channels + c];
      let w = weights[((ky * params.kernel_size.x + kx) * params.channels + c) * params.multiplier + m];
      sum += x * w;
    }
  }
  return sum;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = activate(convolve(i));
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_bias(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = activate(convolve(i) + bias[i % (params.channels * params.multiplier)]);
  }
}

/**
 * First and one-past-last output index along an axis whose tap at offset `tap_offset`
 * (= k * dilation - pad_before) lands inside the input: o * stride + tap_offset in [0, in_size).
 */
fn output_range(tap_offset: i32, stride: u32, in_size: u32, out_size: u32) -> vec2u {
  let s = i32(stride);
  // ceil(-tap_offset / s) for the first, floor((in_size - 1 - tap_offset) / s) for the last
  let first = max((-tap_offset + s - 1), 0) / s;
  let top = i32(in_size) - 1 - tap_offset;
  if (top < 0) {
    return vec2u(0u, 0u);
  }
  let last = min(top / s + 1, i32(out_size));
  return vec2u(u32(first), u32(max(last, first)));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= arrayLength(&input_grad)) {
    return;
  }
  let c = i % params.channels;
  let ix = (i / params.channels) % params.in_size.x;
  let iy = (i / (params.channels * params.in_size.x)) % params.in_size.y;
  let n = i / (params.channels * params.in_size.x * params.in_size.y);
  let out_channels = params.channels * params.multiplier;
  let out_size = vec2i(params.out_size);
  let stride = vec2i(params.stride);
  // Tap (ky, kx) of output pixel (oy, ox) reads (iy, ix) when oy * stride = iy + pad - ky * dilation,
  // so each tap contributes at most one output pixel: the one where that is a multiple of stride.
  let shifted = vec2i(i32(ix), i32(iy)) + vec2i(params.pad_before);
  var sum = 0.0;
  for (var ky = 0u; ky < params.kernel_size.y; ky++) {
    let ty = shifted.y - i32(ky * params.dilation.y);
    if (ty < 0 || ty % stride.y != 0 || ty / stride.y >= out_size.y) {
      continue;
    }
    let oy = u32(ty / stride.y);
    for (var kx = 0u; kx < params.kernel_size.x; kx++) {
      let tx = shifted.x - i32(kx * params.dilation.x);
      if (tx < 0 || tx % stride.x != 0 || tx / stride.x >= out_size.x) {
        continue;
      }
      let ox = u32(tx / stride.x);
      let dy_base = ((n * params.out_size.y + oy) * params.out_size.x + ox) * out_channels + c * params.multiplier;
      let w_base = ((ky * params.kernel_size.x + kx) * params.channels + c) * params.multiplier;
      for (var m = 0u; m < params.multiplier; m++) {
        sum += output_grad[dy_base + m] * weights[w_base + m];
      }
    }
  }
  input_grad[i] = sum;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_filter(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= arrayLength(&weights_grad)) {
    return;
  }
  let m = i % params.multiplier;
  let c = (i / params.multiplier) % params.channels;
  let kx = (i / (params.multiplier * params.channels)) % params.kernel_size.x;
  let ky = i / (params.multiplier * params.channels * params.kernel_size.x);
  let out_channels = params.channels * params.multiplier;
  let co = c * params.multiplier + m;
  let tap = vec2i(vec2u(kx, ky) * params.dilation) - vec2i(params.pad_before);
  // only output pixels whose tap (ky, kx) falls inside the input contribute; the rest read padding
  let rows = output_range(tap.y, params.stride.y, params.in_size.y, params.out_size.y);
  let cols = output_range(tap.x, params.stride.x, params.in_size.x, params.out_size.x);
  var sum = 0.0;
  for (var n = 0u; n < params.batch; n++) {
    for (var oy = rows.x; oy < rows.y; oy++) {
      let iy = u32(i32(oy * params.stride.y) + tap.y);
      for (var ox = cols.x; ox < cols.y; ox++) {
        let ix = u32(i32(ox * params.stride.x) + tap.x);
        let x = input[((n * params.in_size.y + iy) * params.in_size.x + ix) * params.channels + c];
        let g = output_grad[((n * params.out_size.y + oy) * params.out_size.x + ox) * out_channels + co];
        sum += x * g;
      }
    }
  }
  weights_grad[i] = sum;
}
