// Elementwise activations and unary functions with their gradients, on tensors of any shape
// (flat f32 arrays); PReLU (a learned slope per element of the trailing axes, broadcast over the
// leading ones) and a clip with such per-channel bounds (Maximum / Minimum with a constant vector).
//   forward:             output[i] = act(input[i])
//   backward:            input_grad[i] = output_grad[i] * act'(.) written in terms of the forward
//                        OUTPUT y (only codes 0-3, the ones conv2d/dense fuse and whose layers keep y):
//                        relu: y > 0; relu6: 0 < y < 6; sigmoid: y (1 - y); linear: 1.
//   backward_from_input: input_grad[i] = output_grad[i] * act'(input[i]), every code.
//   GUIDED (both backward entries; guided backpropagation, Springenberg et al. 2015, eq. for R^i in
//   Fig. 1): relu and relu6 also zero negative upstream gradients, output_grad -> max(output_grad, 0);
//   every other function keeps the plain gradient.
//   prelu_forward:       output[i] = x > 0 ? x : alpha[j] * x    (x = input[i], j = i % broadcast.size)
//   prelu_backward:      input_grad[i] = output_grad[i] * (x > 0 ? 1 : alpha[j])
//   prelu_alpha_terms:   output[i] = output_grad[i] * min(x, 0); summed over the leading axes by
//                        the host (src/ops/reduce.ts), this is d loss / d alpha.
//   clip_forward:        output[i] = clamp(x, lower[j], upper[j])
//   clip_backward:       input_grad[i] = output_grad[i] * (lower[j] <= x <= upper[j])
//   clip_lower_terms:    output[i] = output_grad[i] * (x < lower[j]), summed: d loss / d lower
//   clip_upper_terms:    output[i] = output_grad[i] * (x > upper[j]), summed: d loss / d upper
// ACTIVATION (matches ACTIVATION_CODES in src/ops/activation.ts; 0-3 are also the codes of the
// fused activation in conv2d.wgsl, depthwise_conv2d.wgsl and dense.wgsl), with the parameters
// each reads from `params` (alpha, beta, lo, hi):
//    0 linear    1 relu    2 relu6    3 sigmoid    4 tanh
//    5 elu          x > 0 ? x : alpha (e^x - 1)                                 (alpha)
//    6 selu         s * elu_a(x), s = 1.0507009873554805, a = 1.6732632423543772 (Klambauer et al. 2017)
//    7 softplus     log(1 + e^x)    8 softsign  x / (1 + |x|)    9 swish/silu  x sigmoid(x)
//   10 gelu         x Phi(x), Phi the standard normal CDF (erf form, Hendrycks & Gimpel 2016)
//   11 gelu_tanh    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (Keras approximate=True)
//   12 hard_sigmoid clamp(alpha x + beta, 0, 1)                                  (alpha, beta)
//   13 hard_swish   x relu6(x + 3) / 6                                           (MobileNetV3)
//   14 exp   15 log   16 mish  x tanh(softplus(x))   17 abs   18 neg   19 square   20 sqrt   21 rsqrt
//   22 leaky_relu   x > 0 ? x : alpha x                                          (alpha)
//   23 clip         clamp(x, lo, hi) (clip_by_value; Maximum/Minimum with a constant) (lo, hi)
//   24 general_relu Keras relu(x, negative_slope = alpha, max_value, threshold = beta):
//                   clamp(x > beta ? x : 0, lo, hi) - alpha max(beta - x, 0), lo = 0 and hi =
//                   max_value when a max_value is set, else lo = -FLT_MAX, hi = FLT_MAX (ThresholdedReLU)
//   25 affine       alpha x + beta (Keras Rescaling with scalar scale and offset)          (alpha, beta)
//   26 erf          (TF's Erf, as in exported exact GELU)    27 reciprocal  1 / x (TF's Reciprocal / Inv)
// Non-differentiable points follow TensorFlow's gradient kernels:
//   relu (ReluGrad) 0 at 0; relu6 (Relu6Grad) 0 at 0 and at 6; leaky_relu (LeakyReluGrad) and prelu
//   (tfjs prelu) alpha at 0; elu/selu (EluGrad/SeluGrad) alpha (s a) at 0; abs sign(x), 0 at 0;
//   clip and clip_* (ClipByValue; Maximum's x >= c, Minimum's x <= c, the bound getting the rest)
//   and hard_sigmoid (clip_by_value of alpha x + beta, Keras 2/TF.js) pass the gradient on the
//   closed interval, bounds included;
//   hard_swish (relu6 inside) 1/6 slope only on the open (-3, 3); general_relu: the cast mask
//   (x > threshold) times clip_by_value's closed interval, plus alpha where x < threshold;
//   sqrt, log and reciprocal at 0 give inf (TF's SqrtGrad 0.5 / y, Reciprocal), as TensorFlow does.
// Bindings: forward              input (read), output (read_write), params
//           backward             output_grad (read), forward_output (read), input_grad (read_write)
//           backward_from_input  output_grad (read), input (read), input_grad (read_write), params
//           prelu_forward        input (read), alpha (read), output (read_write), broadcast
//           prelu_backward       output_grad (read), input (read), alpha (read), input_grad (read_write), broadcast
//           prelu_alpha_terms    output_grad (read), input (read), output (read_write)
//           clip_forward         input (read), lower (read), upper (read), output (read_write), broadcast
//           clip_backward        output_grad (read), input (read), lower (read), upper (read), input_grad (read_write), broadcast
//           clip_lower_terms     output_grad (read), input (read), lower (read), output (read_write), broadcast
//           clip_upper_terms     output_grad (read), input (read), upper (read), output (read_write), broadcast

override WORKGROUP_SIZE: u32 = 64;
override ACTIVATION: u32 = 1u;
override GUIDED: bool = false;

struct Params {
  alpha: f32,
  beta: f32,
  lo: f32,
  hi: f32,
}

struct Broadcast {
  /** Elements of alpha / lower / upper: element i of the input takes entry i % size. */
  size: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<storage, read> output_grad: array<f32>;
@group(0) @binding(3) var<storage, read> forward_output: array<f32>;
@group(0) @binding(4) var<storage, read_write> input_grad: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;
@group(0) @binding(6) var<storage, read> alpha: array<f32>;
@group(0) @binding(7) var<uniform> broadcast: Broadcast;
@group(0) @binding(8) var<storage, read> lower: array<f32>;
@group(0) @binding(9) var<storage, read> upper: array<f32>;

const SELU_SCALE: f32 = 1.0507009873554805;
const SELU_ALPHA: f32 = 1.6732632423543772;
const SQRT_HALF: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;
const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_CUBIC: f32 = 0.044715;
const TWO_OVER_SQRT_PI: f32 = 1.1283791670955126;

fn sigmoid(x: f32) -> f32 {
  // exp of a large negative argument overflows to inf and gives 0 exactly, which is the limit
  return 1.0 / (1.0 + exp(-x));
}

/** tanh with its argument clamped: |x| >= 9 is +-1 in f32 already, and some backends' tanh is NaN for large |x|. */
fn tanh_safe(x: f32) -> f32 {
  return tanh(clamp(x, -15.0, 15.0));
}

/** log(1 + e^x) without overflow: max(x, 0) + log(1 + e^-|x|). */
fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

/**
 * erfc(z) for z >= 0 with fractional error below 1.2e-7 everywhere (Chebyshev fit of Press et al.,
 * Numerical Recipes in C, 2nd ed., section 6.2, erfcc). Relative accuracy in the tail is what
 * makes Phi(x) = erfc(-x / sqrt 2) / 2 accurate for negative x, where 1 + erf(x) would cancel.
 */
fn erfc_nonnegative(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
          t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp(-z * z + p);
}

/**
 * erf(x): the Maclaurin series to x^13 below |x| = 0.5 (truncation < 2e-9, where 1 - erfc would
 * lose the relative precision of small values), 1 - erfc(|x|) above, with x's sign.
 */
fn erf(x: f32) -> f32 {
  let z = abs(x);
  if (z < 0.5) {
    let q = z * z;
    let series = 1.0 - q * (1.0 / 3.0 - q * (0.1 - q * (1.0 / 42.0 - q * (1.0 / 216.0 - q * (1.0 / 1320.0 - q / 9360.0)))));
    return TWO_OVER_SQRT_PI * x * series;
  }
  return sign(x) * (1.0 - erfc_nonnegative(z));
}

/** Standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2, from the tail that is small. */
fn normal_cdf(x: f32) -> f32 {
  let tail = 0.5 * erfc_nonnegative(abs(x) * SQRT_HALF);
  return select(tail, 1.0 - tail, x >= 0.0);
}

fn activate(x: f32) -> f32 {
  switch ACTIVATION {
    case 1u: { return max(x, 0.0); }
    case 2u: { return clamp(x, 0.0, 6.0); }
    case 3u: { return sigmoid(x); }
    case 4u: { return tanh_safe(x); }
    case 5u: { return select(params.alpha * (exp(x) - 1.0), x, x > 0.0); }
    case 6u: { return SELU_SCALE * select(SELU_ALPHA * (exp(x) - 1.0), x, x > 0.0); }
    case 7u: { return softplus(x); }
    case 8u: { return x / (1.0 + abs(x)); }
    case 9u: { return x * sigmoid(x); }
    case 10u: { return x * normal_cdf(x); }
    case 11u: { return 0.5 * x * (1.0 + tanh_safe(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x))); }
    case 12u: { return clamp(params.alpha * x + params.beta, 0.0, 1.0); }
    case 13u: { return x * clamp(x + 3.0, 0.0, 6.0) / 6.0; }
    case 14u: { return exp(x); }
    case 15u: { return log(x); }
    case 16u: { return x * tanh_safe(softplus(x)); }
    case 17u: { return abs(x); }
    case 18u: { return -x; }
    case 19u: { return x * x; }
    case 20u: { return sqrt(x); }
    case 21u: { return inverseSqrt(x); }
    case 22u: { return select(params.alpha * x, x, x > 0.0); }
    case 23u: { return clamp(x, params.lo, params.hi); }
    case 24u: {
      let positive = clamp(select(0.0, x, x > params.beta), params.lo, params.hi);
      return positive - params.alpha * max(params.beta - x, 0.0);
    }
    case 25u: { return fma(params.alpha, x, params.beta); }
    case 26u: { return erf(x); }
    case 27u: { return 1.0 / x; }
    default: { return x; }
  }
}

/** d act / d x at x, with TensorFlow's values at the kinks (see the header). */
fn derivative_from_input(x: f32) -> f32 {
  switch ACTIVATION {
    case 1u: { return select(0.0, 1.0, x > 0.0); }
    case 2u: { return select(0.0, 1.0, x > 0.0 && x < 6.0); }
    case 3u: { let s = sigmoid(x); return s * (1.0 - s); }
    case 4u: { let t = tanh_safe(x); return 1.0 - t * t; }
    case 5u: { return select(params.alpha * exp(x), 1.0, x > 0.0); }
    case 6u: { return SELU_SCALE * select(SELU_ALPHA * exp(x), 1.0, x > 0.0); }
    case 7u: { return sigmoid(x); }
    case 8u: { let d = 1.0 + abs(x); return 1.0 / (d * d); }
    case 9u: { let s = sigmoid(x); return s * (1.0 + x * (1.0 - s)); }
    case 10u: { return normal_cdf(x) + x * INV_SQRT_2PI * exp(-0.5 * x * x); }
    case 11u: {
      let t = tanh_safe(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x));
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x);
    }
    case 12u: {
      let u = params.alpha * x + params.beta;
      return select(0.0, params.alpha, u >= 0.0 && u <= 1.0);
    }
    case 13u: { return clamp(x + 3.0, 0.0, 6.0) / 6.0 + select(0.0, x / 6.0, x > -3.0 && x < 3.0); }
    case 14u: { return exp(x); }
    case 15u: { return 1.0 / x; }
    case 16u: {
      let t = tanh_safe(softplus(x));
      return t + x * (1.0 - t * t) * sigmoid(x);
    }
    case 17u: { return sign(x); }
    case 18u: { return -1.0; }
    case 19u: { return 2.0 * x; }
    case 20u: { return 0.5 / sqrt(x); }
    case 21u: { let r = inverseSqrt(x); return -0.5 * r * r * r; }
    case 22u: { return select(params.alpha, 1.0, x > 0.0); }
    case 23u: { return select(0.0, 1.0, x >= params.lo && x <= params.hi); }
    case 24u: {
      let positive = select(0.0, x, x > params.beta);
      let passes = x > params.beta && positive >= params.lo && positive <= params.hi;
      return select(0.0, 1.0, passes) + select(0.0, params.alpha, x < params.beta);
    }
    case 25u: { return params.alpha; }
    case 26u: { return TWO_OVER_SQRT_PI * exp(-x * x); }
    case 27u: { return -1.0 / (x * x); }
    default: { return 1.0; }
  }
}

/** The upstream gradient, with guided backpropagation's rule at ReLU and ReLU6 when GUIDED. */
fn upstream_gradient(dy: f32) -> f32 {
  let guided = GUIDED && (ACTIVATION == 1u || ACTIVATION == 2u);
  return select(dy, max(dy, 0.0), guided);
}

/** d act / d x expressed through y = act(x), for the codes conv2d and dense fuse. */
fn derivative_from_output(y: f32) -> f32 {
  switch ACTIVATION {
    case 1u: { return select(0.0, 1.0, y > 0.0); }
    case 2u: { return select(0.0, 1.0, y > 0.0 && y < 6.0); }
    case 3u: { return y * (1.0 - y); }
    default: { return 1.0; }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = activate(input[i]);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&input_grad)) {
    input_grad[i] = upstream_gradient(output_grad[i]) * derivative_from_output(forward_output[i]);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_from_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&input_grad)) {
    input_grad[i] = upstream_gradient(output_grad[i]) * derivative_from_input(input[i]);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn prelu_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    let x = input[i];
    output[i] = select(alpha[i % broadcast.size] * x, x, x > 0.0);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn prelu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&input_grad)) {
    input_grad[i] = output_grad[i] * select(alpha[i % broadcast.size], 1.0, input[i] > 0.0);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn prelu_alpha_terms(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = output_grad[i] * min(input[i], 0.0);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn clip_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    let j = i % broadcast.size;
    output[i] = clamp(input[i], lower[j], upper[j]);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn clip_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&input_grad)) {
    let j = i % broadcast.size;
    let x = input[i];
    input_grad[i] = select(0.0, output_grad[i], x >= lower[j] && x <= upper[j]);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn clip_lower_terms(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = select(0.0, output_grad[i], input[i] < lower[i % broadcast.size]);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn clip_upper_terms(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = select(0.0, output_grad[i], input[i] > upper[i % broadcast.size]);
  }
}
