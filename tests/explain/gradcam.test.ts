import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { OptionError } from '../../src/errors.js';
import type { ExplainContext } from '../../src/explain/context.js';
import { gradCam, type GradCamAttribution } from '../../src/explain/gradcam.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { build, randomInput, residualCnn, tinyCnn } from '../model/fixtures.js';
import { useCpuBackend } from '../model/tfjs_oracle.js';
import { referenceBackward, referenceForward, scoreSeed } from '../reference/model.js';
import type { RefTensor } from '../reference/tensor.js';
import { relativeL2 } from '../reference/tensor.js';

const TOLERANCE = 1e-4;

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  const error = relativeL2(actual, expected);
  console.log(`[explain-error] ${label} ${error.toExponential(2)}`);
  expect(error, `${label}: relative L2 error (NaN: an element was never written)`).toBeLessThanOrEqual(TOLERANCE);
}

function context(rt: Runtime, spec: ModelSpec): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk: 256 };
}

const argmax = (values: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
};

/** Bilinear resize of [h, w] to [H, W] without aligned corners, TF's compute_interpolation_weights in float64. */
function resizeBilinearRef(map: ArrayLike<number>, h: number, w: number, height: number, width: number, halfPixel: boolean): Float64Array {
  const axis = (i: number, inSize: number, outSize: number) => {
    const s = halfPixel ? (i + 0.5) * (inSize / outSize) - 0.5 : i * (inSize / outSize);
    const f = Math.floor(s);
    return { lower: Math.min(Math.max(f, 0), inSize - 1), upper: Math.min(Math.max(Math.ceil(s), 0), inSize - 1), lerp: s - f };
  };
  const out = new Float64Array(height * width);
  for (let y = 0; y < height; y++) {
    const a = axis(y, h, height);
    for (let x = 0; x < width; x++) {
      const b = axis(x, w, width);
      const top = map[a.lower * w + b.lower] + (map[a.lower * w + b.upper] - map[a.lower * w + b.lower]) * b.lerp;
      const bottom = map[a.upper * w + b.lower] + (map[a.upper * w + b.upper] - map[a.upper * w + b.lower]) * b.lerp;
      out[y * width + x] = top + (bottom - top) * a.lerp;
    }
  }
  return out;
}

/** Grad-CAM / Grad-CAM++ composed from the float64 reference executor. */
function referenceGradCam(spec: ModelSpec, x: RefTensor, layer: string, node: string, target: 'top' | number, plusPlus: boolean, halfPixel = true) {
  const values = referenceForward(spec, x);
  const t = target === 'top' ? argmax(values.get('logits')!.data) : target;
  const seed = scoreSeed(values.get(node)!.shape, [t]);
  const g = referenceBackward(spec, x, new Map([[node, seed]]), { to: [layer] }).gradients.get(layer)!.data;
  const a = values.get(layer)!;
  const [, h, w, k] = a.shape;
  const positions = h * w;
  const weights = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    if (!plusPlus) {
      for (let p = 0; p < positions; p++) weights[c] += g[p * k + c] / positions;
      continue;
    }
    let activationSum = 0;
    for (let p = 0; p < positions; p++) activationSum += a.data[p * k + c];
    for (let p = 0; p < positions; p++) {
      const gi = g[p * k + c];
      const denominator = 2 * gi ** 2 + activationSum * gi ** 3;
      const alpha = denominator === 0 ? 0 : gi ** 2 / denominator;
      weights[c] += alpha * Math.max(gi, 0);
    }
  }
  const cam = new Float64Array(positions);
  for (let p = 0; p < positions; p++) {
    let total = 0;
    for (let c = 0; c < k; c++) total += weights[c] * a.data[p * k + c];
    cam[p] = Math.max(total, 0);
  }
  const [, height, width] = x.shape;
  return { target: t, weights, cam, h, w, values: resizeBilinearRef(cam, h, w, height, width, halfPixel) };
}

function checkAgainstReference(result: GradCamAttribution, expected: ReturnType<typeof referenceGradCam>, label: string): void {
  expect(result.target, `${label}: target`).toBe(expected.target);
  expect(result.layerShape).toEqual([expected.h, expected.w]);
  expectClose(result.channelWeights, expected.weights, `${label} weights`);
  expectClose(result.layerMap, expected.cam, `${label} layer map`);
  expectClose(result.values, expected.values, `${label} upsampled`);
  expect(result.channelWeights.some((v) => v !== 0), `${label}: non-trivial weights`).toBe(true);
  expect(result.values.some((v) => v !== 0) || expected.values.every((v) => v === 0), `${label}: non-trivial map`).toBe(true);
}

/**
 * Two shapes of model the default layer and 'top' must handle:
 * `mapHead`: conv1 -> logits (1x1 conv, linear) [7,6,5], the model output.
 * `pointTail`: conv1 -> conv2 [2,2,5] -> conv3 [1,1,6] -> flatten -> logits dense [3].
 */
function mapHead(random: () => number): ModelSpec {
  return {
    source: 'mapHead (gradcam.test.ts)',
    layers: [
      build.input('input', [7, 6, 3]),
      build.conv2d('conv1', 'input', random, { kernel: [3, 3], inChannels: 3, outChannels: 4, padding: 'same', activation: 'relu' }),
      build.conv2d('logits', 'conv1', random, { kernel: [1, 1], inChannels: 4, outChannels: 5, padding: 'valid', activation: 'linear' }),
    ],
    output: 'logits',
  };
}

function pointTail(random: () => number): ModelSpec {
  return {
    source: 'pointTail (gradcam.test.ts)',
    layers: [
      build.input('input', [7, 6, 3]),
      build.conv2d('conv1', 'input', random, { kernel: [3, 3], inChannels: 3, outChannels: 4, padding: 'same', activation: 'relu' }),
      build.conv2d('conv2', 'conv1', random, { kernel: [3, 3], inChannels: 4, outChannels: 5, strides: [3, 3], padding: 'valid', activation: 'relu' }),
      build.conv2d('conv3', 'conv2', random, { kernel: [2, 2], inChannels: 5, outChannels: 6, padding: 'valid', activation: 'relu' }),
      build.reshape('flatten', 'conv3', [-1]),
      build.dense('logits', 'flatten', random, { inputs: 6, outputs: 3, activation: 'linear' }),
    ],
    output: 'logits',
  };
}

describeGpu('gradCam', () => {
  for (const plusPlus of [false, true]) {
    const method = plusPlus ? 'grad-cam++' : 'grad-cam';
    it(`${method} tinyCnn x=[1,9,7,3] layers conv1 [9,7,4] and conv2 [3,2,6], target top and 3`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const spec = tinyCnn(random);
      const ctx = context(rt, spec);
      const x = randomInput(spec, 1, random);
      const image = { data: x.data, shape: x.shape.slice(1) };
      const inUse = rt.pool.buffersInUse;
      for (const layer of ['conv1', 'conv2']) {
        for (const target of ['top', 3] as const) {
          const label = `${method} tinyCnn layer=${layer} target=${target} seed=${seed}`;
          const reads = rt.stats.mapCalls;
          const result = await gradCam(ctx, image, { layer, target, plusPlus });
          console.log(`[time] ${method} ${layer} target=${target} ${result.milliseconds.toFixed(1)}ms`);
          expect(rt.stats.mapCalls - reads, `${label}: one read`).toBe(1);
          expect(result.method).toBe(method);
          expect(result.shape).toEqual([9, 7, 1]);
          expect(result.layer).toBe(layer);
          checkAgainstReference(result, referenceGradCam(spec, x, layer, 'logits', target, plusPlus), label);
        }
      }
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    });
  }

  it('default layer is the last spatial one; probability score; residualCnn x=[1,8,8,3] relu2 [5,4,8]', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = residualCnn(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    for (const plusPlus of [false, true]) {
      const result = await gradCam(ctx, x, { score: 'probability', plusPlus });
      expect(result.layer).toBe('relu2');
      checkAgainstReference(result, referenceGradCam(spec, x, 'relu2', 'probs', 'top', plusPlus), `residualCnn probability plusPlus=${plusPlus} seed=${seed}`);
    }
    // warm timing (pipelines compiled)
    const warm = await gradCam(ctx, x, {});
    console.log(`[time] grad-cam residualCnn relu2 warm ${warm.milliseconds.toFixed(1)}ms`);
  });

  it('upsampling matches tf.image.resizeBilinear (alignCorners false, halfPixelCenters true and false) conv2 [3,2] -> [9,7]', async () => {
    await useCpuBackend();
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    for (const halfPixelCenters of [true, false]) {
      const result = await gradCam(ctx, x, { layer: 'conv2', halfPixelCenters });
      const expected = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(result.layerMap, [1, 3, 2, 1]), [9, 7], false, halfPixelCenters).dataSync());
      expectClose(result.values, expected, `resize halfPixelCenters=${halfPixelCenters} vs tfjs seed=${seed}`);
      checkAgainstReference(result, referenceGradCam(spec, x, 'conv2', 'logits', 'top', false, halfPixelCenters), `halfPixelCenters=${halfPixelCenters} seed=${seed}`);
    }
  });

  it('default layer skips 1x1 outputs: pointTail x=[1,7,6,3] conv3 [1,1,6] -> conv2 [2,2,5]', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = pointTail(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    const result = await gradCam(ctx, x, {});
    expect(result.layer).toBe('conv2');
    expect(result.layerShape).toEqual([2, 2]);
    checkAgainstReference(result, referenceGradCam(spec, x, 'conv2', 'logits', 'top', false), `pointTail default layer seed=${seed}`);
    // the 1x1 layer stays available by name; its map is one value, constant once upsampled
    const point = await gradCam(ctx, x, { layer: 'conv3' });
    expect(point.layerShape).toEqual([1, 1]);
    expect(Math.max(...point.values) - Math.min(...point.values)).toBeLessThanOrEqual(1e-6 * Math.abs(point.values[0]));
    // a model with only 1x1 spatial layers has no default
    const flat = context(rt, { ...spec, layers: [spec.layers[0], { ...spec.layers[3], inputs: ['input'], filter: { shape: [7, 6, 3, 6], data: new Float32Array(7 * 6 * 3 * 6).fill(0.1) } } as typeof spec.layers[3], ...spec.layers.slice(4)] });
    await expect(gradCam(flat, x, {})).rejects.toThrow(/more than one position.*only 1x1 ones \(conv3\)/);
  });

  it("'top' on a logits map is the channel with the largest summed score: mapHead x=[1,7,6,3] logits [7,6,5]", async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = mapHead(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    const logits = referenceForward(spec, x).get('logits')!.data;
    const sums = new Float64Array(5);
    for (let i = 0; i < logits.length; i++) sums[i % 5] += logits[i];
    const top = argmax(sums);
    // the flat argmax over [7,6,5] is a position-channel index, almost surely >= 5
    for (const plusPlus of [false, true]) {
      const result = await gradCam(ctx, x, { plusPlus });
      expect(result.layer).toBe('conv1');
      checkAgainstReference(result, referenceGradCam(spec, x, 'conv1', 'logits', top, plusPlus), `mapHead top=${top} plusPlus=${plusPlus} seed=${seed}`);
    }
  });

  it('rejects unknown and non-spatial layers and out-of-range targets before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(gradCam(ctx, image, { layer: 'conv9' })).rejects.toThrow(/No layer 'conv9'.*layers: input, conv1, pool1, conv2, flatten, logits, probs/);
    await expect(gradCam(ctx, image, { layer: 'flatten' })).rejects.toThrow(/'flatten' outputs \[1, 36\].*qualify: conv1, pool1, conv2/);
    await expect(gradCam(ctx, image, { layer: 'logits' })).rejects.toThrow(OptionError);
    await expect(gradCam(ctx, image, { layer: 'input' })).rejects.toThrow(/'input' is the input/);
    await expect(gradCam(ctx, image, { target: 5 })).rejects.toThrow(/target 5 is out of range: the model has 5 classes/);
    await expect(gradCam(ctx, image, { target: -1 })).rejects.toThrow(OptionError);
    await expect(gradCam(ctx, image, { target: 1.5 })).rejects.toThrow(OptionError);
    await expect(gradCam(ctx, image, { score: 'softmax' as never })).rejects.toThrow(/score must be/);
    await expect(gradCam(ctx, image, { plusPlus: 'yes' as never })).rejects.toThrow(/plusPlus/);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });
});
