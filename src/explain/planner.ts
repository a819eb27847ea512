/**
 * The batch planner: how many images one group holds and how many copies (noisy samples, path
 * points, occluded windows, images) one GPU chunk runs, from a byte budget. It counts every
 * buffer the run holds at its peak, by replaying the executor's rules on the model's shapes: the
 * activations a forward pass keeps for the backward pass (each layer's `saves`), the ones alive
 * while a layer runs, the gradients alive during the backward pass with each layer's temporaries,
 * and the method's own buffers (images, per-job sums, results); each in the pool's size class, so
 * the count is what the runtime's pool hands out (tests compare it with `peakBytesInUse`).
 */
import { LimitError } from '../errors.js';
import { sizeClass } from '../gpu/tensor.js';
import type { Model } from '../model/model.js';
import type { ExplainContext } from './context.js';

/** What one copy of a chunk runs. */
export interface PassKind {
  /** Backward from `seedNode` to `to` (the input, or a layer for Grad-CAM); else inference only. */
  backward?: { seedNode: string; to: string };
  /** Nodes whose outputs the method keeps from the pass. */
  keep: readonly string[];
  /** DeepLIFT's rescale pass: each copy is two batch rows (input and reference), every node's output is kept, and each nonlinear layer's backward holds about three temporaries of its output's size. */
  rescale?: boolean;
}

export interface WorkShape {
  images: number;
  /** Jobs (image, target) per image. */
  jobsPerImage: number;
  /** Copies each job runs (samples, path steps, windows; 1 for one pass per job). */
  copiesPerJob: number;
  pass: PassKind;
  /** Floats the method keeps per image for the whole group (images, baselines, ranking scores). */
  imageFloats: number;
  /** Floats kept per job for the whole group (sums, results, masks, targets). */
  jobFloats: number;
  /** The method's own floats per copy of a chunk beyond the pass (tables, per-copy scores). */
  copyFloats: number;
  /** Floats kept once per group whatever its size (per-copy weights, path points). */
  groupFloats?: number;
}

export interface Plan {
  imagesPerGroup: number;
  /** The largest chunk memory allows (time may pick smaller ones). */
  copiesPerChunk: number;
  /** Bytes the run holds at its peak for a group of `images` images and chunks of `copies`. */
  bytes(images: number, copies: number): number;
}

/** Default budget: half of a 1 GiB working set, and never more than four of the largest buffers. */
export function defaultMaxBytes(limits: GPUSupportedLimits): number {
  return Math.min(512 * 2 ** 20, 4 * Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize));
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Small buffers (tables, targets, per-copy scores) a group or a chunk holds besides the counted floats. */
const SMALL_BUFFERS = 4;

/**
 * Peak bytes of one pass of batch `n`: Model.forward's liveness (outputs freed when their last
 * consumer ran, unless pinned by `keep`, the model output or a layer's `saves`), then
 * Model.backward's (the seed, each layer's input gradients, a fused activation's temporary of the
 * layer's output size, sums at branches), with the pinned activations alive throughout.
 */
export function passBytes(model: Model, n: number, pass: PassKind): number {
  const shapes = model.shapes(1);
  const rows = pass.rescale ? 2 * n : n;
  const bytes = (node: string) => sizeClass(product(shapes.get(node)!) * rows * 4);
  const layerOf = (name: string) => model.layer(name);
  const consumers = new Map<string, number>();
  for (const name of model.order) for (const i of layerOf(name).spec.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const pinned = new Set([...pass.keep, model.outputName]);
  if (pass.backward) {
    for (const name of model.order) {
      const layer = layerOf(name);
      if (layer.saves.output || pass.rescale) pinned.add(name);
      if (layer.saves.inputs) for (const i of layer.spec.inputs) pinned.add(i);
    }
  }
  let live = bytes(model.inputName);
  let peak = live;
  const remaining = new Map(consumers);
  for (const name of model.order) {
    if (name === model.inputName) continue;
    live += bytes(name);
    peak = Math.max(peak, live);
    for (const i of layerOf(name).spec.inputs) {
      const left = remaining.get(i)! - 1;
      remaining.set(i, left);
      if (left === 0 && i !== model.inputName && !pinned.has(i)) live -= bytes(i);
    }
  }
  if (!pass.backward) return peak;

  const { seedNode, to } = pass.backward;
  const wanted = new Set([to]);
  for (const name of model.order) if (layerOf(name).spec.inputs.some((i) => wanted.has(i))) wanted.add(name);
  const gradients = new Set<string>([seedNode]);
  live += bytes(seedNode);
  peak = Math.max(peak, live);
  for (let index = model.order.length - 1; index >= 0; index--) {
    const name = model.order[index];
    if (!gradients.has(name) || name === model.inputName) continue;
    const layer = layerOf(name);
    const inputs = layer.spec.inputs.filter((i) => wanted.has(i));
    if (inputs.length) {
      const spec = layer.spec as { activation?: string };
      const temporary = spec.activation && spec.activation !== 'linear' ? (pass.rescale ? 3 : 1) * bytes(name) : 0;
      let produced = 0;
      for (const i of inputs) produced += bytes(i);
      // a branch's second gradient is summed into a new buffer before both parts are freed
      const sums = inputs.filter((i) => gradients.has(i)).reduce((a, i) => a + bytes(i), 0);
      peak = Math.max(peak, live + temporary + produced + sums);
      live += produced - sums;
      for (const i of inputs) gradients.add(i);
    }
    if (name !== to) {
      live -= bytes(name);
      gradients.delete(name);
    }
  }
  return peak;
}

/** Plans a run from the explainer's budget; LimitError (before any GPU work) when one copy of one image does not fit. */
export function planWork(ctx: ExplainContext, work: WorkShape): Plan {
  const { model } = ctx;
  const budget = ctx.maxBytes ?? defaultMaxBytes(ctx.rt.limits);
  const binding = Math.min(ctx.rt.limits.maxStorageBufferBindingSize, ctx.rt.limits.maxBufferSize);
  const floats = (count: number) => (count > 0 ? sizeClass(count * 4) : 0);
  const elements = product(model.inputShape);
  // the group's own buffers, alive for the whole group: its images and per-job results
  // (plus SMALL_BUFFERS tables, targets and scores of at most a size class's minimum each)
  const groupBytes = (images: number) => floats(images * elements) + floats(images * work.imageFloats) + floats(images * work.jobsPerImage * work.jobFloats) + floats(work.groupFloats ?? 0) + SMALL_BUFFERS * sizeClass(0);
  // what the group's ranking pass (an inference pass of its images) holds at its peak
  const rankingBytes = (images: number) => passBytes(model, images, { keep: [model.logitsName, ...work.pass.keep] });
  const chunkBytes = (copies: number) => passBytes(model, copies, work.pass) + floats(copies * work.copyFloats) + SMALL_BUFFERS * sizeClass(0);
  // the results packed for the one read back sit beside the results
  const finishBytes = (images: number) => floats(images * work.jobsPerImage * work.jobFloats);
  const bytes = (images: number, copies: number) => groupBytes(images) + Math.max(rankingBytes(images), chunkBytes(copies), finishBytes(images));
  const largestImage = Math.max(elements, work.imageFloats, work.jobsPerImage * work.jobFloats) * 4;
  if (bytes(1, 1) > budget || largestImage > binding) {
    throw new LimitError(`One image needs ${bytes(1, 1)} bytes of GPU buffers for this explanation, more than the budget of ${budget} bytes (maxBytes) or the device's buffer limits: raise maxBytes or use a smaller model input`);
  }
  const perBuffer = (images: number) => Math.max(floats(images * elements), floats(images * work.imageFloats), floats(images * work.jobsPerImage * work.jobFloats)) <= binding;
  const largest = (limit: number, fits: (n: number) => boolean) => {
    let low = 1;
    let high = Math.max(1, limit);
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (fits(mid)) low = mid;
      else high = mid - 1;
    }
    return low;
  };
  const maxBatch = model.maxBatch();
  // a group may use half the budget, so that chunks keep room to be large
  const imagesPerGroup = largest(Math.min(work.images, maxBatch), (g) => perBuffer(g) && bytes(g, 1) <= Math.max(budget / 2, bytes(1, 1)));
  const totalCopies = imagesPerGroup * work.jobsPerImage * work.copiesPerJob;
  const copiesPerChunk = largest(Math.min(totalCopies, Math.floor(maxBatch / (work.pass.rescale ? 2 : 1)), ctx.maxChunk), (c) => bytes(imagesPerGroup, c) <= budget);
  const plan = { imagesPerGroup, copiesPerChunk, bytes };
  ctx.onPlan?.(plan);
  return plan;
}
