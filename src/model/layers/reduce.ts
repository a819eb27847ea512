/** Sum, mean or max over adjacent axes after the batch (TF Sum / Mean / Max, Keras GlobalMaxPooling2D). */
import { ShapeError } from '../../errors.js';
import { reduceAxes, reduceAxesBackward, reductionExtents } from '../../ops/reduce_axes.js';
import type { Layer, SpecOf } from '../layers.js';
import { product } from './common.js';

export function reduceLayer(_rt: unknown, spec: SpecOf<'reduce'>): Layer {
  const isMax = spec.reduction === 'max';
  return {
    spec, weights: {}, saves: { inputs: isMax, output: isMax },
    outputShape: (shapes) => {
      const rank = shapes[0].length;
      if (spec.axes.some((a) => a === 0 || a === -rank)) throw new ShapeError(`reduce '${spec.name}': axes [${spec.axes.join(', ')}] include the batch axis, which must be kept`);
      return reductionExtents(shapes[0], spec.axes, spec.keepDims, `reduce '${spec.name}'`).outShape;
    },
    forward: (rt, [x]) => reduceAxes(rt, x, spec.reduction, spec.axes, spec.keepDims),
    backward: (rt, record, dy) => {
      const saved = isMax ? { x: record.inputs[0], y: record.output } : { inputShape: record.inputShapes[0] };
      return { inputs: [reduceAxesBackward(rt, dy, spec.reduction, spec.axes, spec.keepDims, saved)], weights: {} };
    },
    flops: (shapes) => product(shapes[0]),
  };
}
