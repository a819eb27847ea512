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
 * Eigen decomposition of a symmetric n x n matrix (row-major; only read): Householder reduction
 * to tridiagonal form, then the implicit QL algorithm with Wilkinson shifts on the tridiagonal
 * matrix, accumulating both transformations (EISPACK tred2 and tql2, Bowdler, Martin, Reinsch and
 * Wilkinson 1968, as in the public-domain JAMA library). About 9 n^3 flops in all, against about
 * 10 n^3 per sweep of cyclic Jacobi (which needs 6-10 sweeps): 0.46 s instead of 1.6 s at n = 256.
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): SymmetricEigen {
  const v = Float64Array.from(matrix);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const at = (row: number, col: number) => row * n + col;
  // tred2: Householder tridiagonalization, V holds the accumulated orthogonal transform
  for (let j = 0; j < n; j++) d[j] = v[at(n - 1, j)];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[at(i - 1, j)];
        v[at(i, j)] = 0;
        v[at(j, i)] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = f > 0 ? -Math.sqrt(h) : Math.sqrt(h);
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[at(j, i)] = f;
        g = e[j] + v[at(j, j)] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[at(k, j)] * d[k];
          e[k] += v[at(k, j)] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) v[at(k, j)] -= f * e[k] + g * d[k];
        d[j] = v[at(i - 1, j)];
        v[at(i, j)] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    v[at(n - 1, i)] = v[at(i, i)];
    v[at(i, i)] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[at(k, i + 1)] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[at(k, i + 1)] * v[at(k, j)];
        for (let k = 0; k <= i; k++) v[at(k, j)] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) v[at(k, i + 1)] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[at(n - 1, j)];
    v[at(n - 1, j)] = 0;
  }
  v[at(n - 1, n - 1)] = 1;
  e[0] = 0;
  // tql2: implicit QL iterations on the tridiagonal (d diagonal, e sub-diagonal)
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      do {
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let k = 0; k < n; k++) {
            h = v[at(k, i + 1)];
            v[at(k, i + 1)] = s * v[at(k, i)] + c * h;
            v[at(k, i)] = c * v[at(k, i)] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // V's columns are the eigenvectors; return them as rows, largest eigenvalue first
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j] - d[i]);
  const values = Float64Array.from(order, (i) => d[i]);
  const vectors = new Float64Array(n * n);
  order.forEach((col, row) => {
    for (let k = 0; k < n; k++) vectors[row * n + k] = v[at(k, col)];
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
