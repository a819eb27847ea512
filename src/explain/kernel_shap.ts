/**
 * KernelSHAP (Lundberg & Lee 2017, "A unified approach to interpreting model predictions",
 * Theorem 2) over image segments: Shapley values as the weighted least-squares fit of
 * f(z) - f(empty) = sum_i z_i phi_i over coalitions z, with the Shapley kernel
 * pi(z) = (M - 1) / (C(M, |z|) |z| (M - |z|)). The empty and full coalitions have infinite weight,
 * i.e. they are constraints: f(empty) is the intercept and sum_i phi_i = f(x) - f(empty), enforced
 * by eliminating the last segment's value as the shap package does (phi_M = delta - sum_{i<M} phi_i).
 *
 * Coalitions: when 2^M - 2 fit in `samples`, all of them with their kernel weights (exact Shapley
 * values); otherwise sizes drawn from the kernel's distribution over sizes, p(s) ~ 1/(s (M - s)),
 * a uniform coalition of that size and its complement (the paired-sampling trick: both sizes have
 * the same probability), each with weight 1 (importance sampling from the kernel itself).
 * Off segments show the baseline; the copies are scored in batches on the GPU. The coalitions come
 * from mulberry32(seed) and the image's segment count only: every image of a batch draws the
 * coalitions a call for that image alone draws (see perturbation.ts).
 */
import { OptionError } from '../errors.js';
import type { Attribution } from './attribution.js';
import type { Explained, ImageBatch } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { weightedLeastSquares } from './least_squares.js';
import { perturbationBatch, planPerturbation, segmentMap, type PerturbationOptions } from './perturbation.js';
import { mulberry32 } from './random.js';
import type { Segmentation } from './segmentation.js';

export interface KernelShapOptions extends PerturbationOptions {
  /**
   * Coalitions evaluated besides the empty and the full one. 'auto' (default): 2 M + 2048 as the
   * shap package, capped at the 2^M - 2 coalitions that exist (then the values are exact).
   */
  samples?: number | 'auto';
}

export interface KernelShapAttribution extends Attribution {
  /** Shapley value per segment. */
  shapValues: Float64Array;
  /** |sum of the values - (f(x) - f(baseline))|. */
  additivityError: number;
  scores: { input: number; baseline: number };
  segmentation: Segmentation;
  /** Coalitions evaluated (without the empty and full ones). */
  samples: number;
  /** True when every coalition was evaluated: the values are the exact Shapley values. */
  exact: boolean;
}

const MAX_SAMPLES = 1 << 20;

/** Every coalition but the empty and full one when they fit in `budget`, else undefined. */
function allCoalitions(segments: number, budget: number): { masks: Float32Array; weights: Float64Array } | undefined {
  if (segments > 20 || 2 ** segments - 2 > budget) return undefined;
  const count = 2 ** segments - 2;
  const masks = new Float32Array(count * segments);
  const weights = new Float64Array(count);
  const binomial = (n: number, k: number) => {
    let c = 1;
    for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
    return c;
  };
  for (let bits = 1; bits <= count; bits++) {
    let size = 0;
    for (let s = 0; s < segments; s++) {
      const on = (bits >> s) & 1;
      masks[(bits - 1) * segments + s] = on;
      size += on;
    }
    weights[bits - 1] = (segments - 1) / (binomial(segments, size) * size * (segments - size));
  }
  return { masks, weights };
}

/** `count` coalitions: kernel-distributed sizes, each followed by its complement. */
function sampledCoalitions(segments: number, count: number, random: () => number): Float32Array {
  const cumulative: number[] = [];
  let total = 0;
  for (let s = 1; s < segments; s++) cumulative.push((total += 1 / (s * (segments - s))));
  const masks = new Float32Array(count * segments);
  const order = Int32Array.from({ length: segments }, (_, i) => i);
  for (let r = 0; r < count; r += 2) {
    const u = random() * total;
    let size = 1;
    while (cumulative[size - 1] < u) size++;
    // partial Fisher-Yates: the first `size` of a random permutation are on
    for (let i = 0; i < size; i++) {
      const j = i + Math.floor(random() * (segments - i));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let i = 0; i < size; i++) masks[r * segments + order[i]] = 1;
    if (r + 1 < count) for (let s = 0; s < segments; s++) masks[(r + 1) * segments + s] = 1 - masks[r * segments + s];
  }
  return masks;
}

/** KernelSHAP's mask rows: the full coalition, the empty one, then the sampled (or enumerated) ones, with the latter's weights when enumerated. */
export function kernelShapRows(segments: number, requested: number | 'auto', seed: number): { masks: Float32Array; coalitions: number; coalitionWeights?: Float64Array } {
  const budget = requested === 'auto' ? Math.min(2 * segments + 2048, MAX_SAMPLES) : requested;
  const all = segments > 1 ? allCoalitions(segments, budget) : { masks: new Float32Array(0), weights: new Float64Array(0) };
  const sampled = all?.masks ?? sampledCoalitions(segments, budget, mulberry32(seed));
  const masks = new Float32Array(sampled.length + 2 * segments);
  masks.fill(1, 0, segments);
  masks.set(sampled, 2 * segments);
  return { masks, coalitions: sampled.length / segments, coalitionWeights: all?.weights };
}

/** The constrained weighted least squares on the rows' scores (full, empty, coalitions): Shapley values that add up to f(x) - f(empty). */
export function shapleyFit(rows: ReturnType<typeof kernelShapRows>, segments: number, scores: Float64Array): { phi: Float64Array; additivityError: number } {
  const { masks, coalitions, coalitionWeights } = rows;
  const [full, empty] = [scores[0], scores[1]];
  const delta = full - empty;
  // eliminate phi_M: f(z) - f(empty) - z_M delta = sum_{i<M} (z_i - z_M) phi_i
  const cols = segments - 1;
  const x = new Float64Array(coalitions * cols);
  const y = new Float64Array(coalitions);
  for (let r = 0; r < coalitions; r++) {
    const row = (r + 2) * segments;
    const last = masks[row + cols];
    y[r] = scores[r + 2] - empty - last * delta;
    for (let i = 0; i < cols; i++) x[r * cols + i] = masks[row + i] - last;
  }
  const phi = new Float64Array(segments);
  if (cols > 0) phi.set(weightedLeastSquares(x, y, coalitionWeights ?? new Float64Array(coalitions).fill(1), coalitions, cols));
  let sum = 0;
  for (let i = 0; i < cols; i++) sum += phi[i];
  phi[cols] = delta - sum;
  return { phi, additivityError: Math.abs(phi.reduce((a, b) => a + b, 0) - delta) };
}

export async function kernelShap<I extends ImageInput | ImageBatch, O extends KernelShapOptions = KernelShapOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, KernelShapAttribution, O>> {
  const requested = options.samples ?? 'auto';
  if (requested !== 'auto' && (!Number.isInteger(requested) || requested < 1 || requested > MAX_SAMPLES)) {
    throw new OptionError(`samples must be 'auto' or an integer in 1..${MAX_SAMPLES}, got ${String(requested)}`);
  }
  const plan = planPerturbation(ctx, options);
  const [height, width] = ctx.model.inputShape;
  const sample = ({ segments }: Segmentation) => kernelShapRows(segments, requested, plan.seed);
  return perturbationBatch(ctx, images, options, plan, 'kernelshap', sample, (rows, segmentation, scores, target, milliseconds): KernelShapAttribution => {
    const { segments } = segmentation;
    const { phi, additivityError } = shapleyFit(rows, segments, scores);
    return {
      method: 'kernelshap',
      values: segmentMap(segmentation, phi),
      shape: [height, width, 1],
      target,
      milliseconds,
      shapValues: phi,
      additivityError,
      scores: { input: scores[0], baseline: scores[1] },
      segmentation,
      samples: rows.coalitions,
      exact: rows.coalitionWeights !== undefined,
    };
  });
}
