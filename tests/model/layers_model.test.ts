/**
 * The TF.js Layers loader end to end: small Keras models built in TF.js, saved to memory, loaded by
 * `loadLayersModel` and run by the engine, against TF.js on its CPU backend (forward output, logits
 * and the input gradient of each item's top logit). Also a Keras 3 rewrite of the same topologies
 * and the load-time errors.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { filesFromMemory, ModelLoadError, UnsupportedModelError } from '../../src/model/loaders/files.js';
import { loadModelSpec } from '../../src/model/loaders/index.js';
import { loadLayersModel } from '../../src/model/loaders/layers_model.js';
import { INPUT, Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { relativeL2 } from '../reference/tensor.js';
import { save, type Saved } from './tfjs_save.js';

type Json = Record<string, any>;


const OUTPUT_TOLERANCE = 1e-4;
const GRADIENT_TOLERANCE = 1e-3;
const BATCH = 2;

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Replaces every weight with seeded values of a sensible scale (non-trivial batch-norm statistics). */
function randomizeWeights(model: tf.LayersModel, random: () => number): void {
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length > 1 ? size / shape[shape.length - 1] : 1;
    const name = w.originalName;
    const draw = name.endsWith('moving_variance') ? () => uniform(0.3, 2)
      : name.endsWith('gamma') ? () => uniform(0.5, 1.5)
      : name.endsWith('moving_mean') || name.endsWith('beta') ? () => uniform(-0.5, 0.5)
      : name.endsWith('bias') ? () => uniform(-0.3, 0.3)
      : () => uniform(-1, 1) * Math.sqrt(3 / fanIn) * 1.5;
    return tf.tensor(Float32Array.from({ length: size }, draw), shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}


function modelJson(saved: Saved): Json {
  return { format: 'layers-model', generatedBy: 'test', modelTopology: saved.topology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: saved.weightSpecs }] };
}

async function load(saved: Saved, description = 'test model.json'): Promise<ModelSpec> {
  return loadLayersModel(filesFromMemory(description, modelJson(saved), new Map([['group1-shard1of1.bin', saved.weightData]])));
}

/** The config of the model's output layer (Sequential: the last one). */
function outputLayer(topology: Json): Json {
  const layers = topology.config.layers as Json[];
  if (topology.class_name === 'Sequential') return layers[layers.length - 1];
  return layers.find((l) => l.name === topology.config.output_layers[0][0])!;
}

/**
 * TF.js model computing the logits: the saved model with its output layer's activation made linear.
 * Two TF.js gradient gaps are worked around here, in the reference only, by equivalent layers:
 * conv2d gradients refuse dilation (a dilated k x k kernel equals an undilated (k-1)d+1 kernel
 * with zeros between the taps), and batch norm gradients fail without gamma and beta (gamma = 1,
 * beta = 0 are the same thing). A third, avgPool 'same' (tfjs-backend-cpu AvgPoolGrad divides every
 * window by kh * kw, padded taps included, while the forward divides by the taps inside the
 * image), is handled by `logitsFunction`.
 */
async function logitsModel(tfModel: tf.LayersModel, saved: Saved): Promise<tf.LayersModel> {
  const topology = clone(saved.topology);
  outputLayer(topology).config.activation = 'linear';
  const rewrites = new Map<string, (weights: tf.Tensor[]) => tf.Tensor[]>();
  for (const layer of topology.config.layers as Json[]) {
    const c = layer.config;
    if (layer.class_name === 'Conv2D' && (c.dilation_rate[0] !== 1 || c.dilation_rate[1] !== 1)) {
      const [dh, dw] = c.dilation_rate as number[];
      const [kh, kw] = c.kernel_size as number[];
      c.kernel_size = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
      c.dilation_rate = [1, 1];
      rewrites.set(c.name, ([kernel, ...rest]) => {
        const [, , cin, cout] = kernel.shape;
        const source = kernel.dataSync();
        const dilated = new Float32Array(c.kernel_size[0] * c.kernel_size[1] * cin * cout);
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin * cout; i++) {
          dilated[((y * dh) * c.kernel_size[1] + x * dw) * cin * cout + i] = source[(y * kw + x) * cin * cout + i];
        }
        return [tf.tensor(dilated, [c.kernel_size[0], c.kernel_size[1], cin, cout]), ...rest];
      });
    }
    if (layer.class_name === 'BatchNormalization' && (c.center === false || c.scale === false)) {
      const [center, scale] = [c.center, c.scale];
      c.center = true;
      c.scale = true;
      rewrites.set(c.name, (weights) => {
        const [mean, variance] = weights.slice(-2);
        const gamma = scale ? weights[0] : tf.onesLike(mean);
        const beta = center ? weights[scale ? 1 : 0] : tf.zerosLike(mean);
        return [gamma, beta, mean, variance];
      });
    }
  }
  const model = (await tf.models.modelFromJSON({ modelTopology: topology })) as tf.LayersModel;
  for (const layer of model.layers) {
    const weights = tfModel.getLayer(layer.name).getWeights();
    layer.setWeights(rewrites.get(layer.name)?.(weights) ?? weights);
  }
  return model;
}

/** TF's SAME padding before and after along one axis. */
function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** avgPool 'same' from ops with correct gradients: window sums of the zero-padded input over window sizes. */
function averagePoolSame(x: tf.Tensor4D, pool: [number, number], strides: [number, number]): tf.Tensor4D {
  const [, h, w, c] = x.shape;
  const padding: [number, number][] = [[0, 0], samePadding(h, pool[0], strides[0]), samePadding(w, pool[1], strides[1]), [0, 0]];
  const ones = tf.ones([pool[0], pool[1], c, 1]) as tf.Tensor4D;
  const sums = tf.depthwiseConv2d(tf.pad(x, padding), ones, strides, 'valid');
  const counts = tf.depthwiseConv2d(tf.pad(tf.onesLike(x), padding), ones, strides, 'valid');
  return tf.div(sums, counts);
}

/** The logits model as a function; Sequential models run layer by layer so that avgPool 'same' can be replaced. */
function logitsFunction(model: tf.LayersModel): (x: tf.Tensor) => tf.Tensor {
  if (!(model instanceof tf.Sequential)) return (x) => model.apply(x) as tf.Tensor;
  return (x) => model.layers.reduce((h, layer) => {
    const c = layer.getConfig();
    if (layer.getClassName() === 'AveragePooling2D' && c.padding === 'same') {
      return averagePoolSame(h as tf.Tensor4D, c.poolSize as [number, number], c.strides as [number, number]);
    }
    return layer.apply(h) as tf.Tensor;
  }, x);
}

interface Reference {
  x: Float32Array;
  shape: number[];
  output: Float32Array;
  logits: Float32Array;
  /** One-hot at each item's largest logit. */
  seed: Float32Array;
  gradient: Float32Array;
}

async function reference(tfModel: tf.LayersModel, saved: Saved, random: () => number): Promise<Reference> {
  const shape = [BATCH, ...(tfModel.inputs[0].shape.slice(1) as number[])];
  const size = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: size }, () => random() * 4 - 2);
  const logitsTf = await logitsModel(tfModel, saved);
  const xt = tf.tensor(x, shape);
  const output = (tfModel.predict(xt) as tf.Tensor).dataSync() as Float32Array;
  const logitsT = logitsTf.predict(xt) as tf.Tensor;
  const logits = logitsT.dataSync() as Float32Array;
  const classes = logitsT.shape[logitsT.shape.length - 1]!;
  const seed = new Float32Array(logits.length);
  for (let n = 0; n < logits.length / classes; n++) {
    let top = 0;
    for (let k = 1; k < classes; k++) if (logits[n * classes + k] > logits[n * classes + top]) top = k;
    seed[n * classes + top] = 1;
  }
  const seedT = tf.tensor(seed, logitsT.shape);
  const f = logitsFunction(logitsTf);
  expect(relativeL2(f(xt).dataSync(), logits), 'reference logits function').toBeLessThan(1e-6);
  const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(f(input), seedT)))(xt).dataSync() as Float32Array;
  tf.dispose([xt, logitsT, seedT]);
  logitsTf.dispose();
  return { x, shape, output, logits, seed, gradient };
}

/** Runs the engine on the reference's input and checks output, logits and the input gradient. */
async function expectEngineMatches(spec: ModelSpec, ref: Reference, label: string, tolerance = { output: OUTPUT_TOLERANCE, gradient: GRADIENT_TOLERANCE }): Promise<void> {
  const rt = testRuntime();
  const model = Model.create(rt, spec);
  const x = rt.upload(ref.shape, ref.x, 'x');
  const pass = model.forward(x, { forBackward: true, keep: [model.logitsName] });
  const output = await rt.read(pass.value(model.outputName));
  const logitsTensor = pass.value(model.logitsName);
  const logits = await rt.read(logitsTensor);
  const seed = rt.upload(logitsTensor.shape, ref.seed, 'seed');
  const { gradients } = model.backward(pass, new Map([[model.logitsName, seed]]));
  const dx = gradients.get(INPUT)!;
  expect(dx.shape).toEqual(ref.shape);
  const gradient = await rt.read(dx);
  dx.dispose();
  pass.dispose();
  x.dispose();
  model.dispose();
  const errors = { output: relativeL2(output, ref.output), logits: relativeL2(logits, ref.logits), gradient: relativeL2(gradient, ref.gradient) };
  console.log(`[layers-model] ${label} output ${errors.output.toExponential(2)} logits ${errors.logits.toExponential(2)} input-gradient ${errors.gradient.toExponential(2)}`);
  // non-trivial: the reference gradient reaches the input
  expect(Math.hypot(...ref.gradient), `${label}: reference gradient is zero`).toBeGreaterThan(1e-3);
  expect(errors.output, `${label}: output (NaN means an element was never written)`).toBeLessThanOrEqual(tolerance.output);
  expect(errors.logits, `${label}: logits`).toBeLessThanOrEqual(tolerance.output);
  expect(errors.gradient, `${label}: input gradient of the top logit`).toBeLessThanOrEqual(tolerance.gradient);
}

// ---------------------------------------------------------------------------------------------
// Test models (inputs 9x7x3)

const INPUT_SHAPE = [9, 7, 3];

/** Conv2D same/valid/strided/dilated with relu, relu6 and sigmoid; max pool, flatten, dropout, dense softmax. */
function convNet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: INPUT_SHAPE, filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_same_relu' }),
      tf.layers.conv2d({ filters: 5, kernelSize: [3, 2], strides: 2, padding: 'valid', activation: 'relu6', name: 'conv_valid_s2_relu6' }),
      tf.layers.conv2d({ filters: 6, kernelSize: 2, dilationRate: 2, padding: 'same', activation: 'sigmoid', name: 'conv_dilated_sigmoid' }),
      tf.layers.conv2d({ filters: 4, kernelSize: 1, useBias: false, name: 'conv_1x1_nobias' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'valid', name: 'max_pool' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dropout({ rate: 0.5, name: 'dropout' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'probabilities' }),
    ],
  });
}

/** Depthwise (multiplier 2), batch norm with and without centre/scale, average pool 'same', Activation, GAP, dense softmax. */
function depthwiseNet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: INPUT_SHAPE, filters: 3, kernelSize: 1, name: 'pointwise' }),
      tf.layers.batchNormalization({ name: 'bn_full', epsilon: 1e-3 }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu', name: 'depthwise' }),
      tf.layers.batchNormalization({ name: 'bn_bare', center: false, scale: false, epsilon: 0.01 }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'depthwise_s2' }),
      tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avg_pool_same' }),
      tf.layers.activation({ activation: 'relu6', name: 'act_relu6' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 8, activation: 'relu', name: 'hidden' }),
      tf.layers.dense({ units: 4, activation: 'softmax', name: 'probabilities' }),
    ],
  });
}

/** Functional residual block: zero padding, conv, batch norm, Add, ReLU(max 6), GAP, dense with a sigmoid output. */
function residualNet(): tf.LayersModel {
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  const padded = tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]], name: 'pad' }).apply(input) as tf.SymbolicTensor;
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'conv_a' }).apply(padded) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv_b' }).apply(a) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(b) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'residual' }).apply([a, bn]) as tf.SymbolicTensor;
  const relu = tf.layers.reLU({ maxValue: 6, name: 'relu6' }).apply(sum) as tf.SymbolicTensor;
  const sum3 = tf.layers.add({ name: 'sum3' }).apply([relu, a, bn]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(sum3) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'sigmoid', name: 'scores' }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'residual_net' });
}

/** A Sequential inside a Sequential, then Activation('softmax') as its own layer. */
function nestedNet(): tf.LayersModel {
  const inner = tf.sequential({
    name: 'backbone',
    layers: [
      tf.layers.conv2d({ inputShape: INPUT_SHAPE, filters: 4, kernelSize: 3, activation: 'relu', name: 'inner_conv' }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'inner_pool' }),
    ],
  });
  return tf.sequential({
    layers: [inner, tf.layers.flatten({ name: 'flatten' }), tf.layers.dense({ units: 3, name: 'logits' }), tf.layers.activation({ activation: 'softmax', name: 'softmax' })],
  });
}

/**
 * ops-layout: asymmetric ZeroPadding2D, Cropping2D, Permute (swapping H and W), GlobalMaxPooling2D.
 * No ReLU before the max (ReLU zeros would tie, and TF.js gives every tied maximum the whole
 * gradient where TF and the engine split it).
 */
function layoutNet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.zeroPadding2d({ inputShape: INPUT_SHAPE, padding: [[2, 0], [1, 3]], name: 'pad' }),
      tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv_a' }),
      tf.layers.cropping2D({ cropping: [[1, 2], [0, 1]], name: 'crop' }),
      tf.layers.permute({ dims: [2, 1, 3], name: 'swap_hw' }),
      tf.layers.conv2d({ filters: 5, kernelSize: [2, 3], name: 'conv_b' }),
      tf.layers.globalMaxPooling2d({ name: 'gmp' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'probabilities' }),
    ],
  });
}

/** Two heads on one trunk (a classifier and a sigmoid attribute head), and the classifier head alone. */
function twoHeadNet(): { both: tf.LayersModel; classifier: tf.LayersModel } {
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  const trunk = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'trunk' }).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(trunk) as tf.SymbolicTensor;
  const classes = tf.layers.dense({ units: 3, activation: 'softmax', name: 'classes' }).apply(pooled) as tf.SymbolicTensor;
  const attribute = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'attribute' }).apply(pooled) as tf.SymbolicTensor;
  return {
    both: tf.model({ inputs: input, outputs: [attribute, classes], name: 'two_heads' }),
    classifier: tf.model({ inputs: input, outputs: classes, name: 'classifier' }),
  };
}

// ops-binary: merge layers

const applyLayer = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

/** Keras' Subtract merge layer, which tfjs-layers lacks: a - b, broadcast; saved as class 'Subtract'. */
class Subtract extends tf.layers.Layer {
  static readonly className = 'Subtract';
  override computeOutputShape(shapes: tf.Shape[]): tf.Shape {
    return shapes[0].map((d, i) => (d === 1 ? shapes[1][i] : d));
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [a, b] = inputs as tf.Tensor[];
    return tf.sub(a, b);
  }
}
tf.serialization.registerClass(Subtract);

/** InceptionV3-like branches: 1x1, 3x3 and pool-then-1x1 concatenated on channels, then on height; GAP, dense softmax. */
function inceptionNet(): tf.LayersModel {
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  const a = applyLayer(tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', name: 'branch_1x1' }), input);
  const b = applyLayer(tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'branch_3x3' }), input);
  const pooled = applyLayer(tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'branch_pool' }), input);
  const c = applyLayer(tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'branch_pool_1x1' }), pooled);
  const mixed = applyLayer(tf.layers.concatenate({ name: 'mixed' }), [a, b, c]);
  const d = applyLayer(tf.layers.conv2d({ filters: 9, kernelSize: [2, 3], strides: [2, 1], padding: 'same', name: 'strided' }), mixed);
  const tall = applyLayer(tf.layers.concatenate({ axis: 1, name: 'tall' }), [mixed, d]);
  const wide = applyLayer(tf.layers.concatenate({ axis: 2, name: 'wide' }), [tall, tall]);
  const gap = applyLayer(tf.layers.globalAveragePooling2d({ name: 'gap' }), wide);
  const out = applyLayer(tf.layers.dense({ units: 4, activation: 'softmax', name: 'probabilities' }), gap);
  return tf.model({ inputs: input, outputs: out, name: 'inception_net' });
}

/**
 * Squeeze-and-excitation twice: GAP -> Reshape [1, 1, C] -> conv 1x1 relu -> conv 1x1 sigmoid ->
 * Multiply with the features (EfficientNet's block), and GAP -> dense -> dense sigmoid -> Multiply
 * with a rank-2 [N, C] gate (Keras inserts the axes); GAP, dense softmax.
 */
function squeezeExcitationNet(): tf.LayersModel {
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  const x = applyLayer(tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'features' }), input);
  const squeezed = applyLayer(tf.layers.globalAveragePooling2d({ name: 'se_squeeze' }), x);
  const reshaped = applyLayer(tf.layers.reshape({ targetShape: [1, 1, 6], name: 'se_reshape' }), squeezed);
  const reduced = applyLayer(tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'relu', name: 'se_reduce' }), reshaped);
  const gate = applyLayer(tf.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'sigmoid', name: 'se_expand' }), reduced);
  const excited = applyLayer(tf.layers.multiply({ name: 'se_excite' }), [x, gate]);
  const y = applyLayer(tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, name: 'features_2' }), excited);
  const squeezed2 = applyLayer(tf.layers.globalAveragePooling2d({ name: 'se2_squeeze' }), y);
  const hidden = applyLayer(tf.layers.dense({ units: 2, activation: 'relu', name: 'se2_reduce' }), squeezed2);
  const gate2 = applyLayer(tf.layers.dense({ units: 5, activation: 'sigmoid', name: 'se2_expand' }), hidden);
  const excited2 = applyLayer(tf.layers.multiply({ name: 'se2_excite' }), [gate2, y]);
  const gap = applyLayer(tf.layers.globalAveragePooling2d({ name: 'gap' }), excited2);
  const out = applyLayer(tf.layers.dense({ units: 3, activation: 'softmax', name: 'probabilities' }), gap);
  return tf.model({ inputs: input, outputs: out, name: 'se_net' });
}

/**
 * Subtract, Average of three with a broadcast [N, 1, 1, C] input, Maximum, Minimum of three, swish
 * x * sigmoid(x). (Maximum's broadcast gradient is tested on the op: TF.js's Maximum gradient does
 * not reduce over broadcast axes.)
 */
function mergeNet(): tf.LayersModel {
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  const conv = (name: string) => applyLayer(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name }), input);
  const [a, b, c] = [conv('conv_a'), conv('conv_b'), conv('conv_c')];
  const difference = applyLayer(new Subtract({ name: 'difference' }), [a, b]);
  const pooled = applyLayer(tf.layers.maxPooling2d({ poolSize: [9, 7], name: 'column_max' }), c);
  const mean = applyLayer(tf.layers.average({ name: 'mean' }), [a, b, pooled]);
  const larger = applyLayer(tf.layers.maximum({ name: 'larger' }), [difference, mean]);
  const smallest = applyLayer(tf.layers.minimum({ name: 'smallest' }), [larger, mean, a]);
  const gate = applyLayer(tf.layers.activation({ activation: 'sigmoid', name: 'gate' }), smallest);
  const swish = applyLayer(tf.layers.multiply({ name: 'swish' }), [smallest, gate]);
  const gap = applyLayer(tf.layers.globalAveragePooling2d({ name: 'gap' }), swish);
  const out = applyLayer(tf.layers.dense({ units: 3, activation: 'softmax', name: 'probabilities' }), gap);
  return tf.model({ inputs: input, outputs: out, name: 'merge_net' });
}

// ---------------------------------------------------------------------------------------------
// Keras 3 rewrite of a tfjs-layers (Keras 2) topology

const dtypePolicy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const kerasTensor = ([layer, node, tensor]: [string, number, number]) => ({
  class_name: '__keras_tensor__',
  config: { shape: null, dtype: 'float32', keras_history: [layer, node, tensor] },
});

/**
 * What Keras 3 writes for the same model: `Functional` / `Sequential` with an explicit InputLayer
 * (`batch_shape`), `{args, kwargs}` inbound nodes of `__keras_tensor__`s, DTypePolicy objects,
 * activations as serialized functions, DepthwiseConv2D's kernel named `kernel`, and every weight
 * prefixed with the model's name.
 */
function toKeras3(saved: Saved): Saved {
  const topology = clone(saved.topology);
  const config = topology.config;
  const modelName: string = config.name;
  const layer3 = (l: Json): Json => {
    const c = { ...l.config, dtype: dtypePolicy };
    delete c.batch_input_shape;
    if (typeof c.activation === 'string') c.activation = { module: 'keras.activations', class_name: 'function', config: c.activation, registered_name: 'function' };
    const out: Json = { module: 'keras.layers', class_name: l.class_name, config: c, registered_name: null, name: c.name };
    if (l.inbound_nodes) {
      out.inbound_nodes = (l.inbound_nodes as [string, number, number, Json][][]).map((node) => ({
        args: node.length === 1 ? [kerasTensor([node[0][0], node[0][1], node[0][2]])] : [node.map((t) => kerasTensor([t[0], t[1], t[2]]))],
        kwargs: l.class_name === 'Dropout' || l.class_name === 'BatchNormalization' ? { training: false } : {},
      }));
    }
    return out;
  };
  if (topology.class_name === 'Sequential') {
    const first = config.layers[0].config;
    const input = { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: first.batch_input_shape, dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null };
    config.layers = [input, ...config.layers.map(layer3)];
  } else {
    topology.class_name = 'Functional';
    config.layers = config.layers.map((l: Json) => {
      if (l.class_name !== 'InputLayer') return layer3(l);
      return { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: l.config.batch_input_shape, dtype: 'float32', sparse: false, name: l.name }, registered_name: null, name: l.name, inbound_nodes: [] };
    });
    // a single input / output is written as one triple, not a list of them
    config.input_layers = config.input_layers[0];
    config.output_layers = config.output_layers[0];
  }
  topology.keras_version = '3.4.1';
  topology.backend = 'tensorflow';
  const depthwise = new Set(config.layers.filter((l: Json) => l.class_name === 'DepthwiseConv2D').map((l: Json) => l.config.name));
  const weightSpecs = saved.weightSpecs.map((w) => {
    const [layer, weight] = w.name.split('/');
    const renamed = depthwise.has(layer) && weight === 'depthwise_kernel' ? 'kernel' : weight;
    return { ...w, name: `${modelName}/${layer}/${renamed}` };
  });
  return { topology, weightSpecs, weightData: saved.weightData };
}

// ---------------------------------------------------------------------------------------------
// A Keras 3 model.json written by hand, as Keras 3.5 `model.to_json()` inside tensorflowjs_converter's
// wrapper writes it, and the same model built in TF.js for the weights and the reference.

const initializer = (name: string) => ({ module: 'keras.initializers', class_name: name, config: name === 'Zeros' || name === 'Ones' ? {} : { seed: null }, registered_name: null });
const k3 = (class_name: string, config: Json, extra: Json = {}) => ({
  module: 'keras.layers', class_name, config: { trainable: true, dtype: dtypePolicy, ...config }, registered_name: null, ...extra,
});
const call = (...tensors: [string, number, number][]) => ({ args: tensors.length === 1 ? [kerasTensor(tensors[0])] : [tensors.map(kerasTensor)], kwargs: {} });
const convConfig = (name: string, filters: number, kernel: number, activation: unknown) => ({
  name, filters, kernel_size: [kernel, kernel], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1,
  activation, use_bias: true, kernel_initializer: initializer('GlorotUniform'), bias_initializer: initializer('Zeros'),
  kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
});

/**
 * input_layer [null, 9, 7, 3] -> backbone (nested Sequential: its own InputLayer, Conv2D 'relu',
 * BatchNormalization) -> conv2d_1 1x1 (activation as a serialized function object) and
 * depthwise_conv2d 3x3 -> add (one inbound node listing two keras tensors) -> re_lu (max 6) ->
 * global_average_pooling2d -> dropout -> dense softmax. Weights are named by Keras 3 variable
 * paths: the nested model's with its name first ('backbone/conv2d/kernel'), the depthwise kernel
 * 'kernel'.
 */
function keras3Topology(): Json {
  const backbone = {
    module: 'keras', class_name: 'Sequential', registered_name: null, name: 'backbone',
    config: {
      name: 'backbone', trainable: true, dtype: dtypePolicy,
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 9, 7, 3], dtype: 'float32', sparse: false, name: 'input_layer_1' }, registered_name: null },
        k3('Conv2D', convConfig('conv2d', 4, 3, 'relu'), { build_config: { input_shape: [null, 9, 7, 3] } }),
        k3('BatchNormalization', {
          name: 'batch_normalization', axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true,
          beta_initializer: initializer('Zeros'), gamma_initializer: initializer('Ones'), moving_mean_initializer: initializer('Zeros'),
          moving_variance_initializer: initializer('Ones'), beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null, synchronized: false,
        }, { build_config: { input_shape: [null, 9, 7, 4] } }),
      ],
      build_input_shape: [null, 9, 7, 3],
    },
    build_config: { input_shape: [null, 9, 7, 3] },
    inbound_nodes: [{ args: [kerasTensor(['input_layer', 0, 0])], kwargs: { training: false, mask: null } }],
  };
  const relu = { module: 'keras.activations', class_name: 'function', config: 'relu', registered_name: 'function' };
  const layers = [
    { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 9, 7, 3], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null, name: 'input_layer', inbound_nodes: [] },
    backbone,
    k3('Conv2D', convConfig('conv2d_1', 4, 1, relu), { name: 'conv2d_1', build_config: { input_shape: [null, 9, 7, 4] }, inbound_nodes: [call(['backbone', 1, 0])] }),
    k3('DepthwiseConv2D', {
      name: 'depthwise_conv2d', kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], depth_multiplier: 1,
      activation: 'linear', use_bias: true, depthwise_initializer: initializer('GlorotUniform'), bias_initializer: initializer('Zeros'),
      depthwise_regularizer: null, bias_regularizer: null, activity_regularizer: null, depthwise_constraint: null, bias_constraint: null,
    }, { name: 'depthwise_conv2d', build_config: { input_shape: [null, 9, 7, 4] }, inbound_nodes: [call(['backbone', 1, 0])] }),
    k3('Add', { name: 'add' }, { name: 'add', build_config: { input_shape: [[null, 9, 7, 4], [null, 9, 7, 4]] }, inbound_nodes: [call(['conv2d_1', 0, 0], ['depthwise_conv2d', 0, 0])] }),
    k3('ReLU', { name: 're_lu', max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, { name: 're_lu', build_config: { input_shape: [null, 9, 7, 4] }, inbound_nodes: [call(['add', 0, 0])] }),
    k3('GlobalAveragePooling2D', { name: 'global_average_pooling2d', data_format: 'channels_last', keepdims: false }, { name: 'global_average_pooling2d', build_config: { input_shape: [null, 9, 7, 4] }, inbound_nodes: [call(['re_lu', 0, 0])] }),
    k3('Dropout', { name: 'dropout', rate: 0.2, seed: null, noise_shape: null }, { name: 'dropout', build_config: { input_shape: [null, 4] }, inbound_nodes: [{ args: [kerasTensor(['global_average_pooling2d', 0, 0])], kwargs: { training: false } }] }),
    k3('Dense', {
      name: 'dense', units: 3, activation: 'softmax', use_bias: true, kernel_initializer: initializer('GlorotUniform'), bias_initializer: initializer('Zeros'),
      kernel_regularizer: null, bias_regularizer: null, kernel_constraint: null, bias_constraint: null,
    }, { name: 'dense', build_config: { input_shape: [null, 4] }, inbound_nodes: [call(['dropout', 0, 0])] }),
  ];
  return {
    keras_version: '3.5.0', backend: 'tensorflow',
    model_config: {
      module: 'keras', class_name: 'Functional', registered_name: 'Functional', build_config: { input_shape: null },
      config: { name: 'functional', trainable: true, layers, input_layers: [['input_layer', 0, 0]], output_layers: [['dense', 0, 0]] },
    },
  };
}

/** The same model in TF.js (Keras 2 names), whose saved weights the Keras 3 file reuses under Keras 3 paths. */
function keras3Twin(): tf.LayersModel {
  const input = tf.input({ shape: INPUT_SHAPE, name: 'input_layer' });
  const backbone = tf.sequential({
    name: 'backbone',
    layers: [
      tf.layers.conv2d({ inputShape: INPUT_SHAPE, filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv2d' }),
      tf.layers.batchNormalization({ name: 'batch_normalization', epsilon: 0.001 }),
    ],
  });
  const features = backbone.apply(input) as tf.SymbolicTensor;
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 1, padding: 'same', activation: 'relu', name: 'conv2d_1' }).apply(features) as tf.SymbolicTensor;
  const b = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'depthwise_conv2d' }).apply(features) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'add' }).apply([a, b]) as tf.SymbolicTensor;
  const relu = tf.layers.reLU({ maxValue: 6, name: 're_lu' }).apply(sum) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(relu) as tf.SymbolicTensor;
  const dropped = tf.layers.dropout({ rate: 0.2, name: 'dropout' }).apply(pooled) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'dense' }).apply(dropped) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'functional' });
}

function keras3Saved(twin: Saved): Saved {
  const nested = new Set(['conv2d', 'batch_normalization']);
  const weightSpecs = twin.weightSpecs.map((w) => {
    const [layer, weight] = w.name.split('/').slice(-2);
    return { ...w, name: `${nested.has(layer) ? 'backbone/' : ''}${layer}/${weight === 'depthwise_kernel' ? 'kernel' : weight}` };
  });
  return { topology: keras3Topology(), weightSpecs, weightData: twin.weightData };
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describeGpu('loadLayersModel (TF.js Layers, Keras 2 export) vs TF.js CPU', () => {
  const cases: [string, () => tf.LayersModel][] = [
    ['conv2d same/valid/strided/dilated relu/relu6/sigmoid, maxPool, flatten, dropout, dense softmax x=[2,9,7,3]', convNet],
    ['depthwise x2, batchNorm (full and bare), avgPool same, activation relu6, GAP, dense softmax x=[2,9,7,3]', depthwiseNet],
    ['functional residual: zeroPad, conv, batchNorm, add (2 and 3 inputs), ReLU max 6, GAP, dense sigmoid x=[2,9,7,3]', residualNet],
    ['nested Sequential, flatten, dense, Activation softmax x=[2,9,7,3]', nestedNet],
  ];
  for (const [name, build] of cases) {
    it(name, async () => {
      const { seed, random } = randomSource();
      console.log(`[layers-model] ${name} seed ${seed}`);
      const tfModel = build();
      randomizeWeights(tfModel, random);
      const saved = await save(tfModel);
      const spec = await load(saved);
      expect(spec.source).toContain('TF.js Layers');
      await expectEngineMatches(spec, await reference(tfModel, saved, random), name);
      tfModel.dispose();
    });
  }

  it('a two-output model is refused naming its outputs, and loads with { output } x=[2,9,7,3]', async () => {
    const { seed, random } = randomSource();
    console.log(`[layers-model] two heads seed ${seed}`);
    const { both, classifier } = twoHeadNet();
    randomizeWeights(both, random);
    const saved = await save(both);
    const error = await load(saved).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedModelError);
    expect((error as Error).message).toMatch(/model 'two_heads' has 2 outputs \(attribute, classes\); pass \{ output: <layer name> \} \(CLI: --output NAME\)/);
    const files = filesFromMemory('two heads model.json', modelJson(saved), new Map([['group1-shard1of1.bin', saved.weightData]]));
    const spec = await loadModelSpec(files, { output: 'classes' });
    expect(spec.output).toBe('classes');
    expect(spec.layers.map((l) => l.name)).not.toContain('attribute');
    await expectEngineMatches(spec, await reference(classifier, await save(classifier), random), 'two heads, output classes');
    // an inner layer cuts the model there; an unknown one lists the layers
    expect((await loadModelSpec(files, { output: 'gap' })).layers.map((l) => l.name)).toEqual(['image', 'trunk', 'gap']);
    await expect(loadModelSpec(files, { output: 'nope' })).rejects.toThrow(/names layer 'nope'.*its outputs are attribute, classes \(layers: trunk, gap, attribute, classes\)/);
    // Sequential: cut at a named layer
    const sequential = await save(convNet());
    const cut = await loadModelSpec(filesFromMemory('seq model.json', modelJson(sequential), new Map([['group1-shard1of1.bin', sequential.weightData]])), { output: 'max_pool' });
    expect(cut.output).toBe('max_pool');
    both.dispose();
  });

  // ops-binary: merge layers, at the tighter tolerances of their issue (logits 1e-5, input gradients 1e-4)
  const merges: [string, () => tf.LayersModel][] = [
    ['Concatenate: inception branches on channels, then on height and width x=[2,9,7,3]', inceptionNet],
    ['Multiply: squeeze-and-excitation [N,1,1,C] and rank-2 [N,C] gates x=[2,9,7,3]', squeezeExcitationNet],
    ['Subtract, Average (3, one [N,1,1,C]), Maximum, Minimum (3), swish Multiply x=[2,9,7,3]', mergeNet],
  ];
  for (const [name, build] of merges) {
    it(name, async () => {
      const { seed, random } = randomSource();
      console.log(`[layers-model] ${name} seed ${seed}`);
      const tfModel = build();
      randomizeWeights(tfModel, random);
      const saved = await save(tfModel);
      await expectEngineMatches(await load(saved), await reference(tfModel, saved, random), name, { output: 1e-5, gradient: 1e-4 });
      tfModel.dispose();
    });
  }

  it('maps the merge layers to concat, binary and add layers (Average scales its last sum, a rank-2 gate is reshaped)', async () => {
    const merge = await load(await save(mergeNet()));
    const layer = (spec: ModelSpec, name: string) => spec.layers.find((l) => l.name === name);
    expect(layer(merge, 'difference')).toMatchObject({ kind: 'binary', op: 'sub', inputs: ['conv_a', 'conv_b'] });
    expect(layer(merge, 'mean/partial1')).toMatchObject({ kind: 'add', inputs: ['conv_a', 'conv_b'] });
    expect(layer(merge, 'mean')).toMatchObject({ kind: 'binary', op: 'add', scale: 1 / 3, inputs: ['mean/partial1', 'column_max'] });
    expect(layer(merge, 'smallest')).toMatchObject({ kind: 'binary', op: 'minimum', inputs: ['smallest/partial1', 'conv_a'] });
    expect(layer(merge, 'swish')).toMatchObject({ kind: 'binary', op: 'mul', inputs: ['smallest', 'gate'] });
    const se = await load(await save(squeezeExcitationNet()));
    expect(layer(se, 'se2_excite/expand0')).toMatchObject({ kind: 'reshape', shape: [1, 1, -1], inputs: ['se2_expand'] });
    expect(layer(se, 'se2_excite')).toMatchObject({ kind: 'binary', op: 'mul', inputs: ['se2_excite/expand0', 'features_2'] });
    const inception = await load(await save(inceptionNet()));
    expect(layer(inception, 'mixed')).toMatchObject({ kind: 'concat', axis: -1, inputs: ['branch_1x1', 'branch_3x3', 'branch_pool_1x1'] });
    expect(layer(inception, 'tall')).toMatchObject({ kind: 'concat', axis: 1 });
  });

  it('splits a fused softmax / output sigmoid into its own node after the linear layer', async () => {
    const spec = await load(await save(residualNet()));
    const scores = spec.layers.find((l) => l.name === 'scores')!;
    expect(scores).toMatchObject({ kind: 'activation', activation: 'sigmoid', inputs: ['scores/logits'] });
    expect(spec.layers.find((l) => l.name === 'scores/logits')).toMatchObject({ kind: 'dense', activation: 'linear' });
    expect(spec.output).toBe('scores');
    expect(spec.layers.filter((l) => l.kind === 'add').map((l) => l.name)).toEqual(['residual', 'sum3/partial1', 'sum3']);
    const dw = await load(await save(depthwiseNet()));
    expect(dw.layers.find((l) => l.name === 'probabilities')).toMatchObject({ kind: 'softmax', inputs: ['probabilities/logits'] });
    expect(dw.layers.find((l) => l.name === 'hidden')).toMatchObject({ kind: 'dense', activation: 'relu' });
    expect(dw.layers.find((l) => l.name === 'bn_full')).toMatchObject({ kind: 'channelAffine' });
    expect(dw.layers[0]).toMatchObject({ kind: 'input', shape: INPUT_SHAPE, name: 'pointwise_input' });
  });
});

describeGpu('loadLayersModel (Keras 3 export)', () => {
  const cases: [string, () => tf.LayersModel][] = [
    ['Sequential depthwise/batchNorm net x=[2,9,7,3]', depthwiseNet],
    ['Functional residual net x=[2,9,7,3]', residualNet],
    ['Sequential layout net (ZeroPadding2D, Cropping2D, Permute, GlobalMaxPooling2D) x=[2,9,7,3]', layoutNet],
    ['Functional squeeze-and-excitation net (Multiply of two tensors) x=[2,9,7,3]', squeezeExcitationNet],
  ];
  for (const [name, build] of cases) {
    it(`${name} loads to the same outputs as its Keras 2 export`, async () => {
      const { seed, random } = randomSource();
      console.log(`[layers-model] keras 3 ${name} seed ${seed}`);
      const tfModel = build();
      randomizeWeights(tfModel, random);
      const saved = await save(tfModel);
      const keras3 = toKeras3(saved);
      expect(keras3.weightSpecs[0].name.split('/')).toHaveLength(3);
      const spec = await load(keras3, 'keras3 model.json');
      await expectEngineMatches(spec, await reference(tfModel, saved, random), `keras 3 ${name}`);
      tfModel.dispose();
    });
  }

  it('a hand-written Keras 3.5 model.json (nested Sequential, Add of two keras tensors, function-object activation, path-named weights) x=[2,9,7,3]', async () => {
    const { seed, random } = randomSource();
    console.log(`[layers-model] keras 3 hand-written seed ${seed}`);
    const twin = keras3Twin();
    randomizeWeights(twin, random);
    const saved = await save(twin);
    const keras3 = keras3Saved(saved);
    expect(keras3.weightSpecs.map((w) => w.name)).toContain('backbone/conv2d/kernel');
    expect(keras3.weightSpecs.map((w) => w.name)).toContain('depthwise_conv2d/kernel');
    const spec = await load(keras3, 'keras 3.5 model.json');
    expect(spec.layers.find((l) => l.name === 'add')).toMatchObject({ kind: 'add', inputs: ['conv2d_1', 'depthwise_conv2d'] });
    expect(spec.layers.find((l) => l.name === 'backbone/conv2d')).toMatchObject({ kind: 'conv2d', activation: 'relu', inputs: ['input_layer'] });
    await expectEngineMatches(spec, await reference(twin, saved, random), 'keras 3 hand-written');
    twin.dispose();
  });

  it('a Keras 3 Sequential built without an InputLayer takes its input shape from build_input_shape / build_config x=[2,9,7,3]', async () => {
    const { seed, random } = randomSource();
    const tfModel = depthwiseNet();
    randomizeWeights(tfModel, random);
    const saved = await save(tfModel);
    for (const where of ['build_input_shape', 'build_config'] as const) {
      const keras3 = toKeras3(saved);
      const config = keras3.topology.config;
      config.layers = (config.layers as Json[]).slice(1);
      if (where === 'build_input_shape') config.build_input_shape = [null, ...INPUT_SHAPE];
      else config.layers[0].build_config = { input_shape: [null, ...INPUT_SHAPE] };
      const spec = await load(keras3);
      expect(spec.layers[0]).toMatchObject({ kind: 'input', shape: INPUT_SHAPE });
      await expectEngineMatches(spec, await reference(tfModel, saved, random), `keras 3 sequential ${where} seed ${seed}`);
    }
    tfModel.dispose();
  });

  it('a Lambda layer, a custom registered layer and an unknown class are refused naming the layer and saying custom code cannot be loaded', async () => {
    const twin = await save(keras3Twin());
    const replaced = (layer: Json): Saved => {
      const saved = keras3Saved(twin);
      const layers = saved.topology.model_config.config.layers as Json[];
      const at = layers.findIndex((l) => l.name === 'dropout');
      layers[at] = { ...layer, name: layer.config.name, inbound_nodes: layers[at].inbound_nodes };
      layers[at + 1].inbound_nodes = [call([layer.config.name, 0, 0])];
      return saved;
    };
    const lambda = k3('Lambda', { name: 'scale', function: { class_name: '__lambda__', config: { code: '4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7p', defaults: null, closure: null } }, arguments: {}, output_shape: null });
    const custom = { module: 'my_layers', class_name: 'ScaleBlock', config: { name: 'scale_block', trainable: true, dtype: dtypePolicy, factor: 2 }, registered_name: 'Custom>ScaleBlock' };
    const cases: [Json, string, RegExp][] = [
      [lambda, 'scale', /layer 'scale' is a Lambda layer: it runs a Python function, and custom code cannot be loaded from model.json/],
      [custom, 'scale_block', /layer 'scale_block' is a custom layer \(class ScaleBlock, registered as 'Custom>ScaleBlock'\): .*custom code cannot be loaded from model.json/],
      [k3('GroupNormalization', { name: 'group_norm', groups: 2 }), 'group_norm', /layer 'group_norm' is a GroupNormalization, which this engine does not support \(if it is a custom layer: custom code cannot be loaded from model.json\)/],
    ];
    for (const [layer, name, message] of cases) {
      const error = await load(replaced(layer)).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(UnsupportedModelError);
      expect((error as UnsupportedModelError).node).toBe(name);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('GlobalAveragePooling2D keepdims=True then Flatten matches the keepdims=False model x=[2,9,7,3]', async () => {
    const { seed, random } = randomSource();
    console.log(`[layers-model] keepdims seed ${seed}`);
    const tfModel = depthwiseNet();
    randomizeWeights(tfModel, random);
    const saved = await save(tfModel);
    const edited = toKeras3(saved);
    const layers = edited.topology.config.layers as Json[];
    const gap = layers.findIndex((l) => l.class_name === 'GlobalAveragePooling2D');
    layers[gap].config.keepdims = true;
    layers.splice(gap + 1, 0, { module: 'keras.layers', class_name: 'Flatten', config: { name: 'flatten_kept', data_format: 'channels_last', dtype: dtypePolicy }, registered_name: null });
    const spec = await load(edited);
    expect(spec.layers.find((l) => l.name === 'gap')).toMatchObject({ kind: 'globalAvgPool', keepDims: true });
    await expectEngineMatches(spec, await reference(tfModel, saved, random), 'keepdims');
    tfModel.dispose();
  });
});

describe('loadLayersModel errors', () => {
  let saved: Saved;
  beforeAll(async () => {
    saved = await save(residualNet());
  });
  const edit = (change: (topology: Json, weights: tf.io.WeightsManifestEntry[]) => void): Saved => {
    const copy = { topology: clone(saved.topology), weightSpecs: clone(saved.weightSpecs), weightData: saved.weightData };
    change(copy.topology, copy.weightSpecs);
    return copy;
  };
  const layerNamed = (topology: Json, name: string) => (topology.config.layers as Json[]).find((l) => l.name === name)!;

  it('an unsupported layer class names the class, the layer and what is supported', async () => {
    const lstm = edit((t) => {
      const layer = layerNamed(t, 'conv_b');
      layer.class_name = 'LSTM';
      layer.config = { name: 'conv_b', units: 4 };
    });
    const error = await load(lstm).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedModelError);
    expect((error as UnsupportedModelError).node).toBe('conv_b');
    expect((error as UnsupportedModelError).op).toBe('LSTM');
    expect((error as Error).message).toMatch(/'conv_b' is a LSTM.*supported layers: InputLayer, Conv2D/);
    const conv3d = edit((t) => {
      layerNamed(t, 'conv_a').class_name = 'Conv3D';
    });
    await expect(load(conv3d)).rejects.toThrow(/layer 'conv_a' is a Conv3D/);
  });

  it('unsupported options name the layer and the option', async () => {
    const cases: [string, (t: Json) => void, RegExp][] = [
      ['ReLU max_value -1', (t) => { layerNamed(t, 'relu6').config.max_value = -1; }, /'relu6' \(ReLU\): max_value=-1 is not supported \(it must be >= 0\)/],
      ['log_softmax activation', (t) => { layerNamed(t, 'conv_a').config.activation = 'log_softmax'; }, /'conv_a' \(Conv2D\): activation "log_softmax" is not supported \(supported: linear, relu, relu6, sigmoid, softmax, tanh, elu, .*gelu/],
      ['PReLU shared over width only', (t) => { Object.assign(layerNamed(t, 'relu6'), { class_name: 'PReLU', config: { name: 'relu6', shared_axes: [2] } }); }, /'relu6' \(PReLU\): shared_axes \[2\] is not supported/],
      ['channels_first', (t) => { layerNamed(t, 'conv_a').config.data_format = 'channels_first'; }, /'conv_a' \(Conv2D\): data_format 'channels_first'/],
      ['causal padding', (t) => { layerNamed(t, 'conv_a').config.padding = 'causal'; }, /'conv_a' \(Conv2D\): padding "causal"/],
      ['batch norm on axis 1', (t) => { layerNamed(t, 'bn').config.axis = 1; }, /'bn' \(BatchNormalization\): axis 1 is not supported on a rank-4 input/],
      ['shared layer', (t) => { layerNamed(t, 'conv_b').inbound_nodes.push([['conv_a', 0, 0, {}]]); }, /'conv_b' \(Conv2D\): is called 2 times; shared layers/],
      ['dense on an image', (t) => { layerNamed(t, 'scores').inbound_nodes = [[['sum3', 0, 0, {}]]]; }, /'scores' \(Dense\): needs a rank-2 input, got rank 4 \(flatten or pool first/],
      ['unknown input size', (t) => { layerNamed(t, 'image').config.batch_input_shape = [null, null, null, 3]; }, /fixed input size/],
      // ops-binary: merge layers
      ['Subtract of three', (t) => { layerNamed(t, 'sum3').class_name = 'Subtract'; }, /'sum3' \(Subtract\): has 3 input\(s\); Subtract takes 2$/],
      ['Concatenate on the batch axis', (t) => { Object.assign(layerNamed(t, 'sum3'), { class_name: 'Concatenate' }).config.axis = 0; }, /'sum3' \(Concatenate\): axis 0 is not supported on rank-4 inputs \(an axis after the batch/],
    ];
    for (const [label, change, message] of cases) {
      const error = await load(edit(change)).catch((e: unknown) => e);
      expect(error, label).toBeInstanceOf(UnsupportedModelError);
      expect((error as Error).message, label).toMatch(message);
    }
  });

  it('a missing weight names the layer, the weight and what the manifest has', async () => {
    const missing = edit((_t, weights) => {
      weights.find((w) => w.name === 'conv_b/kernel')!.name = 'conv_b/kernel_renamed';
    });
    const error = await load(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toMatch(/layer 'conv_b' \(Conv2D\) needs weight 'conv_b\/kernel'.*it has for this layer: conv_b\/kernel_renamed, conv_b\/bias/);
  });

  it('an ambiguous weight name is an error, a unique prefixed one is found', async () => {
    const ambiguous = edit((_t, weights) => {
      weights.find((w) => w.name === 'conv_b/kernel')!.name = 'one/conv_b/kernel';
      weights.find((w) => w.name === 'conv_b/bias')!.name = 'two/conv_b/kernel';
    });
    await expect(load(ambiguous)).rejects.toThrow(/weight 'conv_b\/kernel' of layer 'conv_b' \(Conv2D\) is ambiguous: the manifest has one\/conv_b\/kernel, two\/conv_b\/kernel/);
    const prefixed = edit((_t, weights) => {
      for (const w of weights) w.name = `residual_net/${w.name}:0`;
    });
    expect((await load(prefixed)).layers.map((l) => l.name)).toContain('conv_b');
  });

  it('a weight shape that contradicts the config is an error', async () => {
    const wrong = edit((t) => {
      layerNamed(t, 'conv_b').config.filters = 5;
    });
    await expect(load(wrong)).rejects.toThrow(/'conv_b' \(Conv2D\): weight 'kernel' has shape \[3, 3, 4, 4\] but the layer's config implies \[3, 3, \?, 5\]/);
  });

  it('a graph model or a file without a topology is refused clearly', async () => {
    const graph = filesFromMemory('graph/model.json', { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }, new Map());
    await expect(loadLayersModel(graph)).rejects.toThrow(UnsupportedModelError);
    await expect(loadLayersModel(graph)).rejects.toThrow(/graph model, not a Layers model/);
    const empty = filesFromMemory('empty/model.json', { weightsManifest: [] }, new Map());
    await expect(loadLayersModel(empty)).rejects.toThrow(/no Keras modelTopology/);
  });
});

describeGpu('loadLayersModel: data-movement layers (ZeroPadding2D, Cropping2D, Permute, GlobalMaxPooling2D) vs TF.js CPU', () => {
  it('pad [[2,0],[1,3]], crop [[1,2],[0,1]], permute [2,1,3], global max pool, dense softmax x=[2,9,7,3]', async () => {
    const { seed, random } = randomSource();
    const name = 'layout net x=[2,9,7,3]';
    console.log(`[layers-model] ${name} seed ${seed}`);
    const tfModel = layoutNet();
    randomizeWeights(tfModel, random);
    const saved = await save(tfModel);
    const spec = await load(saved);
    expect(spec.layers.map((l) => `${l.kind}:${l.name}`)).toEqual([
      'input:pad_input', 'zeroPad:pad', 'conv2d:conv_a', 'crop:crop', 'transpose:swap_hw', 'conv2d:conv_b', 'reduce:gmp', 'dense:probabilities/logits', 'softmax:probabilities',
    ]);
    expect(spec.layers.find((l) => l.name === 'crop')).toMatchObject({ top: 1, bottom: 2, left: 0, right: 1 });
    expect(spec.layers.find((l) => l.name === 'swap_hw')).toMatchObject({ perm: [0, 2, 1, 3] });
    expect(spec.layers.find((l) => l.name === 'gmp')).toMatchObject({ reduction: 'max', axes: [1, 2], keepDims: false });
    await expectEngineMatches(spec, await reference(tfModel, saved, random), name, { output: 1e-5, gradient: 1e-4 });
    tfModel.dispose();
  });

  it('maps GlobalMaxPooling2D keepdims (a Keras option TF.js lacks), and refuses channels_first cropping and a Permute that is not one', async () => {
    const saved = await save(layoutNet());
    const edited = (change: (layers: Json[]) => void): Saved => {
      const topology = clone(saved.topology);
      change(topology.config.layers as Json[]);
      return { ...saved, topology };
    };
    const keep = await load(edited((layers) => {
      layers.find((l) => l.config.name === 'gmp')!.config.keepdims = true;
      layers.find((l) => l.config.name === 'probabilities')!.class_name = 'Flatten';
    }));
    expect(keep.layers.find((l) => l.name === 'gmp')).toMatchObject({ kind: 'reduce', keepDims: true });
    await expect(load(edited((layers) => { layers.find((l) => l.config.name === 'crop')!.config.data_format = 'channels_first'; })))
      .rejects.toThrow(/'crop' \(Cropping2D\): data_format 'channels_first'/);
    await expect(load(edited((layers) => { layers.find((l) => l.config.name === 'swap_hw')!.config.dims = [2, 2, 3]; })))
      .rejects.toThrow(/'swap_hw' \(Permute\): dims \[2,2,3\] must order the 3 axes after the batch, counted from 1/);
  });
});

// ---------------------------------------------------------------------------------------------
// ops-elementwise: every Keras activation and activation layer

/**
 * The Keras activations TF.js Layers has, each fused into its own 1x1 conv branch ('gelu_new', its
 * tanh-form GELU, is saved by TF.js but not loaded back by it: checked on the spec only).
 */
const FUSED_ACTIVATIONS = ['tanh', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'mish', 'gelu', 'hardSigmoid'];
/** Tolerances of the activation models: relative L2 of logits and outputs, of the input gradient. */
const ACTIVATION_TOLERANCE = { output: 1e-5, gradient: 1e-4 };

const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor;

/**
 * Rescaling, conv, PReLU (shared over H and W), then parallel branches summed by Add: one 1x1 conv
 * per fused activation, LeakyReLU, ELU, ReLU(max 2.5), PReLU with one slope per element, and
 * Activation layers; GAP, dense with a fused GELU, dense softmax.
 */
function activationNet(): tf.LayersModel {
  const input = tf.input({ shape: INPUT_SHAPE, name: 'image' });
  const scaled = apply(tf.layers.rescaling({ scale: 0.8, offset: -0.3, name: 'rescale' }), input);
  const trunk = apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'trunk' }), scaled);
  const shared = apply(tf.layers.prelu({ sharedAxes: [1, 2], name: 'prelu_shared' }), trunk);
  const branches = [
    ...FUSED_ACTIVATIONS.map((a) => apply(tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: a as 'tanh', name: `conv_${a}` }), shared)),
    apply(tf.layers.leakyReLU({ alpha: 0.2, name: 'leaky' }), shared),
    apply(tf.layers.elu({ name: 'elu_layer' }), shared), // TF.js's ELU layer takes alpha 1 only
    apply(tf.layers.reLU({ maxValue: 2.5, name: 'relu_max' }), shared),
    apply(tf.layers.prelu({ name: 'prelu_full' }), shared),
    apply(tf.layers.activation({ activation: 'softsign', name: 'act_softsign' }), shared),
    apply(tf.layers.activation({ activation: 'mish', name: 'act_mish' }), shared),
  ];
  const sum = apply(tf.layers.add({ name: 'sum' }), branches as unknown as tf.SymbolicTensor);
  const pooled = apply(tf.layers.globalAveragePooling2d({ name: 'gap' }), sum);
  const hidden = apply(tf.layers.dense({ units: 6, activation: 'gelu', name: 'hidden_gelu' }), pooled);
  const swish = apply(tf.layers.dense({ units: 5, activation: 'swish', name: 'hidden_swish' }), hidden);
  const out = apply(tf.layers.dense({ units: 3, activation: 'softmax', name: 'probabilities' }), swish);
  return tf.model({ inputs: input, outputs: out, name: 'activation_net' });
}

/** Conv, ThresholdedReLU, GAP, dense logits. */
function thresholdNet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: INPUT_SHAPE, filters: 4, kernelSize: 3, name: 'conv' }),
      tf.layers.thresholdedReLU({ theta: 0.3, name: 'thresholded' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 3, name: 'logits' }),
    ],
  });
}

/**
 * thresholdNet's reference: TF.js's ThresholdedReLU is x * cast(x > theta), and tf.grad finds no
 * gradient for Greater, so the reference multiplies by the same mask taken as a constant (Keras'
 * gradient: the cast mask, 1 where x > theta).
 */
function thresholdReference(tfModel: tf.LayersModel, random: () => number): Reference {
  const shape = [BATCH, ...INPUT_SHAPE];
  const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 4 - 2);
  const [conv, , gap, dense] = tfModel.layers;
  const f = (t: tf.Tensor) => {
    const h = conv.apply(t) as tf.Tensor;
    const mask = tf.tensor(Float32Array.from(h.dataSync(), (v) => (v > 0.3 ? 1 : 0)), h.shape);
    return dense.apply(gap.apply(tf.mul(h, mask))) as tf.Tensor;
  };
  const xt = tf.tensor(x, shape);
  const logits = (tfModel.predict(xt) as tf.Tensor).dataSync() as Float32Array;
  expect(relativeL2(f(xt).dataSync(), logits), 'reference logits function').toBeLessThan(1e-6);
  const seed = new Float32Array(logits.length);
  for (let n = 0; n < BATCH; n++) seed[n * 3 + [0, 1, 2].reduce((best, k) => (logits[n * 3 + k] > logits[n * 3 + best] ? k : best), 0)] = 1;
  const seedT = tf.tensor(seed, [BATCH, 3]);
  const gradient = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), seedT)))(xt).dataSync() as Float32Array;
  tf.dispose([xt, seedT]);
  return { x, shape, output: logits, logits, seed, gradient };
}

describeGpu('loadLayersModel: activations and activation layers vs TF.js CPU', () => {
  it('Rescaling, PReLU shared/full, conv with tanh/elu/selu/softplus/softsign/swish/mish/gelu/hardSigmoid, LeakyReLU, ELU, ReLU max 2.5, Activation, dense gelu/swish x=[2,9,7,3]', async () => {
    const { seed, random } = randomSource();
    console.log(`[layers-model] activation net seed ${seed}`);
    const tfModel = activationNet();
    randomizeWeights(tfModel, random);
    const saved = await save(tfModel);
    const spec = await load(saved);
    const kinds = new Map(spec.layers.map((l) => [l.name, l]));
    expect(kinds.get('rescale')).toMatchObject({ kind: 'activation', activation: { kind: 'affine', scale: 0.8, offset: -0.3 } });
    expect(kinds.get('prelu_shared')).toMatchObject({ kind: 'prelu', alpha: { shape: [1, 1, 4] } });
    expect(kinds.get('prelu_full')).toMatchObject({ kind: 'prelu', alpha: { shape: [9, 7, 4] } });
    // the kernels fuse relu/relu6/sigmoid only: other activations follow a linear conv
    expect(kinds.get('conv_gelu/linear')).toMatchObject({ kind: 'conv2d', activation: 'linear' });
    expect(kinds.get('conv_gelu')).toMatchObject({ kind: 'activation', activation: 'gelu', inputs: ['conv_gelu/linear'] });
    expect(kinds.get('conv_hardSigmoid')).toMatchObject({ activation: { kind: 'hardSigmoid', slope: 0.2, offset: 0.5 } });
    expect(kinds.get('leaky')).toMatchObject({ activation: { kind: 'leakyRelu', alpha: 0.2 } });
    expect(kinds.get('relu_max')).toMatchObject({ activation: { kind: 'generalRelu', negativeSlope: 0, threshold: 0, maxValue: 2.5 } });
    await expectEngineMatches(spec, await reference(tfModel, saved, random), 'activation net', ACTIVATION_TOLERANCE);
    tfModel.dispose();
  });

  it('ThresholdedReLU theta=0.3 x=[2,9,7,3]', async () => {
    const { seed, random } = randomSource();
    console.log(`[layers-model] thresholded relu seed ${seed}`);
    const tfModel = thresholdNet();
    randomizeWeights(tfModel, random);
    const spec = await load(await save(tfModel));
    expect(spec.layers.find((l) => l.name === 'thresholded')).toMatchObject({ activation: { kind: 'generalRelu', negativeSlope: 0, threshold: 0.3 } });
    await expectEngineMatches(spec, thresholdReference(tfModel, random), 'thresholded relu', ACTIVATION_TOLERANCE);
    tfModel.dispose();
  });
});

describe('loadLayersModel: activation options and preprocessing layers (spec)', () => {
  let saved: Saved;
  beforeAll(async () => {
    saved = await save(activationNet());
  });
  const layerNamed = (topology: Json, name: string) => (topology.config.layers as Json[]).find((l) => l.name === name)!;
  /** The saved net with `change` applied to the topology, plus extra weights appended to the shard. */
  const edited = (change: (t: Json) => void, extra: { name: string; values: number[] }[] = []): Saved => {
    const topology = clone(saved.topology);
    change(topology);
    const added = extra.map((w) => new Uint8Array(Float32Array.from(w.values).buffer));
    const data = new Uint8Array(saved.weightData.byteLength + added.reduce((n, b) => n + b.byteLength, 0));
    data.set(new Uint8Array(saved.weightData));
    let at = saved.weightData.byteLength;
    for (const b of added) {
      data.set(b, at);
      at += b.byteLength;
    }
    const specs = [...saved.weightSpecs, ...extra.map((w) => ({ name: w.name, shape: [w.values.length], dtype: 'float32' as const }))];
    return { topology, weightSpecs: specs, weightData: data.buffer };
  };
  const layerOf = async (s: Saved, name: string) => (await load(s)).layers.find((l) => l.name === name);

  it('ReLU options: negative_slope alone is a leaky ReLU, with a threshold or max the general Keras relu', async () => {
    const relu = (config: Json) => edited((t) => Object.assign(layerNamed(t, 'relu_max').config, { max_value: null, ...config }));
    expect(await layerOf(relu({ negative_slope: 0.1 }), 'relu_max')).toMatchObject({ activation: { kind: 'leakyRelu', alpha: 0.1 } });
    expect(await layerOf(relu({ threshold: 0.5, negative_slope: 0.1, max_value: 4 }), 'relu_max')).toMatchObject({ activation: { kind: 'generalRelu', negativeSlope: 0.1, threshold: 0.5, maxValue: 4 } });
    expect(await layerOf(relu({ max_value: 6 }), 'relu_max')).toMatchObject({ activation: 'relu6' });
    expect(await layerOf(relu({}), 'relu_max')).toMatchObject({ activation: 'relu' });
  });

  it('LeakyReLU (Keras 3 negative_slope), ELU alpha, gelu_new and Keras 3 hard_sigmoid / hard_silu / leaky_relu activations', async () => {
    const s = edited((t) => {
      layerNamed(t, 'leaky').config = { name: 'leaky', negative_slope: 0.05 };
      layerNamed(t, 'elu_layer').config.alpha = 0.7;
      layerNamed(t, 'conv_gelu').config.activation = 'gelu_new';
    });
    const spec = await load(s);
    const named = (n: string) => spec.layers.find((l) => l.name === n);
    expect(named('leaky')).toMatchObject({ activation: { kind: 'leakyRelu', alpha: 0.05 } });
    expect(named('elu_layer')).toMatchObject({ activation: { kind: 'elu', alpha: 0.7 } });
    expect(named('conv_gelu')).toMatchObject({ activation: 'geluTanh' });
    // Keras 3 (its entries carry `module`): hard_sigmoid is relu6(x + 3) / 6
    const keras3 = toKeras3(edited((t) => {
      layerNamed(t, 'hidden_swish').config.activation = 'hard_silu';
      layerNamed(t, 'hidden_gelu').config.activation = 'leaky_relu';
    }));
    const spec3 = await load(keras3);
    const named3 = (n: string) => spec3.layers.find((l) => l.name === n);
    expect(named3('conv_hardSigmoid')).toMatchObject({ activation: { kind: 'hardSigmoid', slope: 1 / 6, offset: 0.5 } });
    expect(named3('hidden_swish')).toMatchObject({ kind: 'activation', activation: 'hardSwish', inputs: ['hidden_swish/linear'] });
    expect(named3('hidden_gelu')).toMatchObject({ activation: { kind: 'leakyRelu', alpha: 0.2 } });
  });

  it('Rescaling per channel and Normalization (adapted weights, config values, invert) become channel affine maps', async () => {
    const rescale = await layerOf(edited((t) => Object.assign(layerNamed(t, 'rescale').config, { scale: [1, 2, 4], offset: 0.5 })), 'rescale');
    expect(rescale).toMatchObject({ kind: 'channelAffine', scale: { shape: [3] }, shift: { shape: [3] } });
    expect(rescale?.kind === 'channelAffine' && [...rescale.scale.data, ...rescale.shift.data]).toEqual([1, 2, 4, 0.5, 0.5, 0.5]);
    const normalization = (config: Json) => (t: Json) => Object.assign(layerNamed(t, 'rescale'), { class_name: 'Normalization', config: { name: 'rescale', axis: -1, ...config } });
    const affine = async (s: Saved) => {
      const l = await layerOf(s, 'rescale');
      expect(l?.kind).toBe('channelAffine');
      return l?.kind === 'channelAffine' ? [...l.scale.data, ...l.shift.data].map((v) => Number(v.toFixed(5))) : [];
    };
    const weights = [{ name: 'rescale/mean', values: [1, -2, 0] }, { name: 'rescale/variance', values: [4, 0.25, 1] }, { name: 'rescale/count', values: [10] }];
    expect(await affine(edited(normalization({}), weights))).toEqual([0.5, 2, 1, -0.5, 4, 0]);
    expect(await affine(edited(normalization({ mean: [1, -2, 0], variance: [4, 0.25, 1] })))).toEqual([0.5, 2, 1, -0.5, 4, 0]);
    expect(await affine(edited(normalization({ invert: true }), weights))).toEqual([2, 0.5, 1, 1, -2, 0]);
    // one mean and variance for every channel: a single elementwise affine
    expect(await layerOf(edited(normalization({ mean: 2, variance: 4 })), 'rescale')).toMatchObject({ kind: 'activation', activation: { kind: 'affine', scale: 0.5, offset: -1 } });
  });
});
