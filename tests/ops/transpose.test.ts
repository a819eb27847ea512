import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { OptionError } from '../../src/errors.js';
import { transpose, transposeBackward } from '../../src/ops/transpose.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { useCpuBackend } from '../model/tfjs_oracle.js';
import { randomTensor } from '../reference/tensor.js';
import { transposeBackwardRef, transposeRef } from '../reference/transpose.js';

const CASES: [number[], number[]][] = [
  [[2, 5, 7, 3], [0, 3, 1, 2]], // NHWC -> NCHW
  [[3, 4, 5, 7], [0, 2, 3, 1]], // NCHW -> NHWC
  [[1, 6, 5, 9], [0, 2, 1, 3]], // Permute((2, 1, 3)): swap H and W
  [[2, 3, 13], [0, 2, 1]],
  [[2, 3, 2, 4, 5], [0, 4, 2, 3, 1]],
  // all 8 axes the kernel takes, none mergeable
  [[2, 3, 2, 3, 2, 3, 2, 3], [0, 7, 5, 6, 3, 4, 1, 2]],
];

describeGpu('transpose', () => {
  for (const [shape, perm] of CASES) {
    const name = `x=[${shape}] perm=[${perm}]`;
    it(name, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `transpose ${name} seed=${seed}`;
      const x = randomTensor(shape, random);
      const y = transposeRef(x, perm);
      await useCpuBackend();
      expect(Array.from(tf.transpose(tf.tensor(Float32Array.from(x.data), shape), perm).dataSync())).toEqual(Array.from(y.data));
      const dy = randomTensor(y.shape, random);
      await expectMatchesReference(rt, transpose(rt, toGpu(rt, x), perm), y, `${label} forward`);
      const expected = transposeBackwardRef(dy, shape, perm);
      await expectMatchesReference(rt, transposeBackward(rt, toGpu(rt, dy), perm), expected, `${label} backward-input`);
      expectReferenceGradient(expected, finiteDifferenceVjp((t) => transposeRef(t, perm), x, dy), label);
    });
  }

  it('rejects a perm that is not a permutation of the axes', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 2, 2, 1], [0, 0, 0, 0]);
    expect(() => transpose(rt, x, [0, 1, 2])).toThrow(OptionError);
    expect(() => transpose(rt, x, [0, 1, 1, 3])).toThrow(/perm \[0, 1, 1, 3\] is not a permutation of the 4 axes of \[1, 2, 2, 1\]/);
  });
});
