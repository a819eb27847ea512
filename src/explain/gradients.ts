/**
 * The step every gradient method shares: forward a batch of copies, seed d score / d node for
 * each copy's job, backward to the input (or a layer). Recorded on the runtime, nothing read back.
 */
import type { Tensor } from '../gpu/tensor.js';
import { INPUT, type ForwardPass, type Model } from '../model/model.js';
import type { BackwardRule } from '../ops/activation.js';
import { scoreSeed, type ResolvedScore } from './score.js';

const attributionKernel = (entry: string) => ({ shader: 'attribution', entry, constants: { WORKGROUP_SIZE: 64 } });

/**
 * Gradient of score_n (the score of copy n's job, `table` [count, 3] = image, copy, job; `mask`
 * [jobs, C] the jobs' channel sets) with respect to `to` (default the input) for each copy of
 * `x`. Returns the forward pass too (keeping `keep`), which the caller disposes.
 */
export function scoreGradient(model: Model, score: ResolvedScore, x: Tensor, table: Tensor, mask: Tensor, to = INPUT, keep: string[] = [], rule: BackwardRule = 'gradient'): { gradient: Tensor; pass: ForwardPass } {
  const pass = model.forward(x, { forBackward: true, keep: [score.node, ...keep] });
  const seed = scoreSeed(model.runtime, score, pass.value(score.node), table, mask);
  const { gradients } = model.backward(pass, new Map([[score.node, seed]]), { to: [to], rule });
  return { gradient: gradients.get(to)!, pass };
}

/** copies[n] = images[table[n].image]: one batch row per job (saliency, Grad-CAM). */
export function gatherRows(model: Model, images: Tensor, table: Tensor, first: number, perJob: number): Tensor {
  const rt = model.runtime;
  const count = table.shape[0];
  const copies = rt.empty([count, ...model.inputShape], 'batch.copies');
  rt.dispatch(attributionKernel('gather_rows'), {
    bindings: { images, table, copies },
    uniforms: rowUniforms(model, first, count, perJob),
    workgroups: rt.grid(copies.size, 64),
  });
  return copies;
}

/** The `rows` uniforms of the batch entries of shaders/attribution.wgsl. */
export function rowUniforms(model: Model, first: number, count: number, perJob: number) {
  return { elements: model.inputShape.reduce((a, b) => a * b, 1), first, count, per_job: perJob };
}
