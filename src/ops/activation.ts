/**
 * Elementwise activations (linear, ReLU, ReLU6, sigmoid). The backward pass is written in terms
 * of the forward output, which is what every layer with a fused activation keeps anyway.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { sameShape } from './shapes.js';

export type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid';

/**
 * How backward passes through ReLUs: the gradient, or guided backpropagation's rule (Springenberg
 * et al. 2015), which also zeroes negative upstream gradients at ReLU and ReLU6.
 */
export type BackwardRule = 'gradient' | 'guided';
export const BACKWARD_RULES: readonly BackwardRule[] = ['gradient', 'guided'];

/** Values of the ACTIVATION override in every shader with a fused activation. */
const ACTIVATION_CODES: Record<Activation, number> = { linear: 0, relu: 1, relu6: 2, sigmoid: 3 };
const WORKGROUP_SIZE = 64;

/** The ACTIVATION override value for `kind`; `op` names the caller in the error. */
export function activationCode(kind: Activation, op = 'activation'): number {
  const code = ACTIVATION_CODES[kind];
  if (code === undefined) throw new OptionError(`${op}: unknown activation '${String(kind)}' (supported: ${Object.keys(ACTIVATION_CODES).join(', ')})`);
  return code;
}

function spec(kind: Activation, entry: 'forward' | 'backward', rule: BackwardRule = 'gradient') {
  if (!BACKWARD_RULES.includes(rule)) throw new OptionError(`unknown backward rule '${String(rule)}' (use ${BACKWARD_RULES.join(' or ')})`);
  return { shader: 'activation', entry, constants: { WORKGROUP_SIZE, ACTIVATION: activationCode(kind), GUIDED: rule === 'guided' ? 1 : 0 } };
}

/** y = act(x), same shape as x. */
export function activation(rt: Runtime, x: Tensor, kind: Activation): Tensor {
  const y = rt.empty(x.shape, `${kind}.output`);
  rt.dispatch(spec(kind, 'forward'), { bindings: { input: x, output: y }, workgroups: rt.grid(x.size, WORKGROUP_SIZE) });
  return y;
}

/** dL/dx from dL/dy and the forward output y (under `rule`: guided zeroes negative dy at ReLUs). */
export function activationBackward(rt: Runtime, dy: Tensor, y: Tensor, kind: Activation, rule: BackwardRule = 'gradient'): Tensor {
  sameShape(dy, y, `${kind} backward`);
  const backward = spec(kind, 'backward', rule);
  const dx = rt.empty(y.shape, `${kind}.input_grad`);
  rt.dispatch(backward, {
    bindings: { output_grad: dy, forward_output: y, input_grad: dx },
    workgroups: rt.grid(y.size, WORKGROUP_SIZE),
  });
  return dx;
}
