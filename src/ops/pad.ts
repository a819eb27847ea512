/**
 * Padding of any axes (TF Pad / PadV2 / MirrorPad, Keras ZeroPadding2D), as a gather through a
 * strided view (view.ts): output coordinate o reads input coordinate o - before.
 * - constant: positions outside the input take `value`; backward: dy cropped back to the input
 *   (the padded positions hold a constant, so they pass no gradient on).
 * - reflect / symmetric (MirrorPad): outside positions read the input mirrored about its edge
 *   element (REFLECT: [a b c] -> b [a b c] b) or about its edge (SYMMETRIC: a [a b c] c). TF
 *   requires paddings <= dim - 1 (REFLECT) or <= dim (SYMMETRIC). Backward: each input element
 *   sums the gradients of every output position that reads it (a gather over dy, no atomics).
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';
import { gatherView, gatherViewBackward, MAX_VIEW_AXES, rowMajorStrides, type ViewAxis } from './view.js';

export type PadMode = 'constant' | 'reflect' | 'symmetric';

export interface PadOptions {
  /** [before, after] per axis, one pair for every axis of the input. */
  paddings: readonly (readonly [number, number])[];
  /** Default 'constant'. */
  mode?: PadMode;
  /** The fill value of constant padding; default 0. */
  value?: number;
}

const MODES: readonly PadMode[] = ['constant', 'reflect', 'symmetric'];

/** The padded shape; throws before any GPU work when the options do not fit `shape`. */
export function paddedShape(shape: Shape, options: PadOptions, what: string): number[] {
  const { paddings, mode = 'constant', value = 0 } = options;
  if (!MODES.includes(mode)) throw new OptionError(`${what}: mode must be one of ${MODES.join(', ')}, got '${String(mode)}'`);
  if (!Number.isFinite(value)) throw new OptionError(`${what}: the fill value must be a finite number, got ${String(value)}`);
  if (shape.length > MAX_VIEW_AXES) throw new ShapeError(`${what}: input ${formatShape(shape)} has more than ${MAX_VIEW_AXES} axes`);
  if (paddings.length !== shape.length) throw new OptionError(`${what}: paddings has ${paddings.length} [before, after] pairs for the ${shape.length} axes of ${formatShape(shape)}; give one per axis`);
  return shape.map((dim, axis) => {
    const [before, after] = paddings[axis];
    for (const p of [before, after]) {
      if (!Number.isInteger(p) || p < 0) throw new OptionError(`${what}: paddings[${axis}] = [${before}, ${after}] must be non-negative integers`);
    }
    // one reflection must reach every padded position (TF's MirrorPad check)
    const most = mode === 'reflect' ? dim - 1 : dim;
    if (mode !== 'constant' && Math.max(before, after) > most) {
      throw new OptionError(`${what}: ${mode} padding [${before}, ${after}] of axis ${axis} (size ${dim}) exceeds ${most}; ${mode} mode pads at most ${mode === 'reflect' ? 'size - 1' : 'size'} per side`);
    }
    return dim + before + after;
  });
}

function padView(inputShape: Shape, outShape: Shape, paddings: PadOptions['paddings']): ViewAxis[] {
  const strides = rowMajorStrides(inputShape);
  return outShape.map((size, k) => ({ size, start: -paddings[k][0], step: 1, limit: inputShape[k], stride: strides[k] }));
}

/** x -> x padded by `options.paddings` on each axis. */
export function pad(rt: Runtime, x: Tensor, options: PadOptions): Tensor {
  const outShape = paddedShape(x.shape, options, 'pad');
  const mode = options.mode ?? 'constant';
  const edge = mode === 'constant' ? { fill: options.value ?? 0 } : mode;
  return gatherView(rt, x, padView(x.shape, outShape, options.paddings), outShape, edge, 'pad.output');
}

/** dL/dx [inputShape] from dL/dy [padded inputShape]. */
export function padBackward(rt: Runtime, dy: Tensor, inputShape: Shape, options: PadOptions): Tensor {
  const outShape = paddedShape(inputShape, options, 'padBackward');
  if (formatShape(dy.shape) !== formatShape(outShape)) {
    throw new ShapeError(`padBackward: the output gradient must have the padded shape ${formatShape(outShape)} of input ${formatShape(inputShape)}, got ${formatShape(dy.shape)}`);
  }
  return gatherViewBackward(rt, dy, padView(inputShape, outShape, options.paddings), inputShape, options.mode ?? 'constant', 'pad.input_grad');
}
