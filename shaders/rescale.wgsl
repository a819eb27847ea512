// DeepLIFT's rescale rule (Shrikumar et al. 2017, Sec. 3.5.1) as a modified gradient (Ancona et al.
// 2018, Sec. 3 and Table 1): backward through a nonlinearity y = f(x) multiplies the upstream
// gradient by the multiplier m = (f(x) - f(x0)) / (x - x0) instead of f'(x); x0 is the reference's
// value of the same unit. The batch is [inputs; references] (2N rows): element t of the first half
// pairs with element t + half of the second (half = the arrays' length / 2). Every entry computes
// from the first half's upstream gradient and writes the same value to both halves, so the
// reference rows mirror the input rows whatever their own seed (Captum's DeepLift runs the same
// concatenated batch with equal halves); t below is the first-half index of element i.
//   rescale_backward:   input_grad[i] = output_grad[t] * (y[t] - y[t + half]) / (x[t] - x[t + half]),
//                       y = forward_output, x = input; where |x[t] - x[t + half]| <= epsilon the
//                       ordinary backward's gradient[t] instead (the secant's limit f'(x)). epsilon
//                       is 0 for functions of slopes 0 and 1 (ReLU, ReLU6, clip), whose float32
//                       secant is exact, sqrt(float32 eps) for others (src/ops/rescale.ts says why).
//   rescale_max_deltas: max pooling, Captum's DeepLift `maxpool` rule: the output differences to
//                       route, deltas[i] = output_grad[t] * (max(y, y0) - y0) in the first half
//                       (y = forward_output[t], y0 = forward_output[t + half]) and
//                       output_grad[t] * (y - max(y, y0)) in the second; the host routes the first
//                       half to x's argmax and the second to x0's (max pooling's backward on 2N rows).
//   rescale_max_divide: input_grad[i] = (unpooled[t] + unpooled[t + half]) / (x[t] - x[t + half]),
//                       or gradient[t] where the difference is 0. Sum over t of input_grad[t]
//                       (x[t] - x0[t]) then equals the sum over outputs of output_grad (y - y0):
//                       summation-to-delta through the pool.
// Layouts: every array is the flat 2N-row batch, the same shape on both sides of an entry
// (deltas and output_grad: the pool's output; unpooled, gradient, input, input_grad: its input).
// Bindings: rescale_backward    output_grad, input, forward_output, gradient (read), input_grad (read_write), params
//           rescale_max_deltas  output_grad, forward_output (read), deltas (read_write)
//           rescale_max_divide  unpooled, input, gradient (read), input_grad (read_write), params

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  /** |x - x0| at or below which the ordinary gradient replaces the secant. */
  epsilon: f32,
}

@group(0) @binding(0) var<storage, read> output_grad: array<f32>;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> forward_output: array<f32>;
@group(0) @binding(3) var<storage, read> gradient: array<f32>;
@group(0) @binding(4) var<storage, read_write> input_grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> deltas: array<f32>;
@group(0) @binding(6) var<storage, read> unpooled: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

/** The first-half index of element i of a 2N-row batch whose halves hold `half` elements. */
fn top_index(i: u32, half: u32) -> u32 {
  return select(i - half, i, i < half);
}

/** Whether x - x0 is too small for the secant (with epsilon 0: exactly 0, or flushed to 0 as a subnormal). */
fn use_gradient(difference: f32) -> bool {
  return !(abs(difference) > params.epsilon);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rescale_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&input_grad)) {
    return;
  }
  let half = arrayLength(&input_grad) / 2u;
  let t = top_index(i, half);
  let difference = input[t] - input[t + half];
  if (use_gradient(difference)) {
    input_grad[i] = gradient[t];
  } else {
    input_grad[i] = output_grad[t] * ((forward_output[t] - forward_output[t + half]) / difference);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rescale_max_deltas(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&deltas)) {
    return;
  }
  let half = arrayLength(&deltas) / 2u;
  let t = top_index(i, half);
  let y = forward_output[t];
  let y0 = forward_output[t + half];
  let cross = max(y, y0);
  deltas[i] = output_grad[t] * select(y - cross, cross - y0, i < half);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn rescale_max_divide(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&input_grad)) {
    return;
  }
  let half = arrayLength(&input_grad) / 2u;
  let t = top_index(i, half);
  let difference = input[t] - input[t + half];
  if (use_gradient(difference)) {
    input_grad[i] = gradient[t];
  } else {
    input_grad[i] = (unpooled[t] + unpooled[t + half]) / difference;
  }
}
