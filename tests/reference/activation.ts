/**
 * Float64 reference of every activation function and of PReLU, with TensorFlow's gradient values
 * at the kinks (the rules listed in shaders/activation.wgsl).
 */
import { functionName, type ActivationFunction } from '../../src/ops/activation.js';
import { refTensor, type RefTensor } from './tensor.js';

const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;
const GELU_CUBIC = 0.044715;

/** erf in float64: Maclaurin series below 3, the Laplace continued fraction of erfc above (both to ~1e-15). */
export function erf(x: number): number {
  const z = Math.abs(x);
  if (z >= 3) return Math.sign(x) * (1 - erfcLarge(z));
  let term = z;
  let sum = z;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (-z * z) / n;
    sum += term / (2 * n + 1);
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
}

/** erfc(z) for z >= 3: exp(-z^2) / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...)))). */
function erfcLarge(z: number): number {
  let fraction = z;
  for (let k = 80; k >= 1; k--) fraction = z + k / 2 / fraction;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / fraction;
}

/** Standard normal CDF, from the small tail. */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const tail = 0.5 * (z >= 3 ? erfcLarge(z) : 1 - erf(z));
  return x >= 0 ? 1 - tail : tail;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const geluTanhInner = (x: number) => Math.sqrt(2 / Math.PI) * (x + GELU_CUBIC * x ** 3);

export function activate(x: number, fn: ActivationFunction): number {
  if (typeof fn !== 'string') {
    switch (fn.kind) {
      case 'elu': return x > 0 ? x : fn.alpha * Math.expm1(x);
      case 'leakyRelu': return x > 0 ? x : fn.alpha * x;
      case 'hardSigmoid': return Math.min(Math.max(fn.slope * x + fn.offset, 0), 1);
      case 'clip': return Math.min(Math.max(x, fn.lo), fn.hi);
      case 'affine': return fn.scale * x + fn.offset;
      case 'generalRelu': {
        const [lo, hi] = fn.maxValue === undefined ? [-Infinity, Infinity] : [0, fn.maxValue];
        const positive = Math.min(Math.max(x > fn.threshold ? x : 0, lo), hi);
        return positive - fn.negativeSlope * Math.max(fn.threshold - x, 0);
      }
    }
  }
  switch (fn) {
    case 'relu': return Math.max(x, 0);
    case 'relu6': return Math.min(Math.max(x, 0), 6);
    case 'sigmoid': return sigmoid(x);
    case 'tanh': return Math.tanh(x);
    case 'selu': return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x));
    case 'softplus': return softplus(x);
    case 'softsign': return x / (1 + Math.abs(x));
    case 'swish': return x * sigmoid(x);
    case 'gelu': return x * normalCdf(x);
    case 'geluTanh': return 0.5 * x * (1 + Math.tanh(geluTanhInner(x)));
    case 'hardSwish': return (x * Math.min(Math.max(x + 3, 0), 6)) / 6;
    case 'mish': return x * Math.tanh(softplus(x));
    case 'exp': return Math.exp(x);
    case 'log': return Math.log(x);
    case 'abs': return Math.abs(x);
    case 'neg': return -x;
    case 'square': return x * x;
    case 'sqrt': return Math.sqrt(x);
    case 'rsqrt': return 1 / Math.sqrt(x);
    case 'erf': return erf(x);
    case 'reciprocal': return 1 / x;
    default: return x;
  }
}

/** d f/dx at x, TensorFlow's value at the kinks. */
export function activationDerivative(x: number, fn: ActivationFunction): number {
  if (typeof fn !== 'string') {
    switch (fn.kind) {
      case 'elu': return x > 0 ? 1 : fn.alpha * Math.exp(x);
      case 'leakyRelu': return x > 0 ? 1 : fn.alpha;
      case 'hardSigmoid': {
        const u = fn.slope * x + fn.offset;
        return u >= 0 && u <= 1 ? fn.slope : 0;
      }
      case 'clip': return x >= fn.lo && x <= fn.hi ? 1 : 0;
      case 'affine': return fn.scale;
      case 'generalRelu': {
        const [lo, hi] = fn.maxValue === undefined ? [-Infinity, Infinity] : [0, fn.maxValue];
        const passes = x > fn.threshold && x >= lo && x <= hi;
        return (passes ? 1 : 0) + (x < fn.threshold ? fn.negativeSlope : 0);
      }
    }
  }
  switch (fn) {
    case 'relu': return x > 0 ? 1 : 0;
    case 'relu6': return x > 0 && x < 6 ? 1 : 0;
    case 'sigmoid': { const s = sigmoid(x); return s * (1 - s); }
    case 'tanh': return 1 - Math.tanh(x) ** 2;
    case 'selu': return SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x));
    case 'softplus': return sigmoid(x);
    case 'softsign': return 1 / (1 + Math.abs(x)) ** 2;
    case 'swish': { const s = sigmoid(x); return s * (1 + x * (1 - s)); }
    case 'gelu': return normalCdf(x) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
    case 'geluTanh': {
      const t = Math.tanh(geluTanhInner(x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Math.sqrt(2 / Math.PI) * (1 + 3 * GELU_CUBIC * x * x);
    }
    case 'hardSwish': return Math.min(Math.max(x + 3, 0), 6) / 6 + (x > -3 && x < 3 ? x / 6 : 0);
    case 'mish': { const t = Math.tanh(softplus(x)); return t + x * (1 - t * t) * sigmoid(x); }
    case 'exp': return Math.exp(x);
    case 'log': return 1 / x;
    case 'abs': return Math.sign(x);
    case 'neg': return -1;
    case 'square': return 2 * x;
    case 'sqrt': return 0.5 / Math.sqrt(x);
    case 'rsqrt': return -0.5 * x ** -1.5;
    case 'erf': return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x);
    case 'reciprocal': return -1 / (x * x);
    default: return 1;
  }
}

export function activationRef(x: RefTensor, fn: ActivationFunction): RefTensor {
  return refTensor(x.shape, x.data.map((v) => activate(v, fn)));
}

export function activationBackwardRef(x: RefTensor, dy: RefTensor, fn: ActivationFunction): RefTensor {
  return refTensor(x.shape, x.data.map((v, i) => dy.data[i] * activationDerivative(v, fn)));
}

export const activationLabel = (fn: ActivationFunction) => (typeof fn === 'string' ? fn : `${functionName(fn)}(${Object.entries(fn).filter(([k]) => k !== 'kind').map(([k, v]) => `${k}=${v}`).join(',')})`);

/** PReLU: x > 0 ? x : alpha[i % alpha.size] x (alpha broadcast over the leading axes). */
export function preluRef(x: RefTensor, alpha: RefTensor): RefTensor {
  const size = alpha.data.length;
  return refTensor(x.shape, x.data.map((v, i) => (v > 0 ? v : alpha.data[i % size] * v)));
}

/** PReLU gradients: dx (alpha at 0, as tfjs prelu) and dalpha summed over the leading axes. */
export function preluBackwardRef(x: RefTensor, alpha: RefTensor, dy: RefTensor): { input: RefTensor; alpha: RefTensor } {
  const size = alpha.data.length;
  const input = refTensor(x.shape, x.data.map((v, i) => dy.data[i] * (v > 0 ? 1 : alpha.data[i % size])));
  const dAlpha = refTensor(alpha.shape);
  x.data.forEach((v, i) => { dAlpha.data[i % size] += dy.data[i] * Math.min(v, 0); });
  return { input, alpha: dAlpha };
}

/** clamp(x, lower[j], upper[j]), j = i % lower.size (bounds broadcast over the leading axes). */
export function clipRef(x: RefTensor, lower: RefTensor, upper: RefTensor): RefTensor {
  const size = lower.data.length;
  return refTensor(x.shape, x.data.map((v, i) => Math.min(Math.max(v, lower.data[i % size]), upper.data[i % size])));
}

/** TF's Maximum/Minimum rule: dx where lower <= x <= upper, dlower where x < lower, dupper where x > upper. */
export function clipBackwardRef(x: RefTensor, lower: RefTensor, upper: RefTensor, dy: RefTensor): { input: RefTensor; lower: RefTensor; upper: RefTensor } {
  const size = lower.data.length;
  const input = refTensor(x.shape);
  const dLower = refTensor(lower.shape);
  const dUpper = refTensor(upper.shape);
  x.data.forEach((v, i) => {
    const j = i % size;
    if (v < lower.data[j]) dLower.data[j] += dy.data[i];
    else if (v > upper.data[j]) dUpper.data[j] += dy.data[i];
    else input.data[i] = dy.data[i];
  });
  return { input, lower: dLower, upper: dUpper };
}
