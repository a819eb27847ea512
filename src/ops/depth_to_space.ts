/**
 * DepthToSpace and SpaceToDepth (TF, NHWC, DCR order), each a gather through a 6-axis strided view
 * (view.ts), each the other's gradient (both are permutations of the elements):
 *   depthToSpace: y[n, h * b + i, w * b + j, c] = x[n, h, w, (i * b + j) * C' + c],  C' = C / b^2
 *   spaceToDepth: y[n, h, w, (i * b + j) * C + c] = x[n, h * b + i, w * b + j, c]
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';
import { gatherView, type ViewAxis } from './view.js';

function checkBlock(shape: Shape, blockSize: number, what: string): void {
  if (!Number.isInteger(blockSize) || blockSize < 2) throw new OptionError(`${what}: block size must be an integer >= 2, got ${blockSize}`);
  if (shape.length !== 4) throw new ShapeError(`${what}: input must be NHWC (rank 4), got ${formatShape(shape)}`);
}

const axis = (size: number, stride: number): ViewAxis => ({ size, start: 0, step: 1, limit: size, stride });

/** The output shape of depthToSpace; throws unless the channels divide into b^2 blocks. */
export function depthToSpaceShape(shape: Shape, blockSize: number, what = 'depthToSpace'): number[] {
  checkBlock(shape, blockSize, what);
  const [n, h, w, c] = shape;
  if (c % (blockSize * blockSize) !== 0) throw new ShapeError(`${what}: ${c} channels of ${formatShape(shape)} are not a multiple of block size^2 = ${blockSize * blockSize}`);
  return [n, h * blockSize, w * blockSize, c / (blockSize * blockSize)];
}

/** The output shape of spaceToDepth; throws unless H and W divide by the block size. */
export function spaceToDepthShape(shape: Shape, blockSize: number, what = 'spaceToDepth'): number[] {
  checkBlock(shape, blockSize, what);
  const [n, h, w, c] = shape;
  if (h % blockSize !== 0 || w % blockSize !== 0) throw new ShapeError(`${what}: height and width of ${formatShape(shape)} must be multiples of the block size ${blockSize}`);
  return [n, h / blockSize, w / blockSize, c * blockSize * blockSize];
}

/** [N, H, W, C] -> [N, H b, W b, C / b^2]. */
export function depthToSpace(rt: Runtime, x: Tensor, blockSize: number): Tensor {
  const outShape = depthToSpaceShape(x.shape, blockSize);
  const [n, h, w, c] = x.shape;
  const b = blockSize;
  const depth = outShape[3];
  // the output viewed as [N, H, i, W, j, C'], read from x[n, h, w, (i b + j) C' + c]
  const axes = [axis(n, h * w * c), axis(h, w * c), axis(b, b * depth), axis(w, c), axis(b, depth), axis(depth, 1)];
  return gatherView(rt, x, axes, outShape, { fill: 0 }, 'depthToSpace.output');
}

/** [N, H, W, C] -> [N, H / b, W / b, C b^2]. */
export function spaceToDepth(rt: Runtime, x: Tensor, blockSize: number): Tensor {
  const outShape = spaceToDepthShape(x.shape, blockSize);
  const [n, h, w, c] = x.shape;
  const b = blockSize;
  // the output viewed as [N, H / b, W / b, i, j, C], read from x[n, h b + i, w b + j, c]
  const axes = [axis(n, h * w * c), axis(h / b, b * w * c), axis(w / b, b * c), axis(b, w * c), axis(b, c), axis(c, 1)];
  return gatherView(rt, x, axes, outShape, { fill: 0 }, 'spaceToDepth.output');
}

/** dL/dx of depthToSpace: dy moved back, spaceToDepth(dy). */
export function depthToSpaceBackward(rt: Runtime, dy: Tensor, blockSize: number): Tensor {
  return spaceToDepth(rt, dy, blockSize);
}

/** dL/dx of spaceToDepth: depthToSpace(dy). */
export function spaceToDepthBackward(rt: Runtime, dy: Tensor, blockSize: number): Tensor {
  return depthToSpace(rt, dy, blockSize);
}
