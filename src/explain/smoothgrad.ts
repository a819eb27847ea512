/**
 * SmoothGrad (Smilkov et al. 2017): the average gradient over noisy copies x + N(0, sigma^2),
 * sigma = noise * (input range). Variants: 'mean' (their eq. 2), 'squared' (mean of squared
 * gradients, Hooker et al. 2019's SmoothGrad-SQ) and 'vargrad' (variance, Adebayo et al. 2018).
 * The copies are generated on the GPU and run as one batch, split only at the device's limits.
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import { addGaussianNoise } from '../ops/random.js';
import type { Attribution } from './attribution.js';
import { checkFiniteResult, chunkSize, nonNegative, positiveInteger, prepareImage, seedOption, type ExplainContext, type ImageInput } from './context.js';
import { inputGradient } from './gradients.js';
import { chunks, throwIfAborted, type RunOptions } from './progress.js';
import { resolveTargets, type TargetOptions } from './saliency.js';
import { checkTarget, scoreNode } from './score.js';

export type SmoothGradVariant = 'mean' | 'squared' | 'vargrad';
const FINISH: Record<SmoothGradVariant, string> = { mean: 'finish_mean', squared: 'finish_squared', vargrad: 'finish_vargrad' };

export interface SmoothGradOptions extends TargetOptions, RunOptions {
  /** Noisy copies. Default 50. */
  samples?: number;
  /** Noise standard deviation as a fraction of the input range. Default 0.15. */
  noise?: number;
  variant?: SmoothGradVariant;
  seed?: number;
}

/** Random stream of SmoothGrad's noise (other methods use other streams of the same seed). */
export const SMOOTHGRAD_STREAM = 1;
const WORKGROUP_SIZE = 64;

export async function smoothGrad(ctx: ExplainContext, image: ImageInput, options: SmoothGradOptions = {}): Promise<Attribution> {
  const started = performance.now();
  const samples = positiveInteger(options.samples ?? 50, 'samples', 1 << 20);
  const noise = nonNegative(options.noise ?? 0.15, 'noise');
  const variant = options.variant ?? 'mean';
  // own keys only: `'toString' in FINISH` is true and would reach the GPU as an entry point
  if (typeof variant !== 'string' || !Object.hasOwn(FINISH, variant)) throw new OptionError(`Unknown SmoothGrad variant '${String(variant)}' (use mean, squared or vargrad)`);
  const node = scoreNode(ctx.model, options.score);
  const target = options.target ?? 'top';
  checkTarget(ctx.model, node, target);
  const seed = seedOption(options.seed, 0);
  const { rt } = ctx;
  const sigma = noise * (ctx.inputRange[1] - ctx.inputRange[0]);
  throwIfAborted(options.signal);

  const chunk = chunkSize(ctx, samples);
  const input = prepareImage(ctx, image);
  const elements = input.tensor.size;
  // the class explained is the clean image's, for every noisy copy
  const targets = resolveTargets(ctx, input.tensor, target);
  const sum = rt.empty([elements], 'smoothgrad.sum');
  const squares = rt.empty([elements], 'smoothgrad.squares');
  rt.fill(sum, 0);
  rt.fill(squares, 0);
  const ones = rt.upload([chunk], new Float32Array(chunk).fill(1), 'weights');
  try {
    for (const { start, count } of chunks(samples, chunk)) {
      throwIfAborted(options.signal);
      const noisy = addGaussianNoise(rt, input.tensor, count, sigma, { seed, stream: SMOOTHGRAD_STREAM }, start);
      const grads = inputGradient(ctx.model, noisy, node, targets);
      noisy.dispose();
      rt.dispatch({ shader: 'attribution', entry: 'accumulate_with_squares', constants: { WORKGROUP_SIZE } }, {
        bindings: { grads, weights: ones, sum, squares },
        uniforms: { spatial: elements, channels: 1, count, scale: 1 },
        workgroups: rt.grid(elements, WORKGROUP_SIZE),
      });
      grads.dispose();
      if (start + count < samples) {
        // chunked runs submit per chunk so progress is real; still no readback inside the loop
        await rt.flush();
        options.onProgress?.({ done: start + count, total: samples, elapsed: performance.now() - started });
      }
    }
    const result = rt.empty([elements], 'smoothgrad');
    const bindings: Record<string, Tensor> = variant === 'mean' ? { sum, result } : variant === 'squared' ? { squares, result } : { sum, squares, result };
    rt.dispatch({ shader: 'attribution', entry: FINISH[variant], constants: { WORKGROUP_SIZE } }, {
      bindings,
      uniforms: { spatial: elements, channels: 1, count: samples, scale: 1 },
      workgroups: rt.grid(elements, WORKGROUP_SIZE),
    });
    const values = await rt.read(result);
    result.dispose();
    checkFiniteResult(values, 'SmoothGrad map');
    const [index] = await rt.read(targets);
    options.onProgress?.({ done: samples, total: samples, elapsed: performance.now() - started });
    return { method: `smoothgrad-${variant}`, values, shape: [...ctx.model.inputShape] as [number, number, number], target: index, milliseconds: performance.now() - started };
  } finally {
    for (const t of [sum, squares, ones, targets]) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
