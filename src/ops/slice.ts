/**
 * Strided slice of any axes (TF Slice / StridedSlice once the loader has resolved the masks,
 * Keras Cropping2D), as a gather through a strided view (view.ts): along axis k the output holds
 * input positions begin[k], begin[k] + strides[k], ... (size[k] of them; a negative stride walks
 * backwards). Backward: the inverse map, dx[i] = dy[(i - begin) / stride] where that is a whole
 * index inside the output, else 0 (unselected elements do not affect the output).
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';
import { gatherView, gatherViewBackward, MAX_VIEW_AXES, rowMajorStrides, type ViewAxis } from './view.js';

/** Which elements a slice keeps, one entry per axis of the input. */
export interface SliceWindow {
  /** First input index taken (0 <= begin < dim). */
  begin: readonly number[];
  /** Number of elements taken (>= 1). */
  size: readonly number[];
  /** Step between them (non-zero; negative walks backwards). */
  strides: readonly number[];
}

/** Throws before any GPU work unless `window` selects a non-empty region inside `shape`; returns the output shape. */
export function checkSliceWindow(shape: Shape, window: SliceWindow, what: string): number[] {
  const { begin, size, strides } = window;
  if (shape.length > MAX_VIEW_AXES) throw new ShapeError(`${what}: input ${formatShape(shape)} has more than ${MAX_VIEW_AXES} axes`);
  if (begin.length !== shape.length || size.length !== shape.length || strides.length !== shape.length) {
    throw new OptionError(`${what}: begin, size and strides need one entry per axis of ${formatShape(shape)}, got ${begin.length}, ${size.length} and ${strides.length}`);
  }
  shape.forEach((dim, k) => {
    const [b, n, s] = [begin[k], size[k], strides[k]];
    if (![b, n, s].every(Number.isInteger) || n < 1 || s === 0) {
      throw new OptionError(`${what}: axis ${k}: begin ${b}, size ${n}, stride ${s} must be integers with size >= 1 and stride != 0`);
    }
    const last = b + (n - 1) * s;
    if (b < 0 || b >= dim || last < 0 || last >= dim) {
      throw new ShapeError(`${what}: axis ${k} (size ${dim}): begin ${b}, size ${n}, stride ${s} reach index ${b < 0 || b >= dim ? b : last}, outside [0, ${dim - 1}]`);
    }
  });
  return [...size];
}

function sliceView(inputShape: Shape, window: SliceWindow): ViewAxis[] {
  const strides = rowMajorStrides(inputShape);
  return inputShape.map((dim, k) => ({ size: window.size[k], start: window.begin[k], step: window.strides[k], limit: dim, stride: strides[k] }));
}

/** x -> the elements `window` selects, shape `window.size`. */
export function slice(rt: Runtime, x: Tensor, window: SliceWindow): Tensor {
  const outShape = checkSliceWindow(x.shape, window, 'slice');
  return gatherView(rt, x, sliceView(x.shape, window), outShape, { fill: 0 }, 'slice.output');
}

/** dL/dx [inputShape] from dL/dy [window.size]: dy placed back where it came from, zeros elsewhere. */
export function sliceBackward(rt: Runtime, dy: Tensor, inputShape: Shape, window: SliceWindow): Tensor {
  const outShape = checkSliceWindow(inputShape, window, 'sliceBackward');
  if (formatShape(dy.shape) !== formatShape(outShape)) {
    throw new ShapeError(`sliceBackward: the output gradient must have the slice's shape ${formatShape(outShape)}, got ${formatShape(dy.shape)}`);
  }
  return gatherViewBackward(rt, dy, sliceView(inputShape, window), inputShape, 'constant', 'slice.input_grad');
}
