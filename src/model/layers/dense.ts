/** Fully connected layer: [N, in] x weights [in, out] + bias, with a fused activation. */
import { ShapeError } from '../../errors.js';
import type { Runtime } from '../../gpu/runtime.js';
import type { Tensor } from '../../gpu/tensor.js';
import { dense, denseBackward } from '../../ops/dense.js';
import { formatShape } from '../../ops/shapes.js';
import type { Layer, SpecOf } from '../layers.js';
import { fusedRescale, upload } from './common.js';

export function denseLayer(rt: Runtime, spec: SpecOf<'dense'>): Layer {
  const name = spec.name;
  const weightsTensor = upload(rt, `${name}.weights`, spec.weights)!;
  const bias = upload(rt, `${name}.bias`, spec.bias);
  const [k, m] = spec.weights.shape;
  return {
    spec, weights: bias ? { weights: weightsTensor, bias } : { weights: weightsTensor }, saves: { inputs: true, output: spec.activation !== 'linear' },
    outputShape: (shapes) => {
      const [shape] = shapes;
      if (shape.length !== 2 || shape[1] !== k) throw new ShapeError(`dense '${name}' expects input [N, ${k}], got ${formatShape(shape)} (flatten first)`);
      return [shape[0], m];
    },
    forward: (rt, [x]) => dense(rt, x, weightsTensor, bias, { activation: spec.activation }),
    backward: (rt, record, dy, want) => {
      const x = record.inputs[0];
      const dz = fusedRescale(rt, dy, spec.activation, want.rule, () => dense(rt, x, weightsTensor, bias));
      const grads = denseBackward(rt, { x, weights: weightsTensor, y: record.output, dy: dz ?? dy }, { activation: dz ? 'linear' : spec.activation }, { input: want.inputs, weights: want.weights, bias: want.weights && !!bias, rule: want.rule });
      dz?.dispose();
      const out: Record<string, Tensor> = {};
      if (grads.weights) out.weights = grads.weights;
      if (grads.bias) out.bias = grads.bias;
      return { inputs: [grads.input], weights: out };
    },
    flops: (shapes) => 2 * shapes[0][0] * k * m,
  };
}
