import { expect, it } from 'vitest';
import { addGaussianNoise, randomNormal, randomUniform } from '../../src/ops/random.js';
import { expectMatchesReference, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { gaussian, uniforms } from '../reference/random.js';
import { randomTensor, refTensor } from '../reference/tensor.js';

describeGpu('random', () => {
  it('normal: mean, variance and neighbour correlation over 1e6 draws', async () => {
    const rt = testRuntime();
    const { seed } = randomSource();
    const n = 1_000_000;
    const values = await rt.read(randomNormal(rt, [n], 0, 1, { seed, stream: 3 }));
    let sum = 0;
    let squares = 0;
    let lagged = 0;
    for (let i = 0; i < n; i++) {
      sum += values[i];
      squares += values[i] * values[i];
      if (i > 0) lagged += values[i] * values[i - 1];
    }
    const mean = sum / n;
    const variance = squares / n - mean * mean;
    const correlation = (lagged / (n - 1) - mean * mean) / variance;
    console.log(`[rng] seed=${seed} normal mean=${mean.toExponential(2)} variance=${variance.toFixed(4)} lag-1 correlation=${correlation.toExponential(2)}`);
    // standard errors for n = 1e6: mean 1e-3, variance 1.4e-3, correlation 1e-3; bounds are 5 sigma
    expect(Math.abs(mean)).toBeLessThan(5e-3);
    expect(Math.abs(variance - 1)).toBeLessThan(7e-3);
    expect(Math.abs(correlation)).toBeLessThan(5e-3);
  });

  it('uniform: range, mean and variance over 1e6 draws', async () => {
    const rt = testRuntime();
    const { seed } = randomSource();
    const n = 1_000_000;
    const values = await rt.read(randomUniform(rt, [n], -2, 3, { seed, stream: 1 }));
    let sum = 0;
    let squares = 0;
    let low = Infinity;
    let high = -Infinity;
    for (const v of values) {
      low = Math.min(low, v);
      high = Math.max(high, v);
      sum += v;
      squares += v * v;
    }
    const mean = sum / n;
    const variance = squares / n - mean * mean;
    expect(low).toBeGreaterThanOrEqual(-2);
    expect(high).toBeLessThan(3);
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(25 / 12 / n));
    expect(Math.abs(variance - 25 / 12)).toBeLessThan(0.02);
  });

  it('replays bit for bit in JavaScript, and chunks equal the whole batch', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const x = randomTensor([1, 5, 7, 3], random);
    const sigma = 0.3;
    const expected = refTensor([4, 5, 7, 3]);
    for (let copy = 0; copy < 4; copy++) {
      for (let e = 0; e < x.data.length; e++) expected.data[copy * x.data.length + e] = x.data[e] + sigma * gaussian(seed, 9, copy, e);
    }
    const whole = addGaussianNoise(rt, toGpu(rt, x), 4, sigma, { seed, stream: 9 });
    await expectMatchesReference(rt, whole, expected, `addGaussianNoise seed=${seed}`, 1e-5);
    const lastTwo = addGaussianNoise(rt, toGpu(rt, x), 2, sigma, { seed, stream: 9 }, 2);
    const all = await rt.read(whole);
    expect(Array.from(await rt.read(lastTwo))).toEqual(Array.from(all.subarray(2 * x.data.length)));
    // a different stream gives different numbers
    expect(uniforms(seed, 9, 0, 0)).not.toEqual(uniforms(seed, 10, 0, 0));
  });
});
