import { describe, expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { conditionalProbabilities, jointProbabilities, tsne } from '../../src/explain/tsne.js';
import { randomSource } from '../check.js';

/** `clusters` Gaussian blobs of `per` points in `d` dimensions, centres 10 apart, unit deviation. */
function plantedClusters(clusters: number, per: number, d: number, random: () => number): { x: Float64Array; labels: number[] } {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: clusters }, () => Array.from({ length: d }, () => normal() * 10));
  const x = new Float64Array(clusters * per * d);
  const labels: number[] = [];
  for (let c = 0; c < clusters; c++) {
    for (let i = 0; i < per; i++) {
      const n = c * per + i;
      labels.push(c);
      for (let k = 0; k < d; k++) x[n * d + k] = centres[c][k] + normal();
    }
  }
  return { x, labels };
}

/** Share of each point's k nearest neighbours (in the layout) that share its label, averaged. */
function knnPurity(points: ArrayLike<number>, labels: number[], dims: number, k: number): number {
  const n = labels.length;
  let same = 0;
  for (let i = 0; i < n; i++) {
    const distances = Array.from({ length: n }, (_, j) => {
      let sum = 0;
      for (let a = 0; a < dims; a++) sum += (points[i * dims + a] - points[j * dims + a]) ** 2;
      return [sum, j] as const;
    }).filter(([, j]) => j !== i).sort((a, b) => a[0] - b[0]);
    same += distances.slice(0, k).filter(([, j]) => labels[j] === labels[i]).length;
  }
  return same / (n * k);
}

describe('tsne (exact)', () => {
  it('4 planted Gaussian clusters x 40 points in 10-D: 2-D layout with 10-NN purity > 0.95; same seed, same layout', () => {
    const { seed, random } = randomSource();
    const { x, labels } = plantedClusters(4, 40, 10, random);
    const a = tsne(x, 160, 10, { seed: 7, iterations: 500 });
    const purity = knnPurity(a.points, labels, 2, 10);
    console.log(`[tsne] purity ${purity.toFixed(3)} KL ${a.divergence.toFixed(3)} ${a.milliseconds.toFixed(0)} ms (data seed=${seed})`);
    expect(purity, `data seed=${seed}`).toBeGreaterThan(0.95);
    expect(a.points.every(Number.isFinite)).toBe(true);
    const b = tsne(x, 160, 10, { seed: 7, iterations: 500 });
    expect(Array.from(b.points)).toEqual(Array.from(a.points));
    const c = tsne(x, 160, 10, { seed: 8, iterations: 500 });
    expect(Array.from(c.points)).not.toEqual(Array.from(a.points));
  });

  it('affinities of 30 points in 3-D: P symmetric, sums to 1, each conditional row has entropy log(perplexity)', () => {
    const { seed, random } = randomSource();
    const n = 30;
    const x = Float64Array.from({ length: n * 3 }, () => random() * 4);
    const distances = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < 3; k++) distances[i * n + j] += (x[i * 3 + k] - x[j * 3 + k]) ** 2;
    const conditional = conditionalProbabilities(distances, n, 5);
    for (let i = 0; i < n; i++) {
      let entropy = 0;
      for (let j = 0; j < n; j++) if (conditional[i * n + j] > 0) entropy -= conditional[i * n + j] * Math.log(conditional[i * n + j]);
      expect(Math.abs(entropy - Math.log(5)), `seed=${seed} row ${i}`).toBeLessThan(1e-4);
    }
    const p = jointProbabilities(distances, n, 5);
    let total = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      total += p[i * n + j];
      expect(p[i * n + j]).toBe(p[j * n + i]);
    }
    // the diagonal holds the 1e-12 floor only
    expect(Math.abs(total - 1), `seed=${seed}`).toBeLessThan(1e-9);
  });

  it('rejects a perplexity >= N, a ragged input and non-finite features', () => {
    expect(() => tsne(new Float64Array(20), 10, 2, { perplexity: 10 })).toThrow(OptionError);
    expect(() => tsne(new Float64Array(21), 10, 2)).toThrow(ShapeError);
    expect(() => tsne([0, 1, Number.NaN, 2], 2, 2)).toThrow(ShapeError);
  });
});
