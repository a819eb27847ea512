// SLIC superpixels (Achanta et al. 2012, "SLIC superpixels compared to state-of-the-art superpixel
// methods", Alg. 1), pixel-driven as in gSLIC: centers start on a grid_y x grid_x grid of cells;
// each pixel looks only at the centers of the 3x3 cells around its own cell (the paper's 2S x 2S
// search seen from the pixel's side), and each center is then the mean of its pixels.
//   init_centers: center k = (cy, cx) (k = cy * grid_x + cx) at pixel
//                 (floor((2 cy + 1) H / (2 grid_y)), floor((2 cx + 1) W / (2 grid_x))), with its colour.
//   assign:       labels[y, x] = argmin over the 9 neighbouring cells' centers k of
//                 D = sum_c (color_scale * (image[y, x, c] - center_c[k]))^2
//                     + spatial_weight * ((y - center_y[k])^2 + (x - center_x[k])^2)
//                 (the paper's D^2 with spatial_weight = (m / S)^2); ties go to the smallest k
//                 (cells scanned row by row), which the CPU reference mirrors.
//   update:       one invocation per center k scans the pixels of the 3x3 cells around its own
//                 cell (the only pixels assign can give it) and sets the center to the mean
//                 (y, x, colours) of those labelled k; a center without pixels stays. No atomics:
//                 every center sums its own window.
// A segmentation has no gradient: there is no backward entry.
// Pixel (y, x) lies in cell (floor(y grid_y / H), floor(x grid_x / W)); cell rows a..b cover
// pixel rows [ceil(a H / grid_y), ceil((b + 1) H / grid_y)).
// Layouts: image [1, H, W, C] NHWC; centers [K, 2 + C] as (y, x, colour 0..C-1);
// labels [H, W] (the center index as f32, exact below 2^24).
// Bindings (params in every entry): image (read), centers (read_write), labels (read_write).

override WORKGROUP_SIZE: u32 = 64;

struct Params {
  height: u32,
  width: u32,
  channels: u32,
  grid_y: u32,
  grid_x: u32,
  /** (compactness / S)^2: the weight of the squared spatial distance. */
  spatial_weight: f32,
  /** Colour differences are multiplied by this (maps the input range onto CIELAB's ~0..100). */
  color_scale: f32,
}

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read_write> centers: array<f32>;
@group(0) @binding(2) var<storage, read_write> labels: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn linear_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

/** First pixel row (or column) of cell `cell` when `extent` pixels are split into `cells`. */
fn cell_start(cell: u32, extent: u32, cells: u32) -> u32 {
  return (cell * extent + cells - 1u) / cells;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn init_centers(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = linear_index(gid, groups);
  if (k >= params.grid_y * params.grid_x) {
    return;
  }
  let y = ((2u * (k / params.grid_x) + 1u) * params.height) / (2u * params.grid_y);
  let x = ((2u * (k % params.grid_x) + 1u) * params.width) / (2u * params.grid_x);
  let stride = 2u + params.channels;
  centers[k * stride] = f32(y);
  centers[k * stride + 1u] = f32(x);
  for (var c = 0u; c < params.channels; c++) {
    centers[k * stride + 2u + c] = image[(y * params.width + x) * params.channels + c];
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn assign(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = linear_index(gid, groups);
  if (p >= params.height * params.width) {
    return;
  }
  let y = p / params.width;
  let x = p % params.width;
  let cell_y = i32(y * params.grid_y / params.height);
  let cell_x = i32(x * params.grid_x / params.width);
  let stride = 2u + params.channels;
  var best = 0u;
  var best_distance = 0.0;
  var found = false;
  for (var cy = cell_y - 1; cy <= cell_y + 1; cy++) {
    for (var cx = cell_x - 1; cx <= cell_x + 1; cx++) {
      if (cy < 0 || cx < 0 || cy >= i32(params.grid_y) || cx >= i32(params.grid_x)) {
        continue;
      }
      let k = u32(cy) * params.grid_x + u32(cx);
      var color = 0.0;
      for (var c = 0u; c < params.channels; c++) {
        let d = params.color_scale * (image[p * params.channels + c] - centers[k * stride + 2u + c]);
        color += d * d;
      }
      let dy = f32(y) - centers[k * stride];
      let dx = f32(x) - centers[k * stride + 1u];
      let distance = color + params.spatial_weight * (dy * dy + dx * dx);
      if (!found || distance < best_distance) {
        best = k;
        best_distance = distance;
        found = true;
      }
    }
  }
  labels[p] = f32(best);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = linear_index(gid, groups);
  if (k >= params.grid_y * params.grid_x) {
    return;
  }
  let cell_y = k / params.grid_x;
  let cell_x = k % params.grid_x;
  // pixels of cells cell - 1 ..= cell + 1 (clamped to the grid)
  let y0 = cell_start(max(cell_y, 1u) - 1u, params.height, params.grid_y);
  let y1 = cell_start(min(cell_y + 2u, params.grid_y), params.height, params.grid_y);
  let x0 = cell_start(max(cell_x, 1u) - 1u, params.width, params.grid_x);
  let x1 = cell_start(min(cell_x + 2u, params.grid_x), params.width, params.grid_x);
  let stride = 2u + params.channels;
  var count = 0u;
  var sum_y = 0.0;
  var sum_x = 0.0;
  for (var y = y0; y < y1; y++) {
    for (var x = x0; x < x1; x++) {
      if (u32(labels[y * params.width + x]) == k) {
        count++;
        sum_y += f32(y);
        sum_x += f32(x);
      }
    }
  }
  if (count == 0u) {
    return;
  }
  let n = f32(count);
  centers[k * stride] = sum_y / n;
  centers[k * stride + 1u] = sum_x / n;
  for (var c = 0u; c < params.channels; c++) {
    var total = 0.0;
    for (var y = y0; y < y1; y++) {
      for (var x = x0; x < x1; x++) {
        let p = y * params.width + x;
        if (u32(labels[p]) == k) {
          total += image[p * params.channels + c];
        }
      }
    }
    centers[k * stride + 2u + c] = total / n;
  }
}
