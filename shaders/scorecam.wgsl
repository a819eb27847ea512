// Score-CAM (Wang et al. 2020): a layer's K activation maps, upsampled to the input's H x W and
// normalized to [0, 1], each multiply the image; the target's score on each masked copy, softmaxed
// over the K channels, weights the maps. Several images run together: image i has its own maps,
// and job j (an image and a target) its own channel scores and weights.
//   channel_range:  ranges[i, 2k] = min, ranges[i, 2k + 1] = max of upsampled[i, ., k] over the H * W
//                   pixels, for i < images.
//   mask_copies:    copies[n, p, c] = images[i, p, c] * norm_ik(upsampled[i, p, k]) for chunk row n
//                   with table[n] = (image i, channel k, job), where norm_ik(v) = (v - min_ik) /
//                   (max_ik - min_ik) (eq. 3's s(.)), and 0 for a flat map (max == min: no mask to
//                   normalize; such a channel is left out of the softmax, as the authors' code skips it).
//   (the copies' scores are the batch's item_scores of shaders/score.wgsl, written to
//   channel_scores[j, k] = channel_scores[copy j * K + k] by the caller)
//   softmax_weights: weights[j, k] = exp(S_jk - max_k S_jk) / sum over non-flat channels, 0 for flat
//                   ones (Algorithm 1's softmax over the channel scores; the baseline's score f(X_b)
//                   of eq. 5's increase cancels in it, so it is not computed), one invocation per job.
//   combine:        result[j, p] = relu(sum_k weights[j, k] * norm_ik(upsampled[i, p, k])) (eq. 6).
// Layouts: images [images, H, W, C] and copies [count, H, W, C] NHWC; upsampled [images, H, W, K];
// ranges [images, 2K]; table [count, 3] and jobs [jobs, 3] rows (image, copy, job) as f32;
// channel_scores, weights [jobs, K]; result [jobs, H * W].
// Bindings (params in every entry):
//   channel_range:   upsampled (read), ranges (read_write)
//   mask_copies:     images (read), table (read), upsampled, ranges, copies (read_write)
//   softmax_weights: jobs (read), ranges, channel_scores (read), weights (read_write)
//   combine:         jobs, upsampled, ranges, weights, result (read_write)

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  /** H * W, image channels C, maps K. */
  pixels: u32,
  channels: u32,
  maps: u32,
  /** Items of the entry: images (channel_range), chunk rows (mask_copies), jobs (softmax_weights, combine). */
  count: u32,
}

@group(0) @binding(0) var<storage, read> images: array<f32>;
@group(0) @binding(1) var<storage, read> upsampled: array<f32>;
@group(0) @binding(2) var<storage, read_write> ranges: array<f32>;
@group(0) @binding(3) var<storage, read_write> copies: array<f32>;
@group(0) @binding(4) var<storage, read> table: array<f32>;
@group(0) @binding(5) var<storage, read> jobs: array<f32>;
@group(0) @binding(6) var<storage, read> channel_scores: array<f32>;
@group(0) @binding(7) var<storage, read_write> weights: array<f32>;
@group(0) @binding(8) var<storage, read_write> result: array<f32>;
@group(0) @binding(9) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

fn flat(i: u32, k: u32) -> bool {
  let r = 2u * (i * params.maps + k);
  return ranges[r + 1u] <= ranges[r];
}

/** Map k of image i at pixel p scaled to [0, 1]; 0 for a flat map. */
fn normalized(i: u32, p: u32, k: u32) -> f32 {
  let r = 2u * (i * params.maps + k);
  let low = ranges[r];
  let span = ranges[r + 1u] - low;
  return select((upsampled[(i * params.pixels + p) * params.maps + k] - low) / span, 0.0, flat(i, k));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn channel_range(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let ik = linear_index(gid, groups);
  if (ik >= params.count * params.maps) {
    return;
  }
  let i = ik / params.maps;
  let k = ik % params.maps;
  let base = i * params.pixels * params.maps + k;
  var low = upsampled[base];
  var high = low;
  for (var p = 1u; p < params.pixels; p++) {
    let v = upsampled[base + p * params.maps];
    low = min(low, v);
    high = max(high, v);
  }
  ranges[2u * ik] = low;
  ranges[2u * ik + 1u] = high;
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
  let k = u32(table[3u * n + 1u]);
  let at = e % per_image;
  copies[e] = images[i * per_image + at] * normalized(i, at / params.channels, k);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn softmax_weights(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let j = linear_index(gid, groups);
  if (j >= params.count) {
    return;
  }
  let i = u32(jobs[3u * j]);
  let base = j * params.maps;
  var largest = -3.4028234663852886e38;
  for (var k = 0u; k < params.maps; k++) {
    if (!flat(i, k)) {
      largest = max(largest, channel_scores[base + k]);
    }
  }
  var total = 0.0;
  for (var k = 0u; k < params.maps; k++) {
    let w = select(exp(channel_scores[base + k] - largest), 0.0, flat(i, k));
    weights[base + k] = w;
    total += w;
  }
  for (var k = 0u; k < params.maps; k++) {
    weights[base + k] = select(weights[base + k] / total, 0.0, total == 0.0);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn combine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let jp = linear_index(gid, groups);
  if (jp >= params.count * params.pixels) {
    return;
  }
  let j = jp / params.pixels;
  let p = jp % params.pixels;
  let i = u32(jobs[3u * j]);
  var total = 0.0;
  for (var k = 0u; k < params.maps; k++) {
    total += weights[j * params.maps + k] * normalized(i, p, k);
  }
  result[jp] = max(total, 0.0);
}
