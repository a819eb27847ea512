// Segment masking for the perturbation methods (LIME, KernelSHAP): copies of images where each
// segment (superpixel) is either kept or replaced by a baseline (their scores: shaders/score.wgsl).
//   segment_means:      means[s, c] = mean of image[y, x, c] over the pixels with labels[y, x] = s
//                       (0 for a segment without pixels), for s < segments.
//   fill_segment_means: baseline[y, x, c] = means[labels[y, x], c] (LIME's default "hide colour").
//   mask_copies:        for chunk row n < count with table[n] = (image i, mask row r, job):
//                       copies[n, y, x, c] = images[i, y, x, c] where masks[i, r, image_labels[i, y, x]] != 0,
//                       else baselines[i, y, x, c] (several images' copies in one chunk).
// Nothing here is differentiated: the perturbation methods need forward passes only; a mask
// entry is on when it is non-zero (the CPU writes exactly 0 or 1).
// Layouts: image and baseline [1, H, W, C] NHWC; labels [H, W] (segment index as f32); means
// [segments, C]; images and baselines [images, H, W, C]; image_labels [images, H, W]; masks
// [images, rows, segments] (1 keep, 0 replace); table [count, 3] as f32; copies [count, H, W, C].
// Bindings (params in every entry):
//   segment_means:      image (read), labels (read), means (read_write)
//   fill_segment_means: labels, means, baseline (read_write)
//   mask_copies:        images, baselines, image_labels, masks, table (read), copies (read_write)

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  pixels: u32,
  channels: u32,
  /** Segments and mask rows per image (mask_copies: the largest over the images). */
  segments: u32,
  rows: u32,
  /** Rows of this chunk (mask_copies). */
  count: u32,
}

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> means: array<f32>;
@group(0) @binding(3) var<storage, read_write> baseline: array<f32>;
@group(0) @binding(4) var<storage, read> masks: array<f32>;
@group(0) @binding(5) var<storage, read_write> copies: array<f32>;
@group(0) @binding(6) var<storage, read> images: array<f32>;
@group(0) @binding(7) var<storage, read> baselines: array<f32>;
@group(0) @binding(8) var<storage, read> image_labels: array<f32>;
@group(0) @binding(9) var<storage, read> table: array<f32>;
@group(0) @binding(10) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn segment_means(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= params.segments * params.channels) {
    return;
  }
  // one invocation per (segment, channel) scans the image: no atomics, and segments are few
  let s = i / params.channels;
  let c = i % params.channels;
  var total = 0.0;
  var count = 0u;
  for (var p = 0u; p < params.pixels; p++) {
    if (u32(labels[p]) == s) {
      total += image[p * params.channels + c];
      count++;
    }
  }
  means[i] = select(0.0, total / f32(count), count > 0u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn fill_segment_means(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= params.pixels * params.channels) {
    return;
  }
  let p = i / params.channels;
  baseline[i] = means[u32(labels[p]) * params.channels + i % params.channels];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn mask_copies(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = linear_index(gid, groups);
  let per_image = params.pixels * params.channels;
  if (e >= params.count * per_image) {
    return;
  }
  let n = e / per_image;
  let i = u32(table[3u * n]);
  let r = u32(table[3u * n + 1u]);
  let at = i * per_image + e % per_image;
  let label = u32(image_labels[i * params.pixels + (e % per_image) / params.channels]);
  let keep = masks[(i * params.rows + r) * params.segments + label] != 0.0;
  copies[e] = select(baselines[at], images[at], keep);
}
