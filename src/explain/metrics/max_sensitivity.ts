/**
 * Max-sensitivity (Yeh, Hsieh, Suggala, Inouye, Ravikumar 2019, "On the (in)fidelity and
 * sensitivity of explanations", Def. 3.1): SENS_MAX(Phi, f, x, r) = max over |delta|_inf <= r of
 * ||Phi(x + delta) - Phi(x)||, estimated as Captum's `sensitivity_max` does: the maximum over
 * `samples` draws delta ~ U[-r, r] per pixel and channel, with the L2 norm divided by ||Phi(x)||
 * (left undivided when that is 0). A map that jumps under imperceptible noise explains little.
 * Phi is any explanation, given as a function of the image like modelRandomization's. The
 * perturbed images are made on the GPU (Philox uniforms added to the image) and, with `batched`
 * (the default), handed to Phi as one stack [samples, H, W, C], so a batched method (saliency,
 * SmoothGrad, IG, Grad-CAM) runs them as its own GPU batches; the norms are taken on the CPU.
 */
import { OptionError } from '../../errors.js';
import type { Tensor } from '../../gpu/tensor.js';
import { binary } from '../../ops/binary.js';
import { randomUniform } from '../../ops/random.js';
import type { Attribution } from '../attribution.js';
import type { ImageBatch } from '../batch.js';
import { positiveInteger, seedOption, type ExplainContext, type ImageInput } from '../context.js';
import { throwIfAborted, type RunOptions } from '../progress.js';
import { prepareImage } from '../single_image.js';

/** An explanation: one image in, one map out; given a stack [N, H, W, C] (batched), N maps out. */
export type ExplainFunction = (images: ImageInput | ImageBatch) => Promise<Pick<Attribution, 'values'> | Pick<Attribution, 'values'>[]>;

export interface MaxSensitivityOptions extends RunOptions {
  /** Perturbed copies. Default 10 (Captum's n_perturb_samples). */
  samples?: number;
  /** r, the largest |delta| per pixel and channel, in input units. Default 0.02 of the input range's width (Captum's 0.02 on [0, 1]). */
  radius?: number;
  /** Hand `explain` all copies as one stack [samples, H, W, C] (default); false: one [1, H, W, C] tensor per call. */
  batched?: boolean;
  seed?: number;
}

export interface MaxSensitivityResult {
  /** max over the samples of sensitivities. */
  maxSensitivity: number;
  /** ||Phi(x + delta_k) - Phi(x)|| / ||Phi(x)|| per sample (undivided when ||Phi(x)|| = 0). */
  sensitivities: Float64Array;
  radius: number;
  milliseconds: number;
}

/** Random stream of the uniform perturbations. */
export const MAX_SENSITIVITY_STREAM = 7;

/** ||b - a||_2 / ||a||_2 in float64, or ||b - a||_2 when a is zero (Captum's rule). */
export function relativeChange(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new OptionError(`The explanation of a perturbed image has ${b.length} values, the image's has ${a.length}: explain must return maps of one shape`);
  let [diff, norm] = [0, 0];
  for (let i = 0; i < a.length; i++) {
    diff += (b[i] - a[i]) ** 2;
    norm += a[i] ** 2;
  }
  return norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff);
}

export async function maxSensitivity(ctx: ExplainContext, image: ImageInput, explain: ExplainFunction, options: MaxSensitivityOptions = {}): Promise<MaxSensitivityResult> {
  const started = performance.now();
  const { rt, model } = ctx;
  if (typeof explain !== 'function') throw new OptionError('maxSensitivity needs the explanation as a function of the image(s), e.g. (images) => xai.saliency(images, { target: 3 })');
  const samples = positiveInteger(options.samples ?? 10, 'samples', 1 << 16);
  const [low, high] = ctx.inputRange;
  const radius = options.radius ?? 0.02 * (high - low);
  if (typeof radius !== 'number' || !(radius > 0) || !Number.isFinite(radius)) throw new OptionError(`radius must be a finite number > 0 (input units), got ${String(radius)}`);
  const batched = options.batched ?? true;
  if (typeof batched !== 'boolean') throw new OptionError(`batched must be true or false, got ${String(batched)}`);
  const seed = seedOption(options.seed, 0);
  throwIfAborted(options.signal);

  const input = prepareImage(ctx, image, 'maxSensitivity');
  const owned: Tensor[] = [];
  try {
    const original = await explain(input.tensor);
    if (Array.isArray(original)) throw new OptionError(`explain returned ${original.length} maps for one image: it must return one`);
    throwIfAborted(options.signal);
    const noise = randomUniform(rt, [samples, ...model.inputShape], -radius, radius, { seed, stream: MAX_SENSITIVITY_STREAM });
    const perturbed = binary(rt, 'add', input.tensor, noise);
    noise.dispose();
    owned.push(perturbed);
    const maps: Pick<Attribution, 'values'>[] = [];
    if (batched) {
      const result = await explain(perturbed);
      const list = Array.isArray(result) ? result : [result];
      if (list.length !== samples) throw new OptionError(`explain returned ${list.length} map(s) for a stack of ${samples} images: with batched: true it must return one per image (or pass batched: false)`);
      maps.push(...list);
    } else {
      const elements = input.tensor.size;
      const one = rt.empty(input.tensor.shape, 'sensitivity.image');
      owned.push(one);
      for (let k = 0; k < samples; k++) {
        throwIfAborted(options.signal);
        rt.copy(perturbed, one, elements, k * elements, 0);
        const result = await explain(one);
        if (Array.isArray(result)) throw new OptionError(`explain returned ${result.length} maps for one image: it must return one`);
        maps.push(result);
        options.onProgress?.({ done: k + 1, total: samples, elapsed: performance.now() - started });
      }
    }
    const sensitivities = Float64Array.from(maps, (map) => relativeChange(original.values, map.values));
    if (batched) options.onProgress?.({ done: samples, total: samples, elapsed: performance.now() - started });
    return { maxSensitivity: Math.max(...sensitivities), sensitivities, radius, milliseconds: performance.now() - started };
  } finally {
    for (const t of owned) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
