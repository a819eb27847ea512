// Elementwise activations and their gradients, on tensors of any shape (flat f32 arrays).
//   forward:  output[i] = act(input[i])
//   backward: input_grad[i] = output_grad[i] * act'(.) written in terms of the forward OUTPUT y,
//             so backward needs only what forward produced:
//             relu: y > 0; relu6: 0 < y < 6; sigmoid: y (1 - y); linear: 1.
//             GUIDED (guided backpropagation, Springenberg et al. 2015, eq. for R^i in Fig. 1):
//             relu and relu6 also zero negative upstream gradients, output_grad -> max(output_grad, 0);
//             sigmoid and linear keep the plain gradient.
// ACTIVATION: 0 linear, 1 relu, 2 relu6, 3 sigmoid (matches ACTIVATION_CODES in src/ops/activation.ts).
// Bindings: forward  input (read), output (read_write)
//           backward output_grad (read), output (read: forward result), input_grad (read_write)

override WORKGROUP_SIZE: u32 = 64;
override ACTIVATION: u32 = 1u;
override GUIDED: bool = false;

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<storage, read> output_grad: array<f32>;
@group(0) @binding(3) var<storage, read> forward_output: array<f32>;
@group(0) @binding(4) var<storage, read_write> input_grad: array<f32>;

fn activate(x: f32) -> f32 {
  switch ACTIVATION {
    case 1u: { return max(x, 0.0); }
    case 2u: { return clamp(x, 0.0, 6.0); }
    // exp of a large negative argument overflows to inf and gives 0 exactly, which is the limit
    case 3u: { return 1.0 / (1.0 + exp(-x)); }
    default: { return x; }
  }
}

/** d act / d x expressed through y = act(x). */
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
    let upstream = output_grad[i];
    let guided = GUIDED && (ACTIVATION == 1u || ACTIVATION == 2u);
    input_grad[i] = select(upstream, max(upstream, 0.0), guided) * derivative_from_output(forward_output[i]);
  }
}
