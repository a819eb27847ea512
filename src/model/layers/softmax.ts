/** Softmax over the last axis. */
import { softmax, softmaxBackward } from '../../ops/softmax.js';
import type { Layer, SpecOf } from '../layers.js';
import { product } from './common.js';

export function softmaxLayer(_rt: unknown, spec: SpecOf<'softmax'>): Layer {
  return {
    spec, weights: {}, saves: { inputs: false, output: true },
    outputShape: (s) => s[0],
    forward: (rt, [x]) => softmax(rt, x),
    backward: (rt, record, dy) => ({ inputs: [softmaxBackward(rt, record.output, dy)], weights: {} }),
    flops: (s) => 5 * product(s[0]),
  };
}
