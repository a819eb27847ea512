import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { globalAvgPool, globalAvgPoolBackward } from '../../src/ops/global_avg_pool.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { globalAvgPoolBackwardRef, globalAvgPoolRef } from '../reference/pool.js';
import { randomTensor } from '../reference/tensor.js';

// 1x1 spatial (a no-op mean), odd sizes, batch 3, and a larger odd 11x13 with many channels
const SHAPES = [[1, 7, 5, 3], [3, 5, 7, 13], [2, 1, 1, 5], [1, 11, 13, 37]];

describeGpu('globalAvgPool', () => {
  for (const shape of SHAPES) {
    it(`x=[${shape}]`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const x = randomTensor(shape, random);
      const dy = randomTensor([shape[0], shape[3]], random);
      const label = `globalAvgPool x=[${shape}] seed=${seed}`;
      await expectMatchesReference(rt, globalAvgPool(rt, toGpu(rt, x)), globalAvgPoolRef(x), `${label} forward`);
      const expectedDx = globalAvgPoolBackwardRef(dy, shape);
      await expectMatchesReference(rt, globalAvgPoolBackward(rt, toGpu(rt, dy), shape), expectedDx, `${label} backward-input`);
      expectReferenceGradient(expectedDx, finiteDifferenceVjp(globalAvgPoolRef, x, dy), label);
    });
  }

  it('rejects bad shapes', () => {
    const rt = testRuntime();
    expect(() => globalAvgPool(rt, rt.upload([4, 4, 1], new Array(16).fill(0)))).toThrow(ShapeError);
    expect(() => globalAvgPoolBackward(rt, rt.upload([1, 3], [0, 0, 0]), [1, 4, 4, 2])).toThrow(/must have shape \[1, 2\]/);
    expect(() => globalAvgPoolBackward(rt, rt.upload([1, 2], [0, 0]), [1, 4, 2])).toThrow(/input must be NHWC/);
  });
});
