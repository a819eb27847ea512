/**
 * An elementwise function as its own layer (ReLU, sigmoid, GELU, clip, ...). The activations
 * conv/dense fuse take their gradient from the output; every other function from the input.
 */
import { activation, activationBackward, activationInputGradient, isFusable } from '../../ops/activation.js';
import { activationRescale } from '../../ops/rescale.js';
import type { Layer, SpecOf } from '../layers.js';
import { product } from './common.js';

export function activationLayer(_rt: unknown, spec: SpecOf<'activation'>): Layer {
  const fn = spec.activation;
  const fromOutput = isFusable(fn);
  return {
    spec, weights: {}, saves: { inputs: !fromOutput, output: fromOutput },
    outputShape: (s) => s[0],
    forward: (rt, [x]) => activation(rt, x, fn),
    backward: (rt, record, dy, want) => {
      // DeepLIFT's rescale rule reads the input, which a rescale pass keeps for every layer (Model.forward)
      if (want.rule === 'rescale') return { inputs: [activationRescale(rt, dy, record.inputs[0], fn)], weights: {} };
      return {
        inputs: [isFusable(fn) ? activationBackward(rt, dy, record.output, fn, want.rule) : activationInputGradient(rt, dy, record.inputs[0], fn, want.rule)],
        weights: {},
      };
    },
    flops: (s) => product(s[0]),
  };
}
