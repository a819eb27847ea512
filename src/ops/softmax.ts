/**
 * Softmax over the last axis (classifier heads): numerically stable by subtracting each row's
 * maximum. The backward pass needs only the forward output y: dx = y * (dy - sum(dy * y)).
 */
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { sameShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

function rowsAndColumns(x: Tensor): { rows: number; columns: number } {
  const columns = x.shape[x.shape.length - 1];
  return { rows: x.size / columns, columns };
}

/** y = softmax(x) over the last axis; any rank, same shape as x. */
export function softmax(rt: Runtime, x: Tensor): Tensor {
  const y = rt.empty(x.shape, 'softmax.output');
  const uniforms = rowsAndColumns(x);
  rt.dispatch({ shader: 'softmax', entry: 'forward', constants: { WORKGROUP_SIZE } }, {
    bindings: { input: x, output: y },
    uniforms,
    workgroups: rt.grid(uniforms.rows, WORKGROUP_SIZE),
  });
  return y;
}

/** dL/dx from the forward output y and dL/dy (same shapes): dx = y * (dy - sum over the row of dy * y). */
export function softmaxBackward(rt: Runtime, y: Tensor, dy: Tensor): Tensor {
  sameShape(y, dy, 'softmaxBackward: output and output gradient');
  const dx = rt.empty(y.shape, 'softmax.input_grad');
  const uniforms = rowsAndColumns(y);
  rt.dispatch({ shader: 'softmax', entry: 'backward', constants: { WORKGROUP_SIZE } }, {
    bindings: { output_grad: dy, forward_output: y, input_grad: dx },
    uniforms,
    workgroups: rt.grid(uniforms.rows, WORKGROUP_SIZE),
  });
  return dx;
}
