/**
 * SmoothGrad (Smilkov et al. 2017): the average gradient over noisy copies x + N(0, sigma^2),
 * sigma = noise * (input range). Variants: 'mean' (their eq. 2), 'squared' (mean of squared
 * gradients, Hooker et al. 2019's SmoothGrad-SQ) and 'vargrad' (variance, Adebayo et al. 2018).
 * The copies of all images and targets are generated on the GPU and run as batches. Copy k's
 * noise depends on (seed, k) only, so image i of a batch gets exactly the noise a call for image
 * i alone draws.
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import { addGaussianNoiseRows } from '../ops/random.js';
import type { Attribution } from './attribution.js';
import { runBatch, type BatchMethod, type BatchOptions, type Explained, type ImageBatch } from './batch.js';
import { nonNegative, positiveInteger, seedOption, type ExplainContext, type ImageInput } from './context.js';
import { rowUniforms, scoreGradient } from './gradients.js';
import type { RunOptions } from './progress.js';
import { attributionsOf, type TargetOptions } from './saliency.js';

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
const kernel = (entry: string) => ({ shader: 'attribution', entry, constants: { WORKGROUP_SIZE } });

export async function smoothGrad<I extends ImageInput | ImageBatch, O extends SmoothGradOptions = SmoothGradOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, Attribution, O>> {
  const samples = positiveInteger(options.samples ?? 50, 'samples', 1 << 20);
  const noise = nonNegative(options.noise ?? 0.15, 'noise');
  const variant = options.variant ?? 'mean';
  // own keys only: `'toString' in FINISH` is true and would reach the GPU as an entry point
  if (typeof variant !== 'string' || !Object.hasOwn(FINISH, variant)) throw new OptionError(`Unknown SmoothGrad variant '${String(variant)}' (use mean, squared or vargrad)`);
  const seed = seedOption(options.seed, 0);
  const { rt, model } = ctx;
  const sigma = noise * (ctx.inputRange[1] - ctx.inputRange[0]);
  const elements = model.inputShape.reduce((a, b) => a * b, 1);
  return runBatch<Attribution, Explained<I, Attribution, O>>(ctx, images, options as BatchOptions, (score): BatchMethod<Attribution> => {
    let sum: Tensor | undefined;
    let squares: Tensor | undefined;
    let ones: Tensor | undefined;
    return {
      kind: 'smoothgrad',
      copiesPerJob: samples,
      pass: { backward: { seedNode: score.node, to: model.inputName }, keep: [score.node] },
      imageFloats: 0,
      // sum, squares, result
      jobFloats: 3 * elements,
      copyFloats: 0,
      // the weights (ones) of the samples
      groupFloats: samples,
      begin: (group) => {
        sum = rt.empty([group.jobs, elements], 'smoothgrad.sum');
        squares = rt.empty([group.jobs, elements], 'smoothgrad.squares');
        rt.fill(sum, 0);
        rt.fill(squares, 0);
        ones = rt.upload([samples], new Float32Array(samples).fill(1), 'smoothgrad.weights');
      },
      chunk: (group, table, first, count) => {
        const noisy = addGaussianNoiseRows(rt, group.images, table, sigma, { seed, stream: SMOOTHGRAD_STREAM });
        const { gradient, pass } = scoreGradient(model, score, noisy, table, group.mask);
        pass.dispose();
        noisy.dispose();
        const jobsInChunk = Math.floor((first + count - 1) / samples) - Math.floor(first / samples) + 1;
        rt.dispatch(kernel('accumulate_jobs_with_squares'), {
          bindings: { grads: gradient, weights: ones!, sum: sum!, squares: squares! },
          uniforms: rowUniforms(model, first, count, samples),
          workgroups: rt.grid(jobsInChunk * elements, WORKGROUP_SIZE),
        });
        gradient.dispose();
      },
      finish: (group) => {
        const result = rt.empty([group.jobs, elements], 'smoothgrad');
        const bindings: Record<string, Tensor> = variant === 'mean' ? { sum: sum!, result } : variant === 'squared' ? { squares: squares!, result } : { sum: sum!, squares: squares!, result };
        rt.dispatch(kernel(FINISH[variant]), {
          bindings,
          uniforms: { spatial: elements, channels: 1, count: samples, scale: 1 },
          workgroups: rt.grid(result.size, WORKGROUP_SIZE),
        });
        return result;
      },
      results: (_, values, targets, ms) => attributionsOf(`smoothgrad-${variant}`, model.inputShape, values, targets, ms),
      end: () => {
        for (const t of [sum, squares, ones]) t?.dispose();
      },
    };
  });
}
