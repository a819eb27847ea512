import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { channelAffine, channelAffineBackward, foldBatchNorm } from '../../src/ops/channel_affine.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, relativeError, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { batchNormRef, channelAffineBackwardRef, channelAffineRef } from '../reference/channel_affine.js';
import { randomTensor, refTensor } from '../reference/tensor.js';

describeGpu('channelAffine', () => {
  // [3,31,29,3] has 2697 rows: the channel sums take two passes
  for (const shape of [[1, 7, 5, 3], [3, 5, 7, 13], [2, 1031], [3, 31, 29, 3]]) {
    it(`x=[${shape}] scale=shift=[${shape[shape.length - 1]}]`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `channelAffine x=[${shape}] seed=${seed}`;
      const channels = shape[shape.length - 1];
      const x = randomTensor(shape, random, 3);
      const scale = randomTensor([channels], random, 2);
      const shift = randomTensor([channels], random);
      const dy = randomTensor(shape, random);
      const [xGpu, scaleGpu] = [toGpu(rt, x), toGpu(rt, scale)];
      await expectMatchesReference(rt, channelAffine(rt, xGpu, scaleGpu, toGpu(rt, shift)), channelAffineRef(x, scale, shift), `${label} forward`);

      const inUse = rt.pool.buffersInUse;
      const grads = channelAffineBackward(rt, xGpu, toGpu(rt, dy), scaleGpu);
      expect(rt.pool.buffersInUse, 'only the three gradients and dy stay allocated').toBe(inUse + 4);
      const expected = channelAffineBackwardRef(x, dy, scale);
      await expectMatchesReference(rt, grads.input!, expected.input, `${label} backward-input`);
      await expectMatchesReference(rt, grads.scale!, expected.scale, `${label} backward-scale`);
      await expectMatchesReference(rt, grads.shift!, expected.shift, `${label} backward-shift`);
      if (x.data.length < 2000) {
        expectReferenceGradient(expected.input, finiteDifferenceVjp((t) => channelAffineRef(t, scale, shift), x, dy), `${label} input`);
      }
      expectReferenceGradient(expected.scale, finiteDifferenceVjp((t) => channelAffineRef(x, t, shift), scale, dy), `${label} scale`);
      expectReferenceGradient(expected.shift, finiteDifferenceVjp((t) => channelAffineRef(x, scale, t), shift, dy), `${label} shift`);
    });
  }

  it('backward computes only what is asked: x=[2,3,3,5]', async () => {
    const rt = testRuntime();
    const x = rt.upload([2, 3, 3, 5], new Array(90).fill(1));
    const only = channelAffineBackward(rt, x, x, rt.upload([5], [1, 2, 3, 4, 5]), { shift: true });
    expect(Object.keys(only)).toEqual(['shift']);
    expect(Array.from(await rt.read(only.shift!))).toEqual([18, 18, 18, 18, 18]);
  });

  it('foldBatchNorm matches the unfolded batch norm on x=[2,5,3,11]', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const label = `foldBatchNorm x=[2,5,3,11] seed=${seed}`;
    const x = randomTensor([2, 5, 3, 11], random, 3);
    const gamma = randomTensor([11], random, 2);
    const beta = randomTensor([11], random);
    const mean = randomTensor([11], random);
    const variance = refTensor([11], randomTensor([11], random).data.map((v) => Math.fround(Math.abs(v) + 0.01)));
    const epsilon = 1e-3;
    const { scale, shift } = foldBatchNorm({ gamma: gamma.data, beta: beta.data, movingMean: mean.data, movingVariance: variance.data, epsilon });
    const y = channelAffine(rt, toGpu(rt, x), rt.upload([11], scale), rt.upload([11], shift));
    await expectMatchesReference(rt, y, batchNormRef(x, gamma, beta, mean, variance, epsilon), `${label} forward`);
    // absent gamma and beta mean 1 and 0 (Keras scale=False, center=False)
    const plain = foldBatchNorm({ movingMean: [1, -2], movingVariance: [3, 0.5], epsilon: 1 });
    expect(relativeError(plain.scale, [0.5, 1 / Math.sqrt(1.5)])).toBeLessThan(1e-7);
    expect(relativeError(plain.shift, [-0.5, 2 / Math.sqrt(1.5)])).toBeLessThan(1e-7);
  });

  it('rejects bad shapes and batch-norm parameters', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 2, 2, 3], new Array(12).fill(0));
    const c3 = rt.upload([3], [1, 1, 1]);
    const c2 = rt.upload([2], [1, 1]);
    expect(() => channelAffine(rt, x, c2, c3)).toThrow(ShapeError);
    expect(() => channelAffine(rt, x, c2, c3)).toThrow(/channelAffine: scale \[2\] must be \[3\], one value per channel of the input \[1, 2, 2, 3\]/);
    expect(() => channelAffine(rt, x, c3, rt.upload([1, 3], [0, 0, 0]))).toThrow(/shift \[1, 3\] must be \[3\]/);
    expect(() => channelAffineBackward(rt, x, rt.upload([1, 2, 3, 2], new Array(12).fill(0)), c3)).toThrow(/channelAffineBackward: input and output gradient: shapes/);
    expect(() => foldBatchNorm({ movingMean: [0, 0], movingVariance: [1], epsilon: 1e-3 })).toThrow(/movingVariance has 1 values but movingMean has 2/);
    expect(() => foldBatchNorm({ gamma: [1], movingMean: [0, 0], movingVariance: [1, 1], epsilon: 1e-3 })).toThrow(ShapeError);
    expect(() => foldBatchNorm({ movingMean: [0], movingVariance: [0], epsilon: 0 })).toThrow(OptionError);
    expect(() => foldBatchNorm({ movingMean: [0], movingVariance: [1], epsilon: -1 })).toThrow(/epsilon must be a non-negative number/);
  });
});
