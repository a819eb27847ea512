/** maxPool and avgPool layers over NHWC windows. */
import { avgPool, avgPoolBackward } from '../../ops/avg_pool.js';
import { maxPool, maxPoolBackward } from '../../ops/max_pool.js';
import { maxPoolRescale } from '../../ops/rescale.js';
import type { Layer, SpecOf } from '../layers.js';
import { product, rank4, windowGeometryShape } from './common.js';

export function poolLayer(_rt: unknown, spec: SpecOf<'maxPool' | 'avgPool'>): Layer {
  const options = { poolSize: spec.poolSize, strides: spec.strides, padding: spec.padding };
  const isMax = spec.kind === 'maxPool';
  return {
    spec, weights: {}, saves: { inputs: isMax, output: false },
    outputShape: (shapes) => {
      const [n, h, w, c] = rank4(shapes, spec.name, spec.kind);
      return [n, ...windowGeometryShape([n, h, w, c], spec.poolSize, spec.strides, [1, 1], spec.padding), c];
    },
    forward: (rt, [x]) => (isMax ? maxPool(rt, x, options) : avgPool(rt, x, options)),
    backward: (rt, record, dy, want) => {
      if (!isMax) return { inputs: [avgPoolBackward(rt, dy, record.inputShapes[0], options)], weights: {} };
      // DeepLIFT's rescale rule: Captum's max-pool rule, which reads the output a rescale pass keeps
      const rescale = want.rule === 'rescale';
      return { inputs: [rescale ? maxPoolRescale(rt, record.inputs[0], record.output, dy, options) : maxPoolBackward(rt, record.inputs[0], dy, options)], weights: {} };
    },
    flops: (shapes) => product(shapes[0]),
  };
}
