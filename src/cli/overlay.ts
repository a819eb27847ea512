/**
 * Heatmap overlays on the CPU for files: the map is upsampled bilinearly to the photo's size and
 * blended over a dimmed grayscale copy of it, so the colours carry the attribution alone. A legend
 * below it (colour bar with ticks in attribution units, method, class, the scale rule, notes)
 * makes the file readable on its own, drawn with the built-in bitmap font of font.ts.
 */
import { divergingColor, sequentialColor, type RgbaImage } from '../index.js';
import { ADVANCE, GLYPH_HEIGHT, drawText, fillRect, textWidth } from './font.js';

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

export interface Legend {
  /** First line: method, class and its score. */
  title: string;
  /** Diverging colours for signed values (-scale..scale), sequential for magnitudes (0..scale). */
  signed: boolean;
  /** The attribution value at the end of the colour bar (values beyond it are clipped). */
  scale: number;
  /** How values became colours, in words (shown under the bar). */
  rule: string;
  /** Further lines, e.g. Integrated Gradients' completeness. */
  notes?: string[];
}

const PANEL: [number, number, number] = [28, 28, 32];
const INK: [number, number, number] = [238, 238, 238];
const MUTED: [number, number, number] = [170, 170, 178];
/** Legends are at least this wide, so that a small crop still gets a readable bar and lines. */
const MIN_WIDTH = 360;

/** An attribution value as a short tick label: 3 significant digits, exponent form when tiny or huge. */
export function formatValue(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 0.01 && magnitude < 1000 ? String(Number(value.toPrecision(3))) : value.toExponential(2).replace('e+', 'e');
}

/** Splits `text` into lines of at most `columns` characters, at spaces where possible. */
function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (next.length <= columns || !line) line = next;
    else {
      lines.push(line);
      line = word;
    }
    while (line.length > columns) {
      lines.push(line.slice(0, columns));
      line = line.slice(columns);
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** `picture` with a legend panel below it (the picture centred when the panel is wider). */
export function withLegend(picture: RgbaImage, legend: Legend): RgbaImage {
  const width = Math.max(picture.width, MIN_WIDTH);
  const s = width >= 640 ? 2 : 1; // font pixel size
  const pad = 8 * s;
  const line = (GLYPH_HEIGHT + 4) * s;
  const columns = Math.floor((width - 2 * pad) / (ADVANCE * s));
  const title = wrap(legend.title, columns);
  const below = [...wrap(legend.rule, columns), ...(legend.notes ?? []).flatMap((n) => wrap(n, columns))];
  const barHeight = 12 * s;
  const tickHeight = 3 * s;
  const panelHeight = pad + title.length * line + pad / 2 + barHeight + tickHeight + s + line + pad / 2 + below.length * line + pad / 2;
  const height = picture.height + panelHeight;
  const out: RgbaImage = { width, height, data: new Uint8Array(width * height * 4) };
  fillRect(out, 0, 0, width, height, PANEL);
  const left = (width - picture.width) >> 1;
  for (let y = 0; y < picture.height; y++) {
    out.data.set(picture.data.subarray(y * picture.width * 4, (y + 1) * picture.width * 4), (y * width + left) * 4);
  }
  let y = picture.height + pad;
  for (const text of title) {
    drawText(out, text, pad, y, INK, s);
    y += line;
  }
  y += pad / 2;
  // the colour bar: t in [-1, 1] (signed) or [0, 1] from left to right, the same maps as the overlay
  const barWidth = width - 2 * pad;
  for (let x = 0; x < barWidth; x++) {
    const t = x / (barWidth - 1);
    fillRect(out, pad + x, y, 1, barHeight, legend.signed ? divergingColor(2 * t - 1) : sequentialColor(t));
  }
  y += barHeight;
  const ticks = legend.signed ? [-1, -0.5, 0, 0.5, 1] : [0, 0.25, 0.5, 0.75, 1];
  for (const tick of ticks) {
    const t = legend.signed ? (tick + 1) / 2 : tick;
    const x = pad + Math.round(t * (barWidth - 1));
    fillRect(out, x - (s >> 1), y, s, tickHeight, INK);
    const label = formatValue(tick * legend.scale);
    const w = textWidth(label, s);
    drawText(out, label, Math.min(Math.max(x - (w >> 1), pad), width - pad - w), y + tickHeight + s, INK, s);
  }
  y += tickHeight + s + line + pad / 2;
  for (const text of below) {
    drawText(out, text, pad, y, MUTED, s);
    y += line;
  }
  return out;
}

/**
 * Images [n, H, W, C] in `range` tiled into a grid, for filter visualizations, each tile with its
 * channel number in a strip below it.
 */
export function imageGrid(images: Float32Array, n: number, h: number, w: number, c: number, range: readonly [number, number], channels: readonly number[], gap = 2): RgbaImage {
  const columns = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / columns);
  const strip = GLYPH_HEIGHT + 3;
  const cellWidth = Math.max(w, textWidth(String(Math.max(...channels)), 1));
  const width = columns * (cellWidth + gap) - gap;
  const height = rows * (h + strip + gap) - gap;
  const grid: RgbaImage = { width, height, data: new Uint8Array(width * height * 4).fill(255) };
  const scale = 255 / (range[1] - range[0]);
  for (let i = 0; i < n; i++) {
    const ox = (i % columns) * (cellWidth + gap) + ((cellWidth - w) >> 1);
    const oy = Math.floor(i / columns) * (h + strip + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = ((oy + y) * width + ox + x) * 4;
        for (let k = 0; k < 3; k++) {
          const v = images[((i * h + y) * w + x) * c + (c === 1 ? 0 : k)];
          grid.data[p + k] = Math.max(0, Math.min(255, Math.round((v - range[0]) * scale)));
        }
      }
    }
    const label = String(channels[i]);
    drawText(grid, label, (i % columns) * (cellWidth + gap) + ((cellWidth - textWidth(label, 1)) >> 1), oy + h + 2, [40, 40, 40]);
  }
  return grid;
}
