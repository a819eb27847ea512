// Deletion and insertion curves (Petsiuk, Das, Saenko 2018, Sec. 4.1): pixels taken in the order
// of an attribution map, the first m_k of them swapped between the image and a substitute.
//   perturb:       copies[n, p, c] for step k = start + n, n < count, m_k = floor(k * pixels / steps):
//                  INSERTION false (deletion): substitute[p, c] where rank[p] < m_k, else image[p, c];
//                  INSERTION true:             image[p, c] where rank[p] < m_k, else substitute[p, c].
//   gather_scores: curve[start + n] = sum over positions s of scores[n, s, target].
// rank[p] is the pixel's place in the order (0: most important), as f32 (exact below 2^24).
// Layouts: image, substitute [1, H, W, C]; copies [count, H, W, C] NHWC; rank [H * W];
// scores [count, S, classes]; targets [1]; curve [steps + 1].
// Bindings (params in both):
//   perturb:       image (read), substitute (read), rank (read), copies (read_write)
//   gather_scores: scores (read), targets (read), curve (read_write)

override WORKGROUP_SIZE: u32 = 64;
override INSERTION: bool = false;

struct Params {
  pixels: u32,
  channels: u32,
  steps: u32,
  score_positions: u32,
  classes: u32,
  /** First step of this chunk and the chunk's size. */
  start: u32,
  count: u32,
}

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read> substitute: array<f32>;
@group(0) @binding(2) var<storage, read> rank: array<f32>;
@group(0) @binding(3) var<storage, read_write> copies: array<f32>;
@group(0) @binding(4) var<storage, read> scores: array<f32>;
@group(0) @binding(5) var<storage, read> targets: array<f32>;
@group(0) @binding(6) var<storage, read_write> curve: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn perturb(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let per_image = params.pixels * params.channels;
  if (i >= params.count * per_image) {
    return;
  }
  let e = i % per_image;
  let k = params.start + i / per_image;
  // k * pixels stays far below 2^32 for any image that fits a buffer times the steps allowed
  let taken = (k * params.pixels) / params.steps;
  let first = u32(rank[e / params.channels]) < taken;
  // deletion: the first pixels come from the substitute; insertion: from the image
  copies[i] = select(image[e], substitute[e], first != INSERTION);
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
  curve[params.start + n] = total;
}
