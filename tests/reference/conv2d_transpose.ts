/**
 * Float64 reference of the transposed convolution (TF Conv2DBackpropInput + bias + activation) and
 * its gradients, by definition: the transpose of the linear map conv2d, so its forward pass is the
 * reference conv2d's input-gradient scatter and its gradients are the reference conv2d forward
 * (input) and filter gradient with the roles swapped. tests/ops/conv2d_transpose.test.ts checks
 * these against finite differences.
 */
import { activate, activationDerivative } from './activation.js';
import { conv2dBackwardFilterRef, conv2dBackwardInputRef, conv2dPreActivationRef, type Conv2dRefOptions } from './conv2d.js';
import { sumToChannelsRef } from './reduce.js';
import { refTensor, type RefTensor } from './tensor.js';

/** Options of the convolution being transposed, plus the output size and the activation. */
export interface Conv2dTransposeRefOptions extends Conv2dRefOptions {
  outputSize: [number, number];
}

function convOptions(options: Conv2dTransposeRefOptions): Conv2dRefOptions {
  return { strides: options.strides, dilations: options.dilations, padding: options.padding };
}

/** conv2d_transpose(x, filter) + bias, before the activation; filter [KH, KW, Cout, Cin]. */
export function conv2dTransposePreActivationRef(x: RefTensor, filter: RefTensor, bias: RefTensor | undefined, options: Conv2dTransposeRefOptions): RefTensor {
  const outChannels = filter.shape[2];
  const pre = conv2dBackwardInputRef(x, filter, [x.shape[0], ...options.outputSize, outChannels], convOptions(options));
  if (bias) for (let i = 0; i < pre.data.length; i++) pre.data[i] += bias.data[i % outChannels];
  return pre;
}

export function conv2dTransposeRef(x: RefTensor, filter: RefTensor, bias: RefTensor | undefined, options: Conv2dTransposeRefOptions): RefTensor {
  const pre = conv2dTransposePreActivationRef(x, filter, bias, options);
  return refTensor(pre.shape, pre.data.map((v) => activate(v, options.activation ?? 'linear')));
}

export function conv2dTransposeBackwardRef(
  x: RefTensor,
  filter: RefTensor,
  bias: RefTensor | undefined,
  dy: RefTensor,
  options: Conv2dTransposeRefOptions,
): { input: RefTensor; filter: RefTensor; bias: RefTensor } {
  const pre = conv2dTransposePreActivationRef(x, filter, bias, options);
  const kind = options.activation ?? 'linear';
  const preGrad = refTensor(pre.shape, pre.data.map((v, i) => dy.data[i] * activationDerivative(v, kind)));
  return {
    input: conv2dPreActivationRef(preGrad, filter, undefined, convOptions(options)),
    filter: conv2dBackwardFilterRef(preGrad, x, filter.shape, convOptions(options)),
    bias: sumToChannelsRef(preGrad),
  };
}
