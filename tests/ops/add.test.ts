import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { add } from '../../src/ops/add.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { addBackwardRef, addRef } from '../reference/add.js';
import { randomTensor } from '../reference/tensor.js';

describeGpu('add', () => {
  for (const shape of [[1, 7, 5, 3], [3, 5, 7, 13], [2, 1031]]) {
    it(`a=b=[${shape}]`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `add a=b=[${shape}] seed=${seed}`;
      const a = randomTensor(shape, random);
      const b = randomTensor(shape, random);
      const dy = randomTensor(shape, random);
      await expectMatchesReference(rt, add(rt, toGpu(rt, a), toGpu(rt, b)), addRef(a, b), `${label} forward`);
      // The backward pass is dy for both inputs (no kernel); check that claim on the reference.
      const expected = addBackwardRef(dy);
      expectReferenceGradient(expected.a, finiteDifferenceVjp((t) => addRef(t, b), a, dy), `${label} a`);
      expectReferenceGradient(expected.b, finiteDifferenceVjp((t) => addRef(a, t), b, dy), `${label} b`);
    });
  }

  it('rejects different shapes', () => {
    const rt = testRuntime();
    const a = rt.upload([1, 2, 2, 3], new Array(12).fill(0));
    expect(() => add(rt, a, rt.upload([1, 2, 2, 2], new Array(8).fill(0)))).toThrow(ShapeError);
    expect(() => add(rt, a, rt.upload([12], new Array(12).fill(0)))).toThrow(/add: shapes \[1, 2, 2, 3\] and \[12\] differ/);
  });
});
