/** Strided slice of the axes after the batch (TF Slice / StridedSlice) and cropping of H and W (Keras Cropping2D); the batch is kept whole. */
import type { Shape } from '../../gpu/tensor.js';
import { checkSliceWindow, slice, sliceBackward, type SliceWindow } from '../../ops/slice.js';
import { ShapeError } from '../../errors.js';
import type { Layer, SpecOf } from '../layers.js';

export function sliceLayer(_rt: unknown, spec: SpecOf<'slice'>): Layer {
  const window = (shape: Shape): SliceWindow => ({ begin: [0, ...spec.begin], size: [shape[0], ...spec.size], strides: [1, ...spec.strides] });
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => checkSliceWindow(shapes[0], window(shapes[0]), `slice '${spec.name}'`),
    forward: (rt, [x]) => slice(rt, x, window(x.shape)),
    backward: (rt, record, dy) => ({ inputs: [sliceBackward(rt, dy, record.inputShapes[0], window(record.inputShapes[0]))], weights: {} }),
    flops: () => 0,
  };
}

export function cropLayer(_rt: unknown, spec: SpecOf<'crop'>): Layer {
  const window = (shape: Shape): SliceWindow => {
    if (shape.length !== 4) throw new ShapeError(`crop '${spec.name}' needs an NHWC input of rank 4, got [${shape.join(', ')}]`);
    const [n, h, w, c] = shape;
    return { begin: [0, spec.top, spec.left, 0], size: [n, h - spec.top - spec.bottom, w - spec.left - spec.right, c], strides: [1, 1, 1, 1] };
  };
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => {
      const shape = shapes[0];
      const [, height, width] = window(shape).size;
      if (height < 1 || width < 1) throw new ShapeError(`crop '${spec.name}': cropping top ${spec.top}, bottom ${spec.bottom}, left ${spec.left}, right ${spec.right} leaves nothing of [${shape.join(', ')}]`);
      return checkSliceWindow(shape, window(shape), `crop '${spec.name}'`);
    },
    forward: (rt, [x]) => slice(rt, x, window(x.shape)),
    backward: (rt, record, dy) => ({ inputs: [sliceBackward(rt, dy, record.inputShapes[0], window(record.inputShapes[0]))], weights: {} }),
    flops: () => 0,
  };
}
