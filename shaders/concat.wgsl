// Concatenation along one axis (TF ConcatV2, Keras Concatenate) and its gradient, one input per
// dispatch. With `inner` = the product of an input's sizes from the axis on, and `outer` = the
// product of the sizes before it (equal for every input), input k is an [outer, inner_k] matrix
// and the output an [outer, sum of inner_k] one; input k fills columns offset_k .. offset_k +
// inner_k of every output row. The gradient of input k is that block of dy.
// Entries:
//   insert   output[r, offset + j] = input[r, j]   input (read), output (read_write), params
//   extract  grad[r, j] = dy[r, offset + j]         dy (read), grad (read_write), params
// Each invocation handles one element of the input (insert) or of its gradient (extract).

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  /** The input's row length (its sizes from the axis on). */
  inner: u32,
  /** The output's row length. */
  out_inner: u32,
  /** Where the input's columns start in an output row. */
  offset: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn whole_index(i: u32) -> u32 {
  return (i / params.inner) * params.out_inner + params.offset + i % params.inner;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn insert(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&input)) {
    output[whole_index(i)] = input[i];
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn extract(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&grad)) {
    grad[i] = dy[whole_index(i)];
  }
}
