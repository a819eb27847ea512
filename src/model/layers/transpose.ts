/** Transpose of the axes after the batch (TF Transpose with perm[0] = 0, Keras Permute). */
import { ShapeError } from '../../errors.js';
import { transpose, transposeBackward, transposedShape } from '../../ops/transpose.js';
import type { Layer, SpecOf } from '../layers.js';

export function transposeLayer(_rt: unknown, spec: SpecOf<'transpose'>): Layer {
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => {
      if (spec.perm[0] !== 0) throw new ShapeError(`transpose '${spec.name}': perm [${spec.perm.join(', ')}] moves the batch axis; it must stay first (perm[0] = 0)`);
      return transposedShape(shapes[0], spec.perm, `transpose '${spec.name}'`);
    },
    forward: (rt, [x]) => transpose(rt, x, spec.perm),
    backward: (rt, _record, dy) => ({ inputs: [transposeBackward(rt, dy, spec.perm)], weights: {} }),
    flops: () => 0,
  };
}
