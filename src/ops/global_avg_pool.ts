/**
 * Global average pooling [N, H, W, C] -> [N, C] (Keras GlobalAveragePooling2D; graph models
 * write it as Mean over axes [1, 2], and keepdims is a reshape by the caller) and its gradient:
 * dy / (H * W) broadcast over the spatial positions, which needs only the input's shape.
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

function spec(entry: 'forward' | 'backward') {
  return { shader: 'global_pool', entry, constants: { WORKGROUP_SIZE } };
}

function checkInputShape(shape: Shape, what: string): void {
  if (shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ShapeError(`${what}: input must be NHWC [batch, height, width, channels] with positive sizes, got ${formatShape(shape)}`);
  }
}

/** [N, H, W, C] -> [N, C]: the mean over H and W. */
export function globalAvgPool(rt: Runtime, x: Tensor): Tensor {
  checkInputShape(x.shape, 'globalAvgPool');
  const [batch, height, width, channels] = x.shape;
  const y = rt.empty([batch, channels], 'globalAvgPool.output');
  rt.dispatch(spec('forward'), {
    bindings: { input: x, output: y },
    uniforms: { spatial: height * width, channels },
    workgroups: rt.grid(y.size, WORKGROUP_SIZE),
  });
  return y;
}

/** dL/dx with shape `inputShape` [N, H, W, C] from dL/dy [N, C]. */
export function globalAvgPoolBackward(rt: Runtime, dy: Tensor, inputShape: Shape): Tensor {
  checkInputShape(inputShape, 'globalAvgPoolBackward');
  const [batch, height, width, channels] = inputShape;
  if (dy.shape.length !== 2 || dy.shape[0] !== batch || dy.shape[1] !== channels) {
    throw new ShapeError(`globalAvgPoolBackward: the output gradient must have shape ${formatShape([batch, channels])} for input ${formatShape(inputShape)}, got ${formatShape(dy.shape)}`);
  }
  const dx = rt.empty([batch, height, width, channels], 'globalAvgPool.input_grad');
  rt.dispatch(spec('backward'), {
    bindings: { output_grad: dy, input_grad: dx },
    uniforms: { spatial: height * width, channels },
    workgroups: rt.grid(dx.size, WORKGROUP_SIZE),
  });
  return dx;
}
