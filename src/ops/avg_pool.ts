/**
 * Average pooling over NHWC windows (Keras AveragePooling2D, tf.nn.avg_pool) and its gradient
 * with respect to the input. With 'same' padding each window divides by the number of its cells
 * inside the input (TensorFlow excludes the padding). The backward pass needs only the input's
 * shape: every input cell of a window receives dy / (that window's cell count).
 */
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { checkOutputGrad, dispatchPool, planPool, type PoolOptions } from './max_pool.js';

export type { PoolOptions } from './max_pool.js';

/** [N, H, W, C] -> [N, outH, outW, C]: the mean of each window's cells inside the input. */
export function avgPool(rt: Runtime, x: Tensor, options: PoolOptions): Tensor {
  const plan = planPool(x.shape, options, 'avgPool');
  const y = rt.empty(plan.outputShape, 'avgPool.output');
  dispatchPool(rt, 'avg_forward', plan, { input: x, output: y }, y.size);
  return y;
}

/** dL/dx with shape `inputShape` [N, H, W, C] from dL/dy [N, outH, outW, C]. */
export function avgPoolBackward(rt: Runtime, dy: Tensor, inputShape: Shape, options: PoolOptions): Tensor {
  const plan = planPool(inputShape, options, 'avgPoolBackward');
  checkOutputGrad(dy, plan, 'avgPoolBackward');
  const dx = rt.empty(plan.inputShape, 'avgPool.input_grad');
  dispatchPool(rt, 'avg_backward', plan, { output_grad: dy, input_grad: dx }, dx.size);
  return dx;
}
