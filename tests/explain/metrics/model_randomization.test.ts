import { describe, expect, it } from 'vitest';
import type { ExplainContext, ImageInput } from '../../../src/explain/context.js';
import { modelRandomization, spearman } from '../../../src/explain/metrics/model_randomization.js';
import { AbortedError } from '../../../src/explain/progress.js';
import { saliency } from '../../../src/explain/saliency.js';
import type { Runtime } from '../../../src/gpu/runtime.js';
import { Model } from '../../../src/model/model.js';
import type { ModelSpec } from '../../../src/model/spec.js';
import { randomSource } from '../../check.js';
import { describeGpu, testRuntime } from '../../gpu.js';
import { randomInput, tinyCnn } from '../../model/fixtures.js';
import { referenceForward, referenceScoreGradient } from '../../reference/model.js';
import { relativeL2 } from '../../reference/tensor.js';
import { argmax } from '../reference.js';

function context(rt: Runtime, spec: ModelSpec): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk: 256 };
}

describe('spearman', () => {
  it('equals 1 - 6 sum d^2 / (n (n^2 - 1)) without ties, averages tied ranks, NaN for a constant map', () => {
    const { seed, random } = randomSource();
    const a = Array.from({ length: 50 }, () => random());
    const b = a.map((v) => v + 0.3 * random());
    const rank = (v: number[]) => v.map((x) => v.filter((y) => y < x).length + 1);
    const [ra, rb] = [rank(a), rank(b)];
    const closed = 1 - (6 * ra.reduce((s, r, i) => s + (r - rb[i]) ** 2, 0)) / (50 * (50 ** 2 - 1));
    expect(spearman(a, b), `seed=${seed}`).toBeCloseTo(closed, 12);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks (1.5, 1.5, 3) and (1, 2, 3): Pearson of those = sqrt(3) / 2
    expect(spearman([0, 0, 5], [1, 2, 3])).toBeCloseTo(Math.sqrt(3) / 2, 12);
    expect(spearman([2, 2, 2], [1, 2, 3])).toBeNaN();
  });
});

describeGpu('modelRandomization', () => {
  it('tinyCnn x=[1,9,7,3], saliency: logits, conv2, conv1 re-drawn cumulatively; each map equals float64 saliency of the GPU weights; weights restored', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    const target = argmax(referenceForward(spec, x).get('logits')!.data);
    const before = await saliency(ctx, x, { target });
    const layerErrors: number[] = [];
    const explain = async (image: ImageInput) => {
      const result = await saliency(ctx, image, { target });
      // the model as the GPU holds it now, in float64
      const current: ModelSpec = { ...spec, layers: await Promise.all(spec.layers.map(async (layer) => {
        const weights = ctx.model.layer(layer.name).weights;
        const copy: Record<string, unknown> = { ...layer };
        for (const [name, tensor] of Object.entries(weights)) {
          expect(copy[name], `${layer.name}.${name} is a spec field`).toBeDefined();
          copy[name] = { shape: [...tensor.shape], data: await rt.read(tensor) };
        }
        return copy as unknown as typeof layer;
      })) };
      layerErrors.push(relativeL2(result.values, referenceScoreGradient(current, x, 'logits', [target]).data));
      return result;
    };
    const stages: number[] = [];
    const result = await modelRandomization(ctx, x, explain, { seed, onProgress: (p) => stages.push(p.done) });
    console.log(`[randomization] seed=${seed} layers ${result.layers.join(' > ')} rho ${result.correlations.map((r) => r.toFixed(3)).join(' ')} errors ${layerErrors.map((e) => e.toExponential(1)).join(' ')}`);
    expect(result.layers).toEqual(['logits', 'conv2', 'conv1']);
    expect(stages).toEqual([1, 2, 3]);
    expect(layerErrors.length).toBe(4);
    layerErrors.forEach((e) => expect(e).toBeLessThanOrEqual(1e-4));
    result.maps.forEach((map, i) => expect(result.correlations[i]).toBeCloseTo(spearman(result.original, map), 12));
    // the maps really changed: every stage differs from the original
    result.maps.forEach((map) => expect(relativeL2(map, result.original)).toBeGreaterThan(1e-3));
    const after = await saliency(ctx, x, { target });
    expect(relativeL2(after.values, before.values), 'weights restored').toBe(0);
  });

  it('re-drawn weights keep each tensor mean and deviation; restored after an abort and after an error', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    const filter = ctx.model.layer('logits').weights.weights;
    const original = await rt.read(filter);
    const stats = (v: Float32Array) => {
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      return [mean, Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length)];
    };
    let seen: Float32Array | undefined;
    const controller = new AbortController();
    const explain = async (image: ImageInput) => {
      const result = await saliency(ctx, image);
      if (seen === undefined && controller.signal.aborted === false && (await rt.read(filter)).some((v, i) => v !== original[i])) {
        seen = await rt.read(filter);
        controller.abort();
      }
      return result;
    };
    await expect(modelRandomization(ctx, x, explain, { seed, signal: controller.signal })).rejects.toThrow(AbortedError);
    const [m0, s0] = stats(original);
    const [m1, s1] = stats(seen!);
    console.log(`[randomization] logits weights [36,5] mean ${m0.toFixed(3)} -> ${m1.toFixed(3)}, deviation ${s0.toFixed(3)} -> ${s1.toFixed(3)} seed=${seed}`);
    // 180 draws: the sample mean within 4 standard errors, the deviation within 25%
    expect(Math.abs(m1 - m0)).toBeLessThan((4 * s0) / Math.sqrt(180));
    expect(Math.abs(s1 / s0 - 1)).toBeLessThan(0.25);
    expect(relativeL2(await rt.read(filter), original), 'restored after the abort').toBe(0);
    let calls = 0;
    const failing = async (image: ImageInput) => {
      if (++calls === 2) throw new Error('method failed');
      return saliency(ctx, image);
    };
    await expect(modelRandomization(ctx, x, failing)).rejects.toThrow(/method failed/);
    expect(relativeL2(await rt.read(filter), original), 'restored after an error').toBe(0);
  });

  it('rejects bad options before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    const explain = (i: ImageInput) => saliency(ctx, i);
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(modelRandomization(ctx, image, explain, { layers: ['pool1'] })).rejects.toThrow(/'pool1' has no weights to randomize \(layers with weights, top first: logits, conv2, conv1\)/);
    await expect(modelRandomization(ctx, image, explain, { layers: ['conv1', 'conv1'] })).rejects.toThrow(/twice/);
    await expect(modelRandomization(ctx, image, explain, { absolute: 'yes' as never })).rejects.toThrow(/absolute/);
    await expect(modelRandomization(ctx, image, 'saliency' as never)).rejects.toThrow(/as a function of the image/);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });
});
