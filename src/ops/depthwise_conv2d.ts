/**
 * Depthwise 2-D convolution with TensorFlow's DepthwiseConv2dNative semantics: x NHWC
 * [N, H, W, C], filter [KH, KW, C, M] (M = channel multiplier), output [N, OH, OW, C*M] with
 * output channel c*M + m; optional bias [C*M] and a fused activation. Any kernel size, strides,
 * dilations, and 'valid' / 'same' padding (TF rule: see `windowGeometry`).
 *
 * Backward: `depthwiseConv2dBackward` first turns dL/dy into dL/d(pre-activation) from the
 * forward OUTPUT y, then runs the input-gradient kernel (a gather over the output pixels each
 * input pixel feeds, no atomics), the filter-gradient kernel, and a channel sum for the bias.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { activationBackward, activationCode, type Activation, type BackwardRule } from './activation.js';
import { sumToChannels } from './reduce.js';
import { channelBlockCount, formatShape, windowGeometry, type Padding, type WindowGeometry } from './shapes.js';

export interface DepthwiseConv2dOptions {
  /** [height, width] or one value for both. Default 1. */
  strides?: number | readonly [number, number];
  /** [height, width] or one value for both. Default 1. */
  dilations?: number | readonly [number, number];
  /** Default 'valid'. */
  padding?: Padding;
  /** Fused activation applied after the bias. Default 'linear'. */
  activation?: Activation;
}

/** Which gradients `depthwiseConv2dBackward` computes. */
export interface DepthwiseConv2dGradientRequest {
  input?: boolean;
  filter?: boolean;
  bias?: boolean;
  /** How the fused activation passes the gradient (default 'gradient'). */
  rule?: BackwardRule;
}

export interface DepthwiseConv2dGradients {
  input?: Tensor;
  filter?: Tensor;
  bias?: Tensor;
}

const WORKGROUP_SIZE = 64;
const SHADER = 'depthwise_conv2d';

interface Resolved {
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
  activation: Activation;
}

function pair(value: number | readonly [number, number] | undefined, name: string): [number, number] {
  const result: [number, number] = value === undefined ? [1, 1] : typeof value === 'number' ? [value, value] : [value[0], value[1]];
  const ok = (typeof value !== 'object' || value.length === 2) && result.every((v) => Number.isInteger(v) && v >= 1);
  if (!ok) throw new OptionError(`depthwiseConv2d: ${name} must be a positive integer or a [height, width] pair of them, got ${JSON.stringify(value)}`);
  return result;
}

function resolve(options: DepthwiseConv2dOptions): Resolved {
  const padding = options.padding ?? 'valid';
  if (padding !== 'valid' && padding !== 'same') throw new OptionError(`depthwiseConv2d: padding must be 'valid' or 'same', got '${String(padding)}'`);
  const activation = options.activation ?? 'linear';
  activationCode(activation, 'depthwiseConv2d');
  return { strides: pair(options.strides, 'strides'), dilations: pair(options.dilations, 'dilations'), padding, activation };
}

function rank4(shape: Shape, what: string): void {
  if (shape.length !== 4) throw new ShapeError(`depthwiseConv2d: ${what} must have rank 4, got ${formatShape(shape)}`);
}

/** Checks x [N,H,W,C] against filter [KH,KW,C,M] and returns the window geometry. */
function geometry(inputShape: Shape, filterShape: Shape, o: Resolved, inputName = 'x'): WindowGeometry {
  rank4(inputShape, `${inputName} (NHWC)`);
  rank4(filterShape, 'filter ([KH, KW, C, M])');
  if (filterShape[2] !== inputShape[3]) {
    throw new ShapeError(
      `depthwiseConv2d: filter ${formatShape(filterShape)} is for ${filterShape[2]} input channels but ${inputName} ${formatShape(inputShape)} has ${inputShape[3]} (filter layout [KH, KW, C, M])`,
    );
  }
  return windowGeometry(inputShape[1], inputShape[2], [filterShape[0], filterShape[1]], o.strides, o.dilations, o.padding);
}

function outputShapeOf(inputShape: Shape, filterShape: Shape, g: WindowGeometry): number[] {
  return [inputShape[0], g.outHeight, g.outWidth, inputShape[3] * filterShape[3]];
}

function expectShape(t: Tensor, expected: Shape, what: string): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`depthwiseConv2d: ${what} has shape ${formatShape(t.shape)}, expected ${formatShape(expected)}`);
  }
}

function uniforms(inputShape: Shape, filterShape: Shape, g: WindowGeometry, o: Resolved) {
  return {
    batch: inputShape[0],
    channels: inputShape[3],
    multiplier: filterShape[3],
    // vec2u pairs are (x, y) = (width, height)
    in_size: [inputShape[2], inputShape[1]],
    out_size: [g.outWidth, g.outHeight],
    kernel_size: [filterShape[1], filterShape[0]],
    stride: [o.strides[1], o.strides[0]],
    dilation: [o.dilations[1], o.dilations[0]],
    pad_before: [g.padLeft, g.padTop],
  };
}

/** Output shape [N, OH, OW, C*M] of a depthwise convolution; throws ShapeError if the shapes do not fit. */
export function depthwiseConv2dOutputShape(inputShape: Shape, filterShape: Shape, options: DepthwiseConv2dOptions = {}): number[] {
  const o = resolve(options);
  return outputShapeOf(inputShape, filterShape, geometry(inputShape, filterShape, o));
}

/** y = act(depthwise(x, filter) + bias): x [N,H,W,C], filter [KH,KW,C,M], bias [C*M] -> [N,OH,OW,C*M]. */
export function depthwiseConv2d(rt: Runtime, x: Tensor, filter: Tensor, bias: Tensor | undefined, options: DepthwiseConv2dOptions = {}): Tensor {
  const o = resolve(options);
  const g = geometry(x.shape, filter.shape, o);
  const outShape = outputShapeOf(x.shape, filter.shape, g);
  if (bias) expectShape(bias, [outShape[3]], 'bias (one value per output channel C*M)');
  const y = rt.empty(outShape, 'depthwiseConv2d.output');
  const bindings: Record<string, Tensor> = { input: x, weights: filter, output: y };
  if (bias) bindings.bias = bias;
  rt.dispatch(
    { shader: SHADER, entry: bias ? 'forward_bias' : 'forward', constants: { WORKGROUP_SIZE, ACTIVATION: activationCode(o.activation) } },
    { bindings, uniforms: uniforms(x.shape, filter.shape, g, o), workgroups: rt.grid(channelBlockCount(y.shape), WORKGROUP_SIZE) },
  );
  return y;
}

/**
 * dL/dx [N,H,W,C] from dy = dL/d(pre-activation output) [N,OH,OW,C*M]. The activation option is
 * ignored: apply its backward first (or use `depthwiseConv2dBackward`).
 */
export function depthwiseConv2dBackwardInput(rt: Runtime, dy: Tensor, filter: Tensor, inputShape: Shape, options: DepthwiseConv2dOptions = {}): Tensor {
  const o = resolve(options);
  const g = geometry(inputShape, filter.shape, o, 'inputShape');
  expectShape(dy, outputShapeOf(inputShape, filter.shape, g), 'dy (output gradient)');
  const dx = rt.empty(inputShape, 'depthwiseConv2d.input_grad');
  rt.dispatch(
    { shader: SHADER, entry: 'backward_input', constants: { WORKGROUP_SIZE } },
    { bindings: { output_grad: dy, weights: filter, input_grad: dx }, uniforms: uniforms(inputShape, filter.shape, g, o), workgroups: rt.grid(channelBlockCount(dx.shape), WORKGROUP_SIZE) },
  );
  return dx;
}

/** dL/dfilter [KH,KW,C,M] from x and dy = dL/d(pre-activation output). The activation option is ignored. */
export function depthwiseConv2dBackwardFilter(rt: Runtime, x: Tensor, dy: Tensor, filterShape: Shape, options: DepthwiseConv2dOptions = {}): Tensor {
  const o = resolve(options);
  const g = geometry(x.shape, filterShape, o);
  expectShape(dy, outputShapeOf(x.shape, filterShape, g), 'dy (output gradient)');
  const dw = rt.empty(filterShape, 'depthwiseConv2d.filter_grad');
  rt.dispatch(
    { shader: SHADER, entry: 'backward_filter', constants: { WORKGROUP_SIZE } },
    { bindings: { input: x, output_grad: dy, weights_grad: dw }, uniforms: uniforms(x.shape, filterShape, g, o), workgroups: rt.grid(dw.size, WORKGROUP_SIZE) },
  );
  return dw;
}

/**
 * Gradients of a depthwise convolution layer with its fused activation. `y` is the forward
 * output (needed unless the activation is linear), `dy` = dL/dy. Returns the requested gradients
 * (default: all three); intermediates are disposed.
 */
export function depthwiseConv2dBackward(
  rt: Runtime,
  saved: { x: Tensor; filter: Tensor; y?: Tensor; dy: Tensor },
  options: DepthwiseConv2dOptions = {},
  wanted: DepthwiseConv2dGradientRequest = { input: true, filter: true, bias: true },
): DepthwiseConv2dGradients {
  const o = resolve(options);
  const { x, filter, y, dy } = saved;
  const g = geometry(x.shape, filter.shape, o);
  const outShape = outputShapeOf(x.shape, filter.shape, g);
  expectShape(dy, outShape, 'dy (output gradient)');
  let preGrad = dy;
  if (o.activation !== 'linear') {
    if (!y) throw new ShapeError(`depthwiseConv2d backward: the forward output y is needed for the '${o.activation}' activation's gradient`);
    expectShape(y, outShape, 'y (forward output)');
    preGrad = activationBackward(rt, dy, y, o.activation, wanted.rule);
  }
  const grads: DepthwiseConv2dGradients = {};
  if (wanted.input) grads.input = depthwiseConv2dBackwardInput(rt, preGrad, filter, x.shape, o);
  if (wanted.filter) grads.filter = depthwiseConv2dBackwardFilter(rt, x, preGrad, filter.shape, o);
  if (wanted.bias) grads.bias = sumToChannels(rt, preGrad);
  if (preGrad !== dy) preGrad.dispose();
  return grads;
}
