import { expect, it } from 'vitest';
import type { ExplainContext } from '../../src/explain/context.js';
import { layerCam } from '../../src/explain/layercam.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomInput, residualCnn, tinyCnn } from '../model/fixtures.js';
import { referenceBackward, referenceForward, scoreSeed } from '../reference/model.js';
import { resizeRef } from '../reference/resize.js';
import { refTensor, relativeL2, type RefTensor } from '../reference/tensor.js';
import { argmax } from './reference.js';

const TOLERANCE = 1e-4;

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  const error = relativeL2(actual, expected);
  console.log(`[explain-error] ${label} ${error.toExponential(2)}`);
  expect(error, `${label}: relative L2 error (NaN: an element was never written)`).toBeLessThanOrEqual(TOLERANCE);
}

function context(rt: Runtime, spec: ModelSpec): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk: 256 };
}

/** LayerCAM composed from the float64 reference executor: relu(sum_k relu(G) * A), then TF's bilinear resize. */
function referenceLayerCam(spec: ModelSpec, x: RefTensor, layer: string, node: string, target: 'top' | number) {
  const values = referenceForward(spec, x);
  const t = target === 'top' ? argmax(values.get('logits')!.data) : target;
  const seed = scoreSeed(values.get(node)!.shape, [t]);
  const g = referenceBackward(spec, x, new Map([[node, seed]]), { to: [layer] }).gradients.get(layer)!.data;
  const a = values.get(layer)!;
  const [, h, w, k] = a.shape;
  const cam = refTensor([1, h, w, 1]);
  for (let p = 0; p < h * w; p++) {
    let total = 0;
    for (let c = 0; c < k; c++) total += Math.max(g[p * k + c], 0) * a.data[p * k + c];
    cam.data[p] = Math.max(total, 0);
  }
  const [, height, width] = x.shape;
  const up = resizeRef(cam, { method: 'bilinear', size: [height, width], halfPixelCenters: true });
  return { target: t, cam: cam.data, values: up.data };
}

describeGpu('layerCam', () => {
  it('tinyCnn x=[1,9,7,3] layers conv1 [9,7,4] and conv2 [3,2,6], target top and 3', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    const image = { data: x.data, shape: x.shape.slice(1) };
    const inUse = rt.pool.buffersInUse;
    for (const layer of ['conv1', 'conv2']) {
      for (const target of ['top', 3] as const) {
        const label = `layercam tinyCnn layer=${layer} target=${target} seed=${seed}`;
        const reads = rt.stats.mapCalls;
        const result = await layerCam(ctx, image, { layer, target });
        expect(rt.stats.mapCalls - reads, `${label}: one read`).toBe(1);
        const expected = referenceLayerCam(spec, x, layer, 'logits', target);
        expect(result.target, label).toBe(expected.target);
        expect(result.layer).toBe(layer);
        expect(result.shape).toEqual([9, 7, 1]);
        expectClose(result.layerMap, expected.cam, `${label} layer map`);
        expectClose(result.values, expected.values, `${label} upsampled`);
        expect(result.values.some((v) => v !== 0), `${label}: non-trivial map`).toBe(true);
      }
    }
    expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
  });

  it('default layer and probability score: residualCnn x=[1,8,8,3] relu2 [5,4,8]', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = residualCnn(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    const result = await layerCam(ctx, x, { score: 'probability' });
    expect(result.layer).toBe('relu2');
    const expected = referenceLayerCam(spec, x, 'relu2', 'probs', 'top');
    expect(result.target).toBe(expected.target);
    expectClose(result.values, expected.values, `layercam residualCnn probability seed=${seed}`);
  });

  it('rejects bad layers, targets and flags before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(layerCam(ctx, image, { layer: 'flatten' })).rejects.toThrow(/LayerCAM needs a layer.*'flatten' outputs \[1, 36\]/);
    await expect(layerCam(ctx, image, { target: 5 })).rejects.toThrow(/target 5 is out of range/);
    await expect(layerCam(ctx, image, { halfPixelCenters: 1 as never })).rejects.toThrow(/halfPixelCenters/);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });
});
