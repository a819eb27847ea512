// Occlusion (Zeiler & Fergus 2014): how much the class score drops when a window of the image is
// replaced by a constant, averaged per pixel over the windows that cover it.
// Windows: window_h x window_w, top-left corners (wy * stride_h, wx * stride_w) for
// wy < windows_y, wx < windows_x (only windows that fit in the image); window index
// v = wy * windows_x + wx.
// Batches: `table` rows (image i, window v, job j), stride 3, say what batch row n is.
//   occlude:        copies[n, y, x, c] = fill inside window v, else images[i, y, x, c].
//   score_drop:     deltas[j * windows + v] = clean[j] - scores[n]: the score's drop (scores of
//                   the copies and clean[j] of job j's unoccluded image come from score.wgsl).
//   occlusion_map:  result[j, y, x] = mean of deltas[j, v] over the windows v covering (y, x), 0
//                   where none does; then result[j, H * W] = targets[j] and result[j, H * W + 1] =
//                   clean[j]. Rows of H * W + 2 values, one per job.
// Layouts: images [I, H, W, C] and copies [count, H, W, C] NHWC; scores [count]; clean and
// targets [J] (class index as f32); deltas [J, windows]; result [J, H * W + 2].
// Bindings (params in every entry):
//   occlude:        images, table (read), copies (read_write)
//   score_drop:     scores, clean, table (read), deltas (read_write)
//   occlusion_map:  clean, targets, deltas (read), result (read_write)

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  height: u32,
  width: u32,
  channels: u32,
  window_h: u32,
  window_w: u32,
  stride_h: u32,
  stride_w: u32,
  windows_y: u32,
  windows_x: u32,
  /** Copies in this chunk. */
  count: u32,
  fill: f32,
}

@group(0) @binding(0) var<storage, read> images: array<f32>;
@group(0) @binding(1) var<storage, read_write> copies: array<f32>;
@group(0) @binding(2) var<storage, read> scores: array<f32>;
@group(0) @binding(3) var<storage, read> clean: array<f32>;
@group(0) @binding(4) var<storage, read> targets: array<f32>;
@group(0) @binding(5) var<storage, read_write> deltas: array<f32>;
@group(0) @binding(6) var<storage, read_write> result: array<f32>;
@group(0) @binding(7) var<storage, read> table: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn occlude(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let per_image = params.height * params.width * params.channels;
  if (i >= params.count * per_image) {
    return;
  }
  let e = i % per_image;
  let n = i / per_image;
  let v = u32(table[3u * n + 1u]);
  let pixel = e / params.channels;
  let y = pixel / params.width;
  let x = pixel % params.width;
  let top = (v / params.windows_x) * params.stride_h;
  let left = (v % params.windows_x) * params.stride_w;
  // unsigned: y < top wraps to a huge y - top, so one comparison per axis tests both sides
  let inside = y - top < params.window_h && x - left < params.window_w;
  copies[i] = select(images[u32(table[3u * n]) * per_image + e], params.fill, inside);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn score_drop(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = linear_index(gid, groups);
  if (n >= params.count) {
    return;
  }
  let job = u32(table[3u * n + 2u]);
  let windows = params.windows_y * params.windows_x;
  deltas[job * windows + u32(table[3u * n + 1u])] = clean[job] - scores[n];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn occlusion_map(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = linear_index(gid, groups);
  if (index >= arrayLength(&result)) {
    return;
  }
  let pixels = params.height * params.width;
  let job = index / (pixels + 2u);
  let i = index % (pixels + 2u);
  if (i == pixels) {
    result[index] = targets[job];
    return;
  }
  if (i == pixels + 1u) {
    result[index] = clean[job];
    return;
  }
  let y = i / params.width;
  let x = i % params.width;
  let windows = params.windows_y * params.windows_x;
  // window rows wy cover y when wy * stride_h <= y < wy * stride_h + window_h:
  // wy from ceil((y + 1 - window_h) / stride_h) (at least 0) to floor(y / stride_h) (below windows_y)
  let first_y = select(0u, (y + 1u - params.window_h + params.stride_h - 1u) / params.stride_h, y + 1u > params.window_h);
  let first_x = select(0u, (x + 1u - params.window_w + params.stride_w - 1u) / params.stride_w, x + 1u > params.window_w);
  let last_y = min(y / params.stride_h + 1u, params.windows_y);
  let last_x = min(x / params.stride_w + 1u, params.windows_x);
  var total = 0.0;
  var covering = 0u;
  for (var wy = first_y; wy < last_y; wy++) {
    for (var wx = first_x; wx < last_x; wx++) {
      total += deltas[job * windows + wy * params.windows_x + wx];
      covering++;
    }
  }
  result[index] = select(0.0, total / f32(covering), covering > 0u);
}
