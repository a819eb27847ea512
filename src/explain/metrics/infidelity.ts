/**
 * Infidelity (Yeh, Hsieh, Suggala, Inouye, Ravikumar 2019, "On the (in)fidelity and sensitivity of
 * explanations", Def. 2.1): INFD(Phi, f, x) = E_I[(I^T Phi - (f(x) - f(x - I)))^2] over random
 * perturbations I, as Captum's `captum.metrics.infidelity` computes it: the perturbed inputs are
 * x - I, the expectation a mean over `samples` draws, and with `normalize` Phi is first scaled by
 * the least-squares beta = E[I^T Phi (f(x) - f(x - I))] / E[(I^T Phi)^2] (0 when the denominator
 * is), so that only the direction of the map counts (Captum's normalize=True, the paper's Sec. 3).
 * Perturbations (the paper's Sec. 3): 'gaussian', I ~ N(0, sigma^2) per pixel and channel (the
 * "noisy baseline"; Philox on the GPU), or 'square', a random size x size square of the image set
 * to a baseline, I = x - x_square (its corners drawn on the CPU, mulberry32). Copies, their sums
 * I^T Phi (shaders/infidelity.wgsl) and their scores (item_scores, through copyScores) are made on
 * the GPU by the batch runner (batch.ts: chunks across images, progress, cancel); the sums and
 * scores are read back once per group of images. A batch takes one map per image.
 */
import { OptionError, ShapeError } from '../../errors.js';
import type { Tensor } from '../../gpu/tensor.js';
import { addGaussianNoiseRows } from '../../ops/random.js';
import { copyScores, imageList, runBatch, type BatchMethod, type BatchOptions, type ImageBatch, type ManyImages } from '../batch.js';
import { positiveInteger, seedOption, type ExplainContext, type ImageInput } from '../context.js';
import type { RunOptions } from '../progress.js';
import { mulberry32 } from '../random.js';
import type { Score } from '../score.js';
import { metricTarget, type MapInput, type MetricTarget } from './deletion_insertion.js';

export type InfidelityPerturbation = 'gaussian' | 'square';

export interface InfidelityOptions extends RunOptions {
  /** Class whose score is followed (or one per image). Default: the map's own target, else 'top'. */
  target?: MetricTarget;
  /** Default 'logit', the score the attribution methods explain by default. */
  score?: Score;
  /** Default 'gaussian'. */
  perturbation?: InfidelityPerturbation;
  /** Draws of I. Default 64. */
  samples?: number;
  /** 'gaussian': sigma as a fraction of the input range's width. Default 0.1. */
  noise?: number;
  /** 'square': side in pixels. Default a quarter of the shorter image side (at least 1). */
  squareSize?: number;
  /** 'square': what the square becomes: 'black' (the low end of the input range, default) or a number. */
  baseline?: 'black' | number;
  /** Scale Phi by the least-squares beta first (Captum's normalize). Default false (Captum's default). */
  normalize?: boolean;
  seed?: number;
}

export interface InfidelityResult {
  /** mean_k (beta I_k^T Phi - (f(x) - f(x - I_k)))^2. */
  infidelity: number;
  /** The scale applied to Phi: the least-squares beta with normalize, else 1. */
  beta: number;
  target: number;
  /** f(x), the target's score on the image. */
  score: number;
  /** I_k^T Phi per draw. */
  dots: Float64Array;
  /** f(x) - f(x - I_k) per draw. */
  scoreDrops: Float64Array;
  milliseconds: number;
}

/** Random stream of the Gaussian perturbations. */
export const INFIDELITY_STREAM = 6;
const WORKGROUP_SIZE = 64;
const kernel = (entry: string) => ({ shader: 'infidelity', entry, constants: { WORKGROUP_SIZE } });

/** Top-left corners [samples, 2] (row, column) of the removed squares, uniform over the positions that keep the square inside the image. */
export function squareCorners(samples: number, height: number, width: number, size: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const corners = new Float32Array(samples * 2);
  for (let k = 0; k < samples; k++) {
    corners[2 * k] = Math.floor(random() * (height - size + 1));
    corners[2 * k + 1] = Math.floor(random() * (width - size + 1));
  }
  return corners;
}

/** Captum's aggregation: sums of a^2, a b, b^2 over the draws give beta and the mean squared error. */
export function infidelityOf(dots: ArrayLike<number>, drops: ArrayLike<number>, normalize: boolean): { infidelity: number; beta: number } {
  let [aa, ab, bb] = [0, 0, 0];
  for (let k = 0; k < dots.length; k++) {
    aa += dots[k] * dots[k];
    ab += dots[k] * drops[k];
    bb += drops[k] * drops[k];
  }
  const beta = normalize ? (aa !== 0 ? ab / aa : 0) : 1;
  return { infidelity: (beta * beta * aa - 2 * beta * ab + bb) / dots.length, beta };
}

/** The map as [H * W * C'] with C' the image's channels or 1; ShapeError or OptionError otherwise. */
function attributionValues(ctx: ExplainContext, map: MapInput): { values: ArrayLike<number>; channels: number } {
  const [height, width, channels] = ctx.model.inputShape;
  const shape = map?.shape;
  const mapChannels = Array.isArray(shape) ? (shape[2] ?? 1) : 0;
  if (!Array.isArray(shape) || shape[0] !== height || shape[1] !== width || (mapChannels !== channels && mapChannels !== 1) || map.values?.length !== height * width * mapChannels) {
    throw new ShapeError(`The map must be an attribution [${height}, ${width}, ${channels}] (or [${height}, ${width}, 1]) with its values; got shape ${JSON.stringify(shape)}`);
  }
  for (let i = 0; i < map.values.length; i++) {
    if (!Number.isFinite(map.values[i])) throw new OptionError(`The map holds a non-finite value at element ${i}`);
  }
  return { values: map.values, channels: mapChannels };
}

/** One result for one image, an array for many. */
export type Infidelities<I> = ManyImages<I> extends true ? InfidelityResult[] : InfidelityResult;

/**
 * Infidelity of each image's map (one map per image of a batch, like the deletion/insertion curves).
 * The draws depend on the seed and the draw's number only, never on the image's place in a batch,
 * so each image of a batch gets exactly the result a call for it alone gives.
 */
export async function infidelity<I extends ImageInput | ImageBatch>(ctx: ExplainContext, images: I, maps: MapInput | readonly MapInput[], options: InfidelityOptions = {}): Promise<Infidelities<I>> {
  const { rt, model } = ctx;
  const [height, width, channels] = model.inputShape;
  const perturbation = options.perturbation ?? 'gaussian';
  if (perturbation !== 'gaussian' && perturbation !== 'square') throw new OptionError(`perturbation must be 'gaussian' or 'square', got ${JSON.stringify(perturbation)}`);
  const samples = positiveInteger(options.samples ?? 64, 'samples', 1 << 20);
  const noise = options.noise ?? 0.1;
  if (typeof noise !== 'number' || !(noise > 0) || !Number.isFinite(noise)) throw new OptionError(`noise must be a finite number > 0 (a fraction of the input range), got ${String(noise)}`);
  const size = positiveInteger(options.squareSize ?? Math.max(1, Math.floor(Math.min(height, width) / 4)), 'squareSize', Math.min(height, width));
  const baseline = options.baseline ?? 'black';
  if (baseline !== 'black' && !(typeof baseline === 'number' && Number.isFinite(baseline))) throw new OptionError(`baseline must be 'black' or a finite number, got ${JSON.stringify(baseline)}`);
  const normalize = options.normalize ?? false;
  if (typeof normalize !== 'boolean') throw new OptionError(`normalize must be true or false, got ${String(normalize)}`);
  const seed = seedOption(options.seed, 0);
  const score = options.score ?? 'logit';
  if (score !== 'logit' && score !== 'probability') throw new OptionError(`infidelity takes score 'logit' or 'probability', got ${JSON.stringify(score)}`);
  const mapList: readonly MapInput[] = Array.isArray(maps) ? maps : [maps as MapInput];
  const phis = mapList.map((map) => attributionValues(ctx, map));
  const { count } = imageList(ctx, images);
  if (phis.length !== count) throw new OptionError(`${phis.length} map(s) for ${count} image(s): give one map per image`);
  const target = metricTarget(options.target ?? (Array.isArray(maps) ? mapList.map((m) => m.target ?? 'top') : (mapList[0].target ?? 'top')), 'infidelity');
  // maps of one call share a layout: one-channel maps are broadcast when another map has the image's channels
  const phiChannels = Math.max(...phis.map((p) => p.channels));
  const pixels = height * width;
  const [low, high] = ctx.inputRange;
  const sigma = Math.fround(noise * (high - low));
  const fill = baseline === 'black' ? low : baseline;
  const params = (start: number, n: number) => ({ height, width, channels, phi_channels: phiChannels, size, fill, start, count: n });
  const batchOptions = { ...options, target, score } as BatchOptions;
  let nextImage = 0;
  return runBatch<InfidelityResult, Infidelities<I>>(ctx, images, batchOptions, (resolved): BatchMethod<InfidelityResult> => {
    let phi: Tensor | undefined;
    let corners: Tensor | undefined;
    let result: Tensor | undefined;
    return {
      kind: `infidelity:${perturbation}`,
      copiesPerJob: samples,
      pass: { keep: [resolved.node] },
      imageFloats: pixels * phiChannels,
      // every draw's dot and score, and f(x)
      jobFloats: 2 * samples + 1,
      // the chunk's scores before they are copied into place
      copyFloats: 1,
      groupFloats: perturbation === 'square' ? 2 * samples : 0,
      cleanScores: true,
      begin: (group) => {
        const first = nextImage;
        nextImage += group.imageCount;
        const table = new Float32Array(group.imageCount * pixels * phiChannels);
        for (let g = 0; g < group.imageCount; g++) {
          const { values, channels: c } = phis[first + g];
          const at = g * pixels * phiChannels;
          for (let e = 0; e < pixels * phiChannels; e++) table[at + e] = values[c === phiChannels ? e : Math.floor(e / phiChannels)];
        }
        phi = rt.upload([group.imageCount, height, width, phiChannels], table, 'infidelity.phi');
        if (perturbation === 'square') corners = rt.upload([samples, 2], squareCorners(samples, height, width, size, seed), 'infidelity.corners');
        // [dots of every copy | scores of every copy | f(x) of every job]
        result = rt.empty([group.jobs * (2 * samples + 1)], 'infidelity.result');
      },
      chunk: (group, table, first, n) => {
        let copies: Tensor;
        if (corners) {
          copies = rt.empty([n, height, width, channels], 'infidelity.copies');
          rt.dispatch(kernel('square_copies'), { bindings: { images: group.images, corners, table, copies }, uniforms: params(first, n), workgroups: rt.grid(copies.size, WORKGROUP_SIZE) });
        } else {
          // x - I with I = -sigma N: the same distribution as x - sigma N; the draw of copy k depends on (seed, k) only
          copies = addGaussianNoiseRows(rt, group.images, table, sigma, { seed, stream: INFIDELITY_STREAM });
        }
        rt.dispatch(kernel('perturbation_dots'), { bindings: { images: group.images, copies, phi: phi!, table, dots: result! }, uniforms: params(first, n), workgroups: rt.grid(n, WORKGROUP_SIZE) });
        const scores = copyScores(ctx, resolved, copies, table, group.mask);
        rt.copy(scores, result!, n, 0, group.jobs * samples + first);
        scores.dispose();
      },
      finish: (group) => {
        rt.copy(group.clean!, result!, group.jobs, 0, 2 * group.jobs * samples);
        const packed = result!;
        result = undefined;
        return packed;
      },
      results: (group, values, targets, milliseconds) => {
        const ms = milliseconds();
        return Array.from(targets, (t, j) => {
          const dots = Float64Array.from(values.subarray(j * samples, (j + 1) * samples));
          const f = values[2 * group.jobs * samples + j];
          const at = group.jobs * samples + j * samples;
          const scoreDrops = Float64Array.from(values.subarray(at, at + samples), (v) => f - v);
          return { ...infidelityOf(dots, scoreDrops, normalize), target: t, score: f, dots, scoreDrops, milliseconds: ms };
        });
      },
      end: () => {
        for (const t of [phi, corners, result]) t?.dispose();
      },
    };
  });
}
