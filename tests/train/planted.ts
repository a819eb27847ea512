/**
 * A planted two-class image task for training tests: 12x12x1 noise images whose bright 3x3 blob
 * sits in the left half (class 0) or the right half (class 1). A CNN learns it in a few epochs.
 */
import type { TrainingData } from '../../src/train/fit.js';

export function plantedBlobs(count: number, random: () => number): TrainingData & { images: Float32Array; labels: Float32Array } {
  const size = 12;
  const images = new Float32Array(count * size * size);
  const labels = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    labels[n] = label;
    const image = images.subarray(n * size * size, (n + 1) * size * size);
    for (let i = 0; i < image.length; i++) image[i] = random() * 0.3;
    const y = Math.floor(random() * (size - 3));
    const x = (label === 0 ? 0 : size / 2) + Math.floor(random() * (size / 2 - 3));
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) image[(y + dy) * size + x + dx] = 1;
  }
  return { images, labels };
}
