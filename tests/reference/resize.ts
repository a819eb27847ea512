/**
 * Float64 reference of TensorFlow's ResizeBilinear / ResizeNearestNeighbor and their gradients as
 * plain loops. Source coordinates are computed in float32 (Math.fround at every step), as TF's
 * kernels compute them (resize_bilinear_op.cc, resize_nearest_neighbor_op.cc), so that nearest
 * picks the same pixel at exact ties; values are float64. The backward is TF's scatter form
 * (each output pixel adds its gradient to the pixels it read), independent of the GPU's gather.
 */
import { nhwc, refTensor, type RefTensor } from './tensor.js';

export interface ResizeRefOptions {
  method: 'bilinear' | 'nearest';
  size: [number, number];
  alignCorners?: boolean;
  halfPixelCenters?: boolean;
}

const f = Math.fround;

function scale(inSize: number, outSize: number, alignCorners: boolean): number {
  return f(alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize);
}

/** For output index o along an axis of input length inSize: [source index, weight] pairs. */
function taps(o: number, inSize: number, outSize: number, options: ResizeRefOptions): [number, number][] {
  const align = options.alignCorners ?? false;
  const half = options.halfPixelCenters ?? false;
  const s = scale(inSize, outSize, align);
  if (options.method === 'bilinear') {
    const src = half ? f(f(f(o + 0.5) * s) - 0.5) : f(o * s);
    const low = Math.floor(src);
    const lerp = src - low;
    return [[Math.max(low, 0), 1 - lerp], [Math.min(Math.ceil(src), inSize - 1), lerp]];
  }
  const x = half ? f(f(o + 0.5) * s) : f(o * s);
  // roundf rounds halves away from zero; x >= 0 here
  const nearest = Math.min(align ? Math.floor(x + 0.5) : Math.floor(x), inSize - 1);
  return [[Math.max(nearest, 0), 1]];
}

/** Calls visit(outIndex, inIndex, weight) for every term of every output element. */
function forEachTerm(inputShape: number[], options: ResizeRefOptions, visit: (o: number, i: number, w: number) => void): number[] {
  const [batch, height, width, channels] = inputShape;
  const [outHeight, outWidth] = options.size;
  const outShape = [batch, outHeight, outWidth, channels];
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (const [iy, wy] of taps(oy, height, outHeight, options)) {
        for (let ox = 0; ox < outWidth; ox++) {
          for (const [ix, wx] of taps(ox, width, outWidth, options)) {
            for (let c = 0; c < channels; c++) visit(nhwc(outShape, n, oy, ox, c), nhwc(inputShape, n, iy, ix, c), wy * wx);
          }
        }
      }
    }
  }
  return outShape;
}

export function resizeRef(x: RefTensor, options: ResizeRefOptions): RefTensor {
  const out = refTensor([x.shape[0], ...options.size, x.shape[3]]);
  forEachTerm(x.shape, options, (o, i, w) => (out.data[o] += w * x.data[i]));
  return out;
}

export function resizeBackwardRef(dy: RefTensor, inputShape: number[], options: ResizeRefOptions): RefTensor {
  const dx = refTensor(inputShape);
  forEachTerm(inputShape, options, (o, i, w) => (dx.data[i] += w * dy.data[o]));
  return dx;
}
