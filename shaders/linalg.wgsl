// Column statistics and centering of a data matrix, the GPU half of PCA (src/explain/pca.ts):
//   column_stats: stats[0, d] = mean_n x[n, d]
//                 stats[1, d] = sum_n (x[n, d] - mean_d)^2 / (rows - 1)   (unbiased variance; 0 when rows = 1)
//   center:       output[n, d] = x[n, d] - stats[0, d]
// The variance is computed in two passes over the column (mean first, then squared deviations),
// which in float32 loses far less than the one-pass E[x^2] - E[x]^2 (Chan, Golub and LeVeque 1983).
// Its sum over d is the trace of the covariance, the total variance that explained-variance ratios
// divide by. The covariance itself is the product Xcᵀ · Xc / (rows - 1) on shaders/dense.wgsl.
// Layouts: x [rows, cols] row-major (one feature vector per row), stats [2, cols].
// One invocation per column (column_stats) or per element (center); neither is differentiated.
// Bindings: column_stats x (read), stats (read_write), params
//           center       x (read), stats (read_write, only read), output (read_write), params

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn column_stats(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let d = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (d >= params.cols) {
    return;
  }
  var sum = 0.0;
  for (var n = 0u; n < params.rows; n++) {
    sum += x[n * params.cols + d];
  }
  let mean = sum / f32(params.rows);
  var squares = 0.0;
  for (var n = 0u; n < params.rows; n++) {
    let deviation = x[n * params.cols + d] - mean;
    squares += deviation * deviation;
  }
  stats[d] = mean;
  stats[params.cols + d] = select(0.0, squares / f32(params.rows - 1u), params.rows > 1u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn center(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= params.rows * params.cols) {
    return;
  }
  output[i] = x[i] - stats[i % params.cols];
}
