/**
 * Guided backpropagation (Springenberg et al. 2015, Sec. 3.4 and Fig. 1): the input gradient of
 * the class score with every ReLU passing back only positive gradients at positive inputs,
 * R_i = (f_i > 0) * (R_{i+1} > 0) * R_{i+1}. Sharp, image-like maps that Adebayo et al. (2018)
 * found nearly independent of the weights above the first layers: shown beside the gradient
 * methods as the lecture-era comparison. Saliency's batched run with Model.backward rule 'guided'.
 */
import type { Attribution } from './attribution.js';
import type { Explained, ImageBatch } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { inputGradientMaps, type TargetOptions } from './saliency.js';

export function guidedBackprop<I extends ImageInput | ImageBatch, O extends TargetOptions = TargetOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, Attribution, O>> {
  return inputGradientMaps(ctx, images, options, 'guided-backprop', 'guided');
}
