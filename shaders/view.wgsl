// Strided views: each output element is one input element, or a fill value, found through a
// per-axis affine map. One family serves Slice / StridedSlice / Cropping2D, Pad / PadV2 / MirrorPad
// (any axis), Transpose / Permute and DepthToSpace / SpaceToDepth, and the gradients of them all.
//
// The view has `rank` <= 8 axes k, row-major, of sizes size[k]: the output's shape or a finer split
// of it (DepthToSpace views its NHWC output as [N, H, b, W, b, C / b^2]). Output coordinate o along
// axis k reads input coordinate i = start[k] + o * step[k], valid in [0, limit[k]); the input
// element sits at sum over k of i * stride[k] (element strides: a transpose permutes them). Tensors
// are dense row-major (NHWC activations, batch first); one invocation per element written.
//
//   gather (forward): output[o] = input[i]. Where i leaves [0, limit) on an axis, EDGE decides:
//     0 (constant): the fill value (Pad, PadV2);
//     1 (REFLECT), 2 (SYMMETRIC), TF's MirrorPad: i < 0 reads -i (REFLECT) or -i - 1 (SYMMETRIC);
//       i >= limit reads 2 (limit - 1) - i or 2 limit - 1 - i. The loader keeps paddings within
//       limit - 1 (REFLECT) or limit (SYMMETRIC), as TF requires, so one reflection suffices.
//   gather_inverse: the gradient of an injective gather with EDGE 0 (slice, crop, constant pad).
//     Here the invocation runs over dx, shaped [limit] row-major, and `stride` holds dy's row-major
//     strides over the view: dx[i] = dy[o] for the o with start + o * step = i on every axis, else 0
//     (an input element no output reads gets no gradient; the fill value is a constant, so it takes
//     none either). Transposes and depth/space moves need no inverse entry: each one's gradient is
//     the gather of the inverse permutation.
//   mirror_backward: the gradient of MirrorPad, as a gather (no atomics): over dx as above,
//     dx[i] = sum of dy[o] over every output o that reads i. Along one axis, i is read by at most
//     three outputs (its own position, its mirror in the leading padding, its mirror in the trailing
//     one), so an invocation sums at most 3^rank terms.
// Bindings: input (read), output (read_write), params.

override WORKGROUP_SIZE: u32 = 64;
// 0: constant fill, 1: REFLECT, 2: SYMMETRIC (gather); 1 or 2 (mirror_backward).
override EDGE: u32 = 0;

struct Params {
  size_lo: vec4u,
  size_hi: vec4u,
  start_lo: vec4i,
  start_hi: vec4i,
  step_lo: vec4i,
  step_hi: vec4i,
  limit_lo: vec4u,
  limit_hi: vec4u,
  stride_lo: vec4u,
  stride_hi: vec4u,
  rank: u32,
  fill: f32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn pick_u(lo: vec4u, hi: vec4u, k: u32) -> u32 {
  if (k < 4u) {
    return lo[k];
  }
  return hi[k - 4u];
}

fn pick_i(lo: vec4i, hi: vec4i, k: u32) -> i32 {
  if (k < 4u) {
    return lo[k];
  }
  return hi[k - 4u];
}

// REFLECT mirrors about the edge element, SYMMETRIC about the edge itself (repeats the edge element).
fn mirror(i: i32, limit: i32) -> i32 {
  let repeat = i32(EDGE) - 1;
  if (i < 0) {
    return -i - repeat;
  }
  return 2 * limit - 2 + repeat - i;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (index >= arrayLength(&output)) {
    return;
  }
  var rest = index;
  var source = 0u;
  var inside = true;
  for (var k = params.rank; k > 0u; k--) {
    let axis = k - 1u;
    let size = pick_u(params.size_lo, params.size_hi, axis);
    let o = rest % size;
    rest /= size;
    let limit = i32(pick_u(params.limit_lo, params.limit_hi, axis));
    var i = pick_i(params.start_lo, params.start_hi, axis) + i32(o) * pick_i(params.step_lo, params.step_hi, axis);
    if (i < 0 || i >= limit) {
      if (EDGE == 0u) {
        inside = false;
        continue;
      }
      i = mirror(i, limit);
    }
    source += u32(i) * pick_u(params.stride_lo, params.stride_hi, axis);
  }
  output[index] = select(params.fill, input[source], inside);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather_inverse(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (index >= arrayLength(&output)) {
    return;
  }
  var rest = index;
  var source = 0u;
  var mapped = true;
  for (var k = params.rank; k > 0u; k--) {
    let axis = k - 1u;
    let limit = pick_u(params.limit_lo, params.limit_hi, axis);
    let i = i32(rest % limit);
    rest /= limit;
    let offset = i - pick_i(params.start_lo, params.start_hi, axis);
    let step = pick_i(params.step_lo, params.step_hi, axis);
    // o = (i - start) / step must be a whole number inside the view
    let o = offset / step;
    if (offset % step != 0 || o < 0 || o >= i32(pick_u(params.size_lo, params.size_hi, axis))) {
      mapped = false;
      continue;
    }
    source += u32(o) * pick_u(params.stride_lo, params.stride_hi, axis);
  }
  output[index] = select(0.0, input[source], mapped);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn mirror_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (index >= arrayLength(&output)) {
    return;
  }
  // per axis, the dy offsets (o * stride) of the up to three outputs that read this element
  var offsets: array<vec3u, 8>;
  var counts: array<u32, 8>;
  var combinations = 1u;
  var rest = index;
  for (var k = params.rank; k > 0u; k--) {
    let axis = k - 1u;
    let limit = pick_u(params.limit_lo, params.limit_hi, axis);
    let i = i32(rest % limit);
    rest /= limit;
    let before = -pick_i(params.start_lo, params.start_hi, axis);
    let size = i32(pick_u(params.size_lo, params.size_hi, axis));
    let stride = pick_u(params.stride_lo, params.stride_hi, axis);
    var found = vec3u(u32(i + before) * stride, 0u, 0u);
    var count = 1u;
    // coordinate j = o - before reads i when mirror(j) = i: j = -i - repeat below the input
    // (an output in the leading padding), j = 2 limit - 2 + repeat - i above it (trailing padding)
    let repeat = i32(EDGE) - 1;
    let below = -i - repeat;
    if (below < 0 && below + before >= 0) {
      found[count] = u32(below + before) * stride;
      count++;
    }
    let above = 2 * i32(limit) - 2 + repeat - i;
    if (above >= i32(limit) && above + before < size) {
      found[count] = u32(above + before) * stride;
      count++;
    }
    offsets[axis] = found;
    counts[axis] = count;
    combinations *= count;
  }
  var sum = 0.0;
  for (var t = 0u; t < combinations; t++) {
    // mixed-radix digits of t choose one candidate per axis
    var digits = t;
    var at = 0u;
    for (var axis = 0u; axis < params.rank; axis++) {
      at += offsets[axis][digits % counts[axis]];
      digits /= counts[axis];
    }
    sum += input[at];
  }
  output[index] = sum;
}
