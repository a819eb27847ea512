import type { PadOptions } from '../../src/ops/pad.js';
import { ravel, refTensor, unravel, type RefTensor } from './tensor.js';

/** Input coordinate read by padded coordinate o along an axis of size `dim` (TF Pad / MirrorPad), or -1 for the fill. */
function source(o: number, before: number, dim: number, mode: PadOptions['mode']): number {
  const j = o - before;
  if (j >= 0 && j < dim) return j;
  if (mode === 'reflect') return j < 0 ? -j : 2 * (dim - 1) - j;
  if (mode === 'symmetric') return j < 0 ? -j - 1 : 2 * dim - 1 - j;
  return -1;
}

export function padRef(x: RefTensor, options: PadOptions): RefTensor {
  const shape = x.shape.map((d, k) => d + options.paddings[k][0] + options.paddings[k][1]);
  const y = refTensor(shape);
  for (let i = 0; i < y.data.length; i++) {
    const coords = unravel(shape, i).map((o, k) => source(o, options.paddings[k][0], x.shape[k], options.mode));
    y.data[i] = coords.includes(-1) ? (options.value ?? 0) : x.data[ravel(x.shape, coords)];
  }
  return y;
}

/** Scatter-add: every output position passes its gradient to the input element it read. */
export function padBackwardRef(dy: RefTensor, inputShape: number[], options: PadOptions): RefTensor {
  const dx = refTensor(inputShape);
  for (let i = 0; i < dy.data.length; i++) {
    const coords = unravel(dy.shape, i).map((o, k) => source(o, options.paddings[k][0], inputShape[k], options.mode));
    if (!coords.includes(-1)) dx.data[ravel(inputShape, coords)] += dy.data[i];
  }
  return dx;
}
