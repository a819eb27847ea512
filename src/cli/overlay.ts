/**
 * Heatmap overlays on the CPU for files: the map is upsampled bilinearly to the photo's size and
 * blended over a dimmed grayscale copy of it, so the colours carry the attribution alone.
 */
import { divergingColor, sequentialColor } from '../explain/colormap.js';
import type { RgbaImage } from '../model/image.js';

export function overlay(photo: RgbaImage, map: Float32Array, mapHeight: number, mapWidth: number, signed: boolean, opacity = 0.6): RgbaImage {
  const { width, height } = photo;
  const out = new Uint8Array(width * height * 4);
  const at = (x: number, y: number) => map[Math.min(Math.max(y, 0), mapHeight - 1) * mapWidth + Math.min(Math.max(x, 0), mapWidth - 1)];
  for (let y = 0; y < height; y++) {
    const fy = ((y + 0.5) * mapHeight) / height - 0.5;
    const y0 = Math.floor(fy);
    const ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = ((x + 0.5) * mapWidth) / width - 0.5;
      const x0 = Math.floor(fx);
      const tx = fx - x0;
      const value = (at(x0, y0) * (1 - tx) + at(x0 + 1, y0) * tx) * (1 - ty) + (at(x0, y0 + 1) * (1 - tx) + at(x0 + 1, y0 + 1) * tx) * ty;
      const color = signed ? divergingColor(value) : sequentialColor(value);
      const p = (y * width + x) * 4;
      const gray = 0.5 * (0.299 * photo.data[p] + 0.587 * photo.data[p + 1] + 0.114 * photo.data[p + 2]);
      for (let c = 0; c < 3; c++) out[p + c] = Math.round(gray * (1 - opacity) + color[c] * opacity);
      out[p + 3] = 255;
    }
  }
  return { width, height, data: out };
}

/** Images [n, H, W, C] in `range` tiled into a grid, for filter visualizations. */
export function imageGrid(images: Float32Array, n: number, h: number, w: number, c: number, range: readonly [number, number], gap = 2): RgbaImage {
  const columns = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / columns);
  const width = columns * (w + gap) - gap;
  const height = rows * (h + gap) - gap;
  const data = new Uint8Array(width * height * 4).fill(255);
  const scale = 255 / (range[1] - range[0]);
  for (let i = 0; i < n; i++) {
    const ox = (i % columns) * (w + gap);
    const oy = Math.floor(i / columns) * (h + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = ((oy + y) * width + ox + x) * 4;
        for (let k = 0; k < 3; k++) {
          const v = images[((i * h + y) * w + x) * c + (c === 1 ? 0 : k)];
          data[p + k] = Math.max(0, Math.min(255, Math.round((v - range[0]) * scale)));
        }
      }
    }
  }
  return { width, height, data };
}
