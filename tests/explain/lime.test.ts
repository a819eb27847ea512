import { expect, it } from 'vitest';
import { OptionError } from '../../src/errors.js';
import type { ExplainContext } from '../../src/explain/context.js';
import { cosineDistanceToFull, lime } from '../../src/explain/lime.js';
import { AbortedError, type Progress } from '../../src/explain/progress.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomInput, tinyCnn } from '../model/fixtures.js';
import { referenceForward } from '../reference/model.js';
import { randomTensor } from '../reference/tensor.js';
import { correlation, linearSegmentsModel, linearShapleyValues } from './linear_segments.js';

function context(rt: Runtime, spec: ModelSpec, maxChunk = 256): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk };
}

describeGpu('lime', () => {
  const shape = { height: 12, width: 15, channels: 2, rows: 3, columns: 5, classes: 3 };

  it('recovers the weights of a model linear in the segments: x=[1,12,15,2] grid 3x5, black baseline, 1000 samples in chunks of 300, target 1', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = linearSegmentsModel(random, shape);
    const x = randomInput(spec, 1, random);
    const ctx = context(rt, spec, 300);
    const progress: Progress[] = [];
    const inUse = rt.pool.buffersInUse;
    const image = { data: x.data, shape: [12, 15, 2] };
    const options = { segmentation: { grid: [3, 5] as [number, number] }, baseline: 'black' as const, target: 1, seed: 11 };
    const result = await lime(ctx, image, { ...options, onProgress: (p) => progress.push(p) });
    console.log(`[time] lime x=[1,12,15,2] grid 3x5 ${result.samples} samples ${result.milliseconds.toFixed(1)}ms`);
    expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    // chunks of at most maxChunk = 300 (the schedule may pick smaller ones from the measured pace)
    const done = progress.map((p) => p.done);
    done.forEach((d, i) => expect(d - (done[i - 1] ?? 0)).toBeGreaterThan(0));
    done.forEach((d, i) => expect(d - (done[i - 1] ?? 0)).toBeLessThanOrEqual(300));
    expect(done.at(-1)).toBe(1000);
    const truth = linearShapleyValues(spec, x.data, shape, 1, -1);
    const r = correlation(result.weights, truth);
    console.log(`[explain-error] lime linear seed=${seed} correlation ${r.toFixed(6)} R^2 ${result.r2.toFixed(6)}`);
    expect(r, `seed=${seed}: correlation with the true weights`).toBeGreaterThan(0.999);
    expect(result.r2, 'an exactly linear model is fitted almost perfectly (ridge shrinks a little)').toBeGreaterThan(0.99);
    const logits = referenceForward(spec, x).get('logits')!.data;
    expect(Math.abs(result.score - logits[1])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(logits[1])));
    // without the ridge penalty the surrogate is the model itself
    const exact = await lime(ctx, image, { ...options, ridge: 0 });
    let worst = 0;
    for (let i = 0; i < truth.length; i++) worst = Math.max(worst, Math.abs(exact.weights[i] - truth[i]) / Math.max(...Array.from(truth, Math.abs)));
    console.log(`[explain-error] lime linear ridge=0 seed=${seed} ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
    expect(exact.r2).toBeGreaterThan(1 - 1e-8);
    // intercept = f(all off), and the map paints each pixel with its segment's weight
    expect(Math.abs(exact.intercept - (logits[1] - truth.reduce((a, b) => a + b, 0)))).toBeLessThanOrEqual(1e-4);
    for (let p = 0; p < exact.values.length; p++) expect(exact.values[p]).toBe(Math.fround(exact.weights[exact.segmentation.labels[p]]));
  });

  it('SLIC segments on tinyCnn x=[1,9,7,3], mean baseline, 300 samples: seeds reproduce, other seeds differ; user segmentation relabelled', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const x = randomTensor([1, 9, 7, 3], random);
    const ctx = context(rt, spec, 128);
    const image = { data: x.data, shape: [9, 7, 3] };
    const first = await lime(ctx, image, { segments: 8, samples: 300, seed: 5 });
    const again = await lime(ctx, image, { segments: 8, samples: 300, seed: 5 });
    const other = await lime(ctx, image, { segments: 8, samples: 300, seed: 6 });
    expect(first.segmentation.method).toBe('slic');
    expect(first.segmentation.segments, `seed=${seed}`).toBeGreaterThan(3);
    expect(Array.from(again.weights)).toEqual(Array.from(first.weights));
    expect(Array.from(other.weights)).not.toEqual(Array.from(first.weights));
    expect(first.r2).toBeGreaterThanOrEqual(0);
    expect(first.r2).toBeLessThanOrEqual(1);
    // a user's map with labels 10 and 20 becomes segments 0 and 1
    const user = Int32Array.from({ length: 63 }, (_, p) => (p % 7 < 3 ? 20 : 10));
    const split = await lime(ctx, image, { segmentation: user, samples: 50 });
    expect(split.segmentation).toMatchObject({ method: 'user', segments: 2 });
    expect(split.segmentation.labels[0]).toBe(1);
    expect(split.segmentation.labels[6]).toBe(0);
  });

  it('abort before the start and between chunks; tensors released', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random), 16);
    const image = { data: randomInput(tinyCnn(random), 1, random).data, shape: [9, 7, 3] };
    const inUse = rt.pool.buffersInUse;
    const aborted = new AbortController();
    aborted.abort('stop');
    await expect(lime(ctx, image, { segmentation: { grid: [3, 3] }, signal: aborted.signal })).rejects.toThrow(AbortedError);
    const controller = new AbortController();
    await expect(lime(ctx, image, { segmentation: { grid: [3, 3] }, samples: 64, signal: controller.signal, onProgress: () => controller.abort() })).rejects.toThrow(/cancelled/);
    await rt.flush();
    expect(rt.pool.buffersInUse).toBe(inUse);
  });

  it('rejects bad samples, kernel widths, ridges and baselines before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(lime(ctx, image, { samples: 0 })).rejects.toThrow(/samples must be an integer/);
    await expect(lime(ctx, image, { kernelWidth: 0 })).rejects.toThrow(/kernelWidth/);
    await expect(lime(ctx, image, { ridge: -1 })).rejects.toThrow(/ridge/);
    await expect(lime(ctx, image, { baseline: Number.NaN })).rejects.toThrow(OptionError);
    await expect(lime(ctx, image, { segmentation: 'quickshift' as never })).rejects.toThrow(/segmentation must be/);
    await expect(lime(ctx, { data: new Float32Array(10), shape: [2, 5] })).rejects.toThrow(/does not match/);
    await expect(lime(ctx, image, { target: [0, 1] })).rejects.toThrow(/target has 2 entries for 1 images/);
    await expect(lime(ctx, [image, image], { segmentation: { grid: [2, 2] }, target: [0, 1, 2] })).rejects.toThrow(/target has 3 entries for 2 images/);
    await expect(lime(ctx, image, { target: 'cat' })).rejects.toThrow(/not a class name/);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });

  it('cosine distance to the all-on mask: 0 for all on, 1 - sqrt(k / M) otherwise, 1 for none', () => {
    expect(cosineDistanceToFull(4, 4)).toBe(0);
    expect(cosineDistanceToFull(1, 4)).toBeCloseTo(0.5, 12);
    expect(cosineDistanceToFull(0, 4)).toBe(1);
  });
});
