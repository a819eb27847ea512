/**
 * The model-randomization sanity check (Adebayo et al. 2018, Sec. 3.1, cascading randomization):
 * the weights are re-drawn layer by layer from the top (logits) down, the map recomputed after
 * each layer, and compared with the original map by Spearman rank correlation. A map that
 * explains the model should change as its weights are destroyed; one that stays similar (the
 * paper's finding for guided backpropagation) reflects the image more than the model.
 * Each weight tensor is re-drawn on the GPU from a normal with its own mean and standard
 * deviation (so activations keep their scale); the model's weights are restored at the end,
 * also on an error or an abort.
 */
import { OptionError } from '../../errors.js';
import type { Tensor } from '../../gpu/tensor.js';
import { randomNormal } from '../../ops/random.js';
import { reduceChannels, type Attribution } from '../attribution.js';
import { seedOption, type ExplainContext, type ImageInput } from '../context.js';
import { throwIfAborted, type RunOptions } from '../progress.js';

export interface ModelRandomizationOptions extends RunOptions {
  /** Layers with weights to randomize, top first. Default: every layer with weights, from the output down. */
  layers?: string[];
  /** Compare |map| (default, as the paper's figures) or the signed map. */
  absolute?: boolean;
  seed?: number;
}

export interface ModelRandomizationResult {
  /** Layers in the order they were randomized (cumulatively). */
  layers: string[];
  /** Spearman correlation of the map after randomizing layers[0..i] with the original map. */
  correlations: number[];
  /** Per-pixel maps [H * W] (channels summed, |.| when absolute): the original, then one per layer. */
  original: Float32Array;
  maps: Float32Array[];
  milliseconds: number;
}

/** First random stream of the re-drawn weights (one stream per weight tensor, after it). */
export const RANDOMIZATION_STREAM = 1 << 24;

/** Ranks 1..n with ties given their average rank. */
function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    for (let k = start; k < end; k++) ranks[order[k]] = (start + end + 1) / 2;
    start = end;
  }
  return ranks;
}

/** Spearman's rho: Pearson correlation of the average ranks (NaN when either map is constant). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new OptionError(`spearman: maps of ${a.length} and ${b.length} values`);
  const [ra, rb] = [averageRanks(a), averageRanks(b)];
  const mean = (ra.length + 1) / 2;
  let [ab, aa, bb] = [0, 0, 0];
  for (let i = 0; i < ra.length; i++) {
    ab += (ra[i] - mean) * (rb[i] - mean);
    aa += (ra[i] - mean) ** 2;
    bb += (rb[i] - mean) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

export async function modelRandomization(
  ctx: ExplainContext,
  image: ImageInput,
  explain: (image: ImageInput) => Promise<Attribution>,
  options: ModelRandomizationOptions = {},
): Promise<ModelRandomizationResult> {
  const started = performance.now();
  const { rt, model } = ctx;
  if (typeof explain !== 'function') throw new OptionError('modelRandomization needs the explanation to check as a function of the image, e.g. (image) => xai.saliency(image)');
  const weighted = model.order.filter((name) => Object.keys(model.layer(name).weights).length > 0).reverse();
  const layers = options.layers ?? weighted;
  if (!Array.isArray(layers) || !layers.length) throw new OptionError('layers must be a non-empty list of layers with weights');
  if (new Set(layers).size !== layers.length) throw new OptionError(`layers lists a layer twice: ${layers.join(', ')}`);
  for (const name of layers) {
    if (!weighted.includes(name)) throw new OptionError(`'${String(name)}' has no weights to randomize (layers with weights, top first: ${weighted.join(', ') || 'none'})`);
  }
  const absolute = options.absolute ?? true;
  if (typeof absolute !== 'boolean') throw new OptionError(`absolute must be true or false, got ${String(absolute)}`);
  const seed = seedOption(options.seed, 0);
  throwIfAborted(options.signal);

  const pixelMap = (attribution: Attribution) => reduceChannels(attribution, absolute ? 'abs-sum' : 'sum');
  const original = pixelMap(await explain(image));
  const saved: { tensor: Tensor; data: Float32Array }[] = [];
  const maps: Float32Array[] = [];
  const correlations: number[] = [];
  try {
    for (const [index, name] of layers.entries()) {
      throwIfAborted(options.signal);
      for (const tensor of Object.values(model.layer(name).weights)) {
        const data = await rt.read(tensor);
        saved.push({ tensor, data });
        let mean = 0;
        for (const v of data) mean += v / data.length;
        let variance = 0;
        for (const v of data) variance += (v - mean) ** 2 / data.length;
        const fresh = randomNormal(rt, tensor.shape, mean, Math.sqrt(variance), { seed, stream: RANDOMIZATION_STREAM + saved.length });
        rt.copy(fresh, tensor);
        fresh.dispose();
      }
      const map = pixelMap(await explain(image));
      maps.push(map);
      correlations.push(spearman(original, map));
      options.onProgress?.({ done: index + 1, total: layers.length, elapsed: performance.now() - started });
    }
  } finally {
    for (const { tensor, data } of saved) rt.write(tensor, data);
    await rt.flush();
  }
  return { layers: [...layers], correlations, original, maps, milliseconds: performance.now() - started };
}
