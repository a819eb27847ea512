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
// forward and backward_input: one invocation per 4 consecutive channels of one pixel of their
// result (channels past the last are clamped when loaded and never stored); backward_filter: one
// per element. 1-D grid folded into x and y.
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

/** Channels c .. c + 3 of `count`, the ones past the end clamped to the last (loaded, never stored). */
fn channel_block(c: u32, count: u32) -> vec4u {
  return min(vec4u(c) + vec4u(0u, 1u, 2u, 3u), vec4u(count - 1u));
}

/** Input channels c = co / M of output channels `cos` (no division in the usual M = 1). */
fn input_channels(cos: vec4u) -> vec4u {
  if (params.multiplier == 1u) {
    return cos;
  }
  return cos / vec4u(params.multiplier);
}

/**
 * Pre-activation, pre-bias sums of 4 consecutive output channels of one output pixel: block i is
 * pixel i / channel_blocks, channels 4 * (i % channel_blocks) ..; `cos` receives the channels
 * (clamped). Four channels per invocation share the position decoding (integer divisions, which
 * CPU adapters emulate lane by lane) and the tap loop, and read neighbouring values.
 */
fn convolve_block(i: u32, cos: ptr<function, vec4u>) -> vec4f {
  let out_channels = params.channels * params.multiplier;
  let channel_blocks = (out_channels + 3u) / 4u;
  let pixel = i / channel_blocks;
  *cos = channel_block((i % channel_blocks) * 4u, out_channels);
  let cs = input_channels(*cos);
  let ox = pixel % params.out_size.x;
  let oy = (pixel / params.out_size.x) % params.out_size.y;
  let n = pixel / (params.out_size.x * params.out_size.y);
  let in_size = vec2i(params.in_size);
  // top-left tap of the window in input coordinates (negative inside the padding)
  let origin = vec2i(vec2u(ox, oy) * params.stride) - vec2i(params.pad_before);
  var sum = vec4f(0.0);
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
      let x_base = ((n * params.in_size.y + u32(iy)) * params.in_size.x + u32(ix)) * params.channels;
      // weights[ky, kx, c, m] = weights[(ky * KW + kx) * C * M + co]
      let w_base = (ky * params.kernel_size.x + kx) * out_channels;
      let x = vec4f(input[x_base + cs.x], input[x_base + cs.y], input[x_base + cs.z], input[x_base + cs.w]);
      let w = vec4f(weights[w_base + (*cos).x], weights[w_base + (*cos).y], weights[w_base + (*cos).z], weights[w_base + (*cos).w]);
      sum += x * w;
    }
  }
  return sum;
}

/** Writes block i's values (activated) to its output channels, none past the last. */
fn store_block(i: u32, cos: vec4u, values: vec4f) {
  let out_channels = params.channels * params.multiplier;
  let channel_blocks = (out_channels + 3u) / 4u;
  let first = (i / channel_blocks) * out_channels + cos.x;
  let count = min(4u, out_channels - cos.x);
  for (var j = 0u; j < count; j++) {
    output[first + j] = activate(values[j]);
  }
}

fn block_count() -> u32 {
  let out_channels = params.channels * params.multiplier;
  return params.batch * params.out_size.x * params.out_size.y * ((out_channels + 3u) / 4u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < block_count()) {
    var cos: vec4u;
    let sum = convolve_block(i, &cos);
    store_block(i, cos, sum);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_bias(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < block_count()) {
    var cos: vec4u;
    let sum = convolve_block(i, &cos);
    store_block(i, cos, sum + vec4f(bias[cos.x], bias[cos.y], bias[cos.z], bias[cos.w]));
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
  // 4 consecutive input channels of one input pixel per invocation, as in convolve_block
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  let channel_blocks = (params.channels + 3u) / 4u;
  if (i >= params.batch * params.in_size.x * params.in_size.y * channel_blocks) {
    return;
  }
  let pixel = i / channel_blocks;
  let cs = channel_block((i % channel_blocks) * 4u, params.channels);
  let ix = pixel % params.in_size.x;
  let iy = (pixel / params.in_size.x) % params.in_size.y;
  let n = pixel / (params.in_size.x * params.in_size.y);
  let out_channels = params.channels * params.multiplier;
  let out_size = vec2i(params.out_size);
  let stride = vec2i(params.stride);
  // Tap (ky, kx) of output pixel (oy, ox) reads (iy, ix) when oy * stride = iy + pad - ky * dilation,
  // so each tap contributes at most one output pixel: the one where that is a multiple of stride.
  let shifted = vec2i(i32(ix), i32(iy)) + vec2i(params.pad_before);
  // output channel of (c, m = 0) for the 4 input channels; m steps by 1 from there
  let co0 = cs * params.multiplier;
  var sum = vec4f(0.0);
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
      let dy = vec4u(((n * params.out_size.y + oy) * params.out_size.x + ox) * out_channels) + co0;
      let w = vec4u((ky * params.kernel_size.x + kx) * out_channels) + co0;
      for (var m = 0u; m < params.multiplier; m++) {
        let g = vec4f(output_grad[dy.x + m], output_grad[dy.y + m], output_grad[dy.z + m], output_grad[dy.w + m]);
        sum += g * vec4f(weights[w.x + m], weights[w.y + m], weights[w.z + m], weights[w.w + m]);
      }
    }
  }
  let first = pixel * params.channels + cs.x;
  let count = min(4u, params.channels - cs.x);
  for (var j = 0u; j < count; j++) {
    input_grad[first + j] = sum[j];
  }
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
