/**
 * Elementwise sum of two same-shape tensors (residual connections). Backward: d(a + b)/da and
 * d(a + b)/db are both the identity, so a graph passes the output gradient dy unchanged to both
 * inputs (as the same tensor; no kernel runs) and accumulates it where an input has other uses.
 */
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { sameShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

/** a + b, same shapes. */
export function add(rt: Runtime, a: Tensor, b: Tensor): Tensor {
  sameShape(a, b, 'add');
  const output = rt.empty(a.shape, 'add.output');
  rt.dispatch({ shader: 'elementwise', entry: 'add', constants: { WORKGROUP_SIZE } }, {
    bindings: { a, b, output },
    workgroups: rt.grid(a.size, WORKGROUP_SIZE),
  });
  return output;
}
