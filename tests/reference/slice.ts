import type { SliceWindow } from '../../src/ops/slice.js';
import { ravel, refTensor, unravel, type RefTensor } from './tensor.js';

export function sliceRef(x: RefTensor, w: SliceWindow): RefTensor {
  const y = refTensor([...w.size]);
  for (let i = 0; i < y.data.length; i++) {
    const coords = unravel(y.shape, i).map((o, k) => w.begin[k] + o * w.strides[k]);
    y.data[i] = x.data[ravel(x.shape, coords)];
  }
  return y;
}

/** Scatter: each output's gradient goes back to the element it copied. */
export function sliceBackwardRef(dy: RefTensor, inputShape: number[], w: SliceWindow): RefTensor {
  const dx = refTensor(inputShape);
  for (let i = 0; i < dy.data.length; i++) {
    const coords = unravel(dy.shape, i).map((o, k) => w.begin[k] + o * w.strides[k]);
    dx.data[ravel(inputShape, coords)] += dy.data[i];
  }
  return dx;
}
