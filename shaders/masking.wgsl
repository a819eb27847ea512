// Segment masking for the perturbation methods (LIME, KernelSHAP): copies of one image where each
// segment (superpixel) is either kept or replaced by a baseline (their scores: shaders/score.wgsl).
//   segment_means:      means[s, c] = mean of image[y, x, c] over the pixels with labels[y, x] = s
//                       (0 for a segment without pixels), for s < segments.
//   fill_segment_means: baseline[y, x, c] = means[labels[y, x], c] (LIME's default "hide colour").
//   mask_copies:        copies[n, y, x, c] = image[y, x, c] where masks[start + n, labels[y, x]] != 0,
//                       else baseline[y, x, c], for n < count.
// Nothing here is differentiated: the perturbation methods need forward passes only; a mask
// entry is on when it is non-zero (the CPU writes exactly 0 or 1).
// Layouts: image and baseline [1, H, W, C] NHWC; labels [H, W] (segment index as f32); means
// [segments, C]; masks [rows, segments] (1 keep, 0 replace); copies [count, H, W, C].
// Bindings (params in every entry):
//   segment_means:      image (read), labels (read), means (read_write)
//   fill_segment_means: labels, means, baseline (read_write)
//   mask_copies:        image, baseline, labels, masks (read), copies (read_write)

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  pixels: u32,
  channels: u32,
  segments: u32,
  /** First mask row of this chunk, and the chunk's size. */
  start: u32,
  count: u32,
}

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> means: array<f32>;
@group(0) @binding(3) var<storage, read_write> baseline: array<f32>;
@group(0) @binding(4) var<storage, read> masks: array<f32>;
@group(0) @binding(5) var<storage, read_write> copies: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

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
  let i = linear_index(gid, groups);
  let per_image = params.pixels * params.channels;
  if (i >= params.count * per_image) {
    return;
  }
  let e = i % per_image;
  let row = params.start + i / per_image;
  let keep = masks[row * params.segments + u32(labels[e / params.channels])] != 0.0;
  copies[i] = select(baseline[e], image[e], keep);
}
