/**
 * Max-sensitivity (Yeh, Hsieh, Suggala, Inouye, Ravikumar 2019, "On the (in)fidelity and
 * sensitivity of explanations", Def. 3.1): SENS_MAX(Phi, f, x, r) = max over |delta|_inf <= r of
 * ||Phi(x + delta) - Phi(x)||, estimated as Captum's `sensitivity_max` does: the maximum over
 * `samples` draws delta ~ U[-r, r] per pixel and channel, with the L2 norm divided by ||Phi(x)||
 * (left undivided when that is 0). A map that jumps under imperceptible noise explains little.
 * Phi is any explanation, given as a function of the image(s) like modelRandomization's. Several
 * images are explained together: Phi first gets all of them as one stack, then, with `batched`
 * (the default), every image's perturbed copies as one stack [images * samples, H, W, C] (made on
 * the GPU: Philox uniforms added to each image), so a batched method (saliency, SmoothGrad, IG,
 * Grad-CAM) runs them as its own GPU batches (chunks, progress, cancel); the norms are taken on the CPU.
 */
import { OptionError } from '../../errors.js';
import type { Tensor } from '../../gpu/tensor.js';
import { binary } from '../../ops/binary.js';
import { randomUniform } from '../../ops/random.js';
import type { Attribution } from '../attribution.js';
import { imageList, type ImageBatch, type ManyImages } from '../batch.js';
import { positiveInteger, seedOption, type ExplainContext, type ImageInput } from '../context.js';
import { throwIfAborted, type RunOptions } from '../progress.js';

/**
 * An explanation: one image in, one map out; given a stack [N, H, W, C], N maps out. `owners[n]`
 * is the place, in the call's images, of the image that row n is (a perturbed copy of): what a
 * per-image target needs, e.g. (images, owners) => xai.saliency(images, { target: owners.map((i) => targets[i]) }).
 */
export type ExplainFunction = (images: ImageInput | ImageBatch, owners: readonly number[]) => Promise<Pick<Attribution, 'values'> | Pick<Attribution, 'values'>[]>;

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

/** One result for one image, an array for many. */
export type MaxSensitivities<I> = ManyImages<I> extends true ? MaxSensitivityResult[] : MaxSensitivityResult;

/** The maps `explain` returned for `expected` images, as a list; OptionError when the count is wrong. */
function mapList(result: Awaited<ReturnType<ExplainFunction>>, expected: number, hint: string): Pick<Attribution, 'values'>[] {
  const list = Array.isArray(result) ? result : [result];
  if (list.length !== expected) throw new OptionError(`explain returned ${list.length} map(s) for ${expected === 1 ? 'one image: it must return one' : `a stack of ${expected} images: ${hint}`}`);
  return list;
}

/**
 * Max-sensitivity of `explain` at each image. The perturbations depend on the seed and the sample's
 * number only, never on the image's place in a batch, so each image of a batch gets the copies (and,
 * with an explanation that is batch-invariant, exactly the result) of a call for it alone.
 */
export async function maxSensitivity<I extends ImageInput | ImageBatch>(ctx: ExplainContext, images: I, explain: ExplainFunction, options: MaxSensitivityOptions = {}): Promise<MaxSensitivities<I>> {
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
  const list = imageList(ctx, images);
  const count = list.count;
  throwIfAborted(options.signal);

  const input = list.take(rt, 0, count);
  const owned: Tensor[] = [];
  try {
    const originals = mapList(await explain(input.tensor, Array.from({ length: count }, (_, i) => i)), count, 'it must return one map per image');
    throwIfAborted(options.signal);
    const elements = input.tensor.size / count;
    const noise = randomUniform(rt, [samples, ...model.inputShape], -radius, radius, { seed, stream: MAX_SENSITIVITY_STREAM });
    owned.push(noise);
    // copies of image i are rows i * samples + k: image i plus the same noise k a call for it alone adds
    const perturbed = rt.empty([count * samples, ...model.inputShape], 'sensitivity.perturbed');
    owned.push(perturbed);
    const one = rt.empty([1, ...model.inputShape], 'sensitivity.image');
    owned.push(one);
    for (let i = 0; i < count; i++) {
      rt.copy(input.tensor, one, elements, i * elements, 0);
      const sum = binary(rt, 'add', one, noise);
      rt.copy(sum, perturbed, samples * elements, 0, i * samples * elements);
      sum.dispose();
    }
    const owners = Array.from({ length: count * samples }, (_, n) => Math.floor(n / samples));
    const maps: Pick<Attribution, 'values'>[] = [];
    if (batched) {
      maps.push(...mapList(await explain(perturbed, owners), count * samples, 'with batched: true it must return one per image (or pass batched: false)'));
      options.onProgress?.({ done: count * samples, total: count * samples, elapsed: performance.now() - started });
    } else {
      for (let n = 0; n < count * samples; n++) {
        throwIfAborted(options.signal);
        rt.copy(perturbed, one, elements, n * elements, 0);
        maps.push(...mapList(await explain(one, [owners[n]]), 1, ''));
        options.onProgress?.({ done: n + 1, total: count * samples, elapsed: performance.now() - started });
      }
    }
    const results = originals.map((original, i): MaxSensitivityResult => {
      const sensitivities = Float64Array.from(maps.slice(i * samples, (i + 1) * samples), (map) => relativeChange(original.values, map.values));
      return { maxSensitivity: Math.max(...sensitivities), sensitivities, radius, milliseconds: performance.now() - started };
    });
    return (list.single ? results[0] : results) as MaxSensitivities<I>;
  } finally {
    for (const t of owned) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
