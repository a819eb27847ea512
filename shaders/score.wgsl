// What an explanation explains, per batch item, on the GPU. A score node's output is viewed as
// values [N, S, C] (S positions: 1 for logits, h * w for a spatial head; C channels), and item n
// of job j scores
//   score_n = REDUCE over s of  sum_c mask[j, c] * values[n, s, c]
// with REDUCE sum (0), mean (1) or max (2) and mask[j, .] the job's channel set (one-hot for a
// class). Jobs are (image, target) pairs; `table` rows (image, copy, job), stride 3, say which
// image and job a batch row belongs to.
//   channel_scores:  ranking[n, c] = REDUCE over s of values[n, s, c]: what 'top' ranks.
//   resolve_targets: for job j with jobs[j] = (image i, request q): q >= 0 asks for class q,
//                    q = -1 - r for the r-th largest of ranking[i, .] (the first index on ties);
//                    targets[j] = the class, mask[j, c] = (c == class).
//   item_scores:     scores[n] = score of values row n (ROW_FROM_TABLE false) or of row
//                    table[n].image (true; a single row is shared by every n) with job table[n].job.
//   score_seed:      seed[n, s, c] = d score_n / d values[n, s, c] = mask[j, c] * w_s with w_s = 1
//                    (sum), 1 / S (mean), and for max 1 / (number of positions attaining the
//                    max) at those positions, 0 elsewhere (TF's reduce_max gradient splits ties).
// Class indices are stored as f32 (exact below 2^24).
// Bindings: values (read), ranking (read_write in channel_scores, read in resolve_targets),
// jobs, table, mask (read), targets, scores, seed (read_write); params in every entry.

override WORKGROUP_SIZE: u32 = 64;
override REDUCE: u32 = 0;
override ROW_FROM_TABLE: bool = false;

struct Params {
  positions: u32,
  channels: u32,
}

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read_write> ranking: array<f32>;
@group(0) @binding(2) var<storage, read> ranked: array<f32>;
@group(0) @binding(3) var<storage, read> jobs: array<f32>;
@group(0) @binding(4) var<storage, read> table: array<f32>;
@group(0) @binding(5) var<storage, read_write> mask: array<f32>;
@group(0) @binding(6) var<storage, read> job_mask: array<f32>;
@group(0) @binding(7) var<storage, read_write> targets: array<f32>;
@group(0) @binding(8) var<storage, read_write> scores: array<f32>;
@group(0) @binding(9) var<storage, read_write> seed: array<f32>;
@group(0) @binding(10) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

/** sum_c mask[job, c] * values[row, s, c]. */
fn masked(row: u32, s: u32, job: u32) -> f32 {
  let base = (row * params.positions + s) * params.channels;
  var total = 0.0;
  for (var c = 0u; c < params.channels; c++) {
    total += job_mask[job * params.channels + c] * values[base + c];
  }
  return total;
}

fn reduce_init() -> f32 {
  return select(0.0, -3.4028234e38, REDUCE == 2u);
}

fn reduce_step(acc: f32, v: f32) -> f32 {
  return select(acc + v, max(acc, v), REDUCE == 2u);
}

fn reduce_finish(acc: f32) -> f32 {
  return select(acc, acc / f32(params.positions), REDUCE == 1u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn channel_scores(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&ranking)) {
    return;
  }
  let n = i / params.channels;
  let c = i % params.channels;
  var acc = reduce_init();
  for (var s = 0u; s < params.positions; s++) {
    acc = reduce_step(acc, values[(n * params.positions + s) * params.channels + c]);
  }
  ranking[i] = reduce_finish(acc);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn resolve_targets(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let j = linear_index(gid, groups);
  if (j >= arrayLength(&targets)) {
    return;
  }
  let row = u32(jobs[2u * j]) * params.channels;
  let request = jobs[2u * j + 1u];
  var chosen = 0u;
  if (request >= 0.0) {
    chosen = u32(request);
  } else {
    // the class whose rank (larger values first, then lower indices) is r
    let r = u32(-1.0 - request);
    for (var c = 0u; c < params.channels; c++) {
      let v = ranked[row + c];
      var rank = 0u;
      for (var d = 0u; d < params.channels; d++) {
        let w = ranked[row + d];
        rank += select(0u, 1u, w > v || (w == v && d < c));
      }
      if (rank == r) {
        chosen = c;
        break;
      }
    }
  }
  targets[j] = f32(chosen);
  for (var c = 0u; c < params.channels; c++) {
    mask[j * params.channels + c] = select(0.0, 1.0, c == chosen);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn item_scores(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = linear_index(gid, groups);
  if (n >= arrayLength(&scores)) {
    return;
  }
  let rows = arrayLength(&values) / (params.positions * params.channels);
  let row = select(n, select(u32(table[3u * n]), 0u, rows == 1u), ROW_FROM_TABLE);
  let job = u32(table[3u * n + 2u]);
  var acc = reduce_init();
  for (var s = 0u; s < params.positions; s++) {
    acc = reduce_step(acc, masked(row, s, job));
  }
  scores[n] = reduce_finish(acc);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn score_seed(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&seed)) {
    return;
  }
  let c = i % params.channels;
  let s = (i / params.channels) % params.positions;
  let n = i / (params.channels * params.positions);
  let job = u32(table[3u * n + 2u]);
  var weight = select(1.0, 1.0 / f32(params.positions), REDUCE == 1u);
  if (REDUCE == 2u) {
    let here = masked(n, s, job);
    var best = reduce_init();
    var ties = 0.0;
    for (var t = 0u; t < params.positions; t++) {
      let v = masked(n, t, job);
      ties = select(select(ties, ties + 1.0, v == best), 1.0, v > best);
      best = max(best, v);
    }
    weight = select(0.0, 1.0 / ties, here == best);
  }
  seed[i] = job_mask[job * params.channels + c] * weight;
}
