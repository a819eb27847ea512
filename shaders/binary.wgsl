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
// Each input's gradient sums the terms of every output element it was broadcast to
// (reduction over its broadcast axes): one invocation per element of that input, looping over
// the output coordinates that read it; an input that is not broadcast takes one term, read
// without the loop, and one of the output's shape is indexed without decoding coordinates.
// Entries:
//   forward_same       equal shapes, flat index     a, b (read), output (read_write), params
//   forward_broadcast  any broadcast                a, b (read), output (read_write), params
//   gradient_linear    add/sub: grad = scale * sum(dy) over the broadcast axes (the sign of sub's
//                      second input is in scale)   dy (read), grad (read_write), params
//   gradient           mul/div/maximum/minimum, WRT 0 = a, 1 = b
//                                                   a, b, dy (read), grad (read_write), params

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

// The output coordinates that read gradient element g: g's own coordinate on the axes where the
// input is not broadcast, every coordinate on those where it is (its size 1 against the output's).
fn first_read(g: vec4u) -> vec4u {
  return select(g, vec4u(0u), params.grad_shape != params.out_shape);
}

fn last_read(g: vec4u) -> vec4u {
  return select(g + 1u, params.out_shape, params.grad_shape != params.out_shape);
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
  let g = coordinate(i, params.grad_shape);
  let lo = first_read(g);
  let hi = last_read(g);
  let out_strides = strides_of(params.out_shape);
  var sum = 0.0;
  for (var n = lo.x; n < hi.x; n++) {
    for (var y = lo.y; y < hi.y; y++) {
      for (var x = lo.z; x < hi.z; x++) {
        for (var c = lo.w; c < hi.w; c++) {
          sum += dy[dot(vec4u(n, y, x, c), out_strides)];
        }
      }
    }
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
  let g = coordinate(i, params.grad_shape);
  let lo = first_read(g);
  let hi = last_read(g);
  let out_strides = strides_of(params.out_shape);
  var sum = 0.0;
  for (var n = lo.x; n < hi.x; n++) {
    for (var y = lo.y; y < hi.y; y++) {
      for (var x = lo.z; x < hi.z; x++) {
        for (var c = lo.w; c < hi.w; c++) {
          let o = vec4u(n, y, x, c);
          sum += dy[dot(o, out_strides)] * partial(a[dot(o, params.a_strides)], b[dot(o, params.b_strides)]);
        }
      }
    }
  }
  grad[i] = params.scale * sum;
}
