// Grad-CAM (Selvaraju et al. 2017), Grad-CAM++ (Chattopadhay et al. 2018) and LayerCAM (Jiang et
// al. 2021) from a layer's activations A and the gradient G = d score / d A, and the bilinear
// upsampling of the map.
//   weights_gradcam:   weights[k] = mean over positions p of G[p, k]          (Grad-CAM, eq. 1)
//   weights_plusplus:  weights[k] = sum_p alpha[p, k] * relu(G[p, k]) with
//                      alpha[p, k] = G^2 / (2 G^2 + (sum_q A[q, k]) G^3), 0 where that denominator
//                      is 0: Grad-CAM++'s closed form for an exponential score Y = exp(S), whose
//                      higher derivatives are powers of dS/dA; the common positive factor exp(S)
//                      is dropped from every weight, as in the authors' implementation.
//   combine:           cam[p] = relu(sum_k weights[k] * A[p, k])                (Grad-CAM, eq. 2)
//   combine_layercam:  cam[p] = relu(sum_k relu(G[p, k]) * A[p, k])  (LayerCAM, eqs. 5-6: each
//                      position weighted by its own positive gradient; relu(0) = 0 at the kink)
//   upsample_bilinear: result[y, x] for y < out_height, x < out_width from cam [in_height, in_width]
//                      by bilinear interpolation without aligned corners (tf.image.resizeBilinear):
//                      source = (dst + 0.5) * in / out - 0.5 with HALF_PIXEL (TF2 resize, cv2),
//                      source = dst * in / out without (tfjs' default, TF1); clamped at the edges.
// Every entry works on a batch of N items at once (N from the array lengths): item n's values
// follow item n - 1's in every array.
// Layouts: activations, grads [N, h, w, K] viewed as [N, positions = h * w, K] (NHWC); weights
// [N, K]; cam [N, h, w]; result [N, H, W].
// Bindings (params: weights_*, combine; resize: upsample_bilinear):
//   weights_*:         activations (read), grads (read), weights (read_write)
//   combine:           activations (read), weights, cam (read_write)
//   combine_layercam:  activations (read), grads (read), cam (read_write)
//   upsample_bilinear: cam, result (read_write)

override WORKGROUP_SIZE: u32 = 64;
override HALF_PIXEL: bool = true;

struct CamParams {
  positions: u32,
  channels: u32,
}

struct ResizeParams {
  in_height: u32,
  in_width: u32,
  out_height: u32,
  out_width: u32,
  /** in / out per axis, computed in float64 on the host. */
  scale_y: f32,
  scale_x: f32,
}

@group(0) @binding(0) var<storage, read> activations: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> cam: array<f32>;
@group(0) @binding(4) var<storage, read_write> result: array<f32>;
@group(0) @binding(5) var<uniform> params: CamParams;
@group(0) @binding(6) var<uniform> resize: ResizeParams;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn weights_gradcam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&weights)) {
    return;
  }
  // channel k of position p of item n is at (n * P + p) * K + k (NHWC)
  let k = i % params.channels;
  let base = (i / params.channels) * params.positions * params.channels + k;
  var total = 0.0;
  for (var p = 0u; p < params.positions; p++) {
    total += grads[base + p * params.channels];
  }
  weights[i] = total / f32(params.positions);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn weights_plusplus(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&weights)) {
    return;
  }
  let k = i % params.channels;
  let base = (i / params.channels) * params.positions * params.channels + k;
  var activation_sum = 0.0;
  for (var p = 0u; p < params.positions; p++) {
    activation_sum += activations[base + p * params.channels];
  }
  var total = 0.0;
  for (var p = 0u; p < params.positions; p++) {
    let g = grads[base + p * params.channels];
    let g2 = g * g;
    let denominator = 2.0 * g2 + activation_sum * g2 * g;
    let alpha = select(g2 / denominator, 0.0, denominator == 0.0);
    total += alpha * max(g, 0.0);
  }
  weights[i] = total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn combine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&cam)) {
    return;
  }
  let row = i * params.channels;
  let weight_row = (i / params.positions) * params.channels;
  var total = 0.0;
  for (var k = 0u; k < params.channels; k++) {
    total += weights[weight_row + k] * activations[row + k];
  }
  cam[i] = max(total, 0.0);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn combine_layercam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&cam)) {
    return;
  }
  let row = i * params.channels;
  var total = 0.0;
  for (var k = 0u; k < params.channels; k++) {
    total += max(grads[row + k], 0.0) * activations[row + k];
  }
  cam[i] = max(total, 0.0);
}

/** Source coordinate of output index `i` along an axis with ratio `scale` = in / out. */
fn source_coordinate(i: u32, scale: f32) -> f32 {
  if (HALF_PIXEL) {
    return (f32(i) + 0.5) * scale - 0.5;
  }
  return f32(i) * scale;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn upsample_bilinear(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&result)) {
    return;
  }
  let pixel = i % (resize.out_height * resize.out_width);
  let item = (i / (resize.out_height * resize.out_width)) * resize.in_height * resize.in_width;
  let y = pixel / resize.out_width;
  let x = pixel % resize.out_width;
  // TF's compute_interpolation_weights: lower = max(floor(s), 0), upper = min(ceil(s), in - 1),
  // weight of upper = s - floor(s); a negative s (half-pixel edge) clamps both ends to 0
  let sy = source_coordinate(y, resize.scale_y);
  let sx = source_coordinate(x, resize.scale_x);
  let fy = floor(sy);
  let fx = floor(sx);
  let y0 = u32(clamp(fy, 0.0, f32(resize.in_height - 1u)));
  let x0 = u32(clamp(fx, 0.0, f32(resize.in_width - 1u)));
  let y1 = u32(clamp(ceil(sy), 0.0, f32(resize.in_height - 1u)));
  let x1 = u32(clamp(ceil(sx), 0.0, f32(resize.in_width - 1u)));
  let ly = sy - fy;
  let lx = sx - fx;
  let top = mix(cam[item + y0 * resize.in_width + x0], cam[item + y0 * resize.in_width + x1], lx);
  let bottom = mix(cam[item + y1 * resize.in_width + x0], cam[item + y1 * resize.in_width + x1], lx);
  result[i] = mix(top, bottom, ly);
}
