import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import type { ExplainContext } from '../../src/explain/context.js';
import { kernelShap } from '../../src/explain/kernel_shap.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomInput, tinyCnn } from '../model/fixtures.js';
import { referenceForward } from '../reference/model.js';
import { randomTensor } from '../reference/tensor.js';
import { linearSegmentsModel, linearShapleyValues, referenceBlur } from './linear_segments.js';

function context(rt: Runtime, spec: ModelSpec, maxChunk = 256): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk };
}

const argmax = (values: ArrayLike<number>) => Array.prototype.indexOf.call(values, Math.max(...Array.from(values)));

/** max |a - b| / max |b|. */
function relativeMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / scale;
}

describeGpu('kernelShap', () => {
  const geometries = [
    { name: 'x=[1,12,15,2] grid 3x5 (15 segments) samples=1000 (sampled, paired)', shape: { height: 12, width: 15, channels: 2, rows: 3, columns: 5, classes: 3 }, samples: 1000 as number | 'auto', exact: false, maxChunk: 256 },
    { name: 'x=[1,6,8,3] grid 2x2 (4 segments) samples=auto (all 14 coalitions, exact)', shape: { height: 6, width: 8, channels: 3, rows: 2, columns: 2, classes: 2 }, samples: 'auto' as const, exact: true, maxChunk: 5 },
  ];
  for (const g of geometries) {
    it(`recovers the Shapley values of a model linear in the segments: ${g.name}, black baseline, target top`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const spec = linearSegmentsModel(random, g.shape);
      const x = randomInput(spec, 1, random);
      const ctx = context(rt, spec, g.maxChunk);
      const reads = rt.stats.mapCalls;
      const inUse = rt.pool.buffersInUse;
      const result = await kernelShap(ctx, { data: x.data, shape: x.shape.slice(1) }, { segmentation: { grid: [g.shape.rows, g.shape.columns] }, baseline: 'black', samples: g.samples, seed: 7 });
      console.log(`[time] kernelShap ${g.name} ${result.samples} coalitions ${result.milliseconds.toFixed(1)}ms`);
      expect(rt.stats.mapCalls - reads, 'one read (the scores): a grid needs no label map').toBe(1);
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
      const logits = referenceForward(spec, x).get('logits')!.data;
      const target = argmax(logits);
      expect(result.target).toBe(target);
      expect(result.exact).toBe(g.exact);
      const expected = linearShapleyValues(spec, x.data, g.shape, target, -1);
      const error = relativeMax(result.shapValues, expected);
      console.log(`[explain-error] kernelShap ${g.name} seed=${seed} values ${error.toExponential(2)} additivity ${result.additivityError.toExponential(2)}`);
      expect(error, `seed=${seed}: Shapley values`).toBeLessThanOrEqual(1e-4);
      // the constraint: values add up to f(x) - f(baseline), and both scores match the float64 model
      const delta = expected.reduce((a, b) => a + b, 0);
      expect(Math.abs(result.scores.input - logits[target])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(logits[target])));
      expect(Math.abs(result.shapValues.reduce((a, b) => a + b, 0) - delta), 'sum = f(x) - f(baseline)').toBeLessThanOrEqual(1e-4);
      expect(result.additivityError).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(result.scores.input - result.scores.baseline - delta)).toBeLessThanOrEqual(1e-4);
      // the map paints each pixel with its segment's value
      for (let p = 0; p < result.values.length; p++) expect(result.values[p]).toBe(Math.fround(result.shapValues[result.segmentation.labels[p]]));
    });
  }

  it('blur baseline: x=[1,16,12,1] grid 4x2 (8 segments, all 254 coalitions) on the linear model, sigma = 12 / 8', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const shape = { height: 16, width: 12, channels: 1, rows: 4, columns: 2, classes: 2 };
    const spec = linearSegmentsModel(random, shape);
    const x = randomInput(spec, 1, random);
    const result = await kernelShap(context(rt, spec), { data: x.data, shape: [16, 12, 1] }, { segmentation: { grid: [4, 2] }, baseline: 'blur', target: 0 });
    expect(result.exact).toBe(true);
    const expected = linearShapleyValues(spec, x.data, shape, 0, referenceBlur(x.data, 16, 12, 1, 12 / 8));
    const error = relativeMax(result.shapValues, expected);
    console.log(`[explain-error] kernelShap linear blur baseline seed=${seed} ${error.toExponential(2)}`);
    expect(error, `seed=${seed}`).toBeLessThanOrEqual(1e-4);
  });

  for (const baseline of ['black', 0.25, 'mean'] as const) {
    it(`equals brute-force Shapley values of a non-linear model: tinyCnn x=[1,9,7,3] grid 2x2 (4 segments, all coalitions), baseline ${baseline}, target 2`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const spec = tinyCnn(random);
      const x = randomTensor([1, 9, 7, 3], random);
      const result = await kernelShap(context(rt, spec), { data: x.data, shape: [9, 7, 3] }, { segmentation: { grid: [2, 2] }, baseline, target: 2 });
      expect(result.exact).toBe(true);
      const labels = result.segmentation.labels;
      // the baseline in float64: a constant, or each segment's mean colour
      const sums = new Float64Array(4 * 3);
      const counts = new Float64Array(4);
      for (let p = 0; p < 63; p++) {
        counts[labels[p]]++;
        for (let c = 0; c < 3; c++) sums[labels[p] * 3 + c] += x.data[p * 3 + c];
      }
      const off = (e: number) => (baseline === 'mean' ? sums[labels[Math.floor(e / 3)] * 3 + (e % 3)] / counts[labels[Math.floor(e / 3)]] : baseline === 'black' ? -1 : baseline);
      // v(S) for every coalition S (bit i: segment i kept), from the float64 model
      const copies = randomTensor([16, 9, 7, 3], random);
      for (let bits = 0; bits < 16; bits++) {
        for (let e = 0; e < 189; e++) copies.data[bits * 189 + e] = (bits >> labels[Math.floor(e / 3)]) & 1 ? x.data[e] : off(e);
      }
      const logits = referenceForward(spec, copies).get('logits')!.data;
      const v = (bits: number) => logits[bits * 5 + 2];
      const factorial = [1, 1, 2, 6, 24];
      const expected = new Float64Array(4);
      for (let i = 0; i < 4; i++) {
        for (let bits = 0; bits < 16; bits++) {
          if ((bits >> i) & 1) continue;
          const size = [0, 1, 2, 3].filter((j) => (bits >> j) & 1).length;
          expected[i] += ((factorial[size] * factorial[3 - size]) / factorial[4]) * (v(bits | (1 << i)) - v(bits));
        }
      }
      const error = relativeMax(result.shapValues, expected);
      console.log(`[explain-error] kernelShap tinyCnn grid 2x2 exact baseline=${baseline} seed=${seed} ${error.toExponential(2)}`);
      expect(expected.some((e) => Math.abs(e) > 1e-3), 'non-trivial values').toBe(true);
      expect(error, `seed=${seed}: Shapley values`).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(result.scores.baseline - v(0))).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v(0))));
    });
  }

  it('SLIC segments on tinyCnn x=[1,9,7,3], mean baseline: seeds reproduce, other seeds differ, values add up', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const x = randomTensor([1, 9, 7, 3], random);
    const ctx = context(rt, spec, 64);
    const image = { data: x.data, shape: [9, 7, 3] };
    const options = { segments: 8, samples: 200, seed: 3, target: 1 };
    const first = await kernelShap(ctx, image, options);
    const again = await kernelShap(ctx, image, options);
    const other = await kernelShap(ctx, image, { ...options, seed: 4 });
    expect(first.segmentation.method).toBe('slic');
    expect(first.segmentation.segments, `seed=${seed}: several superpixels`).toBeGreaterThan(3);
    expect(new Set(first.segmentation.labels).size).toBe(first.segmentation.segments);
    expect(Array.from(again.shapValues)).toEqual(Array.from(first.shapValues));
    if (!first.exact) expect(Array.from(other.shapValues)).not.toEqual(Array.from(first.shapValues));
    const logits = referenceForward(spec, x).get('logits')!.data;
    expect(Math.abs(first.scores.input - logits[1])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(logits[1])));
    expect(first.additivityError).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(first.scores.input - first.scores.baseline)));
  });

  it('rejects bad samples, baselines, segmentations and targets before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(kernelShap(ctx, image, { samples: 0 })).rejects.toThrow(/samples must be 'auto' or an integer/);
    await expect(kernelShap(ctx, image, { baseline: 'grey' as never })).rejects.toThrow(/baseline must be/);
    await expect(kernelShap(ctx, image, { segmentation: { grid: [10, 2] } })).rejects.toThrow(/grid must be \[rows, columns\] with integers in 1\.\.9/);
    await expect(kernelShap(ctx, image, { segmentation: new Int32Array(5) })).rejects.toThrow(ShapeError);
    await expect(kernelShap(ctx, image, { segments: 0 })).rejects.toThrow(OptionError);
    await expect(kernelShap(ctx, image, { target: 9 })).rejects.toThrow(/target 9 is out of range/);
    await expect(kernelShap(ctx, image, { seed: -1 })).rejects.toThrow(/seed must be/);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });
});
