// Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011). Element i of stream `stream` under key `seed` is a pure function of
// (seed, stream, i), so any chunk of a batch reproduces exactly, in any order, on any device.
//   add_gaussian:  output[s, i] = input[i] + sigma * N(0, 1)   (SmoothGrad's noisy copies;
//                  input [1, ...] is broadcast over the copies s = offset .. offset + copies)
//   fill_uniform:  output[i] = low + (high - low) * U[0, 1)
//   fill_gaussian: output[i] = N(0, 1)                           (tests of the generator)
//   add_gaussian_rows: output[n, i] = input[r, i] + sigma * N(0, 1) of copy k, where row n of
//                  `table` (stride table_stride) starts with (r, k): copies of many images whose
//                  noise depends on the copy number k only, so a batch of images draws for each
//                  image exactly what a call for that image alone draws.
// Normal deviates by Box-Muller from two uniforms of one Philox block.
// Bindings: input (read), output (read_write), params; add_gaussian_rows: input, output, table
// (read), rows instead of params.

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  seed: u32,
  stream: u32,
  /** Copy index of output row 0 (the chunk's offset within all copies). */
  copy_offset: u32,
  /** Elements per copy (input size for add_gaussian, output size otherwise). */
  copy_size: u32,
  a: f32,
  b: f32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

struct RowParams {
  seed: u32,
  stream: u32,
  /** Elements per copy (per input row). */
  copy_size: u32,
  /** Values per row of `table`; the first two are (input row, copy number). */
  table_stride: u32,
  sigma: f32,
}

@group(0) @binding(3) var<storage, read> table: array<f32>;
@group(0) @binding(4) var<uniform> rows: RowParams;

fn mul_hi_lo(a: u32, b: u32) -> vec2u {
  // 32x32 -> 64-bit product from 16-bit halves (WGSL has no 64-bit integers)
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let lo_lo = a_lo * b_lo;
  let hi_lo = a_hi * b_lo;
  let lo_hi = a_lo * b_hi;
  let hi_hi = a_hi * b_hi;
  let cross = (lo_lo >> 16u) + (hi_lo & 0xffffu) + (lo_hi & 0xffffu);
  let hi = hi_hi + (hi_lo >> 16u) + (lo_hi >> 16u) + (cross >> 16u);
  let lo = (cross << 16u) | (lo_lo & 0xffffu);
  return vec2u(hi, lo);
}

fn philox(counter: vec4u, key_in: vec2u) -> vec4u {
  var c = counter;
  var key = key_in;
  for (var round = 0u; round < 10u; round++) {
    let p0 = mul_hi_lo(0xD2511F53u, c.x);
    let p1 = mul_hi_lo(0xCD9E8D57u, c.z);
    c = vec4u(p1.x ^ c.y ^ key.x, p1.y, p0.x ^ c.w ^ key.y, p0.y);
    key += vec2u(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}

/** Four uniforms in (0, 1] for element `index` of `copy`: never 0, so log() in Box-Muller is finite. */
fn uniforms_of(seed: u32, stream: u32, copy: u32, index: u32) -> vec4f {
  let bits = philox(vec4u(index, copy, stream, 0u), vec2u(seed, 0x5EEDu));
  return (vec4f(bits >> vec4u(8u)) + 1.0) / 16777216.0;
}

fn uniforms(copy: u32, index: u32) -> vec4f {
  return uniforms_of(params.seed, params.stream, copy, index);
}

fn gaussian_of(u: vec4f) -> f32 {
  return sqrt(-2.0 * log(u.x)) * cos(6.283185307179586 * u.y);
}

fn gaussian(copy: u32, index: u32) -> f32 {
  return gaussian_of(uniforms(copy, index));
}

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn add_gaussian(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&output)) {
    return;
  }
  let element = i % params.copy_size;
  let copy = params.copy_offset + i / params.copy_size;
  output[i] = input[element] + params.a * gaussian(copy, element);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn fill_uniform(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&output)) {
    return;
  }
  let element = i % params.copy_size;
  let copy = params.copy_offset + i / params.copy_size;
  // shift (0, 1] to [0, 1)
  output[i] = params.a + (params.b - params.a) * (1.0 - uniforms(copy, element).z);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn fill_gaussian(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&output)) {
    return;
  }
  let element = i % params.copy_size;
  let copy = params.copy_offset + i / params.copy_size;
  output[i] = params.a + params.b * gaussian(copy, element);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn add_gaussian_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = linear_index(gid, groups);
  if (i >= arrayLength(&output)) {
    return;
  }
  let element = i % rows.copy_size;
  let n = i / rows.copy_size;
  let source = u32(table[n * rows.table_stride]);
  let copy = u32(table[n * rows.table_stride + 1u]);
  output[i] = input[source * rows.copy_size + element] + rows.sigma * gaussian_of(uniforms_of(rows.seed, rows.stream, copy, element));
}
