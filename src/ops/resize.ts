/**
 * Image resizing as TensorFlow's ResizeBilinear and ResizeNearestNeighbor compute it (both
 * align_corners / half_pixel_centers flags), and the gradient with respect to the image
 * (ResizeBilinearGrad, ResizeNearestNeighborGrad). Kernels: shaders/resize.wgsl; the backward pass
 * is a gather over input pixels (no atomics) and needs only the input's shape.
 *
 * Keras UpSampling2D and tf.image.resize (TF 2) use half_pixel_centers = true, align_corners =
 * false; tf.compat.v1 and TF.js default to both false.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';

export type ResizeMethod = 'bilinear' | 'nearest';

export interface ResizeOptions {
  method: ResizeMethod;
  /** [height, width] after resizing. */
  size: readonly [number, number];
  /** Corner pixels of input and output aligned; default false. */
  alignCorners?: boolean;
  /** Pixel centres at +0.5; default false. */
  halfPixelCenters?: boolean;
}

const WORKGROUP_SIZE = 64;

interface Plan {
  inputShape: Shape;
  outputShape: Shape;
  constants: Record<string, number>;
  uniforms: Record<string, number | number[]>;
}

/** TF's CalculateResizeScale, rounded to float32 as TF computes it. */
function resizeScale(inSize: number, outSize: number, alignCorners: boolean): number {
  return Math.fround(alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize);
}

function plan(inputShape: Shape, options: ResizeOptions, op: string): Plan {
  if (inputShape.length !== 4 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`${op}: the image must be NHWC [batch, height, width, channels] with positive sizes, got ${formatShape(inputShape)}`);
  }
  if (options.method !== 'bilinear' && options.method !== 'nearest') {
    throw new OptionError(`${op}: method must be 'bilinear' or 'nearest', got '${String(options.method)}'`);
  }
  const size = options.size;
  if (!Array.isArray(size) || size.length !== 2 || size.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new OptionError(`${op}: size must be [height, width] of positive integers, got ${JSON.stringify(size)}`);
  }
  const alignCorners = options.alignCorners ?? false;
  const halfPixelCenters = options.halfPixelCenters ?? false;
  // TF refuses this pair too (resize_bilinear_op.cc: "If half_pixel_centers is True, align_corners must be False.")
  if (alignCorners && halfPixelCenters) throw new OptionError(`${op}: alignCorners and halfPixelCenters cannot both be true (TensorFlow refuses the pair)`);
  const [batch, height, width, channels] = inputShape;
  const [outHeight, outWidth] = size;
  return {
    inputShape,
    outputShape: [batch, outHeight, outWidth, channels],
    constants: { WORKGROUP_SIZE, ALIGN_CORNERS: alignCorners ? 1 : 0, HALF_PIXEL_CENTERS: halfPixelCenters ? 1 : 0 },
    uniforms: {
      channels,
      in_size: [width, height],
      out_size: [outWidth, outHeight],
      scale: [resizeScale(width, outWidth, alignCorners), resizeScale(height, outHeight, alignCorners)],
    },
  };
}

/** x [N, H, W, C] -> [N, size[0], size[1], C]. */
export function resize(rt: Runtime, x: Tensor, options: ResizeOptions): Tensor {
  const p = plan(x.shape, options, 'resize');
  const y = rt.empty(p.outputShape, `resize.${options.method}`);
  rt.dispatch(
    { shader: 'resize', entry: options.method, constants: p.constants },
    { bindings: { input: x, output: y }, uniforms: p.uniforms, workgroups: rt.grid(y.size, WORKGROUP_SIZE) },
  );
  return y;
}

/** dL/dx [N, H, W, C] (`inputShape`) from dL/dy [N, size[0], size[1], C]. */
export function resizeBackward(rt: Runtime, dy: Tensor, inputShape: Shape, options: ResizeOptions): Tensor {
  const p = plan(inputShape, options, 'resizeBackward');
  if (formatShape(dy.shape) !== formatShape(p.outputShape)) {
    throw new ShapeError(`resizeBackward: dy must be ${formatShape(p.outputShape)}, got ${formatShape(dy.shape)}`);
  }
  const dx = rt.empty(inputShape, `resize.${options.method}_grad`);
  rt.dispatch(
    { shader: 'resize', entry: `${options.method}_backward`, constants: p.constants },
    { bindings: { output_grad: dy, input_grad: dx }, uniforms: p.uniforms, workgroups: rt.grid(dx.size, WORKGROUP_SIZE) },
  );
  return dx;
}
