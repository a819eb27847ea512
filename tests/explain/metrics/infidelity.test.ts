import { expect, it } from 'vitest';
import type { ExplainContext } from '../../../src/explain/context.js';
import { INFIDELITY_STREAM, infidelity, infidelityOf, squareCorners } from '../../../src/explain/metrics/infidelity.js';
import { AbortedError } from '../../../src/explain/progress.js';
import type { Runtime } from '../../../src/gpu/runtime.js';
import { Model } from '../../../src/model/model.js';
import type { ModelSpec } from '../../../src/model/spec.js';
import { randomSource } from '../../check.js';
import { describeGpu, testRuntime } from '../../gpu.js';
import { randomInput, tinyCnn } from '../../model/fixtures.js';
import { referenceForward } from '../../reference/model.js';
import { gaussian } from '../../reference/random.js';
import { refTensor, relativeL2 } from '../../reference/tensor.js';
import { argmax } from '../reference.js';
import { linearSegmentsModel } from '../linear_segments.js';
import { linearGradient, shuffled } from './planted.js';

function context(rt: Runtime, spec: ModelSpec, maxChunk = 256): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk };
}

/** Captum's infidelity in float64 from the perturbed copies x - I_k. */
function referenceInfidelity(spec: ModelSpec, x: Float64Array, copies: Float64Array[], phi: ArrayLike<number>, phiChannels: number, channels: number, target: number, normalize: boolean) {
  const logit = (data: Float64Array) => referenceForward(spec, refTensor([1, ...(spec.layers[0] as { shape: number[] }).shape], data)).get('logits')!.data[target];
  const f = logit(x);
  const dots: number[] = [];
  const drops: number[] = [];
  for (const copy of copies) {
    let dot = 0;
    copy.forEach((v, e) => (dot += (x[e] - v) * phi[Math.floor(e / channels) * phiChannels + (phiChannels === 1 ? 0 : e % channels)]));
    dots.push(dot);
    drops.push(f - logit(copy));
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const beta = normalize ? mean(dots.map((a, k) => a * drops[k])) / mean(dots.map((a) => a * a)) : 1;
  return { f, dots, drops, infidelity: mean(dots.map((a, k) => (beta * a - drops[k]) ** 2)), beta };
}

describeGpu('infidelity', () => {
  it('Gaussian noise, tinyCnn x=[1,9,7,3], map [9,7,3], 23 draws in chunks of 5: sums, drops and infidelity against float64', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec, 5);
    const x = randomInput(spec, 1, random);
    const phi = Float32Array.from({ length: 9 * 7 * 3 }, () => random() * 2 - 1);
    const inUse = rt.pool.buffersInUse;
    const progress: number[] = [];
    const result = await infidelity(ctx, { data: x.data, shape: [9, 7, 3] }, { values: phi, shape: [9, 7, 3] }, { samples: 23, noise: 0.1, seed: 9, onProgress: (p) => progress.push(p.done) });
    expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    expect(progress.at(-1)).toBe(23);
    expect(progress.every((d, i) => i === 0 || d > progress[i - 1])).toBe(true);
    const target = argmax(referenceForward(spec, x).get('logits')!.data);
    const sigma = Math.fround(0.2);
    const copies = Array.from({ length: 23 }, (_, k) => Float64Array.from(x.data, (v, e) => Math.fround(v + sigma * gaussian(9, INFIDELITY_STREAM, k, e))));
    const expected = referenceInfidelity(spec, x.data, copies, phi, 3, 3, target, false);
    const errors = { dots: relativeL2(result.dots, expected.dots), drops: relativeL2(result.scoreDrops, expected.drops), infidelity: Math.abs(result.infidelity - expected.infidelity) / expected.infidelity };
    console.log(`[explain-error] infidelity gaussian tinyCnn seed=${seed} ${JSON.stringify(errors)} infidelity ${result.infidelity}`);
    expect(result.target).toBe(target);
    expect(result.beta).toBe(1);
    expect(errors.dots).toBeLessThanOrEqual(1e-4);
    expect(errors.drops).toBeLessThanOrEqual(1e-4);
    expect(errors.infidelity).toBeLessThanOrEqual(1e-4);
  });

  it('square removal 3x3, tinyCnn x=[1,9,7,3], map [9,7,1] broadcast over channels, normalize, target 2: against float64', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    const phi = Float32Array.from({ length: 9 * 7 }, () => random());
    const result = await infidelity(ctx, x, { values: phi, shape: [9, 7, 1], target: 2 }, { perturbation: 'square', squareSize: 3, samples: 17, normalize: true, seed: 4 });
    const corners = squareCorners(17, 9, 7, 3, 4);
    const copies = Array.from({ length: 17 }, (_, k) => Float64Array.from(x.data, (v, e) => {
      const [y, col] = [Math.floor(e / 21), Math.floor(e / 3) % 7];
      return y >= corners[2 * k] && y < corners[2 * k] + 3 && col >= corners[2 * k + 1] && col < corners[2 * k + 1] + 3 ? -1 : v;
    }));
    const expected = referenceInfidelity(spec, x.data, copies, phi, 1, 3, 2, true);
    const error = Math.abs(result.infidelity - expected.infidelity) / Math.max(expected.infidelity, 1e-12);
    console.log(`[explain-error] infidelity square normalize seed=${seed} infidelity ${result.infidelity} vs ${expected.infidelity} (${error.toExponential(2)}), beta ${result.beta} vs ${expected.beta}`);
    expect(result.target).toBe(2);
    expect(relativeL2(result.dots, expected.dots)).toBeLessThanOrEqual(1e-5);
    expect(relativeL2(result.scoreDrops, expected.drops)).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(result.beta - expected.beta)).toBeLessThanOrEqual(1e-4 * Math.abs(expected.beta));
    expect(error).toBeLessThanOrEqual(1e-3);
    // the corners keep every square inside the image, and cover its positions
    for (let k = 0; k < 17; k++) expect(corners[2 * k] <= 6 && corners[2 * k + 1] <= 4).toBe(true);
  });

  for (const perturbation of ['gaussian', 'square'] as const) {
    it(`batch of 3 images x=[3,9,7,3] (maps [9,7,3], [9,7,1], [9,7,3]; targets 1, 'top', 0), ${perturbation}, 11 draws in chunks of 4: each equals its one-image call exactly`, async () => {
      const rt = testRuntime();
      const { random } = randomSource();
      const spec = tinyCnn(random);
      const ctx = context(rt, spec, 4);
      const images = [0, 1, 2].map(() => ({ data: randomInput(spec, 1, random).data, shape: [9, 7, 3] }));
      const maps = [3, 1, 3].map((c) => ({ values: Float32Array.from({ length: 63 * c }, () => random() * 2 - 1), shape: [9, 7, c] as [number, number, number] }));
      const targets = [1, 'top', 0] as const;
      const options = { perturbation, squareSize: 2, samples: 11, seed: 5 };
      const inUse = rt.pool.buffersInUse;
      const progress: number[] = [];
      const batched = await infidelity(ctx, images, maps, { ...options, target: targets, onProgress: (p) => progress.push(p.done) });
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
      expect(progress.at(-1), 'progress counts the draws of all images').toBe(33);
      expect(batched).toHaveLength(3);
      for (let i = 0; i < 3; i++) {
        const alone = await infidelity(ctx, images[i], maps[i], { ...options, target: targets[i] });
        expect(batched[i].target).toBe(alone.target);
        expect(batched[i].dots).toEqual(alone.dots);
        expect(batched[i].scoreDrops).toEqual(alone.scoreDrops);
        expect(batched[i].infidelity).toBe(alone.infidelity);
      }
      expect(batched[0].target).toBe(1);
      expect(batched[2].target).toBe(0);
      // different images and maps give different sums (the rows are not all image 0's)
      expect(batched[1].dots).not.toEqual(batched[0].dots);
    });
  }

  it('batch: one map per image, an abort lands within the chunks', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec, 3);
    const images = [0, 1].map(() => ({ data: randomInput(spec, 1, random).data, shape: [9, 7, 3] }));
    const map = { values: new Float32Array(63), shape: [9, 7, 1] as [number, number, number] };
    await expect(infidelity(ctx, images, [map])).rejects.toThrow(/1 map\(s\) for 2 image\(s\)/);
    const controller = new AbortController();
    const inUse = rt.pool.buffersInUse;
    const seen: number[] = [];
    const run = infidelity(ctx, images, [map, map], { samples: 12, signal: controller.signal, onProgress: (p) => (seen.push(p.done), p.done >= 3 && controller.abort()) });
    await expect(run).rejects.toThrow(AbortedError);
    expect(seen.at(-1)).toBeLessThan(24);
    expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
  });

  it("infidelityOf: Captum's aggregation, beta 0 for a zero map", () => {
    expect(infidelityOf([1, 2], [1, 4], false).infidelity).toBeCloseTo(2, 12);
    const scaled = infidelityOf([1, 2], [2, 4], true);
    expect(scaled.beta).toBeCloseTo(2, 12);
    expect(scaled.infidelity).toBeCloseTo(0, 12);
    expect(infidelityOf([0, 0], [1, 3], true)).toEqual({ infidelity: 5, beta: 0 });
  });

  for (const perturbation of ['gaussian', 'square'] as const) {
    it(`planted: a model linear in the pixels [12,15,2], ${perturbation}: the gradient has infidelity ~0, the same values shuffled clearly more`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const shape = { height: 12, width: 15, channels: 2, rows: 3, columns: 5, classes: 3 };
      const spec = linearSegmentsModel(random, shape);
      const ctx = context(rt, spec);
      const x = randomInput(spec, 1, random);
      const truth = Float32Array.from(linearGradient(spec, shape, 0));
      const image = { data: x.data, shape: [12, 15, 2] };
      const options = { perturbation, target: 0, samples: 64, seed: 3 };
      const good = await infidelity(ctx, image, { values: truth, shape: [12, 15, 2] }, options);
      const bad = await infidelity(ctx, image, { values: shuffled(truth, random), shape: [12, 15, 2] }, options);
      const scale = good.scoreDrops.reduce((a, d) => a + d * d, 0) / 64;
      console.log(`[infidelity] planted linear ${perturbation} seed=${seed}: E[drop^2] ${scale.toExponential(2)}, gradient ${good.infidelity.toExponential(2)}, shuffled ${bad.infidelity.toExponential(2)}`);
      expect(good.infidelity / scale).toBeLessThanOrEqual(1e-6);
      expect(bad.infidelity / scale).toBeGreaterThan(0.1);
    });
  }

  it('rejects bad maps and options before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    const map = { values: new Float32Array(63), shape: [9, 7, 1] as [number, number, number] };
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(infidelity(ctx, image, { values: new Float32Array(126), shape: [9, 7, 2] })).rejects.toThrow(/\[9, 7, 3\] \(or \[9, 7, 1\]\)/);
    await expect(infidelity(ctx, image, { values: new Float32Array(63).fill(Infinity), shape: [9, 7, 1] })).rejects.toThrow(/non-finite/);
    await expect(infidelity(ctx, image, map, { perturbation: 'blur' as never })).rejects.toThrow(/perturbation must be/);
    await expect(infidelity(ctx, image, map, { samples: 0 })).rejects.toThrow(/samples must be an integer/);
    await expect(infidelity(ctx, image, map, { noise: 0 })).rejects.toThrow(/noise must be/);
    await expect(infidelity(ctx, image, map, { squareSize: 8 })).rejects.toThrow(/squareSize must be an integer in 1..7/);
    await expect(infidelity(ctx, image, map, { baseline: 'mean' as never })).rejects.toThrow(/baseline must be/);
    await expect(infidelity(ctx, image, map, { normalize: 'yes' as never })).rejects.toThrow(/normalize/);
    await expect(infidelity(ctx, image, map, { target: 9 })).rejects.toThrow(/out of range/);
    await expect(infidelity(ctx, image, map, { signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });
});
