/**
 * The model description every loader produces and code can build directly: a DAG of layers in
 * topological order, weights as CPU float32 arrays in TensorFlow's layouts. One executor
 * (`Model`) runs all of them; there is no per-format execution path.
 */
import type { Activation, ActivationFunction } from '../ops/activation.js';
import type { BinaryOp } from '../ops/binary.js';
import type { PadMode } from '../ops/pad.js';
import type { Reduction } from '../ops/reduce_axes.js';
import type { ResizeMethod } from '../ops/resize.js';
import type { ExplicitPadding, Padding } from '../ops/shapes.js';

export type Pair = readonly [number, number];

export interface WeightData {
  shape: number[];
  data: Float32Array;
  /** The weight's name in the model's files, when a loader read it from them unchanged (for messages). */
  source?: string;
}

interface Base {
  /** Unique node name (Keras layer name or graph node name). */
  name: string;
  /** Names of the nodes feeding this one, in argument order. */
  inputs: string[];
}

export type LayerSpec = Base &
  (
    | { kind: 'input'; shape: number[] }
    | { kind: 'conv2d'; filter: WeightData; bias?: WeightData; strides: Pair; dilations: Pair; padding: Padding; activation: Activation }
    | { kind: 'depthwiseConv2d'; filter: WeightData; bias?: WeightData; strides: Pair; dilations: Pair; padding: Padding; activation: Activation }
    | { kind: 'maxPool'; poolSize: Pair; strides: Pair; padding: Padding }
    | { kind: 'avgPool'; poolSize: Pair; strides: Pair; padding: Padding }
    | { kind: 'globalAvgPool'; keepDims: boolean }
    | { kind: 'dense'; weights: WeightData; bias?: WeightData; activation: Activation }
    | { kind: 'activation'; activation: ActivationFunction }
    | { kind: 'softmax' }
    | { kind: 'add' } // a + b, broadcast like binary 'add'
    | { kind: 'channelAffine'; scale: WeightData; shift: WeightData }
    | { kind: 'zeroPad'; top: number; bottom: number; left: number; right: number }
    | { kind: 'reshape'; shape: number[] }
    | { kind: 'identity' }
    // ops-resize-conv: resizing (ResizeBilinear / ResizeNearestNeighbor / UpSampling2D) and the transposed convolution
    /** Output [height, width]: `size`, or the input's times `factor` (UpSampling2D); exactly one of the two. */
    | { kind: 'resize'; method: ResizeMethod; size?: Pair; factor?: Pair; alignCorners: boolean; halfPixelCenters: boolean }
    /**
     * filter [KH, KW, out, in] (TF's and Keras's layout). Output [height, width]: `outputSize`
     * (Conv2DBackpropInput's input_sizes), or when absent Keras Conv2DTranspose's size for the input
     * (deconv_output_length, with `outputPadding` when the layer sets output_padding).
     */
    | { kind: 'conv2dTranspose'; filter: WeightData; bias?: WeightData; outputSize?: Pair; outputPadding?: Pair; strides: Pair; dilations: Pair; padding: Padding | ExplicitPadding; activation: Activation }
    // ---- ops-layout: data movement and reductions (axes count the batch as 0; it is never moved)
    /** One [before, after] per axis after the batch. */
    | { kind: 'pad'; paddings: Pair[]; mode: PadMode; value: number }
    /** Per axis after the batch: first index, count, step (negative walks backwards). */
    | { kind: 'slice'; begin: number[]; size: number[]; strides: number[] }
    /** Cropping of H and W (Keras Cropping2D): rows and columns removed from each side. */
    | { kind: 'crop'; top: number; bottom: number; left: number; right: number }
    /** TF's perm over every axis; perm[0] must be 0. */
    | { kind: 'transpose'; perm: number[] }
    | { kind: 'depthToSpace'; blockSize: number }
    | { kind: 'spaceToDepth'; blockSize: number }
    /** Adjacent axes (>= 1) of the input; keepDims keeps them as 1. */
    | { kind: 'reduce'; reduction: Reduction; axes: number[]; keepDims: boolean }
    // ops-elementwise
    | { kind: 'prelu'; alpha: WeightData }
    /** clamp(x, lower, upper) with bounds per channel (Maximum / Minimum of a constant vector). */
    | { kind: 'channelClip'; lower: WeightData; upper: WeightData }
    // ops-binary: multi-input ops (broadcast binary ops: scale multiplies the result, 1 / n in a Keras Average)
    | { kind: 'binary'; op: BinaryOp; scale?: number }
    | { kind: 'concat'; axis: number }
  );

export type LayerKind = LayerSpec['kind'];

export interface ModelSpec {
  /** Where it came from, for messages ("model.json (TF.js Layers)"). */
  source: string;
  layers: LayerSpec[];
  /** The node whose value the model returns (probabilities or logits). */
  output: string;
  /** Class names, when the model ships them. */
  labels?: string[];
}
