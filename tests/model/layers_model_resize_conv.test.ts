/**
 * The TF.js Layers loader on UpSampling2D (nearest, bilinear), Conv2DTranspose (strides 2,
 * same/valid, output_padding) and SeparableConv2D: tiny Sequential models built in TF.js, saved to
 * model.json, loaded and run by the engine, against TF.js on its CPU backend (logits within 1e-5
 * relative L2, the input gradient of a random upstream within 1e-4). Every model ends in a linear
 * dense layer, so its output is its logits.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KernelVariant } from '../../src/gpu/variants.js';
import { filesFromMemory, ModelLoadError, UnsupportedModelError } from '../../src/model/loaders/files.js';
import { loadLayersModel } from '../../src/model/loaders/layers_model.js';
import { INPUT, Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, KERNEL_VARIANTS, testRuntime } from '../gpu.js';
import { relativeL2 } from '../reference/tensor.js';
import { resizeByMatrices } from './resize_conv_oracle.js';
import { save, type Saved } from './tfjs_save.js';

type Json = Record<string, any>;

const LOGITS_TOLERANCE = 1e-5;
const GRADIENT_TOLERANCE = 1e-4;
const BATCH = 2;
const TFJS = 'TensorFlow.js tfjs-layers v4';
const KERAS = 'keras v2.15.0';



/** Loads `saved` as a model.json written by `generatedBy` (TF.js itself, or the converter from Keras). */
function load(saved: Saved, generatedBy: string): Promise<ModelSpec> {
  const json = { format: 'layers-model', generatedBy, modelTopology: saved.topology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }] };
  return loadLayersModel(filesFromMemory('test model.json', json, new Map([['weights.bin', saved.weightData]])));
}

function randomizeWeights(model: tf.LayersModel, random: () => number): void {
  model.setWeights(model.weights.map((w) => {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const scale = w.originalName.endsWith('bias') ? 0.3 : 1.5 * Math.sqrt(3 / (shape.length > 1 ? size / shape[shape.length - 1] : 1));
    return tf.tensor(Float32Array.from({ length: size }, () => (random() * 2 - 1) * scale), shape);
  }));
}

/** The model as a function of x, layer by layer, with `replace` standing in for the layers it returns a value for. */
type Replacement = (layer: tf.layers.Layer, h: tf.Tensor) => tf.Tensor | undefined;
function layerByLayer(model: tf.LayersModel, replace: Replacement): (x: tf.Tensor) => tf.Tensor {
  return (x) => model.layers.reduce((h, layer) => replace(layer, h) ?? (layer.apply(h) as tf.Tensor), x);
}

interface Result {
  logits: Float32Array;
  gradient: Float32Array;
}

/** TF.js's logits and d sum(logits * seed) / dx through `f`. */
function oracle(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, seed: tf.Tensor): Result {
  const logits = f(x).dataSync() as Float32Array;
  const gradient = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), seed)))(x).dataSync() as Float32Array;
  return { logits, gradient };
}

async function engine(spec: ModelSpec, x: tf.Tensor, seed: tf.Tensor, kernels?: KernelVariant): Promise<Result> {
  const rt = testRuntime(kernels);
  const model = Model.create(rt, spec);
  expect(model.logitsName).toBe(model.outputName);
  const input = rt.upload(x.shape, x.dataSync(), 'x');
  const pass = model.forward(input, { forBackward: true });
  const logits = await rt.read(pass.value(model.outputName));
  const { gradients } = model.backward(pass, new Map([[model.outputName, rt.upload(seed.shape, seed.dataSync(), 'seed')]]));
  const dx = gradients.get(INPUT)!;
  expect(dx.shape).toEqual(x.shape);
  const gradient = await rt.read(dx);
  dx.dispose();
  pass.dispose();
  input.dispose();
  model.dispose();
  return { logits, gradient };
}

function expectAgreement(actual: Result, expected: Result, label: string): void {
  const logits = relativeL2(actual.logits, expected.logits);
  const gradient = relativeL2(actual.gradient, expected.gradient);
  console.log(`[layers-model] ${label}: relative L2 logits ${logits.toExponential(2)} input-gradient ${gradient.toExponential(2)}`);
  expect(Math.hypot(...expected.gradient), `${label}: reference gradient is zero`).toBeGreaterThan(1e-3);
  expect(logits, `${label}: logits`).toBeLessThanOrEqual(LOGITS_TOLERANCE);
  expect(gradient, `${label}: input gradient`).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
}

/** Random input [BATCH, ...] and upstream gradient for `model`. */
function inputs(model: tf.LayersModel, random: () => number): { x: tf.Tensor; seed: tf.Tensor } {
  const shape = [BATCH, ...(model.inputs[0].shape.slice(1) as number[])];
  const x = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 4 - 2), shape);
  const outShape = [BATCH, ...(model.outputs[0].shape.slice(1) as number[])];
  const seed = tf.tensor(Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1), outShape);
  return { x, seed };
}

// ---------------------------------------------------------------------------------------------
// Test models

/** UpSampling2D nearest 2x3 and bilinear 3x2 between convolutions; input 5x4x2. */
function upSamplingNet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [5, 4, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_a' }),
      tf.layers.upSampling2d({ size: [2, 3], interpolation: 'nearest', name: 'up_nearest' }),
      tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, activation: 'relu', name: 'conv_b' }),
      tf.layers.upSampling2d({ size: [3, 2], interpolation: 'bilinear', name: 'up_bilinear' }),
      tf.layers.conv2d({ filters: 2, kernelSize: 3, strides: 2, name: 'conv_c' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 4, name: 'logits' }),
    ],
  });
}

/** Conv2DTranspose strides 2 same (relu) and valid (no bias), SeparableConv2D x2 depth multiplier; input 4x3x3. */
function transposeNet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2dTranspose({ inputShape: [4, 3, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'up_same' }),
      tf.layers.conv2dTranspose({ filters: 5, kernelSize: [3, 2], strides: 2, padding: 'valid', useBias: false, name: 'up_valid' }),
      tf.layers.separableConv2d({ filters: 6, kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', activation: 'relu', name: 'separable' }),
      tf.layers.separableConv2d({ filters: 3, kernelSize: 2, padding: 'valid', useBias: false, name: 'separable_valid' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 4, name: 'logits' }),
    ],
  });
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describeGpu('loadLayersModel: UpSampling2D, Conv2DTranspose, SeparableConv2D vs TF.js CPU', () => {
  /** TF.js's UpSampling2D as the engine runs it: resizeByMatrices with the loader's flags. */
  const upSampling = (halfPixelCenters: boolean): Replacement => (layer, h) => {
    if (layer.getClassName() !== 'UpSampling2D') return undefined;
    const { size, interpolation } = layer.getConfig() as { size: [number, number]; interpolation: 'nearest' | 'bilinear' };
    const [, height, width] = h.shape;
    const flags = { method: interpolation, alignCorners: false, halfPixelCenters: interpolation === 'bilinear' && halfPixelCenters };
    return resizeByMatrices(h as tf.Tensor4D, [height! * size[0], width! * size[1]], flags);
  };

  it('UpSampling2D nearest 2x3 and bilinear 3x2, saved by TF.js (legacy bilinear) x=[2,5,4,2]', async () => {
    const { seed: s, random } = randomSource();
    const label = `upsampling (TF.js-saved) seed ${s}`;
    const tfModel = upSamplingNet();
    randomizeWeights(tfModel, random);
    const spec = await load(await save(tfModel), TFJS);
    expect(spec.layers.find((l) => l.name === 'up_bilinear')).toMatchObject({ kind: 'resize', method: 'bilinear', factor: [3, 2], alignCorners: false, halfPixelCenters: false });
    expect(spec.layers.find((l) => l.name === 'up_nearest')).toMatchObject({ kind: 'resize', method: 'nearest', factor: [2, 3] });
    const { x, seed } = inputs(tfModel, random);
    const expected = oracle(layerByLayer(tfModel, upSampling(false)), x, seed);
    // the matrix stand-in is TF.js's own UpSampling2D
    expect(relativeL2(expected.logits, (tfModel.predict(x) as tf.Tensor).dataSync())).toBeLessThan(1e-6);
    expectAgreement(await engine(spec, x, seed), expected, label);
  });

  it('UpSampling2D bilinear converted from Keras runs half_pixel_centers (as Keras does, unlike TF.js) x=[2,5,4,2]', async () => {
    const { seed: s, random } = randomSource();
    const tfModel = upSamplingNet();
    randomizeWeights(tfModel, random);
    const spec = await load(await save(tfModel), KERAS);
    expect(spec.layers.find((l) => l.name === 'up_bilinear')).toMatchObject({ kind: 'resize', method: 'bilinear', halfPixelCenters: true });
    const { x, seed } = inputs(tfModel, random);
    const expected = oracle(layerByLayer(tfModel, upSampling(true)), x, seed);
    // TF.js's own UpSampling2D computes something else here: the test can tell the two apart
    expect(relativeL2(expected.logits, (tfModel.predict(x) as tf.Tensor).dataSync())).toBeGreaterThan(1e-3);
    expectAgreement(await engine(spec, x, seed), expected, `upsampling (Keras-converted) seed ${s}`);
  });

  for (const kernels of KERNEL_VARIANTS) {
    it(`Conv2DTranspose s2 same/valid, SeparableConv2D x2 s2 same / valid [${kernels} kernels] x=[2,4,3,3]`, async () => {
      const { seed: s, random } = randomSource();
      const tfModel = transposeNet();
      randomizeWeights(tfModel, random);
      const spec = await load(await save(tfModel), TFJS);
      expect(spec.layers.map((l) => `${l.kind}:${l.name}`)).toEqual([
        'input:up_same_input', 'conv2dTranspose:up_same', 'conv2dTranspose:up_valid', 'depthwiseConv2d:separable/depthwise', 'conv2d:separable',
        'depthwiseConv2d:separable_valid/depthwise', 'conv2d:separable_valid', 'globalAvgPool:gap', 'dense:logits',
      ]);
      const { x, seed } = inputs(tfModel, random);
      const expected = oracle((t) => tfModel.apply(t) as tf.Tensor, x, seed);
      expectAgreement(await engine(spec, x, seed, kernels), expected, `transpose/separable [${kernels}] seed ${s}`);
    });
  }

  it('Conv2DTranspose output_padding (set in the config; TF.js layers lack it) against tf.conv2dTranspose x=[2,4,3,3]', async () => {
    const { seed: s, random } = randomSource();
    const tfModel = transposeNet();
    randomizeWeights(tfModel, random);
    const saved = await save(tfModel);
    const upValid = (saved.topology.config.layers as Json[]).find((l) => l.config.name === 'up_valid')!;
    upValid.config.output_padding = [1, 1];
    const spec = await load(saved, KERAS);
    // Keras: (in - 1) * stride + kernel + output_padding = 7 * 2 + 3 + 1 rows, 5 * 2 + 2 + 1 columns
    // (without output_padding: in * stride + max(kernel - stride, 0) = 17 and 12)
    const model = Model.create(testRuntime(), spec);
    expect(model.shapes(1).get('up_valid')).toEqual([1, 18, 13, 5]);
    model.dispose();
    const { x, seed } = inputs(tfModel, random);
    const layer = tfModel.getLayer('up_valid');
    const expected = oracle(layerByLayer(tfModel, (l, h) => {
      if (l !== layer) return undefined;
      const [n, height, width] = h.shape as number[];
      const [kernel] = l.getWeights();
      return tf.conv2dTranspose(h as tf.Tensor4D, kernel as tf.Tensor4D, [n, (height - 1) * 2 + 3 + 1, (width - 1) * 2 + 2 + 1, 5], 2, 'valid');
    }), x, seed);
    expectAgreement(await engine(spec, x, seed), expected, `output_padding seed ${s}`);
  });
});

describe('loadLayersModel: UpSampling2D / Conv2DTranspose / SeparableConv2D errors', () => {
  let saved: Saved;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    saved = await save(transposeNet());
  });
  const edit = (name: string, change: (config: Json) => void): Saved => {
    const copy = { ...saved, topology: JSON.parse(JSON.stringify(saved.topology)) as Json };
    change((copy.topology.config.layers as Json[]).find((l) => l.config.name === name)!.config);
    return copy;
  };

  it('names the layer and the option', async () => {
    const bicubic = await save(upSamplingNet());
    (bicubic.topology.config.layers as Json[])[1].config.interpolation = 'bicubic';
    const error = await load(bicubic, KERAS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedModelError);
    expect((error as Error).message).toMatch(/'up_nearest' \(UpSampling2D\): interpolation "bicubic" is not supported \(supported: nearest, bilinear\)/);
    await expect(load(edit('up_valid', (c) => { c.output_padding = [2, 1]; }), KERAS)).rejects.toThrow(ModelLoadError);
    await expect(load(edit('up_valid', (c) => { c.output_padding = [2, 1]; }), KERAS)).rejects.toThrow(/'up_valid' \(Conv2DTranspose\): output_padding \[2, 1\] must be smaller than the strides \[2, 2\]/);
    await expect(load(edit('up_same', (c) => { c.data_format = 'channels_first'; }), KERAS)).rejects.toThrow(/'up_same' \(Conv2DTranspose\): data_format 'channels_first'/);
    await expect(load(edit('separable', (c) => { c.filters = 7; }), KERAS)).rejects.toThrow(/'separable' \(SeparableConv2D\): weight 'pointwise_kernel' has shape \[1, 1, 10, 6\] but the layer's config implies \[1, 1, 10, 7\]/);
  });
});
