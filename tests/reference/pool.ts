/**
 * Float64 references for max, average and global average pooling (NHWC), plain loops. The
 * backward passes scatter (each window adds to its cells), the opposite of the GPU's gather, and
 * the geometry is TensorFlow's rule restated here rather than imported from the engine.
 */
import { nhwc, refTensor, type RefTensor } from './tensor.js';

export interface RefPoolOptions {
  poolSize: [number, number];
  strides: [number, number];
  padding: 'valid' | 'same';
}

interface Geometry {
  outHeight: number;
  outWidth: number;
  padTop: number;
  padLeft: number;
}

/** TensorFlow: 'same' -> ceil(in / s) outputs, padding total (out-1)*s + k - in, the odd one at the end; 'valid' -> ceil((in - k + 1) / s). */
export function poolGeometry(shape: number[], o: RefPoolOptions): Geometry {
  const axis = (size: number, k: number, s: number) => {
    if (o.padding === 'valid') return { out: Math.ceil((size - k + 1) / s), before: 0 };
    const out = Math.ceil(size / s);
    return { out, before: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
  };
  const h = axis(shape[1], o.poolSize[0], o.strides[0]);
  const w = axis(shape[2], o.poolSize[1], o.strides[1]);
  return { outHeight: h.out, outWidth: w.out, padTop: h.before, padLeft: w.before };
}

/** Input cells (y, x) of window (oy, ox) that lie inside the input, row-major. */
function windowCells(shape: number[], g: Geometry, o: RefPoolOptions, oy: number, ox: number): [number, number][] {
  const cells: [number, number][] = [];
  for (let dy = 0; dy < o.poolSize[0]; dy++) {
    for (let dx = 0; dx < o.poolSize[1]; dx++) {
      const y = oy * o.strides[0] - g.padTop + dy;
      const x = ox * o.strides[1] - g.padLeft + dx;
      if (y >= 0 && y < shape[1] && x >= 0 && x < shape[2]) cells.push([y, x]);
    }
  }
  return cells;
}

/** Calls `visit(n, oy, ox, c, cells)` for every output element. */
function forEachWindow(shape: number[], o: RefPoolOptions, visit: (outIndex: number, n: number, c: number, cells: [number, number][]) => void): number[] {
  const g = poolGeometry(shape, o);
  const [batch, , , channels] = shape;
  const outShape = [batch, g.outHeight, g.outWidth, channels];
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < g.outHeight; oy++) {
      for (let ox = 0; ox < g.outWidth; ox++) {
        const cells = windowCells(shape, g, o, oy, ox);
        for (let c = 0; c < channels; c++) visit(nhwc(outShape, n, oy, ox, c), n, c, cells);
      }
    }
  }
  return outShape;
}

/** Input index of the window's first maximum in row-major order (TensorFlow's tie rule: strict >). */
function argmax(x: RefTensor, n: number, c: number, cells: [number, number][]): number {
  let best = -1;
  for (const [y, xx] of cells) {
    const j = nhwc(x.shape, n, y, xx, c);
    if (best < 0 || x.data[j] > x.data[best]) best = j;
  }
  return best;
}

export function maxPoolRef(x: RefTensor, o: RefPoolOptions): RefTensor {
  const values: number[] = [];
  const outShape = forEachWindow(x.shape, o, (i, n, c, cells) => (values[i] = x.data[argmax(x, n, c, cells)]));
  return refTensor(outShape, values);
}

export function maxPoolBackwardRef(x: RefTensor, dy: RefTensor, o: RefPoolOptions): RefTensor {
  const dx = refTensor(x.shape);
  forEachWindow(x.shape, o, (i, n, c, cells) => (dx.data[argmax(x, n, c, cells)] += dy.data[i]));
  return dx;
}

export function avgPoolRef(x: RefTensor, o: RefPoolOptions): RefTensor {
  const values: number[] = [];
  const outShape = forEachWindow(x.shape, o, (i, n, c, cells) => {
    let sum = 0;
    for (const [y, xx] of cells) sum += x.data[nhwc(x.shape, n, y, xx, c)];
    values[i] = sum / cells.length;
  });
  return refTensor(outShape, values);
}

export function avgPoolBackwardRef(dy: RefTensor, inputShape: number[], o: RefPoolOptions): RefTensor {
  const dx = refTensor(inputShape);
  forEachWindow(inputShape, o, (i, n, c, cells) => {
    for (const [y, xx] of cells) dx.data[nhwc(inputShape, n, y, xx, c)] += dy.data[i] / cells.length;
  });
  return dx;
}

/** [N, H, W, C] -> [N, C] */
export function globalAvgPoolRef(x: RefTensor): RefTensor {
  const [batch, height, width, channels] = x.shape;
  const out = refTensor([batch, channels]);
  for (let n = 0; n < batch; n++) {
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < width; xx++) {
        for (let c = 0; c < channels; c++) out.data[n * channels + c] += x.data[nhwc(x.shape, n, y, xx, c)] / (height * width);
      }
    }
  }
  return out;
}

export function globalAvgPoolBackwardRef(dy: RefTensor, inputShape: number[]): RefTensor {
  const [batch, height, width, channels] = inputShape;
  const dx = refTensor(inputShape);
  for (let n = 0; n < batch; n++) {
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < width; xx++) {
        for (let c = 0; c < channels; c++) dx.data[nhwc(inputShape, n, y, xx, c)] = dy.data[n * channels + c] / (height * width);
      }
    }
  }
  return dx;
}

/** Window configurations shared by the max and average pooling tests: odd sizes, every stride/pool relation, both paddings. */
export interface PoolCase {
  shape: number[];
  poolSize: [number, number];
  /** Omitted: the op's default (= poolSize). */
  strides?: [number, number];
  padding: 'valid' | 'same';
}

export const POOL_CASES: PoolCase[] = [
  { shape: [1, 7, 5, 3], poolSize: [2, 2], padding: 'valid' },
  { shape: [1, 7, 5, 3], poolSize: [2, 2], strides: [2, 2], padding: 'same' },
  { shape: [3, 7, 5, 13], poolSize: [3, 3], strides: [1, 1], padding: 'same' },
  { shape: [3, 7, 5, 13], poolSize: [3, 3], strides: [2, 2], padding: 'valid' },
  { shape: [1, 7, 5, 3], poolSize: [2, 3], strides: [2, 1], padding: 'same' },
  { shape: [3, 5, 7, 3], poolSize: [3, 3], strides: [3, 3], padding: 'same' },
  // non-overlapping windows with a padding row on top (7 rows: 3 windows of 3, 2 padding rows, 1 above)
  { shape: [2, 7, 8, 5], poolSize: [3, 3], strides: [3, 3], padding: 'same' },
  // strides larger than the window: rows/columns between windows get no gradient
  { shape: [1, 7, 5, 13], poolSize: [2, 3], strides: [3, 3], padding: 'valid' },
  { shape: [1, 7, 5, 3], poolSize: [2, 2], strides: [3, 3], padding: 'same' },
  { shape: [3, 13, 11, 3], poolSize: [3, 2], strides: [1, 2], padding: 'valid' },
  // ResNet's stem pool
  { shape: [1, 13, 11, 13], poolSize: [3, 3], strides: [2, 2], padding: 'same' },
  // one window over the whole input
  { shape: [1, 7, 5, 3], poolSize: [7, 5], strides: [1, 1], padding: 'valid' },
];

export function caseName(c: PoolCase): string {
  const strides = c.strides ? `${c.strides[0]}x${c.strides[1]}` : 'default';
  return `x=[${c.shape}] pool=${c.poolSize[0]}x${c.poolSize[1]} strides=${strides} ${c.padding}`;
}

export function refOptions(c: PoolCase): RefPoolOptions {
  return { poolSize: c.poolSize, strides: c.strides ?? c.poolSize, padding: c.padding };
}
