/**
 * The course's shortcut study, as data made in code: two classes that differ by the figure's
 * shape (a plus sign against the same cross turned 45 degrees, an x), where the background also tells them apart in most images:
 * with `bias` p, a class-0 image has a dark background with probability p and a class-1 image a
 * light one (the Pokemon/Digimon story, where PNG transparency turned black on one side). p = 0.5
 * is background-balanced data; `swapBackgrounds` flips the correlation (a test the shortcut fails).
 * Each image comes with its figure mask, so the share of attribution on the background is measurable.
 */
import { OptionError } from '../errors.js';
import type { TrainingData } from './fit.js';
import { mulberry32 } from './shuffle.js';

export interface ShortcutDataOptions {
  count: number;
  /** Side of the square RGB images. Default 32. */
  size?: number;
  /** Probability that an image's background matches its class's usual one. Default 0.95. */
  bias?: number;
  seed?: number;
  /** Give class 0 the light backgrounds and class 1 the dark ones (same `bias`). */
  swapBackgrounds?: boolean;
}

export interface ShortcutData extends TrainingData {
  images: Float32Array;
  labels: Float32Array;
  /** [N, size, size]: 1 on the figure, 0 on the background. */
  figureMask: Uint8Array;
  size: number;
}

export const SHORTCUT_CLASSES = ['plus', 'cross'] as const;

export function shortcutDataset(options: ShortcutDataOptions): ShortcutData {
  const { count } = options;
  const size = options.size ?? 32;
  const bias = options.bias ?? 0.95;
  if (!Number.isInteger(count) || count < 1) throw new OptionError(`count must be an integer >= 1, got ${count}`);
  if (!Number.isInteger(size) || size < 12) throw new OptionError(`size must be an integer >= 12, got ${size}`);
  if (!(bias >= 0 && bias <= 1)) throw new OptionError(`bias must be in [0, 1], got ${bias}`);
  const random = mulberry32(options.seed ?? 0);
  const pixels = size * size;
  const images = new Float32Array(count * pixels * 3);
  const labels = new Float32Array(count);
  const figureMask = new Uint8Array(count * pixels);
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    labels[n] = label;
    const usual = (label === 0) !== !!options.swapBackgrounds; // class 0's usual background is dark
    const dark = random() < bias ? usual : !usual;
    const base = dark ? 0.05 + 0.1 * random() : 0.85 + 0.1 * random();
    const colour = [0, 1, 2].map(() => 0.25 + 0.5 * random());
    const radius = size * (0.18 + 0.06 * random());
    const cy = radius + 1 + random() * (size - 2 * radius - 2);
    const cx = radius + 1 + random() * (size - 2 * radius - 2);
    const arm = radius * 0.4;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dy = y + 0.5 - cy;
        const dx = x + 0.5 - cx;
        const r = Math.hypot(dx, dy);
        // class 0 a plus, class 1 the same cross turned by 45 degrees: one shape, told apart by orientation
        const [u, v] = label === 0 ? [dx, dy] : [(dx + dy) * Math.SQRT1_2, (dy - dx) * Math.SQRT1_2];
        const onFigure = r < radius && (Math.abs(u) < arm || Math.abs(v) < arm);
        const p = n * pixels + y * size + x;
        figureMask[p] = onFigure ? 1 : 0;
        for (let c = 0; c < 3; c++) {
          const v = (onFigure ? colour[c] : base) + 0.04 * (random() - 0.5);
          images[3 * p + c] = Math.min(1, Math.max(0, v));
        }
      }
    }
  }
  return { images, labels, figureMask, size };
}

/**
 * Share of an attribution's absolute mass on the background: sum over background pixels of
 * sum_c |a| divided by the sum over all pixels. `values` [H, W, C], `mask` [H, W] (1 = figure).
 */
export function backgroundMass(values: ArrayLike<number>, mask: ArrayLike<number>, channels: number): number {
  let background = 0;
  let total = 0;
  for (let p = 0; p < mask.length; p++) {
    let m = 0;
    for (let c = 0; c < channels; c++) m += Math.abs(values[p * channels + c]);
    total += m;
    if (!mask[p]) background += m;
  }
  return total > 0 ? background / total : 0;
}

/**
 * Share of the `top` fraction of pixels with the largest sum_c |a| that lie on the background: where
 * a map points, rather than where its mass spreads (a uniform background adds up to much mass in
 * small gradients even when the largest ones sit on the figure).
 */
export function topBackgroundShare(values: ArrayLike<number>, mask: ArrayLike<number>, channels: number, top = 0.1): number {
  const magnitude = Array.from({ length: mask.length }, (_, p) => {
    let m = 0;
    for (let c = 0; c < channels; c++) m += Math.abs(values[p * channels + c]);
    return m;
  });
  const order = magnitude.map((_, p) => p).sort((a, b) => magnitude[b] - magnitude[a]);
  const count = Math.max(1, Math.round(top * mask.length));
  let background = 0;
  for (let i = 0; i < count; i++) if (!mask[order[i]]) background++;
  return background / count;
}
