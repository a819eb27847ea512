import { mulberry32 } from '../../src/explain/random.js';

/** Float64 CPU tensors for the reference implementations: NHWC, batch first, plain loops. */
export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

export function refTensor(shape: number[], data?: ArrayLike<number>): RefTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = data ? Float64Array.from(data) : new Float64Array(size);
  if (values.length !== size) throw new Error(`reference tensor [${shape}] needs ${size} values, got ${values.length}`);
  return { shape, data: values };
}

/** mulberry32 (the engine's CPU generator): small, seedable, good enough for test data. */
export const seededRandom = mulberry32;

/** Uniform values in [-scale, scale), rounded to float32 so GPU and reference see the same inputs. */
export function randomTensor(shape: number[], random: () => number, scale = 1): RefTensor {
  const t = refTensor(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.fround((random() * 2 - 1) * scale);
  return t;
}

/** Index of NHWC element (n, y, x, c). */
export function nhwc(shape: number[], n: number, y: number, x: number, c: number): number {
  return ((n * shape[1] + y) * shape[2] + x) * shape[3] + c;
}

/** ||actual - expected||_2 / ||expected||_2 over all elements (NaN anywhere gives NaN). */
export function relativeL2(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`);
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    difference += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  return Math.sqrt(difference) / Math.max(Math.sqrt(norm), 1e-30);
}

/** Row-major coordinates of flat index `index` in `shape`. */
export function unravel(shape: readonly number[], index: number): number[] {
  const coords = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    coords[k] = index % shape[k];
    index = Math.floor(index / shape[k]);
  }
  return coords;
}

/** Flat row-major index of `coords` in `shape`. */
export function ravel(shape: readonly number[], coords: readonly number[]): number {
  return coords.reduce((index, c, k) => index * shape[k] + c, 0);
}
