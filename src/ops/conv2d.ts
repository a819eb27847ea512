/**
 * 2-D convolution, TensorFlow's Conv2D: NHWC input, HWIO filter, optional bias, strides,
 * dilations, 'valid'/'same' padding and a fused activation; with the gradients with respect to
 * the input, the filter and the bias. Kernels: shaders/conv2d.wgsl; the forward pass and the input
 * gradient (what every explanation runs) come register-blocked (`forward`, `backward_input`) or as
 * implicit GEMMs in workgroup memory (`forward_tiled`, `backward_input_tiled`), as
 * `rt.kernelVariant` says; the filter gradient (training only) is always register-blocked.
 *
 * Backward needs x, the filter and the forward output y (the activation's gradient is written in
 * terms of y, as in activation.ts).
 */
import { OptionError, ShapeError } from '../errors.js';
import type { DispatchArgs, Runtime } from '../gpu/runtime.js';
import { matmulTiles } from '../gpu/variants.js';
import { sizeOf, type Shape, type Tensor } from '../gpu/tensor.js';
import { activationBackward, activationCode, type Activation, type BackwardRule } from './activation.js';
import { sumToChannels } from './reduce.js';
import { formatShape, windowGeometry, type ExplicitPadding, type Padding } from './shapes.js';

export interface Conv2dOptions {
  /** [height, width] or one number for both; default 1. */
  strides?: number | readonly [number, number];
  /** [height, width] or one number for both; default 1. */
  dilations?: number | readonly [number, number];
  /** Default 'valid', as in TensorFlow; explicit padding only for the transposed convolution's use. */
  padding?: Padding | ExplicitPadding;
  /** Applied to conv + bias in the same kernel; default 'linear'. */
  activation?: Activation;
}

export interface Conv2dGradients {
  input?: Tensor;
  filter?: Tensor;
  bias?: Tensor;
}

const WORKGROUP_SIZE = 64;
/** Pixels per invocation along a row: TILE in the shader (8 ran ~20% faster than 4 on lavapipe). */
const TILE = 8;
/** Channels per invocation (vec4 accumulators in the shader; two blocks with WIDE). */
const CHANNEL_BLOCK = 4;
/** Backward filter: split the pixel sum into chunks until about this many invocations run... */
const TARGET_FILTER_INVOCATIONS = 65536;
/** ...but give each chunk at least this many output pixels. */
const MIN_CHUNK_PIXELS = 64;

interface Geometry {
  /** [N, H, W, Cin] */
  input: Shape;
  /** [KH, KW, Cin, Cout] */
  filter: Shape;
  /** [N, OH, OW, Cout] */
  output: Shape;
  activation: Activation;
  /** Members of the shader's Params struct except chunk_pixels. */
  uniforms: Record<string, number>;
}

/** [height, width] from one number or a pair of positive integers (default 1); `op` names the caller in the error. */
export function positivePair(value: number | readonly [number, number] | undefined, name: string, op: string): [number, number] {
  const values = value === undefined ? [1, 1] : typeof value === 'number' ? [value, value] : [...value];
  if (values.length !== 2 || values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new OptionError(`${op}: ${name} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  }
  return values as [number, number];
}

function checkRank4(shape: Shape, what: string, layout: string, op: string): void {
  if (shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`${op}: ${what} must be ${layout} with positive sizes, got ${formatShape(shape)}`);
  }
}

/** Checks shapes and options and works out the output shape and the shader's uniforms. */
function geometry(op: string, inputShape: Shape, filterShape: Shape, options: Conv2dOptions): Geometry {
  checkRank4(inputShape, 'x', '[batch, height, width, channels]', op);
  checkRank4(filterShape, 'filter', '[kernelHeight, kernelWidth, inChannels, outChannels]', op);
  const [batch, inHeight, inWidth, inChannels] = inputShape;
  const [kernelHeight, kernelWidth, filterIn, outChannels] = filterShape;
  if (filterIn !== inChannels) {
    throw new ShapeError(`${op}: filter ${formatShape(filterShape)} expects ${filterIn} input channels but x ${formatShape(inputShape)} has ${inChannels}`);
  }
  const strides = positivePair(options.strides, 'strides', op);
  const dilations = positivePair(options.dilations, 'dilations', op);
  const padding = options.padding ?? 'valid';
  const activation = options.activation ?? 'linear';
  activationCode(activation, op);
  let window;
  try {
    window = windowGeometry(inHeight, inWidth, [kernelHeight, kernelWidth], strides, dilations, padding);
  } catch (error) {
    if (error instanceof ShapeError) throw new ShapeError(`${op}: ${error.message} (x ${formatShape(inputShape)}, filter ${formatShape(filterShape)})`);
    throw error;
  }
  return {
    input: inputShape,
    filter: filterShape,
    output: [batch, window.outHeight, window.outWidth, outChannels],
    activation,
    uniforms: {
      batch,
      in_height: inHeight,
      in_width: inWidth,
      in_channels: inChannels,
      out_height: window.outHeight,
      out_width: window.outWidth,
      out_channels: outChannels,
      kernel_height: kernelHeight,
      kernel_width: kernelWidth,
      stride_height: strides[0],
      stride_width: strides[1],
      dilation_height: dilations[0],
      dilation_width: dilations[1],
      pad_top: window.padTop,
      pad_left: window.padLeft,
    },
  };
}

function expectShape(t: Tensor, shape: Shape, what: string, op: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: ${what} must be ${formatShape(shape)}, got ${formatShape(t.shape)}`);
  }
}

const blocks = (n: number, size: number) => Math.ceil(n / size);

/** Records a tiled entry over a rows x cols GEMM result: tiles from the device's limits, one workgroup per tile. */
function dispatchTiled(rt: Runtime, entry: string, rows: number, cols: number, constants: Record<string, number>, args: Omit<DispatchArgs, 'workgroups'>): void {
  const tiles = matmulTiles(rt.limits, rows, cols);
  const count = blocks(rows, tiles.TILE_M) * blocks(cols, tiles.TILE_N);
  rt.dispatch({ shader: 'conv2d', entry, constants: { ...tiles, ...constants } }, { ...args, workgroups: rt.grid(count, 1) });
}

/** y = act(conv2d(x, filter) + bias): x [N, H, W, Cin], filter [KH, KW, Cin, Cout] -> y [N, OH, OW, Cout]. */
export function conv2d(rt: Runtime, x: Tensor, filter: Tensor, bias: Tensor | undefined, options: Conv2dOptions = {}): Tensor {
  const g = geometry('conv2d', x.shape, filter.shape, options);
  const [batch, outHeight, outWidth, outChannels] = g.output;
  if (bias) expectShape(bias, [outChannels], 'bias', 'conv2d');
  const y = rt.empty(g.output, 'conv2d.output');
  const fused = { ACTIVATION: activationCode(g.activation), HAS_BIAS: bias ? 1 : 0 };
  // Without a bias the shader never reads `bias`, but WebGPU wants every binding bound.
  const bindings = { input: x, weights: filter, bias: bias ?? filter, output: y };
  const uniforms = { ...g.uniforms, chunk_pixels: 0 };
  if (rt.kernelVariant === 'tiled') {
    // implicit GEMM: [N*OH*OW pixels, KH*KW*Cin] x [KH*KW*Cin, Cout]
    dispatchTiled(rt, 'forward_tiled', batch * outHeight * outWidth, outChannels, fused, { bindings, uniforms });
    return y;
  }
  // 8 channels per invocation where there are more than 4 (the shader's WIDE: fewer loads per FMA)
  const wide = outChannels > CHANNEL_BLOCK;
  const invocations = batch * outHeight * blocks(outWidth, TILE) * blocks(outChannels, wide ? 2 * CHANNEL_BLOCK : CHANNEL_BLOCK);
  rt.dispatch({ shader: 'conv2d', entry: 'forward', constants: { WORKGROUP_SIZE, WIDE: wide ? 1 : 0, ...fused } }, { bindings, uniforms, workgroups: rt.grid(invocations, WORKGROUP_SIZE) });
  return y;
}

/** What conv2dBackwardInput applies to its result in the same kernel (the transposed convolution's bias and activation). */
export interface InputGradientEpilogue {
  /** [Cin], added per channel. */
  bias?: Tensor;
  /** Applied after the bias; default 'linear'. */
  activation?: Activation;
}

/**
 * dL/dx [N, H, W, Cin] from dy = dL/d(pre-activation) [N, OH, OW, Cout]. The activation in
 * `options` is ignored: apply its backward first (or use conv2dBackward). `epilogue` makes this
 * the transposed convolution act(conv2dBackwardInput(dy) + bias) (conv2d_transpose.ts).
 */
export function conv2dBackwardInput(rt: Runtime, dy: Tensor, filter: Tensor, inputShape: Shape, options: Conv2dOptions = {}, epilogue: InputGradientEpilogue = {}): Tensor {
  const op = 'conv2dBackwardInput';
  const g = geometry(op, inputShape, filter.shape, options);
  expectShape(dy, g.output, 'dy', op);
  const [batch, inHeight, inWidth, inChannels] = inputShape;
  if (epilogue.bias) expectShape(epilogue.bias, [inChannels], 'bias', op);
  const fused = { ACTIVATION: activationCode(epilogue.activation ?? 'linear', op), HAS_BIAS: epilogue.bias ? 1 : 0 };
  const dx = rt.empty(inputShape, 'conv2d.input_grad');
  // Without a bias the shader never reads `bias`, but WebGPU wants every binding bound.
  const bindings = { output_grad: dy, weights: filter, bias: epilogue.bias ?? filter, input_grad: dx };
  const uniforms = { ...g.uniforms, chunk_pixels: 0 };
  if (rt.kernelVariant === 'tiled') {
    // implicit GEMM: [N*H*W pixels, KH*KW*Cout] x [KH*KW*Cout, Cin]
    dispatchTiled(rt, 'backward_input_tiled', batch * inHeight * inWidth, inChannels, fused, { bindings, uniforms });
    return dx;
  }
  const strideWidth = g.uniforms.stride_width;
  const columnTiles = strideWidth * blocks(blocks(inWidth, strideWidth), TILE);
  const invocations = batch * inHeight * columnTiles * blocks(inChannels, CHANNEL_BLOCK);
  rt.dispatch({ shader: 'conv2d', entry: 'backward_input', constants: { WORKGROUP_SIZE, ...fused } }, { bindings, uniforms, workgroups: rt.grid(invocations, WORKGROUP_SIZE) });
  return dx;
}

/**
 * dL/dfilter [KH, KW, Cin, Cout] from x and dy = dL/d(pre-activation). Small filters split the
 * sum over output pixels into chunks (for parallelism) whose partial sums a second pass adds.
 */
export function conv2dBackwardFilter(rt: Runtime, x: Tensor, dy: Tensor, filterShape: Shape, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2dBackwardFilter';
  const g = geometry(op, x.shape, filterShape, options);
  expectShape(dy, g.output, 'dy', op);
  const [kernelHeight, kernelWidth, inChannels, outChannels] = filterShape;
  const pixels = g.output[0] * g.output[1] * g.output[2];
  const tiles = kernelHeight * kernelWidth * blocks(inChannels, CHANNEL_BLOCK) * blocks(outChannels, CHANNEL_BLOCK);
  const wanted = Math.max(1, Math.min(Math.ceil(TARGET_FILTER_INVOCATIONS / tiles), Math.ceil(pixels / MIN_CHUNK_PIXELS)));
  const chunkPixels = Math.ceil(pixels / wanted);
  const chunks = Math.ceil(pixels / chunkPixels);
  const partial = rt.empty(chunks === 1 ? filterShape : [chunks, sizeOf(filterShape)], 'conv2d.filter_grad');
  rt.dispatch(
    { shader: 'conv2d', entry: 'backward_filter', constants: { WORKGROUP_SIZE } },
    {
      bindings: { input: x, output_grad: dy, weight_grad: partial },
      uniforms: { ...g.uniforms, chunk_pixels: chunkPixels },
      workgroups: rt.grid(tiles * chunks, WORKGROUP_SIZE),
    },
  );
  if (chunks === 1) return partial;
  const total = sumToChannels(rt, partial);
  partial.dispose();
  return total.reshapeMove(filterShape);
}

/**
 * Gradients of a conv2d layer from dL/dy: first through the fused activation (using the forward
 * output y), then to the input, filter and bias as requested (default: all three).
 */
export function conv2dBackward(
  rt: Runtime,
  tensors: { x: Tensor; filter: Tensor; y?: Tensor; dy: Tensor },
  options: Conv2dOptions = {},
  wanted: { input?: boolean; filter?: boolean; bias?: boolean; rule?: BackwardRule } = { input: true, filter: true, bias: true },
): Conv2dGradients {
  const op = 'conv2dBackward';
  const { x, filter, y, dy } = tensors;
  const g = geometry(op, x.shape, filter.shape, options);
  expectShape(dy, g.output, 'dy', op);
  let preGrad = dy;
  if (g.activation !== 'linear') {
    if (!y) throw new OptionError(`${op}: the forward output y is needed for the '${g.activation}' activation's gradient`);
    expectShape(y, g.output, 'y', op);
    preGrad = activationBackward(rt, dy, y, g.activation, wanted.rule);
  }
  const gradients: Conv2dGradients = {};
  if (wanted.input) gradients.input = conv2dBackwardInput(rt, preGrad, filter, x.shape, options);
  if (wanted.filter) gradients.filter = conv2dBackwardFilter(rt, x, preGrad, filter.shape, options);
  if (wanted.bias) gradients.bias = sumToChannels(rt, preGrad);
  if (preGrad !== dy) preGrad.dispose();
  return gradients;
}
