// Optimizer steps, one invocation per weight element, updating the weights in place.
//   sgd:  g = grad + weight_decay * w            (L2 penalty, coupled, as torch.optim.SGD)
//         v = momentum * v + g;  w -= learning_rate * v
//         (momentum 0 is plain SGD; v is the velocity buffer, zero at the first step)
//   adam: m = beta1 * m + (1 - beta1) * grad;  v = beta2 * v + (1 - beta2) * grad^2
//         w -= step_size * m / (sqrt(v) + epsilon_hat) + learning_rate * weight_decay * w
//         Kingma and Ba 2015, Algorithm 1 with the bias corrections folded into the step
//         ("efficient version" at the end of their section 2): step_size = lr * sqrt(1 - beta2^t) /
//         (1 - beta1^t) and epsilon_hat = epsilon * sqrt(1 - beta2^t), both computed per step on the
//         CPU. Weight decay is decoupled (AdamW, Loshchilov and Hutter 2019), as in Keras 3 and
//         torch.optim.AdamW.
// Bindings: weights (read_write), grad (read), velocity / first_moment / second_moment (read_write),
//           sgd_params or adam_params. All of one weight tensor's length.

override WORKGROUP_SIZE: u32 = 64;

struct SgdParams {
  size: u32,
  learning_rate: f32,
  weight_decay: f32,
  momentum: f32,
}

struct AdamParams {
  size: u32,
  learning_rate: f32,
  weight_decay: f32,
  beta1: f32,
  beta2: f32,
  /** 1 - beta, computed in float64: 1 - f32(0.999) would be off by 1.3e-5 relative */
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  step_size: f32,
  epsilon_hat: f32,
}

@group(0) @binding(0) var<storage, read_write> weights: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> velocity: array<f32>;
@group(0) @binding(3) var<storage, read_write> first_moment: array<f32>;
@group(0) @binding(4) var<storage, read_write> second_moment: array<f32>;
@group(0) @binding(5) var<uniform> sgd_params: SgdParams;
@group(0) @binding(6) var<uniform> adam_params: AdamParams;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= sgd_params.size) {
    return;
  }
  let g = grad[i] + sgd_params.weight_decay * weights[i];
  let v = sgd_params.momentum * velocity[i] + g;
  velocity[i] = v;
  weights[i] -= sgd_params.learning_rate * v;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= adam_params.size) {
    return;
  }
  let g = grad[i];
  let m = adam_params.beta1 * first_moment[i] + adam_params.one_minus_beta1 * g;
  let v = adam_params.beta2 * second_moment[i] + adam_params.one_minus_beta2 * g * g;
  first_moment[i] = m;
  second_moment[i] = v;
  let w = weights[i];
  weights[i] = w - adam_params.step_size * m / (sqrt(v) + adam_params.epsilon_hat) - adam_params.learning_rate * adam_params.weight_decay * w;
}
