/**
 * Float64 compositions of the reference ops that the explanation methods must equal: the same
 * inputs, the same noise (the GPU generator replayed in JavaScript) and the same path points.
 */
import { quadrature, type IntegrationRule } from '../../src/explain/integrated_gradients.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { referenceForward, referenceScoreGradient } from '../reference/model.js';
import { gaussian } from '../reference/random.js';
import { refTensor, type RefTensor } from '../reference/tensor.js';
export { relativeL2 } from '../reference/tensor.js';

/** Index of the largest value of the last axis (first on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** The model's top class for a single image: argmax of the logits node. */
export function topClass(spec: ModelSpec, logitsNode: string, x: RefTensor): number {
  return argmax(referenceForward(spec, x).get(logitsNode)!.data);
}

/** SmoothGrad moments over `samples` copies x + sigma * N(0,1) drawn from stream 1 of `seed`. */
export function smoothGradReference(spec: ModelSpec, node: string, x: RefTensor, target: number, samples: number, sigma: number, seed: number, variant: 'mean' | 'squared' | 'vargrad'): Float64Array {
  const sum = new Float64Array(x.data.length);
  const squares = new Float64Array(x.data.length);
  for (let copy = 0; copy < samples; copy++) {
    const noisy = refTensor(x.shape, x.data.map((v, e) => v + Math.fround(sigma) * gaussian(seed, 1, copy, e)));
    const g = referenceScoreGradient(spec, noisy, node, [target]).data;
    g.forEach((v, e) => {
      sum[e] += v;
      squares[e] += v * v;
    });
  }
  return sum.map((s, e) => (variant === 'mean' ? s / samples : variant === 'squared' ? squares[e] / samples : squares[e] / samples - (s / samples) ** 2));
}

/** IG attribution (x - b) * sum_k w_k grad(b + a_k (x - b)) and the end scores. */
export function integratedGradientsReference(spec: ModelSpec, node: string, x: RefTensor, baseline: RefTensor, target: number, rule: IntegrationRule, steps: number): { attribution: Float64Array; input: number; baseline: number } {
  const { alphas, weights } = quadrature(rule, steps);
  const sum = new Float64Array(x.data.length);
  alphas.forEach((alpha, k) => {
    // the GPU forms path points in float32
    const point = refTensor(x.shape, x.data.map((v, e) => Math.fround(baseline.data[e] + Math.fround(alpha) * (v - baseline.data[e]))));
    referenceScoreGradient(spec, point, node, [target]).data.forEach((g, e) => (sum[e] += Math.fround(weights[k]) * g));
  });
  const score = (t: RefTensor) => referenceForward(spec, t).get(node)!.data[target];
  return { attribution: sum.map((s, e) => (x.data[e] - baseline.data[e]) * s), input: score(x), baseline: score(baseline) };
}
