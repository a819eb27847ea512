/**
 * A model that is exactly linear in the on/off masks of a grid segmentation, so that LIME's and
 * KernelSHAP's answers are known in closed form.
 *
 * [H, W, C] -> avgPool over each grid cell (pool = stride = cell size) -> flatten -> dense -> softmax.
 * With segmentation { grid: [rows, columns] } the segment i = row * columns + column is exactly
 * pool cell i, so with a constant baseline b (black: the low end of the input range) a copy with
 * mask z has cell means z_i m_ic + (1 - z_i) b, and the logit of class t is
 *   f(z) = f(empty) + sum_i z_i phi_i,  phi_i = sum_c W[i C + c, t] (m_ic - b),
 * additive in the segments, so phi_i is segment i's Shapley value and LIME's exact coefficient.
 */
import type { ModelSpec } from '../../src/model/spec.js';
import { build, randomWeight } from '../model/fixtures.js';

export function linearSegmentsModel(random: () => number, o: { height: number; width: number; channels: number; rows: number; columns: number; classes: number }): ModelSpec {
  const cell: [number, number] = [o.height / o.rows, o.width / o.columns];
  if (!Number.isInteger(cell[0]) || !Number.isInteger(cell[1])) throw new Error('grid must divide the image');
  const features = o.rows * o.columns * o.channels;
  return {
    source: 'linearSegmentsModel (LIME/KernelSHAP tests)',
    layers: [
      build.input('input', [o.height, o.width, o.channels]),
      { kind: 'avgPool', name: 'cells', inputs: ['input'], poolSize: cell, strides: cell, padding: 'valid' },
      build.reshape('flatten', 'cells', [-1]),
      { kind: 'dense', name: 'logits', inputs: ['flatten'], weights: randomWeight([features, o.classes], random, 1), bias: randomWeight([o.classes], random, 0.5), activation: 'linear' },
      build.softmax('probs', 'logits'),
    ],
    output: 'probs',
  };
}

/** phi_i for class t, in float64, from the image [H * W * C] and the baseline (a constant or an image [H * W * C]). */
export function linearShapleyValues(spec: ModelSpec, image: ArrayLike<number>, o: { height: number; width: number; channels: number; rows: number; columns: number }, target: number, baseline: number | ArrayLike<number>): Float64Array {
  const dense = spec.layers.find((l) => l.name === 'logits') as Extract<ModelSpec['layers'][number], { kind: 'dense' }>;
  const classes = dense.weights.shape[1];
  const segments = o.rows * o.columns;
  const sums = new Float64Array(segments * o.channels);
  const counts = new Float64Array(segments);
  for (let y = 0; y < o.height; y++) {
    for (let x = 0; x < o.width; x++) {
      const segment = Math.floor((y * o.rows) / o.height) * o.columns + Math.floor((x * o.columns) / o.width);
      counts[segment]++;
      for (let c = 0; c < o.channels; c++) {
        const e = (y * o.width + x) * o.channels + c;
        sums[segment * o.channels + c] += image[e] - (typeof baseline === 'number' ? baseline : baseline[e]);
      }
    }
  }
  const phi = new Float64Array(segments);
  for (let i = 0; i < segments; i++) {
    for (let c = 0; c < o.channels; c++) phi[i] += dense.weights.data[(i * o.channels + c) * classes + target] * (sums[i * o.channels + c] / counts[i]);
  }
  return phi;
}

export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/**
 * Gaussian blur of an [H, W, C] image in float64, as shaders/blur.wgsl: separable, taps within
 * ceil(3 sigma), weights renormalised over the taps inside the image.
 */
export function referenceBlur(image: ArrayLike<number>, height: number, width: number, channels: number, sigma: number): Float64Array {
  const radius = Math.ceil(3 * sigma);
  const pass = (input: ArrayLike<number>, vertical: boolean) => {
    const out = new Float64Array(input.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) {
          let total = 0;
          let norm = 0;
          for (let t = -radius; t <= radius; t++) {
            const [yy, xx] = vertical ? [y + t, x] : [y, x + t];
            if (yy < 0 || xx < 0 || yy >= height || xx >= width) continue;
            const w = Math.exp(-(t * t) / (2 * sigma * sigma));
            total += w * input[(yy * width + xx) * channels + c];
            norm += w;
          }
          out[(y * width + x) * channels + c] = total / norm;
        }
      }
    }
    return out;
  };
  return pass(pass(image, true), false);
}
