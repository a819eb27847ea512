/**
 * MuFidelity (Bhatt, Weller, Moura 2020, "Evaluating and aggregating feature-based model
 * explanations", Sec. 3.1, mu_F): the Pearson correlation, over random subsets S of |S| features,
 * between the attribution a subset holds, sum_{i in S} g_i, and what removing it costs the model,
 * f(x) - f(x with S set to a baseline). A faithful map puts its mass where the model's score is.
 * Features are the cells of a grid over the image (one pixel per cell with grid [H, W]), as
 * Xplique's MuFidelity (grid_size 9, subset_percent 0.2, baseline 0) and Quantus'
 * FaithfulnessCorrelation do. The subsets are drawn on the CPU (mulberry32); the masked copies are
 * made on the GPU (shaders/masking.wgsl, shared with LIME and KernelSHAP) and run as inference
 * batches through the batch runner (chunks across images, progress, cancel), with the image itself
 * as row 0 for f(x); only the scores are read back. A batch takes one map per image.
 */
import { OptionError } from '../../errors.js';
import { imageList, type ImageBatch, type ManyImages } from '../batch.js';
import { positiveInteger, seedOption, type ExplainContext, type ImageInput } from '../context.js';
import type { RunOptions } from '../progress.js';
import { mulberry32 } from '../random.js';
import { perturbationBatch, planPerturbation, type PerturbationBaseline } from '../perturbation.js';
import type { Score } from '../score.js';
import { metricTarget, pixelMap, type MapInput, type MetricTarget } from './deletion_insertion.js';

export interface MuFidelityOptions extends RunOptions {
  /** Class whose score is followed (or one per image). Default: the map's own target, else 'top'. */
  target?: MetricTarget;
  /** Default 'logit', the score the attribution methods explain by default. */
  score?: Score;
  /** Feature grid [rows, columns]; [H, W] makes every pixel a feature. Default [9, 9] (Xplique's), at most the image's size. */
  grid?: [number, number];
  /** Features per subset |S|. Default 20% of the features (Xplique's subset_percent), at least 1. */
  subsetSize?: number;
  /** Random subsets. Default 200 (Xplique's and Quantus' nb_samples). */
  samples?: number;
  /** What removed features become. Default 'black' (the low end of the input range; Xplique's baseline 0). */
  baseline?: PerturbationBaseline;
  /** Seed of the subset sampler. Default 0. */
  seed?: number;
}

export interface MuFidelityResult {
  /** Pearson correlation of attributionSums and scoreDrops (NaN when either is constant). */
  correlation: number;
  target: number;
  /** f(x), the target's score on the image. */
  score: number;
  /** sum over the features of each subset of the map's values (channels summed). */
  attributionSums: Float64Array;
  /** f(x) - f(x with the subset removed), per subset. */
  scoreDrops: Float64Array;
  features: number;
  subsetSize: number;
  milliseconds: number;
}

/** Pearson's r in float64 (NaN when either series is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let [ma, mb] = [0, 0];
  for (let i = 0; i < n; i++) [ma, mb] = [ma + a[i] / n, mb + b[i] / n];
  let [ab, aa, bb] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
}

/** `samples` subsets of `size` distinct features of `features`, as [samples, size] indices (partial Fisher-Yates, mulberry32). */
export function randomSubsets(features: number, size: number, samples: number, seed: number): Int32Array {
  const random = mulberry32(seed);
  const order = Int32Array.from({ length: features }, (_, i) => i);
  const subsets = new Int32Array(samples * size);
  for (let s = 0; s < samples; s++) {
    for (let k = 0; k < size; k++) {
      const j = k + Math.floor(random() * (features - k));
      [order[k], order[j]] = [order[j], order[k]];
      subsets[s * size + k] = order[k];
    }
  }
  return subsets;
}

/** One result for one image, an array for many. */
export type MuFidelities<I> = ManyImages<I> extends true ? MuFidelityResult[] : MuFidelityResult;

/**
 * MuFidelity of each image's map (one map per image of a batch, like the deletion/insertion curves).
 * The subsets depend on the seed only, never on the image's place in a batch, so each image of a
 * batch gets exactly the result a call for it alone gives.
 */
export async function muFidelity<I extends ImageInput | ImageBatch>(ctx: ExplainContext, images: I, maps: MapInput | readonly MapInput[], options: MuFidelityOptions = {}): Promise<MuFidelities<I>> {
  const [height, width] = ctx.model.inputShape;
  const grid = options.grid ?? [Math.min(9, height), Math.min(9, width)];
  if (!Array.isArray(grid)) throw new OptionError(`grid must be [rows, columns], got ${JSON.stringify(grid)}`);
  const mapList: readonly MapInput[] = Array.isArray(maps) ? maps : [maps as MapInput];
  const target = metricTarget(options.target ?? (Array.isArray(maps) ? mapList.map((m) => m.target ?? 'top') : (mapList[0]?.target ?? 'top')), 'muFidelity');
  const plan = planPerturbation(ctx, { target, score: options.score ?? 'logit', baseline: options.baseline ?? 'black', segmentation: { grid } });
  const features = grid[0] * grid[1];
  if (features < 2) throw new OptionError('MuFidelity needs at least 2 features: use a grid with more than one cell');
  const subsetSize = positiveInteger(options.subsetSize ?? Math.max(1, Math.round(0.2 * features)), 'subsetSize', features - 1);
  const samples = positiveInteger(options.samples ?? 200, 'samples', 1 << 20);
  if (samples < 2) throw new OptionError('samples must be at least 2 for a correlation');
  const seed = seedOption(options.seed, 0);
  const pixels = mapList.map((map) => pixelMap(ctx, map));
  const { count } = imageList(ctx, images);
  if (pixels.length !== count) throw new OptionError(`${pixels.length} map(s) for ${count} image(s): give one map per image`);

  const subsets = randomSubsets(features, subsetSize, samples, seed);
  // row 0 keeps everything (f(x)); row 1 + s removes subset s
  const masks = new Float32Array((samples + 1) * features).fill(1);
  for (let s = 0; s < samples; s++) for (let k = 0; k < subsetSize; k++) masks[(s + 1) * features + subsets[s * subsetSize + k]] = 0;
  const batchOptions = { ...options, target, score: options.score ?? 'logit' };
  return perturbationBatch<{ masks: Float32Array; image: number }, MuFidelityResult, MuFidelities<I>>(ctx, images, batchOptions, plan, 'MuFidelity', (_, image) => ({ masks, image }), ({ image }, segmentation, scores, t, milliseconds) => {
    const cells = new Float64Array(features);
    segmentation.labels.forEach((cell, p) => (cells[cell] += pixels[image][p]));
    const attributionSums = new Float64Array(samples);
    const scoreDrops = new Float64Array(samples);
    for (let s = 0; s < samples; s++) {
      for (let k = 0; k < subsetSize; k++) attributionSums[s] += cells[subsets[s * subsetSize + k]];
      scoreDrops[s] = scores[0] - scores[s + 1];
    }
    return { correlation: pearson(attributionSums, scoreDrops), target: t, score: scores[0], attributionSums, scoreDrops, features, subsetSize, milliseconds };
  });
}
