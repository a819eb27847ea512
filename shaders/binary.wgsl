// Binary elementwise ops of two computed tensors with NumPy/TensorFlow broadcasting, and their
// gradients. Shapes are padded with leading 1s to rank 4 (NHWC, batch first); an axis of size 1 in
// one input repeats along the other's (squeeze-and-excitation: [N, 1, 1, C] * [N, H, W, C]).
//   output[o] = scale * op(a[o . a_strides], b[o . b_strides])
// where o is the output coordinate and an input's stride is 0 on the axes it is broadcast along.
// `scale` is 1 except for the last sum of a Keras Average (1 / n).
//   OP: 0 add, 1 sub, 2 mul, 3 div, 4 maximum, 5 minimum
// Gradients (TensorFlow's math_grad.py): d(a+b) = (dy, dy); d(a-b) = (dy, -dy);
// d(a*b) = (dy*b, dy*a); d(a/b) = (dy/b, -dy*a/b^2). Maximum and minimum are not differentiable
// where a == b; TF's rule (_MaximumMinimumGrad) sends dy to the FIRST input on ties: maximum's
// gradient goes to a where a >= b and to b where a < b; minimum's to a where a <= b, else to b.
// Each input's gradient sums the terms of every output element it was broadcast to (reduction
// over its broadcast axes), in chunks whose partial sums the op adds with reduce.wgsl's column sum;
// an input that is not broadcast takes one term, read without the loop, and one of the output's
// shape is indexed without decoding coordinates.
// Entries:
//   forward_same       equal shapes, flat index     a, b (read), output (read_write), params
//   forward_broadcast  any broadcast                a, b (read), output (read_write), params
//   gradient_linear    add/sub: grad = scale * sum(dy) over the broadcast axes (the sign of sub's
//                      second input is in scale)   dy (read), grad (read_write), params
//   gradient           mul/div/maximum/minimum, WRT 0 = a, 1 = b
//                                                   a, b, dy (read), grad (read_write), params
// grad is the input's gradient, or [chunks, input size] partial sums of it (see `span`).

override WORKGROUP_SIZE: u32 = 64;
override OP: u32 = 0;
/** Which input `gradient` differentiates: 0 = a, 1 = b. */
override WRT: u32 = 0;

struct Params {
  out_shape: vec4u,
  /** Element strides of a and b over the output's coordinates (0 along broadcast axes). */
  a_strides: vec4u,
  b_strides: vec4u,
  /** Shape of the input whose gradient is computed (gradient entries). */
  grad_shape: vec4u,
  scale: f32,
  /** Output elements each gradient element sums (the product of its reduced axes' sizes). */
  reduced: u32,
  /** How many of them one invocation sums. */
  chunk: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

fn apply(x: f32, y: f32) -> f32 {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    case 4u: { return max(x, y); }
    default: { return min(x, y); }
  }
}

/** d op(x, y) / dx (WRT 0) or / dy (WRT 1) for mul, div, maximum, minimum. */
fn partial(x: f32, y: f32) -> f32 {
  switch OP {
    case 2u: { return select(y, x, WRT == 1u); }
    case 3u: { return select(1.0 / y, -x / (y * y), WRT == 1u); }
    // ties (x == y) to the first input, as TF
    case 4u: { return select(f32(x >= y), f32(x < y), WRT == 1u); }
    default: { return select(f32(x <= y), f32(x > y), WRT == 1u); }
  }
}

/** Row-major coordinate of flat index i in a rank-4 shape. */
fn coordinate(i: u32, shape: vec4u) -> vec4u {
  let c = i % shape.w;
  let x = (i / shape.w) % shape.z;
  let y = (i / (shape.w * shape.z)) % shape.y;
  return vec4u(i / (shape.w * shape.z * shape.y), y, x, c);
}

fn strides_of(shape: vec4u) -> vec4u {
  return vec4u(shape.y * shape.z * shape.w, shape.z * shape.w, shape.w, 1u);
}

/**
 * Index into an input with `strides` of output element i: i itself for an input of the output's
 * shape; otherwise the sum over the axes the input is not broadcast along (stride > 0) of the
 * output coordinate times the stride; those it is broadcast along cost no division.
 */
fn source_index(i: u32, strides: vec4u) -> u32 {
  let out_strides = strides_of(params.out_shape);
  if (all(strides == out_strides)) {
    return i;
  }
  // the batch axis needs no modulo, the channel axis no division
  var index = 0u;
  if (strides.x != 0u) { index += i / out_strides.x * strides.x; }
  if (strides.y != 0u) { index += (i / out_strides.y) % params.out_shape.y * strides.y; }
  if (strides.z != 0u) { index += (i / out_strides.z) % params.out_shape.z * strides.z; }
  if (strides.w != 0u) { index += i % params.out_shape.w * strides.w; }
  return index;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_same(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = params.scale * apply(a[i], b[i]);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_broadcast(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < arrayLength(&output)) {
    output[i] = params.scale * apply(a[source_index(i, params.a_strides)], b[source_index(i, params.b_strides)]);
  }
}

// A broadcast input's gradient element g sums the terms of the output elements that read it: g's
// own coordinate on the axes where the input is not broadcast, every coordinate on the reduced
// axes (size 1 in the input). The reduced coordinates r run through `extent` (the output's sizes on
// the reduced axes, 1 elsewhere; `reduced` elements in all) like an odometer; invocation i sums the
// chunk i / grad_size of `chunk` of them for element i % grad_size, so that a long reduction is
// split over several invocations whose partial sums the caller adds (a column sum).
struct Span {
  g: vec4u,
  r: vec4u,
  count: u32,
}

fn reduced_extent() -> vec4u {
  return select(vec4u(1u), params.out_shape, params.grad_shape != params.out_shape);
}

fn span(i: u32) -> Span {
  let size = params.grad_shape.x * params.grad_shape.y * params.grad_shape.z * params.grad_shape.w;
  let first = (i / size) * params.chunk;
  return Span(coordinate(i % size, params.grad_shape), coordinate(first, reduced_extent()), min(params.chunk, params.reduced - first));
}

/** The reduced coordinate after r. */
fn next(r: vec4u, extent: vec4u) -> vec4u {
  var n = r;
  n.w += 1u;
  if (n.w == extent.w) {
    n.w = 0u;
    n.z += 1u;
    if (n.z == extent.z) {
      n.z = 0u;
      n.y += 1u;
      if (n.y == extent.y) {
        n.y = 0u;
        n.x += 1u;
      }
    }
  }
  return n;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gradient_linear(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= arrayLength(&grad)) {
    return;
  }
  if (all(params.grad_shape == params.out_shape)) {
    // not broadcast: gradient element i is output element i's alone
    grad[i] = params.scale * dy[i];
    return;
  }
  let s = span(i);
  let extent = reduced_extent();
  let reduced_axis = params.grad_shape != params.out_shape;
  let out_strides = strides_of(params.out_shape);
  var r = s.r;
  var sum = 0.0;
  for (var k = 0u; k < s.count; k++) {
    sum += dy[dot(select(s.g, r, reduced_axis), out_strides)];
    r = next(r, extent);
  }
  grad[i] = params.scale * sum;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gradient(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= arrayLength(&grad)) {
    return;
  }
  if (all(params.grad_shape == params.out_shape)) {
    grad[i] = params.scale * dy[i] * partial(a[source_index(i, params.a_strides)], b[source_index(i, params.b_strides)]);
    return;
  }
  let s = span(i);
  let extent = reduced_extent();
  let reduced_axis = params.grad_shape != params.out_shape;
  let out_strides = strides_of(params.out_shape);
  var r = s.r;
  var sum = 0.0;
  for (var k = 0u; k < s.count; k++) {
    let o = select(s.g, r, reduced_axis);
    sum += dy[dot(o, out_strides)] * partial(a[dot(o, params.a_strides)], b[dot(o, params.b_strides)]);
    r = next(r, extent);
  }
  grad[i] = params.scale * sum;
}
