/**
 * Zero padding of the spatial axes of an NHWC tensor (Keras ZeroPadding2D). Backward: the
 * gradient of the padded positions is dropped, so dx is dy cropped back to the input's H and W.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

export interface Padding2d {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

function checkPadding(padding: Padding2d, op: string): void {
  for (const side of ['top', 'bottom', 'left', 'right'] as const) {
    const value = padding[side];
    if (!Number.isInteger(value) || value < 0) throw new OptionError(`${op}: padding.${side} must be a non-negative integer, got ${String(value)}`);
  }
}

function window(rt: Runtime, input: Tensor, outShape: readonly [number, number, number, number], offsetY: number, offsetX: number, label: string): Tensor {
  const output = rt.empty(outShape, label);
  rt.dispatch({ shader: 'zero_pad', entry: 'window', constants: { WORKGROUP_SIZE } }, {
    bindings: { input, output },
    uniforms: {
      out_height: outShape[1],
      out_width: outShape[2],
      channels: outShape[3],
      in_height: input.shape[1],
      in_width: input.shape[2],
      offset_y: offsetY,
      offset_x: offsetX,
    },
    workgroups: rt.grid(output.size, WORKGROUP_SIZE),
  });
  return output;
}

/** x [N, H, W, C] -> [N, H + top + bottom, W + left + right, C] with zeros around. */
export function zeroPad2d(rt: Runtime, x: Tensor, padding: Padding2d): Tensor {
  checkPadding(padding, 'zeroPad2d');
  if (x.shape.length !== 4) throw new ShapeError(`zeroPad2d: input must be NHWC (rank 4), got ${formatShape(x.shape)}`);
  const [n, h, w, c] = x.shape;
  const { top, bottom, left, right } = padding;
  return window(rt, x, [n, h + top + bottom, w + left + right, c], -top, -left, 'zero_pad.output');
}

/** dy [N, H + top + bottom, W + left + right, C] -> dx [N, H, W, C] (the crop). */
export function zeroPad2dBackward(rt: Runtime, dy: Tensor, padding: Padding2d): Tensor {
  checkPadding(padding, 'zeroPad2dBackward');
  if (dy.shape.length !== 4) throw new ShapeError(`zeroPad2dBackward: output gradient must be NHWC (rank 4), got ${formatShape(dy.shape)}`);
  const [n, ph, pw, c] = dy.shape;
  const { top, bottom, left, right } = padding;
  const h = ph - top - bottom;
  const w = pw - left - right;
  if (h <= 0 || w <= 0) {
    throw new ShapeError(`zeroPad2dBackward: output gradient ${formatShape(dy.shape)} is not larger than the padding (top ${top}, bottom ${bottom}, left ${left}, right ${right})`);
  }
  return window(rt, dy, [n, h, w, c], top, left, 'zero_pad.input_grad');
}
