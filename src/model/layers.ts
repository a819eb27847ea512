/**
 * What each layer kind means to the executor: output shape, forward, backward (to its inputs and,
 * on request, to its weights), what the backward needs kept from the forward, and FLOPs.
 * Shapes here exclude nothing: they are full NHWC shapes with the batch first.
 *
 * One row of `LAYER_KINDS` per kind; each kind's factory lives in `layers/<kind>.ts`. Adding a
 * kind is one entry in `LayerSpec` (spec.ts), one file and one row here.
 */
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import type { BackwardRule } from '../ops/activation.js';
import { activationLayer } from './layers/activation.js';
import { binaryLayer } from './layers/binary.js';
import { channelAffineLayer } from './layers/channel_affine.js';
import { channelClipLayer } from './layers/channel_clip.js';
import { concatLayer } from './layers/concat.js';
import { convLayer } from './layers/conv.js';
import { denseLayer } from './layers/dense.js';
import { globalAvgPoolLayer } from './layers/global_avg_pool.js';
import { inputLayer } from './layers/input.js';
import { poolLayer } from './layers/pool.js';
import { preluLayer } from './layers/prelu.js';
import { identityLayer, reshapeLayer } from './layers/reshape.js';
import { softmaxLayer } from './layers/softmax.js';
import { zeroPadLayer } from './layers/zero_pad.js';
// ops-resize-conv
import { conv2dTransposeLayer } from './layers/conv2d_transpose.js';
import { resizeLayer } from './layers/resize.js';
// ops-layout
import { depthToSpaceLayer, spaceToDepthLayer } from './layers/depth_to_space.js';
import { padLayer } from './layers/pad.js';
import { reduceLayer } from './layers/reduce.js';
import { cropLayer, sliceLayer } from './layers/slice.js';
import { transposeLayer } from './layers/transpose.js';
import type { LayerKind, LayerSpec } from './spec.js';

/** Values a layer's backward may use, kept from its forward when `saves` asks for them. */
export interface ForwardRecord {
  inputs: Tensor[];
  output: Tensor;
  inputShapes: Shape[];
}

export interface LayerGradients {
  /** One per input; undefined where not requested. */
  inputs: (Tensor | undefined)[];
  /** By weight name (filter, bias, weights, scale, shift, alpha), when requested. */
  weights: Record<string, Tensor>;
}

export interface Layer {
  readonly spec: LayerSpec;
  /** GPU copies of the trainable weights, by name: what training updates, model randomization redraws and the backward's `weights` returns. */
  readonly weights: Record<string, Tensor>;
  /** GPU copies of constants the layer reads that are no weights (a clip's bounds): freed with the model, never trained. */
  readonly constants?: Record<string, Tensor>;
  /** Which forward values the backward reads. */
  readonly saves: { inputs: boolean; output: boolean };
  outputShape(inputShapes: Shape[]): Shape;
  forward(rt: Runtime, inputs: Tensor[]): Tensor;
  /** `rule` (default 'gradient') reaches the layers with a ReLU: activation layers and fused activations. */
  backward(rt: Runtime, record: ForwardRecord, dy: Tensor, want: { inputs: boolean; weights: boolean; rule?: BackwardRule }): LayerGradients;
  /** Multiply-adds count as two FLOPs. */
  flops(inputShapes: Shape[]): number;
}

/** The spec of one layer kind. */
export type SpecOf<K extends LayerKind> = Extract<LayerSpec, { kind: K }>;

/** Builds the executor's layer (weights uploaded) from its spec. */
export type LayerFactory<K extends LayerKind> = (rt: Runtime, spec: SpecOf<K>) => Layer;

/** Every layer kind the executor runs. */
export const LAYER_KINDS: { readonly [K in LayerKind]: LayerFactory<K> } = {
  input: inputLayer,
  conv2d: convLayer,
  depthwiseConv2d: convLayer,
  maxPool: poolLayer,
  avgPool: poolLayer,
  globalAvgPool: globalAvgPoolLayer,
  dense: denseLayer,
  activation: activationLayer,
  softmax: softmaxLayer,
  add: binaryLayer,
  channelAffine: channelAffineLayer,
  zeroPad: zeroPadLayer,
  reshape: reshapeLayer,
  identity: identityLayer,
  // ops-resize-conv
  resize: resizeLayer,
  conv2dTranspose: conv2dTransposeLayer,
  // ops-layout: data movement and reductions
  pad: padLayer,
  slice: sliceLayer,
  crop: cropLayer,
  transpose: transposeLayer,
  depthToSpace: depthToSpaceLayer,
  spaceToDepth: spaceToDepthLayer,
  reduce: reduceLayer,
  // ops-elementwise
  prelu: preluLayer,
  channelClip: channelClipLayer,
  // ops-binary
  binary: binaryLayer,
  concat: concatLayer,
};

/**
 * Layer kinds DeepLIFT's rescale rule cannot pass, with the reason; every other kind is linear
 * (its gradient is its multiplier) or applies the rule in its backward (activations, fused
 * activations, PReLU, channel clips, max pooling).
 */
const RESCALE_REFUSALS: { readonly [K in LayerKind]?: (spec: SpecOf<K>) => string | undefined } = {
  softmax: () => 'softmax couples the channels of a row, and the rescale rule has a multiplier for elementwise functions only: explain the pre-softmax logits (score \'logit\', the default) instead',
  binary: (spec) => (spec.op === 'add' || spec.op === 'sub' ? undefined : `a ${spec.op} of two computed tensors (a gate, as in squeeze-and-excitation) is not linear and has no rescale multiplier (DeepLIFT's rules for products are not implemented)`),
  reduce: (spec) => (spec.reduction === 'max' ? 'a max over whole axes has no rescale rule here (max pooling has Captum\'s)' : undefined),
};

/** Why the rescale rule cannot pass `spec`, or undefined when it can. */
export function rescaleRefusal(spec: LayerSpec): string | undefined {
  const refuse = RESCALE_REFUSALS[spec.kind] as ((s: LayerSpec) => string | undefined) | undefined;
  return refuse?.(spec);
}

export function createLayer(rt: Runtime, spec: LayerSpec): Layer {
  const factory = LAYER_KINDS[spec.kind] as LayerFactory<LayerKind>;
  return factory(rt, spec as SpecOf<LayerKind>);
}
