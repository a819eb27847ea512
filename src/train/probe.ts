/**
 * Linear probes (Alain and Bengio 2016): how linearly decodable the labels are from each layer's
 * representation. Per layer: the layer's features of the images (Explainer.layerFeatures), a
 * seeded train/test split, features standardized with the training rows' mean and deviation, and
 * a softmax regression (one dense layer, trained on the GPU by `fit`, Adam) whose held-out
 * accuracy is the probe's answer. Softmax regression is convex, so weights start at zero and a
 * seed fixes the run. Features are read back once per layer because `fit` takes its data as
 * arrays (N x D floats, small next to the images).
 */
import { InputError, OptionError } from '../errors.js';
import type { Explainer } from '../explain/explainer.js';
import type { ImageBatch } from '../explain/batch.js';
import type { ImageInput } from '../explain/context.js';
import type { LayerFeatureOptions } from '../explain/embedding.js';
import { Model } from '../model/model.js';
import type { ModelSpec } from '../model/spec.js';
import { evaluate, fit } from './fit.js';
import { seededPermutation } from './shuffle.js';

export interface ProbeOptions {
  pool?: LayerFeatureOptions['pool'];
  /** Fraction of the images held out for the accuracy. Default 0.25. */
  testFraction?: number;
  /** Default 30. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Adam's learning rate. Default 0.01. */
  learningRate?: number;
  /** Fixes the split and the batches' order. Default 0. */
  seed?: number;
}

export interface LayerProbe {
  layer: string;
  featureDimension: number;
  trainAccuracy: number;
  /** Accuracy on the held-out images. */
  testAccuracy: number;
  /** Share of the most frequent class among the held-out images: what guessing it scores. */
  chance: number;
  milliseconds: number;
}

/**
 * Softmax regression D -> classes, zero weights. The features enter as [1, 1, D] images because
 * fit's batch gather takes NHWC datasets; a flatten makes them [N, D] again.
 */
function softmaxRegression(dimension: number, classes: number): ModelSpec {
  return {
    source: 'linear probe (built in code)',
    layers: [
      { kind: 'input', name: 'features', inputs: [], shape: [1, 1, dimension] },
      { kind: 'reshape', name: 'flatten', inputs: ['features'], shape: [-1] },
      {
        kind: 'dense', name: 'logits', inputs: ['flatten'], activation: 'linear',
        weights: { shape: [dimension, classes], data: new Float32Array(dimension * classes) }, bias: { shape: [classes], data: new Float32Array(classes) },
      },
      { kind: 'softmax', name: 'probs', inputs: ['logits'] },
    ],
    output: 'probs',
  };
}

/** Rows `rows` of x [*, d], each feature standardized with `mean` and `deviation`. */
function standardizedRows(x: Float32Array, d: number, rows: ArrayLike<number>, mean: Float64Array, deviation: Float64Array): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) for (let j = 0; j < d; j++) out[r * d + j] = (x[rows[r] * d + j] - mean[j]) / deviation[j];
  return out;
}

/** Held-out accuracy of a linear probe on each layer's features. */
export async function probeLayers(explainer: Explainer, images: ImageInput | ImageBatch, labels: ArrayLike<number>, layers: readonly string[], options: ProbeOptions = {}): Promise<LayerProbe[]> {
  // a list of images, or a stack [N, H, W, C] (layerFeatures checks either in full)
  const count = Array.isArray(images) ? images.length : (images as ImageInput)?.shape?.length === explainer.model.inputShape.length + 1 ? (images as ImageInput).shape[0] : 1;
  if (!Array.isArray(layers) || layers.length === 0) throw new OptionError('probeLayers needs a non-empty list of layer names');
  const model = explainer.model;
  const unknown = layers.filter((layer) => typeof layer !== 'string' || !model.layers.has(layer));
  if (unknown.length) throw new OptionError(`No layer ${unknown.map((l) => `'${String(l)}'`).join(', ')} in ${model.spec.source} (layers: ${model.order.join(', ')})`);
  if (labels?.length !== count) throw new InputError(`probeLayers: ${labels?.length} labels for ${count} images`);
  let classes = 2;
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0) throw new InputError(`probeLayers: label ${i} is ${labels[i]}; labels must be class indices 0, 1, ...`);
    classes = Math.max(classes, labels[i] + 1);
  }
  const testFraction = options.testFraction ?? 0.25;
  const held = Math.round(count * testFraction);
  if (!(testFraction > 0 && testFraction < 1) || held < 1 || held >= count) throw new OptionError(`testFraction ${testFraction} must hold out at least one and at most ${count - 1} of ${count} images`);
  const seed = options.seed ?? 0;
  const epochs = options.epochs ?? 30;
  const batchSize = options.batchSize ?? 32;
  const learningRate = options.learningRate ?? 0.01;
  const order = seededPermutation(count, seed);
  const trainRows = order.subarray(0, count - held);
  const testRows = order.subarray(count - held);
  const testLabels = Float32Array.from(testRows, (r) => labels[r]);
  const trainLabels = Float32Array.from(trainRows, (r) => labels[r]);
  const frequency = new Array<number>(classes).fill(0);
  for (const label of testLabels) frequency[label]++;
  const chance = Math.max(...frequency) / held;
  const rt = explainer.runtime;

  const results: LayerProbe[] = [];
  for (const layer of layers) {
    const started = performance.now();
    const tensor = await explainer.layerFeatures(images, { layer, pool: options.pool });
    const d = tensor.shape[1];
    let x: Float32Array;
    try {
      x = await rt.read(tensor);
    } finally {
      tensor.dispose();
    }
    const mean = new Float64Array(d);
    const deviation = new Float64Array(d);
    for (const r of trainRows) for (let j = 0; j < d; j++) mean[j] += x[r * d + j] / trainRows.length;
    for (const r of trainRows) for (let j = 0; j < d; j++) deviation[j] += (x[r * d + j] - mean[j]) ** 2 / trainRows.length;
    // constant features (dead units) stay 0 instead of dividing by 0
    for (let j = 0; j < d; j++) deviation[j] = Math.sqrt(deviation[j]) || 1;
    const probe = Model.create(rt, softmaxRegression(d, classes));
    try {
      const history = await fit(probe, { images: standardizedRows(x, d, trainRows, mean, deviation), labels: trainLabels }, {
        epochs, batchSize: Math.min(batchSize, trainRows.length), optimizer: { kind: 'adam', learningRate }, seed,
      });
      const test = await evaluate(probe, { images: standardizedRows(x, d, testRows, mean, deviation), labels: testLabels });
      results.push({ layer, featureDimension: d, trainAccuracy: history[history.length - 1].accuracy, testAccuracy: test.accuracy, chance, milliseconds: performance.now() - started });
    } finally {
      probe.dispose();
    }
  }
  return results;
}
