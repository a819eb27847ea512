/**
 * LIME (Ribeiro, Singh, Guestrin 2016, "Why should I trust you?", Sec. 3) over image segments, as
 * the lime package's LimeImageExplainer does it: uniformly random on/off masks over the segments
 * (the first sample is the image itself), the masked copies scored as batched forward passes on
 * the GPU, each sample weighted by the exponential kernel pi(z) = sqrt(exp(-d(z)^2 / width^2)) on
 * the cosine distance d between its mask and the all-on mask (width 0.25, lime_image's default),
 * and a weighted ridge regression (alpha 1, with intercept) whose coefficients are the segments'
 * weights; its weighted R^2 says how well the linear surrogate fits locally. The masks come from
 * mulberry32(seed) and the image's segment count only: every image of a batch draws the masks a
 * call for that image alone draws (see perturbation.ts).
 */
import { OptionError } from '../errors.js';
import type { Attribution } from './attribution.js';
import type { Explained, ImageBatch } from './batch.js';
import { positiveInteger, type ExplainContext, type ImageInput } from './context.js';
import { weightedRidge } from './least_squares.js';
import { perturbationBatch, planPerturbation, segmentMap, type PerturbationOptions } from './perturbation.js';
import { mulberry32 } from './random.js';
import type { Segmentation } from './segmentation.js';

export interface LimeOptions extends PerturbationOptions {
  /** Masked copies, the first being the image itself. Default 1000 (lime's num_samples). */
  samples?: number;
  /** Width of the exponential kernel on the cosine distance. Default 0.25 (lime_image). */
  kernelWidth?: number;
  /** Ridge penalty of the surrogate. Default 1 (lime's Ridge(alpha=1)). */
  ridge?: number;
}

export interface LimeAttribution extends Attribution {
  /** The surrogate's coefficient per segment. */
  weights: Float64Array;
  intercept: number;
  /** Weighted R^2 of the surrogate on the samples. */
  r2: number;
  segmentation: Segmentation;
  samples: number;
  /** The unmasked image's score for the target. */
  score: number;
}

/** Cosine distance between a mask with `on` of `segments` segments on and the all-on mask (1 for the empty mask). */
export function cosineDistanceToFull(on: number, segments: number): number {
  return on === 0 ? 1 : 1 - Math.sqrt(on / segments);
}

/** LIME's [samples, segments] on/off masks from mulberry32(seed): the first row all on (the image itself), the rest uniform. */
export function limeMasks(segments: number, samples: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const masks = new Float32Array(samples * segments);
  masks.fill(1, 0, segments);
  for (let i = segments; i < masks.length; i++) masks[i] = random() < 0.5 ? 0 : 1;
  return masks;
}

/** The surrogate: each sample weighted by the exponential kernel on its cosine distance to the image, then the weighted ridge fit. */
export function limeFit(masks: Float32Array, scores: Float64Array, segments: number, kernelWidth: number, ridge: number) {
  const samples = scores.length;
  const weights = new Float64Array(samples);
  for (let r = 0; r < samples; r++) {
    let on = 0;
    for (let s = 0; s < segments; s++) on += masks[r * segments + s];
    weights[r] = Math.sqrt(Math.exp(-(cosineDistanceToFull(on, segments) ** 2) / kernelWidth ** 2));
  }
  return weightedRidge(masks, scores, weights, samples, segments, ridge);
}

export async function lime<I extends ImageInput | ImageBatch, O extends LimeOptions = LimeOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, LimeAttribution, O>> {
  const samples = positiveInteger(options.samples ?? 1000, 'samples', 1 << 20);
  const kernelWidth = options.kernelWidth ?? 0.25;
  if (!(kernelWidth > 0) || !Number.isFinite(kernelWidth)) throw new OptionError(`kernelWidth must be a finite number > 0, got ${kernelWidth}`);
  const ridge = options.ridge ?? 1;
  if (!(ridge >= 0) || !Number.isFinite(ridge)) throw new OptionError(`ridge must be a finite number >= 0, got ${ridge}`);
  const plan = planPerturbation(ctx, options);
  const [height, width] = ctx.model.inputShape;
  const sample = ({ segments }: Segmentation) => ({ masks: limeMasks(segments, samples, plan.seed) });
  return perturbationBatch(ctx, images, options, plan, 'lime', sample, ({ masks }, segmentation, scores, target, milliseconds): LimeAttribution => {
    const fit = limeFit(masks, scores, segmentation.segments, kernelWidth, ridge);
    return {
      method: 'lime',
      values: segmentMap(segmentation, fit.coef),
      shape: [height, width, 1],
      target,
      milliseconds,
      weights: fit.coef,
      intercept: fit.intercept,
      r2: fit.r2,
      segmentation,
      samples,
      score: scores[0],
    };
  });
}
