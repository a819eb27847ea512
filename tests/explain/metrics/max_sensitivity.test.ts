import { expect, it } from 'vitest';
import type { ExplainContext, ImageInput } from '../../../src/explain/context.js';
import { MAX_SENSITIVITY_STREAM, maxSensitivity, relativeChange } from '../../../src/explain/metrics/max_sensitivity.js';
import { AbortedError } from '../../../src/explain/progress.js';
import { saliency } from '../../../src/explain/saliency.js';
import type { Attribution } from '../../../src/explain/attribution.js';
import type { ImageBatch } from '../../../src/explain/batch.js';
import type { Runtime } from '../../../src/gpu/runtime.js';
import { Model } from '../../../src/model/model.js';
import type { ModelSpec } from '../../../src/model/spec.js';
import { randomSource } from '../../check.js';
import { describeGpu, testRuntime } from '../../gpu.js';
import { randomInput, reluCnn, tinyCnn } from '../../model/fixtures.js';
import { referenceScoreGradient } from '../../reference/model.js';
import { uniforms } from '../../reference/random.js';
import { refTensor } from '../../reference/tensor.js';
import { linearSegmentsModel } from '../linear_segments.js';

function context(rt: Runtime, spec: ModelSpec): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk: 256 };
}

describeGpu('max-sensitivity', () => {
  it('saliency on a model linear in the pixels [12,15,2]: 0 (the gradient does not depend on the input)', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = linearSegmentsModel(random, { height: 12, width: 15, channels: 2, rows: 3, columns: 5, classes: 3 });
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    let calls = 0;
    const explain = (images: ImageInput | ImageBatch) => {
      calls++;
      return saliency(ctx, images, { target: 1 });
    };
    const inUse = rt.pool.buffersInUse;
    const result = await maxSensitivity(ctx, { data: x.data, shape: [12, 15, 2] }, explain, { samples: 6, radius: 0.3, seed: 1 });
    console.log(`[max-sensitivity] linear model seed=${seed}: ${result.maxSensitivity}`);
    expect(calls, 'the image, then the 6 perturbed copies as one batch').toBe(2);
    expect(result.sensitivities.length).toBe(6);
    expect(result.maxSensitivity).toBe(0);
    expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
  });

  it('saliency on reluCnn x=[1,12,10,3], 8 samples, radius 0.2: sensitivities against float64 gradients of the same perturbed images; batched equals one by one', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = reluCnn(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    const explain = (images: ImageInput | ImageBatch) => saliency(ctx, images, { target: 2 });
    const progress: number[] = [];
    const result = await maxSensitivity(ctx, x, explain, { samples: 8, radius: 0.2, seed: 12, onProgress: (p) => progress.push(p.done) });
    expect(progress.at(-1)).toBe(8);

    const elements = 12 * 10 * 3;
    const [a, b] = [Math.fround(-0.2), Math.fround(0.2)];
    const gradient = (data: Float64Array) => referenceScoreGradient(spec, refTensor([1, 12, 10, 3], data), 'logits', [2]).data;
    const original = gradient(x.data);
    const expected = Array.from({ length: 8 }, (_, k) => {
      // shaders/random.wgsl fill_uniform over the whole [8, 12, 10, 3] tensor (copy 0), then added in float32
      const perturbed = Float64Array.from(x.data, (v, e) => Math.fround(v + Math.fround(a + (b - a) * (1 - uniforms(12, MAX_SENSITIVITY_STREAM, 0, k * elements + e)[2]))));
      return relativeChange(original, gradient(perturbed));
    });
    const worst = Math.max(...expected.map((s, k) => Math.abs(result.sensitivities[k] - s)));
    console.log(`[explain-error] max-sensitivity reluCnn seed=${seed} ${result.maxSensitivity.toFixed(6)} vs ${Math.max(...expected).toFixed(6)}, worst per-sample error ${worst.toExponential(2)}`);
    expect(Math.max(...expected), 'ReLU patterns change under the noise').toBeGreaterThan(1e-3);
    expect(worst).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(result.maxSensitivity - Math.max(...expected))).toBeLessThanOrEqual(1e-4);

    const single = await maxSensitivity(ctx, x, explain, { samples: 8, radius: 0.2, seed: 12, batched: false });
    for (let k = 0; k < 8; k++) expect(single.sensitivities[k]).toBeCloseTo(result.sensitivities[k], 5);
  });

  it('batch of 3 images x=[3,12,10,3] on reluCnn, saliency with targets 2, 0, 1 by owner, 5 samples: each equals its one-image call exactly, in two explain calls', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const spec = reluCnn(random);
    const ctx = context(rt, spec);
    const images = [0, 1, 2].map(() => ({ data: randomInput(spec, 1, random).data, shape: [12, 10, 3] }));
    const targets = [2, 0, 1];
    const rows: number[] = [];
    const explainFor = (place: (owner: number) => number) => (stack: ImageInput | ImageBatch, owners: readonly number[]) => {
      rows.push(owners.length);
      return saliency(ctx, stack, { target: owners.map((o) => targets[place(o)]) }) as Promise<Attribution[] | Attribution>;
    };
    const options = { samples: 5, radius: 0.2, seed: 21 };
    const inUse = rt.pool.buffersInUse;
    const progress: number[] = [];
    const batched = await maxSensitivity(ctx, images, explainFor((o) => o), { ...options, onProgress: (p) => progress.push(p.done) });
    expect(rows, 'the 3 images, then their 15 copies as one stack').toEqual([3, 15]);
    expect(progress.at(-1)).toBe(15);
    expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    expect(batched).toHaveLength(3);
    const oneByOne = await maxSensitivity(ctx, images, explainFor((o) => o), { ...options, batched: false });
    for (let i = 0; i < 3; i++) {
      const alone = await maxSensitivity(ctx, images[i], explainFor(() => i), options);
      expect(batched[i].sensitivities).toEqual(alone.sensitivities);
      expect(oneByOne[i].sensitivities).toEqual(alone.sensitivities);
    }
    expect(Math.max(...batched.map((r) => r.maxSensitivity)), 'ReLU patterns change under the noise').toBeGreaterThan(1e-3);
    expect(batched[1].sensitivities).not.toEqual(batched[0].sensitivities);
  });

  it('relativeChange: undivided when the original map is zero', () => {
    expect(relativeChange([3, 4], [3, 4])).toBe(0);
    expect(relativeChange([3, 4], [0, 0])).toBeCloseTo(1, 12);
    expect(relativeChange([0, 0], [3, 4])).toBeCloseTo(5, 12);
  });

  it('rejects bad options before any GPU work; a batched explain must return one map per image', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    const explain = (images: ImageInput | ImageBatch) => saliency(ctx, images);
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(maxSensitivity(ctx, image, 'saliency' as never)).rejects.toThrow(/as a function/);
    await expect(maxSensitivity(ctx, image, explain, { samples: 0 })).rejects.toThrow(/samples must be an integer/);
    await expect(maxSensitivity(ctx, image, explain, { radius: -1 })).rejects.toThrow(/radius must be/);
    await expect(maxSensitivity(ctx, image, explain, { batched: 1 as never })).rejects.toThrow(/batched/);
    await expect(maxSensitivity(ctx, image, explain, { seed: 1.5 })).rejects.toThrow(/seed/);
    await expect(maxSensitivity(ctx, { data: new Float32Array(5), shape: [5] }, explain)).rejects.toThrow(/needs 5|does not match/);
    await expect(maxSensitivity(ctx, image, explain, { signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
    const inUse = rt.pool.buffersInUse;
    await expect(maxSensitivity(ctx, image, async () => ({ values: new Float32Array(1) }), { samples: 3 })).rejects.toThrow(/1 map\(s\) for a stack of 3/);
    expect(rt.pool.buffersInUse, 'released after an error too').toBe(inUse);
  });
});
