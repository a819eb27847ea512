/**
 * Float64 reference of TensorFlow's Conv2D and its gradients, as plain loops. The padding rule is
 * restated here (not imported from src/ops/shapes.ts) so that the reference stays an independent
 * oracle: 'same' gives ceil(in / stride) outputs with floor(total / 2) padding before, the odd
 * extra row/column after (TF `GetWindowedOutputSize`).
 */
import type { Activation } from '../../src/ops/activation.js';
import { activate, activationDerivative } from './activation.js';
import { sumToChannelsRef } from './reduce.js';
import { nhwc, refTensor, type RefTensor } from './tensor.js';

export interface Conv2dRefOptions {
  strides?: [number, number];
  dilations?: [number, number];
  /** An object: TF's EXPLICIT padding (rows/columns of zeros on each side). */
  padding?: 'valid' | 'same' | { top: number; bottom: number; left: number; right: number };
  activation?: Activation;
}

interface RefGeometry {
  outHeight: number;
  outWidth: number;
  padTop: number;
  padLeft: number;
  strides: [number, number];
  dilations: [number, number];
}

function refGeometry(inputShape: number[], filterShape: number[], options: Conv2dRefOptions): RefGeometry {
  const strides = options.strides ?? [1, 1];
  const dilations = options.dilations ?? [1, 1];
  const padding = options.padding;
  const axis = (size: number, k: number, s: number, d: number, before: number, after: number) => {
    const effective = (k - 1) * d + 1;
    if (padding === 'same') {
      const out = Math.ceil(size / s);
      return { out, before: Math.floor(Math.max((out - 1) * s + effective - size, 0) / 2) };
    }
    return { out: Math.floor((size + before + after - effective) / s) + 1, before };
  };
  const explicit = typeof padding === 'object' ? padding : { top: 0, bottom: 0, left: 0, right: 0 };
  const h = axis(inputShape[1], filterShape[0], strides[0], dilations[0], explicit.top, explicit.bottom);
  const w = axis(inputShape[2], filterShape[1], strides[1], dilations[1], explicit.left, explicit.right);
  return { outHeight: h.out, outWidth: w.out, padTop: h.before, padLeft: w.before, strides, dilations };
}

/**
 * Calls visit(outIndex, inIndex, filterIndex) for every product x[inIndex] * filter[filterIndex]
 * that adds to output element outIndex: each output pixel, tap (kh, kw) whose input pixel lies
 * inside the image (padding contributes zero), input channel and output channel. Returns the output shape.
 */
function forEachTap(
  inputShape: number[],
  filterShape: number[],
  g: RefGeometry,
  visit: (outIndex: number, inIndex: number, filterIndex: number) => void,
): number[] {
  const [batch, height, width, inChannels] = inputShape;
  const [kernelHeight, kernelWidth, , outChannels] = filterShape;
  const outShape = [batch, g.outHeight, g.outWidth, outChannels];
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        for (let kh = 0; kh < kernelHeight; kh++) {
          const ih = oh * g.strides[0] + kh * g.dilations[0] - g.padTop;
          if (ih < 0 || ih >= height) continue;
          for (let kw = 0; kw < kernelWidth; kw++) {
            const iw = ow * g.strides[1] + kw * g.dilations[1] - g.padLeft;
            if (iw < 0 || iw >= width) continue;
            for (let ci = 0; ci < inChannels; ci++) {
              const inIndex = nhwc(inputShape, n, ih, iw, ci);
              const filterRow = ((kh * kernelWidth + kw) * inChannels + ci) * outChannels;
              for (let co = 0; co < outChannels; co++) {
                visit(nhwc(outShape, n, oh, ow, co), inIndex, filterRow + co);
              }
            }
          }
        }
      }
    }
  }
  return outShape;
}

/** conv2d(x, filter) + bias, before the activation. */
export function conv2dPreActivationRef(x: RefTensor, filter: RefTensor, bias: RefTensor | undefined, options: Conv2dRefOptions = {}): RefTensor {
  const g = refGeometry(x.shape, filter.shape, options);
  const outChannels = filter.shape[3];
  const out = refTensor([x.shape[0], g.outHeight, g.outWidth, outChannels]);
  forEachTap(x.shape, filter.shape, g, (o, i, f) => (out.data[o] += x.data[i] * filter.data[f]));
  if (bias) for (let o = 0; o < out.data.length; o++) out.data[o] += bias.data[o % outChannels];
  return out;
}

/** act(conv2d(x, filter) + bias). */
export function conv2dRef(x: RefTensor, filter: RefTensor, bias: RefTensor | undefined, options: Conv2dRefOptions = {}): RefTensor {
  const pre = conv2dPreActivationRef(x, filter, bias, options);
  const kind = options.activation ?? 'linear';
  return refTensor(pre.shape, pre.data.map((v) => activate(v, kind)));
}

/** dL/dx from dL/d(pre-activation), scattered output pixel by output pixel. */
export function conv2dBackwardInputRef(preGrad: RefTensor, filter: RefTensor, inputShape: number[], options: Conv2dRefOptions = {}): RefTensor {
  const g = refGeometry(inputShape, filter.shape, options);
  const dx = refTensor(inputShape);
  forEachTap(inputShape, filter.shape, g, (o, i, f) => (dx.data[i] += preGrad.data[o] * filter.data[f]));
  return dx;
}

/** dL/dfilter from x and dL/d(pre-activation). */
export function conv2dBackwardFilterRef(x: RefTensor, preGrad: RefTensor, filterShape: number[], options: Conv2dRefOptions = {}): RefTensor {
  const g = refGeometry(x.shape, filterShape, options);
  const dw = refTensor(filterShape);
  forEachTap(x.shape, filterShape, g, (o, i, f) => (dw.data[f] += x.data[i] * preGrad.data[o]));
  return dw;
}

/** All three gradients of act(conv2d(x, filter) + bias) for upstream dL/dy. */
export function conv2dBackwardRef(
  x: RefTensor,
  filter: RefTensor,
  bias: RefTensor | undefined,
  dy: RefTensor,
  options: Conv2dRefOptions = {},
): { input: RefTensor; filter: RefTensor; bias: RefTensor } {
  const pre = conv2dPreActivationRef(x, filter, bias, options);
  const kind = options.activation ?? 'linear';
  const preGrad = refTensor(pre.shape, pre.data.map((v, i) => dy.data[i] * activationDerivative(v, kind)));
  return {
    input: conv2dBackwardInputRef(preGrad, filter, x.shape, options),
    filter: conv2dBackwardFilterRef(x, preGrad, filter.shape, options),
    bias: sumToChannelsRef(preGrad),
  };
}
