import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { pca } from '../../src/explain/pca.js';
import { randomSource, toGpu } from '../check.js';
import { describeGpu, KERNEL_VARIANTS, testRuntime } from '../gpu.js';
import { columnStatsRef, covarianceRef, plantedLowRank, topEigenRef } from '../reference/linalg.js';
import { seededRandom } from '../reference/tensor.js';

const SCALES = [6, 4, 2.5, 1.5];

describeGpu('pca', () => {
  const cases = [[301, 37, 'covariance'], [120, 53, 'randomized'], [90, 600, 'auto']] as const;
  for (const [[rows, cols, solver], variant] of cases.flatMap((c) => KERNEL_VARIANTS.map((v) => [c, v] as const))) {
    it(`planted rank-4 X=[${rows}, ${cols}] solver=${solver} ${variant}: directions up to sign, variances to 1e-4 of the float64 eigen reference`, async () => {
      const rt = testRuntime(variant);
      const { seed, random } = randomSource();
      const label = `pca X=[${rows}, ${cols}] ${solver} ${variant} seed=${seed}`;
      const x = plantedLowRank(rows, cols, SCALES, 0.05, random);
      const reference = topEigenRef(covarianceRef(x), cols, 3);
      const features = toGpu(rt, x);
      const result = await pca(rt, features, { components: 3, solver });
      expect(result.solver).toBe(solver === 'auto' ? 'randomized' : solver);
      const total = columnStatsRef(x).data.slice(cols).reduce((s, v) => s + v, 0);
      for (let c = 0; c < 3; c++) {
        const varianceError = Math.abs(result.explainedVariance[c] - reference.values[c]) / reference.values[0];
        console.log(`[op-error] ${label} variance ${c} ${varianceError.toExponential(2)}`);
        expect(varianceError, `${label} variance ${c}`).toBeLessThan(1e-4);
        expect(result.explainedVarianceRatio[c]).toBeCloseTo(reference.values[c] / total, 4);
        const dot = reference.vectors[c].reduce((s, v, i) => s + v * result.components[c * cols + i], 0);
        expect(Math.abs(Math.abs(dot) - 1), `${label} direction ${c}`).toBeLessThan(1e-4);
      }
      // points are the centered rows projected on the components
      const means = columnStatsRef(x).data;
      for (const n of [0, rows - 1]) {
        for (let c = 0; c < 3; c++) {
          let expected = 0;
          for (let i = 0; i < cols; i++) expected += (x.data[n * cols + i] - means[i]) * result.components[c * cols + i];
          expect(result.points[n * 3 + c]).toBeCloseTo(expected, 3);
        }
      }
      features.dispose();
    });
  }

  it('the randomized solver is seeded: same seed, same components', async () => {
    const rt = testRuntime();
    const x = plantedLowRank(60, 40, SCALES, 0.05, seededRandom(5));
    const features = toGpu(rt, x);
    const a = await pca(rt, features, { components: 2, solver: 'randomized', seed: 3 });
    const b = await pca(rt, features, { components: 2, solver: 'randomized', seed: 3 });
    expect(Array.from(b.components)).toEqual(Array.from(a.components));
  });

  it('rejects one row, a rank-3 input and too many components before any GPU work', async () => {
    const rt = testRuntime();
    await expect(pca(rt, rt.empty([1, 4]))).rejects.toThrow(ShapeError);
    await expect(pca(rt, rt.empty([2, 3, 4]))).rejects.toThrow(ShapeError);
    await expect(pca(rt, rt.empty([10, 4]), { components: 5 })).rejects.toThrow(OptionError);
    await expect(pca(rt, rt.empty([10, 4]), { solver: 'svd' as never })).rejects.toThrow(OptionError);
  });
});
