/**
 * Guided backpropagation (Springenberg et al. 2015, Sec. 3.4 and Fig. 1): the input gradient of
 * the class score with every ReLU passing back only positive gradients at positive inputs,
 * R_i = (f_i > 0) * (R_{i+1} > 0) * R_{i+1}. Sharp, image-like maps that Adebayo et al. (2018)
 * found nearly independent of the weights above the first layers: shown beside the gradient
 * methods as the lecture-era comparison. Saliency's batched run with Model.backward rule 'guided'.
 */
import type { Tensor } from '../gpu/tensor.js';
import type { Attribution } from './attribution.js';
import { runBatch, type BatchMethod, type BatchOptions, type Explained, type ImageBatch } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { gatherRows, scoreGradient } from './gradients.js';
import { attributionsOf, type TargetOptions } from './saliency.js';

export async function guidedBackprop<I extends ImageInput | ImageBatch, O extends TargetOptions = TargetOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, Attribution, O>> {
  const { rt, model } = ctx;
  const elements = model.inputShape.reduce((a, b) => a * b, 1);
  return runBatch<Attribution, Explained<I, Attribution, O>>(ctx, images, options as BatchOptions, (score): BatchMethod<Attribution> => {
    let result: Tensor;
    return {
      kind: 'guided-backprop',
      copiesPerJob: 1,
      pass: { backward: { seedNode: score.node, to: model.inputName }, keep: [score.node] },
      imageFloats: 0,
      jobFloats: elements,
      copyFloats: 0,
      begin: (group) => {
        result = rt.empty([group.jobs, elements], 'guided_backprop');
      },
      chunk: (group, table, first, count) => {
        const copies = gatherRows(model, group.images, table, first, 1);
        const { gradient, pass } = scoreGradient(model, score, copies, table, group.mask, undefined, [], 'guided');
        pass.dispose();
        copies.dispose();
        rt.copy(gradient, result, count * elements, 0, first * elements);
        gradient.dispose();
      },
      finish: () => result,
      results: (_, values, targets, ms) => attributionsOf('guided-backprop', model.inputShape, values, targets, ms),
      end: () => result?.dispose(),
    };
  });
}
