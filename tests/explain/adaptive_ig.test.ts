import { expect, it } from 'vitest';
import { Explainer } from '../../src/explain/explainer.js';
import type { Attribution } from '../../src/explain/attribution.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { inputShapeOf, randomInput, reluCnn } from '../model/fixtures.js';
import { referenceForward } from '../reference/model.js';
import { refTensor, relativeL2 } from '../reference/tensor.js';

describeGpu('adaptiveIntegratedGradients', () => {
  it('doubles Gauss-Legendre points from 2 until completeness <= 1e-3 (reluCnn x=[1,12,10,3]), or says it could not within maxSteps', async () => {
    const { seed, random } = randomSource();
    const spec = reluCnn(random);
    const x = randomInput(spec, 1, random);
    // the class whose score moves most from the black baseline: completeness is relative to that change
    const change = (c: number) => Math.abs(referenceForward(spec, x).get('logits')!.data[c] - referenceForward(spec, refTensor(x.shape)).get('logits')!.data[c]);
    const target = [0, 1, 2].reduce((best, c) => (change(c) > change(best) ? c : best), 0);
    const rt = testRuntime();
    const xai = await Explainer.create(rt, spec, { inputRange: [0, 1] });
    const image = { data: x.data, shape: inputShapeOf(spec) };
    const progress: number[] = [];
    const result = await xai.adaptiveIntegratedGradients(image, { tolerance: 1e-3, steps: 2, maxSteps: 256, target, onProgress: (p) => progress.push(p.done) });
    const rounds = result.rounds;
    console.log(`[completeness] adaptive seed=${seed}: ${rounds.map((r) => `${r.steps}:${r.completenessError.toExponential(2)}`).join(' ')}`);
    expect(result.converged).toBe(true);
    expect(result.completenessError).toBeLessThanOrEqual(1e-3);
    expect(rounds.map((r) => r.steps)).toEqual(rounds.map((_, i) => 2 << i));
    expect(result.steps).toBe(rounds.at(-1)!.steps);
    // it stopped at the first round under the tolerance, and the last round is plain IG at its steps
    rounds.slice(0, -1).forEach((r) => expect(r.completenessError).toBeGreaterThan(1e-3));
    const plain = (await xai.integratedGradients(image, { steps: result.steps, target })) as Attribution;
    expect(relativeL2(result.values, plain.values)).toBe(0);
    expect(progress.at(-1)).toBe(rounds.reduce((a, r) => a + r.steps, 0));

    const capped = await xai.adaptiveIntegratedGradients(image, { tolerance: 1e-9, steps: 2, maxSteps: 6, target });
    expect(capped.converged).toBe(false);
    expect(capped.rounds.map((r) => r.steps)).toEqual([2, 4, 6]);
    expect(capped.completenessError).toBeGreaterThan(1e-9);

    await rt.flush();
    const [pending, inUse] = [rt.pendingCommands, rt.pool.buffersInUse];
    await expect(xai.adaptiveIntegratedGradients(image, { tolerance: 0 })).rejects.toThrow(/tolerance must be a completeness error in \(0, 1\)/);
    await expect(xai.adaptiveIntegratedGradients(image, { tolerance: 0.01, rule: 'trapezoid' })).rejects.toThrow(/adds Gauss-Legendre points/);
    await expect(xai.adaptiveIntegratedGradients(image, { tolerance: 0.01, steps: 64, maxSteps: 32 })).rejects.toThrow(/steps must be an integer in 1\.\.32/);
    await expect(xai.adaptiveIntegratedGradients(image, { tolerance: 0.01, target: { topK: 2 } })).rejects.toThrow(/one target per image/);
    expect([rt.pendingCommands, rt.pool.buffersInUse]).toEqual([pending, inUse]);
  });

  it('a batch of 3 images x=[3,12,10,3] with targets [0, top, 2]: each image runs the rounds it runs alone, equal results; progress monotone', async () => {
    const { seed, random } = randomSource();
    const spec = reluCnn(random);
    const x = randomInput(spec, 3, random);
    const rt = testRuntime();
    const xai = await Explainer.create(rt, spec, { inputRange: [0, 1] });
    const size = x.data.length / 3;
    const images = [0, 1, 2].map((i) => ({ data: x.data.slice(i * size, (i + 1) * size), shape: inputShapeOf(spec) }));
    const targets = [0, 'top', 2] as const;
    const progress: number[] = [];
    const options = { tolerance: 1e-2, steps: 2, maxSteps: 64 };
    const batched = await xai.adaptiveIntegratedGradients(images, { ...options, target: [...targets], onProgress: (p) => progress.push(p.done) });
    expect(batched).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const alone = await xai.adaptiveIntegratedGradients(images[i], { ...options, target: targets[i] });
      console.log(`[completeness] adaptive batch seed=${seed} image ${i}: ${alone.rounds.map((r) => `${r.steps}:${r.completenessError.toExponential(2)}`).join(' ')}`);
      expect(batched[i].rounds, `image ${i} seed=${seed}`).toEqual(alone.rounds);
      expect(batched[i].target).toBe(alone.target);
      expect(relativeL2(batched[i].values, alone.values), `image ${i} seed=${seed}`).toBeLessThanOrEqual(1e-6);
    }
    progress.forEach((d, i) => expect(d).toBeGreaterThan(progress[i - 1] ?? 0));
    expect(progress.at(-1)).toBe(batched.reduce((a, r) => a + r.rounds.reduce((b, q) => b + q.steps, 0), 0));
  });
});
