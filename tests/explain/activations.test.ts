import { expect, it } from 'vitest';
import { OptionError } from '../../src/errors.js';
import { activations, layerShape, spatialLayers } from '../../src/explain/activations.js';
import type { ExplainContext } from '../../src/explain/context.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomInput, residualCnn, tinyCnn } from '../model/fixtures.js';
import { referenceForward } from '../reference/model.js';
import { relativeL2 } from '../reference/tensor.js';

const TOLERANCE = 1e-4;

function context(rt: Runtime, spec: ModelSpec): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk: 256 };
}

describeGpu('activations', () => {
  for (const [name, fixture] of [['tinyCnn', tinyCnn], ['residualCnn', residualCnn]] as const) {
    it(`${name}: every node's activations equal the reference forward`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const spec = fixture(random);
      const ctx = context(rt, spec);
      const x = randomInput(spec, 1, random);
      const expected = referenceForward(spec, x);
      const inUse = rt.pool.buffersInUse;
      for (const layer of ctx.model.order) {
        const reads = rt.stats.mapCalls;
        const result = await activations(ctx, { data: x.data, shape: x.shape }, { layer });
        expect(rt.stats.mapCalls - reads, `${layer}: one read`).toBe(1);
        const reference = expected.get(layer)!;
        expect(result.layer).toBe(layer);
        expect(result.shape, `${layer}: shape`).toEqual(reference.shape.slice(1));
        const error = relativeL2(result.values, reference.data);
        console.log(`[explain-error] activations ${name} ${layer} [${result.shape}] seed=${seed} ${error.toExponential(2)}`);
        console.log(`[time] activations ${name} ${layer} ${result.milliseconds.toFixed(1)}ms`);
        expect(error, `${name} ${layer} seed=${seed}`).toBeLessThanOrEqual(TOLERANCE);
        expect(result.values.some((v) => v !== 0), `${layer}: non-trivial`).toBe(true);
      }
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    });
  }

  it('spatial layers and shapes; unknown layers rejected before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    expect(spatialLayers(ctx.model)).toEqual(['conv1', 'pool1', 'conv2']);
    expect(layerShape(ctx.model, 'pool1')).toEqual([5, 4, 4]);
    expect(layerShape(ctx.model, 'logits')).toEqual([5]);
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    await rt.flush();
    const pending = rt.pendingCommands;
    await expect(activations(ctx, image, { layer: 'conv3' })).rejects.toThrow(/No layer 'conv3' in tinyCnn.*\(layers: input, conv1, pool1, conv2, flatten, logits, probs\)/);
    await expect(activations(ctx, image, {} as never)).rejects.toThrow(OptionError);
    await expect(activations(ctx, image, undefined as never)).rejects.toThrow(/No layer 'undefined'/);
    expect(rt.pendingCommands).toBe(pending);
  });
});
