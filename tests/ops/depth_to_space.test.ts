import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { depthToSpace, depthToSpaceBackward, spaceToDepth, spaceToDepthBackward } from '../../src/ops/depth_to_space.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { useCpuBackend } from '../model/tfjs_oracle.js';
import { depthToSpaceBackwardRef, depthToSpaceRef, spaceToDepthBackwardRef, spaceToDepthRef } from '../reference/depth_to_space.js';
import { randomTensor } from '../reference/tensor.js';

describeGpu('depthToSpace', () => {
  for (const [shape, b] of [[[2, 3, 5, 12], 2], [[1, 2, 3, 27], 3], [[1, 1, 1, 4], 2]] as [number[], number][]) {
    const name = `x=[${shape}] block=${b}`;
    it(name, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `depthToSpace ${name} seed=${seed}`;
      const x = randomTensor(shape, random);
      const y = depthToSpaceRef(x, b);
      await useCpuBackend();
      const oracle = tf.depthToSpace(tf.tensor4d(Float32Array.from(x.data), shape as [number, number, number, number]), b, 'NHWC');
      expect(Array.from(oracle.dataSync())).toEqual(Array.from(y.data));
      const dy = randomTensor(y.shape, random);
      await expectMatchesReference(rt, depthToSpace(rt, toGpu(rt, x), b), y, `${label} forward`);
      const expected = depthToSpaceBackwardRef(dy, shape, b);
      await expectMatchesReference(rt, depthToSpaceBackward(rt, toGpu(rt, dy), b), expected, `${label} backward-input`);
      expectReferenceGradient(expected, finiteDifferenceVjp((t) => depthToSpaceRef(t, b), x, dy), label);
    });
  }

  it('rejects channels that do not split into blocks', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 2, 2, 6], new Array(24).fill(0));
    expect(() => depthToSpace(rt, x, 2)).toThrow(/6 channels of \[1, 2, 2, 6\] are not a multiple of block size\^2 = 4/);
    expect(() => depthToSpace(rt, x, 1)).toThrow(OptionError);
  });
});

describeGpu('spaceToDepth', () => {
  for (const [shape, b] of [[[2, 4, 6, 3], 2], [[1, 6, 3, 5], 3]] as [number[], number][]) {
    const name = `x=[${shape}] block=${b}`;
    it(name, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `spaceToDepth ${name} seed=${seed}`;
      const x = randomTensor(shape, random);
      const y = spaceToDepthRef(x, b);
      await useCpuBackend();
      // TF.js has no SpaceToDepth op: the reference must be the inverse of TF.js's depthToSpace
      const back = tf.depthToSpace(tf.tensor4d(Float32Array.from(y.data), y.shape as [number, number, number, number]), b, 'NHWC');
      expect(Array.from(back.dataSync())).toEqual(Array.from(x.data));
      const dy = randomTensor(y.shape, random);
      await expectMatchesReference(rt, spaceToDepth(rt, toGpu(rt, x), b), y, `${label} forward`);
      const expected = spaceToDepthBackwardRef(dy, shape, b);
      await expectMatchesReference(rt, spaceToDepthBackward(rt, toGpu(rt, dy), b), expected, `${label} backward-input`);
      expectReferenceGradient(expected, finiteDifferenceVjp((t) => spaceToDepthRef(t, b), x, dy), label);
    });
  }

  it('rejects a height or width that the block does not divide', () => {
    const rt = testRuntime();
    expect(() => spaceToDepth(rt, rt.upload([1, 3, 4, 1], new Array(12).fill(0)), 2)).toThrow(ShapeError);
  });
});
