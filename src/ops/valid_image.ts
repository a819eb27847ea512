/**
 * Unconstrained values -> a valid image: an optional channel mixing (the colour decorrelation of
 * Olah et al. 2017) and a sigmoid stretched onto [low, high], lucid's `to_valid_rgb` (formulas in
 * shaders/valid_image.wgsl). Both tensors NHWC [N, H, W, C]; mixing [C, C] row-major.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectRank, formatShape, sameShape } from './shapes.js';

const WORKGROUP_SIZE = 64;
const spec = (entry: string) => ({ shader: 'valid_image', entry, constants: { WORKGROUP_SIZE } });

/**
 * Square root of the colour correlation of ImageNet images, from its SVD (lucid's
 * `color_correlation_svd_sqrt`; rows are R, G, B, columns the decorrelated components: a
 * luminance-like one, then two colour-opponent ones).
 */
const COLOR_CORRELATION_SVD_SQRT = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];

/**
 * Lucid's decorrelated colour space -> RGB: the matrix above divided by its largest column norm,
 * so no component is stretched by more than 1. [3 * 3] row-major, float64.
 */
export function colorDecorrelation(): Float64Array {
  const m = COLOR_CORRELATION_SVD_SQRT;
  const norms = [0, 1, 2].map((d) => Math.hypot(m[0][d], m[1][d], m[2][d]));
  const largest = Math.max(...norms);
  return Float64Array.from(m.flat(), (v) => v / largest);
}

export interface ValidImageOptions {
  /** [C, C]: image channel c mixes sum_d mixing[c, d] values[d] (default: the identity). */
  mixing?: Tensor;
  /** The image range: the sigmoid maps onto (low, high). */
  low: number;
  high: number;
}

/** Checks the options; returns the mixing matrix to use and whether it was made here. */
function prepare(rt: Runtime, values: Tensor, options: ValidImageOptions, op: string): { mixing: Tensor; made: boolean } {
  expectRank(values, 4, `${op} input`);
  const { low, high } = options;
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) throw new OptionError(`${op}: the range [${low}, ${high}] must be finite with low < high`);
  const channels = values.shape[3];
  if (options.mixing) {
    if (formatShape(options.mixing.shape) !== formatShape([channels, channels])) {
      throw new ShapeError(`${op}: mixing ${formatShape(options.mixing.shape)} must be [${channels}, ${channels}] for ${channels}-channel images ${formatShape(values.shape)}`);
    }
    return { mixing: options.mixing, made: false };
  }
  const identity = new Float32Array(channels * channels);
  for (let c = 0; c < channels; c++) identity[c * channels + c] = 1;
  return { mixing: rt.upload([channels, channels], identity, 'valid_image.identity'), made: true };
}

/** image = low + (high - low) sigmoid(mixing values), per pixel. */
export function validImage(rt: Runtime, values: Tensor, options: ValidImageOptions): Tensor {
  const { mixing, made } = prepare(rt, values, options, 'validImage');
  const image = rt.empty(values.shape, 'valid_image.image');
  rt.dispatch(spec('forward'), {
    bindings: { values, mixing, image }, uniforms: { channels: values.shape[3], low: options.low, high: options.high }, workgroups: rt.grid(image.size, WORKGROUP_SIZE),
  });
  if (made) mixing.dispose();
  return image;
}

/** The gradient with respect to `values` (the forward's input) of validImage, given the image's gradient. */
export function validImageBackward(rt: Runtime, values: Tensor, imageGradient: Tensor, options: ValidImageOptions): Tensor {
  sameShape(values, imageGradient, 'validImageBackward: values and image gradient');
  const { mixing, made } = prepare(rt, values, options, 'validImageBackward');
  const gradient = rt.empty(values.shape, 'valid_image.values_gradient');
  rt.dispatch(spec('backward'), {
    bindings: { values, mixing, image_gradient: imageGradient, values_gradient: gradient },
    uniforms: { channels: values.shape[3], low: options.low, high: options.high },
    workgroups: rt.grid(gradient.size, WORKGROUP_SIZE),
  });
  if (made) mixing.dispose();
  return gradient;
}
