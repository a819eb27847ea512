/**
 * Training throughput (`npm run bench:training`): the digit CNN of `npm run train:digits` trained
 * by the engine and by TensorFlow.js (its WebGPU backend on the same adapter, and its wasm backend
 * on the CPU), from the same initial weights, on the same images, batch 32, Adam, in one process.
 * Each peer is checked first: its loss on the data before training must equal the engine's (same
 * model, same weights) to 1e-4 relative. Reports images per second of training (epochs after one
 * warm-up epoch) and the ratio to the engine, as a table and as JSON.
 *   node dist-bench/training.js [--images 1024] [--epochs 2] [--json bench/results/FILE.json]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as TF from '@tensorflow/tfjs';
import { Runtime } from '../src/gpu/runtime.js';
import { Model } from '../src/model/model.js';
import type { LayerSpec, ModelSpec } from '../src/model/spec.js';
import { smallCnn } from '../src/train/cnn.js';
import { evaluate, fit, type TrainingData } from '../src/train/fit.js';
import { DIGIT_SHAPE, loadDigits } from '../scripts/digits.js';
import { benchNodeDevices } from './device-node.js';
import { provideNavigatorGpu } from './peers/peer.js';

const { values } = parseArgs({ options: { images: { type: 'string', default: '1024' }, epochs: { type: 'string', default: '2' }, json: { type: 'string' } } });
const count = Number(values.images);
const epochs = Number(values.epochs);
const BATCH = 32;
const LEARNING_RATE = 2e-3;

interface Row {
  peer: string;
  imagesPerSecond: number;
  secondsPerEpoch: number;
  /** The peer's loss before training against the engine's (the check). */
  initialLossRelativeError: number;
  vsEngine?: number;
  note?: string;
}

function subset(data: TrainingData, n: number): { images: Float32Array; labels: Float32Array } {
  return { images: Float32Array.from({ length: n * 784 }, (_, i) => data.images[i]), labels: Float32Array.from({ length: n }, (_, i) => data.labels[i]) };
}

/** The same CNN in TF.js Layers with the spec's weights (TF.js's layouts are the engine's). */
function tfjsModel(tf: typeof TF, spec: ModelSpec): TF.LayersModel {
  const model = tf.sequential();
  const weights: TF.Tensor[] = [];
  for (const layer of spec.layers as LayerSpec[]) {
    if (layer.kind === 'input') continue;
    if (layer.kind === 'conv2d') {
      model.add(tf.layers.conv2d({ inputShape: model.layers.length ? undefined : [...DIGIT_SHAPE], filters: layer.filter.shape[3], kernelSize: 3, padding: 'same', activation: 'relu' }));
      weights.push(tf.tensor(layer.filter.data, layer.filter.shape), tf.tensor(layer.bias!.data, layer.bias!.shape));
    } else if (layer.kind === 'maxPool') model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    else if (layer.kind === 'reshape') model.add(tf.layers.flatten());
    else if (layer.kind === 'dense') {
      model.add(tf.layers.dense({ units: layer.weights.shape[1], activation: layer.activation === 'relu' ? 'relu' : 'linear' }));
      weights.push(tf.tensor(layer.weights.data, layer.weights.shape), tf.tensor(layer.bias!.data, layer.bias!.shape));
    } else if (layer.kind === 'softmax') model.add(tf.layers.softmax());
    else throw new Error(`bench:training has no TF.js mapping for ${layer.kind}`);
  }
  model.setWeights(weights);
  return model;
}

async function timeTfjs(tf: typeof TF, backend: string, spec: ModelSpec, data: { images: Float32Array; labels: Float32Array }, engineLoss: number): Promise<Row> {
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  const model = tfjsModel(tf, spec);
  model.compile({ optimizer: tf.train.adam(LEARNING_RATE, 0.9, 0.999, 1e-7), loss: 'sparseCategoricalCrossentropy' });
  const x = tf.tensor4d(data.images, [data.labels.length, ...DIGIT_SHAPE]);
  const y = tf.tensor1d(data.labels, 'float32');
  const initial = (await (model.evaluate(x, y, { batchSize: 256 }) as TF.Scalar).data())[0];
  const check = Math.abs(initial - engineLoss) / Math.abs(engineLoss);
  await model.fit(x, y, { batchSize: BATCH, epochs: 1, shuffle: true, verbose: 0 });
  const started = performance.now();
  await model.fit(x, y, { batchSize: BATCH, epochs, shuffle: true, verbose: 0 });
  const seconds = (performance.now() - started) / 1000;
  tf.dispose([x, y]);
  model.dispose();
  return { peer: `tfjs-${backend}`, imagesPerSecond: (epochs * data.labels.length) / seconds, secondsPerEpoch: seconds / epochs, initialLossRelativeError: check };
}

const { device, gpu, adapter } = await benchNodeDevices();
const rt = new Runtime(device);
const data = subset(loadDigits().train, count);
const spec = smallCnn({ inputShape: DIGIT_SHAPE, classes: 10, filters: [16, 32], hidden: 128, seed: 7 });
const rows: Row[] = [];

const model = Model.create(rt, spec);
const engineLoss = (await evaluate(model, data)).loss;
await fit(model, data, { epochs: 1, batchSize: BATCH, optimizer: { kind: 'adam', learningRate: LEARNING_RATE }, logEvery: 1000 });
const started = performance.now();
await fit(model, data, { epochs, batchSize: BATCH, optimizer: { kind: 'adam', learningRate: LEARNING_RATE }, logEvery: 1000 });
const seconds = (performance.now() - started) / 1000;
rows.push({ peer: 'webgpu-xai', imagesPerSecond: (epochs * count) / seconds, secondsPerEpoch: seconds / epochs, initialLossRelativeError: 0 });
model.dispose();

provideNavigatorGpu(gpu);
const tf = (await import('@tensorflow/tfjs')) as typeof TF;
await import('@tensorflow/tfjs-backend-webgpu');
const wasm = await import('@tensorflow/tfjs-backend-wasm');
wasm.setWasmPaths(`${join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')}/`);
for (const backend of ['webgpu', 'wasm']) {
  try {
    const row = await timeTfjs(tf, backend, spec, data, engineLoss);
    if (row.initialLossRelativeError > 1e-4) row.note = `check failed: initial loss differs by ${row.initialLossRelativeError.toExponential(2)}; not comparable`;
    rows.push(row);
  } catch (error) {
    rows.push({ peer: `tfjs-${backend}`, imagesPerSecond: Number.NaN, secondsPerEpoch: Number.NaN, initialLossRelativeError: Number.NaN, note: String((error as Error).message).split('\n')[0] });
  }
}
for (const row of rows.slice(1)) row.vsEngine = rows[0].imagesPerSecond / row.imagesPerSecond;

console.log(`\nTraining the digit CNN (${count} images, batch ${BATCH}, Adam, ${epochs} timed epochs after 1 warm-up) on ${adapter}`);
console.log('| trainer | images/s | s/epoch | engine speed-up | check (initial loss rel. err.) |\n|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.peer} | ${r.imagesPerSecond.toFixed(1)} | ${r.secondsPerEpoch.toFixed(2)} | ${r.vsEngine ? `${r.vsEngine.toFixed(2)}x` : '-'} | ${r.initialLossRelativeError.toExponential(1)}${r.note ? ` (${r.note})` : ''} |`);
}
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify({ schema: 'webgpu-xai-bench-training/1', date: new Date().toISOString(), adapter, images: count, batch: BATCH, epochs, rows }, null, 2)}\n`);
  console.log(`wrote ${values.json}`);
}
process.exit(0);
