/**
 * Elementwise activations (linear, ReLU, ReLU6, sigmoid). The backward pass is written in terms
 * of the forward output, which is what every layer with a fused activation keeps anyway.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { sameShape } from './shapes.js';

export type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid';

/** Values of the ACTIVATION override in every shader with a fused activation. */
const ACTIVATION_CODES: Record<Activation, number> = { linear: 0, relu: 1, relu6: 2, sigmoid: 3 };
const WORKGROUP_SIZE = 64;

/** The ACTIVATION override value for `kind`; `op` names the caller in the error. */
export function activationCode(kind: Activation, op = 'activation'): number {
  const code = ACTIVATION_CODES[kind];
  if (code === undefined) throw new OptionError(`${op}: unknown activation '${String(kind)}' (supported: ${Object.keys(ACTIVATION_CODES).join(', ')})`);
  return code;
}

function spec(kind: Activation, entry: 'forward' | 'backward') {
  return { shader: 'activation', entry, constants: { WORKGROUP_SIZE, ACTIVATION: activationCode(kind) } };
}

/** y = act(x), same shape as x. */
export function activation(rt: Runtime, x: Tensor, kind: Activation): Tensor {
  const y = rt.empty(x.shape, `${kind}.output`);
  rt.dispatch(spec(kind, 'forward'), { bindings: { input: x, output: y }, workgroups: rt.grid(x.size, WORKGROUP_SIZE) });
  return y;
}

/** dL/dx from dL/dy and the forward output y. */
export function activationBackward(rt: Runtime, dy: Tensor, y: Tensor, kind: Activation): Tensor {
  sameShape(dy, y, `${kind} backward`);
  const dx = rt.empty(y.shape, `${kind}.input_grad`);
  rt.dispatch(spec(kind, 'backward'), {
    bindings: { output_grad: dy, forward_output: y, input_grad: dx },
    workgroups: rt.grid(y.size, WORKGROUP_SIZE),
  });
  return dx;
}
