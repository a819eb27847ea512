/** PReLU with a learned slope per element of the trailing axes ([C] with Keras shared_axes [1, 2]). */
import type { Runtime } from '../../gpu/runtime.js';
import type { Tensor } from '../../gpu/tensor.js';
import { ShapeError } from '../../errors.js';
import { prelu, preluAlphaFits, preluBackward } from '../../ops/prelu.js';
import { rescaleBackward, rescaleEpsilon } from '../../ops/rescale.js';
import { formatShape } from '../../ops/shapes.js';
import type { Layer, SpecOf } from '../layers.js';
import { product, upload } from './common.js';

export function preluLayer(rt: Runtime, spec: SpecOf<'prelu'>): Layer {
  const name = spec.name;
  const alpha = upload(rt, `${name}.alpha`, spec.alpha)!;
  return {
    spec, weights: { alpha }, saves: { inputs: true, output: false },
    outputShape: (shapes) => {
      const [shape] = shapes;
      if (!preluAlphaFits(shape, spec.alpha.shape)) {
        throw new ShapeError(`prelu '${name}': alpha ${formatShape(spec.alpha.shape)} does not match the trailing axes of its input ${formatShape(shape)}`);
      }
      return shape;
    },
    forward: (rt, [x]) => prelu(rt, x, alpha),
    backward: (rt, record, dy, want) => {
      if (want.rule === 'rescale') {
        // DeepLIFT's rescale rule; PReLU's slope alpha rounds in the secant, so it takes leaky ReLU's epsilon (src/ops/rescale.ts)
        const x = record.inputs[0];
        const y = prelu(rt, x, alpha);
        const gradient = preluBackward(rt, x, alpha, dy, { input: true }).input!;
        const dx = rescaleBackward(rt, dy, x, y, gradient, rescaleEpsilon({ kind: 'leakyRelu', alpha: 0 }));
        y.dispose();
        gradient.dispose();
        return { inputs: [dx], weights: {} };
      }
      const grads = preluBackward(rt, record.inputs[0], alpha, dy, { input: want.inputs, alpha: want.weights });
      const weights: Record<string, Tensor> = {};
      if (grads.alpha) weights.alpha = grads.alpha;
      return { inputs: [grads.input], weights };
    },
    flops: (s) => product(s[0]),
  };
}
