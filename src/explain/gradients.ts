/**
 * The step every gradient method shares: forward a batch, seed d score / d node, backward to the
 * input. Recorded on the runtime, nothing read back.
 */
import type { Tensor } from '../gpu/tensor.js';
import { INPUT, type Model } from '../model/model.js';
import { oneHotSeed } from './score.js';

/**
 * Gradient of score_n = node[n, ..., targets[n]] (times `scale`, summed over positions) with
 * respect to each input image of `x`. `targets` is [N] or [1] (shared by all items).
 */
export function inputGradient(model: Model, x: Tensor, node: string, targets: Tensor, scale = 1): Tensor {
  const rt = model.runtime;
  const pass = model.forward(x, { forBackward: true });
  const seed = oneHotSeed(rt, model.shapes(x.shape[0]).get(node)!, targets, scale);
  const { gradients } = model.backward(pass, new Map([[node, seed]]), { to: [INPUT] });
  pass.dispose();
  return gradients.get(INPUT)!;
}
