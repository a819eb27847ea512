/**
 * The inverse real 2-D DFT (src/ops/irfft2d.ts, shaders/fourier.wgsl) and its adjoint against the
 * float64 double-sum reference, at odd and even heights and widths; the reference against finite
 * differences and against the forward DFT it must invert; lucid's spectrum scale.
 */
import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { dftTwiddles, halfSpectrumWidth, irfft2d, irfft2dBackward, spectrumScale } from '../../src/ops/irfft2d.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, relativeError, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { irfft2dBackwardRef, irfft2dRef, rfft2dRef } from '../reference/fourier.js';
import { randomTensor, refTensor } from '../reference/tensor.js';

describeGpu('irfft2d', () => {
  // [N, H, W, C]: odd x odd, even x even, odd x even, even x odd, a 1-pixel-wide one, and digits' size
  for (const [n, h, w, c] of [[2, 5, 7, 3], [1, 6, 8, 1], [3, 7, 4, 2], [1, 4, 9, 3], [2, 3, 1, 2], [1, 28, 28, 1]]) {
    const f = halfSpectrumWidth(w);
    it(`spectrum=[${n},${h},${f},${c},2] scale=[${h},${f}] -> image=[${n},${h},${w},${c}], and back`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `irfft2d image=[${n},${h},${w},${c}] seed=${seed}`;
      const spectrum = randomTensor([n, h, f, c, 2], random, 2);
      const scale = refTensor([h, f], randomTensor([h, f], random).data.map((v) => Math.fround(0.5 + Math.abs(v))));
      const dImage = randomTensor([n, h, w, c], random);
      const scaleGpu = toGpu(rt, scale);
      const twiddles = dftTwiddles(rt, h, w);
      await expectMatchesReference(rt, irfft2d(rt, toGpu(rt, spectrum), w, { scale: scaleGpu, twiddles }), irfft2dRef(spectrum, w, scale), `${label} forward`);
      await expectMatchesReference(rt, irfft2d(rt, toGpu(rt, spectrum), w), irfft2dRef(spectrum, w), `${label} forward (unit scale, own twiddles)`);
      const expected = irfft2dBackwardRef(dImage, scale);
      await expectMatchesReference(rt, irfft2dBackward(rt, toGpu(rt, dImage), { scale: scaleGpu, twiddles }), expected, `${label} backward`);
      await expectMatchesReference(rt, irfft2dBackward(rt, toGpu(rt, dImage)), irfft2dBackwardRef(dImage), `${label} backward (unit scale)`);
      if (spectrum.data.length < 500) {
        expectReferenceGradient(expected, finiteDifferenceVjp((s) => irfft2dRef(s, w, scale), spectrum, dImage), label);
      }
      // the imaginary part of the (0, 0) coefficient never reaches the image
      for (let i = 0; i < expected.data.length; i += 2 * c * f * h) expect(expected.data[i + 1]).toBe(0);
    });
  }

  it('the reference inverts the forward DFT: irfft2(rfft2(x)) = x for x=[2,5,6,2] and [1,6,5,3]', () => {
    const { seed, random } = randomSource();
    for (const shape of [[2, 5, 6, 2], [1, 6, 5, 3]]) {
      const x = randomTensor(shape, random);
      expect(relativeError(irfft2dRef(rfft2dRef(x), shape[2]).data, x.data), `x=[${shape}] seed=${seed}`).toBeLessThan(1e-12);
    }
  });

  it('spectrumScale is lucid\'s 1 / max(|f|, 1 / max(H, W))^decay * sqrt(H W) / 4 (H=4, W=5)', () => {
    const s = spectrumScale(4, 5, 1);
    expect(s.length).toBe(4 * 3);
    const expected = (fy: number, fx: number) => (Math.sqrt(20) / Math.max(Math.hypot(fy, fx), 1 / 5)) / 4;
    // rows ky = 0, 1, 2, 3 are fy = 0, 1/4, -1/2, -1/4; columns kx = 0, 1, 2 are fx = 0, 1/5, 2/5
    expect(relativeError(s, [0, 0.25, -0.5, -0.25].flatMap((fy) => [0, 0.2, 0.4].map((fx) => expected(fy, fx))))).toBeLessThan(1e-15);
    expect(spectrumScale(3, 3, 0).every((v) => Math.abs(v - 3 / 4) < 1e-15), 'decay 0: sqrt(H W) / 4 everywhere').toBe(true);
  });

  it('rejects a width that does not fit the spectrum and tables of the wrong shape', () => {
    const rt = testRuntime();
    const spectrum = rt.upload([1, 4, 3, 1, 2], new Array(24).fill(0));
    expect(() => irfft2d(rt, spectrum, 6)).toThrow(OptionError);
    expect(() => irfft2d(rt, spectrum, 6)).toThrow(/width 6 does not fit a half spectrum of 3 frequencies.*W is 4 or 5/);
    expect(() => irfft2d(rt, rt.upload([1, 4, 3, 2], new Array(24).fill(0)), 5)).toThrow(ShapeError);
    expect(() => irfft2d(rt, rt.upload([1, 4, 3, 1, 1], new Array(12).fill(0)), 5)).toThrow(/must end in 2/);
    expect(() => irfft2d(rt, spectrum, 5, { scale: rt.upload([3, 4], new Array(12).fill(1)) })).toThrow(/scale \[3, 4\] must be \[4, 3\]/);
    expect(() => irfft2dBackward(rt, rt.upload([1, 4, 5, 1], new Array(20).fill(0)), { twiddles: dftTwiddles(rt, 4, 4) })).toThrow(/twiddles \[8, 2\] must be \[9, 2\]: dftTwiddles\(rt, 4, 5\)/);
  });
});
