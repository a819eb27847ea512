/** Reshape (batch kept first) and identity: the data is unchanged, only its shape. */
import { ShapeError } from '../../errors.js';
import type { Shape } from '../../gpu/tensor.js';
import { reshape } from '../../ops/reshape.js';
import { formatShape } from '../../ops/shapes.js';
import type { Layer, SpecOf } from '../layers.js';
import { product } from './common.js';

export function reshapeLayer(_rt: unknown, spec: SpecOf<'reshape'>): Layer {
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => {
      const [shape] = shapes;
      const target = reshapeTarget(shape, spec.shape);
      if (product(target) !== product(shape) || target.some((d) => !Number.isInteger(d) || d <= 0)) {
        throw new ShapeError(`reshape '${spec.name}': cannot reshape ${formatShape(shape)} to [N, ${spec.shape.join(', ')}]`);
      }
      return target;
    },
    forward: (rt, [x]) => reshape(rt, x, reshapeTarget(x.shape, spec.shape)),
    backward: (rt, record, dy) => ({ inputs: [reshape(rt, dy, record.inputShapes[0])], weights: {} }),
    flops: () => 0,
  };
}

export function identityLayer(_rt: unknown, spec: SpecOf<'identity'>): Layer {
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (s) => s[0],
    forward: (rt, [x]) => reshape(rt, x, x.shape),
    backward: (rt, _record, dy) => ({ inputs: [reshape(rt, dy, dy.shape)], weights: {} }),
    flops: () => 0,
  };
}

/** [N, ...target] with a -1 entry inferred from the element count. */
function reshapeTarget(shape: Shape, target: number[]): number[] {
  const full = [shape[0], ...target];
  const free = full.indexOf(-1);
  if (free >= 0) full[free] = product(shape) / -product(full);
  return full;
}
