/** Shape checks and the convolution/pooling output-size rules shared by the ops. */
import { ShapeError } from '../errors.js';
import type { Shape, Tensor } from '../gpu/tensor.js';

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Tensor, b: Tensor, what: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${what}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} differ`);
  }
}

export function expectRank(t: Tensor, rank: number, what: string): void {
  if (t.shape.length !== rank) throw new ShapeError(`${what} must have rank ${rank}, got ${formatShape(t.shape)}`);
}

/**
 * Invocations of a kernel that handles 4 consecutive channels of one pixel of an NHWC tensor per
 * invocation (depthwise conv, max-pool backward): pixels x ceil(channels / 4).
 */
export function channelBlockCount(shape: Shape): number {
  return shape[0] * shape[1] * shape[2] * Math.ceil(shape[3] / 4);
}

export type Padding = 'valid' | 'same';

/**
 * Zero rows/columns on each side, as TF's EXPLICIT padding (explicit_paddings); only the
 * transposed convolution (Conv2DBackpropInput) takes it, other ops get a zeroPad layer instead.
 */
export interface ExplicitPadding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface WindowGeometry {
  outHeight: number;
  outWidth: number;
  /** Rows/columns of implicit zero padding before the first input row/column. */
  padTop: number;
  padLeft: number;
}

/**
 * TensorFlow's output size and padding for a sliding window: `same` gives ceil(in / stride)
 * outputs and puts the odd extra padding row/column at the bottom/right; `valid` gives
 * ceil((in - effectiveKernel + 1) / stride); explicit padding is `valid` over the padded input.
 * Effective kernel = (k - 1) * dilation + 1.
 */
export function windowGeometry(
  inHeight: number,
  inWidth: number,
  kernel: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  padding: Padding | ExplicitPadding,
): WindowGeometry {
  if (typeof padding === 'object') {
    const { top, bottom, left, right } = padding;
    if ([top, bottom, left, right].some((p) => !Number.isInteger(p) || p < 0)) {
      throw new ShapeError(`explicit padding must be non-negative integers, got ${JSON.stringify(padding)}`);
    }
    const valid = windowGeometry(inHeight + top + bottom, inWidth + left + right, kernel, strides, dilations, 'valid');
    return { ...valid, padTop: top, padLeft: left };
  }
  const axis = (size: number, k: number, s: number, d: number) => {
    const effective = (k - 1) * d + 1;
    if (padding === 'same') {
      const out = Math.ceil(size / s);
      const total = Math.max((out - 1) * s + effective - size, 0);
      return { out, before: Math.floor(total / 2) };
    }
    if (padding !== 'valid') throw new ShapeError(`padding must be 'valid' or 'same', got '${String(padding)}'`);
    return { out: Math.ceil((size - effective + 1) / s), before: 0 };
  };
  const h = axis(inHeight, kernel[0], strides[0], dilations[0]);
  const w = axis(inWidth, kernel[1], strides[1], dilations[1]);
  if (h.out <= 0 || w.out <= 0) {
    throw new ShapeError(`A ${kernel[0]}x${kernel[1]} window (dilation ${dilations.join('x')}) with '${padding}' padding does not fit a ${inHeight}x${inWidth} input`);
  }
  return { outHeight: h.out, outWidth: w.out, padTop: h.before, padLeft: w.before };
}
