/** CPU drawing of small pictures (filter images, feature maps) into 2D canvases. */
import { divergingColor, sequentialColor } from '../../index.js';

/**
 * Draws image `index` of `images` ([n, H, W, C], values in `range`) into `canvas`: one channel as
 * gray, three or more as RGB (the first three), two as gray of the first. `stretch` maps the
 * image's own min..max to 0..255 instead of `range`.
 */
export function drawImage(canvas: HTMLCanvasElement, images: Float32Array, shape: readonly number[], index: number, range: readonly [number, number], stretch: boolean): void {
  const [, height, width, channels] = shape;
  const size = height * width * channels;
  const offset = index * size;
  let [low, high] = range;
  if (stretch) {
    low = Infinity;
    high = -Infinity;
    for (let i = 0; i < size; i++) {
      low = Math.min(low, images[offset + i]);
      high = Math.max(high, images[offset + i]);
    }
  }
  const span = high - low || 1;
  const pixels = new ImageData(width, height);
  const byte = (v: number) => Math.round(Math.min(1, Math.max(0, (v - low) / span)) * 255);
  for (let p = 0; p < height * width; p++) {
    const at = offset + p * channels;
    const rgb = channels >= 3 ? [images[at], images[at + 1], images[at + 2]] : [images[at], images[at], images[at]];
    pixels.data[p * 4] = byte(rgb[0]);
    pixels.data[p * 4 + 1] = byte(rgb[1]);
    pixels.data[p * 4 + 2] = byte(rgb[2]);
    pixels.data[p * 4 + 3] = 255;
  }
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
}

/** Draws channel `channel` of an [h, w, K] map, coloured on `scale` (sequential, or diverging when `signed`). */
export function drawFeatureMap(canvas: HTMLCanvasElement, values: Float32Array, shape: readonly number[], channel: number, scale: number, signed: boolean): void {
  const [height, width, channels] = shape;
  const pixels = new ImageData(width, height);
  for (let p = 0; p < height * width; p++) {
    const t = values[p * channels + channel] / scale;
    const [r, g, b] = signed ? divergingColor(t) : sequentialColor(t);
    pixels.data.set([r, g, b, 255], p * 4);
  }
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
}

/** A CSS gradient of a palette, for colour legends drawn without a canvas. */
export function paletteGradient(signed: boolean): string {
  const stops = Array.from({ length: 9 }, (_, i) => {
    const u = i / 8;
    const [r, g, b] = signed ? divergingColor(u * 2 - 1) : sequentialColor(u);
    return `rgb(${r} ${g} ${b}) ${Math.round(u * 100)}%`;
  });
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
