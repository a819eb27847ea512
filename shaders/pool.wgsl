// Max and average pooling over NHWC tensors: forward, and backward to the input.
// Window of output (n, oy, ox, c): input rows oy * stride_y - pad_top + [0, pool_height) and
// columns ox * stride_x - pad_left + [0, pool_width), channel c. Cells outside the input are
// padding: they never win a max and are not counted in an average (TensorFlow's rule, so an
// average divides by the number of cells inside the input).
// Max ties: the FIRST maximum in row-major window order wins (strict `>`), as TensorFlow's
// MaxPoolGrad does; the whole gradient of that window goes to it.
// Backward entries gather: each input element loops over the windows that contain it, so there
// are no atomics and no stored argmax indices; max_backward recomputes each window's argmax from
// the forward input. max_backward_blocks computes the same gradient where windows do not overlap
// (stride >= pool in both directions, as in Keras's 2x2 / 2): one invocation per window finds its
// argmax once and writes its block of input cells: the window, the uncovered gap after it when
// stride > pool, and for the last window of a row or column the uncovered cells past it, which
// tile the input exactly (TF padding stays under one stride there), so every element is written
// once. It needs a sixth of the gather form's integer divisions, which are what these kernels
// cost on CPU adapters (emulated lane by lane). The max entries (max_forward per output pixel,
// max_backward per input pixel, max_backward_blocks per window) take 4 consecutive channels per
// invocation, which share the position decoding and windows; the avg entries one element.
// Layouts: input, input_grad [N, in_height, in_width, channels];
//          output, output_grad [N, out_height, out_width, channels].
// Bindings (params in every entry):
//   max_forward, avg_forward: input (read), output (read_write)
//   max_backward, max_backward_blocks: input (read: forward input), output_grad (read), input_grad (read_write)
//   avg_backward:             output_grad (read), input_grad (read_write)

override WORKGROUP_SIZE: u32 = 64;

// Signed so that window origins can lie in the padding (negative).
struct Params {
  in_height: i32,
  in_width: i32,
  channels: i32,
  out_height: i32,
  out_width: i32,
  pool_height: i32,
  pool_width: i32,
  stride_y: i32,
  stride_x: i32,
  pad_top: i32,
  pad_left: i32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<storage, read> output_grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> input_grad: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

/** The input cells of one window, clipped to the input: rows [y0, y1), columns [x0, x1). */
struct Window {
  y0: i32,
  y1: i32,
  x0: i32,
  x1: i32,
}

fn window_of(oy: i32, ox: i32) -> Window {
  let top = oy * params.stride_y - params.pad_top;
  let left = ox * params.stride_x - params.pad_left;
  return Window(max(top, 0), min(top + params.pool_height, params.in_height), max(left, 0), min(left + params.pool_width, params.in_width));
}

fn input_index(n: i32, y: i32, x: i32, c: i32) -> i32 {
  return ((n * params.in_height + y) * params.in_width + x) * params.channels + c;
}

fn output_index(n: i32, oy: i32, ox: i32, c: i32) -> i32 {
  return ((n * params.out_height + oy) * params.out_width + ox) * params.channels + c;
}

/** Output rows (or columns) whose windows contain input row i: [first, last], empty when first > last. */
fn covering(i: i32, pad: i32, pool: i32, stride: i32, out_size: i32) -> vec2i {
  // window o covers rows o*stride - pad + [0, pool): o*stride <= i + pad and o*stride >= i + pad - pool + 1
  let low = i + pad - pool + 1;
  let first = select(0, (low + stride - 1) / stride, low > 0);
  let last = min((i + pad) / stride, out_size - 1);
  return vec2i(first, last);
}

/** (n, y, x, c) of element i of an NHWC tensor with the given height and width. */
fn position(i: i32, height: i32, width: i32) -> vec4i {
  let c = i % params.channels;
  let x = (i / params.channels) % width;
  let y = (i / (params.channels * width)) % height;
  return vec4i(i / (params.channels * width * height), y, x, c);
}

/** Output rows (x: first, y: last) and columns (z, w) of the windows that contain input cell (y, x). */
fn covering_windows(y: i32, x: i32) -> vec4i {
  let rows = covering(y, params.pad_top, params.pool_height, params.stride_y, params.out_height);
  let columns = covering(x, params.pad_left, params.pool_width, params.stride_x, params.out_width);
  return vec4i(rows, columns);
}

/** Channels c .. c + 3, the ones past the last clamped to it (loaded, never stored). */
fn channel_block(c: i32) -> vec4i {
  return min(vec4i(c) + vec4i(0, 1, 2, 3), vec4i(params.channels - 1));
}

/** Invocations of a 4-channel entry over an NHWC tensor of `elements` values. */
fn blocks_of(elements: u32) -> u32 {
  return elements / u32(params.channels) * u32((params.channels + 3) / 4);
}

/** (n, y, x) of invocation i's pixel in an NHWC tensor of height x width, and its first channel. */
fn block_position(i: i32, height: i32, width: i32) -> vec4i {
  let channel_blocks = (params.channels + 3) / 4;
  let pixel = i / channel_blocks;
  return vec4i(pixel / (width * height), (pixel / width) % height, pixel % width, (i % channel_blocks) * 4);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let linear = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (linear >= blocks_of(arrayLength(&output))) {
    return;
  }
  let p = block_position(i32(linear), params.out_height, params.out_width);
  let best = first_argmax(p.x, window_of(p.y, p.z), channel_block(p.w));
  let values = vec4f(input[best.x], input[best.y], input[best.z], input[best.w]);
  let o = output_index(p.x, p.y, p.z, p.w);
  for (var j = 0; j < min(4, params.channels - p.w); j++) {
    output[o + j] = values[j];
  }
}

/**
 * Per channel of `cs`, the flat input index of the window's first maximum in row-major order
 * (strict `>`: ties keep the earlier cell).
 */
fn first_argmax(n: i32, w: Window, cs: vec4i) -> vec4i {
  // TF 'same'/'valid' geometry never yields an empty window, so the first cell exists
  let first = input_index(n, w.y0, w.x0, 0);
  var best = vec4i(first) + cs;
  var best_value = vec4f(input[best.x], input[best.y], input[best.z], input[best.w]);
  for (var y = w.y0; y < w.y1; y++) {
    for (var x = w.x0; x < w.x1; x++) {
      let j = vec4i(input_index(n, y, x, 0)) + cs;
      let v = vec4f(input[j.x], input[j.y], input[j.z], input[j.w]);
      let better = v > best_value;
      best = select(best, j, better);
      best_value = select(best_value, v, better);
    }
  }
  return best;
}

// One invocation per 4 consecutive channels of an input pixel: the position decoding and the
// covering windows (integer divisions, emulated lane by lane on CPU adapters) are shared.
@compute @workgroup_size(WORKGROUP_SIZE)
fn max_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let linear = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (linear >= blocks_of(arrayLength(&input_grad))) {
    return;
  }
  let p = block_position(i32(linear), params.in_height, params.in_width);
  let n = p.x;
  let y = p.y;
  let x = p.z;
  let c = p.w;
  let cs = channel_block(c);
  let here = vec4i(input_index(n, y, x, 0)) + cs;
  let windows = covering_windows(y, x);
  var sum = vec4f(0.0);
  for (var oy = windows.x; oy <= windows.y; oy++) {
    for (var ox = windows.z; ox <= windows.w; ox++) {
      // a channel receives the window's gradient only where this element is its (first) argmax
      let wins = first_argmax(n, window_of(oy, ox), cs) == here;
      let g = vec4i(output_index(n, oy, ox, 0)) + cs;
      sum += select(vec4f(0.0), vec4f(output_grad[g.x], output_grad[g.y], output_grad[g.z], output_grad[g.w]), wins);
    }
  }
  let o = input_index(n, y, x, c);
  for (var j = 0; j < min(4, params.channels - c); j++) {
    input_grad[o + j] = sum[j];
  }
}

/** Input cells [first, last) of the block of window o along one axis (see the header). */
fn block_cells(o: i32, stride: i32, pad: i32, out_size: i32, in_size: i32) -> vec2i {
  let first = max(o * stride - pad, 0);
  let last = select(min((o + 1) * stride - pad, in_size), in_size, o == out_size - 1);
  return vec2i(first, last);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_backward_blocks(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let linear = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (linear >= blocks_of(arrayLength(&output_grad))) {
    return;
  }
  let p = block_position(i32(linear), params.out_height, params.out_width);
  let n = p.x;
  let c = p.w;
  let cs = channel_block(c);
  let best = first_argmax(n, window_of(p.y, p.z), cs);
  let g_index = vec4i(output_index(n, p.y, p.z, 0)) + cs;
  let g = vec4f(output_grad[g_index.x], output_grad[g_index.y], output_grad[g_index.z], output_grad[g_index.w]);
  let count = min(4, params.channels - c);
  let rows = block_cells(p.y, params.stride_y, params.pad_top, params.out_height, params.in_height);
  let columns = block_cells(p.z, params.stride_x, params.pad_left, params.out_width, params.in_width);
  for (var y = rows.x; y < rows.y; y++) {
    for (var x = columns.x; x < columns.y; x++) {
      let cell = input_index(n, y, x, 0);
      let values = select(vec4f(0.0), g, vec4i(cell) + cs == best);
      for (var k = 0; k < count; k++) {
        input_grad[cell + c + k] = values[k];
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let linear = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (linear >= arrayLength(&output)) {
    return;
  }
  let i = i32(linear);
  let p = position(i, params.out_height, params.out_width);
  let n = p.x;
  let oy = p.y;
  let ox = p.z;
  let c = p.w;
  let w = window_of(oy, ox);
  var sum = 0.0;
  for (var y = w.y0; y < w.y1; y++) {
    for (var x = w.x0; x < w.x1; x++) {
      sum += input[input_index(n, y, x, c)];
    }
  }
  output[i] = sum / f32((w.y1 - w.y0) * (w.x1 - w.x0));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let linear = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (linear >= arrayLength(&input_grad)) {
    return;
  }
  let i = i32(linear);
  let p = position(i, params.in_height, params.in_width);
  let n = p.x;
  let c = p.w;
  let windows = covering_windows(p.y, p.z);
  var sum = 0.0;
  for (var oy = windows.x; oy <= windows.y; oy++) {
    for (var ox = windows.z; ox <= windows.w; ox++) {
      // each window spread its gradient evenly over the cells it counted
      let w = window_of(oy, ox);
      sum += output_grad[output_index(n, oy, ox, c)] / f32((w.y1 - w.y0) * (w.x1 - w.x0));
    }
  }
  input_grad[i] = sum;
}
