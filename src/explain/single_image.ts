/**
 * What the one-image metrics (infidelity, max-sensitivity) share until they move onto the batch
 * runner (batch.ts) as the perturbation methods and the deletion/insertion curves did: one image checked and uploaded, one target
 * ('top', a class index or a label name) resolved on the GPU, and the chunk size of their copies.
 * Targets of several images or { topK } are refused with a message saying so.
 */
import { OptionError } from '../errors.js';
import { Tensor } from '../gpu/tensor.js';
import { checkImage, type ExplainContext, type ImageInput } from './context.js';
import { channelScores, resolveScore, resolveTargets, targetRequests, type ResolvedScore, type Score, type Targets } from './score.js';

/** Checks (see checkImage) and uploads the image; a tensor given by the caller stays the caller's. */
export function prepareImage(ctx: ExplainContext, image: ImageInput, method: string): { tensor: Tensor; owned: boolean } {
  if (Array.isArray(image)) throw new OptionError(`${method} explains one image per call, got a list of ${image.length}`);
  checkImage(ctx, image);
  if (image instanceof Tensor) return { tensor: image, owned: false };
  return { tensor: ctx.rt.upload([1, ...ctx.model.inputShape], image.data, 'image'), owned: true };
}

/** Batch size of one chunk of `total` copies of the image. */
export function chunkSize(ctx: ExplainContext, total: number): number {
  return Math.max(1, Math.min(total, ctx.maxChunk, ctx.model.maxBatch()));
}

/** The score ('logit' or 'probability') and the one target request (class index, or -1 for 'top'), checked before any GPU work. */
export function singleTarget(ctx: ExplainContext, score: Score | undefined, target: Targets | undefined, method: string): { score: ResolvedScore; request: number } {
  if (score !== undefined && score !== 'logit' && score !== 'probability') throw new OptionError(`${method} takes score 'logit' or 'probability', got ${JSON.stringify(score)}`);
  const resolved = resolveScore(ctx.model, score);
  if (Array.isArray(target)) throw new OptionError(`${method} explains one image and one target per call: pass one target, not a list`);
  const requests = targetRequests(ctx.model, resolved, target as Exclude<Targets, readonly unknown[]> | undefined);
  if (requests.length !== 1) throw new OptionError(`${method} explains one target per call: { topK } is not supported here`);
  return { score: resolved, request: requests[0] };
}

/** A [1] tensor holding the target class: the request, or the image's top-ranked class computed on the GPU. */
export function targetTensor(ctx: ExplainContext, image: Tensor, score: ResolvedScore, request: number): Tensor {
  const { rt, model } = ctx;
  if (request >= 0) {
    const targets = rt.empty([1], 'targets');
    rt.fill(targets, request);
    return targets;
  }
  const pass = model.forward(image, { keep: [score.rankNode] });
  const ranking = channelScores(rt, score, pass.value(score.rankNode));
  pass.dispose();
  const jobs = rt.upload([1, 2], [0, request], 'jobs');
  const { targets, mask } = resolveTargets(rt, score, jobs, ranking);
  for (const t of [ranking, jobs, mask]) t.dispose();
  return targets;
}
