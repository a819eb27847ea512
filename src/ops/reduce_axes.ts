/**
 * Sum, mean or max over adjacent axes (TF Sum / Mean / Max with constant axes, Keras
 * GlobalMaxPooling2D: max over [1, 2]) and the gradients, `shaders/reduce_axes.wgsl`. The output
 * drops the reduced axes, or keeps them with size 1 (keepDims). Max's gradient follows
 * TensorFlow's reduce_max rule: dy is split equally among the tied maxima, so backward needs the
 * input and the output.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

export type Reduction = 'sum' | 'mean' | 'max';

const REDUCTION_CODES: Record<Reduction, number> = { sum: 0, mean: 1, max: 2 };

interface Extents {
  outer: number;
  extent: number;
  inner: number;
  outShape: number[];
}

/**
 * The [outer, extent, inner] view of `shape` reducing `axes`; throws unless they are distinct,
 * adjacent axes of `shape` (negative axes count from the end). The output shape drops them, or
 * with `keepDims` keeps them as 1.
 */
export function reductionExtents(shape: Shape, axes: readonly number[], keepDims: boolean, what: string): Extents {
  const resolved = axes.map((a) => (a < 0 ? a + shape.length : a)).sort((a, b) => a - b);
  const adjacent = resolved.every((a, k) => k === 0 || a === resolved[k - 1] + 1);
  if (resolved.length === 0 || !adjacent || resolved.some((a) => !Number.isInteger(a) || a < 0 || a >= shape.length)) {
    throw new OptionError(`${what}: axes [${axes.join(', ')}] must be one or more adjacent axes of ${formatShape(shape)}`);
  }
  const first = resolved[0];
  const last = resolved[resolved.length - 1];
  const size = (from: number, to: number) => shape.slice(from, to).reduce((a, b) => a * b, 1);
  return {
    outer: size(0, first),
    extent: size(first, last + 1),
    inner: size(last + 1, shape.length),
    outShape: [...shape.slice(0, first), ...(keepDims ? resolved.map(() => 1) : []), ...shape.slice(last + 1)],
  };
}

function checkReduction(reduction: Reduction, what: string): void {
  if (!(reduction in REDUCTION_CODES)) throw new OptionError(`${what}: reduction must be sum, mean or max, got '${String(reduction)}'`);
}

/** x -> the reduction of x over `axes` (adjacent), those axes dropped (or kept as 1). */
export function reduceAxes(rt: Runtime, x: Tensor, reduction: Reduction, axes: readonly number[], keepDims = false): Tensor {
  checkReduction(reduction, 'reduceAxes');
  const { outer, extent, inner, outShape } = reductionExtents(x.shape, axes, keepDims, 'reduceAxes');
  const output = rt.empty(outShape, `reduce_${reduction}.output`);
  rt.dispatch({ shader: 'reduce_axes', entry: 'forward', constants: { WORKGROUP_SIZE, REDUCTION: REDUCTION_CODES[reduction] } }, {
    bindings: { input: x, output },
    uniforms: { outer, extent, inner },
    workgroups: rt.grid(outer * inner, WORKGROUP_SIZE),
  });
  return output;
}

/**
 * dL/dx from dL/dy (the output's shape, `keepDims` as in the forward). Sum and mean need only the input's shape; max needs the
 * forward's input `x` and output `y`.
 */
export function reduceAxesBackward(
  rt: Runtime, dy: Tensor, reduction: Reduction, axes: readonly number[], keepDims: boolean, saved: { inputShape: Shape } | { x: Tensor; y: Tensor },
): Tensor {
  checkReduction(reduction, 'reduceAxesBackward');
  const inputShape = 'x' in saved ? saved.x.shape : saved.inputShape;
  const { outer, extent, inner, outShape } = reductionExtents(inputShape, axes, keepDims, 'reduceAxesBackward');
  if (formatShape(dy.shape) !== formatShape(outShape)) {
    throw new ShapeError(`reduceAxesBackward: the output gradient must have shape ${formatShape(outShape)} for input ${formatShape(inputShape)}, got ${formatShape(dy.shape)}`);
  }
  const dx = rt.empty(inputShape, `reduce_${reduction}.input_grad`);
  const uniforms = { outer, extent, inner };
  if (reduction === 'max') {
    if (!('x' in saved)) throw new OptionError('reduceAxesBackward: the max gradient needs the forward input and output ({ x, y })');
    if (formatShape(saved.y.shape) !== formatShape(outShape)) throw new ShapeError(`reduceAxesBackward: the forward output must have shape ${formatShape(outShape)}, got ${formatShape(saved.y.shape)}`);
    rt.dispatch({ shader: 'reduce_axes', entry: 'backward_max', constants: { WORKGROUP_SIZE } }, {
      bindings: { input: saved.x, output: saved.y, output_grad: dy, input_grad: dx },
      uniforms,
      workgroups: rt.grid(outer * inner, WORKGROUP_SIZE),
    });
  } else {
    rt.dispatch({ shader: 'reduce_axes', entry: 'backward_broadcast', constants: { WORKGROUP_SIZE, REDUCTION: REDUCTION_CODES[reduction] } }, {
      bindings: { output_grad: dy, input_grad: dx },
      uniforms,
      workgroups: rt.grid(dx.size, WORKGROUP_SIZE),
    });
  }
  return dx;
}
