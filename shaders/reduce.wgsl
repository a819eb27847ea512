// Column sums: the input is viewed as a [rows, columns] row-major matrix (e.g. NHWC flattened to
// [N*H*W, C]); output[chunk, c] = sum of input[r, c] for r in the chunk's `chunk_rows` rows.
// One pass with chunk_rows = rows gives the per-channel sum (bias gradients); for tall inputs the
// op runs two passes (partial sums, then their sum) so that thousands of invocations share the work.
// Bindings: input (read), output (read_write, [ceil(rows / chunk_rows), columns]), params.

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  rows: u32,
  columns: u32,
  chunk_rows: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn column_sum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= arrayLength(&output)) {
    return;
  }
  let chunk = i / params.columns;
  let column = i % params.columns;
  let first = chunk * params.chunk_rows;
  let last = min(first + params.chunk_rows, params.rows);
  var sum = 0.0;
  for (var r = first; r < last; r++) {
    sum += input[r * params.columns + column];
  }
  output[i] = sum;
}
