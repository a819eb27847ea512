// The inverse real 2-D discrete Fourier transform of a batch of half spectra, and its adjoint
// (the backward pass): the image parametrization of Olah et al. 2017 ("Feature Visualization",
// Distill, section "Preconditioning and parameterization"; lucid's `fft_image`), where the
// optimized variables are Fourier coefficients and the image is irfft2(scale * spectrum).
//
// Layouts (NHWC, a complex number as (real, imaginary) in the innermost axis):
//   spectrum  [N, H, F, C, 2]  F = floor(W / 2) + 1 frequencies along x (the half spectrum of a
//                              real signal), H frequencies along y in FFT order (0, 1, ..., -1)
//   scale     [H, F]           a real weight per frequency (the 1/f spectrum scaling), applied to
//                              every image and channel
//   partial   [N, H, F, C, 2]  the spectrum after the transform along y (rows y, frequencies kx)
//   image     [N, H, W, C]     real
//   twiddles  [H + W, 2]       (cos, sin)(2 pi j / H) for j < H, then (cos, sin)(2 pi j / W)
//
// With S' = scale * spectrum, the transform is numpy's / TensorFlow's irfft2 (1 / (H W) normalization):
//   columns:  P[n, y, kx, c] = sum_{ky < H} S'[n, ky, kx, c] e^{+2 pi i ky y / H}        (complex)
//   rows:     image[n, y, x, c] = 1/(H W) sum_{kx < F} w(kx) Re(P[n, y, kx, c] e^{+2 pi i kx x / W})
// with w(0) = 1, w(W / 2) = 1 for even W (the Nyquist column is its own mirror), w = 2 otherwise
// (the missing half of the spectrum is the conjugate mirror of the given one). Like irfft2 this
// takes the real part of the DC and Nyquist columns after the transform along y, so the imaginary
// parts of the self-conjugate coefficients (ky, kx) with ky in {0, H/2} and kx in {0, W/2} (halves
// for even sizes only) never reach the image, and get zero gradient.
// The map spectrum -> image is real-linear, so its backward is the adjoint, applied in reverse:
//   rows_adjoint:     dP[n, y, kx, c] = w(kx)/(H W) sum_{x < W} dimage[n, y, x, c] e^{-2 pi i kx x / W}
//   columns_adjoint:  dS[n, ky, kx, c] = scale[ky, kx] sum_{y < H} dP[n, y, kx, c] e^{-2 pi i ky y / H}
// (for a real map z -> Re(a z) the gradient with respect to (Re z, Im z) is conj(a) times the
// upstream gradient, read as a complex number).
//
// Why a direct DFT and not an FFT: the images these models take are at most a few hundred pixels a
// side, so two dense separable transforms cost H F C (H + W) complex multiply-adds per image (3.4e7 for
// 224 x 224 x 3, i.e. 1.4e8 real ones, half a MobileNetV2 forward pass; 2.4e4 for 28 x 28 x 1), are exact to float32
// rounding for every H and W (no power-of-two or radix restrictions, no bit-reversal passes) and need
// no barriers, which CPU adapters punish. Measured on lavapipe (2 shared cores), forward + adjoint:
// 5-12 ms at 28 x 28 x 1, 2.3-3.3 s at 224 x 224 x 3 (of the order of a 224-pixel CNN's own forward
// and backward there). Twiddle indices (k j) mod H are exact integers, and the table holds values
// computed in float64 on the CPU, so no sin/cos of large arguments is evaluated in float32.
// One invocation per output element (a complex pair for columns, rows_adjoint, columns_adjoint).
// Bindings: columns          spectrum (read), scale (read), twiddles (read), partial (read_write), params
//           rows             partial_in (read), twiddles, image (read_write), params
//           rows_adjoint     image_gradient (read), twiddles, partial (read_write), params
//           columns_adjoint  partial_in (read), scale, twiddles, spectrum_gradient (read_write), params

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  batch: u32,
  height: u32,
  width: u32,
  /** F = floor(W / 2) + 1 */
  frequencies: u32,
  channels: u32,
}

@group(0) @binding(0) var<storage, read> spectrum: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> twiddles: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
@group(0) @binding(4) var<storage, read> partial_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> image: array<f32>;
@group(0) @binding(6) var<storage, read> image_gradient: array<f32>;
@group(0) @binding(7) var<storage, read_write> spectrum_gradient: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

/** e^{i 2 pi j / period} as (cos, sin), from the table block that starts at `first`. */
fn twiddle(first: u32, j: u32) -> vec2f {
  return vec2f(twiddles[2u * (first + j)], twiddles[2u * (first + j) + 1u]);
}

/** w(kx): how many times column kx of the half spectrum stands in the full one. */
fn column_weight(kx: u32) -> f32 {
  let nyquist = params.width % 2u == 0u && kx == params.width / 2u;
  return select(2.0, 1.0, kx == 0u || nyquist);
}

/** (n, row, kx, c) of element i of a [N, H, F, C] complex tensor. */
fn half_coordinates(i: u32) -> vec4u {
  let p = params;
  return vec4u(i / (p.channels * p.frequencies * p.height), (i / (p.channels * p.frequencies)) % p.height, (i / p.channels) % p.frequencies, i % p.channels);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn columns(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let p = params;
  if (i >= p.batch * p.height * p.frequencies * p.channels) {
    return;
  }
  let at = half_coordinates(i);
  let y = at.y;
  // spectrum[n, ky, kx, c] sits `stride` complex numbers after spectrum[n, ky - 1, kx, c]
  let stride = p.frequencies * p.channels;
  let first = (at.x * p.height * p.frequencies + at.z) * p.channels + at.w;
  var total = vec2f(0.0);
  var j = 0u; // (ky * y) mod H, advanced by y per ky
  for (var ky = 0u; ky < p.height; ky++) {
    let s = scale[ky * p.frequencies + at.z] * vec2f(spectrum[2u * (first + ky * stride)], spectrum[2u * (first + ky * stride) + 1u]);
    let e = twiddle(0u, j);
    total += vec2f(s.x * e.x - s.y * e.y, s.x * e.y + s.y * e.x);
    j += y;
    if (j >= p.height) {
      j -= p.height;
    }
  }
  partial[2u * i] = total.x;
  partial[2u * i + 1u] = total.y;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let p = params;
  if (i >= arrayLength(&image)) {
    return;
  }
  let c = i % p.channels;
  let x = (i / p.channels) % p.width;
  let row = i / (p.channels * p.width); // n * H + y
  let first = row * p.frequencies * p.channels + c;
  var total = 0.0;
  var j = 0u; // (kx * x) mod W
  for (var kx = 0u; kx < p.frequencies; kx++) {
    let k = first + kx * p.channels;
    let e = twiddle(p.height, j);
    total += column_weight(kx) * (partial_in[2u * k] * e.x - partial_in[2u * k + 1u] * e.y);
    j += x;
    if (j >= p.width) {
      j -= p.width;
    }
  }
  image[i] = total / f32(p.height * p.width);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rows_adjoint(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let p = params;
  if (i >= p.batch * p.height * p.frequencies * p.channels) {
    return;
  }
  let c = i % p.channels;
  let kx = (i / p.channels) % p.frequencies;
  let row = i / (p.channels * p.frequencies); // n * H + y
  let first = row * p.width * p.channels + c;
  var total = vec2f(0.0);
  var j = 0u; // (kx * x) mod W
  for (var x = 0u; x < p.width; x++) {
    let g = image_gradient[first + x * p.channels];
    // times e^{-i theta} = (cos, -sin)
    total += g * twiddle(p.height, j) * vec2f(1.0, -1.0);
    j += kx;
    if (j >= p.width) {
      j -= p.width;
    }
  }
  total *= column_weight(kx) / f32(p.height * p.width);
  partial[2u * i] = total.x;
  partial[2u * i + 1u] = total.y;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn columns_adjoint(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  let p = params;
  if (i >= p.batch * p.height * p.frequencies * p.channels) {
    return;
  }
  let at = half_coordinates(i);
  let ky = at.y;
  let stride = p.frequencies * p.channels;
  let first = (at.x * p.height * p.frequencies + at.z) * p.channels + at.w;
  var total = vec2f(0.0);
  var j = 0u; // (ky * y) mod H
  for (var y = 0u; y < p.height; y++) {
    let d = vec2f(partial_in[2u * (first + y * stride)], partial_in[2u * (first + y * stride) + 1u]);
    let e = twiddle(0u, j);
    // d e^{-i theta}
    total += vec2f(d.x * e.x + d.y * e.y, d.y * e.x - d.x * e.y);
    j += ky;
    if (j >= p.height) {
      j -= p.height;
    }
  }
  let s = scale[ky * p.frequencies + at.z];
  spectrum_gradient[2u * i] = s * total.x;
  spectrum_gradient[2u * i + 1u] = s * total.y;
}
