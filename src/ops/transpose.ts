/**
 * Transpose (TF Transpose, Keras Permute): output axis k is input axis perm[k], as a gather
 * through a strided view whose strides are the input's, permuted (view.ts). Backward: the
 * transpose by the inverse permutation.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';
import { gatherView, MAX_VIEW_AXES, rowMajorStrides } from './view.js';

/** Throws unless `perm` is a permutation of the axes of `shape`; returns the output shape. */
export function transposedShape(shape: Shape, perm: readonly number[], what: string): number[] {
  if (shape.length > MAX_VIEW_AXES) throw new ShapeError(`${what}: input ${formatShape(shape)} has more than ${MAX_VIEW_AXES} axes`);
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== shape.length || sorted.some((a, k) => a !== k)) {
    throw new OptionError(`${what}: perm [${perm.join(', ')}] is not a permutation of the ${shape.length} axes of ${formatShape(shape)}`);
  }
  return perm.map((a) => shape[a]);
}

/** The permutation that undoes `perm`. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((a, k) => (inverse[a] = k));
  return inverse;
}

/** x -> y with y's axis k = x's axis perm[k]. */
export function transpose(rt: Runtime, x: Tensor, perm: readonly number[]): Tensor {
  const outShape = transposedShape(x.shape, perm, 'transpose');
  const strides = rowMajorStrides(x.shape);
  const axes = perm.map((a) => ({ size: x.shape[a], start: 0, step: 1, limit: x.shape[a], stride: strides[a] }));
  return gatherView(rt, x, axes, outShape, { fill: 0 }, 'transpose.output');
}

/** dL/dx from dL/dy: dy transposed back. */
export function transposeBackward(rt: Runtime, dy: Tensor, perm: readonly number[]): Tensor {
  return transpose(rt, dy, inversePermutation(perm));
}
