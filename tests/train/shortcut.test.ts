import { expect, it, describe } from 'vitest';
import { OptionError } from '../../src/errors.js';
import { backgroundMass, shortcutDataset, topBackgroundShare } from '../../src/train/shortcut.js';

const brightness = (images: Float32Array, n: number, pixel: number) => (images[3 * pixel] + images[3 * pixel + 1] + images[3 * pixel + 2]) / 3 + 0 * n;

describe('shortcutDataset', () => {
  it('is fixed by its seed, alternates the classes and keeps the figure inside its mask', () => {
    const a = shortcutDataset({ count: 40, size: 20, seed: 3 });
    const b = shortcutDataset({ count: 40, size: 20, seed: 3 });
    const c = shortcutDataset({ count: 40, size: 20, seed: 4 });
    expect(a.images).toEqual(b.images);
    expect(a.images).not.toEqual(c.images);
    expect([...a.labels.slice(0, 4)]).toEqual([0, 1, 0, 1]);
    const pixels = 400;
    for (let n = 0; n < 40; n++) {
      const mask = a.figureMask.subarray(n * pixels, (n + 1) * pixels);
      const area = mask.reduce((s, v) => s + v, 0);
      expect(area, `image ${n}`).toBeGreaterThan(20);
      expect(area, `image ${n}`).toBeLessThan(pixels / 2);
      // the background is uniform up to the noise: every background pixel within 0.15 of the first one
      const first = mask.indexOf(0);
      const base = brightness(a.images, n, n * pixels + first);
      for (let p = 0; p < pixels; p++) if (!mask[p]) expect(Math.abs(brightness(a.images, n, n * pixels + p) - base)).toBeLessThan(0.15);
    }
  });

  it('bias sets how often the background follows the class; swapBackgrounds reverses it', () => {
    const darkShare = (data: ReturnType<typeof shortcutDataset>, label: number) => {
      let dark = 0;
      let count = 0;
      for (let n = 0; n < data.labels.length; n++) {
        if (data.labels[n] !== label) continue;
        const p = n * data.size * data.size + data.figureMask.subarray(n * data.size * data.size).indexOf(0);
        dark += brightness(data.images, n, p) < 0.5 ? 1 : 0;
        count++;
      }
      return dark / count;
    };
    const biased = shortcutDataset({ count: 2000, size: 12, bias: 0.9, seed: 1 });
    expect(darkShare(biased, 0)).toBeCloseTo(0.9, 1);
    expect(darkShare(biased, 1)).toBeCloseTo(0.1, 1);
    const swapped = shortcutDataset({ count: 2000, size: 12, bias: 0.9, seed: 1, swapBackgrounds: true });
    expect(darkShare(swapped, 0)).toBeCloseTo(0.1, 1);
    const balanced = shortcutDataset({ count: 2000, size: 12, bias: 0.5, seed: 1 });
    expect(darkShare(balanced, 0)).toBeCloseTo(0.5, 1);
    expect(darkShare(balanced, 1)).toBeCloseTo(0.5, 1);
  });

  it('refuses bad options', () => {
    expect(() => shortcutDataset({ count: 0 })).toThrow(OptionError);
    expect(() => shortcutDataset({ count: 4, bias: 1.5 })).toThrow(OptionError);
    expect(() => shortcutDataset({ count: 4, size: 5 })).toThrow(OptionError);
  });
});

describe('backgroundMass', () => {
  it('is the share of summed |attribution| off the figure', () => {
    // 2 pixels x 2 channels: figure pixel |1| + |-1| = 2, background pixel |3| + |0| = 3
    expect(backgroundMass([1, -1, 3, 0], [1, 0], 2)).toBeCloseTo(3 / 5, 12);
    expect(backgroundMass([0, 0, 0, 0], [1, 0], 2)).toBe(0);
  });
});

describe('topBackgroundShare', () => {
  it('counts background pixels among the largest |attribution|', () => {
    // 10 pixels, 1 channel: the two largest are pixel 0 (figure) and pixel 5 (background)
    const values = [9, 1, 1, 1, 1, -8, 1, 1, 1, 1];
    const mask = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    expect(topBackgroundShare(values, mask, 1, 0.2)).toBe(0.5);
    expect(topBackgroundShare(values, mask, 1, 0.1)).toBe(0);
  });
});
