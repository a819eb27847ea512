import { expect, it } from 'vitest';
import { AbortedError } from '../../src/explain/progress.js';
import { InputError, OptionError, ShapeError } from '../../src/errors.js';
import { INPUT, Model } from '../../src/model/model.js';
import { smallCnn } from '../../src/train/cnn.js';
import { cosineDecay, evaluate, fit, type EpochStats } from '../../src/train/fit.js';
import { randomSource, relativeError } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { seededRandom } from '../reference/tensor.js';
import { plantedBlobs } from './planted.js';

const spec = (seed: number) => smallCnn({ inputShape: [12, 12, 1], classes: 2, filters: [4, 8], hidden: 16, seed });

describeGpu('fit', () => {
  it('learns the planted blob task x=[256,12,12,1] (Adam, validation split 0.25), reproducibly from a seed', async () => {
    const { seed, random } = randomSource();
    const data = plantedBlobs(256, random);
    const run = async () => {
      const model = Model.create(testRuntime(), spec(seed));
      const progress: number[] = [];
      const history = await fit(model, data, {
        epochs: 6, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.01 }, schedule: 'cosine', validationSplit: 0.25, seed, logEvery: 4,
        augment: { maxShift: 1 },
        onProgress: (p) => progress.push(p.step),
      });
      const logits = await model.runtime.read(model.forward(model.runtime.upload([4, 12, 12, 1], data.images.slice(0, 4 * 144)), { keep: ['logits'] }).value('logits'));
      return { history, progress, logits };
    };
    const first = await run();
    const last = first.history[first.history.length - 1];
    console.log(`[train] planted seed=${seed}: ${first.history.map((e) => `loss ${e.loss.toFixed(3)} acc ${e.accuracy.toFixed(3)} val ${e.validationAccuracy?.toFixed(3)}`).join(' | ')}`);
    expect(first.history).toHaveLength(6);
    expect(first.history[0].loss).toBeGreaterThan(last.loss);
    expect(last.accuracy, `seed=${seed}`).toBeGreaterThan(0.9);
    expect(last.validationAccuracy!, `seed=${seed}`).toBeGreaterThan(0.85);
    expect(last.imagesPerSecond).toBeGreaterThan(0);
    // 12 steps an epoch, a report every 4 steps: progress is monotone and ends at the total
    expect(first.progress).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72]);
    const second = await run();
    expect(second.history.map((e: EpochStats) => e.loss)).toEqual(first.history.map((e) => e.loss));
    expect(relativeError(second.logits, first.logits)).toBe(0);
  });

  it('cosine schedule: 1 at the first step, 1/2 halfway, near 0 at the last', () => {
    expect(cosineDecay(0, 100)).toBe(1);
    expect(cosineDecay(50, 100)).toBeCloseTo(0.5, 12);
    expect(cosineDecay(99, 100)).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * 99) / 100)), 12);
    expect(cosineDecay(99, 100)).toBeLessThan(0.001);
  });

  it('training backward (to: [], weights) gives the weight gradients of the full backward', async () => {
    const rt = testRuntime();
    const { seed } = randomSource();
    const model = Model.create(rt, spec(seed));
    const x = rt.upload([3, 12, 12, 1], plantedBlobs(3, seededRandom(seed)).images);
    const gradients = async (to: string[]) => {
      const pass = model.forward(x, { forBackward: true });
      const seedGrad = rt.upload([3, 2], [1, -1, 0.5, 2, -1, 0]);
      const { weights, gradients: inputs } = model.backward(pass, new Map([['logits', seedGrad]]), { to, weights: true });
      const out = new Map<string, Float32Array>();
      for (const [layer, grads] of weights) for (const [name, g] of Object.entries(grads)) out.set(`${layer}.${name}`, await rt.read(g));
      return { out, inputs: inputs.size };
    };
    const full = await gradients([INPUT]);
    const training = await gradients([]);
    expect(training.inputs).toBe(0);
    expect([...training.out.keys()].sort()).toEqual([...full.out.keys()].sort());
    expect(full.out.size).toBe(8); // 2 conv + 2 dense layers, filter/weights and bias each
    for (const [key, g] of full.out) expect(relativeError(training.out.get(key)!, g), key).toBe(0);
  });

  it('an abort after the first report throws AbortedError and leaves the GPU idle for the next call', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const data = plantedBlobs(512, random);
    const model = Model.create(rt, spec(seed));
    const controller = new AbortController();
    let reports = 0;
    const started = performance.now();
    await expect(fit(model, data, {
      epochs: 50, batchSize: 8, logEvery: 2, signal: controller.signal,
      onProgress: () => {
        reports++;
        controller.abort('test');
      },
    })).rejects.toBeInstanceOf(AbortedError);
    const aborted = performance.now() - started;
    expect(reports).toBe(1);
    const t0 = performance.now();
    await evaluate(model, plantedBlobs(8, random));
    const next = performance.now() - t0;
    console.log(`[train] abort after ${aborted.toFixed(0)} ms; next call ${next.toFixed(0)} ms`);
    expect(next).toBeLessThan(5000);
  });

  it('bad options and data are refused before any GPU allocation', async () => {
    const rt = testRuntime();
    const model = Model.create(rt, spec(1));
    const data = plantedBlobs(8, seededRandom(1));
    const live = rt.pool.buffersInUse;
    await expect(fit(model, data, { epochs: 0 })).rejects.toBeInstanceOf(OptionError);
    await expect(fit(model, data, { epochs: 1, batchSize: 0 })).rejects.toBeInstanceOf(OptionError);
    await expect(fit(model, data, { epochs: 1, seed: 2 ** 32 })).rejects.toBeInstanceOf(OptionError);
    await expect(fit(model, data, { epochs: 1, optimizer: { kind: 'sgd', learningRate: -1 } })).rejects.toBeInstanceOf(OptionError);
    await expect(fit(model, data, { epochs: 1, validationSplit: 1 })).rejects.toBeInstanceOf(OptionError);
    await expect(fit(model, { images: data.images, labels: data.labels.slice(1) }, { epochs: 1 })).rejects.toBeInstanceOf(ShapeError);
    await expect(fit(model, { images: data.images, labels: Float32Array.from(data.labels, () => 2) }, { epochs: 1 })).rejects.toBeInstanceOf(InputError);
    await expect(fit(model, { images: Float32Array.from(data.images, (v, i) => (i === 7 ? Number.NaN : v)), labels: data.labels }, { epochs: 1 })).rejects.toBeInstanceOf(InputError);
    expect(rt.pool.buffersInUse).toBe(live);
  });
});
