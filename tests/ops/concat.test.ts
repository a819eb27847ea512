import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { concat, concatBackward } from '../../src/ops/concat.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { concatBackwardRef, concatRef } from '../reference/concat.js';
import { randomTensor } from '../reference/tensor.js';

/** [shapes, axis]: channel concat (three branches, axis -1 and 3), height, width, rank 2, one input. */
const CASES: [number[][], number][] = [
  [[[2, 5, 7, 3], [2, 5, 7, 4], [2, 5, 7, 1]], -1],
  [[[1, 3, 5, 13], [1, 3, 5, 2]], 3],
  [[[2, 3, 5, 2], [2, 4, 5, 2]], 1],
  [[[2, 3, 1, 3], [2, 3, 6, 3], [2, 3, 2, 3]], 2],
  [[[3, 5], [3, 7]], 1],
  [[[2, 3, 3, 5]], -1],
];

describeGpu('concat', () => {
  for (const [shapes, axis] of CASES) {
    const name = `${shapes.map((s) => `[${s}]`).join(' + ')} axis=${axis}`;
    it(name, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `concat ${name} seed=${seed}`;
      const at = axis < 0 ? axis + shapes[0].length : axis;
      const inputs = shapes.map((s) => randomTensor(s, random));
      const expected = concatRef(inputs, at);
      await expectMatchesReference(rt, concat(rt, inputs.map((t) => toGpu(rt, t)), axis), expected, `${label} forward`);
      const dy = randomTensor(expected.shape, random);
      const reference = concatBackwardRef(dy, shapes, at);
      reference.forEach((g, k) => {
        const numeric = finiteDifferenceVjp((t) => concatRef(inputs.map((x, j) => (j === k ? t : x)), at), inputs[k], dy);
        expectReferenceGradient(g, numeric, `${label} d input ${k}`);
      });
      const grads = concatBackward(rt, toGpu(rt, dy), shapes, axis);
      for (let k = 0; k < shapes.length; k++) await expectMatchesReference(rt, grads[k]!, reference[k], `${label} d input ${k}`);
    });
  }

  it('returns only the requested gradients [1,2,2,3] + [1,2,2,1] axis=-1', async () => {
    const rt = testRuntime();
    const dy = rt.upload([1, 2, 2, 4], Array.from({ length: 16 }, (_, i) => i));
    const [first, second] = concatBackward(rt, dy, [[1, 2, 2, 3], [1, 2, 2, 1]], -1, [false, true]);
    expect(first).toBeUndefined();
    expect([...(await rt.read(second!))]).toEqual([3, 7, 11, 15]);
  });

  it('rejects inputs that disagree off the axis, other ranks and an axis out of range', () => {
    const rt = testRuntime();
    const a = rt.upload([1, 2, 2, 3], new Array(12).fill(0));
    expect(() => concat(rt, [a, rt.upload([1, 2, 3, 3], new Array(18).fill(0))], -1)).toThrow(/must agree on every other axis/);
    expect(() => concat(rt, [a, rt.upload([4, 3], new Array(12).fill(0))], -1)).toThrow(ShapeError);
    expect(() => concat(rt, [a], 4)).toThrow(/axis 4 is out of range for rank 4/);
  });
});
