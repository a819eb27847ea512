import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import type { ExplainContext } from '../../src/explain/context.js';
import { visualizeClassWithGenerator } from '../../src/explain/generator.js';
import { Explainer } from '../../src/explain/explainer.js';
import { loadModelSpec, modelFiles } from '../../src/model/loaders/index.js';
import { Model } from '../../src/model/model.js';
import { randomNormal } from '../../src/ops/random.js';
import { currentSpec } from '../../src/model/save.js';
import { autoencoder, decoderOf } from '../../src/train/autoencoder.js';
import { smallCnn } from '../../src/train/cnn.js';
import { fit } from '../../src/train/fit.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { plantedBlobs } from '../train/planted.js';

describeGpu('visualizeClassWithGenerator', () => {
  it('class images through a trained decoder are their class (planted blobs 12x12, latent 4)', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const data = plantedBlobs(256, random);
    const classifier = Model.create(rt, smallCnn({ inputShape: [12, 12, 1], classes: 2, filters: [4, 8], hidden: 16, seed }));
    await fit(classifier, data, { epochs: 3, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.01 }, seed });
    const ae = Model.create(rt, autoencoder({ inputShape: [12, 12, 1], latent: 4, hidden: 32, seed }));
    await fit(ae, { images: data.images, labels: data.images }, { epochs: 10, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.01 }, seed });
    const generator = Model.create(rt, decoderOf(await currentSpec(ae), [12, 12, 1]));
    const ctx: ExplainContext = { model: classifier, rt, inputRange: [0, 1], maxChunk: 256 } as ExplainContext;
    const progress: number[] = [];
    const result = await visualizeClassWithGenerator(ctx, generator, { classes: [0, 1, 0], steps: 60, seed, onProgress: (p) => progress.push(p.done) });
    console.log(`[generator] seed=${seed}: probabilities ${result.probabilities.map((p) => p.toFixed(3)).join(', ')}`);
    expect(result.shape).toEqual([3, 12, 12, 1]);
    expect(progress).toEqual([10, 20, 30, 40, 50, 60]);
    for (const p of result.probabilities) expect(p, `seed=${seed}`).toBeGreaterThan(0.9);
    // the decoder's sigmoid keeps every pixel a valid image value
    expect(result.images.every((v) => v >= 0 && v <= 1)).toBe(true);
    // class 0 puts its brightest pixels in the left half, class 1 in the right (the planted rule)
    const brightSide = (b: number) => {
      let left = 0;
      let right = 0;
      for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) (x < 6 ? (left += result.images[b * 144 + y * 12 + x]) : (right += result.images[b * 144 + y * 12 + x]));
      return left > right ? 0 : 1;
    };
    expect([brightSide(0), brightSide(1), brightSide(2)], `seed=${seed}`).toEqual([0, 1, 0]);
  });

  it('the committed VAE decoder (models/digits-generator, z=[8] -> [28,28,1]): class images of all ten digits are their class; prior samples look like digits', async () => {
    const rt = testRuntime();
    const { seed } = randomSource();
    const xai = await Explainer.create(rt, await loadModelSpec(modelFiles('models/digits/model.json')));
    const generator = Model.create(rt, await loadModelSpec(modelFiles('models/digits-generator/model.json')));
    const classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    // five starts per class, the most probable kept, and a decay that keeps the codes near the VAE's prior:
    // one start ended below 0.9 for 3 classes of 30 in three runs (local optima of the latent ascent); three
    // starts at decay 0.001 for 1 of 60 (0.54) in six runs; three starts at 0.1 for none (min 0.985) in six, but
    // seed 1245882307 left class 1 at 0.848 in a full-suite run: five starts here (every class 1.000 for it)
    const result = await xai.visualizeClassWithGenerator(generator, { classes, steps: 120, seed, restarts: 5, latentDecay: 0.1 });
    expect(result.shape).toEqual([10, 28, 28, 1]);
    expect(result.latents).toHaveLength(10 * 8);
    console.log(`[generator] committed VAE decoder seed=${seed}: probabilities ${result.probabilities.map((p) => p.toFixed(3)).join(', ')}`);
    for (const [i, p] of result.probabilities.entries()) expect(p, `class ${i}, seed=${seed}`).toBeGreaterThan(0.9);
    // a VAE's prior is N(0, I): codes drawn from it decode to digits the classifier is sure about
    const z = randomNormal(rt, [64, 8], 0, 1, { seed, stream: 9 });
    const decoded = generator.forward(z);
    const probabilities = await rt.read(xai.model.forward(decoded.value(generator.outputName)).value(xai.model.outputName));
    const confidence = Array.from({ length: 64 }, (_, n) => Math.max(...probabilities.subarray(n * 10, n * 10 + 10)));
    const mean = confidence.reduce((a, b) => a + b, 0) / 64;
    const predicted = new Set(Array.from({ length: 64 }, (_, n) => probabilities.subarray(n * 10, n * 10 + 10).indexOf(confidence[n])));
    console.log(`[generator] 64 prior samples seed=${seed}: mean top probability ${mean.toFixed(3)}, ${predicted.size} distinct digits`);
    // measured 0.70 (a blurry prior sample is often between two digits); the mean of 64 has a spread of about 0.03
    expect(mean, `seed=${seed}`).toBeGreaterThan(0.6);
    expect(predicted.size, `seed=${seed}`).toBeGreaterThanOrEqual(8);
  });

  it('restarts 3 keeps, per class, the most probable of the rows that classes [0,0,0,1,1,1] ascend alone (12x12, latent 3)', async () => {
    const rt = testRuntime();
    const { seed } = randomSource();
    const classifier = Model.create(rt, smallCnn({ inputShape: [12, 12, 1], classes: 2, filters: [4], hidden: 8, seed }));
    const ctx = { model: classifier, rt, inputRange: [0, 1], maxChunk: 256 } as ExplainContext;
    const generator = Model.create(rt, decoderOf(autoencoder({ inputShape: [12, 12, 1], latent: 3, hidden: 8, seed }), [12, 12, 1]));
    // the same rows, the same starting codes (one batch of six either way): only the choice differs
    const each = await visualizeClassWithGenerator(ctx, generator, { classes: [0, 0, 0, 1, 1, 1], steps: 10, seed, restarts: 1 });
    const best = await visualizeClassWithGenerator(ctx, generator, { classes: [0, 1], steps: 10, seed, restarts: 3 });
    console.log(`[generator] restarts seed=${seed}: rows ${each.probabilities.map((p) => p.toFixed(3)).join(', ')} -> ${best.probabilities.map((p) => p.toFixed(3)).join(', ')}`);
    expect(best.shape).toEqual([2, 12, 12, 1]);
    for (const c of [0, 1]) {
      const rows = each.probabilities.slice(3 * c, 3 * c + 3);
      const row = 3 * c + rows.indexOf(Math.max(...rows));
      expect(best.probabilities[c], `seed=${seed}`).toBe(each.probabilities[row]);
      expect(best.images.subarray(c * 144, (c + 1) * 144), `seed=${seed}`).toEqual(each.images.subarray(row * 144, (row + 1) * 144));
      expect(best.latents.subarray(c * 3, (c + 1) * 3), `seed=${seed}`).toEqual(each.latents.subarray(row * 3, (row + 1) * 3));
    }
  });

  it('bad classes and a generator of the wrong size are refused before any GPU work', async () => {
    const rt = testRuntime();
    const classifier = Model.create(rt, smallCnn({ inputShape: [12, 12, 1], classes: 2, filters: [4], hidden: 0, seed: 1 }));
    const ctx = { model: classifier, rt, inputRange: [0, 1], maxChunk: 256 } as ExplainContext;
    const generator = Model.create(rt, decoderOf(autoencoder({ inputShape: [12, 12, 1], latent: 2, hidden: 4 }), [12, 12, 1]));
    const wrong = Model.create(rt, decoderOf(autoencoder({ inputShape: [10, 10, 1], latent: 2, hidden: 4 }), [10, 10, 1]));
    const before = rt.pendingCommands;
    await expect(visualizeClassWithGenerator(ctx, generator, { classes: [2] })).rejects.toBeInstanceOf(OptionError);
    await expect(visualizeClassWithGenerator(ctx, generator, { classes: [] })).rejects.toBeInstanceOf(OptionError);
    await expect(visualizeClassWithGenerator(ctx, generator, { classes: [0], restarts: 0 })).rejects.toBeInstanceOf(OptionError);
    await expect(visualizeClassWithGenerator(ctx, wrong, { classes: [0] })).rejects.toBeInstanceOf(ShapeError);
    expect(rt.pendingCommands).toBe(before);
  });
});
