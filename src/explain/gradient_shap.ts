/**
 * GradientSHAP (Lundberg & Lee 2017's expected gradients, as Captum's GradientShap computes it):
 * for each of n samples draw a baseline b from a set, a point a ~ U[0, 1] and Gaussian noise,
 * x~ = x + N(0, sigma^2); the sample's attribution is grad f(b + a (x~ - b)) * (x~ - b), and the
 * map is their mean. Captum builds it as NoiseTunnel(smoothgrad) over InputBaselineXGradient, so
 * the difference is taken to the noisy input; with noise 0 (the default, Captum's stdevs = 0) it
 * is x - b. In expectation over a the gradient integrates along the path, so the attributions
 * add up to E_b[f(x) - f(b)] (Integrated Gradients' completeness, Sundararajan et al. 2017, in
 * expectation): `completenessError` compares their sum with f(x) minus the mean of f over the
 * drawn baselines, and shrinks as the samples grow.
 *
 * Draws: sample k's baseline and a come from mulberry32(seed) on the CPU (gradientShapDraws), its
 * noise from the GPU generator's (seed, GRADIENT_SHAP_STREAM, k): every job draws the same
 * samples, so an image explained in a batch gets the map it gets alone. The samples of all images
 * and targets run through the batch API as copies.
 */
import type { Tensor } from '../gpu/tensor.js';
import { binary } from '../ops/binary.js';
import { addGaussianNoiseRows } from '../ops/random.js';
import { withCompleteness, type Attribution } from './attribution.js';
import { checkBaselineSet, type BaselineSetOptions } from './baselines.js';
import { runBatch, type BatchMethod, type BatchOptions, type Explained, type ImageBatch } from './batch.js';
import { nonNegative, positiveInteger, seedOption, type ExplainContext, type ImageInput } from './context.js';
import { gatherRows, rowUniforms, scoreGradient } from './gradients.js';
import type { RunOptions } from './progress.js';
import { mulberry32 } from './random.js';
import type { TargetOptions } from './saliency.js';
import { itemScores } from './score.js';

export interface GradientShapOptions extends TargetOptions, RunOptions, BaselineSetOptions {
  /** Samples (baseline, point, noise) per image and target. Default 50. */
  samples?: number;
  /**
   * The baselines drawn from: 'uniform' (default: `baselineCount` seeded noise images over the
   * input range), 'black', 'white', an image, or a list or stack of images.
   */
  baselines?: BaselineSetOptions['baselines'];
  /** Standard deviation of the noise added to the input, as a fraction of the input range (SmoothGrad's `noise`). Default 0. */
  noise?: number;
  seed?: number;
}

/** Random stream of GradientSHAP's input noise (the 'uniform' baselines use BASELINE_STREAM). */
export const GRADIENT_SHAP_STREAM = 6;
const WORKGROUP_SIZE = 64;
const attributionKernel = (entry: string) => ({ shader: 'attribution', entry, constants: { WORKGROUP_SIZE } });

/** Sample k's baseline index and path point a_k in [0, 1): the CPU draws of a seed (also used by tests). */
export function gradientShapDraws(seed: number, samples: number, baselineCount: number): { baselines: Uint32Array; alphas: Float32Array } {
  const random = mulberry32(seed);
  const baselines = new Uint32Array(samples);
  const alphas = new Float32Array(samples);
  for (let k = 0; k < samples; k++) {
    baselines[k] = Math.min(baselineCount - 1, Math.floor(random() * baselineCount));
    alphas[k] = random();
  }
  return { baselines, alphas };
}

export async function gradientShap<I extends ImageInput | ImageBatch, O extends GradientShapOptions = GradientShapOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, Attribution, O>> {
  const samples = positiveInteger(options.samples ?? 50, 'samples', 1 << 20);
  const noise = nonNegative(options.noise ?? 0, 'noise');
  const seed = seedOption(options.seed, 0);
  const baselineSet = checkBaselineSet(ctx, options, 'uniform', seed);
  const draws = gradientShapDraws(seed, samples, baselineSet.count);
  const { rt, model } = ctx;
  const shape = model.inputShape;
  const elements = shape.reduce((a, b) => a * b, 1);
  const sigma = noise * (ctx.inputRange[1] - ctx.inputRange[0]);
  const count = baselineSet.count;
  return runBatch<Attribution, Explained<I, Attribution, O>>(ctx, images, options as BatchOptions, (score): BatchMethod<Attribution> => {
    let set: { tensor: Tensor; owned: boolean } | undefined;
    let alphas: Tensor | undefined;
    let weights: Tensor | undefined;
    let sum: Tensor | undefined;
    let baselineScores: Tensor | undefined;
    return {
      kind: 'gradientshap',
      copiesPerJob: samples,
      pass: { backward: { seedNode: score.node, to: model.inputName }, keep: [score.node] },
      imageFloats: 0,
      // sum, result; f of every baseline for the job's target
      jobFloats: 2 * elements + count,
      // noisy inputs, baselines, differences, path points, contributions beside the pass
      copyFloats: 5 * elements,
      // the baselines, the points and weights
      groupFloats: count * elements + 2 * samples,
      cleanScores: true,
      begin: (group) => {
        set = baselineSet.make(rt);
        // f(b) of every baseline for every job's target, for the completeness check
        const pass = model.forward(set.tensor, { keep: [score.node] });
        const table = rt.upload([group.jobs * count, 3], Array.from({ length: group.jobs * count }, (_, n) => [n % count, 0, Math.floor(n / count)]).flat(), 'gradientshap.baseline_rows');
        baselineScores = itemScores(rt, score, pass.value(score.node), table, group.mask, true);
        pass.dispose();
        table.dispose();
        alphas = rt.upload([samples], draws.alphas, 'gradientshap.alphas');
        weights = rt.upload([samples], new Float32Array(samples).fill(1 / samples), 'gradientshap.weights');
        sum = rt.empty([group.jobs, elements], 'gradientshap.sum');
        rt.fill(sum, 0);
      },
      chunk: (group, table, first, n) => {
        const noisy = addGaussianNoiseRows(rt, group.images, table, sigma, { seed, stream: GRADIENT_SHAP_STREAM });
        // row r: (baseline of its sample, sample, job) to gather the baselines, (r, sample, job) to interpolate
        const baselineRows = new Float32Array(n * 3);
        const pathRows = new Float32Array(n * 3);
        for (let r = 0; r < n; r++) {
          const job = Math.floor((first + r) / samples);
          const k = first + r - job * samples;
          baselineRows.set([draws.baselines[k], k, job], r * 3);
          pathRows.set([r, k, job], r * 3);
        }
        const baselineTable = rt.upload([n, 3], baselineRows, 'gradientshap.baseline_rows');
        const baselines = gatherRows(model, set!.tensor, baselineTable, first, samples);
        baselineTable.dispose();
        const pathTable = rt.upload([n, 3], pathRows, 'gradientshap.path_rows');
        const path = rt.empty([n, ...shape], 'gradientshap.path');
        // b + a_k (x~ - b): IG's path point with the row's own baseline
        rt.dispatch(attributionKernel('interpolate_rows'), {
          bindings: { images: noisy, baselines, table: pathTable, alphas: alphas!, path },
          uniforms: rowUniforms(model, first, n, samples),
          workgroups: rt.grid(path.size, WORKGROUP_SIZE),
        });
        pathTable.dispose();
        const { gradient, pass } = scoreGradient(model, score, path, table, group.mask);
        pass.dispose();
        path.dispose();
        const differences = binary(rt, 'sub', noisy, baselines);
        noisy.dispose();
        baselines.dispose();
        const contributions = binary(rt, 'mul', gradient, differences);
        gradient.dispose();
        differences.dispose();
        const jobsInChunk = Math.floor((first + n - 1) / samples) - Math.floor(first / samples) + 1;
        rt.dispatch(attributionKernel('accumulate_jobs'), {
          bindings: { grads: contributions, weights: weights!, sum: sum! },
          uniforms: rowUniforms(model, first, n, samples),
          workgroups: rt.grid(jobsInChunk * elements, WORKGROUP_SIZE),
        });
        contributions.dispose();
      },
      finish: (group) => {
        // [attributions J * E | f(x) J | f(b) J * B]
        const packed = rt.empty([group.jobs * (elements + 1 + count)], 'gradientshap.result');
        rt.copy(sum!, packed, group.jobs * elements, 0, 0);
        rt.copy(group.clean!, packed, group.jobs, 0, group.jobs * elements);
        rt.copy(baselineScores!, packed, group.jobs * count, 0, group.jobs * (elements + 1));
        return packed;
      },
      results: (group, values, targets, milliseconds) => {
        const ms = milliseconds();
        const inputs = group.jobs * elements;
        const baselinesAt = inputs + group.jobs;
        return Array.from(targets, (target, j) => {
          const attribution = values.slice(j * elements, (j + 1) * elements);
          const input = values[inputs + j];
          // E[f(b)] over the drawn baselines
          let baseline = 0;
          for (let k = 0; k < samples; k++) baseline += values[baselinesAt + j * count + draws.baselines[k]] / samples;
          return withCompleteness({ method: 'gradientshap', values: attribution, shape: [...shape] as [number, number, number], target, milliseconds: ms }, { input, baseline });
        });
      },
      end: () => {
        if (set?.owned) set.tensor.dispose();
        for (const t of [alphas, weights, sum, baselineScores]) t?.dispose();
      },
    };
  });
}
