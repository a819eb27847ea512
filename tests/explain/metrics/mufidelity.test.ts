import { expect, it } from 'vitest';
import type { ExplainContext } from '../../../src/explain/context.js';
import { muFidelity, pearson, randomSubsets } from '../../../src/explain/metrics/mufidelity.js';
import { AbortedError } from '../../../src/explain/progress.js';
import type { Runtime } from '../../../src/gpu/runtime.js';
import { Model } from '../../../src/model/model.js';
import type { ModelSpec } from '../../../src/model/spec.js';
import { randomSource } from '../../check.js';
import { describeGpu, testRuntime } from '../../gpu.js';
import { randomInput, tinyCnn } from '../../model/fixtures.js';
import { referenceForward } from '../../reference/model.js';
import { refTensor, relativeL2 } from '../../reference/tensor.js';
import { argmax } from '../reference.js';
import { linearSegmentsModel } from '../linear_segments.js';
import { linearGradient, shuffled } from './planted.js';

function context(rt: Runtime, spec: ModelSpec, maxChunk = 256): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk };
}

/** Grid cell of pixel (y, x), as segmentation { grid }. */
const cellOf = (y: number, x: number, height: number, width: number, rows: number, columns: number) => Math.floor((y * rows) / height) * columns + Math.floor((x * columns) / width);

describeGpu('MuFidelity', () => {
  it('randomSubsets: distinct features in range, reproducible by seed', () => {
    const subsets = randomSubsets(10, 4, 50, 3);
    for (let s = 0; s < 50; s++) {
      const set = new Set(subsets.subarray(s * 4, s * 4 + 4));
      expect(set.size).toBe(4);
      for (const f of set) expect(f >= 0 && f < 10).toBe(true);
    }
    expect(randomSubsets(10, 4, 50, 3)).toEqual(subsets);
    expect(randomSubsets(10, 4, 50, 4)).not.toEqual(subsets);
    expect(pearson([1, 2, 3], [2, 4, 7])).toBeCloseTo(0.9933992677987828, 12);
    expect(pearson([1, 1, 1], [2, 4, 7])).toBeNaN();
  });

  it('tinyCnn x=[1,9,7,3], map [9,7,3], grid 3x4, |S| 5, 37 samples in chunks of 8: drops and correlation against float64', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec, 8);
    const x = randomInput(spec, 1, random);
    const values = Float32Array.from({ length: 9 * 7 * 3 }, () => random() * 2 - 1);
    const inUse = rt.pool.buffersInUse;
    const progress: number[] = [];
    const result = await muFidelity(ctx, { data: x.data, shape: [9, 7, 3] }, { values, shape: [9, 7, 3] }, { grid: [3, 4], subsetSize: 5, samples: 37, seed: 5, onProgress: (p) => progress.push(p.done) });
    expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    expect(progress).toEqual([8, 16, 24, 32, 38]);

    const logits = (image: Float64Array) => referenceForward(spec, refTensor([1, 9, 7, 3], image)).get('logits')!.data;
    const target = argmax(logits(x.data));
    const f = logits(x.data)[target];
    const subsets = randomSubsets(12, 5, 37, 5);
    const sums: number[] = [];
    const drops: number[] = [];
    for (let s = 0; s < 37; s++) {
      const removed = new Set(subsets.subarray(s * 5, s * 5 + 5));
      const copy = Float64Array.from(x.data, (v, e) => {
        const p = Math.floor(e / 3);
        return removed.has(cellOf(Math.floor(p / 7), p % 7, 9, 7, 3, 4)) ? -1 : v;
      });
      drops.push(f - logits(copy)[target]);
      let sum = 0;
      values.forEach((v, e) => {
        const p = Math.floor(e / 3);
        if (removed.has(cellOf(Math.floor(p / 7), p % 7, 9, 7, 3, 4))) sum += v;
      });
      sums.push(sum);
    }
    const expected = pearson(sums, drops);
    const error = relativeL2(result.scoreDrops, drops);
    console.log(`[explain-error] mufidelity tinyCnn seed=${seed} drops ${error.toExponential(2)} correlation ${result.correlation.toFixed(6)} vs ${expected.toFixed(6)}`);
    expect(result.target).toBe(target);
    expect(Math.abs(result.score - f)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(f)));
    expect(error).toBeLessThanOrEqual(1e-4);
    expect(relativeL2(result.attributionSums, sums)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(result.correlation - expected)).toBeLessThanOrEqual(1e-4);
  });

  it('planted: a model linear in the pixels [12,15,2]; gradient x (input - baseline) gets MuFidelity 1, the same values shuffled far less', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const shape = { height: 12, width: 15, channels: 2, rows: 3, columns: 5, classes: 3 };
    const spec = linearSegmentsModel(random, shape);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    const gradient = linearGradient(spec, shape, 1);
    // the black baseline is -1: sum over S of g (x - b) is exactly f(x) - f(x with S black)
    const truth = Float32Array.from(gradient, (g, e) => g * (x.data[e] + 1));
    const image = { data: x.data, shape: [12, 15, 2] };
    const options = { target: 1, grid: [12, 15] as [number, number], subsetSize: 36, samples: 128, seed: 2 };
    const good = await muFidelity(ctx, image, { values: truth, shape: [12, 15, 2] }, options);
    const bad = await muFidelity(ctx, image, { values: shuffled(truth, random), shape: [12, 15, 2] }, options);
    console.log(`[mufidelity] planted linear seed=${seed}: true attribution ${good.correlation.toFixed(6)}, shuffled ${bad.correlation.toFixed(4)}`);
    expect(good.correlation).toBeGreaterThan(0.9999);
    expect(bad.correlation).toBeLessThan(0.6);
  });

  it("batch of 3 images x=[3,9,7,3] (maps [9,7,3], [9,7,1], [9,7,3]; targets 2, 'top', 0), grid 3x3, 13 samples in chunks of 5: each equals its one-image call exactly", async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec, 5);
    const images = [0, 1, 2].map(() => ({ data: randomInput(spec, 1, random).data, shape: [9, 7, 3] }));
    const maps = [3, 1, 3].map((c) => ({ values: Float32Array.from({ length: 63 * c }, () => random() * 2 - 1), shape: [9, 7, c] as [number, number, number] }));
    const targets = [2, 'top', 0] as const;
    const options = { grid: [3, 3] as [number, number], samples: 13, seed: 8 };
    const inUse = rt.pool.buffersInUse;
    const progress: number[] = [];
    const batched = await muFidelity(ctx, images, maps, { ...options, target: targets, onProgress: (p) => progress.push(p.done) });
    expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    expect(progress.at(-1), 'progress counts the rows of all images (13 subsets + the image)').toBe(42);
    expect(batched).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const alone = await muFidelity(ctx, images[i], maps[i], { ...options, target: targets[i] });
      expect(batched[i].target).toBe(alone.target);
      expect(batched[i].score).toBe(alone.score);
      expect(batched[i].attributionSums).toEqual(alone.attributionSums);
      expect(batched[i].scoreDrops).toEqual(alone.scoreDrops);
      expect(batched[i].correlation).toBe(alone.correlation);
    }
    expect([batched[0].target, batched[2].target]).toEqual([2, 0]);
    expect(batched[1].scoreDrops).not.toEqual(batched[0].scoreDrops);
    const controller = new AbortController();
    const seen: number[] = [];
    const run = muFidelity(ctx, images, maps, { ...options, signal: controller.signal, onProgress: (p) => (seen.push(p.done), p.done >= 5 && controller.abort()) });
    await expect(run).rejects.toThrow(AbortedError);
    expect(seen.at(-1)).toBeLessThan(42);
    expect(rt.pool.buffersInUse, 'every tensor released after an abort').toBe(inUse);
  });

  it('rejects bad maps and options before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    const map = { values: new Float32Array(63), shape: [9, 7, 1] as [number, number, number] };
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(muFidelity(ctx, image, { values: new Float32Array(10), shape: [2, 5, 1] })).rejects.toThrow(/model's input size \[9, 7, C\]/);
    await expect(muFidelity(ctx, image, map, { grid: [1, 1] })).rejects.toThrow(/at least 2 features/);
    await expect(muFidelity(ctx, image, map, { grid: [10, 1] })).rejects.toThrow(/grid must be/);
    await expect(muFidelity(ctx, image, map, { grid: [3, 3], subsetSize: 9 })).rejects.toThrow(/subsetSize must be an integer in 1..8/);
    await expect(muFidelity(ctx, image, map, { samples: 1 })).rejects.toThrow(/at least 2/);
    await expect(muFidelity(ctx, image, map, { seed: -1 })).rejects.toThrow(/seed/);
    await expect(muFidelity(ctx, image, map, { target: 7 })).rejects.toThrow(/out of range/);
    await expect(muFidelity(ctx, image, map, { target: [1, 2] })).rejects.toThrow(/target has 2 entries for 1 images/);
    await expect(muFidelity(ctx, [image, image], [map])).rejects.toThrow(/1 map\(s\) for 2 image\(s\)/);
    await expect(muFidelity(ctx, image, map, { signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });
});
