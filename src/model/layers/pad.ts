/** Padding of any axes after the batch: constant value, REFLECT or SYMMETRIC (TF Pad / PadV2 / MirrorPad). */
import { pad, paddedShape, padBackward, type PadOptions } from '../../ops/pad.js';
import type { Layer, SpecOf } from '../layers.js';

export function padLayer(_rt: unknown, spec: SpecOf<'pad'>): Layer {
  const options: PadOptions = { paddings: [[0, 0], ...spec.paddings], mode: spec.mode, value: spec.value };
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => paddedShape(shapes[0], options, `pad '${spec.name}'`),
    forward: (rt, [x]) => pad(rt, x, options),
    backward: (rt, record, dy) => ({ inputs: [padBackward(rt, dy, record.inputShapes[0], options)], weights: {} }),
    flops: () => 0,
  };
}
