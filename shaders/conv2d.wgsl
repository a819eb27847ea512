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
// The transposed convolution (Conv2DBackpropInput) is backward_input with a bias and activation
// epilogue (input_epilogue; HAS_BIAS and ACTIVATION, off for conv2d's gradient); its input gradient
// is forward and its filter gradient backward_filter with input and output swapped.
// ACTIVATION: 0 linear, 1 relu, 2 relu6, 3 sigmoid (the codes of shaders/activation.wgsl).
//
// Register blocking, no workgroup memory and no barriers (barriers are slow on CPU adapters):
//   forward:         one invocation = TILE neighbouring output pixels of a row x 4 output channels
//                    (x 8 with WIDE, for more than 4 output channels); each 4 weights loaded serve
//                    TILE pixels, each input value 4 (8) channels. On lavapipe the loads bound it:
//                    gallivm loads a storage value lane by lane (a loop over the SIMD lanes with a
//                    bounds-check branch each; Mesa 25 lp_bld_nir_soa.c emit_load_mem) unless its
//                    address is provably uniform, so WIDE's 16 loads per 64 FMAs (against 12 per 32)
//                    ran emotion's 1x1 and 3x3 layers 1.2-1.5x faster there.
//   backward_input:  one invocation = TILE input pixels of a row spaced stride_width apart (one residue
//                    class mod stride_width, so a tap kw reaches either every pixel of the tile or none)
//                    x 4 input channels.
//   backward_filter: one invocation = 4 input x 4 output channels of one tap (kh, kw), over a chunk of
//                    `chunk_pixels` consecutive output pixels (chunks give parallelism for small filters).
// Channel blocks past Cin/Cout load clamped (in-bounds) channels and are never stored.
// The 8 pixels of a tile live in named vec4 variables, not in arrays indexed in a loop: SwiftShader's
// JIT (Subzero, Chromium's software adapter) keeps such arrays in memory, and the named form ran
// 2.7-3.8x faster there (lavapipe, which unrolls the loops itself, times both alike).
//
// forward_tiled, the same forward for hardware GPUs, as an implicit GEMM staged in workgroup memory
// (the design of tfjs-backend-webgpu's conv2d_mm / matmul_packed): out[m, co] for the M = N*OH*OW
// output pixels m (NHWC's flat pixel index, so out[m, co] = output[m * Cout + co]) and the Cout
// channels co, summed over K = KH*KW*Cin with k = (kh * KW + kw) * Cin + ci, so the HWIO weights are
// already B = [K, Cout] row-major and A[m, k] = input[n, ih, iw, ci] is gathered on the fly. A workgroup
// of (TILE_N / 4) x (TILE_M / 4) invocations owns a TILE_M x TILE_N output tile; per TILE_K-deep
// stage it stages A's TILE_M x TILE_K patch and B's TILE_K x TILE_N slice in workgroup memory (zeros
// for padding and past M / K), then each invocation accumulates its 4 x 4 register block from them.
// Barriers make it slow on CPU adapters (src/gpu/variants.ts picks it only on hardware).
//
// backward_input_tiled, the input gradient for hardware GPUs, is the same GEMM run backwards:
// input_grad[m, ci] for the M = N*H*W input pixels m and the Cin channels ci, summed over
// K = KH*KW*Cout with k = (kh * KW + kw) * Cout + co; A[m, k] = output_grad[n, oh, ow, co] for the
// output pixel that reads pixel m through tap (kh, kw) (zero where none does) and B[k, ci] =
// weights[kh, kw, ci, co]. At stride s x t only 1 in s*t of A's entries is non-zero: the kernel
// multiplies the zeros rather than splitting pixels into residue classes (strided convolutions are
// the few downsampling layers of a CNN).
//
// Bindings: forward          input, weights, bias (read; any buffer when HAS_BIAS is false), output (read_write)
//           forward_tiled    the same as forward
//           backward_input   output_grad, weights, bias (read; any buffer when HAS_BIAS is false), input_grad (read_write)
//           backward_input_tiled  the same as backward_input
//           backward_filter  input, output_grad (read), weight_grad (read_write, [chunks, KH, KW, Cin, Cout])
//           every entry      params (uniform)

override WORKGROUP_SIZE: u32 = 64;
override ACTIVATION: u32 = 0u;
override HAS_BIAS: bool = false;
/** forward: 8 output channels per invocation (two blocks of 4) instead of 4. */
override WIDE: bool = false;

/**
 * Pixels per invocation along a row: forward and backward_input hold them as two vec4 halves and
 * eight named accumulators, so this stays 8.
 */
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

/**
 * The backward_input entries double as the forward pass of the transposed convolution (TF
 * Conv2DBackpropInput, src/ops/conv2d_transpose.ts), which adds a bias per input channel ci and
 * applies an activation in the same kernel. For conv2d's own input gradient HAS_BIAS is false
 * and ACTIVATION linear: the identity.
 */
fn input_epilogue(value: f32, ci: u32) -> f32 {
  var b = 0.0;
  if (HAS_BIAS) {
    b = bias[ci];
  }
  return activate(value + b);
}

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  // Output channel block fastest: neighbouring invocations read the same input values and
  // consecutive weights.
  let channels_per_invocation = select(4u, 8u, WIDE);
  let channel_blocks = (p.out_channels + channels_per_invocation - 1u) / channels_per_invocation;
  let column_tiles = (p.out_width + TILE - 1u) / TILE;
  let i = linear_index(gid, groups);
  if (i >= p.batch * p.out_height * column_tiles * channel_blocks) {
    return;
  }
  let co = (i % channel_blocks) * channels_per_invocation;
  var rest = i / channel_blocks;
  let ow0 = (rest % column_tiles) * TILE;
  rest /= column_tiles;
  let oh = rest % p.out_height;
  let n = rest / p.out_height;
  let cos = channel_block(co, p.out_channels);
  // WIDE's second block: channels co + 4 .. co + 7 (clamped; past Cout they are never stored)
  let dos = channel_block(co + 4u, p.out_channels);

  // The tile's 8 columns as two vec4 halves (see the header for why no arrays).
  let t_lo = vec4u(ow0) + vec4u(0u, 1u, 2u, 3u);
  let t_hi = t_lo + vec4u(4u);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0);
  var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0);
  var acc7 = vec4f(0.0);
  var wide0 = vec4f(0.0);
  var wide1 = vec4f(0.0);
  var wide2 = vec4f(0.0);
  var wide3 = vec4f(0.0);
  var wide4 = vec4f(0.0);
  var wide5 = vec4f(0.0);
  var wide6 = vec4f(0.0);
  var wide7 = vec4f(0.0);
  for (var kh = 0u; kh < p.kernel_height; kh++) {
    let ih = i32(oh * p.stride_height + kh * p.dilation_height) - i32(p.pad_top);
    if (ih < 0 || ih >= i32(p.in_height)) {
      continue; // a padding row: contributes zero to the whole tile
    }
    let row = vec4u((n * p.in_height + u32(ih)) * p.in_width);
    for (var kw = 0u; kw < p.kernel_width; kw++) {
      let shift = vec4i(i32(kw * p.dilation_width) - i32(p.pad_left));
      let iw_lo = vec4i(t_lo * p.stride_width) + shift;
      let iw_hi = vec4i(t_hi * p.stride_width) + shift;
      let in_lo = (t_lo < vec4u(p.out_width)) & (iw_lo >= vec4i(0)) & (iw_lo < vec4i(i32(p.in_width)));
      let in_hi = (t_hi < vec4u(p.out_width)) & (iw_hi >= vec4i(0)) & (iw_hi < vec4i(i32(p.in_width)));
      let base_lo = select(vec4u(0u), (row + vec4u(iw_lo)) * p.in_channels, in_lo);
      let base_hi = select(vec4u(0u), (row + vec4u(iw_hi)) * p.in_channels, in_hi);
      // weights[kh, kw, ci, co] = weights[((kh * KW + kw) * Cin + ci) * Cout + co]
      var w_index = (kh * p.kernel_width + kw) * p.in_channels * p.out_channels;
      for (var ci = 0u; ci < p.in_channels; ci++) {
        let w = vec4f(weights[w_index + cos.x], weights[w_index + cos.y], weights[w_index + cos.z], weights[w_index + cos.w]);
        let x_lo = select(vec4f(0.0), vec4f(input[base_lo.x + ci], input[base_lo.y + ci], input[base_lo.z + ci], input[base_lo.w + ci]), in_lo);
        let x_hi = select(vec4f(0.0), vec4f(input[base_hi.x + ci], input[base_hi.y + ci], input[base_hi.z + ci], input[base_hi.w + ci]), in_hi);
        acc0 += x_lo.x * w;
        acc1 += x_lo.y * w;
        acc2 += x_lo.z * w;
        acc3 += x_lo.w * w;
        acc4 += x_hi.x * w;
        acc5 += x_hi.y * w;
        acc6 += x_hi.z * w;
        acc7 += x_hi.w * w;
        if (WIDE) {
          let v = vec4f(weights[w_index + dos.x], weights[w_index + dos.y], weights[w_index + dos.z], weights[w_index + dos.w]);
          wide0 += x_lo.x * v;
          wide1 += x_lo.y * v;
          wide2 += x_lo.z * v;
          wide3 += x_lo.w * v;
          wide4 += x_hi.x * v;
          wide5 += x_hi.y * v;
          wide6 += x_hi.z * v;
          wide7 += x_hi.w * v;
        }
        w_index += p.out_channels;
      }
    }
  }
  let acc = array<vec4f, TILE>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  let wide = array<vec4f, TILE>(wide0, wide1, wide2, wide3, wide4, wide5, wide6, wide7);

  var b = vec4f(0.0);
  var b_wide = vec4f(0.0);
  if (HAS_BIAS) {
    b = vec4f(bias[cos.x], bias[cos.y], bias[cos.z], bias[cos.w]);
    b_wide = vec4f(bias[dos.x], bias[dos.y], bias[dos.z], bias[dos.w]);
  }
  let channels = min(4u, p.out_channels - co);
  // 0 without WIDE or where the second block starts past the last channel
  let channels_wide = select(0u, min(4u, max(p.out_channels, co + 4u) - (co + 4u)), WIDE);
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
    let v_wide = wide[t] + b_wide;
    for (var k = 0u; k < channels_wide; k++) {
      output[o + 4u + k] = activate(v_wide[k]);
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

  // The tile's 8 columns as two vec4 halves (see the header for why no arrays).
  let t_lo = vec4u(0u, 1u, 2u, 3u);
  let t_hi = t_lo + vec4u(4u);
  // columns past the row's end (the last tile of a class is partial)
  let column_lo = (vec4u(iw0) + t_lo * p.stride_width) < vec4u(p.in_width);
  let column_hi = (vec4u(iw0) + t_hi * p.stride_width) < vec4u(p.in_width);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0);
  var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0);
  var acc7 = vec4f(0.0);
  for (var kh = 0u; kh < p.kernel_height; kh++) {
    // ih = oh * sh + kh * dh - pad_top  =>  oh = (ih + pad_top - kh * dh) / sh when that divides exactly
    let oh_scaled = i32(ih + p.pad_top) - i32(kh * p.dilation_height);
    if (oh_scaled < 0 || oh_scaled % sh != 0 || oh_scaled / sh >= i32(p.out_height)) {
      continue;
    }
    let row = vec4u((n * p.out_height + u32(oh_scaled / sh)) * p.out_width);
    for (var kw = 0u; kw < p.kernel_width; kw++) {
      let ow_scaled = i32(iw0 + p.pad_left) - i32(kw * p.dilation_width);
      // Truncating % and / are exact here: the tile's columns share iw0's residue mod sw.
      if (ow_scaled % sw != 0) {
        continue;
      }
      let ow_lo = vec4i(ow_scaled / sw) + vec4i(t_lo);
      let ow_hi = vec4i(ow_scaled / sw) + vec4i(t_hi);
      let in_lo = column_lo & (ow_lo >= vec4i(0)) & (ow_lo < vec4i(i32(p.out_width)));
      let in_hi = column_hi & (ow_hi >= vec4i(0)) & (ow_hi < vec4i(i32(p.out_width)));
      let base_lo = select(vec4u(0u), (row + vec4u(ow_lo)) * p.out_channels, in_lo);
      let base_hi = select(vec4u(0u), (row + vec4u(ow_hi)) * p.out_channels, in_hi);
      // weights[kh, kw, ci + j, co] for the 4 input channels, stepping co
      let tap = (kh * p.kernel_width + kw) * p.in_channels;
      let w_rows = (vec4u(tap) + cis) * p.out_channels;
      for (var co = 0u; co < p.out_channels; co++) {
        let w = vec4f(weights[w_rows.x + co], weights[w_rows.y + co], weights[w_rows.z + co], weights[w_rows.w + co]);
        let g_lo = select(vec4f(0.0), vec4f(output_grad[base_lo.x + co], output_grad[base_lo.y + co], output_grad[base_lo.z + co], output_grad[base_lo.w + co]), in_lo);
        let g_hi = select(vec4f(0.0), vec4f(output_grad[base_hi.x + co], output_grad[base_hi.y + co], output_grad[base_hi.z + co], output_grad[base_hi.w + co]), in_hi);
        acc0 += g_lo.x * w;
        acc1 += g_lo.y * w;
        acc2 += g_lo.z * w;
        acc3 += g_lo.w * w;
        acc4 += g_hi.x * w;
        acc5 += g_hi.y * w;
        acc6 += g_hi.z * w;
        acc7 += g_hi.w * w;
      }
    }
  }
  let acc = array<vec4f, TILE>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);

  let channels = min(4u, p.in_channels - ci);
  for (var t = 0u; t < TILE; t++) {
    let iw = iw0 + t * p.stride_width;
    if (iw >= p.in_width) {
      break;
    }
    let o = ((n * p.in_height + ih) * p.in_width + iw) * p.in_channels + ci;
    for (var k = 0u; k < channels; k++) {
      input_grad[o + k] = input_epilogue(acc[t][k], ci + k);
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

// ---- forward_tiled: implicit GEMM through workgroup memory (see the header) ----

/** Output pixels (GEMM rows) per workgroup: a multiple of 4, 4 * (workgroup size y). */
override TILE_M: u32 = 64u;
/** Output channels (GEMM columns) per workgroup: a multiple of 4, 4 * (workgroup size x). */
override TILE_N: u32 = 64u;
/** Reduction depth per stage. */
override TILE_K: u32 = 16u;

// Derived, never set by the host: the workgroup is THREADS_X x THREADS_Y invocations of 4 x 4
// outputs each. (wgsl_reflect 1.6.0 cannot parse an expression inside @workgroup_size.)
override THREADS_X: u32 = TILE_N / 4u;
override THREADS_Y: u32 = TILE_M / 4u;

// tile_a[k * TILE_M / 4 + y] = A[4y .. 4y + 3, k] of the stage (4 rows packed, so an invocation
// reads the column of its 4 rows as one vec4); tile_b[k * TILE_N / 4 + x] = B[k, 4x .. 4x + 3].
var<workgroup> tile_a: array<vec4f, TILE_K * THREADS_Y>;
var<workgroup> tile_b: array<vec4f, TILE_K * THREADS_X>;

/** Four GEMM rows as NHWC pixels: image, row and column of each in an image of height x width. */
struct RowPixels {
  /** Row m0 + r < count: past the end, the fields describe the last pixel (in bounds, never stored). */
  valid: vec4<bool>,
  image: vec4u,
  row: vec4u,
  column: vec4u,
}

/** GEMM rows m0 .. m0 + 3 of a tiled kernel, whose rows are the count = N*height*width pixels in NHWC order. */
fn gemm_row_pixels(m0: u32, count: u32, height: u32, width: u32) -> RowPixels {
  let rows = vec4u(m0) + vec4u(0u, 1u, 2u, 3u);
  let m = min(rows, vec4u(count - 1u));
  return RowPixels(rows < vec4u(count), m / (width * height), (m / width) % height, m % width);
}

/**
 * Stages B's rows k0 .. k0 + TILE_K - 1 (zero past `depth`) at this invocation's 4 columns `cols`,
 * rows lid.y, lid.y + THREADS_Y, ...: the filter as [K, Cout] (weights[k * Cout + co]) for the
 * forward pass; `transposed`, per tap as [K = tap * Cout + co, Cin] (weights[(tap * Cin + ci) * Cout
 * + co]) for the input gradient.
 */
fn stage_filter(lid: vec3u, k0: u32, depth: u32, cols: vec4u, transposed: bool) {
  for (var kk = lid.y; kk < TILE_K; kk += THREADS_Y) {
    let k = k0 + kk;
    var w = vec4f(0.0);
    if (k < depth) {
      var index = vec4u(k * params.out_channels) + cols;
      if (transposed) {
        index = (vec4u((k / params.out_channels) * params.in_channels) + cols) * params.out_channels + vec4u(k % params.out_channels);
      }
      w = vec4f(weights[index.x], weights[index.y], weights[index.z], weights[index.w]);
    }
    tile_b[kk * THREADS_X + lid.x] = w;
  }
}

/** acc += this invocation's 4 staged rows of A x its 4 staged columns of B, over the stage's depth. */
fn multiply_stage(lid: vec3u, acc: ptr<function, array<vec4f, 4>>) {
  for (var kk = 0u; kk < TILE_K; kk++) {
    let a = tile_a[kk * THREADS_Y + lid.y];
    let b = tile_b[kk * THREADS_X + lid.x];
    (*acc)[0] = fma(vec4f(a.x), b, (*acc)[0]);
    (*acc)[1] = fma(vec4f(a.y), b, (*acc)[1]);
    (*acc)[2] = fma(vec4f(a.z), b, (*acc)[2]);
    (*acc)[3] = fma(vec4f(a.w), b, (*acc)[3]);
  }
}

@compute @workgroup_size(THREADS_X, THREADS_Y)
fn forward_tiled(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let pixels = p.batch * p.out_height * p.out_width;
  let depth = p.kernel_height * p.kernel_width * p.in_channels;
  // Column tiles fastest: neighbouring workgroups gather the same input patch (cache reuse).
  let column_tiles = (p.out_channels + TILE_N - 1u) / TILE_N;
  let tile = wid.x + wid.y * groups.x;
  if (tile >= column_tiles * ((pixels + TILE_M - 1u) / TILE_M)) {
    return; // whole workgroups only (workgroup_id is uniform), so the barriers below stay uniform
  }
  let m0 = (tile / column_tiles) * TILE_M + lid.y * 4u;
  let co = (tile % column_tiles) * TILE_N + lid.x * 4u;
  let cos = channel_block(co, p.out_channels);

  // The invocation stages the same 4 rows it accumulates: decode their pixels once. Input row of
  // tap kh: ih = oh * stride_height - pad_top + kh * dilation_height (columns alike).
  let rows = gemm_row_pixels(m0, pixels, p.out_height, p.out_width);
  let row_in = rows.valid;
  let image_row = rows.image * p.in_height; // first input row of the pixel's image
  let ih0 = vec4i(rows.row * p.stride_height) - vec4i(i32(p.pad_top));
  let iw0 = vec4i(rows.column * p.stride_width) - vec4i(i32(p.pad_left));

  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < depth; k0 += TILE_K) {
    // A: columns lid.x, lid.x + THREADS_X, ... of the stage, gathered with zero padding.
    for (var kk = lid.x; kk < TILE_K; kk += THREADS_X) {
      let k = k0 + kk;
      var v = vec4f(0.0);
      if (k < depth) {
        let ci = k % p.in_channels;
        let tap = k / p.in_channels;
        let ih = ih0 + vec4i(i32((tap / p.kernel_width) * p.dilation_height));
        let iw = iw0 + vec4i(i32((tap % p.kernel_width) * p.dilation_width));
        let inside = row_in & (ih >= vec4i(0)) & (ih < vec4i(i32(p.in_height))) & (iw >= vec4i(0)) & (iw < vec4i(i32(p.in_width)));
        for (var r = 0u; r < 4u; r++) {
          // outside the image: read element 0 (in bounds) and discard it
          let x_index = select(0u, ((image_row[r] + u32(ih[r])) * p.in_width + u32(iw[r])) * p.in_channels + ci, inside[r]);
          v[r] = select(0.0, input[x_index], inside[r]);
        }
      }
      tile_a[kk * THREADS_Y + lid.y] = v;
    }
    stage_filter(lid, k0, depth, cos, false);
    workgroupBarrier();
    multiply_stage(lid, &acc);
    workgroupBarrier(); // before the next stage overwrites the tiles
  }

  if (co >= p.out_channels) {
    return;
  }
  var b = vec4f(0.0);
  if (HAS_BIAS) {
    b = vec4f(bias[cos.x], bias[cos.y], bias[cos.z], bias[cos.w]);
  }
  let channels = min(4u, p.out_channels - co);
  for (var r = 0u; r < 4u; r++) {
    if (!row_in[r]) {
      break;
    }
    let v = acc[r] + b;
    let o = (m0 + r) * p.out_channels + co;
    for (var j = 0u; j < channels; j++) {
      output[o + j] = activate(v[j]);
    }
  }
}

// ---- backward_input_tiled: the input gradient as an implicit GEMM (see the header) ----

@compute @workgroup_size(THREADS_X, THREADS_Y)
fn backward_input_tiled(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let pixels = p.batch * p.in_height * p.in_width;
  let depth = p.kernel_height * p.kernel_width * p.out_channels;
  let column_tiles = (p.in_channels + TILE_N - 1u) / TILE_N;
  let tile = wid.x + wid.y * groups.x;
  if (tile >= column_tiles * ((pixels + TILE_M - 1u) / TILE_M)) {
    return; // whole workgroups only, as in forward_tiled
  }
  let m0 = (tile / column_tiles) * TILE_M + lid.y * 4u;
  let ci = (tile % column_tiles) * TILE_N + lid.x * 4u;
  let cis = channel_block(ci, p.in_channels);

  // The invocation's 4 input pixels: ih + pad_top = oh * stride_height + kh * dilation_height for
  // the output rows oh that read them (columns alike).
  let rows = gemm_row_pixels(m0, pixels, p.in_height, p.in_width);
  let row_in = rows.valid;
  let image_row = rows.image * p.out_height; // first output row of the pixel's image
  let oh_scaled0 = vec4i(rows.row + vec4u(p.pad_top));
  let ow_scaled0 = vec4i(rows.column + vec4u(p.pad_left));
  let stride_h = vec4i(i32(p.stride_height));
  let stride_w = vec4i(i32(p.stride_width));

  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < depth; k0 += TILE_K) {
    // A[m, k] = output_grad[n, oh, ow, co] for k = tap * Cout + co, zero where no output pixel reads
    // (ih, iw) through the tap: off the output, or between strides (most entries at stride > 1).
    for (var kk = lid.x; kk < TILE_K; kk += THREADS_X) {
      let k = k0 + kk;
      var v = vec4f(0.0);
      if (k < depth) {
        let co = k % p.out_channels;
        let tap = k / p.out_channels;
        let oh_scaled = oh_scaled0 - vec4i(i32((tap / p.kernel_width) * p.dilation_height));
        let ow_scaled = ow_scaled0 - vec4i(i32((tap % p.kernel_width) * p.dilation_width));
        let oh = oh_scaled / stride_h;
        let ow = ow_scaled / stride_w;
        let inside = row_in & (oh_scaled >= vec4i(0)) & (ow_scaled >= vec4i(0)) &
          (oh * stride_h == oh_scaled) & (ow * stride_w == ow_scaled) &
          (oh < vec4i(i32(p.out_height))) & (ow < vec4i(i32(p.out_width)));
        for (var r = 0u; r < 4u; r++) {
          let g_index = select(0u, ((image_row[r] + u32(oh[r])) * p.out_width + u32(ow[r])) * p.out_channels + co, inside[r]);
          v[r] = select(0.0, output_grad[g_index], inside[r]);
        }
      }
      tile_a[kk * THREADS_Y + lid.y] = v;
    }
    stage_filter(lid, k0, depth, cis, true);
    workgroupBarrier();
    multiply_stage(lid, &acc);
    workgroupBarrier();
  }

  if (ci >= p.in_channels) {
    return;
  }
  let channels = min(4u, p.in_channels - ci);
  for (var r = 0u; r < 4u; r++) {
    if (!row_in[r]) {
      break;
    }
    let o = (m0 + r) * p.in_channels + ci;
    for (var j = 0u; j < channels; j++) {
      input_grad[o + j] = input_epilogue(acc[r][j], ci + j);
    }
  }
}
