/**
 * The one code path every attribution method runs: images x targets x copies as GPU batches.
 * A call takes one image or many; each image has one or more jobs (its targets: a class, 'top',
 * a name, or top-k), and each job runs `copiesPerJob` copies (SmoothGrad's samples, IG's path
 * points, occlusion's windows; 1 for saliency and Grad-CAM). All copies of all jobs are numbered
 * job after job and run in chunks planned by the planner (bytes) and the schedule (time); a chunk
 * may hold the tail of one job and the head of the next. Per group of images: one upload of the
 * images, one ranking pass (the targets are resolved on the GPU), the chunks, one read back.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import { Tensor } from '../gpu/tensor.js';
import { checkFiniteResult, checkImage, type ExplainContext, type ImageInput } from './context.js';
import { planWork, type Plan, type WorkShape } from './planner.js';
import type { RunOptions } from './progress.js';
import { Schedule } from './schedule.js';
import { channelScores, itemScores, resolveScore, resolveTargets, targetRequests, type ResolvedScore, type Score, type Target, type Targets } from './score.js';

/** Many images: an array of images, or a stack [N, H, W, C] as data or a tensor. */
export type ImageBatch = readonly ImageInput[];

/** One result per job (`{ topK }` gives an image k of them), one entry per image for many images. */
export type PerImage<R, O> = [O] extends [{ target: { topK: number } }]
  ? R[]
  : [O] extends [{ target: readonly (infer T)[] }]
    ? Extract<T, { topK: number }> extends never
      ? R
      : R | R[]
    : R;

/**
 * One result for one image, an array for many (an entry per image; `{ topK }` makes each entry a
 * list). A stack [N, H, W, C] passed as one tensor or data gives an array at run time too: type
 * it as ImageBatch-derived or cast.
 */
export type Explained<I, R, O> = ManyImages<I> extends true ? PerImage<R, O>[] : PerImage<R, O>;

/** Whether an input type is a list of images (an untyped `any` counts as one image, as before batches). */
export type ManyImages<I> = 0 extends 1 & I ? false : [I] extends [ImageBatch] ? true : false;

/** The images of a call, checked, and uploaded a group at a time. */
export interface ImageList {
  count: number;
  /** The call took one image: it gets one result, not an array. */
  single: boolean;
  /** Images [first, first + n) as one [n, H, W, C] tensor; `owned` when made here. */
  take(rt: Runtime, first: number, n: number): { tensor: Tensor; owned: boolean };
}

/** A stack [N > 1, H, W, C]; anything else is checked as one image (checkImage says what is wrong). */
function isStack(image: unknown, rank: number): boolean {
  const shape = (image as { shape?: unknown } | null)?.shape;
  return Array.isArray(shape) && shape.length === rank + 1 && shape[0] > 1;
}

/**
 * Checks every image before any GPU work: shapes equal to the model's input (one image [H, W, C]
 * or [1, H, W, C], a stack [N, H, W, C], or an array of single images) and finite values.
 */
export function imageList(ctx: ExplainContext, input: ImageInput | ImageBatch): ImageList {
  const shape = ctx.model.inputShape;
  const elements = shape.reduce((a, b) => a * b, 1);
  if (Array.isArray(input)) {
    const images = input as ImageBatch;
    if (!images.length) throw new OptionError('The image list is empty: pass at least one image');
    images.forEach((image, i) => checkImage(ctx, image, `list entry ${i}`));
    return {
      count: images.length,
      single: false,
      take(rt, first, n) {
        const part = images.slice(first, first + n);
        if (part.every((image) => !(image instanceof Tensor))) {
          const data = new Float32Array(n * elements);
          part.forEach((image, i) => data.set((image as { data: ArrayLike<number> }).data, i * elements));
          return { tensor: rt.upload([n, ...shape], data, 'images'), owned: true };
        }
        const tensor = rt.empty([n, ...shape], 'images');
        part.forEach((image, i) => {
          const source = image instanceof Tensor ? image : rt.upload([1, ...shape], image.data, 'image');
          rt.copy(source, tensor, elements, 0, i * elements);
          if (source !== image) source.dispose();
        });
        return { tensor, owned: true };
      },
    };
  }
  const image = input as ImageInput;
  if (!isStack(image, shape.length)) {
    checkImage(ctx, image);
    return {
      count: 1,
      single: true,
      take: (rt) => (image instanceof Tensor ? { tensor: image, owned: false } : { tensor: rt.upload([1, ...shape], image.data, 'image'), owned: true }),
    };
  }
  const count = image.shape[0];
  checkImage(ctx, image, 'stack of input images', count);
  return {
    count,
    single: false,
    take(rt, first, n) {
      if (image instanceof Tensor) {
        if (first === 0 && n === count) return { tensor: image, owned: false };
        const tensor = rt.empty([n, ...shape], 'images');
        rt.copy(image, tensor, n * elements, first * elements, 0);
        return { tensor, owned: true };
      }
      const data = Float32Array.from({ length: n * elements }, (_, i) => image.data[first * elements + i]);
      return { tensor: rt.upload([n, ...shape], data, 'images'), owned: true };
    },
  };
}

/** A group of images on the GPU with its jobs and their resolved targets. */
export interface Group {
  /** [images, H, W, C]. */
  images: Tensor;
  imageCount: number;
  jobs: number;
  /** Group-local image of each job. */
  jobImages: number[];
  /** [jobs, 3] rows (image, 0, job): tables for per-job kernels. */
  jobTable: Tensor;
  /** [jobs] class index of each job, f32. */
  targets: Tensor;
  /** [jobs, channels] channel set of each job's score. */
  mask: Tensor;
  /** [jobs] the unmodified images' scores, when the method asked for them. */
  clean?: Tensor;
  /** Rows (image, copy, job) of copies first .. first + count - 1 (numbered job after job). */
  rows(first: number, count: number): Tensor;
}

/** A method's work shape (the planner's WorkShape less what the call decides: images and jobs) and its steps. */
export interface BatchMethod<R> extends Omit<WorkShape, 'images' | 'jobsPerImage'> {
  /** Names the work for the pace the schedule remembers. */
  kind: string;
  /** Whether `Group.clean` is needed. */
  cleanScores?: boolean;
  /** Records the group's own setup (sums, baselines). */
  begin(group: Group): void;
  /** Records one chunk of copies, described by `table` ([count, 3]). */
  chunk(group: Group, table: Tensor, first: number, count: number): void;
  /** Records the group's finish; returns its result packed in one tensor. */
  finish(group: Group): Tensor;
  /** The group's results, one per job, from the packed values read back. */
  results(group: Group, packed: Float32Array, targets: Float32Array, milliseconds: () => number): R[];
  /** Frees what `begin` made (also after an error). */
  end(group: Group): void;
}

export interface BatchOptions extends RunOptions {
  target?: Targets;
  score?: Score;
}

/** One entry per image: its jobs' requests (see targetRequests) and whether it returns a list. */
export function imageJobs(ctx: ExplainContext, score: ResolvedScore, target: Targets | undefined, count: number): { requests: number[][]; lists: boolean[] } {
  const perImage: (Target | undefined)[] = Array.isArray(target) ? [...(target as readonly Target[])] : Array.from({ length: count }, () => target as Target | undefined);
  if (perImage.length !== count) throw new OptionError(`target has ${perImage.length} entries for ${count} images: give one target for all, or one per image`);
  const requests = perImage.map((t) => targetRequests(ctx.model, score, t));
  const lists = perImage.map((t) => typeof t === 'object' && t !== null && 'topK' in t);
  return { requests, lists };
}

function assemble<R>(images: ImageList, lists: boolean[], perImage: R[][]): unknown {
  const shaped = perImage.map((results, i) => (lists[i] ? results : results[0]));
  return images.single ? shaped[0] : shaped;
}

/**
 * What the inference methods (occlusion, Score-CAM, RISE, LIME, KernelSHAP, the curves) do with a
 * chunk's copies: one forward pass, and each copy's score for its job (`table` rows, `mask` the
 * jobs' channel sets), [count]. Frees the copies.
 */
export function copyScores(ctx: ExplainContext, score: ResolvedScore, copies: Tensor, table: Tensor, mask: Tensor): Tensor {
  const batch = ctx.model.forward(copies, { keep: [score.node] });
  copies.dispose();
  const scores = itemScores(ctx.rt, score, batch.value(score.node), table, mask, false);
  batch.dispose();
  return scores;
}

/** Checks, plans and runs `method` over `input`'s images and targets; results in image order. */
export async function runBatch<R, Out>(ctx: ExplainContext, input: ImageInput | ImageBatch, options: BatchOptions, method: (score: ResolvedScore) => BatchMethod<R>): Promise<Out> {
  const started = performance.now();
  const { rt, model } = ctx;
  const score = resolveScore(model, options.score);
  const work = method(score);
  const images = imageList(ctx, input);
  const { requests, lists } = imageJobs(ctx, score, options.target, images.count);
  const plan: Plan = planWork(ctx, {
    images: images.count,
    jobsPerImage: Math.max(...requests.map((r) => r.length)),
    copiesPerJob: work.copiesPerJob,
    pass: work.pass,
    imageFloats: work.imageFloats + score.channels,
    jobFloats: work.jobFloats + score.channels + 4,
    copyFloats: work.copyFloats + 3,
    groupFloats: work.groupFloats,
  });
  const totalJobs = requests.reduce((a, r) => a + r.length, 0);
  const flops = model.flops(1) * (work.pass.backward ? 3 : 1);
  const schedule = new Schedule(rt, options, totalJobs * work.copiesPerJob, ctx.pace ?? (ctx.pace = new Map()), `${work.kind}:${model.spec.source}`, flops);
  schedule.checkAborted();
  const perImage: R[][] = [];
  for (let first = 0; first < images.count; first += plan.imagesPerGroup) {
    schedule.checkAborted();
    const n = Math.min(plan.imagesPerGroup, images.count - first);
    const groupRequests = requests.slice(first, first + n);
    const results = await runGroup(ctx, score, work, images, first, groupRequests, plan, schedule, () => performance.now() - started);
    let at = 0;
    for (const r of groupRequests) {
      perImage.push(results.slice(at, at + r.length));
      at += r.length;
    }
  }
  return assemble(images, lists, perImage) as Out;
}

async function runGroup<R>(ctx: ExplainContext, score: ResolvedScore, work: BatchMethod<R>, images: ImageList, firstImage: number, requests: number[][], plan: Plan, schedule: Schedule, milliseconds: () => number): Promise<R[]> {
  const { rt, model } = ctx;
  const jobImages = requests.flatMap((r, i) => r.map(() => i));
  const jobs = jobImages.length;
  const owned: Tensor[] = [];
  const own = (t: Tensor) => (owned.push(t), t);
  const taken = images.take(rt, firstImage, requests.length);
  if (taken.owned) owned.push(taken.tensor);
  let begun = false;
  let group: Group | undefined;
  try {
    const jobTable = own(rt.upload([jobs, 3], jobImages.flatMap((image, j) => [image, 0, j]), 'batch.jobs'));
    const flat = requests.flat();
    const requestTable = own(rt.upload([jobs, 2], jobImages.flatMap((image, j) => [image, flat[j]]), 'batch.requests'));
    let targets: Tensor;
    let mask: Tensor;
    let clean: Tensor | undefined;
    const ranks = requests.some((r) => r.some((q) => q < 0));
    // one inference pass of the group's images when 'top' / top-k rank classes or the method needs clean scores
    const pass = ranks || work.cleanScores ? model.forward(taken.tensor, { keep: [...new Set([score.rankNode, score.node])] }) : undefined;
    try {
      if (score.fixedChannels) {
        const channels = score.fixedChannels;
        targets = own(rt.upload([jobs], new Float32Array(jobs).fill(channels[0]), 'score.targets'));
        const row = Array.from({ length: score.channels }, (_, c) => (channels.includes(c) ? 1 : 0));
        mask = own(rt.upload([jobs, score.channels], jobImages.flatMap(() => row), 'score.mask'));
      } else {
        // the ranking is read only for rank requests; fixed classes need no pass
        const ranking = pass ? channelScores(rt, score, pass.value(score.rankNode)) : rt.empty([1], 'score.unranked');
        ({ targets, mask } = resolveTargets(rt, score, requestTable, ranking));
        own(targets);
        own(mask);
        ranking.dispose();
      }
      if (work.cleanScores) clean = own(itemScores(rt, score, pass!.value(score.node), jobTable, mask, true));
    } finally {
      pass?.dispose();
    }
    const perJob = work.copiesPerJob;
    group = {
      images: taken.tensor,
      imageCount: requests.length,
      jobs,
      jobImages,
      jobTable,
      targets,
      mask,
      clean,
      rows: (first, count) => {
        const table = new Float32Array(count * 3);
        for (let n = 0; n < count; n++) {
          const copy = first + n;
          const job = Math.floor(copy / perJob);
          table.set([jobImages[job], copy - job * perJob, job], n * 3);
        }
        return rt.upload([count, 3], table, 'batch.rows');
      },
    };
    work.begin(group);
    begun = true;
    const g = group;
    await schedule.run(jobs * perJob, plan.copiesPerChunk, (first, count) => {
      const table = g.rows(first, count);
      work.chunk(g, table, first, count);
      table.dispose();
    });
    const result = own(work.finish(g));
    // targets first, then the method's values: one read back per group
    const packed = own(rt.empty([jobs + result.size], 'batch.packed'));
    rt.copy(g.targets, packed, jobs, 0, 0);
    rt.copy(result, packed, result.size, 0, jobs);
    const values = await rt.read(packed);
    // a model can overflow float32 on finite weights and pixels: a map holding NaN or Inf is no explanation
    checkFiniteResult(values, `${work.kind} result or the scores it explains`);
    return work.results(g, values.subarray(jobs), values.subarray(0, jobs), milliseconds);
  } finally {
    if (begun) work.end(group!);
    for (const t of owned) t.dispose();
  }
}
