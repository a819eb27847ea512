/**
 * The Keras application families in miniature (issue 11's proof): each network's characteristic
 * blocks built with the TF.js Layers API at 32x32x3 and a few channels, saved to model.json
 * (tf.io.withSaveHandler), loaded by the engine and compared with TF.js on its CPU backend on a
 * photo and on noise (one batch of two): logits to relative L2 <= 1e-5, and the input gradients of
 * the top logit and of the top probability to <= 1e-4.
 *
 * | family         | blocks                                                                     |
 * |----------------|----------------------------------------------------------------------------|
 * | VGG16          | conv3x3 pairs, max pools, flatten, dense relu, dense tanh, dense softmax   |
 * | ResNet50V2     | zero-pad stem, max pool, pre-activation bottlenecks (BN, ReLU before conv), projection shortcut, Add |
 * | InceptionV3    | conv-BN(scale=False)-ReLU branches 1x1 / 1x3+3x1 / avg pool 3x3 same, Concatenate |
 * | DenseNet       | dense blocks (BN-ReLU-conv1x1-BN-ReLU-conv3x3, Concatenate), transition with avg pool |
 * | Xception       | SeparableConv2D, strided 1x1 shortcut, Add, GlobalMaxPooling2D             |
 * | EfficientNetB0 | Rescaling, MBConv: expand, swish, depthwise, squeeze-excitation (GAP, Reshape to 1x1, Multiply), project, Add |
 * | MobileNetV3    | hard-swish = x * ReLU6(x + 3) / 6 (Rescaling, ReLU(6), Multiply), hard-sigmoid SE, pooled 1x1 conv head, Activation softmax |
 *
 * The layers some families need come from other branches: a family in PENDING must be refused
 * with UnsupportedModelError naming what it lacks (`needs`); the others must agree. Once the op
 * branches are merged, PENDING is emptied.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { filesFromMemory, UnsupportedModelError } from '../../src/model/loaders/files.js';
import { loadLayersModel } from '../../src/model/loaders/layers_model.js';
import { INPUT, Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { relativeL2 } from '../reference/tensor.js';
import { photoTensor, SKIMAGE_DATA } from './photo.js';
import { useCpuBackend } from './tfjs_oracle.js';
import { save, type Saved } from './tfjs_save.js';

type Json = Record<string, any>;
type T = tf.SymbolicTensor;

const SIZE = 32;
const CLASSES = 5;
const LOGIT_TOLERANCE = 1e-5;
const GRADIENT_TOLERANCE = 1e-4;

/** Families whose layers this branch does not have yet, and what their refusal names. */
const PENDING = new Set<string>([]);

// ---- the families

const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: T | T[]) => layer.apply(x) as T;
const input = () => tf.input({ shape: [SIZE, SIZE, 3], name: 'image' });
const conv = (x: T, filters: number, kernel: number | [number, number], name: string, o: { strides?: number; activation?: string; padding?: 'same' | 'valid'; useBias?: boolean } = {}) =>
  apply(L.conv2d({ filters, kernelSize: kernel, strides: o.strides ?? 1, padding: o.padding ?? 'same', activation: (o.activation ?? 'linear') as 'linear', useBias: o.useBias ?? true, name }), x);
const bn = (x: T, name: string, scale = true) => apply(L.batchNormalization({ epsilon: 1.001e-5, scale, name }), x);
const relu = (x: T, name: string) => apply(L.activation({ activation: 'relu', name }), x);
const head = (x: T, name = 'predictions') => apply(L.dense({ units: CLASSES, activation: 'softmax', name }), apply(L.globalAveragePooling2d({ name: 'avg_pool' }), x));

function vgg16(): tf.LayersModel {
  const x0 = input();
  let x = conv(x0, 8, 3, 'block1_conv1', { activation: 'relu' });
  x = conv(x, 8, 3, 'block1_conv2', { activation: 'relu' });
  x = apply(L.maxPooling2d({ poolSize: 2, strides: 2, name: 'block1_pool' }), x);
  x = conv(x, 12, 3, 'block2_conv1', { activation: 'relu' });
  x = conv(x, 12, 3, 'block2_conv2', { activation: 'relu' });
  x = apply(L.maxPooling2d({ poolSize: 2, strides: 2, name: 'block2_pool' }), x);
  x = apply(L.flatten({ name: 'flatten' }), x);
  x = apply(L.dense({ units: 16, activation: 'relu', name: 'fc1' }), x);
  x = apply(L.dense({ units: 16, activation: 'tanh', name: 'fc2' }), x);
  return tf.model({ inputs: x0, outputs: apply(L.dense({ units: CLASSES, activation: 'softmax', name: 'predictions' }), x), name: 'vgg16' });
}

function resnet50v2(): tf.LayersModel {
  const x0 = input();
  let x = apply(L.zeroPadding2d({ padding: 1, name: 'conv1_pad' }), x0);
  x = conv(x, 8, 3, 'conv1_conv', { strides: 2, padding: 'valid' });
  x = apply(L.zeroPadding2d({ padding: 1, name: 'pool1_pad' }), x);
  x = apply(L.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);
  // keras.applications.resnet_v2 block2: pre-activation, projection shortcut on the first block
  const block = (x: T, filters: number, name: string, shortcutConv: boolean, stride = 1): T => {
    const pre = relu(bn(x, `${name}_preact_bn`), `${name}_preact_relu`);
    const shortcut = shortcutConv ? conv(pre, 4 * filters, 1, `${name}_0_conv`, { strides: stride }) : x;
    let y = conv(pre, filters, 1, `${name}_1_conv`, { useBias: false });
    y = relu(bn(y, `${name}_1_bn`), `${name}_1_relu`);
    y = apply(L.zeroPadding2d({ padding: 1, name: `${name}_2_pad` }), y);
    y = conv(y, filters, 3, `${name}_2_conv`, { strides: stride, padding: 'valid', useBias: false });
    y = relu(bn(y, `${name}_2_bn`), `${name}_2_relu`);
    y = conv(y, 4 * filters, 1, `${name}_3_conv`);
    return apply(L.add({ name: `${name}_out` }), [shortcut, y]);
  };
  x = block(x, 2, 'conv2_block1', true);
  x = block(x, 2, 'conv2_block2', false);
  x = block(x, 3, 'conv3_block1', true, 2);
  x = relu(bn(x, 'post_bn'), 'post_relu');
  return tf.model({ inputs: x0, outputs: head(x), name: 'resnet50v2' });
}

function inceptionV3(): tf.LayersModel {
  // keras.applications.inception_v3 conv2d_bn: conv without bias, BatchNormalization(scale=False), ReLU
  const cbr = (x: T, filters: number, kernel: number | [number, number], name: string, strides = 1, padding: 'same' | 'valid' = 'same') =>
    relu(bn(conv(x, filters, kernel, `${name}_conv`, { strides, padding, useBias: false }), `${name}_bn`, false), name);
  const x0 = input();
  let x = cbr(x0, 8, 3, 'stem1', 2, 'valid');
  x = cbr(x, 8, 3, 'stem2');
  x = apply(L.maxPooling2d({ poolSize: 3, strides: 2, name: 'stem_pool' }), x);
  const mixed = (x: T, name: string): T => {
    const b1 = cbr(x, 4, 1, `${name}_b1x1`);
    let b3 = cbr(x, 4, 1, `${name}_b3_1x1`);
    b3 = cbr(b3, 4, [1, 3], `${name}_b3_1x3`);
    b3 = cbr(b3, 6, [3, 1], `${name}_b3_3x1`);
    const pool = apply(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: `${name}_pool` }), x);
    const bp = cbr(pool, 3, 1, `${name}_bpool`);
    return apply(L.concatenate({ axis: -1, name }), [b1, b3, bp]);
  };
  x = mixed(x, 'mixed0');
  x = mixed(x, 'mixed1');
  return tf.model({ inputs: x0, outputs: head(x), name: 'inception_v3' });
}

function denseNet(): tf.LayersModel {
  const x0 = input();
  let x = apply(L.zeroPadding2d({ padding: 3, name: 'zero_padding2d' }), x0);
  x = conv(x, 8, 7, 'conv1/conv', { strides: 2, padding: 'valid', useBias: false });
  x = relu(bn(x, 'conv1/bn'), 'conv1/relu');
  const convBlock = (x: T, growth: number, name: string) => {
    let y = relu(bn(x, `${name}_0_bn`), `${name}_0_relu`);
    y = conv(y, 4 * growth, 1, `${name}_1_conv`, { useBias: false });
    y = relu(bn(y, `${name}_1_bn`), `${name}_1_relu`);
    y = conv(y, growth, 3, `${name}_2_conv`, { useBias: false });
    return apply(L.concatenate({ axis: -1, name: `${name}_concat` }), [x, y]);
  };
  x = convBlock(x, 3, 'conv2_block1');
  x = convBlock(x, 3, 'conv2_block2');
  // transition: BN, ReLU, 1x1 conv halving the channels, 2x2 average pool
  x = relu(bn(x, 'pool2_bn'), 'pool2_relu');
  x = conv(x, 7, 1, 'pool2_conv', { useBias: false });
  x = apply(L.averagePooling2d({ poolSize: 2, strides: 2, name: 'pool2_pool' }), x);
  x = convBlock(x, 3, 'conv3_block1');
  x = relu(bn(x, 'bn'), 'relu');
  return tf.model({ inputs: x0, outputs: head(x), name: 'densenet' });
}

function xception(): tf.LayersModel {
  const sep = (x: T, filters: number, name: string) => apply(L.separableConv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, name }), x);
  const x0 = input();
  let x = conv(x0, 8, 3, 'block1_conv1', { strides: 2, padding: 'valid', useBias: false });
  x = relu(bn(x, 'block1_conv1_bn'), 'block1_conv1_act');
  let residual = bn(conv(x, 12, 1, 'block2_res_conv', { strides: 2, useBias: false }), 'block2_res_bn');
  x = sep(x, 12, 'block2_sepconv1');
  x = relu(bn(x, 'block2_sepconv1_bn'), 'block2_sepconv2_act');
  x = bn(sep(x, 12, 'block2_sepconv2'), 'block2_sepconv2_bn');
  x = apply(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'block2_pool' }), x);
  x = apply(L.add({ name: 'add' }), [x, residual]);
  residual = x;
  x = relu(x, 'block3_sepconv1_act');
  x = bn(sep(x, 12, 'block3_sepconv1'), 'block3_sepconv1_bn');
  x = apply(L.add({ name: 'add_1' }), [x, residual]);
  x = relu(x, 'block14_act');
  x = apply(L.globalMaxPooling2d({ name: 'max_pool' }), x);
  return tf.model({ inputs: x0, outputs: apply(L.dense({ units: CLASSES, activation: 'softmax', name: 'predictions' }), x), name: 'xception' });
}

/** Global average pool to [N, 1, 1, C] (TF.js has no keepdims: pool and Reshape, as keras.applications.efficientnet does). */
const poolKeepDims = (x: T, channels: number, name: string) =>
  apply(L.reshape({ targetShape: [1, 1, channels], name: `${name}_reshape` }), apply(L.globalAveragePooling2d({ name }), x));

/** Squeeze-and-excitation: global average pool to 1x1, 1x1 reduce, 1x1 expand with a gate, Multiply. */
function squeezeExcite(x: T, channels: number, squeezed: number, name: string, act: (y: T, n: string) => T, gate: (y: T, n: string) => T): T {
  let s = poolKeepDims(x, channels, `${name}_squeeze`);
  s = act(conv(s, squeezed, 1, `${name}_reduce`), `${name}_reduce_act`);
  s = gate(conv(s, channels, 1, `${name}_expand`), `${name}_expand_act`);
  return apply(L.multiply({ name: `${name}_excite` }), [x, s]);
}

function efficientNetB0(): tf.LayersModel {
  const swish = (x: T, name: string) => apply(L.activation({ activation: 'swish' as 'relu', name }), x);
  const sigmoid = (x: T, name: string) => apply(L.activation({ activation: 'sigmoid', name }), x);
  const x0 = input();
  let x = apply(L.rescaling({ scale: 2, offset: -1, name: 'rescaling' }), x0);
  x = swish(bn(conv(x, 8, 3, 'stem_conv', { strides: 2, useBias: false }), 'stem_bn'), 'stem_activation');
  // MBConv, expand ratio 4, with the identity skip
  const mbconv = (x: T, channels: number, name: string) => {
    let y = swish(bn(conv(x, 4 * channels, 1, `${name}expand_conv`, { useBias: false }), `${name}expand_bn`), `${name}expand_activation`);
    y = apply(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: `${name}dwconv` }), y);
    y = swish(bn(y, `${name}bn`), `${name}activation`);
    y = squeezeExcite(y, 4 * channels, 2, `${name}se`, swish, sigmoid);
    y = bn(conv(y, channels, 1, `${name}project_conv`, { useBias: false }), `${name}project_bn`);
    return apply(L.add({ name: `${name}add` }), [y, x]);
  };
  x = mbconv(x, 8, 'block1a_');
  x = mbconv(x, 8, 'block1b_');
  x = swish(bn(conv(x, 16, 1, 'top_conv', { useBias: false }), 'top_bn'), 'top_activation');
  return tf.model({ inputs: x0, outputs: head(x), name: 'efficientnetb0' });
}

function mobileNetV3(): tf.LayersModel {
  // keras.applications.mobilenet_v3: hard_sigmoid(x) = ReLU(6.)(x + 3.) * (1. / 6.), hard_swish(x) = x * hard_sigmoid(x)
  const hardSigmoid = (x: T, name: string) =>
    apply(L.rescaling({ scale: 1 / 6, offset: 0, name: `${name}_div6` }), apply(L.reLU({ maxValue: 6, name: `${name}_relu6` }), apply(L.rescaling({ scale: 1, offset: 3, name: `${name}_plus3` }), x)));
  const hardSwish = (x: T, name: string) => apply(L.multiply({ name: `${name}_mul` }), [x, hardSigmoid(x, name)]);
  const reluAct = (x: T, name: string) => apply(L.reLU({ name }), x);
  const x0 = input();
  let x = hardSwish(bn(conv(x0, 8, 3, 'conv', { strides: 2, useBias: false }), 'conv_bn'), 'stem_hs');
  // inverted residual with a hard-sigmoid SE block
  let y = hardSwish(bn(conv(x, 16, 1, 'expanded_conv_expand', { useBias: false }), 'expanded_conv_expand_bn'), 'expand_hs');
  y = apply(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'expanded_conv_depthwise' }), y);
  y = hardSwish(bn(y, 'expanded_conv_depthwise_bn'), 'depthwise_hs');
  y = squeezeExcite(y, 16, 4, 'expanded_conv_se', reluAct, hardSigmoid);
  y = bn(conv(y, 8, 1, 'expanded_conv_project', { useBias: false }), 'expanded_conv_project_bn');
  x = apply(L.add({ name: 'expanded_conv_add' }), [x, y]);
  // head: keepdims pool, 1x1 conv with hard-swish, dropout, 1x1 logits conv, flatten, softmax
  x = poolKeepDims(x, 8, 'avg_pool');
  x = hardSwish(conv(x, 16, 1, 'conv_2'), 'head_hs');
  x = apply(L.dropout({ rate: 0.2, name: 'dropout' }), x);
  x = conv(x, CLASSES, 1, 'logits');
  x = apply(L.flatten({ name: 'flatten' }), x);
  return tf.model({ inputs: x0, outputs: apply(L.activation({ activation: 'softmax', name: 'predictions' }), x), name: 'mobilenetv3' });
}

interface Family {
  name: string;
  build: () => tf.LayersModel;
  /** What a refusal names while the family is pending. */
  needs: RegExp;
}

const FAMILIES: Family[] = [
  { name: 'VGG16', build: vgg16, needs: /'fc2' \(Dense\): activation "tanh"/ },
  { name: 'ResNet50V2', build: resnet50v2, needs: /^$/ },
  { name: 'InceptionV3', build: inceptionV3, needs: /'mixed0' is a Concatenate/ },
  { name: 'DenseNet', build: denseNet, needs: /'conv2_block1_concat' is a Concatenate/ },
  { name: 'Xception', build: xception, needs: /'max_pool' is a GlobalMaxPooling2D/ },
  { name: 'EfficientNetB0', build: efficientNetB0, needs: /'rescaling' is a Rescaling|activation "swish"|is a Multiply/ },
  { name: 'MobileNetV3', build: mobileNetV3, needs: /is a Rescaling|is a Multiply/ },
];

// ---- saving, weights, the TF.js reference



async function loadEngine(saved: Saved, name: string): Promise<ModelSpec> {
  const json = { format: 'layers-model', generatedBy: 'keras_families.test.ts', modelTopology: saved.topology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }] };
  return loadLayersModel(filesFromMemory(`${name} model.json`, json, new Map([['weights.bin', saved.weightData]])));
}

/** Seeded weights of a trained network's scale: He-uniform kernels, non-trivial batch-norm statistics. */
function randomizeWeights(model: tf.LayersModel, random: () => number): void {
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length > 1 ? size / shape[shape.length - 1] : 1;
    const name = w.originalName;
    const draw = name.endsWith('moving_variance') ? () => uniform(0.5, 1.5)
      : name.endsWith('gamma') ? () => uniform(0.7, 1.3)
      : name.endsWith('moving_mean') || name.endsWith('beta') ? () => uniform(-0.3, 0.3)
      : name.endsWith('bias') ? () => uniform(-0.2, 0.2)
      // depthwise kernels have fan-in kh * kw, not kh * kw * channels
      : name.includes('depthwise') ? () => uniform(-1, 1) * Math.sqrt(6 / (shape[0] * shape[1]))
      : () => uniform(-1, 1) * Math.sqrt(6 / fanIn);
    return tf.tensor(Float32Array.from({ length: size }, draw), shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** TF's SAME padding before and after along one axis. */
function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * TF.js CPU's AvgPoolGrad divides every window by kh * kw, padded taps included, where its forward
 * (and TensorFlow's gradient) divide by the taps inside the image: average pools with SAME padding
 * are replaced, in the reference only, by window sums over window counts, whose gradients are right.
 */
function fixAveragePoolSame(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    const c = layer.getConfig();
    if (layer.getClassName() !== 'AveragePooling2D' || c.padding !== 'same') continue;
    const [ph, pw] = c.poolSize as [number, number];
    const [sh, sw] = c.strides as [number, number];
    // no tf.tidy here: the gradient tape needs the intermediates (the callers' tidy frees them)
    layer.call = (inputs) => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [, h, w, channels] = x.shape;
      const padding: [number, number][] = [[0, 0], samePadding(h, ph, sh), samePadding(w, pw, sw), [0, 0]];
      const ones = tf.ones([ph, pw, channels, 1]) as tf.Tensor4D;
      const sums = tf.depthwiseConv2d(tf.pad(x, padding), ones, [sh, sw], 'valid');
      return tf.div(sums, tf.depthwiseConv2d(tf.pad(tf.onesLike(x), padding), ones, [sh, sw], 'valid'));
    };
  }
}

/**
 * The model as the reference differentiates it. TF.js cannot differentiate a batch norm without
 * gamma: scale=False becomes scale=True with gamma = 1, the same function. `logits`: the output
 * layer's softmax made linear (a final Activation layer becomes the identity).
 */
async function referenceTwin(model: tf.LayersModel, saved: Saved, logits: boolean): Promise<tf.LayersModel> {
  const topology = JSON.parse(JSON.stringify(saved.topology)) as Json;
  const config = topology.config;
  const outputName = config.output_layers[0][0];
  if (logits) config.layers.find((l: Json) => l.name === outputName).config.activation = 'linear';
  const gammaless = new Set<string>();
  for (const layer of config.layers as Json[]) {
    if (layer.class_name === 'BatchNormalization' && layer.config.scale === false) {
      layer.config.scale = true;
      gammaless.add(layer.name);
    }
  }
  const twin = (await tf.models.modelFromJSON({ modelTopology: topology })) as tf.LayersModel;
  for (const layer of twin.layers) {
    const weights = model.getLayer(layer.name).getWeights();
    layer.setWeights(gammaless.has(layer.name) ? [tf.onesLike(weights[weights.length - 2]), ...weights] : weights);
  }
  return twin;
}

interface Values {
  logits: Float32Array;
  probabilities: Float32Array;
  logitGradient: Float32Array;
  probabilityGradient: Float32Array;
}

/** One-hot at each row's largest entry of [N, K]. */
function topSeed(values: Float32Array, n: number): Float32Array {
  const k = values.length / n;
  const seed = new Float32Array(values.length);
  for (let row = 0; row < n; row++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (values[row * k + j] > values[row * k + best]) best = j;
    seed[row * k + best] = 1;
  }
  return seed;
}

async function tfjsValues(model: tf.LayersModel, saved: Saved, x: Float32Array, shape: number[]): Promise<Values & { seeds: [Float32Array, Float32Array] }> {
  const twin = await referenceTwin(model, saved, true);
  const full = await referenceTwin(model, saved, false);
  fixAveragePoolSame(twin);
  fixAveragePoolSame(full);
  const input = tf.tensor(x, shape);
  const run = (m: tf.LayersModel) => (t: tf.Tensor) => m.apply(t, { training: false }) as tf.Tensor;
  const logits = run(twin)(input).dataSync() as Float32Array;
  const probabilities = model.predict(input) as tf.Tensor;
  expect(relativeL2(run(full)(input).dataSync(), probabilities.dataSync()), 'the reference twin computes the model').toBeLessThan(1e-6);
  const seeds: [Float32Array, Float32Array] = [topSeed(logits, shape[0]), topSeed(probabilities.dataSync() as Float32Array, shape[0])];
  const gradient = (m: tf.LayersModel, seed: Float32Array) => tf.tidy(() => {
    const s = tf.tensor(seed, [shape[0], seed.length / shape[0]]);
    return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(run(m)(t), s)))(input).dataSync() as Float32Array;
  });
  const result = { logits, probabilities: probabilities.dataSync() as Float32Array, logitGradient: gradient(twin, seeds[0]), probabilityGradient: gradient(full, seeds[1]), seeds };
  tf.dispose([input, probabilities]);
  twin.dispose();
  full.dispose();
  return result;
}

async function engineValues(spec: ModelSpec, x: Float32Array, shape: number[], seeds: [Float32Array, Float32Array]): Promise<Values> {
  const rt = testRuntime();
  const model = Model.create(rt, spec);
  try {
    const input = rt.upload(shape, x, 'x');
    const gradientOf = async (node: string, seed: Float32Array) => {
      const pass = model.forward(input, { forBackward: true, keep: [model.logitsName] });
      const values = await rt.read(pass.value(node));
      const { gradients } = model.backward(pass, new Map([[node, rt.upload(pass.value(node).shape, seed, 'seed')]]));
      const dx = gradients.get(INPUT)!;
      const gradient = await rt.read(dx);
      dx.dispose();
      pass.dispose();
      return { values, gradient };
    };
    const logits = await gradientOf(model.logitsName, seeds[0]);
    const probabilities = await gradientOf(model.outputName, seeds[1]);
    input.dispose();
    return { logits: logits.values, probabilities: probabilities.values, logitGradient: logits.gradient, probabilityGradient: probabilities.gradient };
  } finally {
    model.dispose();
  }
}

// ---- the tests

beforeAll(useCpuBackend);

describe.skipIf(PENDING.size === 0)('Keras application families: pending ones are refused naming the layer they lack', () => {
  it.each(FAMILIES.filter((f) => PENDING.has(f.name)).map((f) => [f.name, f] as const))('%s is refused with UnsupportedModelError', async (_name, family) => {
    const model = family.build();
    const error = await loadEngine(await save(model), family.name).catch((e: unknown) => e);
    model.dispose();
    expect(error, `${family.name} loads: remove it from PENDING`).toBeInstanceOf(UnsupportedModelError);
    expect((error as Error).message).toMatch(family.needs);
  });
});

describeGpu('Keras application families in miniature agree with TF.js (photo and noise, x=[2,32,32,3])', () => {
  it.each(FAMILIES.filter((f) => !PENDING.has(f.name)).map((f) => [f.name, f] as const))('%s', async (name, family) => {
    const { seed, random } = randomSource();
    const model = family.build();
    randomizeWeights(model, random);
    const saved = await save(model);
    const spec = await loadEngine(saved, name);
    const photo = photoTensor(`${SKIMAGE_DATA}/astronaut.png`, SIZE, SIZE, 3).data;
    const noise = Float32Array.from({ length: SIZE * SIZE * 3 }, () => random());
    const x = new Float32Array([...photo, ...noise]);
    const shape = [2, SIZE, SIZE, 3];
    const expected = await tfjsValues(model, saved, x, shape);
    const actual = await engineValues(spec, x, shape, expected.seeds);
    model.dispose();
    const errors = {
      logits: relativeL2(actual.logits, expected.logits),
      probabilities: relativeL2(actual.probabilities, expected.probabilities),
      logitGradient: relativeL2(actual.logitGradient, expected.logitGradient),
      probabilityGradient: relativeL2(actual.probabilityGradient, expected.probabilityGradient),
    };
    console.log(`[keras-family] ${name} seed ${seed}: ${Object.entries(errors).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
    // non-trivial: the logits differ between the two images and the gradients reach the input
    expect(relativeL2(expected.logits.slice(0, CLASSES), expected.logits.slice(CLASSES)), 'photo and noise give different logits').toBeGreaterThan(1e-3);
    expect(Math.hypot(...expected.probabilityGradient), 'probability gradient is not zero').toBeGreaterThan(1e-6);
    expect(errors.logits, 'logits').toBeLessThanOrEqual(LOGIT_TOLERANCE);
    expect(errors.probabilities, 'probabilities').toBeLessThanOrEqual(LOGIT_TOLERANCE);
    expect(errors.logitGradient, 'input gradient of the top logit').toBeLessThanOrEqual(GRADIENT_TOLERANCE);
    // dp_top/dx = p_top (g_top - sum_j p_j g_j) with g = d logits / dx (g_top is the top-logit gradient: softmax
    // keeps the argmax): when p_top nears 1 the difference cancels, and float32 rounding of the terms, of
    // size p_top |g_top|, is amplified by kappa = p_top |g_top| / |dp_top/dx| relative to the result
    const pTop = [0, 1].map((row) => Math.max(...expected.probabilities.slice(row * CLASSES, (row + 1) * CLASSES)));
    const terms = Math.hypot(...expected.logitGradient.map((g, i) => g * pTop[Math.floor(i / (SIZE * SIZE * 3))]));
    const kappa = terms / Math.hypot(...expected.probabilityGradient);
    console.log(`[keras-family] ${name} seed ${seed}: p_top ${pTop.map((p) => p.toFixed(6)).join(', ')}, kappa ${kappa.toExponential(2)}`);
    expect(errors.probabilityGradient, `input gradient of the top probability (kappa ${kappa.toExponential(2)})`).toBeLessThanOrEqual(Math.max(GRADIENT_TOLERANCE, 1e-6 * kappa));
  });
});
