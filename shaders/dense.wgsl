// Dense (fully connected) layer and the two products of its backward pass, all as one strided
// matrix product with a fused epilogue:
//   out[r, c] = act(sum_q A[r, q] * B[q, c] + bias[c]),   out[r, c] = output[out_offset + r * out_row + c]
// where A[r, q] = a[a_offset + r * a_row + q * a_inner] and B[q, c] = b[q * b_inner + c * b_col].
// The strides let one kernel read transposed operands in place:
//   forward          y  = x · W     A = x  [N, K]: a_row = K, a_inner = 1;  B = W [K, M]: b_inner = M, b_col = 1
//   backward input   dx = dy · Wᵀ   A = dy [N, M]: a_row = M, a_inner = 1;  B = Wᵀ:    b_inner = 1, b_col = M
//   backward weights dW = xᵀ · dy   A = xᵀ:        a_row = 1, a_inner = K;  B = dy [N, M]: b_inner = M, b_col = 1
// and the offsets let it work on a block of W's rows when W is larger than one storage binding
// (src/ops/dense.ts copies such blocks out and writes into the matching block of the result).
// Layouts (row-major, batch first): x [N, K], W [K, M] (TensorFlow/Keras kernel layout), bias [M].
//
// Register blocking: each invocation computes a 4x4 output tile in 16 registers, so every element
// it loads from A is used 4 times and every element of B 4 times. Rows and columns past the end
// are clamped to the last one (computed redundantly, never written), which keeps the inner loop free
// of bounds checks. Adjacent invocations take adjacent column tiles, so loads of B (the weights in
// the forward pass) are contiguous across a subgroup.
//
// Split K: with few output tiles and a long inner dimension (Dense 1024 on a 43264-long flatten at
// batch 1 has 256 tiles), the inner dimension is cut into `splits` chunks of `chunk`; invocation
// (split, tile) writes raw partial sums to output[split, r, c] (dense, [splits, rows, cols]) and
// `sum_splits` adds them up, applies the epilogue and writes out[r, c]. With splits = 1, `matmul`
// applies the epilogue itself.
//
// matmul_tiled computes the same (same Params, same split-K contract) through workgroup memory, for
// hardware GPUs: a workgroup of (TILE_N / 4) x (TILE_M / 4) invocations owns a TILE_M x TILE_N output
// tile; per TILE_K-deep stage it copies A's TILE_M x TILE_K and B's TILE_K x TILE_N blocks into
// workgroup memory (zeros past the chunk's end), and each invocation accumulates a 4 x 4 register
// block from them (tfjs-backend-webgpu's matmul_packed design). Workgroup w = wid.x + wid.y * groups.x
// takes split w / tiles and tile w % tiles. Barriers make it slow on CPU adapters.
//
// Overrides: ACTIVATION 0 linear, 1 relu, 2 relu6, 3 sigmoid (the codes of shaders/activation.wgsl);
// HAS_BIAS adds bias[c] (when false, `bias` is bound to any read-only tensor and never read).
// TILE_ROWS (1-4) is matmul's rows per invocation; TILE_M, TILE_N (multiples of 4) and TILE_K size
// matmul_tiled's tiles and workgroup.
// Bindings: matmul     a (read), b (read), bias (read), output (read_write), params
//           matmul_tiled the same as matmul
//           sum_splits partial (read, [splits, rows, cols]), bias (read), output (read_write), sum_params

override WORKGROUP_SIZE: u32 = 64;
override ACTIVATION: u32 = 0u;
override HAS_BIAS: bool = false;

struct Params {
  rows: u32,
  cols: u32,
  inner: u32,
  a_offset: u32,
  a_row: u32,
  a_inner: u32,
  b_inner: u32,
  b_col: u32,
  splits: u32,
  chunk: u32,
  out_offset: u32,
  out_row: u32,
}

struct SumParams {
  rows: u32,
  cols: u32,
  splits: u32,
  out_offset: u32,
  out_row: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read> partial: array<f32>;
@group(0) @binding(6) var<uniform> sum_params: SumParams;

// Same codes and formulas as activate() in shaders/activation.wgsl.
fn activate(x: f32) -> f32 {
  switch ACTIVATION {
    case 1u: { return max(x, 0.0); }
    case 2u: { return clamp(x, 0.0, 6.0); }
    case 3u: { return 1.0 / (1.0 + exp(-x)); }
    default: { return x; }
  }
}

fn epilogue(sum: f32, c: u32) -> f32 {
  if (HAS_BIAS) {
    return activate(sum + bias[c]);
  }
  return activate(sum);
}

/** Writes one row of a tile: final values (splits = 1) or raw partial sums of chunk `split`. */
fn store_row(split: u32, r: u32, c0: u32, values: vec4f) {
  if (r >= params.rows) {
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    let c = c0 + j;
    if (c < params.cols) {
      if (params.splits == 1u) {
        output[params.out_offset + r * params.out_row + c] = epilogue(values[j], c);
      } else {
        output[(split * params.rows + r) * params.cols + c] = values[j];
      }
    }
  }
}

/**
 * matmul: rows per invocation tile, 1 to 4. The host sets it to `rows` when there are fewer than 4
 * (a batch-1 layer), so that the pipeline, specialized on it, loads and multiplies only the rows
 * that exist instead of clamped copies of the last one.
 */
override TILE_ROWS: u32 = 4u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn matmul(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  let tile_cols = (params.cols + 3u) / 4u;
  let tiles = tile_cols * ((params.rows + TILE_ROWS - 1u) / TILE_ROWS);
  if (i >= tiles * params.splits) {
    return;
  }
  let split = i / tiles;
  let tile = i % tiles;
  let r0 = (tile / tile_cols) * TILE_ROWS;
  let c0 = (tile % tile_cols) * 4u;
  // Offsets of the tile's 4 rows in A and 4 columns in B, clamped to the last row/column.
  let last_r = params.rows - 1u;
  let last_c = params.cols - 1u;
  let ra = vec4u(min(r0, last_r), min(r0 + 1u, last_r), min(r0 + 2u, last_r), min(r0 + 3u, last_r)) * params.a_row + params.a_offset;
  let cb = vec4u(min(c0, last_c), min(c0 + 1u, last_c), min(c0 + 2u, last_c), min(c0 + 3u, last_c)) * params.b_col;
  let q_begin = split * params.chunk;
  let q_end = min(q_begin + params.chunk, params.inner);

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var q = q_begin; q < q_end; q++) {
    let qa = q * params.a_inner;
    let qb = q * params.b_inner;
    let bq = vec4f(b[qb + cb.x], b[qb + cb.y], b[qb + cb.z], b[qb + cb.w]);
    acc0 = fma(vec4f(a[ra.x + qa]), bq, acc0);
    if (TILE_ROWS > 1u) {
      acc1 = fma(vec4f(a[ra.y + qa]), bq, acc1);
    }
    if (TILE_ROWS > 2u) {
      acc2 = fma(vec4f(a[ra.z + qa]), bq, acc2);
    }
    if (TILE_ROWS > 3u) {
      acc3 = fma(vec4f(a[ra.w + qa]), bq, acc3);
    }
  }
  store_row(split, r0, c0, acc0);
  if (TILE_ROWS > 1u) {
    store_row(split, r0 + 1u, c0, acc1);
  }
  if (TILE_ROWS > 2u) {
    store_row(split, r0 + 2u, c0, acc2);
  }
  if (TILE_ROWS > 3u) {
    store_row(split, r0 + 3u, c0, acc3);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sum_splits(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  let size = sum_params.rows * sum_params.cols;
  if (i >= size) {
    return;
  }
  var sum = 0.0;
  for (var s = 0u; s < sum_params.splits; s++) {
    sum += partial[s * size + i];
  }
  let r = i / sum_params.cols;
  let c = i % sum_params.cols;
  output[sum_params.out_offset + r * sum_params.out_row + c] = epilogue(sum, c);
}

/** matmul_tiled: output rows per workgroup, 4 * (workgroup size y). */
override TILE_M: u32 = 64u;
/** matmul_tiled: output columns per workgroup, 4 * (workgroup size x). */
override TILE_N: u32 = 64u;
/** matmul_tiled: inner-dimension depth per stage. */
override TILE_K: u32 = 16u;

// Derived, never set by the host: the workgroup is THREADS_X x THREADS_Y invocations of 4 x 4
// outputs each. (wgsl_reflect 1.6.0 cannot parse an expression inside @workgroup_size.)
override THREADS_X: u32 = TILE_N / 4u;
override THREADS_Y: u32 = TILE_M / 4u;

// tile_a[q * TILE_M / 4 + y] = A[4y .. 4y + 3, q] of the stage (an invocation's 4 rows packed, read as
// one vec4); tile_b[q * TILE_N / 4 + x] = B[q, 4x .. 4x + 3].
var<workgroup> tile_a: array<vec4f, TILE_K * THREADS_Y>;
var<workgroup> tile_b: array<vec4f, TILE_K * THREADS_X>;

@compute @workgroup_size(THREADS_X, THREADS_Y)
fn matmul_tiled(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let tile_cols = (params.cols + TILE_N - 1u) / TILE_N;
  let tiles = tile_cols * ((params.rows + TILE_M - 1u) / TILE_M);
  let w = wid.x + wid.y * groups.x;
  if (w >= tiles * params.splits) {
    return; // whole workgroups only (workgroup_id is uniform), so the barriers below stay uniform
  }
  let split = w / tiles;
  let tile = w % tiles;
  let r0 = (tile / tile_cols) * TILE_M + lid.y * 4u;
  let c0 = (tile % tile_cols) * TILE_N + lid.x * 4u;
  // The invocation stages the rows of A and columns of B it accumulates, clamped to the last one
  // (computed redundantly, never written), as in matmul.
  let last_r = params.rows - 1u;
  let last_c = params.cols - 1u;
  let ra = min(vec4u(r0) + vec4u(0u, 1u, 2u, 3u), vec4u(last_r)) * params.a_row + params.a_offset;
  let cb = min(vec4u(c0) + vec4u(0u, 1u, 2u, 3u), vec4u(last_c)) * params.b_col;
  let q_begin = split * params.chunk;
  let q_end = min(q_begin + params.chunk, params.inner);

  var acc: array<vec4f, 4>;
  for (var q0 = q_begin; q0 < q_end; q0 += TILE_K) {
    for (var qq = lid.x; qq < TILE_K; qq += THREADS_X) {
      let q = q0 + qq;
      var v = vec4f(0.0);
      if (q < q_end) {
        let qa = q * params.a_inner;
        v = vec4f(a[ra.x + qa], a[ra.y + qa], a[ra.z + qa], a[ra.w + qa]);
      }
      tile_a[qq * THREADS_Y + lid.y] = v;
    }
    for (var qq = lid.y; qq < TILE_K; qq += THREADS_Y) {
      let q = q0 + qq;
      var v = vec4f(0.0);
      if (q < q_end) {
        let qb = q * params.b_inner;
        v = vec4f(b[qb + cb.x], b[qb + cb.y], b[qb + cb.z], b[qb + cb.w]);
      }
      tile_b[qq * THREADS_X + lid.x] = v;
    }
    workgroupBarrier();
    for (var qq = 0u; qq < TILE_K; qq++) {
      let av = tile_a[qq * THREADS_Y + lid.y];
      let bv = tile_b[qq * THREADS_X + lid.x];
      acc[0] = fma(vec4f(av.x), bv, acc[0]);
      acc[1] = fma(vec4f(av.y), bv, acc[1]);
      acc[2] = fma(vec4f(av.z), bv, acc[2]);
      acc[3] = fma(vec4f(av.w), bv, acc[3]);
    }
    workgroupBarrier(); // before the next stage overwrites the tiles
  }
  for (var r = 0u; r < 4u; r++) {
    store_row(split, r0 + r, c0, acc[r]);
  }
}
