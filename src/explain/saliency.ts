/**
 * Saliency (Simonyan, Vedaldi, Zisserman 2014): the gradient of the class score with respect to
 * the input pixels, per pixel and channel. One forward+backward per job (image, target), the jobs
 * of all images as GPU batches.
 */
import type { Tensor } from '../gpu/tensor.js';
import type { BackwardRule } from '../ops/activation.js';
import type { Attribution } from './attribution.js';
import { runBatch, type BatchMethod, type BatchOptions, type Explained, type ImageBatch } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { gatherRows, scoreGradient } from './gradients.js';
import type { Score, Targets } from './score.js';

export interface TargetOptions {
  /**
   * Class index, 'top' (the predicted class), a class name from the model's labels, `{ topK: k }`
   * (k results per image), or an array with one of those per image. Default 'top'.
   */
  target?: Targets;
  /** Differentiate the pre-softmax logit (default), the probability, or any node's channels ({ node, channels, reduce }). */
  score?: Score;
}

/** Per-job results of an [J, E] attribution read back: slices with the job's target. */
export function attributionsOf(method: string, shape: readonly number[], values: Float32Array, targets: Float32Array, milliseconds: () => number): Attribution[] {
  const elements = shape.reduce((a, b) => a * b, 1);
  const ms = milliseconds();
  return Array.from(targets, (target, j) => ({ method, values: values.slice(j * elements, (j + 1) * elements), shape: [...shape] as [number, number, number], target, milliseconds: ms }));
}

export function saliency<I extends ImageInput | ImageBatch, O extends TargetOptions = TargetOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, Attribution, O>> {
  return inputGradientMaps(ctx, images, options, 'saliency', 'gradient');
}

/**
 * The input gradient of the score per image and target, as one batched run; `rule` 'guided' is
 * guided backpropagation (guided_backprop.ts), which differs from saliency in its ReLU rule only.
 */
export async function inputGradientMaps<I extends ImageInput | ImageBatch, O extends TargetOptions>(ctx: ExplainContext, images: I, options: O, kind: string, rule: BackwardRule): Promise<Explained<I, Attribution, O>> {
  const { rt, model } = ctx;
  const elements = model.inputShape.reduce((a, b) => a * b, 1);
  return runBatch<Attribution, Explained<I, Attribution, O>>(ctx, images, options as BatchOptions, (score): BatchMethod<Attribution> => {
    let result: Tensor;
    return {
      kind,
      copiesPerJob: 1,
      pass: { backward: { seedNode: score.node, to: model.inputName }, keep: [score.node] },
      imageFloats: 0,
      jobFloats: elements,
      copyFloats: 0,
      begin: (group) => {
        result = rt.empty([group.jobs, elements], kind);
      },
      chunk: (group, table, first, count) => {
        const copies = gatherRows(model, group.images, table, first, 1);
        const { gradient, pass } = scoreGradient(model, score, copies, table, group.mask, undefined, [], rule);
        pass.dispose();
        copies.dispose();
        rt.copy(gradient, result, count * elements, 0, first * elements);
        gradient.dispose();
      },
      finish: () => result,
      results: (_, values, targets, ms) => attributionsOf(kind, model.inputShape, values, targets, ms),
      end: () => result?.dispose(),
    };
  });
}
