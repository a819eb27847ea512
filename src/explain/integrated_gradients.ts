/**
 * Integrated Gradients (Sundararajan, Taly, Yan 2017): attribution_i = (x_i - x'_i) *
 * integral_0^1 dF(x' + a (x - x')) / dx_i da (eq. 3), with the integral replaced by a quadrature
 * rule. The path points of all images and targets run as GPU batches (planned chunks); completeness
 * (sum of attributions = F(x) - F(x'), their Proposition 1) is reported as a relative error.
 */
import { OptionError } from '../errors.js';
import { Tensor } from '../gpu/tensor.js';
import { gaussianBlur } from '../ops/blur.js';
import { randomUniform } from '../ops/random.js';
import { withCompleteness, type Attribution } from './attribution.js';
import { runBatch, type BatchMethod, type BatchOptions, type Explained, type ImageBatch } from './batch.js';
import { checkImage, positiveInteger, seedOption, type ExplainContext, type ImageInput } from './context.js';
import { rowUniforms, scoreGradient } from './gradients.js';
import type { RunOptions } from './progress.js';
import type { TargetOptions } from './saliency.js';
import { itemScores } from './score.js';

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

/** Rejects an unknown baseline name, a baseline image of the wrong shape, a bad blurSigma or seed before any GPU work. */
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

/** The baselines of a group: one [1, H, W, C] shared by all images, or one per image ('blur'). */
function makeBaselines(ctx: ExplainContext, images: Tensor, options: IntegratedGradientsOptions): Tensor {
  const { rt, model } = ctx;
  const [low, high] = ctx.inputRange;
  const baseline = options.baseline ?? 'black';
  const one = [1, ...model.inputShape];
  if (baseline === 'black' || baseline === 'white') {
    const t = rt.empty(one, 'baseline');
    rt.fill(t, baseline === 'black' ? low : high);
    return t;
  }
  if (baseline === 'uniform') return randomUniform(rt, one, low, high, { seed: seedOption(options.seed, 0), stream: BASELINE_STREAM });
  if (baseline === 'blur') {
    const sigma = options.blurSigma ?? 0.05 * Math.max(images.shape[1], images.shape[2]);
    return gaussianBlur(rt, images, sigma);
  }
  if (!(baseline instanceof Tensor)) return rt.upload(one, baseline.data, 'baseline');
  const copy = rt.empty(one, 'baseline');
  rt.copy(baseline, copy);
  return copy;
}

export async function integratedGradients<I extends ImageInput | ImageBatch, O extends IntegratedGradientsOptions = IntegratedGradientsOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, Attribution, O>> {
  const steps = positiveInteger(options.steps ?? 64, 'steps', 1 << 16);
  const { alphas, weights } = quadrature(options.rule ?? 'gauss-legendre', steps);
  checkBaseline(ctx, options);
  const { rt, model } = ctx;
  const shape = model.inputShape;
  const elements = shape.reduce((a, b) => a * b, 1);
  return runBatch<Attribution, Explained<I, Attribution, O>>(ctx, images, options as BatchOptions, (score): BatchMethod<Attribution> => {
    let baselines: Tensor | undefined;
    let baselineScores: Tensor | undefined;
    let alphaTensor: Tensor | undefined;
    let weightTensor: Tensor | undefined;
    let sum: Tensor | undefined;
    return {
      kind: 'integrated-gradients',
      copiesPerJob: steps,
      pass: { backward: { seedNode: score.node, to: model.inputName }, keep: [score.node] },
      // a baseline per image ('blur')
      imageFloats: elements,
      // sum, result, two end scores
      jobFloats: 2 * elements + 2,
      copyFloats: 0,
      // the path's points and weights
      groupFloats: 2 * steps,
      cleanScores: true,
      begin: (group) => {
        baselines = makeBaselines(ctx, group.images, options);
        // F(baseline) for the completeness check; F(x) is the group's clean score
        const pass = model.forward(baselines, { keep: [score.node] });
        baselineScores = itemScores(rt, score, pass.value(score.node), group.jobTable, group.mask, true);
        pass.dispose();
        alphaTensor = rt.upload([steps], alphas, 'ig.alphas');
        weightTensor = rt.upload([steps], weights, 'ig.weights');
        sum = rt.empty([group.jobs, elements], 'ig.sum');
        rt.fill(sum, 0);
      },
      chunk: (group, table, first, count) => {
        const path = rt.empty([count, ...shape], 'ig.path');
        rt.dispatch(attributionKernel('interpolate_rows'), {
          bindings: { images: group.images, baselines: baselines!, table, alphas: alphaTensor!, path },
          uniforms: rowUniforms(model, first, count, steps),
          workgroups: rt.grid(path.size, WORKGROUP_SIZE),
        });
        const { gradient, pass } = scoreGradient(model, score, path, table, group.mask);
        pass.dispose();
        path.dispose();
        const jobsInChunk = Math.floor((first + count - 1) / steps) - Math.floor(first / steps) + 1;
        rt.dispatch(attributionKernel('accumulate_jobs'), {
          bindings: { grads: gradient, weights: weightTensor!, sum: sum! },
          uniforms: rowUniforms(model, first, count, steps),
          workgroups: rt.grid(jobsInChunk * elements, WORKGROUP_SIZE),
        });
        gradient.dispose();
      },
      finish: (group) => {
        // [attributions J * E | F(x) J | F(baseline) J]
        const packed = rt.empty([group.jobs * (elements + 2)], 'ig.result');
        const result = rt.empty([group.jobs, elements], 'ig');
        rt.dispatch(attributionKernel('finish_paths'), {
          bindings: { images: group.images, baselines: baselines!, table: group.jobTable, sum: sum!, result },
          uniforms: rowUniforms(model, 0, group.jobs, 1),
          workgroups: rt.grid(result.size, WORKGROUP_SIZE),
        });
        rt.copy(result, packed, result.size, 0, 0);
        rt.copy(group.clean!, packed, group.jobs, 0, result.size);
        rt.copy(baselineScores!, packed, group.jobs, 0, result.size + group.jobs);
        result.dispose();
        return packed;
      },
      results: (group, values, targets, milliseconds) => {
        const ms = milliseconds();
        const ends = group.jobs * elements;
        return Array.from(targets, (target, j) => {
          const attribution = values.slice(j * elements, (j + 1) * elements);
          const input = values[ends + j];
          const baseline = values[ends + group.jobs + j];
          return withCompleteness({ method: 'integrated-gradients', values: attribution, shape: [...shape] as [number, number, number], target, milliseconds: ms }, { input, baseline });
        });
      },
      end: () => {
        for (const t of [baselines, baselineScores, alphaTensor, weightTensor, sum]) t?.dispose();
      },
    };
  });
}
