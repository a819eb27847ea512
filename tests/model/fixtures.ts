/**
 * Small ModelSpecs built in code, with seeded random weights, for tests across the project (the
 * executor, the explanation methods, the components). Every builder takes a `random` source
 * (`seededRandom(seed)` or `randomSource().random` from tests/check.ts) so that a failing seed
 * replays. Layer names are part of the contract: tests target them ('conv1', 'conv2', 'logits',
 * 'probs', ...), so change them only together with their users.
 *
 * Weights are uniform in ±sqrt(6 / fanIn) (He-uniform), rounded to float32, so activations stay
 * of order one through every layer and the float64 reference sees exactly the GPU's weights.
 */
import type { Activation } from '../../src/ops/activation.js';
import type { BinaryOp } from '../../src/ops/binary.js';
import type { Padding } from '../../src/ops/shapes.js';
import type { LayerSpec, ModelSpec, WeightData } from '../../src/model/spec.js';
import { randomTensor, type RefTensor } from '../reference/tensor.js';

type Random = () => number;

/** Float32 weights uniform in [-scale, scale) plus `offset`. */
export function randomWeight(shape: number[], random: Random, scale: number, offset = 0): WeightData {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = offset + (random() * 2 - 1) * scale;
  return { shape, data };
}

const heUniform = (fanIn: number) => Math.sqrt(6 / fanIn);

/** Layer constructors with the defaults the fixtures use (stride 1, no dilation, bias on). */
export const build = {
  input: (name: string, shape: number[]): LayerSpec => ({ kind: 'input', name, inputs: [], shape }),

  conv2d(name: string, input: string, random: Random, o: { kernel: [number, number]; inChannels: number; outChannels: number; strides?: [number, number]; dilations?: [number, number]; padding: Padding; activation: Activation; bias?: boolean }): LayerSpec {
    const [kh, kw] = o.kernel;
    return {
      kind: 'conv2d', name, inputs: [input],
      filter: randomWeight([kh, kw, o.inChannels, o.outChannels], random, heUniform(kh * kw * o.inChannels)),
      bias: o.bias === false ? undefined : randomWeight([o.outChannels], random, 0.3),
      strides: o.strides ?? [1, 1], dilations: o.dilations ?? [1, 1], padding: o.padding, activation: o.activation,
    };
  },

  depthwiseConv2d(name: string, input: string, random: Random, o: { kernel: [number, number]; channels: number; multiplier: number; strides?: [number, number]; dilations?: [number, number]; padding: Padding; activation: Activation; bias?: boolean }): LayerSpec {
    const [kh, kw] = o.kernel;
    return {
      kind: 'depthwiseConv2d', name, inputs: [input],
      filter: randomWeight([kh, kw, o.channels, o.multiplier], random, heUniform(kh * kw)),
      bias: o.bias === false ? undefined : randomWeight([o.channels * o.multiplier], random, 0.3),
      strides: o.strides ?? [1, 1], dilations: o.dilations ?? [1, 1], padding: o.padding, activation: o.activation,
    };
  },

  dense(name: string, input: string, random: Random, o: { inputs: number; outputs: number; activation: Activation; bias?: boolean }): LayerSpec {
    return {
      kind: 'dense', name, inputs: [input],
      weights: randomWeight([o.inputs, o.outputs], random, heUniform(o.inputs)),
      bias: o.bias === false ? undefined : randomWeight([o.outputs], random, 0.3),
      activation: o.activation,
    };
  },

  /** Inference batch norm folded to y = x * scale + shift: scale = gamma / sqrt(var + eps) in [0.5, 1.5), shift = beta - mean * scale in [-0.3, 0.3). */
  channelAffine(name: string, input: string, random: Random, channels: number): LayerSpec {
    return { kind: 'channelAffine', name, inputs: [input], scale: randomWeight([channels], random, 0.5, 1), shift: randomWeight([channels], random, 0.3) };
  },

  maxPool: (name: string, input: string, size: number, padding: Padding, stride = size): LayerSpec => ({ kind: 'maxPool', name, inputs: [input], poolSize: [size, size], strides: [stride, stride], padding }),
  avgPool: (name: string, input: string, size: number, padding: Padding, stride = size): LayerSpec => ({ kind: 'avgPool', name, inputs: [input], poolSize: [size, size], strides: [stride, stride], padding }),
  globalAvgPool: (name: string, input: string, keepDims = false): LayerSpec => ({ kind: 'globalAvgPool', name, inputs: [input], keepDims }),
  activation: (name: string, input: string, activation: Activation): LayerSpec => ({ kind: 'activation', name, inputs: [input], activation }),
  softmax: (name: string, input: string): LayerSpec => ({ kind: 'softmax', name, inputs: [input] }),
  add: (name: string, a: string, b: string): LayerSpec => ({ kind: 'add', name, inputs: [a, b] }),
  zeroPad: (name: string, input: string, top: number, bottom: number, left: number, right: number): LayerSpec => ({ kind: 'zeroPad', name, inputs: [input], top, bottom, left, right }),
  /** Target shape without the batch; one entry may be -1. */
  reshape: (name: string, input: string, shape: number[]): LayerSpec => ({ kind: 'reshape', name, inputs: [input], shape }),
  identity: (name: string, input: string): LayerSpec => ({ kind: 'identity', name, inputs: [input] }),
  binary: (name: string, op: BinaryOp, a: string, b: string, scale?: number): LayerSpec => ({ kind: 'binary', op, name, inputs: [a, b], ...(scale === undefined ? {} : { scale }) }),
  concat: (name: string, inputs: string[], axis: number): LayerSpec => ({ kind: 'concat', name, inputs, axis }),
};

/**
 * tinyCnn: the smallest classifier with every piece a saliency or Grad-CAM test needs.
 *
 * | node      | kind                                         | output [N, ...] |
 * |-----------|----------------------------------------------|-----------------|
 * | `input`   | input                                        | [N, 9, 7, 3]    |
 * | `conv1`   | conv2d 3x3 same, ReLU, 4 ch, bias            | [N, 9, 7, 4]    |
 * | `pool1`   | maxPool 2x2 stride 2 same (ragged last row/col) | [N, 5, 4, 4] |
 * | `conv2`   | conv2d 3x3 valid, ReLU6, 6 ch, bias          | [N, 3, 2, 6]    |
 * | `flatten` | reshape [-1]                                 | [N, 36]         |
 * | `logits`  | dense 36 -> 5, linear, bias                  | [N, 5]          |
 * | `probs`   | softmax (model output)                       | [N, 5]          |
 *
 * conv2's channel 0 has bias +5.5 so that some of its pre-activations pass ReLU6's upper kink at 6;
 * the logits weights reading that channel (flatten index % 6 == 0) are divided by 6 so that it does
 * not dominate the logits (which stay of order one: the softmax does not saturate).
 */
export function tinyCnn(random: Random): ModelSpec {
  const conv2 = build.conv2d('conv2', 'pool1', random, { kernel: [3, 3], inChannels: 4, outChannels: 6, padding: 'valid', activation: 'relu6' }) as Extract<LayerSpec, { kind: 'conv2d' }>;
  conv2.bias!.data[0] += 5.5;
  const logits = build.dense('logits', 'flatten', random, { inputs: 36, outputs: 5, activation: 'linear' }) as Extract<LayerSpec, { kind: 'dense' }>;
  for (let i = 0; i < logits.weights.data.length; i++) if (Math.floor(i / 5) % 6 === 0) logits.weights.data[i] /= 6;
  return {
    source: 'tinyCnn (tests/model/fixtures.ts)',
    layers: [
      build.input('input', [9, 7, 3]),
      build.conv2d('conv1', 'input', random, { kernel: [3, 3], inChannels: 3, outChannels: 4, padding: 'same', activation: 'relu' }),
      build.maxPool('pool1', 'conv1', 2, 'same'),
      conv2,
      build.reshape('flatten', 'conv2', [-1]),
      logits,
      build.softmax('probs', 'logits'),
    ],
    output: 'probs',
    labels: ['a', 'b', 'c', 'd', 'e'],
  };
}

/**
 * residualCnn: a MobileNet/ResNet-style block. The input node is called `image` (not 'input'),
 * so tests also check that the executor's INPUT resolves to it.
 *
 * | node     | kind                                                   | output [N, ...] |
 * |----------|--------------------------------------------------------|-----------------|
 * | `image`  | input                                                  | [N, 8, 8, 3]    |
 * | `pad`    | zeroPad top 1, bottom 2, left 1, right 0               | [N, 11, 9, 3]   |
 * | `conv1`  | conv2d 3x3 valid stride 2, linear, 8 ch, no bias       | [N, 5, 4, 8]    |
 * | `bn1`    | channelAffine (folded batch norm)                      | [N, 5, 4, 8]    |
 * | `relu1`  | activation ReLU (feeds `dwconv` and `add`)             | [N, 5, 4, 8]    |
 * | `dwconv` | depthwiseConv2d 3x3 same, multiplier 1, ReLU6, bias    | [N, 5, 4, 8]    |
 * | `bn2`    | channelAffine                                          | [N, 5, 4, 8]    |
 * | `add`    | add(relu1, bn2): the residual connection               | [N, 5, 4, 8]    |
 * | `relu2`  | activation ReLU: the last conv feature map (Grad-CAM)  | [N, 5, 4, 8]    |
 * | `gap`    | globalAvgPool                                          | [N, 8]          |
 * | `logits` | dense 8 -> 4, linear, bias                             | [N, 4]          |
 * | `probs`  | softmax (model output)                                 | [N, 4]          |
 */
export function residualCnn(random: Random): ModelSpec {
  return {
    source: 'residualCnn (tests/model/fixtures.ts)',
    layers: [
      build.input('image', [8, 8, 3]),
      build.zeroPad('pad', 'image', 1, 2, 1, 0),
      build.conv2d('conv1', 'pad', random, { kernel: [3, 3], inChannels: 3, outChannels: 8, strides: [2, 2], padding: 'valid', activation: 'linear', bias: false }),
      build.channelAffine('bn1', 'conv1', random, 8),
      build.activation('relu1', 'bn1', 'relu'),
      build.depthwiseConv2d('dwconv', 'relu1', random, { kernel: [3, 3], channels: 8, multiplier: 1, padding: 'same', activation: 'relu6' }),
      build.channelAffine('bn2', 'dwconv', random, 8),
      build.add('add', 'relu1', 'bn2'),
      build.activation('relu2', 'add', 'relu'),
      build.globalAvgPool('gap', 'relu2'),
      build.dense('logits', 'gap', random, { inputs: 8, outputs: 4, activation: 'linear' }),
      build.softmax('probs', 'logits'),
    ],
    output: 'probs',
  };
}

/**
 * sigmoidHead: a binary classifier ending in dense(1) + sigmoid, and the remaining layer kinds
 * and options (dilation, fused sigmoid, average pooling, depthwise multiplier 2 with stride 2,
 * keepDims, identity, a fused-ReLU dense).
 *
 * | node       | kind                                                  | output [N, ...] |
 * |------------|-------------------------------------------------------|-----------------|
 * | `input`    | input                                                 | [N, 10, 8, 2]   |
 * | `conv1`    | conv2d 3x3 same dilation 2, sigmoid, 3 ch, bias       | [N, 10, 8, 3]   |
 * | `pool1`    | avgPool 3x3 stride 2 same (partial edge windows)      | [N, 5, 4, 3]    |
 * | `dwconv`   | depthwiseConv2d 3x3 same stride 2, multiplier 2, ReLU | [N, 3, 2, 6]    |
 * | `gap`      | globalAvgPool keepDims                                | [N, 1, 1, 6]    |
 * | `flatten`  | reshape [-1]                                          | [N, 6]          |
 * | `features` | identity                                              | [N, 6]          |
 * | `hidden`   | dense 6 -> 5, ReLU, bias (+0.5: most units alive)     | [N, 5]          |
 * | `logits`   | dense 5 -> 1, linear, bias                            | [N, 1]          |
 * | `probs`    | activation sigmoid (model output)                     | [N, 1]          |
 */
export function sigmoidHead(random: Random): ModelSpec {
  const hidden = build.dense('hidden', 'features', random, { inputs: 6, outputs: 5, activation: 'relu' }) as Extract<LayerSpec, { kind: 'dense' }>;
  for (let i = 0; i < 5; i++) hidden.bias!.data[i] += 0.5;
  return {
    source: 'sigmoidHead (tests/model/fixtures.ts)',
    layers: [
      build.input('input', [10, 8, 2]),
      build.conv2d('conv1', 'input', random, { kernel: [3, 3], inChannels: 2, outChannels: 3, dilations: [2, 2], padding: 'same', activation: 'sigmoid' }),
      build.avgPool('pool1', 'conv1', 3, 'same', 2),
      build.depthwiseConv2d('dwconv', 'pool1', random, { kernel: [3, 3], channels: 3, multiplier: 2, strides: [2, 2], padding: 'same', activation: 'relu' }),
      build.globalAvgPool('gap', 'dwconv', true),
      build.reshape('flatten', 'gap', [-1]),
      build.identity('features', 'flatten'),
      hidden,
      build.dense('logits', 'hidden', random, { inputs: 5, outputs: 1, activation: 'linear' }),
      build.activation('probs', 'logits', 'sigmoid'),
    ],
    output: 'probs',
    labels: ['positive'],
  };
}

/**
 * diamondCnn: a DAG where nodes feed several consumers, for gradient accumulation.
 * `conv1` feeds `left`, `right` and `skip`; `merge` adds `left` and `right`; `sum` adds `merge` and `skip`.
 *
 * | node     | kind                                              | output [N, ...] |
 * |----------|---------------------------------------------------|-----------------|
 * | `input`  | input                                             | [N, 6, 5, 2]    |
 * | `conv1`  | conv2d 3x3 same, ReLU, 4 ch                       | [N, 6, 5, 4]    |
 * | `left`   | conv2d 1x1, linear, 4 ch                          | [N, 6, 5, 4]    |
 * | `right`  | depthwiseConv2d 3x3 same, multiplier 1, sigmoid   | [N, 6, 5, 4]    |
 * | `merge`  | add(left, right)                                  | [N, 6, 5, 4]    |
 * | `skip`   | channelAffine(conv1)                              | [N, 6, 5, 4]    |
 * | `sum`    | add(merge, skip)                                  | [N, 6, 5, 4]    |
 * | `gap`    | globalAvgPool                                     | [N, 4]          |
 * | `logits` | dense 4 -> 3, linear                              | [N, 3]          |
 * | `probs`  | softmax (model output)                            | [N, 3]          |
 */
export function diamondCnn(random: Random): ModelSpec {
  return {
    source: 'diamondCnn (tests/model/fixtures.ts)',
    layers: [
      build.input('input', [6, 5, 2]),
      build.conv2d('conv1', 'input', random, { kernel: [3, 3], inChannels: 2, outChannels: 4, padding: 'same', activation: 'relu' }),
      build.conv2d('left', 'conv1', random, { kernel: [1, 1], inChannels: 4, outChannels: 4, padding: 'valid', activation: 'linear' }),
      build.depthwiseConv2d('right', 'conv1', random, { kernel: [3, 3], channels: 4, multiplier: 1, padding: 'same', activation: 'sigmoid' }),
      build.add('merge', 'left', 'right'),
      build.channelAffine('skip', 'conv1', random, 4),
      build.add('sum', 'merge', 'skip'),
      build.globalAvgPool('gap', 'sum'),
      build.dense('logits', 'gap', random, { inputs: 4, outputs: 3, activation: 'linear' }),
      build.softmax('probs', 'logits'),
    ],
    output: 'probs',
  };
}

/**
 * decoderCnn (ops-resize-conv): resizing and transposed convolution, the upsampling path of
 * segmentation and autoencoder heads.
 *
 * | node      | kind                                                              | output [N, ...] |
 * |-----------|-------------------------------------------------------------------|-----------------|
 * | `input`   | input                                                             | [N, 6, 5, 2]    |
 * | `conv1`   | conv2d 3x3 same stride 2, ReLU, 4 ch                              | [N, 3, 3, 4]    |
 * | `up`      | resize bilinear x2 (factor), half_pixel_centers                   | [N, 6, 6, 4]    |
 * | `deconv`  | conv2dTranspose 3x3 stride 2 same, ReLU, 3 ch (Keras output size) | [N, 12, 12, 3]  |
 * | `nearest` | resize nearest to 7x9, align_corners                              | [N, 7, 9, 3]    |
 * | `flatten` | reshape                                                           | [N, 189]        |
 * | `logits`  | dense 189 -> 3, linear                                            | [N, 3]          |
 * | `probs`   | softmax (model output)                                            | [N, 3]          |
 */
export function decoderCnn(random: Random): ModelSpec {
  return {
    source: 'decoderCnn (tests/model/fixtures.ts)',
    layers: [
      build.input('input', [6, 5, 2]),
      build.conv2d('conv1', 'input', random, { kernel: [3, 3], inChannels: 2, outChannels: 4, strides: [2, 2], padding: 'same', activation: 'relu' }),
      { kind: 'resize', name: 'up', inputs: ['conv1'], method: 'bilinear', factor: [2, 2], alignCorners: false, halfPixelCenters: true },
      {
        kind: 'conv2dTranspose', name: 'deconv', inputs: ['up'],
        filter: randomWeight([3, 3, 3, 4], random, heUniform(9 * 4)), bias: randomWeight([3], random, 0.3),
        strides: [2, 2], dilations: [1, 1], padding: 'same', activation: 'relu',
      },
      { kind: 'resize', name: 'nearest', inputs: ['deconv'], method: 'nearest', size: [7, 9], alignCorners: true, halfPixelCenters: false },
      build.reshape('flatten', 'nearest', [-1]),
      build.dense('logits', 'flatten', random, { inputs: 189, outputs: 3, activation: 'linear' }),
      build.softmax('probs', 'logits'),
    ],
    output: 'probs',
  };
}

/**
 * mergeCnn (ops-binary): multi-input layers. Channel and height concatenation, a
 * squeeze-and-excitation multiply, and broadcast sub / minimum / maximum / scaled add.
 *
 * | node      | kind                                              | output [N, ...] |
 * |-----------|---------------------------------------------------|-----------------|
 * | `input`   | input                                             | [N, 7, 6, 2]    |
 * | `conv1`   | conv2d 3x3 same, ReLU, 4 ch                       | [N, 7, 6, 4]    |
 * | `branch`  | conv2d 1x1, linear, 3 ch (reads the input)        | [N, 7, 6, 3]    |
 * | `cat`     | concat(conv1, branch) axis -1                     | [N, 7, 6, 7]    |
 * | `squeeze` | globalAvgPool keepDims                            | [N, 1, 1, 7]    |
 * | `gate`    | activation sigmoid                                | [N, 1, 1, 7]    |
 * | `excite`  | binary mul(cat, gate): broadcast over H, W        | [N, 7, 6, 7]    |
 * | `tall`    | concat(excite, cat) axis 1                        | [N, 14, 6, 7]   |
 * | `conv2`   | conv2d 3x3 valid stride 2, linear, 4 ch           | [N, 6, 2, 4]    |
 * | `mean2`   | globalAvgPool keepDims                            | [N, 1, 1, 4]    |
 * | `diff`    | binary sub(conv2, mean2)                          | [N, 6, 2, 4]    |
 * | `low`     | binary minimum(diff, conv2)                       | [N, 6, 2, 4]    |
 * | `high`    | binary maximum(low, mean2)                        | [N, 6, 2, 4]    |
 * | `average` | binary add(high, diff), scale 0.5                 | [N, 6, 2, 4]    |
 * | `gap`     | globalAvgPool                                     | [N, 4]          |
 * | `logits`  | dense 4 -> 3, linear                              | [N, 3]          |
 * | `probs`   | softmax (model output)                            | [N, 3]          |
 */
export function mergeCnn(random: Random): ModelSpec {
  return {
    source: 'mergeCnn (tests/model/fixtures.ts)',
    layers: [
      build.input('input', [7, 6, 2]),
      build.conv2d('conv1', 'input', random, { kernel: [3, 3], inChannels: 2, outChannels: 4, padding: 'same', activation: 'relu' }),
      build.conv2d('branch', 'input', random, { kernel: [1, 1], inChannels: 2, outChannels: 3, padding: 'valid', activation: 'linear' }),
      build.concat('cat', ['conv1', 'branch'], -1),
      build.globalAvgPool('squeeze', 'cat', true),
      build.activation('gate', 'squeeze', 'sigmoid'),
      build.binary('excite', 'mul', 'cat', 'gate'),
      build.concat('tall', ['excite', 'cat'], 1),
      build.conv2d('conv2', 'tall', random, { kernel: [3, 3], inChannels: 7, outChannels: 4, strides: [2, 2], padding: 'valid', activation: 'linear' }),
      build.globalAvgPool('mean2', 'conv2', true),
      build.binary('diff', 'sub', 'conv2', 'mean2'),
      build.binary('low', 'minimum', 'diff', 'conv2'),
      build.binary('high', 'maximum', 'low', 'mean2'),
      build.binary('average', 'add', 'high', 'diff', 0.5),
      build.globalAvgPool('gap', 'average'),
      build.dense('logits', 'gap', random, { inputs: 4, outputs: 3, activation: 'linear' }),
      build.softmax('probs', 'logits'),
    ],
    output: 'probs',
  };
}

/** The input layer's shape without the batch. */
export function inputShapeOf(spec: ModelSpec): number[] {
  const input = spec.layers.find((l) => l.kind === 'input') as Extract<LayerSpec, { kind: 'input' }> | undefined;
  if (!input) throw new Error(`${spec.source} has no input layer`);
  return input.shape;
}

/** A float32-rounded input batch [batch, ...inputShape] uniform in [-scale, scale). */
export function randomInput(spec: ModelSpec, batch: number, random: Random, scale = 1): RefTensor {
  return randomTensor([batch, ...inputShapeOf(spec)], random, scale);
}

/** Every fixture by name, for tests that run over all of them. */
export const FIXTURES: Record<string, (random: Random) => ModelSpec> = { tinyCnn, residualCnn, sigmoidHead, diamondCnn };

/**
 * reluCnn: a plain ReLU network with small conv biases, so that a straight path from a black
 * image crosses few ReLU kinks: Integrated Gradients' completeness converges visibly with steps.
 *
 * | node     | kind                                  | output [N, ...] |
 * |----------|---------------------------------------|-----------------|
 * | `input`  | input                                 | [N, 12, 10, 3]  |
 * | `conv1`  | conv2d 3x3 same, ReLU, 8 ch           | [N, 12, 10, 8]  |
 * | `conv2`  | conv2d 3x3 same, ReLU, 8 ch           | [N, 12, 10, 8]  |
 * | `gap`    | globalAvgPool                         | [N, 8]          |
 * | `logits` | dense 8 -> 3, linear                  | [N, 3]          |
 * | `probs`  | softmax (model output)                | [N, 3]          |
 */
export function reluCnn(random: Random): ModelSpec {
  const conv = (name: string, input: string, inChannels: number) => {
    const layer = build.conv2d(name, input, random, { kernel: [3, 3], inChannels, outChannels: 8, padding: 'same', activation: 'relu' }) as Extract<LayerSpec, { kind: 'conv2d' }>;
    layer.bias = randomWeight([8], random, 0.05);
    return layer;
  };
  return {
    source: 'reluCnn (tests/model/fixtures.ts)',
    layers: [
      build.input('input', [12, 10, 3]),
      conv('conv1', 'input', 3),
      conv('conv2', 'conv1', 8),
      { kind: 'globalAvgPool', name: 'gap', inputs: ['conv2'], keepDims: false },
      build.dense('logits', 'gap', random, { inputs: 8, outputs: 3, activation: 'linear' }),
      build.softmax('probs', 'logits'),
    ],
    output: 'probs',
  };
}
