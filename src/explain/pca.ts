/**
 * Principal component analysis of a feature matrix X [N, D] that stays on the GPU (Pearson 1901;
 * Hotelling 1933). The GPU computes the column means and variances, centers X and runs every
 * product with X; the CPU (float64) only solves small eigenproblems:
 *
 * - D <= COVARIANCE_MAX_DIMENSION (256): the covariance C = Xcᵀ Xc / (N - 1) is one GEMM
 *   (dense.wgsl's weight-gradient product xᵀ · dy reads Xcᵀ in place), read back as D x D and
 *   solved exactly (Householder tridiagonalization and QL, eigen.ts). The bound is that solve's
 *   9 D^3 flops in JavaScript: about 0.5 s at D = 256 on a shared CPU core (measured), so some 4 s at 512.
 * - larger D: randomized subspace iteration (Halko, Martinsson and Tropp 2011, alg. 4.4 with the
 *   Rayleigh-Ritz step of alg. 5.3): Q (D x l, l = k + oversampling) from a seeded Gaussian
 *   matrix, then `iterations` times Q <- orth(C Q), and finally the l x l matrix Qᵀ C Q solved
 *   exactly, V = Q U. C Q = Xcᵀ (Xc Q) / (N - 1) is two thin GEMMs on the GPU, so C (D x D) is
 *   never formed; only D x l floats travel per iteration.
 *
 * The projection Xc V_k [N, k] is a GEMM on the GPU as well. Explained-variance ratios divide
 * each eigenvalue by the trace of C (the sum of the column variances), so they refer to all D
 * directions, not only the k kept.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { centerColumns, columnStats } from '../ops/center_columns.js';
import { dense, denseBackwardWeights } from '../ops/dense.js';
import { orthonormalColumns, symmetricEigen } from './eigen.js';
import { gaussian, mulberry32 } from './random.js';

/** Largest feature dimension whose covariance is read back and solved exactly. */
export const COVARIANCE_MAX_DIMENSION = 256;

export interface PcaOptions {
  /** Components to keep. Default 2. */
  components?: number;
  /** 'auto' (default): 'covariance' for D <= COVARIANCE_MAX_DIMENSION (256), else 'randomized'. */
  solver?: 'auto' | 'covariance' | 'randomized';
  /** Randomized solver: extra basis vectors beyond `components`. Default 10. */
  oversampling?: number;
  /** Randomized solver: subspace (power) iterations. Default 8. */
  iterations?: number;
  /** Seeds the randomized solver's starting matrix. Default 0. */
  seed?: number;
}

export interface PcaResult {
  /** The rows of X projected on the components, [N, k] row-major. */
  points: Float32Array;
  /** Unit principal directions as the rows of a [k, D] row-major matrix (sign: largest entry positive). */
  components: Float32Array;
  /** Variance along each component (eigenvalues of the covariance), largest first. */
  explainedVariance: Float64Array;
  /** explainedVariance over the total variance (the covariance's trace). */
  explainedVarianceRatio: Float64Array;
  /** Column means, [D]. */
  mean: Float32Array;
  solver: 'covariance' | 'randomized';
  rows: number;
  dimension: number;
}

function integerOption(value: number | undefined, fallback: number, name: string, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new OptionError(`${name} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

/** Xc (Xc Q) / (N - 1): C Q without forming C. q is [D, l]; returns [D, l] read back. */
async function covarianceTimes(rt: Runtime, centered: Tensor, q: ArrayLike<number>, l: number): Promise<Float32Array> {
  const [rows, d] = centered.shape;
  const basis = rt.upload([d, l], q, 'pca.basis');
  const projected = dense(rt, centered, basis, undefined);
  const product = denseBackwardWeights(rt, centered, projected);
  try {
    const values = await rt.read(product);
    for (let i = 0; i < values.length; i++) values[i] /= rows - 1;
    return values;
  } finally {
    for (const t of [basis, projected, product]) t.dispose();
  }
}

/** Top-k eigenpairs of C by randomized subspace iteration; vectors as rows [k, D]. */
async function randomizedEigen(rt: Runtime, centered: Tensor, k: number, oversampling: number, iterations: number, seed: number): Promise<{ values: Float64Array; vectors: Float64Array }> {
  const d = centered.shape[1];
  const l = Math.min(d, k + oversampling);
  const random = mulberry32(seed);
  // Gaussian start: a random subspace meets the top-k one with probability 1
  const omega = Float64Array.from({ length: d * l }, () => gaussian(random));
  let q = orthonormalColumns(omega, d, l);
  for (let i = 0; i < iterations; i++) q = orthonormalColumns(await covarianceTimes(rt, centered, q, l), d, l);
  // Rayleigh-Ritz: B = Qᵀ (C Q), symmetrized against rounding
  const cq = await covarianceTimes(rt, centered, q, l);
  const b = new Float64Array(l * l);
  for (let i = 0; i < l; i++) {
    for (let j = 0; j < l; j++) {
      let sum = 0;
      for (let r = 0; r < d; r++) sum += q[r * l + i] * cq[r * l + j];
      b[i * l + j] = sum;
    }
  }
  for (let i = 0; i < l; i++) for (let j = 0; j < i; j++) b[i * l + j] = b[j * l + i] = (b[i * l + j] + b[j * l + i]) / 2;
  const small = symmetricEigen(b, l);
  const vectors = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    for (let r = 0; r < d; r++) {
      let sum = 0;
      for (let j = 0; j < l; j++) sum += q[r * l + j] * small.vectors[c * l + j];
      vectors[c * d + r] = sum;
    }
  }
  return { values: small.values.slice(0, k), vectors };
}

/** Top-k eigenpairs of C from the D x D covariance solved exactly on the CPU. */
async function covarianceEigen(rt: Runtime, centered: Tensor, k: number): Promise<{ values: Float64Array; vectors: Float64Array }> {
  const [rows, d] = centered.shape;
  const gram = denseBackwardWeights(rt, centered, centered);
  let c: Float32Array;
  try {
    c = await rt.read(gram);
  } finally {
    gram.dispose();
  }
  const covariance = Float64Array.from(c, (v) => v / (rows - 1));
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) covariance[i * d + j] = covariance[j * d + i] = (covariance[i * d + j] + covariance[j * d + i]) / 2;
  const { values, vectors } = symmetricEigen(covariance, d);
  return { values: values.slice(0, k), vectors: vectors.slice(0, k * d) };
}

/** PCA of the rows of `features` [N, D] (N >= 2), which stays the caller's. */
export async function pca(rt: Runtime, features: Tensor, options: PcaOptions = {}): Promise<PcaResult> {
  if (features.shape.length !== 2) throw new ShapeError(`pca: features must be [N, D], got [${features.shape.join(', ')}]`);
  const [rows, d] = features.shape;
  if (rows < 2) throw new ShapeError(`pca: needs at least 2 feature vectors, got ${rows}`);
  const k = integerOption(options.components, 2, 'components', 1, Math.min(d, rows));
  const solver = options.solver ?? 'auto';
  if (!['auto', 'covariance', 'randomized'].includes(solver)) throw new OptionError(`solver must be 'auto', 'covariance' or 'randomized', got '${String(solver)}'`);
  const oversampling = integerOption(options.oversampling, 10, 'oversampling', 0, 1000);
  const iterations = integerOption(options.iterations, 8, 'iterations', 0, 1000);
  const seed = integerOption(options.seed, 0, 'seed', 0, 0xffffffff);
  const chosen = solver === 'auto' ? (d <= COVARIANCE_MAX_DIMENSION ? 'covariance' : 'randomized') : solver;

  const stats = columnStats(rt, features);
  const centered = centerColumns(rt, features, stats);
  try {
    const statValues = await rt.read(stats);
    const mean = statValues.slice(0, d);
    let total = 0;
    for (let j = 0; j < d; j++) total += statValues[d + j];
    const eigen = chosen === 'covariance' ? await covarianceEigen(rt, centered, k) : await randomizedEigen(rt, centered, k, oversampling, iterations, seed);
    // a deterministic sign per component: its largest-magnitude entry is positive
    const components = new Float32Array(k * d);
    for (let c = 0; c < k; c++) {
      let largest = 0;
      for (let j = 0; j < d; j++) if (Math.abs(eigen.vectors[c * d + j]) > Math.abs(eigen.vectors[c * d + largest])) largest = j;
      const sign = eigen.vectors[c * d + largest] < 0 ? -1 : 1;
      for (let j = 0; j < d; j++) components[c * d + j] = sign * eigen.vectors[c * d + j];
    }
    // points = Xc Vᵀ: the components uploaded as [D, k]
    const transposed = new Float32Array(d * k);
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) transposed[j * k + c] = components[c * d + j];
    const basis = rt.upload([d, k], transposed, 'pca.components');
    const projected = dense(rt, centered, basis, undefined);
    let points: Float32Array;
    try {
      points = await rt.read(projected);
    } finally {
      basis.dispose();
      projected.dispose();
    }
    const explainedVariance = eigen.values.map((v) => Math.max(0, v));
    const explainedVarianceRatio = explainedVariance.map((v) => (total > 0 ? v / total : 0));
    return { points, components, explainedVariance, explainedVarianceRatio, mean, solver: chosen, rows, dimension: d };
  } finally {
    stats.dispose();
    centered.dispose();
  }
}
