// Score-CAM (Wang et al. 2020): a layer's K activation maps, upsampled to the input's H x W and
// normalized to [0, 1], each multiply the image; the target's score on each masked copy, softmaxed
// over the K channels, weights the maps.
//   channel_range:  ranges[2k] = min, ranges[2k + 1] = max of upsampled[., k] over the H * W pixels.
//   mask_copies:    copies[n, p, c] = image[p, c] * norm_k(upsampled[p, k]) with k = start + n, for
//                   n < count, where norm_k(v) = (v - min_k) / (max_k - min_k) (eq. 3's s(.)), and 0
//                   for a flat map (max_k == min_k: no mask to normalize; such a channel is left out
//                   of the softmax, as the authors' code skips it).
//   gather_scores:  channel_scores[start + n] = sum over positions s of scores[n, s, target].
//   softmax_weights (one invocation): weights[k] = exp(S_k - max S) / sum over non-flat channels,
//                   0 for flat ones (Algorithm 1's softmax over the channel scores; the baseline's
//                   score f(X_b) of eq. 5's increase cancels in it, so it is not computed).
//   combine:        result[p] = relu(sum_k weights[k] * norm_k(upsampled[p, k])) (eq. 6), for p < H * W.
// Layouts: image [1, H, W, C] and copies [count, H, W, C] NHWC; upsampled [1, H, W, K]; ranges
// [2K]; scores [count, S, classes]; targets [1] (class index as f32); channel_scores, weights [K];
// result [H * W] (+ anything the caller appends after it).
// Bindings (params in every entry):
//   channel_range:   upsampled (read), ranges (read_write)
//   mask_copies:     image (read), upsampled, ranges, copies (read_write)
//   gather_scores:   scores (read), targets (read), channel_scores (read_write)
//   softmax_weights: ranges, channel_scores, weights (read_write)
//   combine:         upsampled, ranges, weights, result (read_write)

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  /** H * W, image channels C, maps K. */
  pixels: u32,
  channels: u32,
  maps: u32,
  /** Positions S and classes of the score node, per item. */
  score_positions: u32,
  classes: u32,
  /** First map of this chunk, and the chunk's size. */
  start: u32,
  count: u32,
}

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read> upsampled: array<f32>;
@group(0) @binding(2) var<storage, read_write> ranges: array<f32>;
@group(0) @binding(3) var<storage, read_write> copies: array<f32>;
@group(0) @binding(4) var<storage, read> scores: array<f32>;
@group(0) @binding(5) var<storage, read> targets: array<f32>;
@group(0) @binding(6) var<storage, read_write> channel_scores: array<f32>;
@group(0) @binding(7) var<storage, read_write> weights: array<f32>;
@group(0) @binding(8) var<storage, read_write> result: array<f32>;
@group(0) @binding(9) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

fn flat(k: u32) -> bool {
  return ranges[2u * k + 1u] <= ranges[2u * k];
}

/** Map k at pixel p scaled to [0, 1]; 0 for a flat map. */
fn normalized(p: u32, k: u32) -> f32 {
  let low = ranges[2u * k];
  let span = ranges[2u * k + 1u] - low;
  return select((upsampled[p * params.maps + k] - low) / span, 0.0, flat(k));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn channel_range(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = linear_index(gid, groups);
  if (k >= params.maps) {
    return;
  }
  var low = upsampled[k];
  var high = low;
  for (var p = 1u; p < params.pixels; p++) {
    let v = upsampled[p * params.maps + k];
    low = min(low, v);
    high = max(high, v);
  }
  ranges[2u * k] = low;
  ranges[2u * k + 1u] = high;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn mask_copies(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let per_image = params.pixels * params.channels;
  if (i >= params.count * per_image) {
    return;
  }
  let e = i % per_image;
  copies[i] = image[e] * normalized(e / params.channels, params.start + i / per_image);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather_scores(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = linear_index(gid, groups);
  if (n >= params.count) {
    return;
  }
  let t = u32(targets[0]);
  var total = 0.0;
  for (var s = 0u; s < params.score_positions; s++) {
    total += scores[(n * params.score_positions + s) * params.classes + t];
  }
  channel_scores[params.start + n] = total;
}

@compute @workgroup_size(1)
fn softmax_weights() {
  var largest = -3.4028234663852886e38;
  for (var k = 0u; k < params.maps; k++) {
    if (!flat(k)) {
      largest = max(largest, channel_scores[k]);
    }
  }
  var total = 0.0;
  for (var k = 0u; k < params.maps; k++) {
    let w = select(exp(channel_scores[k] - largest), 0.0, flat(k));
    weights[k] = w;
    total += w;
  }
  for (var k = 0u; k < params.maps; k++) {
    weights[k] = select(weights[k] / total, 0.0, total == 0.0);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn combine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) {
    return;
  }
  var total = 0.0;
  for (var k = 0u; k < params.maps; k++) {
    total += weights[k] * normalized(p, k);
  }
  result[p] = max(total, 0.0);
}
