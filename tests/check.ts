/**
 * Comparison helpers shared by every op test: relative error against the float64 reference,
 * central finite differences on the reference, fresh seeds that are printed for replay, and a
 * log line with the worst error per op and direction.
 */
import { expect } from 'vitest';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { seededRandom, type RefTensor } from './reference/tensor.js';

/** Tolerance from the engine's spec: max error relative to the reference's largest magnitude. */
export const GPU_TOLERANCE = 1e-4;

/**
 * max_i |actual_i - expected_i| / max_i |expected_i|. Normalising by the largest magnitude, not
 * per element, keeps near-zero elements (sums that cancel) from dominating; NaN anywhere gives NaN.
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    if (Number.isNaN(difference)) return Number.NaN;
    worst = Math.max(worst, difference);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return worst / Math.max(scale, 1e-30);
}

/** Fresh seed each run (or WEBGPU_XAI_SEED to replay), printed with every failure. */
export function freshSeed(): number {
  return process.env.WEBGPU_XAI_SEED ? Number(process.env.WEBGPU_XAI_SEED) : (Math.random() * 2 ** 31) >>> 0;
}

export function randomSource(): { seed: number; random: () => number } {
  const seed = freshSeed();
  return { seed, random: seededRandom(seed) };
}

/** Uploads a reference tensor to the GPU as float32. */
export function toGpu(rt: Runtime, t: RefTensor): Tensor {
  return rt.upload(t.shape, t.data);
}

/** Reads `actual` back and checks it against the reference; logs `[op-error] label error`. */
export async function expectMatchesReference(rt: Runtime, actual: Tensor, expected: RefTensor, label: string, tolerance = GPU_TOLERANCE): Promise<number> {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  const values = await rt.read(actual);
  const error = relativeError(values, expected.data);
  console.log(`[op-error] ${label} ${error.toExponential(2)}`);
  expect(error, `${label}: relative error (NaN means an element was never written)`).toBeLessThanOrEqual(tolerance);
  return error;
}

/**
 * Central finite differences of the scalar L(x) = sum(f(x) * weights) in float64, i.e. the
 * vector-Jacobian product a backward pass computes for upstream gradient `weights`.
 */
export function finiteDifferenceVjp(f: (x: RefTensor) => RefTensor, x: RefTensor, upstream: RefTensor, epsilon = 1e-6): RefTensor {
  const loss = (t: RefTensor) => f(t).data.reduce((sum, v, i) => sum + v * upstream.data[i], 0);
  const gradient = { shape: x.shape, data: new Float64Array(x.data.length) };
  for (let i = 0; i < x.data.length; i++) {
    const saved = x.data[i];
    x.data[i] = saved + epsilon;
    const plus = loss(x);
    x.data[i] = saved - epsilon;
    const minus = loss(x);
    x.data[i] = saved;
    gradient.data[i] = (plus - minus) / (2 * epsilon);
  }
  return gradient;
}

/** The reference backward must agree with finite differences of the reference forward. */
export function expectReferenceGradient(analytic: RefTensor, numeric: RefTensor, label: string, tolerance = 1e-6): void {
  const error = relativeError(analytic.data, numeric.data);
  expect(error, `${label}: reference backward vs finite differences`).toBeLessThanOrEqual(tolerance);
}
