import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { maxPool, maxPoolBackward } from '../../src/ops/max_pool.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { POOL_CASES, caseName, maxPoolBackwardRef, maxPoolRef, refOptions } from '../reference/pool.js';
import { randomTensor, refTensor, type RefTensor } from '../reference/tensor.js';

/**
 * Random values without near-ties: a shuffled grid of distinct values, each jittered inside its
 * own slot, so every window has one clear maximum and finite differences see no argmax switch.
 */
function distinctRandomTensor(shape: number[], random: () => number): RefTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const order = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return refTensor(shape, order.map((slot) => Math.fround(((slot + 0.1 + 0.8 * random()) / size) * 2 - 1)));
}

describeGpu('maxPool', () => {
  for (const c of POOL_CASES) {
    it(caseName(c), async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const options = { poolSize: c.poolSize, strides: c.strides, padding: c.padding };
      const ref = refOptions(c);
      const x = distinctRandomTensor(c.shape, random);
      const expectedY = maxPoolRef(x, ref);
      const dy = randomTensor(expectedY.shape, random);
      const label = `maxPool ${caseName(c)} seed=${seed}`;
      const xGpu = toGpu(rt, x);
      await expectMatchesReference(rt, maxPool(rt, xGpu, options), expectedY, `${label} forward`);
      const expectedDx = maxPoolBackwardRef(x, dy, ref);
      await expectMatchesReference(rt, maxPoolBackward(rt, xGpu, toGpu(rt, dy), options), expectedDx, `${label} backward-input`);
      expectReferenceGradient(expectedDx, finiteDifferenceVjp((t) => maxPoolRef(t, ref), x, dy), label);
    });
  }

  // Expected values checked against tfjs-backend-cpu's MaxPoolGrad (strict '>' in maxPoolPositions).
  const TIES: { name: string; x: number[]; strides: number; padding: 'valid' | 'same'; dx: number[] }[] = [
    { name: 'all equal, overlapping windows', x: [2, 2, 2, 2, 2, 2, 2, 2, 2], strides: 1, padding: 'valid', dx: [1, 2, 0, 3, 4, 0, 0, 0, 0] },
    // window (0,0) holds 5 at (0,1) and (1,0): (0,1) comes first in row-major order
    { name: 'two maxima per window', x: [0, 5, 1, 5, 0, 5, 1, 5, 0], strides: 1, padding: 'valid', dx: [0, 3, 0, 3, 0, 4, 0, 0, 0] },
    // 'same' clips the right/bottom windows to their first cell inside the input
    { name: 'all equal, same padding', x: [2, 2, 2, 2, 2, 2, 2, 2, 2], strides: 2, padding: 'same', dx: [1, 0, 2, 0, 0, 0, 3, 0, 4] },
  ];
  for (const tie of TIES) {
    it(`ties go to the first maximum: ${tie.name} x=[1,3,3,1] pool=2x2 strides=${tie.strides} ${tie.padding}`, async () => {
      const rt = testRuntime();
      const options = { poolSize: 2, strides: tie.strides, padding: tie.padding };
      const x = refTensor([1, 3, 3, 1], tie.x);
      const dy = refTensor([1, 2, 2, 1], [1, 2, 3, 4]);
      const expected = refTensor([1, 3, 3, 1], tie.dx);
      expect(Array.from(maxPoolBackwardRef(x, dy, { poolSize: [2, 2], strides: [tie.strides, tie.strides], padding: tie.padding }).data)).toEqual(tie.dx);
      const dx = maxPoolBackward(rt, toGpu(rt, x), toGpu(rt, dy), options);
      expect(Array.from(await rt.read(dx))).toEqual(Array.from(expected.data));
    });
  }

  it('padding never wins: all-negative x=[1,3,3,2] pool=2x2 strides=2 same', async () => {
    const rt = testRuntime();
    const x = refTensor([1, 3, 3, 2], Array.from({ length: 18 }, (_, i) => -1 - i));
    const y = await rt.read(maxPool(rt, toGpu(rt, x), { poolSize: [2, 2], padding: 'same' }));
    // windows: rows 0-1 x cols 0-1, rows 0-1 x col 2, row 2 x cols 0-1, row 2 x col 2 (channel-interleaved)
    expect(Array.from(y)).toEqual([-1, -2, -5, -6, -13, -14, -17, -18]);
  });

  it('rejects bad shapes and options', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 4, 4, 1], new Array(16).fill(0));
    expect(() => maxPool(rt, rt.upload([4, 4, 1], new Array(16).fill(0)), { poolSize: 2 })).toThrow(ShapeError);
    expect(() => maxPool(rt, x, { poolSize: 0 })).toThrow(/poolSize must be a positive integer/);
    expect(() => maxPool(rt, x, { poolSize: [2, 2], strides: [1.5, 1] })).toThrow(/strides must be/);
    expect(() => maxPool(rt, x, { poolSize: 2, padding: 'full' as 'same' })).toThrow(/padding must be 'valid' or 'same'/);
    expect(() => maxPool(rt, x, { poolSize: 5 })).toThrow(/does not fit a 4x4 input/);
    expect(() => maxPoolBackward(rt, x, rt.upload([1, 3, 3, 1], new Array(9).fill(0)), { poolSize: 2 })).toThrow(/must have the forward output's shape \[1, 2, 2, 1\]/);
  });
});
