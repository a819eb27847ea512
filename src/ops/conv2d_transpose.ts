/**
 * Transposed 2-D convolution: TensorFlow's Conv2DBackpropInput as graph models emit it
 * (tf.nn.conv2d_transpose) and Keras Conv2DTranspose, with a bias and a fused activation.
 * x [N, H, W, Cin] and filter [KH, KW, Cout, Cin] (TF's layout: the filter of the convolution
 * whose input gradient this is, mapping Cout channels to Cin) give y [N, OH, OW, Cout], where the
 * convolution with the same strides, dilations and padding maps [OH, OW] to [H, W].
 *
 * No kernels of its own: it is conv2d run backwards (shaders/conv2d.wgsl, register-blocked or
 * tiled as `rt.kernelVariant` says):
 *   forward          act(conv2dBackwardInput(x) + bias), bias and activation fused in that kernel;
 *   input gradient   conv2d(dy) (the convolution's forward pass);
 *   filter gradient  conv2dBackwardFilter with the roles swapped: the convolution's input is dy
 *                    and its output gradient is x.
 * Backward needs x, the filter and (for a non-linear activation) the output y.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { activationBackward, type Activation, type BackwardRule } from './activation.js';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, positivePair, type Conv2dGradients } from './conv2d.js';
import { sumToChannels } from './reduce.js';
import { formatShape, windowGeometry, type ExplicitPadding, type Padding } from './shapes.js';

export interface Conv2dTransposeOptions {
  /** [height, width] of the output: the convolution's input size (several map to the same [H, W] at stride > 1). */
  outputSize: readonly [number, number];
  /** [height, width] or one number for both; default 1. */
  strides?: number | readonly [number, number];
  /** [height, width] or one number for both; default 1. */
  dilations?: number | readonly [number, number];
  /** Of the convolution being transposed; default 'valid'. */
  padding?: Padding | ExplicitPadding;
  /** Applied to the result + bias in the same kernel; default 'linear'. */
  activation?: Activation;
}

/**
 * y's shape [N, outputSize, Cout] for x [N, H, W, Cin] and filter [KH, KW, Cout, Cin]; a typed error
 * unless the convolution being transposed maps outputSize to [H, W].
 */
export function conv2dTransposeShape(xShape: Shape, filterShape: Shape, options: Conv2dTransposeOptions, op = 'conv2dTranspose'): Shape {
  const size = options.outputSize;
  if (!Array.isArray(size) || size.length !== 2 || size.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new OptionError(`${op}: outputSize must be [height, width] of positive integers, got ${JSON.stringify(size)}`);
  }
  if (xShape.length !== 4) throw new ShapeError(`${op}: x must be [batch, height, width, channels], got ${formatShape(xShape)}`);
  if (filterShape.length !== 4 || filterShape[3] !== xShape[3]) {
    throw new ShapeError(`${op}: filter ${formatShape(filterShape)} must be [kernelHeight, kernelWidth, outChannels, ${xShape[3]}] for x ${formatShape(xShape)}`);
  }
  const [kernelHeight, kernelWidth] = filterShape;
  const strides = positivePair(options.strides, 'strides', op);
  const dilations = positivePair(options.dilations, 'dilations', op);
  const padding = options.padding ?? 'valid';
  let window;
  try {
    window = windowGeometry(size[0], size[1], [kernelHeight, kernelWidth], strides, dilations, padding);
  } catch (error) {
    if (error instanceof ShapeError) throw new ShapeError(`${op}: ${error.message} (outputSize ${size.join('x')}, filter ${formatShape(filterShape)})`);
    throw error;
  }
  if (window.outHeight !== xShape[1] || window.outWidth !== xShape[2]) {
    throw new ShapeError(
      `${op}: outputSize ${size.join('x')} does not fit x ${formatShape(xShape)}: a ${kernelHeight}x${kernelWidth} convolution (strides ${strides.join('x')}, ` +
        `dilations ${dilations.join('x')}, padding ${JSON.stringify(padding)}) maps it to ${window.outHeight}x${window.outWidth}, not ${xShape[1]}x${xShape[2]}`,
    );
  }
  return [xShape[0], size[0], size[1], filterShape[2]];
}

/** The options of the convolution this op transposes (its activation is the transpose's, applied by the epilogue). */
function convOptions(options: Conv2dTransposeOptions) {
  return { strides: options.strides, dilations: options.dilations, padding: options.padding };
}

/**
 * y = act(conv2d_transpose(x, filter) + bias): x [N, H, W, Cin], filter [KH, KW, Cout, Cin] ->
 * y [N, outputSize, Cout]. A ShapeError when conv2d over outputSize does not give [H, W].
 */
export function conv2dTranspose(rt: Runtime, x: Tensor, filter: Tensor, bias: Tensor | undefined, options: Conv2dTransposeOptions): Tensor {
  const shape = conv2dTransposeShape(x.shape, filter.shape, options);
  return conv2dBackwardInput(rt, x, filter, shape, convOptions(options), { bias, activation: options.activation });
}

/**
 * Gradients of conv2dTranspose from dL/dy: through the fused activation (using y), then to x
 * (a convolution of the pre-activation gradient), the filter and the bias, as requested.
 */
export function conv2dTransposeBackward(
  rt: Runtime,
  tensors: { x: Tensor; filter: Tensor; y?: Tensor; dy: Tensor },
  options: Conv2dTransposeOptions,
  wanted: { input?: boolean; filter?: boolean; bias?: boolean; rule?: BackwardRule } = { input: true, filter: true, bias: true },
): Conv2dGradients {
  const op = 'conv2dTransposeBackward';
  const { x, filter, y, dy } = tensors;
  const shape = conv2dTransposeShape(x.shape, filter.shape, options, op);
  if (formatShape(dy.shape) !== formatShape(shape)) throw new ShapeError(`${op}: dy must be ${formatShape(shape)}, got ${formatShape(dy.shape)}`);
  const activation = options.activation ?? 'linear';
  let preGrad = dy;
  if (activation !== 'linear') {
    if (!y) throw new OptionError(`${op}: the forward output y is needed for the '${activation}' activation's gradient`);
    preGrad = activationBackward(rt, dy, y, activation, wanted.rule);
  }
  const conv = convOptions(options);
  const gradients: Conv2dGradients = {};
  if (wanted.input) gradients.input = conv2d(rt, preGrad, filter, undefined, conv);
  if (wanted.filter) gradients.filter = conv2dBackwardFilter(rt, preGrad, x, filter.shape, conv);
  if (wanted.bias) gradients.bias = sumToChannels(rt, preGrad);
  if (preGrad !== dy) preGrad.dispose();
  return gradients;
}
