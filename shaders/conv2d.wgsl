// 2-D convolution (TensorFlow Conv2D) and its two gradients, computed directly (no im2col) for any
// kernel size, stride, dilation and padding. Shapes live in `params`, so one pipeline per entry
// point and override set serves every shape.
//
// Layouts: input [N, H, W, Cin] and output [N, OH, OW, Cout] NHWC; weights HWIO [KH, KW, Cin, Cout];
// bias [Cout]. Input row ih = oh * stride_height + kh * dilation_height - pad_top (columns alike);
// rows and columns outside the image read zero, which is TF's 'same' padding when the host passes
// its pad_top / pad_left (the odd extra row/column then falls off the bottom/right).
//   forward:         output[n,oh,ow,co] = act(bias[co] + sum_{kh,kw,ci} input[n,ih,iw,ci] * weights[kh,kw,ci,co])
//   backward_input:  input_grad[n,ih,iw,ci] = sum over (kh,kw,co) of the (oh,ow) that read (ih,iw) through
//                    tap (kh,kw) of output_grad[n,oh,ow,co] * weights[kh,kw,ci,co]   (gather form, no atomics)
//   backward_filter: weight_grad[chunk,kh,kw,ci,co] = sum over output pixels (n,oh,ow) of the chunk of
//                    input[n,ih,iw,ci] * output_grad[n,oh,ow,co]; the host sums the chunks (reduce.column_sum)
// output_grad is dL/d(pre-activation): the host applies the activation's backward first.
// ACTIVATION: 0 linear, 1 relu, 2 relu6, 3 sigmoid (the codes of shaders/activation.wgsl).
//
// Register blocking, no workgroup memory and no barriers (barriers are slow on CPU adapters):
//   forward:         one invocation = TILE neighbouring output pixels of a row x 4 output channels;
//                    each 4 weights loaded serve TILE pixels, each input value 4 channels.
//   backward_input:  one invocation = TILE input pixels of a row spaced stride_width apart (one residue
//                    class mod stride_width, so a tap kw reaches either every pixel of the tile or none)
//                    x 4 input channels.
//   backward_filter: one invocation = 4 input x 4 output channels of one tap (kh, kw), over a chunk of
//                    `chunk_pixels` consecutive output pixels (chunks give parallelism for small filters).
// Channel blocks past Cin/Cout load clamped (in-bounds) channels and are never stored.
//
// Bindings: forward          input, weights, bias (read; any buffer when HAS_BIAS is false), output (read_write)
//           backward_input   output_grad, weights (read), input_grad (read_write)
//           backward_filter  input, output_grad (read), weight_grad (read_write, [chunks, KH, KW, Cin, Cout])
//           every entry      params (uniform)

override WORKGROUP_SIZE: u32 = 64;
override ACTIVATION: u32 = 0u;
override HAS_BIAS: bool = false;

/** Pixels per invocation along a row. A const, not an override: it sizes function-scope arrays. */
const TILE: u32 = 8u;

struct Params {
  batch: u32,
  in_height: u32,
  in_width: u32,
  in_channels: u32,
  out_height: u32,
  out_width: u32,
  out_channels: u32,
  kernel_height: u32,
  kernel_width: u32,
  stride_height: u32,
  stride_width: u32,
  dilation_height: u32,
  dilation_width: u32,
  pad_top: u32,
  pad_left: u32,
  /** backward_filter: output pixels per chunk (other entries ignore it). */
  chunk_pixels: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
@group(0) @binding(4) var<storage, read> output_grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> input_grad: array<f32>;
@group(0) @binding(6) var<storage, read_write> weight_grad: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

fn activate(x: f32) -> f32 {
  switch ACTIVATION {
    case 1u: { return max(x, 0.0); }
    case 2u: { return clamp(x, 0.0, 6.0); }
    case 3u: { return 1.0 / (1.0 + exp(-x)); }
    default: { return x; }
  }
}

/** Channels c..c+3, clamped to count - 1 so that loads for a partial last block stay in bounds. */
fn channel_block(c: u32, count: u32) -> vec4u {
  return min(vec4u(c, c + 1u, c + 2u, c + 3u), vec4u(count - 1u));
}

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  // Output channel block fastest: neighbouring invocations read the same input values and
  // consecutive weights.
  let channel_blocks = (p.out_channels + 3u) / 4u;
  let column_tiles = (p.out_width + TILE - 1u) / TILE;
  let i = linear_index(gid, groups);
  if (i >= p.batch * p.out_height * column_tiles * channel_blocks) {
    return;
  }
  let co = (i % channel_blocks) * 4u;
  var rest = i / channel_blocks;
  let ow0 = (rest % column_tiles) * TILE;
  rest /= column_tiles;
  let oh = rest % p.out_height;
  let n = rest / p.out_height;
  let cos = channel_block(co, p.out_channels);

  var acc: array<vec4f, TILE>;
  for (var kh = 0u; kh < p.kernel_height; kh++) {
    let ih = i32(oh * p.stride_height + kh * p.dilation_height) - i32(p.pad_top);
    if (ih < 0 || ih >= i32(p.in_height)) {
      continue; // a padding row: contributes zero to the whole tile
    }
    let row = (n * p.in_height + u32(ih)) * p.in_width;
    for (var kw = 0u; kw < p.kernel_width; kw++) {
      var base: array<u32, TILE>;
      var inside: array<bool, TILE>;
      for (var t = 0u; t < TILE; t++) {
        let iw = i32((ow0 + t) * p.stride_width + kw * p.dilation_width) - i32(p.pad_left);
        inside[t] = ow0 + t < p.out_width && iw >= 0 && iw < i32(p.in_width);
        base[t] = select(0u, (row + u32(iw)) * p.in_channels, inside[t]);
      }
      // weights[kh, kw, ci, co] = weights[((kh * KW + kw) * Cin + ci) * Cout + co]
      var w_index = (kh * p.kernel_width + kw) * p.in_channels * p.out_channels;
      for (var ci = 0u; ci < p.in_channels; ci++) {
        let w = vec4f(weights[w_index + cos.x], weights[w_index + cos.y], weights[w_index + cos.z], weights[w_index + cos.w]);
        for (var t = 0u; t < TILE; t++) {
          acc[t] += select(0.0, input[base[t] + ci], inside[t]) * w;
        }
        w_index += p.out_channels;
      }
    }
  }

  var b = vec4f(0.0);
  if (HAS_BIAS) {
    b = vec4f(bias[cos.x], bias[cos.y], bias[cos.z], bias[cos.w]);
  }
  let channels = min(4u, p.out_channels - co);
  for (var t = 0u; t < TILE; t++) {
    let ow = ow0 + t;
    if (ow >= p.out_width) {
      break;
    }
    let o = ((n * p.out_height + oh) * p.out_width + ow) * p.out_channels + co;
    let v = acc[t] + b;
    for (var k = 0u; k < channels; k++) {
      output[o + k] = activate(v[k]);
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let sh = i32(p.stride_height);
  let sw = i32(p.stride_width);
  // A row's columns split into stride_width residue classes; each class into tiles of TILE columns
  // iw0, iw0 + sw, ..., which the same tap kw maps to consecutive output columns ow0, ow0 + 1, ...
  let tiles_per_class = ((p.in_width + p.stride_width - 1u) / p.stride_width + TILE - 1u) / TILE;
  let column_tiles = p.stride_width * tiles_per_class;
  let channel_blocks = (p.in_channels + 3u) / 4u;
  let i = linear_index(gid, groups);
  if (i >= p.batch * p.in_height * column_tiles * channel_blocks) {
    return;
  }
  let ci = (i % channel_blocks) * 4u;
  var rest = i / channel_blocks;
  let tile = rest % column_tiles;
  rest /= column_tiles;
  let ih = rest % p.in_height;
  let n = rest / p.in_height;
  let iw0 = tile % p.stride_width + (tile / p.stride_width) * TILE * p.stride_width;
  let cis = channel_block(ci, p.in_channels);

  var acc: array<vec4f, TILE>;
  for (var kh = 0u; kh < p.kernel_height; kh++) {
    // ih = oh * sh + kh * dh - pad_top  =>  oh = (ih + pad_top - kh * dh) / sh when that divides exactly
    let oh_scaled = i32(ih + p.pad_top) - i32(kh * p.dilation_height);
    if (oh_scaled < 0 || oh_scaled % sh != 0 || oh_scaled / sh >= i32(p.out_height)) {
      continue;
    }
    let row = (n * p.out_height + u32(oh_scaled / sh)) * p.out_width;
    for (var kw = 0u; kw < p.kernel_width; kw++) {
      let ow_scaled = i32(iw0 + p.pad_left) - i32(kw * p.dilation_width);
      // Truncating % and / are exact here: the tile's columns share iw0's residue mod sw.
      if (ow_scaled % sw != 0) {
        continue;
      }
      let ow0 = ow_scaled / sw;
      var base: array<u32, TILE>;
      var inside: array<bool, TILE>;
      for (var t = 0u; t < TILE; t++) {
        let ow = ow0 + i32(t);
        inside[t] = ow >= 0 && ow < i32(p.out_width) && iw0 + t * p.stride_width < p.in_width;
        base[t] = select(0u, (row + u32(ow)) * p.out_channels, inside[t]);
      }
      // weights[kh, kw, ci + j, co] for the 4 input channels, stepping co
      let tap = (kh * p.kernel_width + kw) * p.in_channels;
      let w_rows = (vec4u(tap) + cis) * p.out_channels;
      for (var co = 0u; co < p.out_channels; co++) {
        let w = vec4f(weights[w_rows.x + co], weights[w_rows.y + co], weights[w_rows.z + co], weights[w_rows.w + co]);
        for (var t = 0u; t < TILE; t++) {
          acc[t] += select(0.0, output_grad[base[t] + co], inside[t]) * w;
        }
      }
    }
  }

  let channels = min(4u, p.in_channels - ci);
  for (var t = 0u; t < TILE; t++) {
    let iw = iw0 + t * p.stride_width;
    if (iw >= p.in_width) {
      break;
    }
    let o = ((n * p.in_height + ih) * p.in_width + iw) * p.in_channels + ci;
    for (var k = 0u; k < channels; k++) {
      input_grad[o + k] = acc[t][k];
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_filter(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let co_blocks = (p.out_channels + 3u) / 4u;
  let ci_blocks = (p.in_channels + 3u) / 4u;
  let filter_size = p.kernel_height * p.kernel_width * p.in_channels * p.out_channels;
  let pixels = p.batch * p.out_height * p.out_width;
  let chunks = (pixels + p.chunk_pixels - 1u) / p.chunk_pixels;
  let i = linear_index(gid, groups);
  if (i >= p.kernel_height * p.kernel_width * ci_blocks * co_blocks * chunks) {
    return;
  }
  let co = (i % co_blocks) * 4u;
  var rest = i / co_blocks;
  let ci = (rest % ci_blocks) * 4u;
  rest /= ci_blocks;
  let kw = rest % p.kernel_width;
  rest /= p.kernel_width;
  let kh = rest % p.kernel_height;
  let chunk = rest / p.kernel_height;
  let cis = channel_block(ci, p.in_channels);
  let cos = channel_block(co, p.out_channels);

  let first = chunk * p.chunk_pixels;
  let last = min(first + p.chunk_pixels, pixels);
  // (n, oh, ow) of pixel q, advanced incrementally instead of divided out every step
  var ow = first % p.out_width;
  var oh = (first / p.out_width) % p.out_height;
  var n = first / (p.out_width * p.out_height);
  let row_offset = i32(kh * p.dilation_height) - i32(p.pad_top);
  let column_offset = i32(kw * p.dilation_width) - i32(p.pad_left);
  // acc[j][k] = d loss / d weights[kh, kw, ci + j, co + k]
  var acc: array<vec4f, 4>;
  for (var q = first; q < last; q++) {
    let ih = i32(oh * p.stride_height) + row_offset;
    let iw = i32(ow * p.stride_width) + column_offset;
    if (ih >= 0 && ih < i32(p.in_height) && iw >= 0 && iw < i32(p.in_width)) {
      let x_index = ((n * p.in_height + u32(ih)) * p.in_width + u32(iw)) * p.in_channels;
      let x = vec4f(input[x_index + cis.x], input[x_index + cis.y], input[x_index + cis.z], input[x_index + cis.w]);
      // q is the flat output pixel index, so output_grad[n, oh, ow, c] = output_grad[q * Cout + c]
      let g_index = q * p.out_channels;
      let g = vec4f(output_grad[g_index + cos.x], output_grad[g_index + cos.y], output_grad[g_index + cos.z], output_grad[g_index + cos.w]);
      acc[0] += x.x * g;
      acc[1] += x.y * g;
      acc[2] += x.z * g;
      acc[3] += x.w * g;
    }
    ow++;
    if (ow == p.out_width) {
      ow = 0u;
      oh++;
      if (oh == p.out_height) {
        oh = 0u;
        n++;
      }
    }
  }

  let in_count = min(4u, p.in_channels - ci);
  let out_count = min(4u, p.out_channels - co);
  for (var j = 0u; j < in_count; j++) {
    let o = chunk * filter_size + ((kh * p.kernel_width + kw) * p.in_channels + ci + j) * p.out_channels + co;
    for (var k = 0u; k < out_count; k++) {
      weight_grad[o + k] = acc[j][k];
    }
  }
}
