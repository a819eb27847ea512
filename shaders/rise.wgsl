// RISE (Petsiuk, Das, Saenko 2018): random smooth masks M_i, the image masked by each, and the
// saliency sum_i score_i * M_i / (N * p) (their eq. 6, with E[M] = p). Several images and targets
// run together: copy `start + n` of a chunk is mask (start + n) mod N of job (start + n) / N, so
// every job sees the same N masks (they depend on the seed only).
//   make_masks:   masks[n, y, x] for mask i = (start + n) mod N, n < count: an s x s binary grid,
//                 cell (gy, gx) on where noise[i, gy * s + gx] < p, resized bilinearly to
//                 up = (s + 1) * cell pixels per axis (cell = ceil(H / s), ceil(W / s)) with
//                 half-pixel centres, clamped at the edges (the authors' skimage resize with
//                 mode 'reflect' mirrors half a pixel beyond the edge, which is the same), and
//                 cropped to H x W at the shift (floor(noise[i, s*s] * cell_h), floor(noise[i, s*s+1] * cell_w)).
//   mask_copies:  copies[n, p, c] = images[table[n].image, p, c] * masks[n, p].
//   accumulate:   sum[j, p] += sum over the chunk's copies n of job j, in order, of scores[n] * masks[n, p]
//                 (scores: the copies' item_scores, shaders/score.wgsl), for the jobs the chunk touches.
//                 The additions run copy after copy whatever the chunking, so the sums do not
//                 depend on how the copies were split into chunks.
//   finish:       result[j, p] = sum[j, p] / (N * probability).
// Layouts: noise [N, s * s + 2] uniforms in [0, 1); masks [count, H, W]; images [images, H, W, C]
// and copies [count, H, W, C] NHWC; table [count, 3] rows (image, copy, job) as f32; scores
// [count]; sum and result [jobs, H * W].
// Bindings (params in every entry):
//   make_masks:  noise (read), masks (read_write)
//   mask_copies: images (read), table (read), masks, copies (read_write)
//   accumulate:  masks, scores (read), sum (read_write)
//   finish:      sum, result (read_write)

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  height: u32,
  width: u32,
  channels: u32,
  /** Grid cells per axis s, cell size in pixels, resized grid size (s + 1) * cell. */
  grid: u32,
  cell_h: u32,
  cell_w: u32,
  up_h: u32,
  up_w: u32,
  probability: f32,
  /** First copy of this chunk, the chunk's size, and the masks per job N. */
  start: u32,
  count: u32,
  total: u32,
  /** Jobs the result holds (finish). */
  jobs: u32,
}

@group(0) @binding(0) var<storage, read> noise: array<f32>;
@group(0) @binding(1) var<storage, read_write> masks: array<f32>;
@group(0) @binding(2) var<storage, read> images: array<f32>;
@group(0) @binding(3) var<storage, read_write> copies: array<f32>;
@group(0) @binding(4) var<storage, read> scores: array<f32>;
@group(0) @binding(5) var<storage, read> table: array<f32>;
@group(0) @binding(6) var<storage, read_write> sum: array<f32>;
@group(0) @binding(7) var<storage, read_write> result: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

/** Grid cell (gy, gx) of mask `base` (its first noise element): 1 with probability p. */
fn cell(base: u32, gy: u32, gx: u32) -> f32 {
  return select(0.0, 1.0, noise[base + gy * params.grid + gx] < params.probability);
}

/** Half-pixel source coordinate of resized pixel `i` on an axis of `grid` cells resized to `up`, and its two cells and weight. */
fn axis(i: u32, up: u32) -> vec3f {
  let s = (f32(i) + 0.5) * (f32(params.grid) / f32(up)) - 0.5;
  let f = floor(s);
  let last = f32(params.grid - 1u);
  return vec3f(clamp(f, 0.0, last), clamp(f + 1.0, 0.0, last), s - f);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn make_masks(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let pixels = params.height * params.width;
  if (i >= params.count * pixels) {
    return;
  }
  let base = ((params.start + i / pixels) % params.total) * (params.grid * params.grid + 2u);
  let cells = params.grid * params.grid;
  let shift_y = min(u32(noise[base + cells] * f32(params.cell_h)), params.cell_h - 1u);
  let shift_x = min(u32(noise[base + cells + 1u] * f32(params.cell_w)), params.cell_w - 1u);
  let p = i % pixels;
  let ay = axis(p / params.width + shift_y, params.up_h);
  let ax = axis(p % params.width + shift_x, params.up_w);
  let top = mix(cell(base, u32(ay.x), u32(ax.x)), cell(base, u32(ay.x), u32(ax.y)), ax.z);
  let bottom = mix(cell(base, u32(ay.y), u32(ax.x)), cell(base, u32(ay.y), u32(ax.y)), ax.z);
  masks[i] = mix(top, bottom, ay.z);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn mask_copies(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = linear_index(gid, groups);
  let pixels = params.height * params.width;
  let per_image = pixels * params.channels;
  if (e >= params.count * per_image) {
    return;
  }
  let n = e / per_image;
  let at = e % per_image;
  copies[e] = images[u32(table[3u * n]) * per_image + at] * masks[n * pixels + at / params.channels];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let pixels = params.height * params.width;
  let first_job = params.start / params.total;
  let last_job = (params.start + params.count - 1u) / params.total;
  if (i >= (last_job - first_job + 1u) * pixels) {
    return;
  }
  let j = first_job + i / pixels;
  let p = i % pixels;
  // this job's copies within the chunk
  let begin = max(j * params.total, params.start) - params.start;
  let end = min((j + 1u) * params.total, params.start + params.count) - params.start;
  var total = sum[j * pixels + p];
  for (var n = begin; n < end; n++) {
    total += scores[n] * masks[n * pixels + p];
  }
  sum[j * pixels + p] = total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn finish(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= params.jobs * params.height * params.width) {
    return;
  }
  result[i] = sum[i] / (f32(params.total) * params.probability);
}
