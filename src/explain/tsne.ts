/**
 * Exact t-SNE (van der Maaten and Hinton 2008) on the CPU, in float64: for the few hundred to few
 * thousand feature vectors of a layer embedding, O(N^2) per iteration is a second or so (N = 500:
 * 250k pairs x 1000 iterations) and needs no approximation. No maintained small npm package
 * fitted (tsne-js and tsnejs are unmaintained), and the method is short:
 *
 * - input affinities p_j|i = exp(-beta_i d_ij^2) / Z_i, beta_i found by binary search so that
 *   the entropy of P_i is log(perplexity) (sec. 2); P symmetrized, p_ij = (p_j|i + p_i|j) / 2N (sec. 3.1);
 * - Student-t output affinities q_ij ∝ (1 + |y_i - y_j|^2)^-1 (sec. 3.2), gradient eq. 5:
 *   dC/dy_i = 4 sum_j (p_ij - q_ij)(y_i - y_j)(1 + |y_i - y_j|^2)^-1;
 * - gradient descent with momentum 0.5 then 0.8, early exaggeration of P for the first iterations
 *   (sec. 3.4), and the per-coordinate adaptive gains of the authors' implementation (Jacobs 1988).
 *
 * A seed fixes the initial layout (Gaussian, deviation 1e-4), so a seed fixes the result.
 */
import { OptionError, ShapeError } from '../errors.js';
import { gaussian, mulberry32 } from './random.js';

export interface TsneOptions {
  /** Effective number of neighbours, below N. Default 30 (or (N - 1) / 3 when N is small). */
  perplexity?: number;
  /** Output dimensions. Default 2. */
  dimensions?: number;
  /** Gradient steps. Default 1000. */
  iterations?: number;
  /** Default max(N / earlyExaggeration / 4, 50) (Belkina et al. 2019, scikit-learn's 'auto'). */
  learningRate?: number;
  /** Factor on P for the first `exaggerationIterations` (250) steps. Default 12. */
  earlyExaggeration?: number;
  exaggerationIterations?: number;
  seed?: number;
}

export interface TsneResult {
  /** [N, dimensions] row-major. */
  points: Float32Array;
  /** KL(P || Q) at the end. */
  divergence: number;
  milliseconds: number;
}

function checkOption(value: number, name: string, ok: boolean, what: string): number {
  if (!ok) throw new OptionError(`${name} must be ${what}, got ${value}`);
  return value;
}

/** Squared Euclidean distances between the rows of x [n, d]. */
function squaredDistances(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < d; k++) sum += (x[i * d + k] - x[j * d + k]) ** 2;
      out[i * n + j] = out[j * n + i] = sum;
    }
  }
  return out;
}

/** Conditional affinities p_j|i [n, n] (row i sums to 1) whose rows have entropy log(perplexity). */
export function conditionalProbabilities(distances: Float64Array, n: number, perplexity: number): Float64Array {
  const target = Math.log(perplexity);
  const conditional = new Float64Array(n * n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let beta = 1;
    let low = 0;
    let high = Infinity;
    for (let step = 0; step < 200; step++) {
      let sum = 0;
      let weighted = 0;
      for (let j = 0; j < n; j++) {
        row[j] = j === i ? 0 : Math.exp(-beta * distances[i * n + j]);
        sum += row[j];
        weighted += row[j] * distances[i * n + j];
      }
      sum = Math.max(sum, 1e-300);
      // H = log Z + beta <d^2>  (entropy of p_j|i in nats)
      const entropy = Math.log(sum) + (beta * weighted) / sum;
      for (let j = 0; j < n; j++) conditional[i * n + j] = row[j] / sum;
      const gap = entropy - target;
      if (Math.abs(gap) < 1e-5) break;
      if (gap > 0) {
        low = beta;
        beta = high === Infinity ? beta * 2 : (beta + high) / 2;
      } else {
        high = beta;
        beta = (beta + low) / 2;
      }
    }
  }
  return conditional;
}

/** Symmetric joint affinities P [n, n] (sum 1, floored at 1e-12): p_ij = (p_j|i + p_i|j) / 2n. */
export function jointProbabilities(distances: Float64Array, n: number, perplexity: number): Float64Array {
  const conditional = conditionalProbabilities(distances, n, perplexity);
  const p = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) p[i * n + j] = Math.max((conditional[i * n + j] + conditional[j * n + i]) / (2 * n), 1e-12);
  }
  return p;
}

/** t-SNE of the rows of x [n, d] (row-major). */
export function tsne(x: ArrayLike<number>, n: number, d: number, options: TsneOptions = {}): TsneResult {
  const started = performance.now();
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 2 || d < 1 || x.length !== n * d) {
    throw new ShapeError(`tsne: ${x.length} values are not ${n} rows of ${d} features (needs at least 2 rows)`);
  }
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new ShapeError(`tsne: feature value ${i} is ${x[i]}`);
  const perplexity = options.perplexity ?? Math.min(30, Math.max(1, (n - 1) / 3));
  checkOption(perplexity, 'perplexity', perplexity >= 1 && perplexity < n, `a number in [1, ${n}) (below the number of points)`);
  const dims = options.dimensions ?? 2;
  checkOption(dims, 'dimensions', Number.isInteger(dims) && dims >= 1 && dims <= 3, 'an integer in 1..3');
  const iterations = options.iterations ?? 1000;
  checkOption(iterations, 'iterations', Number.isInteger(iterations) && iterations >= 1, 'an integer >= 1');
  const exaggeration = options.earlyExaggeration ?? 12;
  checkOption(exaggeration, 'earlyExaggeration', exaggeration >= 1 && Number.isFinite(exaggeration), 'a finite number >= 1');
  const exaggerationIterations = options.exaggerationIterations ?? Math.min(250, Math.floor(iterations / 4));
  checkOption(exaggerationIterations, 'exaggerationIterations', Number.isInteger(exaggerationIterations) && exaggerationIterations >= 0, 'an integer >= 0');
  const learningRate = options.learningRate ?? Math.max(n / exaggeration / 4, 50);
  checkOption(learningRate, 'learningRate', learningRate > 0 && Number.isFinite(learningRate), 'a finite number > 0');
  const seed = options.seed ?? 0;
  checkOption(seed, 'seed', Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff, 'an integer in 0..2^32-1');

  const p = jointProbabilities(squaredDistances(x, n, d), n, perplexity);
  const random = mulberry32(seed);
  const y = Float64Array.from({ length: n * dims }, () => 1e-4 * gaussian(random));
  const velocity = new Float64Array(n * dims);
  const gains = new Float64Array(n * dims).fill(1);
  const gradient = new Float64Array(n * dims);
  const num = new Float64Array(n * n);
  let divergence = 0;
  for (let iteration = 0; iteration < iterations; iteration++) {
    const scale = iteration < exaggerationIterations ? exaggeration : 1;
    const momentum = iteration < exaggerationIterations ? 0.5 : 0.8;
    let z = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        let sq = 0;
        for (let k = 0; k < dims; k++) sq += (y[i * dims + k] - y[j * dims + k]) ** 2;
        const t = 1 / (1 + sq);
        num[i * n + j] = num[j * n + i] = t;
        z += 2 * t;
      }
    }
    gradient.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const t = num[i * n + j];
        const strength = 4 * (scale * p[i * n + j] - t / z) * t;
        for (let k = 0; k < dims; k++) gradient[i * dims + k] += strength * (y[i * dims + k] - y[j * dims + k]);
      }
    }
    for (let i = 0; i < n * dims; i++) {
      // gains grow where the gradient keeps pointing against the last step, shrink where it flips
      gains[i] = Math.sign(gradient[i]) !== Math.sign(velocity[i]) ? gains[i] + 0.2 : Math.max(gains[i] * 0.8, 0.01);
      velocity[i] = momentum * velocity[i] - learningRate * gains[i] * gradient[i];
      y[i] += velocity[i];
    }
    // the cost is invariant to translation: keep the layout centered
    for (let k = 0; k < dims; k++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += y[i * dims + k];
      mean /= n;
      for (let i = 0; i < n; i++) y[i * dims + k] -= mean;
    }
    if (iteration === iterations - 1) {
      divergence = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) divergence += p[i * n + j] * Math.log(p[i * n + j] / Math.max(num[i * n + j] / z, 1e-300));
    }
  }
  return { points: Float32Array.from(y), divergence, milliseconds: performance.now() - started };
}
