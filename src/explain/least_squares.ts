/**
 * The small float64 linear algebra of the perturbation methods: weighted least squares through
 * the normal equations, solved by Cholesky. Sizes are samples x segments (thousands x tens), so
 * the CPU does this in milliseconds and the GPU never sees it.
 */

/** Solves A x = b for a symmetric positive (semi)definite n x n A (row-major), in place of neither. */
export function solveSymmetric(a: Float64Array, b: Float64Array, n: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += a[i * n + i];
  // a segment that never varies makes A singular; a jitter far below the data's scale picks the
  // minimum-norm-like solution instead of NaN, and leaves a well-posed system unchanged
  for (let jitter = 0; ; jitter = jitter ? jitter * 100 : 1e-12 * (trace / n || 1)) {
    const l = cholesky(a, n, jitter);
    if (!l) continue;
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = b[i];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
      y[i] = s / l[i * n + i];
    }
    const x = new Float64Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
      x[i] = s / l[i * n + i];
    }
    return x;
  }
}

function cholesky(a: Float64Array, n: number, jitter: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) return undefined;
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  return l;
}

/**
 * argmin_b sum_r w_r (y_r - x_r . b)^2 + alpha |b|^2 over x [rows, cols] row-major (no intercept).
 * Returns b.
 */
export function weightedLeastSquares(x: ArrayLike<number>, y: ArrayLike<number>, w: ArrayLike<number>, rows: number, cols: number, alpha = 0): Float64Array {
  const a = new Float64Array(cols * cols);
  const b = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const weight = w[r];
    if (weight === 0) continue;
    const row = r * cols;
    for (let i = 0; i < cols; i++) {
      const wi = weight * x[row + i];
      if (wi === 0) continue;
      b[i] += wi * y[r];
      for (let j = 0; j <= i; j++) a[i * cols + j] += wi * x[row + j];
    }
  }
  for (let i = 0; i < cols; i++) {
    a[i * cols + i] += alpha;
    for (let j = 0; j < i; j++) a[j * cols + i] = a[i * cols + j];
  }
  return solveSymmetric(a, b, cols);
}

/**
 * Weighted ridge regression with an unpenalised intercept (scikit-learn's Ridge(alpha) with
 * sample_weight, as the lime package fits): centre x and y by their weighted means, solve, and
 * report the weighted R^2 = 1 - sum w (y - yhat)^2 / sum w (y - mean_w y)^2.
 */
export function weightedRidge(x: ArrayLike<number>, y: ArrayLike<number>, w: ArrayLike<number>, rows: number, cols: number, alpha: number) {
  let total = 0;
  const xMean = new Float64Array(cols);
  let yMean = 0;
  for (let r = 0; r < rows; r++) {
    total += w[r];
    yMean += w[r] * y[r];
    for (let i = 0; i < cols; i++) xMean[i] += w[r] * x[r * cols + i];
  }
  yMean /= total;
  for (let i = 0; i < cols; i++) xMean[i] /= total;
  const centred = new Float64Array(rows * cols);
  const yCentred = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    yCentred[r] = y[r] - yMean;
    for (let i = 0; i < cols; i++) centred[r * cols + i] = x[r * cols + i] - xMean[i];
  }
  const coef = weightedLeastSquares(centred, yCentred, w, rows, cols, alpha);
  let intercept = yMean;
  for (let i = 0; i < cols; i++) intercept -= coef[i] * xMean[i];
  let residual = 0;
  let spread = 0;
  for (let r = 0; r < rows; r++) {
    let prediction = intercept;
    for (let i = 0; i < cols; i++) prediction += coef[i] * x[r * cols + i];
    residual += w[r] * (y[r] - prediction) ** 2;
    spread += w[r] * yCentred[r] ** 2;
  }
  return { coef, intercept, r2: spread > 0 ? 1 - residual / spread : 1 };
}
