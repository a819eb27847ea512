import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { flatten, reshape, reshapeBackward } from '../../src/ops/reshape.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { flattenRef, reshapeRef } from '../reference/reshape.js';
import { randomTensor } from '../reference/tensor.js';

describeGpu('reshape', () => {
  for (const shape of [[1, 7, 5, 3], [3, 5, 7, 13], [2, 1, 1, 1031]]) {
    it(`flatten x=[${shape}]`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `flatten x=[${shape}] seed=${seed}`;
      const x = randomTensor(shape, random);
      const y = flattenRef(x);
      const dy = randomTensor(y.shape, random);
      const xGpu = toGpu(rt, x);
      await expectMatchesReference(rt, flatten(rt, xGpu), y, `${label} forward`);
      expect(xGpu.isDisposed, 'the input stays valid').toBe(false);
      const expected = reshapeRef(dy, shape);
      await expectMatchesReference(rt, reshapeBackward(rt, toGpu(rt, dy), shape), expected, `${label} backward-input`);
      expectReferenceGradient(expected, finiteDifferenceVjp(flattenRef, x, dy), label);
    });
  }

  it('reshape x=[2,3,4] to [4,-1] and [24]', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const x = randomTensor([2, 3, 4], random);
    const xGpu = toGpu(rt, x);
    await expectMatchesReference(rt, reshape(rt, xGpu, [4, -1]), reshapeRef(x, [4, 6]), `reshape x=[2,3,4] to [4,-1] seed=${seed} forward`);
    await expectMatchesReference(rt, reshape(rt, xGpu, [24]), reshapeRef(x, [24]), `reshape x=[2,3,4] to [24] seed=${seed} forward`);
  });

  it('rejects sizes that differ and bad targets', () => {
    const rt = testRuntime();
    const x = rt.upload([2, 3, 4], new Array(24).fill(0));
    expect(() => reshape(rt, x, [5, 5])).toThrow(ShapeError);
    expect(() => reshape(rt, x, [5, 5])).toThrow(/reshape: cannot reshape \[2, 3, 4\] \(24 values\) to \[5, 5\]/);
    expect(() => reshape(rt, x, [5, -1])).toThrow(/cannot reshape \[2, 3, 4\] \(24 values\) to \[5, -1\]/);
    expect(() => reshape(rt, x, [-1, -1])).toThrow(/at most one -1/);
    expect(() => reshape(rt, x, [0, 24])).toThrow(/positive integers/);
    expect(() => reshapeBackward(rt, x, [2, 2])).toThrow(/reshapeBackward: output gradient \[2, 3, 4\] does not fit the input shape \[2, 2\]/);
  });
});
