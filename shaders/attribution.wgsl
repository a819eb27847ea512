// Building blocks of gradient attributions, on flat f32 arrays; E = elements of one image.
//   one_hot_seed:   seed[n, s, c] = scale * (c == targets[n]) for a node output viewed as
//                   [N, S, C] (S = spatial positions; 1 for logits). Seeds the backward pass with
//                   d score / d node: a class logit or probability (scale 1) or a channel's mean
//                   activation (scale 1 / S). A [1] targets array applies to every n.
//   finish_mean:    result = sum / count          finish_squared: result = squares / count
//   finish_vargrad: result = squares / count - (sum / count)^2   (Adebayo et al. 2018)
//                   (elementwise over every job's sums: SmoothGrad's moments)
// Batches of many images: `table` rows (image, copy k, job), stride 3, say where batch row n
// comes from; job j's copies are rows j * per_job .. (j + 1) * per_job - 1 of all the copies, and
// a chunk holds rows first .. first + count - 1 of them (rows uniform).
//   gather_rows:      copies[n, e] = images[table[n].image, e]
//   interpolate_rows: path[n, e] = b + alphas[k] * (images[i, e] - b), b = baselines[i, e] (or
//                     baselines[0, e] when there is one), i = table[n].image, k = table[n].copy
//                     (Integrated Gradients' path points, Sundararajan et al. 2017, eq. 1)
//   accumulate_jobs:  sum[j, e] += sum over the chunk's rows n of job j of weights[k] * grads[n, e];
//                     accumulate_jobs_with_squares also squares[j, e] += grads[n, e]^2
//   finish_paths:     result[j, e] = (images[i, e] - b) * sum[j, e], i = table[j].image (one table
//                     row per job; IG, Sundararajan et al. 2017, eq. 3)
// Targets are stored as f32 (exact below 2^24). Bindings by name; params (rows for the batch
// entries) per entry.

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  /** one_hot_seed: S and C; finish: E and 1. */
  spatial: u32,
  channels: u32,
  /** one_hot_seed: items; finish: the samples averaged. */
  count: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> targets: array<f32>;
@group(0) @binding(1) var<storage, read_write> seed: array<f32>;
@group(0) @binding(2) var<storage, read> alphas: array<f32>;
@group(0) @binding(3) var<storage, read_write> path: array<f32>;
@group(0) @binding(4) var<storage, read> grads: array<f32>;
@group(0) @binding(5) var<storage, read> weights: array<f32>;
@group(0) @binding(6) var<storage, read_write> sum: array<f32>;
@group(0) @binding(7) var<storage, read_write> squares: array<f32>;
@group(0) @binding(8) var<storage, read_write> result: array<f32>;
@group(0) @binding(9) var<uniform> params: Params;

struct Rows {
  /** Elements of one image. */
  elements: u32,
  /** Global index of the chunk's first copy, copies in the chunk, copies per job. */
  first: u32,
  count: u32,
  per_job: u32,
}

@group(0) @binding(10) var<storage, read> images: array<f32>;
@group(0) @binding(11) var<storage, read> baselines: array<f32>;
@group(0) @binding(12) var<storage, read> table: array<f32>;
@group(0) @binding(13) var<storage, read_write> copies: array<f32>;
@group(0) @binding(14) var<uniform> rows: Rows;

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

/** Table column `column` (0 image, 1 copy, 2 job) of row n. */
fn table_entry(n: u32, column: u32) -> u32 {
  return u32(table[3u * n + column]);
}

/** Element e of image i's baseline: one baseline may serve every image. */
fn baseline_of(i: u32, e: u32) -> f32 {
  let row = select(i, 0u, arrayLength(&baselines) == rows.elements);
  return baselines[row * rows.elements + e];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&copies)) {
    return;
  }
  let e = i % rows.elements;
  copies[i] = images[table_entry(i / rows.elements, 0u) * rows.elements + e];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn interpolate_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&path)) {
    return;
  }
  let e = i % rows.elements;
  let n = i / rows.elements;
  let image_index = table_entry(n, 0u);
  let b = baseline_of(image_index, e);
  path[i] = b + alphas[table_entry(n, 1u)] * (images[image_index * rows.elements + e] - b);
}

/** Job j's rows in this chunk: [begin, end) of the chunk's rows. */
fn job_rows(j: u32) -> vec2u {
  let begin = max(j * rows.per_job, rows.first) - rows.first;
  let end = min((j + 1u) * rows.per_job, rows.first + rows.count) - rows.first;
  return vec2u(begin, end);
}

/** (job, element) of invocation i over the chunk's jobs: the first is the job of row `first`. */
fn job_element(i: u32) -> vec2u {
  return vec2u(rows.first / rows.per_job + i / rows.elements, i % rows.elements);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn accumulate_jobs(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let at = job_element(linear_index(gid, groups));
  let range = job_rows(at.x);
  if (at.x * rows.per_job >= rows.first + rows.count) {
    return;
  }
  var total = 0.0;
  for (var n = range.x; n < range.y; n++) {
    total += weights[rows.first + n - at.x * rows.per_job] * grads[n * rows.elements + at.y];
  }
  sum[at.x * rows.elements + at.y] += total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn accumulate_jobs_with_squares(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let at = job_element(linear_index(gid, groups));
  let range = job_rows(at.x);
  if (at.x * rows.per_job >= rows.first + rows.count) {
    return;
  }
  var total = 0.0;
  var total_squares = 0.0;
  for (var n = range.x; n < range.y; n++) {
    let g = grads[n * rows.elements + at.y];
    total += weights[rows.first + n - at.x * rows.per_job] * g;
    total_squares += g * g;
  }
  sum[at.x * rows.elements + at.y] += total;
  squares[at.x * rows.elements + at.y] += total_squares;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn finish_paths(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&result)) {
    return;
  }
  let e = i % rows.elements;
  let image_index = table_entry(i / rows.elements, 0u);
  result[i] = (images[image_index * rows.elements + e] - baseline_of(image_index, e)) * sum[i];
}
