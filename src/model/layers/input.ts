/** The model input: fed by the caller, never run; its gradient is whatever reaches it. */
import type { Layer, SpecOf } from '../layers.js';

export function inputLayer(_rt: unknown, spec: SpecOf<'input'>): Layer {
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (s) => s[0],
    forward: () => { throw new Error('input layers are fed, not run'); },
    backward: () => ({ inputs: [], weights: {} }),
    flops: () => 0,
  };
}
