import type { Activation } from '../../src/ops/activation.js';
import { refTensor, type RefTensor } from './tensor.js';

export function activate(x: number, kind: Activation): number {
  switch (kind) {
    case 'relu': return Math.max(x, 0);
    case 'relu6': return Math.min(Math.max(x, 0), 6);
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    default: return x;
  }
}

/** d act/dx at x (ReLU's kink at 0 takes gradient 0, as TensorFlow does). */
export function activationDerivative(x: number, kind: Activation): number {
  switch (kind) {
    case 'relu': return x > 0 ? 1 : 0;
    case 'relu6': return x > 0 && x < 6 ? 1 : 0;
    case 'sigmoid': { const s = 1 / (1 + Math.exp(-x)); return s * (1 - s); }
    default: return 1;
  }
}

export function activationRef(x: RefTensor, kind: Activation): RefTensor {
  return refTensor(x.shape, x.data.map((v) => activate(v, kind)));
}

export function activationBackwardRef(x: RefTensor, dy: RefTensor, kind: Activation): RefTensor {
  return refTensor(x.shape, x.data.map((v, i) => dy.data[i] * activationDerivative(v, kind)));
}
