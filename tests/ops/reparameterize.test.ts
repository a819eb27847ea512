import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { reparameterize, reparameterizeBackward } from '../../src/ops/reparameterize.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { reparameterizeBackwardRef, reparameterizeRef } from '../reference/reparameterize.js';
import { randomTensor } from '../reference/tensor.js';

describeGpu('reparameterize', () => {
  for (const [n, latent] of [[1, 1], [5, 3], [17, 8]]) {
    it(`z = mu + exp(logvar/2) eps and its backward: stats=[${n},${2 * latent}] eps=[${n},${latent}]`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `reparameterize [${n},${2 * latent}] seed=${seed}`;
      const stats = randomTensor([n, 2 * latent], random, 2);
      const eps = randomTensor([n, latent], random, 2);
      const upstream = randomTensor([n, latent], random);
      const gpuStats = toGpu(rt, stats);
      const gpuEps = toGpu(rt, eps);
      await expectMatchesReference(rt, reparameterize(rt, gpuStats, gpuEps), reparameterizeRef(stats, eps), `${label} forward`);
      const expected = reparameterizeBackwardRef(stats, eps, upstream);
      await expectMatchesReference(rt, reparameterizeBackward(rt, gpuStats, gpuEps, toGpu(rt, upstream)), expected, `${label} backward`);
      expectReferenceGradient(expected, finiteDifferenceVjp((s) => reparameterizeRef(s, eps), stats, upstream), label, 1e-6);
    });
  }

  it('an odd encoder width or noise of the wrong shape is a ShapeError before any dispatch', () => {
    const rt = testRuntime();
    const stats = rt.upload([2, 4], new Float32Array(8));
    const before = rt.pendingCommands;
    expect(() => reparameterize(rt, rt.upload([2, 3], new Float32Array(6)), rt.upload([2, 1], [0, 0]))).toThrow(ShapeError);
    expect(() => reparameterize(rt, stats, rt.upload([2, 3], new Float32Array(6)))).toThrow(ShapeError);
    expect(() => reparameterizeBackward(rt, stats, rt.upload([2, 2], new Float32Array(4)), rt.upload([2, 1], [0, 0]))).toThrow(ShapeError);
    expect(rt.pendingCommands - before).toBe(5); // the uploads only
  });
});
