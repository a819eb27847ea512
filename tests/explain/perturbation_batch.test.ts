/**
 * The perturbation methods (LIME, KernelSHAP, Score-CAM, RISE, deletion and insertion) and LayerCAM on a batch: each image
 * of a batch gets exactly what a call for it alone gives (masks and coalitions depend on the seed,
 * not on the image's place), chunks mix images, progress counts the copies of all images, and an
 * abort lands within a chunk.
 */
import { expect, it } from 'vitest';
import type { Attribution } from '../../src/explain/attribution.js';
import type { ExplainContext, ImageInput } from '../../src/explain/context.js';
import type { AdaptiveAttribution } from '../../src/explain/adaptive_ig.js';
import type { Explainer } from '../../src/explain/explainer.js';
import { kernelShap, type KernelShapAttribution } from '../../src/explain/kernel_shap.js';
import { layerCam, type LayerCamAttribution } from '../../src/explain/layercam.js';
import { lime, type LimeAttribution } from '../../src/explain/lime.js';
import { perturbationCurve, type CurveMode, type MapInput, type MetricTarget, type PerturbationCurve } from '../../src/explain/metrics/deletion_insertion.js';
import { AbortedError, type Progress, type RunOptions } from '../../src/explain/progress.js';
import { rise, type RiseAttribution } from '../../src/explain/rise.js';
import { scoreCam, type ScoreCamAttribution } from '../../src/explain/scorecam.js';
import type { Target } from '../../src/explain/score.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomInput, tinyCnn } from '../model/fixtures.js';

function context(rt: Runtime, spec: ModelSpec, maxChunk: number): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk };
}

/** The methods' results, typed for one image or many. */
const loose = (result: Promise<unknown>) => result as Promise<Attribution | Attribution[]>;

/** A deletion or insertion curve as an Attribution-like result (its scores as values), the image itself as its map. */
async function curve(ctx: ExplainContext, images: ImageInput | ImageInput[], mode: CurveMode, options: RunOptions & { target?: Target | Target[] }) {
  const mapOf = (image: ImageInput): MapInput => ({ values: Float32Array.from((image as { data: ArrayLike<number> }).data), shape: [9, 7, 3] });
  const maps = Array.isArray(images) ? images.map(mapOf) : mapOf(images);
  // the table's targets are single classes (a curve follows one class per map)
  const result = await perturbationCurve(ctx, images, maps, mode, { ...options, target: options.target as MetricTarget | undefined, steps: 6 });
  const asAttribution = (c: PerturbationCurve) => ({ values: c.scores, target: c.target }) as unknown as Attribution;
  return Array.isArray(result) ? result.map(asAttribution) : asAttribution(result as PerturbationCurve);
}

type Run = (ctx: ExplainContext, images: ImageInput | ImageInput[], options: RunOptions & { target?: Target | Target[] }) => Promise<Attribution | Attribution[]>;

/** Each method with small settings, and its copies per image and target (undefined: they vary with the image's segments). */
const METHODS: { name: string; copies?: number; run: Run }[] = [
  // SLIC gives the images different segment counts: padded rows and columns
  { name: 'lime samples=12 slic segments=6', copies: 12, run: (ctx, images, o) => loose(lime(ctx, images as never, { ...o, samples: 12, segments: 6, seed: 7 } as never)) },
  { name: 'kernelshap samples=auto (all coalitions) slic segments=5', run: (ctx, images, o) => loose(kernelShap(ctx, images as never, { ...o, segments: 5, seed: 7 } as never)) },
  { name: 'kernelshap samples=10 grid 2x3 baseline blur', copies: 12, run: (ctx, images, o) => loose(kernelShap(ctx, images as never, { ...o, samples: 10, segmentation: { grid: [2, 3] }, baseline: 'blur', seed: 3 } as never)) },
  { name: 'scorecam layer conv1 [9,7,4]', copies: 4, run: (ctx, images, o) => loose(scoreCam(ctx, images as never, { ...o, layer: 'conv1' } as never)) },
  { name: 'rise masks=10 s=3', copies: 10, run: (ctx, images, o) => loose(rise(ctx, images as never, { ...o, masks: 10, gridSize: 3, seed: 5 } as never)) },
  { name: 'deletion steps=6 (black)', copies: 7, run: (ctx, images, o) => curve(ctx, images, 'deletion', o) },
  { name: 'insertion steps=6 (blur)', copies: 7, run: (ctx, images, o) => curve(ctx, images, 'insertion', o) },
  { name: 'layercam layer conv2 [3,2,6]', copies: 1, run: (ctx, images, o) => loose(layerCam(ctx, images as never, { ...o, layer: 'conv2' } as never)) },
];

/** Compiled, not run: one image in gives one result, a list gives an array (tsc checks it). */
export async function resultTypes(xai: Explainer, one: ImageInput, many: ImageInput[], map: MapInput) {
  const single: [LimeAttribution, KernelShapAttribution, ScoreCamAttribution, RiseAttribution, LayerCamAttribution, AdaptiveAttribution, PerturbationCurve] = [
    await xai.lime(one), await xai.kernelShap(one), await xai.scoreCam(one), await xai.rise(one), await xai.layerCam(one),
    await xai.adaptiveIntegratedGradients(one, { tolerance: 0.1 }), await xai.deletion(one, map),
  ];
  const batched: [LimeAttribution[], KernelShapAttribution[], ScoreCamAttribution[], RiseAttribution[], LayerCamAttribution[], AdaptiveAttribution[], PerturbationCurve[]] = [
    await xai.lime(many), await xai.kernelShap(many), await xai.scoreCam(many), await xai.rise(many), await xai.layerCam(many),
    await xai.adaptiveIntegratedGradients(many, { tolerance: 0.1 }), await xai.insertion(many, [map]),
  ];
  const topK: LimeAttribution[] = await xai.lime(one, { target: { topK: 2 } });
  return { single, batched, topK };
}

describeGpu('perturbation methods on a batch', () => {
  for (const method of METHODS) {
    it(`${method.name}: 3 images x=[3,9,7,3] targets [2, top, 4] in chunks of 5 equal one call per image; progress monotone to the total`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const spec = tinyCnn(random);
      const ctx = context(rt, spec, 5);
      const x = randomInput(spec, 3, random);
      const images = [0, 1, 2].map((i) => ({ data: x.data.slice(i * 189, (i + 1) * 189), shape: [9, 7, 3] }));
      const targets: Target[] = [2, 'top', 4];
      const inUse = rt.pool.buffersInUse;
      const progress: Progress[] = [];
      const batched = (await method.run(ctx, images, { target: targets, onProgress: (p) => progress.push(p) })) as Attribution[];
      expect(batched).toHaveLength(3);
      for (let i = 0; i < 3; i++) {
        const alone = (await method.run(ctx, images[i], { target: targets[i] })) as Attribution;
        const label = `${method.name} image ${i} seed=${seed}`;
        expect(batched[i].target, label).toBe(alone.target);
        let worst = 0;
        const scale = Math.max(1e-30, ...Array.from(alone.values, Math.abs));
        for (let e = 0; e < alone.values.length; e++) worst = Math.max(worst, Math.abs(batched[i].values[e] - alone.values[e]) / scale);
        console.log(`[explain-error] batched vs alone ${label} ${worst.toExponential(2)}`);
        expect(worst, label).toBeLessThanOrEqual(1e-6);
        expect(alone.values.some((v) => v !== 0), `${label}: non-trivial map`).toBe(true);
      }
      expect(batched[0].target).toBe(2);
      expect(batched[2].target).toBe(4);
      const done = progress.map((p) => p.done);
      done.forEach((d, i) => expect(d, `progress ${done.join(',')}`).toBeGreaterThan(done[i - 1] ?? 0));
      expect(progress.every((p) => p.total === progress[0].total)).toBe(true);
      expect(done.at(-1)).toBe(progress[0].total);
      if (method.copies !== undefined) expect(progress[0].total).toBe(3 * method.copies);
      // chunks of at most 5 copies: with more copies than that, some chunk holds two images' copies
      if (method.copies !== undefined && method.copies > 1) expect(done.length).toBeGreaterThanOrEqual(Math.ceil((3 * method.copies) / 5));
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    });
  }

  for (const method of METHODS.filter((m) => m.copies !== 1)) {
    it(`${method.name}: an abort in the first progress report stops a batch of 3 within a chunk; tensors released`, async () => {
      const rt = testRuntime();
      const { random } = randomSource();
      const spec = tinyCnn(random);
      const ctx = context(rt, spec, 5);
      const x = randomInput(spec, 3, random);
      const images = [0, 1, 2].map((i) => ({ data: x.data.slice(i * 189, (i + 1) * 189), shape: [9, 7, 3] }));
      const inUse = rt.pool.buffersInUse;
      const controller = new AbortController();
      const progress: Progress[] = [];
      const run = method.run(ctx, images, { signal: controller.signal, onProgress: (p) => { progress.push(p); controller.abort('stop'); } });
      await expect(run).rejects.toThrow(AbortedError);
      expect(progress, 'nothing reported after the abort').toHaveLength(1);
      expect(progress[0].done).toBeLessThanOrEqual(5);
      expect(progress[0].done).toBeLessThan(progress[0].total);
      await rt.flush();
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    });
  }
});
