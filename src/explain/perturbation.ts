/**
 * What LIME, KernelSHAP and MuFidelity share: the image's segmentation, a baseline image, and the
 * target's score for each row of a [rows, segments] on/off mask matrix. The masked copies are
 * built on the GPU from the image, the label map and the masks (shaders/masking.wgsl) and run as
 * inference batches in chunks of about TARGET_MS (schedule.ts), at most the model's device limits
 * and the explainer's maxChunk; only the [rows] scores (and the target) are read back. The fits
 * on those scores are small and run on the CPU.
 */
import { OptionError } from '../errors.js';
import { Tensor } from '../gpu/tensor.js';
import { gaussianBlur } from '../ops/blur.js';
import { checkFiniteResult, checkImage, seedOption, type ExplainContext, type ImageInput } from './context.js';
import { throwIfAborted, type RunOptions } from './progress.js';
import { Schedule } from './schedule.js';
import { channelScores, itemScores, resolveScore, resolveTargets, targetRequests, type Score, type Target } from './score.js';
import { planSegmentation, segmentImage, type Segmentation, type SegmentationOptions } from './segmentation.js';

/**
 * What an "off" segment shows: 'mean' its own mean colour (the lime package's default,
 * hide_color=None), 'blur' a Gaussian blur of the image (sigma = 1/8 of the shorter side),
 * 'black' the low end of the input range, or a number written into every channel.
 */
export type PerturbationBaseline = 'mean' | 'blur' | 'black' | number;

export interface PerturbationOptions extends RunOptions, SegmentationOptions {
  /** Class index, 'top' (default: the predicted class) or a class name: one image, one target per call. */
  target?: Target;
  /** What is explained: the logit (default), the probability, or a node spec { node, channels, reduce }. */
  score?: Score;
  baseline?: PerturbationBaseline;
  /** Seed of the mask sampler (CPU, mulberry32). Default 0. */
  seed?: number;
}

export interface PerturbationScores {
  segmentation: Segmentation;
  /** The target's score per mask row. */
  scores: Float64Array;
  target: number;
}

const WORKGROUP_SIZE = 64;
const kernel = (entry: string) => ({ shader: 'masking', entry, constants: { WORKGROUP_SIZE } });

/** Checks everything that does not need the segmentation, before any GPU work. */
export function planPerturbation(ctx: ExplainContext, options: PerturbationOptions, method = 'LIME and KernelSHAP') {
  const [height, width] = ctx.model.inputShape;
  const baseline = options.baseline ?? 'mean';
  if (!(baseline === 'mean' || baseline === 'blur' || baseline === 'black' || (typeof baseline === 'number' && Number.isFinite(baseline)))) {
    throw new OptionError(`baseline must be 'mean', 'blur', 'black' or a finite number, got ${JSON.stringify(baseline)}`);
  }
  const score = resolveScore(ctx.model, options.score);
  if (Array.isArray(options.target)) throw new OptionError(`${method} takes one image and one target per call: pass a single target`);
  const requests = targetRequests(ctx.model, score, options.target);
  if (requests.length !== 1) throw new OptionError(`${method} takes one target per call: use { topK: 1 } or call once per class, got { topK: ${requests.length} }`);
  const seed = seedOption(options.seed, 0);
  const segmentation = planSegmentation(height, width, options);
  return { baseline, score, request: requests[0], seed, segmentation };
}

function baselineImage(ctx: ExplainContext, image: Tensor, labels: Tensor, segments: number, baseline: PerturbationBaseline): Tensor {
  const { rt } = ctx;
  const [, height, width, channels] = image.shape;
  if (baseline === 'blur') return gaussianBlur(rt, image, Math.max(1, Math.min(height, width) / 8));
  const out = rt.empty(image.shape, 'perturbation.baseline');
  if (baseline !== 'mean') {
    rt.fill(out, baseline === 'black' ? ctx.inputRange[0] : baseline);
    return out;
  }
  const uniforms = { pixels: height * width, channels, segments, start: 0, count: 0 };
  const means = rt.empty([segments, channels], 'perturbation.means');
  rt.dispatch(kernel('segment_means'), { bindings: { image, labels, means }, uniforms, workgroups: rt.grid(means.size, WORKGROUP_SIZE) });
  rt.dispatch(kernel('fill_segment_means'), { bindings: { labels, means, baseline: out }, uniforms, workgroups: rt.grid(out.size, WORKGROUP_SIZE) });
  means.dispose();
  return out;
}

/**
 * Segments the image, asks `masksFor(segments)` for the [rows, segments] masks (1 keep, 0 off)
 * and returns the target's score of every masked copy. Two reads: the SLIC label map (none for a
 * grid or a given segmentation) and the scores.
 */
export async function scoreMasks(
  ctx: ExplainContext,
  image: ImageInput,
  plan: ReturnType<typeof planPerturbation>,
  masksFor: (segmentation: Segmentation) => Float32Array,
  options: RunOptions,
): Promise<PerturbationScores & { masks: Float32Array }> {
  const { rt, model } = ctx;
  throwIfAborted(options.signal);
  checkImage(ctx, image);
  const owned: Tensor[] = [];
  const input = image instanceof Tensor ? image : rt.upload([1, ...model.inputShape], image.data, 'image');
  if (input !== image) owned.push(input);
  try {
    const segmentation = await segmentImage(ctx, input, plan.segmentation);
    const { segments } = segmentation;
    const masks = masksFor(segmentation);
    const rows = masks.length / segments;
    const [height, width, channels] = model.inputShape;
    const labels = rt.upload([height, width], segmentation.labels, 'perturbation.labels');
    owned.push(labels);
    const baseline = baselineImage(ctx, input, labels, segments, plan.baseline);
    owned.push(baseline);
    const maskTensor = rt.upload([rows, segments], masks, 'perturbation.masks');
    owned.push(maskTensor);
    // the target class from the unmasked image ('top' ranks the rank node's channels), on the GPU
    const clean = model.forward(input, { keep: [plan.score.rankNode] });
    const ranking = channelScores(rt, plan.score, clean.value(plan.score.rankNode));
    clean.dispose();
    const jobs = rt.upload([1, 2], [0, plan.request], 'perturbation.jobs');
    const { targets, mask } = resolveTargets(rt, plan.score, jobs, ranking);
    owned.push(ranking, jobs, targets, mask);
    const result = rt.empty([rows + 1], 'perturbation.scores');
    owned.push(result);
    const largest = Math.max(1, Math.min(rows, ctx.maxChunk, model.maxBatch()));
    // chunks of about TARGET_MS at the measured pace, so that progress is real and a cancel prompt
    const schedule = new Schedule(rt, options, rows, ctx.pace ?? (ctx.pace = new Map()), `perturbation:${model.spec.source}`, model.flops(1));
    await schedule.run(rows, largest, (start, count) => {
      const uniforms = { pixels: height * width, channels, segments, start, count };
      const copies = rt.empty([count, height, width, channels], 'perturbation.copies');
      rt.dispatch(kernel('mask_copies'), {
        bindings: { image: input, baseline, labels, masks: maskTensor, copies },
        uniforms,
        workgroups: rt.grid(copies.size, WORKGROUP_SIZE),
      });
      const batch = model.forward(copies, { keep: [plan.score.node] });
      // every row is job 0 (the one target) of its own copy
      const table = rt.upload([count, 3], new Float32Array(count * 3), 'perturbation.table');
      const scores = itemScores(rt, plan.score, batch.value(plan.score.node), table, mask, false);
      rt.copy(scores, result, count, 0, start);
      for (const t of [scores, table, copies]) t.dispose();
      batch.dispose();
    });
    rt.copy(targets, result, 1, 0, rows);
    const packed = await rt.read(result);
    checkFiniteResult(packed, 'masked copies\' scores');
    return { segmentation, scores: Float64Array.from(packed.subarray(0, rows)), target: packed[rows], masks };
  } finally {
    for (const t of owned) t.dispose();
  }
}

/** Per-pixel map [H * W] of per-segment values. */
export function segmentMap(segmentation: Segmentation, values: ArrayLike<number>): Float32Array {
  return Float32Array.from(segmentation.labels, (s) => values[s]);
}
