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
 * I^T Phi and their scores are made on the GPU (shaders/infidelity.wgsl) in chunks of about
 * TARGET_MS (schedule.ts); the sums and scores are read back once.
 */
import { OptionError, ShapeError } from '../../errors.js';
import type { Tensor } from '../../gpu/tensor.js';
import { addGaussianNoise } from '../../ops/random.js';
import { checkFiniteResult, positiveInteger, seedOption, type ExplainContext, type ImageInput } from '../context.js';
import { throwIfAborted, type RunOptions } from '../progress.js';
import { mulberry32 } from '../random.js';
import { Schedule } from '../schedule.js';
import type { Score, Target } from '../score.js';
import { chunkSize, prepareImage, singleTarget, targetTensor } from '../single_image.js';
import type { MapInput } from './deletion_insertion.js';

export type InfidelityPerturbation = 'gaussian' | 'square';

export interface InfidelityOptions extends RunOptions {
  /** Class whose score is followed. Default: the map's own target, else 'top'. */
  target?: Target;
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

export async function infidelity(ctx: ExplainContext, image: ImageInput, map: MapInput, options: InfidelityOptions = {}): Promise<InfidelityResult> {
  const started = performance.now();
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
  const { score, request } = singleTarget(ctx, options.score ?? 'logit', options.target ?? map?.target, 'infidelity');
  const phiValues = attributionValues(ctx, map);
  throwIfAborted(options.signal);
  const [low, high] = ctx.inputRange;
  const sigma = Math.fround(noise * (high - low));
  const params = (start: number, count: number) => ({
    height, width, channels, phi_channels: phiValues.channels, size, score_positions: score.positions, classes: score.channels, start, count,
  });

  const input = prepareImage(ctx, image, 'infidelity');
  const owned: Tensor[] = [];
  try {
    const targets = targetTensor(ctx, input.tensor, score, request);
    const phi = rt.upload([height, width, phiValues.channels], phiValues.values, 'infidelity.phi');
    // [dots of the draws | scores of the draws, f(x) | target], read once
    const result = rt.empty([2 * samples + 2], 'infidelity.result');
    const scores = rt.empty([samples + 1], 'infidelity.scores');
    owned.push(targets, phi, result, scores);
    let square: { corners: Tensor; fill: Tensor } | undefined;
    if (perturbation === 'square') {
      const corners = rt.upload([samples, 2], squareCorners(samples, height, width, size, seed), 'infidelity.corners');
      const fill = rt.empty(input.tensor.shape, 'infidelity.baseline');
      rt.fill(fill, baseline === 'black' ? low : baseline);
      square = { corners, fill };
      owned.push(corners, fill);
    }
    const scoreBatch = (copies: Tensor, start: number, count: number) => {
      const pass = model.forward(copies, { keep: [score.node] });
      rt.dispatch(kernel('gather_scores'), { bindings: { batch: pass.value(score.node), targets, scores }, uniforms: params(start, count), workgroups: rt.grid(count, WORKGROUP_SIZE) });
      pass.dispose();
    };
    const schedule = new Schedule(rt, options, samples, ctx.pace ?? (ctx.pace = new Map()), `infidelity:${model.spec.source}`, model.flops(1));
    await schedule.run(samples, chunkSize(ctx, samples), (start, count) => {
      let copies: Tensor;
      if (square) {
        copies = rt.empty([count, height, width, channels], 'infidelity.copies');
        rt.dispatch(kernel('square_copies'), { bindings: { image: input.tensor, baseline: square.fill, corners: square.corners, copies }, uniforms: params(start, count), workgroups: rt.grid(copies.size, WORKGROUP_SIZE) });
      } else {
        // x - I with I = -sigma N: the same distribution as x - sigma N, drawn by the shared generator
        copies = addGaussianNoise(rt, input.tensor, count, sigma, { seed, stream: INFIDELITY_STREAM }, start);
      }
      rt.dispatch(kernel('perturbation_dots'), { bindings: { image: input.tensor, copies, phi, dots: result }, uniforms: params(start, count), workgroups: rt.grid(count, WORKGROUP_SIZE) });
      scoreBatch(copies, start, count);
      copies.dispose();
    });
    scoreBatch(input.tensor, samples, 1);
    rt.copy(scores, result, samples + 1, 0, samples);
    rt.copy(targets, result, 1, 0, 2 * samples + 1);
    const packed = await rt.read(result);
    checkFiniteResult(packed, 'infidelity sums and scores');
    const dots = Float64Array.from(packed.subarray(0, samples));
    const f = packed[2 * samples];
    const scoreDrops = Float64Array.from(packed.subarray(samples, 2 * samples), (v) => f - v);
    return { ...infidelityOf(dots, scoreDrops, normalize), target: packed[2 * samples + 1], score: f, dots, scoreDrops, milliseconds: performance.now() - started };
  } finally {
    for (const t of owned) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
