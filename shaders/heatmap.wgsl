// Display of an attribution map for the <xai-heatmap> component (render pipeline, not compute):
// a full-screen triangle whose fragments look up the map, scale it, colour it and blend it over
// the image, writing straight into a canvas texture configured with the engine's device.
//   t      = value / scale                          (scale > 0: the percentile, shared or fixed scale)
//   colour = inferno(clamp(t, 0, 1))                (DIVERGING = false: magnitudes)
//          = blue-white-red((clamp(t, -1, 1) + 1) / 2)  (DIVERGING = true: signed, white at 0)
//   out    = mix(image, colour, opacity)            (BLEND_IMAGE = true), else colour
// The palettes are the 5-stop piecewise-linear ones of src/explain/colormap.ts
// (sequentialColor / divergingColor), stop for stop, so the CPU colormap is the test oracle.
// Colours and image are sRGB-encoded bytes / 255 written to a non-sRGB canvas format, as on the CPU.
// The map is the [H, W] map row-major (map_size = (W, H)); the output (canvas or image) may be
// larger: output pixel (x, y) reads map pixel floor((x + 0.5) * W / out_w) (SMOOTH = false), or
// bilinear with half-pixel centres (SMOOTH = true, the grid imageToInput resizes on).
// Entry points: `fullscreen` (vertex), `heatmap` (fragment), `colorbar` (fragment: a horizontal
// bar of the same palette, t from -1 or 0 at the left edge to 1 at the right).
// Bindings: params (uniform), attribution (read: the [H, W] map), image (texture_2d, read with textureLoad at the
// output pixel, so the canvas is the image's size when BLEND_IMAGE is set).

override DIVERGING: bool = false;
override BLEND_IMAGE: bool = false;
override SMOOTH: bool = false;

struct Params {
  map_size: vec2u,
  out_size: vec2u,
  scale: f32,
  opacity: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> attribution: array<f32>;
@group(0) @binding(2) var image: texture_2d<f32>;

const INFERNO = array<vec3f, 5>(
  vec3f(0.0, 0.0, 4.0), vec3f(87.0, 16.0, 110.0), vec3f(188.0, 55.0, 84.0), vec3f(249.0, 142.0, 9.0), vec3f(252.0, 255.0, 164.0),
);
const BLUE_WHITE_RED = array<vec3f, 5>(
  vec3f(33.0, 102.0, 172.0), vec3f(146.0, 197.0, 222.0), vec3f(247.0, 247.0, 247.0), vec3f(244.0, 165.0, 130.0), vec3f(178.0, 24.0, 43.0),
);

// Piecewise-linear between 5 stops (in 0..255), u in [0, 1]; the same arithmetic as colormap.ts.
fn interpolate(stops: array<vec3f, 5>, u: f32) -> vec3f {
  var s = stops; // a function-scope copy, indexable with a runtime index
  let x = clamp(u, 0.0, 1.0) * 4.0;
  let i = min(u32(floor(x)), 3u);
  let f = x - f32(i);
  return (s[i] * (1.0 - f) + s[i + 1u] * f) / 255.0;
}

// t is the value over the scale: [0, 1] for magnitudes, [-1, 1] for signed maps (clipped beyond).
fn palette(t: f32) -> vec3f {
  if (DIVERGING) {
    return interpolate(BLUE_WHITE_RED, (clamp(t, -1.0, 1.0) + 1.0) * 0.5);
  }
  return interpolate(INFERNO, t);
}

fn map_at(x: i32, y: i32) -> f32 {
  let size = vec2i(params.map_size);
  let p = clamp(vec2i(x, y), vec2i(0), size - 1);
  return attribution[u32(p.y) * params.map_size.x + u32(p.x)];
}

// The map value under output pixel `pixel` (its centre is pixel + 0.5).
fn map_value(pixel: vec2f) -> f32 {
  let ratio = vec2f(params.map_size) / vec2f(params.out_size);
  if (!SMOOTH) {
    let p = vec2i(floor(pixel * ratio));
    return map_at(p.x, p.y);
  }
  // half-pixel centres: output centre c maps to c * ratio - 0.5 in map pixel units
  let source = (floor(pixel) + 0.5) * ratio - 0.5;
  let base = floor(source);
  let f = source - base;
  let p = vec2i(base);
  let top = mix(map_at(p.x, p.y), map_at(p.x + 1, p.y), f.x);
  let bottom = mix(map_at(p.x, p.y + 1), map_at(p.x + 1, p.y + 1), f.x);
  return mix(top, bottom, f.y);
}

// One triangle covering the viewport: (-1, -1), (3, -1), (-1, 3).
@vertex
fn fullscreen(@builtin(vertex_index) index: u32) -> @builtin(position) vec4f {
  let corner = vec2f(f32((index << 1u) & 2u), f32(index & 2u));
  return vec4f(corner * 2.0 - 1.0, 0.0, 1.0);
}

@fragment
fn heatmap(@builtin(position) position: vec4f) -> @location(0) vec4f {
  let colour = palette(map_value(position.xy) / params.scale);
  if (BLEND_IMAGE) {
    let under = textureLoad(image, vec2i(position.xy), 0).rgb;
    return vec4f(mix(under, colour, params.opacity), 1.0);
  }
  return vec4f(colour, 1.0);
}

@fragment
fn colorbar(@builtin(position) position: vec4f) -> @location(0) vec4f {
  let u = position.x / f32(params.out_size.x);
  let t = select(u, u * 2.0 - 1.0, DIVERGING);
  return vec4f(palette(t), 1.0);
}
