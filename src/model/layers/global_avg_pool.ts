/** Global average pooling over H and W, to [N, C] or (keepDims) [N, 1, 1, C]. */
import { globalAvgPool, globalAvgPoolBackward } from '../../ops/global_avg_pool.js';
import { reshape } from '../../ops/reshape.js';
import type { Layer, SpecOf } from '../layers.js';
import { product, rank4 } from './common.js';

export function globalAvgPoolLayer(_rt: unknown, spec: SpecOf<'globalAvgPool'>): Layer {
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => {
      const [n, , , c] = rank4(shapes, spec.name, 'globalAvgPool');
      return spec.keepDims ? [n, 1, 1, c] : [n, c];
    },
    forward: (rt, [x]) => {
      const pooled = globalAvgPool(rt, x);
      return spec.keepDims ? pooled.reshapeMove([x.shape[0], 1, 1, x.shape[3]]) : pooled;
    },
    backward: (rt, record, dy) => {
      const [n, , , c] = record.inputShapes[0];
      // with keepDims the gradient arrives as [N,1,1,C]: the same values as the [N,C] the op takes
      const flat = dy.shape.length === 2 ? dy : reshape(rt, dy, [n, c]);
      const dx = globalAvgPoolBackward(rt, flat, record.inputShapes[0]);
      if (flat !== dy) flat.dispose();
      return { inputs: [dx], weights: {} };
    },
    flops: (shapes) => product(shapes[0]),
  };
}
