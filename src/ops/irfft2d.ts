/**
 * Inverse real 2-D DFT of a batch of half spectra, image = irfft2(scale * spectrum) with numpy's /
 * TensorFlow's 1 / (H W) normalization, and its backward (the adjoint map). Direct separable DFTs
 * (columns, then rows) with a float64 twiddle table: exact for any H and W, and cheap at the sizes
 * of the images these models take (formulas and cost in shaders/fourier.wgsl). The image
 * parametrization of Olah et al. 2017 ("Feature Visualization") uses it with the 1/f scale of
 * `spectrumScale`.
 *   spectrum [N, H, F, C, 2] (F = floor(W / 2) + 1, (real, imaginary) last), image [N, H, W, C].
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectRank, formatShape } from './shapes.js';

const WORKGROUP_SIZE = 64;
const spec = (entry: string) => ({ shader: 'fourier', entry, constants: { WORKGROUP_SIZE } });

export interface Irfft2dOptions {
  /** Per-frequency weights [H, F] multiplying the spectrum (default: all 1). */
  scale?: Tensor;
  /** `dftTwiddles(rt, H, W)`, for callers that transform many times (default: uploaded per call). */
  twiddles?: Tensor;
}

/** Frequencies along x of the half spectrum of a real signal of `width` samples. */
export function halfSpectrumWidth(width: number): number {
  return Math.floor(width / 2) + 1;
}

/**
 * (cos, sin)(2 pi j / H) for j < H, then (cos, sin)(2 pi j / W) for j < W: [H + W, 2], computed in
 * float64 and rounded once.
 */
export function dftTwiddles(rt: Runtime, height: number, width: number): Tensor {
  const values = new Float32Array(2 * (height + width));
  [height, width].reduce((first, period) => {
    for (let j = 0; j < period; j++) {
      values[2 * (first + j)] = Math.cos((2 * Math.PI * j) / period);
      values[2 * (first + j) + 1] = Math.sin((2 * Math.PI * j) / period);
    }
    return first + period;
  }, 0);
  return rt.upload([height + width, 2], values, 'fourier.twiddles');
}

interface Geometry {
  batch: number;
  height: number;
  width: number;
  frequencies: number;
  channels: number;
}

/** Checks the optional scale and twiddle table; returns the ones to use and those made here (to dispose). */
function tables(rt: Runtime, g: Geometry, options: Irfft2dOptions, op: string): { scale: Tensor; twiddles: Tensor; made: Tensor[] } {
  const made: Tensor[] = [];
  let { scale, twiddles } = options;
  if (scale && formatShape(scale.shape) !== formatShape([g.height, g.frequencies])) {
    throw new ShapeError(`${op}: scale ${formatShape(scale.shape)} must be [${g.height}, ${g.frequencies}], one weight per frequency (H, floor(W / 2) + 1)`);
  }
  if (twiddles && formatShape(twiddles.shape) !== formatShape([g.height + g.width, 2])) {
    throw new ShapeError(`${op}: twiddles ${formatShape(twiddles.shape)} must be [${g.height + g.width}, 2]: dftTwiddles(rt, ${g.height}, ${g.width})`);
  }
  if (!scale) {
    scale = rt.empty([g.height, g.frequencies], 'fourier.unit_scale');
    rt.fill(scale, 1);
    made.push(scale);
  }
  if (!twiddles) made.push((twiddles = dftTwiddles(rt, g.height, g.width)));
  return { scale, twiddles, made };
}

/** image = irfft2(scale * spectrum): spectrum [N, H, F, C, 2] -> image [N, H, width, C]. */
export function irfft2d(rt: Runtime, spectrum: Tensor, width: number, options: Irfft2dOptions = {}): Tensor {
  expectRank(spectrum, 5, 'irfft2d spectrum');
  const [batch, height, frequencies, channels, parts] = spectrum.shape;
  if (parts !== 2) throw new ShapeError(`irfft2d: spectrum ${formatShape(spectrum.shape)} must end in 2 (real, imaginary)`);
  if (!Number.isInteger(width) || width < 1 || halfSpectrumWidth(width) !== frequencies) {
    throw new OptionError(`irfft2d: width ${width} does not fit a half spectrum of ${frequencies} frequencies (F = floor(W / 2) + 1, so W is ${2 * frequencies - 2} or ${2 * frequencies - 1})`);
  }
  const geometry = { batch, height, width, frequencies, channels };
  const { scale, twiddles, made } = tables(rt, geometry, options, 'irfft2d');
  const partial = rt.empty(spectrum.shape, 'fourier.partial');
  rt.dispatch(spec('columns'), { bindings: { spectrum, scale, twiddles, partial }, uniforms: geometry, workgroups: rt.grid(partial.size / 2, WORKGROUP_SIZE) });
  const image = rt.empty([batch, height, width, channels], 'fourier.image');
  rt.dispatch(spec('rows'), { bindings: { partial_in: partial, twiddles, image }, uniforms: geometry, workgroups: rt.grid(image.size, WORKGROUP_SIZE) });
  partial.dispose();
  for (const t of made) t.dispose();
  return image;
}

/** The gradient of irfft2d with respect to the spectrum: dimage [N, H, W, C] -> dspectrum [N, H, F, C, 2]. */
export function irfft2dBackward(rt: Runtime, imageGradient: Tensor, options: Irfft2dOptions = {}): Tensor {
  expectRank(imageGradient, 4, 'irfft2dBackward image gradient');
  const [batch, height, width, channels] = imageGradient.shape;
  const frequencies = halfSpectrumWidth(width);
  const geometry = { batch, height, width, frequencies, channels };
  const { scale, twiddles, made } = tables(rt, geometry, options, 'irfft2dBackward');
  const shape = [batch, height, frequencies, channels, 2];
  const partial = rt.empty(shape, 'fourier.partial_gradient');
  rt.dispatch(spec('rows_adjoint'), { bindings: { image_gradient: imageGradient, twiddles, partial }, uniforms: geometry, workgroups: rt.grid(partial.size / 2, WORKGROUP_SIZE) });
  const gradient = rt.empty(shape, 'fourier.spectrum_gradient');
  rt.dispatch(spec('columns_adjoint'), { bindings: { partial_in: partial, scale, twiddles, spectrum_gradient: gradient }, uniforms: geometry, workgroups: rt.grid(partial.size / 2, WORKGROUP_SIZE) });
  partial.dispose();
  for (const t of made) t.dispose();
  return gradient;
}

/**
 * Lucid's spectrum scaling (`fft_image`): 1 / max(|f|, 1 / max(H, W))^decayPower per frequency,
 * |f| = sqrt(fy^2 + fx^2) in cycles per pixel (fy from FFT order: 0, 1/H, ..., -1/H), times
 * sqrt(H W) so that the map is unitary at decay 0 (learning rates carry over from pixel space),
 * and divided by 4 as lucid does. [H * F] in row-major order, float64.
 */
export function spectrumScale(height: number, width: number, decayPower: number): Float64Array {
  const frequencies = halfSpectrumWidth(width);
  const floor = 1 / Math.max(height, width);
  const values = new Float64Array(height * frequencies);
  for (let ky = 0; ky < height; ky++) {
    const fy = (ky <= (height - 1) / 2 ? ky : ky - height) / height;
    for (let kx = 0; kx < frequencies; kx++) {
      const f = Math.hypot(fy, kx / width);
      values[ky * frequencies + kx] = (Math.sqrt(height * width) / Math.max(f, floor) ** decayPower) / 4;
    }
  }
  return values;
}
