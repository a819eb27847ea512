import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { zeroPad2d, zeroPad2dBackward, type Padding2d } from '../../src/ops/zero_pad.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomTensor } from '../reference/tensor.js';
import { zeroPad2dBackwardRef, zeroPad2dRef } from '../reference/zero_pad.js';

const CASES: [number[], Padding2d][] = [
  [[1, 7, 5, 3], { top: 1, bottom: 1, left: 1, right: 1 }],
  [[3, 5, 7, 13], { top: 0, bottom: 2, left: 3, right: 0 }],
  [[2, 1, 1, 5], { top: 2, bottom: 1, left: 0, right: 4 }],
  [[1, 4, 6, 2], { top: 0, bottom: 0, left: 0, right: 0 }],
];

describeGpu('zeroPad2d', () => {
  for (const [shape, p] of CASES) {
    const name = `x=[${shape}] pad t${p.top} b${p.bottom} l${p.left} r${p.right}`;
    it(name, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `zeroPad2d ${name} seed=${seed}`;
      const x = randomTensor(shape, random);
      const y = zeroPad2dRef(x, p);
      const dy = randomTensor(y.shape, random);
      await expectMatchesReference(rt, zeroPad2d(rt, toGpu(rt, x), p), y, `${label} forward`);
      const expected = zeroPad2dBackwardRef(dy, p);
      await expectMatchesReference(rt, zeroPad2dBackward(rt, toGpu(rt, dy), p), expected, `${label} backward-input`);
      expectReferenceGradient(expected, finiteDifferenceVjp((t) => zeroPad2dRef(t, p), x, dy), label);
    });
  }

  it('rejects bad shapes and paddings', () => {
    const rt = testRuntime();
    const pad = { top: 1, bottom: 1, left: 1, right: 1 };
    expect(() => zeroPad2d(rt, rt.upload([2, 3], new Array(6).fill(0)), pad)).toThrow(ShapeError);
    expect(() => zeroPad2d(rt, rt.upload([2, 3], new Array(6).fill(0)), pad)).toThrow(/zeroPad2d: input must be NHWC \(rank 4\), got \[2, 3\]/);
    const x = rt.upload([1, 2, 2, 1], [0, 0, 0, 0]);
    expect(() => zeroPad2d(rt, x, { ...pad, left: -1 })).toThrow(OptionError);
    expect(() => zeroPad2d(rt, x, { ...pad, top: 1.5 })).toThrow(/padding.top must be a non-negative integer, got 1.5/);
    expect(() => zeroPad2dBackward(rt, x, pad)).toThrow(/output gradient \[1, 2, 2, 1\] is not larger than the padding/);
  });
});
