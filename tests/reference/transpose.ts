import { ravel, refTensor, unravel, type RefTensor } from './tensor.js';

/** y[c_0, ..., c_r] = x at coordinate c_k on axis perm[k]. */
export function transposeRef(x: RefTensor, perm: number[]): RefTensor {
  const y = refTensor(perm.map((a) => x.shape[a]));
  for (let i = 0; i < y.data.length; i++) {
    const out = unravel(y.shape, i);
    const coords = new Array<number>(perm.length);
    perm.forEach((a, k) => (coords[a] = out[k]));
    y.data[i] = x.data[ravel(x.shape, coords)];
  }
  return y;
}

/** Scatter of dy back through the same index map. */
export function transposeBackwardRef(dy: RefTensor, inputShape: number[], perm: number[]): RefTensor {
  const dx = refTensor(inputShape);
  for (let i = 0; i < dy.data.length; i++) {
    const out = unravel(dy.shape, i);
    const coords = new Array<number>(perm.length);
    perm.forEach((a, k) => (coords[a] = out[k]));
    dx.data[ravel(inputShape, coords)] += dy.data[i];
  }
  return dx;
}
