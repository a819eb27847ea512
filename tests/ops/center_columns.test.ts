import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { centerColumns, columnStats } from '../../src/ops/center_columns.js';
import { expectMatchesReference, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { centerColumnsRef, columnStatsRef } from '../reference/linalg.js';
import { randomTensor } from '../reference/tensor.js';

describeGpu('columnStats / centerColumns', () => {
  for (const shape of [[37, 13], [5, 130], [2, 1]]) {
    it(`x=[${shape}]: column means and unbiased variances, centered x`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const x = randomTensor(shape, random, 3);
      // an offset far from zero: the two-pass variance must not lose it
      for (let i = 0; i < x.data.length; i++) x.data[i] = Math.fround(x.data[i] + 100);
      const gx = toGpu(rt, x);
      const stats = columnStats(rt, gx);
      await expectMatchesReference(rt, stats, columnStatsRef(x), `columnStats x=[${shape}] seed=${seed}`);
      // x - mean in float32 is off by an ulp of |x| (~100 here), not of the (possibly small) result:
      // the tolerance is relative to the larger of the two
      const centered = centerColumnsRef(x);
      const largest = (values: Float64Array) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const tolerance = 1e-4 * Math.max(1, largest(x.data) / largest(centered.data));
      await expectMatchesReference(rt, centerColumns(rt, gx, stats), centered, `centerColumns x=[${shape}] seed=${seed}`, tolerance);
    });
  }

  it('x=[1, 4]: one row has variance 0', async () => {
    const rt = testRuntime();
    const stats = columnStats(rt, rt.upload([1, 4], [1, 2, 3, 4]));
    expect(Array.from(await rt.read(stats))).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
  });

  it('rejects a rank-3 input and mismatched stats', () => {
    const rt = testRuntime();
    expect(() => columnStats(rt, rt.empty([2, 3, 4]))).toThrow(ShapeError);
    expect(() => centerColumns(rt, rt.empty([2, 3]), rt.empty([2, 4]))).toThrow(ShapeError);
  });
});
