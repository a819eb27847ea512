import { describe, expect, it } from 'vitest';
import { Explainer } from '../../src/explain/explainer.js';
import { INTEGRATION_RULES, quadrature } from '../../src/explain/integrated_gradients.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { inputShapeOf, randomInput, reluCnn, residualCnn, tinyCnn } from '../model/fixtures.js';
import { referenceForward } from '../reference/model.js';
import { uniforms } from '../reference/random.js';
import { refTensor } from '../reference/tensor.js';
import { integratedGradientsReference, relativeL2 } from './reference.js';

describe('quadrature rules', () => {
  it('weights sum to 1 and integrate polynomials as their order promises', () => {
    const integrate = (rule: (typeof INTEGRATION_RULES)[number], steps: number, f: (a: number) => number) => {
      const { alphas, weights } = quadrature(rule, steps);
      return alphas.reduce((sum, a, k) => sum + weights[k] * f(a), 0);
    };
    for (const rule of INTEGRATION_RULES) expect(integrate(rule, 7, () => 1)).toBeCloseTo(1, 12);
    // Gauss-Legendre with n nodes is exact to degree 2n - 1: int_0^1 a^9 = 1/10 with 5 nodes
    expect(integrate('gauss-legendre', 5, (a) => a ** 9)).toBeCloseTo(0.1, 12);
    expect(integrate('riemann-middle', 1, (a) => a)).toBeCloseTo(0.5, 12);
    expect(integrate('trapezoid', 2, (a) => a)).toBeCloseTo(0.5, 12);
    expect(integrate('riemann-left', 4, (a) => a)).toBeCloseTo(3 / 8, 12);
    expect(integrate('riemann-right', 4, (a) => a)).toBeCloseTo(5 / 8, 12);
    expect(() => quadrature('simpson' as 'trapezoid', 4)).toThrow(/Unknown integration rule 'simpson'/);
    expect(() => quadrature('trapezoid', 1)).toThrow(/at least 2 steps/);
  });
});

describeGpu('integratedGradients', () => {
  for (const rule of INTEGRATION_RULES) {
    it(`${rule}, black baseline: equals the float64 reference (tinyCnn, 9 steps)`, async () => {
      const { seed, random } = randomSource();
      const spec = tinyCnn(random);
      const x = randomInput(spec, 1, random, 1);
      const xai = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1] });
      const result = await xai.integratedGradients({ data: x.data, shape: inputShapeOf(spec) }, { steps: 9, rule, target: 1 });
      const expected = integratedGradientsReference(spec, 'logits', x, refTensor(x.shape, new Float64Array(x.data.length).fill(-1)), 1, rule, 9);
      const error = relativeL2(result.values, expected.attribution);
      console.log(`[explain-error] ig ${rule} seed=${seed} ${error.toExponential(2)}`);
      expect(error).toBeLessThanOrEqual(1e-4);
      expect(result.scores!.input).toBeCloseTo(expected.input, 4);
      expect(result.scores!.baseline).toBeCloseTo(expected.baseline, 4);
    });
  }

  it('white, uniform and tensor baselines equal the reference', async () => {
    const { seed, random } = randomSource();
    const spec = residualCnn(random);
    const x = randomInput(spec, 1, random);
    const shape = inputShapeOf(spec);
    const xai = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1] });
    const image = { data: x.data, shape };
    const custom = randomInput(spec, 1, random, 0.5);
    const cases = [
      { baseline: 'white' as const, data: new Float64Array(x.data.length).fill(1) },
      // the uniform baseline is stream 2, copy 0 of the seed, in [low, high)
      { baseline: 'uniform' as const, data: Float64Array.from(x.data, (_, e) => Math.fround(-1 + 2 * Math.fround(1 - uniforms(seed, 2, 0, e)[2]))) },
      { baseline: { data: custom.data, shape }, data: custom.data },
    ];
    for (const c of cases) {
      const result = await xai.integratedGradients(image, { steps: 8, baseline: c.baseline, seed, target: 0 });
      const expected = integratedGradientsReference(spec, 'logits', x, refTensor(x.shape, c.data), 0, 'gauss-legendre', 8);
      const error = relativeL2(result.values, expected.attribution);
      console.log(`[explain-error] ig baseline=${typeof c.baseline === 'string' ? c.baseline : 'tensor'} seed=${seed} ${error.toExponential(2)}`);
      expect(error).toBeLessThanOrEqual(1e-4);
    }
  });

  it('completeness: <= 1e-2 with 64 Gauss-Legendre steps on a ReLU model, shrinking with more steps', async () => {
    const { seed, random } = randomSource();
    const spec = reluCnn(random);
    const x = randomInput(spec, 1, random);
    // the class whose score moves most between the black baseline and the image: completeness
    // is relative to that change, which must not be near zero
    const change = (c: number) => Math.abs(referenceForward(spec, x).get('logits')!.data[c] - referenceForward(spec, refTensor(x.shape)).get('logits')!.data[c]);
    const target = [0, 1, 2].reduce((best, c) => (change(c) > change(best) ? c : best), 0);
    const xai = await Explainer.create(testRuntime(), spec, { inputRange: [0, 1] });
    const image = { data: x.data, shape: inputShapeOf(spec) };
    const errors: number[] = [];
    for (const steps of [4, 16, 64]) errors.push((await xai.integratedGradients(image, { steps, rule: 'gauss-legendre', baseline: 'black', target })).completenessError!);
    console.log(`[completeness] seed=${seed} steps 4/16/64: ${errors.map((e) => e.toExponential(2)).join(' / ')}`);
    expect(errors[2]).toBeLessThanOrEqual(1e-2);
    expect(errors[2]).toBeLessThan(errors[0]);
  });

  it('chunked path (maxChunk 5 for 16 steps) equals one batch; bad options throw', async () => {
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const x = randomInput(spec, 1, random);
    const image = { data: x.data, shape: inputShapeOf(spec) };
    const whole = await (await Explainer.create(testRuntime(), spec)).integratedGradients(image, { steps: 16, baseline: 'blur', target: 3 });
    const chunked = await (await Explainer.create(testRuntime(), spec, { maxChunk: 5 })).integratedGradients(image, { steps: 16, baseline: 'blur', target: 3 });
    console.log(`[explain-error] ig chunked vs whole seed=${seed} ${relativeL2(chunked.values, whole.values).toExponential(2)}`);
    expect(relativeL2(chunked.values, whole.values)).toBeLessThanOrEqual(1e-6);
    const rt = testRuntime();
    const xai = await Explainer.create(rt, spec);
    // bad options are refused before any GPU work: nothing recorded, nothing allocated
    const [pending, inUse] = [rt.pendingCommands, rt.pool.buffersInUse];
    await expect(xai.integratedGradients(image, { steps: 0 })).rejects.toThrow(/steps must be an integer in 1\.\./);
    await expect(xai.integratedGradients(image, { baseline: 'grey' as 'black' })).rejects.toThrow(/Unknown baseline 'grey'/);
    await expect(xai.integratedGradients(image, { baseline: { data: new Float32Array(3), shape: [1, 1, 3] } })).rejects.toThrow(/does not match the model's input/);
    await expect(xai.smoothGrad(image, { samples: 0 })).rejects.toThrow(/samples must be/);
    expect([rt.pendingCommands, rt.pool.buffersInUse]).toEqual([pending, inUse]);
  });
});
