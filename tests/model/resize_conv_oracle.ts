/**
 * TF.js stand-ins for the loader tests of resizing and transposed convolutions (ops-resize-conv).
 * TF.js's CPU gradients of ResizeBilinear and ResizeNearestNeighbor ignore half_pixel_centers and
 * label non-square results with height and width swapped (tfjs-backend-cpu kernels/
 * ResizeBilinearGrad.ts, ResizeNearestNeighborGrad.ts), so the oracle resizes as two matrix
 * products whose matrices come from TF.js's own forward kernel (the resize of an identity): the
 * same values, with matMul's gradients.
 */
import * as tf from '@tensorflow/tfjs';
import type { ResizeMethod } from '../../src/ops/resize.js';

export interface ResizeFlags {
  method: ResizeMethod;
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** [out, in]: the weights TF.js's resize of one axis from `inSize` to `outSize` gives each input index. */
function resizeMatrix(inSize: number, outSize: number, flags: ResizeFlags): tf.Tensor2D {
  return tf.tidy(() => {
    // channel c of this [1, in, 1, in] image is the one-hot column c, so output [o, c] is R[o, c]
    const eye = tf.eye(inSize).reshape([1, inSize, 1, inSize]) as tf.Tensor4D;
    const resized = flags.method === 'bilinear'
      ? tf.image.resizeBilinear(eye, [outSize, 1], flags.alignCorners, flags.halfPixelCenters)
      : tf.image.resizeNearestNeighbor(eye, [outSize, 1], flags.alignCorners, flags.halfPixelCenters);
    return resized.reshape([outSize, inSize]) as tf.Tensor2D;
  });
}

/** x [N, H, W, C] resized to `size` as R_h x R_w^T per image and channel. */
export function resizeByMatrices(x: tf.Tensor4D, size: [number, number], flags: ResizeFlags): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [outHeight, outWidth] = size;
  const rows = tf.matMul(resizeMatrix(h, outHeight, flags), x.transpose([1, 0, 2, 3]).reshape([h, n * w * c])).reshape([outHeight, n, w, c]);
  const both = tf.matMul(resizeMatrix(w, outWidth, flags), rows.transpose([2, 0, 1, 3]).reshape([w, outHeight * n * c]));
  return both.reshape([outWidth, outHeight, n, c]).transpose([2, 1, 0, 3]) as tf.Tensor4D;
}
