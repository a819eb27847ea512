/** An elementwise activation as its own layer (ReLU, ReLU6, sigmoid, ...). */
import { activation, activationBackward } from '../../ops/activation.js';
import type { Layer, SpecOf } from '../layers.js';
import { product } from './common.js';

export function activationLayer(_rt: unknown, spec: SpecOf<'activation'>): Layer {
  return {
    spec, weights: {}, saves: { inputs: false, output: true },
    outputShape: (s) => s[0],
    forward: (rt, [x]) => activation(rt, x, spec.activation),
    backward: (rt, record, dy, want) => ({ inputs: [activationBackward(rt, dy, record.output, spec.activation, want.rule)], weights: {} }),
    flops: (s) => product(s[0]),
  };
}
