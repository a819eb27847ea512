/**
 * Small dense linear algebra on the CPU in float64, for the parts of PCA that are too small for
 * the GPU to pay off: the symmetric eigenproblem of a D x D covariance (D <= 256) or of the l x l
 * projection of a randomized subspace, and the orthonormalization of its basis.
 */

export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Eigenvectors as the rows of an [n, n] row-major matrix, in the order of `values`. */
  vectors: Float64Array;
}

/**
 * Eigen decomposition of a symmetric n x n matrix (row-major; only read) by the cyclic Jacobi
 * method: plane rotations that zero one off-diagonal element each, sweeping all pairs until the
 * off-diagonal mass is negligible (Golub and Van Loan, Matrix Computations, 4th ed., alg. 8.5.3;
 * the rotation angle of Rutishauser's formulation, Numerical Recipes 11.1). Converges
 * quadratically and gives orthonormal eigenvectors to working precision.
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number, maxSweeps = 50): SymmetricEigen {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= 1e-30 * total) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) <= 1e-300) continue;
        // tan of the rotation angle: the smaller root of t^2 + 2 theta t - 1 = 0
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A <- Jᵀ A J on columns p, q, then rows p, q
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        // V <- V J: the eigenvectors are V's columns
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((col, row) => {
    for (let k = 0; k < n; k++) vectors[row * n + k] = v[k * n + col];
  });
  return { values, vectors };
}

/**
 * Orthonormal basis of the columns of a [rows, cols] row-major matrix by modified Gram-Schmidt,
 * run twice ("twice is enough": Giraud et al. 2005) so that float32 inputs still give columns
 * orthogonal to float64 precision. A column that vanishes against the earlier ones is replaced by
 * a unit vector orthogonal to them, so the basis always has `cols` columns.
 */
export function orthonormalColumns(matrix: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const q = Float64Array.from(matrix);
  const columnNorm = (j: number) => {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += q[r * cols + j] ** 2;
    return Math.sqrt(sum);
  };
  for (let j = 0; j < cols; j++) {
    let norm = 0;
    for (let attempt = 0; attempt <= rows; attempt++) {
      const before = columnNorm(j);
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i < j; i++) {
          let dot = 0;
          for (let r = 0; r < rows; r++) dot += q[r * cols + i] * q[r * cols + j];
          for (let r = 0; r < rows; r++) q[r * cols + j] -= dot * q[r * cols + i];
        }
      }
      norm = columnNorm(j);
      if (norm > 1e-10 * before && norm > 0) break;
      // the column lies in the span of the earlier ones: try a coordinate vector instead
      for (let r = 0; r < rows; r++) q[r * cols + j] = r === (j + attempt) % rows ? 1 : 0;
    }
    for (let r = 0; r < rows; r++) q[r * cols + j] /= norm;
  }
  return q;
}
