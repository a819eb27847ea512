/**
 * Adaptive Integrated Gradients: the Gauss-Legendre points double (from `steps`, default 16)
 * until the completeness error |sum(attribution) - (F(x) - F(x'))| / |F(x) - F(x')|
 * (Sundararajan et al. 2017, Proposition 1) is at most `tolerance`, or `maxSteps` is reached, which
 * the result says. Gauss-Legendre nodes do not nest, so each round is a full integration; the
 * total work is under twice the last round's. One image and one target per call.
 */
import { OptionError } from '../errors.js';
import type { Attribution } from './attribution.js';
import { positiveInteger, type ExplainContext, type ImageInput } from './context.js';
import { integratedGradients, type IntegratedGradientsOptions } from './integrated_gradients.js';
import type { Progress } from './progress.js';

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

export async function adaptiveIntegratedGradients(ctx: ExplainContext, image: ImageInput, options: AdaptiveIntegratedGradientsOptions): Promise<AdaptiveAttribution> {
  const started = performance.now();
  const tolerance = options?.tolerance;
  if (typeof tolerance !== 'number' || !(tolerance > 0 && tolerance < 1)) throw new OptionError(`tolerance must be a completeness error in (0, 1), e.g. 0.01, got ${String(tolerance)}`);
  if ((options.rule ?? 'gauss-legendre') !== 'gauss-legendre') throw new OptionError(`adaptive Integrated Gradients adds Gauss-Legendre points; rule '${String(options.rule)}' cannot be used with it`);
  if (Array.isArray(image) || Array.isArray(options.target) || (typeof options.target === 'object' && options.target !== null)) {
    throw new OptionError('adaptive Integrated Gradients explains one image and one target per call');
  }
  const maxSteps = positiveInteger(options.maxSteps ?? 1024, 'maxSteps', 1 << 16);
  const first = positiveInteger(options.steps ?? Math.min(16, maxSteps), 'steps', maxSteps);
  const { tolerance: _tolerance, maxSteps: _maxSteps, ...ig } = options;
  const rounds: { steps: number; completenessError: number }[] = [];
  let done = 0;
  for (let steps = first; ; steps = Math.min(2 * steps, maxSteps)) {
    const onProgress = options.onProgress && ((p: Progress) => options.onProgress!({ done: done + p.done, total: done + p.total, elapsed: performance.now() - started }));
    const result = (await integratedGradients(ctx, image, { ...ig, steps, onProgress })) as Attribution;
    done += steps;
    rounds.push({ steps, completenessError: result.completenessError! });
    const converged = result.completenessError! <= tolerance;
    if (converged || steps === maxSteps) {
      return { ...result, method: 'integrated-gradients-adaptive', milliseconds: performance.now() - started, steps, converged, tolerance, rounds };
    }
  }
}
