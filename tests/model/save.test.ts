import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { filesFromMemory, UnsupportedModelError } from '../../src/model/loaders/files.js';
import { loadLayersModel } from '../../src/model/loaders/layers_model.js';
import { Model } from '../../src/model/model.js';
import { saveLayersModel } from '../../src/model/save.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { fit } from '../../src/train/fit.js';
import { vae } from '../../src/train/vae.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomTensor, relativeL2 } from '../reference/tensor.js';
import { build, residualCnn, tinyCnn } from './fixtures.js';
import { useCpuBackend } from './tfjs_oracle.js';

/** Runs `spec` in the engine after one epoch of training (so saved weights differ from the spec's), saves it, and compares. */
async function roundTrip(spec: ModelSpec, classes: number): Promise<void> {
  await useCpuBackend();
  const rt = testRuntime();
  const { seed, random } = randomSource();
  const model = Model.create(rt, spec);
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const data = { images: Float32Array.from(randomTensor([16 * size], random).data), labels: Float32Array.from({ length: 16 }, (_, i) => i % classes) };
  const before = await rt.read(model.forward(rt.upload([4, ...model.inputShape], data.images.slice(0, 4 * size))).value(model.outputName));
  await fit(model, data, { epochs: 1, batchSize: 8, optimizer: { kind: 'sgd', learningRate: 0.5 }, seed });
  const x = data.images.slice(0, 4 * size);
  const engine = await rt.read(model.forward(rt.upload([4, ...model.inputShape], x)).value(model.outputName));
  expect(relativeL2(engine, before), 'training changed the outputs').toBeGreaterThan(1e-3);

  const saved = await saveLayersModel(model, { weightsPath: 'w.bin' });
  const manifest = (saved.modelJson.weightsManifest as { weights: tf.io.WeightsManifestEntry[] }[])[0].weights;
  const weightData = saved.weightData.buffer.slice(saved.weightData.byteOffset, saved.weightData.byteOffset + saved.weightData.byteLength) as ArrayBuffer;
  const tfModel = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: saved.modelJson.modelTopology as tf.io.ModelJSON['modelTopology'], weightSpecs: manifest, weightData }));
  const tfOut = (tfModel.predict(tf.tensor(x, [4, ...model.inputShape])) as tf.Tensor).dataSync() as Float32Array;
  const error = relativeL2(tfOut, engine);
  console.log(`[save] ${spec.source} seed=${seed}: TF.js vs engine relative L2 ${error.toExponential(2)}`);
  expect(error, `seed=${seed}`).toBeLessThan(1e-4);

  const reloaded = Model.create(rt, await loadLayersModel(filesFromMemory('saved', JSON.parse(JSON.stringify(saved.modelJson)), new Map([['w.bin', weightData]]))));
  const again = await rt.read(reloaded.forward(rt.upload([4, ...model.inputShape], x)).value(reloaded.outputName));
  expect(relativeL2(again, engine), `seed=${seed}`).toBeLessThan(1e-6);
}

describeGpu('saveLayersModel', () => {
  it('tinyCnn (conv, max-pool, flatten, dense, softmax) after training loads in TF.js and back in the engine', async () => {
    await roundTrip(tinyCnn(randomSource().random), 5);
  });

  it('residualCnn (zero pad, batch norm, depthwise, residual add, global average pool) after training', async () => {
    await roundTrip(residualCnn(randomSource().random), 4);
  });

  for (const variant of ['same', 'valid'] as const) {
    it(`the VAE decoder (dense, reshape, Conv2DTranspose 3x3 stride 2 ${variant}, sigmoid) loads in TF.js z=[4,3]`, async () => {
      await useCpuBackend();
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const spec = vae({ inputShape: [8, 8, 1], latent: 3, hidden: 4, filters: 4, seed }).decoder;
      for (const layer of spec.layers) {
        if ('bias' in layer && layer.bias) for (let i = 0; i < layer.bias.data.length; i++) layer.bias.data[i] = random() - 0.5;
        if (variant !== 'same' && layer.kind === 'conv2dTranspose' && layer.name === 'upsample1') layer.padding = 'valid';
      }
      const model = Model.create(rt, spec);
      const z = Float32Array.from(randomTensor([12], random, 2).data);
      const engine = await rt.read(model.forward(rt.upload([4, 3], z), { keep: [model.logitsName] }).value(model.logitsName));
      const saved = await saveLayersModel(model, { weightsPath: 'w.bin' });
      const manifest = (saved.modelJson.weightsManifest as { weights: tf.io.WeightsManifestEntry[] }[])[0].weights;
      const weightData = saved.weightData.buffer.slice(saved.weightData.byteOffset, saved.weightData.byteOffset + saved.weightData.byteLength) as ArrayBuffer;
      const tfModel = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: saved.modelJson.modelTopology as tf.io.ModelJSON['modelTopology'], weightSpecs: manifest, weightData }));
      // the logits: the output of the last Conv2DTranspose, before the sigmoid
      const logitsModel = tf.model({ inputs: tfModel.inputs, outputs: tfModel.getLayer('upsample2').output as tf.SymbolicTensor });
      const tfLogits = logitsModel.predict(tf.tensor(z, [4, 3])) as tf.Tensor;
      expect(tfLogits.shape).toEqual([4, ...model.shapes(1).get(model.logitsName)!.slice(1)]);
      const values = tfLogits.dataSync();
      const error = Math.max(...engine.map((v, i) => Math.abs(v - values[i])));
      console.log(`[save] VAE decoder (${variant}) seed=${seed}: TF.js vs engine logits max |difference| ${error.toExponential(2)}`);
      expect(error, `seed=${seed}`).toBeLessThan(1e-4);
      expect(Math.max(...engine.map(Math.abs)), 'the logits are not all ~0').toBeGreaterThan(0.1);
    });
  }

  it('the committed VAE decoder models/digits-generator loads in TF.js: logits within 1e-4 of the engine\'s, z=[6,8]', async () => {
    await useCpuBackend();
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const json = JSON.parse(readFileSync('models/digits-generator/model.json', 'utf8'));
    const bytes = readFileSync('models/digits-generator/weights.bin');
    const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const model = Model.create(rt, await loadLayersModel(filesFromMemory('digits-generator', json, new Map([['weights.bin', weightData]]))));
    const z = Float32Array.from(randomTensor([48], random, 2).data);
    const engine = await rt.read(model.forward(rt.upload([6, 8], z), { keep: [model.logitsName] }).value(model.logitsName));
    const tfModel = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }));
    const logits = (tf.model({ inputs: tfModel.inputs, outputs: tfModel.getLayer(model.logitsName).output as tf.SymbolicTensor }).predict(tf.tensor(z, [6, 8])) as tf.Tensor).dataSync();
    const error = Math.max(...engine.map((v, i) => Math.abs(v - logits[i])));
    console.log(`[save] committed digits-generator seed=${seed}: TF.js vs engine logits max |difference| ${error.toExponential(2)} (logits up to ${Math.max(...engine.map(Math.abs)).toFixed(1)})`);
    expect(logits.length).toBe(6 * 28 * 28);
    expect(error, `seed=${seed}`).toBeLessThan(1e-4);
  });

  it('a layer kind Keras has no class for here is an UnsupportedModelError naming it', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const spec: ModelSpec = {
      source: 'keepDims', output: 'gap',
      layers: [build.input('input', [4, 4, 2]), build.conv2d('conv', 'input', random, { kernel: [1, 1], inChannels: 2, outChannels: 2, padding: 'same', activation: 'relu' }), build.globalAvgPool('gap', 'conv', true)],
    };
    await expect(saveLayersModel(Model.create(rt, spec))).rejects.toThrow(UnsupportedModelError);
    await expect(saveLayersModel(Model.create(rt, spec))).rejects.toThrow(/'gap'/);
    // tfjs-layers ignores Conv2DTranspose's output_padding: saving one would change the model TF.js reads
    const decoder = vae({ inputShape: [4, 4, 1], latent: 2, hidden: 2, filters: 2 }).decoder;
    Object.assign(decoder.layers.find((l) => l.name === 'upsample1')!, { padding: 'valid', outputPadding: [1, 1] });
    await expect(saveLayersModel(Model.create(rt, decoder))).rejects.toThrow(/'upsample1'.*output_padding/);
  });
});
