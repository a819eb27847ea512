/**
 * Real photos as model inputs for tests: a PNG read with pngjs, box-filter resized (each output
 * pixel averages the source pixels of its cell; good for the integer downscales used here) to
 * [1, H, W, C] float32 in 0..1, RGB or grey (mean of R, G, B).
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { HostTensor } from './tfjs_oracle.js';

/** Debian's python3-skimage sample photos (astronaut.png is a face). */
export const SKIMAGE_DATA = '/usr/lib/python3/dist-packages/skimage/data';

export function photoTensor(path: string, height: number, width: number, channels: 1 | 3): HostTensor {
  const png = PNG.sync.read(readFileSync(path));
  const data = new Float32Array(height * width * channels);
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor((y * png.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * png.height) / height));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor((x * png.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * png.width) / width));
      const sum = [0, 0, 0];
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0; sx < x1; sx++) for (let c = 0; c < 3; c++) sum[c] += png.data[(sy * png.width + sx) * 4 + c];
      }
      const rgb = sum.map((s) => s / ((y1 - y0) * (x1 - x0) * 255));
      const at = (y * width + x) * channels;
      if (channels === 3) data.set(rgb, at);
      else data[at] = (rgb[0] + rgb[1] + rgb[2]) / 3;
    }
  }
  return { shape: [1, height, width, channels], data };
}
