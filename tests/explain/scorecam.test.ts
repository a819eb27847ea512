import { expect, it } from 'vitest';
import type { ExplainContext } from '../../src/explain/context.js';
import { AbortedError } from '../../src/explain/progress.js';
import { scoreCam } from '../../src/explain/scorecam.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomInput, residualCnn, tinyCnn } from '../model/fixtures.js';
import { referenceForward } from '../reference/model.js';
import { resizeRef } from '../reference/resize.js';
import { refTensor, relativeL2, type RefTensor } from '../reference/tensor.js';
import { argmax } from './reference.js';

const TOLERANCE = 1e-4;

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  const error = relativeL2(actual, expected);
  console.log(`[explain-error] ${label} ${error.toExponential(2)}`);
  expect(error, `${label}: relative L2 error (NaN: an element was never written)`).toBeLessThanOrEqual(TOLERANCE);
}

function context(rt: Runtime, spec: ModelSpec, maxChunk = 256): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk };
}

/**
 * Score-CAM composed from the float64 reference executor: the layer's maps resized (TF bilinear,
 * half-pixel), min-max normalized, each multiplying the image; the masked copies' target scores
 * softmaxed over the non-flat channels; relu(sum_k w_k H_k).
 */
function referenceScoreCam(spec: ModelSpec, x: RefTensor, layer: string, node: string, target: 'top' | number) {
  const values = referenceForward(spec, x);
  const t = target === 'top' ? argmax(values.get('logits')!.data) : target;
  const [, height, width, channels] = x.shape;
  const pixels = height * width;
  const up = resizeRef(values.get(layer)!, { method: 'bilinear', size: [height, width], halfPixelCenters: true });
  const maps = up.shape[3];
  const masks: Float64Array[] = [];
  const scores = new Float64Array(maps);
  const flat: boolean[] = [];
  for (let k = 0; k < maps; k++) {
    let low = Infinity;
    let high = -Infinity;
    for (let p = 0; p < pixels; p++) {
      low = Math.min(low, up.data[p * maps + k]);
      high = Math.max(high, up.data[p * maps + k]);
    }
    flat.push(!(high > low));
    const mask = new Float64Array(pixels).map((_, p) => (high > low ? (up.data[p * maps + k] - low) / (high - low) : 0));
    masks.push(mask);
    const copy = refTensor(x.shape, x.data.map((v, e) => v * mask[Math.floor(e / channels)]));
    const out = referenceForward(spec, copy).get(node)!;
    const classes = out.shape[out.shape.length - 1];
    for (let i = t; i < out.data.length; i += classes) scores[k] += out.data[i];
  }
  const largest = Math.max(...[...scores].filter((_, k) => !flat[k]));
  const weights = scores.map((s, k) => (flat[k] ? 0 : Math.exp(s - largest)));
  const total = weights.reduce((a, b) => a + b, 0);
  weights.forEach((v, k) => (weights[k] = v / total));
  const map = new Float64Array(pixels).map((_, p) => Math.max(0, masks.reduce((acc, m, k) => acc + weights[k] * m[p], 0)));
  return { target: t, scores, weights, map, flat: flat.filter(Boolean).length };
}

describeGpu('scoreCam', () => {
  it('tinyCnn x=[1,9,7,3] layers conv1 [9,7,4] and conv2 [3,2,6], target top and 3, chunks of 256 and 4', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const x = randomInput(spec, 1, random);
    const image = { data: x.data, shape: x.shape.slice(1) };
    for (const maxChunk of [256, 4]) {
      const ctx = context(rt, spec, maxChunk);
      const inUse = rt.pool.buffersInUse;
      for (const layer of ['conv1', 'conv2']) {
        for (const target of ['top', 3] as const) {
          const label = `score-cam tinyCnn layer=${layer} target=${target} maxChunk=${maxChunk} seed=${seed}`;
          const reads = rt.stats.mapCalls;
          const progress: number[] = [];
          const result = await scoreCam(ctx, image, { layer, target, onProgress: (p) => progress.push(p.done) });
          expect(rt.stats.mapCalls - reads, `${label}: one read`).toBe(1);
          const expected = referenceScoreCam(spec, x, layer, 'logits', target);
          console.log(`[scorecam] ${label}: ${expected.flat} flat map(s) of ${expected.scores.length}`);
          expect(result.target, label).toBe(expected.target);
          expect(result.layer).toBe(layer);
          expect(result.shape).toEqual([9, 7, 1]);
          expect(progress.at(-1)).toBe(expected.scores.length);
          expectClose(result.channelScores, expected.scores, `${label} channel scores`);
          expectClose(result.channelWeights, expected.weights, `${label} weights`);
          expectClose(result.values, expected.map, `${label} map`);
          expect(result.values.some((v) => v !== 0), `${label}: non-trivial map`).toBe(true);
        }
      }
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    }
  });

  it('default layer and probability score: residualCnn x=[1,8,8,3] relu2 [5,4,8]', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = residualCnn(random);
    const x = randomInput(spec, 1, random);
    const result = await scoreCam(context(rt, spec), x, { score: 'probability' });
    expect(result.layer).toBe('relu2');
    const expected = referenceScoreCam(spec, x, 'relu2', 'probs', 'top');
    expect(result.target).toBe(expected.target);
    expectClose(result.channelWeights, expected.weights, `score-cam residualCnn probability weights seed=${seed}`);
    expectClose(result.values, expected.map, `score-cam residualCnn probability map seed=${seed}`);
  });

  it('rejects bad layers, targets and flags before any GPU work; an aborted signal stops it', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(scoreCam(ctx, image, { layer: 'flatten' })).rejects.toThrow(/Score-CAM needs a layer.*'flatten' outputs \[1, 36\]/);
    await expect(scoreCam(ctx, image, { target: 5 })).rejects.toThrow(/target 5 is out of range/);
    await expect(scoreCam(ctx, image, { halfPixelCenters: 'no' as never })).rejects.toThrow(/halfPixelCenters/);
    await expect(scoreCam(ctx, image, { signal: AbortSignal.abort('test') })).rejects.toThrow(AbortedError);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });
});
