// Softmax over the last axis and its gradient. The input is viewed as a [rows, columns] row-major
// matrix (e.g. logits [N, classes]); one invocation handles one row.
//   forward:  output[r, j] = exp(x[r, j] - max_r) / sum_i exp(x[r, i] - max_r). Subtracting the
//             row max keeps every exponent <= 0, so logits of any size cannot overflow exp.
//   backward: input_grad[r, j] = y[r, j] * (dy[r, j] - sum_i dy[r, i] * y[r, i]), from the forward
//             output y (the softmax Jacobian is diag(y) - y yᵀ, and it is symmetric).
// Bindings: forward  input (read), output (read_write), params
//           backward output_grad (read), forward_output (read), input_grad (read_write), params

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  rows: u32,
  columns: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read> output_grad: array<f32>;
@group(0) @binding(4) var<storage, read> forward_output: array<f32>;
@group(0) @binding(5) var<storage, read_write> input_grad: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (r >= params.rows) {
    return;
  }
  let first = r * params.columns;
  let last = first + params.columns;
  var row_max = input[first];
  for (var i = first + 1u; i < last; i++) {
    row_max = max(row_max, input[i]);
  }
  var sum = 0.0;
  for (var i = first; i < last; i++) {
    let e = exp(input[i] - row_max);
    output[i] = e;
    sum += e;
  }
  // sum >= 1 (the max element contributes exp(0)), so the division is safe
  let inverse = 1.0 / sum;
  for (var i = first; i < last; i++) {
    output[i] *= inverse;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (r >= params.rows) {
    return;
  }
  let first = r * params.columns;
  let last = first + params.columns;
  var dot = 0.0;
  for (var i = first; i < last; i++) {
    dot += output_grad[i] * forward_output[i];
  }
  for (var i = first; i < last; i++) {
    input_grad[i] = forward_output[i] * (output_grad[i] - dot);
  }
}
