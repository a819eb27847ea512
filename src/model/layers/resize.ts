/** Resizing of H and W (ResizeBilinear, ResizeNearestNeighbor, Keras UpSampling2D). */
import { ShapeError } from '../../errors.js';
import type { Shape } from '../../gpu/tensor.js';
import { resize, resizeBackward, type ResizeOptions } from '../../ops/resize.js';
import type { Layer, SpecOf } from '../layers.js';
import { rank4 } from './common.js';

export function resizeLayer(_rt: unknown, spec: SpecOf<'resize'>): Layer {
  if ((spec.size === undefined) === (spec.factor === undefined)) {
    throw new ShapeError(`resize '${spec.name}' needs exactly one of size and factor`);
  }
  const options = (inputShape: Shape): ResizeOptions => ({
    method: spec.method,
    size: spec.size ?? [inputShape[1] * spec.factor![0], inputShape[2] * spec.factor![1]],
    alignCorners: spec.alignCorners,
    halfPixelCenters: spec.halfPixelCenters,
  });
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => {
      const [n, h, w, c] = rank4(shapes, spec.name, 'resize');
      const [outHeight, outWidth] = options([n, h, w, c]).size;
      return [n, outHeight, outWidth, c];
    },
    forward: (rt, [x]) => resize(rt, x, options(x.shape)),
    backward: (rt, record, dy) => ({ inputs: [resizeBackward(rt, dy, record.inputShapes[0], options(record.inputShapes[0]))], weights: {} }),
    // bilinear: three lerps (a multiply-add each) per output element; nearest copies
    flops: (shapes) => {
      const [outHeight, outWidth] = options(shapes[0]).size;
      return spec.method === 'bilinear' ? 6 * shapes[0][0] * outHeight * outWidth * shapes[0][3] : 0;
    },
  };
}
