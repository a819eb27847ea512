import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { slice, sliceBackward, type SliceWindow } from '../../src/ops/slice.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { useCpuBackend } from '../model/tfjs_oracle.js';
import { sliceBackwardRef, sliceRef } from '../reference/slice.js';
import { randomTensor } from '../reference/tensor.js';

const CASES: [number[], SliceWindow][] = [
  // Cropping2D: a contiguous window of H and W
  [[2, 7, 5, 3], { begin: [0, 1, 2, 0], size: [2, 4, 2, 3], strides: [1, 1, 1, 1] }],
  // strided, channels sliced, a negative stride (reversal)
  [[1, 9, 8, 5], { begin: [0, 1, 7, 4], size: [1, 4, 3, 3], strides: [1, 2, -3, -2] }],
  [[3, 5, 7, 13], { begin: [0, 4, 0, 3], size: [3, 5, 4, 4], strides: [1, -1, 2, 3] }],
  [[2, 11], { begin: [0, 10], size: [2, 6], strides: [1, -2] }],
  [[1, 4, 6, 2], { begin: [0, 0, 0, 0], size: [1, 4, 6, 2], strides: [1, 1, 1, 1] }],
  // 8 axes, each one strided or offset so that none merges
  [[2, 3, 4, 3, 5, 3, 4, 3], { begin: [1, 2, 0, 1, 4, 0, 3, 2], size: [1, 2, 2, 2, 2, 2, 2, 2], strides: [1, -1, 2, 1, -3, 2, -2, -1] }],
];

/** TF.js's strided slice of the same window: end one step past the last index, or open (end_mask) where a negative stride runs past 0. */
function tfjsSlice(data: Float64Array, shape: number[], w: SliceWindow): Float32Array {
  const end = w.begin.map((b, k) => b + w.size[k] * w.strides[k]);
  const endMask = end.reduce((mask, e, k) => (e < 0 ? mask | (1 << k) : mask), 0);
  return tf.stridedSlice(tf.tensor(Float32Array.from(data), shape), [...w.begin], end.map((e) => Math.max(e, 0)), [...w.strides], 0, endMask).dataSync() as Float32Array;
}

describeGpu('slice', () => {
  for (const [shape, w] of CASES) {
    const name = `x=[${shape}] begin=[${w.begin}] size=[${w.size}] strides=[${w.strides}]`;
    it(name, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `slice ${name} seed=${seed}`;
      const x = randomTensor(shape, random);
      const y = sliceRef(x, w);
      // the reference is TF's strided slice (end exclusive, one past the last index taken)
      await useCpuBackend();
      expect(Array.from(tfjsSlice(x.data, shape, w))).toEqual(Array.from(y.data));
      const dy = randomTensor(y.shape, random);
      await expectMatchesReference(rt, slice(rt, toGpu(rt, x), w), y, `${label} forward`);
      const expected = sliceBackwardRef(dy, shape, w);
      await expectMatchesReference(rt, sliceBackward(rt, toGpu(rt, dy), shape, w), expected, `${label} backward-input`);
      expectReferenceGradient(expected, finiteDifferenceVjp((t) => sliceRef(t, w), x, dy), label);
    });
  }

  it('rejects windows outside the input before any GPU work', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 4, 4, 2], new Array(32).fill(0));
    const ones = [1, 1, 1, 1];
    expect(() => slice(rt, x, { begin: [0, 0, 0], size: [1, 1, 1], strides: [1, 1, 1] })).toThrow(/need one entry per axis of \[1, 4, 4, 2\], got 3, 3 and 3/);
    expect(() => slice(rt, x, { begin: [0, 0, 0, 0], size: [1, 2, 2, 2], strides: [1, 0, 1, 1] })).toThrow(OptionError);
    expect(() => slice(rt, x, { begin: [0, 2, 0, 0], size: [1, 2, 2, 2], strides: [1, 2, 1, 1] })).toThrow(/axis 1 \(size 4\): begin 2, size 2, stride 2 reach index 4, outside \[0, 3\]/);
    expect(() => slice(rt, x, { begin: [0, 1, 0, 0], size: [1, 3, 1, 1], strides: [1, -1, 1, 1] })).toThrow(ShapeError);
    expect(() => sliceBackward(rt, x, [1, 4, 4, 2], { begin: [0, 0, 0, 0], size: [1, 2, 2, 2], strides: ones })).toThrow(/output gradient must have the slice's shape \[1, 2, 2, 2\]/);
  });
});
