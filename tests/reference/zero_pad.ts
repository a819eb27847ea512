import type { Padding2d } from '../../src/ops/zero_pad.js';
import { nhwc, refTensor, type RefTensor } from './tensor.js';

export function zeroPad2dRef(x: RefTensor, p: Padding2d): RefTensor {
  const [n, h, w, c] = x.shape;
  const y = refTensor([n, h + p.top + p.bottom, w + p.left + p.right, c]);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let k = 0; k < c; k++) y.data[nhwc(y.shape, b, i + p.top, j + p.left, k)] = x.data[nhwc(x.shape, b, i, j, k)];
  return y;
}

/** The crop: dx[n, i, j, c] = dy[n, i + top, j + left, c]. */
export function zeroPad2dBackwardRef(dy: RefTensor, p: Padding2d): RefTensor {
  const [n, ph, pw, c] = dy.shape;
  const dx = refTensor([n, ph - p.top - p.bottom, pw - p.left - p.right, c]);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < dx.shape[1]; i++)
      for (let j = 0; j < dx.shape[2]; j++)
        for (let k = 0; k < c; k++) dx.data[nhwc(dx.shape, b, i, j, k)] = dy.data[nhwc(dy.shape, b, i + p.top, j + p.left, k)];
  return dx;
}
