import { expect, it } from 'vitest';
import { LimitError, OptionError } from '../../src/errors.js';
import { Explainer } from '../../src/explain/explainer.js';
import { AbortedError } from '../../src/explain/progress.js';
import type { ExplainContext } from '../../src/explain/context.js';
import { deepLift } from '../../src/explain/deeplift.js';
import { gradientShap } from '../../src/explain/gradient_shap.js';
import { integratedGradients } from '../../src/explain/integrated_gradients.js';
import { occlusion } from '../../src/explain/occlusion.js';
import { passBytes, type Plan } from '../../src/explain/planner.js';
import type { Pace } from '../../src/explain/schedule.js';
import { saliency } from '../../src/explain/saliency.js';
import { smoothGrad } from '../../src/explain/smoothgrad.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { sizeClass } from '../../src/gpu/tensor.js';
import { Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { relativeL2 } from '../reference/tensor.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { diamondCnn, inputShapeOf, randomInput, residualCnn, tinyCnn } from '../model/fixtures.js';

function context(rt: Runtime, spec: ModelSpec, maxBytes: number, plans: Plan[]): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk: 1 << 16, maxBytes, onPlan: (plan) => plans.push(plan) };
}

/** A pace so fast that memory alone sizes the chunks (the planner's largest). */
const INSTANT: Pace = Object.assign(new Map<string, number>(), { get: () => 1e-9, set: () => INSTANT });

type Run = (ctx: ExplainContext, images: { data: Float32Array; shape: number[] }[]) => Promise<unknown>;
const RUNS: Record<string, Run> = {
  saliency: (ctx, images) => saliency(ctx, images),
  'smoothGrad 40 samples': (ctx, images) => smoothGrad(ctx, images, { samples: 40 }),
  'integratedGradients 24 steps': (ctx, images) => integratedGradients(ctx, images, { steps: 24, baseline: 'blur' }),
  'occlusion window 2': (ctx, images) => occlusion(ctx, images, { window: 2, stride: 1 }),
  'gradientShap 12 samples': (ctx, images) => gradientShap(ctx, images, { samples: 12, baselineCount: 3 }),
  // two rows per copy, every activation kept, the rule's temporaries
  'deepLift 5 references': (ctx, images) => deepLift(ctx, images, { baselines: 'uniform', baselineCount: 5 }),
};

describeGpu('batch planner', () => {
  for (const [fixture, make] of [['tinyCnn', tinyCnn], ['residualCnn', residualCnn], ['diamondCnn', diamondCnn]] as const) {
    for (const [name, run] of Object.entries(RUNS)) {
      it(`${fixture} ${name} x 6 images: the pool's peak bytes stay within the plan, and the plan within maxBytes`, async () => {
        const { random } = randomSource();
        const spec = make(random);
        const rt = testRuntime();
        const images = Array.from({ length: 6 }, () => ({ data: Float32Array.from(randomInput(spec, 1, random).data), shape: inputShapeOf(spec) }));
        const plans: Plan[] = [];
        // a budget that forces chunking: room for about 40 copies of one backward pass
        const maxBytes = 40 * passBytes(Model.create(rt, spec), 1, { backward: { seedNode: 'logits', to: 'conv1' }, keep: [] });
        const ctx = { ...context(rt, spec, maxBytes, plans), pace: INSTANT };
        rt.pool.resetPeak();
        const base = rt.pool.bytesInUse;
        await run(ctx, images);
        const peak = rt.pool.peakBytesInUse - base;
        const plan = plans[plans.length - 1];
        const planned = plan.bytes(plan.imagesPerGroup, plan.copiesPerChunk);
        console.log(`[planner] ${fixture} ${name}: groups of ${plan.imagesPerGroup}, chunks of ${plan.copiesPerChunk}, planned ${planned} B, pool peak ${peak} B, budget ${maxBytes} B`);
        expect(planned).toBeLessThanOrEqual(maxBytes);
        expect(peak).toBeLessThanOrEqual(planned);
        // the count is of every buffer, not a loose bound: the pool really uses most of it
        expect(peak).toBeGreaterThanOrEqual(0.6 * planned);
        expect(rt.pool.bytesInUse).toBe(base);
      });
    }
  }

  it('counts every activation kept for the backward pass, not only the largest (tinyCnn, batch 8)', () => {
    const { random } = randomSource();
    const rt = testRuntime();
    const model = Model.create(rt, tinyCnn(random));
    const backward = passBytes(model, 8, { backward: { seedNode: 'logits', to: 'input' }, keep: [] });
    const inference = passBytes(model, 8, { keep: [] });
    const largest = Math.max(...[...model.shapes(8).values()].map((s) => sizeClass(s.reduce((a, b) => a * b, 1) * 4)));
    expect(inference).toBeGreaterThanOrEqual(2 * largest - 1); // a layer's input and output are alive together
    expect(backward).toBeGreaterThan(inference);
    expect(backward).toBeGreaterThan(3 * largest);
  });

  it('a budget that holds only some of the images splits them into groups with the same results (tinyCnn, 7 images x SmoothGrad 6, top-2)', async () => {
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const rt = testRuntime();
    const images = Array.from({ length: 7 }, () => ({ data: Float32Array.from(randomInput(spec, 1, random).data), shape: inputShapeOf(spec) }));
    const options = { samples: 6, seed, target: { topK: 2 } } as const;
    const whole = await smoothGrad(context(rt, spec, 64 << 20, []), images, options);
    const plans: Plan[] = [];
    const model = Model.create(rt, spec);
    const tight = context(rt, spec, 6 * passBytes(model, 1, { backward: { seedNode: 'logits', to: 'input' }, keep: [] }), plans);
    const grouped = await smoothGrad(tight, images, options);
    console.log(`[planner] groups of ${plans[0].imagesPerGroup} images, chunks of ${plans[0].copiesPerChunk} copies`);
    expect(plans[0].imagesPerGroup).toBeLessThan(7);
    grouped.forEach((perImage, i) =>
      perImage.forEach((result, k) => {
        expect(result.target).toBe(whole[i][k].target);
        expect(relativeL2(result.values, whole[i][k].values), `image ${i} rank ${k}`).toBeLessThanOrEqual(1e-5);
      }),
    );
  });

  it('extreme options plan and run without crashing: 2^20 SmoothGrad samples (aborted), maxChunk 1e9, topK all, one-pixel occlusion', async () => {
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const rt = testRuntime();
    const plans: Plan[] = [];
    const ctx = { ...context(rt, spec, 8 << 20, plans), maxChunk: 1e9 };
    const images = Array.from({ length: 2 }, () => ({ data: Float32Array.from(randomInput(spec, 1, random).data), shape: inputShapeOf(spec) }));
    const controller = new AbortController();
    const huge = smoothGrad(ctx, images, { samples: 1 << 20, signal: controller.signal, onProgress: () => controller.abort() });
    await expect(huge).rejects.toThrow(AbortedError);
    expect(plans[0].bytes(plans[0].imagesPerGroup, plans[0].copiesPerChunk)).toBeLessThanOrEqual(8 << 20);
    const all = await occlusion(ctx, images, { window: 1, stride: 1, target: { topK: 5 } });
    expect(all.map((perImage) => perImage.length)).toEqual([5, 5]);
    expect(rt.pool.bytesInUse).toBeLessThanOrEqual(rt.pool.peakBytesInUse);
    await expect(Explainer.create(rt, spec, { maxBytes: Number.NaN })).rejects.toThrow(OptionError);
    await expect(Explainer.create(rt, spec, { maxChunk: 0 })).rejects.toThrow(/maxChunk must be a positive integer/);
  });

  it('a budget too small for one copy throws LimitError before anything is uploaded', async () => {
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const rt = testRuntime();
    const ctx = context(rt, spec, 4096, []);
    const image = { data: Float32Array.from(randomInput(spec, 1, random).data), shape: inputShapeOf(spec) };
    const pending = rt.pendingCommands;
    const inUse = rt.pool.buffersInUse;
    await expect(smoothGrad(ctx, [image], { samples: 4 })).rejects.toThrow(LimitError);
    await expect(saliency(ctx, image)).rejects.toThrow(/more than the budget of 4096 bytes \(maxBytes\)/);
    expect(rt.pendingCommands).toBe(pending);
    expect(rt.pool.buffersInUse).toBe(inUse);
  });
});
