/**
 * SLIC (Achanta et al. 2012) in float64, the same algorithm as shaders/slic.wgsl: grid
 * initialisation, pixel-driven assignment over the 3x3 neighbouring cells (ties to the smallest
 * center index), center update as the mean of each center's pixels. Also returns, per pixel, the
 * gap between its best and second-best distance in the last assignment, so that tests can tell
 * a near-tie (where float32 may pick the other center) from a real disagreement.
 */
import { slicGrid } from '../../src/ops/slic.js';

export function referenceSlic(image: ArrayLike<number>, height: number, width: number, channels: number, o: { segments: number; compactness: number; iterations: number; colorScale?: number }) {
  const { gridY, gridX, centers: k, spatialWeight } = slicGrid(height, width, o.segments, o.compactness);
  const scale = o.colorScale ?? 1;
  const stride = 2 + channels;
  const centers = new Float64Array(k * stride);
  for (let c = 0; c < k; c++) {
    const y = Math.floor(((2 * Math.floor(c / gridX) + 1) * height) / (2 * gridY));
    const x = Math.floor(((2 * (c % gridX) + 1) * width) / (2 * gridX));
    centers[c * stride] = y;
    centers[c * stride + 1] = x;
    for (let ch = 0; ch < channels; ch++) centers[c * stride + 2 + ch] = image[(y * width + x) * channels + ch];
  }
  const labels = new Int32Array(height * width);
  const gap = new Float64Array(height * width);
  const assign = () => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        const cellY = Math.floor((y * gridY) / height);
        const cellX = Math.floor((x * gridX) / width);
        let best = -1;
        let bestDistance = Infinity;
        let second = Infinity;
        for (let cy = cellY - 1; cy <= cellY + 1; cy++) {
          for (let cx = cellX - 1; cx <= cellX + 1; cx++) {
            if (cy < 0 || cx < 0 || cy >= gridY || cx >= gridX) continue;
            const c = cy * gridX + cx;
            let color = 0;
            for (let ch = 0; ch < channels; ch++) color += (scale * (image[p * channels + ch] - centers[c * stride + 2 + ch])) ** 2;
            const distance = color + spatialWeight * ((y - centers[c * stride]) ** 2 + (x - centers[c * stride + 1]) ** 2);
            if (distance < bestDistance) {
              second = bestDistance;
              bestDistance = distance;
              best = c;
            } else if (distance < second) {
              second = distance;
            }
          }
        }
        labels[p] = best;
        gap[p] = (second - bestDistance) / Math.max(bestDistance, 1e-12);
      }
    }
  };
  const update = () => {
    const sums = new Float64Array(k * stride);
    const counts = new Float64Array(k);
    for (let p = 0; p < height * width; p++) {
      const c = labels[p];
      counts[c]++;
      sums[c * stride] += Math.floor(p / width);
      sums[c * stride + 1] += p % width;
      for (let ch = 0; ch < channels; ch++) sums[c * stride + 2 + ch] += image[p * channels + ch];
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      for (let j = 0; j < stride; j++) centers[c * stride + j] = sums[c * stride + j] / counts[c];
    }
  };
  for (let i = 0; i < o.iterations; i++) {
    if (i > 0) update();
    assign();
  }
  return { labels, gap, centers: k };
}
