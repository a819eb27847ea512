/** Zero padding of H and W. */
import { zeroPad2d, zeroPad2dBackward } from '../../ops/zero_pad.js';
import type { Layer, SpecOf } from '../layers.js';
import { rank4 } from './common.js';

export function zeroPadLayer(_rt: unknown, spec: SpecOf<'zeroPad'>): Layer {
  const padding = { top: spec.top, bottom: spec.bottom, left: spec.left, right: spec.right };
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => {
      const [n, h, w, c] = rank4(shapes, spec.name, 'zeroPad');
      return [n, h + spec.top + spec.bottom, w + spec.left + spec.right, c];
    },
    forward: (rt, [x]) => zeroPad2d(rt, x, padding),
    backward: (rt, _record, dy) => ({ inputs: [zeroPad2dBackward(rt, dy, padding)], weights: {} }),
    flops: () => 0,
  };
}
