/**
 * Deletion and insertion (Petsiuk, Das, Saenko 2018, Sec. 4.1): a faithful map names the pixels
 * the model needs first. Deletion replaces the most important pixels by a substitute (default
 * black) step by step and records the target's probability, which should fall fast (low AUC is
 * good); insertion starts from a substitute (default blurred) and puts the pixels back in the same
 * order, where the probability should rise fast (high AUC is good). The ranking is made on the CPU
 * from the map (ties by pixel index), the perturbed copies of all images on the GPU, run as
 * inference batches through the batch runner (planned chunks, progress, cancel); one read per
 * group of images. A batch takes one map per image.
 */
import { OptionError, ShapeError } from '../../errors.js';
import type { Tensor } from '../../gpu/tensor.js';
import { gaussianBlur } from '../../ops/blur.js';
import type { Attribution } from '../attribution.js';
import { copyScores, imageList, runBatch, type BatchMethod, type BatchOptions, type ImageBatch, type ManyImages } from '../batch.js';
import { positiveInteger, type ExplainContext, type ImageInput } from '../context.js';
import type { RunOptions } from '../progress.js';
import type { Score, SingleTarget } from '../score.js';

export type CurveMode = 'deletion' | 'insertion';

export interface PerturbationCurveOptions extends RunOptions {
  /** Class whose score is followed (or one per image). Default: the map's own target, else 'top'. */
  target?: MetricTarget;
  /** Default 'probability' (the paper's). */
  score?: Score;
  /** Steps from no pixel to all pixels (the curve has steps + 1 points). Default 32. */
  steps?: number;
  /** What taken pixels become (deletion) or start as (insertion). Default: 'black' for deletion, 'blur' for insertion (the paper's). */
  substitute?: 'black' | 'blur';
  /** Sigma of the 'blur' substitute in pixels. Default 5% of the larger image side. */
  blurSigma?: number;
}

export interface PerturbationCurve {
  mode: CurveMode;
  target: number;
  /** Fraction of the pixels taken at each point, k / steps. */
  fractions: Float64Array;
  /** The target's score at each point. */
  scores: Float32Array;
  /** Area under the curve over fractions in [0, 1] (trapezoid rule). */
  auc: number;
  milliseconds: number;
}

/** A per-pixel map [H, W], or an Attribution whose channels are summed. */
/** A metric's class: one per map (a map explains one class, so `{ topK }` has no meaning here). */
export type MetricTarget = SingleTarget | readonly SingleTarget[];

/** The metric's target as given, or an OptionError (before any GPU work) for `{ topK }`. */
export function metricTarget<T>(target: T, metric: string): T {
  const list: unknown[] = Array.isArray(target) ? target : [target];
  if (list.some((t) => typeof t === 'object' && t !== null)) {
    throw new OptionError(`${metric}: each map explains one class, so the target is 'top', a class index or name (one per image), not { topK }; run the metric once per class`);
  }
  return target;
}

export type MapInput = Pick<Attribution, 'values' | 'shape'> & { target?: number };

const WORKGROUP_SIZE = 64;

/** rank[p] = place of pixel p when sorted by value, highest first (ties: lower index first). */
export function pixelRanks(map: ArrayLike<number>): Float32Array {
  const order = Array.from({ length: map.length }, (_, p) => p).sort((a, b) => map[b] - map[a] || a - b);
  const rank = new Float32Array(map.length);
  order.forEach((p, place) => (rank[p] = place));
  return rank;
}

export function pixelMap(ctx: ExplainContext, map: MapInput): Float64Array {
  const [height, width] = ctx.model.inputShape;
  const shape = map?.shape;
  if (!Array.isArray(shape) || shape[0] !== height || shape[1] !== width || !(map.values?.length === height * width * (shape[2] ?? 1))) {
    throw new ShapeError(`The map must be an attribution of the model's input size [${height}, ${width}, C] with its values; got shape ${JSON.stringify(shape)}`);
  }
  const channels = shape[2] ?? 1;
  const pixels = new Float64Array(height * width);
  for (let i = 0; i < map.values.length; i++) {
    const v = map.values[i];
    if (!Number.isFinite(v)) throw new OptionError(`The map holds a non-finite value at element ${i}: it cannot order the pixels`);
    pixels[Math.floor(i / channels)] += v;
  }
  return pixels;
}

/** One curve for one image, an array for many. */
export type Curves<I> = ManyImages<I> extends true ? PerturbationCurve[] : PerturbationCurve;

export async function perturbationCurve<I extends ImageInput | ImageBatch>(ctx: ExplainContext, images: I, maps: MapInput | readonly MapInput[], mode: CurveMode, options: PerturbationCurveOptions = {}): Promise<Curves<I>> {
  const { rt, model } = ctx;
  if (mode !== 'deletion' && mode !== 'insertion') throw new OptionError(`mode must be 'deletion' or 'insertion', got '${String(mode)}'`);
  const [height, width, channels] = model.inputShape;
  const pixels = height * width;
  const elements = pixels * channels;
  const steps = positiveInteger(options.steps ?? 32, 'steps', Math.min(pixels, Math.floor(0xffffffff / pixels)));
  const substitute = options.substitute ?? (mode === 'deletion' ? 'black' : 'blur');
  if (substitute !== 'black' && substitute !== 'blur') throw new OptionError(`substitute must be 'black' or 'blur', got '${String(substitute)}'`);
  const sigma = options.blurSigma ?? 0.05 * Math.max(height, width);
  if (!(typeof sigma === 'number' && sigma > 0 && Number.isFinite(sigma))) throw new OptionError(`blurSigma must be a finite number of pixels > 0, got ${String(sigma)}`);
  const mapList: readonly MapInput[] = Array.isArray(maps) ? maps : [maps as MapInput];
  const ranks = mapList.map((map) => pixelRanks(pixelMap(ctx, map)));
  const { count } = imageList(ctx, images);
  if (ranks.length !== count) throw new OptionError(`${ranks.length} map(s) for ${count} image(s): give one map per image`);
  const target = metricTarget(options.target ?? (Array.isArray(maps) ? mapList.map((m) => m.target ?? 'top') : (mapList[0].target ?? 'top')), mode);
  const points = steps + 1;
  const kernel = { shader: 'perturbation_curve', entry: 'perturb', constants: { WORKGROUP_SIZE, INSERTION: mode === 'insertion' ? 1 : 0 } };
  const batchOptions = { ...options, target, score: options.score ?? 'probability' } as BatchOptions;
  let nextImage = 0;
  return runBatch<PerturbationCurve, Curves<I>>(ctx, images, batchOptions, (score): BatchMethod<PerturbationCurve> => {
    let other: Tensor | undefined;
    let rank: Tensor | undefined;
    let curves: Tensor | undefined;
    return {
      kind: `curve:${mode}`,
      copiesPerJob: points,
      pass: { keep: [score.node] },
      // the substitute and the ranks
      imageFloats: elements + pixels,
      jobFloats: points,
      copyFloats: 1,
      begin: (group) => {
        if (substitute === 'blur') {
          other = gaussianBlur(rt, group.images, sigma);
        } else {
          other = rt.empty(group.images.shape, 'curve.black');
          rt.fill(other, ctx.inputRange[0]);
        }
        const first = nextImage;
        nextImage += group.imageCount;
        const table = new Float32Array(group.imageCount * pixels);
        for (let g = 0; g < group.imageCount; g++) table.set(ranks[first + g], g * pixels);
        rank = rt.upload([group.imageCount, pixels], table, 'curve.rank');
        curves = rt.empty([group.jobs, points], 'curve.scores');
      },
      chunk: (group, table, first, n) => {
        const copies = rt.empty([n, height, width, channels], 'curve.copies');
        rt.dispatch(kernel, { bindings: { images: group.images, substitute: other!, rank: rank!, table, copies }, uniforms: { pixels, channels, steps, count: n }, workgroups: rt.grid(copies.size, WORKGROUP_SIZE) });
        const scores = copyScores(ctx, score, copies, table, group.mask);
        // copy `first + n` is step k of job j at j * (steps + 1) + k
        rt.copy(scores, curves!, n, 0, first);
        scores.dispose();
      },
      finish: () => {
        const result = curves!;
        curves = undefined;
        return result;
      },
      results: (_, values, targets, milliseconds) => {
        const ms = milliseconds();
        return Array.from(targets, (t, j) => {
          const curve = values.slice(j * points, (j + 1) * points);
          let auc = 0;
          for (let k = 0; k < steps; k++) auc += (curve[k] + curve[k + 1]) / (2 * steps);
          return { mode, target: t, fractions: Float64Array.from({ length: points }, (_, k) => k / steps), scores: curve, auc, milliseconds: ms };
        });
      },
      end: () => {
        for (const t of [other, rank, curves]) t?.dispose();
      },
    };
  });
}
