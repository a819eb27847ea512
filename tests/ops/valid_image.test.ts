/**
 * validImage (src/ops/valid_image.ts, shaders/valid_image.wgsl): colour mixing + sigmoid onto
 * [low, high] and its backward against the float64 reference, with lucid's decorrelation matrix
 * and the identity; the reference against finite differences.
 */
import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { colorDecorrelation, validImage, validImageBackward } from '../../src/ops/valid_image.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, relativeError, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { validImageBackwardRef, validImageRef } from '../reference/fourier.js';
import { randomTensor } from '../reference/tensor.js';

describeGpu('validImage', () => {
  for (const [shape, decorrelate, range] of [[[2, 5, 7, 3], true, [0, 1]], [[1, 6, 3, 3], false, [-1, 2]], [[3, 4, 5, 1], false, [-123.68, 151.06]], [[2, 3, 5, 2], true, [0, 255]]] as const) {
    const c = shape[3];
    it(`x=[${shape}] mixing=${decorrelate ? (c === 3 ? 'lucid [3,3]' : `random [${c},${c}]`) : 'identity'} range=[${range}]`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `validImage x=[${shape}] seed=${seed}`;
      // large values, so that some sigmoids saturate
      const values = randomTensor([...shape], random, 6);
      const gradient = randomTensor([...shape], random);
      // float32, as the GPU sees it
      const mixing = decorrelate ? Float32Array.from(c === 3 ? colorDecorrelation() : randomTensor([c, c], random).data) : undefined;
      const options = { low: range[0], high: range[1], mixing: mixing && rt.upload([c, c], mixing) };
      const valuesGpu = toGpu(rt, values);
      await expectMatchesReference(rt, validImage(rt, valuesGpu, options), validImageRef(values, range[0], range[1], mixing), `${label} forward`);
      const expected = validImageBackwardRef(values, gradient, range[0], range[1], mixing);
      await expectMatchesReference(rt, validImageBackward(rt, valuesGpu, toGpu(rt, gradient), options), expected, `${label} backward`);
      expectReferenceGradient(expected, finiteDifferenceVjp((t) => validImageRef(t, range[0], range[1], mixing), values, gradient), label);
    });
  }

  it('colorDecorrelation is lucid\'s matrix over its largest column norm', () => {
    const m = colorDecorrelation();
    const norm = Math.hypot(0.26, 0.27, 0.27);
    expect(relativeError(m, [0.26, 0.09, 0.02, 0.27, 0, -0.05, 0.27, -0.09, 0.03].map((v) => v / norm))).toBeLessThan(1e-15);
    const columnNorms = [0, 1, 2].map((d) => Math.hypot(m[d], m[3 + d], m[6 + d]));
    expect(Math.max(...columnNorms)).toBeCloseTo(1, 15);
  });

  it('rejects a mixing matrix of the wrong size and an empty range', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 2, 2, 3], new Array(12).fill(0));
    expect(() => validImage(rt, x, { low: 0, high: 1, mixing: rt.upload([1, 1], [1]) })).toThrow(ShapeError);
    expect(() => validImage(rt, x, { low: 0, high: 1, mixing: rt.upload([1, 1], [1]) })).toThrow(/mixing \[1, 1\] must be \[3, 3\]/);
    expect(() => validImage(rt, x, { low: 1, high: 1 })).toThrow(OptionError);
    expect(() => validImageBackward(rt, x, rt.upload([1, 2, 2, 1], [0, 0, 0, 0]), { low: 0, high: 1 })).toThrow(ShapeError);
  });
});
