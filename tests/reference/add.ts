import { refTensor, type RefTensor } from './tensor.js';

export function addRef(a: RefTensor, b: RefTensor): RefTensor {
  return refTensor(a.shape, a.data.map((v, i) => v + b.data[i]));
}

/** d(a + b) is the identity for both inputs. */
export function addBackwardRef(dy: RefTensor): { a: RefTensor; b: RefTensor } {
  return { a: refTensor(dy.shape, dy.data), b: refTensor(dy.shape, dy.data) };
}
