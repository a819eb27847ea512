/**
 * Adaptive Integrated Gradients: the Gauss-Legendre points double (from `steps`, default 16)
 * until the completeness error |sum(attribution) - (F(x) - F(x'))| / |F(x) - F(x')|
 * (Sundararajan et al. 2017, Proposition 1) is at most `tolerance`, or `maxSteps` is reached, which
 * the result says. Gauss-Legendre nodes do not nest, so each round is a full integration; the
 * total work is under twice the last round's. On a batch, each round is one batched IG call over
 * the images that have not converged yet, so every image follows the rounds it would follow alone.
 * One target per image (a class, a name or 'top'; a list gives one per image).
 */
import { OptionError } from '../errors.js';
import { Tensor } from '../gpu/tensor.js';
import type { Attribution } from './attribution.js';
import { imageList, type ImageBatch, type ManyImages } from './batch.js';
import { positiveInteger, type ExplainContext, type ImageInput } from './context.js';
import { integratedGradients, type IntegratedGradientsOptions } from './integrated_gradients.js';
import type { Progress } from './progress.js';
import type { Target } from './score.js';

export interface AdaptiveIntegratedGradientsOptions extends IntegratedGradientsOptions {
  /** Largest relative completeness error accepted, in (0, 1), e.g. 0.01. */
  tolerance: number;
  /** Step limit. Default 1024. */
  maxSteps?: number;
}

export interface AdaptiveAttribution extends Attribution {
  /** Gradient evaluations of the last round. */
  steps: number;
  /** Whether the tolerance was met within maxSteps. */
  converged: boolean;
  tolerance: number;
  /** Each round's steps and completeness error. */
  rounds: { steps: number; completenessError: number }[];
}

/** One result for one image, an array for many. */
export type AdaptiveExplained<I> = ManyImages<I> extends true ? AdaptiveAttribution[] : AdaptiveAttribution;

const isSingleTarget = (t: unknown) => t === undefined || typeof t === 'number' || typeof t === 'string';

export async function adaptiveIntegratedGradients<I extends ImageInput | ImageBatch>(ctx: ExplainContext, images: I, options: AdaptiveIntegratedGradientsOptions): Promise<AdaptiveExplained<I>> {
  const started = performance.now();
  const tolerance = options?.tolerance;
  if (typeof tolerance !== 'number' || !(tolerance > 0 && tolerance < 1)) throw new OptionError(`tolerance must be a completeness error in (0, 1), e.g. 0.01, got ${String(tolerance)}`);
  if ((options.rule ?? 'gauss-legendre') !== 'gauss-legendre') throw new OptionError(`adaptive Integrated Gradients adds Gauss-Legendre points; rule '${String(options.rule)}' cannot be used with it`);
  const target = options.target;
  if (!(isSingleTarget(target) || (Array.isArray(target) && target.every(isSingleTarget)))) {
    throw new OptionError('adaptive Integrated Gradients explains one target per image: a class, a name or \'top\' (or a list with one per image), not { topK }');
  }
  const maxSteps = positiveInteger(options.maxSteps ?? 1024, 'maxSteps', 1 << 16);
  const first = positiveInteger(options.steps ?? Math.min(16, maxSteps), 'steps', maxSteps);
  const list = imageList(ctx, images);
  const targets = (Array.isArray(target) ? target : Array.from({ length: list.count }, () => target)) as (Target | undefined)[];
  if (targets.length !== list.count) throw new OptionError(`target has ${targets.length} entries for ${list.count} images: give one target for all, or one per image`);
  const { tolerance: _tolerance, maxSteps: _maxSteps, ...ig } = options;
  // the images one by one, so that each round takes those still pending
  const owned: Tensor[] = [];
  const single: ImageInput[] = Array.isArray(images) ? [...(images as ImageBatch)] : [];
  try {
    if (!single.length) {
      for (let i = 0; i < list.count; i++) {
        const taken = list.take(ctx.rt, i, 1);
        if (taken.owned) owned.push(taken.tensor);
        single.push(taken.tensor);
      }
    }
    const rounds: { steps: number; completenessError: number }[][] = single.map(() => []);
    const results: (AdaptiveAttribution | undefined)[] = single.map(() => undefined);
    let done = 0;
    for (let steps = first; results.includes(undefined); steps = Math.min(2 * steps, maxSteps)) {
      const pending = results.flatMap((r, i) => (r ? [] : [i]));
      const onProgress = options.onProgress && ((p: Progress) => options.onProgress!({ done: done + p.done, total: done + p.total, elapsed: performance.now() - started }));
      const round = (await integratedGradients(ctx, pending.map((i) => single[i]), { ...ig, steps, target: pending.map((i) => targets[i] ?? 'top'), onProgress })) as Attribution[];
      done += pending.length * steps;
      pending.forEach((i, n) => {
        const result = round[n];
        rounds[i].push({ steps, completenessError: result.completenessError! });
        const converged = result.completenessError! <= tolerance;
        if (converged || steps === maxSteps) {
          results[i] = { ...result, method: 'integrated-gradients-adaptive', milliseconds: performance.now() - started, steps, converged, tolerance, rounds: rounds[i] };
        }
      });
    }
    return (list.single ? results[0] : results) as AdaptiveExplained<I>;
  } finally {
    for (const t of owned) t.dispose();
  }
}
