// Zero padding of H and W (ZeroPadding2D) and its gradient, the crop, as one windowed copy:
//   output[n, y, x, c] = input[n, y + offset_y, x + offset_x, c], or 0 where that falls outside the input.
// Forward (pad):     offsets = (-top, -left), output [N, H + top + bottom, W + left + right, C].
// Backward (crop):   offsets = (+top, +left), output [N, H, W, C] read from dy [N, H + top + bottom, ...];
//                    always inside, because padded positions get no gradient to pass on.
// Layouts NHWC; one invocation per output element.
// Bindings: input (read), output (read_write), params

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  out_height: u32,
  out_width: u32,
  channels: u32,
  in_height: u32,
  in_width: u32,
  offset_y: i32,
  offset_x: i32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn window(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= arrayLength(&output)) {
    return;
  }
  let c = i % params.channels;
  let pixel = i / params.channels;
  let x = pixel % params.out_width;
  let row = pixel / params.out_width;
  let y = row % params.out_height;
  let n = row / params.out_height;
  let iy = i32(y) + params.offset_y;
  let ix = i32(x) + params.offset_x;
  var value = 0.0;
  if (iy >= 0 && iy < i32(params.in_height) && ix >= 0 && ix < i32(params.in_width)) {
    value = input[((n * params.in_height + u32(iy)) * params.in_width + u32(ix)) * params.channels + c];
  }
  output[i] = value;
}
