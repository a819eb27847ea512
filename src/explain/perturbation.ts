/**
 * What LIME, KernelSHAP and MuFidelity share: each image's segmentation, a baseline image, and the target's
 * score for each row of a [rows, segments] on/off mask matrix. The images are segmented first (one
 * read of the SLIC label map per image; none for a grid or a given segmentation); then the masked
 * copies of all images and targets are built on the GPU from the images, label maps and masks
 * (shaders/masking.wgsl) and run as inference batches through the batch runner (batch.ts: planned
 * chunks that may hold several images' copies, progress across images, cancel within a chunk);
 * only the scores (and the targets) are read back. The fits on those scores are small and run on
 * the CPU. Masks depend on the seed and the image's segment count only, never on the image's place
 * in a batch, so a batch gives each image exactly what a call for that image alone gives.
 */
import { OptionError } from '../errors.js';
import { Tensor } from '../gpu/tensor.js';
import { gaussianBlur } from '../ops/blur.js';
import { copyScores, imageJobs, imageList, runBatch, type BatchMethod, type BatchOptions, type ImageBatch } from './batch.js';
import { seedOption, type ExplainContext, type ImageInput } from './context.js';
import { throwIfAborted, type RunOptions } from './progress.js';
import { resolveScore, type Score, type Targets } from './score.js';
import { planSegmentation, segmentImage, type Segmentation, type SegmentationOptions } from './segmentation.js';

/**
 * What an "off" segment shows: 'mean' its own mean colour (the lime package's default,
 * hide_color=None), 'blur' a Gaussian blur of the image (sigma = 1/8 of the shorter side),
 * 'black' the low end of the input range, or a number written into every channel.
 */
export type PerturbationBaseline = 'mean' | 'blur' | 'black' | number;

export interface PerturbationOptions extends RunOptions, SegmentationOptions {
  /** Class index, 'top' (default: the predicted class), a class name, { topK }, or one per image. */
  target?: Targets;
  /** What is explained: the logit (default), the probability, or a node spec { node, channels, reduce }. */
  score?: Score;
  baseline?: PerturbationBaseline;
  /** Seed of the mask sampler (CPU, mulberry32). Default 0. */
  seed?: number;
}

const WORKGROUP_SIZE = 64;
const kernel = (entry: string) => ({ shader: 'masking', entry, constants: { WORKGROUP_SIZE } });

/** Checks everything that does not need the segmentation, before any GPU work. */
export function planPerturbation(ctx: ExplainContext, options: PerturbationOptions) {
  const [height, width] = ctx.model.inputShape;
  const baseline = options.baseline ?? 'mean';
  if (!(baseline === 'mean' || baseline === 'blur' || baseline === 'black' || (typeof baseline === 'number' && Number.isFinite(baseline)))) {
    throw new OptionError(`baseline must be 'mean', 'blur', 'black' or a finite number, got ${JSON.stringify(baseline)}`);
  }
  const seed = seedOption(options.seed, 0);
  const segmentation = planSegmentation(height, width, options);
  return { baseline, seed, segmentation };
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
  const uniforms = { pixels: height * width, channels, segments, rows: 0, count: 0 };
  const means = rt.empty([segments, channels], 'perturbation.means');
  rt.dispatch(kernel('segment_means'), { bindings: { image, labels, means }, uniforms, workgroups: rt.grid(means.size, WORKGROUP_SIZE) });
  rt.dispatch(kernel('fill_segment_means'), { bindings: { labels, means, baseline: out }, uniforms, workgroups: rt.grid(out.size, WORKGROUP_SIZE) });
  means.dispose();
  return out;
}

/** What a method samples for one image: its [rows, segments] masks and whatever its fit needs. */
export interface Sampled {
  masks: Float32Array;
}

/**
 * Segments every image, asks `sample(segmentation)` for its masks (1 keep, 0 off) and scores every
 * masked copy of every image and target; `fit` turns one job's scores (one per mask row) into its
 * result. Images with fewer rows or segments than the largest are padded with all-on rows, whose
 * scores are left out of the fit.
 */
export async function perturbationBatch<S extends Sampled, R, Out>(
  ctx: ExplainContext,
  input: ImageInput | ImageBatch,
  options: PerturbationOptions,
  plan: ReturnType<typeof planPerturbation>,
  kind: string,
  sample: (segmentation: Segmentation, image: number) => S,
  fit: (sampled: S, segmentation: Segmentation, scores: Float64Array, target: number, milliseconds: number) => R,
): Promise<Out> {
  const started = performance.now();
  const { rt, model } = ctx;
  // everything runBatch checks, before the segmentations' GPU work
  const score = resolveScore(model, options.score);
  const images = imageList(ctx, input);
  imageJobs(ctx, score, options.target, images.count);
  const segmentations: Segmentation[] = [];
  const sampled: S[] = [];
  for (let i = 0; i < images.count; i++) {
    throwIfAborted(options.signal);
    if (plan.segmentation.method === 'slic') {
      const taken = images.take(rt, i, 1);
      try {
        segmentations.push(await segmentImage(ctx, taken.tensor, plan.segmentation));
      } finally {
        if (taken.owned) taken.tensor.dispose();
      }
    } else {
      segmentations.push(plan.segmentation.segmentation);
    }
    sampled.push(sample(segmentations[i], i));
  }
  const segments = Math.max(...segmentations.map((s) => s.segments));
  const rowsOf = (i: number) => sampled[i].masks.length / segmentations[i].segments;
  const rows = Math.max(...segmentations.map((_, i) => rowsOf(i)));
  const [height, width, channels] = model.inputShape;
  const pixels = height * width;
  const elements = pixels * channels;
  let nextImage = 0;
  return runBatch<R, Out>(ctx, input, options as BatchOptions, (resolved): BatchMethod<R> => {
    let firstImage = 0;
    let labels: Tensor | undefined;
    let baselines: Tensor | undefined;
    let masks: Tensor | undefined;
    let scores: Tensor | undefined;
    return {
      kind: `${kind}:${rows}x${segments}`,
      copiesPerJob: rows,
      pass: { keep: [resolved.node] },
      // label map, baseline image, masks
      imageFloats: pixels + elements + rows * segments,
      jobFloats: rows,
      copyFloats: 1,
      begin: (group) => {
        firstImage = nextImage;
        nextImage += group.imageCount;
        const n = group.imageCount;
        const groupLabels = new Float32Array(n * pixels);
        const groupMasks = new Float32Array(n * rows * segments).fill(1);
        baselines = rt.empty([n, height, width, channels], 'perturbation.baselines');
        for (let g = 0; g < n; g++) {
          const segmentation = segmentations[firstImage + g];
          groupLabels.set(segmentation.labels, g * pixels);
          const m = segmentation.segments;
          const own = sampled[firstImage + g].masks;
          for (let r = 0; r < own.length / m; r++) groupMasks.set(own.subarray(r * m, (r + 1) * m), (g * rows + r) * segments);
          const image = rt.empty([1, height, width, channels], 'perturbation.image');
          rt.copy(group.images, image, elements, g * elements, 0);
          const imageLabels = rt.upload([height, width], segmentation.labels, 'perturbation.labels');
          const baseline = baselineImage(ctx, image, imageLabels, m, plan.baseline);
          rt.copy(baseline, baselines, elements, 0, g * elements);
          for (const t of [image, imageLabels, baseline]) t.dispose();
        }
        labels = rt.upload([n, height, width], groupLabels, 'perturbation.labels');
        masks = rt.upload([n, rows, segments], groupMasks, 'perturbation.masks');
        scores = rt.empty([group.jobs, rows], 'perturbation.scores');
      },
      chunk: (group, table, first, count) => {
        const copies = rt.empty([count, height, width, channels], 'perturbation.copies');
        rt.dispatch(kernel('mask_copies'), {
          bindings: { images: group.images, baselines: baselines!, image_labels: labels!, masks: masks!, table, copies },
          uniforms: { pixels, channels, segments, rows, count },
          workgroups: rt.grid(copies.size, WORKGROUP_SIZE),
        });
        const chunkScores = copyScores(ctx, resolved, copies, table, group.mask);
        // copy `first + n` is row r of job j at j * rows + r: the chunk's scores land in place
        rt.copy(chunkScores, scores!, count, 0, first);
        chunkScores.dispose();
      },
      finish: () => {
        // the result is runBatch's to free from here on
        const result = scores!;
        scores = undefined;
        return result;
      },
      results: (group, values, targets) => {
        const milliseconds = performance.now() - started;
        return Array.from(targets, (target, j) => {
          const image = firstImage + group.jobImages[j];
          const own = Float64Array.from(values.subarray(j * rows, j * rows + rowsOf(image)));
          return fit(sampled[image], segmentations[image], own, target, milliseconds);
        });
      },
      end: () => {
        for (const t of [labels, baselines, masks, scores]) t?.dispose();
      },
    };
  });
}

/** Per-pixel map [H * W] of per-segment values. */
export function segmentMap(segmentation: Segmentation, values: ArrayLike<number>): Float32Array {
  return Float32Array.from(segmentation.labels, (s) => values[s]);
}
