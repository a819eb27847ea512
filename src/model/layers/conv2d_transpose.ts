/** conv2dTranspose layers (filter [kh, kw, out, in]), with fused bias and activation. */
import { ShapeError } from '../../errors.js';
import type { Runtime } from '../../gpu/runtime.js';
import type { Shape, Tensor } from '../../gpu/tensor.js';
import { conv2dTranspose, conv2dTransposeBackward, conv2dTransposeShape, type Conv2dTransposeOptions } from '../../ops/conv2d_transpose.js';
import type { Padding } from '../../ops/shapes.js';
import type { Pair } from '../spec.js';
import type { Layer, SpecOf } from '../layers.js';
import { fusedRescale, product, rank4, upload } from './common.js';

/**
 * Keras Conv2DTranspose's output length along one axis (keras utils deconv_output_length): without
 * output_padding the largest size whose convolution gives the input ('valid': in * s + max(k - s, 0),
 * 'same': in * s); with it, (in - 1) * s + k - 2 * pad + output_padding, pad = k // 2 for 'same'.
 * k is the dilated kernel size.
 */
function kerasOutputLength(size: number, kernel: number, stride: number, dilation: number, padding: Padding, outputPadding: number | undefined): number {
  const k = (kernel - 1) * dilation + 1;
  if (outputPadding === undefined) return padding === 'valid' ? size * stride + Math.max(k - stride, 0) : size * stride;
  const pad = padding === 'same' ? Math.floor(k / 2) : 0;
  return (size - 1) * stride + k - 2 * pad + outputPadding;
}

export function conv2dTransposeLayer(rt: Runtime, spec: SpecOf<'conv2dTranspose'>): Layer {
  const name = spec.name;
  const padding = spec.padding;
  if (spec.outputSize === undefined && typeof padding === 'object') {
    throw new ShapeError(`conv2dTranspose '${name}': explicit padding needs an outputSize (the Keras output size rule knows only 'valid' and 'same')`);
  }
  const filter = upload(rt, `${name}.filter`, spec.filter)!;
  const bias = upload(rt, `${name}.bias`, spec.bias);
  const [kh, kw, outChannels] = spec.filter.shape;
  const outputSize = (inputShape: Shape): Pair =>
    spec.outputSize ?? [
      kerasOutputLength(inputShape[1], kh, spec.strides[0], spec.dilations[0], padding as Padding, spec.outputPadding?.[0]),
      kerasOutputLength(inputShape[2], kw, spec.strides[1], spec.dilations[1], padding as Padding, spec.outputPadding?.[1]),
    ];
  const options = (inputShape: Shape): Conv2dTransposeOptions => ({
    outputSize: outputSize(inputShape), strides: spec.strides, dilations: spec.dilations, padding: spec.padding, activation: spec.activation,
  });
  const weights: Record<string, Tensor> = bias ? { filter, bias } : { filter };
  return {
    spec, weights, saves: { inputs: true, output: spec.activation !== 'linear' },
    outputShape: (shapes) => {
      const shape = rank4(shapes, name, spec.kind);
      return conv2dTransposeShape(shape, spec.filter.shape, options(shape), `conv2dTranspose '${name}'`);
    },
    forward: (rt, [x]) => conv2dTranspose(rt, x, filter, bias, options(x.shape)),
    backward: (rt, record, dy, want) => {
      const x = record.inputs[0];
      const linear = { ...options(x.shape), activation: 'linear' as const };
      const dz = fusedRescale(rt, dy, spec.activation, want.rule, () => conv2dTranspose(rt, x, filter, bias, linear));
      const grads = conv2dTransposeBackward(rt, { x, filter, y: record.output, dy: dz ?? dy }, dz ? linear : options(x.shape), { input: want.inputs, filter: want.weights, bias: want.weights && !!bias, rule: want.rule });
      dz?.dispose();
      const out: Record<string, Tensor> = {};
      if (grads.filter) out.filter = grads.filter;
      if (grads.bias) out.bias = grads.bias;
      return { inputs: [grads.input], weights: out };
    },
    // every input value times every tap and output channel: the FLOPs of the convolution it transposes
    flops: (shapes) => 2 * product(shapes[0]) * kh * kw * outChannels,
  };
}
