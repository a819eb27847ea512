// Strided views: each output element is one input element, or a fill value, found through a
// per-axis affine map. One family serves Slice / StridedSlice / Cropping2D, Pad / PadV2 / MirrorPad
// (any axis), Transpose / Permute and DepthToSpace / SpaceToDepth, and the gradients of them all.
//
// The view has RANK <= 8 axes k, row-major, of sizes size[k]: the output's shape or a finer split
// of it (DepthToSpace views its NHWC output as [N, H, b, W, b, C / b^2]). Output coordinate o along
// axis k reads input coordinate i = start[k] + o * step[k], valid in [0, limit[k]); the input
// element sits at sum over k of i * stride[k] (element strides: a transpose permutes them). Tensors
// are dense row-major (NHWC activations, batch first); one invocation per element written.
//
//   gather (forward): output[o] = input[i]. Where i leaves [0, limit) on an axis, EDGE decides:
//     0 (constant): the fill value (Pad, PadV2);
//     1 (REFLECT), 2 (SYMMETRIC), TF's MirrorPad: i < 0 reads -i (REFLECT) or -i - 1 (SYMMETRIC);
//       i >= limit reads 2 (limit - 1) - i or 2 limit - 1 - i. The pad op keeps paddings within
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
// Per-axis parameters: axes 0-3 in the *_lo vectors, 4-7 in *_hi. src/ops/view.ts merges axes
// that are contiguous and taken whole first (NHWC padding of H and W runs as [N, H, W * C]) and
// specializes the pipeline to the view: RANK compiles the walk to that many axes, UNIT_STEPS (every
// step 1: pads, crops, slices without a stride) drops gather_inverse's two divisions by the step
// per axis. Together they bring zero padding and its gradient (the crop) back to the speed of the
// dedicated NHWC kernel this family replaced.
// Bindings: input (read), output (read_write), params.

override WORKGROUP_SIZE: u32 = 64;
// 0: constant fill, 1: REFLECT, 2: SYMMETRIC (gather); 1 or 2 (mirror_backward).
override EDGE: u32 = 0;
// The view's axes (1-8), and whether every step is 1.
override RANK: u32 = 8;
override UNIT_STEPS: bool = false;

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
  fill: f32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// REFLECT mirrors about the edge element, SYMMETRIC about the edge itself (repeats the edge element).
fn mirror(i: i32, limit: i32) -> i32 {
  let repeat = i32(EDGE) - 1;
  if (i < 0) {
    return -i - repeat;
  }
  return 2 * limit - 2 + repeat - i;
}

// An invocation walks the axes from the innermost out, peeling its coordinate off `rest`, adding
// to the flat index `at`. The axes are unrolled with constant vector components: indexing the
// uniform vectors by a loop counter ran 2-3x slower on lavapipe.
struct Walk {
  rest: u32,
  at: u32,
  inside: bool,
}

fn gather_axis(walk: ptr<function, Walk>, size: u32, start: i32, step: i32, limit: u32, stride: u32) {
  let o = (*walk).rest % size;
  (*walk).rest /= size;
  var i = start + i32(o);
  if (!UNIT_STEPS) {
    i = start + i32(o) * step;
  }
  if (i < 0 || i >= i32(limit)) {
    if (EDGE == 0u) {
      (*walk).inside = false;
      return;
    }
    i = mirror(i, i32(limit));
  }
  (*walk).at += u32(i) * stride;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (index >= arrayLength(&output)) {
    return;
  }
  var walk = Walk(index, 0u, true);
  let p = params;
  if (RANK > 7u) { gather_axis(&walk, p.size_hi.w, p.start_hi.w, p.step_hi.w, p.limit_hi.w, p.stride_hi.w); }
  if (RANK > 6u) { gather_axis(&walk, p.size_hi.z, p.start_hi.z, p.step_hi.z, p.limit_hi.z, p.stride_hi.z); }
  if (RANK > 5u) { gather_axis(&walk, p.size_hi.y, p.start_hi.y, p.step_hi.y, p.limit_hi.y, p.stride_hi.y); }
  if (RANK > 4u) { gather_axis(&walk, p.size_hi.x, p.start_hi.x, p.step_hi.x, p.limit_hi.x, p.stride_hi.x); }
  if (RANK > 3u) { gather_axis(&walk, p.size_lo.w, p.start_lo.w, p.step_lo.w, p.limit_lo.w, p.stride_lo.w); }
  if (RANK > 2u) { gather_axis(&walk, p.size_lo.z, p.start_lo.z, p.step_lo.z, p.limit_lo.z, p.stride_lo.z); }
  if (RANK > 1u) { gather_axis(&walk, p.size_lo.y, p.start_lo.y, p.step_lo.y, p.limit_lo.y, p.stride_lo.y); }
  gather_axis(&walk, p.size_lo.x, p.start_lo.x, p.step_lo.x, p.limit_lo.x, p.stride_lo.x);
  output[index] = select(params.fill, input[walk.at], walk.inside);
}

fn inverse_axis(walk: ptr<function, Walk>, size: u32, start: i32, step: i32, limit: u32, stride: u32) {
  let i = i32((*walk).rest % limit);
  (*walk).rest /= limit;
  // o = (i - start) / step must be a whole number inside the view
  let offset = i - start;
  var o = offset;
  if (!UNIT_STEPS) {
    o = offset / step;
    if (offset % step != 0) {
      (*walk).inside = false;
      return;
    }
  }
  if (o < 0 || o >= i32(size)) {
    (*walk).inside = false;
    return;
  }
  (*walk).at += u32(o) * stride;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather_inverse(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (index >= arrayLength(&output)) {
    return;
  }
  var walk = Walk(index, 0u, true);
  let p = params;
  if (RANK > 7u) { inverse_axis(&walk, p.size_hi.w, p.start_hi.w, p.step_hi.w, p.limit_hi.w, p.stride_hi.w); }
  if (RANK > 6u) { inverse_axis(&walk, p.size_hi.z, p.start_hi.z, p.step_hi.z, p.limit_hi.z, p.stride_hi.z); }
  if (RANK > 5u) { inverse_axis(&walk, p.size_hi.y, p.start_hi.y, p.step_hi.y, p.limit_hi.y, p.stride_hi.y); }
  if (RANK > 4u) { inverse_axis(&walk, p.size_hi.x, p.start_hi.x, p.step_hi.x, p.limit_hi.x, p.stride_hi.x); }
  if (RANK > 3u) { inverse_axis(&walk, p.size_lo.w, p.start_lo.w, p.step_lo.w, p.limit_lo.w, p.stride_lo.w); }
  if (RANK > 2u) { inverse_axis(&walk, p.size_lo.z, p.start_lo.z, p.step_lo.z, p.limit_lo.z, p.stride_lo.z); }
  if (RANK > 1u) { inverse_axis(&walk, p.size_lo.y, p.start_lo.y, p.step_lo.y, p.limit_lo.y, p.stride_lo.y); }
  inverse_axis(&walk, p.size_lo.x, p.start_lo.x, p.step_lo.x, p.limit_lo.x, p.stride_lo.x);
  output[index] = select(0.0, input[walk.at], walk.inside);
}

// The outputs reading input element i of one axis, as dy offsets o * stride: o = i + before always;
// with j = o - before, mirror(j) = i also for j = -i - repeat below the input (an output in the
// leading padding) and j = 2 limit - 2 + repeat - i above it (trailing padding), when those lie
// inside the padding.
struct Readers {
  rest: u32,
  offsets: array<vec3u, 8>,
  counts: array<u32, 8>,
  combinations: u32,
}

fn mirror_axis(readers: ptr<function, Readers>, axis: u32, size: u32, start: i32, limit: u32, stride: u32) {
  let i = i32((*readers).rest % limit);
  (*readers).rest /= limit;
  let before = -start;
  let repeat = i32(EDGE) - 1;
  var found = vec3u(u32(i + before) * stride, 0u, 0u);
  var count = 1u;
  let below = -i - repeat;
  if (below < 0 && below + before >= 0) {
    found[count] = u32(below + before) * stride;
    count++;
  }
  let above = 2 * i32(limit) - 2 + repeat - i;
  if (above >= i32(limit) && above + before < i32(size)) {
    found[count] = u32(above + before) * stride;
    count++;
  }
  (*readers).offsets[axis] = found;
  (*readers).counts[axis] = count;
  (*readers).combinations *= count;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn mirror_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (index >= arrayLength(&output)) {
    return;
  }
  var r: Readers;
  r.rest = index;
  r.combinations = 1u;
  let p = params;
  if (RANK > 7u) { mirror_axis(&r, 7u, p.size_hi.w, p.start_hi.w, p.limit_hi.w, p.stride_hi.w); }
  if (RANK > 6u) { mirror_axis(&r, 6u, p.size_hi.z, p.start_hi.z, p.limit_hi.z, p.stride_hi.z); }
  if (RANK > 5u) { mirror_axis(&r, 5u, p.size_hi.y, p.start_hi.y, p.limit_hi.y, p.stride_hi.y); }
  if (RANK > 4u) { mirror_axis(&r, 4u, p.size_hi.x, p.start_hi.x, p.limit_hi.x, p.stride_hi.x); }
  if (RANK > 3u) { mirror_axis(&r, 3u, p.size_lo.w, p.start_lo.w, p.limit_lo.w, p.stride_lo.w); }
  if (RANK > 2u) { mirror_axis(&r, 2u, p.size_lo.z, p.start_lo.z, p.limit_lo.z, p.stride_lo.z); }
  if (RANK > 1u) { mirror_axis(&r, 1u, p.size_lo.y, p.start_lo.y, p.limit_lo.y, p.stride_lo.y); }
  mirror_axis(&r, 0u, p.size_lo.x, p.start_lo.x, p.limit_lo.x, p.stride_lo.x);
  var sum = 0.0;
  for (var t = 0u; t < r.combinations; t++) {
    // mixed-radix digits of t pick one reader per axis
    var digits = t;
    var at = 0u;
    for (var axis = 0u; axis < RANK; axis++) {
      at += r.offsets[axis][digits % r.counts[axis]];
      digits /= r.counts[axis];
    }
    sum += input[at];
  }
  output[index] = sum;
}
