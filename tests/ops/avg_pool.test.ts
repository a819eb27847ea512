import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { avgPool, avgPoolBackward } from '../../src/ops/avg_pool.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { POOL_CASES, avgPoolBackwardRef, avgPoolRef, caseName, refOptions } from '../reference/pool.js';
import { randomTensor, refTensor } from '../reference/tensor.js';

describeGpu('avgPool', () => {
  for (const c of POOL_CASES) {
    it(caseName(c), async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const options = { poolSize: c.poolSize, strides: c.strides, padding: c.padding };
      const ref = refOptions(c);
      const x = randomTensor(c.shape, random);
      const expectedY = avgPoolRef(x, ref);
      const dy = randomTensor(expectedY.shape, random);
      const label = `avgPool ${caseName(c)} seed=${seed}`;
      await expectMatchesReference(rt, avgPool(rt, toGpu(rt, x), options), expectedY, `${label} forward`);
      const expectedDx = avgPoolBackwardRef(dy, c.shape, ref);
      await expectMatchesReference(rt, avgPoolBackward(rt, toGpu(rt, dy), c.shape, options), expectedDx, `${label} backward-input`);
      expectReferenceGradient(expectedDx, finiteDifferenceVjp((t) => avgPoolRef(t, ref), x, dy), label);
    });
  }

  it('same padding divides by the cells inside the input: x=[1,3,3,1] pool=2x2 strides=2 same', async () => {
    const rt = testRuntime();
    const x = refTensor([1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // windows hold 4, 2, 2 and 1 input cells (values from tf.avgPool)
    expect(Array.from(await rt.read(avgPool(rt, toGpu(rt, x), { poolSize: 2, padding: 'same' })))).toEqual([3, 4.5, 7.5, 9]);
    const dx = avgPoolBackward(rt, rt.upload([1, 2, 2, 1], [4, 2, 2, 1]), [1, 3, 3, 1], { poolSize: 2, padding: 'same' });
    expect(Array.from(await rt.read(dx))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('rejects bad shapes and options', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 4, 4, 1], new Array(16).fill(0));
    expect(() => avgPool(rt, rt.upload([1, 16], new Array(16).fill(0)), { poolSize: 2 })).toThrow(ShapeError);
    expect(() => avgPool(rt, x, { poolSize: [2, 2, 2] as unknown as [number, number] })).toThrow(/poolSize must be/);
    expect(() => avgPool(rt, x, { poolSize: [2, 3], strides: 0 })).toThrow(/strides must be/);
    expect(() => avgPool(rt, x, { poolSize: [5, 1] })).toThrow(/does not fit a 4x4 input/);
    expect(() => avgPoolBackward(rt, rt.upload([1, 2, 2, 1], [0, 0, 0, 0]), [1, 4, 4, 1], { poolSize: 2, strides: 1 })).toThrow(/forward output's shape \[1, 3, 3, 1\]/);
    expect(() => avgPoolBackward(rt, rt.upload([1, 2, 2, 1], [0, 0, 0, 0]), [4, 4, 1], { poolSize: 2 })).toThrow(/input must be NHWC/);
  });
});
