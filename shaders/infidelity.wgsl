// Infidelity's perturbed copies and sums (Yeh, Hsieh, Suggala, Inouye, Ravikumar 2019, "On the
// (in)fidelity and sensitivity of explanations", eq. 2, as Captum's `infidelity` computes it): the
// model runs on x - I, and the explanation Phi is scored by I^T Phi against f(x) - f(x - I).
//   square_copies:     copies[n, y, x, c] = baseline[y, x, c] inside the square of copy k = start + n
//                      (rows corners[2k] .. + size - 1, columns corners[2k + 1] .. + size - 1), else
//                      image[y, x, c]: Yeh et al.'s square removal, I = x - copy.
//   perturbation_dots: dots[start + n] = sum over y, x, c of (image - copies[n])[y, x, c] * phi[y, x, c'],
//                      c' = c when phi has the image's channels, 0 when it has one (broadcast): I^T Phi
//                      for any copy, so Gaussian noise (made by shaders/random.wgsl) needs no entry here.
//                      One invocation per copy sums serially: no workgroupBarrier (CPU adapters punish
//                      it) and the sum is tiny beside the copy's forward pass.
//   gather_scores:     scores[start + n] = sum over positions s of batch[n, s, target] (the copy's f).
// Nothing here is differentiated: the metric needs forward passes only.
// Layouts: image, baseline [1, H, W, C] NHWC; copies [count, H, W, C]; phi [H, W, C] or [H, W, 1];
// corners [copies, 2] (f32, exact below 2^24); batch [count, S, classes]; targets [1]; dots,
// scores [copies + 1].
// Bindings (params in every entry):
//   square_copies:     image, baseline, corners (read), copies (read_write)
//   perturbation_dots: image, copies, phi (read), dots (read_write)
//   gather_scores:     batch, targets (read), scores (read_write)

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  height: u32,
  width: u32,
  channels: u32,
  /** Channels of phi: the image's, or 1. */
  phi_channels: u32,
  /** Side of the removed square in pixels. */
  size: u32,
  score_positions: u32,
  classes: u32,
  /** First copy of this chunk, and the chunk's size. */
  start: u32,
  count: u32,
}

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read> baseline: array<f32>;
@group(0) @binding(2) var<storage, read> corners: array<f32>;
@group(0) @binding(3) var<storage, read_write> copies: array<f32>;
@group(0) @binding(4) var<storage, read> phi: array<f32>;
@group(0) @binding(5) var<storage, read_write> dots: array<f32>;
@group(0) @binding(6) var<storage, read> batch: array<f32>;
@group(0) @binding(7) var<storage, read> targets: array<f32>;
@group(0) @binding(8) var<storage, read_write> scores: array<f32>;
@group(0) @binding(9) var<uniform> params: Params;

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
  let k = params.start + i / per_image;
  let p = e / params.channels;
  let y = p / params.width;
  let x = p % params.width;
  let top = u32(corners[2u * k]);
  let left = u32(corners[2u * k + 1u]);
  let inside = y >= top && y < top + params.size && x >= left && x < left + params.size;
  copies[i] = select(image[e], baseline[e], inside);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn perturbation_dots(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = linear_index(gid, groups);
  if (n >= params.count) {
    return;
  }
  let per_image = params.height * params.width * params.channels;
  var total = 0.0;
  for (var e = 0u; e < per_image; e++) {
    let c = e % params.channels;
    // c % phi_channels: the channel itself, or 0 for a one-channel map
    let a = phi[(e / params.channels) * params.phi_channels + c % params.phi_channels];
    total += (image[e] - copies[n * per_image + e]) * a;
  }
  dots[params.start + n] = total;
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
    total += batch[(n * params.score_positions + s) * params.classes + t];
  }
  scores[params.start + n] = total;
}
