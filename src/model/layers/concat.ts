/** Concatenation of N computed tensors along one axis other than the batch (Inception branches). */
import { ShapeError } from '../../errors.js';
import { concat, concatBackward, concatShape, normalizeAxis } from '../../ops/concat.js';
import type { Layer, SpecOf } from '../layers.js';

export function concatLayer(_rt: unknown, spec: SpecOf<'concat'>): Layer {
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => {
      if (shapes.length > 0 && normalizeAxis(spec.axis, shapes[0].length) === 0) {
        throw new ShapeError(`concat '${spec.name}': axis ${spec.axis} is the batch axis; only other axes can be concatenated`);
      }
      return concatShape(shapes, spec.axis);
    },
    forward: (rt, inputs) => concat(rt, inputs, spec.axis),
    backward: (rt, record, dy, want) => ({
      inputs: want.inputs ? concatBackward(rt, dy, record.inputShapes, spec.axis) : record.inputShapes.map(() => undefined),
      weights: {},
    }),
    flops: () => 0,
  };
}
