/**
 * Elementwise activations and unary functions (shaders/activation.wgsl). Two families of names:
 * - `Activation`: linear, ReLU, ReLU6, sigmoid, the ones conv2d, depthwise conv and dense fuse.
 *   Their backward (`activationBackward`) is written in terms of the forward output, which every
 *   layer with a fused activation keeps anyway.
 * - `ActivationFunction`: every function of the shader, some with parameters (ELU's alpha, clip
 *   bounds, ...). Their backward (`activationInputGradient`) reads the forward input, since
 *   GELU, swish, clip and the like cannot recover their slope from the output.
 * Parameters travel as the shader's `params` uniform; the function picks the ACTIVATION override.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { sameShape } from './shapes.js';

export type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid';

/**
 * How backward passes through nonlinearities: the gradient; guided backpropagation's rule
 * (Springenberg et al. 2015), which also zeroes negative upstream gradients at ReLU and ReLU6; or
 * DeepLIFT's rescale rule (src/ops/rescale.ts), which the layers apply themselves on a batch
 * [inputs; references] (the kernels here see it as the plain gradient and are never given it).
 */
export type BackwardRule = 'gradient' | 'guided' | 'rescale';
export const BACKWARD_RULES: readonly BackwardRule[] = ['gradient', 'guided', 'rescale'];
/** The rules in words, for messages: 'gradient, guided or rescale'. */
export const RULE_NAMES = `${BACKWARD_RULES.slice(0, -1).join(', ')} or ${BACKWARD_RULES[BACKWARD_RULES.length - 1]}`;

/** The GUIDED override of a backward dispatch; throws OptionError for an unknown rule. */
function guided(rule: BackwardRule): number {
  if (!BACKWARD_RULES.includes(rule)) throw new OptionError(`unknown backward rule '${String(rule)}' (use ${RULE_NAMES})`);
  return rule === 'guided' ? 1 : 0;
}

/** Functions without parameters. */
export type PlainFunction =
  | Activation
  | 'tanh' | 'selu' | 'softplus' | 'softsign' | 'swish' | 'gelu' | 'geluTanh' | 'hardSwish' | 'mish'
  | 'exp' | 'log' | 'abs' | 'neg' | 'square' | 'sqrt' | 'rsqrt' | 'erf' | 'reciprocal';

/** Every function of the activation shader, with its parameters (see shaders/activation.wgsl). */
export type ActivationFunction =
  | PlainFunction
  | { kind: 'elu'; alpha: number }
  | { kind: 'leakyRelu'; alpha: number }
  /** clamp(slope x + offset, 0, 1): Keras 2 / TF.js slope 0.2, Keras 3 slope 1/6; offset 0.5. */
  | { kind: 'hardSigmoid'; slope: number; offset: number }
  /** clamp(x, lo, hi); an open side is +-Infinity. */
  | { kind: 'clip'; lo: number; hi: number }
  /** Keras relu(x, negative_slope, max_value, threshold); ThresholdedReLU is threshold = theta. */
  | { kind: 'generalRelu'; negativeSlope: number; threshold: number; maxValue?: number }
  /** scale x + offset (Keras Rescaling with scalar parameters). */
  | { kind: 'affine'; scale: number; offset: number };

export type FunctionName = PlainFunction | Exclude<ActivationFunction, string>['kind'];

/** Values of the ACTIVATION override; 0-3 are also the fused codes of conv2d, depthwise conv and dense. */
const ACTIVATION_CODES: Record<FunctionName, number> = {
  linear: 0, relu: 1, relu6: 2, sigmoid: 3, tanh: 4, elu: 5, selu: 6, softplus: 7, softsign: 8, swish: 9,
  gelu: 10, geluTanh: 11, hardSigmoid: 12, hardSwish: 13, exp: 14, log: 15, mish: 16, abs: 17, neg: 18,
  square: 19, sqrt: 20, rsqrt: 21, leakyRelu: 22, clip: 23, generalRelu: 24, affine: 25, erf: 26, reciprocal: 27,
};
const FUSED: readonly Activation[] = ['linear', 'relu', 'relu6', 'sigmoid'];
const WORKGROUP_SIZE = 64;
/** The largest finite float32: an open clip bound (WGSL may assume no infinities). */
const FLOAT32_MAX = 3.4028234663852886e38;

/** The ACTIVATION override value of a fusable activation; `op` names the caller in the error. */
export function activationCode(kind: Activation, op = 'activation'): number {
  if (!FUSED.includes(kind)) throw new OptionError(`${op}: unknown activation '${String(kind)}' (supported: ${FUSED.join(', ')})`);
  return ACTIVATION_CODES[kind];
}

export function functionName(fn: ActivationFunction): FunctionName {
  return typeof fn === 'string' ? fn : fn.kind;
}

/** True for the activations conv2d / dense can fuse (backward from the output). */
export function isFusable(fn: ActivationFunction): fn is Activation {
  return typeof fn === 'string' && (FUSED as readonly string[]).includes(fn);
}

const finite = (v: number) => Math.min(Math.max(v, -FLOAT32_MAX), FLOAT32_MAX);

/** The override constant and the `params` uniform of a function; throws OptionError on bad parameters. */
function compile(fn: ActivationFunction, op: string): { code: number; params: { alpha: number; beta: number; lo: number; hi: number } } {
  const name = functionName(fn);
  const code = Object.hasOwn(ACTIVATION_CODES, name) ? ACTIVATION_CODES[name] : undefined;
  if (code === undefined) throw new OptionError(`${op}: unknown activation '${String(name)}' (supported: ${Object.keys(ACTIVATION_CODES).join(', ')})`);
  const params = { alpha: 0, beta: 0, lo: -FLOAT32_MAX, hi: FLOAT32_MAX };
  if (typeof fn === 'string') return { code, params };
  const check = (what: string, v: number | undefined, ok = (x: number) => Number.isFinite(x)) => {
    if (v === undefined || !ok(v)) throw new OptionError(`${op}: ${fn.kind} ${what} must be a finite number, got ${String(v)}`);
    return v;
  };
  switch (fn.kind) {
    case 'elu':
    case 'leakyRelu':
      params.alpha = check('alpha', fn.alpha);
      break;
    case 'hardSigmoid':
      params.alpha = check('slope', fn.slope);
      params.beta = check('offset', fn.offset);
      break;
    case 'affine':
      params.alpha = check('scale', fn.scale);
      params.beta = check('offset', fn.offset);
      break;
    case 'clip':
      check('lo', fn.lo, (v) => !Number.isNaN(v));
      check('hi', fn.hi, (v) => !Number.isNaN(v));
      if (!(fn.lo <= fn.hi)) throw new OptionError(`${op}: clip bounds lo = ${fn.lo} > hi = ${fn.hi}`);
      params.lo = finite(fn.lo);
      params.hi = finite(fn.hi);
      break;
    case 'generalRelu':
      params.alpha = check('negativeSlope', fn.negativeSlope);
      params.beta = check('threshold', fn.threshold);
      if (fn.maxValue !== undefined) {
        params.lo = 0;
        params.hi = check('maxValue', fn.maxValue, (v) => Number.isFinite(v) && v >= 0);
      }
      break;
  }
  return { code, params };
}

/** y = f(x), same shape as x. */
export function activation(rt: Runtime, x: Tensor, fn: ActivationFunction): Tensor {
  const { code, params } = compile(fn, 'activation');
  const name = functionName(fn);
  const y = rt.empty(x.shape, `${name}.output`);
  rt.dispatch({ shader: 'activation', entry: 'forward', constants: { WORKGROUP_SIZE, ACTIVATION: code } }, {
    bindings: { input: x, output: y }, uniforms: params, workgroups: rt.grid(x.size, WORKGROUP_SIZE),
  });
  return y;
}

/** dL/dx from dL/dy and the forward output y, for the fusable activations (under `rule`: guided zeroes negative dy at ReLUs). */
export function activationBackward(rt: Runtime, dy: Tensor, y: Tensor, kind: Activation, rule: BackwardRule = 'gradient'): Tensor {
  const code = activationCode(kind, `${kind} backward`);
  const GUIDED = guided(rule);
  sameShape(dy, y, `${kind} backward`);
  const dx = rt.empty(y.shape, `${kind}.input_grad`);
  rt.dispatch({ shader: 'activation', entry: 'backward', constants: { WORKGROUP_SIZE, ACTIVATION: code, GUIDED } }, {
    bindings: { output_grad: dy, forward_output: y, input_grad: dx },
    workgroups: rt.grid(y.size, WORKGROUP_SIZE),
  });
  return dx;
}

/** dL/dx from dL/dy and the forward input x, for any function (`rule` as in activationBackward). */
export function activationInputGradient(rt: Runtime, dy: Tensor, x: Tensor, fn: ActivationFunction, rule: BackwardRule = 'gradient'): Tensor {
  const name = functionName(fn);
  const { code, params } = compile(fn, `${name} backward`);
  const GUIDED = guided(rule);
  sameShape(dy, x, `${name} backward`);
  const dx = rt.empty(x.shape, `${name}.input_grad`);
  rt.dispatch({ shader: 'activation', entry: 'backward_from_input', constants: { WORKGROUP_SIZE, ACTIVATION: code, GUIDED } }, {
    bindings: { output_grad: dy, input: x, input_grad: dx }, uniforms: params, workgroups: rt.grid(x.size, WORKGROUP_SIZE),
  });
  return dx;
}
