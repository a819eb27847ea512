// Infidelity's perturbed copies and sums (Yeh, Hsieh, Suggala, Inouye, Ravikumar 2019, "On the
// (in)fidelity and sensitivity of explanations", eq. 2, as Captum's `infidelity` computes it): the
// model runs on x - I, and the explanation Phi is scored by I^T Phi against f(x) - f(x - I). The
// copies' scores f(x - I) are taken by item_scores (shaders/score.wgsl), as for every batched method.
// Row n of a chunk is described by table[n] = (image i, draw k, job j) (the batch runner's rows).
//   square_copies:     copies[n, y, x, c] = fill inside the square of draw k (rows corners[2k] ..
//                      + size - 1, columns corners[2k + 1] .. + size - 1), else images[i, y, x, c]:
//                      Yeh et al.'s square removal, I = x - copy.
//   perturbation_dots: dots[start + n] = sum over y, x, c of (images[i] - copies[n])[y, x, c] * phi[i, y, x, c'],
//                      c' = c when phi has the image's channels, 0 when it has one (broadcast): I^T Phi
//                      for any copy, so Gaussian noise (made by shaders/random.wgsl) needs no entry here.
//                      One invocation per copy sums serially: no workgroupBarrier (CPU adapters punish
//                      it) and the sum is tiny beside the copy's forward pass.
// Nothing here is differentiated: the metric needs forward passes only.
// Layouts: images [images, H, W, C] NHWC; copies [count, H, W, C]; phi [images, H, W, C] or
// [images, H, W, 1]; corners [draws, 2] and table [count, 3] (f32, exact below 2^24); dots [all copies].
// Bindings (params in every entry):
//   square_copies:     images, corners, table (read), copies (read_write)
//   perturbation_dots: images, copies, phi, table (read), dots (read_write)

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  height: u32,
  width: u32,
  channels: u32,
  /** Channels of phi: the image's, or 1. */
  phi_channels: u32,
  /** Side of the removed square in pixels. */
  size: u32,
  /** What the square becomes. */
  fill: f32,
  /** First copy of this chunk (numbered over all jobs), and the chunk's size. */
  start: u32,
  count: u32,
}

@group(0) @binding(0) var<storage, read> images: array<f32>;
@group(0) @binding(1) var<storage, read> corners: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> copies: array<f32>;
@group(0) @binding(4) var<storage, read> phi: array<f32>;
@group(0) @binding(5) var<storage, read_write> dots: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn square_copies(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let per_image = params.height * params.width * params.channels;
  if (i >= params.count * per_image) {
    return;
  }
  let e = i % per_image;
  let n = i / per_image;
  let image = u32(table[3u * n]);
  let k = u32(table[3u * n + 1u]);
  let p = e / params.channels;
  let y = p / params.width;
  let x = p % params.width;
  let top = u32(corners[2u * k]);
  let left = u32(corners[2u * k + 1u]);
  let inside = y >= top && y < top + params.size && x >= left && x < left + params.size;
  copies[i] = select(images[image * per_image + e], params.fill, inside);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn perturbation_dots(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = linear_index(gid, groups);
  if (n >= params.count) {
    return;
  }
  let per_image = params.height * params.width * params.channels;
  let image = u32(table[3u * n]);
  let phi_base = image * params.height * params.width * params.phi_channels;
  var total = 0.0;
  for (var e = 0u; e < per_image; e++) {
    let c = e % params.channels;
    // c % phi_channels: the channel itself, or 0 for a one-channel map
    let a = phi[phi_base + (e / params.channels) * params.phi_channels + c % params.phi_channels];
    total += (images[image * per_image + e] - copies[n * per_image + e]) * a;
  }
  dots[params.start + n] = total;
}
