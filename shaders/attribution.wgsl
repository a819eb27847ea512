// Building blocks of gradient attributions, on flat f32 arrays; E = elements of one image.
//   one_hot_seed:   seed[n, s, c] = scale * (c == targets[n]) for a node output viewed as
//                   [N, S, C] (S = spatial positions; 1 for logits). Seeds the backward pass with
//                   d score / d node: a class logit or probability (scale 1) or a channel's mean
//                   activation (scale 1 / S). A [1] targets array applies to every n.
//   argmax_rows:    targets[n] = index of the largest of values[n, 0..C) (first on ties): 'top'.
//   interpolate:    path[k, e] = baseline[e] + alphas[k] * (image[e] - baseline[e])
//                   (Integrated Gradients' path points, Sundararajan et al. 2017, eq. 1).
//   accumulate:     sum[e] += sum_k weights[k] * grads[k, e]; accumulate_with_squares also
//                   adds squares[e] += sum_k grads[k, e]^2 (SmoothGrad's moments).
//   finish_mean:    result = sum / count          finish_squared: result = squares / count
//   finish_vargrad: result = squares / count - (sum / count)^2   (Adebayo et al. 2018)
//   finish_path:    result = (image - baseline) * sum   (IG, Sundararajan et al. 2017, eq. 3)
// Targets are stored as f32 (exact below 2^24). Bindings by name; params per entry.

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  /** one_hot_seed: S and C; argmax_rows: C; others: E. */
  spatial: u32,
  channels: u32,
  /** Copies in this chunk (interpolate, accumulate) or the total count (finish). */
  count: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> targets: array<f32>;
@group(0) @binding(1) var<storage, read_write> seed: array<f32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;
@group(0) @binding(3) var<storage, read_write> target_out: array<f32>;
@group(0) @binding(4) var<storage, read> image: array<f32>;
@group(0) @binding(5) var<storage, read> baseline: array<f32>;
@group(0) @binding(6) var<storage, read> alphas: array<f32>;
@group(0) @binding(7) var<storage, read_write> path: array<f32>;
@group(0) @binding(8) var<storage, read> grads: array<f32>;
@group(0) @binding(9) var<storage, read> weights: array<f32>;
@group(0) @binding(10) var<storage, read_write> sum: array<f32>;
@group(0) @binding(11) var<storage, read_write> squares: array<f32>;
@group(0) @binding(12) var<storage, read_write> result: array<f32>;
@group(0) @binding(13) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn one_hot_seed(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&seed)) {
    return;
  }
  let c = i % params.channels;
  // a single target applies to every item (one image's class over its noisy copies)
  let n = select(i / (params.channels * params.spatial), 0u, arrayLength(&targets) == 1u);
  seed[i] = select(0.0, params.scale, f32(c) == targets[n]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn argmax_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = linear_index(gid, groups);
  if (n >= arrayLength(&target_out)) {
    return;
  }
  let row = n * params.channels;
  var best = 0u;
  for (var c = 1u; c < params.channels; c++) {
    if (values[row + c] > values[row + best]) {
      best = c;
    }
  }
  target_out[n] = f32(best);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn interpolate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&path)) {
    return;
  }
  let e = i % params.spatial;
  let k = i / params.spatial;
  path[i] = baseline[e] + alphas[k] * (image[e] - baseline[e]);
}

/** sum_k weights[k] * grads[k, e] over this chunk. */
fn weighted_sum(e: u32) -> f32 {
  var total = 0.0;
  for (var k = 0u; k < params.count; k++) {
    total += weights[k] * grads[k * params.spatial + e];
  }
  return total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = linear_index(gid, groups);
  if (e < params.spatial) {
    sum[e] += weighted_sum(e);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn accumulate_with_squares(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = linear_index(gid, groups);
  if (e >= params.spatial) {
    return;
  }
  var total_squares = 0.0;
  for (var k = 0u; k < params.count; k++) {
    let g = grads[k * params.spatial + e];
    total_squares += g * g;
  }
  sum[e] += weighted_sum(e);
  squares[e] += total_squares;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn finish_mean(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = linear_index(gid, groups);
  if (e < arrayLength(&result)) {
    result[e] = sum[e] / f32(params.count);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn finish_squared(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = linear_index(gid, groups);
  if (e < arrayLength(&result)) {
    result[e] = squares[e] / f32(params.count);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn finish_vargrad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = linear_index(gid, groups);
  if (e < arrayLength(&result)) {
    let n = f32(params.count);
    let mean = sum[e] / n;
    result[e] = squares[e] / n - mean * mean;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn finish_path(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = linear_index(gid, groups);
  if (e < arrayLength(&result)) {
    result[e] = (image[e] - baseline[e]) * sum[e];
  }
}
