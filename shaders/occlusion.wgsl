// Occlusion (Zeiler & Fergus 2014): how much the class score drops when a window of the image is
// replaced by a constant, averaged per pixel over the windows that cover it.
// Windows: window_h x window_w, top-left corners (wy * stride_h, wx * stride_w) for
// wy < windows_y, wx < windows_x (only windows that fit in the image); window index
// v = wy * windows_x + wx.
//   occlude:        copies[n, y, x, c] = fill inside window v = start + n, else image[y, x, c],
//                   for n < count.
//   score_drop:     deltas[start + n] = score(clean) - score(copies[n]) for n < count, where a
//                   score is sum over s of scores[n, s, target] (s: the score node's positions,
//                   1 for logits [N, C]) and the clean score comes from `clean` [1, S, C].
//   occlusion_map:  result[y, x] = mean of deltas[v] over the windows v covering (y, x), 0 where
//                   none does; then result[H * W] = target and result[H * W + 1] = score(clean).
// Layouts: image [1, H, W, C] and copies [count, H, W, C] NHWC; scores [count, S, classes];
// clean [1, S, classes]; targets [1] (class index as f32); deltas [windows]; result [H * W + 2].
// Bindings (params in every entry):
//   occlude:        image (read), copies (read_write)
//   score_drop:     scores (read), clean (read), targets (read), deltas (read_write)
//   occlusion_map:  clean, targets, deltas, result (read_write)

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
  /** Positions S and classes of the score node, per item. */
  score_positions: u32,
  classes: u32,
  /** First window of this chunk, and the chunk's size. */
  start: u32,
  count: u32,
  fill: f32,
}

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read_write> copies: array<f32>;
@group(0) @binding(2) var<storage, read> scores: array<f32>;
@group(0) @binding(3) var<storage, read> clean: array<f32>;
@group(0) @binding(4) var<storage, read> targets: array<f32>;
@group(0) @binding(5) var<storage, read_write> deltas: array<f32>;
@group(0) @binding(6) var<storage, read_write> result: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

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
  let v = params.start + i / per_image;
  let pixel = e / params.channels;
  let y = pixel / params.width;
  let x = pixel % params.width;
  let top = (v / params.windows_x) * params.stride_h;
  let left = (v % params.windows_x) * params.stride_w;
  // unsigned: y < top wraps to a huge y - top, so one comparison per axis tests both sides
  let inside = y - top < params.window_h && x - left < params.window_w;
  copies[i] = select(image[e], params.fill, inside);
}

/** The clean image's score: sum over positions s of clean[s, target]. */
fn clean_score() -> f32 {
  let t = u32(targets[0]);
  var total = 0.0;
  for (var s = 0u; s < params.score_positions; s++) {
    total += clean[s * params.classes + t];
  }
  return total;
}

/** Copy n's score: sum over positions s of scores[n, s, target]. */
fn copy_score(n: u32) -> f32 {
  let t = u32(targets[0]);
  var total = 0.0;
  for (var s = 0u; s < params.score_positions; s++) {
    total += scores[(n * params.score_positions + s) * params.classes + t];
  }
  return total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn score_drop(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = linear_index(gid, groups);
  if (n >= params.count) {
    return;
  }
  deltas[params.start + n] = clean_score() - copy_score(n);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn occlusion_map(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let pixels = params.height * params.width;
  if (i == pixels) {
    result[i] = targets[0];
    return;
  }
  if (i == pixels + 1u) {
    result[i] = clean_score();
    return;
  }
  if (i > pixels + 1u) {
    return;
  }
  let y = i / params.width;
  let x = i % params.width;
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
      total += deltas[wy * params.windows_x + wx];
      covering++;
    }
  }
  result[i] = select(0.0, total / f32(covering), covering > 0u);
}
