import type { Reduction } from '../../src/ops/reduce_axes.js';
import { refTensor, type RefTensor } from './tensor.js';

/** [outer, extent, inner] of `shape` for the adjacent `axes` (non-negative), and the output shape. */
function extents(shape: number[], axes: number[], keepDims = false) {
  const first = Math.min(...axes);
  const last = Math.max(...axes);
  const size = (from: number, to: number) => shape.slice(from, to).reduce((a, b) => a * b, 1);
  return { outer: size(0, first), extent: size(first, last + 1), inner: size(last + 1, shape.length), outShape: [...shape.slice(0, first), ...(keepDims ? axes.map(() => 1) : []), ...shape.slice(last + 1)] };
}

export function reduceAxesRef(x: RefTensor, reduction: Reduction, axes: number[], keepDims = false): RefTensor {
  const { outer, extent, inner, outShape } = extents(x.shape, axes, keepDims);
  const y = refTensor(outShape);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < inner; j++) {
      const values = Array.from({ length: extent }, (_, r) => x.data[(o * extent + r) * inner + j]);
      const sum = values.reduce((a, b) => a + b, 0);
      y.data[o * inner + j] = reduction === 'max' ? Math.max(...values) : reduction === 'mean' ? sum / extent : sum;
    }
  return y;
}

/** Sum: dy broadcast; mean: dy / extent; max: TF's rule, dy split equally among the tied maxima. dy with or without the kept axes. */
export function reduceAxesBackwardRef(x: RefTensor, dy: RefTensor, reduction: Reduction, axes: number[]): RefTensor {
  const { outer, extent, inner } = extents(x.shape, axes);
  const y = reduceAxesRef(x, reduction, axes);
  const dx = refTensor(x.shape);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < inner; j++) {
      const g = dy.data[o * inner + j];
      const at = (r: number) => (o * extent + r) * inner + j;
      const ties = Array.from({ length: extent }, (_, r) => x.data[at(r)] === y.data[o * inner + j]).filter(Boolean).length;
      for (let r = 0; r < extent; r++) {
        if (reduction === 'sum') dx.data[at(r)] = g;
        else if (reduction === 'mean') dx.data[at(r)] = g / extent;
        else dx.data[at(r)] = x.data[at(r)] === y.data[o * inner + j] ? g / ties : 0;
      }
    }
  return dx;
}
