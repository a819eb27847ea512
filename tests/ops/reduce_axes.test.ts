import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { reduceAxes, reduceAxesBackward, type Reduction } from '../../src/ops/reduce_axes.js';
import { expectMatchesReference, relativeError, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { useCpuBackend } from '../model/tfjs_oracle.js';
import { reduceAxesBackwardRef, reduceAxesRef } from '../reference/reduce_axes.js';
import { randomTensor, refTensor } from '../reference/tensor.js';

const CASES: [number[], number[], boolean][] = [
  [[2, 5, 7, 3], [1, 2], false], // spatial: GlobalMaxPooling2D, Sum / Max over [1, 2]
  [[3, 4, 3, 13], [1, 2], true],
  [[2, 3, 5, 7], [3], true], // channels
  [[1, 6, 5, 2], [-3], false], // one spatial axis, negative
  [[3, 9], [1], false],
  [[2, 3, 4, 5], [1, 2, 3], false],
];
const REDUCTIONS: Reduction[] = ['sum', 'mean', 'max'];

describeGpu('reduceAxes', () => {
  for (const [shape, axes, keepDims] of CASES) {
    for (const reduction of REDUCTIONS) {
      const name = `${reduction} x=[${shape}] axes=[${axes}]${keepDims ? ' keepDims' : ''}`;
      it(name, async () => {
        const rt = testRuntime();
        const { seed, random } = randomSource();
        const label = `reduceAxes ${name} seed=${seed}`;
        const x = randomTensor(shape, random);
        const resolved = axes.map((a) => (a < 0 ? a + shape.length : a));
        const y = reduceAxesRef(x, reduction, resolved, keepDims);
        await useCpuBackend();
        const tfx = tf.tensor(Float32Array.from(x.data), shape);
        const oracle = { sum: tf.sum, mean: tf.mean, max: tf.max }[reduction](tfx, axes, keepDims);
        expect(oracle.shape).toEqual(y.shape);
        expect(relativeError(oracle.dataSync(), y.data)).toBeLessThan(1e-6);
        const dy = randomTensor(y.shape, random);
        const gx = toGpu(rt, x);
        const gy = reduceAxes(rt, gx, reduction, axes, keepDims);
        await expectMatchesReference(rt, gy, y, `${label} forward`);
        const expected = reduceAxesBackwardRef(x, dy, reduction, resolved);
        const saved = reduction === 'max' ? { x: gx, y: gy } : { inputShape: shape };
        await expectMatchesReference(rt, reduceAxesBackward(rt, toGpu(rt, dy), reduction, axes, keepDims, saved), expected, `${label} backward-input`);
        expectReferenceGradient(expected, finiteDifferenceVjp((t) => reduceAxesRef(t, reduction, resolved, keepDims), x, dy), label);
      });
    }
  }

  it('max over [1, 2] of [1, 2, 2, 2] with ties: dy split equally among tied maxima (TF reduce_max rule)', async () => {
    const rt = testRuntime();
    // channel 0 holds 3, 1, 3, 2 (the maximum twice), channel 1 holds 5, 5, 5, 4 (three times)
    const xs = [3, 5, 1, 5, 3, 5, 2, 4];
    const x = refTensor([1, 2, 2, 2], xs);
    const dy = refTensor([1, 2], [6, 9]);
    const expected = reduceAxesBackwardRef(x, dy, 'max', [1, 2]);
    expect(Array.from(expected.data)).toEqual([3, 3, 0, 3, 3, 3, 0, 0]);
    const gx = toGpu(rt, x);
    const gy = reduceAxes(rt, gx, 'max', [1, 2]);
    expect(Array.from(await rt.read(gy))).toEqual([3, 5]);
    const dx = reduceAxesBackward(rt, toGpu(rt, dy), 'max', [1, 2], false, { x: gx, y: gy });
    expect(Array.from(await rt.read(dx))).toEqual([3, 3, 0, 3, 3, 3, 0, 0]);
  });

  it('rejects axes that are not adjacent axes of the input, and gradients of the wrong shape', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 2, 2, 1], [0, 0, 0, 0]);
    expect(() => reduceAxes(rt, x, 'sum', [1, 3])).toThrow(/axes \[1, 3\] must be one or more adjacent axes of \[1, 2, 2, 1\]/);
    expect(() => reduceAxes(rt, x, 'sum', [4])).toThrow(OptionError);
    expect(() => reduceAxes(rt, x, 'sum', [])).toThrow(OptionError);
    expect(() => reduceAxes(rt, x, 'median' as Reduction, [1])).toThrow(/reduction must be sum, mean or max, got 'median'/);
    expect(() => reduceAxesBackward(rt, x, 'sum', [1, 2], false, { inputShape: [1, 2, 2, 1] })).toThrow(ShapeError);
    expect(() => reduceAxesBackward(rt, rt.upload([1, 1], [0]), 'max', [1, 2], false, { inputShape: [1, 2, 2, 1] })).toThrow(/max gradient needs the forward input and output/);
  });
});
