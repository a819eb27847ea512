/** Sum of two tensors of one shape (residual connections). */
import { ShapeError } from '../../errors.js';
import { add } from '../../ops/add.js';
import { formatShape } from '../../ops/shapes.js';
import type { Layer, SpecOf } from '../layers.js';
import { product } from './common.js';

export function addLayer(_rt: unknown, spec: SpecOf<'add'>): Layer {
  const name = spec.name;
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => {
      if (shapes.length !== 2 || formatShape(shapes[0]) !== formatShape(shapes[1])) {
        throw new ShapeError(`add '${name}' needs two inputs of one shape, got ${shapes.map(formatShape).join(' and ')}`);
      }
      return shapes[0];
    },
    forward: (rt, [a, b]) => add(rt, a, b),
    // d(a + b) = dy to each input; the second gets its own copy so that ownership stays simple
    backward: (rt, _record, dy, want) => {
      if (!want.inputs) return { inputs: [undefined, undefined], weights: {} };
      const second = rt.empty(dy.shape, `${name}.grad`);
      rt.copy(dy, second);
      const first = rt.empty(dy.shape, `${name}.grad`);
      rt.copy(dy, first);
      return { inputs: [first, second], weights: {} };
    },
    flops: (s) => product(s[0]),
  };
}
