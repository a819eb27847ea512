// Deletion and insertion curves (Petsiuk, Das, Saenko 2018, Sec. 4.1): pixels taken in the order
// of an attribution map, the first m_k of them swapped between the image and a substitute.
//   perturb: for chunk row n < count with table[n] = (image i, step k, job), m_k = floor(k * pixels / steps):
//            INSERTION false (deletion): copies[n, p, c] = substitute[i, p, c] where rank[i, p] < m_k, else images[i, p, c];
//            INSERTION true:             copies[n, p, c] = images[i, p, c] where rank[i, p] < m_k, else substitute[i, p, c].
// (the copies' scores are the batch's item_scores of shaders/score.wgsl.)
// rank[i, p] is pixel p's place in image i's order (0: most important), as f32 (exact below 2^24).
// Layouts: images, substitute [images, H, W, C]; copies [count, H, W, C] NHWC; rank [images, H * W];
// table [count, 3] rows (image, step, job) as f32.
// Bindings: images, substitute, rank, table (read), copies (read_write), params.

override WORKGROUP_SIZE: u32 = 64;
override INSERTION: bool = false;

struct Params {
  pixels: u32,
  channels: u32,
  steps: u32,
  /** Rows of this chunk. */
  count: u32,
}

@group(0) @binding(0) var<storage, read> images: array<f32>;
@group(0) @binding(1) var<storage, read> substitute: array<f32>;
@group(0) @binding(2) var<storage, read> rank: array<f32>;
@group(0) @binding(3) var<storage, read> table: array<f32>;
@group(0) @binding(4) var<storage, read_write> copies: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn perturb(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = linear_index(gid, groups);
  let per_image = params.pixels * params.channels;
  if (e >= params.count * per_image) {
    return;
  }
  let n = e / per_image;
  let i = u32(table[3u * n]);
  let k = u32(table[3u * n + 1u]);
  let at = e % per_image;
  // k * pixels stays far below 2^32 for any image that fits a buffer times the steps allowed
  let taken = (k * params.pixels) / params.steps;
  let first = u32(rank[i * params.pixels + at / params.channels]) < taken;
  // deletion: the first pixels come from the substitute; insertion: from the image
  copies[e] = select(images[i * per_image + at], substitute[i * per_image + at], first != INSERTION);
}
