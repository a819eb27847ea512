/**
 * clamp(x, lower, upper) with constant bounds per channel (clip_by_value with vector bounds). The
 * bounds are constants of the graph, not weights: training does not move them, model randomization
 * does not redraw them, and the backward returns no gradient for them.
 */
import { ShapeError } from '../../errors.js';
import type { Runtime } from '../../gpu/runtime.js';
import { clip, clipBackward } from '../../ops/clip.js';
import { preluAlphaFits } from '../../ops/prelu.js';
import { rescaleBackward, rescaleEpsilon } from '../../ops/rescale.js';
import { formatShape } from '../../ops/shapes.js';
import type { Layer, SpecOf } from '../layers.js';
import { product, upload } from './common.js';

export function channelClipLayer(rt: Runtime, spec: SpecOf<'channelClip'>): Layer {
  const name = spec.name;
  const lower = upload(rt, `${name}.lower`, spec.lower)!;
  const upper = upload(rt, `${name}.upper`, spec.upper)!;
  return {
    spec, weights: {}, constants: { lower, upper }, saves: { inputs: true, output: false },
    outputShape: (shapes) => {
      const [shape] = shapes;
      if (!preluAlphaFits(shape, spec.lower.shape)) throw new ShapeError(`channelClip '${name}': bounds ${formatShape(spec.lower.shape)} do not match the trailing axes of its input ${formatShape(shape)}`);
      return shape;
    },
    forward: (rt, [x]) => clip(rt, x, lower, upper),
    backward: (rt, record, dy, want) => {
      if (want.rule === 'rescale') {
        // DeepLIFT's rescale rule: a clip's pieces have slopes 0 and 1, so its secant is exact and needs no epsilon (src/ops/rescale.ts)
        const x = record.inputs[0];
        const y = clip(rt, x, lower, upper);
        const gradient = clipBackward(rt, x, lower, upper, dy, { input: true }).input!;
        const dx = rescaleBackward(rt, dy, x, y, gradient, rescaleEpsilon({ kind: 'clip', lo: 0, hi: 0 }));
        y.dispose();
        gradient.dispose();
        return { inputs: [dx], weights: {} };
      }
      return { inputs: [want.inputs ? clipBackward(rt, record.inputs[0], lower, upper, dy, { input: true }).input : undefined], weights: {} };
    },
    flops: (s) => product(s[0]),
  };
}
