import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { softmax, softmaxBackward } from '../../src/ops/softmax.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { softmaxBackwardRef, softmaxRef } from '../reference/softmax.js';
import { randomTensor } from '../reference/tensor.js';

// [shape, logit scale, logit offset]: offsets of +-1000 would overflow exp without the row max
const CASES: [number[], number, number][] = [
  [[1, 7], 3, 0],
  [[3, 1000], 5, 0],
  [[2, 3, 5, 13], 2, 0],
  [[3, 11], 5, 1000],
  [[2, 9], 5, -1000],
];

describeGpu('softmax', () => {
  for (const [shape, scale, offset] of CASES) {
    const name = `x=[${shape}] scale=${scale} offset=${offset}`;
    it(name, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `softmax ${name} seed=${seed}`;
      const x = randomTensor(shape, random, scale);
      x.data.forEach((v, i) => (x.data[i] = Math.fround(v + offset)));
      const dy = randomTensor(shape, random);
      const y = softmax(rt, toGpu(rt, x));
      await expectMatchesReference(rt, y, softmaxRef(x), `${label} forward`);
      const expected = softmaxBackwardRef(x, dy);
      await expectMatchesReference(rt, softmaxBackward(rt, y, toGpu(rt, dy)), expected, `${label} backward-input`);
      expectReferenceGradient(expected, finiteDifferenceVjp(softmaxRef, x, dy), label, 1e-5);
    });
  }

  it('x=[2,4] with logits of +-1000 in one row: finite, one-hot where the gap is huge', async () => {
    const rt = testRuntime();
    const y = await rt.read(softmax(rt, rt.upload([2, 4], [1000, -1000, 999, 0, 88, 89, 90, 1000])));
    expect(y.every(Number.isFinite)).toBe(true);
    const e = Math.E;
    // row 0: exp(0), exp(-2000), exp(-1), exp(-1000) normalised
    expect(y[0]).toBeCloseTo(1 / (1 + 1 / e), 6);
    expect(y[2]).toBeCloseTo(1 / e / (1 + 1 / e), 6);
    expect(y[1]).toBe(0);
    expect(y[7]).toBeCloseTo(1, 6);
  });

  it('rejects a gradient of another shape', () => {
    const rt = testRuntime();
    const y = rt.upload([2, 3], [0, 0, 0, 0, 0, 0]);
    expect(() => softmaxBackward(rt, y, rt.upload([3, 2], [0, 0, 0, 0, 0, 0]))).toThrow(ShapeError);
    expect(() => softmaxBackward(rt, y, rt.upload([3, 2], [0, 0, 0, 0, 0, 0]))).toThrow(/softmaxBackward: output and output gradient: shapes \[2, 3\] and \[3, 2\] differ/);
  });
});
