/**
 * Saliency (Simonyan, Vedaldi, Zisserman 2014): the gradient of the class score with respect to
 * the input pixels, per pixel and channel. One forward+backward, one submission.
 */
import type { Tensor } from '../gpu/tensor.js';
import type { Attribution } from './attribution.js';
import { checkFiniteResult, prepareImage, type ExplainContext, type ImageInput } from './context.js';
import { inputGradient } from './gradients.js';
import { argmaxTargets, checkTarget, constantTargets, scoreNode, type Score, type Target } from './score.js';

export interface TargetOptions {
  /** Class index, or 'top' for the predicted class. Default 'top'. */
  target?: Target;
  /** Differentiate the pre-softmax logit (default) or the probability. */
  score?: Score;
}

/** [1] targets for one image: the given class, or the argmax of its logits computed on the GPU. */
export function resolveTargets(ctx: ExplainContext, image: Tensor, target: Target): Tensor {
  if (target !== 'top') return constantTargets(ctx.rt, 1, target);
  const pass = ctx.model.forward(image, { keep: [ctx.model.logitsName] });
  const targets = argmaxTargets(ctx.rt, pass.value(ctx.model.logitsName));
  pass.dispose();
  return targets;
}

export async function saliency(ctx: ExplainContext, image: ImageInput, options: TargetOptions = {}): Promise<Attribution> {
  const started = performance.now();
  const node = scoreNode(ctx.model, options.score);
  const target = options.target ?? 'top';
  checkTarget(ctx.model, node, target);
  const input = prepareImage(ctx, image);
  const targets = resolveTargets(ctx, input.tensor, target);
  const gradient = inputGradient(ctx.model, input.tensor, node, targets);
  try {
    const values = await ctx.rt.read(gradient);
    checkFiniteResult(values, 'saliency map');
    const [index] = await ctx.rt.read(targets);
    return { method: 'saliency', values, shape: [...ctx.model.inputShape] as [number, number, number], target: index, milliseconds: performance.now() - started };
  } finally {
    for (const t of [gradient, targets]) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
