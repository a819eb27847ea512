/**
 * DeepLIFT's rescale rule (Shrikumar et al. 2017, Sec. 3.5.1) as the backward of a nonlinearity
 * (Ancona et al. 2018's modified gradient), on a batch [inputs; references] of 2N rows whose row
 * i pairs with row i + N (shaders/rescale.wgsl). Linear layers need no rule: their gradient is
 * already the DeepLIFT multiplier. The forward values come from the caller, who has them (a
 * layer's record, or a recomputed pre-activation for the activations conv2d and dense fuse).
 *
 * Epsilon (where the ordinary gradient f'(x) replaces the secant (f(x) - f(x0)) / (x - x0)):
 * - 0 for functions made of pieces of slope 0 or 1 (ReLU, ReLU6, clip, abs, neg, linear): their
 *   float32 secant is exact on one piece ((x - x0) / (x - x0) = 1, 0 / d = 0) and, across a kink,
 *   |x - x0| >= |f(x) - f(x0)| leaves no cancellation; a threshold above 0 would only replace an
 *   exact secant by a one-sided slope and break summation-to-delta by up to epsilon per unit.
 * - sqrt(float32 eps) = 2^-11.5 ~ 3.5e-4 for every other function: smooth ones (sigmoid, tanh,
 *   GELU, ...) and pieces of other slopes (leaky ReLU, PReLU, hard sigmoid), whose secant carries
 *   the rounding of f(x) - f(x0), about eps |f| / |x - x0|, while the derivative's truncation error
 *   is |f''| |x - x0| / 2 (0 on one linear piece); for functions of order 1 the two meet at
 *   |x - x0| ~ sqrt(eps). (Captum's 1e-10 keeps the secant where its float32 value is mostly
 *   rounding noise.)
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { activation, activationInputGradient, functionName, type ActivationFunction, type FunctionName } from './activation.js';
import { maxPoolBackward, type PoolOptions } from './max_pool.js';
import { sameShape } from './shapes.js';

const WORKGROUP_SIZE = 64;
const kernel = (entry: string) => ({ shader: 'rescale', entry, constants: { WORKGROUP_SIZE } });

/** Where the secant falls back to the gradient for smooth functions: sqrt of float32's machine epsilon (see the header). */
export const SMOOTH_EPSILON = Math.sqrt(2 ** -23);

/** Functions made of pieces of slope 0 or 1: their secant is exact in float32 (epsilon 0). */
const EXACT_SECANT: ReadonlySet<FunctionName> = new Set<FunctionName>(['linear', 'relu', 'relu6', 'clip', 'abs', 'neg']);

/** The fallback threshold of `fn` (see the header). */
export function rescaleEpsilon(fn: ActivationFunction): number {
  return EXACT_SECANT.has(functionName(fn)) ? 0 : SMOOTH_EPSILON;
}

function checkPairs(x: Tensor, op: string): void {
  if (x.shape[0] % 2 !== 0) throw new ShapeError(`${op}: the rescale rule needs a batch [inputs; references] of even size, got ${x.shape[0]} rows`);
}

/**
 * dL/dx under the rescale rule for an elementwise y = f(x): dy * (y - y0) / (x - x0), and
 * `gradient` (the ordinary backward's dL/dx) where |x - x0| <= epsilon.
 */
export function rescaleBackward(rt: Runtime, dy: Tensor, x: Tensor, y: Tensor, gradient: Tensor, epsilon: number): Tensor {
  const op = 'rescaleBackward';
  checkPairs(x, op);
  for (const [name, t] of [['output gradient', dy], ['output', y], ['gradient', gradient]] as const) sameShape(x, t, `${op}: input and ${name}`);
  const dx = rt.empty(x.shape, 'rescale.input_grad');
  rt.dispatch(kernel('rescale_backward'), {
    bindings: { output_grad: dy, input: x, forward_output: y, gradient, input_grad: dx },
    uniforms: { epsilon },
    workgroups: rt.grid(x.size, WORKGROUP_SIZE),
  });
  return dx;
}

/** The rescale rule through y = fn(x) from its input x alone (y and f'(x) recomputed). */
export function activationRescale(rt: Runtime, dy: Tensor, x: Tensor, fn: ActivationFunction): Tensor {
  const y = activation(rt, x, fn);
  const gradient = activationInputGradient(rt, dy, x, fn);
  const dx = rescaleBackward(rt, dy, x, y, gradient, rescaleEpsilon(fn));
  y.dispose();
  gradient.dispose();
  return dx;
}

/**
 * Max pooling under Captum's DeepLift `maxpool` rule (captum/attr/_core/deep_lift.py): the part
 * of each output difference y - y0 up to the larger of y and y0 goes to x's argmax, the rest to
 * x0's, and each input's multiplier is what it received over x - x0 (the max-pool gradient
 * where x = x0). x [2N, H, W, C] = [inputs; references], y their pooled outputs.
 */
export function maxPoolRescale(rt: Runtime, x: Tensor, y: Tensor, dy: Tensor, options: PoolOptions): Tensor {
  const op = 'maxPoolRescale';
  checkPairs(x, op);
  sameShape(y, dy, `${op}: output and output gradient`);
  const deltas = rt.empty(dy.shape, 'rescale.max_deltas');
  rt.dispatch(kernel('rescale_max_deltas'), {
    bindings: { output_grad: dy, forward_output: y, deltas },
    workgroups: rt.grid(dy.size, WORKGROUP_SIZE),
  });
  const unpooled = maxPoolBackward(rt, x, deltas, options);
  deltas.dispose();
  const gradient = maxPoolBackward(rt, x, dy, options);
  const dx = rt.empty(x.shape, 'rescale.max_input_grad');
  rt.dispatch(kernel('rescale_max_divide'), {
    bindings: { unpooled, input: x, gradient, input_grad: dx },
    uniforms: { epsilon: 0 },
    workgroups: rt.grid(x.size, WORKGROUP_SIZE),
  });
  unpooled.dispose();
  gradient.dispose();
  return dx;
}
