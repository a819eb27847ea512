import type { Activation } from '../../src/ops/activation.js';
import { activate, activationDerivative } from './activation.js';
import { refTensor, type RefTensor } from './tensor.js';

/** z = x · W + bias: x [N, K], W [K, M], bias [M] or undefined -> [N, M]. */
export function densePreActivationRef(x: RefTensor, w: RefTensor, bias: RefTensor | undefined): RefTensor {
  const [n, k] = x.shape;
  const m = w.shape[1];
  const z = refTensor([n, m]);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let sum = bias ? bias.data[j] : 0;
      for (let q = 0; q < k; q++) sum += x.data[i * k + q] * w.data[q * m + j];
      z.data[i * m + j] = sum;
    }
  }
  return z;
}

export function denseRef(x: RefTensor, w: RefTensor, bias: RefTensor | undefined, kind: Activation): RefTensor {
  const z = densePreActivationRef(x, w, bias);
  return refTensor(z.shape, z.data.map((v) => activate(v, kind)));
}

/**
 * Gradients from the pre-activation z (not from y as the GPU does, so the two paths check each
 * other): g = dy * act'(z), dx = g Wᵀ, dW = xᵀ g, dbias = sum_n g.
 */
export function denseBackwardRef(x: RefTensor, w: RefTensor, bias: RefTensor | undefined, dy: RefTensor, kind: Activation): { input: RefTensor; weights: RefTensor; bias: RefTensor } {
  const [n, k] = x.shape;
  const m = w.shape[1];
  const z = densePreActivationRef(x, w, bias);
  const g = z.data.map((v, i) => dy.data[i] * activationDerivative(v, kind));
  const input = refTensor([n, k]);
  const weights = refTensor([k, m]);
  const biasGrad = refTensor([m]);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const gij = g[i * m + j];
      biasGrad.data[j] += gij;
      for (let q = 0; q < k; q++) {
        input.data[i * k + q] += gij * w.data[q * m + j];
        weights.data[q * m + j] += x.data[i * k + q] * gij;
      }
    }
  }
  return { input, weights, bias: biasGrad };
}
