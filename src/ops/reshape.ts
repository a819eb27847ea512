/**
 * Reshape and flatten: the same row-major data under a new shape, copied into a new tensor (the
 * input stays valid; use `Tensor.reshapeMove` to rename without a copy when the input is no longer
 * needed). NHWC flattening matches Keras' Flatten with channels_last. Backward: reshape dy back to
 * the input's shape, `reshape(rt, dy, x.shape)` (exported as `reshapeBackward`).
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import { sizeOf, type Shape, type Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';

/** The target shape with at most one -1 resolved from the size; throws ShapeError when sizes differ. */
export function resolveShape(from: Shape, to: Shape): number[] {
  const size = sizeOf(from);
  const unknown = to.filter((d) => d === -1).length;
  if (to.length === 0 || unknown > 1 || to.some((d) => d !== -1 && (!Number.isInteger(d) || d <= 0))) {
    throw new ShapeError(`reshape: target ${formatShape(to)} must be positive integers with at most one -1`);
  }
  const known = to.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const resolved = to.map((d) => (d === -1 ? size / known : d));
  if (sizeOf(resolved) !== size || resolved.some((d) => !Number.isInteger(d))) {
    throw new ShapeError(`reshape: cannot reshape ${formatShape(from)} (${size} values) to ${formatShape(to)}`);
  }
  return resolved;
}

/** A copy of x with shape `shape` (one entry may be -1). */
export function reshape(rt: Runtime, x: Tensor, shape: Shape): Tensor {
  const output = rt.empty(resolveShape(x.shape, shape), 'reshape.output');
  rt.copy(x, output);
  return output;
}

/** [N, ...] -> [N, product of the rest]. */
export function flatten(rt: Runtime, x: Tensor): Tensor {
  return reshape(rt, x, [x.shape[0], x.size / x.shape[0]]);
}

/** Gradient of reshape or flatten: dy back to the input's shape. */
export function reshapeBackward(rt: Runtime, dy: Tensor, inputShape: Shape): Tensor {
  if (sizeOf(inputShape) !== dy.size) throw new ShapeError(`reshapeBackward: output gradient ${formatShape(dy.shape)} does not fit the input shape ${formatShape(inputShape)}`);
  return reshape(rt, dy, inputShape);
}
