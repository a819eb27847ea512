/**
 * DeepLIFT with the rescale rule (Shrikumar, Greenside, Kundaje 2017, Sec. 3.5.1) and DeepSHAP
 * (Lundberg & Lee 2017, Sec. 4.2; SHAP's DeepExplainer): attribution_i = m_i (x_i - x0_i), the
 * multiplier m = d score / d x of the backward pass in which every nonlinearity's derivative is
 * replaced by (f(x) - f(x0)) / (x - x0) at the unit's values for the input x and the reference x0
 * (Ancona et al. 2018's modified-gradient form; Model.backward rule 'rescale', src/ops/rescale.ts).
 * Linear layers keep their gradient. Summation-to-delta: the attributions add up to
 * f(x) - f(x0) (Shrikumar et al. eq. 1), exactly up to float32 rounding on networks of
 * piecewise-linear units; reported as `completenessError`.
 *
 * With a set of B references, DeepSHAP's estimate is the mean over them of DeepLIFT's
 * attributions, which then add up to f(x) - mean_b f(x0_b). Each (job, reference) pair is one copy
 * of the batch API; a chunk of `count` copies runs as one forward and backward pass of the
 * 2 * count rows [inputs; references] (the rule pairs row n with row n + count).
 *
 * The score is the pre-softmax logit by default, as for every gradient method: a softmax has no
 * rescale multiplier (Model.checkRule refuses it, and any other layer without a rule, before any
 * GPU work).
 */
import type { Tensor } from '../gpu/tensor.js';
import { INPUT } from '../model/model.js';
import { binary } from '../ops/binary.js';
import { withCompleteness, type Attribution } from './attribution.js';
import { checkBaselineSet, type BaselineSetOptions } from './baselines.js';
import { runBatch, type BatchMethod, type BatchOptions, type Explained, type Group, type ImageBatch } from './batch.js';
import { seedOption, type ExplainContext, type ImageInput } from './context.js';
import { gatherRows, rowUniforms } from './gradients.js';
import type { RunOptions } from './progress.js';
import type { TargetOptions } from './saliency.js';
import { itemScores, scoreSeed } from './score.js';

export interface DeepLiftOptions extends TargetOptions, RunOptions, BaselineSetOptions {
  /**
   * The reference(s): 'black' (default: the low end of the input range), 'white', 'uniform'
   * (`baselineCount` seeded noise images), an image, or a list or stack of images. More than one
   * gives DeepSHAP: the mean of DeepLIFT's attributions over them.
   */
  baselines?: BaselineSetOptions['baselines'];
  /** Seed of the 'uniform' references. */
  seed?: number;
}

const WORKGROUP_SIZE = 64;
const attributionKernel = (entry: string) => ({ shader: 'attribution', entry, constants: { WORKGROUP_SIZE } });

/** Table rows (source row, copy, job) of copies first .. first + count - 1, `perJob` copies per job, the source row picked by `source`. */
function copyRows(group: Group, first: number, count: number, perJob: number, source: (job: number, copy: number) => number): Float32Array {
  const rows = new Float32Array(count * 3);
  for (let n = 0; n < count; n++) {
    const job = Math.floor((first + n) / perJob);
    const copy = first + n - job * perJob;
    rows.set([source(job, copy), copy, job], n * 3);
  }
  return rows;
}

export async function deepLift<I extends ImageInput | ImageBatch, O extends DeepLiftOptions = DeepLiftOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, Attribution, O>> {
  const references = checkBaselineSet(ctx, options, 'black', seedOption(options.seed, 0));
  const { rt, model } = ctx;
  const shape = model.inputShape;
  const elements = shape.reduce((a, b) => a * b, 1);
  const perJob = references.count;
  const method = perJob > 1 ? 'deepshap' : 'deeplift';
  return runBatch<Attribution, Explained<I, Attribution, O>>(ctx, images, options as BatchOptions, (score): BatchMethod<Attribution> => {
    // a layer without a rescale rule between the input and the score: refused before any GPU work
    model.checkRule('rescale', [score.node]);
    let set: { tensor: Tensor; owned: boolean } | undefined;
    let weights: Tensor | undefined;
    let sum: Tensor | undefined;
    let scores: Tensor | undefined;
    return {
      kind: method,
      copiesPerJob: perJob,
      pass: { backward: { seedNode: score.node, to: model.inputName }, keep: [score.node], rescale: true },
      imageFloats: 0,
      // sum, result; the scores of the input and of each reference
      jobFloats: 2 * elements + 2 * perJob,
      // the copies' inputs, references, differences and contributions beside the pass
      copyFloats: 4 * elements,
      // the references and their weights
      groupFloats: perJob * elements + perJob,
      begin: (group) => {
        set = references.make(rt);
        weights = rt.upload([perJob], new Float32Array(perJob).fill(1 / perJob), `${method}.weights`);
        sum = rt.empty([group.jobs, elements], `${method}.sum`);
        rt.fill(sum, 0);
        // [f(x) per copy | f(x0) per copy], copies numbered job after job
        scores = rt.empty([2 * group.jobs * perJob], `${method}.scores`);
      },
      chunk: (group, table, first, count) => {
        const inputs = gatherRows(model, group.images, table, first, perJob);
        const referenceTable = rt.upload([count, 3], copyRows(group, first, count, perJob, (_, copy) => copy), `${method}.reference_rows`);
        const referenceRows = gatherRows(model, set!.tensor, referenceTable, first, perJob);
        referenceTable.dispose();
        const pairs = rt.empty([2 * count, ...shape], `${method}.pairs`);
        rt.copy(inputs, pairs, count * elements, 0, 0);
        rt.copy(referenceRows, pairs, count * elements, 0, count * elements);
        // both halves seeded alike (each row's job): the rule keeps the reference rows a mirror
        const jobRows = copyRows(group, first, count, perJob, (job) => group.jobImages[job]);
        const pairTable = rt.upload([2 * count, 3], [...jobRows, ...jobRows], `${method}.pair_rows`);
        const pass = model.forward(pairs, { forBackward: true, rule: 'rescale', keep: [score.node] });
        const values = pass.value(score.node);
        const pairScores = itemScores(rt, score, values, pairTable, group.mask, false);
        const seed = scoreSeed(rt, score, values, pairTable, group.mask);
        pairTable.dispose();
        const multipliers = model.backward(pass, new Map([[score.node, seed]]), { to: [INPUT], rule: 'rescale' }).gradients.get(INPUT)!;
        pass.dispose();
        pairs.dispose();
        rt.copy(pairScores, scores!, count, 0, first);
        rt.copy(pairScores, scores!, count, count, group.jobs * perJob + first);
        pairScores.dispose();
        // the input rows' multipliers times x - x0 (Shrikumar et al. eq. 2 summed over the input's units)
        const inputMultipliers = rt.empty([count, ...shape], `${method}.multipliers`);
        rt.copy(multipliers, inputMultipliers, count * elements, 0, 0);
        multipliers.dispose();
        const differences = binary(rt, 'sub', inputs, referenceRows);
        inputs.dispose();
        referenceRows.dispose();
        const contributions = binary(rt, 'mul', inputMultipliers, differences);
        inputMultipliers.dispose();
        differences.dispose();
        const jobsInChunk = Math.floor((first + count - 1) / perJob) - Math.floor(first / perJob) + 1;
        rt.dispatch(attributionKernel('accumulate_jobs'), {
          bindings: { grads: contributions, weights: weights!, sum: sum! },
          uniforms: rowUniforms(model, first, count, perJob),
          workgroups: rt.grid(jobsInChunk * elements, WORKGROUP_SIZE),
        });
        contributions.dispose();
      },
      finish: (group) => {
        // [attributions J * E | f(x) per copy | f(x0) per copy]
        const packed = rt.empty([group.jobs * elements + scores!.size], `${method}.result`);
        rt.copy(sum!, packed, group.jobs * elements, 0, 0);
        rt.copy(scores!, packed, scores!.size, 0, group.jobs * elements);
        return packed;
      },
      results: (group, values, targets, milliseconds) => {
        const ms = milliseconds();
        const copies = group.jobs * perJob;
        const scoreAt = group.jobs * elements;
        return Array.from(targets, (target, j) => {
          const attribution = values.slice(j * elements, (j + 1) * elements);
          const input = values[scoreAt + j * perJob];
          let baseline = 0;
          for (let k = 0; k < perJob; k++) baseline += values[scoreAt + copies + j * perJob + k] / perJob;
          return withCompleteness({ method, values: attribution, shape: [...shape] as [number, number, number], target, milliseconds: ms }, { input, baseline });
        });
      },
      end: () => {
        if (set?.owned) set.tensor.dispose();
        for (const t of [weights, sum, scores]) t?.dispose();
      },
    };
  });
}
