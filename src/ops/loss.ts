/**
 * Training losses on logits [N, K]: softmax cross-entropy (class-index labels) and sigmoid binary
 * cross-entropy (targets in [0, 1], one per logit). Each returns the per-example loss and the
 * gradient of the batch MEAN loss with respect to the logits, ready to seed the backward pass.
 * `accumulateLossStats` adds a batch's loss sum and correct count to a [2] tensor on the GPU, so
 * that training reads numbers back only every few steps. `gaussianKlWithGradient` is a VAE's
 * second loss term (Kingma and Welling 2014): KL(N(mu, exp(logvar)) || N(0, I)) of an encoder's
 * [N, 2L] output [mu, logvar], with its gradient.
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

export type LossKind = 'softmax-cross-entropy' | 'sigmoid-cross-entropy';

const ENTRY: Record<LossKind, { loss: string; stats: string }> = {
  'softmax-cross-entropy': { loss: 'softmax_cross_entropy', stats: 'softmax_batch_stats' },
  'sigmoid-cross-entropy': { loss: 'sigmoid_cross_entropy', stats: 'sigmoid_batch_stats' },
};

export interface LossResult {
  /** [N]: each example's loss. */
  loss: Tensor;
  /** [N, K]: d(mean loss) / d logits (or d(mean KL) / d [mu, logvar]). */
  logitsGrad: Tensor;
}

function checkLabels(kind: LossKind, logits: Tensor, labels: Tensor): { rows: number; classes: number } {
  if (logits.shape.length !== 2) throw new ShapeError(`${kind}: logits must be [N, classes], got ${formatShape(logits.shape)}`);
  const [rows, classes] = logits.shape;
  const expected = kind === 'softmax-cross-entropy' ? [rows] : [rows, classes];
  if (formatShape(labels.shape) !== formatShape(expected)) {
    throw new ShapeError(`${kind}: labels must be ${formatShape(expected)} for logits ${formatShape(logits.shape)}, got ${formatShape(labels.shape)}`);
  }
  return { rows, classes };
}

/** The loss of each example and the gradient of their mean with respect to the logits. */
export function lossWithGradient(rt: Runtime, kind: LossKind, logits: Tensor, labels: Tensor): LossResult {
  const { rows, classes } = checkLabels(kind, logits, labels);
  const loss = rt.empty([rows], `${kind}.loss`);
  const logitsGrad = rt.empty(logits.shape, `${kind}.logits_grad`);
  rt.dispatch({ shader: 'loss', entry: ENTRY[kind].loss, constants: { WORKGROUP_SIZE } }, {
    bindings: { logits, labels, loss, logits_grad: logitsGrad },
    uniforms: { rows, classes, scale: 1 / rows },
    workgroups: rt.grid(rows, WORKGROUP_SIZE),
  });
  return { loss, logitsGrad };
}

/** stats[0] += sum of `loss`; stats[1] += examples whose prediction matches the label. */
export function accumulateLossStats(rt: Runtime, kind: LossKind, logits: Tensor, labels: Tensor, loss: Tensor, stats: Tensor): void {
  const { rows, classes } = checkLabels(kind, logits, labels);
  if (stats.size !== 2) throw new ShapeError(`accumulateLossStats: stats must have 2 elements, got ${formatShape(stats.shape)}`);
  rt.dispatch({ shader: 'loss', entry: ENTRY[kind].stats }, {
    bindings: { logits, labels, loss, stats },
    uniforms: { rows, classes, scale: 1 },
    workgroups: [1],
  });
}

/**
 * The KL divergence from N(0, I) of each row's Gaussian, `stats` [N, 2L] = [mu, logvar] per row,
 * and the gradient of the batch mean KL with respect to `stats` (times `weight`, e.g. a KL warm-up's factor).
 */
export function gaussianKlWithGradient(rt: Runtime, stats: Tensor, weight = 1): LossResult {
  if (stats.shape.length !== 2 || stats.shape[1] % 2 !== 0) throw new ShapeError(`gaussian-kl: the encoder's output must be [N, 2 * latent] (mu, then log-variance), got ${formatShape(stats.shape)}`);
  const [rows, columns] = stats.shape;
  const loss = rt.empty([rows], 'gaussian-kl.loss');
  const logitsGrad = rt.empty(stats.shape, 'gaussian-kl.stats_grad');
  rt.dispatch({ shader: 'loss', entry: 'gaussian_kl', constants: { WORKGROUP_SIZE } }, {
    bindings: { logits: stats, loss, logits_grad: logitsGrad },
    uniforms: { rows, classes: columns, scale: weight / rows },
    workgroups: rt.grid(rows, WORKGROUP_SIZE),
  });
  return { loss, logitsGrad };
}

/** total[0] += sum of `loss` ([N]): a running sum of a loss term on the GPU, read back now and then. */
export function accumulateLossSum(rt: Runtime, loss: Tensor, total: Tensor): void {
  if (loss.shape.length !== 1 || total.size !== 1) throw new ShapeError(`accumulateLossSum: loss must be [N] and the total [1], got ${formatShape(loss.shape)} and ${formatShape(total.shape)}`);
  rt.dispatch({ shader: 'loss', entry: 'loss_sum' }, { bindings: { loss, stats: total }, uniforms: { rows: loss.shape[0], classes: 1, scale: 1 }, workgroups: [1] });
}
