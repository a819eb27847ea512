import { expect, it } from 'vitest';
import { Explainer } from '../../src/explain/explainer.js';
import { AbortedError } from '../../src/explain/progress.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { inputShapeOf, randomInput, residualCnn, tinyCnn } from '../model/fixtures.js';
import { relativeL2, smoothGradReference, topClass } from './reference.js';

describeGpu('smoothGrad', () => {
  for (const variant of ['mean', 'squared', 'vargrad'] as const) {
    it(`${variant}: equals the reference with the replayed GPU noise (tinyCnn, 6 samples)`, async () => {
      const { seed, random } = randomSource();
      const spec = tinyCnn(random);
      const x = randomInput(spec, 1, random, 0.5);
      const xai = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1] });
      const result = await xai.smoothGrad({ data: x.data, shape: inputShapeOf(spec) }, { samples: 6, noise: 0.1, variant, seed });
      const top = topClass(spec, 'logits', x);
      expect(result.target).toBe(top);
      // sigma = noise * (high - low) = 0.2
      const error = relativeL2(result.values, smoothGradReference(spec, 'logits', x, top, 6, 0.2, seed, variant));
      console.log(`[explain-error] smoothgrad-${variant} seed=${seed} ${error.toExponential(2)}`);
      expect(error).toBeLessThanOrEqual(1e-4);
    });
  }

  it('chunked batches (maxChunk 3 for 8 samples) equal one batch, with progress reports', async () => {
    const { seed, random } = randomSource();
    const spec = residualCnn(random);
    const x = randomInput(spec, 1, random);
    const image = { data: x.data, shape: inputShapeOf(spec) };
    const whole = await (await Explainer.create(testRuntime(), spec)).smoothGrad(image, { samples: 8, seed, target: 2 });
    const progress: number[] = [];
    const chunked = await (await Explainer.create(testRuntime(), spec, { maxChunk: 3 })).smoothGrad(image, { samples: 8, seed, target: 2, onProgress: (p) => progress.push(p.done) });
    expect(progress).toEqual([3, 6, 8]);
    expect(relativeL2(chunked.values, whole.values)).toBeLessThanOrEqual(1e-6);
    const expected = smoothGradReference(spec, 'logits', x, 2, 8, 0.15, seed, 'mean');
    expect(relativeL2(chunked.values, expected)).toBeLessThanOrEqual(1e-4);
  });

  it('reads back only the final map and the target, packed in one read (no readback per sample)', async () => {
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const rt = testRuntime();
    const xai = await Explainer.create(rt, spec);
    const before = rt.stats.mapCalls;
    await xai.smoothGrad({ data: randomInput(spec, 1, random).data, shape: inputShapeOf(spec) }, { samples: 16 });
    expect(rt.stats.mapCalls - before).toBe(1);
  });

  it('rejects bad options and honours an aborted signal', async () => {
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const xai = await Explainer.create(testRuntime(), spec);
    const image = { data: randomInput(spec, 1, random).data, shape: inputShapeOf(spec) };
    await expect(xai.smoothGrad(image, { samples: 0 })).rejects.toThrow(/samples must be an integer in 1\.\./);
    await expect(xai.smoothGrad(image, { noise: -1 })).rejects.toThrow(/noise must be a finite number >= 0/);
    await expect(xai.smoothGrad(image, { variant: 'median' as 'mean' })).rejects.toThrow(/Unknown SmoothGrad variant 'median'/);
    const controller = new AbortController();
    controller.abort('user');
    await expect(xai.smoothGrad(image, { signal: controller.signal })).rejects.toThrow(AbortedError);
  });
});
