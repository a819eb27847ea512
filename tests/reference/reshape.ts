import { refTensor, type RefTensor } from './tensor.js';

/** Row-major data under a new shape (sizes must agree). */
export function reshapeRef(x: RefTensor, shape: number[]): RefTensor {
  return refTensor(shape, x.data);
}

/** [N, ...] -> [N, rest]. */
export function flattenRef(x: RefTensor): RefTensor {
  return reshapeRef(x, [x.shape[0], x.data.length / x.shape[0]]);
}
