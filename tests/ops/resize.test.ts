import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { resize, resizeBackward, type ResizeOptions } from '../../src/ops/resize.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { resizeBackwardRef, resizeRef, type ResizeRefOptions } from '../reference/resize.js';
import { randomTensor } from '../reference/tensor.js';

// Odd sizes; up and down by integer and non-integer ratios, one axis up and the other down, a
// height of 1 (align_corners' scale is then 0), an output of 1x1 (align_corners falls back to
// in/out), and ratios past 5 either way (long runs of outputs per input pixel, skipped pixels).
const SHAPES: [number[], [number, number]][] = [
  [[1, 5, 7, 3], [9, 13]],
  [[2, 7, 5, 5], [3, 2]],
  [[1, 4, 6, 2], [8, 12]],
  [[1, 9, 9, 3], [4, 13]],
  [[1, 3, 3, 2], [10, 7]],
  [[1, 1, 5, 2], [3, 4]],
  [[1, 6, 3, 1], [1, 1]],
  [[1, 2, 3, 2], [17, 16]],
  [[1, 17, 16, 1], [2, 3]],
];
const FLAGS: [boolean, boolean][] = [[false, false], [true, false], [false, true]];

describeGpu('resize', () => {
  for (const method of ['bilinear', 'nearest'] as const) {
    for (const [shape, size] of SHAPES) {
      for (const [alignCorners, halfPixelCenters] of FLAGS) {
        const name = `${method} x=[${shape}] -> ${size.join('x')} align_corners=${alignCorners} half_pixel_centers=${halfPixelCenters}`;
        it(name, async () => {
          const rt = testRuntime();
          const { seed, random } = randomSource();
          const label = `resize ${name} seed=${seed}`;
          const options: ResizeRefOptions = { method, size, alignCorners, halfPixelCenters };
          const x = randomTensor(shape, random);
          const y = resizeRef(x, options);
          const dy = randomTensor(y.shape, random);
          const dx = resizeBackwardRef(dy, shape, options);
          await expectMatchesReference(rt, resize(rt, toGpu(rt, x), options), y, `${label} forward`);
          await expectMatchesReference(rt, resizeBackward(rt, toGpu(rt, dy), shape, options), dx, `${label} backward-input`);
          expectReferenceGradient(dx, finiteDifferenceVjp((t) => resizeRef(t, options), x, dy), label);
        });
      }
    }
  }

  it('nearest picks TF\'s pixel at exact float32 ties: x=[1,3,1,1] -> 5x1 align_corners (sources 0, 0.5, 1, 1.5, 2 round up)', async () => {
    const rt = testRuntime();
    const x = rt.upload([1, 3, 1, 1], [10, 20, 30]);
    const y = resize(rt, x, { method: 'nearest', size: [5, 1], alignCorners: true });
    expect([...(await rt.read(y))]).toEqual([10, 20, 20, 30, 30]);
    // every input row's gradient is the sum over the outputs that copied it: 1, 2, 2
    const dx = resizeBackward(rt, rt.upload([1, 5, 1, 1], [1, 1, 1, 1, 1]), [1, 3, 1, 1], { method: 'nearest', size: [5, 1], alignCorners: true });
    expect([...(await rt.read(dx))]).toEqual([1, 2, 2]);
  });

  it('rejects bad shapes and options with typed errors', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 2, 2, 1], [0, 0, 0, 0]);
    const options: ResizeOptions = { method: 'bilinear', size: [4, 4] };
    expect(() => resize(rt, rt.upload([2, 2], [0, 0, 0, 0]), options)).toThrow(ShapeError);
    expect(() => resize(rt, rt.upload([2, 2], [0, 0, 0, 0]), options)).toThrow(/resize: the image must be NHWC .* got \[2, 2\]/);
    expect(() => resize(rt, x, { ...options, size: [0, 4] })).toThrow(OptionError);
    expect(() => resize(rt, x, { ...options, size: [2.5, 4] })).toThrow(/size must be \[height, width\] of positive integers, got \[2.5,4\]/);
    expect(() => resize(rt, x, { ...options, method: 'bicubic' as 'bilinear' })).toThrow(/method must be 'bilinear' or 'nearest', got 'bicubic'/);
    expect(() => resize(rt, x, { ...options, alignCorners: true, halfPixelCenters: true })).toThrow(/cannot both be true/);
    expect(() => resizeBackward(rt, x, [1, 2, 2, 1], options)).toThrow(/resizeBackward: dy must be \[1, 4, 4, 1\], got \[1, 2, 2, 1\]/);
  });
});
