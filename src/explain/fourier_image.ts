/**
 * The Fourier-space, decorrelated-colour image parametrization of Olah, Mordvintsev & Schubert
 * 2017 ("Feature Visualization", Distill, "Preconditioning and parameterization"; lucid's
 * `image(..., fft=True, decorrelate=True)`): the optimized variables are the half spectrum of each
 * channel, and
 *   image = low + (high - low) sigmoid(M irfft2(scale * spectrum)),
 *   scale = sqrt(H W) / max(|f|, 1 / max(H, W))^decayPower / 4      (src/ops/irfft2d.ts)
 * with M lucid's colour-decorrelation matrix (3-channel images) or the identity. Scaling the
 * spectrum by 1/|f| makes every frequency equally easy to change per unit of parameter, instead of
 * the pixel basis' bias towards high frequencies (a pixel step is white noise), so the ascent
 * builds structure at the scale the model reads rather than high-frequency patterns; the sigmoid
 * keeps every image valid without clipping. The spectrum follows Adam (lucid's optimizer, lr 0.05),
 * which here minimizes minus the objective.
 *
 * Differences from lucid: irfft2 is the exact inverse of an H x W DFT for odd widths too (lucid keeps
 * W // 2 + 2 frequencies and crops an irfft of width W + 1), and no transformations besides the
 * jitter of visualize.ts are applied.
 */
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { dftTwiddles, halfSpectrumWidth, irfft2d, irfft2dBackward, spectrumScale } from '../ops/irfft2d.js';
import { adamStep } from '../ops/optimizer.js';
import { addGaussianNoise, type RandomStream } from '../ops/random.js';
import { roll } from '../ops/roll.js';
import { colorDecorrelation, validImage, validImageBackward } from '../ops/valid_image.js';

/** A batch of images under optimization, as visualize.ts's ascent loop drives it. */
export interface ParametrizedImages {
  /** The current images [count, H, W, C]; owned here, valid until the next `step`. */
  image(): Tensor;
  /**
   * One ascent step from `gradient`, d objective * objectiveSign / d image at the image rolled by
   * (-shiftY, -shiftX); rolling it by (shiftY, shiftX) maps it back. Takes ownership of `gradient`.
   */
  step(gradient: Tensor, shiftY: number, shiftX: number, step: number): void;
  dispose(): void;
}

export interface FourierSettings {
  /** [H, W, C] */
  imageShape: readonly number[];
  range: [number, number];
  decorrelate: boolean;
  decayPower: number;
  /** Standard deviation of the start spectrum's coefficients (lucid's sd, 0.01). */
  startNoise: number;
  learningRate: number;
  random: RandomStream;
}

/** Floats of one image's half spectrum [H, F, C, 2] (the parameters; Adam keeps two more of these). */
export function spectrumFloats(imageShape: readonly number[]): number {
  const [h, w, c] = imageShape;
  return h * halfSpectrumWidth(w) * c * 2;
}

/** Adam's settings: TensorFlow's AdamOptimizer defaults, which lucid uses. */
const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

/** The tables of one run (spectrum scale, twiddles, colour matrix) and the batches made from them. */
export class FourierParametrization {
  /** Adam descends -objective. */
  readonly objectiveSign = -1;
  private readonly scale: Tensor;
  private readonly twiddles: Tensor;
  private readonly mixing: Tensor | undefined;
  private readonly zeros: Tensor;

  constructor(private readonly rt: Runtime, private readonly settings: FourierSettings) {
    const [h, w, c] = settings.imageShape;
    const f = halfSpectrumWidth(w);
    this.scale = rt.upload([h, f], spectrumScale(h, w, settings.decayPower), 'fourier.scale');
    this.twiddles = dftTwiddles(rt, h, w);
    this.mixing = settings.decorrelate ? rt.upload([3, 3], colorDecorrelation(), 'fourier.decorrelation') : undefined;
    this.zeros = rt.empty([1, h, f, c, 2], 'fourier.zero_spectrum');
    rt.fill(this.zeros, 0);
  }

  /** Images first..first+count-1 of the run: start spectra N(0, startNoise^2) numbered from `first`, so chunks equal the whole batch. */
  start(count: number, first: number): ParametrizedImages {
    const { rt, settings } = this;
    const [low, high] = settings.range;
    const width = settings.imageShape[1];
    const transform = { scale: this.scale, twiddles: this.twiddles };
    const squash = { mixing: this.mixing, low, high };
    const spectrum = addGaussianNoise(rt, this.zeros, count, settings.startNoise, settings.random, first);
    const moments = [rt.empty(spectrum.shape, 'fourier.adam_m'), rt.empty(spectrum.shape, 'fourier.adam_v')];
    for (const m of moments) rt.fill(m, 0);
    // the image and the pre-sigmoid values its backward needs, made on demand after each step
    let current: { values: Tensor; image: Tensor } | undefined;
    const release = () => {
      if (current) for (const t of [current.values, current.image]) t.dispose();
      current = undefined;
    };
    const image = () => {
      if (!current) {
        const values = irfft2d(rt, spectrum, width, transform);
        current = { values, image: validImage(rt, values, squash) };
      }
      return current;
    };
    return {
      image: () => image().image,
      step(gradient, shiftY, shiftX, step) {
        const { values } = image();
        const aligned = shiftY === 0 && shiftX === 0 ? gradient : roll(rt, gradient, shiftY, shiftX);
        if (aligned !== gradient) gradient.dispose();
        const toValues = validImageBackward(rt, values, aligned, squash);
        aligned.dispose();
        const toSpectrum = irfft2dBackward(rt, toValues, transform);
        toValues.dispose();
        adamStep(rt, spectrum, toSpectrum, moments[0], moments[1], { ...ADAM, learningRate: settings.learningRate, step });
        toSpectrum.dispose();
        release();
      },
      dispose() {
        release();
        for (const t of [spectrum, ...moments]) t.dispose();
      },
    };
  }

  dispose(): void {
    for (const t of [this.scale, this.twiddles, this.zeros]) t.dispose();
    this.mixing?.dispose();
  }
}
