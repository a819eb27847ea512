// Mini-batch assembly for training: rows of a dataset picked by index, with optional augmentation
// (horizontal flip, integer shifts), all on the GPU so the dataset is uploaded once.
//   output[b, y, x, c] = source[indices[b], y - shift_y(b), x' - shift_x(b), c], 0 outside the image,
//   where x' = W - 1 - x when example b is flipped, else x. Per example b, three uniforms
//   u = augment[b, 0..2] in [0, 1) (from the counter-based generator, so a seed fixes them):
//   flipped = flip_enabled && u0 < 0.5; shift_* = floor(u * (2 * max_shift + 1)) - max_shift.
// Not differentiated (it feeds the network; gradients stop at the batch).
// Layouts: source [N, H, W, C], output [B, H, W, C] (NHWC); indices [B] as f32 (exact below 2^24).
// Bindings: source (read), indices (read), augment (read [B, 3]), output (read_write), params.

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  batch: u32,
  height: u32,
  width: u32,
  channels: u32,
  flip_enabled: u32,
  max_shift: u32,
}

@group(0) @binding(0) var<storage, read> source: array<f32>;
@group(0) @binding(1) var<storage, read> indices: array<f32>;
@group(0) @binding(2) var<storage, read> augment: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn shift_of(u: f32) -> i32 {
  let span = 2u * params.max_shift + 1u;
  return i32(min(u32(u * f32(span)), span - 1u)) - i32(params.max_shift);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  let image = params.height * params.width * params.channels;
  if (i >= params.batch * image) {
    return;
  }
  // decode output [b, y, x, c]
  let b = i / image;
  let within = i - b * image;
  let c = within % params.channels;
  let pixel = within / params.channels;
  let x = i32(pixel % params.width);
  let y = i32(pixel / params.width);
  // augment is only read when augmentation is on (without it the binding may be any small tensor)
  let flipped = params.flip_enabled != 0u && augment[3u * b] < 0.5;
  var sy = 0;
  var sx = 0;
  if (params.max_shift > 0u) {
    sy = shift_of(augment[3u * b + 1u]);
    sx = shift_of(augment[3u * b + 2u]);
  }
  let from_x = select(x, i32(params.width) - 1 - x, flipped) - sx;
  let from_y = y - sy;
  if (from_x < 0 || from_y < 0 || from_x >= i32(params.width) || from_y >= i32(params.height)) {
    output[i] = 0.0;
    return;
  }
  let row = u32(indices[b]);
  output[i] = source[row * image + (u32(from_y) * params.width + u32(from_x)) * params.channels + c];
}
