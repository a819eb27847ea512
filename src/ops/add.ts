/**
 * Elementwise sum of two same-shape tensors: the executor's gradient accumulation where a node
 * has several consumers. (Residual connections, which may broadcast and need a backward, are the
 * binary op's, ops/binary.ts.)
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
