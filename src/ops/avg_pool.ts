/**
 * Average pooling over NHWC windows (Keras AveragePooling2D, tf.nn.avg_pool) and its gradient
 * with respect to the input. With 'same' padding each window divides by the number of its cells
 * inside the input (TensorFlow excludes the padding). The backward pass needs only the input's
 * shape: every input cell of a window receives dy / (that window's cell count).
 */
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { POOL_WORKGROUP_SIZE, checkOutputGrad, planPool, type PoolOptions } from './max_pool.js';

export type { PoolOptions } from './max_pool.js';

function spec(entry: string) {
  return { shader: 'pool', entry, constants: { WORKGROUP_SIZE: POOL_WORKGROUP_SIZE } };
}

/** [N, H, W, C] -> [N, outH, outW, C]: the mean of each window's cells inside the input. */
export function avgPool(rt: Runtime, x: Tensor, options: PoolOptions): Tensor {
  const plan = planPool(x.shape, options, 'avgPool');
  const y = rt.empty(plan.outputShape, 'avgPool.output');
  rt.dispatch(spec('avg_forward'), { bindings: { input: x, output: y }, uniforms: plan.uniforms, workgroups: rt.grid(y.size, POOL_WORKGROUP_SIZE) });
  return y;
}

/** dL/dx with shape `inputShape` [N, H, W, C] from dL/dy [N, outH, outW, C]. */
export function avgPoolBackward(rt: Runtime, dy: Tensor, inputShape: Shape, options: PoolOptions): Tensor {
  const plan = planPool(inputShape, options, 'avgPoolBackward');
  checkOutputGrad(dy, plan, 'avgPoolBackward');
  const dx = rt.empty(plan.inputShape, 'avgPool.input_grad');
  rt.dispatch(spec('avg_backward'), {
    bindings: { output_grad: dy, input_grad: dx },
    uniforms: plan.uniforms,
    workgroups: rt.grid(dx.size, POOL_WORKGROUP_SIZE),
  });
  return dx;
}
