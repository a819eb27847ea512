import { expect, it, describe } from 'vitest';
import { orthonormalColumns, symmetricEigen } from '../../src/explain/eigen.js';
import { randomSource } from '../check.js';

/** A random orthogonal n x n matrix (columns) from Gram-Schmidt on uniform noise. */
function randomOrthogonal(n: number, random: () => number): Float64Array {
  return orthonormalColumns(Float64Array.from({ length: n * n }, () => random() * 2 - 1), n, n);
}

describe('symmetricEigen (Householder + QL)', () => {
  for (const n of [1, 2, 7, 33]) {
    it(`A = V diag(λ) Vᵀ [${n}, ${n}] with known λ: values sorted, vectors up to sign`, () => {
      const { seed, random } = randomSource();
      const v = randomOrthogonal(n, random);
      const lambda = Array.from({ length: n }, (_, i) => (n - i) * 1.5 - 4 + random() * 0.5); // distinct, some negative
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let c = 0; c < n; c++) a[i * n + j] += v[i * n + c] * lambda[c] * v[j * n + c];
      const { values, vectors } = symmetricEigen(a, n);
      const sorted = [...lambda].sort((x, y) => y - x);
      for (let c = 0; c < n; c++) {
        expect(Math.abs(values[c] - sorted[c]), `seed=${seed} λ${c}`).toBeLessThan(1e-10);
        const original = lambda.indexOf(sorted[c]);
        const dot = Array.from({ length: n }, (_, i) => vectors[c * n + i] * v[i * n + original]).reduce((s, x) => s + x, 0);
        expect(Math.abs(Math.abs(dot) - 1), `seed=${seed} vector ${c}`).toBeLessThan(1e-10);
      }
    });
  }
});

describe('symmetricEigen on a rank-deficient covariance', () => {
  it('XᵀX [120, 120] of X [30, 120] (90 zero eigenvalues): A = V Λ Vᵀ and V orthonormal to 1e-10 (and the time of a 256 x 256 logged)', () => {
    const { seed, random } = randomSource();
    const n = 120;
    const x = Float64Array.from({ length: 30 * n }, () => random() - 0.5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let r = 0; r < 30; r++) a[i * n + j] += x[r * n + i] * x[r * n + j];
    const { values, vectors } = symmetricEigen(a, n);
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let rebuilt = 0;
        let gram = 0;
        for (let c = 0; c < n; c++) {
          rebuilt += vectors[c * n + i] * values[c] * vectors[c * n + j];
          gram += vectors[i * n + c] * vectors[j * n + c];
        }
        worst = Math.max(worst, Math.abs(rebuilt - a[i * n + j]));
        scale = Math.max(scale, Math.abs(a[i * n + j]));
        expect(Math.abs(gram - (i === j ? 1 : 0)), `seed=${seed} VVᵀ (${i}, ${j})`).toBeLessThan(1e-10);
      }
    }
    expect(worst / scale, `seed=${seed} reconstruction`).toBeLessThan(1e-10);
    expect(Math.abs(values[30]) / values[0], `seed=${seed} rank`).toBeLessThan(1e-12);
    const big = Float64Array.from({ length: 256 * 256 }, () => random());
    for (let i = 0; i < 256; i++) for (let j = 0; j < i; j++) big[i * 256 + j] = big[j * 256 + i];
    const started = performance.now();
    symmetricEigen(big, 256);
    const ms = performance.now() - started;
    console.log(`[eigen] 256 x 256 in ${ms.toFixed(0)} ms`);
  });
});

describe('orthonormalColumns', () => {
  it('[9, 4] with a repeated column: QᵀQ = I and the span of the first columns is kept', () => {
    const { seed, random } = randomSource();
    const m = Float64Array.from({ length: 36 }, () => random() - 0.5);
    for (let r = 0; r < 9; r++) m[r * 4 + 2] = m[r * 4 + 0] * 2; // column 2 is parallel to column 0
    const q = orthonormalColumns(m, 9, 4);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let dot = 0;
        for (let r = 0; r < 9; r++) dot += q[r * 4 + i] * q[r * 4 + j];
        expect(Math.abs(dot - (i === j ? 1 : 0)), `seed=${seed} (${i}, ${j})`).toBeLessThan(1e-12);
      }
    }
    // column 0 is the normalized first input column
    const norm = Math.hypot(...Array.from({ length: 9 }, (_, r) => m[r * 4]));
    for (let r = 0; r < 9; r++) expect(q[r * 4]).toBeCloseTo(m[r * 4] / norm, 12);
  });
});
