import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { clip, clipBackward } from '../../src/ops/clip.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { clipBackwardRef, clipRef } from '../reference/activation.js';
import { randomTensor, refTensor } from '../reference/tensor.js';

describeGpu('clip (per-channel bounds)', () => {
  // [3,31,29,3] has 2697 rows: the bound sums take two passes
  const cases: [number[], number[]][] = [[[1, 7, 5, 3], [3]], [[2, 5, 3, 7], [1, 1, 7]], [[2, 5, 3, 7], [5, 3, 7]], [[3, 31, 29, 3], [3]], [[2, 1031], [1031]]];
  for (const [shape, boundShape] of cases) {
    it(`x=[${shape}] lower=upper=[${boundShape}]`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `clip x=[${shape}] bounds=[${boundShape}] seed=${seed}`;
      const x = randomTensor(shape, random, 2);
      const lower = randomTensor(boundShape, random, 1);
      const upper = refTensor(boundShape, lower.data.map((v) => Math.fround(v + 0.2 + random())));
      // inputs exactly on a bound take TF's closed-interval rule: the gradient goes to x
      x.data[0] = lower.data[0];
      x.data[1] = upper.data[1 % upper.data.length];
      const dy = randomTensor(shape, random);
      const [xGpu, lowerGpu, upperGpu] = [toGpu(rt, x), toGpu(rt, lower), toGpu(rt, upper)];
      await expectMatchesReference(rt, clip(rt, xGpu, lowerGpu, upperGpu), clipRef(x, lower, upper), `${label} forward`);
      const grads = clipBackward(rt, xGpu, lowerGpu, upperGpu, toGpu(rt, dy), { input: true, lower: true, upper: true });
      const expected = clipBackwardRef(x, lower, upper, dy);
      await expectMatchesReference(rt, grads.input!, expected.input, `${label} backward-input`);
      await expectMatchesReference(rt, grads.lower!, expected.lower, `${label} backward-lower`);
      await expectMatchesReference(rt, grads.upper!, expected.upper, `${label} backward-upper`);
      expect(grads.lower!.shape).toEqual(boundShape);
      // finite differences away from the bounds
      x.data[0] = 5;
      x.data[1] = -5;
      const off = clipBackwardRef(x, lower, upper, dy);
      expectReferenceGradient(off.lower, finiteDifferenceVjp((t) => clipRef(x, t, upper), lower, dy), `${label} lower`);
      expectReferenceGradient(off.upper, finiteDifferenceVjp((t) => clipRef(x, lower, t), upper, dy), `${label} upper`);
      if (x.data.length < 3000) expectReferenceGradient(off.input, finiteDifferenceVjp((t) => clipRef(t, lower, upper), x, dy), `${label} input`);
    });
  }

  it('rejects bounds of different shapes or over the wrong axes: x=[1,4,4,3]', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 4, 4, 3], new Float32Array(48));
    expect(() => clip(rt, x, rt.upload([3], [0, 0, 0]), rt.upload([1, 3], [1, 1, 1]))).toThrow(/differ in shape/);
    expect(() => clip(rt, x, rt.upload([4], [0, 0, 0, 0]), rt.upload([4], [1, 1, 1, 1]))).toThrow(ShapeError);
  });
});
