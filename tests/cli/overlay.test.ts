/**
 * The CLI's pictures without a GPU: the bitmap font, the legend under an overlay (colour bar ends
 * in the overlay's colours, ticks in attribution units, text drawn) and the numbered filter grid.
 * Set WEBGPU_XAI_WRITE_PNG=1 to write them to out/ for a look.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { formatValue, imageGrid, overlay, withLegend } from '../../src/cli/overlay.js';
import { ADVANCE, drawText, textWidth } from '../../src/cli/font.js';
import { divergingColor, sequentialColor } from '../../src/explain/colormap.js';
import type { RgbaImage } from '../../src/model/image.js';
import { encodePng } from '../../src/model/image-node.js';

const blank = (width: number, height: number): RgbaImage => ({ width, height, data: new Uint8Array(width * height * 4) });
const pixel = (image: RgbaImage, x: number, y: number) => Array.from(image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3));
/** Rows of '#' and '.' for the lit pixels of a region. */
const ascii = (image: RgbaImage, x0: number, y0: number, w: number, h: number) =>
  Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => (image.data[((y0 + y) * image.width + x0 + x) * 4] ? '#' : '.')).join(''));

async function save(name: string, image: RgbaImage) {
  if (!process.env.WEBGPU_XAI_WRITE_PNG) return;
  await mkdir('out', { recursive: true });
  await writeFile(`out/${name}.png`, encodePng(image));
}

describe('bitmap font', () => {
  it("draws 'A1' 5x7 glyphs one column apart, scaled by whole pixels, '?' for non-ASCII", async () => {
    const image = blank(11, 7);
    drawText(image, 'A1', 0, 0, [255, 255, 255]);
    expect(ascii(image, 0, 0, 11, 7)).toEqual([
      '.###....#..',
      '#...#..##..',
      '#...#...#..',
      '#...#...#..',
      '#####...#..',
      '#...#...#..',
      '#...#..###.',
    ]);
    expect(textWidth('A1', 1)).toBe(11);
    expect(textWidth('A1', 2)).toBe(22);
    const scaled = blank(22, 14);
    drawText(scaled, 'A1', 0, 0, [255, 255, 255], 2);
    expect(ascii(scaled, 2, 0, 2, 2)).toEqual(['##', '##']);
    const unknown = blank(ADVANCE, 7);
    const question = blank(ADVANCE, 7);
    drawText(unknown, 'é', 0, 0, [255, 255, 255]);
    drawText(question, '?', 0, 0, [255, 255, 255]);
    expect(unknown.data).toEqual(question.data);
    const all = blank(96 * ADVANCE * 2, 16);
    drawText(all, Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join(''), 2, 2, [255, 255, 255], 2);
    await save('font', all);
  });
});

describe('legend', () => {
  const photo = (width: number, height: number): RgbaImage => {
    const image = blank(width, height);
    for (let i = 0; i < width * height; i++) image.data.set([120, 140, 160, 255], i * 4);
    return image;
  };

  for (const signed of [false, true]) {
    it(`${signed ? 'signed' : 'unsigned'} map on a 160x200 crop: panel below, bar ends in the overlay's colours, tick labels in attribution units`, async () => {
      const map = Float32Array.from({ length: 16 }, (_, i) => (signed ? i / 7.5 - 1 : i / 15));
      const picture = overlay(photo(160, 200), map, 4, 4, signed);
      const out = withLegend(picture, {
        title: "SmoothGrad - class 3 'happy', p = 0.912",
        signed,
        scale: 0.0123,
        rule: "colour: |mean d logit / d pixel| over noisy copies, max over channels, clipped at the 99th percentile of |value| (the bar's end)",
        notes: signed ? ['completeness: sum of attributions 1.23 vs f(x) - f(baseline) = 1.25: relative error 1.6e-2'] : [],
      });
      await save(`legend-${signed ? 'signed' : 'unsigned'}`, out);
      expect(out.width).toBe(360); // legends are at least 360 wide
      expect(out.height).toBeGreaterThan(200 + 60);
      // the picture sits centred on top, unchanged
      expect(pixel(out, 100 + 10, 10)).toEqual(pixel(picture, 10, 10));
      // find the bar: the first panel row whose left end has the colour of the lowest value
      const low = signed ? divergingColor(-1) : sequentialColor(0);
      const high = signed ? divergingColor(1) : sequentialColor(1);
      const barRow = Array.from({ length: out.height - 200 }, (_, i) => 200 + i).find((y) => pixel(out, 8, y).join() === low.join());
      expect(barRow).toBeDefined();
      expect(pixel(out, 360 - 9, barRow!)).toEqual(high);
      const middle = signed ? divergingColor(0) : sequentialColor(0.5);
      pixel(out, 180, barRow!).forEach((v, k) => expect(Math.abs(v - middle[k])).toBeLessThanOrEqual(2));
      // text lit in the title line and below the bar (tick labels)
      const lit = (y0: number, y1: number) => { let n = 0; for (let y = y0; y < y1; y++) for (let x = 0; x < 360; x++) if (pixel(out, x, y)[0] > 200 && pixel(out, x, y)[1] > 200) n++; return n; };
      expect(lit(200, barRow!)).toBeGreaterThan(50);
      expect(lit(barRow! + 12, barRow! + 30)).toBeGreaterThan(20);
    });
  }

  it('tick labels: 3 significant digits, exponent form outside [0.01, 1000)', () => {
    expect([0, 0.0123, 1.5, 12.345, 0.000123, -4.56e-7, 12345].map(formatValue)).toEqual(['0', '0.0123', '1.5', '12.3', '1.23e-4', '-4.56e-7', '1.23e4']);
  });
});

describe('filter grid', () => {
  it('5 tiles of 12x10 in a 3x2 grid, each numbered by its channel below it', async () => {
    const images = Float32Array.from({ length: 5 * 12 * 10 }, (_, i) => (i % 7) / 7);
    const grid = imageGrid(images, 5, 12, 10, 1, [0, 1], [3, 8, 13, 21, 34]);
    await save('grid', grid);
    expect([grid.width, grid.height]).toEqual([3 * 11 + 2 * 2, 2 * (12 + 10) + 2]);
    // the strip under tile 1 (channel 8) holds dark text pixels, the strip under no tile none
    const dark = (x0: number, y0: number) => { let n = 0; for (let y = y0; y < y0 + 10; y++) for (let x = x0; x < x0 + 11; x++) if (pixel(grid, x, y)[0] < 100) n++; return n; };
    expect(dark(13, 12)).toBeGreaterThan(5);
    expect(dark(26, 24 + 12)).toBe(0);
  });
});
