import { describe, expect, it } from 'vitest';
import type { Attribution } from '../../src/explain/attribution.js';
import { Explainer } from '../../src/explain/explainer.js';
import { GRADIENT_SHAP_STREAM, gradientShapDraws } from '../../src/explain/gradient_shap.js';
import { BASELINE_STREAM } from '../../src/explain/integrated_gradients.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { inputShapeOf, randomInput, residualCnn, tinyCnn } from '../model/fixtures.js';
import { referenceForward, referenceScoreGradient } from '../reference/model.js';
import { gaussian, uniforms } from '../reference/random.js';
import { refTensor, relativeL2, type RefTensor } from '../reference/tensor.js';

const rows = (t: RefTensor, n: number) => refTensor([1, ...t.shape.slice(1)], t.data.subarray((n * t.data.length) / t.shape[0], ((n + 1) * t.data.length) / t.shape[0]));

/**
 * GradientSHAP in float64 from the same draws: mean over k of grad f(b_k + a_k (x~_k - b_k)) *
 * (x~_k - b_k), x~_k = x + sigma * N(0, 1) of (seed, stream 6, copy k); and the completeness
 * error against f(x) - mean_k f(b_k).
 */
function gradientShapReference(spec: ModelSpec, x: RefTensor, baselines: RefTensor, target: number, samples: number, sigma: number, seed: number): { attribution: Float64Array; completenessError: number } {
  const draws = gradientShapDraws(seed, samples, baselines.shape[0]);
  const sum = new Float64Array(x.data.length);
  const score = (t: RefTensor) => referenceForward(spec, t).get('logits')!.data[target];
  let baselineScore = 0;
  for (let k = 0; k < samples; k++) {
    const b = rows(baselines, draws.baselines[k]).data;
    const noisy = x.data.map((v, e) => Math.fround(v + Math.fround(sigma) * gaussian(seed, GRADIENT_SHAP_STREAM, k, e)));
    // the GPU forms the path point in float32
    const point = refTensor(x.shape, noisy.map((v, e) => Math.fround(b[e] + draws.alphas[k] * Math.fround(v - b[e]))));
    referenceScoreGradient(spec, point, 'logits', [target]).data.forEach((g, e) => (sum[e] += (g * (noisy[e] - b[e])) / samples));
    baselineScore += score(rows(baselines, draws.baselines[k])) / samples;
  }
  const difference = score(x) - baselineScore;
  const total = sum.reduce((a, v) => a + v, 0);
  return { attribution: sum, completenessError: Math.abs(total - difference) / Math.abs(difference) };
}

describe('gradientShapDraws', () => {
  it('draws every baseline of a set and points in [0, 1), the same for a seed', () => {
    const a = gradientShapDraws(7, 200, 3);
    expect(new Set(a.baselines)).toEqual(new Set([0, 1, 2]));
    expect(a.alphas.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(gradientShapDraws(7, 200, 3)).toEqual(a);
    expect(gradientShapDraws(8, 200, 3).alphas).not.toEqual(a.alphas);
  });
});

describeGpu('gradientShap', () => {
  it('tinyCnn x=[1,9,7,3], 3 given baselines, no noise, 6 samples: the float64 composition of the same draws', async () => {
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const shape = inputShapeOf(spec);
    const x = randomInput(spec, 1, random);
    const baselines = randomInput(spec, 3, random, 0.5);
    const xai = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1] });
    const result = await xai.gradientShap({ data: x.data, shape }, { baselines: [0, 1, 2].map((b) => ({ data: rows(baselines, b).data, shape })), samples: 6, seed, target: 3 });
    const expected = gradientShapReference(spec, x, baselines, 3, 6, 0, seed);
    const error = relativeL2(result.values, expected.attribution);
    console.log(`[explain-error] gradientshap tinyCnn seed=${seed} ${error.toExponential(2)} completeness ${result.completenessError!.toExponential(2)}`);
    expect(result.method).toBe('gradientshap');
    expect(result.target).toBe(3);
    expect(error).toBeLessThanOrEqual(1e-4);
    expect(result.completenessError!).toBeCloseTo(expected.completenessError, 3);
    xai.dispose();
  });

  it('residualCnn x=[2,8,8,3], 4 uniform noise baselines, noise 0.1, 5 samples in chunks of 3: the reference, batched == one by one', async () => {
    const { seed, random } = randomSource();
    const spec = residualCnn(random);
    const shape = inputShapeOf(spec);
    const images = randomInput(spec, 2, random);
    const elements = images.data.length / 2;
    // the 'uniform' set: stream BASELINE_STREAM, copy 0, element b * E + e, in [low, high)
    const baselines = refTensor([4, ...shape], Float64Array.from({ length: 4 * elements }, (_, i) => Math.fround(-1 + 2 * Math.fround(1 - uniforms(seed, BASELINE_STREAM, 0, i)[2]))));
    const rt = testRuntime();
    const xai = await Explainer.create(rt, spec, { inputRange: [-1, 1], maxChunk: 3 });
    const options = { baselines: 'uniform' as const, baselineCount: 4, noise: 0.05, samples: 5, seed };
    const inUse = rt.pool.buffersInUse;
    const batched = (await xai.gradientShap({ data: images.data, shape: images.shape }, { ...options, target: [1, 2] })) as unknown as Attribution[];
    expect(rt.pool.buffersInUse, 'everything the call made is freed').toBe(inUse);
    for (let n = 0; n < 2; n++) {
      const expected = gradientShapReference(spec, rows(images, n), baselines, n + 1, 5, 0.05 * 2, seed);
      const alone = await xai.gradientShap({ data: rows(images, n).data, shape }, { ...options, target: n + 1 });
      const error = relativeL2(batched[n].values, expected.attribution);
      console.log(`[explain-error] gradientshap residualCnn noise image ${n} seed=${seed} ${error.toExponential(2)}`);
      expect(error).toBeLessThanOrEqual(1e-4);
      expect(relativeL2(batched[n].values, alone.values)).toBeLessThanOrEqual(1e-6);
    }
    xai.dispose();
  });

  it('rejects bad options before any GPU work', async () => {
    const { random } = randomSource();
    const rt = testRuntime();
    const xai = await Explainer.create(rt, tinyCnn(random), { inputRange: [-1, 1] });
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    const inUse = rt.pool.buffersInUse;
    await expect(xai.gradientShap(image, { samples: 0 })).rejects.toThrow(/samples must be an integer/);
    await expect(xai.gradientShap(image, { noise: -1 })).rejects.toThrow(/noise must be a finite number >= 0/);
    await expect(xai.gradientShap(image, { baselines: 'black', baselineCount: 3 })).rejects.toThrow(/baselineCount sets the size of the 'uniform' baseline set only/);
    await expect(xai.gradientShap(image, { baselines: { data: new Float32Array(5), shape: [5] } })).rejects.toThrow(/does not match the model's input/);
    expect(rt.pool.buffersInUse).toBe(inUse);
    xai.dispose();
  });
});
