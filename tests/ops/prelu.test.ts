import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { prelu, preluBackward } from '../../src/ops/prelu.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { preluBackwardRef, preluRef } from '../reference/activation.js';
import { randomTensor } from '../reference/tensor.js';

describeGpu('prelu', () => {
  // alpha [C] (Keras shared_axes [1, 2]), [1, 1, C] (the same, as Keras stores it), [H, W, C] (no
  // shared axes); [3,31,29,3] has 2697 rows, so the alpha sums take two passes
  const cases: [number[], number[]][] = [[[1, 7, 5, 3], [3]], [[2, 5, 3, 7], [1, 1, 7]], [[2, 5, 3, 7], [5, 3, 7]], [[3, 31, 29, 3], [3]], [[2, 1031], [1031]], [[1, 3, 5, 2], [1]]];
  for (const [shape, alphaShape] of cases) {
    it(`x=[${shape}] alpha=[${alphaShape}]`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `prelu x=[${shape}] alpha=[${alphaShape}] seed=${seed}`;
      const x = randomTensor(shape, random, 3);
      x.data[1] = 0; // the kink: the input gradient takes alpha there (tfjs prelu)
      const alpha = randomTensor(alphaShape, random, 0.5);
      const dy = randomTensor(shape, random);
      const [xGpu, alphaGpu] = [toGpu(rt, x), toGpu(rt, alpha)];
      await expectMatchesReference(rt, prelu(rt, xGpu, alphaGpu), preluRef(x, alpha), `${label} forward`);
      const inUse = rt.pool.buffersInUse;
      const grads = preluBackward(rt, xGpu, alphaGpu, toGpu(rt, dy));
      expect(rt.pool.buffersInUse, 'only the two gradients and dy stay allocated').toBe(inUse + 3);
      const expected = preluBackwardRef(x, alpha, dy);
      await expectMatchesReference(rt, grads.input!, expected.input, `${label} backward-input`);
      await expectMatchesReference(rt, grads.alpha!, expected.alpha, `${label} backward-alpha`);
      expect(grads.alpha!.shape).toEqual(alphaShape);
      expectReferenceGradient(expected.alpha, finiteDifferenceVjp((t) => preluRef(x, t), alpha, dy), `${label} alpha`);
      if (x.data.length < 3000) {
        x.data[1] = 0.25; // finite differences need a differentiable point
        const off = preluBackwardRef(x, alpha, dy);
        expectReferenceGradient(off.input, finiteDifferenceVjp((t) => preluRef(t, alpha), x, dy), `${label} input`);
      }
    });
  }

  it('backward computes only what is asked: x=[2,3] alpha=[3]', async () => {
    const rt = testRuntime();
    const x = rt.upload([2, 3], [-1, 2, -3, 4, -5, 6]);
    const only = preluBackward(rt, x, rt.upload([3], [0.5, 0.5, 0.5]), rt.upload([2, 3], [1, 1, 1, 1, 1, 1]), { alpha: true });
    expect(Object.keys(only)).toEqual(['alpha']);
    expect(Array.from(await rt.read(only.alpha!))).toEqual([-1, -5, -3]);
  });

  it('rejects alpha that does not match the trailing axes: x=[1,4,4,3] alpha=[4,3] / [1,3,1]', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 4, 4, 3], new Float32Array(48));
    expect(() => prelu(rt, x, rt.upload([2], [1, 1]))).toThrow(ShapeError);
    expect(() => prelu(rt, x, rt.upload([3, 1], [1, 1, 1]))).toThrow(/trailing axes/);
  });
});
