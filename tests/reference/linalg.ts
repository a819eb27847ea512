/**
 * Float64 references for PCA: column statistics, centering, and the top eigenpairs of the
 * covariance by power iteration with deflation (independent of the Jacobi solver under test).
 */
import { refTensor, type RefTensor } from './tensor.js';

/** [2, D]: column means, then unbiased column variances. */
export function columnStatsRef(x: RefTensor): RefTensor {
  const [rows, cols] = x.shape;
  const out = refTensor([2, cols]);
  for (let d = 0; d < cols; d++) {
    let sum = 0;
    for (let n = 0; n < rows; n++) sum += x.data[n * cols + d];
    const mean = sum / rows;
    let squares = 0;
    for (let n = 0; n < rows; n++) squares += (x.data[n * cols + d] - mean) ** 2;
    out.data[d] = mean;
    out.data[cols + d] = rows > 1 ? squares / (rows - 1) : 0;
  }
  return out;
}

export function centerColumnsRef(x: RefTensor): RefTensor {
  const cols = x.shape[1];
  const stats = columnStatsRef(x);
  return refTensor(x.shape, x.data.map((v, i) => v - stats.data[i % cols]));
}

/** Covariance Xcᵀ Xc / (N - 1), [D, D]. */
export function covarianceRef(x: RefTensor): Float64Array {
  const [rows, cols] = x.shape;
  const xc = centerColumnsRef(x).data;
  const c = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let n = 0; n < rows; n++) sum += xc[n * cols + i] * xc[n * cols + j];
      c[i * cols + j] = sum / (rows - 1);
    }
  }
  return c;
}

/**
 * Top-k eigenpairs of a symmetric positive semi-definite [d, d] matrix by power iteration with
 * Hotelling deflation, run until the Rayleigh quotient settles to float64 precision. Needs gaps
 * between the top k eigenvalues (planted data has them).
 */
export function topEigenRef(matrix: Float64Array, d: number, k: number): { values: number[]; vectors: Float64Array[] } {
  const a = Float64Array.from(matrix);
  const values: number[] = [];
  const vectors: Float64Array[] = [];
  for (let c = 0; c < k; c++) {
    let v = Float64Array.from({ length: d }, (_, i) => Math.sin(i * 7.1 + c * 3.3) + 0.5);
    let lambda = 0;
    for (let iteration = 0; iteration < 100000; iteration++) {
      const w = new Float64Array(d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i] += a[i * d + j] * v[j];
      const norm = Math.hypot(...w);
      const next = w.map((x) => x / norm);
      const settled = Math.abs(norm - lambda) <= 1e-15 * norm && iteration > 10;
      v = next;
      lambda = norm;
      if (settled) break;
    }
    values.push(lambda);
    vectors.push(v);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] -= lambda * v[i] * v[j];
  }
  return { values, vectors };
}

/**
 * Planted low-rank data: N rows of mean + sum_r z_r s_r w_r + noise, with orthonormal directions
 * w_r (D-vectors), scales s_1 > s_2 > ... and Gaussian-ish noise of deviation `noise`.
 */
export function plantedLowRank(rows: number, cols: number, scales: number[], noise: number, random: () => number): RefTensor {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const directions: Float64Array[] = [];
  for (let r = 0; r < scales.length; r++) {
    const w = Float64Array.from({ length: cols }, normal);
    for (const u of directions) {
      const dot = w.reduce((s, x, i) => s + x * u[i], 0);
      for (let i = 0; i < cols; i++) w[i] -= dot * u[i];
    }
    const norm = Math.hypot(...w);
    directions.push(w.map((x) => x / norm));
  }
  const mean = Float64Array.from({ length: cols }, () => random() * 4 - 2);
  const x = refTensor([rows, cols]);
  for (let n = 0; n < rows; n++) {
    const z = scales.map((s) => s * normal());
    for (let i = 0; i < cols; i++) {
      let v = mean[i] + noise * normal();
      z.forEach((zr, r) => (v += zr * directions[r][i]));
      x.data[n * cols + i] = Math.fround(v);
    }
  }
  return x;
}
