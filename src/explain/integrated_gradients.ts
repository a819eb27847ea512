/**
 * Integrated Gradients (Sundararajan, Taly, Yan 2017): attribution_i = (x_i - x'_i) *
 * integral_0^1 dF(x' + a (x - x')) / dx_i da (eq. 3), with the integral replaced by a quadrature
 * rule. All path points run as one batch (chunked only at the device's limits); completeness
 * (sum of attributions = F(x) - F(x'), their Proposition 1) is reported as a relative error.
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import { gaussianBlur } from '../ops/blur.js';
import { randomUniform } from '../ops/random.js';
import type { Attribution } from './attribution.js';
import { checkFiniteResult, checkImage, chunkSize, positiveInteger, prepareImage, seedOption, type ExplainContext, type ImageInput } from './context.js';
import { inputGradient } from './gradients.js';
import { chunks, throwIfAborted, type RunOptions } from './progress.js';
import { resolveTargets, type TargetOptions } from './saliency.js';
import { checkTarget, scoreNode } from './score.js';

export type IntegrationRule = 'riemann-left' | 'riemann-right' | 'riemann-middle' | 'trapezoid' | 'gauss-legendre';
export const INTEGRATION_RULES: readonly IntegrationRule[] = ['riemann-left', 'riemann-right', 'riemann-middle', 'trapezoid', 'gauss-legendre'];

export interface Quadrature {
  /** Points a in [0, 1] along the path. */
  alphas: Float64Array;
  /** Weights summing to 1. */
  weights: Float64Array;
}

/** Gauss-Legendre nodes and weights on [-1, 1] by Newton's method on P_n (Numerical Recipes gauleg). */
function gaussLegendre(n: number): Quadrature {
  const alphas = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iteration = 0; iteration < 100; iteration++) {
      let p1 = 1;
      let p2 = 0;
      for (let j = 1; j <= n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j;
      }
      derivative = (n * (z * p1 - p2)) / (z * z - 1);
      const previous = z;
      z = previous - p1 / derivative;
      if (Math.abs(z - previous) < 1e-15) break;
    }
    const w = 2 / ((1 - z * z) * derivative * derivative);
    // map [-1, 1] to [0, 1]: a = (1 + z) / 2, weight halves
    alphas[i] = (1 - z) / 2;
    alphas[n - 1 - i] = (1 + z) / 2;
    weights[i] = weights[n - 1 - i] = w / 2;
  }
  return { alphas, weights };
}

/** `steps` gradient evaluations placed and weighted by `rule`. */
export function quadrature(rule: IntegrationRule, steps: number): Quadrature {
  if (!Number.isInteger(steps) || steps < 1) throw new OptionError(`steps must be a positive integer, got ${steps}`);
  const alphas = new Float64Array(steps);
  const weights = new Float64Array(steps).fill(1 / steps);
  switch (rule) {
    case 'riemann-left': alphas.forEach((_, k) => (alphas[k] = k / steps)); break;
    case 'riemann-right': alphas.forEach((_, k) => (alphas[k] = (k + 1) / steps)); break;
    case 'riemann-middle': alphas.forEach((_, k) => (alphas[k] = (k + 0.5) / steps)); break;
    case 'trapezoid':
      if (steps < 2) throw new OptionError('the trapezoid rule needs at least 2 steps');
      alphas.forEach((_, k) => (alphas[k] = k / (steps - 1)));
      weights.fill(1 / (steps - 1));
      weights[0] = weights[steps - 1] = 0.5 / (steps - 1);
      break;
    case 'gauss-legendre': return gaussLegendre(steps);
    default: throw new OptionError(`Unknown integration rule '${String(rule)}' (use ${INTEGRATION_RULES.join(', ')})`);
  }
  return { alphas, weights };
}

export type Baseline = 'black' | 'white' | 'blur' | 'uniform' | Tensor | { data: ArrayLike<number>; shape: readonly number[] };

export interface IntegratedGradientsOptions extends TargetOptions, RunOptions {
  /** Gradient evaluations along the path. Default 64. */
  steps?: number;
  /** Default 'black' (the low end of the input range). */
  baseline?: Baseline;
  /** Default 'gauss-legendre'. */
  rule?: IntegrationRule;
  /** Seed of the 'uniform' baseline. */
  seed?: number;
  /** Sigma of the 'blur' baseline in pixels. Default 5% of the larger image side. */
  blurSigma?: number;
}

/** Random stream of the uniform baseline. */
export const BASELINE_STREAM = 2;
const WORKGROUP_SIZE = 64;
const attributionKernel = (entry: string) => ({ shader: 'attribution', entry, constants: { WORKGROUP_SIZE } });

const BASELINES = ['black', 'white', 'blur', 'uniform'];

/** Rejects an unknown baseline name or a baseline image of the wrong shape before any GPU work. */
function checkBaseline(ctx: ExplainContext, options: IntegratedGradientsOptions): void {
  const baseline = options.baseline ?? 'black';
  if (typeof baseline === 'string') {
    if (!BASELINES.includes(baseline)) throw new OptionError(`Unknown baseline '${baseline}' (use ${BASELINES.join(', ')} or a tensor)`);
  } else {
    checkImage(ctx, baseline, 'baseline image');
  }
  const sigma = options.blurSigma;
  if (sigma !== undefined && !(typeof sigma === 'number' && sigma > 0 && Number.isFinite(sigma))) {
    throw new OptionError(`blurSigma must be a finite number of pixels > 0, got ${String(sigma)}`);
  }
  seedOption(options.seed, 0);
}

function makeBaseline(ctx: ExplainContext, image: Tensor, options: IntegratedGradientsOptions): Tensor {
  const { rt } = ctx;
  const [low, high] = ctx.inputRange;
  const baseline = options.baseline ?? 'black';
  if (baseline === 'black' || baseline === 'white') {
    const t = rt.empty(image.shape, 'baseline');
    rt.fill(t, baseline === 'black' ? low : high);
    return t;
  }
  if (baseline === 'uniform') return randomUniform(rt, image.shape, low, high, { seed: seedOption(options.seed, 0), stream: BASELINE_STREAM });
  if (baseline === 'blur') {
    const sigma = options.blurSigma ?? 0.05 * Math.max(image.shape[1], image.shape[2]);
    return gaussianBlur(rt, image, sigma);
  }
  const prepared = prepareImage(ctx, baseline);
  if (prepared.owned) return prepared.tensor;
  const copy = rt.empty(image.shape, 'baseline');
  rt.copy(prepared.tensor, copy);
  return copy;
}

export async function integratedGradients(ctx: ExplainContext, image: ImageInput, options: IntegratedGradientsOptions = {}): Promise<Attribution> {
  const started = performance.now();
  const steps = positiveInteger(options.steps ?? 64, 'steps', 1 << 16);
  const { alphas, weights } = quadrature(options.rule ?? 'gauss-legendre', steps);
  const node = scoreNode(ctx.model, options.score);
  const target = options.target ?? 'top';
  checkTarget(ctx.model, node, target);
  throwIfAborted(options.signal);
  const { rt, model } = ctx;

  const chunk = chunkSize(ctx, steps);
  checkBaseline(ctx, options);
  const input = prepareImage(ctx, image);
  const elements = input.tensor.size;
  const baseline = makeBaseline(ctx, input.tensor, options);
  const targets = resolveTargets(ctx, input.tensor, target);
  // F(x) and F(baseline) for the completeness check, from one batch of two
  const ends = rt.empty([2, ...model.inputShape], 'ig.ends');
  rt.copy(input.tensor, ends, elements, 0, 0);
  rt.copy(baseline, ends, elements, 0, elements);
  const endPass = model.forward(ends, { keep: [node] });
  const endScores = rt.empty(endPass.value(node).shape, 'ig.scores');
  rt.copy(endPass.value(node), endScores);
  endPass.dispose();
  ends.dispose();

  const sum = rt.empty([elements], 'ig.sum');
  rt.fill(sum, 0);
  const owned = [baseline, targets, endScores, sum];
  try {
    for (const { start, count } of chunks(steps, chunk)) {
      throwIfAborted(options.signal);
      const alphaTensor = rt.upload([count], alphas.subarray(start, start + count), 'ig.alphas');
      const weightTensor = rt.upload([count], weights.subarray(start, start + count), 'ig.weights');
      const path = rt.empty([count, ...model.inputShape], 'ig.path');
      rt.dispatch(attributionKernel('interpolate'), {
        bindings: { image: input.tensor, baseline, alphas: alphaTensor, path },
        uniforms: { spatial: elements, channels: 1, count, scale: 1 },
        workgroups: rt.grid(path.size, WORKGROUP_SIZE),
      });
      const grads = inputGradient(model, path, node, targets);
      rt.dispatch(attributionKernel('accumulate'), {
        bindings: { grads, weights: weightTensor, sum },
        uniforms: { spatial: elements, channels: 1, count, scale: 1 },
        workgroups: rt.grid(elements, WORKGROUP_SIZE),
      });
      for (const t of [alphaTensor, weightTensor, path, grads]) t.dispose();
      if (start + count < steps) {
        await rt.flush();
        options.onProgress?.({ done: start + count, total: steps, elapsed: performance.now() - started });
      }
    }
    const result = rt.empty([elements], 'ig');
    rt.dispatch(attributionKernel('finish_path'), {
      bindings: { image: input.tensor, baseline, sum, result },
      workgroups: rt.grid(elements, WORKGROUP_SIZE),
    });
    const values = await rt.read(result);
    result.dispose();
    checkFiniteResult(values, 'Integrated Gradients map');
    const [index] = await rt.read(targets);
    const scores = await rt.read(endScores);
    checkFiniteResult(scores, 'scores of the input and the baseline');
    const classes = scores.length / 2;
    const difference = scores[index] - scores[classes + index];
    const total = values.reduce((a, v) => a + v, 0);
    options.onProgress?.({ done: steps, total: steps, elapsed: performance.now() - started });
    return {
      method: 'integrated-gradients',
      values,
      shape: [...model.inputShape] as [number, number, number],
      target: index,
      milliseconds: performance.now() - started,
      completenessError: Math.abs(total - difference) / Math.max(Math.abs(difference), 1e-12),
      scores: { input: scores[index], baseline: scores[classes + index] },
    };
  } finally {
    for (const t of owned) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
