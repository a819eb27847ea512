/**
 * Float64 CPU executor of a ModelSpec, built only from the reference ops: the oracle for the GPU
 * executor (src/model/model.ts) and for every explanation method that runs a model. Plain loops,
 * no pooling, no pruning tricks beyond the one the GPU executor documents (gradients flow only
 * toward the requested nodes), so that the two return the same set of results.
 */
import type { LayerSpec, ModelSpec, Pair, WeightData } from '../../src/model/spec.js';
import type { PadOptions } from '../../src/ops/pad.js';
import type { SliceWindow } from '../../src/ops/slice.js';
import { activationBackwardRef, activationDerivative, activationRef, clipBackwardRef, clipRef, preluBackwardRef, preluRef } from './activation.js';
import { addRef } from './add.js';
import { binaryBackwardRef, binaryRef } from './binary.js';
import { channelAffineBackwardRef, channelAffineRef } from './channel_affine.js';
import { concatBackwardRef, concatRef } from './concat.js';
import { conv2dBackwardRef, conv2dRef } from './conv2d.js';
import { denseBackwardRef, denseRef } from './dense.js';
import { depthwiseConv2dBackwardFilterRef, depthwiseConv2dBackwardInputRef, depthwiseConv2dRef } from './depthwise_conv2d.js';
import { padBackwardRef, padRef } from './pad.js';
// ops-layout
import { depthToSpaceBackwardRef, depthToSpaceRef, spaceToDepthBackwardRef, spaceToDepthRef } from './depth_to_space.js';
import { reduceAxesBackwardRef, reduceAxesRef } from './reduce_axes.js';
import { sliceBackwardRef, sliceRef } from './slice.js';
import { transposeBackwardRef, transposeRef } from './transpose.js';
import { avgPoolBackwardRef, avgPoolRef, globalAvgPoolBackwardRef, globalAvgPoolRef, maxPoolBackwardRef, maxPoolRef, type RefPoolOptions } from './pool.js';
import { sumToChannelsRef } from './reduce.js';
import { reshapeRef } from './reshape.js';
import { softmaxBackwardRef, softmaxRef } from './softmax.js';
import { refTensor, type RefTensor } from './tensor.js';
// ops-resize-conv
import { conv2dTransposeBackwardRef, conv2dTransposeRef, type Conv2dTransposeRefOptions } from './conv2d_transpose.js';
import { resizeBackwardRef, resizeRef, type ResizeRefOptions } from './resize.js';

/** Key of the model input's gradient, whatever the input node is called (the GPU executor's INPUT). */
export const REF_INPUT = 'input';

export interface ReferenceBackwardOptions {
  /** Nodes whose output gradients to return (`'input'` for the model input). Default ['input']. */
  to?: string[];
  /** Also return weight gradients (filter, bias, weights, scale, shift, alpha, lower, upper) of every layer the gradient passes. */
  weights?: boolean;
  /** 'guided': guided backpropagation, negative upstream gradients zeroed at every ReLU / ReLU6 (own or fused). */
  rule?: 'gradient' | 'guided';
}

export interface ReferenceBackwardResult {
  /** d score / d node output, by requested name. */
  gradients: Map<string, RefTensor>;
  /** layer name -> weight name -> gradient, when requested. */
  weights: Map<string, Record<string, RefTensor>>;
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const pair = (p: Pair): [number, number] => [p[0], p[1]];
const weight = (w: WeightData): RefTensor => refTensor(w.shape, w.data);
const optionalWeight = (w: WeightData | undefined) => (w ? weight(w) : undefined);

function convOptions(spec: Extract<LayerSpec, { kind: 'conv2d' | 'depthwiseConv2d' }>) {
  return { strides: pair(spec.strides), dilations: pair(spec.dilations), padding: spec.padding, activation: spec.activation };
}

function resizeOptions(spec: Extract<LayerSpec, { kind: 'resize' }>, x: RefTensor): ResizeRefOptions {
  const size: [number, number] = spec.size ? pair(spec.size) : [x.shape[1] * spec.factor![0], x.shape[2] * spec.factor![1]];
  return { method: spec.method, size, alignCorners: spec.alignCorners, halfPixelCenters: spec.halfPixelCenters };
}

/** Keras deconv_output_length, restated (not imported) as an independent oracle. */
function kerasDeconvLength(size: number, kernel: number, stride: number, dilation: number, padding: unknown, outputPadding?: number): number {
  const k = kernel + (kernel - 1) * (dilation - 1);
  if (outputPadding === undefined) return padding === 'valid' ? size * stride + Math.max(k - stride, 0) : size * stride;
  return (size - 1) * stride + k - 2 * (padding === 'same' ? Math.floor(k / 2) : 0) + outputPadding;
}

function conv2dTransposeOptions(spec: Extract<LayerSpec, { kind: 'conv2dTranspose' }>, x: RefTensor): Conv2dTransposeRefOptions {
  const [kh, kw] = spec.filter.shape;
  const outputSize: [number, number] = spec.outputSize
    ? pair(spec.outputSize)
    : [
      kerasDeconvLength(x.shape[1], kh, spec.strides[0], spec.dilations[0], spec.padding, spec.outputPadding?.[0]),
      kerasDeconvLength(x.shape[2], kw, spec.strides[1], spec.dilations[1], spec.padding, spec.outputPadding?.[1]),
    ];
  return { outputSize, strides: pair(spec.strides), dilations: pair(spec.dilations), padding: spec.padding, activation: spec.activation };
}

function poolOptions(spec: Extract<LayerSpec, { kind: 'maxPool' | 'avgPool' }>): RefPoolOptions {
  return { poolSize: pair(spec.poolSize), strides: pair(spec.strides), padding: spec.padding };
}

function zeroPadOptions(spec: Extract<LayerSpec, { kind: 'zeroPad' }>): PadOptions {
  return { paddings: [[0, 0], [spec.top, spec.bottom], [spec.left, spec.right], [0, 0]] };
}

// ops-layout
function layoutPadOptions(spec: Extract<LayerSpec, { kind: 'pad' }>): PadOptions {
  return { paddings: [[0, 0], ...spec.paddings], mode: spec.mode, value: spec.value };
}

function sliceWindow(spec: Extract<LayerSpec, { kind: 'slice' }>, shape: number[]): SliceWindow {
  return { begin: [0, ...spec.begin], size: [shape[0], ...spec.size], strides: [1, ...spec.strides] };
}

function cropWindow(spec: Extract<LayerSpec, { kind: 'crop' }>, [n, h, w, c]: number[]): SliceWindow {
  return { begin: [0, spec.top, spec.left, 0], size: [n, h - spec.top - spec.bottom, w - spec.left - spec.right, c], strides: [1, 1, 1, 1] };
}

const positiveAxes = (axes: number[], rank: number) => axes.map((a) => (a < 0 ? a + rank : a));

/** [N, ...target] with one -1 entry inferred from the element count (Keras Reshape / Flatten). */
function reshapeTarget(shape: number[], target: number[]): number[] {
  const full = [shape[0], ...target];
  const free = full.indexOf(-1);
  if (free >= 0) full[free] = product(shape) / -product(full);
  if (product(full) !== product(shape)) throw new Error(`reference: cannot reshape [${shape}] to [${full}]`);
  return full;
}

const axisOf = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function inputLayer(spec: ModelSpec): Extract<LayerSpec, { kind: 'input' }> {
  const inputs = spec.layers.filter((l) => l.kind === 'input');
  if (inputs.length !== 1) throw new Error(`reference: ${spec.source} has ${inputs.length} input layers`);
  return inputs[0] as Extract<LayerSpec, { kind: 'input' }>;
}

/** One layer's forward on its input values. */
export function layerForward(layer: LayerSpec, inputs: RefTensor[]): RefTensor {
  const [x] = inputs;
  switch (layer.kind) {
    case 'input':
      throw new Error('reference: input layers are fed, not run');
    case 'conv2d':
      return conv2dRef(x, weight(layer.filter), optionalWeight(layer.bias), convOptions(layer));
    case 'depthwiseConv2d':
      return depthwiseConv2dRef(x, weight(layer.filter), optionalWeight(layer.bias), convOptions(layer));
    case 'maxPool':
      return maxPoolRef(x, poolOptions(layer));
    case 'avgPool':
      return avgPoolRef(x, poolOptions(layer));
    case 'globalAvgPool': {
      const pooled = globalAvgPoolRef(x);
      return layer.keepDims ? reshapeRef(pooled, [x.shape[0], 1, 1, x.shape[3]]) : pooled;
    }
    case 'dense':
      return denseRef(x, weight(layer.weights), optionalWeight(layer.bias), layer.activation);
    case 'activation':
      return activationRef(x, layer.activation);
    case 'softmax':
      return softmaxRef(x);
    case 'add':
      return binaryRef('add', inputs[0], inputs[1]);
    case 'binary':
      return binaryRef(layer.op, inputs[0], inputs[1], layer.scale);
    case 'concat':
      return concatRef(inputs, axisOf(layer.axis, x.shape.length));
    case 'channelAffine':
      return channelAffineRef(x, weight(layer.scale), weight(layer.shift));
    case 'zeroPad':
      return padRef(x, zeroPadOptions(layer));
    case 'reshape':
      return reshapeRef(x, reshapeTarget(x.shape, layer.shape));
    case 'identity':
      return refTensor(x.shape, x.data);
    // ops-resize-conv
    case 'resize':
      return resizeRef(x, resizeOptions(layer, x));
    case 'conv2dTranspose':
      return conv2dTransposeRef(x, weight(layer.filter), optionalWeight(layer.bias), conv2dTransposeOptions(layer, x));
    // ops-layout
    case 'pad':
      return padRef(x, layoutPadOptions(layer));
    case 'slice':
      return sliceRef(x, sliceWindow(layer, x.shape));
    case 'crop':
      return sliceRef(x, cropWindow(layer, x.shape));
    case 'transpose':
      return transposeRef(x, layer.perm);
    case 'depthToSpace':
      return depthToSpaceRef(x, layer.blockSize);
    case 'spaceToDepth':
      return spaceToDepthRef(x, layer.blockSize);
    case 'reduce':
      return reduceAxesRef(x, layer.reduction, positiveAxes(layer.axes, x.shape.length), layer.keepDims);
    // ops-elementwise
    case 'prelu':
      return preluRef(x, weight(layer.alpha));
    case 'channelClip':
      return clipRef(x, weight(layer.lower), weight(layer.upper));
  }
}

/**
 * One layer's backward: d score / d each input, and d score / d each weight, from the layer's
 * inputs (recomputing what it needs) and dy = d score / d output.
 */
export function layerBackward(layer: LayerSpec, inputs: RefTensor[], dy: RefTensor): { inputs: RefTensor[]; weights: Record<string, RefTensor> } {
  const [x] = inputs;
  switch (layer.kind) {
    case 'input':
      return { inputs: [], weights: {} };
    case 'conv2d': {
      const g = conv2dBackwardRef(x, weight(layer.filter), optionalWeight(layer.bias), dy, convOptions(layer));
      return { inputs: [g.input], weights: layer.bias ? { filter: g.filter, bias: g.bias } : { filter: g.filter } };
    }
    case 'depthwiseConv2d': {
      // through the activation at the pre-activation z, then the (linear) depthwise transpose
      const options = convOptions(layer);
      const filter = weight(layer.filter);
      const z = depthwiseConv2dRef(x, filter, optionalWeight(layer.bias), { ...options, activation: 'linear' });
      const preGrad = refTensor(z.shape, z.data.map((v, i) => dy.data[i] * activationDerivative(v, layer.activation)));
      const input = depthwiseConv2dBackwardInputRef(preGrad, filter, x.shape, options);
      const filterGrad = depthwiseConv2dBackwardFilterRef(x, preGrad, filter.shape, options);
      return { inputs: [input], weights: layer.bias ? { filter: filterGrad, bias: sumToChannelsRef(preGrad) } : { filter: filterGrad } };
    }
    case 'maxPool':
      return { inputs: [maxPoolBackwardRef(x, dy, poolOptions(layer))], weights: {} };
    case 'avgPool':
      return { inputs: [avgPoolBackwardRef(dy, x.shape, poolOptions(layer))], weights: {} };
    case 'globalAvgPool':
      return { inputs: [globalAvgPoolBackwardRef(reshapeRef(dy, [x.shape[0], x.shape[3]]), x.shape)], weights: {} };
    case 'dense': {
      const g = denseBackwardRef(x, weight(layer.weights), optionalWeight(layer.bias), dy, layer.activation);
      return { inputs: [g.input], weights: layer.bias ? { weights: g.weights, bias: g.bias } : { weights: g.weights } };
    }
    case 'activation':
      return { inputs: [activationBackwardRef(x, dy, layer.activation)], weights: {} };
    case 'softmax':
      return { inputs: [softmaxBackwardRef(x, dy)], weights: {} };
    case 'add':
    case 'binary': {
      const g = binaryBackwardRef(layer.kind === 'add' ? 'add' : layer.op, inputs[0], inputs[1], dy, layer.kind === 'add' ? 1 : layer.scale);
      return { inputs: [g.a, g.b], weights: {} };
    }
    case 'concat':
      return { inputs: concatBackwardRef(dy, inputs.map((t) => t.shape), axisOf(layer.axis, x.shape.length)), weights: {} };
    case 'channelAffine': {
      const g = channelAffineBackwardRef(x, dy, weight(layer.scale));
      return { inputs: [g.input], weights: { scale: g.scale, shift: g.shift } };
    }
    case 'zeroPad':
      return { inputs: [padBackwardRef(dy, x.shape, zeroPadOptions(layer))], weights: {} };
    case 'reshape':
    case 'identity':
      return { inputs: [reshapeRef(dy, x.shape)], weights: {} };
    // ops-resize-conv
    case 'resize':
      return { inputs: [resizeBackwardRef(dy, x.shape, resizeOptions(layer, x))], weights: {} };
    case 'conv2dTranspose': {
      const g = conv2dTransposeBackwardRef(x, weight(layer.filter), optionalWeight(layer.bias), dy, conv2dTransposeOptions(layer, x));
      return { inputs: [g.input], weights: layer.bias ? { filter: g.filter, bias: g.bias } : { filter: g.filter } };
    }
    // ops-layout
    case 'pad':
      return { inputs: [padBackwardRef(dy, x.shape, layoutPadOptions(layer))], weights: {} };
    case 'slice':
      return { inputs: [sliceBackwardRef(dy, x.shape, sliceWindow(layer, x.shape))], weights: {} };
    case 'crop':
      return { inputs: [sliceBackwardRef(dy, x.shape, cropWindow(layer, x.shape))], weights: {} };
    case 'transpose':
      return { inputs: [transposeBackwardRef(dy, x.shape, layer.perm)], weights: {} };
    case 'depthToSpace':
      return { inputs: [depthToSpaceBackwardRef(dy, x.shape, layer.blockSize)], weights: {} };
    case 'spaceToDepth':
      return { inputs: [spaceToDepthBackwardRef(dy, x.shape, layer.blockSize)], weights: {} };
    case 'reduce':
      return { inputs: [reduceAxesBackwardRef(x, dy, layer.reduction, positiveAxes(layer.axes, x.shape.length))], weights: {} };
    // ops-elementwise
    case 'prelu': {
      const g = preluBackwardRef(x, weight(layer.alpha), dy);
      return { inputs: [g.input], weights: { alpha: g.alpha } };
    }
    case 'channelClip': {
      // the bounds are constants, not weights (src/model/layers/channel_clip.ts)
      return { inputs: [clipBackwardRef(x, weight(layer.lower), weight(layer.upper), dy).input], weights: {} };
    }
  }
}

/** Every node's output for input `x` [N, ...inputShape], by node name (the input node included). */
export function referenceForward(spec: ModelSpec, x: RefTensor): Map<string, RefTensor> {
  const input = inputLayer(spec);
  if (x.shape.length !== input.shape.length + 1 || input.shape.some((d, i) => d !== x.shape[i + 1])) {
    throw new Error(`reference: input [${x.shape}] does not match [N, ${input.shape}]`);
  }
  const values = new Map<string, RefTensor>();
  for (const layer of spec.layers) {
    if (layer.kind === 'input') {
      values.set(layer.name, x);
      continue;
    }
    const inputs = layer.inputs.map((name) => {
      const v = values.get(name);
      if (!v) throw new Error(`reference: '${layer.name}' reads '${name}', which is not defined before it`);
      return v;
    });
    values.set(layer.name, layerForward(layer, inputs));
  }
  return values;
}

/**
 * Backward from `seeds` (node -> d score / d that node's output) to the requested nodes and,
 * on request, to the weights. Gradients from several consumers of a node, and a seed on a node
 * that also receives gradient from downstream, add up. As in the GPU executor, gradient flows
 * only into nodes downstream of (or equal to) a requested node, so weight gradients come for the
 * layers between the requested nodes and the seeds.
 */
export function referenceBackward(spec: ModelSpec, x: RefTensor, seeds: Map<string, RefTensor>, options: ReferenceBackwardOptions = {}): ReferenceBackwardResult {
  const values = referenceForward(spec, x);
  const inputName = inputLayer(spec).name;
  const requested = options.to ?? [REF_INPUT];
  const resolve = (node: string) => (node === REF_INPUT ? inputName : node);
  const wanted = new Set(requested.map(resolve));
  for (const layer of spec.layers) if (layer.inputs.some((i) => wanted.has(i))) wanted.add(layer.name);

  const gradients = new Map<string, RefTensor>();
  const accumulate = (node: string, g: RefTensor) => {
    const previous = gradients.get(node);
    gradients.set(node, previous ? addRef(previous, g) : refTensor(g.shape, g.data));
  };
  for (const [node, seed] of seeds) {
    const value = values.get(node);
    if (!value) throw new Error(`reference: no node '${node}' to seed`);
    if (value.shape.join() !== seed.shape.join()) throw new Error(`reference: seed [${seed.shape}] for '${node}' of shape [${value.shape}]`);
    accumulate(node, seed);
  }

  const weights = new Map<string, Record<string, RefTensor>>();
  for (const layer of [...spec.layers].reverse()) {
    const dy = gradients.get(layer.name);
    if (!dy || layer.kind === 'input') continue;
    const wantInputs = layer.inputs.some((i) => wanted.has(i));
    const hasWeights = ['conv2d', 'depthwiseConv2d', 'dense', 'channelAffine', 'conv2dTranspose', 'prelu'].includes(layer.kind);
    if (!wantInputs && !(options.weights && hasWeights)) continue;
    // guided backpropagation: relu(dy) * act'(z) = (z > 0)(dy > 0) dy, Springenberg et al. 2015, Fig. 1
    const guided = options.rule === 'guided' && 'activation' in layer && (layer.activation === 'relu' || layer.activation === 'relu6');
    const upstream = guided ? refTensor(dy.shape, dy.data.map((v) => Math.max(v, 0))) : dy;
    const grads = layerBackward(layer, layer.inputs.map((i) => values.get(i)!), upstream);
    layer.inputs.forEach((name, i) => {
      if (wanted.has(name)) accumulate(name, grads.inputs[i]);
    });
    if (options.weights && hasWeights) weights.set(layer.name, grads.weights);
  }

  const result = new Map<string, RefTensor>();
  for (const node of requested) {
    const g = gradients.get(resolve(node));
    if (!g) throw new Error(`reference: no gradient reaches '${node}' from ${[...seeds.keys()].join(', ')}`);
    result.set(node, g);
  }
  return { gradients: result, weights };
}

/**
 * The seed of score = sum_n scale * sum_positions node[n, ..., targets[n]] for a node of `shape`:
 * `scale` at channel targets[n] of every position of item n, zero elsewhere (a one-hot per item
 * for logits; scale = 1 / positions for a channel's mean activation).
 */
export function scoreSeed(shape: number[], targets: number[], scale = 1): RefTensor {
  const batch = shape[0];
  const channels = shape[shape.length - 1];
  if (targets.length !== batch) throw new Error(`reference: ${targets.length} targets for a batch of ${batch}`);
  const seed = refTensor(shape);
  const perItem = seed.data.length / batch;
  for (let n = 0; n < batch; n++) {
    for (let i = targets[n]; i < perItem; i += channels) seed.data[n * perItem + i] = scale;
  }
  return seed;
}

/**
 * d/dx of sum_n scale * sum_positions node[n, ..., targets[n]]: what the gradient explanation
 * methods compute (src/explain/gradients.ts `scoreGradient`).
 */
export function referenceScoreGradient(spec: ModelSpec, x: RefTensor, node: string, targets: number[], scale = 1): RefTensor {
  const shape = referenceForward(spec, x).get(node)?.shape;
  if (!shape) throw new Error(`reference: no node '${node}'`);
  return referenceBackward(spec, x, new Map([[node, scoreSeed(shape, targets, scale)]])).gradients.get(REF_INPUT)!;
}
