/** Zero padding of H and W (Keras ZeroPadding2D, a convolution's explicit padding): the pad op on the spatial axes. */
import { pad, padBackward, type PadOptions } from '../../ops/pad.js';
import type { Layer, SpecOf } from '../layers.js';
import { rank4 } from './common.js';

export function zeroPadLayer(_rt: unknown, spec: SpecOf<'zeroPad'>): Layer {
  const options: PadOptions = { paddings: [[0, 0], [spec.top, spec.bottom], [spec.left, spec.right], [0, 0]] };
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => {
      const [n, h, w, c] = rank4(shapes, spec.name, 'zeroPad');
      return [n, h + spec.top + spec.bottom, w + spec.left + spec.right, c];
    },
    forward: (rt, [x]) => pad(rt, x, options),
    backward: (rt, record, dy) => ({ inputs: [padBackward(rt, dy, record.inputShapes[0], options)], weights: {} }),
    flops: () => 0,
  };
}
