import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { accumulateLossStats, accumulateLossSum, gaussianKlWithGradient, lossWithGradient } from '../../src/ops/loss.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { gaussianKlRef, meanLoss, sigmoidCrossEntropyRef, softmaxCrossEntropyRef } from '../reference/loss.js';
import { randomTensor, refTensor } from '../reference/tensor.js';

// [rows, classes, logit scale]: scale 40 puts logits far into exp's range, where a naive formula overflows
const CASES: [number, number, number][] = [
  [1, 2, 3],
  [5, 10, 3],
  [7, 3, 40],
  [33, 17, 1],
];

describeGpu('losses', () => {
  for (const [n, k, scale] of CASES) {
    it(`softmax cross-entropy logits=[${n},${k}] scale=${scale}`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `softmax-ce [${n},${k}] seed=${seed}`;
      const logits = randomTensor([n, k], random, scale);
      const labels = Array.from({ length: n }, () => Math.floor(random() * k));
      const { loss, logitsGrad } = lossWithGradient(rt, 'softmax-cross-entropy', toGpu(rt, logits), rt.upload([n], labels));
      const expected = softmaxCrossEntropyRef(logits, labels);
      await expectMatchesReference(rt, loss, expected.loss, `${label} loss`);
      await expectMatchesReference(rt, logitsGrad, expected.grad, `${label} gradient`);
      const f = meanLoss((z) => softmaxCrossEntropyRef(z, labels));
      expectReferenceGradient(expected.grad, finiteDifferenceVjp(f, logits, refTensor([1], [1])), label, 1e-5);
    });

    it(`sigmoid cross-entropy logits=[${n},${k}] scale=${scale}`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `sigmoid-ce [${n},${k}] seed=${seed}`;
      const logits = randomTensor([n, k], random, scale);
      // soft targets as well as 0/1 ones
      const targets = Array.from({ length: n * k }, (_, i) => (i % 3 === 0 ? random() : Math.round(random())));
      const { loss, logitsGrad } = lossWithGradient(rt, 'sigmoid-cross-entropy', toGpu(rt, logits), rt.upload([n, k], targets));
      const expected = sigmoidCrossEntropyRef(logits, targets);
      await expectMatchesReference(rt, loss, expected.loss, `${label} loss`);
      await expectMatchesReference(rt, logitsGrad, expected.grad, `${label} gradient`);
      const f = meanLoss((z) => sigmoidCrossEntropyRef(z, targets));
      expectReferenceGradient(expected.grad, finiteDifferenceVjp(f, logits, refTensor([1], [1])), label, 1e-5);
    });
  }

  // [rows, latent, scale]: scale 4 puts exp(logvar) near e^4, a far-off posterior
  for (const [n, latent, scale] of [[1, 1, 1], [7, 3, 4], [33, 5, 1]] as const) {
    it(`gaussian KL stats=[${n},${2 * latent}] scale=${scale}`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `gaussian-kl [${n},${2 * latent}] seed=${seed}`;
      const stats = randomTensor([n, 2 * latent], random, scale);
      const { loss, logitsGrad } = gaussianKlWithGradient(rt, toGpu(rt, stats));
      const expected = gaussianKlRef(stats);
      await expectMatchesReference(rt, loss, expected.loss, `${label} loss`);
      await expectMatchesReference(rt, logitsGrad, expected.grad, `${label} gradient`);
      expectReferenceGradient(expected.grad, finiteDifferenceVjp(meanLoss(gaussianKlRef), stats, refTensor([1], [1])), label, 1e-5);
      // the KL is >= 0, and 0 exactly at the prior (mu = 0, logvar = 0)
      expect(expected.loss.data.every((v) => v >= 0)).toBe(true);
      const { loss: atPrior } = gaussianKlWithGradient(rt, rt.upload([1, 2 * latent], new Float32Array(2 * latent)));
      expect((await rt.read(atPrior))[0]).toBeCloseTo(0, 7);
    });
  }

  it('batch stats add the loss sum and the correct count (argmax ties to the first class)', async () => {
    const rt = testRuntime();
    // rows: argmax 2 (label 2: right), tie of 0 and 1 -> 0 (label 1: wrong), argmax 0 (label 0: right)
    const logits = rt.upload([3, 3], [0, 1, 5, 2, 2, -1, 9, 0, 0]);
    const labels = rt.upload([3], [2, 1, 0]);
    const stats = rt.upload([2], [10, 1]);
    const { loss } = lossWithGradient(rt, 'softmax-cross-entropy', logits, labels);
    accumulateLossStats(rt, 'softmax-cross-entropy', logits, labels, loss, stats);
    const expectedLoss = softmaxCrossEntropyRef(refTensor([3, 3], [0, 1, 5, 2, 2, -1, 9, 0, 0]), [2, 1, 0]).loss.data.reduce((a, b) => a + b, 0);
    const [sum, correct] = await rt.read(stats);
    expect(sum).toBeCloseTo(10 + expectedLoss, 4);
    expect(correct).toBe(1 + 2);

    // sigmoid: a row counts when every logit is on its target's side of 0
    const z = rt.upload([2, 2], [1, -1, 1, 1]);
    const t = rt.upload([2, 2], [1, 0, 1, 0]);
    const s = rt.upload([2], [0, 0]);
    const bce = lossWithGradient(rt, 'sigmoid-cross-entropy', z, t);
    accumulateLossStats(rt, 'sigmoid-cross-entropy', z, t, bce.loss, s);
    expect((await rt.read(s))[1]).toBe(1);
  });

  it('loss sum: total[0] += sum of a [5] loss, twice', async () => {
    const rt = testRuntime();
    const loss = rt.upload([5], [1, 2, 3, 4, 5.5]);
    const total = rt.upload([1], [0.5]);
    accumulateLossSum(rt, loss, total);
    accumulateLossSum(rt, loss, total);
    expect(await rt.read(total)).toEqual(new Float32Array([0.5 + 2 * 15.5]));
  });

  it('labels of the wrong shape are a ShapeError before any dispatch', () => {
    const rt = testRuntime();
    const logits = rt.upload([2, 3], [0, 0, 0, 0, 0, 0]);
    const before = rt.pendingCommands;
    expect(() => lossWithGradient(rt, 'softmax-cross-entropy', logits, rt.upload([3], [0, 1, 2]))).toThrow(ShapeError);
    expect(() => lossWithGradient(rt, 'sigmoid-cross-entropy', logits, rt.upload([2], [0, 1]))).toThrow(ShapeError);
    expect(() => gaussianKlWithGradient(rt, rt.upload([2, 3], [0, 0, 0, 0, 0, 0]))).toThrow(ShapeError);
    expect(rt.pendingCommands - before).toBe(3); // the three uploads only
  });
});
